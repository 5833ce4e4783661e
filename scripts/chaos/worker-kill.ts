// A transcoder dies (kill -9) in the middle of a chunk of a video cut into several: what it was
// encoding is redone by the surviving replica (once the work item's ack wait runs out), what was
// already done is not, and the video ends ready with every rung.
import { setTimeout as sleep } from 'node:timers/promises';
import { Subjects, VIDEO_STREAM } from '@reel/events';
import type { Ctx, Scenario } from './harness.ts';
import { accept, poll } from './harness.ts';
import { messagesOf } from '@reel/testing';
import { chunkStartOf, isAudioEncode, isLadderEncode, type ProcInfo } from './inspect.ts';

/** 40 s: chunks of 4, 12, 12 and 12 s (CHUNK_SEC 12), and the audio rendition as a fifth work item. */
const CLIP_SEC = 40;

/** Every ffmpeg of the run seen while it watches, by pid (a pid is one encode). */
function watchEncodes(ctx: Ctx): { seen: Map<number, ProcInfo & { at: number }>; stop(): void } {
  const seen = new Map<number, ProcInfo & { at: number }>();
  const look = () => {
    for (const p of ctx.ffmpegs()) if (!seen.has(p.pid)) seen.set(p.pid, { ...p, at: Date.now() });
  };
  look();
  const timer = setInterval(look, 100);
  return { seen, stop: () => clearInterval(timer) };
}

/** Start times of the chunks of `id` with a `video.transcoded` in the VIDEO stream. */
async function chunksDone(ctx: Ctx, id: string): Promise<Set<number>> {
  const facts = await messagesOf(ctx.jsm, VIDEO_STREAM);
  return new Set(
    facts.filter((m) => m.videoId === id && m.subject === Subjects.transcoded).map((m) => (m.data?.chunk as { startSec: number } | undefined)?.startSec ?? -1),
  );
}

export const workerKill: Scenario = {
  name: 'worker-kill',
  fault: `two transcoder replicas; kill -9 of the one encoding a later chunk of a ${CLIP_SEC} s clip (4 chunks + audio) once a chunk is done; restarted 3 s later`,
  async run(ctx) {
    ctx.platform.apps.addReplica('transcoder');
    const id = accept('upload', await ctx.upload(ctx.clip(CLIP_SEC), 'worker-kill'));
    const watch = watchEncodes(ctx);
    try {
      const ours = (p: ProcInfo) => isLadderEncode(p) && p.cmdline.includes(id);
      // a chunk is done, and a chunk not done yet is being encoded
      const victim = await poll(
        async () => {
          const done = await chunksDone(ctx, id);
          return done.size ? ctx.ffmpegs().find((p) => ours(p) && !done.has(chunkStartOf(p))) : undefined;
        },
        (p) => p !== undefined,
        180_000,
      );
      if (!victim) throw new Error('no chunk was being encoded once another was done');
      const worker = [...ctx.platform.apps.handles.values()].find((h) => h.pid === victim.ppid);
      if (!worker?.pid) throw new Error(`the ladder ffmpeg ${victim.pid} is not a transcoder's child (ppid ${victim.ppid})`);
      const workerPid = worker.pid;
      const itsEncodes = ctx.ffmpegs().filter((p) => p.ppid === workerPid && (isLadderEncode(p) || isAudioEncode(p)));
      await worker.kill({ group: false });
      const killedAt = Date.now();
      ctx.faultEnded();
      const doneAtKill = await chunksDone(ctx, id);
      const restart = sleep(3000).then(() => worker.start());
      const lived = await poll(
        async () => itsEncodes.filter((p) => ctx.ffmpegs().some((q) => q.pid === p.pid)),
        (l) => l.length === 0,
        15_000,
      );
      const killedChunks = itsEncodes.filter(ours).map(chunkStartOf);
      ctx.note(
        `killed ${worker.name} with ${itsEncodes.length} encode(s): chunk(s) at ${killedChunks.join(', ') || '—'} s${itsEncodes.some(isAudioEncode) ? ' + audio' : ''}; chunks done before: ${[...doneAtKill].sort((a, b) => a - b).join(', ')} s`,
      );
      if (lived.length) ctx.problem(`${lived.length} ffmpeg(s) of the killed worker still ran ${Math.round((Date.now() - killedAt) / 1000)} s after the kill`);
      await restart;
      const status = await poll(
        async () => (await ctx.get(id).catch(() => undefined))?.video?.status ?? 'processing',
        (s) => s !== 'processing',
        240_000,
      );
      ctx.recovered();
      watch.stop();
      if (status !== 'ready') return; // the final checks say why
      judgeRedo(ctx, id, [...watch.seen.values()], { workerPid, killedAt, killedChunks, doneAtKill });
    } finally {
      watch.stop();
    }
  },
};

/**
 * Only what the killed worker was doing is done again: a chunk it was encoding twice (killed,
 * redone), a chunk done before the kill once, any other chunk once unless its first encode
 * was the killed worker's too (it died while storing that chunk's segments).
 */
function judgeRedo(
  ctx: Ctx,
  id: string,
  seen: (ProcInfo & { at: number })[],
  k: { workerPid: number; killedAt: number; killedChunks: number[]; doneAtKill: Set<number> },
): void {
  const byChunk = new Map<number, (ProcInfo & { at: number })[]>();
  for (const p of seen.filter((p) => isLadderEncode(p) && p.cmdline.includes(id))) {
    byChunk.set(chunkStartOf(p), [...(byChunk.get(chunkStartOf(p)) ?? []), p]);
  }
  const starts = [...byChunk.keys()].sort((a, b) => a - b);
  ctx.note(`encodes per chunk (start s × runs): ${starts.map((s) => `${s}×${byChunk.get(s)?.length}`).join(', ')}`);
  if (starts.length < 3) ctx.problem(`only ${starts.length} chunk(s) seen encoded, want the clip's 4`);
  for (const s of starts) {
    const runs = byChunk.get(s) ?? [];
    const first = runs[0];
    if (k.killedChunks.includes(s)) {
      if (runs.length !== 2) ctx.problem(`chunk at ${s} s was killed mid-encode and encoded ${runs.length} time(s) in all, want 2`);
      else ctx.note(`chunk at ${s} s redone ${Math.round(((runs[1]?.at ?? 0) - k.killedAt) / 100) / 10} s after the kill`);
    } else if (k.doneAtKill.has(s)) {
      if (runs.length !== 1) ctx.problem(`chunk at ${s} s was done before the kill and encoded ${runs.length} times, want 1`);
    } else if (runs.length > 1 && first?.ppid !== k.workerPid) {
      ctx.problem(`chunk at ${s} s ran on the surviving replica and was encoded ${runs.length} times, want 1`);
    } else if (runs.length > 2) ctx.problem(`chunk at ${s} s encoded ${runs.length} times`);
  }
  const audio = seen.filter((p) => isAudioEncode(p) && p.cmdline.includes(id)).length;
  ctx.note(`audio rendition encoded ${audio} time(s)`);
}

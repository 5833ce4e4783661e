import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { consume, type Handler, type Logger, type Publisher, registry, type Subject, VIDEO_STREAM, VIDEO_SUBJECTS } from '@reel/events';
import { type AnalyticsState, emptyState, foldEvent, type Stats, statsOf } from './fold.ts';
import { toPrometheus } from './prometheus.ts';

export interface AnalyticsOptions {
  nc: NatsConnection;
  log: Logger;
  /** HTTP port for /metrics and /stats (0: any free port). */
  port: number;
  host?: string;
  /** The durable consumer's name: one per copy of the state (two replicas would split the events). */
  durable?: string;
  /**
   * Where the state is kept between runs. Without it the state lives in memory and every start
   * replays the stream from its start; with it, a message is acknowledged only once the state
   * that includes it is on disk, so a restart resumes where it stopped.
   */
  stateFile?: string;
}

export interface Analytics {
  url: string;
  stats(): Stats;
  /** Stops consuming (in-flight messages settle), writes the state, closes the HTTP server. */
  stop(): Promise<void>;
}

// a subscriber reports nothing on the platform's stream: consume() would publish video.failed for a
// message it gives up, which is the platform's business, not an observer's
const silentPublisher: Publisher = { publish: async () => ({ id: '', seq: 0, duplicate: false }) };

export async function startAnalytics(opts: AnalyticsOptions): Promise<Analytics> {
  const durable = opts.durable ?? 'analytics';
  const viewsKnown = 'video.viewed' in registry;
  let state = load(opts.stateFile);
  if (!state) {
    // first run (no state yet): the durable consumer starts over from the first event of the stream
    state = emptyState();
    await resetConsumer(opts.nc, durable);
    opts.log.info({ durable }, 'no saved state: replaying the stream from its start');
  }
  const save = opts.stateFile ? saver(opts.stateFile, () => state as AnalyticsState) : undefined;

  const handler: Handler<Subject> = async (_data, { envelope }) => {
    state = foldEvent(state as AnalyticsState, envelope);
    await save?.flushed();
  };
  const sub = await consume(opts.nc, {
    durable,
    filter: VIDEO_SUBJECTS,
    handlers: Object.fromEntries(Object.keys(registry).map((s) => [s, handler])),
    log: opts.log,
    publisher: silentPublisher,
    // only used in the video.failed the silent publisher drops
    stage: 'catalog',
    // the fold is in memory and order-free: many messages at once share one write of the state
    concurrency: 256,
  });

  const stats = () => statsOf(state as AnalyticsState, { viewsKnown });
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method !== 'GET') res.writeHead(405, { allow: 'GET' }).end();
    else if (path === '/metrics') res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(toPrometheus(stats()));
    else if (path === '/stats') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats()));
    else if (path === '/healthz') res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(opts.port, opts.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  opts.log.info({ port, durable }, 'analytics serving /metrics and /stats');

  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    stats,
    async stop() {
      await sub.stop(5000);
      save?.now();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function resetConsumer(nc: NatsConnection, durable: string): Promise<void> {
  const jsm = await jetstreamManager(nc);
  try {
    await jsm.consumers.delete(VIDEO_STREAM, durable);
  } catch {
    // none yet (or no stream yet: consume() creates what it needs)
  }
}

function load(file: string | undefined): AnalyticsState | undefined {
  if (!file) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as AnalyticsState;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Writes the state at most every 100 ms; `flushed()` resolves once a write after the call is done. */
function saver(file: string, current: () => AnalyticsState) {
  let waiting: { resolve: () => void; reject: (err: unknown) => void }[] = [];
  let timer: NodeJS.Timeout | undefined;
  const now = () => {
    clearTimeout(timer);
    timer = undefined;
    const batch = waiting;
    waiting = [];
    try {
      // write-then-rename: a crash leaves the old file or the new one, never half of one
      writeFileSync(`${file}.tmp`, JSON.stringify(current()));
      renameSync(`${file}.tmp`, file);
      for (const w of batch) w.resolve();
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  };
  return {
    now,
    flushed: () =>
      new Promise<void>((resolve, reject) => {
        waiting.push({ resolve, reject });
        timer ??= setTimeout(now, 100);
      }),
  };
}

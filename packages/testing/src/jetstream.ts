// What JetStream holds, read back for tests and chaos runs: consumers that stopped draining, the
// messages of a stream, the events of one video; and a report of it all when a test fails.
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { STREAMS, VIDEO_STREAM, WORK_STREAM } from '@reel/events';

/** Consumers (facts, work, chatter) that still hold messages: `STREAM/name: N pending, M unacked`; a missing stream too. */
export async function undrainedConsumers(jsm: JetStreamManager): Promise<string[]> {
  const stuck: string[] = [];
  for (const stream of STREAMS) {
    try {
      for await (const c of jsm.consumers.list(stream)) {
        if (c.num_pending > 0 || c.num_ack_pending > 0) stuck.push(`${stream}/${c.name}: ${c.num_pending} pending, ${c.num_ack_pending} unacked`);
      }
    } catch (err) {
      stuck.push(`${stream}: ${(err as Error).message}`);
    }
  }
  return stuck;
}

/** A message read back from a stream, with the video its envelope names (if any). */
export interface StoredMessage {
  seq: number;
  subject: string;
  videoId?: string;
  /** The envelope's `data` (undefined when the bytes are not an envelope). */
  data?: Record<string, unknown>;
}

/** Every message of `stream`, in order (read one by one: a scenario's streams are small). */
export async function messagesOf(jsm: JetStreamManager, stream: string): Promise<StoredMessage[]> {
  const { state } = await jsm.streams.info(stream);
  const out: StoredMessage[] = [];
  if (state.messages === 0) return out;
  for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
    // a work queue has holes where items were acknowledged
    const m = await jsm.streams.getMessage(stream, { seq }).catch(() => undefined);
    if (!m) continue;
    let data: Record<string, unknown> | undefined;
    try {
      const env = JSON.parse(new TextDecoder().decode(m.data)) as { data?: unknown };
      if (env && typeof env.data === 'object' && env.data !== null) data = env.data as Record<string, unknown>;
    } catch {
      // not an event
    }
    const videoId = typeof data?.videoId === 'string' ? data.videoId : undefined;
    out.push({ seq: m.seq, subject: m.subject, videoId, data });
  }
  return out;
}

/** The subjects of the VIDEO stream's events about `videoId`, in stream order. */
export async function eventsOf(jsm: JetStreamManager, videoId: string): Promise<string[]> {
  return (await messagesOf(jsm, VIDEO_STREAM)).filter((m) => m.videoId === videoId).map((m) => m.subject);
}

/** Durable consumers of the three streams, as `STREAM/name`. */
export async function durableConsumers(jsm: JetStreamManager): Promise<string[]> {
  const names: string[] = [];
  for (const stream of STREAMS) {
    const list = await collect(jsm.consumers.list(stream)).catch(() => []);
    for (const c of list) if (c.config.durable_name) names.push(`${stream}/${c.name}`);
  }
  return names.sort();
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/**
 * Where a video's pipeline stands, as text for a failing test: every consumer's counts, the
 * video's facts in order and its work items still queued. Never throws (a NATS that is down is said).
 */
export async function pipelineReport(natsUrl: string, videoId: string): Promise<string> {
  try {
    const nc = await connect({ servers: natsUrl.split(','), timeout: 5000 });
    try {
      const jsm = await jetstreamManager(nc);
      const lines: string[] = [];
      for (const stream of STREAMS) {
        for await (const c of jsm.consumers.list(stream)) {
          lines.push(
            `${stream}/${c.name}: ${c.num_pending} pending, ${c.num_ack_pending} unacked, ${c.num_redelivered} redelivered, delivered up to ${c.delivered.stream_seq}, acked up to ${c.ack_floor.stream_seq}`,
          );
        }
      }
      lines.push(`facts: ${(await eventsOf(jsm, videoId)).join(' ')}`);
      const work = (await messagesOf(jsm, WORK_STREAM)).filter((m) => m.videoId === videoId);
      lines.push(
        `work items left: ${work.map((m) => `#${m.seq} ${m.subject} ${JSON.stringify((m.data as { chunk?: unknown })?.chunk ?? '')}`).join('; ') || 'none'}`,
      );
      return lines.join('\n');
    } finally {
      await nc.close();
    }
  } catch (err) {
    return `JetStream could not be read: ${(err as Error).message}`;
  }
}

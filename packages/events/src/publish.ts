import { type JetStreamClient, jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { context } from '@opentelemetry/api';
import { SpanKind, withSpan } from '@reel/telemetry/span';
import { type EventData, makeEnvelope, type PlatformRegistry, type Registry, registry, type Subject } from './contract.ts';
import { eventMetrics } from './metrics.ts';
import { type Tombstones, VideoDeletedError } from './tombstones.ts';
import { injectTrace } from './trace.ts';

export interface PublishOptions {
  /**
   * The event id, also sent as `Nats-Msg-Id` so JetStream drops a repeat inside the duplicate
   * window. Handlers pass a deterministic id (derived from the event they handle) so that a
   * redelivered message republishes the same event instead of a new one.
   */
  id?: string;
}

export interface PublishResult {
  id: string;
  seq: number;
  duplicate: boolean;
}

/** A typed publisher bound to one connection and registry. */
export interface Publisher<R extends Registry = PlatformRegistry> {
  publish<K extends Subject<R>>(subject: K, data: EventData<K, R>, opts?: PublishOptions): Promise<PublishResult>;
}

const DELETED: string = 'video.deleted';

/**
 * Validates `data`, wraps it in an envelope, and publishes it to JetStream with the event id as
 * `Nats-Msg-Id` and the current trace context in the headers, under a PRODUCER span.
 *
 * With `tombstones`, deletion is final at the source: publishing `video.deleted` first records the
 * tombstone, and any other event for a deleted video is refused with VideoDeletedError.
 */
export function createPublisher<R extends Registry = PlatformRegistry>(
  nc: NatsConnection,
  reg: R = registry as unknown as R,
  opts: { tombstones?: Tombstones } = {},
): Publisher<R> {
  const js: JetStreamClient = jetstream(nc);
  const { tombstones } = opts;
  return {
    async publish(subject, data, opts = {}) {
      const env = makeEnvelope(reg, subject, data, { id: opts.id });
      const videoId = (data as { videoId?: unknown })?.videoId;
      if (tombstones && typeof videoId === 'string') {
        if (subject === DELETED) await tombstones.mark(videoId);
        else if (tombstones.has(videoId)) throw new VideoDeletedError(videoId);
      }
      return withSpan(
        `${subject} publish`,
        {
          kind: SpanKind.PRODUCER,
          attributes: {
            'messaging.system': 'nats',
            'messaging.operation.type': 'publish',
            'messaging.destination.name': subject,
            'messaging.message.id': env.id,
            ...videoAttr(data),
          },
        },
        async (span) => {
          const ack = await js.publish(subject, JSON.stringify(env), { msgID: env.id, headers: injectTrace(context.active()) });
          span.setAttribute('messaging.nats.stream_sequence', ack.seq);
          eventMetrics.published.add(1, { subject });
          return { id: env.id, seq: ack.seq, duplicate: ack.duplicate };
        },
      );
    },
  };
}

function videoAttr(data: unknown): Record<string, string> {
  const id = (data as { videoId?: unknown })?.videoId;
  return typeof id === 'string' ? { 'reel.video.id': id } : {};
}

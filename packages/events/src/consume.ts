import { type Consumer, type ConsumerMessages, type JsMsg, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { decodeEnvelope, type Envelope, type EventData, Subjects, type Subject, registry, streamOf } from './contract.ts';
import { isInvalidMessageError, isPermanentError } from './errors.ts';
import type { Logger } from './logger.ts';
import { eventMetrics } from './metrics.ts';
import type { Publisher } from './publish.ts';
import type { Stage } from './schemas.ts';
import { ensureConsumer, type ConsumerSpec, isNotFound } from './stream.ts';
import { isVideoDeletedError, type Tombstones, VideoDeletedError } from './tombstones.ts';
import { extractTrace, tracer } from './trace.ts';

export interface HandlerContext<D = unknown> {
  readonly envelope: Envelope<D>;
  /** Child logger bound to `{ subject, eventId, videoId, deliveryCount }`. */
  readonly log: Logger;
  /** Aborted when the service shuts down or the handler exceeds its time limit. */
  readonly signal: AbortSignal;
  /** Tells JetStream the handler is still at work (consume() also does it on a timer). */
  working(): void;
  readonly deliveryCount: number;
  readonly isLastAttempt: boolean;
}

export type Handler<K extends Subject> = (data: EventData<K>, ctx: HandlerContext<EventData<K>>) => Promise<void>;
/** Handlers keyed by subject: a complete map (`HandlerMap`) makes a missing handler a compile error. */
export type HandlerMap = { [K in Subject]: Handler<K> };

export interface ConsumeOptions extends ConsumerSpec {
  handlers: Partial<HandlerMap>;
  log: Logger;
  /** Publishes `video.failed` when a message is given up. */
  publisher: Publisher;
  /** The stage reported in `video.failed`. */
  stage: Stage;
  /** Handlers running at once in this process. */
  concurrency?: number;
  /** Delay before each retry, by attempt (the last value repeats). */
  backoffMs?: number[];
  /** A handler still running after this long is aborted and its message retried. */
  timeoutMs?: number;
  /**
   * Awaited before every fetch: resolves when the service can do its work (its database answers).
   * While it waits nothing is pulled, so an outage is waited out instead of burning retries.
   */
  gate?: (signal: AbortSignal) => Promise<void>;
  /**
   * Deleted videos: their messages are acknowledged without running the handler (but for
   * `video.deleted` itself), and a running handler's signal is aborted when its video is deleted.
   */
  tombstones?: Tombstones;
  /**
   * Makes the streams again (the service's ensureVideoStream). Called when fetching keeps failing
   * because the consumer's stream or the consumer itself is gone (a NATS that lost its store, an
   * operator's delete); the consumer is then made again too, instead of failing forever.
   */
  restore?: () => Promise<unknown>;
}

export interface Subscription {
  /** Stops pulling, aborts running handlers after `graceMs`, and resolves when all have settled. */
  stop(graceMs?: number): Promise<void>;
  /** Resolves once the subscription has stopped. */
  readonly closed: Promise<void>;
}

const DEFAULT_BACKOFF = [1000, 5000, 15_000, 30_000, 60_000];

/**
 * Runs a durable pull consumer: validates and upcasts every message, opens a CONSUMER span as a
 * child of the producer's trace context, and maps the handler's outcome to the acknowledgement:
 * ok → ack; invalid message or PermanentError → term (+ `video.failed`); any other error → nak
 * with backoff, and on the last allowed delivery term (+ `video.failed`).
 */
export async function consume(nc: NatsConnection, opts: ConsumeOptions): Promise<Subscription> {
  const jsm = await jetstreamManager(nc);
  const stream = streamOf(opts.filter);
  await ensureConsumer(jsm, opts);
  let consumer: Consumer = await jetstream(nc).consumers.get(stream, opts.durable);
  const maxDeliver = opts.maxDeliver ?? 5;
  const ackWaitMs = opts.ackWaitMs ?? 30_000;
  const concurrency = Math.max(1, opts.concurrency ?? 1);
  const backoff = opts.backoffMs?.length ? opts.backoffMs : DEFAULT_BACKOFF;
  const stopping = new AbortController();
  const running = new Set<Promise<void>>();
  /** Running handlers' abort controllers, with the video each works on. */
  const controllers = new Map<AbortController, string | undefined>();
  const isDeleted = (videoId: string | undefined) => Boolean(videoId && opts.tombstones?.has(videoId));
  const unwatch = opts.tombstones?.onMark((deletedId) => {
    for (const [ctl, videoId] of controllers) if (videoId === deletedId) ctl.abort(new VideoDeletedError(deletedId));
  });
  let batch: ConsumerMessages | undefined;
  let slotFreed: (() => void) | undefined;

  const handle = async (m: JsMsg): Promise<void> => {
    const deliveryCount = m.info.deliveryCount;
    const isLastAttempt = deliveryCount >= maxDeliver;
    let log = opts.log.child({ subject: m.subject, seq: m.seq, deliveryCount });
    let env: Envelope;
    try {
      env = decodeEnvelope(registry, m.subject, m.data);
    } catch (err) {
      log.error({ err, reason: (err as Error).message }, 'invalid message terminated');
      m.term();
      await reportFailure(rawVideoId(m), 'invalid_message', (err as Error).message, `${m.subject}.${m.seq}`);
      return;
    }
    const videoId = (env.data as { videoId?: string }).videoId;
    log = log.child({ eventId: env.id, videoId });
    const handler = opts.handlers[m.subject as Subject] as ((d: unknown, c: HandlerContext) => Promise<void>) | undefined;
    if (!handler) {
      // a wildcard consumer may see subjects it has no use for
      m.ack();
      return;
    }
    if (m.subject !== Subjects.deleted && isDeleted(videoId)) {
      log.info({}, 'video deleted; message skipped');
      m.ack();
      return;
    }
    const ctl = new AbortController();
    controllers.set(ctl, videoId);
    const timers = [setInterval(() => m.working(), Math.max(200, ackWaitMs / 3))];
    if (opts.timeoutMs) timers.push(setTimeout(() => ctl.abort(new Error(`handler timed out after ${opts.timeoutMs} ms`)), opts.timeoutMs));
    const parent = extractTrace(m.headers);
    await tracer.startActiveSpan(
      `${m.subject} process`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'messaging.system': 'nats',
          'messaging.operation.type': 'process',
          'messaging.destination.name': m.subject,
          'messaging.consumer.group.name': opts.durable,
          'messaging.message.id': env.id,
          'messaging.nats.delivery_count': deliveryCount,
          ...(videoId ? { 'reel.video.id': videoId } : {}),
        },
      },
      parent,
      async (span) => {
        const started = performance.now();
        const labels = { subject: m.subject, consumer: opts.durable };
        let outcome = 'ack';
        eventMetrics.inFlight.add(1, { consumer: opts.durable });
        try {
          await handler(env.data, { envelope: env, log, signal: ctl.signal, working: () => m.working(), deliveryCount, isLastAttempt });
          m.ack();
        } catch (err) {
          if (isVideoDeletedError(err) || isDeleted(videoId)) {
            // the video went away under the handler: there is nothing left to do for it
            outcome = 'deleted';
            log.info({ reason: (err as Error).message }, 'video deleted while handling; message acknowledged');
            m.ack();
            return;
          }
          outcome = isPermanentError(err) || isInvalidMessageError(err) || isLastAttempt ? 'term' : 'retry';
          span.recordException(err as Error);
          span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
          if (isPermanentError(err) || isInvalidMessageError(err)) {
            log.warn({ err }, 'handler failed for good; message terminated');
            m.term();
            const code = isPermanentError(err) ? err.code : 'invalid_message';
            await reportFailure(videoId, code, (err as Error).message, env.id);
          } else if (stopping.signal.aborted) {
            // shutting down: hand the message straight back to another replica
            m.nak();
          } else if (isLastAttempt) {
            log.error({ err }, `handler failed on the last of ${maxDeliver} attempts; message terminated`);
            m.term();
            await reportFailure(videoId, 'retries_exhausted', `gave up after ${deliveryCount} attempts: ${(err as Error).message}`, env.id);
          } else {
            const delay = backoff[Math.min(deliveryCount - 1, backoff.length - 1)] ?? 1000;
            log.warn({ err, retryInMs: delay }, 'handler failed; will retry');
            m.nak(delay);
          }
        } finally {
          for (const t of timers) clearTimeout(t);
          controllers.delete(ctl);
          eventMetrics.inFlight.add(-1, { consumer: opts.durable });
          eventMetrics.handled.add(1, { ...labels, outcome });
          eventMetrics.duration.record((performance.now() - started) / 1000, { ...labels, outcome });
          span.setAttribute('reel.outcome', outcome);
          span.end();
        }
      },
    );
  };

  async function reportFailure(videoId: string | undefined, code: string, message: string, causeId: string): Promise<void> {
    if (!videoId || opts.filter === Subjects.failed || isDeleted(videoId)) return;
    eventMetrics.failures.add(1, { stage: opts.stage, code });
    try {
      await opts.publisher.publish(Subjects.failed, { videoId, stage: opts.stage, code, message: message.slice(0, 2000) }, { id: `${causeId}.failed` });
    } catch (err) {
      opts.log.error({ err, videoId }, 'could not publish video.failed');
    }
  }

  /** After fetches failed in a row: if the consumer (or its stream) is gone, it is made again. */
  const heal = async () => {
    const gone = await jsm.consumers.info(stream, opts.durable).then(
      () => false,
      (err: unknown) => isNotFound(err),
    );
    if (!gone) return;
    opts.log.warn({ stream, durable: opts.durable }, 'the consumer is gone; making it (and its stream) again');
    await opts.restore?.();
    await ensureConsumer(jsm, opts);
    consumer = await jetstream(nc).consumers.get(stream, opts.durable);
  };

  const loop = async () => {
    let failures = 0;
    while (!stopping.signal.aborted) {
      const free = concurrency - running.size;
      if (free <= 0) {
        await new Promise<void>((r) => {
          slotFreed = r;
        });
        continue;
      }
      try {
        if (opts.gate) await opts.gate(stopping.signal);
        if (stopping.signal.aborted) break;
        batch = await consumer.fetch({ max_messages: free, expires: 5000 });
        for await (const m of batch) {
          const p = handle(m)
            .catch((err) => opts.log.error({ err }, 'message handling crashed'))
            .finally(() => {
              running.delete(p);
              slotFreed?.();
            });
          running.add(p);
        }
        failures = 0;
      } catch (err) {
        if (stopping.signal.aborted) break;
        opts.log.warn({ err }, 'fetch failed; retrying');
        await new Promise((r) => setTimeout(r, 1000));
        if (++failures >= 2) await heal().catch((healErr: unknown) => opts.log.warn({ err: healErr }, 'the consumer could not be made again yet'));
      }
    }
  };
  const observePending = async (result: { observe(value: number, attributes: Record<string, string>): void }) => {
    try {
      const info = await consumer.info(true);
      result.observe(info.num_pending, { consumer: opts.durable });
    } catch {
      // not connected right now: no sample
    }
  };
  eventMetrics.pending.addCallback(observePending);
  const closed = loop().then(async () => {
    eventMetrics.pending.removeCallback(observePending);
    unwatch?.();
    await Promise.allSettled(running);
  });
  closed.catch((err) => opts.log.error({ err }, 'consumer loop crashed'));

  return {
    closed,
    async stop(graceMs = 10_000) {
      stopping.abort();
      batch?.stop();
      slotFreed?.();
      const t = setTimeout(() => {
        for (const c of controllers.keys()) c.abort(new Error('service shutting down'));
      }, graceMs);
      await closed;
      clearTimeout(t);
    },
  };
}

function rawVideoId(m: JsMsg): string | undefined {
  try {
    const id = (JSON.parse(new TextDecoder().decode(m.data)) as { data?: { videoId?: unknown } })?.data?.videoId;
    return typeof id === 'string' && /^[0-9a-f-]{36}$/.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

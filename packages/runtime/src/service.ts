import {
  type ConsumeOptions,
  consume,
  createPublisher,
  ensureVideoStream,
  type HandlerMap,
  isJetStreamStarting,
  type Logger,
  openTombstones,
  type Publisher,
  type Subscription,
  type Tombstones,
} from '@reel/events';
import type { NatsConnection } from '@nats-io/transport-node';
import { withBackoff } from './backoff.ts';
import { type ConfigOf, type ConfigSpec, loadConfig, natsSpec } from './config.ts';
import { createShutdown, exitOnSignals, serveHealth, type Shutdown } from './lifecycle.ts';
import { createLogger } from './logger.ts';
import { connectNats } from './nats.ts';

/** What every app's buildApp() receives. */
export interface ServiceDeps<C> {
  readonly config: C;
  readonly log: Logger;
  readonly nc: NatsConnection;
  /** Publishes events; refuses follow-ups for deleted videos and marks the tombstone on `video.deleted`. */
  readonly publisher: Publisher;
  /** Deleted videos, followed into memory: pass to consume() and guardWrites(). */
  readonly tombstones: Tombstones;
  /** Register what the app opens; it is closed in reverse order on shutdown. */
  readonly shutdown: Shutdown;
  /**
   * Runs a durable consumer with this service's NATS connection, logger, publisher and
   * tombstones; every consumer started this way is stopped (all at once) on shutdown.
   */
  consume(durable: string, handlers: Partial<HandlerMap>, opts: BoundConsumeOptions): Promise<Subscription>;
}

/**
 * What differs between one service's consumers; `filter` defaults to the one subject handled.
 * `tombstones: false` runs the handlers for a deleted video's events too (the catalog folds them,
 * the deletion being final in the fold itself); by default they are skipped and aborted.
 */
export type BoundConsumeOptions = Omit<ConsumeOptions, 'durable' | 'handlers' | 'filter' | 'log' | 'publisher' | 'tombstones' | 'restore'> & {
  filter?: string;
  tombstones?: false;
};

/** consume() bound to one service's connection and helpers. */
function bindConsume(
  base: Pick<ServiceDeps<unknown>, 'nc' | 'log' | 'publisher' | 'tombstones' | 'shutdown'> & { restore: () => Promise<unknown> },
): ServiceDeps<unknown>['consume'] {
  const subs: Subscription[] = [];
  return async (durable, handlers, opts) => {
    const subjects = Object.keys(handlers);
    const filter = opts.filter ?? (subjects.length === 1 ? subjects[0] : undefined);
    if (!filter) throw new TypeError(`consumer ${durable} handles ${subjects.length} subjects: give its filter`);
    const tombstones = opts.tombstones === false ? undefined : base.tombstones;
    const sub = await consume(base.nc, { ...opts, durable, filter, handlers, log: base.log, publisher: base.publisher, tombstones, restore: base.restore });
    if (subs.push(sub) === 1) base.shutdown.add('consumers', () => Promise.all(subs.map((s) => s.stop())));
    return sub;
  };
}

export interface BootOptions<S extends ConfigSpec> {
  name: string;
  spec: S;
  env: Record<string, string | undefined>;
  build: (deps: ServiceDeps<ConfigOf<S & typeof natsSpec>>) => Promise<void>;
  /** Extra closer run last (telemetry flush). */
  onStopped?: () => Promise<void>;
}

/**
 * Config → logger → NATS → stream → app → liveness, in that order, with every step registered
 * for shutdown (drain NATS last). Returns the shutdown handle; main.ts wires it to signals.
 */
export async function bootService<S extends ConfigSpec>(opts: BootOptions<S>): Promise<{ shutdown: Shutdown; log: Logger }> {
  const config = loadConfig({ ...natsSpec, ...opts.spec }, opts.env) as ConfigOf<S & typeof natsSpec>;
  const base = config as unknown as ConfigOf<typeof natsSpec>;
  const log = createLogger(opts.name, base.LOG_LEVEL);
  const shutdown = createShutdown(log);
  if (opts.onStopped) shutdown.add('telemetry', opts.onStopped);
  const nc = await connectNats(base.NATS_URL, opts.name, log);
  shutdown.add('nats', () => nc.drain());
  const restore = () => ensureVideoStream(nc, { replicas: base.NATS_STREAM_REPLICAS });
  await whenJetStreamReady(restore, log);
  const tombstones = await openTombstones(nc, { replicas: base.NATS_STREAM_REPLICAS, log });
  shutdown.add('tombstones', () => tombstones.close());
  const publisher = createPublisher(nc, undefined, { tombstones });
  await opts.build({ config, log, nc, publisher, tombstones, shutdown, consume: bindConsume({ nc, log, publisher, tombstones, shutdown, restore }) });
  const health = serveHealth(nc, opts.name, log);
  shutdown.add('health', () => health.unsubscribe());
  log.info({ nats: base.NATS_URL }, `${opts.name} started`);
  return { shutdown, log };
}

/**
 * Runs `fn` until JetStream takes it: a service started with (or just before) its NATS cluster is
 * refused while the cluster forms ("no suitable peers for placement"), which is no reason to exit.
 * Other errors, and a cluster that stays unready past `timeoutMs`, fail the start.
 */
export function whenJetStreamReady<T>(fn: () => Promise<T>, log: Logger, timeoutMs = 120_000): Promise<T> {
  return withBackoff(fn, {
    retryable: isJetStreamStarting,
    budgetMs: timeoutMs,
    maxDelayMs: 2000,
    onRetry: (err, retryInMs) => log.warn({ err: (err as Error).message, retryInMs }, 'JetStream is not ready yet; trying again'),
  });
}

/** The whole of a main.ts: boot, exit 1 with every config problem on failure, stop on signals. */
export function runService<S extends ConfigSpec>(opts: BootOptions<S>): void {
  bootService(opts).then(
    ({ shutdown, log }) => exitOnSignals(shutdown, log),
    (err) => {
      const log = createLogger(opts.name);
      log.error({ err }, `${opts.name} failed to start: ${(err as Error).message}`);
      setTimeout(() => process.exit(1), 50);
    },
  );
}

import { healthQuery, type Logger, serveQuery } from '@reel/events';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';

/** Answers the liveness query `reel.health.<service>` for the gateway's health page. */
export function serveHealth(nc: NatsConnection, service: string, log: Logger): Subscription {
  const started = Date.now();
  return serveQuery(nc, healthQuery(service), async () => ({ service, status: 'up' as const, uptimeSec: (Date.now() - started) / 1000 }), log);
}

/** A stack of closers run in reverse order of registration, each at most once. */
export interface Shutdown {
  /** Registers something to close; the last added closes first. */
  add(name: string, close: () => Promise<unknown> | unknown): void;
  /** Closes everything; later calls return the same promise. */
  run(reason: string): Promise<void>;
}

export function createShutdown(log: Logger, timeoutMs = 30_000): Shutdown {
  const closers: { name: string; close: () => Promise<unknown> | unknown }[] = [];
  let running: Promise<void> | undefined;
  return {
    add(name, close) {
      closers.push({ name, close });
    },
    run(reason) {
      running ??= (async () => {
        log.info({ reason }, 'shutting down');
        const timer = setTimeout(() => log.error({ timeoutMs }, 'shutdown is taking too long'), timeoutMs);
        timer.unref();
        for (const { name, close } of closers.reverse()) {
          try {
            await close();
          } catch (err) {
            log.error({ err, closer: name }, 'error while closing');
          }
        }
        clearTimeout(timer);
        log.info({}, 'stopped');
      })();
      return running;
    },
  };
}

/**
 * For main.ts: runs `shutdown` on SIGTERM/SIGINT and exits; a second signal exits at once.
 * Errors that escape everywhere else are logged and end the process with code 1.
 */
export function exitOnSignals(shutdown: Shutdown, log: Logger): void {
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    if (++signals > 1) process.exit(130);
    shutdown.run(sig).then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));
}

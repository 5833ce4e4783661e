/**
 * The analytics subscriber as a process: NATS_URL (default nats://127.0.0.1:4222), PORT (9464),
 * HOST (127.0.0.1), ANALYTICS_DURABLE (analytics), ANALYTICS_STATE_FILE (none: memory only).
 * SIGTERM or SIGINT stop it gracefully.
 */
import { connect } from '@nats-io/transport-node';
import type { Logger } from '@reel/events';
import { startAnalytics } from './analytics.ts';

const logger = (bindings: Record<string, unknown>): Logger => {
  const line = (level: string) => (obj: object, msg?: string) => {
    const { err, ...rest } = obj as { err?: unknown };
    const e = err instanceof Error ? { err: { name: err.name, message: err.message } } : {};
    process.stdout.write(`${JSON.stringify({ level, time: new Date().toISOString(), msg, ...bindings, ...rest, ...e })}\n`);
  };
  return { debug() {}, info: line('info'), warn: line('warn'), error: line('error'), child: (b) => logger({ ...bindings, ...b }) };
};
const log = logger({ service: 'analytics' });

const env = process.env;
const nc = await connect({ servers: (env.NATS_URL ?? 'nats://127.0.0.1:4222').split(','), name: 'analytics' });
const analytics = await startAnalytics({
  nc,
  log,
  port: Number(env.PORT ?? 9464),
  host: env.HOST,
  durable: env.ANALYTICS_DURABLE,
  stateFile: env.ANALYTICS_STATE_FILE,
});

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, async () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    await analytics.stop();
    await nc.drain();
    log.info({}, 'stopped');
    process.exit(0);
  });
}

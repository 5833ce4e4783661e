import type { Logger } from '@reel/events';
import { connect, type NatsConnection } from '@nats-io/transport-node';

/** Connects to NATS (reconnecting forever) and logs connection state changes. */
export async function connectNats(url: string, name: string, log: Logger): Promise<NatsConnection> {
  const nc = await connect({ servers: url.split(','), name, maxReconnectAttempts: -1, reconnectTimeWait: 1000 });
  (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnect' || s.type === 'error') log.warn({ nats: s.type }, `nats ${s.type}`);
    }
  })().catch((err) => log.error({ err }, 'nats status loop failed'));
  return nc;
}

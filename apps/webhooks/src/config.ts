import { postgresSpec } from '@reel/postgres';
import { env } from '@reel/runtime';

export const configSpec = {
  ...postgresSpec,
  WEBHOOK_ALLOW_PRIVATE: env.bool({
    default: false,
    doc: 'allow webhook URLs on loopback, private, link-local and cloud-metadata addresses (local development and tests only)',
  }),
  WEBHOOK_BACKOFF_MS: env.string({
    default: '10000,30000,60000,300000,900000,1800000,3600000,7200000,14400000',
    doc: 'comma-separated waits before each retry of a failed delivery, in ms (the last repeats)',
  }),
  WEBHOOK_RETRY_FOR_SEC: env.int({ default: 86_400, min: 1, doc: 'how long a delivery is retried before it is marked failed' }),
  WEBHOOK_TIMEOUT_MS: env.int({ default: 10_000, min: 100, doc: 'how long one delivery attempt may take' }),
  WEBHOOK_POLL_MS: env.int({ default: 1000, min: 10, doc: 'how often due deliveries are looked for' }),
} as const;

/** The retry schedule from WEBHOOK_BACKOFF_MS; throws on anything but positive integers. */
export function parseBackoff(value: string): number[] {
  const steps = value.split(',').map((s) => Number(s.trim()));
  if (!steps.length || steps.some((n) => !Number.isInteger(n) || n <= 0))
    throw new Error(`WEBHOOK_BACKOFF_MS must be positive integers separated by commas, got "${value}"`);
  return steps;
}

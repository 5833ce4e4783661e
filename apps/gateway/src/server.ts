import type { ConfigOf, ServiceDeps } from '@reel/runtime';
import { createStorage } from '@reel/storage';
import { buildGateway } from './app.ts';
import { type configSpec, playbackSecret, publicBaseUrl } from './config.ts';
import { createAuthenticator } from './plugins/auth.ts';
import { createPlayback } from './playback.ts';

/** How long one storage call of a request keeps retrying while storage is failing. */
const STORAGE_RETRY_BUDGET_MS = 3000;

/** Builds the gateway from its config and starts listening; the server closes on shutdown. */
export async function startGateway(deps: ServiceDeps<ConfigOf<typeof configSpec>>): Promise<void> {
  const { config, log, nc, publisher, shutdown } = deps;
  if (!config.AUTH_JWT_SECRET && !config.AUTH_JWKS_URL) throw new Error('set AUTH_JWT_SECRET or AUTH_JWKS_URL: the API needs a way to check tokens');
  const secret = playbackSecret(config); // refuses to start rather than sign links with something public
  // a request waits a few seconds for storage, then answers 503 (workers ride out longer outages)
  const storage = createStorage(config, { retryBudgetMs: STORAGE_RETRY_BUDGET_MS });
  await storage.ensureBuckets();
  const baseUrl = publicBaseUrl(config);
  // the live feed and the upload sweeper are the app's: closing it closes them
  const app = await buildGateway({
    config,
    log,
    nc,
    publisher,
    storage,
    auth: createAuthenticator({ secret: config.AUTH_JWT_SECRET, jwksUrl: config.AUTH_JWKS_URL, issuer: config.AUTH_ISSUER, audience: config.AUTH_AUDIENCE }),
    playback: createPlayback({ secret, ttlSec: config.PLAYBACK_TTL_SEC, storage, baseUrl }),
    // a gateway killed mid-upload cannot abort its multipart upload: whichever replica sweeps next does
    sweep: { intervalMs: config.UPLOAD_SWEEP_INTERVAL_SEC * 1000, olderThanMs: config.STALE_UPLOAD_AFTER_SEC * 1000 },
  });
  await app.listen({ host: config.HOST, port: config.PORT });
  shutdown.add('http', () => app.close());
  log.info({ url: baseUrl }, 'gateway listening');
}

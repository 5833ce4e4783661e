import { createHash } from 'node:crypto';
import type { ConfigOf, ServiceDeps } from '@reel/runtime';
import { createStorage } from '@reel/storage';
import { buildGateway } from './app.ts';
import type { configSpec } from './config.ts';
import { createAuthenticator } from './plugins/auth.ts';
import { createLiveFeed } from './live.ts';
import { createPlayback } from './playback.ts';
import { publicBaseUrl } from './routes/videos/access.ts';

/** Builds the gateway from its config and starts listening; the server closes on shutdown. */
export async function startGateway(deps: ServiceDeps<ConfigOf<typeof configSpec>>): Promise<void> {
  const { config, log, nc, publisher, shutdown } = deps;
  if (!config.AUTH_JWT_SECRET && !config.AUTH_JWKS_URL) throw new Error('set AUTH_JWT_SECRET or AUTH_JWKS_URL: the API needs a way to check tokens');
  const storage = createStorage(config);
  await storage.ensureBuckets();
  const playbackSecret =
    config.PLAYBACK_SIGNING_SECRET ??
    createHash('sha256')
      .update(`reel-playback:${config.AUTH_JWT_SECRET ?? config.AUTH_JWKS_URL}`)
      .digest('base64url');
  const baseUrl = publicBaseUrl(config);
  const live = createLiveFeed(nc, log);
  shutdown.add('live feed', () => live.close());
  const app = await buildGateway({
    config,
    log,
    nc,
    publisher,
    storage,
    auth: createAuthenticator({ secret: config.AUTH_JWT_SECRET, jwksUrl: config.AUTH_JWKS_URL, issuer: config.AUTH_ISSUER, audience: config.AUTH_AUDIENCE }),
    playback: createPlayback({ secret: playbackSecret, ttlSec: config.PLAYBACK_TTL_SEC, storage, baseUrl }),
    live,
  });
  await app.listen({ host: config.HOST, port: config.PORT });
  shutdown.add('http', () => app.close());
  log.info({ url: baseUrl }, 'gateway listening');
}

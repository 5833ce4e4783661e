# One image for the five Reel services. Node 24 runs the TypeScript sources directly (type
# stripping), so there is no build step; the command picks the app:
#
#   docker build -t reel .
#   docker run --rm reel node apps/ingest/src/main.ts
#   docker run --rm -e DATABASE_URL=… reel node apps/catalog/src/migrate.ts   # migrations only
#
# Works with BuildKit and with the classic builder (no BuildKit-only syntax).
ARG NODE_IMAGE=node:24-bookworm-slim

# --- every workspace's package.json, and nothing else, so that the dependency layer below is
# rebuilt only when a manifest or the lockfile changes (and a new workspace needs no edit here)
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN find . -name package.json -not -path '*/node_modules/*' -exec sh -c 'mkdir -p "/out/$(dirname "$1")" && cp "$1" "/out/$1"' _ {} \; \
  && cp package-lock.json .npmrc /out/

# --- production dependencies only. devDependencies (tap, biome, turbo, typescript, drizzle-kit,
# and the `node` package that brings Node 24 to machines without it: the base image has Node 24)
# are left out. .npmrc sets legacy-peer-deps, as for development installs.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV NODE_ENV=production
COPY --from=manifests /out/ ./
RUN npm ci --omit=dev --no-audit --no-fund \
  && npm cache clean --force

# --- runtime: Debian's ffmpeg (5.1, libx264 + native AAC), the sources, a non-root user
FROM ${NODE_IMAGE} AS runtime
RUN apt-get update \
  && apt-get install -y --no-install-recommends ffmpeg \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
    FFMPEG_PATH=/usr/bin/ffmpeg \
    FFPROBE_PATH=/usr/bin/ffprobe
# node_modules (with the workspace links) and any nested workspace node_modules
COPY --from=deps /app/ ./
# the sources (see .dockerignore: no tests, no node_modules, no charts)
COPY . .
# the `node` user of the base image, by number so that Kubernetes' runAsNonRoot can verify it;
# the files above stay root-owned and read-only to the app
USER 1000:1000
EXPOSE 8080
CMD ["node", "--max-semi-space-size=4", "apps/gateway/src/main.ts"]

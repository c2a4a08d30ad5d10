# vendor-api-emulator image.
#   docker build -t vendor-api-emulator .
#   docker run -p 8080:8080 vendor-api-emulator
# Build stage: compiles better-sqlite3 from source (no prebuilt binary is assumed to be
# downloadable, and this keeps the image buildable on any architecture) and the TypeScript.
FROM node:22-bookworm-slim AS build

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
# node-gyp: use the headers the node image ships instead of downloading them.
ENV npm_config_nodedir=/usr/local \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false

WORKDIR /app

# Dependencies first, in their own layer, so editing the sources doesn't recompile SQLite.
# --ignore-scripts skips the package's `prepare` (no sources yet) and every dependency's install
# script; then only better-sqlite3's runs, the one package.json's `allowScripts` allows.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts \
 && npm rebuild better-sqlite3

# Sources, then the same build the `prepare` script runs (tsc, then the one-file CLI), then drop
# the dev dependencies (esbuild is one: the bundle needs only better-sqlite3 at run time).
COPY . .
RUN mkdir -p fixtures \
 && npm run build \
 && npm prune --omit=dev \
 && cd node_modules/better-sqlite3 \
 && mv build/Release/better_sqlite3.node /tmp/ \
 && rm -rf build deps src \
 && mkdir -p build/Release \
 && mv /tmp/better_sqlite3.node build/Release/ \
 && cd /app \
 && node -e "const D=require('better-sqlite3'); new D(':memory:').prepare('select 1').get()"

# Final stage: production dependencies, compiled JS, fixtures, the dashboard's files (ui/) and package.json only.
FROM node:22-bookworm-slim

ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080

WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/fixtures ./fixtures
COPY --from=build /app/ui ./ui
# The app's files stay root-owned (read-only to the server); /data is where a store file
# (EMULATOR_DB=/data/emulator.db) can live, on a volume.
RUN mkdir -p /data && chown node:node /data \
 && node --input-type=module -e "const { loadBundle } = await import('/app/dist/server/bundle.js'); if (!loadBundle()) { console.error('the image would not run the one-file CLI (dist/server/cli.bundle.cjs)'); process.exit(1); }"

USER node
EXPOSE 8080

# Asks the server itself (no curl in slim images) on $PORT, and on $HOST unless it is a wildcard.
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "const h=process.env.HOST||'';const a=(h===''||h==='0.0.0.0'||h==='::')?'127.0.0.1':h.includes(':')?'['+h+']':h;fetch('http://'+a+':'+(process.env.PORT||8080)+'/_emulator/health',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))"]

CMD ["node", "dist/server/cli.js"]

# syntax=docker/dockerfile:1
# Stash in TypeScript: a multi-stage image. The build stage runs the README's quick start
# (`npm ci`, which builds through the `prepare` script); the runtime stage keeps only what
# `npm start` needs, on node:20-slim, as a non-root user.

# ---- build: compilers for the native modules (better-sqlite3, argon2) are in the full image
FROM node:20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.base.json tsconfig.json ./
COPY packages/client/package.json packages/client/tsconfig.json packages/client/
COPY packages/server/package.json packages/server/tsconfig.json packages/server/
COPY packages/client/src packages/client/src
COPY packages/server/src packages/server/src
COPY packages/server/bin packages/server/bin
COPY packages/server/scripts packages/server/scripts
# installs, builds the native modules, then `tsc -b` and the web UI's assets (the prepare script)
RUN npm ci --no-audit --no-fund
# the build again on its own, so a broken build fails here even if install scripts were skipped
RUN npm run build
# keep only production dependencies for the runtime stage (workspace links stay)
RUN npm prune --omit=dev --no-audit --no-fund

# ---- runtime
FROM node:20-slim AS runtime
ENV NODE_ENV=production \
    STASH_DB=/srv/var/stash.db \
    STASH_SERVER_ADDRESS=:8080 \
    STASH_GIT_PATH=/srv/var/.history \
    STASH_LOG_FORMAT=text
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/packages/client/package.json packages/client/
COPY --from=build /app/packages/client/dist packages/client/dist
COPY --from=build /app/packages/server/package.json packages/server/
COPY --from=build /app/packages/server/bin packages/server/bin
COPY --from=build /app/packages/server/dist packages/server/dist
COPY --from=build /app/packages/server/web-assets packages/server/web-assets
# the image's `node` user (uid 1000) owns the data volume; the code stays root-owned, read-only to it
RUN mkdir -p /srv/var && chown node:node /srv/var
USER node
VOLUME ["/srv/var"]
EXPOSE 8080
# /ping answers `pong` under the base URL; node's fetch, as the slim image has no curl
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "-e", "const a=process.env.STASH_SERVER_ADDRESS||':8080';fetch('http://127.0.0.1:'+a.slice(a.lastIndexOf(':')+1)+(process.env.STASH_SERVER_BASE_URL||'').replace(/\\/+$/,'')+'/ping').then(r=>r.text()).then(t=>process.exit(t==='pong'?0:1),()=>process.exit(1))"]
# the README's `npm start`, without npm in between: SIGTERM reaches the server, which shuts down gracefully
CMD ["node", "packages/server/bin/stash.js", "server"]

# syntax=docker/dockerfile:1
#
# Parley's production image: one server node, serving the web app, the API and Socket.IO on
# port 3000. Configured by environment variables only (README: Configuration, Deploy);
# compose.yaml runs three of these behind HAProxy with PostgreSQL and Redis.
#
# No container engine runs on the development machines, so this file has never been built there.
# Its steps are the ones the repository runs anyway: `pnpm install --frozen-lockfile`,
# `pnpm build`, and the command below, `node apps/server/dist/main.js`, which is exactly what CI's
# end-to-end suite starts (e2e/playwright.config.ts). The runtime layout (a `pnpm deploy` of the
# server next to the built web app) was assembled and run by hand outside the image (README).

# Both stages on the same Node major and Debian release: better-sqlite3 is compiled (or its
# prebuilt binary fetched) for this Node's ABI and glibc in the build stage and runs in the other.
ARG NODE_VERSION=20

FROM node:${NODE_VERSION}-bookworm AS build
ENV COREPACK_ENABLE_DOWNLOAD_PROMPT=0
# pnpm at the version `packageManager` in package.json pins (10.34.9, with its hash). The corepack
# bundled with older Node 20 releases cannot verify the signatures of recent pnpm releases, so the
# current corepack is installed first (pnpm's own installation guide says the same).
RUN npm install --global corepack@latest && corepack enable
# The repository's .npmrc points node-gyp at Debian's Node headers (nodedir=/usr, for machines that
# cannot download them); this image keeps Node in /usr/local. Needed only when better-sqlite3's
# prebuilt binary cannot be downloaded and node-gyp compiles it (this image has the toolchain).
RUN [ -e /usr/include/node ] || ln -s /usr/local/include/node /usr/include/node
WORKDIR /src
# `pnpm fetch` downloads what the lockfile lists, without the workspace's package manifests, so
# this layer stays cached while the lockfile and the root files stay the same (package.json is
# here for `packageManager`, .npmrc for the registry settings).
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
RUN pnpm fetch
COPY . .
RUN pnpm install --offline --frozen-lockfile
RUN pnpm build
# The server alone with its production dependencies: package.json, dist/ (its `files`) and a
# node_modules without devDependencies. `--legacy`: pnpm 10's default deploy needs
# inject-workspace-packages, which would change how the workspace links for development too.
RUN pnpm deploy --legacy --filter=@parley/server --prod /prod/server

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
# README, Deploy: what production mode changes and which defaults to set.
ENV NODE_ENV=production
WORKDIR /app
# The repository's layout: apps/server/dist/main.js finds the web app at ../../web/dist from its
# own URL. Compiled output only: no TypeScript, tests or dev tools. Owned by root, so the server
# cannot rewrite its own code.
COPY --from=build /prod/server apps/server
COPY --from=build /src/apps/web/dist apps/web/dist
# The only writable directory: the SQLite default (DATABASE_URL unset: ./data/parley.sqlite) for a
# single-node run; mount a volume here to keep it. Multi-node deployments use PostgreSQL.
RUN mkdir data && chown node:node data
# The node user (uid 1000) of the official image.
USER node
# 3000: the app. 9464: /metrics when METRICS_PORT=9464 is set (the admin port; keep it off the
# public network).
EXPOSE 3000 9464
# Liveness, with node (the slim image has no curl or wget). The server binds every interface
# unless HOST is set, so loopback answers; keep HOST unset in containers. /healthz answers 503
# while the node drains after SIGTERM; readiness (storage and Redis reachable) is /readyz, for the
# balancer and orchestrators, not for restarting the container.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exactly the command CI's e2e suite runs. Exec form: node is PID 1 and receives SIGTERM itself
# (`docker stop`), and main.ts shuts down on it.
CMD ["node", "apps/server/dist/main.js"]

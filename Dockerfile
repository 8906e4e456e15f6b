# Stowage: the registry as a plain Node server in a container (VM, Kubernetes, bare docker run).
#
#   docker build -t stowage:0.1.0 .
#   docker run --read-only -p 5000:5000 -e STOWAGE_STORAGE_CONNECTION_STRING=... stowage:0.1.0
#
# NODE_IMAGE is any Debian-based image with Node.js 20 (20.18.1 or later) at /usr/local/bin/node or /usr/bin/node
# (default: the official slim image). Where no public registry is reachable, build one locally
# and pass it with --build-arg NODE_IMAGE=... (see README, "Air-gapped install").
ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: compile the TypeScript, then keep only the production dependencies ----
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
# the server and CLI are all under shared/ (tsconfig's other roots are absent here: nothing to compile);
# the server runs as one esbuild bundle (dist/server.mjs and its lazily loaded chunks) with the web UI
COPY tsconfig.json ./
COPY shared ./shared
COPY tools ./tools
RUN npx tsc -p . && node tools/build-ui.mjs && node tools/bundle.mjs server \
 && npm prune --omit=dev --no-audit --no-fund

# ---- runtime: the compiled server and CLI, production dependencies, nothing else ----
FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=5000 \
    STOWAGE_DATA_DIR=/tmp/stowage
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/shared ./dist/shared
COPY --from=build /src/dist/server.mjs ./dist/server.mjs
COPY --from=build /src/dist/server-chunks ./dist/server-chunks
COPY --from=build /src/dist/ui ./dist/ui
# Numeric, so Kubernetes can check runAsNonRoot without an /etc/passwd entry. Nothing under
# /app is writable by it: the root filesystem can be mounted read-only (the server writes
# nothing there; mount an emptyDir on /tmp if anything else in the pod needs scratch space).
USER 10001:10001
EXPOSE 5000
# The same probe Kubernetes uses (liveness): GET /healthz on this container's own port, over
# HTTPS when a certificate is configured.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "dist/shared/server/healthcheck.js"]
# `node` directly (no npm): SIGTERM reaches the server, which finishes uploads in progress. The
# bundle, as `npm start` runs it: a shorter cold start and less memory than dist/shared (kept
# for the CLI and the health check)
ENTRYPOINT ["node", "dist/server.mjs"]

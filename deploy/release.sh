#!/usr/bin/env bash
# Builds a self-contained release on a connected machine, to carry to a disconnected one:
#
#   release/stowage-<version>.tar.gz        the compiled server, CLI and Functions app with
#                                           their production dependencies (needs only Node 20)
#   release/stowage-<version>-image.tar     with --image: the container image (docker save),
#                                           built FROM --node-image (default node:20-bookworm-slim)
#   release/SHA256SUMS                      checksums of both, to check after the transfer
#
#   npm run release [-- --image [--node-image IMAGE]]
#
# The dependencies are pure JavaScript/WebAssembly: the tarball runs on any OS and CPU with
# Node.js 20.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
image=false
node_image="node:20-bookworm-slim"
while [ $# -gt 0 ]; do
  case "$1" in
    --image) image=true; shift ;;
    --node-image) node_image="$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done

version="$(node -p 'require("./package.json").version')"
name="stowage-$version"
out="release"
stage="$out/$name"
rm -rf "$stage" "$out/$name.tar.gz" "$out/$name-image.tar" "$out/SHA256SUMS"
mkdir -p "$stage"

echo "building $name"
npm ci --no-audit --no-fund
npm run build
mkdir -p "$stage/dist"
# the bundles (server and Functions app, each with its chunks), the web UI, and the compiled
# files the CLI runs
cp -R dist/shared dist/ui dist/server.mjs dist/server-chunks dist/functions.mjs dist/functions-chunks "$stage/dist/"
cp package.json package-lock.json host.json local.settings.sample.json README.md Dockerfile .dockerignore "$stage/"
mkdir -p "$stage/deploy"
cp -R deploy/kubernetes "$stage/deploy/kubernetes"
# production dependencies only, exactly as locked; no install scripts run
(cd "$stage" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund)
# a start script that needs nothing but node
cat > "$stage/stowage" <<'SH'
#!/bin/sh
# Starts the registry (settings from the environment; see README "Configuration").
exec node "$(dirname "$0")/dist/server.mjs" "$@"
SH
chmod +x "$stage/stowage"
tar -C "$out" -czf "$out/$name.tar.gz" "$name"
rm -rf "$stage"
sums=("$name.tar.gz")

if [ "$image" = true ]; then
  docker build --build-arg "NODE_IMAGE=$node_image" -t "stowage:$version" .
  docker save -o "$out/$name-image.tar" "stowage:$version"
  sums+=("$name-image.tar")
fi
(cd "$out" && sha256sum "${sums[@]}" > SHA256SUMS)
echo "release files in $out/:"
(cd "$out" && cat SHA256SUMS)

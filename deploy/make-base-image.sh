#!/usr/bin/env bash
# Makes a Node.js 20 base image without any public registry: a Debian root filesystem
# (debootstrap from your Debian mirror) plus this machine's Node.js 20 and npm, imported
# into Docker. Then: docker build --build-arg NODE_IMAGE=<name> -t stowage .
#
#   deploy/make-base-image.sh [--rootfs DIR] [--mirror URL] [--name local/node:20-bookworm]
#                             [--ca-bundle FILE]
#
# --ca-bundle: PEM roots the image trusts as well (Node's NODE_EXTRA_CA_CERTS), for sites whose
# npm mirror or proxy presents a certificate from an internal CA.
#
# Needs root, debootstrap, docker (DOCKER_HOST is honoured) and node 20 on PATH.
set -euo pipefail

rootfs=""
mirror="http://deb.debian.org/debian"
name="local/node:20-bookworm"
ca_bundle=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rootfs) rootfs="$2"; shift 2 ;;
    --mirror) mirror="$2"; shift 2 ;;
    --name) name="$2"; shift 2 ;;
    --ca-bundle) ca_bundle="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done

node_bin="$(command -v node)"
case "$("$node_bin" --version)" in v20.*) ;; *) echo "need Node.js 20 on PATH" >&2; exit 1 ;; esac
npm_dir="$(dirname "$(readlink -f "$(command -v npm)")")/.."

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [ -z "$rootfs" ]; then
  rootfs="$work/rootfs"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror"
fi

# a copy, so a reused debootstrap directory stays pristine
stage="$work/stage"
mkdir -p "$stage"
tar -C "$rootfs" -c . | tar -C "$stage" -x
rm -rf "$stage/var/cache/apt/archives/"*.deb "$stage/var/lib/apt/lists/"*
install -D -m 0755 "$node_bin" "$stage/usr/local/bin/node"
mkdir -p "$stage/usr/local/lib/node_modules"
cp -a "$(readlink -f "$npm_dir")" "$stage/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$stage/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$stage/usr/local/bin/npx"
# libraries the binary links against must be in the image (a Debian minbase has them; check)
missing="$(env -i /usr/sbin/chroot "$stage" /usr/local/bin/node -e 'process.exit(0)' 2>&1 || true)"
if [ -n "$missing" ]; then echo "node does not run in the root filesystem: $missing" >&2; exit 1; fi

changes=(--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin')
if [ -n "$ca_bundle" ]; then
  install -D -m 0644 "$ca_bundle" "$stage/usr/local/share/stowage/extra-ca.pem"
  changes+=(--change 'ENV NODE_EXTRA_CA_CERTS=/usr/local/share/stowage/extra-ca.pem')
fi
tar -C "$stage" -c . | docker import "${changes[@]}" \
  --change 'CMD ["node"]' - "$name"
echo "base image: $name ($(env -i /usr/sbin/chroot "$stage" /usr/local/bin/node --version))"

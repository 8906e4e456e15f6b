#!/bin/bash
# Runs on the VM as root (the template's Custom Script extension), on every deployment:
# installs Docker if missing, loads the stowage:latest image from the tarball at
# STOWAGE_IMAGE_URL (base64; a short-lived SAS URL that setup.sh made), writes the settings
# (STOWAGE_SETTINGS_B64: base64 JSON object, from the template) to a root-only env file, and
# runs the container under systemd. Idempotent: a new deployment replaces image and settings.
set -euo pipefail

: "${STOWAGE_SETTINGS_B64:?set by the template}"
: "${STOWAGE_IMAGE_URL:?set by the template}"
IMAGE="stowage:latest"
ROOT="${STOWAGE_INSTALL_ROOT:-}" # tests install under a temporary directory
ETC="$ROOT/etc/stowage"
DATA="$ROOT/var/lib/stowage"
UNIT="$ROOT/etc/systemd/system/stowage.service"

if ! command -v docker >/dev/null 2>&1; then
  # the image's package mirror (Stack Hub: the operator's mirror) must be reachable
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends docker.io
fi
systemctl enable --now docker

install -d -m 0700 "$ETC"
install -d -m 0750 "$DATA"

# the image: downloaded to a temporary file first so a broken download never replaces a good image
image_url="$(printf '%s' "$STOWAGE_IMAGE_URL" | base64 -d)"
if [ -n "$image_url" ]; then
  tarball="$(mktemp "${TMPDIR:-/var/tmp}/stowage-image.XXXXXX")"
  trap 'rm -f "$tarball"' EXIT
  curl -fsSL --retry 5 -o "$tarball" "$image_url"
  docker load -i "$tarball"
fi
docker image inspect "$IMAGE" >/dev/null

# settings: JSON object -> KEY=VALUE lines (docker --env-file takes values literally); empty = unset
umask 077
printf '%s' "$STOWAGE_SETTINGS_B64" | base64 -d | python3 -c '
import json, sys
for key, value in sorted(json.load(sys.stdin).items()):
    value = str(value)
    if value == "":
        continue
    if "\n" in value:
        sys.exit("setting %s contains a line break" % key)
    print("%s=%s" % (key, value))
' >"$ETC/stowage.env.new"
mv "$ETC/stowage.env.new" "$ETC/stowage.env"
port="$(sed -n 's/^PORT=//p' "$ETC/stowage.env")"

mkdir -p "$(dirname "$UNIT")"
cat >"$UNIT" <<UNIT
[Unit]
Description=Stowage container registry
After=docker.service network-online.target
Requires=docker.service

[Service]
Restart=always
RestartSec=5
ExecStartPre=-/usr/bin/docker rm -f stowage
ExecStart=/usr/bin/docker run --rm --name stowage --env-file $ETC/stowage.env -p 443:${port:-8443} --read-only --tmpfs /tmp -v $DATA:$DATA $IMAGE
ExecStop=/usr/bin/docker stop -t 30 stowage

[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
systemctl enable stowage
systemctl restart stowage
echo "stowage: started ($IMAGE, settings in $ETC/stowage.env)"

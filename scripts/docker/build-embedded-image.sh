#!/usr/bin/env bash
# Build a local Docker image of the embedded Stargate-compatible server, without any registry: a
# Debian root filesystem from debootstrap (cached as a tarball under .build/) plus localdev/, turned
# into an image with `docker import`. Inside, one process serves the Stargate image's ports: auth on
# 8081, documents on 8082, health checker on 8084, so tests/contract's container backend can run
# against it by name:
#
#   scripts/docker/build-embedded-image.sh                  # -> orders-embedded-stargate:local
#   STARGATE_IMAGE=orders-embedded-stargate:local .venv/bin/python -m pytest tests/contract
#
# Environment: IMAGE (default orders-embedded-stargate:local), DEBIAN_SUITE (bookworm), DEBIAN_MIRROR
# (default: the first mirror in /etc/apt/sources.list(.d) that serves the suite, else deb.debian.org),
# REBUILD_ROOTFS=1 to redo the debootstrap step. Needs root (or sudo) for debootstrap, and a Docker engine.
set -euo pipefail
cd "$(dirname "$0")/../.."

IMAGE=${IMAGE:-orders-embedded-stargate:local}
SUITE=${DEBIAN_SUITE:-bookworm}
ARCH=$(dpkg --print-architecture 2>/dev/null || uname -m)
CACHE=.build/embedded-stargate
ROOTFS_TAR=$CACHE/rootfs-$SUITE-$ARCH-python3.tar
SUDO=
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi

log() { printf '%s\n' "build-embedded-image: $*" >&2; }

# The first deb mirror in the machine's apt sources that serves $SUITE (one-line or deb822 format).
apt_mirror() {
  local files=() f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] && files+=("$f")
  done
  [ ${#files[@]} -gt 0 ] || return 0
  awk -v suite="$SUITE" '
    function flush() {
      if (!found && uris != "" && types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " suite " ")) {
        split(uris, u, " "); print u[1]; found = 1
      }
      uris = suites = types = ""
    }
    FNR == 1 { flush() }
    FILENAME ~ /\.sources$/ {
      if ($0 ~ /^[[:space:]]*$/) { flush(); next }
      if ($1 == "Types:") { $1 = ""; types = $0 }
      if ($1 == "URIs:") { $1 = ""; uris = $0 }
      if ($1 == "Suites:") { $1 = ""; suites = $0 }
      next
    }
    !found && $1 == "deb" {
      i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
      if ($(i + 1) == suite) { print $i; found = 1 }
    }
    END { flush() }
  ' "${files[@]}"
}

command -v docker >/dev/null || { log "no docker command; run scripts/docker/start-dockerd.sh first"; exit 1; }
docker info >/dev/null 2>&1 || { log "no Docker engine answers; run scripts/docker/start-dockerd.sh first"; exit 1; }

# The application part and its fingerprint: an image built from the same sources is not rebuilt.
APP=$PWD/$CACHE/app  # absolute: the copy below runs from inside localdev/
rm -rf "$APP"
mkdir -p "$APP/opt/orders/localdev"
cp localdev/__init__.py "$APP/opt/orders/localdev/"
# The package with its subpackages (core, document_api, data_api), Python files only.
(cd localdev && find stargate -name '*.py' -print0 | xargs -0 cp --parents -t "$APP/opt/orders/localdev/")
SOURCE_SHA=$( (cd "$APP" && find . -type f -print0 | sort -z | xargs -0 sha256sum; echo "$SUITE $ARCH") | sha256sum | cut -c1-16)
if [ "$(docker image inspect -f '{{index .Config.Labels "orders.source-sha"}}' "$IMAGE" 2>/dev/null)" = "$SOURCE_SHA" ] \
  && [ "${REBUILD_ROOTFS:-0}" != 1 ]; then
  log "$IMAGE is up to date ($SOURCE_SHA)"
  exit 0
fi

if [ ! -s "$ROOTFS_TAR" ] || [ "${REBUILD_ROOTFS:-0}" = 1 ]; then
  MIRROR=${DEBIAN_MIRROR:-$(apt_mirror)}
  MIRROR=${MIRROR:-http://deb.debian.org/debian}
  if ! command -v debootstrap >/dev/null; then
    log "installing debootstrap (log: /tmp/apt-debootstrap.log)"
    if ! { $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 \
      apt-get install -y -qq debootstrap; } >/tmp/apt-debootstrap.log 2>&1; then
      tail -n 20 /tmp/apt-debootstrap.log >&2
      log "debootstrap could not be installed"
      exit 1
    fi
  fi
  ROOTFS=$CACHE/rootfs-$SUITE
  $SUDO rm -rf "$ROOTFS"
  mkdir -p "$CACHE"
  log "debootstrap --variant=minbase --include=python3 $SUITE from $MIRROR (cached in $ROOTFS_TAR)"
  started=$(date +%s)
  if ! $SUDO debootstrap --variant=minbase --include=python3 "$SUITE" "$ROOTFS" "$MIRROR" \
    >"$CACHE/debootstrap.log" 2>&1; then
    tail -n 20 "$CACHE/debootstrap.log" >&2
    log "debootstrap failed (log: $CACHE/debootstrap.log)"
    exit 1
  fi
  # Nothing the server needs: package caches, lists, documentation.
  $SUDO rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/* \
    "$ROOTFS"/usr/share/doc "$ROOTFS"/usr/share/man "$ROOTFS"/usr/share/locale
  $SUDO tar --numeric-owner -C "$ROOTFS" -cf "$ROOTFS_TAR.tmp" .
  $SUDO chown "$(id -u):$(id -g)" "$ROOTFS_TAR.tmp"
  mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
  $SUDO rm -rf "$ROOTFS"
  log "root filesystem ready in $(($(date +%s) - started)) s: $(du -h "$ROOTFS_TAR" | cut -f1)"
fi

# The cached root filesystem plus the application, appended as root-owned files.
IMAGE_TAR=$CACHE/image.tar
cp "$ROOTFS_TAR" "$IMAGE_TAR"
tar --numeric-owner --owner=0 --group=0 -C "$APP" -rf "$IMAGE_TAR" ./opt/orders
log "importing $IMAGE"
docker import \
  -c 'ENTRYPOINT ["python3", "-m", "localdev.stargate", "--host", "0.0.0.0", "--auth-port", "8081", "--documents-port", "8082", "--health-port", "8084", "--data-dir", "/tmp/stargate"]' \
  -c 'EXPOSE 8081 8082 8084' \
  -c 'ENV PYTHONPATH=/opt/orders PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1' \
  -c 'WORKDIR /opt/orders' \
  -c 'USER nobody' \
  -c "LABEL orders.source-sha=$SOURCE_SHA" \
  -m "embedded Stargate-compatible server from localdev/stargate" \
  "$IMAGE_TAR" "$IMAGE" >&2
rm -f "$IMAGE_TAR"
log "built $IMAGE ($SOURCE_SHA)"

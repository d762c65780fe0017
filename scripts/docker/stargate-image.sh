#!/usr/bin/env bash
# Print the Stargate image the contract suite's container backend should start, making sure it is
# there: the requested image (first argument, else $STARGATE_IMAGE, else the real Stargate image) when
# it is present or can be pulled; else, when the real image was asked for and STARGATE_IMAGE_FALLBACK
# is not 0, the local embedded image, built by scripts/docker/build-embedded-image.sh (no registry needed).
# Without a Docker engine it prints the requested image unchanged: the suite then skips the container
# backend and says why. Progress goes to stderr; only the image name goes to stdout.
#
#   STARGATE_IMAGE="$(scripts/docker/stargate-image.sh)" .venv/bin/python -m pytest tests/contract
set -euo pipefail
cd "$(dirname "$0")/../.."

REAL_IMAGE=stargateio/stargate-4_0:v1.0.91
EMBEDDED_IMAGE=orders-embedded-stargate:local
REQUESTED=${1:-${STARGATE_IMAGE:-$REAL_IMAGE}}

log() { printf '%s\n' "stargate-image: $*" >&2; }

if ! docker info >/dev/null 2>&1; then
  log "no Docker engine answers; the container backend will be skipped"
  echo "$REQUESTED"
  exit 0
fi
if [ "$REQUESTED" = "$EMBEDDED_IMAGE" ]; then
  IMAGE=$EMBEDDED_IMAGE scripts/docker/build-embedded-image.sh
  echo "$EMBEDDED_IMAGE"
  exit 0
fi
if docker image inspect "$REQUESTED" >/dev/null 2>&1; then
  log "using $REQUESTED (present)"
  echo "$REQUESTED"
  exit 0
fi
log "pulling $REQUESTED"
if docker pull --quiet "$REQUESTED" >&2; then
  echo "$REQUESTED"
  exit 0
fi
if [ "$REQUESTED" = "$REAL_IMAGE" ] && [ "${STARGATE_IMAGE_FALLBACK:-1}" != 0 ]; then
  log "$REQUESTED cannot be pulled; building and using $EMBEDDED_IMAGE instead"
  if IMAGE=$EMBEDDED_IMAGE scripts/docker/build-embedded-image.sh; then
    echo "$EMBEDDED_IMAGE"
    exit 0
  fi
  log "the embedded image could not be built either"
fi
echo "$REQUESTED"

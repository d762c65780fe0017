#!/usr/bin/env bash
# Make sure a Docker engine answers `docker info`: do nothing when one already does (a developer
# machine, GitHub Actions); otherwise install Debian's docker.io when dockerd is missing, start dockerd
# in the background (log in $DOCKERD_LOG) and wait for it. Exits non-zero when no engine can be started;
# the contract suite then skips its container backend and says why.
#
# Tried in order, until one answers: plain `dockerd`, then `dockerd --iptables=false` (sandboxes without
# netfilter), then also `--storage-driver=vfs` (no overlayfs). Override with DOCKERD_FLAGS="...".
#
# The dockerd it starts is recorded in $DOCKERD_PID_FILE (default .build/dockerd.pid: its pid and start
# time), so that scripts/docker/stop-dockerd.sh stops exactly that one and never an engine it did not start.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DOCKERD_LOG=${DOCKERD_LOG:-/tmp/dockerd.log}
DOCKERD_PID_FILE=${DOCKERD_PID_FILE:-$REPO_ROOT/.build/dockerd.pid}
WAIT_S=${DOCKERD_WAIT_S:-30}
SUDO=
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
SUDO=${DOCKERD_SUDO-$SUDO} # DOCKERD_SUDO= runs without sudo

log() { printf '%s\n' "start-dockerd: $*" >&2; }

engine_answers() { docker info >/dev/null 2>&1; }

# One line per started process: "<pid> <start time>"; the start time tells it from a later process that
# got the same pid.
record_started() {
  mkdir -p "$(dirname "$DOCKERD_PID_FILE")"
  printf '%s %s\n' "$1" "$(ps -o lstart= -p "$1" | tr -s ' ' '_')" >>"$DOCKERD_PID_FILE"
}

if command -v docker >/dev/null && engine_answers; then
  log "a Docker engine already answers"
  exit 0
fi

if ! command -v dockerd >/dev/null; then
  log "installing docker.io (log: /tmp/apt-docker.io.log)"
  if ! { $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 \
    apt-get install -y -qq docker.io; } >/tmp/apt-docker.io.log 2>&1; then
    tail -n 20 /tmp/apt-docker.io.log >&2
    log "docker.io could not be installed"
    exit 1
  fi
fi

try_flags() {
  local flags=$1 pid waited
  log "starting dockerd${flags:+ $flags} (log: $DOCKERD_LOG)"
  # shellcheck disable=SC2086 # the flags are words on purpose
  $SUDO nohup dockerd $flags >"$DOCKERD_LOG" 2>&1 &
  pid=$!
  record_started "$pid" # at once: a run interrupted from here on still stops it at its end
  for ((waited = 0; waited < WAIT_S; waited++)); do
    if engine_answers; then
      log "Docker engine ready after ${waited} s with: dockerd${flags:+ $flags} (pid in $DOCKERD_PID_FILE)"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      break
    fi
    sleep 1
  done
  log "dockerd $flags did not come up; last lines of its log:"
  tail -n 5 "$DOCKERD_LOG" >&2 || true
  $SUDO kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  return 1
}

if [ -n "${DOCKERD_FLAGS:-}" ]; then
  try_flags "$DOCKERD_FLAGS"
  exit
fi
for flags in "" "--iptables=false" "--iptables=false --storage-driver=vfs"; do
  if try_flags "$flags"; then
    exit 0
  fi
done
log "no Docker engine could be started"
exit 1

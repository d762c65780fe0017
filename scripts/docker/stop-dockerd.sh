#!/usr/bin/env bash
# Stop the Docker engine(s) that scripts/docker/start-dockerd.sh started, and nothing else: each line of
# $DOCKERD_PID_FILE (default .build/dockerd.pid) names a pid and its start time. A pid that is gone, or
# now belongs to a process started at another time, is left alone. A stopped dockerd stops the containerd
# it started. Waits up to $DOCKERD_STOP_WAIT_S (20) seconds for each, then kills it. Removes the file.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DOCKERD_PID_FILE=${DOCKERD_PID_FILE:-$REPO_ROOT/.build/dockerd.pid}
WAIT_S=${DOCKERD_STOP_WAIT_S:-20}
SUDO=
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
SUDO=${DOCKERD_SUDO-$SUDO} # DOCKERD_SUDO= runs without sudo

log() { printf '%s\n' "stop-dockerd: $*" >&2; }

# The start time of a running pid, as start-dockerd.sh recorded it; empty when the pid is gone.
started_at() { ps -o lstart= -p "$1" 2>/dev/null | tr -s ' ' '_' || true; }

if [ ! -f "$DOCKERD_PID_FILE" ]; then
  exit 0
fi
while read -r pid started; do
  [[ $pid =~ ^[0-9]+$ ]] || continue
  if [ "$(started_at "$pid")" != "$started" ]; then
    log "pid $pid is gone (or is another process now): nothing to stop"
    continue
  fi
  log "stopping pid $pid"
  $SUDO kill -TERM "$pid" 2>/dev/null || true
  for ((waited = 0; waited < WAIT_S * 10; waited++)); do
    [ "$(started_at "$pid")" = "$started" ] || break
    sleep 0.1
  done
  if [ "$(started_at "$pid")" = "$started" ]; then
    log "pid $pid did not stop within ${WAIT_S} s; killing it"
    $SUDO kill -KILL "$pid" 2>/dev/null || true
  fi
done <"$DOCKERD_PID_FILE"
rm -f "$DOCKERD_PID_FILE"

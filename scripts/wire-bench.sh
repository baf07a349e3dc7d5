#!/usr/bin/env bash
# On-the-wire benchmark (issue: performance, target 4): wrk against servers on
# 127.0.0.1, each server pinned to CPU 0 and wrk to CPU 1, a valid RS256
# token (800 bytes, Google-like claims) on every request.
#
#   bare            no authentication (the HTTP stack's ceiling)
#   baseline        a hand-written layer calling jsonwebtoken::decode
#   cache off       examples/resource_server with JWT_TOKEN_CACHE=off
#   cache on        examples/resource_server (one repeated token)
#
# Usage: scripts/wire-bench.sh [seconds per run, default 10]
# Needs wrk (Debian: apt-get install wrk) and taskset. Loopback only; every
# process it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-10}"
CONNECTIONS="${CONNECTIONS:-32}"
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }

cargo build --quiet --release --example resource_server
BIN=target/release/examples
# The comparison servers are a bench target (benches/wire_server.rs).
WIRE=$(cargo bench --no-run --bench wire_server 2>&1 | sed -n 's/.*Executable .*(\(.*\))$/\1/p' | tail -n 1)
[ -x "$WIRE" ] || { echo "could not build benches/wire_server.rs" >&2; exit 1; }
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# Read the first lines a process prints, with a deadline.
start() { # name, then the command; sets ADDR
  local out; out=$(mktemp)
  "$@" >"$out" 2>/dev/null &
  PIDS+=($!)
  for _ in $(seq 100); do grep -q "listening on" "$out" && break; sleep 0.1; done
  ADDR=$(sed -n 's/^listening on //p' "$out")
  [ -n "$ADDR" ] || { echo "server did not start: $*" >&2; exit 1; }
}

SETUP_OUT=$(mktemp)
"$WIRE" setup >"$SETUP_OUT" 2>/dev/null &
PIDS+=($!)
for _ in $(seq 100); do grep -q '^token ' "$SETUP_OUT" && break; sleep 0.1; done
JWKS=$(sed -n 's/^jwks //p' "$SETUP_OUT")
TOKEN=$(sed -n 's/^token //p' "$SETUP_OUT")
[ -n "$TOKEN" ] || { echo "setup failed" >&2; exit 1; }
echo "token: ${#TOKEN} bytes; key set: $JWKS; ${DURATION}s per run, $CONNECTIONS connections"
echo
printf '%-12s %12s %10s %10s %10s\n' "server" "requests/s" "p50" "p99" "non-2xx"

run() { # label, then the server command
  local label=$1; shift
  start "$@"
  # Warm up: keys fetched, caches filled, connections open.
  taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d2s -H "Authorization: Bearer $TOKEN" "$ADDR/me" >/dev/null
  local out; out=$(taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency \
    -H "Authorization: Bearer $TOKEN" "$ADDR/me")
  local rps p50 p99 bad
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  bad=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  printf '%-12s %12s %10s %10s %10s\n' "$label" "$rps" "$p50" "$p99" "${bad:-0}"
  kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true; unset 'PIDS[-1]'
}

# Every server gets one worker thread on its one core (2 workers on 1 core
# only add context switches).
export TOKIO_WORKER_THREADS=1
COMMON=(env JWT_JWKS_URL="$JWKS" JWT_ISSUER=https://accounts.google.com
  JWT_AUDIENCE=1234567890-abcdefghijklmnopqrstuvwxyz012345.apps.googleusercontent.com BIND=127.0.0.1:0)
run bare      taskset -c 0 "${COMMON[@]}" "$WIRE" bare
run baseline  taskset -c 0 "${COMMON[@]}" "$WIRE" baseline
run cache-off taskset -c 0 "${COMMON[@]}" JWT_TOKEN_CACHE=off "$BIN/resource_server"
run cache-on  taskset -c 0 "${COMMON[@]}" JWT_TOKEN_CACHE=on "$BIN/resource_server"

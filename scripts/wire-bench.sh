#!/usr/bin/env bash
# On-the-wire benchmark (the performance issues' wire targets): wrk against
# servers on 127.0.0.1, each server pinned to CPU 0 with one tokio worker,
# wrk pinned to CPU 1, a valid RS256 token (Google-like claims) on every
# request to `/me`:
#
#   same-body   no authentication; `/me` answers the token's payload bytes,
#               as resource_server's `/me` does (the fair comparison)
#   baseline    a hand-written layer calling jsonwebtoken::decode
#   cache-off   examples/resource_server with JWT_TOKEN_CACHE=off
#   cache-on    examples/resource_server (one repeated token)
#
# Every server is started once; then ROUNDS rounds run wrk against each in
# turn (A B C D, A B C D, ...), so slow phases of a noisy machine fall on
# every server alike. Reported per server: the median requests/s, p50 and
# p99 latency, and the server's CPU time per request (user + system, from
# /proc/<pid>/stat around each run), then each ratio to `same-body`.
#
# Usage: scripts/wire-bench.sh [seconds per run, default 5]
# Knobs: ROUNDS (5), CONNECTIONS (32). Needs wrk (Debian: apt-get install
# wrk) and taskset. Loopback only; every process it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
# Numbers are printed and sorted with a decimal point.
export LC_ALL=C
DURATION="${1:-5}"
ROUNDS="${ROUNDS:-5}"
CONNECTIONS="${CONNECTIONS:-32}"
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
command -v taskset >/dev/null || { echo "taskset is not installed (util-linux)" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is not installed (apt-get install curl)" >&2; exit 1; }

cargo build --quiet --release --example resource_server
BIN=target/release/examples
# The comparison servers are a bench target (benches/wire_server.rs).
WIRE=$(cargo bench --no-run --bench wire_server 2>&1 | sed -n 's/.*Executable .*(\(.*\))$/\1/p' | tail -n 1)
[ -x "$WIRE" ] || { echo "could not build benches/wire_server.rs" >&2; exit 1; }
PIDS=()
WORK=$(mktemp -d)
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
TICKS=$(getconf CLK_TCK)

# Starts a server and waits for its ready line; sets ADDR and PID.
start() {
  local out
  out=$(mktemp -p "$WORK" start.XXXXXX)
  "$@" >"$out" 2>/dev/null &
  PID=$!
  PIDS+=("$PID")
  for _ in $(seq 100); do grep -q "listening on" "$out" && break; sleep 0.1; done
  ADDR=$(sed -n 's/^listening on //p' "$out")
  [ -n "$ADDR" ] || { echo "server did not start: $*" >&2; exit 1; }
}

# The CPU time a process has used, in clock ticks (utime + stime).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

"$WIRE" setup >"$WORK/setup" 2>/dev/null &
PIDS+=($!)
for _ in $(seq 100); do grep -q '^token ' "$WORK/setup" && break; sleep 0.1; done
JWKS=$(sed -n 's/^jwks //p' "$WORK/setup")
TOKEN=$(sed -n 's/^token //p' "$WORK/setup")
[ -n "$TOKEN" ] || { echo "setup failed" >&2; exit 1; }

# One tokio worker per server on its one core (two workers on one core only
# add context switches).
export TOKIO_WORKER_THREADS=1
COMMON=(env JWT_JWKS_URL="$JWKS" JWT_ISSUER=https://accounts.google.com
  JWT_AUDIENCE=1234567890-abcdefghijklmnopqrstuvwxyz012345.apps.googleusercontent.com BIND=127.0.0.1:0)
NAMES=(same-body baseline cache-off cache-on)
declare -A ADDRS SERVER_PIDS
start taskset -c 0 "${COMMON[@]}" WIRE_TOKEN="$TOKEN" "$WIRE" same-body
ADDRS[same-body]=$ADDR; SERVER_PIDS[same-body]=$PID
start taskset -c 0 "${COMMON[@]}" "$WIRE" baseline
ADDRS[baseline]=$ADDR; SERVER_PIDS[baseline]=$PID
start taskset -c 0 "${COMMON[@]}" JWT_TOKEN_CACHE=off "$BIN/resource_server"
ADDRS[cache-off]=$ADDR; SERVER_PIDS[cache-off]=$PID
start taskset -c 0 "${COMMON[@]}" JWT_TOKEN_CACHE=on "$BIN/resource_server"
ADDRS[cache-on]=$ADDR; SERVER_PIDS[cache-on]=$PID

# The bodies must be the same bytes, or the comparison is not fair.
BODY_BARE=$(curl -s -H "Authorization: Bearer $TOKEN" "${ADDRS[same-body]}/me")
BODY_AUTH=$(curl -s -H "Authorization: Bearer $TOKEN" "${ADDRS[cache-on]}/me")
[ "$BODY_BARE" = "$BODY_AUTH" ] || { echo "the bodies differ:
same-body: $BODY_BARE
cache-on:  $BODY_AUTH" >&2; exit 1; }

echo "token: ${#TOKEN} bytes; body: ${#BODY_AUTH} bytes; key set: $JWKS"
echo "$ROUNDS rounds of ${DURATION}s per server, $CONNECTIONS connections, servers on CPU 0, wrk on CPU 1"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

wrk_run() { # address, seconds
  taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"$2s" --latency \
    -H "Authorization: Bearer $TOKEN" "$1/me"
}

# Warm up: keys fetched, caches filled, connections opened and closed.
for name in "${NAMES[@]}"; do wrk_run "${ADDRS[$name]}" 2 >/dev/null; done

# One line per run: round name rps p50 p99 cpu-ns-per-request errors (non-2xx + socket)
for round in $(seq "$ROUNDS"); do
  for name in "${NAMES[@]}"; do
    pid=${SERVER_PIDS[$name]}
    before=$(cpu_ticks "$pid")
    out=$(wrk_run "${ADDRS[$name]}" "$DURATION")
    after=$(cpu_ticks "$pid")
    awk -v name="$name" -v round="$round" -v ticks=$((after - before)) -v hz="$TICKS" '
      /requests in/ {requests = $1}
      /^Requests\/sec/ {rps = $2}
      $1 == "50%" {p50 = $2}
      $1 == "99%" {p99 = $2}
      /Non-2xx/ {bad += $5}
      /Socket errors/ {gsub(",", ""); bad += $4 + $6 + $8 + $10}
      END {printf "%s %s %.0f %s %s %.0f %d\n", round, name, rps, p50, p99,
             ticks / hz * 1e9 / requests, bad + 0}' <<<"$out"
  done
done | tee "$WORK/runs" | awk '{printf "round %s %-10s %9s req/s  p50 %-8s p99 %-8s %6s ns CPU/request  errors %s\n", $1, $2, $3, $4, $5, $6, $7}'

echo
echo "medians over $ROUNDS rounds:"
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
printf '%-10s %12s %14s %12s %12s\n' server "requests/s" "CPU/request" "÷ same-body" "same-body ÷"
declare -A RPS CPU
for name in "${NAMES[@]}"; do
  RPS[$name]=$(awk -v n="$name" '$2 == n {print $3}' "$WORK/runs" | median)
  CPU[$name]=$(awk -v n="$name" '$2 == n {print $6}' "$WORK/runs" | median)
done
for name in "${NAMES[@]}"; do
  awk -v n="$name" -v r="${RPS[$name]}" -v c="${CPU[$name]}" \
    -v r0="${RPS[same-body]}" -v c0="${CPU[same-body]}" \
    'BEGIN {printf "%-10s %12.0f %11.0f ns %12.3f %12.3f\n", n, r, c, r / r0, c0 / c}'
done
echo "÷ baseline (requests/s): cache-off $(awk -v a="${RPS[cache-off]}" -v b="${RPS[baseline]}" 'BEGIN {printf "%.2f", a / b}'), cache-on $(awk -v a="${RPS[cache-on]}" -v b="${RPS[baseline]}" 'BEGIN {printf "%.2f", a / b}')"
# The same ratio taken within each round (neighbouring runs), then its
# median: less sensitive to the machine's slow drift than the ratio of medians.
echo "per round, ÷ same-body of the same round (requests/s; CPU), median:"
for name in "${NAMES[@]:1}"; do
  awk -v n="$name" '$2 == "same-body" {r0[$1] = $3; c0[$1] = $6}
    $2 == n {r[$1] = $3; c[$1] = $6}
    END {for (k in r) print r[k] / r0[k], c0[k] / c[k]}' "$WORK/runs" >"$WORK/ratios"
  printf '%-10s %s; %s\n' "$name" \
    "$(cut -d' ' -f1 "$WORK/ratios" | median)" "$(cut -d' ' -f2 "$WORK/ratios" | median)"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
awk '$7 > 0 {bad = 1} END {if (bad) {print "some requests failed (non-2xx or socket errors)" > "/dev/stderr"; exit 1}}' "$WORK/runs"

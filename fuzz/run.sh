#!/usr/bin/env bash
# Runs each fuzz target for the given seconds, one job each, one after the
# other: `fuzz/run.sh 900 token jwks`. Logs go to fuzz/logs/<target>.log.
set -u
cd "$(dirname "$0")/.."
secs=${1:-60}; shift
targets=${*:-token signed_token jwks remote_jwks certificates}
mkdir -p fuzz/logs
[ -d fuzz/corpus ] || python3 fuzz/seeds.py
# cargo-fuzz passes nightly-only flags: use a nightly toolchain when there
# is one, else let stable accept them.
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  cargo=(cargo +nightly)
else
  export RUSTC_BOOTSTRAP=1
  cargo=(cargo)
fi
for t in $targets; do
  # token lengths reach past the 8 KiB token limit; key sets past 16 KiB.
  case $t in token|signed_token) max_len=12000 ;; *) max_len=20000 ;; esac
  "${cargo[@]}" fuzz run -O "$t" -- \
    -max_total_time="$secs" -rss_limit_mb=2048 -malloc_limit_mb=64 \
    -max_len="$max_len" -print_final_stats=1 >"fuzz/logs/$t.log" 2>&1
  echo "$t exit $?"
done

#!/usr/bin/env bash
# Instructions per request of `benches/verify.rs` rows, counted by
# valgrind's callgrind: deterministic where timings on a noisy 2-core
# machine are not, so two commits can be compared row by row.
#
# Each row runs twice in the bench's profile mode (JL_PROFILE), for
# JL_ITERS=N and JL_ITERS=11 N iterations; the difference divided by 10 N
# is the cost of one request, with the setup (keys, tokens, runtime)
# counted in both runs and so cancelled out.
#
# Usage: scripts/instructions.sh [row ...]   (default: the rows below)
# Knobs: N (500). Needs valgrind (Debian: apt-get install valgrind).
# Rows whose setup signs thousands of tokens (layer-new, layer-cold,
# layer-miss) spend most of each run in that setup under valgrind: slow,
# and their counts vary more.
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
N="${N:-500}"
[[ "$N" =~ ^[1-9][0-9]*$ ]] || { echo "N must be a positive integer, not '$N'" >&2; exit 1; }
ROWS=("$@")
if [ ${#ROWS[@]} -eq 0 ]; then
  ROWS=(router/no-auth verifier-cached/rs256 layer-cached/rs256 layer/hs256 verifier/hs256
    layer-rule-equals/hs256 layer-rule-audience/hs256 layer-rule-roles/hs256 layer/rs256
    verifier/rs256 sig-only/rs256 floor/rs256)
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cargo bench --no-run --bench verify >"$WORK/build" 2>&1 || {
  cat "$WORK/build" >&2
  echo "could not build benches/verify.rs" >&2
  exit 1
}
BENCH=$(sed -n 's/.*Executable .*(\(.*\))$/\1/p' "$WORK/build" | tail -n 1)
[ -x "$BENCH" ] || { echo "no bench executable in cargo's output" >&2; exit 1; }

# The instructions valgrind counted for `iters` requests of `row`; fails
# (showing valgrind's and the bench's output) when the run does.
count() { # row iters
  if ! JL_FILTER="$1" JL_PROFILE="$1" JL_ITERS="$2" valgrind --tool=callgrind \
    --callgrind-out-file="$WORK/out" "$BENCH" --bench >"$WORK/log" 2>&1; then
    cat "$WORK/log" >&2
    echo "the run of '$1' failed (is it a row of benches/verify.rs?)" >&2
    return 1
  fi
  sed -n 's/.*Collected : *\([0-9]*\).*/\1/p' "$WORK/log"
}

printf '%-32s %16s\n' row "instructions"
for row in "${ROWS[@]}"; do
  small=$(count "$row" "$N") || exit 1
  large=$(count "$row" $((11 * N))) || exit 1
  [ -n "$small" ] && [ -n "$large" ] || { echo "valgrind printed no count for $row" >&2; exit 1; }
  printf '%-32s %16d\n' "$row" $(((large - small) / (10 * N)))
done

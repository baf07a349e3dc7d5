#!/usr/bin/env bash
# Real-browser check of examples/websocket.rs (scripts/browser/websocket-check.mjs):
# headless Debian Chromium, driven by playwright-core, opens the example's page
# with a token and must round-trip a message over the authenticated socket;
# with JWT_WEBSOCKET_ECHO=off it must refuse the socket. Loopback only.
#
# Usage: scripts/browser-websocket.sh
#   WEBSOCKET_BIN  an already built example (skips `cargo build --example websocket`)
#   CHROMIUM       the browser (default /usr/bin/chromium, installed with apt if missing)
#   OUT_DIR        where the screenshots go (default target/browser-check/)
set -euo pipefail
cd "$(dirname "$0")/.."

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
    if [ "$CHROMIUM" != /usr/bin/chromium ]; then
        echo "CHROMIUM=$CHROMIUM is not an executable" >&2
        exit 1
    fi
    echo "installing Debian's chromium (apt-get)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    [ -x /usr/bin/chromium ] || { echo "apt-get install chromium left no /usr/bin/chromium" >&2; exit 1; }
fi
export CHROMIUM

(cd scripts/browser && npm ci --no-audit --no-fund)

if [ -z "${WEBSOCKET_BIN:-}" ]; then
    cargo build --example websocket
    WEBSOCKET_BIN=target/debug/examples/websocket
fi
export WEBSOCKET_BIN

node scripts/browser/websocket-check.mjs

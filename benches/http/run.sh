#!/usr/bin/env bash
# Measures the engine server's request path with wrk (Debian package `wrk`).
#
#   benches/http/run.sh [ACCOUNTS] [SECONDS]
#
# Builds the release binary, starts `engine serve` on 127.0.0.1:0 (one run per design), and
# runs `wrk -t1 -c64` against GET /api/v11/health and against binary-batch POSTs of
# invalid-but-cheap transfers (see binary_batch.lua for why they are invalid). Only ever
# targets loopback.
set -euo pipefail
cd "$(dirname "$0")/../.."
ACCOUNTS=${1:-1000000}
SECONDS_=${2:-10}
TARGET=${CARGO_TARGET_DIR:-target}
cargo build --release -p engine >&2
BIN="$TARGET/release/engine"

for design in cas single-writer; do
  out=$(mktemp)
  "$BIN" serve --addr 127.0.0.1:0 --accounts "$ACCOUNTS" --design "$design" >"$out" 2>/dev/null &
  pid=$!
  trap 'kill $pid 2>/dev/null || true' EXIT
  for _ in $(seq 100); do [ -s "$out" ] && break; sleep 0.05; done
  url=$(head -1 "$out" | sed 's/^listening on //')
  echo "== design $design at $url"
  echo "-- GET /api/v11/health"
  wrk -t1 -c64 -d"${SECONDS_}s" "$url/api/v11/health"
  echo "-- POST binary batch of 1024 bad-nonce transfers"
  ACCOUNTS=$ACCOUNTS wrk -t1 -c64 -d"${SECONDS_}s" -s benches/http/binary_batch.lua "$url/api/v11/transactions"
  curl -s "$url/api/v11/stats" | head -c 400; echo
  kill -TERM "$pid"; wait "$pid" || true
  trap - EXIT
  rm -f "$out"
done

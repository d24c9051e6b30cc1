#!/usr/bin/env bash
# Our HTTPS client against wrk's (OpenSSL) on the same TLS endpoint: CPU per request.
#
#   [ROUNDS=3] benches/loadgen/https.sh [SECONDS] [CONNECTIONS]
#
# Builds the release engine and harness, starts `engine serve --tls-cert/--tls-key` with the
# example certificate in scenarios/tls/ on 127.0.0.1:0, and drives GET /api/v11/health for
# SECONDS (default 10) with CONNECTIONS (default 64) connections, in two modes: keep-alive, and a
# new connection (and TLS handshake) per request (harness `connection = "close"`, wrk
# `-H "Connection: close"`). Each generator runs with one thread and with two, ours with
# HARNESS_HTTP_THREADS=T against `wrk -tT`: like against like, since one thread costs less CPU per
# request than two here (a single event loop wakes for more ready connections per poll; measured
# 2026-11-30, 2-core VM: ours 5.7-6.5 CPU-s/1M on one thread, 7.2-7.4 on two). Generators
# alternate within each round; the table gives medians of ROUNDS rounds: req/s, CPU-seconds
# (user+sys) of the generator per million requests, peak RSS. oha has no thread setting (a
# multi-threaded tokio runtime, one thread per core) and is listed once.
# The harness resumes TLS sessions on reconnection (its default); wrk (OpenSSL) does too.
# oha is measured when installed (`cargo install oha --locked`).
#
# Only ever targets loopback. Needs jq and wrk (Debian package `wrk`).
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${1:-10}
CONNS=${2:-64}
ROUNDS=${ROUNDS:-3}
TARGET=${CARGO_TARGET_DIR:-target}
cargo build --release -p engine --bin engine >&2
cargo build --release -p harness --bin harness >&2
ENGINE="$TARGET/release/engine"
HARNESS="$TARGET/release/harness"

work=$(mktemp -d)
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

. benches/serve.sh
serve "$ENGINE" 100000 "$work/engine.out" --tls-cert scenarios/tls/server.pem \
  --tls-key scenarios/tls/server.key
echo "engine (pid $pid) at $url; ${SECS}s per generator, $CONNS connections" >&2

: >"$work/runs"
record() {
  read -r wall user sys maxkb <"$3"
  awk -v n="$1" -v r="$2" -v w="$wall" -v u="$user" -v s="$sys" -v m="$maxkb" 'BEGIN {
    printf "%s\t%.0f\t%.2f\t%.1f\n", n, r / w, (u + s) / r * 1e6, m / 1024 }' >>"$work/runs"
  tail -1 "$work/runs" | awk -F'\t' '{ printf "  %-28s %9s req/s  %6s CPU-s/1M\n", $1, $2, $3 }' >&2
}

harness_run() { # MODE (keep-alive | close) THREADS
  cat >"$work/h.toml" <<TOML
[scenario]
name = "https-compare"
[target]
kind = "http"
url = "$url"
[http]
timeout = "5s"
connection = "$1"
[http.tls]
ca_file = "$PWD/scenarios/tls/ca.pem"
server_name = "localhost"
[[requests]]
name = "health"
path = "/api/v11/health"
expect_status = [200]
[[stages]]
name = "steady"
duration = "${SECS}s"
workers = $CONNS
TOML
  rm -rf "$work/out"
  HARNESS_HTTP_THREADS=$2 /usr/bin/time -f '%e %U %S %M' -o "$work/time" \
    "$HARNESS" run "$work/h.toml" --quiet --no-reports --out "$work/out" >/dev/null || true
  res="$work/out/https-compare/latest/results.json"
  errs=$(jq '.summary.errors' "$res")
  [ "$errs" = "0" ] || echo "warning: harness saw $errs errors" >&2
  record "harness -t$2, $1" "$(jq '.summary.ops' "$res")" "$work/time"
}

wrk_run() { # MODE THREADS
  local extra=()
  [ "$1" = close ] && extra=(-H "Connection: close")
  /usr/bin/time -f '%e %U %S %M' -o "$work/time" \
    wrk -t"$2" -c"$CONNS" -d"${SECS}s" "${extra[@]}" "$url/api/v11/health" >"$work/wrk.out"
  record "wrk -t$2, $1" "$(awk '/requests in/ {print $1}' "$work/wrk.out")" "$work/time"
}

oha_run() { # MODE
  command -v oha >/dev/null || return 0
  local extra=()
  [ "$1" = close ] && extra=(--disable-keepalive)
  /usr/bin/time -f '%e %U %S %M' -o "$work/time" \
    oha --no-tui --insecure --output-format json -c "$CONNS" -z "${SECS}s" "${extra[@]}" \
    "$url/api/v11/health" >"$work/oha.json"
  record "oha, $1" "$(jq '[.statusCodeDistribution[]] | add' "$work/oha.json")" "$work/time"
}

for round in $(seq "$ROUNDS"); do
  echo "round $round/$ROUNDS" >&2
  for mode in keep-alive close; do
    for threads in 1 2; do
      harness_run "$mode" "$threads"
      wrk_run "$mode" "$threads"
    done
    oha_run "$mode"
  done
done

echo
echo "Medians of $ROUNDS rounds, ${SECS}s each, $CONNS connections, HTTPS GET /api/v11/health:"
echo "| generator, mode              |      req/s | CPU-s/1M | RSS MiB |"
echo "|------------------------------|------------|----------|---------|"
cut -f1 "$work/runs" | awk '!seen[$0]++' | while read -r name; do
  med() { grep -F "$name"$'\t' "$work/runs" | cut -f"$1" | median; }
  printf "| %-28s | %10.0f | %8.2f | %7.1f |\n" "$name" "$(med 2)" "$(med 3)" "$(med 4)"
done
echo "(req/s = requests / wall time of the generator process, start-up included)"

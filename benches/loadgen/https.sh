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
. benches/serve.sh
build_release
bench_workdir
serve "$ENGINE" 100000 "$work/engine.out" --tls-cert scenarios/tls/server.pem \
  --tls-key scenarios/tls/server.key
echo "engine (pid $pid) at $url; ${SECS}s per generator, $CONNS connections" >&2

: >"$work/runs"

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
  HARNESS_HTTP_THREADS=$2 run_harness "$work/h.toml" https-compare
  errs=$(jq '.summary.errors' "$res")
  [ "$errs" = "0" ] || echo "warning: harness saw $errs errors" >&2
  record "harness -t$2, $1" "$(jq '.summary.ops' "$res")" 28
}

wrk_run() { # MODE THREADS
  local extra=()
  [ "$1" = close ] && extra=(-H "Connection: close")
  timed wrk -t"$2" -c"$CONNS" -d"${SECS}s" "${extra[@]}" "$url/api/v11/health" >"$work/wrk.out"
  record "wrk -t$2, $1" "$(awk '/requests in/ {print $1}' "$work/wrk.out")" 28
}

oha_run() { # MODE
  command -v oha >/dev/null || return 0
  local extra=()
  [ "$1" = close ] && extra=(--disable-keepalive)
  timed oha --no-tui --insecure --output-format json -c "$CONNS" -z "${SECS}s" "${extra[@]}" \
    "$url/api/v11/health" >"$work/oha.json"
  record "oha, $1" "$(jq '[.statusCodeDistribution[]] | add' "$work/oha.json")" 28
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
  printf "| %-28s | %10.0f | %8.2f | %7.1f |\n" "$name" "$(med "$name" 2)" "$(med "$name" 3)" "$(med "$name" 6)"
done
echo "(req/s = requests / wall time of the generator process, start-up included)"

#!/usr/bin/env bash
# HTTP/1.1 pipelining: requests per CPU-second of the harness, pipelined against not.
#
#   [ROUNDS=5] [SECS=10] [CONNS=64] [DEPTHS="1 16"] [ENGINE=path] benches/pipeline.sh
#
# Builds the release engine and harness, starts one `engine serve` on 127.0.0.1:0 and drives
# GET /api/v11/health for SECS seconds with CONNS closed-model workers (keep-alive connections,
# the builtin client) once per pipeline depth in DEPTHS (1 = not pipelined: our ordinary
# client), alternating the depths ROUNDS times so the shared machine's drift falls on all of
# them alike. Each run is under /usr/bin/time: the figure is requests per CPU-second of the
# harness process (requests / (user + system time)); also req/s, CPU-s per million requests
# and its user and kernel shares. Prints per-depth medians and each depth's ratio to the first
# depth's (the issue's goal: depth 16 >= 3x depth 1 in requests per CPU-second). ENGINE
# points at another `engine` binary (default: the release build), e.g. an older one to see
# what the server's handling of pipelined answers does to the client's cost.
#
# The references, each round beside ours: `wrk -t1` over the same CONNS connections (not
# pipelined; Debian package `wrk`), and, over HTTP/2 in the clear, the harness (`http2 = true`,
# H2_CONNS connections, default 4, CONNS workers multiplexed on them: 16 streams each) against
# `h2load -t1 -c H2_CONNS -m CONNS/H2_CONNS` (Debian package `nghttp2-client`). A reference
# that is not installed is skipped. The table gives each row's requests per CPU-second over
# wrk's (the issue's goal: pipelined or HTTP/2 >= 3x wrk) and, for HTTP/2, ours over h2load's
# CPU per request (goal: <= 1).
#
# Only ever targets loopback. Needs jq.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
SECS=${SECS:-10}
CONNS=${CONNS:-64}
DEPTHS=${DEPTHS:-"1 16"}
H2_CONNS=${H2_CONNS:-4}
given_engine=${ENGINE:-} # ENGINE=path from the caller wins over the release build (see above)
. benches/serve.sh
build_release
ENGINE=${given_engine:-$ENGINE}
bench_workdir
serve "$ENGINE" 100000 "$work/engine.out"
echo "engine (pid $pid) at $url; ${SECS}s per run, $CONNS connections, depths $DEPTHS" >&2

# Prints the last recorded run of round $1.
show_last() {
  tail -1 "$work/runs" | awk -F'\t' -v r="$1" '{
    printf "round %s %-16s %9s req/CPU-s %9s req/s %6s CPU-s/1M\n", r, $1, $7, $2, $3 }' >&2
}

# One run of each installed reference generator (round $1): wrk, and ours and h2load over HTTP/2.
references() {
  if command -v wrk >/dev/null; then
    timed wrk -t1 -c"$CONNS" -d"${SECS}s" "$url/api/v11/health" >"$work/wrk.out"
    record "wrk -t1" "$(awk '/requests in/ {print $1}' "$work/wrk.out")"
    show_last "$1"
  fi
  command -v h2load >/dev/null || return 0
  sed -e "s/^pipeline = .*/http2 = true\nconnections = $H2_CONNS/" "$work/p.toml" >"$work/h2.toml"
  run_harness "$work/h2.toml" pipeline-bench
  record "harness h2" "$(jq '[.stages[].ops] | add' "$res")"
  show_last "$1"
  timed h2load -t1 -c"$H2_CONNS" -m$((CONNS / H2_CONNS)) -D"$SECS" "$url/api/v11/health" >"$work/h2load.out"
  record h2load "$(awk '/^requests:/ {print $8}' "$work/h2load.out")"
  show_last "$1"
}

: >"$work/runs"
for round in $(seq "$ROUNDS"); do
  for depth in $DEPTHS; do
    cat >"$work/p.toml" <<EOF
[scenario]
name = "pipeline-bench"
[target]
kind = "http"
url = "$url"
[http]
timeout = "5s"
pipeline = $depth
[[requests]]
name = "health"
method = "GET"
path = "/api/v11/health"
expect_status = [200]
[[stages]]
name = "steady"
duration = "${SECS}s"
workers = $CONNS
EOF
    run_harness "$work/p.toml" pipeline-bench
    ops=$(jq '[.stages[].ops] | add' "$res")
    errs=$(jq '[.stages[].errors] | add' "$res")
    [ "$errs" = "0" ] || echo "warning: depth $depth saw $errs errors" >&2
    record "$depth" "$ops"
    show_last "$round"
  done
  references "$round"
done

first=${DEPTHS%% *}
unit=$first
grep -q "^wrk -t1	" "$work/runs" && unit="wrk -t1"
echo
echo "Medians of $ROUNDS alternating rounds, ${SECS}s each, $CONNS connections, GET /api/v11/health, $(nproc) cores:"
echo "| generator (depth)      | req per CPU-s | vs $unit |      req/s | CPU-s/1M |  user/1M |   sys/1M | RSS MiB |"
echo "|------------------------|---------------|------------|------------|----------|----------|----------|---------|"
cut -f1 "$work/runs" | awk '!seen[$0]++' | while read -r name; do
  printf "| %-22s | %13.0f | %9.2fx | %10.0f | %8.2f | %8.2f | %8.2f | %7.1f |\n" "$name" "$(med "$name" 7)" \
    "$(awk -v a="$(med "$name" 7)" -v b="$(med "$unit" 7)" 'BEGIN { print a / b }')" \
    "$(med "$name" 2)" "$(med "$name" 3)" "$(med "$name" 4)" "$(med "$name" 5)" "$(med "$name" 6)"
done
echo "(CPU = user + system time of the generator process, start-up included; req/s = requests / its wall time)"
if grep -q "^h2load	" "$work/runs"; then
  awk -v a="$(med "harness h2" 3)" -v b="$(med h2load 3)" \
    'BEGIN { printf "HTTP/2: the harness costs %.2fx h2load'"'"'s CPU per request\n", a / b }'
fi

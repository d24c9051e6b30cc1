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
# Only ever targets loopback. Needs jq.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
SECS=${SECS:-10}
CONNS=${CONNS:-64}
DEPTHS=${DEPTHS:-"1 16"}
given_engine=${ENGINE:-} # ENGINE=path from the caller wins over the release build (see above)
. benches/serve.sh
build_release
ENGINE=${given_engine:-$ENGINE}
bench_workdir
serve "$ENGINE" 100000 "$work/engine.out"
echo "engine (pid $pid) at $url; ${SECS}s per run, $CONNS connections, depths $DEPTHS" >&2

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
    tail -1 "$work/runs" | awk -F'\t' -v r="$round" '{
      printf "round %s depth %-3s %9s req/CPU-s %9s req/s %6s CPU-s/1M\n", r, $1, $7, $2, $3 }' >&2
  done
done

first=${DEPTHS%% *}
echo
echo "Medians of $ROUNDS alternating rounds, ${SECS}s each, $CONNS connections, GET /api/v11/health, $(nproc) cores:"
echo "| depth | req per CPU-s | vs depth $first |      req/s | CPU-s/1M |  user/1M |   sys/1M |"
echo "|-------|---------------|------------|------------|----------|----------|----------|"
for depth in $DEPTHS; do
  printf "| %5s | %13.0f | %9.2fx | %10.0f | %8.2f | %8.2f | %8.2f |\n" "$depth" "$(med "$depth" 7)" \
    "$(awk -v a="$(med "$depth" 7)" -v b="$(med "$first" 7)" 'BEGIN { print a / b }')" \
    "$(med "$depth" 2)" "$(med "$depth" 3)" "$(med "$depth" 4)" "$(med "$depth" 5)"
done
echo "(CPU = user + system time of the harness process, start-up included; req/s = requests / its wall time)"

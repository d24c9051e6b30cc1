#!/usr/bin/env bash
# Our HTTP load generator against wrk (and oha when installed), on the same endpoint.
#
#   [ROUNDS=3] [CONFIGS="builtin:1 builtin:2 hyper:1"] [TARGET=engine|nginx] [PIN=0|1] \
#     benches/loadgen/compare.sh [SECONDS] [CONNECTIONS]
#
# Builds the release engine and harness, starts `engine serve` on 127.0.0.1:0, and drives
# GET /api/v11/health for SECONDS (default 10) with CONNECTIONS (default 64) keep-alive
# connections from each generator in turn: the harness (closed model, one worker per
# connection; once per CLIENT:THREADS pair in CONFIGS: `[http] client` = builtin (ours) or hyper,
# and HARNESS_HTTP_THREADS), `wrk -t1`
# (Debian package `wrk`) and `oha` (`cargo install oha --locked`; skipped when absent).
# Each generator runs under /usr/bin/time: req/s, CPU-seconds (user+sys) per million requests
# (and its user and kernel shares) and peak RSS are printed as one table. Then it measures committed tx/s through
# POST /api/v11/transactions with binary batches of 1024 (scenarios/http-transactions.toml,
# spawned release engine, DURATION_SCALE default 0.25, i.e. about 17 s).
#
# TARGET=nginx drives a server nobody here wrote instead: nginx (Debian package `nginx-light`
# or `nginx`), one worker process, serving a 1.4 KB static file (GET /page.html; kilobyte
# answers mean more parsing and copying per request than the engine's 40-byte health answer),
# and skips the transactions part. PIN=1 puts the server on CPU 0 and every generator on CPU 1
# (taskset), so what a generator costs is not mixed up with how the scheduler shares the cores.
#
# Only ever targets loopback. Needs jq.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${1:-10}
CONNS=${2:-64}
CONFIGS=${CONFIGS:-"builtin:1 builtin:2 hyper:1"}
DURATION_SCALE=${DURATION_SCALE:-0.25}
TARGET=${TARGET:-engine}
PIN=${PIN:-0}
. benches/serve.sh
build_release
bench_workdir
server_cpu=() gen_cpu=()
if [ "$PIN" = 1 ]; then server_cpu=(taskset -c 0) gen_cpu=(taskset -c 1); fi
case $TARGET in
  engine)
    # Pinned to one core, one worker thread (two would take turns on it).
    if [ "$PIN" = 1 ]; then
      SERVE_WITH="taskset -c 0" serve "$ENGINE" 100000 "$work/engine.out" --workers 1
    else
      serve "$ENGINE" 100000 "$work/engine.out"
    fi
    path=/api/v11/health
    ;;
  nginx)
    serve_nginx "$work" "${server_cpu[@]}"
    path=/page.html
    ;;
  *) echo "TARGET is engine or nginx, not $TARGET" >&2; exit 2 ;;
esac
echo "$TARGET (pid $pid) at $url$path; ${SECS}s per generator, $CONNS connections, pinned: $PIN" >&2

# Each generator runs ROUNDS times (default 3), alternating with the others, and the table gives
# per-generator medians: absolute figures drift by 10-20 % between runs on a shared machine.
ROUNDS=${ROUNDS:-3}
: >"$work/runs"

for round in $(seq "$ROUNDS"); do
  echo "round $round/$ROUNDS" >&2
  for config in $CONFIGS; do
    client=${config%%:*}
    t=${config#*:}
    cat >"$work/h.toml" <<EOF
[scenario]
name = "loadgen-compare"
[target]
kind = "http"
url = "$url"
[workload]
accounts = 100000
[http]
timeout = "5s"
client = "$client"
[[requests]]
name = "get"
method = "GET"
path = "$path"
expect_status = [200]
[[stages]]
name = "steady"
duration = "${SECS}s"
workers = $CONNS
EOF
    HARNESS_HTTP_THREADS=$t run_harness "$work/h.toml" loadgen-compare "${gen_cpu[@]}"
    errs=$(jq '.summary.errors' "$res")
    [ "$errs" = "0" ] || echo "warning: harness saw $errs errors" >&2
    record "harness $client, ${t}t" "$(jq '.summary.ops' "$res")" 20
  done

  timed "${gen_cpu[@]}" wrk -t1 -c"$CONNS" -d"${SECS}s" "$url$path" >"$work/wrk.out"
  record "wrk -t1" "$(awk '/requests in/ {print $1}' "$work/wrk.out")" 20

  if command -v oha >/dev/null; then
    timed "${gen_cpu[@]}" oha --no-tui --output-format json -c "$CONNS" -z "${SECS}s" "$url$path" >"$work/oha.json"
    record "oha" "$(jq '[.statusCodeDistribution[]] | add' "$work/oha.json")" 20
  elif [ "$round" = 1 ]; then
    echo "oha not installed (cargo install oha --locked): skipped" >&2
  fi
done

echo
echo "Medians of $ROUNDS rounds, ${SECS}s each, $CONNS connections, GET $path from $TARGET, pinned: $PIN:"
echo "| generator              |      req/s | CPU-s/1M |  user/1M |   sys/1M | RSS MiB |"
echo "|------------------------|------------|----------|----------|----------|---------|"
cut -f1 "$work/runs" | awk '!seen[$0]++' | while read -r name; do
  printf "| %-22s | %10.0f | %8.2f | %8.2f | %8.2f | %7.1f |\n" "$name" "$(med "$name" 2)" \
    "$(med "$name" 3)" "$(med "$name" 4)" "$(med "$name" 5)" "$(med "$name" 6)"
done
echo "(req/s = requests / wall time of the generator process, start-up included)"

# wrk as the unit: each generator's CPU per request over wrk's.
w=$(med "wrk -t1" 3)
cut -f1 "$work/runs" | awk '!seen[$0]++' | while read -r name; do
  awk -v n="$name" -v a="$(med "$name" 3)" -v w="$w" 'BEGIN { printf "%s: %.2fx wrk'"'"'s CPU per request\n", n, a / w }'
done

kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
pid=
[ "$TARGET" = engine ] || exit 0

echo
echo "committed tx/s, POST /api/v11/transactions, binary batches of 1024 (http-transactions.toml x $DURATION_SCALE):"
"$HARNESS" run scenarios/http-transactions.toml --quiet --no-reports --duration-scale "$DURATION_SCALE" \
  --out "$work/tx" >/dev/null || true
res=$(ls "$work/tx"/http-transactions/*/results.json | head -1)
jq -c '{verdict: .verdict.status, committed_tps: .summary.committed_tps, ops_per_s: .summary.ops_per_s,
        errors: .summary.errors_by_kind, p50_us: .summary.latency_us.p50, p99_us: .summary.latency_us.p99,
        audit_ok: .audit.ok}' "$res"
jq -r '.driver.notes[]' "$res"

#!/usr/bin/env bash
# Our HTTP load generator against wrk (and oha when installed), on the same endpoint.
#
#   [ROUNDS=3] [CONFIGS="builtin:1 builtin:2 hyper:1"] benches/loadgen/compare.sh [SECONDS] [CONNECTIONS]
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
# Only ever targets loopback. Needs jq.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${1:-10}
CONNS=${2:-64}
CONFIGS=${CONFIGS:-"builtin:1 builtin:2 hyper:1"}
DURATION_SCALE=${DURATION_SCALE:-0.25}
TARGET=${CARGO_TARGET_DIR:-target}
cargo build --release -p engine --bin engine >&2
cargo build --release -p harness --bin harness >&2
ENGINE="$TARGET/release/engine"
HARNESS="$TARGET/release/harness"

work=$(mktemp -d)
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

. benches/serve.sh
serve "$ENGINE" 100000 "$work/engine.out"
echo "engine (pid $pid) at $url; ${SECS}s per generator, $CONNS connections" >&2

# Each generator runs ROUNDS times (default 3), alternating with the others, and the table gives
# per-generator medians: absolute figures drift by 10-20 % between runs on a shared machine.
ROUNDS=${ROUNDS:-3}
: >"$work/runs"
# record NAME REQUESTS TIMEFILE: one line "name req/s CPU-s/1M user/1M sys/1M RSS-MiB" per run.
record() {
  read -r wall user sys maxkb <"$3"
  awk -v n="$1" -v r="$2" -v w="$wall" -v u="$user" -v s="$sys" -v m="$maxkb" 'BEGIN {
    printf "%s\t%.0f\t%.2f\t%.2f\t%.2f\t%.1f\n", n, r / w, (u + s) / r * 1e6, u / r * 1e6, s / r * 1e6, m / 1024 }' \
    >>"$work/runs"
  tail -1 "$work/runs" | awk -F'\t' '{ printf "  %-20s %9s req/s  %6s CPU-s/1M\n", $1, $2, $3 }' >&2
}

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
name = "health"
method = "GET"
path = "/api/v11/health"
expect_status = [200]
[[stages]]
name = "steady"
duration = "${SECS}s"
workers = $CONNS
EOF
    rm -rf "$work/out"
    HARNESS_HTTP_THREADS=$t /usr/bin/time -f '%e %U %S %M' -o "$work/time" \
      "$HARNESS" run "$work/h.toml" --quiet --no-reports --out "$work/out" >/dev/null || true
    res="$work/out/loadgen-compare/latest/results.json"
    errs=$(jq '.summary.errors' "$res")
    [ "$errs" = "0" ] || echo "warning: harness saw $errs errors" >&2
    record "harness $client, ${t}t" "$(jq '.summary.ops' "$res")" "$work/time"
  done

  /usr/bin/time -f '%e %U %S %M' -o "$work/time" \
    wrk -t1 -c"$CONNS" -d"${SECS}s" "$url/api/v11/health" >"$work/wrk.out"
  record "wrk -t1" "$(awk '/requests in/ {print $1}' "$work/wrk.out")" "$work/time"

  if command -v oha >/dev/null; then
    /usr/bin/time -f '%e %U %S %M' -o "$work/time" \
      oha --no-tui --output-format json -c "$CONNS" -z "${SECS}s" "$url/api/v11/health" >"$work/oha.json"
    record "oha" "$(jq '[.statusCodeDistribution[]] | add' "$work/oha.json")" "$work/time"
  elif [ "$round" = 1 ]; then
    echo "oha not installed (cargo install oha --locked): skipped" >&2
  fi
done

echo
echo "Medians of $ROUNDS rounds, ${SECS}s each, $CONNS connections, GET /api/v11/health:"
echo "| generator              |      req/s | CPU-s/1M |  user/1M |   sys/1M | RSS MiB |"
echo "|------------------------|------------|----------|----------|----------|---------|"
cut -f1 "$work/runs" | awk '!seen[$0]++' | while read -r name; do
  med() { grep -F "$name"$'\t' "$work/runs" | cut -f"$1" | median; }
  printf "| %-22s | %10.0f | %8.2f | %8.2f | %8.2f | %7.1f |\n" "$name" "$(med 2)" "$(med 3)" "$(med 4)" "$(med 5)" "$(med 6)"
done
echo "(req/s = requests / wall time of the generator process, start-up included)"

kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
pid=

echo
echo "committed tx/s, POST /api/v11/transactions, binary batches of 1024 (http-transactions.toml x $DURATION_SCALE):"
"$HARNESS" run scenarios/http-transactions.toml --quiet --no-reports --duration-scale "$DURATION_SCALE" \
  --out "$work/tx" >/dev/null || true
res=$(ls "$work/tx"/http-transactions/*/results.json | head -1)
jq -c '{verdict: .verdict.status, committed_tps: .summary.committed_tps, ops_per_s: .summary.ops_per_s,
        errors: .summary.errors_by_kind, p50_us: .summary.latency_us.p50, p99_us: .summary.latency_us.p99,
        audit_ok: .audit.ok}' "$res"
jq -r '.driver.notes[]' "$res"

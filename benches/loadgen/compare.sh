#!/usr/bin/env bash
# Our HTTP load generator against wrk (and oha when installed), on the same endpoint.
#
#   benches/loadgen/compare.sh [SECONDS] [CONNECTIONS]
#
# Builds the release engine and harness, starts `engine serve` on 127.0.0.1:0, and drives
# GET /api/v11/health for SECONDS (default 10) with CONNECTIONS (default 64) keep-alive
# connections from each generator in turn: the harness (closed model, one worker per
# connection; once per HARNESS_HTTP_THREADS setting in THREADS, default "1 2"), `wrk -t1`
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
THREADS=${THREADS:-"1 2"}
DURATION_SCALE=${DURATION_SCALE:-0.25}
TARGET=${CARGO_TARGET_DIR:-target}
cargo build --release -p engine --bin engine >&2
cargo build --release -p harness --bin harness >&2
ENGINE="$TARGET/release/engine"
HARNESS="$TARGET/release/harness"

work=$(mktemp -d)
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

"$ENGINE" serve --addr 127.0.0.1:0 --accounts 100000 >"$work/engine.out" 2>/dev/null &
pid=$!
for _ in $(seq 200); do [ -s "$work/engine.out" ] && break; sleep 0.05; done
url=$(head -1 "$work/engine.out" | sed 's/^listening on //')
echo "engine (pid $pid) at $url; ${SECS}s per generator, $CONNS connections" >&2

rows=()
# row NAME REQUESTS TIMEFILE: "%e %U %S %M" from /usr/bin/time.
row() {
  read -r wall user sys maxkb <"$3"
  rows+=("$(awk -v n="$1" -v r="$2" -v w="$wall" -v u="$user" -v s="$sys" -v m="$maxkb" 'BEGIN {
    printf "| %-22s | %9.0f | %10.0f | %6.2f | %8.2f | %8.2f | %8.2f | %7.1f |", n, r, r / w, u + s, (u + s) / r * 1e6, u / r * 1e6, s / r * 1e6, m / 1024 }')")
}

for t in $THREADS; do
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
  HARNESS_HTTP_THREADS=$t /usr/bin/time -f '%e %U %S %M' -o "$work/time" \
    "$HARNESS" run "$work/h.toml" --quiet --no-reports --out "$work/out-$t" >/dev/null || true
  res=$(ls "$work/out-$t"/loadgen-compare/*/results.json | head -1)
  ops=$(jq '.summary.ops' "$res")
  errs=$(jq '.summary.errors' "$res")
  echo "harness threads=$t: $(jq -c '.summary | {ops_per_s, errors, latency_us: {p50: .latency_us.p50, p99: .latency_us.p99}}' "$res")" >&2
  [ "$errs" = "0" ] || echo "warning: harness saw $errs errors" >&2
  row "harness (threads=$t)" "$ops" "$work/time"
done

/usr/bin/time -f '%e %U %S %M' -o "$work/time" \
  wrk -t1 -c"$CONNS" -d"${SECS}s" "$url/api/v11/health" >"$work/wrk.out"
reqs=$(awk '/requests in/ {print $1}' "$work/wrk.out")
grep -E "Latency|Requests/sec|errors" "$work/wrk.out" >&2 || true
row "wrk -t1" "$reqs" "$work/time"

if command -v oha >/dev/null; then
  /usr/bin/time -f '%e %U %S %M' -o "$work/time" \
    oha --no-tui --output-format json -c "$CONNS" -z "${SECS}s" "$url/api/v11/health" >"$work/oha.json"
  reqs=$(jq '[.statusCodeDistribution[]] | add' "$work/oha.json")
  row "oha" "$reqs" "$work/time"
else
  echo "oha not installed (cargo install oha --locked): skipped" >&2
fi

echo
echo "| generator              |  requests |      req/s |  CPU-s | CPU-s/1M |  user/1M |   sys/1M | RSS MiB |"
echo "|------------------------|-----------|------------|--------|----------|----------|----------|---------|"
printf '%s\n' "${rows[@]}"
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

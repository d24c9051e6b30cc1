#!/usr/bin/env bash
# Where the time goes when transactions travel over HTTP: perf profiles of the engine server and
# of the harness (our load generator) during one open-model run, side by side.
#
#   bash benches/http/profile.sh [TPS] [SECONDS] [BATCH] [CONNECTIONS]
#   (defaults: 8.51M/s, 20 s, 1024 transfers per request, 64 connections)
#
# Starts a release `engine serve` on 127.0.0.1:0 with 1M accounts, drives
# POST /api/v11/transactions with binary batches at TPS (open model, 3 s warm-up), records both
# processes with `perf record` (Debian package linux-perf; needs perf_event access), and prints
# each process's CPU by binary/kernel and its top functions by self time, plus the run's summary
# (committed tx/s, p50/p99, CPU of each process). Output under ${CARGO_TARGET_DIR:-target}/http-profile/.
# Only ever targets loopback.
set -euo pipefail
cd "$(dirname "$0")/../.."
TPS=${1:-8.51M/s}
SECS=${2:-20}
BATCH=${3:-1024}
CONNS=${4:-64}
target=${CARGO_TARGET_DIR:-target}
out=$target/http-profile
mkdir -p "$out"
cargo build --release -p engine --bin engine -p harness >&2
. benches/serve.sh
serve "$target/release/engine" 1000000 "$out/engine.out"
trap 'kill $pid 2>/dev/null || true' EXIT
cat >"$out/scenario.toml" <<TOML
[scenario]
name = "http-profile"
[target]
kind = "http"
url = "$url"
[workload]
accounts = 1_000_000
initial_balance = 1_000_000_000
batch_size = $BATCH
[http]
timeout = "5s"
connections = $CONNS
[[requests]]
name = "transactions"
method = "POST"
path = "/api/v11/transactions"
headers = { content-type = "application/octet-stream" }
body = "binary-batch"
expect_status = [200, 202]
[[stages]]
name = "warmup"
duration = "3s"
tps = "$TPS"
warmup = true
[[stages]]
name = "steady"
duration = "${SECS}s"
tps = "$TPS"
TOML
# CPU-seconds of a process so far (utime + stime from /proc, in clock ticks).
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"; }
engine_cpu0=$(cpu_s "$pid")
perf record -F 499 -o "$out/engine.perf" -p "$pid" -- sleep $((SECS + 3)) 2>/dev/null &
perfpid=$!
perf record -F 499 -o "$out/harness.perf" -- \
  "$target/release/harness" run "$out/scenario.toml" --quiet --no-reports --out "$out/reports" |
  grep -E "Steady|Audit|results:"
wait "$perfpid" || true
engine_cpu=$(awk -v a="$engine_cpu0" -v b="$(cpu_s "$pid")" 'BEGIN { print b - a }')
res=$(ls -t "$out"/reports/http-profile/*/results.json | head -1)
jq -r --arg ecpu "$engine_cpu" '"committed \(.summary.committed_tps / 1e6 | . * 100 | round / 100)M tx/s, \(.summary.ops_per_s | round) req/s, p50 \(.summary.latency_us.p50) us, p99 \(.summary.latency_us.p99) us; CPU-seconds over the run: engine \($ecpu), harness \(.resources.harness.cpu_seconds // "n/a")"' "$res" || true
for who in engine harness; do
  echo
  echo "== $who: CPU by binary"
  perf report -i "$out/$who.perf" --no-children --sort dso --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -6 || true
  echo "== $who: top functions by self time"
  perf report -i "$out/$who.perf" --no-children --sort dso,symbol --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -25 || true
done

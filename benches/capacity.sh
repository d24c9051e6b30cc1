#!/usr/bin/env bash
# The engine server's capacity over loopback HTTP at p99 <= 5 ms: the capacity search of
# scenarios/http-capacity.toml against a linear ramp over the same range (2M -> 64M tx/s,
# binary batches of 1,024), each on a freshly spawned `engine serve`.
#
#   [SCALE=1] [RAMP=2m] [NICE=10] benches/capacity.sh
#
# On one machine the server and the generator share the cores: a server driven past its
# capacity takes the cores the generator needs, the generator falls behind its schedule and
# the probe is invalid (the dispatch rule), which ends the search without an answer. Real
# tests put them on different machines; here the spawned server runs under `nice -n NICE`
# (default 10, 0 to turn off) so the generator keeps its schedule and the server gets what
# the generator leaves, which is what the figures then say.
#
# SCALE is passed as --duration-scale to the search (0.25: 5 s probes, 15 s confirmation).
# RAMP is the ramp's length (the ramp's answer depends on it: a faster ramp carries the queue
# built at one rate into the next). Prints, for each: the answer (capacity and bracket for
# the search; highest rate met and first broken for the ramp), probes or intervals judged, and
# wall time, read from each run's results.json. Only ever targets loopback. Needs jq.
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE=${SCALE:-1}
RAMP=${RAMP:-2m}
TARGET=${CARGO_TARGET_DIR:-target}
cargo build --release -p engine --bin engine >&2
cargo build --release -p harness --bin harness >&2
HARNESS="$TARGET/release/harness"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

NICE=${NICE:-10}
engine="$(realpath "$TARGET/release/engine")"
# The search: the shipped scenario, its server niced.
sed "s|^command = \[\"engine\",|command = [\"nice\", \"-n\", \"$NICE\", \"$engine\",|" \
  scenarios/http-capacity.toml >"$work/http-capacity.toml"
# The ramp: the same, its [capacity] replaced by a ramp over the same range.
sed -n '1,/^\[capacity\]/p' "$work/http-capacity.toml" | sed '$d' | sed 's/^name = .*/name = "http-capacity-ramp"/' >"$work/ramp.toml"
cat >>"$work/ramp.toml" <<TOML
[[stages]]
name = "ramp"
duration = "$RAMP"
tps = { from = "2M/s", to = "64M/s" }

[capacity]
mode = "ramp"
percentile = 99.0
max_latency = "5ms"
stop_on_break = true
TOML

start=$(date +%s.%N)
"$HARNESS" run "$work/http-capacity.toml" --duration-scale "$SCALE" --quiet --no-reports --out "$work/out" || true
mid=$(date +%s.%N)
"$HARNESS" run "$work/ramp.toml" --quiet --no-reports --out "$work/out" || true
end=$(date +%s.%N)

s="$work/out/http-capacity/latest/results.json"
r="$work/out/http-capacity-ramp/latest/results.json"
echo
echo "| method | answer (tx/s at p99 <= 5 ms) | bracket good / bad | probes or intervals | wall s | verdict |"
echo "|---|---|---|---|---|---|"
jq -r --arg wall "$(echo "$mid - $start" | bc)" '.capacity as $c | "| search | \($c.search.capacity // "none") | \($c.max_rate_met // "none") / \($c.first_rate_broken // "none") | \($c.search.probes | length) probes (\($c.search.ended)) | \($wall | tonumber | floor) | \(.verdict.status) |"' "$s"
jq -r --arg wall "$(echo "$end - $mid" | bc)" '.capacity as $c | "| ramp \(.scenario.stages_planned[1].duration_s) s | \($c.max_rate_met // "none") | \($c.max_rate_met // "none") / \($c.first_rate_broken // "none") | \([.intervals[] | select(.stage == 1)] | length) intervals | \($wall | tonumber | floor) | \(.verdict.status) |"' "$r"
echo
echo "search probes:"
jq -r '.capacity.search.probes[] | "  #\(.index) \(.phase) offered \(.offered) achieved \(.achieved | floor) p99 \(.slo_latency_us | floor) us target cpu \(.target_cpu_pct) % harness cpu \(.harness_cpu_pct) % -> \(.outcome): \(.why)"' "$s"

#!/usr/bin/env bash
# The gate's evidence table (baselines/README.md): how often each gate metric flags a regression
# when the engine is made slower on purpose by `workload.synthetic_cost` (engine::synthetic_work,
# one dependent add per unit per committed transfer) or by `workload.prefetch = false`.
#
#   benches/gate-evidence.sh instructions [CLEAN] [SLOWED]   # the instruction count (~3 s a run)
#   benches/gate-evidence.sh time [CLEAN] [SLOWED] [REPEAT]  # the timed gate (~REPEAT x 3.3 s a run)
#
# CLEAN runs with nothing injected (default 20), SLOWED runs per slowdown level (default 10).
# Each run is one gate verdict exactly as CI would give it: `harness run` of a copy of the
# gate scenario against the committed baseline (`--allow-scenario-change`, since the copy's
# SHA-256 differs), counted as flagged when it exits 1. Prints one table row per level with the
# measured change of the instruction count, and writes every run under OUT (default
# target/gate-evidence). HARNESS is the binary judged, by default the one CI's gate runs, which
# `cargo test --workspace` builds (the baselines are its). Run it on an otherwise
# idle machine for the time metrics: anything else running is noise they will (rightly) show.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:?usage: benches/gate-evidence.sh instructions|time [CLEAN] [SLOWED] [REPEAT]}
clean=${2:-20}
slowed=${3:-10}
repeat=${4:-7}
out=${OUT:-target/gate-evidence}
harness=${HARNESS:-target/debug/harness}
[ -x "$harness" ] || { echo "build first: cargo test --workspace --no-run" >&2; exit 2; }

# Slowdown levels as "label:units" of synthetic_cost, chosen from the measured cost of a unit
# (~1.25 instructions, 0.58 % of the gate's 216 instructions per transaction), plus prefetching
# off, which adds no instructions at all. LEVELS="label:units ..." runs others, in that order.
levels=${LEVELS:-"0%:0 1%:2 2%:4 3%:6 5%:9 10%:18 25%:44 no-prefetch:off"}

case "$mode" in
  instructions)
    base=scenarios/gate-instructions.toml
    baseline=baselines/gate-instructions.json
    flags=(--count-instructions) ;;
  time)
    base=scenarios/gate.toml
    baseline=baselines/gate.json
    flags=(--repeat "$repeat") ;;
  *) echo "unknown mode $mode: instructions or time" >&2; exit 2 ;;
esac
mkdir -p "$out"

# A copy of the gate scenario with the slowdown injected under [workload].
copy() {
  local units=$1 file=$2
  if [ "$units" = off ]; then
    sed 's/^seed = 7$/seed = 7\nprefetch = false/' "$base" > "$file"
  else
    sed "s/^seed = 7\$/seed = 7\nsynthetic_cost = $units/" "$base" > "$file"
  fi
}

# The instruction count per committed transaction of the newest run under a directory.
per_tx() {
  python3 - "$1" <<'PY'
import json, pathlib, sys
runs = sorted(pathlib.Path(sys.argv[1]).glob("**/results.json"), key=lambda p: p.stat().st_mtime)
i = json.loads(runs[-1].read_text()).get("instructions") if runs else None
print(f"{i['per_tx']:.3f}" if i and i.get("per_tx") else "n/a")
PY
}

printf '| %s | %s | %s | %s | %s |\n' "slowdown" "units" "runs" "flagged" "instr/tx (measured)" \
  "---" "---" "---" "---" "---"
for level in $levels; do
  label=${level%%:*}
  units=${level##*:}
  n=$slowed
  [ "$units" = 0 ] && n=$clean
  file="$out/$mode-$label.toml"
  copy "$units" "$file"
  flagged=0
  metrics=""
  for k in $(seq 1 "$n"); do
    dir="$out/$mode-$label-$k"
    rm -rf "$dir"
    set +e
    "$harness" run "$file" "${flags[@]}" --baseline "$baseline" --allow-scenario-change \
      --quiet --no-reports --out "$dir" > "$dir.txt" 2>&1
    code=$?
    set -e
    case $code in
      0) ;;
      1) flagged=$((flagged + 1))
         # The rows the rule called REGRESSED, by label.
         metrics+=$(grep -E 'REGRESSED' "$dir.txt" | grep -oE '^(Instructions per committed tx|Committed TPS|TPS per CPU-second|p50 latency|p99 latency|p99.9 latency|Peak RSS|Error rate)' | sort -u | tr '\n' ',' || true) ;;
      *) echo "run $dir exited $code (see $dir.txt)" >&2 ;;
    esac
  done
  printf '| %s | %s | %s | %s | %s |\n' "$label" "$units" "$n" "$flagged" "$(per_tx "$out/$mode-$label-$n")"
  if [ -n "$metrics" ]; then
    echo "    flagged by: $(echo "$metrics" | tr ',' '\n' | grep -v '^$' | sort | uniq -c | tr -s ' ' | tr '\n' ';')"
  fi
done

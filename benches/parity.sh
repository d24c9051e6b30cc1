#!/usr/bin/env bash
# Harness vs engine bench, side by side: is the instrument the bottleneck?
#
#   bash benches/parity.sh [ROUNDS]      # default 3
#
# Alternates, ROUNDS times, the criterion bench apply/single-writer/uniform/t2/b1024 (committed
# transfers per second of the apply alone, input generated untimed) and
# `harness run scenarios/engine-parity.toml` (the same engine set-up driven by the harness: each
# batch generated on the worker's own core, latency recorded, resources sampled), then prints
# both medians and their ratio. Alternating spreads this shared machine's drift over both.
# Output under ${CARGO_TARGET_DIR:-target}/parity/.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
target=${CARGO_TARGET_DIR:-target}
out=$target/parity
mkdir -p "$out"
cargo build --release -p harness >&2
cargo bench --bench engine --no-run >&2
h=$target/release/harness
bench=()
harness=()
for i in $(seq "$rounds"); do
  # criterion prints "thrpt:  [low median high]" with a unit (Kelem/s, Melem/s, Gelem/s), then,
  # when it has an earlier run, a second "thrpt:" line of percentage changes (skipped).
  b=$(cargo bench --bench engine -- 'apply/single-writer/uniform/t2/b1024$' 2>/dev/null |
    awk '/thrpt:/ && /elem/ { v = $(NF-3); u = $(NF-2); m = (u ~ /^G/) ? 1e9 : (u ~ /^M/) ? 1e6 : (u ~ /^K/) ? 1e3 : 1; printf "%.0f", v * m; exit }')
  "$h" run scenarios/engine-parity.toml --quiet --no-reports --out "$out/reports" >"$out/harness-$i.txt"
  r=$(ls -t "$out"/reports/engine-parity/*/results.json | head -1)
  t=$(jq '.summary.committed_tps' "$r")
  echo "round $i: bench $b tx/s, harness $t tx/s ($(jq -r '.verdict.status' "$r"), audit ok: $(jq '.audit.ok' "$r"))" >&2
  bench+=("$b")
  harness+=("$t")
done
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
mb=$(median "${bench[@]}")
mh=$(median "${harness[@]}")
awk -v b="$mb" -v h="$mh" 'BEGIN { printf "median: bench %.1fM tx/s, harness %.1fM tx/s: harness at %.1f %% of the bench\n", b / 1e6, h / 1e6, 100 * h / b }'

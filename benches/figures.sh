#!/usr/bin/env bash
# Reproduces the figures quoted in the closing notes, in one sequential run (quote medians; this
# machine is shared and noisy). Writes everything under target/figures/.
#   bash benches/figures.sh            # all
#   bash benches/figures.sh engine     # only the criterion engine benches
set -euo pipefail
cd "$(dirname "$0")/.."
out=${CARGO_TARGET_DIR:-target}/figures
mkdir -p "$out"
what=${1:-all}
cargo build --release -p harness -p engine
h=${CARGO_TARGET_DIR:-target}/release/harness

if [[ $what == all || $what == engine ]]; then
  cargo bench --bench engine -- 'apply|codec' 2>&1 | grep -E '^(apply|codec)|thrpt' | tee "$out/criterion.txt"
fi
if [[ $what == all || $what == harness ]]; then
  $h run scenarios/smoke.toml --quiet --out "$out/reports" | tee "$out/smoke.txt"
  $h run scenarios/smoke.toml --quiet --profile --out "$out/reports" | tee "$out/smoke-profile.txt"
  $h run scenarios/baseline-5m.toml --quiet --duration-scale 0.5 --out "$out/reports" | tee "$out/baseline.txt" || true
  $h run scenarios/sustained-30m.toml --quiet --duration-scale 0.1 --out "$out/reports" | tee "$out/sustained.txt" || true
fi
if [[ $what == all || $what == http ]]; then
  $h run scenarios/http-sustained.toml --quiet --duration-scale 0.05 --out "$out/reports" | tee "$out/http-sustained.txt" || true
fi

#!/usr/bin/env bash
# Runs every fuzz target for N seconds (default 600), one after another: the fuzzers are not
# run in parallel because CI and developer machines have 2 cores. Stops at the first crash,
# timeout or OOM (libFuzzer's exit status), leaving the input in fuzz/artifacts/<target>/.
# Usage: fuzz/run.sh [SECONDS] [TARGET...]   (needs nightly and `cargo install cargo-fuzz`)
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-600}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo +nightly fuzz list)
fi
for t in "${targets[@]}"; do
    echo "== $t: ${secs}s"
    # -timeout=10: one input taking 10 s is a finding (libFuzzer's default is 1200 s).
    cargo +nightly fuzz run "$t" -- -max_total_time="$secs" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1
done

#!/usr/bin/env bash
# Two harness builds side by side: did a change move the instrument's own speed?
#
#   ROUNDS=5 benches/ab.sh OLD_HARNESS NEW_HARNESS [ENGINE]
#
# Alternates the two binaries ROUNDS times (default 5) on the same machine, in one session, and
# prints per-binary medians of:
#   - in-process: `run scenarios/engine-parity.toml` (13 s; committed tx/s of the steady state:
#     the worker loop, generator and recorder around the engine's apply);
#   - HTTP: 64 keep-alive connections of GET /api/v11/health against one `engine serve`
#     (SECS, default 10 s, closed model): requests per second and CPU-seconds per million
#     requests of the generator process (/usr/bin/time), as benches/loadgen/compare.sh does;
#   - HTTP open model: the same requests at RATE (default 20k/s) for SECS: CPU-seconds per
#     million requests (what paced sending costs), and the dispatch lag p99 where the build
#     records it.
# ENGINE defaults to target/release/engine. Alternating spreads this shared machine's drift
# over both sides; quote the medians, not a single round. Only ever targets loopback. Needs jq.
set -euo pipefail
cd "$(dirname "$0")/.."
OLD=$1
NEW=$2
ENGINE=${3:-target/release/engine}
ROUNDS=${ROUNDS:-5}
SECS=${SECS:-10}
work=$(mktemp -d)
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

. benches/serve.sh
serve "$ENGINE" 100000 "$work/engine.out"
cat >"$work/h.toml" <<TOML
[scenario]
name = "ab-health"
[target]
kind = "http"
url = "$url"
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
workers = 64
TOML
sed -e 's|^workers = 64$|rate = "'"${RATE:-20k/s}"'"|; s|ab-health|ab-open|' "$work/h.toml" >"$work/o.toml"

: >"$work/rows"
for round in $(seq "$ROUNDS"); do
  for side in old new; do
    bin=$OLD
    [ "$side" = new ] && bin=$NEW
    rm -rf "$work/ip" "$work/http"
    "$bin" run scenarios/engine-parity.toml --quiet --no-reports --out "$work/ip" >/dev/null || true
    tps=$(jq '.summary.committed_tps' "$work"/ip/engine-parity/*/results.json)
    /usr/bin/time -f '%e %U %S' -o "$work/time" \
      "$bin" run "$work/h.toml" --quiet --no-reports --out "$work/http" >/dev/null || true
    ops=$(jq '.summary.ops' "$work"/http/ab-health/*/results.json)
    read -r wall user sys <"$work/time"
    rm -rf "$work/open"
    /usr/bin/time -f '%e %U %S' -o "$work/otime" \
      "$bin" run "$work/o.toml" --quiet --no-reports --out "$work/open" >/dev/null || true
    oops=$(jq '.summary.ops' "$work"/open/ab-open/*/results.json)
    lag=$(jq '.summary.dispatch.lag_us.p99 // -1' "$work"/open/ab-open/*/results.json)
    read -r _ ouser osys <"$work/otime"
    awk -v s="$side" -v t="$tps" -v o="$ops" -v w="$wall" -v u="$user" -v k="$sys" \
      -v oo="$oops" -v ou="$ouser" -v ok="$osys" -v l="$lag" 'BEGIN {
      printf "%s\t%.0f\t%.0f\t%.2f\t%.2f\t%.1f\n", s, t, o / w, (u + k) / o * 1e6, (ou + ok) / oo * 1e6, l }' >>"$work/rows"
    tail -1 "$work/rows" | awk -F'\t' -v r="$round" '{ printf "round %s %s: in-process %.2fM tx/s; http %.0f req/s, %.2f CPU-s/1M; open %.2f CPU-s/1M, lag p99 %s us\n", r, $1, $2 / 1e6, $3, $4, $5, $6 }' >&2
  done
done
med() { grep "^$1"$'\t' "$work/rows" | cut -f"$2" | median; }
echo "medians of $ROUNDS alternating rounds:"
for side in old new; do
  printf "%s: in-process %.2fM tx/s; http %.0f req/s, %.2f CPU-s per 1M requests; open %.2f CPU-s per 1M, lag p99 %s us (-1: not recorded)\n" "$side" \
    "$(awk -v v="$(med $side 2)" 'BEGIN { print v / 1e6 }')" "$(med $side 3)" "$(med $side 4)" "$(med $side 5)" "$(med $side 6)"
done
awk -v a="$(med old 2)" -v b="$(med new 2)" -v c="$(med old 4)" -v d="$(med new 4)" -v e="$(med old 5)" -v f="$(med new 5)" \
  'BEGIN { printf "new vs old: in-process tx/s %+.1f %%, http CPU per request %+.1f %%, open-model CPU per request %+.1f %%\n", 100 * (b / a - 1), 100 * (d / c - 1), 100 * (f / e - 1) }'

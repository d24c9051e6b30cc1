#!/usr/bin/env bash
# What a feeder and a JSON-pointer check and extraction cost the generator per request.
#
#   [ROUNDS=3] benches/flows.sh [SECONDS] [CONNECTIONS]
#
# Builds the release engine and harness, starts `engine serve` on 127.0.0.1:0 and drives
# GET /api/v11/info (a ~250-byte JSON answer) for SECONDS (default 8) with CONNECTIONS (default
# 64) keep-alive connections, two ways, alternating within each round:
#   plain:  the fixed template (the answer's body is counted and dropped, never held);
#   flow:   the path takes a row of scenarios/data/accounts.csv (circular feeder), the answer is
#           held, parsed as JSON once, checked (`json = "/accounts", equals = N`) and a value
#           extracted from it (`var = "version", json = "/version"`) into the connection.
# The table gives medians of ROUNDS rounds: req/s and the harness process's CPU-seconds
# (user+sys) per million requests. Only ever targets loopback. Needs jq.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-8}
CONNS=${2:-64}
ROUNDS=${ROUNDS:-3}
ACCOUNTS=100000
TARGET=${CARGO_TARGET_DIR:-target}
cargo build --release -p engine --bin engine >&2
cargo build --release -p harness --bin harness >&2
HARNESS="$TARGET/release/harness"

work=$(mktemp -d)
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

. benches/serve.sh
serve "$TARGET/release/engine" "$ACCOUNTS" "$work/engine.out"
echo "engine (pid $pid) at $url; ${SECS}s per run, $CONNS connections" >&2
cp scenarios/data/accounts.csv "$work/accounts.csv"

scenario() { # NAME REQUEST-TOML
  cat >"$work/$1.toml" <<TOML
[scenario]
name = "flows-$1"
[target]
kind = "http"
url = "$url"
[http]
timeout = "5s"
[[data]]
name = "accounts"
file = "accounts.csv"
strategy = "circular"
$2
[[stages]]
name = "steady"
duration = "${SECS}s"
workers = $CONNS
TOML
}
scenario plain '[[requests]]
name = "info"
path = "/api/v11/info"'
scenario flow "[[requests]]
name = \"info\"
path = \"/api/v11/info?account={{accounts.id}}\"
check = [{ json = \"/accounts\", equals = $ACCOUNTS }]
extract = [{ var = \"version\", json = \"/version\" }]"

: >"$work/runs"
for round in $(seq "$ROUNDS"); do
  echo "round $round/$ROUNDS" >&2
  for kind in plain flow; do
    rm -rf "$work/out"
    /usr/bin/time -f '%e %U %S' -o "$work/time" \
      "$HARNESS" run "$work/$kind.toml" --quiet --no-reports --out "$work/out" >/dev/null || true
    res="$work/out/flows-$kind/latest/results.json"
    errs=$(jq '.summary.errors' "$res")
    [ "$errs" = "0" ] || echo "warning: $kind saw $errs errors" >&2
    read -r wall user sys <"$work/time"
    awk -v k="$kind" -v n="$(jq '.summary.ops' "$res")" -v w="$wall" -v u="$user" -v s="$sys" \
      'BEGIN { printf "%s\t%.0f\t%.3f\n", k, n / w, (u + s) / n * 1e6 }' | tee -a "$work/runs" >&2
  done
done

echo
echo "Medians of $ROUNDS rounds, ${SECS}s each, $CONNS connections, GET /api/v11/info:"
echo "| template | req/s | CPU-s/1M |"
echo "|---|---|---|"
for kind in plain flow; do
  med() { grep "^$kind"$'\t' "$work/runs" | cut -f"$1" | median; }
  printf "| %s | %.0f | %.2f |\n" "$kind" "$(med 2)" "$(med 3)"
done

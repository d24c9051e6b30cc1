# Sourced by the bench scripts (from the repository root): the steps they share, so each script
# holds only what it measures. Starts `engine serve` on 127.0.0.1:0 and waits for the address it
# prints on its first line, and takes medians of alternating rounds; for the load-generator
# benches (loadgen/compare.sh, loadgen/https.sh, pipeline.sh) also the release build, the
# scratch directory and the /usr/bin/time record of each generator run.
#
#   . benches/serve.sh; serve ENGINE_BINARY ACCOUNTS OUTFILE [ENGINE ARGS...]   # sets $pid and $url
#     (SERVE_WITH="taskset -c 0" runs it under that command)
#   serve_nginx DIR [PREFIX...]   # nginx, one worker, DIR/www/page.html (1.4 KB); sets $pid, $url
#   ... | median                                                                # median of stdin
#   build_release     # builds the release engine and harness; sets $ENGINE and $HARNESS
#   bench_workdir     # sets $work, a scratch directory removed (and $pid killed) on exit
#   timed CMD...      # runs CMD under /usr/bin/time into $work/time
#   run_harness TOML NAME [PREFIX...]   # `harness run TOML` quietly, timed (under PREFIX, e.g.
#                                       # taskset -c 1); sets $res to its results.json
#   record NAME REQUESTS [WIDTH]   # appends the last timed run's figures to $work/runs
#   med NAME COLUMN   # median of one column of NAME's lines in $work/runs
serve() {
  local engine=$1 accounts=$2 out=$3
  shift 3
  ${SERVE_WITH:-} "$engine" serve --addr 127.0.0.1:0 --accounts "$accounts" "$@" >"$out" 2>/dev/null &
  pid=$!
  for _ in $(seq 200); do [ -s "$out" ] && break; sleep 0.05; done
  url=$(head -1 "$out" | sed 's/^listening on //')
}

# nginx (Debian package nginx-light or nginx) on a free loopback port: one worker process, no
# access log, serving DIR/www/page.html, a 1.4 KB page; run under PREFIX (e.g. taskset -c 0).
serve_nginx() {
  local dir=$1 port
  shift
  command -v nginx >/dev/null || { echo "needs nginx (apt-get install nginx-light)" >&2; exit 2; }
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  mkdir -p "$dir/www" "$dir/nginx-tmp"
  awk 'BEGIN { printf "<!doctype html><title>page</title><p>"; for (i = 0; i < 1340; i++) printf "x"; print "</p>" }' >"$dir/www/page.html"
  cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
daemon off;
master_process off;
pid $dir/nginx.pid;
error_log stderr error;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/nginx-tmp;
  proxy_temp_path $dir/nginx-tmp;
  fastcgi_temp_path $dir/nginx-tmp;
  uwsgi_temp_path $dir/nginx-tmp;
  scgi_temp_path $dir/nginx-tmp;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$port; root $dir/www; }
}
CONF
  "$@" nginx -c "$dir/nginx.conf" -p "$dir" 2>"$dir/nginx.err" &
  pid=$!
  url="http://127.0.0.1:$port"
  for _ in $(seq 100); do curl -fs "$url/page.html" >/dev/null 2>&1 && return; sleep 0.05; done
  echo "nginx did not start: $(cat "$dir/nginx.err")" >&2
  exit 2
}

# The median of the numbers on stdin, one per line (the mean of the middle two when even).
median() {
  sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Builds the release engine and harness (build output to stderr, so a script's stdout is its
# table) and points $ENGINE and $HARNESS at them, in $CARGO_TARGET_DIR when set.
build_release() {
  local target=${CARGO_TARGET_DIR:-target}
  cargo build --release -p engine --bin engine >&2
  cargo build --release -p harness --bin harness >&2
  ENGINE="$target/release/engine"
  HARNESS="$target/release/harness"
}

# A scratch directory in $work, removed on exit together with the engine `serve` started (a
# script that stops the engine itself clears $pid first).
bench_workdir() {
  work=$(mktemp -d)
  trap bench_cleanup EXIT
}
bench_cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }

# Runs a command under /usr/bin/time, writing "wall-s user-s sys-s max-RSS-KiB" to $work/time:
# what a generator costs is measured from outside, the same way for ours and for wrk or oha.
timed() { /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$@"; }

# `harness run TOML` (scenario NAME) quietly, without reports, timed; sets $res to its
# results.json. A failed run still writes it, and the figures say what went wrong, so its exit
# code does not stop the bench.
run_harness() {
  local toml=$1 name=$2
  shift 2
  rm -rf "$work/out"
  timed "$@" "$HARNESS" run "$toml" --quiet --no-reports --out "$work/out" >/dev/null || true
  res="$work/out/$name/latest/results.json"
}

# record NAME REQUESTS [WIDTH]: appends the last timed run as one line of $work/runs, "name
# req/s CPU-s/1M user/1M sys/1M RSS-MiB req/CPU-s" (columns 1-7, tab-separated; CPU = user +
# system time); with WIDTH, also prints it to stderr, the name padded to WIDTH.
record() {
  read -r wall user sys maxkb <"$work/time"
  awk -v n="$1" -v r="$2" -v w="$wall" -v u="$user" -v s="$sys" -v m="$maxkb" 'BEGIN {
    printf "%s\t%.0f\t%.2f\t%.2f\t%.2f\t%.1f\t%.0f\n", n, r / w, (u + s) / r * 1e6, u / r * 1e6, s / r * 1e6,
      m / 1024, ((u + s) > 0 ? r / (u + s) : 0) }' >>"$work/runs"
  [ -z "${3:-}" ] || tail -1 "$work/runs" |
    awk -F'\t' -v width="$3" '{ printf "  %-" width "s %9s req/s  %6s CPU-s/1M\n", $1, $2, $3 }' >&2
}

# med NAME COLUMN: the median of COLUMN over the lines of $work/runs named NAME.
med() { awk -F'\t' -v n="$1" -v c="$2" '$1 == n { print $c }' "$work/runs" | median; }

# Sourced by the bench scripts: starts `engine serve` on 127.0.0.1:0 and waits for the address
# it prints on its first line, and takes medians of alternating rounds.
#
#   . benches/serve.sh; serve ENGINE_BINARY ACCOUNTS OUTFILE [ENGINE ARGS...]   # sets $pid and $url
#   ... | median                                                                # median of stdin
serve() {
  local engine=$1 accounts=$2 out=$3
  shift 3
  "$engine" serve --addr 127.0.0.1:0 --accounts "$accounts" "$@" >"$out" 2>/dev/null &
  pid=$!
  for _ in $(seq 200); do [ -s "$out" ] && break; sleep 0.05; done
  url=$(head -1 "$out" | sed 's/^listening on //')
}

# The median of the numbers on stdin, one per line (the mean of the middle two when even).
median() {
  sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Sourced by the bench scripts: starts `engine serve` on 127.0.0.1:0 and waits for the address
# it prints on its first line.
#
#   . benches/serve.sh; serve ENGINE_BINARY ACCOUNTS OUTFILE   # sets $pid and $url
serve() {
  "$1" serve --addr 127.0.0.1:0 --accounts "$2" >"$3" 2>/dev/null &
  pid=$!
  for _ in $(seq 200); do [ -s "$3" ] && break; sleep 0.05; done
  url=$(head -1 "$3" | sed 's/^listening on //')
}

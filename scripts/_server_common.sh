# Sourced by scripts/kafka-server.sh and scripts/s3-server.sh: what both test
# servers do alike. Each run of a server keeps its state in a directory
# $states/run-XXXXXXXX holding at least `pid` and `port`; `stop` and the sweep
# signal a pid only while it still runs that very server.
#
# The sourcing script sets, before calling any of these:
#   server_name   the prefix of every message ("kafka-server", "s3-server")
#   states        the directory of the run directories (by its physical path)
# and defines `runs_this_server ARGS DIR`: whether a process's command line
# ARGS is the server of the state directory DIR.

say() { echo "$server_name: $*" >&2; }

# The physical path of this checkout's .cache: checkouts that share one .cache
# through a symlink must name a server's state directory alike, or one
# checkout's sweep takes the running server of another for a dead one and
# deletes its data under it.
physical_cache() {
  mkdir -p .cache
  (cd .cache && pwd -P)
}

# The pid in a state directory, if that pid still runs the server of it.
server_pid() {
  [ -f "$1/pid" ] || return 1
  pid=$(cat "$1/pid")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  runs_this_server "$(ps -o args= -p "$pid" 2>/dev/null)" "$1" || return 1
  echo "$pid"
}

# Stops a process: SIGTERM, then SIGKILL if it still runs after $2 tenths of
# a second.
stop_pid() {
  kill "$1" 2>/dev/null || true
  i=0
  while kill -0 "$1" 2>/dev/null && [ $i -lt "$2" ]; do
    sleep 0.1
    i=$((i + 1))
  done
  if kill -0 "$1" 2>/dev/null; then kill -9 "$1" 2>/dev/null || true; fi
}

# Removes state left by runs whose server is gone (killed test runs). A
# directory without a pid may be a start in progress in another checkout
# sharing this cache, so it goes only once it is an hour old.
sweep() {
  [ -d "$states" ] || return 0
  for dir in "$states"/run-*; do
    [ -d "$dir" ] || continue
    if [ -f "$dir/pid" ]; then
      server_pid "$dir" >/dev/null || rm -rf "$dir"
    elif [ -n "$(find "$dir" -maxdepth 0 -mmin +60 2>/dev/null)" ]; then
      rm -rf "$dir"
    fi
  done
}

# $1 free TCP ports on 127.0.0.1, on one line. Another process may take one
# before the server binds it: starts retry on "address already in use".
free_ports() {
  python3 - "$1" <<'EOF'
import socket, sys
held = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    held.append(s)
print(" ".join(str(s.getsockname()[1]) for s in held))
EOF
}

# Waits until a starting server is ready. Arguments: the server's pid, the
# most seconds to wait, the seconds between polls, Python source defining
# `ready(*args)` (True when ready, False to poll again; it may sys.exit with
# a reason), what the server is called ("broker"), the reason to fail with
# after the deadline, then the arguments of `ready`. Fails with the reason on
# stderr, "the <server> exited during start-up" if the process ends first.
wait_until_ready() {
  python3 - "$@" <<'EOF'
import os, sys, time
pid, seconds, every, source, noun, late = sys.argv[1:7]
args = sys.argv[7:]
scope = {}
exec(source, scope)
deadline = time.time() + float(seconds)
while True:
    try:
        os.kill(int(pid), 0)
    except OSError:
        sys.exit(f"the {noun} exited during start-up")
    if scope["ready"](*args):
        sys.exit(0)
    if time.time() > deadline:
        sys.exit(late)
    time.sleep(float(every))
EOF
}

# The state directory named by $1 or else by the variable $2 ($3 names the
# script, $4 what it starts): it must be a run directory of this checkout.
chosen_dir() {
  dir=${1:-$(eval "echo \"\${$2:-}\"")}
  if [ -z "$dir" ]; then
    say "no $4 named: run \`eval \"\$(scripts/$3 start)\"\` in this shell first, or pass"
    say "the directory it printed as $2 ($states/run-*)"
    exit 2
  fi
  case "$dir" in
  "$states"/run-*) ;;
  *)
    say "$dir is not a $4 started from this checkout ($states/run-*)"
    exit 2
    ;;
  esac
  echo "$dir"
}

# Prints whether the server of a state directory runs ($2 names the server);
# fails when it does not.
print_status() {
  if pid=$(server_pid "$1"); then
    echo "$server_name: $2 running on 127.0.0.1:$(cat "$1/port") (pid $pid)"
  else
    echo "$server_name: not running"
    return 1
  fi
}

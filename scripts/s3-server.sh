#!/bin/sh
# Starts and stops the local S3 server that tests and benchmarks use: moto's
# server with atomic conditional writes and signature checks
# (scripts/s3_server.py), on 127.0.0.1 on a free port.
#
#   eval "$(scripts/s3-server.sh start)"   start (or reuse) it; prints export lines
#   scripts/s3-server.sh stop              stop it
#   scripts/s3-server.sh status            say whether it runs
#
# `start` prints nothing but `export` lines on stdout (AWS_ENDPOINT_URL,
# AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ALLOW_HTTP and
# NEURALAKE_TEST_BUCKET); progress and errors go to stderr. Its state (pid,
# port, env, log) lives in .cache/s3-server/.
set -eu
cd "$(dirname "$0")/.."

state=.cache/s3-server
bucket=neuralake-test

running() {
  [ -f "$state/pid" ] || return 1
  pid=$(cat "$state/pid")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

answers() {
  # The server writes its env file only once it listens; a TCP connect proves
  # that it still does.
  [ -f "$state/port" ] || return 1
  "$1" - "$(cat "$state/port")" <<'EOF' 2>/dev/null
import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2).close()
EOF
}

stop() {
  if running; then
    pid=$(cat "$state/pid")
    kill "$pid" 2>/dev/null || true
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
      sleep 0.1
      i=$((i + 1))
    done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
    echo "s3-server: stopped (pid $pid)" >&2
  else
    echo "s3-server: not running" >&2
  fi
  rm -f "$state/pid" "$state/port" "$state/env"
}

start() {
  py=$(scripts/ensure-python.sh)
  if running && [ -f "$state/env" ] && answers "$py"; then
    echo "s3-server: reusing the server on port $(cat "$state/port")" >&2
    cat "$state/env"
    return 0
  fi
  if [ -f "$state/pid" ]; then stop; fi
  mkdir -p "$state"
  rm -f "$state/port" "$state/env"
  nohup "$py" scripts/s3_server.py --host 127.0.0.1 --port 0 --state-dir "$state" \
    --bucket "$bucket" >"$state/server.log" 2>&1 </dev/null &
  echo $! >"$state/pid"
  i=0
  until [ -f "$state/env" ] && answers "$py"; do
    if ! running; then
      echo "s3-server: the server exited during start-up; its log follows" >&2
      cat "$state/server.log" >&2
      rm -f "$state/pid"
      exit 1
    fi
    if [ $i -ge 600 ]; then
      echo "s3-server: the server did not answer within 60 s; see $state/server.log" >&2
      stop
      exit 1
    fi
    sleep 0.1
    i=$((i + 1))
  done
  echo "s3-server: started on port $(cat "$state/port") (pid $(cat "$state/pid"))" >&2
  cat "$state/env"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status)
  if running; then
    echo "s3-server: running on port $(cat "$state/port" 2>/dev/null || echo '?') (pid $(cat "$state/pid"))"
  else
    echo "s3-server: not running"
    exit 1
  fi
  ;;
*)
  echo "usage: scripts/s3-server.sh start|stop|status" >&2
  exit 2
  ;;
esac

#!/bin/sh
# Starts and stops the local S3 server that tests and benchmarks use: MinIO,
# built from the Go module proxy at a pinned version and cached under .cache/.
#
#   eval "$(scripts/s3-server.sh start)"   start a fresh server; prints export lines
#   scripts/s3-server.sh stop              stop the server that this shell's `start` started
#   scripts/s3-server.sh status            say whether it runs
#   scripts/s3-server.sh build             only make sure the MinIO binary is cached
#
# Each `start` starts its own server: 127.0.0.1, a random free port, fresh
# random credentials, a fresh data directory, the bucket created. It prints
# nothing but `export` lines on stdout (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
# AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ALLOW_HTTP, NEURALAKE_TEST_BUCKET and
# NEURALAKE_S3_SERVER, the server's state directory); progress and errors go to
# stderr. State lives in .cache/s3-server/<run>/ of this checkout, so servers
# of other checkouts and other runs never collide, and `stop` (which reads
# NEURALAKE_S3_SERVER, or takes the directory as an argument) stops only the
# process that this run started: it checks that the pid still runs MinIO on
# that very data directory before signalling it.
#
# The first `start` builds MinIO (`go install`, about 8 minutes on 2 cores,
# a 143 MB binary plus ~2.3 GB of Go module and build cache outside the
# repository); later starts reuse .cache/minio/bin/minio and never rebuild.
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
. scripts/_server_common.sh
server_name=s3-server

# The one place the MinIO version is pinned.
MINIO_MODULE=github.com/minio/minio
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c

bindir="$root/.cache/minio/bin"
binary="$bindir/minio"
stamp="$bindir/minio.version"
states="$(physical_cache)/s3-server"
bucket=neuralake-test

# The module version a Go binary was built from, or nothing.
built_version() {
  command -v go >/dev/null 2>&1 || return 0
  go version -m "$1" 2>/dev/null | awk -v m="$MINIO_MODULE" '$1 == "mod" && $2 == m { print $3 }'
}

# Whether .cache/minio/bin/minio is the pinned version (a stamp written after
# our own build, or the build info of a binary put there by hand).
cached() {
  [ -x "$binary" ] || return 1
  [ "$(cat "$stamp" 2>/dev/null)" = "$MINIO_VERSION" ] && return 0
  if [ "$(built_version "$binary")" = "$MINIO_VERSION" ]; then
    echo "$MINIO_VERSION" >"$stamp"
    return 0
  fi
  return 1
}

build() {
  cached && return 0
  # Another worktree of this repository may have built the same version.
  common=$(git rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)
  other="${common%/.git}/.cache/minio/bin/minio"
  if [ -n "$common" ] && [ "$other" != "$binary" ] && [ -x "$other" ] &&
    { [ "$(cat "$other.version" 2>/dev/null)" = "$MINIO_VERSION" ] ||
      [ "$(built_version "$other")" = "$MINIO_VERSION" ]; }; then
    mkdir -p "$bindir"
    cp "$other" "$binary.tmp" && mv "$binary.tmp" "$binary"
    echo "$MINIO_VERSION" >"$stamp"
    say "copied MinIO $MINIO_VERSION from $other"
    return 0
  fi
  if ! command -v go >/dev/null 2>&1; then
    say "MinIO is not built yet, and building it needs Go (https://go.dev/dl/, 1.24 or newer),"
    say "which is not on PATH. Install Go, or put a MinIO binary built from"
    say "$MINIO_MODULE@$MINIO_VERSION at $binary"
    exit 1
  fi
  say "building MinIO $MINIO_VERSION with $(go version | cut -d' ' -f3) into .cache/minio/bin/"
  say "this takes about 8 minutes the first time (2.3 GB of Go module and build cache); later runs reuse it"
  tmp="$root/.cache/minio/build.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  started=$(date +%s)
  if ! GOBIN="$tmp" go install "$MINIO_MODULE@$MINIO_VERSION" >&2; then
    rm -rf "$tmp"
    say "building MinIO failed (see the output above)"
    exit 1
  fi
  mkdir -p "$bindir"
  mv "$tmp/minio" "$binary"
  rm -rf "$tmp"
  echo "$MINIO_VERSION" >"$stamp"
  say "built MinIO in $(($(date +%s) - started)) s"
}

# Whether a command line is the MinIO of a state directory.
runs_this_server() {
  case "$1" in
  *"$2/data"*) return 0 ;;
  *) return 1 ;;
  esac
}

stop_dir() {
  dir=$1
  if pid=$(server_pid "$dir"); then
    stop_pid "$pid" 100
    say "stopped the server on port $(cat "$dir/port" 2>/dev/null || echo '?') (pid $pid)"
  else
    say "the server of $dir is not running"
  fi
  rm -rf "$dir"
}

random_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

# Waits until the server answers, then creates the bucket with a SigV4-signed
# PUT (Python's standard library only, so no client tool is needed).
create_bucket() {
  wait_until_ready "$5" 60 0.05 '
import datetime, hashlib, hmac, http.client, sys
def sign(k, m): return hmac.new(k, m.encode(), hashlib.sha256).digest()
def ready(port, key, secret, bucket):
    host = f"127.0.0.1:{port}"
    empty = hashlib.sha256(b"").hexdigest()
    now = datetime.datetime.now(datetime.timezone.utc)
    amz, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    signed = "host;x-amz-content-sha256;x-amz-date"
    canonical = f"PUT\n/{bucket}\n\nhost:{host}\nx-amz-content-sha256:{empty}\nx-amz-date:{amz}\n\n{signed}\n{empty}"
    scope = f"{day}/us-east-1/s3/aws4_request"
    to_sign = f"AWS4-HMAC-SHA256\n{amz}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    k = sign(sign(sign(sign(("AWS4" + secret).encode(), day), "us-east-1"), "s3"), "aws4_request")
    auth = (f"AWS4-HMAC-SHA256 Credential={key}/{scope}, SignedHeaders={signed}, "
            f"Signature={hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()}")
    try:
        conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=5)
        conn.request("PUT", f"/{bucket}", headers={
            "Host": host, "x-amz-date": amz, "x-amz-content-sha256": empty, "Authorization": auth})
        res = conn.getresponse()
        body = res.read().decode(errors="replace")
    except OSError:
        return False
    if res.status == 200:
        return True
    if res.status != 503:
        sys.exit(f"creating the bucket failed: HTTP {res.status}: {body[:500]}")
    return False
' server "the server did not answer within 60 s" "$1" "$2" "$3" "$4"
}

start() {
  build
  if ! command -v python3 >/dev/null 2>&1; then
    say "python3 is needed to pick a free port and create the bucket"
    exit 1
  fi
  sweep
  mkdir -p "$states"
  dir=$(mktemp -d "$states/run-XXXXXXXX")
  mkdir -p "$dir/data"
  key="nl$(random_hex 9)"
  secret=$(random_hex 20)
  attempt=0
  while :; do
    attempt=$((attempt + 1))
    port=$(free_ports 1)
    echo "$port" >"$dir/port"
    MINIO_ROOT_USER="$key" MINIO_ROOT_PASSWORD="$secret" MINIO_BROWSER=off \
      MINIO_UPDATE=off MINIO_CALLHOME_ENABLE=off \
      nohup "$binary" server --quiet --anonymous --address "127.0.0.1:$port" \
      "$dir/data" >"$dir/server.log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$dir/pid"
    if err=$(create_bucket "$port" "$key" "$secret" "$bucket" "$pid" 2>&1); then break; fi
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    if [ $attempt -lt 5 ] && grep -qi "address already in use\|port.*in use" "$dir/server.log"; then
      rm -rf "$dir/data" && mkdir -p "$dir/data"
      continue
    fi
    say "MinIO did not start: $err; its log follows"
    cat "$dir/server.log" >&2
    rm -rf "$dir"
    exit 1
  done
  cat >"$dir/env" <<EOF
export AWS_ENDPOINT_URL='http://127.0.0.1:$port'
export AWS_ACCESS_KEY_ID='$key'
export AWS_SECRET_ACCESS_KEY='$secret'
export AWS_REGION='us-east-1'
export AWS_ALLOW_HTTP='true'
export NEURALAKE_TEST_BUCKET='$bucket'
export NEURALAKE_S3_SERVER='$dir'
EOF
  say "MinIO started on 127.0.0.1:$port (pid $pid, state in ${dir#"$root"/})"
  cat "$dir/env"
}

case "${1:-}" in
build) build ;;
start) start ;;
stop)
  dir=$(chosen_dir "${2:-}" NEURALAKE_S3_SERVER s3-server.sh server)
  stop_dir "$dir"
  ;;
status)
  dir=$(chosen_dir "${2:-}" NEURALAKE_S3_SERVER s3-server.sh server)
  print_status "$dir" MinIO || exit 1
  ;;
*)
  echo "usage: scripts/s3-server.sh start|stop [dir]|status [dir]|build" >&2
  exit 2
  ;;
esac

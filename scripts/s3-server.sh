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

# The one place the MinIO version is pinned.
MINIO_MODULE=github.com/minio/minio
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c

bindir="$root/.cache/minio/bin"
binary="$bindir/minio"
stamp="$bindir/minio.version"
# By its physical path: worktrees that share one .cache through a symlink must
# name a server's data directory alike, or one's sweep takes another's running
# server for a dead one and deletes its data under it.
states="$(cd "$root/.cache" 2>/dev/null && pwd -P || echo "$root/.cache")/s3-server"
bucket=neuralake-test

say() { echo "s3-server: $*" >&2; }

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

# The pid in a state directory, if that pid still runs MinIO on its data.
server_pid() {
  [ -f "$1/pid" ] || return 1
  pid=$(cat "$1/pid")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  case "$(ps -o args= -p "$pid" 2>/dev/null)" in
  *"$1/data"*) echo "$pid" ;;
  *) return 1 ;;
  esac
}

stop_dir() {
  dir=$1
  if pid=$(server_pid "$dir"); then
    kill "$pid" 2>/dev/null || true
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
      sleep 0.1
      i=$((i + 1))
    done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
    say "stopped the server on port $(cat "$dir/port" 2>/dev/null || echo '?') (pid $pid)"
  else
    say "the server of $dir is not running"
  fi
  rm -rf "$dir"
}

# Removes state left by runs whose server is gone (killed test runs).
sweep() {
  [ -d "$states" ] || return 0
  for dir in "$states"/run-*; do
    [ -d "$dir" ] || continue
    server_pid "$dir" >/dev/null || rm -rf "$dir"
  done
}

random_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

# Waits until the server answers, then creates the bucket with a SigV4-signed
# PUT (Python's standard library only, so no client tool is needed).
create_bucket() {
  python3 - "$1" "$2" "$3" "$4" "$5" <<'EOF'
import datetime, hashlib, hmac, http.client, os, sys, time
port, key, secret, bucket, pid = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
host = f"127.0.0.1:{port}"
empty = hashlib.sha256(b"").hexdigest()
def sign(k, m): return hmac.new(k, m.encode(), hashlib.sha256).digest()
deadline = time.time() + 60
while True:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit("the server exited during start-up")
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
        if res.status == 200:
            sys.exit(0)
        if res.status != 503:
            sys.exit(f"creating the bucket failed: HTTP {res.status}: {body[:500]}")
    except OSError:
        pass
    if time.time() > deadline:
        sys.exit("the server did not answer within 60 s")
    time.sleep(0.05)
EOF
}

start() {
  build
  if ! command -v python3 >/dev/null 2>&1; then
    say "python3 is needed to create the bucket"
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
    # A random port in 20000..59999; MinIO refuses one in use and we pick again.
    port=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000))
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

# The state directory named on the command line or by NEURALAKE_S3_SERVER.
chosen_dir() {
  dir=${1:-${NEURALAKE_S3_SERVER:-}}
  if [ -z "$dir" ]; then
    say "no server named: run \`eval \"\$(scripts/s3-server.sh start)\"\` in this shell first, or pass"
    say "the directory it printed as NEURALAKE_S3_SERVER ($states/run-*)"
    exit 2
  fi
  case "$dir" in
  "$states"/run-*) ;;
  *)
    say "$dir is not a server started from this checkout ($states/run-*)"
    exit 2
    ;;
  esac
  echo "$dir"
}

case "${1:-}" in
build) build ;;
start) start ;;
stop)
  dir=$(chosen_dir "${2:-}")
  stop_dir "$dir"
  ;;
status)
  dir=$(chosen_dir "${2:-}")
  if pid=$(server_pid "$dir"); then
    echo "s3-server: MinIO running on 127.0.0.1:$(cat "$dir/port") (pid $pid)"
  else
    echo "s3-server: not running"
    exit 1
  fi
  ;;
*)
  echo "usage: scripts/s3-server.sh start|stop [dir]|status [dir]|build" >&2
  exit 2
  ;;
esac

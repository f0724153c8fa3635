#!/bin/sh
# The whole test suite, runnable on a fresh machine: `deno task test`.
# It checks formatting, lint and types, installs delta-rs, pyarrow and the
# moto S3 server into .cache/venv, starts the S3 server on 127.0.0.1, runs
# every test, and stops the server again.
#
# Extra arguments go to `deno test` (for example a path or --filter).
set -eu
cd "$(dirname "$0")/.."

echo "== format, lint and type checks"
deno fmt --check
deno lint
deno check main.ts src/ tests/ bench/ scripts/

echo "== test dependencies"
NEURALAKE_TEST_PYTHON=$(scripts/ensure-python.sh)
export NEURALAKE_TEST_PYTHON

echo "== S3 test server"
eval "$(scripts/s3-server.sh start)"
trap 'scripts/s3-server.sh stop >/dev/null 2>&1 || true' EXIT INT TERM

echo "== tests"
deno test -A --no-prompt "$@"

#!/bin/sh
# The whole test suite, runnable on a fresh machine: `deno task test`.
# It checks formatting, lint and types, installs delta-rs and pyarrow into
# .cache/venv, builds MinIO into .cache/minio (once, about 8 minutes), starts a
# MinIO server and an Apache Kafka broker of its own on 127.0.0.1, runs every
# test, and stops both again. The last line it prints is the count, `N passed, N failed` (with
# `, N skipped` when tests were ignored), taken from deno test's own summary;
# the exit status is deno test's.
#
# Extra arguments go to `deno test` (for example a path or --filter).
set -eu
cd "$(dirname "$0")/.."

# Runs one preparation step; if it fails, says so as the closing line.
step() {
  what=$1
  shift
  if ! "$@"; then
    echo
    echo "no tests ran: $what failed"
    exit 1
  fi
}

echo "== format, lint and type checks"
step "deno fmt --check" deno fmt --check
step "deno lint" deno lint
step "deno check" deno check main.ts src/ tests/ bench/ scripts/

echo "== test dependencies"
if ! NEURALAKE_TEST_PYTHON=$(scripts/ensure-python.sh); then
  echo
  echo "no tests ran: installing the Python test dependencies failed"
  exit 1
fi
export NEURALAKE_TEST_PYTHON
# Spark with Delta (a venv and jars under .cache/; needs Java 17 and mvn).
# `eval "$(...)"` would hide a failure, so the output is taken first.
if ! sparkenv=$(scripts/ensure-spark.sh); then
  echo
  echo "no tests ran: installing Spark with Delta failed"
  exit 1
fi
eval "$sparkenv"

echo "== S3 test server (MinIO)"
if ! s3env=$(scripts/s3-server.sh start); then
  echo
  echo "no tests ran: the MinIO test server did not start"
  exit 1
fi
eval "$s3env"
trap 'scripts/s3-server.sh stop "$NEURALAKE_S3_SERVER" >/dev/null 2>&1 || true' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "== Kafka test broker"
# Apache Kafka in KRaft mode from Maven Central jars (.cache/kafka; needs Java
# 17 and, once, mvn). Kafka tests always run here: they skip only when
# NEURALAKE_KAFKA_BROKERS is unset outside this command and outside CI.
if ! kafkaenv=$(scripts/kafka-server.sh start); then
  echo
  echo "no tests ran: the Kafka test broker did not start"
  exit 1
fi
eval "$kafkaenv"

echo "== tests"
out=$(mktemp "${TMPDIR:-/tmp}/neuralake-test.XXXXXX")
# The tables, runs and copies the tests make (gigabytes in all: stream and
# chaos runs write real data) go into one directory of this run, removed at
# the end; NEURALAKE_KEEP_TEST_TMP=1 keeps it to look into a failure.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/neuralake-tests.XXXXXX")
trap 'scripts/kafka-server.sh stop "$NEURALAKE_KAFKA_SERVER" >/dev/null 2>&1 || true
scripts/s3-server.sh stop "$NEURALAKE_S3_SERVER" >/dev/null 2>&1 || true
if [ -n "${NEURALAKE_KEEP_TEST_TMP:-}" ]; then echo "test files kept in $scratch"; else rm -rf "$scratch"; fi' EXIT
# The status of deno test itself, not of tee: a pipeline's status is its last
# command's, so it goes through a file.
{
  status=0
  TMPDIR=$scratch deno test -A --no-prompt "$@" 2>&1 || status=$?
  echo "$status" >"$out.status"
} | tee "$out"
status=$(cat "$out.status" 2>/dev/null || echo 1)
# Deno's summary: `ok | 12 passed (3 steps) | 0 failed | 1 ignored (2s)`.
summary=$(sed 's/\x1b\[[0-9;]*m//g' "$out" | grep -E '^(ok|FAILED) \| [0-9]+ passed' | tail -n 1 || true)
rm -f "$out" "$out.status"
echo
if [ -z "$summary" ]; then
  echo "no tests ran: deno test stopped with status $status before its summary"
else
  count() { echo "$summary" | grep -oE "[0-9]+ $1" | head -n 1 | cut -d' ' -f1; }
  passed=$(count passed)
  failed=$(count failed)
  ignored=$(count ignored)
  line="${passed:-0} passed, ${failed:-0} failed"
  if [ "${ignored:-0}" -gt 0 ]; then line="$line, $ignored skipped"; fi
  echo "$line"
fi
exit "$status"

#!/bin/sh
# Regenerates the fixture tables under tests/fixtures/ with the real engines:
# delta-rs (the test venv, scripts/requirements-test.txt) and Apache Spark
# with Delta (scripts/ensure-spark.sh). A maintainer step, not part of the
# test command: the tests read the committed tables.
#
#   scripts/make-fixtures.sh                 every fixture
#   scripts/make-fixtures.sh NAME...         only these (spark_* or deltars_*)
#
# Each table's expected rows (tests/fixtures/expected/NAME.ndjson) are the
# rows the engine that wrote it reads back. tests/fixtures/manifest.json is
# updated in place; what the tests expect of neuralake per table is kept.
set -eu
cd "$(dirname "$0")/.."
case "${1:-}" in
-h | --help)
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
  ;;
esac
spark_names="" rs_names="" all=1
for name in "$@"; do
  all=0
  case "$name" in
  spark_*) spark_names="$spark_names $name" ;;
  deltars_*) rs_names="$rs_names $name" ;;
  *)
    echo "make-fixtures: unknown fixture \"$name\": names start with spark_ or deltars_" >&2
    exit 1
    ;;
  esac
done
if [ "$all" = 1 ] || [ -n "$rs_names" ]; then
  python=$(scripts/ensure-python.sh)
  # shellcheck disable=SC2086
  "$python" scripts/fixtures/delta_rs_tables.py $rs_names
fi
if [ "$all" = 1 ] || [ -n "$spark_names" ]; then
  eval "$(scripts/ensure-spark.sh)"
  # shellcheck disable=SC2086
  "$NEURALAKE_SPARK_PYTHON" scripts/fixtures/spark_tables.py $spark_names
fi
du -sh tests/fixtures >&2

#!/bin/sh
# Makes sure Apache Spark with Delta is ready for the interop tests and the
# fixture generator: a Python venv with pyspark and delta-spark
# (scripts/spark/requirements.txt) and the Delta jars from Maven Central
# (scripts/spark/pom.xml), both under the git-ignored .cache/. Idempotent:
# nothing is installed again while the pins are unchanged.
#
# Needs Java 17 (`java` on PATH or JAVA_HOME) and Maven (`mvn`). Prints the
# export lines for the tests on stdout:
#   NEURALAKE_SPARK_PYTHON  the venv's python
#   NEURALAKE_SPARK_JARS    the Delta jars, comma-separated, for spark.jars
#
#   eval "$(scripts/ensure-spark.sh)"
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
venv=.cache/spark-venv
jars=.cache/spark-jars
req=scripts/spark/requirements.txt
pom=scripts/spark/pom.xml

java_bin=java
if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then java_bin="$JAVA_HOME/bin/java"; fi
if ! command -v "$java_bin" >/dev/null 2>&1; then
  echo "ensure-spark: Java 17 is needed for Spark: install a JDK 17 (e.g. apt-get install openjdk-17-jdk-headless) or set JAVA_HOME" >&2
  exit 1
fi
java_version=$("$java_bin" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)
case "$java_version" in
17 | 21) ;;
*)
  echo "ensure-spark: Spark 4.0 runs on Java 17 or 21, found Java ${java_version:-unknown}: install a JDK 17 or set JAVA_HOME to one" >&2
  exit 1
  ;;
esac

want=$(cat "$req" "$pom" | sha256sum | cut -d' ' -f1)
stamp="$venv/.spark.sha256"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  if ! command -v mvn >/dev/null 2>&1; then
    echo "ensure-spark: Maven (mvn) is needed to fetch the Delta jars: install it (e.g. apt-get install maven)" >&2
    exit 1
  fi
  py=$(command -v python3 || command -v python || true)
  if [ -z "$py" ]; then
    echo "ensure-spark: python3 is needed to install pyspark" >&2
    exit 1
  fi
  echo "ensure-spark: installing $(grep -v '^#' "$req" | tr '\n' ' ')into $venv (about 450 MB, once)" >&2
  rm -rf "$venv" "$jars"
  "$py" -m venv "$venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >&2
  echo "ensure-spark: fetching the Delta jars into $jars" >&2
  # Spark brings its own Scala library; a second one would clash.
  mvn -q -B -Dstyle.color=never -f "$pom" dependency:copy-dependencies -DincludeScope=runtime \
    -DexcludeGroupIds=org.scala-lang -DoutputDirectory="$root/$jars" >&2
  echo "$want" > "$stamp"
fi
list=$(ls "$root/$jars"/*.jar | tr '\n' ',' | sed 's/,$//')
if [ -z "$list" ]; then
  echo "ensure-spark: no jars in $jars: remove $venv and run again" >&2
  exit 1
fi
echo "export NEURALAKE_SPARK_PYTHON='$root/$venv/bin/python'"
echo "export NEURALAKE_SPARK_JARS='$list'"

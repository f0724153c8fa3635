"""Apache Spark with Delta as an independent reader (and writer) for
neuralake's interop tests: one JVM for many tables.

Reads one JSON request on stdin and prints one JSON answer on stdout:
  {"sql"?: ["statement", ...],            run first, in order; rows returned
   "reads"?: [{"uri": ..., "version"?: N, "timestamp"?: "yyyy-MM-dd HH:mm:ss.SSS",
               "columns"?: [...]}, ...],      (timestamp: timestampAsOf)
   "conf"?: {"spark.key": "value"}}
  -> {"ok": true,
      "sql": [{"ok": true, "rows": [...]} | {"ok": false, ...}, ...],
      "reads": [{"ok": true, "version": N, "schema": {...}, "rows": [...]}
                | {"ok": false, "error": ..., "message": ...}, ...]}

Rows are in the canonical form of tests/py/canonical.py, sorted by their
JSON text. A failing statement or read is reported as data and the rest go
on; an error before any work (no jars, no Java) answers {"ok": false, ...}.

Also: `spark_tool.py TABLE_PATH...` prints each table's rows as NDJSON.
Needs `$NEURALAKE_SPARK_JARS` (see scripts/ensure-spark.sh).
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import canonical  # noqa: E402
import spark_session  # noqa: E402


# Tables in tests are tiny: interpreting plans is faster than compiling them
# (about half the time of a run on a busy 2-core machine).
FAST = {"spark.sql.codegen.wholeStage": "false", "spark.sql.codegen.factoryMode": "NO_CODEGEN"}


def failure(error):
    message = str(error)
    # Spark's messages carry a JVM stack trace; the first lines say what failed.
    return {"ok": False, "error": type(error).__name__, "message": "\n".join(message.splitlines()[:3])}


def table_version(spark, uri):
    """The version of the snapshot that Spark's read just loaded (cached: no job)."""
    jvm = spark.sparkContext._jvm
    log = jvm.org.apache.spark.sql.delta.DeltaLog.forTable(spark._jsparkSession, uri)
    return log.unsafeVolatileSnapshot().version()


def read(spark, req):
    uri = req["uri"]
    reader = spark.read.format("delta")
    if req.get("version") is not None:
        reader = reader.option("versionAsOf", int(req["version"]))
    if req.get("timestamp") is not None:
        reader = reader.option("timestampAsOf", req["timestamp"])
    df = reader.load(uri)
    if req.get("columns"):
        df = df.select(*req["columns"])
    schema = df.schema.jsonValue()
    rows = [canonical.row(r.asDict(recursive=False), schema["fields"]) for r in df.collect()]
    version = req["version"] if req.get("version") is not None else table_version(spark, uri)
    rows.sort(key=canonical.line)
    return {"ok": True, "version": version, "schema": schema, "rows": rows}


def sql(spark, statement):
    df = spark.sql(statement)
    schema = df.schema.jsonValue()
    rows = [canonical.row(r.asDict(recursive=False), schema["fields"]) for r in df.collect()]
    return {"ok": True, "rows": rows}


def main():
    if len(sys.argv) > 1:
        if sys.argv[1] in ("-h", "--help"):
            print(__doc__)
            return
        spark = spark_session.start("neuralake-spark-tool", FAST)
        for uri in sys.argv[1:]:
            for r in read(spark, {"uri": os.path.abspath(uri)})["rows"]:
                print(canonical.line(r))
        return
    req = json.load(sys.stdin)
    try:
        spark = spark_session.start("neuralake-spark-tool", {**FAST, **(req.get("conf") or {})})
    except Exception as error:
        print(json.dumps(failure(error)), flush=True)
        return
    out = {"ok": True, "sql": [], "reads": []}
    for statement in req.get("sql", []):
        try:
            out["sql"].append(sql(spark, statement))
        except Exception as error:
            out["sql"].append(failure(error))
    for r in req.get("reads", []):
        try:
            out["reads"].append(read(spark, r))
        except Exception as error:
            out["reads"].append(failure(error))
    print(json.dumps(out, ensure_ascii=False), flush=True)
    spark.stop()


main()

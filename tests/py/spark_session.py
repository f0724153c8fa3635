"""One local Spark session with Delta Lake for the tests and the fixture
generator: local mode on 127.0.0.1, no UI, UTC everywhere, few partitions.

The Delta jars are `$NEURALAKE_SPARK_JARS` (comma-separated), as printed by
`scripts/ensure-spark.sh`.
"""
import os
import tempfile
import time


def start(app="neuralake-tests", conf=None):
    os.environ["TZ"] = "UTC"
    time.tzset()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", os.sys.executable)
    jars = os.environ.get("NEURALAKE_SPARK_JARS")
    if not jars:
        raise RuntimeError(
            "NEURALAKE_SPARK_JARS is not set: run `eval \"$(scripts/ensure-spark.sh)\"` first"
        )
    from pyspark.sql import SparkSession

    scratch = tempfile.mkdtemp(prefix="neuralake-spark-")
    builder = (
        SparkSession.builder.appName(app)
        .master("local[2]")
        .config("spark.jars", jars)
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        .config("spark.sql.catalogImplementation", "in-memory")
        .config("spark.sql.warehouse.dir", os.path.join(scratch, "warehouse"))
        .config("spark.local.dir", scratch)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.memory", "1g")
        .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xss4m")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.databricks.delta.snapshotPartitions", "2")
        .config("spark.sql.sources.parallelPartitionDiscovery.parallelism", "2")
    )
    for key, val in (conf or {}).items():
        builder = builder.config(key, val)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark

"""The delta-rs side of `deno task bench`: each scenario as neuralake runs it,
done with the `deltalake` Python package (Rust underneath), timed inside this
process so that interpreter start-up is not counted.

Usage: python delta_rs_bench.py '<json request>'; prints one JSON object.
"""
import json
import multiprocessing
import os
import resource
import sys
import time

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import deltalake
from deltalake.exceptions import CommitFailedError


def percentile(values, p):
    if not values:
        return 0.0
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(-(-len(s) * p // 100)) - 1))
    return s[k]


def load_pool(path):
    return pq.read_table(path)


def batch_of(pool, offset, rows, writer, seq):
    n = pool.num_rows
    offset %= max(1, n - rows)
    batch = pool.slice(offset, rows)
    batch = batch.set_column(batch.schema.get_field_index("writer_id"), "writer_id",
                             pa.array([writer] * rows, pa.string()))
    batch = batch.set_column(batch.schema.get_field_index("batch_seq"), "batch_seq",
                             pa.array([seq] * rows, pa.int64()))
    return batch


def stream_writer(uri, pool_path, rows, seconds, writer, options, out):
    """One writer process. It always reports, even when it fails, so the
    parent never waits on a writer that is gone."""
    try:
        pool = load_pool(pool_path)
        latencies = []
        written = 0
        seq = 0
        failed_commits = 0
        start = time.perf_counter()
        deadline = start + seconds
        while time.perf_counter() < deadline:
            batch = batch_of(pool, seq * rows + hash(writer) % 100000, rows, writer, seq)
            t0 = time.perf_counter()
            # delta-rs gives up after its own commit retries; a client then
            # writes the batch again, and the batch's latency includes that.
            for attempt in range(1, 11):
                try:
                    deltalake.write_deltalake(uri, batch, mode="append", storage_options=options)
                    break
                except CommitFailedError:
                    failed_commits += 1
                    if attempt == 10:
                        raise
            latencies.append((time.perf_counter() - t0) * 1000)
            written += rows
            seq += 1
        out.put({"writer": writer, "rows": written, "commits": seq, "latencies": latencies,
                 "failed_commits": failed_commits, "seconds": time.perf_counter() - start})
    except BaseException as error:  # noqa: BLE001 - reported to the parent
        out.put({"writer": writer, "error": repr(error)})


def stream(req):
    uri, rows, seconds = req["uri"], req["rows"], req["seconds"]
    options = req.get("storage_options")
    pool = load_pool(req["pool"])
    # The table exists before the writers start, as for neuralake.
    deltalake.write_deltalake(uri, pool.slice(0, 0), mode="append", storage_options=options)
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=stream_writer,
                         args=(uri, req["pool"], rows, seconds, f"writer-{w}", options, queue))
             for w in range(req["writers"])]
    started = time.perf_counter()
    for p in procs:
        p.start()
    results = [queue.get(timeout=seconds + 600) for _ in procs]
    for p in procs:
        p.join()
    errors = [f"{r['writer']}: {r['error']}" for r in results if "error" in r]
    if errors:
        raise RuntimeError("delta-rs writers failed: " + "; ".join(errors))
    wall = time.perf_counter() - started
    latencies = [l for r in results for l in r["latencies"]]
    rows_total = sum(r["rows"] for r in results)
    commits = sum(r["commits"] for r in results)
    # Writers start after interpreter spawn; measure over their own time.
    writing = max(r["seconds"] for r in results)
    dt = deltalake.DeltaTable(uri, storage_options=options)
    table_rows = dt.to_pyarrow_table(columns=["batch_seq"]).num_rows
    # Bytes per row of the files the writers wrote (local tables only).
    bytes_per_row = 0.0
    if req.get("measure_bytes"):
        size = sum(os.path.getsize(u.replace("file://", "")) for u in dt.file_uris())
        bytes_per_row = size / max(1, table_rows)
    return {"rows": rows_total, "table_rows": table_rows, "commits": commits,
            "bytes_per_row": bytes_per_row,
            "seconds": writing, "wall": wall,
            "failed_commits": sum(r["failed_commits"] for r in results),
            "rows_per_second": rows_total / writing, "commits_per_second": commits / writing,
            "latency_p50": percentile(latencies, 50), "latency_p99": percentile(latencies, 99)}


def bulk(req):
    table = load_pool(req["pool"])
    if req["rows"] < table.num_rows:
        table = table.slice(0, req["rows"])
    t0 = time.perf_counter()
    deltalake.write_deltalake(req["uri"], table, mode="append")
    seconds = time.perf_counter() - t0
    dt = deltalake.DeltaTable(req["uri"])
    size = sum(os.path.getsize(u.replace("file://", "")) for u in dt.file_uris())
    return {"seconds": seconds, "rows": table.num_rows, "bytes": size,
            "table_rows": dt.to_pyarrow_table(columns=["batch_seq"]).num_rows}


def cpu_seconds():
    """CPU time of this process so far, every thread, user and system."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def compact(req):
    dt = deltalake.DeltaTable(req["uri"])
    before = len(dt.file_uris())
    c0 = cpu_seconds()
    t0 = time.perf_counter()
    metrics = dt.optimize.compact(target_size=req["target_size"])
    seconds = time.perf_counter() - t0
    cpu = cpu_seconds() - c0
    dt = deltalake.DeltaTable(req["uri"])
    return {"seconds": seconds, "cpu_seconds": cpu, "files_before": before,
            "files_after": len(dt.file_uris()),
            "metrics": {k: v for k, v in metrics.items() if isinstance(v, (int, float))},
            "table_rows": dt.to_pyarrow_table(columns=["batch_seq"]).num_rows}


def vacuum(req):
    dt = deltalake.DeltaTable(req["uri"])
    c0 = cpu_seconds()
    t0 = time.perf_counter()
    deleted = dt.vacuum(retention_hours=0, dry_run=False, enforce_retention_duration=False,
                        full=bool(req.get("full", False)))
    seconds = time.perf_counter() - t0
    cpu = cpu_seconds() - c0
    dt = deltalake.DeltaTable(req["uri"])
    return {"seconds": seconds, "cpu_seconds": cpu, "deleted": len(deleted),
            "table_rows": dt.to_pyarrow_table(columns=["n"]).num_rows}


def unlink(req):
    """The floor of a full vacuum on local disk, for the vacuum scenario: the
    same expired files unlinked one by one on one thread, by name relative to
    the open directory (what a C loop of unlinkat(2) does; measured as cheap
    as one), listed and sorted before the clock starts. No listing, log or
    plan is timed: no vacuum that unlinks these files on one thread can be
    faster."""
    root = req["uri"]
    keep = set(req["keep"])
    names = sorted(n for n in os.listdir(root) if n.endswith(".parquet") and n not in keep)
    fd = os.open(root, os.O_RDONLY)
    c0 = cpu_seconds()
    t0 = time.perf_counter()
    for name in names:
        os.unlink(name, dir_fd=fd)
    seconds = time.perf_counter() - t0
    cpu = cpu_seconds() - c0
    os.close(fd)
    left = sum(1 for n in os.listdir(root) if n.endswith(".parquet"))
    return {"seconds": seconds, "cpu_seconds": cpu, "deleted": len(names), "table_rows": left}


def open_table(req):
    times = []
    cpus = []
    for _ in range(req.get("repeat", 1)):
        c0 = cpu_seconds()
        t0 = time.perf_counter()
        dt = deltalake.DeltaTable(req["uri"])
        times.append(time.perf_counter() - t0)
        cpus.append(cpu_seconds() - c0)
    return {"seconds": min(times), "cpu_seconds": min(cpus), "version": dt.version(),
            "files": len(dt.file_uris())}


def scan(req):
    dt = deltalake.DeltaTable(req["uri"])
    filters = None
    if req.get("between"):
        lo, hi = req["between"]
        lo = pa.scalar(lo, pa.timestamp("us", tz="UTC"))
        hi = pa.scalar(hi, pa.timestamp("us", tz="UTC"))
        filters = (ds.field("timestamp_us") >= lo) & (ds.field("timestamp_us") < hi)
    t0 = time.perf_counter()
    dataset = dt.to_pyarrow_dataset()
    fragments = len(list(dataset.get_fragments(filter=filters))) if filters is not None else len(
        dt.file_uris())
    table = dataset.to_table(filter=filters)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "rows": table.num_rows, "files_read": fragments}


def appends(req):
    # Small appends one after another, each timed as a whole.
    options = req.get("storage_options")
    pool = load_pool(req["pool"])
    uri = req["uri"]
    deltalake.write_deltalake(uri, pool.slice(0, 0), mode="append", storage_options=options)
    latencies = []
    for i in range(req["count"]):
        batch = batch_of(pool, i * req["rows"], req["rows"], "writer-0", i)
        t0 = time.perf_counter()
        deltalake.write_deltalake(uri, batch, mode="append", storage_options=options)
        latencies.append((time.perf_counter() - t0) * 1000)
    table_rows = deltalake.DeltaTable(uri, storage_options=options).to_pyarrow_table(
        columns=["batch_seq"]).num_rows
    return {"latency_p50": percentile(latencies, 50), "latency_p99": percentile(latencies, 99),
            "table_rows": table_rows, "rows": req["count"] * req["rows"]}


OPS = {"appends": appends, "stream": stream, "bulk": bulk, "compact": compact, "vacuum": vacuum,
       "unlink": unlink, "open": open_table, "scan": scan}

if __name__ == "__main__":
    request = json.loads(sys.argv[1])
    print(json.dumps(OPS[request["op"]](request)), flush=True)
    # delta-rs's runtime sometimes aborts while the interpreter shuts down;
    # the answer is printed, so leave without the shutdown.
    os._exit(0)

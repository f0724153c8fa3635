"""An independent Parquet reader and writer for the tests (pyarrow and delta-rs).

Reads one JSON request on stdin and prints one JSON answer on stdout. Values
travel as tagged JSON so nothing is lost on the way: {"i": "123"} integers
(timestamps in their stored unit, dates in days), {"f": "<hex of the
little-endian double>"} floats, {"s": ...} strings, {"b": "<hex>"} bytes,
{"d": "<unscaled>"} decimals, true/false, null, {"struct": {...}},
{"list": [...]}, {"map": [[k, v], ...]}.

Commands:
  read        {"path", "columns"?}        -> schema, columns, footer metadata
  rows        {"path", "columns"?}        -> schema, rows (nested data)
  write       {"path", "columns", "options"} -> writes a file with pyarrow
  delta_rs    {"path"}                    -> rows as delta-rs (arrow-rs) reads them
"""

import datetime
import decimal
import json
import os
import re
import shutil
import struct
import sys
import tempfile

import pyarrow as pa
import pyarrow.parquet as pq

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
EPOCH_DATE = datetime.date(1970, 1, 1)


def float_hex(v):
    return "nan" if v != v else struct.pack("<d", v).hex()


def unscaled(v, scale):
    sign, digits, exponent = v.as_tuple()
    n = int("".join(map(str, digits)) or "0")
    shift = exponent + scale
    n = n * 10**shift if shift >= 0 else n // 10 ** (-shift)
    return -n if sign else n


def tag(v, t):
    if v is None:
        return None
    if pa.types.is_boolean(t):
        return bool(v)
    if pa.types.is_integer(t):
        return {"i": str(v)}
    if pa.types.is_floating(t):
        return {"f": float_hex(float(v))}
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return {"s": v}
    if (pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t)
            or pa.types.is_binary_view(t)):
        return {"b": bytes(v).hex()}
    if pa.types.is_decimal(t):
        return {"d": str(unscaled(v, t.scale))}
    if pa.types.is_timestamp(t):
        if isinstance(v, int):
            return {"i": str(v)}
        if v.tzinfo is None:
            v = v.replace(tzinfo=datetime.timezone.utc)
        return {"i": str((v - EPOCH) // datetime.timedelta(microseconds=1))}
    if pa.types.is_date(t):
        return {"i": str((v - EPOCH_DATE).days)}
    if pa.types.is_struct(t):
        return {"struct": {f.name: tag(v.get(f.name), f.type) for f in t}}
    if pa.types.is_map(t):
        return {"map": [[tag(k, t.key_type), tag(x, t.item_type)] for k, x in v]}
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return {"list": [tag(x, t.value_type) for x in v]}
    raise TypeError(f"no tag for {t}")


def flat_array(arr):
    """Timestamps as int64 in their unit, dates as int32 days."""
    t = arr.type
    if pa.types.is_timestamp(t) or pa.types.is_date64(t):
        return arr.cast(pa.int64())
    if pa.types.is_date32(t):
        return arr.cast(pa.int32())
    return arr


def schema_json(schema):
    return [{"name": f.name, "type": str(f.type), "nullable": f.nullable} for f in schema]


def raw_stat(v, physical):
    if v is None:
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return {"i": str(v)}
    if isinstance(v, float):
        return {"f": float_hex(v)}
    if isinstance(v, (bytes, bytearray)):
        return {"b": bytes(v).hex()}
    if isinstance(v, str):
        return {"b": v.encode().hex()}
    return {"s": str(v)}


def footer(meta):
    groups = []
    for g in range(meta.num_row_groups):
        rg = meta.row_group(g)
        cols = []
        for c in range(rg.num_columns):
            cc = rg.column(c)
            st = cc.statistics
            stats = None
            if st is not None:
                stats = {
                    "has_min_max": st.has_min_max,
                    "null_count": st.null_count if st.has_null_count else None,
                    "min": raw_stat(st.min_raw, cc.physical_type) if st.has_min_max else None,
                    "max": raw_stat(st.max_raw, cc.physical_type) if st.has_min_max else None,
                }
            cols.append({
                "path": cc.path_in_schema,
                "physical_type": cc.physical_type,
                "logical_type": str(cc.statistics.logical_type) if st is not None else None,
                "compression": cc.compression,
                "encodings": list(cc.encodings),
                "has_dictionary_page": cc.has_dictionary_page,
                "stats": stats,
            })
        groups.append({"num_rows": rg.num_rows, "columns": cols})
    return {"num_rows": meta.num_rows, "created_by": meta.created_by, "row_groups": groups}


def parquet_schema(f):
    out = []
    s = f.schema
    for i in range(len(s)):
        col = s.column(i)
        out.append({
            "path": col.path,
            "physical_type": col.physical_type,
            "logical_type": str(col.logical_type),
            "converted_type": str(col.converted_type),
            "max_definition_level": col.max_definition_level,
            "length": col.length,
            "precision": col.precision,
            "scale": col.scale,
        })
    return out


def read(req):
    f = pq.ParquetFile(req["path"], coerce_int96_timestamp_unit="us")
    table = f.read(columns=req.get("columns"))
    columns = {}
    for name in table.column_names:
        arr = flat_array(table.column(name).combine_chunks())
        columns[name] = [tag(v, arr.type) for v in arr.to_pylist()]
    return {
        "schema": schema_json(table.schema),
        "parquet_schema": parquet_schema(f),
        "num_rows": table.num_rows,
        "columns": columns,
        "metadata": footer(f.metadata),
    }


def rows(req):
    f = pq.ParquetFile(req["path"], coerce_int96_timestamp_unit="us")
    table = f.read(columns=req.get("columns"))
    fields = list(table.schema)
    return {
        "schema": schema_json(table.schema),
        "rows": [{fl.name: tag(r[fl.name], fl.type) for fl in fields} for r in table.to_pylist()],
    }


TYPES = {
    "int8": pa.int8(), "int16": pa.int16(), "int32": pa.int32(), "int64": pa.int64(),
    "uint8": pa.uint8(), "uint16": pa.uint16(), "uint32": pa.uint32(),
    "float32": pa.float32(), "float64": pa.float64(), "bool": pa.bool_(),
    "string": pa.string(), "binary": pa.binary(), "date32": pa.date32(),
}


def parse_type(name):
    if name in TYPES:
        return TYPES[name]
    m = re.fullmatch(r"timestamp\[(s|ms|us|ns)(?:, tz=(\w+))?\]", name)
    if m:
        return pa.timestamp(m.group(1), tz=m.group(2))
    m = re.fullmatch(r"decimal128\((\d+), ?(\d+)\)", name)
    if m:
        return pa.decimal128(int(m.group(1)), int(m.group(2)))
    m = re.fullmatch(r"fixed_size_binary\[(\d+)\]", name)
    if m:
        return pa.binary(int(m.group(1)))
    raise ValueError(f"unknown type {name}")


def untag(v, t):
    if v is None or isinstance(v, bool):
        return v
    if "i" in v:
        return int(v["i"])
    if "f" in v:
        return float("nan") if v["f"] == "nan" else struct.unpack("<d", bytes.fromhex(v["f"]))[0]
    if "s" in v:
        return v["s"]
    if "b" in v:
        return bytes.fromhex(v["b"])
    if "d" in v:
        with decimal.localcontext(prec=80):
            return decimal.Decimal(int(v["d"])).scaleb(-t.scale)
    raise ValueError(f"cannot untag {v}")


def build(col):
    t = parse_type(col["type"])
    values = [untag(v, t) for v in col["values"]]
    if pa.types.is_timestamp(t):
        arr = pa.array(values, pa.int64()).cast(t)
    elif pa.types.is_date32(t):
        arr = pa.array(values, pa.int32()).cast(t)
    else:
        arr = pa.array(values, t)
    return pa.field(col["name"], t, col.get("nullable", True)), arr


def write(req):
    built = [build(c) for c in req["columns"]]
    table = pa.Table.from_arrays([a for _, a in built], schema=pa.schema([f for f, _ in built]))
    pq.write_table(table, req["path"], **req.get("options", {}))
    return {"ok": True}


def delta_rs(req):
    from deltalake import DeltaTable, QueryBuilder, convert_to_deltalake

    tmp = tempfile.mkdtemp()
    try:
        shutil.copy(req["path"], os.path.join(tmp, "part-00000.parquet"))
        convert_to_deltalake(tmp)
        table = pa.table(QueryBuilder().register("t", DeltaTable(tmp)).execute("select * from t").read_all())
        fields = list(table.schema)
        cols = {fl.name: flat_array(table.column(fl.name).combine_chunks()) for fl in fields}
        out = []
        for i in range(table.num_rows):
            out.append({fl.name: tag(cols[fl.name][i].as_py(), cols[fl.name].type) for fl in fields})
        return {"schema": schema_json(table.schema), "rows": out}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


ADD_TYPE = pa.struct([
    ("path", pa.string()),
    ("partitionValues", pa.map_(pa.string(), pa.string())),
    ("size", pa.int64()),
    ("modificationTime", pa.int64()),
    ("dataChange", pa.bool_()),
    ("stats", pa.string()),
])


def write_adds(req):
    """A checkpoint file (a part or a sidecar) that holds only `add` actions,
    written as Spark's parquet-mr writes them: v1 data pages, no nulls."""
    adds = [
        {**a, "partitionValues": list(a.get("partitionValues", {}).items())}
        for a in req["adds"]
    ]
    table = pa.Table.from_arrays([pa.array(adds, type=ADD_TYPE)], names=["add"])
    pq.write_table(table, req["path"], data_page_version="1.0")
    return {"ok": True}


STR_MAP = pa.map_(pa.string(), pa.string())
CHECKPOINT_TYPES = {
    "add": ADD_TYPE,
    "metaData": pa.struct([
        ("id", pa.string()),
        ("format", pa.struct([("provider", pa.string()), ("options", STR_MAP)])),
        ("schemaString", pa.string()),
        ("partitionColumns", pa.list_(pa.string())),
        ("createdTime", pa.int64()),
        ("configuration", STR_MAP),
    ]),
    "protocol": pa.struct([
        ("minReaderVersion", pa.int32()),
        ("minWriterVersion", pa.int32()),
        ("readerFeatures", pa.list_(pa.string())),
        ("writerFeatures", pa.list_(pa.string())),
    ]),
    "checkpointMetadata": pa.struct([("version", pa.int64()), ("tags", STR_MAP)]),
    "sidecar": pa.struct([
        ("path", pa.string()),
        ("sizeInBytes", pa.int64()),
        ("modificationTime", pa.int64()),
        ("tags", STR_MAP),
    ]),
}


def as_arrow_value(value):
    """JSON objects that are maps in the checkpoint schema become key-value lists."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k in ("partitionValues", "options", "configuration", "tags"):
                out[k] = list((v or {}).items())
            else:
                out[k] = as_arrow_value(v)
        return out
    return value


def write_checkpoint(req):
    """A checkpoint file with one column per action kind present, one row per
    action (v1 pages, as parquet-mr writes them)."""
    kinds = [k for k in CHECKPOINT_TYPES if any(k in a for a in req["actions"])]
    arrays = [
        pa.array([as_arrow_value(a.get(k)) for a in req["actions"]], type=CHECKPOINT_TYPES[k])
        for k in kinds
    ]
    pq.write_table(pa.Table.from_arrays(arrays, names=kinds), req["path"], data_page_version="1.0")
    return {"ok": True}


def main():
    req = json.load(sys.stdin)
    handler = {
        "read": read, "rows": rows, "write": write, "delta_rs": delta_rs, "write_adds": write_adds,
        "write_checkpoint": write_checkpoint,
    }[req["cmd"]]
    json.dump(handler(req), sys.stdout)


if __name__ == "__main__":
    main()

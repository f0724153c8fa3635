"""Canonical JSON values for comparing rows across engines (Spark, delta-rs,
neuralake) without running them side by side.

The form is neuralake's NDJSON convention, extended to nested values:
  null                 null, at any level
  boolean              true / false
  byte .. long         a number, or a decimal string beyond +-(2^53 - 1)
  float, double        a number, or "NaN", "Infinity", "-Infinity"
  decimal(p,s)         a fixed-point string with exactly s decimals ("1.50")
  string               a string
  binary               base64
  date                 "YYYY-MM-DD"
  timestamp            "YYYY-MM-DDTHH:MM:SS.ffffffZ" (UTC)
  timestamp_ntz        "YYYY-MM-DDTHH:MM:SS.ffffff"
  struct               an object with the fields in schema order
  array                an array
  map                  an array of [key, value] pairs in stored order

Types are Delta schema types (the JSON of the table's schemaString), so both
Spark and delta-rs values are converted from the same description.
"""
import base64
import datetime
import decimal
import json
import math

SAFE = 2**53 - 1
EPOCH = datetime.datetime(1970, 1, 1)


def value(v, dtype):
    """Converts one Python value of Delta type `dtype` (a string or a dict)."""
    if v is None:
        return None
    if isinstance(dtype, dict):
        kind = dtype["type"]
        if kind == "struct":
            if isinstance(v, dict):
                get = v.get
            elif hasattr(v, "asDict"):  # a Spark Row
                d = v.asDict(recursive=False)
                get = d.get
            else:
                raise TypeError(f"not a struct: {v!r}")
            return {f["name"]: value(get(f["name"]), f["type"]) for f in dtype["fields"]}
        if kind == "array":
            return [value(x, dtype["elementType"]) for x in v]
        if kind == "map":
            pairs = v.items() if isinstance(v, dict) else v
            return [[value(k, dtype["keyType"]), value(x, dtype["valueType"])] for k, x in pairs]
        raise TypeError(f"unknown Delta type {dtype!r}")
    if dtype == "timestamp":
        if isinstance(v, datetime.datetime) and v.tzinfo is not None:
            v = v.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return v.isoformat(timespec="microseconds") + "Z"
    if dtype == "timestamp_ntz":
        return v.replace(tzinfo=None).isoformat(timespec="microseconds")
    if dtype == "date":
        return v.isoformat()
    if dtype.startswith("decimal"):
        scale = int(dtype[dtype.index(",") + 1:-1])
        exact = decimal.Context(prec=100)
        return format(decimal.Decimal(v).quantize(decimal.Decimal(1).scaleb(-scale), context=exact), "f")
    if dtype == "binary":
        return base64.b64encode(bytes(v)).decode()
    if dtype in ("byte", "short", "integer", "long"):
        v = int(v)
        return v if -SAFE <= v <= SAFE else str(v)
    if dtype in ("float", "double"):
        v = float(v)
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return v
    if dtype in ("string", "boolean"):
        return v
    raise TypeError(f"unknown Delta type {dtype!r}")


def row(values, fields):
    """A row as an object, fields in schema order; `values` maps name to value."""
    return {f["name"]: value(values.get(f["name"]), f["type"]) for f in fields}


def line(obj):
    """One row as one NDJSON line: compact, keys in the given order, UTF-8."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def ndjson(rows):
    """Rows as NDJSON, sorted by their lines so the order of files never matters."""
    return "".join(sorted(line(r) + "\n" for r in rows))

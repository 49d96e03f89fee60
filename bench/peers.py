"""Peer measurements for `npm run bench`: Python deltalake, Polars, DuckDB (delta extension), pyarrow.

Usage: python peers.py SCENARIO TABLE RUNS [EXTRA_JSON]
Prints one JSON object: {"peer": [seconds, ...] | "error: ..."} for each peer of the scenario.
Timed in-process after one warm-up run, like the zoopipe side; what a peer needs before it can run
(a DuckDB connection with the extension loaded, the rows to write) is set up outside the timing.
`stream_once` is the exception: one stream in this fresh process, no warm-up, with its peak RSS.
"""
import glob
import json
import os
import shutil
import sys
import time

import pyarrow as pa
import pyarrow.parquet as pq

scenario, table, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
extra = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
table = extra.get("table", table)  # another table of the same rows (written by another writer)


def timed(fn):
    fn()  # warm-up
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def duck():
    """One connection with the delta extension loaded, made before the timing."""
    import duckdb
    import duckdb_extension_delta
    ext = glob.glob(os.path.join(os.path.dirname(duckdb_extension_delta.__file__), "extensions", "*", "delta.duckdb_extension"))[0]
    con = duckdb.connect(config={"autoinstall_known_extensions": "false", "allow_unsigned_extensions": "true"})
    con.execute(f"LOAD '{ext}'")
    return con


def peers():
    from deltalake import DeltaTable, write_deltalake
    import polars as pl
    lo, hi = extra.get("lo", 0), extra.get("hi", 0)
    part = extra.get("part", "p3")
    con = duck() if scenario in ("read_full", "read_projected", "read_filtered") else None
    if scenario == "read_full":
        files = [f for f in glob.glob(os.path.join(table, "**", "*.parquet"), recursive=True)]
        return {
            "python-deltalake": lambda: DeltaTable(table).to_pyarrow_table(),
            "polars": lambda: pl.read_delta(table),
            "duckdb": lambda: con.execute(f"SELECT * FROM delta_scan('{table}')").fetch_arrow_table(),
            "pyarrow-parquet (raw files)": lambda: pq.read_table(files),
        }
    if scenario == "read_projected":
        return {
            "python-deltalake": lambda: DeltaTable(table).to_pyarrow_table(columns=["id", "amount"]),
            "polars": lambda: pl.scan_delta(table).select(["id", "amount"]).collect(),
            "duckdb": lambda: con.execute(f"SELECT id, amount FROM delta_scan('{table}')").fetch_arrow_table(),
        }
    if scenario == "read_filtered":
        return {
            "python-deltalake": lambda: DeltaTable(table).to_pyarrow_table(filters=[("part", "=", part), ("id", ">=", lo), ("id", "<", hi)]),
            "polars": lambda: pl.scan_delta(table).filter((pl.col("part") == part) & (pl.col("id") >= lo) & (pl.col("id") < hi)).collect(),
            "duckdb": lambda: con.execute(f"SELECT * FROM delta_scan('{table}') WHERE part = '{part}' AND id >= {lo} AND id < {hi}").fetch_arrow_table(),
        }
    if scenario == "read_full_python_written":
        return {
            "python-deltalake": lambda: DeltaTable(table).to_pyarrow_table(),
            "polars": lambda: pl.read_delta(table),
        }
    if scenario == "time_travel":
        return {
            "python-deltalake": lambda: DeltaTable(table, version=0).to_pyarrow_table(),
            "polars": lambda: pl.read_delta(table, version=0),
        }
    if scenario == "append_table":
        # The very rows zoopipe writes (bench/run.mjs saves them as Arrow IPC before timing).
        data = pa.ipc.open_file(extra["src"]).read_all()
        out = extra["out"]

        def py():
            shutil.rmtree(out, ignore_errors=True)
            write_deltalake(out, data, mode="append")

        df = pl.from_arrow(data)

        def polars():
            shutil.rmtree(out, ignore_errors=True)
            df.write_delta(out, mode="append")
        return {"python-deltalake": py, "polars": polars}
    if scenario == "append_rows":
        # The same rows as a Python user holds them, a list of dicts (made outside the timing), each
        # peer building its table from them as part of the write (as zoopipe does from JS objects);
        # beside Python writing them from a ready Arrow table.
        data = pa.ipc.open_file(extra["src"]).read_all()
        rows = data.to_pylist()
        out = extra["out"]

        def py():
            shutil.rmtree(out, ignore_errors=True)
            write_deltalake(out, pa.Table.from_pylist(rows), mode="append")

        def py_arrow():
            shutil.rmtree(out, ignore_errors=True)
            write_deltalake(out, data, mode="append")

        def polars():
            shutil.rmtree(out, ignore_errors=True)
            pl.DataFrame(rows).write_delta(out, mode="append")
        return {"python-deltalake": py, "python-deltalake (from an Arrow table)": py_arrow, "polars": polars}
    if scenario == "append_partitioned":
        data = pa.ipc.open_file(extra["src"]).read_all()
        out = extra["out"]

        def py():
            shutil.rmtree(out, ignore_errors=True)
            write_deltalake(out, data, mode="append", partition_by=["part"])

        df = pl.from_arrow(data)

        def polars():
            shutil.rmtree(out, ignore_errors=True)
            df.write_delta(out, mode="append", delta_write_options={"partition_by": ["part"]})
        return {"python-deltalake": py, "polars": polars}
    if scenario == "stream_once":
        def stream():
            n = 0
            for b in DeltaTable(table).to_pyarrow_dataset().to_batches():
                n += b.num_rows
        return {"python-deltalake (dataset batches)": stream}
    return {}


if scenario == "copy_with_python":
    # Set-up, not timed: the rows of TABLE as Python deltalake writes them (its own row groups, page
    # sizes and encodings), partitioned the same way, into extra["to"].
    from deltalake import DeltaTable, write_deltalake
    ds = DeltaTable(sys.argv[2]).to_pyarrow_dataset()
    write_deltalake(extra["to"], pa.RecordBatchReader.from_batches(ds.schema, ds.to_batches()), partition_by=["part"])
    print("{}")
    sys.stdout.flush()
    os._exit(0)

result = {}
for name, fn in peers().items():
    try:
        if scenario == "stream_once":
            t = time.perf_counter()
            fn()
            result[name] = [time.perf_counter() - t]
        else:
            result[name] = timed(fn)
    except Exception as e:  # a peer that cannot run here is reported, not fatal
        result[name] = f"error: {type(e).__name__}: {str(e)[:200]}"
if scenario == "stream_once":
    # VmHWM: peak RSS since exec (getrusage's maxrss would include the forking parent's)
    with open("/proc/self/status") as f:
        result["peak_rss_mb"] = next(int(l.split()[1]) for l in f if l.startswith("VmHWM")) / 1024
print(json.dumps(result))
sys.stdout.flush()
os._exit(0)  # pyarrow 26 can abort during interpreter teardown (see __test__/py/read_table.py)

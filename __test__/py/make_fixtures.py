"""Fixture tables written by an independent writer (Python `deltalake`), for zoopipe's read tests.

Usage: python make_fixtures.py OUT_DIR
Commit file mtimes are set to fixed dates (version N -> 2024-01-(N+1) 00:00 UTC) so that time travel
by timestamp is deterministic.
"""
import datetime as dt
import decimal
import json
import os
import shutil
import sys

import pyarrow as pa
import pyarrow.parquet as pq
from deltalake import DeltaTable, convert_to_deltalake, write_deltalake

OUT = sys.argv[1]
EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)


def stamp(path):
    """Give every commit file version N the mtime 2024-01-01 + N days."""
    log = os.path.join(path, "_delta_log")
    for name in os.listdir(log):
        if name.endswith(".json") and name[:20].isdigit():
            v = int(name[:20])
            t = (EPOCH + dt.timedelta(days=v)).timestamp()
            os.utime(os.path.join(log, name), (t, t))


def fresh(name):
    path = os.path.join(OUT, name)
    shutil.rmtree(path, ignore_errors=True)
    return path


def simple():
    path = fresh("simple")
    t = lambda ids: pa.table({
        "id": pa.array(ids, pa.int64()),
        "name": pa.array([f"name-{i}" for i in ids]),
        "value": pa.array([i * 1.5 for i in ids], pa.float64()),
    })
    write_deltalake(path, t([1, 2, 3]), mode="error", name="simple", description="a simple table")  # v0
    write_deltalake(path, t([4, 5]), mode="append")  # v1
    write_deltalake(path, t([10, 11, 12, 13]), mode="overwrite")  # v2
    write_deltalake(path, t([14]), mode="append")  # v3
    stamp(path)


def partitioned():
    path = fresh("partitioned")
    parts = ["a/b", "x=y", "100%", "with space", "ünïcødé", None, "plain"]
    rows = [(i, parts[i % len(parts)], i % 3) for i in range(70)]
    table = pa.table({
        "id": pa.array([r[0] for r in rows], pa.int64()),
        "part": pa.array([r[1] for r in rows], pa.string()),
        "bucket": pa.array([r[2] for r in rows], pa.int32()),
        "amount": pa.array([float(r[0]) * 10 for r in rows], pa.float64()),
    })
    write_deltalake(path, table, partition_by=["part", "bucket"], mode="error")
    stamp(path)


def checkpointed():
    path = fresh("checkpointed")
    for v in range(12):
        batch = pa.table({"v": pa.array([v] * 3, pa.int64()), "k": pa.array([f"k{v}-{j}" for j in range(3)])})
        write_deltalake(path, batch, mode="append" if v else "error")
        if v == 9:
            DeltaTable(path).create_checkpoint()
    stamp(path)


def evolved():
    path = fresh("evolved")
    write_deltalake(path, pa.table({"a": pa.array([1, 2], pa.int64()), "b": ["x", "y"]}), mode="error")
    write_deltalake(path, pa.table({"a": pa.array([3], pa.int64()), "b": ["z"], "c": pa.array([True])}),
                    mode="append", schema_mode="merge")
    stamp(path)


def all_types():
    path = fresh("all_types")
    n = 5
    def nulls(values):  # row 2 is null in every column
        return [None if i == 2 else v for i, v in enumerate(values)]
    table = pa.table({
        "i8": pa.array(nulls([1, -2, 3, 127, -128]), pa.int8()),
        "i16": pa.array(nulls([1, -2, 3, 32767, -32768]), pa.int16()),
        "i32": pa.array(nulls([1, -2, 3, 2**31 - 1, -2**31]), pa.int32()),
        "i64": pa.array(nulls([1, -2, 3, 2**63 - 1, -2**63]), pa.int64()),
        "f32": pa.array(nulls([1.5, -2.25, 0.0, 3.4e38, -1e-3]), pa.float32()),
        "f64": pa.array(nulls([1.5, -2.25, 0.0, 1.7e308, -1e-300]), pa.float64()),
        "dec": pa.array(nulls([decimal.Decimal(x) for x in ["1.23", "-4.56", "0", "99999999.99", "-0.01"]]), pa.decimal128(10, 2)),
        "str": pa.array(nulls(["a", "ünïcødé", "", "with\nnewline", "x" * 300]), pa.string()),
        "bin": pa.array(nulls([b"\x00\x01", b"", b"x", b"\xff" * 10, b"abc"]), pa.binary()),
        "bool": pa.array(nulls([True, False, True, False, True]), pa.bool_()),
        "date": pa.array(nulls([dt.date(2024, 1, 1), dt.date(1970, 1, 1), dt.date(2000, 2, 29), dt.date(1900, 12, 31), dt.date(2099, 6, 15)]), pa.date32()),
        "ts": pa.array(nulls([dt.datetime(2024, 1, 1, 12, 30, 15, 123456, tzinfo=dt.timezone.utc)] * n), pa.timestamp("us", tz="UTC")),
        "ts_ntz": pa.array(nulls([dt.datetime(2024, 5, 6, 7, 8, 9, 10)] * n), pa.timestamp("us")),
        "list": pa.array(nulls([[1, 2], [], [3], [None, 4], [5, 6, 7]]), pa.list_(pa.int32())),
        "struct": pa.array(nulls([{"x": 1, "y": "a"}, {"x": None, "y": "b"}, None, {"x": 4, "y": None}, {"x": 5, "y": "e"}]),
                           pa.struct([("x", pa.int32()), ("y", pa.string())])),
        "map": pa.array(nulls([[("a", 1)], [], None, [("b", 2), ("c", None)], [("d", 4)]]), pa.map_(pa.string(), pa.int32())),
    })
    write_deltalake(path, table, mode="error")
    stamp(path)


def many_files():
    """200k rows in 8 files, sorted by id within a file so that stats can skip files."""
    path = fresh("many_files")
    for f in range(8):
        ids = pa.array(range(f * 25_000, (f + 1) * 25_000), pa.int64())
        table = pa.table({"id": ids, "group": pa.array([f"g{f}"] * 25_000), "x": pa.array([i * 0.5 for i in range(f * 25_000, (f + 1) * 25_000)])})
        write_deltalake(path, table, mode="append" if f else "error")
    stamp(path)


def row_groups():
    """One data file of four 1,000-row groups sorted by id, its timestamps stored as milliseconds
    (pyarrow's Parquet made a table by `convert_to_deltalake`, as tables converted from other
    writers' files are); and a copy whose last row group (ids 3000..3999) is overwritten with garbage."""
    path = fresh("row_groups")
    os.makedirs(path)
    n = 4000
    table = pa.table({
        "id": pa.array(range(n), pa.int64()),
        "ts": pa.array([EPOCH + dt.timedelta(minutes=i) for i in range(n)], pa.timestamp("ms", tz="UTC")),
        "dec": pa.array([decimal.Decimal(i) / 100 for i in range(n)], pa.decimal128(10, 2)),
    })
    data = os.path.join(path, "part-0.parquet")
    pq.write_table(table, data, row_group_size=1000, coerce_timestamps="ms")
    convert_to_deltalake(path)
    stamp(path)
    broken = fresh("row_groups_broken")
    shutil.copytree(path, broken)
    last = pq.ParquetFile(data).metadata.row_group(3)
    with open(os.path.join(broken, "part-0.parquet"), "r+b") as f:
        for i in range(last.num_columns):
            chunk = last.column(i)
            f.seek(chunk.dictionary_page_offset or chunk.data_page_offset)
            f.write(b"\xff" * chunk.total_compressed_size)


def bad_pages():
    """One row group of 4,000 rows in small pages with an offset index, id 0..3999 in order, ts =
    2024-01-01 + id minutes (UTC microseconds); the string column `note` holds invalid UTF-8 from
    id 3000 on (written without stats or a dictionary), so a read that decodes those rows of it fails."""
    path = fresh("bad_pages")
    os.makedirs(path)
    n = 4000
    notes = [b"\xff\xfe" if i >= 3000 else f"note {i}".encode() for i in range(n)]
    table = pa.table({
        "id": pa.array(range(n), pa.int64()),
        "ts": pa.array([EPOCH + dt.timedelta(minutes=i) for i in range(n)], pa.timestamp("us", tz="UTC")),
        "note": pa.array(notes, pa.binary()).view(pa.string()),
    })
    pq.write_table(table, os.path.join(path, "part-0.parquet"), data_page_size=1024, write_page_index=True,
                   use_dictionary=False, write_statistics=["id", "ts"])
    convert_to_deltalake(path)
    stamp(path)


def int96_nested():
    """Timestamps stored as Parquet INT96 (as Spark writes them) inside a list, a map and a struct
    with a list, 9999-12-31 among them (nanoseconds cannot hold it)."""
    path = fresh("int96_nested")
    os.makedirs(path)
    far, near = dt.datetime(9999, 12, 31, tzinfo=dt.timezone.utc), dt.datetime(2022, 1, 1, tzinfo=dt.timezone.utc)
    ts = pa.timestamp("us", tz="UTC")
    table = pa.table({
        "id": pa.array([1, 2], pa.int64()),
        "l": pa.array([[far, near], [None]], pa.list_(ts)),
        "m": pa.array([[("until", far)], [("from", near)]], pa.map_(pa.string(), ts)),
        "s": pa.array([{"at": far, "xs": [far]}, {"at": near, "xs": []}], pa.struct([("at", ts), ("xs", pa.list_(ts))])),
    })
    pq.write_table(table, os.path.join(path, "part-0.parquet"), use_deprecated_int96_timestamps=True)
    convert_to_deltalake(path)
    stamp(path)


def column_mapping():
    """Column mapping 'name' (Python deltalake 1.6.6 reads this table back as all nulls itself)."""
    path = fresh("column_mapping")
    write_deltalake(path, pa.table({"a": pa.array([1, 2, 3], pa.int64()), "b c": ["x", "y", "z"]}),
                    mode="error", configuration={"delta.columnMapping.mode": "name"})
    stamp(path)


def writer_rules():
    """Tables whose writers must compute or check values: a generated column, a CHECK constraint."""
    from deltalake.schema import Field, PrimitiveType, Schema
    path = fresh("generated")
    DeltaTable.create(path, schema=Schema([
        Field("id", PrimitiveType("long"), nullable=True),
        Field("twice", PrimitiveType("long"), nullable=True, metadata={"delta.generationExpression": "id * 2"}),
    ]))
    write_deltalake(path, pa.table({"id": pa.array([1], pa.int64())}), mode="append")
    stamp(path)
    path = fresh("constrained")
    write_deltalake(path, pa.table({"id": pa.array([1, 2], pa.int64()), "name": ["a", "b"]}))
    DeltaTable(path).alter.add_constraint({"id_positive": "id > 0"})
    stamp(path)


def broken_variants():
    """Copies of `simple` damaged in the ways readers meet in the wild."""
    src = os.path.join(OUT, "simple")
    # Corrupted log JSON in the latest commit.
    p = fresh("corrupt_log")
    shutil.copytree(src, p)
    with open(os.path.join(p, "_delta_log", f"{3:020}.json"), "w") as f:
        f.write('{"add": {"path": "x.parquet", this is not json\n')
    # A data file the log lists is gone.
    p = fresh("missing_file")
    shutil.copytree(src, p)
    current = DeltaTable(p).file_uris()
    os.remove(current[0].replace("file://", ""))
    # A table that needs a reader feature nobody implements.
    p = fresh("future_feature")
    shutil.copytree(src, p)
    log0 = os.path.join(p, "_delta_log", f"{0:020}.json")
    lines = [json.loads(line) for line in open(log0)]
    for action in lines:
        if "protocol" in action:
            action["protocol"] = {"minReaderVersion": 3, "minWriterVersion": 7,
                                  "readerFeatures": ["zoopipeFutureFeature"], "writerFeatures": ["zoopipeFutureFeature"]}
    with open(log0, "w") as f:
        f.write("\n".join(json.dumps(a) for a in lines) + "\n")
    stamp(p)
    # A directory that is not a table, and an empty one.
    p = fresh("not_a_table")
    os.makedirs(p)
    with open(os.path.join(p, "data.csv"), "w") as f:
        f.write("a,b\n1,2\n")
    os.makedirs(fresh("empty_dir"))


os.makedirs(OUT, exist_ok=True)
simple()
partitioned()
checkpointed()
evolved()
all_types()
many_files()
row_groups()
bad_pages()
int96_nested()
column_mapping()
writer_rules()
broken_variants()
print("fixtures written to", OUT)
sys.stdout.flush()
os._exit(0)  # see read_table.py: skip a pyarrow teardown abort

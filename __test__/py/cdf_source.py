"""Write a change-data-feed table with Python deltalake (appends, an update, a delete, an append:
versions 0-4) and print its change data feed as Python reads it, as JSON rows sorted by version,
change type and id: the independent source and reference of the changeFeed pipe tests.

Usage: python cdf_source.py PATH
"""
import json
import sys

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

path = sys.argv[1]
rows = lambda ids: pa.table({"id": pa.array(ids, pa.int64()), "name": pa.array([f"n{i}" for i in ids])})
write_deltalake(path, rows([1, 2, 3, 4]), configuration={"delta.enableChangeDataFeed": "true"})
write_deltalake(path, rows([5]), mode="append")
dt = DeltaTable(path)
dt.update(predicate="id = 1", updates={"name": "'renamed'"})
dt.delete("id = 3")
write_deltalake(path, rows([6]), mode="append")
feed = pa.table(DeltaTable(path).load_cdf(starting_version=0).read_all())
out = sorted(
    ({"id": r["id"], "name": r["name"], "type": r["_change_type"], "version": r["_commit_version"]} for r in feed.to_pylist()),
    key=lambda r: (r["version"], r["type"], r["id"]),
)
print(json.dumps(out))

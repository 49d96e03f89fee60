"""Append rows id FROM..TO-1 (with name 'n<id>') to a Delta table with Python deltalake, one commit:
a source table written by an independent writer.

Usage: python append_rows.py PATH FROM TO
"""
import sys

import pyarrow as pa
from deltalake import write_deltalake

path, start, end = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ids = list(range(start, end))
write_deltalake(path, pa.table({"id": pa.array(ids, pa.int64()), "name": pa.array([f"n{i}" for i in ids])}), mode="append")

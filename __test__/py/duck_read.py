"""Read a Delta table with DuckDB's delta extension and write it to stdout as an Arrow IPC stream.

Usage: python duck_read.py PATH
"""
import glob
import os
import sys

import duckdb
import pyarrow as pa
import duckdb_extension_delta

path = sys.argv[1]
ext = glob.glob(os.path.join(os.path.dirname(duckdb_extension_delta.__file__), "extensions", "*", "delta.duckdb_extension"))[0]
con = duckdb.connect(config={"autoinstall_known_extensions": "false"})
con.execute(f"LOAD '{ext}'")
table = con.execute("SELECT * FROM delta_scan(?)", [path]).to_arrow_table()
with pa.ipc.new_stream(sys.stdout.buffer, table.schema) as writer:
    writer.write_table(table)
sys.stdout.flush()
os._exit(0)

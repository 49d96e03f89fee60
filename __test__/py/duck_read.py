"""Read a Delta table with DuckDB's delta extension and write it to stdout as an Arrow IPC stream.

Usage: python duck_read.py PATH [STORE_JSON]
STORE_JSON, for tables on an object store emulator: {"s3": {"endpoint": "127.0.0.1:PORT", "key_id": ...,
"secret": ..., "region": ...}} (DuckDB's httpfs extension) or {"azure": {"connection_string": ...}} (its
azure extension; the emulator's address also comes from AZURITE_BLOB_STORAGE_URL in the environment).
"""
import glob
import json
import os
import sys

import duckdb
import pyarrow as pa
import duckdb_extension_delta

path = sys.argv[1]
store = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}


def load(con, module, name):
    ext = glob.glob(os.path.join(os.path.dirname(module.__file__), "extensions", "*", f"{name}.duckdb_extension"))[0]
    con.execute(f"LOAD '{ext}'")


con = duckdb.connect(config={"autoinstall_known_extensions": "false", "autoload_known_extensions": "false"})
if "s3" in store:
    import duckdb_extension_httpfs

    load(con, duckdb_extension_httpfs, "httpfs")
    s3 = store["s3"]
    con.execute(
        f"CREATE SECRET s3 (TYPE s3, KEY_ID '{s3['key_id']}', SECRET '{s3['secret']}', REGION '{s3['region']}', "
        f"ENDPOINT '{s3['endpoint']}', URL_STYLE 'path', USE_SSL false)"
    )
if "azure" in store:
    import duckdb_extension_azure

    load(con, duckdb_extension_azure, "azure")
    con.execute(f"CREATE SECRET az (TYPE azure, CONNECTION_STRING '{store['azure']['connection_string']}')")
load(con, duckdb_extension_delta, "delta")
table = con.execute("SELECT * FROM delta_scan(?)", [path]).to_arrow_table()
with pa.ipc.new_stream(sys.stdout.buffer, table.schema) as writer:
    writer.write_table(table)
sys.stdout.flush()
os._exit(0)

"""One Python `deltalake` process of an append storm (bench/storm.mjs): append COUNT one-row commits.

Usage: python storm_worker.py URI WORKER COUNT START_AT_MS
Prints one JSON line: {"ms": [latency of each append], "errors": [message, ...]}.
STORM_STORAGE_OPTIONS: the table's storage options as JSON (the S3 emulator's).
"""
import json
import os
import sys
import time

import pyarrow as pa
from deltalake import write_deltalake

uri, worker, count, start_at = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
storage_options = json.loads(os.environ.get("STORM_STORAGE_OPTIONS") or "{}") or None
time.sleep(max(0.0, start_at / 1000 - time.time()))
ms, errors = [], []
for i in range(count):
    t = time.perf_counter()
    try:
        write_deltalake(uri, pa.table({"worker": [worker], "seq": [i], "key": [f"{worker}-{i}"]}), mode="append", storage_options=storage_options)
        ms.append((time.perf_counter() - t) * 1000)
    except Exception as e:  # the storm's result counts the failures
        errors.append(str(e).splitlines()[0][:200])
print(json.dumps({"ms": ms, "errors": errors}))

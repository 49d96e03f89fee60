"""Python deltalake's side of bench/stream_write.mjs: the same rows (bench/data.mjs's columns and
formulas), generated batch by batch with pyarrow and written by one write_deltalake call from a
RecordBatchReader. Prints rows, seconds and peak RSS (VmHWM).

Usage: python stream_write.py URI ROWS BATCH [partitioned]
"""
import json
import re
import sys
import time

import pyarrow as pa
from deltalake import write_deltalake

uri, rows, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
partitioned = len(sys.argv) > 4
T0 = 1_704_067_200_000_000


def chunk(start, n):
    seed = start + 1
    user, qty, amount, score = [], [], [], []
    for _ in range(n):
        vals = []
        for _ in range(4):
            seed = (seed * 1103515245 + 12345) % 2147483648
            vals.append(seed / 2147483648)
        user.append(int(vals[0] * 1e6))
        qty.append(1 + int(vals[1] * 9))
        amount.append(round(vals[2] * 1e6) / 100)
        score.append(vals[3])
    ks = range(start, start + n)
    return pa.record_batch({
        "id": pa.array(ks, pa.int64()),
        "ts": pa.array([T0 + k * 1_000_000 for k in ks], pa.timestamp("us", tz="UTC")),
        "user_id": pa.array(user, pa.int32()),
        "amount": pa.array(amount, pa.float64()),
        "quantity": pa.array(qty, pa.int32()),
        "score": pa.array(score, pa.float64()),
        "name": pa.array([f"customer-{u}-{'x' * (k % 23)}" for u, k in zip(user, ks)], pa.string()),
        "category": pa.array([f"cat-{k % 50}" for k in ks], pa.string()),
        "flag": pa.array([k % 3 == 0 for k in ks], pa.bool_()),
        "part": pa.array([f"p{k % 8}" for k in ks], pa.string()),
    })


schema = chunk(0, 1).schema
reader = pa.RecordBatchReader.from_batches(schema, (chunk(s, min(batch, rows - s)) for s in range(0, rows, batch)))
t = time.perf_counter()
write_deltalake(uri, reader, partition_by=["part"] if partitioned else None)
hwm = int(re.search(r"VmHWM:\s+(\d+) kB", open("/proc/self/status").read()).group(1))
print(json.dumps({"rows": rows, "seconds": time.perf_counter() - t, "peakRssMb": hwm / 1024}))

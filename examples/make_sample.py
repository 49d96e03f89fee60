"""Writes examples/data/orders, the small sample table the demo reads (committed to the repo).

Written by Python `deltalake` so the demo reads a table from an independent writer.
Re-run with: python examples/make_sample.py (needs `pip install deltalake pyarrow`).
"""
import datetime as dt
import os
import shutil

import pyarrow as pa
from deltalake import write_deltalake

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "orders")
shutil.rmtree(path, ignore_errors=True)
regions = ["eu", "us", "apac"]


def orders(start, n, day):
    ids = list(range(start, start + n))
    return pa.table({
        "order_id": pa.array(ids, pa.int64()),
        "customer": pa.array([f"customer-{i % 37:02d}" for i in ids]),
        "region": pa.array([regions[i % 3] for i in ids]),
        "amount": pa.array([round((i * 7919 % 10000) / 100, 2) for i in ids], pa.float64()),
        "ordered_at": pa.array([dt.datetime(2024, 3, day, i % 24, i % 60, tzinfo=dt.timezone.utc) for i in ids], pa.timestamp("us", tz="UTC")),
    })


write_deltalake(path, orders(1, 60, 1), mode="error", partition_by=["region"], name="orders",
                description="sample orders for the zoopipe demo")
write_deltalake(path, orders(61, 40, 2), mode="append")
write_deltalake(path, orders(101, 50, 3), mode="append")
print("wrote", path)

"""Print, as JSON, what Python deltalake says about a table: version, schema, metadata, row count,
partitions, file URIs, flattened add actions (values as strings) and, for APP_ID, its transaction
version. The reference for DeltaTable.create / addActions / count / partitions / fileUris.

Usage: python table_info.py PATH [APP_ID]
"""
import json
import sys

import pyarrow as pa
from deltalake import DeltaTable

dt = DeltaTable(sys.argv[1])
m = dt.metadata()
adds = pa.table(dt.get_add_actions(flatten=True))
columns = [c for c in adds.schema.names if c not in ("modification_time", "tags")]
actions = sorted(
    ({c: (None if v is None else str(v)) for c, v in zip(columns, (adds.column(c)[i].as_py() for c in columns))}
     for i in range(adds.num_rows)),
    key=lambda a: a["path"],
)
print(json.dumps({
    "version": dt.version(),
    "schema": json.loads(dt.schema().to_json()),
    "name": m.name,
    "description": m.description,
    "partitionColumns": m.partition_columns,
    "configuration": m.configuration,
    "count": dt.count(),
    "partitions": sorted(dt.partitions(), key=json.dumps),
    "fileUris": sorted(dt.file_uris()),
    "addActions": actions,
    "transactionVersion": dt.transaction_version(sys.argv[2]) if len(sys.argv) > 2 else None,
}))

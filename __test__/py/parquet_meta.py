"""Print, as JSON, what DuckDB's Parquet reader says about a Parquet file's row groups and column
chunks: the independent check that writerProperties reached the file.

Usage: python parquet_meta.py FILE
"""
import json
import sys

import duckdb

rows = duckdb.connect().execute(
    """SELECT row_group_id, row_group_num_rows, path_in_schema, compression, encodings,
              stats_min_value, stats_max_value, dictionary_page_offset, bloom_filter_offset
       FROM parquet_metadata(?) ORDER BY row_group_id, column_id""",
    [sys.argv[1]],
).fetchall()
cols = ["rowGroup", "rows", "column", "compression", "encodings", "min", "max", "dictionaryPageOffset", "bloomFilterOffset"]
print(json.dumps([dict(zip(cols, r)) for r in rows], default=str))

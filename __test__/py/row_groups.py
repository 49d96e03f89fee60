"""Print, as JSON, each data file of a table directory (sorted by path): its folder name and the
byte size of each of its row groups, from the Parquet footer (pyarrow).

Usage: python row_groups.py PATH
"""
import glob
import json
import os
import sys

import pyarrow.parquet as pq

files = sorted(glob.glob(sys.argv[1] + "/**/*.parquet", recursive=True))
out = []
for f in files:
    meta = pq.ParquetFile(f).metadata
    groups = [meta.row_group(i).total_byte_size for i in range(meta.num_row_groups)]
    out.append([os.path.basename(os.path.dirname(f)), groups])
print(json.dumps(out))

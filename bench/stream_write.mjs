// A streamed write in a fresh process: ROWS rows in BATCH-row apache-arrow batches, each handed to
// one DeltaOutputAdapter's write() as it is made, then close(). Prints rows, seconds and peak RSS.
//   node bench/stream_write.mjs URI ROWS BATCH [partitioned]
import fs from 'node:fs'
import { DeltaOutputAdapter } from '../index.mjs'
import { chunk } from './data.mjs'

const [uri, rows, batch, partitioned] = process.argv.slice(2)
const t = performance.now()
const out = new DeltaOutputAdapter(uri, partitioned ? { partitionBy: ['part'] } : {})
for (let s = 0; s < Number(rows); s += Number(batch)) await out.write(chunk(s, Math.min(Number(batch), Number(rows) - s)))
const res = await out.close()
// VmHWM: peak RSS of this program since exec (getrusage's maxrss would include a forking parent's).
const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1])
console.log(JSON.stringify({ rows: res.numRows, files: res.numFiles, seconds: (performance.now() - t) / 1000, peakRssMb: hwm / 1024 }))

// A streamed write in a fresh process: ROWS rows in BATCH-row apache-arrow batches, each handed to
// one DeltaOutputAdapter's write() as it is made, then close(); with `writer`, to one DeltaWriter
// (a fan-out worker: files, no commit), then finish(). Prints rows, seconds and peak RSS.
//   node bench/stream_write.mjs URI ROWS BATCH [partitioned] [writer]
import fs from 'node:fs'
import { DeltaOutputAdapter, DeltaWriter } from '../index.mjs'
import { chunk } from './data.mjs'

const [uri, rows, batch, ...flags] = process.argv.slice(2)
const options = flags.includes('partitioned') ? { partitionBy: ['part'] } : {}
const t = performance.now()
const out = flags.includes('writer') ? new DeltaWriter(uri, options) : new DeltaOutputAdapter(uri, options)
for (let s = 0; s < Number(rows); s += Number(batch)) await out.write(chunk(s, Math.min(Number(batch), Number(rows) - s)))
let res
if (out instanceof DeltaWriter) {
  const adds = await out.finish()
  res = { numRows: adds.reduce((n, a) => n + JSON.parse(a.stats).numRecords, 0), numFiles: adds.length }
} else res = await out.close()
// VmHWM: peak RSS of this program since exec (getrusage's maxrss would include a forking parent's).
const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1])
console.log(JSON.stringify({ rows: res.numRows, files: res.numFiles, seconds: (performance.now() - t) / 1000, peakRssMb: hwm / 1024 }))

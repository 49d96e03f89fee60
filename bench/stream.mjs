// Streaming read of a whole table batch by batch in a fresh process; prints rows and peak RSS (MB).
import fs from 'node:fs'
import { DeltaInputAdapter } from '../index.mjs'
let rows = 0
const t = performance.now()
for await (const batch of new DeltaInputAdapter(process.argv[2], { batchSize: 65536 }).getBatches()) rows += batch.numRows
// VmHWM (peak RSS of this program since exec); getrusage's maxrss would include the forking parent's.
const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1])
console.log(JSON.stringify({ rows, seconds: (performance.now() - t) / 1000, peakRssMb: hwm / 1024 }))

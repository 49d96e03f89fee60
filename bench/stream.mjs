// Streaming read of a whole table batch by batch in a fresh process; prints rows and peak RSS (MB).
import { DeltaInputAdapter } from '../index.mjs'
let rows = 0
const t = performance.now()
for await (const batch of new DeltaInputAdapter(process.argv[2], { batchSize: 65536 }).getBatches()) rows += batch.numRows
console.log(JSON.stringify({ rows, seconds: (performance.now() - t) / 1000, peakRssMb: process.resourceUsage().maxRSS / 1024 }))

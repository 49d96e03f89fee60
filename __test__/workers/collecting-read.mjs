// Reads the table at URI into one Table in a fresh process: node collecting-read.mjs URI
// Prints the rows, the bytes of its buffers, the major collections V8 made during the read, and how
// V8's count of external memory moved over it (once the read is over, by the table's bytes).
import { PerformanceObserver, constants } from 'node:perf_hooks'
import { createRequire } from 'node:module'
import { readDelta } from '../../index.mjs'

const native = createRequire(import.meta.url)('../../lib/native.js')
let majorGcs = 0
const observer = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majorGcs++
})
observer.observe({ entryTypes: ['gc'] })
await new Promise((r) => setTimeout(r, 20))
const start = majorGcs
const before = native.adjustExternalMemory(0)
const table = await readDelta(process.argv[2])
const counted = native.adjustExternalMemory(0) - before
await new Promise((r) => setTimeout(r, 20)) // the observer's last entries
let bytes = 0
for (const b of table.batches) for (const c of b.data.children) bytes += c.values.byteLength + (c.nullBitmap?.byteLength ?? 0)
console.log(JSON.stringify({ rows: table.numRows, bytes, majorGcs: majorGcs - start, counted }))

// Reads the table at URI into one Table in a fresh process: node collecting-read.mjs URI
// Prints the rows, the bytes of its buffers, the major collections V8 made during the read, how
// V8's count of external memory moved over it (as the read ends and once the bytes it held back are
// shown), and the major collections of three more reads back to back, each table kept until the
// next one is in (as `t = await readDelta(...)` in a loop does).
import { PerformanceObserver, constants } from 'node:perf_hooks'
import { createRequire } from 'node:module'
import { readDelta } from '../../index.mjs'

const native = createRequire(import.meta.url)('../../lib/native.js')
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
let majorGcs = 0
const observer = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majorGcs++
})
observer.observe({ entryTypes: ['gc'] })
await sleep(20)
const start = majorGcs
const before = native.adjustExternalMemory(0)
let table = await readDelta(process.argv[2])
const countedAtEnd = native.adjustExternalMemory(0) - before
await sleep(20) // the observer's last entries
const readGcs = majorGcs - start
await sleep(1100) // past the wait for a next read (lib/collection.js)
const counted = native.adjustExternalMemory(0) - before
let bytes = 0
for (const b of table.batches) for (const c of b.data.children) bytes += c.values.byteLength + (c.nullBitmap?.byteLength ?? 0)
const rows = table.numRows
const loopStart = majorGcs
for (let i = 0; i < 3; i++) table = await readDelta(process.argv[2])
await sleep(20)
const loopGcs = majorGcs - loopStart
console.log(JSON.stringify({ rows, bytes, majorGcs: readGcs, countedAtEnd, counted, loopGcs }))

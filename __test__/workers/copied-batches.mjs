// Streams BATCHES fresh 4 MB batches through one DeltaOutputAdapter (or, with `writer`, one
// DeltaWriter) in a fresh process: node copied-batches.mjs URI BATCHES [writer]
// Prints the rows written and the most ArrayBuffer memory (live or not yet collected) seen after
// a write() resolved: what the consumed batches left for V8 to collect.
import { makeVector, Table } from 'apache-arrow'
import { DeltaOutputAdapter, DeltaWriter } from '../../index.mjs'

const [uri, batches, writer] = [process.argv[2], Number(process.argv[3]), process.argv[4] === 'writer']
const ROWS = 524_288
const out = writer ? new DeltaWriter(uri) : new DeltaOutputAdapter(uri)
let most = 0
for (let b = 0; b < batches; b++) {
  const x = new Float64Array(ROWS)
  for (let i = 0; i < ROWS; i++) x[i] = b * ROWS + i
  await out.write(new Table({ x: makeVector(x) }))
  most = Math.max(most, process.memoryUsage().arrayBuffers)
}
const rows = writer ? (await out.finish()).reduce((n, a) => n + JSON.parse(a.stats).numRecords, 0) : (await out.close()).numRows
console.log(JSON.stringify({ rows, mostArrayBufferMb: most / 1048576 }))

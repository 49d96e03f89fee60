// The bench's table, generated in its own process (run.mjs starts it): 10 columns of mixed types, a
// low-cardinality partition column, several files, 2 versions. In its own process so the process
// that times the reads starts from a fresh heap and allocator: the two runs that generated 10 M rows
// in-process measured the full read's median at 0.81 s (minimum 0.52 s), the next one, which found
// the data cached, at 0.65 s (minimum 0.55 s); this 2-core machine is noisy, so that is a likely
// cause, not a proven one.
//   node bench/generate.mjs TABLE ROWS
import { writeDelta } from '../index.mjs'
import { chunk } from './data.mjs'

const [table, rows] = process.argv.slice(2)
const ROWS = Number(rows)
async function* chunks(from, to) {
  for (let s = from; s < to; s += 500_000) yield chunk(s, Math.min(500_000, to - s))
}
await writeDelta(table, chunks(0, ROWS / 2), { partitionBy: ['part'], targetFileSize: 64 << 20 })
await writeDelta(table, chunks(ROWS / 2, ROWS))

// The bench's table, generated in its own process (run.mjs starts it): 10 columns of mixed types, a
// low-cardinality partition column, several files, 2 versions. Generating 10 M rows in the process
// that then times the reads left it slower: the full read's median was 0.81 s (minimum 0.52 s) in
// the two runs that generated their data, 0.53 s in runs that found it cached.
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

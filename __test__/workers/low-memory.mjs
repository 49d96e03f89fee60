// Writes and reads a large table in a fresh process, whose ZOOPIPE_LOW_MEMORY decides when Rust
// buffers are their own mappings (src/alloc.rs): node low-memory.mjs URI ROWS
// Prints the id, x and name columns of the full read and of the streamed batches (in id order), and
// how many mappings the streamed write (two write() calls), a write of one whole table, the full
// read and the streamed read made.
import { createRequire } from 'node:module'
import { DeltaInputAdapter, DeltaOutputAdapter, readDelta, writeDelta } from '../../index.mjs'
import { big, idColumns } from '../helpers.mjs'
import { Table } from 'apache-arrow'
const native = createRequire(import.meta.url)('../../lib/native.js')
const [uri, n] = [process.argv[2], Number(process.argv[3])]
const mappings = {}
const counted = async (name, fn) => {
  const before = native.nativeMappings()
  const result = await fn()
  mappings[name] = native.nativeMappings() - before
  return result
}
// 262,144-row batches: the decoded id column alone is a 2 MiB buffer.
const half = Math.floor(n / 2)
const written = await counted('write', async () => {
  const out = new DeltaOutputAdapter(uri)
  await out.write(big(0, half))
  await out.write(big(half, n - half))
  return out.close()
})
await counted('writeOnce', () => writeDelta(`${uri}-once`, big(0, n)))
const full = await counted('full', () => readDelta(uri, { batchSize: 262_144 }))
const batches = await counted('streamed', async () => {
  const got = []
  for await (const batch of new DeltaInputAdapter(uri, { batchSize: 262_144 }).getBatches()) got.push(batch)
  return got
})
console.log(JSON.stringify({ numFiles: written.numFiles, full: idColumns(full), streamed: idColumns(new Table(batches)), mappings }))

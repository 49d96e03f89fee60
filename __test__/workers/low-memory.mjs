// Writes and reads a large table in a process started with ZOOPIPE_LOW_MEMORY=1, where every Rust
// buffer of 1 MiB or more is its own mapping (src/alloc.rs): node low-memory.mjs URI ROWS
// Prints the id, x and name columns of the full read and of the streamed batches, in id order.
import { DeltaInputAdapter, readDelta, writeDelta } from '../../index.mjs'
import { big, idColumns } from '../helpers.mjs'
import { Table } from 'apache-arrow'
const [uri, n] = [process.argv[2], Number(process.argv[3])]
const written = await writeDelta(uri, big(0, n))
const full = await readDelta(uri, { batchSize: 262_144 })
const batches = []
for await (const batch of new DeltaInputAdapter(uri, { batchSize: 65_536 }).getBatches()) batches.push(batch)
console.log(JSON.stringify({ numFiles: written.numFiles, full: idColumns(full), streamed: idColumns(new Table(batches)) }))

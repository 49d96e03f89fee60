// A worker process: writes its share with DeltaWriter and prints the file actions as JSON.
// node file-writer.mjs URI WORKER ROWS
import { DeltaWriter } from '../../index.mjs'
const storageOptions = JSON.parse(process.env.ZOOPIPE_TEST_STORAGE || '{}')
const [uri, worker, rows] = process.argv.slice(2)
const w = new DeltaWriter(uri, { partitionBy: ['part'], storageOptions })
const data = Array.from({ length: Number(rows) }, (_, i) => ({ worker: Number(worker), i, part: `p${i % 3}` }))
await w.write(data)
process.stdout.write(JSON.stringify(await w.finish()))

// A separate process appending to one table: node append.mjs URI WORKER COUNT
import { writeDelta } from '../../index.mjs'
const storageOptions = JSON.parse(process.env.ZOOPIPE_TEST_STORAGE || '{}')
const [uri, worker, count] = process.argv.slice(2)
for (let i = 0; i < Number(count); i++) {
  await writeDelta(uri, [{ worker: Number(worker), seq: i, key: `${worker}-${i}` }], { storageOptions })
}

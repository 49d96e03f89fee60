// A separate process appending to one table: node append.mjs URI WORKER COUNT
// ZOOPIPE_TEST_START_AT (epoch ms): wait until then, so that every worker of a storm commits at once.
// Prints one JSON line: the milliseconds each append took.
import { writeDelta } from '../../index.mjs'
const storageOptions = JSON.parse(process.env.ZOOPIPE_TEST_STORAGE || '{}')
const [uri, worker, count] = process.argv.slice(2)
const startAt = Number(process.env.ZOOPIPE_TEST_START_AT || 0)
if (startAt > Date.now()) await new Promise((r) => setTimeout(r, startAt - Date.now()))
const ms = []
for (let i = 0; i < Number(count); i++) {
  const t = performance.now()
  await writeDelta(uri, [{ worker: Number(worker), seq: i, key: `${worker}-${i}` }], { storageOptions })
  ms.push(performance.now() - t)
}
console.log(JSON.stringify({ worker: Number(worker), ms }))

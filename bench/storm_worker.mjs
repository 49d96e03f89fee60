// One zoopipe process of an append storm (bench/storm.mjs): append COUNT one-row commits.
// node storm_worker.mjs URI WORKER COUNT START_AT_MS; prints {"ms": [...], "errors": [...]}.
// STORM_STORAGE_OPTIONS: the table's storage options as JSON (the S3 emulator's).
import { writeDelta } from '../index.mjs'
const [uri, worker, count, startAt] = process.argv.slice(2)
const storageOptions = JSON.parse(process.env.STORM_STORAGE_OPTIONS || '{}')
if (Number(startAt) > Date.now()) await new Promise((r) => setTimeout(r, Number(startAt) - Date.now()))
const ms = []
const errors = []
for (let i = 0; i < Number(count); i++) {
  const t = performance.now()
  try {
    await writeDelta(uri, [{ worker: Number(worker), seq: i, key: `${worker}-${i}` }], { storageOptions })
    ms.push(performance.now() - t)
  } catch (e) {
    errors.push(`${e.code}: ${e.message.slice(0, 200)}`)
  }
}
console.log(JSON.stringify({ ms, errors }))

// npm run demo: read the sample table shipped in examples/data/orders (written by Python deltalake):
// schema, history, a time-travel read, a filtered + projected read, and a few rows.
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { DeltaTable, DeltaInputAdapter, readDelta } from '../index.mjs'

const uri = path.join(path.dirname(fileURLToPath(import.meta.url)), 'data', 'orders')
const started = Date.now()

const table = await DeltaTable.open(uri)
const md = table.metadata()
console.log(`Table ${uri}`)
console.log(`  name: ${md.name} — ${md.description}`)
console.log(`  version ${table.version}, partitioned by [${md.partitionColumns.join(', ')}], ${(await table.files()).length} files`)
console.log('\nSchema')
for (const f of table.schema().fields) console.log(`  ${f.name.padEnd(12)} ${f.type}${f.nullable ? '' : ' not null'}`)

console.log('\nHistory (newest first)')
for (const h of await table.history()) {
  console.log(`  v${h.version}  ${new Date(h.timestamp).toISOString()}  ${h.operation}  ${JSON.stringify(h.operationParameters ?? {})}`)
}

const latest = await readDelta(uri)
const first = await readDelta(uri, { version: 0 })
console.log(`\nTime travel: ${first.numRows} rows at version 0, ${latest.numRows} rows now`)

const input = new DeltaInputAdapter(uri, {
  columns: ['order_id', 'customer', 'amount'],
  filter: [['region', '=', 'eu'], ['amount', '>=', 50]],
  batchSize: 16,
})
let rows = 0
let batches = 0
let sample = []
for await (const batch of input.getBatches()) {
  batches++
  rows += batch.numRows
  if (sample.length < 5) sample.push(...batch.toArray().slice(0, 5 - sample.length).map((r) => r.toJSON()))
}
console.log(`\nFiltered read (region = 'eu' and amount >= 50), projected to 3 columns: ${rows} rows in ${batches} batches`)
console.table(sample.map((r) => ({ ...r, order_id: Number(r.order_id) })))
console.log(`done in ${Date.now() - started} ms`)

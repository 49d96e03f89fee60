// npm run demo — the main job: a realistic ETL on the local file system, no set-up.
// 1. generate a deterministic CSV of order events, 2. pipe it through a TypeScript transform into a
// partitioned Delta table with a live progress bar, 3. append a second day, 4. read it back: time
// travel, a filtered + projected read, history, and a summary.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Float64, makeVector, type RecordBatch, Table, type Vector } from 'apache-arrow'
import { CsvInputAdapter, DeltaInputAdapter, DeltaOutputAdapter, DeltaTable, Pipe, readDelta } from 'zoopipe'
import { writeOrdersCsv } from './orders.mjs'

const ROWS = Number(process.env.ZOOPIPE_DEMO_ROWS ?? 3_000_000)
const APPEND_ROWS = Math.max(1, Math.floor(ROWS / 10))
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '.demo-output')
const tableUri = path.join(root, 'orders_delta')
const fmt = (n: number) => n.toLocaleString('en-US')
const started = Date.now()

/** The transform: revenue = quantity * unit_price, computed column-wise (no row objects). */
export function enrich(batch: RecordBatch): Table {
  const qty = batch.getChild('quantity')!.toArray() as BigInt64Array
  const price = batch.getChild('unit_price')!.toArray() as Float64Array
  const revenue = new Float64Array(batch.numRows)
  for (let i = 0; i < revenue.length; i++) revenue[i] = Math.round(Number(qty[i]) * price[i] * 100) / 100
  const columns: Record<string, Vector> = {}
  for (const field of batch.schema.fields) columns[field.name] = batch.getChild(field.name)!
  columns.revenue = makeVector({ type: new Float64(), data: revenue })
  return new Table(columns)
}

function progressBar(total: number) {
  const tty = process.stderr.isTTY
  let lastLine = 0
  return (p: { rowsRead: number; rowsWritten: number; elapsedMs: number }) => {
    const frac = Math.min(1, p.rowsRead / total)
    const rate = p.rowsRead / Math.max(0.001, p.elapsedMs / 1000)
    const bar = '█'.repeat(Math.round(frac * 30)).padEnd(30, '░')
    const line = `  ${bar} ${(frac * 100).toFixed(0).padStart(3)}%  ${fmt(p.rowsWritten)} rows  ${fmt(Math.round(rate))} rows/s`
    if (tty) process.stderr.write(`\r${line}`)
    else if (Date.now() - lastLine > 2000 || frac === 1) {
      lastLine = Date.now()
      process.stderr.write(`${line}\n`)
    }
  }
}

async function load(csv: string, rows: number, mode: 'overwrite' | 'append') {
  const report = await new Pipe({
    input: new CsvInputAdapter(csv, { batchSize: 65_536 }),
    transform: enrich,
    output: new DeltaOutputAdapter(tableUri, {
      mode,
      partitionBy: ['day'],
      name: 'orders',
      description: 'zoopipe demo: synthetic order events',
    }),
    onProgress: progressBar(rows),
  }).run()
  if (process.stderr.isTTY) process.stderr.write('\n')
  return report
}

fs.mkdirSync(root, { recursive: true })
const existed = await DeltaTable.isDeltaTable(tableUri)
if (existed) fs.rmSync(tableUri, { recursive: true, force: true })
console.log(`zoopipe demo — ${existed ? "starting clean (removed the previous run's table)" : 'first run'}; output in ${root}\n`)

const csv1 = path.join(root, 'orders-week1.csv')
const csv2 = path.join(root, 'orders-day8.csv')
let t = Date.now()
const size1 = await writeOrdersCsv(csv1, 1, ROWS, '2024-03-01', 7, 42)
const size2 = await writeOrdersCsv(csv2, ROWS + 1, APPEND_ROWS, '2024-03-08', 1, 7)
console.log(
  `1. generated ${fmt(ROWS)} + ${fmt(APPEND_ROWS)} order events as CSV (${(size1 / 1e6).toFixed(0)} MB + ${(size2 / 1e6).toFixed(0)} MB) in ${Date.now() - t} ms`,
)

console.log(`2. CSV -> transform (revenue = quantity x unit_price) -> Delta table partitioned by day`)
const first = await load(csv1, ROWS, 'overwrite')
console.log(
  `   version ${first.version}: ${fmt(first.rowsWritten)} rows in ${(first.durationMs / 1000).toFixed(1)} s (${fmt(Math.round(first.rowsWritten / (first.durationMs / 1000)))} rows/s)`,
)

console.log(`3. appending day 8`)
const second = await load(csv2, APPEND_ROWS, 'append')
console.log(`   version ${second.version}: ${fmt(second.rowsWritten)} rows in ${(second.durationMs / 1000).toFixed(1)} s`)

console.log('4. reading back')
const dt = await DeltaTable.open(tableUri)
const files = await dt.files()
t = Date.now()
const v0 = await readDelta(tableUri, { version: 0, columns: ['order_id'] })
console.log(
  `   time travel: version 0 has ${fmt(v0.numRows)} rows, version ${dt.version} has ${fmt(files.reduce((n, f) => n + (f.numRecords ?? 0), 0))} (${Date.now() - t} ms)`,
)

t = Date.now()
const input = new DeltaInputAdapter(tableUri, {
  columns: ['region', 'revenue'],
  filter: [
    ['day', '=', '2024-03-08'],
    ['status', '!=', 'cancelled'],
  ],
})
const byRegion = new Map<string, number>()
let rows = 0
for await (const batch of input.getBatches()) {
  const region = batch.getChild('region')!
  const revenue = batch.getChild('revenue')!.toArray() as Float64Array
  for (let i = 0; i < batch.numRows; i++) byRegion.set(region.get(i) as string, (byRegion.get(region.get(i) as string) ?? 0) + revenue[i])
  rows += batch.numRows
}
console.log(
  `   filtered + projected read (day = 2024-03-08, status != cancelled; 2 of 10 columns): ${fmt(rows)} rows in ${Date.now() - t} ms`,
)
for (const [region, total] of [...byRegion].sort()) console.log(`     ${region.padEnd(6)} revenue ${total.toFixed(2).padStart(14)}`)

console.log('   history:')
for (const h of await dt.history())
  console.log(`     v${h.version} ${new Date(h.timestamp as number).toISOString()} ${h.operation} ${JSON.stringify(h.operationParameters)}`)

console.log(
  `\nsummary: ${fmt(first.rowsRead + second.rowsRead)} rows read, ${fmt(first.rowsWritten + second.rowsWritten)} written, ${files.length} files in ${new Set(files.map((f) => f.partitionValues.day)).size} partitions, ${(files.reduce((n, f) => n + f.size, 0) / 1e6).toFixed(1)} MB of Parquet`,
)
console.log(`table:   ${tableUri} (version ${dt.version}); done in ${((Date.now() - started) / 1000).toFixed(1)} s`)

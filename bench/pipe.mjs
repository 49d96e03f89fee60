// The demo's Pipe in a fresh process: a CSV of orders (made beforehand by run.mjs) through the
// demo's transform (revenue = quantity x unit_price, column-wise) into a Delta table partitioned
// by day. Prints rows, seconds and peak RSS.
//   node bench/pipe.mjs CSV URI
import fs from 'node:fs'
import { Float64, makeVector, Table } from 'apache-arrow'
import { CsvInputAdapter, DeltaOutputAdapter, Pipe } from '../index.mjs'

/** examples/demo.mts's enrich. */
function enrich(batch) {
  const qty = batch.getChild('quantity').toArray()
  const price = batch.getChild('unit_price').toArray()
  const revenue = new Float64Array(batch.numRows)
  for (let i = 0; i < revenue.length; i++) revenue[i] = Math.round(Number(qty[i]) * price[i] * 100) / 100
  const columns = {}
  for (const field of batch.schema.fields) columns[field.name] = batch.getChild(field.name)
  columns.revenue = makeVector({ type: new Float64(), data: revenue })
  return new Table(columns)
}

const [csv, uri] = process.argv.slice(2)
const t = performance.now()
const report = await new Pipe({
  input: new CsvInputAdapter(csv, { batchSize: 65_536 }),
  transform: enrich,
  output: new DeltaOutputAdapter(uri, { mode: 'overwrite', partitionBy: ['day'], name: 'orders' }),
}).run()
const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1])
console.log(JSON.stringify({ rows: report.rowsWritten, seconds: (performance.now() - t) / 1000, peakRssMb: hwm / 1024 }))

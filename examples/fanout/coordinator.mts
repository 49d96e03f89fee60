// Fan-out / fan-in run locally: N worker processes (stand-ins for lambdas) each write Parquet with a
// DeltaWriter; the coordinator commits all their files as ONE table version, idempotently.
// Usage: node examples/dist/fanout/coordinator.mjs <delta uri> [workers=4] [rows per worker=10000] [job id]
import { execFile } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { DeltaCoordinator, DeltaTable, type DeltaFileAction } from 'zoopipe'

const run = promisify(execFile)
const [table, workers = '4', rows = '10000', job = 'fanout-demo'] = process.argv.slice(2)
const worker = path.join(path.dirname(fileURLToPath(import.meta.url)), 'worker.mjs')

const results = await Promise.all(
  Array.from({ length: Number(workers) }, (_, shard) =>
    run(process.execPath, [worker, table, String(shard), workers, rows]).then((r) => JSON.parse(r.stdout) as { files: DeltaFileAction[] }),
  ),
)
const files = results.flatMap((r) => r.files)
const { version, committed } = await new DeltaCoordinator(table).commit(files, { commitProperties: { appId: job, appVersion: 1 } })
const dt = await DeltaTable.open(table)
console.log(JSON.stringify({ version, committed, files: files.length, tableVersion: dt.version }))

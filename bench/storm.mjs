// Append storms: PROCS processes each append COUNT one-row commits to one local table at the same
// moment, while other processes keep every core busy. zoopipe and Python `deltalake` run the same
// storm (same table shape, same start barrier, same busy load), one after the other.
//   node bench/storm.mjs PROCS COUNT [PYTHON]   prints one JSON line per engine
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { busyMachine } from '../__test__/storm.mjs'
import { DeltaTable, readDelta, writeDelta } from '../index.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const run = promisify(execFile)

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]

export async function storm(engine, { procs, count, python }) {
  const uri = fs.mkdtempSync(path.join(os.tmpdir(), `storm-${engine}-`))
  await writeDelta(uri, [{ worker: -1, seq: -1, key: 'seed' }])
  const idle = busyMachine()
  const startAt = Date.now() + (engine === 'zoopipe' ? 1500 : 3000)
  const t0 = startAt
  let outs
  try {
    outs = await Promise.all(
      Array.from({ length: procs }, (_, w) => {
        const [cmd, script] = engine === 'zoopipe' ? [process.execPath, 'storm_worker.mjs'] : [python, 'storm_worker.py']
        return run(cmd, [path.join(here, script), uri, String(w), String(count), String(startAt)], { maxBuffer: 1 << 24 }).then(
          (r) => JSON.parse(r.stdout.trim().split('\n').pop()),
          (e) => ({ ms: [], errors: [`process died: ${String(e.stderr || e).slice(0, 200)}`], died: true }),
        )
      }),
    )
  } finally {
    idle()
  }
  const seconds = (Date.now() - t0) / 1000
  const ms = outs.flatMap((o) => o.ms).sort((a, b) => a - b)
  const dt = await DeltaTable.open(uri)
  const keys = [...(await readDelta(uri))].map((r) => r.key)
  const result = {
    engine,
    procs,
    count,
    attempted: procs * count,
    landed: ms.length,
    errors: outs.reduce((n, o) => n + o.errors.length, 0),
    processesWithErrors: outs.filter((o) => o.errors.length > 0).length,
    versions: dt.version,
    rowsOnce: keys.length === new Set(keys).size && keys.length === ms.length + 1,
    commitsPerSecond: ms.length / seconds,
    p50: pct(ms, 50),
    p99: pct(ms, 99),
    firstError: outs.flatMap((o) => o.errors)[0],
  }
  fs.rmSync(uri, { recursive: true, force: true })
  return result
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [procs, count, python] = process.argv.slice(2)
  for (const engine of python ? ['zoopipe', 'python'] : ['zoopipe']) {
    console.log(JSON.stringify(await storm(engine, { procs: Number(procs), count: Number(count), python })))
  }
}

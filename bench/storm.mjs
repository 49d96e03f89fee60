// Append storms: PROCS processes each append COUNT one-row commits to one table at the same moment,
// while other processes keep every core busy: on local disk, or on the S3 emulator (moto, started on
// 127.0.0.1 for the storm). zoopipe and Python `deltalake` run the same storm (same table shape,
// same start barrier, same busy load), one after the other.
//   node bench/storm.mjs PROCS COUNT [PYTHON] [--s3]   prints one JSON line per engine
import { execFile, spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { busyMachine } from '../__test__/storm.mjs'
import { DeltaTable, readDelta, writeDelta } from '../index.mjs'
import { freePort, motoStorageOptions } from '../__test__/servers.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const run = promisify(execFile)

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]

/** The S3 emulator for storms: moto from the peers' venv on a free port, a bucket, its options. */
export async function startMoto(python) {
  const port = await freePort()
  const child = spawn(path.join(path.dirname(python), 'moto_server'), ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' })
  const endpoint = `http://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    const res = await fetch(`${endpoint}/storms`, { method: 'PUT' }).catch(() => null)
    if (res?.ok) break
    if (i === 300 || child.exitCode !== null) throw new Error(`moto did not start on ${endpoint}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    root: 's3://storms',
    storageOptions: motoStorageOptions(endpoint),
    stop: () => child.kill('SIGTERM'),
  }
}

/** One storm; `store` (startMoto's) puts the table on the S3 emulator instead of local disk. */
export async function storm(engine, { procs, count, python, store }) {
  const storageOptions = store?.storageOptions ?? {}
  const uri = store ? `${store.root}/storm-${engine}-${procs}x${count}` : fs.mkdtempSync(path.join(os.tmpdir(), `storm-${engine}-`))
  await writeDelta(uri, [{ worker: -1, seq: -1, key: 'seed' }], { storageOptions })
  const idle = busyMachine()
  const startAt = Date.now() + (engine === 'zoopipe' ? 1500 : 3000)
  const t0 = startAt
  let outs
  try {
    outs = await Promise.all(
      Array.from({ length: procs }, (_, w) => {
        const [cmd, script] = engine === 'zoopipe' ? [process.execPath, 'storm_worker.mjs'] : [python, 'storm_worker.py']
        const env = { ...process.env, STORM_STORAGE_OPTIONS: JSON.stringify(storageOptions) }
        return run(cmd, [path.join(here, script), uri, String(w), String(count), String(startAt)], { maxBuffer: 1 << 24, env }).then(
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
  const dt = await DeltaTable.open(uri, { storageOptions })
  const keys = [...(await readDelta(uri, { storageOptions }))].map((r) => r.key)
  const result = {
    engine,
    store: store ? 's3' : 'local',
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
  if (!store) fs.rmSync(uri, { recursive: true, force: true })
  return result
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [procs, count, python] = process.argv.slice(2).filter((a) => a !== '--s3')
  const store = process.argv.includes('--s3') ? await startMoto(python ?? 'python3') : undefined
  try {
    for (const engine of python ? ['zoopipe', 'python'] : ['zoopipe']) {
      console.log(JSON.stringify(await storm(engine, { procs: Number(procs), count: Number(count), python, store })))
    }
  } finally {
    store?.stop()
  }
}

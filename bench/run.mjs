// npm run bench [-- --quick] [-- --runs N]: zoopipe and its peers, side by side, same files, same run.
// Writes BENCHMARKS.md. Data is generated deterministically into bench/.data (git-ignored, cached).
import { execFileSync, spawnSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { tableToIPC } from 'apache-arrow'
import { jsBuiltScenarios } from './js_built.mjs'
import { rawDecode } from './raw_decode.mjs'
import { VIEWS, mbs, median, writeReport } from './report.mjs'
import { startMoto, storm } from './storm.mjs'
import { DeltaCoordinator, DeltaWriter, ParquetInputAdapter, readDelta, writeDelta } from '../index.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '..')
const args = process.argv.slice(2)
const quick = args.includes('--quick')
const runs = Number(args[args.indexOf('--runs') + 1]) || 5
const ROWS = quick ? 1_000_000 : 10_000_000
const data = path.join(here, '.data')
const table = path.join(data, `orders-${ROWS}`)
const cache = path.join(os.homedir(), '.cache', 'zoopipe')
const log = (...a) => console.error('bench:', ...a)
// The commit measured, read when the run starts: the report belongs to it (a tree with uncommitted
// changes says so).
const git = (...a) => spawnSync('git', a, { cwd: root, encoding: 'utf8' }).stdout.trim()
const commit = `commit ${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--untracked-files=no') ? ' with uncommitted changes' : ''}`

// ---- peers venv ----
const req = path.join(here, 'requirements.txt')
const venv = path.join(cache, `bench-venv-${crypto.createHash('sha256').update(fs.readFileSync(req)).digest('hex').slice(0, 12)}`)
const python = path.join(venv, 'bin', 'python')
if (!fs.existsSync(path.join(venv, '.complete'))) {
  log('installing the Python peers into', venv)
  execFileSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' })
  execFileSync(python, ['-m', 'pip', 'install', '-q', '-r', req], { stdio: 'inherit' })
  fs.writeFileSync(path.join(venv, '.complete'), '')
}

// ---- data: 10 columns of mixed types, a low-cardinality partition column, several files, 2 versions ----
if (!fs.existsSync(path.join(table, '.complete'))) {
  log(`generating ${ROWS.toLocaleString()} rows into ${table}`)
  fs.rmSync(table, { recursive: true, force: true })
  // In its own process: this one then times reads from a fresh heap (bench/generate.mjs says why).
  execFileSync(process.execPath, [path.join(here, 'generate.mjs'), table, String(ROWS)], { stdio: 'inherit' })
  fs.writeFileSync(path.join(table, '.complete'), '')
}

// ---- measurement ----
async function timed(fn, n = runs, warm = true) {
  if (warm) await fn()
  const out = []
  for (let i = 0; i < n; i++) {
    const t = performance.now()
    await fn()
    out.push((performance.now() - t) / 1000)
  }
  return out
}
const peers = (scenario, extra = {}, n = runs) => {
  const res = spawnSync(python, [path.join(here, 'peers.py'), scenario, table, String(n), JSON.stringify(extra)], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  })
  if (res.status !== 0) return { error: res.stderr.slice(-300) }
  return JSON.parse(res.stdout)
}
const results = []
// zoopipe's runs are split around the peers' (zoopipe, peers, zoopipe), so the machine's drift over a
// scenario falls on both sides; peers are set up (connections, rows) outside their timing too.
async function scenario(name, rows, zoopipe, peerScenario, extra, note) {
  log(name)
  const before = Math.ceil(runs / 2)
  const z = await timed(zoopipe, before)
  const p = peerScenario ? peers(peerScenario, extra) : {}
  z.push(...(await timed(zoopipe, runs - before, false)))
  results.push({ name, rows, zoopipe: z, peers: p, note })
}
/** `t` saved as an Arrow IPC file, for peers to write the very same rows. */
function saveIpc(t, file) {
  fs.writeFileSync(file, tableToIPC(t, 'file'))
  return file
}

const lo = Math.floor(ROWS * 0.3),
  hi = lo + Math.floor(ROWS / 100)
await scenario('full read into an apache-arrow Table', ROWS, () => readDelta(table), 'read_full')
results.at(-1).peers['arrow-rs parquet (raw files, every column; bench/raw_decode.rs)'] = rawDecode(root, table, runs)
results.at(-1).peers[VIEWS] = await timed(() => readDelta(table, { stringViews: true }))
results.at(-1).peers['zoopipe ParquetInputAdapter (raw files, DataFusion Parquet scan)'] = await timed(() =>
  new ParquetInputAdapter(table, { fileExtension: '.parquet' }).readAll(),
)
// The same rows as Python deltalake writes them (its row groups, page sizes and encodings differ from
// zoopipe's), made once beside the table: what holds for zoopipe's files must hold for other writers'.
const pyTable = path.join(data, `orders-${ROWS}-python-written`)
if (!fs.existsSync(path.join(pyTable, '.complete'))) {
  log('copying the table with Python deltalake')
  fs.rmSync(pyTable, { recursive: true, force: true })
  execFileSync(python, [path.join(here, 'peers.py'), 'copy_with_python', table, '0', JSON.stringify({ to: pyTable })], { stdio: 'inherit' })
  fs.writeFileSync(path.join(pyTable, '.complete'), '')
}
await scenario('full read of the same rows written by Python deltalake', ROWS, () => readDelta(pyTable), 'read_full_python_written', {
  table: pyTable,
})
results.at(-1).peers[VIEWS] = await timed(() => readDelta(pyTable, { stringViews: true }))
await scenario('projected read (2 of 10 columns)', ROWS, () => readDelta(table, { columns: ['id', 'amount'] }), 'read_projected')
await scenario(
  "filtered read (part = 'p3' and a 1% id range)",
  ROWS / 800,
  () =>
    readDelta(table, {
      filter: [
        ['part', '=', 'p3'],
        ['id', '>=', lo],
        ['id', '<', hi],
      ],
    }),
  'read_filtered',
  { lo, hi, part: 'p3' },
)
await scenario('time travel: read version 0 (half the rows)', ROWS / 2, () => readDelta(table, { version: 0 }), 'time_travel')
results.at(-1).peers[VIEWS] = await timed(() => readDelta(table, { version: 0, stringViews: true }))
const appendRows = ROWS / 10
const src = await readDelta(table, { version: 0 }).then((t) => t.slice(0, appendRows))
const out = path.join(data, 'append-out')
await scenario(
  `append an apache-arrow Table (${appendRows.toLocaleString()} rows)`,
  appendRows,
  async () => {
    fs.rmSync(out, { recursive: true, force: true })
    await writeDelta(out, src)
  },
  'append_table',
  { src: saveIpc(src, path.join(data, 'append-src.arrow')), out: path.join(data, 'append-out-py') },
)
// A partitioned write: rows of the unpartitioned second version, whose `part` cycles through all 8 values.
const plo = ROWS / 2,
  phi = ROWS / 2 + appendRows
const partSrc = await readDelta(table, {
  filter: [
    ['id', '>=', plo],
    ['id', '<', phi],
  ],
})
const partOut = path.join(data, 'append-part-out')
await scenario(
  `append an apache-arrow Table partitioned by part (${appendRows.toLocaleString()} rows, 8 partitions)`,
  appendRows,
  async () => {
    fs.rmSync(partOut, { recursive: true, force: true })
    await writeDelta(partOut, partSrc, { partitionBy: ['part'] })
  },
  'append_partitioned',
  { src: saveIpc(partSrc, path.join(data, 'append-part-src.arrow')), out: path.join(data, 'append-part-out-py') },
)
const objects = src
  .slice(0, 100_000)
  .toArray()
  .map((r) => r.toJSON())
await scenario(
  'append 100,000 plain row objects',
  100_000,
  async () => {
    fs.rmSync(out, { recursive: true, force: true })
    await writeDelta(out, objects)
  },
  null,
  {},
  'peers have no row-object input',
)
await jsBuiltScenarios({ runs, sizes: quick ? [ROWS / 10] : [1_000_000, 5_000_000], data, scenario, saveIpc, timed, results })

// the slim build, where it was built (npm run bench builds it), in its own process
const slimAddon =
  fs.existsSync(path.join(root, 'slim')) && fs.readdirSync(path.join(root, 'slim')).find((f) => /^zoopipe\..*\.node$/.test(f))
if (slimAddon) {
  log('slim build: full read, filtered read, append')
  const slim = JSON.parse(
    execFileSync(
      process.execPath,
      [
        path.join(here, 'slim.mjs'),
        table,
        String(runs),
        String(lo),
        String(hi),
        String(appendRows),
        path.join(data, 'append-out-slim'),
        String(plo),
        String(phi),
      ],
      { encoding: 'utf8', maxBuffer: 1 << 26 },
    ),
  )
  const add = (prefix, times) => {
    results.find((r) => r.name.startsWith(prefix)).peers['zoopipe slim build (no DataFusion)'] = times
  }
  add('full read', slim.read_full)
  add('filtered read', slim.read_filtered)
  add('append an apache-arrow Table (', slim.append_table)
  add('append an apache-arrow Table partitioned', slim.append_partitioned)
}

// streaming read: peak RSS in fresh processes, three of each (one process's peak varies by ±15 MB),
// by default (large native buffers mapped and returned to the OS when freed while a stream runs) and
// with ZOOPIPE_LOW_MEMORY=0 (malloc only, the default before: freed buffers kept for reuse)
log('streaming read (peak RSS)')
const streamRuns = (env) =>
  Array.from({ length: 3 }, () =>
    JSON.parse(
      execFileSync(process.execPath, [path.join(here, 'stream.mjs'), table], { encoding: 'utf8', env: { ...process.env, ...env } }),
    ),
  )
const stream = streamRuns({})
const mallocStream = streamRuns({ ZOOPIPE_LOW_MEMORY: '0' })
const rssOf = (runs) => median(runs.map((r) => r.peakRssMb))
// Python the same way: one stream per fresh process, three processes.
const pyStream = Array.from({ length: 3 }, () => peers('stream_once', {}, 1)).map((r) => ({
  seconds: r['python-deltalake (dataset batches)']?.[0],
  peakRssMb: r.peak_rss_mb,
}))
results.push({
  name: 'streaming read batch by batch (one stream per fresh process, 3 processes)',
  rows: ROWS,
  zoopipe: stream.map((r) => r.seconds),
  peers: {
    'python-deltalake (dataset batches)': pyStream.map((r) => r.seconds),
    'zoopipe with ZOOPIPE_LOW_MEMORY=0 (malloc only)': mallocStream.map((r) => r.seconds),
  },
  note: `median peak RSS: zoopipe ${rssOf(stream).toFixed(0)} MB (${mbs(stream)}), with ZOOPIPE_LOW_MEMORY=0 ${rssOf(mallocStream).toFixed(0)} MB (${mbs(mallocStream)}), python ${rssOf(pyStream).toFixed(0)} MB (${mbs(pyStream)})`,
  rss: rssOf(stream),
})

// streamed writes: batches generated and written one by one in fresh processes, peak RSS beside
// Python's write_deltalake from a RecordBatchReader of the same rows (bench/stream_write.*)
log('streamed writes (peak RSS)')
const swRows = ROWS / 2
const streamWrites = []
for (const partitioned of [false, true]) {
  const one = (cmd, script, ...flags) => {
    const uri = path.join(data, 'stream-write-out')
    fs.rmSync(uri, { recursive: true, force: true })
    const args = [path.join(here, script), uri, String(swRows), '100000', ...(partitioned ? ['partitioned'] : []), ...flags]
    const r = JSON.parse(
      execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 24 })
        .trim()
        .split('\n')
        .pop(),
    )
    fs.rmSync(uri, { recursive: true, force: true })
    return r
  }
  // alternating zoopipe (DeltaOutputAdapter, then a DeltaWriter worker) and Python, three processes each
  const z = [],
    worker = [],
    py = []
  for (let i = 0; i < 3; i++) {
    z.push(one(process.execPath, 'stream_write.mjs'))
    worker.push(one(process.execPath, 'stream_write.mjs', 'writer'))
    py.push(one(python, 'stream_write.py'))
  }
  streamWrites.push({ partitioned, z, worker, py })
}

// the demo's Pipe (CSV -> transform -> table partitioned by day): peak RSS in fresh processes,
// three runs, the CSV made once beforehand (examples/dist/orders.mjs, as the demo makes it)
log("the demo's Pipe (peak RSS)")
const pipeRows = quick ? 300_000 : 3_000_000
const pipeCsv = path.join(data, `orders-${pipeRows}.csv`)
if (!fs.existsSync(pipeCsv)) {
  // compiled from examples/orders.mts by `npm run bench` (tsc -p examples), as for the demo
  const { writeOrdersCsv } = await import('../examples/dist/orders.mjs')
  await writeOrdersCsv(pipeCsv, 1, pipeRows, '2024-03-01', 7, 42)
}
const pipeRuns = Array.from({ length: 3 }, () => {
  const uri = path.join(data, 'pipe-out')
  fs.rmSync(uri, { recursive: true, force: true })
  const r = JSON.parse(
    execFileSync(process.execPath, [path.join(here, 'pipe.mjs'), pipeCsv, uri], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .pop(),
  )
  fs.rmSync(uri, { recursive: true, force: true })
  return r
})

// append storms: many processes appending at once to one table while other processes keep every
// core busy (bench/storm.mjs); zoopipe and Python deltalake in the same harness
log('append storms')
const storms = []
const stormSizes = quick
  ? [[4, 3]]
  : [
      [16, 10],
      [8, 25],
    ]
for (const [procs, count] of stormSizes) {
  for (const engine of ['zoopipe', 'python']) storms.push(await storm(engine, { procs, count, python }))
}
// ... and on the S3 emulator (moto on 127.0.0.1), every request going through its HTTP server
const moto = await startMoto(python)
try {
  for (const [procs, count] of stormSizes) {
    for (const engine of ['zoopipe', 'python']) storms.push(await storm(engine, { procs, count, python, store: moto }))
  }
} finally {
  moto.stop()
}

// coordinator commit of 1,000 worker file actions
log('coordinator commit of 1,000 file actions')
const commitTimes = []
for (let r = 0; r <= runs; r++) {
  const uri = path.join(data, `coord-${r}`)
  fs.rmSync(uri, { recursive: true, force: true })
  await writeDelta(uri, [{ id: 0, v: 'seed' }])
  const w = new DeltaWriter(uri, { targetFileSize: 1 })
  for (let i = 0; i < 1000; i++) await w.write([{ id: i, v: `w${i}` }])
  const files = await w.finish()
  const t = performance.now()
  await new DeltaCoordinator(uri).commit(files)
  if (r > 0) commitTimes.push((performance.now() - t) / 1000)
  fs.rmSync(uri, { recursive: true, force: true })
}
results.push({
  name: 'DeltaCoordinator commit of 1,000 worker file actions',
  rows: 1000,
  zoopipe: commitTimes,
  peers: {},
  note: 'validates every action (HEAD per file) before the commit',
})

// cold require, and require + first small read, in fresh processes
const cold = (code) => {
  const out = []
  for (let i = 0; i <= runs; i++) {
    const r = execFileSync(process.execPath, ['-e', `const t=performance.now();${code};`], { encoding: 'utf8', cwd: root })
    if (i > 0) out.push(Number(r) / 1000)
  }
  return out
}
results.push({
  name: "cold require('zoopipe') (addon + JS layer; apache-arrow loads at first use)",
  rows: 0,
  zoopipe: cold("require('./');console.log(performance.now()-t)"),
  peers: {},
})
results.push({
  name: 'cold require + first small read (examples/data/orders)',
  rows: 150,
  zoopipe: cold("require('./').readDelta('examples/data/orders').then(()=>console.log(performance.now()-t))"),
  peers: {},
})

// ---- report ----
writeReport({ root, data, quick, runs, commit, python, ROWS, results, streamWrites, storms, swRows, slimAddon, pipeRows, pipeRuns })

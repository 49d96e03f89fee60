// Writes and commits on S3 (moto) behind a fault-injecting proxy of our own (fault-proxy.mjs): a
// commit whose response is lost is applied exactly once and reported as the success it is; a
// write whose uploads fail commits nothing; a commit that keeps losing gives up at its budget.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import crypto from 'node:crypto'
import path from 'node:path'
import { after, before, beforeEach, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { DeltaCoordinator, DeltaTable, DeltaWriter, readDelta, writeDelta } from '../index.mjs'
import { startS3 } from './emulators.mjs'
import { DATA_FILE, LOG_COMMIT, startFaultProxy } from './fault-proxy.mjs'
import { people, pyRead, rejectsWith, rows } from './helpers.mjs'

const bigWrite = path.join(path.dirname(fileURLToPath(import.meta.url)), 'workers', 'big-write.mjs')
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

describe('S3 (moto) behind a fault-injecting proxy', () => {
  let s3
  let proxy
  let n = 0
  const table = (name) => `${s3.root}/faults-${name}-${n++}`
  // zoopipe goes through the proxy; the checks read the store directly.
  const viaProxy = () => ({ ...s3.storageOptions, AWS_ENDPOINT_URL: proxy.endpoint })
  const direct = () => s3.storageOptions
  const ids = async (uri) =>
    rows(await readDelta(uri, { storageOptions: direct() }))
      .map((r) => Number(r.id))
      .sort((a, b) => a - b)
  const versions = async (uri) =>
    (await (await DeltaTable.open(uri, { storageOptions: direct() })).history()).map((h) => h.version).sort((a, b) => a - b)

  before(async () => {
    s3 = await startS3()
    proxy = await startFaultProxy(Number(new URL(s3.endpoint).port))
  })
  beforeEach(() => proxy.disarm())
  after(async () => {
    await proxy?.stop()
    await s3?.stop()
  })

  it('an append whose commit response is lost succeeds once: one new version, its rows once (Python reads the same)', async () => {
    const uri = table('append')
    await writeDelta(uri, people([1]), { storageOptions: direct() })
    proxy.arm('drop-response', 'PUT', LOG_COMMIT)
    const res = await writeDelta(uri, people([2, 3]), { storageOptions: viaProxy() })
    assert.equal(proxy.hits.filter((h) => h.fault === 'drop-response').length, 1, 'the fault hit the commit')
    assert.equal(res.version, 1)
    assert.deepEqual(await versions(uri), [0, 1])
    assert.deepEqual(await ids(uri), [1, 2, 3])
    assert.deepEqual(
      rows(pyRead(uri, { storage_options: direct() }))
        .map((r) => Number(r.id))
        .sort(),
      [1, 2, 3],
    )
  })

  it('the same with appId/appVersion: committed once, and a retry of the same appVersion commits nothing', async () => {
    const uri = table('txn')
    await writeDelta(uri, people([1]), { storageOptions: direct() })
    proxy.arm('drop-response', 'PUT', LOG_COMMIT)
    const commitProperties = { appId: 'etl', appVersion: 7 }
    assert.equal((await writeDelta(uri, people([2]), { storageOptions: viaProxy(), commitProperties })).version, 1)
    assert.equal((await writeDelta(uri, people([2]), { storageOptions: viaProxy(), commitProperties })).version, 1)
    assert.deepEqual(await versions(uri), [0, 1])
    assert.deepEqual(await ids(uri), [1, 2])
  })

  it('creating a table whose first commit response is lost: version 0, not "another writer created the table"', async () => {
    const uri = table('create')
    proxy.arm('drop-response', 'PUT', LOG_COMMIT)
    assert.equal((await writeDelta(uri, people([5]), { storageOptions: viaProxy() })).version, 0)
    assert.deepEqual(await versions(uri), [0])
    assert.deepEqual(await ids(uri), [5])
  })

  it('a DeltaCoordinator commit whose response is lost: committed once, reported committed', async () => {
    const uri = table('coordinator')
    await writeDelta(uri, people([1]), { storageOptions: direct() })
    const writer = new DeltaWriter(uri, { storageOptions: direct() })
    await writer.write(people([10, 11]))
    const files = await writer.finish()
    proxy.arm('drop-response', 'PUT', LOG_COMMIT)
    const res = await new DeltaCoordinator(uri, { storageOptions: viaProxy() }).commit(files)
    assert.deepEqual([res.version, res.committed], [1, true])
    assert.deepEqual(await versions(uri), [0, 1])
    assert.deepEqual(await ids(uri), [1, 10, 11])
  })

  it('a data upload reset once is retried: the write lands once', async () => {
    const uri = table('reset-once')
    await writeDelta(uri, people([1]), { storageOptions: direct() })
    proxy.arm('reset-mid-upload', 'PUT', DATA_FILE)
    assert.equal((await writeDelta(uri, people([2, 3]), { storageOptions: viaProxy() })).version, 1)
    assert.equal(proxy.hits.filter((h) => h.fault === 'reset-mid-upload').length, 1)
    assert.deepEqual(await versions(uri), [0, 1])
    assert.deepEqual(await ids(uri), [1, 2, 3])
  })

  it('data uploads reset every time: STORAGE, and the table is as it was (no log entry)', async () => {
    const uri = table('reset-always')
    await writeDelta(uri, people([1]), { storageOptions: direct() })
    proxy.arm('reset-mid-upload', 'PUT', DATA_FILE, Infinity)
    await rejectsWith(
      writeDelta(uri, people([2, 3]), { storageOptions: { ...viaProxy(), max_retries: '2', retry_timeout: '5s' } }),
      'STORAGE',
      /./,
    )
    // A DeltaWriter's writers fail the same way: its finish() reports it (write() had queued the rows).
    const writer = new DeltaWriter(uri, { storageOptions: { ...viaProxy(), max_retries: '2', retry_timeout: '5s' } })
    await writer.write(people([4, 5]))
    await rejectsWith(writer.finish(), 'STORAGE', /./)
    proxy.disarm()
    assert.deepEqual(await versions(uri), [0])
    assert.deepEqual(await ids(uri), [1])
  })

  it('a DeltaWriter whose writers fail mid-stream: the write() that finds it is STORAGE, and every later write() and finish() too (no file actions for part of the rows)', async () => {
    const uri = table('writer-fails')
    await writeDelta(uri, people([1]), { storageOptions: direct() })
    proxy.arm('reset-mid-upload', 'PUT', DATA_FILE, Infinity)
    const writer = new DeltaWriter(uri, {
      storageOptions: { ...viaProxy(), max_retries: '1', retry_timeout: '2s' },
      maxBufferedBytes: 2 << 20,
    })
    // Incompressible text, so the files go up in parts while rows keep coming; the writers stop at
    // the first part that cannot be stored, and the writes queued behind it find them stopped.
    const batch = () => Array.from({ length: 20_000 }, (_, i) => ({ id: i, name: crypto.randomBytes(24).toString('hex') }))
    let failed = null
    for (let i = 0; i < 200 && !failed; i++) await writer.write(batch()).catch((e) => (failed = e))
    proxy.disarm()
    assert.ok(failed, 'a write() found the writers stopped')
    assert.equal(failed.code, 'STORAGE')
    await rejectsWith(writer.write(people([7])), 'STORAGE', /earlier write of this DeltaWriter failed/)
    await rejectsWith(writer.finish(), 'STORAGE', /earlier write of this DeltaWriter failed/)
    assert.deepEqual(await versions(uri), [0])
  })

  it('a writer killed mid-upload (SIGKILL while a part of its data file hangs): the table stays at its version, no object is left, only the unfinished multipart upload, and a rerun lands', async () => {
    const uri = table('kill-mid-upload')
    await writeDelta(uri, people([1]), { storageOptions: direct() })
    // ~17 MB of incompressible rows: one data file, uploaded in 5 MiB parts; the second part hangs.
    proxy.arm('stall', 'PUT', /\.parquet\?(.*&)?partNumber=2(&|$)/)
    const child = spawn(process.execPath, [bigWrite, uri, '250000'], {
      env: { ...process.env, ZOOPIPE_TEST_STORAGE: JSON.stringify(viaProxy()) },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
    })
    const exited = new Promise((resolve) => child.on('exit', resolve))
    for (const t = Date.now(); !proxy.hits.some((h) => h.fault === 'stall') && Date.now() - t < 60_000; ) await sleep(20)
    assert.ok(
      proxy.hits.some((h) => h.fault === 'stall'),
      'the upload reached its second part',
    )
    child.kill('SIGKILL')
    await exited
    proxy.disarm()
    assert.equal(out, '', 'the killed writer never finished')
    assert.deepEqual(await versions(uri), [0])
    assert.deepEqual(await ids(uri), [1])
    // What it left: one unfinished multipart upload of a data file (invisible to readers and to vacuum;
    // a bucket lifecycle rule aborts those), and no object.
    const prefix = `${new URL(uri).pathname.slice(1)}/`
    const uploads = await (await fetch(`${s3.endpoint}/${new URL(uri).host}?uploads`)).text()
    const keys = [...uploads.matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1]).filter((k) => k.startsWith(prefix))
    assert.equal(keys.length, 1, uploads)
    assert.match(keys[0], /\.parquet$/)
    const dt = await DeltaTable.open(uri, { storageOptions: direct() })
    assert.deepEqual((await dt.vacuum({ full: true, retentionHours: 0, enforceRetentionDuration: false })).filesDeleted, [])
    assert.deepEqual(
      (await dt.files()).map((f) => f.path),
      (await dt.files()).map((f) => f.path).filter((p) => !keys[0].endsWith(p)),
      'the unfinished file is never referenced',
    )
    assert.equal((await writeDelta(uri, people([2, 3]), { storageOptions: direct() })).version, 1)
    assert.deepEqual(await ids(uri), [1, 2, 3])
  })

  it('a commit that loses every race gives up at commitTimeoutMs: COMMIT_CONFLICT naming the budget and the attempts, nothing committed', async () => {
    const uri = table('budget')
    await writeDelta(uri, people([1]), { storageOptions: direct() })
    proxy.arm('precondition', 'PUT', LOG_COMMIT, Infinity)
    const t0 = Date.now()
    await rejectsWith(
      writeDelta(uri, people([2]), { storageOptions: viaProxy(), commitProperties: { commitTimeoutMs: 1500 } }),
      'COMMIT_CONFLICT',
      /on each of \d+ attempts within the commit budget of 1500 ms \(commitTimeoutMs\)/,
    )
    const took = Date.now() - t0
    assert.ok(took >= 1000 && took < 15000, `gave up after ${took} ms`)
    assert.ok(proxy.hits.filter((h) => h.fault === 'precondition').length >= 3, 'it retried with backoff before giving up')
    proxy.disarm()
    assert.deepEqual(await versions(uri), [0])
    assert.deepEqual(await ids(uri), [1])
  })
})

// Incremental reads (DeltaChangesInputAdapter) and the exactly-once Pipe between Delta tables,
// against real processes killed mid-run.
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { DeltaChangesInputAdapter, DeltaOutputAdapter, DeltaTable, Pipe, readDelta, writeDelta } from '../index.mjs'
import { duckRead, people, py, pyRead, rejectsWith, scratch } from './helpers.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const run = promisify(execFile)
const ids = (t) => Array.from(t.getChild('id').toArray(), Number).sort((a, b) => a - b)
const range = (from, to) => Array.from({ length: to - from }, (_, i) => from + i)

/** A source table of `versions` appends of `rows` rows each (ids 0, 1, 2, ... in order). */
async function source(name, versions, rows = 3) {
  const uri = scratch(name)
  for (let v = 0; v < versions; v++) await writeDelta(uri, people(range(v * rows, (v + 1) * rows)))
  return uri
}

const collect = async (adapter) => {
  const out = []
  for await (const b of adapter) out.push(b)
  return out
}

describe('DeltaChangesInputAdapter', () => {
  it('reads the rows each commit appended, version by version, each with its _commit_version and _commit_timestamp', async () => {
    const uri = await source('changes-basic', 3)
    const adapter = new DeltaChangesInputAdapter(uri)
    const batches = await collect(adapter)
    const rows = batches.flatMap((b) => b.toArray().map((r) => [Number(r.id), Number(r._commit_version)]))
    assert.deepEqual(
      rows.sort((a, b) => a[0] - b[0]),
      range(0, 9).map((id) => [id, Math.floor(id / 3)]),
    )
    assert.equal(adapter.lastVersion, 2)
    const history = await (await DeltaTable.open(uri)).history()
    const stamp = Number(batches.find((b) => Number(b.get(0)._commit_version) === 1).get(0)._commit_timestamp)
    assert.equal(stamp, history.find((c) => c.version === 1).timestamp)
    assert.deepEqual(ids(await new DeltaChangesInputAdapter(uri, { startingVersion: 1 }).readAll()), range(3, 9))
    assert.deepEqual(ids(await new DeltaChangesInputAdapter(uri, { startingVersion: 1, endingVersion: 1 }).readAll()), [3, 4, 5])
    const filtered = await new DeltaChangesInputAdapter(uri, { columns: ['id'], filter: [['id', '>=', 7]] }).readAll()
    assert.deepEqual(ids(filtered), [7, 8])
    assert.deepEqual(
      filtered.schema.fields.map((f) => f.name),
      ['id', '_commit_version', '_commit_timestamp'],
    )
    assert.throws(() => new DeltaChangesInputAdapter(uri, { startingVersion: 2, endingVersion: 1 }), /endingVersion/)
    assert.throws(() => new DeltaChangesInputAdapter(uri, { startingVersion: -1 }), /startingVersion/)
  })

  it('a commit that removed or rewrote data is UNSUPPORTED_FEATURE naming its version; changeFeed: true reads it from the change data feed', async () => {
    const uri = scratch('changes-cdf')
    await writeDelta(uri, people([1, 2, 3]), { configuration: { 'delta.enableChangeDataFeed': 'true' } })
    await (await DeltaTable.open(uri)).delete('id = 2')
    await writeDelta(uri, people([4]))
    await rejectsWith(new DeltaChangesInputAdapter(uri).readAll(), 'UNSUPPORTED_FEATURE', /version 1 \(DELETE\).*changeFeed: true/)
    // Up to the delete, appended reads are fine.
    assert.deepEqual(ids(await new DeltaChangesInputAdapter(uri, { endingVersion: 0 }).readAll()), [1, 2, 3])
    const feed = await new DeltaChangesInputAdapter(uri, { changeFeed: true }).readAll()
    const changes = feed
      .toArray()
      .map((r) => `${r._change_type}:${Number(r.id)}@${Number(r._commit_version)}`)
      .sort()
    assert.deepEqual(changes, ['delete:2@1', 'insert:1@0', 'insert:2@0', 'insert:3@0', 'insert:4@2'])
    const plain = await source('changes-no-cdf', 1)
    await rejectsWith(new DeltaChangesInputAdapter(plain, { changeFeed: true }).readAll(), 'UNSUPPORTED_FEATURE', /enableChangeDataFeed/)
  })

  it('follow: yields each new commit as it lands, until the signal aborts', async () => {
    const uri = await source('changes-follow', 1)
    const controller = new AbortController()
    const seen = []
    const reading = (async () => {
      for await (const b of new DeltaChangesInputAdapter(uri, { follow: true, pollIntervalMs: 20, signal: controller.signal }))
        seen.push(...ids(new (await import('apache-arrow')).Table(b)))
    })()
    const until = async (n) => {
      const deadline = Date.now() + 10_000
      while (seen.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    }
    await until(3)
    await writeDelta(uri, people([100]))
    await until(4)
    await writeDelta(uri, people([101, 102]))
    await until(6)
    controller.abort()
    await rejectsWith(reading, 'ABORTED')
    assert.deepEqual(seen, [0, 1, 2, 100, 101, 102])
  })
})

describe('incremental Pipe (DeltaChangesInputAdapter -> DeltaOutputAdapter with appId)', () => {
  const pipe = (src, dst, extra = {}) =>
    new Pipe({
      input: new DeltaChangesInputAdapter(src),
      output: new DeltaOutputAdapter(dst, { commitProperties: { appId: 'silver' } }),
      ...extra,
    }).run()

  it('resumes after the last source version the target recorded, in the same commit as the rows; a run with nothing new commits nothing', async () => {
    const src = await source('inc-src', 3)
    const dst = scratch('inc-dst')
    const first = await pipe(src, dst)
    assert.deepEqual(first.sourceVersions, { from: 0, to: 2 })
    assert.equal(first.commits, 1)
    assert.equal(first.rowsWritten, 9)
    const target = await DeltaTable.open(dst)
    assert.equal(await target.transactionVersion('silver'), 2)
    const again = await pipe(src, dst)
    assert.equal(again.sourceVersions, null)
    assert.equal(again.commits, 0)
    assert.equal((await DeltaTable.open(dst)).version, 0, 'nothing committed')
    await writeDelta(src, people([50, 51]))
    const third = await pipe(src, dst, { transform: (b) => b })
    assert.deepEqual(third.sourceVersions, { from: 3, to: 3 })
    assert.deepEqual(ids(await readDelta(dst)), [...range(0, 9), 50, 51])
    // The marker is in the very commit that added the rows.
    const log = fs.readFileSync(path.join(dst, '_delta_log', '00000000000000000001.json'), 'utf8')
    assert.match(log, /"txn":\{"appId":"silver","version":3/)
    assert.match(log, /"add":/)
  })

  it('a sync killed with SIGKILL at any point (mid-read, mid-write, mid-commit) and run again writes every source row exactly once', async () => {
    const versions = 12
    const src = await source('inc-kill-src', versions, 50)
    const dst = scratch('inc-kill-dst')
    const worker = path.join(here, 'workers', 'sync.mjs')
    const progressOf = async () =>
      (await DeltaTable.isDeltaTable(dst)) ? await (await DeltaTable.open(dst)).transactionVersion('silver') : null
    const partial = []
    // Killed while a commit is held before its log write (test hook): mid-commit.
    {
      const parquet = () => (fs.existsSync(dst) ? fs.readdirSync(dst).filter((f) => f.endsWith('.parquet')).length : 0)
      const child = spawn(process.execPath, [worker, src, dst], {
        stdio: 'ignore',
        env: { ...process.env, ZOOPIPE_TEST_PAUSE_BEFORE_LOG_WRITE_MS: '3000' },
      })
      const exited = new Promise((r) => child.once('exit', r))
      const deadline = Date.now() + 8000
      while (parquet() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
      await new Promise((r) => setTimeout(r, 300))
      child.kill('SIGKILL')
      await exited
      assert.ok(parquet() > 0, 'data files were written before the kill')
      assert.equal(await progressOf(), null, 'the held commit never landed')
    }
    // Killed at moments spread over a run: mid-read, mid-transform, mid-write.
    for (const ms of [250, 450, 650, 850]) {
      const child = spawn(process.execPath, [worker, src, dst], { stdio: 'ignore' })
      const exited = new Promise((r) => child.once('exit', r))
      await new Promise((r) => setTimeout(r, ms))
      child.kill('SIGKILL')
      await exited
      partial.push(await progressOf())
    }
    const { stdout } = await run(process.execPath, [worker, src, dst])
    assert.match(stdout, /done/)
    assert.equal(await progressOf(), versions - 1)
    const got = ids(await readDelta(dst))
    assert.equal(got.length, versions * 50, 'no row lost or doubled')
    assert.deepEqual(got, range(0, versions * 50))
    // What the killed runs wrote is never referenced, and vacuum accounts for all of it.
    const target = await DeltaTable.open(dst)
    const referenced = new Set((await target.files()).map((f) => f.path))
    const leftovers = fs.readdirSync(dst).filter((f) => f.endsWith('.parquet') && !referenced.has(f))
    assert.ok(leftovers.length > 0, 'the killed runs left data files behind')
    const swept = await target.vacuum({ full: true, retentionHours: 0, enforceRetentionDuration: false })
    assert.deepEqual(swept.filesDeleted.map((f) => path.basename(f)).sort(), leftovers.sort())
    // The kills left the target part way: some progress, not all of it.
    assert.ok(
      partial.some((p) => p !== null && p < versions - 1),
      `a kill landed mid-run (progress after each kill: ${JSON.stringify(partial)})`,
    )
  })

  it('follow: each source version becomes one target commit as it lands; aborting while idle returns the report', async () => {
    const src = await source('inc-follow-src', 2)
    const dst = scratch('inc-follow-dst')
    const controller = new AbortController()
    const running = new Pipe({
      input: new DeltaChangesInputAdapter(src, { follow: true, pollIntervalMs: 20 }),
      output: new DeltaOutputAdapter(dst, { commitProperties: { appId: 'silver' } }),
      signal: controller.signal,
    }).run()
    const until = async (v) => {
      const deadline = Date.now() + 10_000
      while (Date.now() < deadline) {
        if ((await DeltaTable.isDeltaTable(dst)) && (await (await DeltaTable.open(dst)).transactionVersion('silver')) === v) return
        await new Promise((r) => setTimeout(r, 20))
      }
      throw new Error(`target never reached source version ${v}`)
    }
    await until(1)
    await writeDelta(src, people([77]))
    await until(2)
    controller.abort()
    const report = await running
    assert.deepEqual(report.sourceVersions, { from: 0, to: 2 })
    assert.equal(report.commits, 3, 'one commit per source version')
    assert.deepEqual(ids(await readDelta(dst)), [0, 1, 2, 3, 4, 5, 77])
  })

  it('a source Python wrote, synced through a JS transform, reads back in Python and DuckDB with every row exactly once and its types; the next run takes only the new versions', async () => {
    const src = scratch('py-src')
    for (let v = 0; v < 3; v++) py('append_rows.py', src, String(v * 4), String(v * 4 + 4))
    const dst = scratch('py-dst')
    const sync = () =>
      new Pipe({
        input: new DeltaChangesInputAdapter(src),
        transform: (b) => b.toArray().map((r) => ({ id: r.id, name: r.name.toUpperCase(), from_version: r._commit_version })),
        output: new DeltaOutputAdapter(dst, { commitProperties: { appId: 'py-silver' } }),
      }).run()
    const expected = (n) => range(0, n).map((id) => [id, `N${id}`, Math.floor(id / 4)])
    const asRows = (t) =>
      t
        .toArray()
        .map((r) => [Number(r.id), r.name, Number(r.from_version)])
        .sort((a, b) => a[0] - b[0])
    assert.deepEqual((await sync()).sourceVersions, { from: 0, to: 2 })
    for (const t of [pyRead(dst), duckRead(dst)]) {
      assert.deepEqual(asRows(t), expected(12))
      assert.deepEqual(
        t.schema.fields.map((f) => `${f.name}:${f.type}`),
        ['id:Int64', 'name:Utf8', 'from_version:Int64'],
      )
    }
    py('append_rows.py', src, '12', '16')
    py('append_rows.py', src, '16', '20')
    const next = await sync()
    assert.deepEqual(next.sourceVersions, { from: 3, to: 4 })
    assert.equal(next.rowsWritten, 8)
    assert.deepEqual(asRows(pyRead(dst)), expected(20))
    assert.deepEqual(asRows(duckRead(dst)), expected(20))
  })

  it('bad inputs: a startingVersion after the latest is VERSION_NOT_FOUND; appId must be a non-empty string; a source vacuumed past the resume point names the missing version and leaves the target as it was', async () => {
    const src = await source('inc-bad-src', 3)
    const dst = scratch('inc-bad-dst')
    await rejectsWith(
      new DeltaChangesInputAdapter(src, { startingVersion: 5 }).readAll(),
      'VERSION_NOT_FOUND',
      /startingVersion 5 is after the latest version 2/,
    )
    await rejectsWith(
      new Pipe({
        input: new DeltaChangesInputAdapter(src, { startingVersion: 5 }),
        output: new DeltaOutputAdapter(dst, { commitProperties: { appId: 'silver' } }),
      }).run(),
      'VERSION_NOT_FOUND',
      /startingVersion 5/,
    )
    assert.equal(await DeltaTable.isDeltaTable(dst), false, 'nothing written')
    for (const appId of [5, '', {}])
      assert.throws(
        () => new DeltaOutputAdapter(dst, { commitProperties: { appId } }),
        (e) => e.code === 'INVALID_ARGUMENT' && /appId must be a non-empty string/.test(e.message),
      )
    const first = await new Pipe({
      input: new DeltaChangesInputAdapter(src, { endingVersion: 0 }),
      output: new DeltaOutputAdapter(dst, { commitProperties: { appId: 'silver' } }),
    }).run()
    assert.deepEqual(first.sourceVersions, { from: 0, to: 0 })
    // Compaction (no data change, so not a rewrite to follow) then vacuum: the files versions 1 and 2 added are gone.
    const dt = await DeltaTable.open(src)
    await dt.optimize.compact()
    const vacuumed = await dt.vacuum({ retentionHours: 0, enforceRetentionDuration: false, dryRun: false })
    assert.equal(vacuumed.filesDeleted.length, 3)
    await rejectsWith(pipe(src, dst), 'VERSION_NOT_FOUND', /source version 1 can no longer be read/)
    const target = await DeltaTable.open(dst)
    assert.equal(target.version, 0, 'target unchanged')
    assert.equal(await target.transactionVersion('silver'), 0)
    // Skipping ahead is the way on: version 3 (the compaction) and the vacuum's commits added nothing.
    const latest = (await DeltaTable.open(src)).version
    const skipped = await new Pipe({
      input: new DeltaChangesInputAdapter(src, { startingVersion: 3 }),
      output: new DeltaOutputAdapter(dst, { commitProperties: { appId: 'silver' } }),
    }).run()
    assert.deepEqual([skipped.sourceVersions, skipped.commits], [{ from: 3, to: latest }, 0])
  })

  it("another appId's marker in the target is not this pipe's progress: two sources sync into one target, each exactly once", async () => {
    const a = await source('fan-a', 2)
    const b = scratch('fan-b')
    for (let v = 0; v < 3; v++) await writeDelta(b, people(range(100 + v * 2, 102 + v * 2)))
    const dst = scratch('fan-dst')
    const sync = (src, appId) =>
      new Pipe({ input: new DeltaChangesInputAdapter(src), output: new DeltaOutputAdapter(dst, { commitProperties: { appId } }) }).run()
    assert.deepEqual((await sync(a, 'from-a')).sourceVersions, { from: 0, to: 1 })
    assert.deepEqual((await sync(b, 'from-b')).sourceVersions, { from: 0, to: 2 }, "b starts at its own beginning, not after a's marker")
    await writeDelta(a, people([50]))
    assert.deepEqual((await sync(a, 'from-a')).sourceVersions, { from: 2, to: 2 })
    assert.equal((await sync(b, 'from-b')).commits, 0)
    const target = await DeltaTable.open(dst)
    assert.deepEqual([await target.transactionVersion('from-a'), await target.transactionVersion('from-b')], [2, 2])
    assert.deepEqual(ids(await readDelta(dst)), [...range(0, 6), 50, ...range(100, 106)])
  })

  it('changeFeed: a CDF table Python wrote (update, delete) syncs its change rows as Python reads them; without changeFeed the delete stops the pipe and the target stays as it was', async () => {
    const src = scratch('py-cdf-src')
    const python = JSON.parse(py('cdf_source.py', src))
    assert.deepEqual([...new Set(python.map((r) => r.type))].sort(), ['delete', 'insert', 'update_postimage', 'update_preimage'])
    const dst = scratch('py-cdf-dst')
    const run = (changeFeed) =>
      new Pipe({
        input: new DeltaChangesInputAdapter(src, { changeFeed }),
        output: new DeltaOutputAdapter(dst, { commitProperties: { appId: 'cdf' } }),
      }).run()
    await rejectsWith(run(false), 'UNSUPPORTED_FEATURE', /version 2 \(UPDATE\).*changeFeed: true/)
    assert.equal(await DeltaTable.isDeltaTable(dst), false, 'nothing committed')
    const report = await run(true)
    assert.deepEqual(report.sourceVersions, { from: 0, to: 4 })
    const got = (await readDelta(dst))
      .toArray()
      .map((r) => ({ id: Number(r.id), name: r.name, type: r._change_type, version: Number(r._commit_version) }))
      .sort((a, b) => a.version - b.version || (a.type < b.type ? -1 : a.type > b.type ? 1 : 0) || a.id - b.id)
    assert.deepEqual(got, python)
    assert.equal((await run(true)).commits, 0, 'nothing new')
  })

  it('CLI: zoopipe sync SOURCE TARGET --app-id ID', async () => {
    const src = await source('cli-sync-src', 2)
    const dst = scratch('cli-sync-dst')
    const cli = path.join(here, '..', 'bin', 'zoopipe.js')
    const first = await run(process.execPath, [cli, 'sync', src, dst, '--app-id', 'nightly'])
    assert.match(first.stdout, /synced source versions 0\.\.1: 6 rows/)
    const second = await run(process.execPath, [cli, 'sync', src, dst, '--app-id', 'nightly'])
    assert.match(second.stdout, /nothing new/)
    assert.deepEqual(ids(await readDelta(dst)), range(0, 6))
    await assert.rejects(run(process.execPath, [cli, 'sync', src, dst]), (e) => e.code === 2 && /--app-id/.test(e.stderr))
  })
})

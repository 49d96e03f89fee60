// Maintenance, DML and change data feed: each checked by content, and by Python deltalake afterwards.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'
import { promisify } from 'node:util'
import { DateDay, Field, Int32, Table, Utf8, vectorFromArray } from 'apache-arrow'
import { DeltaTable, readDelta, writeDelta } from '../index.mjs'
import {
  DV_TABLE,
  INT96_BIG_DATES,
  INT96_TABLE,
  assertDeclaredFields,
  assertSameTable,
  engineTable,
  int96Rows,
  people,
  pyRead,
  rejectsWith,
  rows,
  scratch,
} from './helpers.mjs'

const run = promisify(execFile)
const byId = (t) => rows(t).sort((a, b) => Number(a.id) - Number(b.id))
const samePython = async (uri) => assertSameTable(pyRead(uri), await readDelta(uri), uri)

async function smallFiles(name, n = 8, opts = {}) {
  const uri = scratch(name)
  for (let i = 0; i < n; i++)
    await writeDelta(uri, people([i * 2, i * 2 + 1], { part: i % 2 ? 'odd' : 'even' }), { partitionBy: ['part'], ...opts })
  return uri
}

describe('maintenance', () => {
  it('createCheckpoint and cleanupMetadata', async () => {
    const uri = await smallFiles('ckpt', 3)
    const dt = await DeltaTable.open(uri)
    await dt.createCheckpoint()
    assert.ok(fs.readdirSync(path.join(uri, '_delta_log')).includes('00000000000000000002.checkpoint.parquet'))
    assert.equal(await dt.cleanupMetadata(), 0) // nothing is older than the 30-day log retention
    await samePython(uri)
  })

  it('after cleanupMetadata, a version whose commits are gone is VERSION_NOT_FOUND saying so; later ones still read', async () => {
    const uri = await smallFiles('cleanup', 4)
    const dt = await DeltaTable.open(uri)
    await dt.alterTable.setProperties({ 'delta.logRetentionDuration': 'interval 0 seconds' })
    await writeDelta(uri, people([100]))
    await (await DeltaTable.open(uri)).createCheckpoint()
    assert.ok((await (await DeltaTable.open(uri)).cleanupMetadata()) > 0)
    assert.ok(!fs.existsSync(path.join(uri, '_delta_log', '00000000000000000000.json')))
    await rejectsWith(readDelta(uri, { version: 0 }), 'VERSION_NOT_FOUND', /version 0 can no longer be read.*latest version is 5/)
    await rejectsWith((await DeltaTable.open(uri)).loadVersion(1), 'VERSION_NOT_FOUND', /can no longer be read/)
    assert.equal((await readDelta(uri, { version: 5 })).numRows, (await readDelta(uri)).numRows)
    // The earliest version left is the checkpoint's: a time before its commit is not silently it.
    await rejectsWith(
      readDelta(uri, { timestamp: '2000-01-01T00:00:00Z' }),
      'VERSION_NOT_FOUND',
      /no version was committed at or before 2000/,
    )
    assert.equal((await DeltaTable.open(uri, { timestamp: new Date(Date.now() + 60_000) })).version, 5)
  })

  it('optimize.compact merges small files in one commit; zOrder rewrites; rows unchanged', async () => {
    const uri = await smallFiles('compact')
    const before = byId(await readDelta(uri))
    const dt = await DeltaTable.open(uri)
    assert.equal((await dt.files()).length, 8)
    const m = await dt.optimize.compact({ commitProperties: { customMetadata: { by: 'test' } } })
    assert.equal(m.numFilesRemoved, 8)
    assert.equal(m.numFilesAdded, 2)
    assertDeclaredFields(m, 'OptimizeMetrics')
    assertDeclaredFields(m.filesAdded, 'FileSizeMetrics')
    assert.equal(dt.version, 8)
    const files = await dt.files()
    assert.equal(files.length, 2)
    // delta-rs gives these as JSON text; they are objects here.
    assert.deepEqual(
      [m.filesAdded.totalFiles, m.filesAdded.totalSize, m.filesRemoved.totalFiles],
      [2, files.reduce((n, f) => n + f.size, 0), 8],
    )
    assert.equal((await dt.history(1))[0].by, 'test')
    assert.deepEqual(byId(await readDelta(uri)), before)
    const onlyOdd = await smallFiles('compact-filter')
    const m2 = await (await DeltaTable.open(onlyOdd)).optimize.compact({ filter: [['part', '=', 'odd']] })
    assert.equal(m2.numFilesRemoved, 4)
    await rejectsWith((await DeltaTable.open(uri)).optimize.zOrder([]), 'INVALID_ARGUMENT', /column names/)
    await rejectsWith((await DeltaTable.open(uri)).optimize.zOrder(['part']), 'INVALID_ARGUMENT', /partition columns/)
    await rejectsWith((await DeltaTable.open(uri)).optimize.zOrder(['nope']), 'INVALID_ARGUMENT', /nope/)
    const z = await (await DeltaTable.open(uri)).optimize.zOrder(['id', 'name'])
    assert.ok(z.numFilesAdded >= 1)
    assert.deepEqual(byId(await readDelta(uri)), before)
    await samePython(uri)
  })

  it('optimize filters take values as reads do: Dates and epoch ms select a day, bigints a number, null the null partition', async () => {
    // Three small files in each (day, n) partition, day null for n = 0; a compaction merges a partition's three files into one.
    const uri = scratch('compact-values')
    const days = [null, '2024-01-01', '2024-01-02']
    for (let k = 0; k < 3; k++) {
      await writeDelta(
        uri,
        new Table({
          id: vectorFromArray(
            [0, 1, 2].map((n) => k * 3 + n),
            new Int32(),
          ),
          n: vectorFromArray([0n, 1n, 2n]),
          day: vectorFromArray(
            days.map((d) => (d ? new Date(d) : null)),
            new DateDay(),
          ),
        }),
        { partitionBy: ['day', 'n'] },
      )
    }
    const before = byId(await readDelta(uri))
    const compacted = async (filter) => {
      const dt = await DeltaTable.open(uri)
      const m = await dt.optimize.compact({ filter })
      return m.numFilesRemoved
    }
    assert.equal(await compacted([['day', '=', new Date('2024-01-01')]]), 3)
    assert.equal(
      await compacted([
        ['day', '>=', Date.UTC(2024, 0, 2)],
        ['n', '=', 2n],
      ]),
      3,
    )
    assert.equal(await compacted([['day', '=', null]]), 3)
    assert.equal(await compacted([['n', 'not in', [5n, null]]]), 0) // all three partitions are one file now
    const files = await (await DeltaTable.open(uri)).files()
    assert.equal(files.length, 3)
    assert.deepEqual(byId(await readDelta(uri)), before)
    for (const [filter, re] of [
      [[['day', '=', 'someday']], /cannot be compared with column 'day'/],
      [[['nope', '=', 1]], /unknown column 'nope'/],
      [[['n', 'in', [1n, null]]], /cannot match null inside 'in'/],
      [[['day', '=', 1.5]], /epoch milliseconds/],
    ])
      await rejectsWith((await DeltaTable.open(uri)).optimize.compact({ filter }), 'INVALID_ARGUMENT', re)
    await samePython(uri)
  })

  it("vacuum first checks it supports every feature of the table's protocol (Delta's vacuum protocol check, which vacuumProtocolCheck asks for): else UNSUPPORTED_FEATURE naming them, dry run too, and nothing is deleted", async () => {
    for (const features of [['someFutureWriterFeature'], ['vacuumProtocolCheck', 'someFutureWriterFeature']]) {
      const uri = scratch('vacuum-protocol')
      await writeDelta(uri, people([1, 2]))
      await writeDelta(uri, people([3]), { mode: 'overwrite' })
      // The protocol upgrade a newer writer committed (by hand: no peer here writes it).
      const reader = features[0] === 'vacuumProtocolCheck' ? { readerFeatures: ['vacuumProtocolCheck'] } : {}
      const protocol = { minReaderVersion: reader.readerFeatures ? 3 : 1, minWriterVersion: 7, ...reader, writerFeatures: features }
      const commitInfo = { timestamp: Date.now(), operation: 'SET TBLPROPERTIES', operationParameters: {} }
      fs.writeFileSync(
        path.join(uri, '_delta_log', '00000000000000000002.json'),
        `${JSON.stringify({ commitInfo })}\n${JSON.stringify({ protocol })}\n`,
      )
      const files = () => fs.readdirSync(uri).filter((f) => f.endsWith('.parquet')).length
      const dt = await DeltaTable.open(uri)
      assert.deepEqual(dt.protocol().writerFeatures, features)
      for (const dryRun of [true, false])
        await rejectsWith(
          dt.vacuum({ retentionHours: 0, enforceRetentionDuration: false, dryRun }),
          'UNSUPPORTED_FEATURE',
          /vacuum refused: this writer must support every feature.*someFutureWriterFeature/,
        )
      assert.equal(files(), 2, 'nothing deleted')
      assert.equal((await DeltaTable.open(uri)).version, 2)
    }
  })

  it('vacuum: refuses a short retention, is a dry run unless dryRun: false (as Python), keeps keepVersions, never deletes what retained versions need', async () => {
    const uri = scratch('vacuum')
    await writeDelta(uri, people([1, 2]))
    await writeDelta(uri, people([3]), { mode: 'overwrite' })
    const dt = await DeltaTable.open(uri)
    await rejectsWith(dt.vacuum({ retentionHours: 0 }), 'INVALID_ARGUMENT', /retention/i)
    const kept = await dt.vacuum() // default 7-day retention: the removed file is too recent to go
    assert.deepEqual(kept.filesDeleted, [])
    assert.deepEqual(
      byId(await readDelta(uri, { version: 0 })).map((r) => r.id),
      ['1', '2'],
    )
    const dry = await dt.vacuum({ retentionHours: 0, enforceRetentionDuration: false })
    assert.equal(dry.dryRun, true, 'a dry run by default')
    assert.equal(dry.filesDeleted.length, 1)
    assert.ok(fs.existsSync(path.join(uri, dry.filesDeleted[0].replace(/^.*\//, ''))), 'dry run deletes nothing')
    const keep = await dt.vacuum({ retentionHours: 0, enforceRetentionDuration: false, dryRun: false, keepVersions: [0] })
    assert.deepEqual(keep.filesDeleted, [], 'version 0 is kept')
    assert.equal((await readDelta(uri, { version: 0 })).numRows, 2)
    await rejectsWith(dt.vacuum({ keepVersions: [-1] }), 'INVALID_ARGUMENT', /keepVersions/)
    await rejectsWith(dt.vacuum({ dryRun: 'no' }), 'INVALID_ARGUMENT', /dryRun/)
    const real = await dt.vacuum({ retentionHours: 0, enforceRetentionDuration: false, dryRun: false })
    assert.equal(real.dryRun, false)
    assert.deepEqual(real.filesDeleted, dry.filesDeleted)
    assert.ok(!fs.existsSync(path.join(uri, real.filesDeleted[0].replace(/^.*\//, ''))))
    assert.deepEqual(
      byId(await readDelta(uri)).map((r) => r.id),
      ['3'],
    )
    // The version before the overwrite lost its file: the error says what usually did that.
    await rejectsWith(readDelta(uri, { version: 0 }), 'STORAGE', /not found.*a data file of this version is gone: removed by vacuum/)
    await samePython(uri)
    // Restoring that version needs ignoreMissingFiles (its file is gone); then the table refers to
    // the missing file again (as delta-rs and Spark restore), and reads say it is gone.
    const before = (await DeltaTable.open(uri)).version
    await assert.rejects(dt.restore(0), (e) => e.name === 'DeltaError' && /missing|not found|gone/i.test(e.message))
    assert.equal((await DeltaTable.open(uri)).version, before, 'the failed restore committed nothing')
    const restored = await dt.restore(0, { ignoreMissingFiles: true })
    assert.equal(restored.numRestoredFile, 1)
    assert.equal((await DeltaTable.open(uri)).version, before + 1)
    await rejectsWith(readDelta(uri), 'STORAGE', /not found/)
  })

  it('restore to a version and to a time', async () => {
    const uri = scratch('restore')
    await writeDelta(uri, people([1]))
    await writeDelta(uri, people([2]))
    await writeDelta(uri, people([9]), { mode: 'overwrite' })
    const dt = await DeltaTable.open(uri)
    const m = await dt.restore(1)
    assert.equal(dt.version, 3)
    assert.equal(m.numRestoredFile, 2)
    assert.deepEqual(
      byId(await readDelta(uri)).map((r) => r.id),
      ['1', '2'],
    )
    // commit N gets the mtime 2024-01-(N+1): restoring to a time picks the version committed by then
    for (const v of [0, 1, 2, 3]) {
      const t = new Date(Date.UTC(2024, 0, 1 + v)).getTime() / 1000
      fs.utimesSync(path.join(uri, '_delta_log', `${String(v).padStart(20, '0')}.json`), t, t)
    }
    await dt.restore('2024-01-03T12:00:00Z') // version 2
    assert.equal(dt.version, 4)
    assert.deepEqual(
      byId(await readDelta(uri)).map((r) => r.id),
      ['9'],
    )
    await rejectsWith(dt.restore(99), 'VERSION_NOT_FOUND', /version 99 does not exist \(latest version is 4\)/)
    await rejectsWith(dt.restore('2023-06-01T00:00:00Z'), 'VERSION_NOT_FOUND', /no version was committed at or before 2023/)
    assert.equal((await DeltaTable.open(uri)).version, 4)
    await samePython(uri)
  })
})

describe('DML', () => {
  it('delete and update by predicate; bad predicates are INVALID_ARGUMENT', async () => {
    const uri = scratch('dml')
    await writeDelta(
      uri,
      people([1, 2, 3, 4]).map((p) => ({ ...p, score: Number(p.id) * 1.5 })),
    )
    const dt = await DeltaTable.open(uri)
    const d = await dt.delete('id >= 3')
    assert.equal(d.numDeletedRows, 2)
    assertDeclaredFields(d, 'DeleteMetrics')
    assert.deepEqual(
      byId(await readDelta(uri)).map((r) => r.id),
      ['1', '2'],
    )
    const u = await dt.update({ set: { score: 'score * 10', name: "concat(name, '!')" }, predicate: 'id = 2' })
    assert.equal(u.numUpdatedRows, 1)
    assertDeclaredFields(u, 'UpdateMetrics')
    assert.deepEqual(byId(await readDelta(uri)), [
      { id: '1', name: 'n1', score: 1.5 },
      { id: '2', name: 'n2!', score: '30' },
    ])
    const before = dt.version
    await rejectsWith(dt.delete('id >>> 3'), 'INVALID_ARGUMENT')
    await rejectsWith(dt.delete('nope = 1'), 'INVALID_ARGUMENT')
    await rejectsWith(dt.update({ set: { nope: '1' } }), 'INVALID_ARGUMENT')
    await rejectsWith(dt.update({ set: { id: "'x'" } }), 'INVALID_ARGUMENT', /Cannot cast string 'x'/)
    await rejectsWith(dt.update({ set: { id: 'name + 1' } }), 'INVALID_ARGUMENT', /Cannot coerce/)
    await rejectsWith(dt.delete('nofunc(name)'), 'INVALID_ARGUMENT', /Invalid function 'nofunc'/)
    assert.equal((await DeltaTable.open(uri)).version, before)
    await dt.delete()
    assert.equal((await readDelta(uri)).numRows, 0)
    await samePython(uri)
  })

  it('merge: upsert with the builder chain, source given as rows', async () => {
    const uri = scratch('merge')
    await writeDelta(uri, people([1, 2, 3], { part: 'a' }), { partitionBy: ['part'] })
    const dt = await DeltaTable.open(uri)
    const m = await dt
      .merge(
        [
          { id: 2, name: 'two', part: 'a', gone: false },
          { id: 3, name: 'x', part: 'a', gone: true },
          { id: 4, name: 'four', part: 'b', gone: false },
        ],
        { predicate: 'target.id = source.id', sourceAlias: 'source', targetAlias: 'target' },
      )
      .whenMatchedDelete({ predicate: 'source.gone' })
      .whenMatchedUpdate({ updates: { name: 'source.name' } })
      .whenNotMatchedInsert({ values: { id: 'source.id', name: 'source.name', part: 'source.part' } })
      .whenNotMatchedBySourceUpdate({ updates: { name: "'untouched'" } })
      .execute()
    assert.equal(m.numTargetRowsUpdated, 2)
    assertDeclaredFields(m, 'MergeMetrics')
    assert.equal(m.numTargetRowsInserted, 1)
    assert.equal(m.numTargetRowsDeleted, 1)
    assert.deepEqual(byId(await readDelta(uri)), [
      { id: '1', name: 'untouched', part: 'a' },
      { id: '2', name: 'two', part: 'a' },
      { id: '4', name: 'four', part: 'b' },
    ])
    await samePython(uri)
    await rejectsWith(
      dt
        .merge([{ id: 1 }], { predicate: 'target.nope = source.id' })
        .whenMatchedDelete()
        .execute(),
      'INVALID_ARGUMENT',
    )
  })

  it('DML on a handle behind the table (time travel, another writer since) is COMMIT_CONFLICT saying how far behind; nothing is committed', async () => {
    const uri = scratch('dml-stale')
    await writeDelta(uri, people([1, 2]))
    const old = await DeltaTable.open(uri)
    await writeDelta(uri, people([3]))
    const behind = /this handle is at version 0 and the table at 1: load the latest version/
    await rejectsWith(old.delete('id > 0'), 'COMMIT_CONFLICT', behind)
    await rejectsWith((await DeltaTable.open(uri, { version: 0 })).update({ set: { name: "'x'" } }), 'COMMIT_CONFLICT', behind)
    assert.equal((await DeltaTable.open(uri)).version, 1)
    await old.loadVersion(1)
    await old.delete('id > 2')
    assert.deepEqual(
      byId(await readDelta(uri)).map((r) => r.id),
      ['1', '2'],
    )
  })

  it('merge: a clause setting a column the table lacks, no clause, or two source rows for one target row are refused; an empty source merges nothing', async () => {
    const uri = scratch('merge-refusals')
    await writeDelta(uri, people([1, 2]))
    const dt = await DeltaTable.open(uri)
    const on = { predicate: 'target.id = source.id' }
    // delta-rs skipped the unknown column without a word: "updated", nothing changed
    await rejectsWith(
      dt
        .merge(people([1]), on)
        .whenMatchedUpdate({ set: { nmae: 'source.name' } })
        .execute(),
      'INVALID_ARGUMENT',
      /whenMatchedUpdate: the table has no column 'nmae'/,
    )
    await rejectsWith(dt.merge(people([1]), on).execute(), 'INVALID_ARGUMENT', /at least one when/)
    await rejectsWith(
      dt
        .merge([...people([1]), ...people([1])], on)
        .whenMatchedUpdateAll()
        .execute(),
      'INVALID_DATA',
      /multiple source rows/,
    )
    assert.equal((await DeltaTable.open(uri)).version, 0)
    // target.-qualified names are the table's columns
    await dt
      .merge([{ id: 1, name: 'one' }], on)
      .whenMatchedUpdate({ set: { 'target.name': 'source.name' } })
      .execute()
    // an empty source: nothing matches, so nothing is updated and every target row is unmatched by source
    await dt.merge([], on).whenMatchedUpdateAll().execute()
    assert.deepEqual(
      byId(await readDelta(uri)).map((r) => r.name),
      ['one', 'n2'],
    )
    await dt.merge([], on).whenNotMatchedBySourceDelete({ predicate: 'target.id = 2' }).execute()
    assert.deepEqual(
      byId(await readDelta(uri)).map((r) => r.id),
      ['1'],
    )
  })

  it('merge: whenMatchedUpdateAll / whenNotMatchedInsertAll take every source column by name (quoted names too)', async () => {
    const uri = scratch('merge-all')
    await writeDelta(uri, [
      { id: 1, 'b c': 'a', n: 1.5 },
      { id: 2, 'b c': 'b', n: 2.5 },
    ])
    const dt = await DeltaTable.open(uri)
    await dt
      .merge(
        [
          { id: 2, 'b c': 'z', n: 9 },
          { id: 3, 'b c': 'new', n: 3 },
        ],
        { predicate: 'target.id = source.id' },
      )
      .whenMatchedUpdateAll()
      .whenNotMatchedInsertAll()
      .execute()
    const all = async () => byId(await readDelta(uri)).map((r) => [r.id, r['b c'], r.n])
    assert.deepEqual(await all(), [
      ['1', 'a', 1.5],
      ['2', 'z', '9'],
      ['3', 'new', '3'],
    ]) // rows() shows whole numbers as text
    // A source without some columns: updates leave them, inserts make them null; clause predicates apply.
    await dt
      .merge(
        [
          { id: 1, n: 7 },
          { id: 3, n: 1 },
          { id: 4, n: 4 },
        ],
        { predicate: 't.id = s.id', sourceAlias: 's', targetAlias: 't' },
      )
      .whenMatchedUpdateAll({ predicate: 's.n > 5' })
      .whenNotMatchedInsertAll()
      .execute()
    assert.deepEqual(await all(), [
      ['1', 'a', '7'],
      ['2', 'z', '9'],
      ['3', 'new', '3'],
      ['4', null, '4'],
    ])
    await samePython(uri)
    const before = dt.version
    await rejectsWith(
      dt
        .merge([{ id: 1, zz: 7 }], { predicate: 'target.id = source.id' })
        .whenMatchedUpdateAll()
        .execute(),
      'SCHEMA_MISMATCH',
      /no column 'zz'/,
    )
    assert.equal((await DeltaTable.open(uri)).version, before)
  })

  it('merge: a source of row objects is typed as write(rows) types it (bigints exact, Dates, binary)', async () => {
    const uri = scratch('merge-types')
    const big = 9007199254740993n // 2^53 + 1
    const at = new Date('2024-03-04T05:06:07.089Z')
    await writeDelta(uri, [
      { id: big, at, bin: Buffer.from('a') },
      { id: 1n, at, bin: null },
    ])
    const dt = await DeltaTable.open(uri)
    const source = [
      { id: big, at: new Date(at.getTime() + 1), bin: Buffer.from('b') },
      { id: 1n, at, bin: Buffer.from('c') },
      { id: big + 2n, at, bin: null },
    ]
    await dt
      .merge(source, { predicate: 'target.id = source.id' })
      .whenMatchedUpdate({ updates: { bin: 'source.bin', at: 'source.at' } })
      .whenNotMatchedInsert({ values: { id: 'source.id', at: 'source.at', bin: 'source.bin' } })
      .execute()
    const ms = at.getTime()
    assert.deepEqual(byId(await readDelta(uri)), [
      { at: String(ms), bin: '63', id: '1' },
      { at: String(ms + 1), bin: '62', id: String(big) },
      { at: String(ms), bin: null, id: String(big + 2n) },
    ])
    await samePython(uri)
  })

  // Each operation is held at its log write (the test failpoint, every commit of this process) while
  // another process appends `row`; only then may it commit. Its commitInfo proves the overlap: it
  // read version 3 (before the append) and retried (num_retries) or failed.
  const raced = async (name, op, row) => {
    const uri = await smallFiles(name, 4) // versions 0-3: ids 0-7, part even (0, 1, 4, 5) and odd
    const files = () => fs.readdirSync(uri, { recursive: true }).filter((f) => f.endsWith('.parquet'))
    const until = async (ok, ms) => {
      for (const t = Date.now(); !ok() && Date.now() - t < ms; ) await new Promise((r) => setTimeout(r, 5))
    }
    // The appending process loads zoopipe and writes once elsewhere first, then appends when told:
    // its start-up is not in the race.
    const [ready, go] = ['ready', 'go'].map((f) => `${uri}.${f}`)
    const index = JSON.stringify(new URL('../index.mjs', import.meta.url).href)
    const child = run(process.execPath, [
      '--input-type=module',
      '-e',
      `import fs from 'node:fs'; import { writeDelta } from ${index};
       await writeDelta(${JSON.stringify(`${uri}.warm`)}, [${JSON.stringify(row)}]); fs.writeFileSync(${JSON.stringify(ready)}, '');
       while (!fs.existsSync(${JSON.stringify(go)})) await new Promise((r) => setTimeout(r, 5));
       await writeDelta(${JSON.stringify(uri)}, [${JSON.stringify(row)}])`,
    ])
    await until(() => fs.existsSync(ready), 30_000)
    const before = new Set(files())
    // Set for the whole operation (the appending process started without it): its one commit is held.
    process.env.ZOOPIPE_TEST_PAUSE_BEFORE_LOG_WRITE_MS = '3000'
    let result
    try {
      const held = op(await DeltaTable.open(uri)).then(
        (value) => ({ value }),
        (error) => ({ error }),
      )
      // The operation's new files are down: it is at (or about to reach) its held log write.
      await until(() => files().some((f) => !before.has(f)), 60_000)
      assert.ok(
        files().some((f) => !before.has(f)),
        'the operation wrote its files',
      )
      fs.writeFileSync(go, '')
      await child
      result = await held
    } finally {
      delete process.env.ZOOPIPE_TEST_PAUSE_BEFORE_LOG_WRITE_MS
    }
    const [last, previous] = await (await DeltaTable.open(uri)).history()
    return { uri, result, last, previous }
  }
  const ids = async (uri) => byId(await readDelta(uri)).map((r) => [Number(r.id), r.name])
  const people8 = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => [i, `n${i}`])
  const merge = (dt) =>
    dt
      .merge([{ id: 0, name: 'merged', part: 'even' }], { predicate: 'target.id = source.id' })
      .whenMatchedUpdate({ updates: { name: 'source.name' } })
      .execute()

  it('merge held at its log write while another process appends a row it did not read: the merge retries and lands after the append', async () => {
    const { uri, result, last, previous } = await raced('merge-race', merge, { id: 100, name: 'n100', part: 'odd' })
    assert.equal(result.error, undefined, String(result.error))
    assert.deepEqual(
      [last.version, last.operation, last.readVersion, last.operationMetrics.num_retries > 0, previous.version, previous.operation],
      [5, 'MERGE', 3, true, 4, 'WRITE'],
    )
    assert.deepEqual(await ids(uri), [[0, 'merged'], ...people8.slice(1), [100, 'n100']])
    await samePython(uri)
  })

  it('merge held at its log write while another process appends a row its predicate matches: COMMIT_CONFLICT, the merge leaves no trace', async () => {
    const { uri, result, last } = await raced('merge-conflict', merge, { id: 0, name: 'late', part: 'even' })
    assert.equal(result.error?.code, 'COMMIT_CONFLICT', String(result.error ?? 'the merge committed'))
    assert.deepEqual([last.version, last.operation], [4, 'WRITE'])
    assert.deepEqual(
      await ids(uri),
      [[0, 'late'], ...people8].sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : 1)),
    )
    await samePython(uri)
  })

  it('delete held at its log write while another process appends a row it did not read: the delete retries and lands after the append', async () => {
    const { uri, result, last, previous } = await raced('delete-race', (dt) => dt.delete('id = 2'), { id: 100, name: 'n100', part: 'odd' })
    assert.equal(result.error, undefined, String(result.error))
    assert.deepEqual(
      [last.version, last.operation, last.readVersion, last.operationMetrics.num_retries > 0, previous.version, previous.operation],
      [5, 'DELETE', 3, true, 4, 'WRITE'],
    )
    assert.deepEqual(await ids(uri), [...people8.filter(([i]) => i !== 2), [100, 'n100']])
    await samePython(uri)
  })

  it("optimize held at its log write while another process appends: both land (compaction changes no data), the append's row stays", async () => {
    const { uri, result, last, previous } = await raced('optimize-race', (dt) => dt.optimize.compact(), {
      id: 100,
      name: 'n100',
      part: 'odd',
    })
    assert.equal(result.error, undefined, String(result.error))
    assert.deepEqual(
      [last.version, last.operation, last.readVersion, last.operationMetrics.num_retries > 0, previous.version, previous.operation],
      [5, 'OPTIMIZE', 3, true, 4, 'WRITE'],
    )
    assert.deepEqual(await ids(uri), [...people8, [100, 'n100']])
    await samePython(uri)
  })

  it('on a table with deletion vectors, DML, optimize and appends never bring deleted rows back', async () => {
    // Each operation rewrites or keeps the file whose deletion vector hides 0 and 9 (helpers: DV_TABLE).
    const values = async (uri) =>
      rows(await readDelta(uri))
        .map((r) => Number(r.value))
        .sort((a, b) => a - b)
    const cases = [
      [(dt) => dt.delete('value = 3'), [1, 2, 4, 5, 6, 7, 8]],
      [(dt) => dt.update({ set: { value: 'value + 10' }, predicate: 'value >= 7' }), [1, 2, 3, 4, 5, 6, 17, 18]],
      [
        (dt) =>
          dt
            .merge([{ value: 5 }, { value: 9 }], { predicate: 't.value = s.value', sourceAlias: 's', targetAlias: 't' })
            .whenMatchedUpdate({ updates: { value: 's.value + 100' } })
            .whenNotMatchedInsert({ values: { value: 's.value' } })
            .execute(),
        [1, 2, 3, 4, 6, 7, 8, 9, 105],
      ],
      [(dt) => dt.optimize.zOrder(['value']), [1, 2, 3, 4, 5, 6, 7, 8]],
      [(dt) => writeDelta(dt.uri, [{ value: 42 }], { mode: 'append' }), [1, 2, 3, 4, 5, 6, 7, 8, 42]],
    ]
    for (const [op, want] of cases) {
      const uri = engineTable(DV_TABLE)
      const dt = await DeltaTable.open(uri)
      await op(dt)
      assert.equal((await DeltaTable.open(uri)).version, 2, String(op))
      assert.deepEqual(await values(uri), want, String(op))
      await samePython(uri)
    }
  })

  it('rewriting files with Spark INT96 timestamps past 2262 keeps their dates (update, delete, merge, optimize)', async () => {
    // Read as nanoseconds, 9999-12-31 wraps to 1816; a rewrite would then store 1816 for good.
    const big = (n) => INT96_BIG_DATES[n]
    const cases = [
      [
        (dt) => dt.update({ set: { SOME_VALUE: 'SOME_VALUE + 10' }, predicate: 'SOME_VALUE = 1' }),
        [
          [2, big(2)],
          [11, big(1)],
        ],
      ],
      [(dt) => dt.delete('SOME_VALUE = 2'), [[1, big(1)]]],
      [
        (dt) =>
          dt
            .merge([{ SOME_VALUE: 2 }], { predicate: 't.SOME_VALUE = s.SOME_VALUE', sourceAlias: 's', targetAlias: 't' })
            .whenMatchedUpdate({ updates: { SOME_VALUE: '20' } })
            .execute(),
        [
          [1, big(1)],
          [20, big(2)],
        ],
      ],
      [
        (dt) => dt.optimize.compact(),
        [
          [1, big(1)],
          [2, big(2)],
        ],
      ],
      [
        (dt) => dt.optimize.zOrder(['SOME_VALUE']),
        [
          [1, big(1)],
          [2, big(2)],
        ],
      ],
    ]
    for (const [op, want] of cases) {
      const uri = engineTable(INT96_TABLE)
      await op(await DeltaTable.open(uri))
      assert.equal((await DeltaTable.open(uri)).version, 1, String(op))
      assert.deepEqual(
        int96Rows(await readDelta(uri)).map(([v, d]) => [v, d]),
        want,
        String(op),
      )
    }
  })
})

describe('change data feed and alterTable', () => {
  it('loadCdf streams inserts, updates and deletes with their versions', async () => {
    const uri = scratch('cdf')
    await writeDelta(uri, people([1, 2, 3]), { configuration: { 'delta.enableChangeDataFeed': 'true' } })
    const dt = await DeltaTable.open(uri)
    await dt.update({ set: { name: "'changed'" }, predicate: 'id = 1' })
    await dt.delete('id = 3')
    const changes = []
    for await (const b of dt.loadCdf({ startingVersion: 0 })) changes.push(...rows(new (await import('apache-arrow')).Table(b)))
    const summary = changes.map((c) => `${c._commit_version}:${c._change_type}:${c.id}`).sort()
    assert.deepEqual(summary, ['0:insert:1', '0:insert:2', '0:insert:3', '1:update_postimage:1', '1:update_preimage:1', '2:delete:3'])
    assert.ok(changes.every((c) => c._commit_timestamp !== null))
    const after = async () => {
      for await (const _b of dt.loadCdf({ startingTimestamp: new Date(Date.now() + 86_400_000) })) _b
    }
    await rejectsWith(after(), 'VERSION_NOT_FOUND', /greater than latest commit timestamp/)
    const fromV1 = []
    for await (const b of dt.loadCdf({ startingVersion: 1, endingVersion: 1, columns: ['id', '_change_type'] }))
      fromV1.push(...rows(new (await import('apache-arrow')).Table(b)))
    assert.deepEqual(fromV1.map((c) => c._change_type).sort(), ['update_postimage', 'update_preimage'])
    assert.deepEqual(Object.keys(fromV1[0]).sort(), ['_change_type', 'id'])
    // predicate (SQL over the feed, its own columns too) and allowOutOfRange, as Python's load_cdf.
    const feed = async (o) => {
      const out = []
      for await (const b of dt.loadCdf(o)) out.push(...rows(new (await import('apache-arrow')).Table(b)))
      return out.map((c) => `${c._commit_version}:${c._change_type}:${c.id}`).sort()
    }
    assert.deepEqual(
      await feed({
        startingVersion: 0,
        predicate: "_change_type = 'insert' AND id > 1",
        columns: ['id', '_change_type', '_commit_version'],
      }),
      ['0:insert:2', '0:insert:3'],
    )
    assert.deepEqual(await feed({ startingVersion: 9, allowOutOfRange: true }), [])
    await rejectsWith(feed({ startingVersion: 9 }), 'VERSION_NOT_FOUND')
    await rejectsWith(feed({ predicate: 'id = 1 junk' }), 'INVALID_ARGUMENT', /loadCdf predicate/)
    await rejectsWith(feed({ predicate: 'no_such_column = 1' }), 'INVALID_ARGUMENT', /no_such_column/)
    await rejectsWith(feed({ allowOutOfRange: 'yes' }), 'INVALID_ARGUMENT', /allowOutOfRange/)
  })

  it('SQL text with anything after its one expression is INVALID_ARGUMENT, nothing changes (delta-rs ran the part before it)', async () => {
    const uri = scratch('sql-whole')
    await writeDelta(uri, people([1, 2, 3]))
    const dt = await DeltaTable.open(uri)
    const partial = /is not one SQL expression: it goes on with/
    await rejectsWith(dt.delete('id = 1 id = 2'), 'INVALID_ARGUMENT', partial)
    await rejectsWith(dt.delete('id = 1; DROP TABLE t'), 'INVALID_ARGUMENT', /goes on with ';' at line 1, column 7/)
    await rejectsWith(dt.update({ set: { name: "'x'" }, predicate: 'id IN (1, 2) 3' }), 'INVALID_ARGUMENT', partial)
    await rejectsWith(dt.update({ set: { name: "'x' || name junk" } }), 'INVALID_ARGUMENT', /update value for 'name'/)
    await rejectsWith(
      dt
        .merge(people([1]), { predicate: 'target.id = source.id junk', sourceAlias: 'source', targetAlias: 'target' })
        .whenMatchedUpdateAll()
        .execute(),
      'INVALID_ARGUMENT',
      /merge predicate/,
    )
    await rejectsWith(
      dt
        .merge(people([1]), { predicate: 'target.id = source.id', sourceAlias: 'source', targetAlias: 'target' })
        .whenMatchedDelete({ predicate: 'source.id > 0 x' })
        .execute(),
      'INVALID_ARGUMENT',
      partial,
    )
    await rejectsWith(dt.alterTable.addConstraint({ c: 'id > 0 junk' }), 'INVALID_ARGUMENT', /constraint 'c'/)
    await rejectsWith(writeDelta(uri, people([1]), { mode: 'overwrite', predicate: 'id = 1; x' }), 'INVALID_ARGUMENT', partial)
    assert.equal((await DeltaTable.open(uri)).version, 0)
    assert.deepEqual(
      byId(await readDelta(uri)).map((r) => r.id),
      ['1', '2', '3'],
    )
    // Comments are not more text.
    await dt.delete('id = 1 -- the first one')
    assert.deepEqual(
      byId(await readDelta(uri)).map((r) => r.id),
      ['2', '3'],
    )
  })

  it('setProperties, addConstraint (enforced on writes) and addColumns', async () => {
    const uri = scratch('alter')
    await writeDelta(uri, people([1, 2]))
    const dt = await DeltaTable.open(uri)
    await dt.alterTable.setProperties({ 'delta.logRetentionDuration': 'interval 60 days' })
    assert.equal(dt.metadata().configuration['delta.logRetentionDuration'], 'interval 60 days')
    await dt.alterTable.addConstraint({ id_positive: 'id > 0' })
    assert.equal(dt.metadata().configuration['delta.constraints.id_positive'], 'id > 0')
    await rejectsWith(writeDelta(uri, people([-5])), 'INVALID_DATA')
    const version = dt.version
    await rejectsWith(
      dt.alterTable.addColumns([{ name: 'age', type: 'integer', nullable: true }]),
      'INVALID_ARGUMENT',
      /field 0 is not an apache-arrow Field/,
    )
    await rejectsWith(dt.alterTable.addColumns([]), 'INVALID_ARGUMENT')
    await rejectsWith(dt.alterTable.addConstraint({ a: 'id > 0', b: 'id < 9' }), 'INVALID_ARGUMENT', /one constraint/)
    // delta-rs committed these: a version that changed nothing, and a column no file has a value
    // for that every later read refused.
    await rejectsWith(dt.alterTable.addColumns([new Field('ID', new Int32(), true)]), 'INVALID_ARGUMENT', /already has a column 'id'/)
    await rejectsWith(dt.alterTable.addColumns([new Field('age', new Int32(), false)]), 'INVALID_ARGUMENT', /'age' must be nullable/)
    // delta-rs stored these: a value the kernel then ignores (the 30-day default applied), a
    // key it refuses only as INTERNAL.
    await rejectsWith(
      dt.alterTable.setProperties({ 'delta.logRetentionDuration': 'forever' }),
      'INVALID_ARGUMENT',
      /'delta.logRetentionDuration' cannot be 'forever'/,
    )
    await rejectsWith(dt.alterTable.setProperties({ 'delta.appendOnly': 'maybe' }), 'INVALID_ARGUMENT', /cannot be 'maybe'/)
    await rejectsWith(
      dt.alterTable.setProperties({ 'delta.appendOnlyy': 'true' }),
      'INVALID_ARGUMENT',
      /unknown table property 'delta.appendOnlyy'/,
    )
    await rejectsWith(
      writeDelta(scratch('alter-bad-conf'), people([1]), { configuration: { 'delta.checkpointInterval': '0' } }),
      'INVALID_ARGUMENT',
      /cannot be '0'/,
    )
    assert.ok(!fs.existsSync(scratch('alter-bad-conf')))
    assert.equal((await DeltaTable.open(uri)).version, version)
    assert.equal(dt.metadata().configuration['delta.logRetentionDuration'], 'interval 60 days')
    await dt.alterTable.addColumns([new Field('age', new Int32(), true), new Field('city', new Utf8(), true)])
    assert.deepEqual(
      dt.schema().fields.map((f) => f.name),
      ['id', 'name', 'age', 'city'],
    )
    await writeDelta(uri, [{ id: 3, name: 'c', age: 30, city: 'Oslo' }])
    assert.deepEqual(
      byId(await readDelta(uri)).map((r) => [r.id, r.age, r.city]),
      [
        ['1', null, null],
        ['2', null, null],
        ['3', '30', 'Oslo'],
      ],
    )
    await samePython(uri)
  })

  it('dropConstraint removes a CHECK constraint (writes it refused then go in); an unknown name is INVALID_ARGUMENT unless raiseIfNotExists is false', async () => {
    const uri = scratch('drop-constraint')
    await writeDelta(uri, people([1]))
    const dt = await DeltaTable.open(uri)
    await dt.alterTable.addConstraint({ id_positive: 'id > 0' })
    await rejectsWith(
      dt.alterTable.addConstraint({ id_positive: 'id > 1' }),
      'INVALID_ARGUMENT',
      /already exists with a different expression/,
    )
    await rejectsWith(writeDelta(uri, people([-1])), 'INVALID_DATA')
    await rejectsWith(dt.alterTable.dropConstraint('nope'), 'INVALID_ARGUMENT', /no constraint 'nope' \(constraints: id_positive\)/)
    const before = dt.version
    await dt.alterTable.dropConstraint('nope', { raiseIfNotExists: false })
    assert.equal((await DeltaTable.open(uri)).version, before)
    await dt.alterTable.dropConstraint('ID_POSITIVE', { commitProperties: { customMetadata: { why: 'test' } } })
    assert.equal(dt.version, before + 1)
    assert.equal(dt.metadata().configuration['delta.constraints.id_positive'], undefined)
    const [last] = await dt.history(1)
    assert.equal(last.operation, 'DROP CONSTRAINT')
    await writeDelta(uri, people([-1]))
    assert.deepEqual(
      byId(await readDelta(uri)).map((r) => r.id),
      ['-1', '1'],
    )
    await samePython(uri)
  })
})

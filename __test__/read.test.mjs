// The read path: every fixture (written by Python deltalake) reads back exactly as Python reads it.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import v8 from 'node:v8'
import vm from 'node:vm'
import { describe, it } from 'node:test'
import { RecordBatch, Table, makeVector } from 'apache-arrow'
import {
  DeltaCoordinator,
  DeltaError,
  DeltaInputAdapter,
  DeltaTable,
  DeltaWriter,
  ParquetInputAdapter,
  readDelta,
  writeDelta,
} from '../index.mjs'
import {
  assertSameTable,
  DV_TABLE,
  INT96_NESTED,
  INT96_TABLE,
  columnNames,
  engineTable,
  int96NestedRows,
  int96Rows,
  fixture,
  fileFilterTests,
  vacuumProtocolCheckTests,
  filterValueTests,
  partitionFilterCases,
  pyRead,
  rejectsWith,
  rows,
  scratch,
} from './helpers.mjs'

async function assertSameAsPython(name, opts = {}) {
  const ours = await readDelta(fixture(name), opts)
  const theirs = pyRead(fixture(name), { version: opts.version, columns: opts.columns })
  assert.ok(ours instanceof Table)
  assert.deepEqual(columnNames(ours), columnNames(theirs), `${name}: columns`)
  assert.equal(ours.numRows, theirs.numRows, `${name}: row count`)
  assertSameTable(ours, theirs, name)
  return ours
}

describe('reads what Python deltalake wrote, row for row', () => {
  it('the comparison with a peer sees types: the same values as int32 and int64, or long and double, differ', () => {
    const ints = new Table({ id: makeVector(Int32Array.from([1, 2])) })
    const longs = new Table({ id: makeVector(BigInt64Array.from([1n, 2n])) })
    const doubles = new Table({ id: makeVector(Float64Array.from([1, 2])) })
    assert.deepEqual(rows(ints), rows(longs), 'values alone compare equal')
    assert.throws(() => assertSameTable(ints, longs), /column types/)
    assert.throws(() => assertSameTable(longs, doubles), /column types/)
    assertSameTable(longs, new Table({ id: makeVector(BigInt64Array.from([2n, 1n])) }))
  })
  for (const version of [0, 1, 2, 3]) {
    it(`simple table at version ${version} (appends and an overwrite)`, async () => {
      const t = await assertSameAsPython('simple', { version })
      assert.equal(t.numRows, [3, 5, 4, 5][version])
    })
  }
  it('simple table at the latest version', () => assertSameAsPython('simple'))
  it('partitioned table with / = % space unicode and null partition values', async () => {
    const t = await assertSameAsPython('partitioned')
    const parts = new Set(t.getChild('part').toArray())
    for (const p of ['a/b', 'x=y', '100%', 'with space', 'ünïcødé', null, 'plain']) assert.ok(parts.has(p), `partition ${p}`)
  })
  it('checkpointed table, latest and before the checkpoint', async () => {
    await assertSameAsPython('checkpointed')
    const t = await assertSameAsPython('checkpointed', { version: 5 })
    assert.equal(t.numRows, 18)
  })
  it('schema that evolved across versions', async () => {
    const v0 = await assertSameAsPython('evolved', { version: 0 })
    assert.deepEqual(columnNames(v0), ['a', 'b'])
    const v1 = await assertSameAsPython('evolved')
    assert.deepEqual(columnNames(v1), ['a', 'b', 'c'])
    assert.deepEqual(
      rows(v1).map((r) => r.c),
      [null, null, true],
    )
  })
  it('every data type, with nulls everywhere', async () => {
    const t = await assertSameAsPython('all_types')
    const types = Object.fromEntries(t.schema.fields.map((f) => [f.name, String(f.type)]))
    assert.match(types.ts, /Timestamp.*UTC/i)
    assert.doesNotMatch(types.ts_ntz, /UTC/i)
    assert.match(types.dec, /Decimal/)
    const nullRow = t.get(2).toJSON()
    for (const [k, v] of Object.entries(nullRow)) assert.equal(v, null, `column ${k} row 2 is null`)
  })
  it('a table of several files', () => assertSameAsPython('many_files'))
  it('hands every type over buffer by buffer (no IPC copy), and the batches outlive the stream', async () => {
    const dt = await DeltaTable.open(fixture('all_types'))
    const stream = await dt._t.scan({ batchSize: 2 })
    let batches = 0
    for (let b; (b = await stream.nextBatch()) != null; batches++) {
      assert.equal(b.ipc, undefined, 'a batch fell back to IPC')
      assert.ok(b.buffers.length >= dt.schema().fields.length)
    }
    assert.ok(batches >= 2)
    const t = await readDelta(fixture('all_types'), { batchSize: 2 })
    // A full collection now (the stream and its native scan are unreachable), whatever flags node got.
    v8.setFlagsFromString('--expose-gc')
    vm.runInNewContext('gc')()
    assertSameTable(t, pyRead(fixture('all_types')))
  })
  it('a column-mapped table (mode name) reads the values that were written', async () => {
    // Python deltalake 1.6.6 wrote this table but reads it back as nulls, so compare with the input.
    const dt = await DeltaTable.open(fixture('column_mapping'))
    assert.equal(dt.metadata().configuration['delta.columnMapping.mode'], 'name')
    assert.deepEqual(rows(await readDelta(fixture('column_mapping'))), [
      { a: '1', 'b c': 'x' },
      { a: '2', 'b c': 'y' },
      { a: '3', 'b c': 'z' },
    ])
  })
})

describe('DeltaTable', () => {
  it('reports version, schema, metadata and protocol', async () => {
    const dt = await DeltaTable.open(fixture('simple'))
    assert.equal(dt.version, 3)
    assert.deepEqual(
      dt.schema().fields.map((f) => f.name),
      ['id', 'name', 'value'],
    )
    const md = dt.metadata()
    assert.equal(md.name, 'simple')
    assert.equal(md.description, 'a simple table')
    assert.deepEqual(md.partitionColumns, [])
    assert.equal(typeof md.id, 'string')
    assert.equal(typeof md.createdTime, 'number')
    const p = dt.protocol()
    assert.equal(typeof p.minReaderVersion, 'number')
    assert.equal(typeof p.minWriterVersion, 'number')
    assert.deepEqual((await DeltaTable.open(fixture('partitioned'))).metadata().partitionColumns, ['part', 'bucket'])
  })

  it('history is newest first, with versions and operations, and honours limit and time travel', async () => {
    const dt = await DeltaTable.open(fixture('simple'))
    const all = await dt.history()
    assert.deepEqual(
      all.map((h) => h.version),
      [3, 2, 1, 0],
    )
    assert.deepEqual(
      all.map((h) => h.operation),
      ['WRITE', 'WRITE', 'WRITE', 'WRITE'],
    )
    assert.equal(all[1].operationParameters.mode, 'Overwrite')
    assert.equal(all[3].operationParameters.mode, 'ErrorIfExists')
    assert.deepEqual(
      (await dt.history(2)).map((h) => h.version),
      [3, 2],
    )
    await dt.loadVersion(1)
    assert.deepEqual(
      (await dt.history()).map((h) => h.version),
      [1, 0],
    )
  })

  it('files() lists the active files with sizes, partition values and record counts', async () => {
    const dt = await DeltaTable.open(fixture('partitioned'))
    const files = await dt.files()
    // paths are object paths relative to the table root (decoded from the log's URI form)
    const onDisk = (f) => fs.statSync(path.join(fixture('partitioned'), f.path)).size
    assert.ok(files.length >= 7)
    for (const f of files) {
      assert.equal(f.size, onDisk(f))
      assert.ok('part' in f.partitionValues && 'bucket' in f.partitionValues)
      assert.equal(typeof f.numRecords, 'number')
    }
    assert.equal(
      files.reduce((n, f) => n + f.numRecords, 0),
      70,
    )
    assert.ok(files.some((f) => f.partitionValues.part === null))
    assert.ok(files.some((f) => f.partitionValues.part === 'a/b'))
  })

  it('loadVersion and loadTimestamp travel in time', async () => {
    const dt = await DeltaTable.open(fixture('simple'))
    await dt.loadVersion(1)
    assert.equal(dt.version, 1)
    assert.equal((await dt.files()).length, 2)
    // Fixture commit N has mtime 2024-01-01 + N days.
    await dt.loadTimestamp(new Date('2024-01-03T12:00:00Z'))
    assert.equal(dt.version, 2)
    await dt.loadTimestamp('2024-01-04T00:00:00Z')
    assert.equal(dt.version, 3)
    const atTime = await DeltaTable.open(fixture('simple'), { timestamp: '2024-01-02T06:00:00Z' })
    assert.equal(atTime.version, 1)
  })

  it('isDeltaTable', async () => {
    assert.equal(await DeltaTable.isDeltaTable(fixture('simple')), true)
    assert.equal(await DeltaTable.isDeltaTable(fixture('not_a_table')), false)
    assert.equal(await DeltaTable.isDeltaTable(fixture('empty_dir')), false)
    assert.equal(await DeltaTable.isDeltaTable(fixture('does-not-exist')), false)
  })
})

describe('DeltaInputAdapter', () => {
  it('streams whose consumers stop pulling hold their own reading threads: reads started meanwhile still finish', async () => {
    // Each paused stream's reading threads are blocked handing over a batch nobody takes; the
    // scans share kept threads (src/reader_threads.rs), so this would hang if they queued behind them.
    const paused = []
    for (let i = 0; i < 3; i++) {
      const it = new DeltaInputAdapter(fixture('many_files'), { batchSize: 100 }).getBatches()
      assert.equal((await it.next()).value.numRows, 100)
      paused.push(it)
    }
    const all = await readDelta(fixture('many_files'))
    assert.equal(all.numRows, 200_000)
    assert.equal(new Set(all.getChild('id').toArray()).size, 200_000)
    let rows = 100
    for await (const b of { [Symbol.asyncIterator]: () => paused[0] }) rows += b.numRows
    assert.equal(rows, 200_000, 'a paused stream resumes where it stopped')
    for (const it of paused.slice(1)) await it.return()
  })

  it("time travel by version and timestamp returns that version's rows", async () => {
    const byVersion = await new DeltaInputAdapter(fixture('simple'), { version: 1 }).readAll()
    assertSameTable(byVersion, pyRead(fixture('simple'), { version: 1 }))
    const byTime = await new DeltaInputAdapter(fixture('simple'), { timestamp: new Date('2024-01-02T23:59:59Z') }).readAll()
    assertSameTable(byTime, byVersion)
  })

  it('projection returns only the requested columns, in the requested order', async () => {
    const t = await readDelta(fixture('all_types'), { columns: ['str', 'i64'] })
    assert.deepEqual(columnNames(t), ['str', 'i64'])
    assertSameTable(t, pyRead(fixture('all_types'), { columns: ['str', 'i64'] }))
  })

  it('filters on partition columns select exactly the matching rows', async () => {
    const all = rows(await readDelta(fixture('partitioned')))
    for (const [filter, pred] of partitionFilterCases) {
      const got = rows(await readDelta(fixture('partitioned'), { filter }))
      const want = all.filter(pred)
      assert.ok(want.length > 0, `${JSON.stringify(filter)} selects something`)
      assert.deepEqual(got, want, JSON.stringify(filter))
    }
  })

  it('filters on data columns are exact and agree with Python', async () => {
    const filter = [
      ['id', '>=', 60000],
      ['id', '<', 60010],
    ]
    const got = rows(await readDelta(fixture('many_files'), { filter }))
    assert.deepEqual(
      got.map((r) => Number(r.id)).sort((a, b) => a - b),
      [...Array(10)].map((_, i) => 60000 + i),
    )
    assert.deepEqual(got, rows(pyRead(fixture('many_files'), { filters: filter })))
    const dates = await readDelta(fixture('all_types'), { filter: [['date', '>', new Date('2000-01-01T00:00:00Z')]] })
    assert.equal(dates.numRows, 2) // 2024-01-01 and 2099-06-15 (2000-02-29 is row 2, null)
    const ts = await readDelta(fixture('all_types'), { filter: [['ts', '=', '2024-01-01T12:30:15.123456Z']] })
    assert.equal(ts.numRows, 4)
  })

  it('partition pruning and stats skipping never open files that cannot match', async () => {
    // Copy the tables, then delete data files that the filter rules out: a filtered read that
    // opened them would fail.
    const many = scratch('many_files')
    fs.cpSync(fixture('many_files'), many, { recursive: true })
    const files = await (await DeltaTable.open(many)).files()
    const byStats = files.filter(
      (f) => !fs.readFileSync(path.join(many, '_delta_log', '00000000000000000000.json'), 'utf8').includes(f.path),
    )
    for (const f of byStats) fs.rmSync(path.join(many, f.path)) // keep only the file of ids 0..24999
    const t = await readDelta(many, { filter: [['id', '<', 100]] })
    assert.equal(t.numRows, 100)
    await assert.rejects(readDelta(many), (e) => e instanceof DeltaError && e.code === 'STORAGE')

    const parted = scratch('partitioned')
    fs.cpSync(fixture('partitioned'), parted, { recursive: true })
    for (const dir of fs.readdirSync(parted))
      if (dir !== '_delta_log' && dir !== 'part=a%2Fb') fs.rmSync(path.join(parted, dir), { recursive: true })
    const only = await readDelta(parted, { filter: [['part', '=', 'a/b']] })
    assert.equal(only.numRows, 10)
  })

  fileFilterTests(readDelta)
  vacuumProtocolCheckTests({ readDelta, writeDelta, DeltaTable, DeltaWriter, DeltaCoordinator, dml: true })
  filterValueTests({ writeDelta, readDelta })

  it('readAll keeps an explicit batchSize and otherwise collects in large batches', async () => {
    const uri = scratch('one-big-file')
    await writeDelta(uri, new Table({ id: makeVector(Int32Array.from({ length: 300_000 }, (_, i) => i)) }))
    const small = await readDelta(uri, { batchSize: 7000 })
    assert.ok(small.batches.every((b) => b.numRows <= 7000))
    const large = await readDelta(uri)
    assert.equal(large.numRows, 300_000)
    assert.ok(
      large.batches.some((b) => b.numRows > 65_536),
      `batches of ${large.batches.map((b) => b.numRows)}`,
    )
    // The table is two files (one write() larger than a writer's run goes to both writers), read
    // on as many threads: rows are the same, their order across files is not kept.
    const ids = (t) => Int32Array.from(t.getChild('id')).sort()
    assert.deepEqual(ids(large), ids(small))
    assert.deepEqual(
      ids(large),
      Int32Array.from({ length: 300_000 }, (_, i) => i),
    )
  })

  it('streams batches no larger than batchSize, as RecordBatches or IPC buffers', async () => {
    const input = new DeltaInputAdapter(fixture('many_files'), { batchSize: 7000 })
    let total = 0
    let count = 0
    for await (const batch of input.getBatches()) {
      assert.ok(batch instanceof RecordBatch)
      assert.ok(batch.numRows > 0 && batch.numRows <= 7000, `batch of ${batch.numRows}`)
      total += batch.numRows
      count++
    }
    assert.equal(total, 200000)
    assert.ok(count >= 29)
    let ipcRows = 0
    for await (const buf of input.getBatches({ format: 'ipc' })) {
      assert.ok(Buffer.isBuffer(buf))
      ipcRows += (await import('apache-arrow')).tableFromIPC(buf).numRows
    }
    assert.equal(ipcRows, 200000)
  })

  it('break out of for await stops the stream, and the adapter can be read again', async () => {
    const input = new DeltaInputAdapter(fixture('many_files'), { batchSize: 1000 })
    let seen = 0
    for await (const batch of input.getBatches()) {
      seen += batch.numRows
      if (seen >= 3000) break
    }
    assert.equal(seen, 3000)
    assert.equal((await input.readAll()).numRows, 200000)
  })

  it('an empty result keeps the schema', async () => {
    const t = await readDelta(fixture('simple'), { filter: [['id', '>', 1000]] })
    assert.equal(t.numRows, 0)
    assert.deepEqual(columnNames(t), ['id', 'name', 'value'])
  })
})

describe('deletion vectors (a table Databricks wrote)', () => {
  const values = (t) =>
    rows(t)
      .map((r) => Number(r.value))
      .sort((a, b) => a - b)

  it('rows a deletion vector removed are not read; the version before the delete still has them', async () => {
    const uri = engineTable(DV_TABLE)
    const latest = await readDelta(uri)
    assert.deepEqual(values(latest), [1, 2, 3, 4, 5, 6, 7, 8])
    assertSameTable(latest, pyRead(uri))
    assert.deepEqual(values(await readDelta(uri, { version: 0 })), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
  })

  it('filters, projection and small batches apply on top of the deletion vector', async () => {
    const uri = engineTable(DV_TABLE)
    // The file's stats still say 0..9 (tightBounds false): skipping cannot drop it, the mask must.
    assert.deepEqual(values(await readDelta(uri, { filter: [['value', 'in', [0, 1, 9]]] })), [1])
    assert.deepEqual(values(await readDelta(uri, { filter: [['value', '>', 5]] })), [6, 7, 8])
    assert.equal((await readDelta(uri, { filter: [['value', '=', 9]] })).numRows, 0)
    const seen = []
    for await (const b of new DeltaInputAdapter(uri, { columns: ['value'], batchSize: 3 }).getBatches()) {
      assert.ok(b.numRows <= 3)
      seen.push(...b.getChild('value').toArray())
    }
    assert.deepEqual(
      seen.sort((a, b) => a - b),
      [1, 2, 3, 4, 5, 6, 7, 8],
    )
  })
})

describe('Spark INT96 timestamps', () => {
  it('read as written past the year 2262 (no nanosecond wrap-around), also filtered and in a Parquet input', async () => {
    const uri = engineTable(INT96_TABLE)
    const want = [
      [1, '9999-12-31T00:00:00.000Z', '2022-01-01T00:00:00.000Z'],
      [2, '9999-12-30T00:00:00.000Z', '2022-02-01T00:00:00.000Z'],
    ]
    const t = await readDelta(uri)
    assert.equal(String(t.schema.fields[0].type), 'Timestamp<MICROSECOND, UTC>')
    assert.deepEqual(int96Rows(t), want)
    assert.deepEqual(int96Rows(await readDelta(uri, { filter: [['BIG_DATE', '>', new Date('9999-12-30T12:00:00Z')]] })), [want[0]])
    const file = fs.readdirSync(uri).find((f) => f.startsWith('part-00000'))
    const raw = await new ParquetInputAdapter(path.join(uri, file)).readAll()
    assert.equal(new Date(Number(raw.get(0).BIG_DATE)).toISOString(), '9999-12-31T00:00:00.000Z')
  })

  it('inside lists, maps and structs too', async () => {
    assert.deepEqual(int96NestedRows(await readDelta(fixture('int96_nested'))), INT96_NESTED)
  })
})

describe('bad input is a DeltaError with a code', () => {
  const cases = [
    ['a path that is not a table', () => readDelta(fixture('not_a_table')), 'TABLE_NOT_FOUND'],
    ['an empty directory', () => readDelta(fixture('empty_dir')), 'TABLE_NOT_FOUND'],
    ['a missing path', () => DeltaTable.open(fixture('nope')), 'TABLE_NOT_FOUND'],
    ['an unknown URI scheme', () => DeltaTable.open('foo://bucket/table'), 'INVALID_ARGUMENT'],
    ['a version beyond the latest', () => DeltaTable.open(fixture('simple'), { version: 99 }), 'VERSION_NOT_FOUND'],
    ['a negative version', () => DeltaTable.open(fixture('simple'), { version: -1 }), 'INVALID_ARGUMENT'],
    [
      'a timestamp before the first commit',
      () => DeltaTable.open(fixture('simple'), { timestamp: '2020-01-01T00:00:00Z' }),
      'VERSION_NOT_FOUND',
    ],
    ['a timestamp that is not a date', () => readDelta(fixture('simple'), { timestamp: 'yesterday-ish' }), 'INVALID_ARGUMENT'],
    ['an unknown column in columns', () => readDelta(fixture('simple'), { columns: ['nope'] }), 'INVALID_ARGUMENT'],
    ['an unknown column in filter', () => readDelta(fixture('simple'), { filter: [['nope', '=', 1]] }), 'INVALID_ARGUMENT'],
    ['a malformed filter', () => readDelta(fixture('simple'), { filter: [['id', 'like', 1]] }), 'INVALID_ARGUMENT'],
    ['a filter that is not triples', () => readDelta(fixture('simple'), { filter: [['id', '=']] }), 'INVALID_ARGUMENT'],
    ['a value of the wrong type', () => readDelta(fixture('simple'), { filter: [['id', '=', 'abc']] }), 'INVALID_ARGUMENT'],
    ['corrupted _delta_log JSON', () => readDelta(fixture('corrupt_log')), 'PROTOCOL'],
    ['a data file missing on disk', () => readDelta(fixture('missing_file')), 'STORAGE'],
    ['an unsupported reader feature', () => readDelta(fixture('future_feature')), 'UNSUPPORTED_FEATURE'],
    ['batchSize 0', async () => new DeltaInputAdapter(fixture('simple'), { batchSize: 0 }), 'INVALID_ARGUMENT'],
  ]
  for (const [what, fn, code] of cases) {
    it(what, async () => {
      await assert.rejects(fn, (e) => {
        assert.ok(e instanceof DeltaError, `expected DeltaError, got ${e}`)
        assert.ok(e instanceof Error)
        assert.equal(e.code, code, `${what}: ${e.message}`)
        assert.ok(e.message.length > 10)
        return true
      })
    })
  }
  it('names the table in the message', async () => {
    await assert.rejects(readDelta(fixture('missing_file')), (e) => e.message.includes('missing_file'))
  })

  it('says what is wrong with an option: a column listed twice, a version given as text', async () => {
    await rejectsWith(
      readDelta(fixture('simple'), { columns: ['id', 'id'] }),
      'INVALID_ARGUMENT',
      /column 'id' is listed twice in columns \(at 0 and 1\)/,
    )
    await rejectsWith(readDelta(fixture('simple'), { version: '1' }), 'INVALID_ARGUMENT', /version must be an integer, got '1'/)
    const dt = await DeltaTable.open(fixture('simple'))
    await rejectsWith(dt.loadVersion('1'), 'INVALID_ARGUMENT', /got '1'/)
    await dt.loadVersion(1n)
    assert.equal(dt.version, 1)
  })

  it('with RUST_BACKTRACE set, a message is still only the message (the kernel appended its backtrace)', async () => {
    const { spawnSync } = await import('node:child_process')
    const script = `import * as arrow from 'apache-arrow'; const z = await import(${JSON.stringify(new URL('../index.mjs', import.meta.url).href)})
      const t = new arrow.Table({ d: arrow.makeVector({ type: new arrow.Duration(arrow.TimeUnit.MICROSECOND), data: BigInt64Array.from([1n]) }) })
      try { await z.writeDelta(${JSON.stringify(scratch('backtrace'))}, t) } catch (e) { console.log(JSON.stringify([e.code, e.message])) }`
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, RUST_BACKTRACE: '1' },
      encoding: 'utf8',
    })
    const [code, message] = JSON.parse(child.stdout)
    assert.equal(code, 'SCHEMA_MISMATCH')
    assert.match(message, /Invalid data type for Delta Lake: Duration/)
    assert.doesNotMatch(message, /\n\s*0: /)
  })

  it('options given as null are no options, never a TypeError from destructuring null', async () => {
    const uri = scratch('null-options')
    await writeDelta(uri, [{ id: 1 }], null)
    const dt = await DeltaTable.open(uri, null)
    assert.equal((await readDelta(uri, null)).numRows, 1)
    assert.deepEqual((await dt.vacuum(null)).filesDeleted, [])
    await rejectsWith(dt.update(null), 'INVALID_ARGUMENT', /update needs \{ set/)
    assert.throws(
      () => dt.merge([{ id: 1 }], null),
      (e) => e instanceof DeltaError && e.code === 'INVALID_ARGUMENT',
    )
    assert.equal(
      (
        await dt
          .merge([{ id: 1 }], { predicate: 'target.id = source.id' })
          .whenMatchedUpdateAll(null)
          .execute()
      ).numTargetRowsUpdated,
      1,
    )
    const { Pipe } = await import('../index.mjs')
    assert.throws(
      () => new Pipe(null),
      (e) => e instanceof DeltaError && /Pipe needs an input/.test(e.message),
    )
    assert.equal((await dt.optimize.compact(null)).numFilesAdded, 0)
  })

  it('a time given as text is ISO 8601 and a real calendar date (Date.parse alone took "1" as 2001, rolled Feb 30 to March)', async () => {
    const uri = fixture('simple')
    for (const text of ['1', '2024', '12/25/2024', 'Dec 25 2024', '2024-02-30T00:00:00Z', '2023-02-29', '2024-01-01T24:00:00Z', '0']) {
      await rejectsWith(readDelta(uri, { timestamp: text }), 'INVALID_ARGUMENT', /is not a date \(use ISO 8601/)
    }
    const dt = await DeltaTable.open(uri)
    await rejectsWith(dt.loadTimestamp('1'), 'INVALID_ARGUMENT', /'1' is not a date/)
    const own = scratch('restore-text')
    await writeDelta(own, [{ id: 1 }])
    await rejectsWith((await DeltaTable.open(own)).restore('0'), 'INVALID_ARGUMENT', /restore target '0' is not a date/)
    // ISO forms, with a space for the T as SQL writes times, all travel (to the latest version here).
    const latest = (await readDelta(uri)).numRows
    for (const text of [
      '2099-01-01',
      '2099-01-01T10:00',
      '2099-01-01 10:00:00',
      '2099-01-01T10:00:00.123456Z',
      '2099-01-01T10:00:00+02:00',
    ]) {
      assert.equal((await readDelta(uri, { timestamp: text })).numRows, latest, text)
    }
  })
})

describe('module formats', () => {
  it('CommonJS require works and shares DeltaError with ESM', async () => {
    const { createRequire } = await import('node:module')
    const require = createRequire(import.meta.url)
    const cjs = require('../index.js')
    const t = await cjs.readDelta(fixture('simple'))
    assert.equal(t.numRows, 5)
    assert.equal(cjs.DeltaError, DeltaError)
  })
})

describe('readDelta without a table handle', () => {
  it('reads what a DeltaTable handle reads: latest, by version and by timestamp, with columns, filter and limit; a version past the end names the latest', async () => {
    const uri = scratch('read-once')
    await writeDelta(
      uri,
      [
        { id: 1, part: 'a' },
        { id: 2, part: 'b' },
      ],
      { partitionBy: ['part'] },
    )
    const afterFirst = Date.now()
    await new Promise((r) => setTimeout(r, 20))
    await writeDelta(uri, [{ id: 3, part: 'a' }])
    await writeDelta(uri, [{ id: 4, part: 'c' }])
    const cases = [
      {},
      { version: 1 },
      { timestamp: new Date(afterFirst) },
      { columns: ['id'] },
      { filter: [['part', '=', 'a']] },
      { filter: [['id', '>', 1.5]] },
      { version: 1, filter: [['id', '>=', 2]], columns: ['id'] },
    ]
    const ids = (t) => [...t.getChild('id')].map(Number).sort((a, b) => a - b)
    const want = [
      [1, 2, 3, 4],
      [1, 2, 3],
      [1, 2],
      [1, 2, 3, 4],
      [1, 3],
      [2, 3, 4],
      [2, 3],
    ]
    for (const [i, { version, timestamp, ...scan }] of cases.entries()) {
      const once = await readDelta(uri, { version, timestamp, ...scan })
      const handle = await (await DeltaTable.open(uri, { version, timestamp })).toTable(scan)
      assert.deepEqual(ids(once), want[i], JSON.stringify(cases[i]))
      assert.deepEqual(rows(once), rows(handle), JSON.stringify(cases[i]))
      assert.deepEqual(columnNames(once), columnNames(handle))
    }
    assert.equal((await readDelta(uri, { limit: 2 })).numRows, 2)
    await rejectsWith(readDelta(uri, { version: 9 }), 'VERSION_NOT_FOUND', /latest version is 2/)
    await rejectsWith(readDelta(path.join(uri, 'nope')), 'TABLE_NOT_FOUND')
  })

  it('stringViews holds for the reads DataFusion filters too (a fraction against an integer column): views from the files, partition values plain', async () => {
    const uri = scratch('views-datafusion')
    await writeDelta(
      uri,
      [
        { id: 1, name: 'one', part: 'a' },
        { id: 2, name: 'a name longer than twelve bytes', part: 'b' },
      ],
      { partitionBy: ['part'] },
    )
    for (const filter of [[['id', '>', 1.5]], [['id', '>', 1]]]) {
      const t = await readDelta(uri, { filter, stringViews: true })
      const types = Object.fromEntries(t.schema.fields.map((f) => [f.name, String(f.type)]))
      assert.deepEqual(types, { id: 'Int64', name: 'Utf8View', part: 'Utf8' }, JSON.stringify(filter))
      assert.deepEqual(rows(t), [{ id: '2', name: 'a name longer than twelve bytes', part: 'b' }])
    }
  })
})

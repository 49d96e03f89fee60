// The slim build (no DataFusion, `node scripts/build.js --slim`): the same JS API over the kernel
// scan and RecordBatchWriter. Reads must match Python deltalake, writes must read back in Python,
// and what needs a query engine must say so with UNSUPPORTED_FEATURE.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const slimDir = path.join(root, 'slim')
const addon = fs.existsSync(slimDir) && fs.readdirSync(slimDir).find((f) => /^zoopipe\..*\.node$/.test(f))
if (!addon) throw new Error('the slim addon is missing: `npm test` builds it (node scripts/build.js --slim)')
// The loader (lib/native.js) then takes slim/ instead of the full addon; set before zoopipe is first imported.
process.env.ZOOPIPE_VARIANT = 'slim'

const { DeltaCoordinator, DeltaInputAdapter, DeltaOutputAdapter, DeltaTable, DeltaWriter, readDelta, toRows, writeDelta } = await import(
  '../index.mjs'
)
const {
  assertSameTable,
  DV_TABLE,
  INT96_NESTED,
  INT96_TABLE,
  RUN,
  big,
  dataFiles,
  arrowInputWriteTests,
  createRaceTests,
  coordinatorRaceTests,
  partitionByMismatchTests,
  emptyInputWriteTests,
  engineTable,
  fixture,
  idColumns,
  int96NestedRows,
  int96Rows,
  partitionFilterCases,
  fileFilterTests,
  vacuumProtocolCheckTests,
  filterValueTests,
  people,
  pyRead,
  range,
  readIds,
  rejectsWith,
  rows,
  scratch,
} = await import('./helpers.mjs')

const { appendStormTests } = await import('./storm.mjs')
const { bufferBudgetTests } = await import('./memory.mjs')
const { rowColumnTests } = await import('./plain-rows.mjs')
const { tableApiTests } = await import('./table-api.mjs')
const { abortTests } = await import('./abort-cases.mjs')
const ids = (uri, opts) => readIds(readDelta, uri, opts)
const logFiles = (uri) =>
  fs
    .readdirSync(path.join(uri, '_delta_log'))
    .filter((f) => f.endsWith('.json'))
    .sort()

describe('slim build: reads', () => {
  it('is the slim addon (DataFusion operations are refused)', async () => {
    const dt = await DeltaTable.open(fixture('simple'))
    await rejectsWith(dt.optimize.compact(), 'UNSUPPORTED_FEATURE', /full zoopipe build/)
  })

  it('reads Python-written tables exactly as Python does', async () => {
    for (const name of ['simple', 'partitioned', 'checkpointed', 'evolved', 'all_types', 'many_files']) {
      const got = rows(await readDelta(fixture(name)))
      assert.ok(got.length > 0, name)
      assert.deepEqual(got, rows(pyRead(fixture(name))), name)
    }
  })

  it('applies deletion vectors (a table Databricks wrote), also under a filter', async () => {
    const uri = engineTable(DV_TABLE)
    const values = (t) =>
      rows(t)
        .map((r) => Number(r.value))
        .sort((a, b) => a - b)
    assert.deepEqual(values(await readDelta(uri)), [1, 2, 3, 4, 5, 6, 7, 8])
    assertSameTable(await readDelta(uri), pyRead(uri))
    assert.deepEqual(values(await readDelta(uri, { filter: [['value', 'in', [0, 1, 9]]] })), [1])
    assert.deepEqual(values(await readDelta(uri, { version: 0 })), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
  })

  it('reads Spark INT96 timestamps past the year 2262 as written, inside lists, maps and structs too', async () => {
    const uri = engineTable(INT96_TABLE)
    assert.deepEqual(int96Rows(await readDelta(uri)), [
      [1, '9999-12-31T00:00:00.000Z', '2022-01-01T00:00:00.000Z'],
      [2, '9999-12-30T00:00:00.000Z', '2022-02-01T00:00:00.000Z'],
    ])
    assert.deepEqual(int96NestedRows(await readDelta(fixture('int96_nested'))), INT96_NESTED)
  })

  it('reads a column-mapped table by its logical names', async () => {
    const t = await readDelta(fixture('column_mapping'))
    assert.deepEqual(
      t.schema.fields.map((f) => f.name),
      ['a', 'b c'],
    )
    assert.deepEqual(rows(t), [
      { a: '1', 'b c': 'x' },
      { a: '2', 'b c': 'y' },
      { a: '3', 'b c': 'z' },
    ])
  })

  it('time travel and projection', async () => {
    assert.deepEqual(await ids(fixture('simple'), { version: 0 }), [1, 2, 3])
    assert.deepEqual(await ids(fixture('simple'), { version: 1 }), [1, 2, 3, 4, 5])
    const t = await readDelta(fixture('partitioned'), { columns: ['amount', 'part'] })
    assert.deepEqual(
      t.schema.fields.map((f) => f.name),
      ['amount', 'part'],
    )
    assertSameTable(t, pyRead(fixture('partitioned'), { columns: ['amount', 'part'] }))
  })

  it('filters select exactly the matching rows, on partition and data columns', async () => {
    const all = rows(await readDelta(fixture('partitioned')))
    for (const [filter, pred] of partitionFilterCases) {
      const want = all.filter(pred)
      assert.ok(want.length > 0, `${JSON.stringify(filter)} selects something`)
      assert.deepEqual(rows(await readDelta(fixture('partitioned'), { filter })), want, JSON.stringify(filter))
    }
    // A filter column outside the projection filters, then is dropped.
    const projected = await readDelta(fixture('partitioned'), { columns: ['id'], filter: [['part', '=', 'plain']] })
    assert.deepEqual(
      projected.schema.fields.map((f) => f.name),
      ['id'],
    )
    assert.deepEqual(
      rows(projected),
      all
        .filter((r) => r.part === 'plain')
        .map((r) => ({ id: r.id }))
        .sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1)),
    )
    const range = [
      ['id', '>=', 60000],
      ['id', '<', 60010],
    ]
    assert.deepEqual(
      rows(await readDelta(fixture('many_files'), { filter: range })),
      rows(pyRead(fixture('many_files'), { filters: range })),
    )
    const dates = await readDelta(fixture('all_types'), { filter: [['date', '>', new Date('2000-01-01T00:00:00Z')]] })
    assert.equal(dates.numRows, 2)
    const ts = await readDelta(fixture('all_types'), { filter: [['ts', '=', '2024-01-01T12:30:15.123456Z']] })
    assert.equal(ts.numRows, 4)
    const dec = await readDelta(fixture('all_types'), { filter: [['dec', '<', '0']] })
    assert.equal(dec.numRows, 2)
  })

  it('stats skipping never opens files that cannot match', async () => {
    const many = scratch('slim-many')
    fs.cpSync(fixture('many_files'), many, { recursive: true })
    const log0 = fs.readFileSync(path.join(many, '_delta_log', '00000000000000000000.json'), 'utf8')
    for (const f of await (await DeltaTable.open(many)).files()) if (!log0.includes(f.path)) fs.rmSync(path.join(many, f.path))
    assert.equal((await readDelta(many, { filter: [['id', '<', 100]] })).numRows, 100)
    await rejectsWith(readDelta(many), 'STORAGE')
  })

  fileFilterTests(readDelta)
  vacuumProtocolCheckTests({ readDelta, writeDelta, DeltaTable, DeltaWriter, DeltaCoordinator })
  filterValueTests({ writeDelta, readDelta })

  it('a filter keeping many scattered rows returns exactly them (the read stops filtering early, the exact filter stays)', async () => {
    const { Table, makeVector } = await import('apache-arrow')
    const uri = scratch('slim-scattered')
    const id = Int32Array.from({ length: 200_000 }, (_, i) => i)
    await writeDelta(uri, new Table({ id: makeVector(id), k: makeVector(Int32Array.from(id, (v) => v % 3)) }))
    assert.deepEqual(
      await ids(uri, { filter: [['k', '=', 0]], batchSize: 20_000 }),
      range(0, 200_000).filter((i) => i % 3 === 0),
    )
    assert.deepEqual(
      await ids(uri, {
        filter: [
          ['k', '=', 1],
          ['id', '<', 1000],
        ],
        batchSize: 20_000,
      }),
      range(0, 1000).filter((i) => i % 3 === 1),
    )
  })

  it('bad filters are INVALID_ARGUMENT', async () => {
    await rejectsWith(readDelta(fixture('simple'), { filter: [['nope', '=', 1]] }), 'INVALID_ARGUMENT', /unknown column/)
    await rejectsWith(readDelta(fixture('simple'), { columns: ['id', 'id'] }), 'INVALID_ARGUMENT', /column 'id' is listed twice/)
    await rejectsWith(readDelta(fixture('simple'), { filter: [['id', '=', 'abc']] }), 'INVALID_ARGUMENT', /cannot be compared/)
    await rejectsWith(readDelta(fixture('simple'), { filter: [['id', '<', 1.5]] }), 'INVALID_ARGUMENT', /cannot be compared/)
  })

  it('streams batches no larger than batchSize, every row exactly once, filtered or not', async () => {
    // 25,000-row files in batches of 7,000: whole batches and file tails (4,000) pass through as
    // read; the filter's batches are smaller and get coalesced.
    const cases = [
      [undefined, 0, 200_000],
      [[['x', '>=', 30_000]], 60_000, 200_000],
    ]
    for (const [filter, from, to] of cases) {
      const seen = []
      for await (const batch of new DeltaInputAdapter(fixture('many_files'), { batchSize: 7000, filter }).getBatches()) {
        assert.ok(batch.numRows > 0 && batch.numRows <= 7000)
        for (const id of batch.getChild('id')) seen.push(Number(id))
      }
      seen.sort((a, b) => a - b)
      assert.equal(seen.length, to - from)
      assert.ok(
        seen.every((id, i) => id === from + i),
        'every id once',
      )
    }
  })
})

describe('slim build: writes', () => {
  arrowInputWriteTests({ writeDelta, readDelta, DeltaTable, DeltaWriter, DeltaCoordinator, DeltaOutputAdapter })
  emptyInputWriteTests({ writeDelta, readDelta, DeltaTable, DeltaOutputAdapter, DeltaWriter })
  createRaceTests({ writeDelta, readDelta })
  it(
    ...appendStormTests({ writeDelta, readDelta, DeltaTable }, { label: 'local disk', uri: () => scratch('storm'), procs: 10, appends: 6 }),
  )
  coordinatorRaceTests({ writeDelta, readDelta, DeltaTable, DeltaWriter, DeltaCoordinator })
  partitionByMismatchTests({ writeDelta, readDelta, DeltaOutputAdapter, DeltaWriter })
  bufferBudgetTests({ DeltaOutputAdapter, DeltaWriter, DeltaCoordinator, readDelta, writeDelta })
  rowColumnTests({ readDelta, DeltaOutputAdapter, writeDelta, DeltaWriter, DeltaCoordinator })
  tableApiTests({ DeltaTable, writeDelta, readDelta, DeltaOutputAdapter, DeltaInputAdapter, toRows })
  abortTests({ DeltaTable, writeDelta, readDelta, DeltaOutputAdapter, DeltaInputAdapter })

  it('names a column whose type its writer cannot take (the full build casts it); nothing is written', async () => {
    const uri = scratch('slim-type')
    await writeDelta(uri, [{ id: 1, s: 'a' }])
    const { Table, makeVector, vectorFromArray } = await import('apache-arrow')
    await rejectsWith(
      writeDelta(uri, new Table({ id: vectorFromArray([2n]), s: makeVector(Int32Array.from([5])) })),
      'SCHEMA_MISMATCH',
      /column 's' is Int32 in the data and Utf8 in the table/,
    )
    assert.equal((await DeltaTable.open(uri)).version, 0)
  })

  it('refuses tables with CHECK constraints or generated columns (its writer does not evaluate them); nothing is written', async () => {
    for (const [name, re] of [
      ['constrained', /CHECK constraints/],
      ['generated', /generated/],
    ]) {
      const uri = scratch(`slim-${name}`)
      fs.cpSync(fixture(name), uri, { recursive: true })
      const [version, before] = [(await DeltaTable.open(uri)).version, dataFiles(uri)]
      await rejectsWith(writeDelta(uri, [{ id: -5 }]), 'UNSUPPORTED_FEATURE', re)
      assert.equal((await DeltaTable.open(uri)).version, version, name)
      assert.deepEqual(dataFiles(uri), before, name)
    }
  })

  it('append, overwrite, error and ignore; a new table is one commit; Python reads it back', async () => {
    const uri = scratch('slim-modes')
    const first = await writeDelta(uri, people([1, 2]))
    assert.equal(first.version, 0)
    assert.equal(first.numRows, 2)
    assert.deepEqual(logFiles(uri), ['00000000000000000000.json'])
    assert.equal((await writeDelta(uri, people([3]))).version, 1)
    assert.deepEqual(await ids(uri), [1, 2, 3])
    assert.equal((await writeDelta(uri, people([7, 8]), { mode: 'overwrite' })).version, 2)
    assert.deepEqual(await ids(uri), [7, 8])
    assert.deepEqual(await ids(uri, { version: 1 }), [1, 2, 3])
    await rejectsWith(writeDelta(uri, people([9]), { mode: 'error' }), 'INVALID_ARGUMENT', /already exists/)
    assert.deepEqual(await writeDelta(uri, people([9]), { mode: 'ignore' }), { version: 2, numFiles: 0, numRows: 0, numBytes: 0 })
    assert.equal(logFiles(uri).length, 3)
    assertSameTable(pyRead(uri), await readDelta(uri), uri)
    assertSameTable(pyRead(uri, { version: 1 }), await readDelta(uri, { version: 1 }))
  })

  it('partitioned writes land in partition directories and read back in Python', async () => {
    const uri = scratch('slim-parted')
    const input = [...Array(30)].map((_, i) => ({ id: i, day: ['mon', 'tue', 'wed'][i % 3], v: i / 4 }))
    const res = await writeDelta(uri, input, {
      partitionBy: ['day'],
      name: 'events',
      description: 'slim',
      configuration: { 'delta.appendOnly': 'false' },
    })
    assert.equal(res.numFiles, 3)
    assert.deepEqual(
      fs
        .readdirSync(uri)
        .filter((d) => d.startsWith('day='))
        .sort(),
      ['day=mon', 'day=tue', 'day=wed'],
    )
    const dt = await DeltaTable.open(uri)
    assert.deepEqual(dt.metadata().partitionColumns, ['day'])
    assert.equal(dt.metadata().name, 'events')
    assertSameTable(pyRead(uri), await readDelta(uri), uri)
    assert.deepEqual(await ids(uri, { filter: [['day', '=', 'tue']] }), [1, 4, 7, 10, 13, 16, 19, 22, 25, 28])
    await rejectsWith(writeDelta(uri, input, { partitionBy: ['v'] }), 'INVALID_ARGUMENT', /partitionBy/)
  })

  it('large writes are encoded by one writer per core and commit once; overwrite replaces them; Python reads every row', async () => {
    const uri = scratch('slim-parallel')
    const writers = Math.min((await import('node:os')).availableParallelism(), 3)
    const n = 2 * RUN + 1000
    assert.deepEqual(await writeDelta(uri, big(0, n)).then((r) => [r.version, r.numRows, r.numFiles]), [0, n, writers])
    assert.deepEqual(await writeDelta(uri, big(n, n), { mode: 'overwrite' }).then((r) => [r.version, r.numRows, r.numFiles]), [
      1,
      n,
      writers,
    ])
    const [id, x, name] = idColumns(await readDelta(uri))
    assert.deepEqual(
      id,
      Array.from({ length: n }, (_, i) => n + i),
    )
    assert.deepEqual(
      x,
      id.map((v) => v / 4),
    )
    assert.deepEqual(
      name,
      id.map((v) => `n${v}`),
    )
    assert.deepEqual(idColumns(pyRead(uri)), [id, x, name])
    assert.equal(dataFiles(uri).length, 2 * writers)
  })

  it('a batch that does not fit the table is SCHEMA_MISMATCH and commits nothing', async () => {
    const uri = scratch('slim-mismatch')
    await writeDelta(uri, people([1]))
    await rejectsWith(writeDelta(uri, [{ id: 'not a number', other: true }]), 'SCHEMA_MISMATCH')
    assert.equal(logFiles(uri).length, 1)
    assert.deepEqual(await ids(uri), [1])
  })

  it('abort commits nothing', async () => {
    const uri = scratch('slim-abort')
    await writeDelta(uri, people([1]))
    const out = new DeltaOutputAdapter(uri)
    await out.write(people([2, 3]))
    await out.abort()
    assert.equal(logFiles(uri).length, 1)
    assert.deepEqual(await ids(uri), [1])
  })

  it('DeltaWriter files commit atomically through DeltaCoordinator, idempotently per appId', async () => {
    const uri = scratch('slim-fanout')
    const actions = []
    for (const part of [[1, 2], [3], [4, 5, 6]]) {
      const w = new DeltaWriter(uri)
      await w.write(people(part))
      actions.push(...(await w.finish()))
    }
    const c = new DeltaCoordinator(uri)
    const res = await c.commit(actions, { commitProperties: { appId: 'job', appVersion: 1 } })
    assert.equal(res.committed, true)
    assert.deepEqual(await ids(uri), [1, 2, 3, 4, 5, 6])
    const again = await c.commit(actions, { commitProperties: { appId: 'job', appVersion: 1 } })
    assert.equal(again.committed, false)
    assertSameTable(pyRead(uri), await readDelta(uri), uri)
  })

  it('restore and table properties work without DataFusion', async () => {
    const uri = scratch('slim-restore')
    await writeDelta(uri, people([1, 2]))
    await writeDelta(uri, people([3]), { mode: 'overwrite' })
    const dt = await DeltaTable.open(uri)
    await dt.restore(0)
    assert.equal(dt.version, 2)
    assert.deepEqual(await ids(uri), [1, 2])
    await dt.alterTable.setProperties({ 'delta.logRetentionDuration': 'interval 7 days' })
    assert.equal((await DeltaTable.open(uri)).metadata().configuration['delta.logRetentionDuration'], 'interval 7 days')
    await rejectsWith(dt.alterTable.setProperties({ 'delta.logRetentionDuration': 'forever' }), 'INVALID_ARGUMENT', /cannot be 'forever'/)
    await rejectsWith(
      writeDelta(scratch('slim-bad-conf'), people([1]), { configuration: { 'delta.nope': 'x' } }),
      'INVALID_ARGUMENT',
      /unknown table property 'delta.nope'/,
    )
    assert.equal((await DeltaTable.open(uri)).version, 3)
  })

  it('vacuum and checkpoints work; replaceWhere, schemaMode, DML and file sources are UNSUPPORTED_FEATURE', async () => {
    const uri = scratch('slim-maintain')
    await writeDelta(uri, people([1, 2]))
    await writeDelta(uri, people([3]), { mode: 'overwrite' })
    const dt = await DeltaTable.open(uri)
    await dt.createCheckpoint()
    assert.ok(fs.existsSync(path.join(uri, '_delta_log', '00000000000000000001.checkpoint.parquet')))
    const before = dataFiles(uri).length
    const vac = await dt.vacuum({ retentionHours: 0, enforceRetentionDuration: false, dryRun: false })
    assert.equal(vac.filesDeleted.length, 1)
    assert.equal(dataFiles(uri).length, before - 1)
    assert.deepEqual(await ids(uri), [3])

    await rejectsWith(writeDelta(uri, people([4]), { mode: 'overwrite', predicate: 'id > 2' }), 'UNSUPPORTED_FEATURE', /predicate/)
    await rejectsWith(writeDelta(uri, [{ id: 4, extra: 1 }], { schemaMode: 'merge' }), 'UNSUPPORTED_FEATURE', /schemaMode/)
    await rejectsWith(dt.delete('id = 3'), 'UNSUPPORTED_FEATURE')
    await rejectsWith(dt.update({ set: { id: '4' } }), 'UNSUPPORTED_FEATURE')
    await rejectsWith(dt.alterTable.dropConstraint('c'), 'UNSUPPORTED_FEATURE', /dropConstraint/)
    const { CsvInputAdapter } = await import('../index.mjs')
    const csv = path.join(scratch('slim-csv'), 'a.csv')
    fs.mkdirSync(path.dirname(csv), { recursive: true })
    fs.writeFileSync(csv, 'a\n1\n')
    await rejectsWith(new CsvInputAdapter(csv).readAll(), 'UNSUPPORTED_FEATURE')
    assert.deepEqual(await ids(uri), [3])
  })
})

// The DeltaTable API Python `deltalake` users rely on — create, refresh, add actions, counts,
// partitions, file URIs, transaction versions — each held to what Python deltalake says about the
// same table. Shared by both builds.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { it } from 'node:test'
import * as arrow from 'apache-arrow'
import { Field, Int64, Schema, Utf8 } from 'apache-arrow'
import { fixture, people, py, pyRead, readIds, rejectsWith, rows, scratch } from './helpers.mjs'

const python = (uri, appId) => JSON.parse(py('table_info.py', uri, ...(appId ? [appId] : [])))

export function tableApiTests({ DeltaTable, writeDelta, readDelta, DeltaOutputAdapter, DeltaInputAdapter, toRows }) {
  it("filters accept OR: a list of AND-lists (as Python deltalake's DNF filters), with the same row-group skipping and rows as Python", async () => {
    const ids = (uri, filter) => readIds(readDelta, uri, { filter })
    // row_groups: one file of four 1,000-row groups (ids in order); the broken copy's last group is
    // garbage, so reading it proves the OR still skips that group.
    const dnf = [
      [['id', '<', 10]],
      [
        ['id', '>=', 1500],
        ['id', '<', 1503],
      ],
    ]
    const want = [...Array.from({ length: 10 }, (_, i) => i), 1500, 1501, 1502]
    assert.deepEqual(await ids(fixture('row_groups'), dnf), want)
    assert.deepEqual(await ids(fixture('row_groups_broken'), dnf), want)
    // A side that needs the last row group: it is read, and the rows are still exact.
    assert.deepEqual(await ids(fixture('row_groups'), [[['id', '=', 5]], [['id', '=', 3999]]]), [5, 3999])
    // Python deltalake reads the same rows with the same DNF filter (partition pruning and stats).
    const parted = fixture('partitioned')
    for (const filter of [
      [[['part', '=', 'a']], [['amount', '>=', 600]]],
      [
        [
          ['bucket', '=', 1],
          ['amount', '<', 100],
        ],
        [['id', 'in', [3, 4, 5]]],
      ],
    ]) {
      const ours = rows(await readDelta(parted, { filter }))
      assert.deepEqual(ours, rows(pyRead(parted, { filters: filter })), JSON.stringify(filter))
      assert.ok(ours.length > 0, JSON.stringify(filter))
    }
    await rejectsWith(readDelta(parted, { filter: [[['id', '=', 1]], []] }), 'INVALID_ARGUMENT', /empty AND-list/)
  })

  it('limit stops a read once enough rows came; adapters are async iterables; an unclosed output disposed with Symbol.asyncDispose commits nothing', async () => {
    const uri = scratch('limit')
    await writeDelta(uri, people([1, 2, 3, 4, 5]))
    await writeDelta(uri, people([6, 7, 8]))
    assert.equal((await readDelta(uri, { limit: 4 })).numRows, 4)
    assert.equal((await readDelta(uri, { limit: 0 })).numRows, 0)
    assert.equal((await readDelta(uri, { limit: 100 })).numRows, 8)
    let rows = 0
    let batches = 0
    for await (const b of new DeltaInputAdapter(uri, { batchSize: 2, limit: 5 })) {
      rows += b.numRows
      batches++
    }
    assert.equal(rows, 5)
    assert.ok(batches <= 3, `${batches} batches`)
    const dt = await DeltaTable.open(uri)
    let ipcRows = 0
    for await (const buf of dt.getBatches({ format: 'ipc', limit: 3 })) ipcRows += (await import('apache-arrow')).tableFromIPC(buf).numRows
    assert.equal(ipcRows, 3)
    await rejectsWith(readDelta(uri, { limit: -1 }), 'INVALID_ARGUMENT', /limit/)
    await rejectsWith(readDelta(uri, { limit: 1.5 }), 'INVALID_ARGUMENT', /limit/)

    const out = new DeltaOutputAdapter(uri)
    await out.write(people([99]))
    await out[Symbol.asyncDispose]()
    assert.equal((await DeltaTable.open(uri)).version, 1, 'nothing committed')
    await rejectsWith(out.close(), 'INVALID_ARGUMENT', /closed/)
    const closed = new DeltaOutputAdapter(uri)
    await closed.write(people([9]))
    await closed.close()
    await closed[Symbol.asyncDispose]() // a closed write stays committed
    assert.equal((await readDelta(uri)).numRows, 9)
  })

  it('DeltaTable.create makes an empty table at version 0 from an apache-arrow Schema or Delta type names, as Python sees it', async () => {
    const uri = scratch('create-map')
    const dt = await DeltaTable.create(uri, {
      schema: {
        id: 'long not null',
        name: 'string',
        amount: 'decimal(10,2)',
        tags: 'array<string>',
        attrs: 'map<string,long>',
        point: 'struct<x:double,y:double>',
        day: 'date',
        at: 'timestamp',
      },
      partitionBy: ['day'],
      name: 'orders',
      description: 'created empty',
      configuration: { 'delta.appendOnly': 'true' },
    })
    assert.equal(dt.version, 0)
    const p = python(uri)
    assert.equal(p.version, 0)
    assert.equal(p.count, 0)
    assert.equal(p.name, 'orders')
    assert.equal(p.description, 'created empty')
    assert.deepEqual(p.partitionColumns, ['day'])
    assert.equal(p.configuration['delta.appendOnly'], 'true')
    const types = Object.fromEntries(p.schema.fields.map((f) => [f.name, [f.type, f.nullable]]))
    assert.deepEqual(types.id, ['long', false])
    assert.deepEqual(types.name, ['string', true])
    assert.deepEqual(types.amount, ['decimal(10,2)', true])
    assert.deepEqual(types.tags[0], { type: 'array', elementType: 'string', containsNull: true })
    assert.deepEqual(types.attrs[0], { type: 'map', keyType: 'string', valueType: 'long', valueContainsNull: true })
    assert.deepEqual(
      types.point[0].fields.map((f) => [f.name, f.type]),
      [
        ['x', 'double'],
        ['y', 'double'],
      ],
    )
    assert.deepEqual(types.day, ['date', true])
    assert.deepEqual(types.at, ['timestamp', true])
    // Rows then append to it with its types.
    await writeDelta(uri, [{ id: 1n, name: 'a', day: '2024-01-01' }])
    assert.equal((await readDelta(uri)).numRows, 1)

    const arrowUri = scratch('create-arrow')
    const schema = new Schema([new Field('id', new Int64(), false), new Field('name', new Utf8(), true)])
    const t = await DeltaTable.create(arrowUri, { schema })
    assert.deepEqual(
      t.schema().fields.map((f) => [f.name, String(f.type), f.nullable]),
      [
        ['id', 'Int64', false],
        ['name', 'Utf8', true],
      ],
    )
    assert.equal(python(arrowUri).version, 0)
  })

  it("DeltaTable.create: mode 'error' refuses an existing table, 'ignore' opens it, 'overwrite' replaces its schema and files; bad schemas are INVALID_ARGUMENT", async () => {
    const uri = scratch('create-modes')
    await writeDelta(uri, people([1, 2]))
    await rejectsWith(DeltaTable.create(uri, { schema: { id: 'long' } }), 'INVALID_ARGUMENT', /already exists/)
    const ignored = await DeltaTable.create(uri, { schema: { x: 'string' }, mode: 'ignore' })
    assert.equal(ignored.version, 0)
    assert.deepEqual(
      ignored.schema().fields.map((f) => f.name),
      ['id', 'name'],
    )
    const replaced = await DeltaTable.create(uri, { schema: { x: 'string' }, mode: 'overwrite' })
    assert.equal(replaced.version, 1)
    const p = python(uri)
    assert.deepEqual(
      p.schema.fields.map((f) => f.name),
      ['x'],
    )
    assert.equal(p.count, 0)
    const bad = scratch('create-bad')
    await rejectsWith(DeltaTable.create(bad, { schema: { id: 'bigint' } }), 'INVALID_ARGUMENT', /column 'id'.*unknown Delta type 'bigint'/)
    await rejectsWith(DeltaTable.create(bad, { schema: {} }), 'INVALID_ARGUMENT', /no columns/)
    await rejectsWith(DeltaTable.create(bad), 'INVALID_ARGUMENT', /schema/)
    await rejectsWith(DeltaTable.create(bad, { schema: { id: 'long' }, partitionBy: ['nope'] }), 'INVALID_ARGUMENT')
    await rejectsWith(DeltaTable.create(bad, { schema: { id: 'long' }, mode: 'append' }), 'INVALID_ARGUMENT', /mode/)
    assert.equal(await DeltaTable.isDeltaTable(bad), false)
  })

  it('refresh() loads what other writers committed since, and transactionVersion(appId) is the last appVersion committed', async () => {
    const uri = scratch('refresh')
    await writeDelta(uri, people([1]))
    const dt = await DeltaTable.open(uri)
    assert.equal(await dt.transactionVersion('etl'), null)
    await writeDelta(uri, people([2]), { commitProperties: { appId: 'etl', appVersion: 7 } })
    await writeDelta(uri, people([3]))
    assert.equal(dt.version, 0)
    assert.equal(await dt.refresh(), 2)
    assert.equal(dt.version, 2)
    assert.equal((await dt.toTable()).numRows, 3)
    assert.equal(await dt.transactionVersion('etl'), 7)
    assert.equal(python(uri, 'etl').transactionVersion, 7)
    assert.equal(await dt.refresh(), 2)
    await rejectsWith(dt.transactionVersion(''), 'INVALID_ARGUMENT')
  })

  it('addActions, count, partitions and fileUris say what Python deltalake says about the same table', async () => {
    const uri = scratch('add-actions')
    const out = new DeltaOutputAdapter(uri, { partitionBy: ['part'] })
    await out.write(people([1, 2, 3], { part: 'a' }))
    await out.close()
    await writeDelta(uri, people([4, 5], { part: 'b' }))
    await writeDelta(uri, [{ id: 6, name: null, part: null }])
    const dt = await DeltaTable.open(uri)
    const p = python(uri)
    assert.equal(await dt.count(), 6)
    assert.equal(p.count, 6)
    const key = (o) => JSON.stringify(Object.entries(o).sort())
    assert.deepEqual((await dt.partitions()).map(key).sort(), p.partitions.map(key).sort())
    assert.deepEqual((await dt.fileUris()).sort(), p.fileUris)
    const adds = await dt.addActions({ flatten: true })
    assert.equal(adds.numRows, 3)
    const ours = adds
      .toArray()
      .map((r) => {
        const o = {}
        for (const c of Object.keys(p.addActions[0])) {
          const v = r[c]
          o[c] = v === null || v === undefined ? null : String(v)
        }
        return o
      })
      .sort((a, b) => (a.path < b.path ? -1 : 1))
    assert.deepEqual(ours, p.addActions)
    assert.ok(adds.getChild('modification_time'))
    const nested = await dt.addActions()
    assert.ok(nested.getChild('min'), 'nested stats are a struct column')
    await rejectsWith(dt.addActions({ flatten: 'yes' }), 'INVALID_ARGUMENT')
  })

  it('writerProperties (Python WriterProperties names) reach the Parquet files, as DuckDB reads their metadata; bad ones are INVALID_ARGUMENT and write nothing', async () => {
    const uri = scratch('writer-props')
    const data = Array.from({ length: 2500 }, (_, i) => ({ id: i, city: `city-${i % 7}`, note: `${'x'.repeat(100)}-${i}` }))
    await writeDelta(uri, data, {
      writerProperties: {
        maxRowGroupSize: 1000,
        compression: 'zstd',
        compressionLevel: 7,
        statisticsTruncateLength: 16,
        defaultColumnProperties: { dictionaryEnabled: false },
        columnProperties: {
          city: { dictionaryEnabled: true, bloomFilterProperties: { setBloomFilterEnabled: true, fpp: 0.01, ndv: 10 } },
          id: { statisticsEnabled: 'NONE' },
        },
      },
    })
    const meta = parquetMeta(uri)
    const chunks = (c) => meta.filter((m) => m.column === c)
    assert.equal(
      chunks('id').reduce((n, m) => n + m.rows, 0),
      2500,
    )
    assert.ok(
      chunks('id').every((m) => m.rows <= 1000),
      `row groups of at most 1000 rows: ${chunks('id').map((m) => m.rows)}`,
    )
    assert.ok(meta.every((m) => m.compression === 'ZSTD'))
    assert.ok(chunks('city').every((m) => m.dictionaryPageOffset !== null && m.bloomFilterOffset !== null))
    assert.ok(chunks('note').every((m) => m.dictionaryPageOffset === null && m.bloomFilterOffset === null))
    assert.ok(chunks('id').every((m) => m.min === null && m.max === null))
    assert.ok(chunks('note').every((m) => m.min.length <= 16 && m.max.length <= 16 && m.min.startsWith('xxxx')))
    assert.equal((await readDelta(uri)).numRows, 2500)

    const bad = [
      [{ compression: 'ZSTD', compressionLevel: 99 }, /compressionLevel/],
      [{ compression: 'SNAPPY', compressionLevel: 3 }, /compressionLevel applies to/],
      [{ compression: 'ZIP' }, /writerProperties.compression must be/],
      [{ maxRowGroupSize: 0 }, /maxRowGroupSize must be at least 1/],
      [{ maxRowGroupsize: 10 }, /unknown writerProperties option 'maxRowGroupsize'/],
      [{ columnProperties: { city: { statisticsEnabled: 'ALL' } } }, /statisticsEnabled must be NONE, CHUNK or PAGE/],
      [{ defaultColumnProperties: { bloomFilterProperties: { fpp: 2 } } }, /fpp must be between 0 and 1/],
      [{ columnProperties: { city: { dictionary: true } } }, /unknown columnProperties option 'dictionary'/],
      ['zstd', /writerProperties must be an object/],
    ]
    for (const [writerProperties, re] of bad) await rejectsWith(writeDelta(uri, data, { writerProperties }), 'INVALID_ARGUMENT', re)
    await rejectsWith(
      writeDelta(uri, data, { compression: 'zstd', writerProperties: { compression: 'ZSTD' } }),
      'INVALID_ARGUMENT',
      /not both/,
    )
    assert.equal((await DeltaTable.open(uri)).version, 0, 'nothing written')
  })

  it('a column whose values are nearly all different is written without a Parquet dictionary, repeated values keep theirs, and writerProperties still decide when they say', async () => {
    const n = 40_000
    const data = arrow.tableFromArrays({
      id: BigInt64Array.from({ length: n }, (_, i) => BigInt(i)),
      code: Int32Array.from({ length: n }, (_, i) => (i * 7919) % 500),
      note: Array.from({ length: n }, (_, i) => `note-${i}`),
    })
    const dictionary = (uri, c) => {
      const chunks = parquetMeta(uri).filter((m) => m.column === c)
      assert.ok(chunks.length > 0, `column ${c} has chunks`)
      return chunks.every((m) => m.dictionaryPageOffset !== null)
    }
    const chosen = scratch('dictionary-choice')
    await writeDelta(chosen, data)
    assert.deepEqual(
      ['id', 'code', 'note'].map((c) => dictionary(chosen, c)),
      [false, true, false],
    )
    const read = await readDelta(chosen)
    const ids = Array.from(read.getChild('id').toArray(), Number).sort((a, b) => a - b)
    assert.deepEqual(
      ids,
      Array.from({ length: n }, (_, i) => i),
    )
    assert.deepEqual(
      toRows(read)
        .filter((r) => Number(r.id) % 4999 === 0)
        .map((r) => [Number(r.id), r.code, r.note])
        .sort((a, b) => a[0] - b[0]),
      [0, 4999, 9998, 14997, 19996, 24995, 29994, 34993, 39992].map((i) => [i, (i * 7919) % 500, `note-${i}`]),
    )

    const asked = scratch('dictionary-asked')
    await writeDelta(asked, data, {
      writerProperties: { columnProperties: { id: { dictionaryEnabled: true }, code: { dictionaryEnabled: false } } },
    })
    assert.deepEqual(
      ['id', 'code', 'note'].map((c) => dictionary(asked, c)),
      [true, false, false],
    )
  })

  it('stringViews reads strings and binaries from the files as Utf8View / BinaryView (nested ones too), partition values as Utf8, with the rows Python reads; streamed and collected; such a table writes back', async () => {
    const types = (t) => Object.fromEntries(t.schema.fields.map((f) => [f.name, String(f.type)]))
    const all = await readDelta(fixture('all_types'), { stringViews: true })
    const ty = types(all)
    assert.equal(ty.str, 'Utf8View')
    assert.equal(ty.bin, 'BinaryView')
    assert.match(ty.struct, /y:Utf8View/)
    assert.match(ty.map, /Utf8View/)
    assert.equal(types(await readDelta(fixture('all_types'))).str, 'Utf8', 'plain strings unless asked')
    const theirs = pyRead(fixture('all_types'))
    assert.equal(all.numRows, theirs.numRows)
    assert.deepEqual(rows(all), rows(theirs))
    assert.deepEqual(toRows(all, { int64: 'string' }), toRows(await readDelta(fixture('all_types')), { int64: 'string' }))

    const parted = fixture('partitioned')
    const views = await readDelta(parted, { stringViews: true })
    assert.equal(types(views).part, 'Utf8', 'a partition column is not read from the files')
    assert.deepEqual(rows(views), rows(pyRead(parted)))
    const streamed = []
    for await (const b of new DeltaInputAdapter(fixture('all_types'), { stringViews: true, batchSize: 2 })) {
      assert.equal(String(b.schema.fields.find((f) => f.name === 'str').type), 'Utf8View')
      streamed.push(b)
    }
    assert.deepEqual(rows(new arrow.Table(streamed)), rows(theirs))
    const dt = await DeltaTable.open(fixture('all_types'))
    assert.equal(types(await dt.toTable({ stringViews: true, columns: ['str'] })).str, 'Utf8View')

    const copy = scratch('string-views-copy')
    await writeDelta(copy, all)
    const back = await readDelta(copy)
    assert.equal(types(back).str, 'Utf8')
    assert.deepEqual(rows(back), rows(theirs))
    await rejectsWith(readDelta(parted, { stringViews: 'yes' }), 'INVALID_ARGUMENT', /stringViews/)
  })

  it('toRows gives plain JSON-safe rows: int64 as numbers (unsafe ones refused), strings or bigints; decimals exact; dates, binary, nested and dictionary values', async () => {
    const v = (type, data, extra = {}) => arrow.makeVector({ type, data, ...extra })
    const struct = new arrow.Struct([new arrow.Field('x', new arrow.Int64()), new arrow.Field('tag', new arrow.Utf8())])
    const table = new arrow.Table({
      id: v(new arrow.Int64(), new BigInt64Array([1n, 9007199254740993n])),
      amount: v(new arrow.Decimal(2, 10, 128), new Uint32Array([1230, 0, 0, 0, 4294967291, 4294967295, 4294967295, 4294967295])),
      at: v(new arrow.TimestampMicrosecond('UTC'), new BigInt64Array([1700000000123000n, 0n])),
      day: v(new arrow.DateDay(), new Int32Array([19000, 0])),
      bytes: arrow.vectorFromArray([new Uint8Array([1, 2, 255]), null], new arrow.Binary()),
      city: arrow.vectorFromArray(['oslo', 'oslo']),
      point: arrow.vectorFromArray(
        [
          { x: 5n, tag: 'a' },
          { x: null, tag: null },
        ],
        struct,
      ),
      tags: arrow.vectorFromArray([[1, 2], []], new arrow.List(new arrow.Field('item', new arrow.Int32()))),
    })
    assert.equal(table.getChild('city').type.typeId, arrow.Type.Dictionary, 'vectorFromArray made a dictionary column')
    const first = {
      id: 1,
      amount: '12.30',
      at: new Date(1700000000123),
      day: '2022-01-08',
      bytes: Buffer.from([1, 2, 255]).toString('base64'),
      city: 'oslo',
      point: { x: 5, tag: 'a' },
      tags: [1, 2],
    }
    await rejectsWith(
      Promise.resolve().then(() => toRows(table)),
      'INVALID_DATA',
      /column 'id', row 1 holds 9007199254740993.*int64: 'string'/,
    )
    assert.deepEqual(toRows(table.slice(0, 1)), [first])
    const strings = toRows(table, { int64: 'string' })
    assert.deepEqual(strings[0], { ...first, id: '1', point: { x: '5', tag: 'a' } })
    assert.deepEqual(strings[1], {
      id: '9007199254740993',
      amount: '-0.05',
      at: new Date(0),
      day: '1970-01-01',
      bytes: null,
      city: 'oslo',
      point: { x: null, tag: null },
      tags: [],
    })
    assert.equal(toRows(table, { int64: 'bigint' })[1].id, 9007199254740993n)
    assert.equal(JSON.parse(JSON.stringify(strings))[0].at, '2023-11-14T22:13:20.123Z')
    assert.throws(
      () => toRows(table, { int64: 'float' }),
      (e) => e.code === 'INVALID_ARGUMENT',
    )
    assert.throws(
      () => toRows([{ id: 1 }]),
      (e) => e.code === 'INVALID_ARGUMENT',
    )
    // What a read returns, as rows (a RecordBatch too).
    const uri = scratch('to-rows')
    await writeDelta(uri, people([1, 2]))
    const read = await readDelta(uri)
    assert.deepEqual(
      toRows(read).sort((a, b) => a.id - b.id),
      [
        { id: 1, name: 'n1' },
        { id: 2, name: 'n2' },
      ],
    )
    assert.equal(toRows(read.batches[0]).length, read.batches[0].numRows)
  })
}

/** DuckDB's view of every column chunk of a table's data files. */
export function parquetMeta(uri) {
  return fs
    .readdirSync(uri, { recursive: true })
    .filter((f) => f.endsWith('.parquet'))
    .flatMap((f) => JSON.parse(py('parquet_meta.py', path.join(uri, f))))
}

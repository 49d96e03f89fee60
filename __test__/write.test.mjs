// The write path: real commits, every mode, every input shape, atomicity, concurrency, and interop
// with Python deltalake in both directions.
import assert from 'node:assert/strict'
import { execFile, spawn, spawnSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import {
  DateDay,
  Field,
  Float64,
  Int32,
  List,
  Struct,
  TimestampMicrosecond,
  Utf8,
  makeVector,
  tableFromArrays,
  tableFromJSON,
  tableToIPC,
  vectorFromArray,
  RecordBatch,
  Schema,
  Table,
} from 'apache-arrow'
import { DeltaCoordinator, DeltaError, DeltaOutputAdapter, DeltaTable, DeltaWriter, readDelta, writeDelta } from '../index.mjs'
import { bufferBudgetTests } from './memory.mjs'
import { rowColumnTests } from './plain-rows.mjs'
import { appendStormTests } from './storm.mjs'
import {
  RUN,
  assertSameTable,
  big,
  dataFiles,
  arrowInputWriteTests,
  createRaceTests,
  coordinatorRaceTests,
  partitionByMismatchTests,
  emptyInputWriteTests,
  fixture,
  idColumns,
  people,
  python,
  pyRead,
  rejectsWith,
  rows,
  scratch,
} from './helpers.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const run = promisify(execFile)
const ids = async (uri, opts) =>
  rows(await readDelta(uri, opts))
    .map((r) => Number(r.id))
    .sort((a, b) => a - b)
const spawnSyncPy = (script, ...args) => {
  const res = spawnSync(python, ['-c', script, ...args], { encoding: 'utf8' })
  if (res.status !== 0) throw new Error(res.stderr)
  return res.stdout
}
const logFiles = (uri) =>
  fs
    .readdirSync(path.join(uri, '_delta_log'))
    .filter((f) => f.endsWith('.json'))
    .sort()

describe('modes', () => {
  it('append, overwrite, error and ignore', async () => {
    const uri = scratch('modes')
    assert.deepEqual(await writeDelta(uri, people([1, 2])), {
      version: 0,
      numFiles: 1,
      numRows: 2,
      numBytes: (await DeltaTable.open(uri).then((t) => t.files()))[0].size,
    })
    assert.equal((await writeDelta(uri, people([3]))).version, 1)
    assert.deepEqual(await ids(uri), [1, 2, 3])
    const ow = await writeDelta(uri, people([7, 8]), { mode: 'overwrite' })
    assert.equal(ow.version, 2)
    assert.deepEqual(await ids(uri), [7, 8])
    assert.deepEqual(await ids(uri, { version: 1 }), [1, 2, 3])
    await rejectsWith(writeDelta(uri, people([9]), { mode: 'error' }), 'INVALID_ARGUMENT', /already exists/)
    const ignored = await writeDelta(uri, people([9]), { mode: 'ignore' })
    assert.deepEqual(ignored, { version: 2, numFiles: 0, numRows: 0, numBytes: 0 })
    assert.deepEqual(await ids(uri), [7, 8])
    assert.equal(logFiles(uri).length, 3)
    // and Python agrees
    assertSameTable(pyRead(uri), await readDelta(uri), uri)
  })

  it('predicate overwrites only the matching rows and rejects rows outside it', async () => {
    const uri = scratch('replace-where')
    await writeDelta(uri, [
      { id: 1, day: 'mon' },
      { id: 2, day: 'tue' },
      { id: 3, day: 'mon' },
    ])
    await writeDelta(uri, [{ id: 10, day: 'mon' }], { mode: 'overwrite', predicate: "day = 'mon'" })
    assert.deepEqual(await ids(uri), [2, 10])
    const before = logFiles(uri).length
    await assert.rejects(writeDelta(uri, [{ id: 11, day: 'wed' }], { mode: 'overwrite', predicate: "day = 'mon'" }), DeltaError)
    await rejectsWith(writeDelta(uri, [{ id: 12, day: 'mon' }], { mode: 'overwrite', predicate: 'day = = ' }), 'INVALID_ARGUMENT')
    assert.equal(logFiles(uri).length, before)
    assert.deepEqual(await ids(uri), [2, 10])
    // No rows: the predicate's rows go, as with Spark's replaceWhere and Python.
    await writeDelta(uri, [], { mode: 'overwrite', predicate: 'id >= 10' })
    assert.deepEqual(await ids(uri), [2])
  })
})

describe('input shapes', () => {
  it('Table, RecordBatch, IPC stream and file bytes, rows, and async iterables of them, in one commit', async () => {
    const uri = scratch('shapes')
    const t = (a) => tableFromArrays({ id: BigInt64Array.from(a.map(BigInt)), name: a.map((x) => `n${x}`) })
    const out = new DeltaOutputAdapter(uri)
    await out.write(t([1, 2]))
    await out.write(t([3]).batches[0])
    await out.write(Buffer.from(tableToIPC(t([4]), 'stream')))
    await out.write(tableToIPC(t([5]), 'file'))
    await out.write(people([6]))
    await out.write(
      (async function* () {
        yield t([7])
        yield people([8, 9])
        yield [t([10]).batches[0]]
      })(),
    )
    assert.equal(fs.existsSync(path.join(uri, '_delta_log')) ? logFiles(uri).length : 0, 0, 'nothing is visible before close()')
    const res = await out.close()
    assert.equal(res.version, 0)
    assert.equal(res.numRows, 10)
    assert.deepEqual(await ids(uri), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    assert.ok(t([1]).batches[0] instanceof RecordBatch)
  })

  it('row objects: table schema is used, lossless coercion, wrong types name the row', async () => {
    const uri = scratch('rows')
    await writeDelta(
      uri,
      tableFromArrays({ id: BigInt64Array.from([1n]), score: Float64Array.from([1.5]), ts: [new Date('2024-01-01T00:00:00Z')] }),
    )
    await writeDelta(uri, [
      { id: 2, score: 3, ts: new Date('2024-02-01T00:00:00Z') },
      { id: 3n, score: 4.25, ts: '2024-03-01T00:00:00Z' },
    ])
    const t = await readDelta(uri)
    assert.equal(t.numRows, 3)
    assert.deepEqual(
      rows(t).map((r) => [r.id, r.score]),
      [
        ['1', 1.5],
        ['2', '3'],
        ['3', 4.25],
      ],
    )
    // score came from a Float64Array: apache-arrow made it non-nullable
    await rejectsWith(writeDelta(uri, [{ id: 4, score: null }]), 'INVALID_DATA')
    await rejectsWith(
      writeDelta(uri, [
        { id: 4, score: 1 },
        { id: 'five', score: 2 },
      ]),
      'INVALID_DATA',
      /row 1.*id/,
    )
    await rejectsWith(writeDelta(uri, [{ id: 4 }, 'nope']), 'INVALID_DATA', /row 1/)
    await rejectsWith(
      writeDelta(uri, [
        { id: 4, score: 1 },
        { id: { n: 5 }, score: 2 },
      ]),
      'INVALID_DATA',
      /^row 1: .*'id'/,
    )
    // rows cross 10,000 at a time: messages still count from the start of what write() was given
    const many = Array.from({ length: 20_001 }, (_, i) => ({ id: i, score: 1 }))
    many[10_002].id = 'bad'
    await rejectsWith(writeDelta(uri, many), 'INVALID_DATA', /^row 10002: .*'id'/)
    many[10_002].id = 10_002
    many[20_000] = 'nope' // found while the rows before it are being written
    await rejectsWith(writeDelta(uri, many), 'INVALID_DATA', /row 20000 is not an object/)
    assert.equal((await DeltaTable.open(uri)).version, 1)
  })

  it('a Uint8Array into a string column is INVALID_DATA naming the row, not its hex text; into a binary column it is its bytes', async () => {
    const uri = scratch('binary-into-string')
    await writeDelta(uri, [{ id: 1n, name: 'a', data: Buffer.from('a') }])
    const bad = [
      { id: 2n, name: 'b' },
      { id: 3n, name: 'c' },
      { id: 4n, name: Buffer.from('d') },
    ]
    await rejectsWith(writeDelta(uri, bad), 'INVALID_DATA', /^row 2: column 'name' holds strings/)
    await rejectsWith(writeDelta(uri, bad, { schemaMode: 'merge' }), 'INVALID_DATA', /^row 2: column 'name'/)
    const w = new DeltaWriter(uri)
    await rejectsWith(w.write(bad), 'INVALID_DATA', /^row 2: column 'name'/)
    assert.equal((await DeltaTable.open(uri)).version, 0)
    await writeDelta(uri, [{ id: 5n, name: 'e', data: new Uint8Array([0, 255]) }])
    assert.deepEqual(
      rows(await readDelta(uri))
        .map((r) => [r.id, r.name, r.data])
        .sort(),
      [
        ['1', 'a', '61'],
        ['5', 'e', '00ff'],
      ],
    )
  })

  it('row objects keep int64 beyond 2^53, nested structs and lists, apache-arrow rows; an unknown nested field is refused', async () => {
    const uri = scratch('rows-values')
    const beyond = 9007199254740993n // 2^53 + 1: no JS number holds it
    await writeDelta(uri, [{ id: 1n, s: { a: 1, tags: ['x', 'y'] }, at: new Date('2024-01-02T03:04:05.678Z') }])
    await writeDelta(uri, [
      { id: beyond, s: { a: 2, tags: [] } },
      { id: -beyond, s: null, at: '2024-05-06T00:00:00Z' },
    ])
    const expected = [
      // new columns come in the first row's key order; rows() sorts
      { id: '-9007199254740993', s: null, at: String(Date.parse('2024-05-06T00:00:00Z')) },
      { id: '1', s: { a: '1', tags: ['x', 'y'] }, at: String(Date.parse('2024-01-02T03:04:05.678Z')) },
      { id: '9007199254740993', s: { a: '2', tags: [] }, at: null },
    ]
    const t = await readDelta(uri)
    assert.deepEqual(
      t.schema.fields.map((f) => f.name),
      ['id', 's', 'at'],
    )
    assert.equal(String(t.schema.fields.find((f) => f.name === 'id').type), 'Int64')
    assert.equal(String(t.schema.fields.find((f) => f.name === 'at').type), 'Timestamp<MICROSECOND, UTC>') // from a Date
    assert.deepEqual(rows(t), expected)
    // a field the table's struct lacks would be dropped: refused, nothing committed
    await rejectsWith(writeDelta(uri, [{ id: 3, s: { a: 3, zz: 1 } }]), 'SCHEMA_MISMATCH', /row 0.*zz/)
    await rejectsWith(
      writeDelta(
        uri,
        [
          { id: 3, s: { a: 3 } },
          { id: 4, s: { a: 4, zz: 1 } },
        ],
        { schemaMode: 'merge' },
      ),
      'SCHEMA_MISMATCH',
      /row 1.*zz/,
    )
    await rejectsWith(writeDelta(uri, [{ id: 3, zz: 1 }]), 'SCHEMA_MISMATCH', /columns the table does not: zz/)
    assert.equal((await DeltaTable.open(uri)).version, 1)
    // the rows of an apache-arrow Table (StructRow objects with their own toJSON) write as they read
    await writeDelta(uri, t.toArray())
    assert.deepEqual(
      rows(await readDelta(uri)),
      rows(t).flatMap((r) => [r, r]),
    )
    assertSameTable(pyRead(uri), await readDelta(uri), uri)
  })

  it('timestamps and dates inside structs and lists: apache-arrow rows (epoch ms) write as they read, ISO text keeps microseconds', async () => {
    const uri = scratch('rows-nested-time')
    const ms = Date.parse('2024-03-04T05:06:07.089Z')
    const s = vectorFromArray(
      [{ at: ms, d: ms }],
      new Struct([new Field('at', new TimestampMicrosecond('UTC'), true), new Field('d', new DateDay(), true)]),
    )
    const l = vectorFromArray([[ms, null]], new List(new Field('item', new TimestampMicrosecond('UTC'), true)))
    const ld = vectorFromArray([[ms - 86_400_000]], new List(new Field('item', new DateDay(), true)))
    await writeDelta(uri, new Table({ id: vectorFromArray([1n]), s, l, ld }))
    const t = await readDelta(uri)
    // numbers in nested timestamp fields were read as microseconds (1000x off), in date fields refused
    await writeDelta(
      uri,
      t.toArray().map((r) => ({ ...r.toJSON(), id: 2n })),
    )
    await writeDelta(uri, [
      { id: 3n, s: { at: '2024-03-04T05:06:07.089123Z', d: new Date(ms) }, l: [new Date(ms), null], ld: ['2024-03-03'] },
    ])
    const got = rows(await readDelta(uri)).sort((a, b) => Number(a.id) - Number(b.id))
    const day = String(Date.parse('2024-03-04')),
      dayBefore = String(Date.parse('2024-03-03'))
    const want = (id, at) => ({ id, s: { at, d: day }, l: [String(ms), null], ld: [dayBefore] })
    assert.deepEqual(got, [want('1', String(ms)), want('2', String(ms)), want('3', ms + 0.123)])
    assertSameTable(pyRead(uri), await readDelta(uri), uri)
  })

  it('a new table from row objects: nested Dates and Uint8Arrays make timestamp and binary fields, struct fields in key order', async () => {
    const uri = scratch('rows-nested-dates')
    const at = new Date('2024-05-01T10:00:00.123Z'),
      when = new Date('2024-01-02T00:00:00Z')
    await writeDelta(uri, [
      { id: 1n, audit: { by: 'ann', at, blob: Uint8Array.from([1, 2, 255]) }, events: [{ when, what: 'x' }], days: [when] },
      { id: 2n, audit: { at: null, blob: null, by: 'bob', extra: 1 }, events: [], days: null },
    ])
    const t = await readDelta(uri)
    const types = Object.fromEntries(t.schema.fields.map((f) => [f.name, String(f.type)]))
    assert.deepEqual(types, {
      id: 'Int64',
      // the first row's key order (JSON inference sorts by name); a field it lacked comes after
      audit: 'Struct<{by:Utf8, at:Timestamp<MICROSECOND, UTC>, blob:Binary, extra:Int64}>',
      events: 'List<Struct<{when:Timestamp<MICROSECOND, UTC>, what:Utf8}>>',
      days: 'List<Timestamp<MICROSECOND, UTC>>',
    })
    const got = rows(t).sort((a, b) => Number(a.id) - Number(b.id))
    assert.deepEqual(got, [
      {
        id: '1',
        audit: { at: String(at.getTime()), blob: '0102ff', by: 'ann', extra: null },
        events: [{ what: 'x', when: String(when.getTime()) }],
        days: [String(when.getTime())],
      },
      { id: '2', audit: { at: null, blob: null, by: 'bob', extra: '1' }, events: [], days: null },
    ])
    assertSameTable(pyRead(uri), t)
  })

  it('the rows of an apache-arrow Table write as they read: every type into its table, decimals exact into a new one', async () => {
    const src = await readDelta(fixture('all_types'))
    const appended = scratch('rows-all-types-append')
    fs.cpSync(fixture('all_types'), appended, { recursive: true })
    await writeDelta(appended, src.toArray())
    assertSameTable(await readDelta(appended), new Table([...src.batches, ...src.batches]))
    // a new table takes the decimal type from the rows' own (apache-arrow) type, not JSON inference
    const fresh = scratch('rows-decimals')
    const decimals = src.select(['i64', 'dec', 'str'])
    await writeDelta(fresh, decimals.toArray())
    const t = await readDelta(fresh)
    assert.equal(String(t.schema.fields.find((f) => f.name === 'dec').type), 'Decimal[10e+2]')
    assertSameTable(t, decimals)
    assertSameTable(pyRead(fresh), t)
    // a decimal cell taken out of its row has no scale: refused, never a list of its words
    const spread = decimals.toArray().map((r) => ({ ...r.toJSON() }))
    await rejectsWith(writeDelta(scratch('rows-decimal-cells'), spread), 'INVALID_DATA', /row 0 .*decimal cell without its scale/)
    // decimal text and numbers with more places than the column keeps are refused (arrow-json
    // dropped the extra digits: 1.239 became 1.23, 0.005 became 0.00); as many or fewer go in
    await writeDelta(fresh, [
      { i64: 1000n, dec: '1.5' },
      { i64: 1001n, dec: 2.25 },
      { i64: 1002n, dec: '1.2e-1' },
      { i64: 1003n, dec: '3.100' },
    ])
    for (const [dec, row] of [
      ['1.239', 1],
      [-0.005, 1],
      [0.1 + 0.2, 1],
      ['1.2e-3', 1],
    ]) {
      await rejectsWith(
        writeDelta(fresh, [
          { i64: 20n, dec: '1' },
          { i64: 21n, dec },
        ]),
        'INVALID_DATA',
        new RegExp(`row ${row}: column 'dec' keeps 2 decimal places, and this value has more`),
      )
    }
    const added = rows(
      await readDelta(fresh, {
        filter: [
          ['i64', '>=', 1000],
          ['i64', '<', 2000],
        ],
      }),
    ).map((r) => r.dec)
    assert.deepEqual(
      rows(
        pyRead(fresh, {
          filters: [
            ['i64', '>=', 1000],
            ['i64', '<', 2000],
          ],
        }),
      ).map((r) => r.dec),
      added,
    )
    assert.equal(added.length, 4)
  })

  it('NaN and ±Infinity in row objects are kept at any depth (JSON made them null); a string or integer column refuses them', async () => {
    const uri = scratch('non-finite')
    const byId = (t) =>
      t
        .toArray()
        .map((r) => r.toJSON())
        .sort((a, b) => Number(a.id) - Number(b.id))
    await writeDelta(uri, [
      { id: 1, x: 1.5, s: { y: NaN }, l: [1, -Infinity], f: Float64Array.from([NaN]) },
      { id: 2, x: NaN, s: { y: 2 }, l: [], f: Float64Array.from([]) },
    ])
    const types = (await DeltaTable.open(uri)).schema().fields.map(String)
    assert.deepEqual(types, ['id: Int64', 'x: Float64', 's: Struct<{y:Float64}>', 'l: List<Float64>', 'f: List<Float64>'])
    const text = (v) =>
      JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : typeof x === 'bigint' ? Number(x) : x))
    const expected = text([
      { id: 1, x: 1.5, s: { y: NaN }, l: [1, -Infinity], f: [NaN] },
      { id: 2, x: NaN, s: { y: 2 }, l: [], f: [] },
    ])
    assert.equal(text(byId(await readDelta(uri))), expected)
    await writeDelta(uri, [{ id: 3, x: Infinity }])
    assert.equal(text(byId(await readDelta(uri)).map((r) => r.x)), text([1.5, NaN, Infinity]))
    assert.equal(text(byId(pyRead(uri)).map((r) => r.x)), text([1.5, NaN, Infinity]))
    await rejectsWith(writeDelta(uri, [{ id: 4, x: 1 }, { id: NaN }]), 'INVALID_DATA', /row 1: .*"NaN" as Int64/)
    const strings = scratch('non-finite-strings')
    await writeDelta(strings, [{ s: 'a' }])
    await rejectsWith(writeDelta(strings, [{ s: 'b' }, { s: NaN }]), 'INVALID_DATA', /row 1: column 's' holds strings, and NaN or Infinity/)
    assert.equal((await readDelta(strings)).numRows, 1)
  })

  it('whole numbers past 2^53 in row objects keep their exact value at any depth (JSON text 1152921504606847000 made 2 ** 60 another integer)', async () => {
    const uri = scratch('unsafe-integers')
    await writeDelta(uri, [{ id: 1, n: 2 ** 60, s: { x: -(2 ** 62) }, l: [2 ** 53, 1] }])
    await writeDelta(uri, [{ id: 2, n: 2 ** 53 + 2, s: { x: 1 }, l: [] }])
    const got = (await readDelta(uri))
      .toArray()
      .map((r) => JSON.stringify(r.toJSON(), (_k, v) => (typeof v === 'bigint' ? v.toString() : v)))
      .sort()
    assert.deepEqual(got, [
      `{"id":"1","n":"${2n ** 60n}","s":{"x":"${-(2n ** 62n)}"},"l":["${2n ** 53n}","1"]}`,
      `{"id":"2","n":"${2n ** 53n + 2n}","s":{"x":"1"},"l":[]}`,
    ])
    assertSameTable(pyRead(uri), await readDelta(uri), uri)
    // Into a double column they are that double.
    const doubles = scratch('unsafe-integers-double')
    await writeDelta(doubles, [{ d: 0.5 }, { d: 2 ** 60 }])
    assert.deepEqual(
      (await readDelta(doubles))
        .toArray()
        .map((r) => r.d)
        .sort((a, b) => a - b),
      [0.5, 2 ** 60],
    )
  })

  it('a Map in a row object fills a map column (JSON made it an empty map) and a Set a list; rows without any value are INVALID_DATA for a new table', async () => {
    const uri = scratch('js-map-set')
    fs.cpSync(fixture('all_types'), uri, { recursive: true })
    await writeDelta(uri, [
      {
        i32: 99,
        map: new Map([
          ['k1', 1],
          ['k2', null],
        ]),
        list: new Set([7, 8]),
      },
    ])
    const [back] = (await readDelta(uri, { filter: [['i32', '=', 99]] })).toArray().map((r) => r.toJSON())
    assert.deepEqual(JSON.parse(JSON.stringify(back.map)), { k1: 1, k2: null })
    assert.deepEqual([...back.list], [7, 8])
    const fresh = scratch('js-map-new')
    await writeDelta(fresh, [{ id: 1, m: new Map([[2, 'two']]) }])
    assert.deepEqual(rows(await readDelta(fresh)), [{ id: '1', m: { 2: 'two' } }])
    await rejectsWith(writeDelta(scratch('no-values'), [{}, {}]), 'INVALID_DATA', /rows 0\.\.2 have no values/)
  })

  it('row objects into a new table: Dates make timestamps, binary makes binary, bigints stay exact', async () => {
    const uri = scratch('rows-new-types')
    const at = new Date('2024-03-04T05:06:07.089Z')
    await writeDelta(uri, [
      { id: 1n, at, bin: Buffer.from('hi'), n: 1.5, s: { big: -(2n ** 63n) } },
      { id: 2n ** 62n, at: null, bin: new Uint8Array([0, 255]), n: 2, s: null },
    ])
    const t = await readDelta(uri)
    assert.deepEqual(Object.fromEntries(t.schema.fields.map((f) => [f.name, String(f.type)])), {
      at: 'Timestamp<MICROSECOND, UTC>',
      bin: 'Binary',
      id: 'Int64',
      n: 'Float64',
      s: 'Struct<{big:Int64}>',
    })
    assert.deepEqual(rows(t), [
      { at: String(at.getTime()), bin: '6869', id: '1', n: 1.5, s: { big: String(-(2n ** 63n)) } },
      { at: null, bin: '00ff', id: String(2n ** 62n), n: '2', s: null },
    ])
    assertSameTable(pyRead(uri), t)
    // its rows (apache-arrow StructRows, binary cells Uint8Array) make a binary column too
    const back = scratch('rows-new-types-back')
    await writeDelta(back, t.toArray())
    const b = await readDelta(back)
    assert.equal(String(b.schema.fields.find((f) => f.name === 'bin').type), 'Binary')
    assert.deepEqual(
      rows(b).map((r) => r.bin),
      rows(t).map((r) => r.bin),
    )
    // an invalid Date is null, as JSON has it, nested or not (it threw a RangeError when nested); a nested Date makes a timestamp field too
    const invalid = scratch('rows-invalid-date')
    await writeDelta(invalid, [
      { id: 1n, at: new Date(0), s: { at: new Date(0) } },
      { id: 2n, at: new Date('x'), s: { at: new Date('y') } },
    ])
    assert.deepEqual(rows(await readDelta(invalid)), [
      { at: '0', id: '1', s: { at: '0' } },
      { at: null, id: '2', s: { at: null } },
    ])
    // a row JSON cannot hold is a DeltaError naming it (was a RangeError), and nothing is written
    const circular = { id: 5n, s: {} }
    circular.s.self = circular.s
    const never = scratch('rows-circular')
    await rejectsWith(writeDelta(never, [{ id: 4n }, circular]), 'INVALID_DATA', /row 1 cannot be written as JSON/)
    assert.equal(fs.existsSync(path.join(never, '_delta_log')), false)
  })

  it('numbers in timestamp and date columns are epoch milliseconds, as JS and apache-arrow have them; ISO strings keep microseconds', async () => {
    const uri = scratch('rows-epoch-ms')
    const day = Date.UTC(2024, 2, 4)
    const seed = tableFromArrays({ id: BigInt64Array.from([0n]) })
    await writeDelta(
      uri,
      new Table({
        id: seed.getChild('id'),
        at: vectorFromArray([new Date(day)], new TimestampMicrosecond('UTC')),
        d: vectorFromArray([new Date(day)], new DateDay()),
      }),
    )
    await writeDelta(uri, [
      { id: 1n, at: day + 5, d: day + 86_400_000 }, // Date.now()-style numbers
      { id: 2n, at: '2024-03-04T00:00:00.000123Z', d: '2024-03-06' }, // ISO text
      { id: 3n, at: new Date(day + 7), d: new Date(day - 86_400_000) },
    ])
    const t = await readDelta(uri)
    const micros = new Map()
    for (const b of t.batches) {
      const ids = b.getChild('id').toArray()
      const at = b.getChild('at').data[0]
      ids.forEach((id, i) => {
        micros.set(Number(id), at.values[i])
      })
    }
    const us = BigInt(day) * 1000n
    assert.deepEqual(
      [0, 1, 2, 3].map((i) => micros.get(i)),
      [us, us + 5000n, us + 123n, us + 7000n],
    )
    const days = Object.fromEntries(rows(t).map((r) => [r.id, r.d]))
    assert.deepEqual(days, { 0: String(day), 1: String(day + 86_400_000), 2: String(day + 2 * 86_400_000), 3: String(day - 86_400_000) })
    // the rows of the Table read back (timestamp and date cells are epoch ms) write as they read
    const back = scratch('rows-epoch-ms-back')
    await writeDelta(back, t.slice(0, 1)) // the table's schema
    await writeDelta(back, t.toArray().slice(1))
    assertSameTable(await readDelta(back), t)
    assertSameTable(pyRead(back), t)
  })
})

describe('schema', () => {
  it('is enforced, merged on request, and overwritten with mode overwrite', async () => {
    const uri = scratch('schema')
    await writeDelta(uri, people([1]))
    await rejectsWith(writeDelta(uri, [{ id: 2, name: 'x', extra: true }]), 'SCHEMA_MISMATCH', /extra/)
    await rejectsWith(writeDelta(uri, tableFromArrays({ id: Float64Array.from([1.5]), other: ['x'] })), 'SCHEMA_MISMATCH')
    await writeDelta(uri, [{ id: 2, name: 'x', extra: true }], { schemaMode: 'merge' })
    const t = await readDelta(uri)
    assert.deepEqual(
      t.schema.fields.map((f) => f.name),
      ['id', 'name', 'extra'],
    )
    assert.deepEqual(
      rows(t).map((r) => r.extra),
      [null, true],
    )
    assertSameTable(pyRead(uri), t)
    await writeDelta(uri, [{ other: 'only' }], { mode: 'overwrite', schemaMode: 'overwrite' })
    assert.deepEqual(
      (await readDelta(uri)).schema.fields.map((f) => f.name),
      ['other'],
    )
    assert.deepEqual(rows(pyRead(uri)), [{ other: 'only' }])
    // Only this kind of write changes the partitioning (any other is INVALID_ARGUMENT, shared tests).
    await writeDelta(uri, [{ other: 'p', n: 1 }], { mode: 'overwrite', schemaMode: 'overwrite', partitionBy: ['other'] })
    assert.deepEqual((await DeltaTable.open(uri)).metadata().partitionColumns, ['other'])
    assert.deepEqual(rows(pyRead(uri)), [{ other: 'p', n: '1' }])
  })

  it("schemaMode 'merge' converts the table's existing columns by the same rules as any write (delta-rs refused whole doubles for a long column and cast ints into a string one)", async () => {
    const uri = scratch('merge-conversions')
    await writeDelta(uri, people([1]))
    // tableFromJSON makes every number a double.
    await writeDelta(uri, tableFromJSON([{ id: 2, name: 'x', score: 0.5 }]), { schemaMode: 'merge' })
    await rejectsWith(
      writeDelta(uri, tableFromJSON([{ id: 2.5, name: 'y' }]), { schemaMode: 'merge' }),
      'INVALID_DATA',
      /'id': 2\.5 is not a whole number/,
    )
    await rejectsWith(
      writeDelta(uri, tableFromArrays({ id: Int32Array.from([3]), name: Int32Array.from([7]), more: ['z'] }), { schemaMode: 'merge' }),
      'SCHEMA_MISMATCH',
      /column 'name' is Int32 in the data and Utf8/,
    )
    const dt = await DeltaTable.open(uri)
    assert.equal(dt.version, 1)
    assert.deepEqual(
      dt.schema().fields.map((f) => [f.name, String(f.type)]),
      [
        ['id', 'Int64'],
        ['name', 'Utf8'],
        ['score', 'Float64'],
      ],
    )
    assert.deepEqual(rows(await readDelta(uri)), [
      { id: '1', name: 'n1', score: null },
      { id: '2', name: 'x', score: 0.5 },
    ])
  })
})

describe('memory:// tables', () => {
  it('live for the process, shared by every handle and writer (delta-rs gave each handle an empty store); hosts are separate', async () => {
    const uri = `memory://write-test/t${process.pid}`
    await writeDelta(uri, people([1, 2]))
    const w = new DeltaWriter(uri)
    await w.write(people([3]))
    assert.equal((await new DeltaCoordinator(uri).commit(await w.finish())).version, 1)
    const dt = await DeltaTable.open(uri)
    await dt.delete('id = 1')
    assert.deepEqual(
      rows(await readDelta(uri)).map((r) => r.id),
      ['2', '3'],
    )
    assert.equal((await readDelta(uri, { version: 0 })).numRows, 2)
    assert.equal(await DeltaTable.isDeltaTable(uri.replace('write-test', 'other-host')), false)
  })
})

describe('partitions, options and commit properties', () => {
  it('hive partitions with special characters and nulls read back identically in Python', async () => {
    const uri = scratch('parts')
    const values = ['a/b', 'x=y', '100%', 'with space', 'ünïcødé', null]
    await writeDelta(
      uri,
      values.map((p, i) => ({ id: i, part: p })),
      { partitionBy: ['part'], name: 'parts', description: 'd', configuration: { 'delta.appendOnly': 'false' } },
    )
    const dt = await DeltaTable.open(uri)
    assert.deepEqual(dt.metadata().partitionColumns, ['part'])
    assert.equal(dt.metadata().name, 'parts')
    assert.ok(fs.readdirSync(uri).includes('part=__HIVE_DEFAULT_PARTITION__'))
    assertSameTable(pyRead(uri), await readDelta(uri), uri)
    assert.equal((await readDelta(uri, { filter: [['part', '=', 'x=y']] })).numRows, 1)
    await rejectsWith(
      writeDelta(scratch('bad-part'), people([1]), { partitionBy: ['nope'] }),
      'INVALID_ARGUMENT',
      /unknown partition column 'nope'/,
    )
    const allPart = scratch('all-part')
    await rejectsWith(
      writeDelta(allPart, people([1]), { partitionBy: ['id', 'name'] }),
      'INVALID_ARGUMENT',
      /needs at least one column that is not a partition column/,
    )
    assert.ok(!fs.existsSync(path.join(allPart, '_delta_log')))
    const w = new DeltaWriter(scratch('all-part-worker'), { partitionBy: ['id', 'name'] })
    await rejectsWith(w.write(people([1])), 'INVALID_ARGUMENT', /not a partition column/)
    // binary partition values are written as escaped text that delta-rs reads back as that text
    const binary = scratch('binary-part')
    await rejectsWith(
      writeDelta(binary, [{ id: 1, b: new Uint8Array([1, 2, 255]) }], { partitionBy: ['b'] }),
      'INVALID_ARGUMENT',
      /partition column 'b' is binary/,
    )
    assert.ok(!fs.existsSync(path.join(binary, '_delta_log')))
  })

  it('customMetadata lands in the commit info and appId/appVersion write a txn action', async () => {
    const uri = scratch('props')
    await writeDelta(uri, people([1]), { commitProperties: { customMetadata: { job: 'nightly', run: 7 }, appId: 'etl', appVersion: 3 } })
    const [h] = await (await DeltaTable.open(uri)).history(1)
    assert.equal(h.job, 'nightly')
    assert.equal(h.run, 7)
    const log = fs.readFileSync(path.join(uri, '_delta_log', logFiles(uri)[0]), 'utf8')
    assert.match(log, /"txn":\{"appId":"etl","version":3/)
    // the same application transaction again is a no-op returning its version
    assert.deepEqual(await writeDelta(uri, people([2]), { commitProperties: { appId: 'etl', appVersion: 3 } }), {
      version: 0,
      numFiles: 0,
      numRows: 0,
      numBytes: 0,
    })
    assert.equal((await readDelta(uri)).numRows, 1)
    // keys the commit writes itself are refused (delta-rs let them overwrite readVersion, isBlindAppend)
    for (const key of ['isBlindAppend', 'readVersion', 'operation']) {
      await rejectsWith(
        writeDelta(uri, people([2]), { commitProperties: { customMetadata: { [key]: 1 } } }),
        'INVALID_ARGUMENT',
        new RegExp(`customMetadata key '${key}' is a commitInfo field`),
      )
    }
    const w = new DeltaWriter(uri)
    await w.write(people([2]))
    await rejectsWith(
      new DeltaCoordinator(uri).commit(await w.finish(), { commitProperties: { customMetadata: { readVersion: 0 } } }),
      'INVALID_ARGUMENT',
      /commitInfo field/,
    )
    assert.equal((await DeltaTable.open(uri)).version, 0)
  })

  it('compression and targetFileSize are honoured; files carry stats', async () => {
    const uri = scratch('compression')
    const data = Array.from({ length: 20000 }, (_, i) => ({ id: i, name: `name-${i}-${'x'.repeat(i % 50)}` }))
    await writeDelta(uri, data, { compression: 'zstd', targetFileSize: 64 * 1024 })
    const files = await (await DeltaTable.open(uri)).files()
    assert.ok(files.length > 1, `${files.length} files`)
    const adds = fs
      .readFileSync(path.join(uri, '_delta_log', logFiles(uri)[0]), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .filter((a) => a.add)
      .map((a) => JSON.parse(a.add.stats))
    assert.equal(adds.length, files.length)
    assert.equal(
      adds.reduce((n, s) => n + s.numRecords, 0),
      20000,
    )
    assert.equal(Math.min(...adds.map((s) => s.minValues.id)), 0)
    assert.equal(Math.max(...adds.map((s) => s.maxValues.id)), 19999)
    assert.ok(adds.every((s) => s.nullCount.name === 0))
    // The codec of every column chunk, from the Parquet footers (pyarrow).
    const codecs = spawnSyncPy(
      'import sys, glob, pyarrow.parquet as pq\nm = [pq.ParquetFile(f).metadata for f in glob.glob(sys.argv[1] + "/*.parquet")]\nprint(sorted({x.row_group(g).column(c).compression for x in m for g in range(x.num_row_groups) for c in range(x.num_columns)}))',
      uri,
    )
    assert.equal(codecs.trim(), "['ZSTD']")
    await rejectsWith(writeDelta(uri, data, { compression: 'brotli9' }), 'INVALID_ARGUMENT')
  })

  it('row groups are flushed at maxRowGroupBytes (default 8 MiB), so a streamed file is not held whole in memory; every writer', async () => {
    // 300,000 rows of 80 random hex characters: ~27 MB of text, which one row group held before.
    const rowGroups = (uri) => {
      const script =
        'import sys, glob, json, pyarrow.parquet as pq\nfs = sorted(glob.glob(sys.argv[1] + "/**/*.parquet", recursive=True))\nprint(json.dumps([[pq.ParquetFile(f).metadata.row_group(i).total_byte_size for i in range(pq.ParquetFile(f).metadata.num_row_groups)] for f in fs]))'
      return JSON.parse(spawnSyncPy(script, uri))
    }
    const batch = (from, n = 50_000) =>
      tableFromArrays({
        id: Int32Array.from({ length: n }, (_, i) => from + i),
        name: Array.from({ length: n }, () => crypto.randomBytes(40).toString('hex')),
      })
    // A batch larger than the limit is one row group: the limit splits between batches.
    const write = async (uri, options, n = 50_000) => {
      const out = new DeltaOutputAdapter(uri, options)
      for (let from = 0; from < 300_000; from += n) await out.write(batch(from, n))
      return out.close()
    }
    const byDefault = scratch('rowgroups-default')
    assert.equal((await write(byDefault, {})).numRows, 300_000)
    const groups = rowGroups(byDefault).flat()
    assert.ok(groups.length >= 3, `${groups.length} row groups`)
    assert.ok(Math.max(...groups) < 12 << 20, `largest row group ${Math.max(...groups)} bytes`)
    const small = scratch('rowgroups-small')
    await write(small, { maxRowGroupBytes: 1 << 20 }, 5_000)
    const smallGroups = rowGroups(small).flat()
    assert.ok(
      smallGroups.length >= 20 && Math.max(...smallGroups) < 2 << 20,
      `${smallGroups.length} row groups, largest ${Math.max(...smallGroups)}`,
    )
    const viaWriter = scratch('rowgroups-writer')
    const w = new DeltaWriter(viaWriter, { maxRowGroupBytes: 1 << 20 })
    for (let from = 0; from < 50_000; from += 5_000) await w.write(batch(from, 5_000))
    await new DeltaCoordinator(viaWriter).commit(await w.finish())
    assert.ok(rowGroups(viaWriter).flat().length >= 3)
    assert.equal(rows(await readDelta(small)).length, 300_000)
    await rejectsWith(writeDelta(scratch('rowgroups-bad'), people([1]), { maxRowGroupBytes: 100 }), 'INVALID_ARGUMENT', /maxRowGroupBytes/)
  })

  it('checkpoints are written every delta.checkpointInterval commits', async () => {
    const uri = scratch('checkpoint')
    await writeDelta(uri, people([0]), { configuration: { 'delta.checkpointInterval': '3' } })
    for (let i = 1; i < 7; i++) await writeDelta(uri, people([i]))
    const log = fs.readdirSync(path.join(uri, '_delta_log'))
    assert.ok(
      log.some((f) => f.endsWith('.checkpoint.parquet')),
      log.join(' '),
    )
    assert.deepEqual(await ids(uri), [0, 1, 2, 3, 4, 5, 6])
    assertSameTable(pyRead(uri), await readDelta(uri), uri)
  })
})

describe('apache-arrow tables as its builders make them', () => {
  arrowInputWriteTests({ writeDelta, readDelta, DeltaTable, DeltaWriter, DeltaCoordinator, DeltaOutputAdapter })
  emptyInputWriteTests({ writeDelta, readDelta, DeltaTable, DeltaOutputAdapter, DeltaWriter })
  createRaceTests({ writeDelta, readDelta })
  coordinatorRaceTests({ writeDelta, readDelta, DeltaTable, DeltaWriter, DeltaCoordinator })
  partitionByMismatchTests({ writeDelta, readDelta, DeltaOutputAdapter, DeltaWriter })
})

describe('tables whose writers compute or check values', () => {
  it('a generated column the data leaves out is computed, from apache-arrow tables and row objects; Python reads the same', async () => {
    const uri = scratch('generated')
    fs.cpSync(fixture('generated'), uri, { recursive: true })
    await writeDelta(uri, tableFromArrays({ id: BigInt64Array.from([2n]) }))
    await writeDelta(uri, [{ id: 3 }])
    const want = [
      { id: '1', twice: '2' },
      { id: '2', twice: '4' },
      { id: '3', twice: '6' },
    ]
    assert.deepEqual(rows(await readDelta(uri)), want)
    assert.deepEqual(rows(pyRead(uri)), want)
  })

  it("DeltaCoordinator refuses workers' files for a table that gained a CHECK constraint after they wrote", async () => {
    const uri = scratch('constraint-since')
    await writeDelta(uri, [{ id: 1 }])
    const w = new DeltaWriter(uri)
    await w.write([{ id: -2 }])
    const files = await w.finish()
    await (await DeltaTable.open(uri)).alterTable.addConstraint({ id_positive: 'id > 0' })
    await rejectsWith(new DeltaCoordinator(uri).commit(files), 'UNSUPPORTED_FEATURE', /CHECK constraints/)
    assert.equal((await DeltaTable.open(uri)).version, 1)
    assert.deepEqual(rows(await readDelta(uri)), [{ id: '1' }])
  })

  it('DeltaWriter refuses tables with generated columns or CHECK constraints (it would not evaluate them); nothing is written', async () => {
    for (const [name, re] of [
      ['generated', /generated/],
      ['constrained', /CHECK constraints/],
    ]) {
      const uri = scratch(name)
      fs.cpSync(fixture(name), uri, { recursive: true })
      const before = dataFiles(uri)
      const w = new DeltaWriter(uri)
      await rejectsWith(w.write(tableFromArrays({ id: BigInt64Array.from([-5n]) })), 'UNSUPPORTED_FEATURE', re)
      assert.deepEqual(dataFiles(uri), before, name)
    }
  })
})

describe('atomicity', () => {
  it('an exception or abort before close() leaves the table as it was', async () => {
    const uri = scratch('atomic')
    await writeDelta(uri, people([1]))
    const out = new DeltaOutputAdapter(uri)
    await out.write(people([2, 3]))
    await assert.rejects(out.write([{ id: 'bad' }]), DeltaError)
    await out.abort()
    const out2 = new DeltaOutputAdapter(uri)
    await out2.write(people([4]))
    await out2.abort()
    await rejectsWith(
      writeDelta(
        uri,
        (async function* () {
          yield people([5])
          throw new Error('source failed')
        })(),
      ),
      'ABORTED',
      /source failed/,
    )
    await rejectsWith(writeDelta(uri, Buffer.from('definitely not arrow')), 'INVALID_DATA', /IPC/)
    // Valid IPC framing whose field type arrow-rs cannot map (NONE: apache-arrow's output for a Field
    // made from a plain object); arrow-ipc panics on it, which must not surface as INTERNAL.
    const noneTyped = tableToIPC(new Table(new Schema([{ name: 'id', type: 'long', nullable: true }])), 'stream')
    await rejectsWith(writeDelta(uri, noneTyped), 'INVALID_DATA', /malformed Arrow IPC.*NONE/)
    assert.equal((await DeltaTable.open(uri)).version, 0)
    assert.deepEqual(await ids(uri), [1])
  })

  it('a process killed with SIGKILL mid-write leaves a readable table at its previous version', async () => {
    const uri = scratch('sigkill')
    await writeDelta(uri, people([1, 2]))
    const child = spawn(process.execPath, [path.join(here, 'workers', 'slow-writer.mjs'), uri], { stdio: ['ignore', 'pipe', 'inherit'] })
    await new Promise((resolve) => child.stdout.once('data', resolve))
    child.kill('SIGKILL')
    await new Promise((resolve) => child.once('exit', resolve))
    const dt = await DeltaTable.open(uri)
    assert.equal(dt.version, 0)
    assert.deepEqual(await ids(uri), [1, 2])
  })

  it('a process killed at the moment of its log write leaves the table at its previous version; its data files are never referenced, vacuum finds them, and a rerun commits', async () => {
    const uri = scratch('sigkill-commit')
    await writeDelta(uri, people([1, 2]))
    const dataFiles = () => fs.readdirSync(uri).filter((f) => f.endsWith('.parquet'))
    const before = dataFiles()
    const env = { ...process.env, ZOOPIPE_TEST_PAUSE_BEFORE_LOG_WRITE_MS: '4000' }
    const child = spawn(process.execPath, [path.join(here, 'workers', 'closing-writer.mjs'), uri], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env,
    })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    await new Promise((resolve) => child.stdout.once('data', resolve))
    // close() finishes its files, then is held for 4 s before the log write: wait until every
    // data file of the write is there, then kill it inside that hold.
    const deadline = Date.now() + 3000
    while (Date.now() < deadline && dataFiles().length === before.length) await new Promise((r) => setTimeout(r, 50))
    await new Promise((r) => setTimeout(r, 1000))
    child.kill('SIGKILL')
    await new Promise((resolve) => child.once('exit', resolve))
    assert.doesNotMatch(out, /closed/, 'the commit was still held when the process died')
    const orphans = dataFiles().filter((f) => !before.includes(f))
    assert.ok(orphans.length > 0, 'the write had put its data files down before the kill')
    const dt = await DeltaTable.open(uri)
    assert.equal(dt.version, 0)
    assert.deepEqual(await ids(uri), [1, 2])
    const referenced = (await dt.files()).map((f) => f.path)
    assert.ok(
      orphans.every((f) => !referenced.includes(f)),
      'no orphan is in the table',
    )
    const lite = await dt.vacuum({ retentionHours: 0, enforceRetentionDuration: false, dryRun: true })
    assert.deepEqual(lite.filesDeleted, [], 'no commit removed them')
    const full = await dt.vacuum({ retentionHours: 0, enforceRetentionDuration: false, dryRun: true, full: true })
    assert.deepEqual(full.filesDeleted.map((f) => path.basename(f)).sort(), [...orphans].sort(), 'a full vacuum finds exactly the orphans')
    // Run again (no hold): it commits version 1 with its rows.
    await run(process.execPath, [path.join(here, 'workers', 'closing-writer.mjs'), uri])
    assert.equal((await DeltaTable.open(uri)).version, 1)
    assert.equal((await ids(uri)).length, 2 + 20_000)
  })
})

describe('memory of a streamed write', () => {
  bufferBudgetTests({ DeltaOutputAdapter, DeltaWriter, DeltaCoordinator, readDelta, writeDelta })
  rowColumnTests({ readDelta, DeltaOutputAdapter, writeDelta, DeltaWriter, DeltaCoordinator })
})

describe('concurrency', () => {
  it(
    ...appendStormTests({ writeDelta, readDelta, DeltaTable }, { label: 'local disk', uri: () => scratch('storm'), procs: 10, appends: 6 }),
  )
})

describe('DeltaWriter + DeltaCoordinator', () => {
  it('workers in other processes, one commit of all their files, idempotent by appId', async () => {
    const uri = scratch('fanout')
    const outputs = await Promise.all(
      [0, 1, 2].map((w) => run(process.execPath, [path.join(here, 'workers', 'file-writer.mjs'), uri, String(w), '100'])),
    )
    const files = outputs.map((o) => JSON.parse(o.stdout))
    assert.ok(
      files.every((f) => f.length === 3),
      'one file per partition per worker',
    )
    assert.equal(await DeltaTable.isDeltaTable(uri), false, 'workers commit nothing')
    const c = new DeltaCoordinator(uri)
    const res = await c.commit(files.flat(), { commitProperties: { appId: 'job-1', appVersion: 1, customMetadata: { by: 'coordinator' } } })
    const dt = await DeltaTable.open(uri)
    const [last] = await dt.history(1)
    assert.equal(res.version, dt.version)
    assert.equal(last.by, 'coordinator')
    assert.equal((await readDelta(uri)).numRows, 300)
    assertSameTable(pyRead(uri), await readDelta(uri), uri)
    // The writers' commitProperties shape: flat keys are refused, not ignored.
    await rejectsWith(
      c.commit(files.flat(), { appId: 'job-1', appVersion: 1 }),
      'INVALID_ARGUMENT',
      /unknown option 'appId'.*commitProperties/,
    )
    const again = await c.commit(files.flat(), { commitProperties: { appId: 'job-1', appVersion: 1 } })
    assert.equal(again.version, res.version)
    assert.equal((await DeltaTable.open(uri)).version, dt.version)
    assert.equal((await readDelta(uri)).numRows, 300)
  })

  it('partition values with / space % = (URL-encoded in the actions) commit and read back, in Python too', async () => {
    const uri = scratch('coord-special')
    const values = ['A/A', 'B B', 'C%C', 'D=D', '2024-01-01 00:00:00']
    await writeDelta(
      uri,
      values.map((x, i) => ({ id: BigInt(i), x })),
      { partitionBy: ['x'] },
    )
    const w = new DeltaWriter(uri)
    await w.write(values.map((x, i) => ({ id: BigInt(10 + i), x })))
    const files = await w.finish()
    assert.ok(
      files.some((f) => f.path.startsWith('x=A%252FA/')),
      files.map((f) => f.path).join(' '),
    )
    assert.equal((await new DeltaCoordinator(uri).commit(files)).version, 1)
    const got = rows(await readDelta(uri))
      .map((r) => `${r.id}:${r.x}`)
      .sort()
    assert.deepEqual(got, values.flatMap((x, i) => [`${i}:${x}`, `${10 + i}:${x}`]).sort())
    assertSameTable(pyRead(uri), await readDelta(uri), uri)
  })

  it('a column-mapped table: writeDelta appends by physical names (Python reads them), DeltaWriter refuses it', async () => {
    const uri = scratch('column-mapped')
    fs.cpSync(fixture('column_mapping'), uri, { recursive: true })
    const version = (await DeltaTable.open(uri)).version
    await writeDelta(uri, [{ a: 4n, 'b c': 'w' }])
    assert.deepEqual(rows(await readDelta(uri)), [
      { a: '1', 'b c': 'x' },
      { a: '2', 'b c': 'y' },
      { a: '3', 'b c': 'z' },
      { a: '4', 'b c': 'w' },
    ])
    assertSameTable(pyRead(uri), await readDelta(uri), uri)
    const before = dataFiles(uri)
    const w = new DeltaWriter(uri)
    await rejectsWith(
      (async () => {
        await w.write([{ a: 5n, 'b c': 'v' }])
        await w.finish()
      })(),
      'UNSUPPORTED_FEATURE',
      /[Cc]olumn mapping/,
    )
    assert.deepEqual(dataFiles(uri), before)
    assert.equal((await DeltaTable.open(uri)).version, version + 1)
  })

  it('bad actions are rejected before the log is touched', async () => {
    const uri = scratch('coord-bad')
    const other = scratch('coord-other')
    const w = new DeltaWriter(uri)
    await w.write(people([1, 2]))
    const files = await w.finish()
    const wo = new DeltaWriter(other)
    await wo.write(people([3]))
    const otherFiles = await wo.finish()
    const c = new DeltaCoordinator(uri)
    await rejectsWith(c.commit(otherFiles), 'INVALID_ARGUMENT', /table/)
    await rejectsWith(c.commit([{ ...files[0], path: '../escape.parquet' }]), 'INVALID_ARGUMENT', /inside/)
    await rejectsWith(c.commit([{ ...files[0], path: 'missing.parquet' }]), 'INVALID_ARGUMENT', /does not exist/)
    await rejectsWith(c.commit([files[0], files[0]]), 'INVALID_ARGUMENT', /twice/)
    await rejectsWith(c.commit([{ nonsense: true }]), 'INVALID_ARGUMENT')
    assert.equal(await DeltaTable.isDeltaTable(uri), false)
    assert.equal((await c.commit(JSON.parse(JSON.stringify(files)))).version, 0)
    assert.deepEqual(await ids(uri), [1, 2])
  })

  it('a missing table is created with the files in one version; coordinators racing to create it both commit', async () => {
    const uri = scratch('coord-create')
    const written = async (ids) => {
      const w = new DeltaWriter(uri)
      await w.write(people(ids))
      return w.finish()
    }
    const res = await new DeltaCoordinator(uri).commit(await written([1, 2]), { commitProperties: { appId: 'create', appVersion: 1 } })
    assert.deepEqual(res, { version: 0, numFiles: 1, committed: true })
    assert.deepEqual(logFiles(uri), ['00000000000000000000.json'])
    assert.deepEqual(await ids(uri), [1, 2])
    assert.equal(
      (await new DeltaCoordinator(uri).commit(await written([3]), { commitProperties: { appId: 'create', appVersion: 1 } })).committed,
      false,
    )

    const raced = scratch('coord-create-race')
    const batches = await Promise.all(
      [[10], [20], [30]].map(async (i) => {
        const w = new DeltaWriter(raced)
        await w.write(people(i))
        return w.finish()
      }),
    )
    const results = await Promise.all(batches.map((f) => new DeltaCoordinator(raced).commit(f)))
    assert.deepEqual(results.map((r) => r.version).sort(), [0, 1, 2])
    assert.deepEqual(await ids(raced), [10, 20, 30])
    assertSameTable(pyRead(raced), await readDelta(raced))
  })

  it('creates the table with an explicit schema, and rejects files of another schema', async () => {
    const uri = scratch('coord-schema')
    const schema = tableFromArrays({ id: BigInt64Array.from([1n]), name: ['x'] }).schema
    const w = new DeltaWriter(uri)
    await w.write([{ id: 5, other: 'y' }])
    await rejectsWith(new DeltaCoordinator(uri, { schema }).commit(await w.finish()), 'INVALID_ARGUMENT', /schema/)
    assert.equal(await DeltaTable.isDeltaTable(uri), false, 'nothing was created')
    const w2 = new DeltaWriter(uri)
    await w2.write([{ id: 6, name: 'z' }])
    const res = await new DeltaCoordinator(uri, { schema }).commit(await w2.finish())
    const dt = await DeltaTable.open(uri)
    assert.deepEqual(
      dt.schema().fields.map((f) => f.name),
      ['id', 'name'],
    )
    assert.equal(res.version, dt.version)
    assert.deepEqual(await ids(uri), [6])
  })

  it('coordinator commits race plain appends without losing either', async () => {
    const uri = scratch('coord-race')
    await writeDelta(uri, people([0]))
    const w = new DeltaWriter(uri)
    await w.write(people([100, 101]))
    const files = await w.finish()
    await Promise.all([new DeltaCoordinator(uri).commit(files), writeDelta(uri, people([1])), writeDelta(uri, people([2]))])
    assert.equal((await DeltaTable.open(uri)).version, 3)
    assert.deepEqual(await ids(uri), [0, 1, 2, 100, 101])
  })
})

describe('interop with Python deltalake', () => {
  it('every type round-trips: zoopipe writes what it read, Python reads the same rows', async () => {
    const uri = scratch('all-types-copy')
    await writeDelta(uri, await readDelta(fixture('all_types')))
    assertSameTable(pyRead(uri), pyRead(fixture('all_types')))
  })

  it('sliced batches (sent as IPC) and whole batches (sent buffer by buffer) write the same rows', async () => {
    const all = await readDelta(fixture('all_types'))
    const uri = scratch('all-types-sliced')
    await writeDelta(uri, all.slice(1))
    assertSameTable(pyRead(uri), all.slice(1))
  })

  it('malformed buffers from JS are INVALID_DATA and nothing is committed', async () => {
    const { createRequire } = await import('node:module')
    const req = createRequire(import.meta.url)
    const native = req('../lib/native.js')
    const { call } = req('../lib/errors.js')
    const uri = scratch('bad-parts')
    await writeDelta(uri, tableFromArrays({ id: BigInt64Array.from([1n, 2n]), s: ['a', 'b'] }))
    const schema = Buffer.from(tableToIPC((await readDelta(uri)).slice(0, 0), 'stream'))
    const int64s = (xs) => new Uint8Array(BigInt64Array.from(xs).buffer)
    const offsets = (xs) => new Uint8Array(Int32Array.from(xs).buffer)
    const cases = [
      [{ length: 3, nodes: [3, 0, 3, 0], buffers: [null, int64s([1n]), null, offsets([0, 1, 2, 3]), Buffer.from('abc')] }, /Arrow batch/],
      [{ length: 1, nodes: [1, 0, 1, 0], buffers: [null, int64s([1n]), null, offsets([0, 9]), Buffer.from('abc')] }, /Arrow batch/],
      [{ length: 1, nodes: [1, 0, 1, 0], buffers: [null, int64s([1n]), null, offsets([0, 2]), Buffer.from([0xff, 0xfe])] }, /utf-?8/i],
      [{ length: 1, nodes: [1, 0], buffers: [null, int64s([1n])] }, /Arrow batch/],
    ]
    for (const [batch, message] of cases) {
      const w = new native.DeltaOutputAdapter(uri, { mode: 'append' })
      await rejectsWith(
        call(() => w.writeBatches(schema, [batch])),
        'INVALID_DATA',
        message,
      )
      await w.abort()
    }
    assert.equal((await DeltaTable.open(uri)).version, 0)
    assert.deepEqual(
      rows(await readDelta(uri)).map((r) => r.s),
      ['a', 'b'],
    )
  })

  it('zoopipe appends to a table Python created, and Python reads the result', async () => {
    const uri = scratch('py-created')
    fs.cpSync(fixture('partitioned'), uri, { recursive: true })
    await writeDelta(uri, [{ id: 1000, part: 'new/part', bucket: 1, amount: 1.5 }])
    const theirs = rows(pyRead(uri))
    assert.equal(theirs.length, 71)
    assert.deepEqual(theirs, rows(await readDelta(uri)))
  })
})

describe('parallel writers for large plain appends', () => {
  const cores = os.availableParallelism()
  const committedFiles = async (uri) => (await (await DeltaTable.open(uri)).files()).map((f) => f.path).sort()
  it('a write of several runs commits one version of one file per writer; zoopipe and Python read every row', async () => {
    const uri = scratch('parallel')
    const n = 2 * RUN + 1000
    const created = await writeDelta(uri, big(0, n))
    assert.equal(created.version, 0)
    assert.equal(created.numRows, n)
    assert.equal(created.numFiles, Math.min(cores, 3))
    const appended = await writeDelta(uri, big(n, n))
    assert.deepEqual([appended.version, appended.numRows, appended.numFiles], [1, n, Math.min(cores, 3)])
    assert.deepEqual(dataFiles(uri), await committedFiles(uri))
    const ours = await readDelta(uri)
    assert.equal(ours.numRows, 2 * n)
    const [id, x, name] = idColumns(ours)
    assert.deepEqual(
      id,
      Array.from({ length: 2 * n }, (_, i) => i),
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
  })

  it('a large partitioned write (by a dictionary-encoded column) writes one file per partition value in one version; Python reads every row', async () => {
    const uri = scratch('parallel-parted')
    const n = 2 * RUN + 1000
    // The partition column is dictionary-encoded, as apache-arrow makes string vectors.
    const withPart = (t) =>
      new Table({
        ...Object.fromEntries(['id', 'x', 'name'].map((c) => [c, t.getChild(c)])),
        part: vectorFromArray(Array.from(t.getChild('id'), (id) => `p${id % 4}`)),
      })
    const created = await writeDelta(uri, withPart(big(0, n)), { partitionBy: ['part'] })
    assert.deepEqual([created.version, created.numRows, created.numFiles], [0, n, 4])
    const appended = await writeDelta(uri, withPart(big(n, n)))
    assert.deepEqual([appended.version, appended.numRows, appended.numFiles], [1, n, 4])
    assert.deepEqual(dataFiles(uri), await committedFiles(uri))
    assert.deepEqual(
      fs
        .readdirSync(uri)
        .filter((d) => d.startsWith('part='))
        .sort(),
      ['part=p0', 'part=p1', 'part=p2', 'part=p3'],
    )
    const ours = await readDelta(uri)
    const [id, x, name] = idColumns(ours)
    assert.deepEqual(
      id,
      Array.from({ length: 2 * n }, (_, i) => i),
    )
    assert.deepEqual(
      x,
      id.map((v) => v / 4),
    )
    assert.deepEqual(
      name,
      id.map((v) => `n${v}`),
    )
    const parts = (t) =>
      Array.from(t.getChild('id'), Number)
        .map((v, i) => [v, t.getChild('part').get(i)])
        .sort((a, b) => a[0] - b[0])
    assert.ok(parts(ours).every(([v, p]) => p === `p${v % 4}`))
    const theirs = pyRead(uri)
    assert.deepEqual(idColumns(theirs), [id, x, name])
    assert.deepEqual(parts(theirs), parts(ours))
    assert.equal((await readDelta(uri, { filter: [['part', '=', 'p2']] })).numRows, n / 2)
  })

  it('the parallel writers give every file its stats: rows, min, max and nulls of the data columns, as many columns as delta.dataSkippingNumIndexedCols says', async () => {
    const n = 2 * RUN + 1000
    const statsOf = (uri, version = 0) =>
      fs
        .readFileSync(path.join(uri, '_delta_log', logFiles(uri)[version]), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
        .filter((a) => a.add)
        .map((a) => ({ part: a.add.partitionValues.part, ...JSON.parse(a.add.stats) }))
    const withPart = (t) =>
      new Table({
        ...Object.fromEntries(['id', 'x', 'name'].map((c) => [c, t.getChild(c)])),
        part: vectorFromArray(Array.from(t.getChild('id'), (id) => `p${id % 2}`)),
      })
    const uri = scratch('parallel-stats')
    await writeDelta(uri, withPart(big(0, n)), { partitionBy: ['part'] })
    const stats = statsOf(uri)
    assert.deepEqual(stats.map((s) => s.part).sort(), ['p0', 'p1'])
    assert.equal(
      stats.reduce((t, s) => t + s.numRecords, 0),
      n,
    )
    for (const s of stats) {
      const first = s.part === 'p0' ? 0 : 1
      const last = n - 1 - ((n - 1 - first) % 2)
      assert.deepEqual([s.minValues.id, s.maxValues.id, s.minValues.x, s.maxValues.x], [first, last, first / 4, last / 4])
      assert.deepEqual(s.nullCount, { id: 0, x: 0, name: 0 })
      assert.equal('part' in s.minValues, false)
    }
    // A table made with the setting, then a large append (the parallel writers read it from the table).
    const one = scratch('parallel-stats-one-column')
    await writeDelta(one, big(0, 10), { configuration: { 'delta.dataSkippingNumIndexedCols': '1' } })
    const appended = await writeDelta(one, big(10, n))
    assert.equal(appended.numFiles, Math.min(cores, 3))
    for (const s of statsOf(one, 1)) {
      assert.deepEqual(Object.keys(s.minValues), ['id'])
      assert.deepEqual(Object.keys(s.nullCount), ['id'])
    }
  })

  it('a large append of columns declared non-null (apache-arrow typed arrays) to nullable ones goes parallel too', async () => {
    const uri = scratch('parallel-nullable')
    await writeDelta(
      uri,
      new Table({
        id: vectorFromArray([-1], new Int32()),
        x: vectorFromArray([null], new Float64()),
        name: vectorFromArray([null], new Utf8()),
      }),
    )
    const input = big(0, 2 * RUN + 1000)
    assert.deepEqual(
      input.schema.fields.map((f) => f.nullable),
      [false, false, true],
    )
    const res = await writeDelta(uri, input)
    assert.deepEqual([res.version, res.numRows, res.numFiles], [1, 2 * RUN + 1000, Math.min(cores, 3)])
    assert.deepEqual(
      (await DeltaTable.open(uri)).schema().fields.map((f) => f.nullable),
      [true, true, true],
    )
    const [id, x] = idColumns(await readDelta(uri))
    assert.deepEqual(
      id,
      Array.from({ length: 2 * RUN + 1001 }, (_, i) => i - 1),
    )
    assert.deepEqual(x, [null, ...id.slice(1).map((v) => v / 4)])
  })

  it('a large append to a table with a CHECK constraint still enforces it', async () => {
    const uri = scratch('parallel-constraint')
    await writeDelta(uri, big(1, 10))
    await (await DeltaTable.open(uri)).alterTable.addConstraint({ id_positive: 'id > 0' })
    await rejectsWith(writeDelta(uri, big(100, 2 * RUN + 10, 2 * RUN)), 'INVALID_DATA')
    const dt = await DeltaTable.open(uri)
    assert.equal(dt.version, 1)
    assert.equal((await readDelta(uri)).numRows, 10)
  })

  it('an aborted or failed large write leaves the table and its folder as they were', async () => {
    const uri = scratch('parallel-abort')
    await writeDelta(uri, big(0, 10))
    // Everything in the folder but the log: no data file, staging file or temp file may be left.
    const entries = () =>
      fs
        .readdirSync(uri, { recursive: true })
        .filter((f) => !f.startsWith('_delta_log'))
        .sort()
    const before = entries()
    const out = new DeltaOutputAdapter(uri)
    await out.write(big(10, 3 * RUN))
    await out.abort()
    await rejectsWith(
      writeDelta(
        uri,
        (async function* () {
          yield big(10, 3 * RUN)
          throw new Error('source failed')
        })(),
      ),
      'ABORTED',
      /source failed/,
    )
    const otherColumns = new Table({ id: makeVector(new Int32Array(10)), y: makeVector(new Float64Array(10)) })
    await rejectsWith(
      writeDelta(
        uri,
        (async function* () {
          yield big(10, 3 * RUN)
          yield otherColumns
        })(),
      ),
      'SCHEMA_MISMATCH',
    )
    assert.equal((await DeltaTable.open(uri)).version, 0)
    assert.deepEqual(entries(), before)
    assert.equal((await readDelta(uri)).numRows, 10)
  })
})

describe('large native buffers are mapped while reading and streaming (ZOOPIPE_LOW_MEMORY)', () => {
  const n = 2 * RUN + 1000
  const id = Array.from({ length: n }, (_, i) => i)
  const expected = [id, id.map((v) => v / 4), id.map((v) => `n${v}`)]
  async function inFreshProcess(name, lowMemory) {
    const uri = scratch(name)
    const env = { ...process.env }
    if (lowMemory === undefined) delete env.ZOOPIPE_LOW_MEMORY
    else env.ZOOPIPE_LOW_MEMORY = lowMemory
    const { stdout } = await run(process.execPath, [path.join(here, 'workers', 'low-memory.mjs'), uri, String(n)], {
      env,
      maxBuffer: 1 << 28,
    })
    const got = JSON.parse(stdout)
    assert.equal(got.numFiles, Math.min(os.availableParallelism(), 3))
    assert.deepEqual(got.full, expected)
    assert.deepEqual(got.streamed, expected)
    return { uri, mappings: got.mappings }
  }

  it('by default a streamed write, a streaming read and a read into one table map their large buffers; a write of one table keeps malloc', async () => {
    const { mappings } = await inFreshProcess('low-memory-default', undefined)
    assert.ok(mappings.write > 0, JSON.stringify(mappings))
    assert.equal(mappings.writeOnce, 0)
    assert.ok(mappings.full > 0, JSON.stringify(mappings))
    assert.ok(mappings.streamed > 0, JSON.stringify(mappings))
  })

  it('ZOOPIPE_LOW_MEMORY=1 maps them everywhere, and Python reads what the mapped writers produced', async () => {
    const { uri, mappings } = await inFreshProcess('low-memory-always', '1')
    assert.ok(mappings.write > 0 && mappings.writeOnce > 0 && mappings.full > 0 && mappings.streamed > 0, JSON.stringify(mappings))
    assert.deepEqual(idColumns(pyRead(uri)), expected)
  })

  it('ZOOPIPE_LOW_MEMORY=0 never maps', async () => {
    const { mappings } = await inFreshProcess('low-memory-never', '0')
    assert.deepEqual(mappings, { write: 0, writeOnce: 0, full: 0, streamed: 0 })
  })
})

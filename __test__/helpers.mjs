// Shared test helpers: the Python `deltalake` peer, fixture paths and row comparison.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { it } from 'node:test'
import { fileURLToPath } from 'node:url'
import assert from 'node:assert/strict'
import {
  Binary,
  Bool,
  DataType,
  DateDay,
  DateMillisecond,
  Decimal,
  Field,
  FixedSizeBinary,
  Float16,
  Float64,
  Int32,
  Int64,
  LargeBinary,
  LargeUtf8,
  List,
  Null,
  Struct,
  Table,
  TimestampMicrosecond,
  TimestampMillisecond,
  TimestampNanosecond,
  Utf8,
  makeData,
  makeVector,
  tableFromArrays,
  tableFromIPC,
  tableFromJSON,
  vectorFromArray,
} from 'apache-arrow'
import { DeltaError } from '../index.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
export const python = process.env.ZOOPIPE_PYTHON
export const fixturesDir = process.env.ZOOPIPE_FIXTURES
export const tmpDir = process.env.ZOOPIPE_TMP
if (!python || !fixturesDir) throw new Error('run the tests with `npm test` (it prepares the Python peer and fixtures)')

export const fixture = (name) => path.join(fixturesDir, name)

/** Tables written by other engines, committed under __test__/data (see its README): a scratch copy to change. */
export function engineTable(name) {
  const p = scratch(name)
  fs.cpSync(path.join(here, 'data', name), p, { recursive: true })
  return p
}

/** What a table with deletion vectors holds: Databricks wrote values 0..9, then deleted 0 and 9. */
export const DV_TABLE = 'table-with-dv-small'

/** A table Databricks wrote with INT96 timestamps past 2262; INT96_BIG_DATES: its BIG_DATE per SOME_VALUE. */
export const INT96_TABLE = 'table_with_edge_timestamps'
export const INT96_BIG_DATES = { 1: '9999-12-31T00:00:00.000Z', 2: '9999-12-30T00:00:00.000Z' }
/** [SOME_VALUE, BIG_DATE as ISO, NORMAL_DATE as ISO] of each row, by SOME_VALUE. */
export const int96Rows = (table) =>
  [...table]
    .map((r) => [Number(r.SOME_VALUE), new Date(Number(r.BIG_DATE)).toISOString(), new Date(Number(r.NORMAL_DATE)).toISOString()])
    .sort((a, b) => a[0] - b[0])

let counter = 0
export function scratch(name) {
  const p = path.join(tmpDir, 'scratch', `${process.pid}-${counter++}-${name}`)
  fs.mkdirSync(path.dirname(p), { recursive: true })
  return p
}

/** Run a Python script from __test__/py and return its stdout as a Buffer. */
export function py(script, ...args) {
  const res = spawnSync(python, [path.join(here, 'py', script), ...args], { maxBuffer: 1 << 30 })
  if (res.status !== 0) throw new Error(`python ${script} failed: ${res.stderr}`)
  return res.stdout
}

/** The table as Python `deltalake` reads it (an apache-arrow Table). */
export function pyRead(tablePath, opts = {}) {
  return tableFromIPC(py('read_table.py', tablePath, JSON.stringify(opts)))
}

/** The table as DuckDB's delta extension reads it (an apache-arrow Table); `store` as duck_read.py takes it. */
export function duckRead(tablePath, store) {
  return tableFromIPC(py('duck_read.py', tablePath, ...(store ? [JSON.stringify(store)] : [])))
}

function canon(v) {
  if (v === null || v === undefined) return null
  if (typeof v === 'bigint') return v.toString()
  if (v instanceof Date) return v.toISOString()
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex')
  if (ArrayBuffer.isView(v)) return Array.from(v, canon)
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v
  if (Array.isArray(v)) return v.map(canon)
  if (typeof v === 'object') {
    // apache-arrow Vectors: iterate (toArray() on numeric vectors drops validity, nulls become 0)
    if (typeof v.get === 'function' && 'type' in v && typeof v[Symbol.iterator] === 'function') return Array.from(v, canon)
    if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [k, canon(x)]))
    if (typeof v.toJSON === 'function') return canon(v.toJSON())
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, canon(x)]))
  }
  return v
}

/** Rows of an apache-arrow Table as plain comparable objects, in a stable order. */
export function rows(table, { sort = true } = {}) {
  const out = []
  for (const row of table) out.push(canon(row.toJSON()))
  const key = (r) => JSON.stringify(r)
  return sort ? out.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)) : out
}

export const columnNames = (table) => table.schema.fields.map((f) => f.name)

/**
 * Column types as comparable text, after the differences two correct readers may have: large and
 * view variants of strings, binary and lists are the plain ones (Arrow representations of the same
 * Delta type), and a UTC zone may be spelled '+00:00' or 'Etc/UTC'. Everything else — integer width
 * and sign, float width, decimal precision and scale, timestamp unit, zone or none — must match.
 */
export function columnTypes(table) {
  return table.schema.fields.map((f) => [
    f.name,
    String(f.type)
      .replace(/LargeUtf8|Utf8View/g, 'Utf8')
      .replace(/LargeBinary|BinaryView/g, 'Binary')
      .replace(/LargeList/g, 'List')
      .replace(/\+00:00|Etc\/UTC/g, 'UTC'),
  ])
}

/** The fields `export interface name` declares in .d.ts `text` (not an index signature), each with
 *  whether it is optional. */
export function declaredFields(text, name) {
  const m = new RegExp(`export interface ${name} (?:extends [^{]+)?\\{([\\s\\S]*?)\\n\\}`).exec(text)
  assert.ok(m, `interface ${name} is declared`)
  return [...m[1].matchAll(/^ {2}(?:readonly )?([a-zA-Z]+)(\??):/gm)].map(([, field, q]) => ({ field, optional: q === '?' }))
}

/** Every field `interface name` of index.d.ts declares (not its index signature) is on `obj`. */
export function assertDeclaredFields(obj, name) {
  const text = fs.readFileSync(path.join(here, '..', 'index.d.ts'), 'utf8')
  for (const { field, optional } of declaredFields(text, name))
    if (!optional) assert.ok(field in obj, `${name}.${field} is declared in index.d.ts but missing from ${JSON.stringify(obj)}`)
}

/** Two readers' tables are the same: column names and types (see columnTypes), then rows. */
export function assertSameTable(actual, expected, what = '') {
  assert.deepEqual(columnTypes(actual), columnTypes(expected), `${what} column types`)
  assert.deepEqual(rows(actual), rows(expected), `${what} rows`)
}

/** Rows { id, name: `n${id}`, ...extra } for the given ids. */
export const people = (ids, extra = {}) => ids.map((id) => ({ id, name: `n${id}`, ...extra }))

/** Assert that `p` rejects with a DeltaError of `code` (and a message matching `re`). */
export const rejectsWith = (p, code, re) =>
  assert.rejects(p, (e) => {
    assert.ok(e instanceof DeltaError, `expected DeltaError, got ${e}`)
    assert.equal(e.code, code, e.message)
    if (re) assert.match(e.message, re)
    return true
  })

/** Filters on the `partitioned` fixture and the rows each must select (read and slim tests share them). */
export const partitionFilterCases = [
  [[['part', '=', 'a/b']], (r) => r.part === 'a/b'],
  [[['part', '=', null]], (r) => r.part === null],
  [[['part', '!=', 'plain']], (r) => r.part !== null && r.part !== 'plain'],
  [[['part', 'in', ['x=y', '100%', null]]], (r) => ['x=y', '100%', null].includes(r.part)],
  [[['part', 'not in', ['x=y', 'with space']]], (r) => r.part !== null && !['x=y', 'with space'].includes(r.part)],
  [
    [
      ['part', '=', 'ünïcødé'],
      ['bucket', '>=', 1],
    ],
    (r) => r.part === 'ünïcødé' && Number(r.bucket) >= 1,
  ],
  [
    [
      ['bucket', 'in', [0, 2]],
      ['amount', '<', 300],
    ],
    (r) => ['0', '2'].includes(r.bucket) && r.amount < 300,
  ],
]

/**
 * Filters on the `row_groups` fixtures (one file of four 1,000-row groups, id 0..3999 in order, ts =
 * 2024-01-01 + id minutes stored as milliseconds, dec = id / 100) and the ids each selects. The first
 * three only need row groups 0..2, so they read `row_groups_broken` (its last group is garbage) too.
 */
const rowGroupCases = [
  [[['id', '<', 1000]], [0, 1000], 'skips'],
  [
    [
      ['id', '>=', 1500],
      ['id', '<', 1600],
    ],
    [1500, 1600],
    'skips',
  ],
  [[['dec', '<', '25.00']], [0, 2500], 'skips'],
  [[['ts', '>=', new Date('2024-01-03T00:00:00Z')]], [2880, 4000]],
  [[['ts', '<', '2024-01-01T01:00:00Z']], [0, 60]],
  [[['id', '>', 3500]], [3501, 4000]],
]

/** The sorted ids `uri` reads (numbers). */
export async function readIds(readDelta, uri, opts) {
  return rows(await readDelta(uri, opts))
    .map((r) => Number(r.id))
    .sort((a, b) => a - b)
}

/** The integers from..to-1. */
export const range = (from, to) => Array.from({ length: to - from }, (_, i) => from + i)

/** Filtering inside a file's read (row groups by stats, the other columns only for rows that pass): the full and slim suites share these. */
/** A table of people 1-3 then 4 whose protocol then lists vacuumProtocolCheck, as Databricks sets it (committed by hand: no peer here writes it). */
function vacuumProtocolCheckTable(writeDelta) {
  return (async () => {
    const uri = scratch('vacuum-protocol')
    await writeDelta(uri, people([1, 2, 3]))
    await writeDelta(uri, people([4]), { mode: 'append' })
    const features = ['vacuumProtocolCheck']
    const protocol = { minReaderVersion: 3, minWriterVersion: 7, readerFeatures: features, writerFeatures: features }
    const commitInfo = { timestamp: Date.now(), operation: 'SET TBLPROPERTIES', operationParameters: {} }
    fs.writeFileSync(
      path.join(uri, '_delta_log', '00000000000000000002.json'),
      `${JSON.stringify({ commitInfo })}\n${JSON.stringify({ protocol })}\n`,
    )
    return uri
  })()
}

/**
 * Tables with the reader/writer feature vacuumProtocolCheck. Its only rule is that vacuum checks the
 * protocol first, which zoopipe's does, so reads and zoopipe's own writes (appends, overwrites,
 * coordinator commits) work in both builds; delta-rs's own commits (DML, optimize, vacuum) still
 * refuse it, since delta-rs 1.1 does not list the feature. Both builds run these.
 */
export function vacuumProtocolCheckTests({ readDelta, writeDelta, DeltaTable, DeltaWriter, DeltaCoordinator, dml }) {
  it('reads a table whose protocol lists vacuumProtocolCheck (as Databricks sets it): whole, projected, filtered (AND and OR) and at an earlier version', async () => {
    const uri = await vacuumProtocolCheckTable(writeDelta)
    assert.deepEqual(await readIds(readDelta, uri), [1, 2, 3, 4])
    assert.deepEqual(await readIds(readDelta, uri, { filter: [['id', '>', 2]] }), [3, 4])
    assert.deepEqual(await readIds(readDelta, uri, { filter: [[['id', '=', 1]], [['name', '=', 'n4']]] }), [1, 4])
    const names = await readDelta(uri, { columns: ['name'] })
    assert.deepEqual(
      names.schema.fields.map((f) => f.name),
      ['name'],
    )
    assert.deepEqual(
      rows(names)
        .map((r) => r.name)
        .sort(),
      ['n1', 'n2', 'n3', 'n4'],
    )
    assert.deepEqual(await readIds(readDelta, uri, { version: 0 }), [1, 2, 3])
  })

  it('writes to it: appends, a coordinator commit and an overwrite land, the protocol keeps the feature, DuckDB reads the same rows; vacuum (which checks the protocol first) deletes what the overwrite removed', async () => {
    const uri = await vacuumProtocolCheckTable(writeDelta)
    assert.equal((await writeDelta(uri, people([5]), { mode: 'append' })).version, 3)
    const w = new DeltaWriter(uri)
    await w.write(people([8]))
    assert.equal((await new DeltaCoordinator(uri).commit(await w.finish())).version, 4)
    assert.deepEqual(await readIds(readDelta, uri), [1, 2, 3, 4, 5, 8])
    assertSameTable(duckRead(uri), await readDelta(uri), uri)
    const dt = await DeltaTable.open(uri)
    assert.deepEqual([dt.protocol().readerFeatures, dt.protocol().writerFeatures], [['vacuumProtocolCheck'], ['vacuumProtocolCheck']])
    if (dml) await rejectsWith(dt.delete('id = 1'), 'UNSUPPORTED_FEATURE', /VacuumProtocolCheck/)
    assert.equal((await writeDelta(uri, people([9]), { mode: 'overwrite' })).version, 5)
    assert.deepEqual(await readIds(readDelta, uri), [9])
    assert.deepEqual(await readIds(readDelta, uri, { version: 4 }), [1, 2, 3, 4, 5, 8])
    assert.deepEqual(await readIds(readDelta, uri, { version: 2 }), [1, 2, 3, 4])
    const parquet = () => fs.readdirSync(uri).filter((f) => f.endsWith('.parquet')).length
    assert.equal(parquet(), 5)
    const latest = await DeltaTable.open(uri)
    const vacuum = { retentionHours: 0, enforceRetentionDuration: false }
    const dry = await latest.vacuum(vacuum)
    assert.deepEqual([dry.dryRun, dry.filesDeleted.length, parquet(), latest.version], [true, 4, 5, 5])
    const done = await latest.vacuum({ ...vacuum, dryRun: false })
    assert.deepEqual([done.dryRun, [...done.filesDeleted].sort(), parquet()], [false, [...dry.filesDeleted].sort(), 1])
    const [end, start] = await (await DeltaTable.open(uri)).history()
    assert.deepEqual(
      [
        start.version,
        start.operation,
        start.operationMetrics.num_files_to_delete,
        end.version,
        end.operation,
        end.operationMetrics.num_deleted_files,
      ],
      [6, 'VACUUM START', 4, 7, 'VACUUM END', 4],
    )
    assert.deepEqual(await readIds(readDelta, uri), [9])
    // Nothing past the default 7-day retention: a real vacuum deletes nothing, commits nothing, and
    // says it was no dry run.
    const again = await DeltaTable.open(uri)
    assert.deepEqual(await again.vacuum({ dryRun: false }), { dryRun: false, filesDeleted: [] })
    assert.deepEqual([again.version, again.protocol().writerFeatures], [7, ['vacuumProtocolCheck']])
  })
}

export function fileFilterTests(readDelta) {
  it('reads only the row groups whose stats can match the filter', async () => {
    // One file of four row groups; in the broken copy the last one is garbage, so a read that
    // opened it would fail. Timestamps there are stored as milliseconds, not Delta's microseconds.
    await rejectsWith(readDelta(fixture('row_groups_broken')), 'INVALID_DATA')
    for (const [filter, [from, to], skips] of rowGroupCases) {
      const want = range(from, to)
      assert.deepEqual(await readIds(readDelta, fixture('row_groups'), { filter }), want, JSON.stringify(filter))
      if (skips) assert.deepEqual(await readIds(readDelta, fixture('row_groups_broken'), { filter }), want, JSON.stringify(filter))
    }
  })

  it('decodes the other columns only for the rows that pass the filter', async () => {
    // The note column is invalid UTF-8 from id 3000 on: decoding those rows of it fails.
    await rejectsWith(readDelta(fixture('bad_pages')), 'INVALID_DATA', /UTF-8/)
    const minute = (i) => new Date(Date.UTC(2024, 0, 1) + i * 60_000)
    const cases = [
      [0, 1000, [['id', '<', 1000]]],
      [
        1500,
        1600,
        [
          ['id', '>=', 1500],
          ['id', '<', 1600],
        ],
      ],
      [
        200,
        2999,
        [
          ['ts', '>=', minute(200)],
          ['ts', '<', minute(2999)],
        ],
      ],
    ]
    for (const [from, to, filter] of cases) {
      const got = rows(await readDelta(fixture('bad_pages'), { columns: ['id', 'note'], filter })).sort(
        (a, b) => Number(a.id) - Number(b.id),
      )
      assert.deepEqual(
        got,
        range(from, to).map((i) => ({ id: String(i), note: `note ${i}` })),
        JSON.stringify(filter),
      )
    }
  })

  it('a read of no columns or only partition columns reads no column of the files and counts the rows (the slim build panicked)', async () => {
    // 70 rows partitioned by part (7 values, one null) and bucket (0..2).
    const parted = fixture('partitioned')
    const none = await readDelta(parted, { columns: [] })
    assert.deepEqual([none.numRows, none.numCols], [70, 0])
    const parts = await readDelta(parted, { columns: ['bucket', 'part'], filter: [['bucket', '=', 1]] })
    assert.deepEqual(
      parts.schema.fields.map((f) => f.name),
      ['bucket', 'part'],
    )
    assert.equal(parts.numRows, range(0, 70).filter((i) => i % 3 === 1).length)
    assert.equal((await readDelta(parted, { columns: ['part'], filter: [['amount', '>=', 600]] })).numRows, 10)
    // Rows a deletion vector removed are not counted.
    const dv = engineTable(DV_TABLE)
    assert.deepEqual(
      [(await readDelta(dv, { columns: [] })).numRows, (await readDelta(dv, { columns: [], filter: [['value', '>', 5]] })).numRows],
      [8, 3],
    )
  })
}

/**
 * Filter values as JS code has them: epoch-millisecond numbers (`Date.now()`, `getTime()`) and
 * `Date`s on timestamp and date columns, bigints on long columns, 'true'/'false' text on booleans
 * (delta-rs writes partition filters as text). Values that cannot mean anything against the
 * column are INVALID_ARGUMENT, never a planner error or a silent cast. Both builds run these.
 */
export function filterValueTests({ writeDelta, readDelta }) {
  it('numbers on time columns are epoch milliseconds, bigints and text compare with their columns, nonsense is refused', async () => {
    const uri = scratch('filter-values')
    const at = (i) => Date.UTC(2024, 0, 1 + i, 12)
    await writeDelta(
      uri,
      new Table({
        id: vectorFromArray([0n, 1n, 2n, 3n]),
        ts: vectorFromArray(
          [0, 1, 2, 3].map((i) => new Date(at(i))),
          new TimestampMicrosecond('UTC'),
        ),
        day: vectorFromArray(
          [0, 1, 2, 3].map((i) => new Date(at(i))),
          new DateDay(),
        ),
        ok: vectorFromArray([true, false, null, true], new Bool()),
      }),
    )
    const ids = (filter) => readIds(readDelta, uri, { filter })
    assert.deepEqual(await ids([['ts', '>', at(1)]]), [2, 3])
    assert.deepEqual(
      await ids([
        ['ts', '>=', at(1)],
        ['ts', '<', new Date(at(3))],
      ]),
      [1, 2],
    )
    assert.deepEqual(await ids([['ts', 'in', [at(0), at(3), null]]]), [0, 3])
    assert.deepEqual(await ids([['day', '>=', Date.UTC(2024, 0, 3)]]), [2, 3])
    assert.deepEqual(await ids([['day', '=', at(1)]]), await ids([['day', '=', new Date(at(1))]]))
    assert.deepEqual(await ids([['id', '=', 2n]]), [2])
    assert.deepEqual(await ids([['id', 'in', [1n, 3]]]), [1, 3])
    assert.deepEqual(await ids([['ok', '=', 'true']]), [0, 3])
    assert.deepEqual(
      await ids([
        ['ok', '!=', 'false'],
        ['ok', '=', true],
      ]),
      [0, 3],
    )
    for (const [filter, re] of [
      [[['ts', '>', at(1) + 0.5]], /cannot be compared with column 'ts'.*epoch milliseconds/],
      [[['ok', '=', 1]], /value 1 cannot be compared with column 'ok'/],
      [[['id', '=', true]], /value true cannot be compared with column 'id'/],
      [[['ok', '=', 'maybe']], /cannot be compared with column 'ok'/],
      [[['id', '>', Number.NaN]], /NaN is not a finite number/],
    ])
      await rejectsWith(readDelta(uri, { filter }), 'INVALID_ARGUMENT', re)
  })

  it('struct, list and map columns compare only with null; a value for them is INVALID_ARGUMENT in both builds', async () => {
    const uri = scratch('filter-nested')
    await writeDelta(uri, [
      { id: 0, s: { a: 1 }, tags: ['q'] },
      { id: 1, s: null, tags: null },
      { id: 2, s: { a: 2 }, tags: [] },
    ])
    const ids = (filter) => readIds(readDelta, uri, { filter })
    assert.deepEqual(await ids([['s', '=', null]]), [1])
    assert.deepEqual(await ids([['tags', '!=', null]]), [0, 2])
    // The full build's DataFusion compared the list with 'q' as the list ['q'] (id 0), and failed to plan the struct.
    for (const filter of [[['tags', '=', 'q']], [['s', '=', 1]], [['tags', 'in', ['q']]]]) {
      await rejectsWith(
        readDelta(uri, { filter }),
        'INVALID_ARGUMENT',
        new RegExp(`column '${filter[0][0]}' is .*: filters compare values of scalar columns`),
      )
    }
  })

  it('bytes (Buffer, Uint8Array) compare with binary columns; a decimal value compares exactly, never rounded to the column', async () => {
    const uri = scratch('filter-bytes-decimal')
    const dec = (units) => new Uint32Array([units, 0, 0, 0])
    await writeDelta(
      uri,
      new Table({
        id: vectorFromArray([0, 1, 2], new Int32()),
        b: vectorFromArray([Uint8Array.of(1), Uint8Array.of(2, 255), null], new Binary()),
        d: vectorFromArray([dec(123), dec(250), dec(5)], new Decimal(2, 10, 128)),
      }),
    )
    const ids = (filter) => readIds(readDelta, uri, { filter })
    assert.deepEqual(await ids([['b', '=', Buffer.from([2, 255])]]), [1])
    assert.deepEqual(await ids([['b', 'in', [Uint8Array.of(1), new Uint8Array([9, 2, 255]).subarray(1)]]]), [0, 1])
    assert.deepEqual(await ids([['b', '!=', Uint8Array.of(1)]]), [1])
    await rejectsWith(
      readDelta(uri, { filter: [['id', '=', Uint8Array.of(1)]] }),
      'INVALID_ARGUMENT',
      /cannot be compared with column 'id'/,
    )
    assert.deepEqual(await ids([['d', '=', 1.23]]), [0])
    assert.deepEqual(await ids([['d', '>', '1.5']]), [1])
    assert.deepEqual(await ids([['d', 'in', [2.5, 0.05]]]), [1, 2])
    // 1.234 is no value of decimal(10,2): the full build matches nothing, the slim build (which
    // refuses values its column cannot hold, as a fraction against an integer column) says so.
    if (process.env.ZOOPIPE_VARIANT === 'slim')
      await rejectsWith(
        readDelta(uri, { filter: [['d', '=', 1.234]] }),
        'INVALID_ARGUMENT',
        /value 1\.234 cannot be compared with column 'd'/,
      )
    else assert.deepEqual(await ids([['d', '=', 1.234]]), [])
  })

  it('NaN matches no range (> and >=), whatever file it is in: arrow compares NaN above every number, stats leave it out', async () => {
    const uri = scratch('filter-nan')
    // NaN in a file whose stats (max 1) prune it for x > 2, and in a file whose stats (max 5) do not
    await writeDelta(uri, [
      { id: 0, x: 1 },
      { id: 1, x: Number.NaN },
    ])
    await writeDelta(uri, [
      { id: 2, x: 3 },
      { id: 3, x: Number.NaN },
      { id: 4, x: 5 },
    ])
    const ids = (filter) => readIds(readDelta, uri, { filter })
    assert.deepEqual(await ids([['x', '>', 2]]), [2, 4])
    assert.deepEqual(await ids([['x', '>=', 3]]), [2, 4])
    // and != / not in match it, even in a file whose stats (NaN left out) say every value is the one refused
    await writeDelta(uri, [
      { id: 5, x: 7 },
      { id: 6, x: Number.NaN },
    ])
    assert.deepEqual(await ids([['x', '!=', 7]]), [0, 1, 2, 3, 4, 6])
    assert.deepEqual(await ids([['x', 'not in', [7, 1]]]), [1, 2, 3, 4, 6])
  })

  it("a filtered read returns each row's own values where a file's stats say min = max (they leave NaN out; Spark's keep milliseconds)", async () => {
    // DataFusion took such a column for that constant: the NaN below was read as 1
    const nan = scratch('filter-constant-nan')
    await writeDelta(nan, [
      { id: 0, x: 1 },
      { id: 1, x: Number.NaN },
    ])
    const xs = async (filter) => rows(await readDelta(nan, { filter })).map((r) => String(r.x))
    assert.deepEqual(await xs([['x', '<', 10]]), ['1'])
    assert.deepEqual(await xs([['x', '!=', 3]]), ['1', 'NaN'])
    // a one-row file whose timestamp stats are cut to the millisecond, as Spark writes them
    const spark = scratch('filter-constant-ms')
    await writeDelta(spark, [{ id: 0, at: '2024-01-01T10:00:00.123456Z' }])
    const log = path.join(spark, '_delta_log', '00000000000000000000.json')
    fs.writeFileSync(log, fs.readFileSync(log, 'utf8').replaceAll('10:00:00.123456Z', '10:00:00.123Z'))
    const at = (await readDelta(spark, { filter: [['at', '>', '2020-01-01']] })).getChild('at').get(0)
    assert.equal(String(at), String((await readDelta(spark)).getChild('at').get(0)))
    assert.equal(rows(pyRead(spark)).length, 1)
  })
}

/**
 * Writes that get no rows: an append commits nothing, an overwrite empties the table (as Spark and
 * Python `deltalake` do), an empty apache-arrow table creates a new table with its schema. Both
 * builds run these.
 */
export function emptyInputWriteTests({ writeDelta, readDelta, DeltaTable, DeltaOutputAdapter, DeltaWriter }) {
  it('no rows: an append commits nothing, an overwrite empties the table, an empty apache-arrow table creates one', async () => {
    const uri = scratch('empty')
    await writeDelta(uri, people([1, 2]))
    const empty = new Table({ id: makeVector(new BigInt64Array(0)), name: vectorFromArray([], new Utf8()) })
    assert.deepEqual(await writeDelta(uri, []), { version: 0, numFiles: 0, numRows: 0, numBytes: 0 })
    assert.deepEqual(await writeDelta(uri, empty), { version: 0, numFiles: 0, numRows: 0, numBytes: 0 })
    assert.equal((await readDelta(uri)).numRows, 2)
    assert.deepEqual(await writeDelta(uri, [], { mode: 'overwrite' }), { version: 1, numFiles: 0, numRows: 0, numBytes: 0 })
    assert.equal((await readDelta(uri)).numRows, 0)
    assert.equal(pyRead(uri).numRows, 0)
    assert.deepEqual((await readDelta(uri, { version: 0 })).numRows, 2)
    await writeDelta(uri, people([3]))
    assert.deepEqual(await new DeltaOutputAdapter(uri, { mode: 'overwrite' }).close(), { version: 3, numFiles: 0, numRows: 0, numBytes: 0 })
    await writeDelta(uri, people([4]))
    assert.equal((await writeDelta(uri, empty, { mode: 'overwrite' })).version, 5)
    assert.equal((await readDelta(uri)).numRows, 0)
    assert.deepEqual(
      (await readDelta(uri)).schema.fields.map((f) => f.name),
      ['id', 'name'],
    )

    const fresh = scratch('empty-new')
    assert.deepEqual(await writeDelta(fresh, []), { version: null, numFiles: 0, numRows: 0, numBytes: 0 })
    assert.ok(!(await DeltaTable.isDeltaTable(fresh)))
    assert.deepEqual(await writeDelta(fresh, empty, { partitionBy: ['name'] }), { version: 0, numFiles: 0, numRows: 0, numBytes: 0 })
    const dt = await DeltaTable.open(fresh)
    assert.deepEqual(
      dt.schema().fields.map((f) => `${f.name}:${f.type}`),
      ['id:Int64', 'name:Utf8'],
    )
    assert.deepEqual(dt.metadata().partitionColumns, ['name'])
    assert.deepEqual(
      pyRead(fresh).schema.fields.map((f) => f.name),
      ['id', 'name'],
    )
    await writeDelta(fresh, people([5]))
    assert.deepEqual(
      rows(await readDelta(fresh)).map((r) => r.id),
      ['5'],
    )

    const w = new DeltaWriter(uri)
    await w.write(empty)
    assert.deepEqual(await w.finish(), [])
  })
}

/**
 * Writers racing to create one table: one creates it, the others fail with COMMIT_CONFLICT and
 * commit nothing (delta-rs 1.1 committed the losers' CREATE TABLE again as version 1, replacing
 * the winner's schema). Both builds run these.
 */
export function createRaceTests({ writeDelta, readDelta }) {
  it("writers racing to create a table: one creates it, the others are COMMIT_CONFLICT, the schema is the winner's", async () => {
    let raced = 0
    for (let round = 0; round < 5; round++) {
      const uri = scratch('create-race')
      const results = await Promise.allSettled([1, 2, 3].map((i) => writeDelta(uri, [{ id: i, [`c${i}`]: 'x' }])))
      const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i + 1] : []))
      assert.equal(won.length, 1, JSON.stringify(results.map((r) => r.reason?.message)))
      // A loser either lost the race for version 0 itself (COMMIT_CONFLICT: it had found no table)
      // or started after the creation and found the winner's table, where its column is new
      // (SCHEMA_MISMATCH: the schemas really differ). The rounds must show the race itself.
      for (const r of results)
        if (r.status === 'rejected') {
          assert.ok(['COMMIT_CONFLICT', 'SCHEMA_MISMATCH'].includes(r.reason.code), r.reason.message)
          if (r.reason.code === 'COMMIT_CONFLICT') raced++
        }
      const log = fs.readdirSync(path.join(uri, '_delta_log')).filter((f) => f.endsWith('.json'))
      assert.deepEqual(log, ['00000000000000000000.json'])
      assert.deepEqual(rows(await readDelta(uri)), [{ id: String(won[0]), [`c${won[0]}`]: 'x' }])
    }
    assert.ok(raced > 0, 'in no round did two writers race for version 0')
  })
}

/**
 * A coordinator's append that loses to a concurrent commit removing data (an overwrite, a delete)
 * commits on top of it, as Delta's default WriteSerializable isolation allows a blind append; a
 * table that asks for Serializable isolation keeps the conflict. The coordinator is held between
 * reading the table and committing (ZOOPIPE_TEST_PAUSE_BEFORE_COMMIT_MS) while the other commit
 * lands. Both builds run these.
 */
export function coordinatorRaceTests({ writeDelta, readDelta, DeltaTable, DeltaWriter, DeltaCoordinator }) {
  it('a coordinator append commits on top of a concurrent overwrite (WriteSerializable); with Serializable isolation it is COMMIT_CONFLICT', async () => {
    const race = async (uri, options = {}, meanwhile = async () => {}) => {
      const w = new DeltaWriter(uri)
      await w.write(people([10, 11]))
      const files = await w.finish()
      process.env.ZOOPIPE_TEST_PAUSE_BEFORE_COMMIT_MS = '1500'
      try {
        const committing = new DeltaCoordinator(uri).commit(files, { commitProperties: { appId: 'ingest', appVersion: 1 }, ...options })
        await new Promise((resolve) => setTimeout(resolve, 500))
        await writeDelta(uri, people([4]), { mode: 'overwrite' })
        await meanwhile()
        return await committing
      } finally {
        delete process.env.ZOOPIPE_TEST_PAUSE_BEFORE_COMMIT_MS
      }
    }
    const uri = scratch('coordinator-rebase')
    await writeDelta(uri, people([1, 2, 3]))
    // delta-rs alone: "a concurrent transaction deleted data this operation read" (nothing was read).
    assert.equal((await race(uri)).version, 2)
    assert.deepEqual(await readIds(readDelta, uri), [4, 10, 11])
    const [appended, overwritten] = await (await DeltaTable.open(uri)).history()
    assert.deepEqual(
      [appended.version, appended.operationParameters.mode, overwritten.operationParameters.mode],
      [2, 'Append', 'Overwrite'],
    )
    // Idempotent still: the same job again commits nothing.
    const again = new DeltaWriter(uri)
    await again.write(people([10, 11]))
    assert.equal(
      (await new DeltaCoordinator(uri).commit(await again.finish(), { commitProperties: { appId: 'ingest', appVersion: 1 } })).version,
      2,
    )

    // maxRetries: 0 asks for no second attempt of any kind.
    const once = scratch('coordinator-no-retries')
    await writeDelta(once, people([1]))
    await rejectsWith(
      race(once, { maxRetries: 0 }),
      'COMMIT_CONFLICT',
      /another writer committed the next version first, and maxRetries 0 allows no retry/,
    )
    assert.deepEqual(await readIds(readDelta, once), [4])

    // A column added meanwhile too: the files no longer fit the table, which is a conflict.
    const widened = scratch('coordinator-widened')
    await writeDelta(widened, people([1]))
    const addAge = async () => (await DeltaTable.open(widened)).alterTable.addColumns([new Field('age', new Int32(), true)])
    await rejectsWith(
      race(widened, {}, addAge),
      'COMMIT_CONFLICT',
      /a concurrent commit changed the table so that these files no longer fit it/,
    )
    assert.equal((await DeltaTable.open(widened)).version, 2)

    const strict = scratch('coordinator-serializable')
    await writeDelta(strict, people([1]), { configuration: { 'delta.isolationLevel': 'Serializable' } })
    await rejectsWith(race(strict), 'COMMIT_CONFLICT', /deleted data/)
    assert.equal((await DeltaTable.open(strict)).version, 1)
    assert.deepEqual(await readIds(readDelta, strict), [4])
  })
}

/**
 * partitionBy on a write into an existing table must be the table's partitioning; otherwise
 * INVALID_ARGUMENT before anything is written (the full build's WriteBuilder said INTERNAL after
 * reading the input). Both builds run these.
 */
export function partitionByMismatchTests({ writeDelta, readDelta, DeltaOutputAdapter, DeltaWriter }) {
  it("partitionBy other than the table's is INVALID_ARGUMENT for every writer and writes nothing", async () => {
    const uri = scratch('partition-mismatch')
    await writeDelta(
      uri,
      big(0, 10)
        .toArray()
        .map((r) => ({ id: r.id, name: r.name })),
      { partitionBy: ['name'] },
    )
    const before = dataFiles(uri)
    const differs = /partitionBy \[(id)?\] differs from the table's \[name\]/
    await rejectsWith(writeDelta(uri, people([1]), { partitionBy: ['id'] }), 'INVALID_ARGUMENT', differs)
    await rejectsWith(writeDelta(uri, people([1]), { partitionBy: [] }), 'INVALID_ARGUMENT', differs)
    await rejectsWith(writeDelta(uri, people([1]), { mode: 'overwrite', partitionBy: ['id'] }), 'INVALID_ARGUMENT', differs)
    await rejectsWith(writeDelta(uri, big(0, RUN + 10).select(['id', 'name']), { partitionBy: ['id'] }), 'INVALID_ARGUMENT', differs)
    const out = new DeltaOutputAdapter(uri, { partitionBy: ['id'] })
    await rejectsWith(out.write(people([1])), 'INVALID_ARGUMENT', differs)
    const w = new DeltaWriter(uri, { partitionBy: ['id'] })
    await rejectsWith(
      (async () => {
        await w.write(people([1]))
        await w.finish()
      })(),
      'INVALID_ARGUMENT',
      differs,
    )
    assert.deepEqual(dataFiles(uri), before)
    assert.deepEqual(
      fs.readdirSync(path.join(uri, '_delta_log')).filter((f) => f.endsWith('.json')),
      ['00000000000000000000.json'],
    )
    // The same partitioning, said or left out, appends.
    await writeDelta(uri, people([20]), { partitionBy: ['name'] })
    await writeDelta(uri, people([21]))
    assert.equal((await readDelta(uri)).numRows, 12)
  })
}

/**
 * Writes of apache-arrow tables as its builders make them: strings dictionary-encoded
 * (`tableFromArrays`, `vectorFromArray`; Delta has no dictionary type), all-null columns left out
 * (`tableFromJSON`), typed arrays declared non-null, unsigned typed arrays (Delta has no unsigned
 * types). Both builds run these.
 */
export function arrowInputWriteTests({ writeDelta, readDelta, DeltaTable, DeltaWriter, DeltaCoordinator, DeltaOutputAdapter }) {
  const days = (ids, day) => tableFromArrays({ id: Int32Array.from(ids), day: ids.map(day) })
  const byId = async (uri) => rows(await readDelta(uri)).sort((a, b) => a.id - b.id)
  const expect = (ids, day) => ids.map((id) => ({ id: String(id), day: day(id) }))
  const weekday = (id) => ['mon', 'tue', 'wed'][id % 3]

  it('dictionary columns cross buffer by buffer (keys, then the dictionary): whole, with nulls and non-ASCII, and batches sharing the dictionary or sliced (sent as IPC) write the same strings', async () => {
    const strings = ['b', null, 'a', 'b', 'c', null, 'a', 'é']
    const dict = tableFromArrays({ id: Int32Array.from(strings.keys()), s: strings })
    assert.ok(DataType.isDictionary(dict.getChild('s').type))
    // Several batches that share the column's one dictionary, and a slice (offset, not sent as buffers).
    const parts = [dict.slice(0, 3), dict.slice(3, 8)]
    const chunked = new Table([...parts[0].batches, ...parts[1].batches])
    const want = strings.map((s, id) => ({ id: String(id), s }))
    for (const [name, input] of [
      ['whole', dict],
      ['batches', chunked],
      ['sliced', parts[1]],
    ]) {
      const uri = scratch(`dict-handover-${name}`)
      await writeDelta(uri, input)
      const back = await readDelta(uri)
      assert.equal(String(back.schema.fields[1].type), 'Utf8', name)
      assert.deepEqual(
        rows(back).sort((a, b) => a.id - b.id),
        name === 'sliced' ? want.slice(3) : want,
        name,
      )
    }
  })

  it('dictionary-encoded string columns partition a new table and append to string columns', async () => {
    assert.ok(DataType.isDictionary(days([1], weekday).getChild('day').type))
    const uri = scratch('dict-parted')
    await writeDelta(uri, days([0, 1, 2, 3], weekday), { partitionBy: ['day'] })
    await writeDelta(uri, days([4, 5], weekday))
    await writeDelta(
      uri,
      days([6, 7], (id) => (id === 6 ? null : 'mon')),
    )
    // A column the table lacks is refused by name, not dropped (the slim build's writer would drop it).
    const extra = tableFromArrays({ id: Int32Array.from([8]), day: ['mon'], note: ['x'] })
    await rejectsWith(writeDelta(uri, extra), 'SCHEMA_MISMATCH', /no column 'note'/)
    const dt = await DeltaTable.open(uri)
    assert.equal(dt.version, 2)
    assert.deepEqual(
      dt.schema().fields.map((f) => [f.name, String(f.type)]),
      [
        ['id', 'Int32'],
        ['day', 'Utf8'],
      ],
    )
    assert.deepEqual(dt.metadata().partitionColumns, ['day'])
    assert.deepEqual(
      fs
        .readdirSync(uri)
        .filter((d) => d.startsWith('day='))
        .sort(),
      ['day=__HIVE_DEFAULT_PARTITION__', 'day=mon', 'day=tue', 'day=wed'],
    )
    const want = [...expect([0, 1, 2, 3, 4, 5], weekday), { id: '6', day: null }, { id: '7', day: 'mon' }]
    assert.deepEqual(await byId(uri), want)
    assertSameTable(pyRead(uri), await readDelta(uri))
    // A table created with plain strings takes dictionary-encoded ones, from the adapter and from workers.
    const plain = scratch('dict-into-plain')
    await writeDelta(plain, new Table({ id: makeVector(Int32Array.from([0])), day: vectorFromArray(['sun'], new Utf8()) }))
    await writeDelta(plain, days([1, 2], weekday))
    const w = new DeltaWriter(plain)
    await w.write(days([3], weekday))
    await new DeltaCoordinator(plain).commit(await w.finish())
    assert.deepEqual(await byId(plain), [{ id: '0', day: 'sun' }, ...expect([1, 2, 3], weekday)])
  })

  it('dictionary strings are written as they are, with the files, stats and rows of the same strings as plain Utf8: parallel writers, partitioned by one of them or not, and a DeltaWriter', async () => {
    const n = 2 * RUN + 1000
    const id = Int32Array.from({ length: n }, (_, i) => i)
    const names = Array.from(id, (i) => (i % 97 === 0 ? null : `name-${(i * 7919) % 5000}`))
    const city = ['oslo', 'lima', null, 'Ōslo', `ž${'x'.repeat(40)}`]
    const cities = Array.from(id, (i) => city[i % city.length])
    const dict = tableFromArrays({ id, name: names, city: cities })
    assert.ok(DataType.isDictionary(dict.getChild('name').type))
    const plain = new Table({
      id: dict.getChild('id'),
      name: vectorFromArray(names, new Utf8()),
      city: vectorFromArray(cities, new Utf8()),
    })
    const adds = (uri) =>
      fs
        .readdirSync(path.join(uri, '_delta_log'))
        .filter((f) => f.endsWith('.json'))
        .flatMap((f) =>
          fs
            .readFileSync(path.join(uri, '_delta_log', f), 'utf8')
            .split('\n')
            .filter(Boolean),
        )
        .map((l) => JSON.parse(l).add)
        .filter(Boolean)
        .map((a) => JSON.stringify([a.partitionValues, JSON.parse(a.stats)]))
        .sort()
    const columns = async (uri) => {
      const t = await readDelta(uri)
      assert.deepEqual(Object.fromEntries(t.schema.fields.map((f) => [f.name, String(f.type)])), {
        id: 'Int32',
        name: 'Utf8',
        city: 'Utf8',
      })
      const order = [...t.getChild('id')].map((v, i) => [v, i]).sort((a, b) => a[0] - b[0])
      return ['id', 'name', 'city'].map((c) => order.map(([, i]) => t.getChild(c).get(i)))
    }
    const want = [Array.from(id), names, cities]
    for (const partitionBy of [undefined, ['city']]) {
      const [a, b] = [scratch('dict-as-is'), scratch('dict-as-is-plain')]
      await writeDelta(a, dict, { partitionBy })
      await writeDelta(b, plain, { partitionBy })
      const files = adds(a)
      assert.ok(files.length >= (partitionBy ? city.length : 2), `${files.length} files`)
      assert.deepEqual(files, adds(b), 'the same files with the same stats')
      assert.deepEqual(await columns(a), want)
      if (!partitionBy) {
        const stats = files.map((f) => JSON.parse(f)[1])
        assert.equal(
          stats.reduce((t, s) => t + s.nullCount.name, 0),
          names.filter((v) => v === null).length,
        )
        assert.deepEqual(
          stats.map((s) => [s.minValues.city, s.maxValues.city]),
          stats.map(() => ['lima', `ž${'x'.repeat(31)}\x7F`]),
          'a long bound truncated as Delta says',
        )
        const duck = duckRead(a)
        assert.equal(duck.numRows, n)
        assert.deepEqual([...duck.getChild('name')].filter((v) => v === null).length, names.filter((v) => v === null).length)
      }
    }
    const viaWriter = scratch('dict-as-is-writer')
    const w = new DeltaWriter(viaWriter, { partitionBy: ['city'] })
    await w.write(dict)
    await new DeltaCoordinator(viaWriter).commit(await w.finish())
    const viaPlain = scratch('dict-as-is-writer-plain')
    const p = new DeltaWriter(viaPlain, { partitionBy: ['city'] })
    await p.write(plain)
    await new DeltaCoordinator(viaPlain).commit(await p.finish())
    assert.deepEqual(adds(viaWriter), adds(viaPlain))
    assert.deepEqual(await columns(viaWriter), want)
  })

  it("data without some of the table's nullable columns writes nulls there; columns land by name; a missing non-null column is SCHEMA_MISMATCH", async () => {
    const uri = scratch('missing-columns')
    await writeDelta(uri, tableFromJSON([{ a: 1, s: 'x', b: true }]))
    const noB = tableFromJSON([{ a: 2, s: 'y', b: null }])
    assert.deepEqual(
      noB.schema.fields.map((f) => f.name),
      ['a', 's'],
    )
    await writeDelta(uri, noB)
    await writeDelta(uri, new Table({ b: vectorFromArray([false]), a: vectorFromArray([3], new Float64()) }))
    // A later batch of the same write may lack columns too.
    await writeDelta(
      uri,
      (async function* () {
        yield tableFromJSON([{ a: 4, s: 'z', b: true }])
        yield tableFromJSON([{ a: 5 }])
      })(),
    )
    const w = new DeltaWriter(uri)
    await w.write(tableFromJSON([{ a: 6, s: 'w' }]))
    await new DeltaCoordinator(uri).commit(await w.finish())
    const want = [
      [1, 'x', true],
      [2, 'y', null],
      [3, null, false],
      [4, 'z', true],
      [5, null, null],
      [6, 'w', null],
    ]
    const got = (t) =>
      t
        .toArray()
        .map((r) => [r.a, r.s, r.b])
        .sort((x, y) => x[0] - y[0])
    assert.deepEqual(got(await readDelta(uri)), want)
    assert.deepEqual(got(pyRead(uri)), want)
    assert.deepEqual(
      (await DeltaTable.open(uri)).schema().fields.map((f) => [f.name, String(f.type)]),
      [
        ['a', 'Float64'],
        ['s', 'Utf8'],
        ['b', 'Bool'],
      ],
    )

    const strict = scratch('missing-non-null')
    await writeDelta(strict, new Table({ id: makeVector(Int32Array.from([1])), name: vectorFromArray(['a'], new Utf8()) }))
    const nameOnly = new Table({ name: vectorFromArray(['b'], new Utf8()) })
    await rejectsWith(writeDelta(strict, nameOnly), 'SCHEMA_MISMATCH', /lacks the table's column 'id'/)
    const w2 = new DeltaWriter(strict)
    await rejectsWith(w2.write(nameOnly), 'SCHEMA_MISMATCH', /'id'/)
    assert.equal((await DeltaTable.open(strict)).version, 0)
    assert.deepEqual(rows(await readDelta(strict)), [{ id: '1', name: 'a' }])
  })

  it('unsigned integer columns (Uint8Array ... BigUint64Array) keep every value, in the signed type that holds them', async () => {
    const uri = scratch('unsigned')
    const unsigned = (u8, u16, u32, u64) =>
      tableFromArrays({ u8: Uint8Array.from(u8), u16: Uint16Array.from(u16), u32: Uint32Array.from(u32), u64: BigUint64Array.from(u64) })
    await writeDelta(uri, unsigned([0, 255], [0, 65535], [0, 2 ** 32 - 1], [0n, 2n ** 63n - 1n]))
    const types = async (u) => (await DeltaTable.open(u)).schema().fields.map((f) => [f.name, String(f.type)])
    assert.deepEqual(await types(uri), [
      ['u8', 'Int16'],
      ['u16', 'Int32'],
      ['u32', 'Int64'],
      ['u64', 'Int64'],
    ])
    const want = [
      { u8: '0', u16: '0', u32: '0', u64: '0' },
      { u8: '255', u16: '65535', u32: '4294967295', u64: '9223372036854775807' },
    ]
    assert.deepEqual(rows(await readDelta(uri)), want)
    assert.deepEqual(rows(pyRead(uri)), want)
    await rejectsWith(writeDelta(uri, unsigned([1], [1], [1], [2n ** 63n])), 'INVALID_DATA', /'u64'/)
    assert.equal((await DeltaTable.open(uri)).version, 0)
    const worker = scratch('unsigned-worker')
    const w = new DeltaWriter(worker)
    await w.write(unsigned([200], [60000], [4e9], [5n]))
    await new DeltaCoordinator(worker).commit(await w.finish())
    assert.deepEqual(await types(worker), await types(uri))
    assert.deepEqual(rows(await readDelta(worker)), [{ u8: '200', u16: '60000', u32: '4000000000', u64: '5' }])
  })

  it('narrower numbers, whole doubles (tableFromJSON numbers) and millisecond timestamps go into wider columns; 2.5 into a long is refused, not truncated', async () => {
    const uri = scratch('widening')
    await writeDelta(uri, [{ n: 1, x: 0.5, t: new Date('2024-01-01T00:00:00Z') }])
    const narrow = (n, x, t) =>
      new Table({
        n: makeVector(Int32Array.from([n])),
        x: makeVector(Float32Array.from([x])),
        t: vectorFromArray([new Date(t)], new TimestampMillisecond('UTC')),
      })
    await writeDelta(uri, narrow(2, 1.5, '2024-01-02T00:00:00.123Z'))
    const w = new DeltaWriter(uri)
    await w.write(narrow(3, 2.25, '2024-01-03T00:00:00.456Z'))
    await new DeltaCoordinator(uri).commit(await w.finish())
    await writeDelta(uri, tableFromJSON([{ n: 4, x: 3, t: null }]))
    const dt = await DeltaTable.open(uri)
    assert.deepEqual(
      dt.schema().fields.map((f) => String(f.type)),
      ['Int64', 'Float64', 'Timestamp<MICROSECOND, UTC>'],
    )
    const iso = (t) => (t === null ? null : new Date(t).toISOString())
    const got = (await readDelta(uri))
      .toArray()
      .map((r) => [Number(r.n), r.x, iso(r.t)])
      .sort((a, b) => a[0] - b[0])
    assert.deepEqual(got, [
      [1, 0.5, '2024-01-01T00:00:00.000Z'],
      [2, 1.5, '2024-01-02T00:00:00.123Z'],
      [3, 2.25, '2024-01-03T00:00:00.456Z'],
      [4, 3, null],
    ])
    await rejectsWith(writeDelta(uri, tableFromJSON([{ n: 5 }, { n: 2.5 }])), 'INVALID_DATA', /2\.5 is not a whole number/)
    await rejectsWith(
      writeDelta(uri, new Table({ n: makeVector(Float64Array.from([2 ** 63])) })),
      'INVALID_DATA',
      /not a whole number within/,
    )
    assert.equal((await DeltaTable.open(uri)).version, 3)
  })

  it('a partitioned append of narrower numbers, several partition values per batch, is cast once per value: every row once, in its partition, with the table types', async () => {
    const uri = scratch('widening-partitioned')
    await writeDelta(uri, [{ n: 0, p: 'a' }], { partitionBy: ['p'] })
    const n = 3000
    const rows = new Table({
      n: makeVector(Int32Array.from({ length: n }, (_, i) => i + 1)),
      p: vectorFromArray(
        Array.from({ length: n }, (_, i) => 'abc'[i % 3]),
        new Utf8(),
      ),
    })
    await writeDelta(uri, rows, { mode: 'append' })
    const t = await readDelta(uri)
    assert.equal(String(t.schema.fields.find((f) => f.name === 'n').type), 'Int64')
    const got = t.toArray().map((r) => [Number(r.n), r.p])
    got.sort((x, y) => x[0] - y[0])
    assert.deepEqual(
      got,
      Array.from({ length: n + 1 }, (_, i) => [i, i === 0 ? 'a' : 'abc'[(i - 1) % 3]]),
    )
  })

  it('bigints into int columns and doubles into float columns when every value is in range; others are INVALID_DATA, nothing written', async () => {
    const uri = scratch('narrowing')
    const data = (i, x) => new Table({ i: makeVector(BigInt64Array.from(i)), x: makeVector(Float64Array.from(x)) })
    const schema = new Table({ i: makeVector(Int32Array.from([1])), x: makeVector(Float32Array.from([0.5])) })
    await writeDelta(uri, schema)
    await writeDelta(uri, data([2n, -(2n ** 31n)], [1.25, -3e38]))
    const w = new DeltaWriter(uri)
    await w.write(data([3n], [0.1]))
    await new DeltaCoordinator(uri).commit(await w.finish())
    assert.deepEqual(
      (await DeltaTable.open(uri)).schema().fields.map((f) => String(f.type)),
      ['Int32', 'Float32'],
    )
    const got = (await readDelta(uri))
      .toArray()
      .map((r) => [r.i, r.x])
      .sort((a, b) => a[0] - b[0])
    assert.deepEqual(got, [
      [-(2 ** 31), Math.fround(-3e38)],
      [1, 0.5],
      [2, 1.25],
      [3, Math.fround(0.1)],
    ])
    await rejectsWith(writeDelta(uri, data([4n, 2n ** 31n], [1, 2])), 'INVALID_DATA', /column 'i'.*2147483648/)
    await rejectsWith(writeDelta(uri, data([4n], [1e39])), 'INVALID_DATA', /column 'x': 10{39} is out of the range/)
    const bad = new DeltaWriter(uri)
    await rejectsWith(bad.write(data([2n ** 40n], [1])), 'INVALID_DATA', /column 'i'/)
    assert.equal((await DeltaTable.open(uri)).version, 2)
    assert.equal((await readDelta(uri)).numRows, 4)
  })

  it('other representations of the same values go in, in every writer: large/fixed-size binary, large strings, half floats, ms dates (floored), zoned timestamps, exact decimals', async () => {
    const uri = scratch('representations')
    const dec = (units) => vectorFromArray([new Uint32Array([units, 0, 0, 0])], new Decimal(2, 10, 128))
    const T0 = Date.UTC(2024, 0, 1)
    await writeDelta(
      uri,
      new Table({
        k: makeVector(Int32Array.from([0])),
        s: vectorFromArray(['a'], new Utf8()),
        b: vectorFromArray([Uint8Array.of(0)], new Binary()),
        d: vectorFromArray([new Date(T0)], new DateDay()),
        t: vectorFromArray([new Date(T0)], new TimestampMicrosecond('UTC')),
        x: dec(100),
        f: vectorFromArray([0], new Float64()),
      }),
    )
    const odd = (k, cols) => new Table({ k: makeVector(Int32Array.from([k])), ...cols })
    // 1969-12-31T23:00Z as a millisecond date is the day 1969-12-31 (Arrow's cast would give 1970-01-01).
    await writeDelta(
      uri,
      odd(1, {
        s: vectorFromArray(['large'], new LargeUtf8()),
        b: vectorFromArray([Uint8Array.of(1, 2)], new LargeBinary()),
        d: vectorFromArray([new Date(Date.UTC(1969, 11, 31, 23))], new DateMillisecond()),
        t: vectorFromArray([new Date('2024-02-02T10:00:00Z')], new TimestampMicrosecond('+01:00')),
        x: makeVector(Float64Array.from([1.1])),
        f: vectorFromArray([1.5], new Float16()),
      }),
    )
    const w = new DeltaWriter(uri)
    await w.write(
      odd(2, {
        b: vectorFromArray([Uint8Array.of(3, 4)], new FixedSizeBinary(2)),
        t: vectorFromArray([new Date(Date.UTC(2024, 2, 3))], new DateDay()),
        x: makeVector(Int32Array.from([5])),
        d: vectorFromArray([new Date(Date.UTC(2024, 2, 3, 12))], new DateMillisecond()),
      }),
    )
    // Nanoseconds are cut to Delta's microseconds.
    const ns = makeVector(
      makeData({ type: new TimestampNanosecond(), length: 1, nullCount: 0, data: BigInt64Array.of(1709424000001234567n) }),
    )
    await w.write(odd(3, { t: ns, x: vectorFromArray([new Uint32Array([15, 0, 0, 0])], new Decimal(1, 5, 128)) }))
    await new DeltaCoordinator(uri).commit(await w.finish())
    const types = async (u) => (await DeltaTable.open(u)).schema().fields.map((f) => String(f.type))
    assert.deepEqual(await types(uri), [
      'Int32',
      'Utf8',
      'Binary',
      'Date32<DAY>',
      'Timestamp<MICROSECOND, UTC>',
      'Decimal[10e+2]',
      'Float64',
    ])
    const day = (y, m, d) => Date.UTC(y, m, d)
    const want = [
      [0, 'a', '00', T0, T0, 100, 0],
      [1, 'large', '0102', day(1969, 11, 31), Date.parse('2024-02-02T10:00:00Z'), 110, 1.5],
      [2, null, '0304', day(2024, 2, 3), day(2024, 2, 3), 500, null],
      [3, null, null, null, 1709424000001234 / 1000, 150, null],
    ]
    const got = (t) =>
      rows(t)
        .map((r) => [
          Number(r.k),
          r.s,
          r.b,
          r.d === null ? null : Number(r.d),
          r.t === null ? null : Number(r.t),
          r.x === null ? null : Number(r.x[0]),
          r.f === null ? null : Number(r.f),
        ])
        .sort((a, b) => a[0] - b[0])
    assert.deepEqual(got(await readDelta(uri)), want)
    assertSameTable(pyRead(uri), await readDelta(uri))
    // A new table stores them as the same types.
    const fresh = scratch('representations-new')
    await writeDelta(
      fresh,
      odd(1, {
        s: vectorFromArray(['l'], new LargeUtf8()),
        b: vectorFromArray([Uint8Array.of(1, 2)], new FixedSizeBinary(2)),
        d: vectorFromArray([new Date(Date.UTC(1969, 11, 31, 23))], new DateMillisecond()),
        t: vectorFromArray([new Date(T0)], new TimestampMicrosecond('-05:00')),
        f: vectorFromArray([1.5], new Float16()),
      }),
    )
    assert.deepEqual(await types(fresh), ['Int32', 'Utf8', 'Binary', 'Date32<DAY>', 'Timestamp<MICROSECOND, UTC>', 'Float32'])
    assert.deepEqual(rows(await readDelta(fresh)), [{ k: '1', s: 'l', b: '0102', d: String(day(1969, 11, 31)), t: String(T0), f: 1.5 }])
  })

  it('a column of another kind of value is SCHEMA_MISMATCH in every writer (a number or boolean for a string, a number for a timestamp); text parses into typed columns, exactly; nothing is written on a refusal', async () => {
    const uri = scratch('other-kinds')
    await writeDelta(uri, [{ s: 'a', n: 1, t: new Date('2024-01-01T00:00:00Z'), st: { a: 'x' }, l: ['q'] }])
    const one = (name, v) => new Table({ [name]: v })
    const refused = [
      [one('s', makeVector(Int32Array.from([5]))), /column 's' is Int32 in the data and Utf8 in the table/],
      [one('s', vectorFromArray([true], new Bool())), /column 's' is Boolean/],
      [one('t', makeVector(Float64Array.from([1.7e12]))), /column 't' is Float64/],
      // inside structs and lists too
      [
        one('st', vectorFromArray([{ a: 5 }], new Struct([new Field('a', new Int32(), true)]))),
        /column 'st\.a' is Int32 in the data and Utf8/,
      ],
      [one('l', vectorFromArray([[7]], new List(new Field('item', new Int32(), true)))), /column 'l\[\]' is Int32 in the data and Utf8/],
    ]
    for (const [data, re] of refused) {
      await rejectsWith(writeDelta(uri, data), 'SCHEMA_MISMATCH', re)
      const w = new DeltaWriter(uri)
      await rejectsWith(
        (async () => {
          await w.write(data)
          return w.finish()
        })(),
        'SCHEMA_MISMATCH',
        re,
      )
    }
    // A later batch of one write is held to the same rule.
    await rejectsWith(
      writeDelta(
        uri,
        (async function* () {
          yield [{ s: 'b', n: 2 }]
          yield one('s', makeVector(Int32Array.from([6])))
        })(),
      ),
      'SCHEMA_MISMATCH',
      /column 's' is Int32/,
    )
    // Text (what NDJSON and CSV sources infer) parses into numbers and timestamps, as row objects' text does;
    // text that is not one is INVALID_DATA.
    const text = (values) => new Table(Object.fromEntries(Object.entries(values).map(([k, v]) => [k, vectorFromArray([v], new Utf8())])))
    await rejectsWith(writeDelta(uri, text({ n: '2.5' })), 'INVALID_DATA', /column 'n'.*'2\.5'/)
    await rejectsWith(writeDelta(uri, text({ t: 'tomorrow' })), 'INVALID_DATA', /column 't'/)
    assert.equal((await DeltaTable.open(uri)).version, 0)
    await writeDelta(uri, text({ s: 'c', n: '3', t: '2024-02-02T10:00:00Z' }))
    const w = new DeltaWriter(uri)
    await w.write(text({ s: 'd', n: '-4', t: '2024-03-03T00:00:00.000001Z' }))
    await new DeltaCoordinator(uri).commit(await w.finish())
    const iso = (t) => new Date(Math.floor(Number(t))).toISOString()
    const got = (await readDelta(uri))
      .toArray()
      .map((r) => [r.s, Number(r.n), iso(r.t)])
      .sort()
    assert.deepEqual(got, [
      ['a', 1, '2024-01-01T00:00:00.000Z'],
      ['c', 3, '2024-02-02T10:00:00.000Z'],
      ['d', -4, '2024-03-03T00:00:00.000Z'],
    ])
    const decimals = scratch('other-kinds-decimal')
    await writeDelta(decimals, new Table({ x: vectorFromArray([new Uint32Array([123, 0, 0, 0])], new Decimal(2, 10, 128)) }))
    await rejectsWith(
      writeDelta(decimals, one('x', makeVector(Float64Array.from([1.1, 1.239])))),
      'INVALID_DATA',
      /1\.239 has more than the 2 decimal places/,
    )
    await rejectsWith(
      writeDelta(decimals, one('x', vectorFromArray([new Uint32Array([1234, 0, 0, 0])], new Decimal(3, 12, 128)))),
      'SCHEMA_MISMATCH',
      /Decimal128\(12, 3\) in the data/,
    )
    await rejectsWith(writeDelta(decimals, one('x', makeVector(Float64Array.from([1e9])))), 'INVALID_DATA', /too large/)
    await rejectsWith(writeDelta(decimals, text({ x: '1.239' })), 'INVALID_DATA', /'1\.239' has more than the 2 decimal places/)
    await writeDelta(decimals, text({ x: '1.230' }))
    assert.deepEqual(
      rows(await readDelta(decimals))
        .map((r) => r.x[0])
        .sort(),
      ['123', '123'],
    )
    assert.equal((await DeltaTable.open(uri)).version, 2)
    assert.equal((await DeltaTable.open(decimals)).version, 1)
  })

  it('a column of nulls only (apache-arrow Null, inference of an empty column) becomes a nullable string column in a new table, and goes into any column of an existing one', async () => {
    const uri = scratch('null-columns')
    const nulls = (n) =>
      vectorFromArray(
        Array.from({ length: n }, () => null),
        new Null(),
      )
    // delta-rs stored such a column as 'void', declared non-null, which refused every later value.
    await writeDelta(uri, new Table({ id: vectorFromArray([1, 2], new Int32()), note: nulls(2) }))
    assert.deepEqual(
      (await DeltaTable.open(uri)).schema().fields.map((f) => [f.name, String(f.type), f.nullable]),
      [
        ['id', 'Int32', true],
        ['note', 'Utf8', true],
      ],
    )
    await writeDelta(uri, [{ id: 3, note: 'later' }])
    // and a batch whose column is all null goes into the table's typed column (adapter and workers)
    const typed = scratch('null-into-typed')
    await writeDelta(typed, [{ id: 1, n: 5, s: 'x' }])
    await writeDelta(typed, new Table({ id: vectorFromArray([2n]), n: nulls(1), s: nulls(1) }))
    const w = new DeltaWriter(typed)
    await w.write(new Table({ id: vectorFromArray([3n]), n: nulls(1), s: vectorFromArray(['z'], new Utf8()) }))
    await new DeltaCoordinator(typed).commit(await w.finish())
    assert.deepEqual(rows(await readDelta(typed)), [
      { id: '1', n: '5', s: 'x' },
      { id: '2', n: null, s: null },
      { id: '3', n: null, s: 'z' },
    ])
    assert.deepEqual(
      rows(await readDelta(uri)),
      [
        { id: 1, note: null },
        { id: 2, note: null },
        { id: 3, note: 'later' },
      ].map((r) => ({ ...r, id: String(r.id) })),
    )
    assertSameTable(pyRead(uri), await readDelta(uri))
  })

  it('struct fields match by name at any depth: missing nullable ones are nulls, narrower numbers widen, extra ones are named', async () => {
    const uri = scratch('nested-conform')
    await writeDelta(uri, [{ id: 1, s: { a: 1, b: 'x' }, l: [1, 2] }])
    const struct = (fields, values) => vectorFromArray(values, new Struct(fields.map(([n, t]) => new Field(n, t, true))))
    const list = (values, t) => vectorFromArray(values, new List(new Field('item', t, true)))
    const batch = (id, s, l) => new Table({ id: vectorFromArray([id]), s, l })
    await writeDelta(uri, batch(2n, struct([['a', new Int64()]], [{ a: 2n }]), list([[3n]], new Int64())))
    await writeDelta(
      uri,
      batch(
        3n,
        struct(
          [
            ['b', new Utf8()],
            ['a', new Int32()],
          ],
          [{ b: 'y', a: 3 }],
        ),
        list([[4, null]], new Int32()),
      ),
    )
    const w = new DeltaWriter(uri)
    await w.write(
      batch(
        4n,
        struct(
          [
            ['b', new Utf8()],
            ['a', new Float64()],
          ],
          [{ b: 'z', a: 4 }],
        ),
        list([[5]], new Int32()),
      ),
    )
    await new DeltaCoordinator(uri).commit(await w.finish())
    const got = (await readDelta(uri))
      .toArray()
      .map((r) => JSON.stringify(r.toJSON(), (_k, v) => (typeof v === 'bigint' ? Number(v) : v)))
      .sort()
    assert.deepEqual(got, [
      '{"id":1,"s":{"a":1,"b":"x"},"l":[1,2]}',
      '{"id":2,"s":{"a":2,"b":null},"l":[3]}',
      '{"id":3,"s":{"a":3,"b":"y"},"l":[4,null]}',
      '{"id":4,"s":{"a":4,"b":"z"},"l":[5]}',
    ])
    assertSameTable(pyRead(uri), await readDelta(uri))
    await rejectsWith(
      writeDelta(
        uri,
        batch(
          5n,
          struct(
            [
              ['a', new Int64()],
              ['c', new Bool()],
            ],
            [{ a: 5n, c: true }],
          ),
          list([[]], new Int64()),
        ),
      ),
      'SCHEMA_MISMATCH',
      /no column 's\.c'/,
    )
    await rejectsWith(
      writeDelta(uri, batch(6n, struct([['a', new Float64()]], [{ a: 2.5 }]), list([[]], new Int64()))),
      'INVALID_DATA',
      /column 's\.a': 2\.5 is not a whole number/,
    )
    await rejectsWith(
      writeDelta(uri, batch(7n, struct([['a', new Int64()]], [{ a: 1n }]), list([[0.5]], new Float64()))),
      'INVALID_DATA',
      /column 'l\[\]': 0\.5/,
    )
    assert.equal((await DeltaTable.open(uri)).version, 3)
  })

  it('a table of every type appends back to itself as apache-arrow read it (adapter and DeltaWriter)', async () => {
    // Maps read back with entries named as apache-arrow names them: a writer must still take them.
    const uri = scratch('all-types-back')
    fs.cpSync(fixture('all_types'), uri, { recursive: true })
    const t = await readDelta(uri)
    await writeDelta(uri, t)
    const w = new DeltaWriter(uri)
    await w.write(t)
    await new DeltaCoordinator(uri).commit(await w.finish())
    const twice = rows(t)
      .concat(rows(t), rows(t))
      .sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1))
    assert.deepEqual(
      rows(await readDelta(uri)).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1)),
      twice,
    )
  })

  it('DeltaWriter names a column whose type it cannot take (no schema dump)', async () => {
    const uri = scratch('writer-type')
    await writeDelta(uri, [{ id: 1, s: 'a' }])
    const w = new DeltaWriter(uri)
    await rejectsWith(
      w.write(new Table({ id: vectorFromArray([2n]), s: makeVector(Int32Array.from([5])) })),
      'SCHEMA_MISMATCH',
      /^[^\n]*column 's' is Int32 in the data and Utf8 in the table/,
    )
  })

  it('a streamed write() owns what it was given: a buffer the caller refills after write() resolves does not change the rows written (writeDelta shares a table it awaits)', async () => {
    const uri = scratch('reused-buffer')
    const n = 300_000
    const values = new Int32Array(n)
    const out = new DeltaOutputAdapter(uri)
    for (const v of [1, 2, 3]) {
      values.fill(v)
      await out.write(new Table({ v: makeVector(values) }))
    }
    values.fill(9)
    await out.close()
    const counts = {}
    for (const v of (await readDelta(uri)).getChild('v')) counts[v] = (counts[v] ?? 0) + 1
    assert.deepEqual(counts, { 1: n, 2: n, 3: n })
    // writeDelta of one in-memory table: the same rows as given.
    const shared = scratch('shared-table')
    const ids = Int32Array.from({ length: n }, (_, i) => i)
    await writeDelta(
      shared,
      new Table({
        id: makeVector(ids),
        s: vectorFromArray(
          Array.from({ length: n }, (_, i) => `s${i % 97}`),
          new Utf8(),
        ),
      }),
    )
    const back = await readDelta(shared)
    const got = Int32Array.from(back.getChild('id')).sort()
    assert.deepEqual(got, ids)
    assert.equal(back.toArray().find((r) => r.id === 12345).s, `s${12345 % 97}`)
  })

  it('DeltaWriter encodes a large batch on every core (one file per writer) and a coordinator commits each row once', async () => {
    const uri = scratch('worker-parallel')
    const n = 600_000 // three runs of the writers
    const w = new DeltaWriter(uri)
    await w.write(new Table({ id: makeVector(Int32Array.from({ length: n }, (_, i) => i)) }))
    const files = await w.finish()
    const cores = Math.min(os.availableParallelism(), 3)
    assert.equal(files.length, cores, `one file per writer on ${cores} cores`)
    assert.equal(
      files.reduce((sum, f) => sum + JSON.parse(f.stats).numRecords, 0),
      n,
    )
    await new DeltaCoordinator(uri).commit(files)
    const ids = Int32Array.from((await readDelta(uri)).getChild('id')).sort()
    assert.deepEqual(
      ids,
      Int32Array.from({ length: n }, (_, i) => i),
    )
  })

  it('DeltaWriter partitions a new table by a dictionary-encoded column', async () => {
    const uri = scratch('dict-worker-parted')
    const w = new DeltaWriter(uri, { partitionBy: ['day'] })
    await w.write(days([0, 1, 2, 3, 4], weekday))
    const files = await w.finish()
    assert.deepEqual(files.map((f) => f.partitionValues.day).sort(), ['mon', 'tue', 'wed'])
    await new DeltaCoordinator(uri).commit(files)
    assert.deepEqual(await byId(uri), expect([0, 1, 2, 3, 4], weekday))
    assertSameTable(pyRead(uri), await readDelta(uri))
  })
}

/** The `int96_nested` fixture's rows as [id, l, m, s.at, s.xs] with ISO timestamps, by id. */
export const int96NestedRows = (table) => {
  const iso = (v) => (v === null ? null : new Date(Number(v)).toISOString())
  return table
    .toArray()
    .map((r) => r.toJSON())
    .map((r) => [Number(r.id), [...r.l].map(iso), [...r.m].map(([k, v]) => [k, iso(v)]), iso(r.s.at), [...r.s.xs].map(iso)])
    .sort((a, b) => a[0] - b[0])
}
const FAR = '9999-12-31T00:00:00.000Z',
  NEAR = '2022-01-01T00:00:00.000Z'
export const INT96_NESTED = [
  [1, [FAR, NEAR], [['until', FAR]], FAR, [FAR]],
  [2, [null], [['from', NEAR]], NEAR, []],
]

/** Rows in one writer's run (src/append.rs RUN_ROWS): a write of more is dealt to parallel writers. */
export const RUN = 262_144

/** `n` rows from id `from` in batches of 65,536: id (Int32), x = id / 4, name = `n${id}`; id -1 at `bad`. */
export function big(from, n, bad = -1) {
  const batches = []
  for (let start = from; start < from + n; start += 65_536) {
    const id = Int32Array.from({ length: Math.min(65_536, from + n - start) }, (_, i) => (start + i === bad ? -1 : start + i))
    batches.push(
      ...new Table({
        id: makeVector(id),
        x: makeVector(Float64Array.from(id, (v) => v / 4)),
        name: vectorFromArray(
          Array.from(id, (v) => `n${v}`),
          new Utf8(),
        ),
      }).batches,
    )
  }
  return new Table(batches)
}

/** The id, x and name columns of a `big()` table in id order, as plain arrays. */
export function idColumns(t) {
  const [id, x, name] = ['id', 'x', 'name'].map((c) => [...t.getChild(c)])
  const order = id.map((_, i) => i).sort((a, b) => Number(id[a]) - Number(id[b]))
  return [id, x, name].map((col) => order.map((i) => (typeof col[i] === 'bigint' ? Number(col[i]) : col[i])))
}

/** The Parquet files under a table folder (relative paths, sorted). */
export const dataFiles = (dir) =>
  fs
    .readdirSync(dir, { recursive: true })
    .filter((f) => f.endsWith('.parquet'))
    .sort()

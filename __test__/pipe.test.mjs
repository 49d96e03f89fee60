// Pipe, the file input adapters, the CLI, the examples and the demo.
import assert from 'node:assert/strict'
import { execFile, spawnSync } from 'node:child_process'
import { Readable } from 'node:stream'
import fs from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { Field, Float64, Int64, Schema, Table, Utf8, tableFromArrays } from 'apache-arrow'
import {
  CsvInputAdapter,
  DeltaError,
  DeltaInputAdapter,
  DeltaOutputAdapter,
  DeltaTable,
  DeltaWriter,
  JsonLinesInputAdapter,
  ParquetInputAdapter,
  Pipe,
  readDelta,
  writeDelta,
} from '../index.mjs'
import { fixture, rejectsWith, rows, scratch } from './helpers.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '..')
const run = promisify(execFile)
const file = (name, text) => {
  const p = scratch(name)
  fs.writeFileSync(p, text)
  return p
}

describe('CsvInputAdapter', () => {
  it('quoted fields, embedded quotes and delimiters, a BOM, null markers', async () => {
    const p = file('q.csv', '\ufeffid,name,amount\n1,"a, quoted",1.5\n2,b,NA\n3,"say ""hi""",3\n')
    const t = await new CsvInputAdapter(p, { nullValues: ['NA'] }).readAll()
    assert.deepEqual(
      t.schema.fields.map((f) => f.name),
      ['id', 'name', 'amount'],
    )
    assert.deepEqual(rows(t, { sort: false }), [
      { id: '1', name: 'a, quoted', amount: 1.5 },
      { id: '2', name: 'b', amount: null },
      { id: '3', name: 'say "hi"', amount: '3' },
    ])
  })

  it('delimiter, quote, no header, explicit schema, multi-line values', async () => {
    const p = file('semi.csv', "1;'x;y'\n2;'multi\nline'\n")
    const schema = new Schema([new Field('n', new Int64()), new Field('s', new Utf8())])
    const t = await new CsvInputAdapter(p, { delimiter: ';', quote: "'", header: false, schema, newlinesInValues: true }).readAll()
    assert.deepEqual(rows(t, { sort: false }), [
      { n: '1', s: 'x;y' },
      { n: '2', s: 'multi\nline' },
    ])
  })

  it('a directory and a glob of files', async () => {
    const dir = scratch('csvdir')
    fs.mkdirSync(dir)
    for (const i of [0, 1, 2]) fs.writeFileSync(path.join(dir, `part-${i}.csv`), `id,v\n${i},${i * 10}\n`)
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not csv')
    assert.equal((await new CsvInputAdapter(dir, { fileExtension: '.csv' }).readAll()).numRows, 3)
    assert.equal((await new CsvInputAdapter(path.join(dir, 'part-*.csv')).readAll()).numRows, 3)
  })

  it('bad input: ragged lines, values that do not fit the schema, empty and missing files', async () => {
    await rejectsWith(new CsvInputAdapter(file('ragged.csv', 'a,b\n1,2\n3\n')).readAll(), 'INVALID_DATA')
    const schema = new Schema([new Field('a', new Int64()), new Field('b', new Int64())])
    await rejectsWith(new CsvInputAdapter(file('wrong.csv', 'a,b\n1,2\n3,x\n'), { schema }).readAll(), 'INVALID_DATA', /x/)
    const empty = await new CsvInputAdapter(file('empty.csv', ''), { schema }).readAll()
    assert.equal(empty.numRows, 0)
    await assert.rejects(new CsvInputAdapter(scratch('missing.csv')).readAll(), DeltaError)
    assert.throws(
      () => new CsvInputAdapter('x.csv', { delimiter: ';;' }),
      (e) => e.code === 'INVALID_ARGUMENT',
    )
  })
})

describe('byte inputs: a Buffer, a Readable, a web ReadableStream (no temp file)', () => {
  // CSV with quoted newlines, doubled quotes and delimiters in values, about 45 bytes a row.
  const note = (i) => `line ${i}\nhas "quotes", and commas`
  const csvOf = (n) =>
    `\ufeffid,note,amount\n${Array.from({ length: n }, (_, i) => `${i},"${note(i).replaceAll('"', '""')}",${i * 1.5}`).join('\n')}\n`
  const split = (text, n) => Array.from({ length: Math.ceil(text.length / n) }, (_, i) => Buffer.from(text.slice(i * n, (i + 1) * n)))
  const asRows = (t) => t.toArray().map((r) => [Number(r.id), r.note, r.amount])
  const want = (n) => Array.from({ length: n }, (_, i) => [i, note(i), i * 1.5])

  it('CSV from a Buffer, a Readable and a web ReadableStream reads as the same file does, across chunk boundaries inside quoted values', async () => {
    // A Buffer is one file: the same rows and types as the file.
    const small = csvOf(100)
    const fromFile = await new CsvInputAdapter(file('bytes.csv', small), { newlinesInValues: true }).readAll()
    const fromBuffer = await new CsvInputAdapter(Buffer.from(small), { newlinesInValues: true }).readAll()
    assert.deepEqual(rows(fromBuffer), rows(fromFile))
    assert.deepEqual(asRows(fromBuffer), want(100))
    // 7-byte pieces, parsed 1 KiB at a time: a few dozen chunks, cut anywhere, quotes spanning them.
    const csv = csvOf(300)
    const adapter = new CsvInputAdapter(Readable.from(split(csv, 7)), { newlinesInValues: true, chunkBytes: 1024 })
    const batches = []
    for await (const b of adapter) batches.push(b)
    assert.ok(batches.length > 5, `read as many chunks (${batches.length} batches)`)
    assert.deepEqual(asRows(new Table(batches)), want(300))
    assert.deepEqual(
      [...new Set(batches.map((b) => b.schema.fields.map((f) => `${f.name}:${f.type}`).join()))],
      ['id:Int64,note:Utf8,amount:Float64'],
      'every chunk has the first chunk’s schema',
    )
    await rejectsWith(
      Promise.resolve().then(() => adapter.readAll()),
      'INVALID_ARGUMENT',
      /read once/,
    )
    const web = Readable.toWeb(Readable.from(split(csv, 100)))
    const fromWeb = await new CsvInputAdapter(web, { newlinesInValues: true, chunkBytes: 2048, columns: ['id', 'amount'] }).readAll()
    assert.deepEqual(
      fromWeb.toArray().map((r) => [Number(r.id), r.amount]),
      want(300).map(([id, , amount]) => [id, amount]),
    )
  })

  it('NDJSON and Parquet from streams and Buffers; a bad byte input is a DeltaError naming the input, not a memory URI', async () => {
    const lines = Array.from({ length: 200 }, (_, i) => JSON.stringify({ id: i, tag: `t${i % 3}` })).join('\n')
    const nd = await new JsonLinesInputAdapter(Readable.from(split(lines, 33)), { chunkBytes: 512 }).readAll()
    assert.equal(nd.numRows, 200)
    assert.deepEqual(rows(nd.slice(0, 2), { sort: false }), [
      { id: '0', tag: 't0' },
      { id: '1', tag: 't1' },
    ])
    const parquetFile = path.join(
      fixture('simple'),
      fs.readdirSync(fixture('simple')).find((f) => f.endsWith('.parquet')),
    )
    const want = rows(await new ParquetInputAdapter(parquetFile).readAll())
    assert.deepEqual(rows(await new ParquetInputAdapter(fs.readFileSync(parquetFile)).readAll()), want)
    assert.deepEqual(rows(await new ParquetInputAdapter(fs.createReadStream(parquetFile, { highWaterMark: 64 })).readAll()), want)
    await rejectsWith(new ParquetInputAdapter(Buffer.from('not parquet at all')).readAll(), 'INVALID_DATA', /<parquet bytes>/)
    await rejectsWith(new CsvInputAdapter(Readable.from([{ not: 'bytes' }])).readAll(), 'INVALID_ARGUMENT', /yielded object, not bytes/)
    assert.throws(
      () => new CsvInputAdapter(42),
      (e) => e.code === 'INVALID_ARGUMENT' && /Readable/.test(e.message),
    )
  })
})

describe('JsonLinesInputAdapter and ParquetInputAdapter', () => {
  it('NDJSON with inference and with an explicit schema', async () => {
    const p = file('e.ndjson', '{"id":1,"user":"a","tags":["x"]}\n{"id":2,"user":"b","score":2.5}\n')
    const t = await new JsonLinesInputAdapter(p).readAll()
    assert.equal(t.numRows, 2)
    assert.deepEqual(
      rows(t, { sort: false }).map((r) => [r.id, r.user, r.score]),
      [
        ['1', 'a', null],
        ['2', 'b', 2.5],
      ],
    )
    const schema = new Schema([new Field('id', new Int64(), true), new Field('score', new Float64(), true)])
    const typed = await new JsonLinesInputAdapter(p, { schema }).readAll()
    assert.deepEqual(
      typed.schema.fields.map((f) => f.name),
      ['id', 'score'],
    )
    assert.deepEqual(rows(typed, { sort: false }), [
      { id: '1', score: null },
      { id: '2', score: 2.5 },
    ])
    await rejectsWith(new JsonLinesInputAdapter(file('bad.ndjson', '{"id":1}\n{nope\n')).readAll(), 'INVALID_DATA')
  })

  it('Parquet: a file, a directory, a glob, with projection', async () => {
    const dir = fixture('many_files')
    const one = fs.readdirSync(dir).find((f) => f.endsWith('.parquet'))
    assert.equal((await new ParquetInputAdapter(path.join(dir, one)).readAll()).numRows, 25000)
    const all = await new ParquetInputAdapter(dir, { fileExtension: '.parquet', columns: ['id'] }).readAll()
    assert.equal(all.numRows, 200000)
    assert.deepEqual(
      all.schema.fields.map((f) => f.name),
      ['id'],
    )
    assert.equal((await new ParquetInputAdapter(path.join(dir, '*.parquet')).readAll()).numRows, 200000)
  })
})

describe('Pipe', () => {
  it('Delta -> transform -> Delta, with a report and progress', async () => {
    const dst = scratch('pipe-out')
    const progress = []
    let seen = 0
    let kept = 0
    const report = await new Pipe({
      input: new DeltaInputAdapter(fixture('many_files'), { batchSize: 10000 }),
      transform: (batch) => {
        // drops every other batch
        if (seen++ % 2) return null
        kept += batch.numRows
        return batch
      },
      output: new DeltaOutputAdapter(dst),
      onProgress: (p) => progress.push(p),
      progressIntervalMs: 0,
    }).run()
    assert.equal(report.rowsRead, 200000)
    assert.ok(kept > 0 && kept < 200000)
    assert.equal(report.rowsWritten, kept)
    assert.equal(report.rowsFailed, 0)
    assert.equal(report.version, 0)
    assert.equal(typeof report.durationMs, 'number')
    assert.equal((await readDelta(dst)).numRows, kept)
    assert.ok(progress.length >= 10)
    for (let i = 1; i < progress.length; i++) assert.ok(progress[i].rowsRead >= progress[i - 1].rowsRead)
    assert.equal(progress.at(-1).rowsWritten, kept)
    assert.ok(progress.at(-1).bytesRead > 0)
  })

  it('any async iterable of row objects or batches is an input', async () => {
    const dst = scratch('pipe-iter')
    async function* source() {
      for (let i = 0; i < 25; i++) yield { id: i, name: `r${i}` }
      yield tableFromArrays({ id: Float64Array.from([100, 101]), name: ['a', 'b'] }).batches[0]
      yield [{ id: 102, name: 'c' }]
    }
    const report = await new Pipe({ input: source(), output: new DeltaOutputAdapter(dst) }).run()
    assert.equal(report.rowsWritten, 28)
    assert.equal((await readDelta(dst)).numRows, 28)
  })

  it('row objects in: a transform gets the types write(rows) gives, and so does the table', async () => {
    const dst = scratch('pipe-rows-types')
    const direct = scratch('pipe-rows-direct')
    const input = Array.from({ length: 3 }, (_, i) => ({ id: i + 1, name: `r${i}`, at: new Date(Date.UTC(2024, 0, i + 1)), v: i + 0.5 }))
    const seen = []
    await new Pipe({
      input,
      transform: (batch) => {
        seen.push(batch.schema.fields.map((f) => `${f.name}: ${f.type}`))
        return batch
      },
      output: new DeltaOutputAdapter(dst),
    }).run()
    await writeDelta(direct, input)
    assert.deepEqual(seen, [['id: Int64', 'name: Utf8', 'at: Timestamp<MICROSECOND, UTC>', 'v: Float64']])
    const [piped, written] = [await readDelta(dst), await readDelta(direct)]
    assert.deepEqual(piped.schema.fields.map(String), written.schema.fields.map(String))
    assert.deepEqual(rows(piped), rows(written))
    // Plain rows (no Date) are built as columns in JS: the same types.
    const plain = input.map(({ at, ...r }) => r)
    const plainDst = scratch('pipe-rows-plain')
    seen.length = 0
    await new Pipe({
      input: plain,
      transform: (batch) => {
        seen.push(batch.schema.fields.map((f) => `${f.name}: ${f.type}`))
        return batch
      },
      output: new DeltaOutputAdapter(plainDst),
    }).run()
    assert.deepEqual(seen, [['id: Int64', 'name: Utf8', 'v: Float64']])
    assert.deepEqual(rows(await readDelta(plainDst)), rows(await readDelta(dst, { columns: ['id', 'name', 'v'] })))
  })

  it("row objects without a transform take the table's types; rows it rejects go to the dead letter at their input position", async () => {
    const dst = scratch('pipe-rows-table')
    await writeDelta(dst, tableFromArrays({ id: BigInt64Array.from([0n]), v: Float64Array.from([0.5]) }))
    const dead = scratch('pipe-rows-dead.ndjson')
    const input = [
      { id: 1, v: 1 },
      { id: 2, v: 'x' },
      { id: 3, v: 3 },
      { id: 'y', v: 4 },
      { id: 5, v: 5 },
    ]
    const report = await new Pipe({ input, output: new DeltaOutputAdapter(dst), deadLetter: dead }).run()
    assert.deepEqual([report.rowsRead, report.rowsWritten, report.rowsFailed], [5, 3, 2])
    const lines = fs
      .readFileSync(dead, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    assert.deepEqual(
      lines.map((l) => [l.position.row, l.row.id]),
      [
        [1, 2],
        [3, 'y'],
      ],
    )
    const t = await readDelta(dst)
    assert.deepEqual(t.schema.fields.map(String), ['id: Int64', 'v: Float64'])
    assert.deepEqual(rows(t), [
      { id: '0', v: 0.5 },
      { id: '1', v: '1' },
      { id: '3', v: '3' },
      { id: '5', v: '5' },
    ])
  })

  it('binary values for a string column go to the dead letter one by one, not into the table as hex', async () => {
    const dst = scratch('pipe-binary-string')
    await writeDelta(dst, [{ id: 0n, name: 'zero' }])
    const dead = scratch('pipe-binary-dead.ndjson')
    const input = [
      { id: 1n, name: 'one' },
      { id: 2n, name: Buffer.from('two') },
      { id: 3n, name: 'three' },
      { id: 4n, name: new Uint8Array([4]) },
    ]
    const report = await new Pipe({ input, output: new DeltaOutputAdapter(dst), deadLetter: dead }).run()
    assert.deepEqual([report.rowsRead, report.rowsWritten, report.rowsFailed], [4, 2, 2])
    const lines = fs
      .readFileSync(dead, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    assert.deepEqual(
      lines.map((l) => l.position.row),
      [1, 3],
    )
    assert.ok(
      lines.every((l) => /holds strings/.test(l.error)),
      lines[0].error,
    )
    assert.deepEqual(
      rows(await readDelta(dst))
        .map((r) => r.name)
        .sort(),
      ['one', 'three', 'zero'],
    )
  })

  it('a row the writer refuses after a row-by-row retry is dead-lettered at its own input position, and its error names that row', async () => {
    const dst = scratch('dead-retry-out')
    await writeDelta(dst, [{ id: 0n, name: 'seed' }])
    const dead = scratch('dead-retry.ndjson')
    const input = [1, 2, 3, 4, 5].map((id) => ({ id, name: `n${id}` }))
    const report = await new Pipe({
      input,
      // id 2 makes the whole batch throw, so each row is transformed alone; id 4 then fails on write.
      transform: (batch) =>
        batch.toArray().map((r) => {
          if (Number(r.id) === 2) throw new Error('id 2 is cursed')
          return Number(r.id) === 4 ? { id: 'four', name: r.name } : { id: Number(r.id), name: r.name }
        }),
      output: new DeltaOutputAdapter(dst),
      deadLetter: dead,
    }).run()
    assert.deepEqual([report.rowsRead, report.rowsWritten, report.rowsFailed], [5, 3, 2])
    const lines = fs
      .readFileSync(dead, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    assert.deepEqual(
      lines.map((l) => [l.position.row, l.row.name]),
      [
        [1, 'n2'],
        [3, 'n4'],
      ],
    )
    assert.match(lines[1].error, /^row 3: .*'id'/)
    assert.deepEqual(
      rows(await readDelta(dst))
        .map((r) => r.id)
        .sort(),
      ['0', '1', '3', '5'],
    )
  })

  it('transform errors go to the dead letter with the error and position; the rest is committed', async () => {
    const dst = scratch('dead-out')
    await writeDelta(dst, [{ id: 0n, name: 'seed', value: 0.5 }]) // id is a long: 'not-a-number' fails validation
    const dead = scratch('dead.ndjson')
    const report = await new Pipe({
      input: new DeltaInputAdapter(fixture('simple'), { version: 1 }), // ids 1..5
      transform: async (batch) => {
        const out = []
        for (const r of batch) {
          const o = r.toJSON()
          if (Number(o.id) === 2) throw new Error('id 2 is cursed')
          out.push(Number(o.id) === 4 ? { ...o, id: 'not-a-number' } : o) // fails validation on write
        }
        return out
      },
      output: new DeltaOutputAdapter(dst),
      deadLetter: dead,
    }).run()
    const lines = fs
      .readFileSync(dead, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    assert.equal(report.rowsRead, 5)
    assert.equal(report.rowsFailed, 2)
    assert.equal(lines.length, 2)
    assert.equal(report.rowsWritten, 3)
    const cursed = lines.find((l) => /cursed/.test(l.error))
    assert.equal(cursed.row.id, '2')
    assert.equal(typeof cursed.position.row, 'number')
    const invalid = lines.find((l) => l.row.id === 'not-a-number')
    assert.match(invalid.error, new RegExp(`^row ${invalid.position.row}: .*'id'`))
    const t = await readDelta(dst)
    assert.equal(String(t.schema.fields[0].type), 'Int64')
    assert.deepEqual(
      rows(t)
        .map((r) => Number(r.id))
        .sort(),
      [0, 1, 3, 5],
    )
  })

  it('CSV values that do not fit their column go to the dead letter, the other rows are written', async () => {
    const src = file('typed.csv', 'id,amount,day\n1,1.5,2024-01-01\n2,abc,2024-01-02\n3,3.5,NA\n4,4.5,not-a-date\n')
    const schema = new Schema([
      new Field('id', new Int64(), true),
      new Field('amount', new Float64(), true),
      new Field('day', new (await import('apache-arrow')).DateDay(), true),
    ])
    const dst = scratch('typed-out')
    const dead = scratch('typed-dead.ndjson')
    const report = await new Pipe({
      input: new CsvInputAdapter(src, { schema, nullValues: ['NA'] }),
      output: new DeltaOutputAdapter(dst),
      deadLetter: dead,
    }).run()
    assert.deepEqual([report.rowsRead, report.rowsWritten, report.rowsFailed], [4, 2, 2])
    const lines = fs
      .readFileSync(dead, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    assert.deepEqual(lines.map((l) => l.row.id).sort(), ['2', '4'])
    assert.match(lines.find((l) => l.row.id === '2').error, /amount.*abc/)
    assert.match(lines.find((l) => l.row.id === '4').error, /day.*not-a-date/)
    assert.deepEqual(
      rows(await readDelta(dst)).map((r) => [r.id, r.amount]),
      [
        ['1', 1.5],
        ['3', 3.5],
      ],
    )
    // without a dead letter the same input fails the pipe and commits nothing
    await rejectsWith(
      new Pipe({
        input: new CsvInputAdapter(src, { schema, nullValues: ['NA'] }),
        output: new DeltaOutputAdapter(scratch('typed-fail')),
      }).run(),
      'INVALID_DATA',
    )
  })

  it('without a dead letter the first failure aborts the pipe and nothing is committed', async () => {
    const dst = scratch('fail-out')
    await writeDelta(dst, [{ id: 1n, name: 'x', value: 1 }])
    await rejectsWith(
      new Pipe({
        input: new DeltaInputAdapter(fixture('simple')),
        transform: () => {
          throw new Error('boom')
        },
        output: new DeltaOutputAdapter(dst),
      }).run(),
      'INVALID_DATA',
      /boom/,
    )
    assert.equal((await DeltaTable.open(dst)).version, 0)
  })

  it('an AbortSignal stops the pipe with ABORTED and commits nothing', async () => {
    const dst = scratch('abort-out')
    await writeDelta(dst, [{ id: 0n, group: 'g', x: 0.5 }])
    const ctl = new AbortController()
    let batches = 0
    await rejectsWith(
      new Pipe({
        input: new DeltaInputAdapter(fixture('many_files'), { batchSize: 5000 }),
        transform: (b) => {
          if (++batches === 3) ctl.abort()
          return b
        },
        output: new DeltaOutputAdapter(dst),
        signal: ctl.signal,
      }).run(),
      'ABORTED',
    )
    assert.equal((await DeltaTable.open(dst)).version, 0)
    assert.equal((await readDelta(dst)).numRows, 1)
  })

  it('an input or onProgress that throws stops the pipe with ABORTED (the error as cause) and commits nothing', async () => {
    const dst = scratch('user-throws-out')
    await writeDelta(dst, [{ id: 0n }])
    const boom = new Error('source went away')
    async function* failing() {
      yield [{ id: 1n }]
      throw boom
    }
    await assert.rejects(new Pipe({ input: failing(), output: new DeltaOutputAdapter(dst) }).run(), (e) => {
      assert.ok(e instanceof DeltaError)
      assert.equal(e.code, 'ABORTED')
      assert.match(e.message, /the input threw: source went away/)
      assert.equal(e.cause, boom)
      return true
    })
    // Thrown on the last report too (it comes before the commit).
    const onProgress = () => {
      throw new Error('dashboard down')
    }
    await rejectsWith(
      new Pipe({ input: [{ id: 2n }], output: new DeltaOutputAdapter(dst), onProgress }).run(),
      'ABORTED',
      /onProgress threw: dashboard down/,
    )
    assert.equal((await DeltaTable.open(dst)).version, 0)
  })

  it('a deadLetter path that cannot be written is INVALID_ARGUMENT before anything is read; each run empties the file', async () => {
    const dst = scratch('dead-path-out')
    const missingDir = path.join(scratch('no-such-dir'), 'bad.ndjson')
    let pulled = 0
    const input = (function* () {
      pulled++
      yield { id: 1 }
    })()
    await rejectsWith(
      new Pipe({ input, output: new DeltaOutputAdapter(dst), deadLetter: missingDir }).run(),
      'INVALID_ARGUMENT',
      /deadLetter .* cannot be written/,
    )
    assert.equal(pulled, 0)
    assert.equal(await DeltaTable.isDeltaTable(dst), false)
    const dead = file('stale.ndjson', '{"error":"from an earlier run"}\n')
    const report = await new Pipe({ input: [{ id: 1 }, { id: 2 }], output: new DeltaOutputAdapter(dst), deadLetter: dead }).run()
    assert.equal(report.rowsFailed, 0)
    assert.equal(fs.readFileSync(dead, 'utf8'), '')
  })

  it('rows whose types conflict: the row that differs from the rows before it is refused (dead-lettered), not the first', async () => {
    const mixed = [
      { id: 1, v: 10 },
      { id: 2, v: 'ten' },
      { id: 3, v: 30 },
    ]
    await rejectsWith(writeDelta(scratch('conflict-direct'), mixed), 'INVALID_DATA', /^row 1: .*"ten"/)
    const dst = scratch('conflict-out')
    const dead = scratch('conflict.ndjson')
    const report = await new Pipe({ input: mixed, output: new DeltaOutputAdapter(dst), deadLetter: dead }).run()
    assert.deepEqual([report.rowsWritten, report.rowsFailed], [2, 1])
    assert.deepEqual(rows(await readDelta(dst)), [
      { id: '1', v: '10' },
      { id: '3', v: '30' },
    ])
    const lines = fs
      .readFileSync(dead, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    assert.deepEqual(
      lines.map((l) => [l.position.row, l.row]),
      [[1, { id: 2, v: 'ten' }]],
    )
  })

  it('a string is not data: write() and a transform returning one are INVALID_ARGUMENT (a string is iterable)', async () => {
    await rejectsWith(writeDelta(scratch('string-data'), 'id\n1'), 'INVALID_ARGUMENT', /cannot write a \[object String\]/)
    const dst = scratch('string-transform')
    await rejectsWith(
      new Pipe({ input: new DeltaInputAdapter(fixture('simple')), transform: () => 'row', output: new DeltaOutputAdapter(dst) }).run(),
      'INVALID_ARGUMENT',
      /String/,
    )
    assert.equal(await DeltaTable.isDeltaTable(dst), false)
    await rejectsWith(new Pipe({ input: 'a.csv', output: new DeltaOutputAdapter(dst) }).run(), 'INVALID_ARGUMENT', /Pipe input must be/)
  })

  it('a DeltaWriter output returns file actions for a coordinator', async () => {
    const dst = scratch('pipe-writer')
    const report = await new Pipe({ input: new DeltaInputAdapter(fixture('simple')), output: new DeltaWriter(dst) }).run()
    assert.equal(report.version, null)
    assert.equal(report.files.length, 1)
    assert.equal(await DeltaTable.isDeltaTable(dst), false)
  })
})

describe('CLI, examples and the demo', () => {
  const cli = (...args) => spawnSync(process.execPath, [path.join(root, 'bin', 'zoopipe.js'), ...args], { encoding: 'utf8' })
  before(() => {
    const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'examples'], {
      cwd: root,
      encoding: 'utf8',
    })
    assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr)
  })

  it('CLI: --version; --json for inspect, history and files; vacuum prints what it would delete unless --yes; optimize and restore', async () => {
    const ok = (...args) => {
      const r = cli(...args)
      assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`)
      return r
    }
    assert.equal(ok('--version').stdout.trim(), JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version)
    const uri = scratch('cli-maintain')
    for (let i = 0; i < 3; i++) await writeDelta(uri, [{ id: i, day: i < 2 ? 'mon' : 'tue' }], { partitionBy: ['day'] })
    const info = JSON.parse(ok('inspect', uri, '--json').stdout)
    assert.deepEqual([info.version, info.numFiles, info.numRows, info.metadata.partitionColumns], [2, 3, 3, ['day']])
    assert.deepEqual(
      info.schema.map((f) => f.name),
      ['id', 'day'],
    )
    const commits = JSON.parse(ok('history', uri, '--json', '--limit', '2').stdout)
    assert.deepEqual(
      commits.map((c) => c.version),
      [2, 1],
    )
    const files = JSON.parse(ok('files', uri, '--json').stdout)
    assert.equal(files.length, 3)
    assert.ok(files.every((f) => f.numRecords === 1 && ['mon', 'tue'].includes(f.partitionValues.day)))

    const optimized = JSON.parse(ok('optimize', uri, '--filter', 'day = mon', '--json').stdout)
    assert.deepEqual([optimized.numFilesRemoved, optimized.numFilesAdded], [2, 1])
    const vacuumArgs = ['vacuum', uri, '--retention-hours', '0', '--no-enforce-retention']
    const dry = ok(...vacuumArgs)
    assert.equal(dry.stdout.trim().split('\n').length, 2, dry.stdout)
    assert.match(dry.stderr, /would delete 2 files \(a dry run/)
    const parquet = () => fs.readdirSync(uri, { recursive: true }).filter((f) => String(f).endsWith('.parquet')).length
    assert.equal(parquet(), 4, 'a dry run deletes nothing')
    assert.equal(
      cli('vacuum', uri, '--retention-hours', '0', '--yes').status,
      1,
      'the retention check holds without --no-enforce-retention',
    )
    assert.match(ok(...vacuumArgs, '--yes').stderr, /deleted 2 files/)
    assert.equal(parquet(), 2)
    const restored = ok('restore', uri, '1', '--ignore-missing-files')
    assert.match(restored.stdout, /restored to 1: version \d+ \(2 files removed, 2 restored\)/)
    assert.equal(cli('restore', uri).status, 2, 'restore needs a target')
    assert.equal(cli('vacuum', uri, '--retention-hours', 'soon').status, 2)
  })

  it('inspect, history, cat and convert', async () => {
    const t = fixture('partitioned')
    const ins = cli('inspect', t)
    assert.equal(ins.status, 0, ins.stderr)
    assert.match(ins.stdout, /version:\s+0/)
    assert.match(ins.stdout, /partitions: part, bucket/)
    assert.match(ins.stdout, /rows\)/)
    const hist = cli('history', fixture('simple'), '--limit', '2')
    assert.equal(hist.stdout.trim().split('\n').length, 2)
    assert.match(hist.stdout, /^\s+3\s/)
    const nd = cli('cat', t, '--filter', 'part = a/b', '--columns', 'id,part', '--format', 'ndjson')
    assert.equal(nd.status, 0, nd.stderr)
    const lines = nd.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    assert.equal(lines.length, 10)
    assert.ok(lines.every((l) => l.part === 'a/b' && Object.keys(l).length === 2))
    // in / not in: a JSON array, comma-separated values, or SQL's parentheses
    const ids = (...filters) => {
      const r = cli('cat', t, ...filters.flatMap((f) => ['--filter', f]), '--columns', 'id', '--format', 'ndjson')
      assert.equal(r.status, 0, r.stderr)
      return r.stdout
        .trim()
        .split('\n')
        .map((l) => Number(JSON.parse(l).id))
        .sort((a, b) => a - b)
    }
    assert.deepEqual(ids('id in [3, 5]'), [3, 5])
    assert.deepEqual(ids('id in (3, 4, 7)', 'part not in a/b,plain'), [3, 4]) // 7 is in a/b
    assert.deepEqual(ids('id < 4', 'id NOT IN 0,1'), [2, 3])
    const csv = cli('cat', fixture('simple'), '--version', '1', '--format', 'csv', '--limit', '2')
    assert.deepEqual(csv.stdout.trim().split('\n').length, 3)
    const table = cli('cat', fixture('simple'), '--limit', '3')
    assert.match(table.stdout, /^id\s+name\s+value/)
    const src = file('conv.csv', 'k,v\na,1\nb,2\n')
    const dst = scratch('conv-delta')
    const conv = cli('convert', src, dst, '--partition-by', 'k', '--mode', 'overwrite')
    assert.equal(conv.status, 0, conv.stderr)
    assert.deepEqual((await DeltaTable.open(dst)).metadata().partitionColumns, ['k'])
    assert.equal((await readDelta(dst)).numRows, 2)
  })

  it('--help on each command, and non-zero exits on bad input', () => {
    for (const c of ['inspect', 'history', 'cat', 'convert']) {
      const h = cli(c, '--help')
      assert.equal(h.status, 0)
      assert.match(h.stdout, new RegExp(`zoopipe ${c}`))
    }
    assert.equal(cli('frobnicate').status, 2)
    assert.equal(cli('cat').status, 2)
    assert.equal(cli('cat', fixture('simple'), '--format', 'xml').status, 2)
    assert.equal(cli('cat', fixture('simple'), '--filter', 'nonsense').status, 2)
    const missing = cli('inspect', fixture('nope'))
    assert.equal(missing.status, 1)
    assert.match(missing.stderr, /TABLE_NOT_FOUND/)
    assert.equal(cli('cat', fixture('simple'), '--option', 'novalue').status, 2)
  })

  it('examples/etl.mts runs: transform, dead letter, partitioned output', async () => {
    const src = file(
      'events.ndjson',
      `${[
        { id: 1, user: 'ann', kind: 'Click', value: 1.5 },
        { id: 2, user: 'test-bot', kind: 'Click', value: 1 },
        { id: 3, user: 'bob', kind: 'VIEW', value: -4 },
        { id: 4, user: 'cy', kind: 'view', value: null },
      ]
        .map((e) => JSON.stringify(e))
        .join('\n')}\n`,
    )
    const dst = scratch('etl-out')
    const dead = scratch('etl-dead.ndjson')
    const { stdout } = await run(process.execPath, [path.join(root, 'examples', 'dist', 'etl.mjs'), src, dst, dead])
    const report = JSON.parse(stdout)
    assert.equal(report.rowsRead, 4)
    assert.equal(report.rowsFailed, 1)
    assert.equal(report.rowsWritten, 2) // ann and cy; the test user is dropped
    assert.match(fs.readFileSync(dead, 'utf8'), /negative value in event 3/)
    const t = rows(await readDelta(dst))
    assert.deepEqual(t.map((r) => [r.user, r.kind]).sort(), [
      ['ann', 'click'],
      ['cy', 'view'],
    ])
    assert.deepEqual((await DeltaTable.open(dst)).metadata().partitionColumns, ['kind'])
  })

  it('examples/fanout: worker processes + one coordinator commit, idempotent on re-run', async () => {
    const dst = scratch('fanout-example')
    const coord = path.join(root, 'examples', 'dist', 'fanout', 'coordinator.mjs')
    const first = JSON.parse((await run(process.execPath, [coord, dst, '3', '500', 'job-x'])).stdout)
    assert.equal(first.committed, true)
    assert.equal(first.files, 3)
    assert.equal((await readDelta(dst)).numRows, 1500)
    const again = JSON.parse((await run(process.execPath, [coord, dst, '3', '500', 'job-x'])).stdout)
    assert.equal(again.committed, false)
    assert.equal(again.version, first.version)
    assert.equal((await readDelta(dst)).numRows, 1500)
  })

  it('the demo runs end to end (small), twice', async () => {
    const env = { ...process.env, ZOOPIPE_DEMO_ROWS: '20000' }
    const demo = path.join(root, 'examples', 'dist', 'demo.mjs')
    const a = await run(process.execPath, [demo], { env })
    assert.match(a.stdout, /version 0: 20,000 rows/)
    assert.match(a.stdout, /version 1: 2,000 rows/)
    assert.match(a.stdout, /version 0 has 20,000 rows, version 1 has 22,000/)
    const b = await run(process.execPath, [demo], { env })
    assert.match(b.stdout, /starting clean/)
    const table = path.join(root, '.demo-output', 'orders_delta')
    assert.equal((await DeltaTable.open(table)).version, 1)
    assert.equal((await readDelta(table, { columns: ['order_id'] })).numRows, 22000)
  })
})

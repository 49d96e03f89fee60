// Plain row objects written as columns built in JS (lib/row-columns.js) instead of JSON text: the
// same table as the JSON path makes, and the JSON path wherever the columns do not fit. Shared by
// both builds.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { TimestampMicrosecond, Utf8, makeVector, Table, vectorFromArray } from 'apache-arrow'
import { rows as rowsOf, scratch } from './helpers.mjs'

/** An adapter (or DeltaWriter) whose native calls are counted: which way the rows went. */
function counted(Writer, uri, options) {
  const out = new Writer(uri, options)
  const w = out._w
  const calls = { columns: [], json: 0 }
  const columns = w.writeRowBatches.bind(w)
  const json = w.writeRows.bind(w)
  w.writeRowBatches = async (...args) => {
    const taken = await columns(...args)
    calls.columns.push(taken)
    return taken
  }
  w.writeRows = async (...args) => {
    calls.json++
    return json(...args)
  }
  return { out, calls }
}

const typeNames = (table) => Object.fromEntries(table.schema.fields.map((f) => [f.name, String(f.type)]))

export function rowColumnTests({ readDelta, DeltaOutputAdapter, writeDelta, DeltaWriter, DeltaCoordinator }) {
  describe('plain row objects as columns', () => {
    it('go to the writers as columns and store the values and types the JSON path gives a new table', async () => {
      const values = [
        { id: 0, amount: 1.5, name: 'plain', ok: true },
        { id: -1, amount: -0.25, name: '', ok: false },
        { id: 2 ** 53 - 1, amount: 0.1, name: '日本語 ✓', ok: null },
        { id: -(2 ** 53 - 1), amount: null, name: 'emoji 😀', ok: true },
        { id: 2 ** 32, amount: 3, name: null, ok: false },
        { id: -(2 ** 32) - 1, amount: 5e-324, ok: true, name: 'x' }, // other key order
        { id: null, amount: 2, name: 'y', ok: undefined },
      ]
      const uri = scratch('row-columns')
      const { out, calls } = counted(DeltaOutputAdapter, uri)
      await out.write(values)
      await out.close()
      assert.deepEqual(calls, { columns: [true], json: 0 })
      // The same rows through JSON: a Date column makes every row go that way.
      const viaJson = scratch('row-columns-json')
      await writeDelta(
        viaJson,
        values.map((r) => ({ ...r, at: new Date(0) })),
      )
      const a = await readDelta(uri)
      const b = await readDelta(viaJson, { columns: ['id', 'amount', 'name', 'ok'] })
      assert.deepEqual(typeNames(a), { id: 'Int64', amount: 'Float64', name: 'Utf8', ok: 'Bool' })
      assert.deepEqual(typeNames(a), typeNames(b))
      const byId = (t) => rowsOf(t).sort((x, y) => String(x.id).localeCompare(String(y.id)))
      assert.deepEqual(byId(a), byId(b))
      // rowsOf gives whole numbers and longs as text
      assert.deepEqual(
        rowsOf(a).find((r) => r.id === String(2 ** 53 - 1)),
        { id: String(2 ** 53 - 1), amount: 0.1, name: '日本語 ✓', ok: null },
      )
      assert.equal(rowsOf(a).find((r) => r.id === String(-(2 ** 32) - 1)).amount, 5e-324)
      assert.equal(rowsOf(a).length, values.length)
    })

    it('go as JSON where the columns do not fit (NaN, Dates, mixed kinds), chunk by chunk, all rows once', async () => {
      const n = 70_000 // two chunks of columns: the second holds a NaN
      const values = Array.from({ length: n }, (_, i) => ({ id: i, x: i === 68_000 ? Number.NaN : i / 2 }))
      const uri = scratch('row-columns-mixed')
      const { out, calls } = counted(DeltaOutputAdapter, uri)
      await out.write(values)
      // A second write() whose x is whole (long as columns) goes as JSON into the double column.
      await out.write([{ id: n, x: 1 }])
      await out.close()
      assert.deepEqual(calls.columns, [true, false])
      assert.ok(calls.json >= 1, 'the chunk with a NaN went as JSON')
      const t = rowsOf(await readDelta(uri))
      assert.equal(t.length, n + 1)
      assert.equal(new Set(t.map((r) => Number(r.id))).size, n + 1)
      assert.ok(Number.isNaN(t.find((r) => Number(r.id) === 68_000).x))
      assert.equal(t.find((r) => Number(r.id) === 67_999).x, 67_999 / 2)
      // A later row with a key more than the first: JSON, which makes it a column.
      const extra = scratch('row-columns-extra-key')
      await writeDelta(extra, [{ a: 1 }, { a: 2, b: 3 }, { a: null }])
      const e = await readDelta(extra)
      assert.deepEqual(typeNames(e), { a: 'Int64', b: 'Int64' })
      assert.deepEqual(
        rowsOf(e).map((r) => [r.a, r.b]),
        [
          ['1', null],
          ['2', '3'],
          [null, null],
        ],
      )
      // Mixed kinds in one column are what the JSON path says of them (here: refused, naming the row).
      await assert.rejects(writeDelta(scratch('row-columns-kinds'), [{ v: 1 }, { v: 'one' }]), (e) => e.code === 'INVALID_DATA')
    })

    it('into a table of other types go as JSON, which converts them as before (int, timestamp from text)', async () => {
      const uri = scratch('row-columns-typed')
      await writeDelta(
        uri,
        new Table({
          qty: makeVector(Int32Array.from([1])),
          at: vectorFromArray([new Date('2024-01-01T00:00:00Z')], new TimestampMicrosecond('UTC')),
          name: vectorFromArray(['a'], new Utf8()),
        }),
      )
      const { out, calls } = counted(DeltaOutputAdapter, uri, { mode: 'append' })
      await out.write([{ qty: 5, at: '2024-02-01T00:00:00Z', name: 'b' }])
      await out.close()
      assert.deepEqual(calls, { columns: [false], json: 1 })
      const t = await readDelta(uri)
      assert.equal(String(t.schema.fields.find((f) => f.name === 'qty').type), 'Int32')
      const b = rowsOf(t).find((r) => r.name === 'b')
      assert.equal(b.qty, '5')
      assert.ok(b.at, 'the timestamp was parsed from its text')
      // A table of exactly the rows' types takes the columns.
      const same = scratch('row-columns-same')
      await writeDelta(same, [{ id: 1, name: 'a' }])
      const second = counted(DeltaOutputAdapter, same, { mode: 'append' })
      await second.out.write([{ name: 'b', id: 2 }])
      await second.out.close()
      assert.deepEqual(second.calls, { columns: [true], json: 0 })
      assert.deepEqual(
        rowsOf(await readDelta(same))
          .map((r) => `${r.id}:${r.name}`)
          .sort(),
        ['1:a', '2:b'],
      )
    })

    it('reach a DeltaWriter as columns too (JSON into a table of other types); the coordinator commits each row once', async () => {
      const uri = scratch('row-columns-writer')
      const n = 70_000 // two chunks of columns
      const values = Array.from({ length: n }, (_, i) => ({ id: i, name: `n${i % 7}`, amount: i / 4 }))
      const first = counted(DeltaWriter, uri)
      await first.out.write(values)
      await new DeltaCoordinator(uri).commit([await first.out.finish()])
      assert.deepEqual(first.calls, { columns: [true, true], json: 0 })
      const t = await readDelta(uri)
      assert.deepEqual(typeNames(t), { id: 'Int64', name: 'Utf8', amount: 'Float64' })
      assert.equal(t.numRows, n)
      const ids = Float64Array.from(t.getChild('id'), Number).sort()
      assert.deepEqual(
        ids,
        Float64Array.from({ length: n }, (_, i) => i),
      )
      assert.equal(rowsOf(t).find((r) => r.id === '4001').amount, 4001 / 4)

      const typed = scratch('row-columns-writer-typed')
      await writeDelta(typed, new Table({ qty: makeVector(Int32Array.from([1])) }))
      const second = counted(DeltaWriter, typed)
      await second.out.write([{ qty: 5 }])
      await new DeltaCoordinator(typed).commit([await second.out.finish()], {})
      assert.deepEqual(second.calls, { columns: [false], json: 1 })
      const back = await readDelta(typed)
      assert.equal(String(back.schema.fields[0].type), 'Int32')
      assert.deepEqual(
        rowsOf(back)
          .map((r) => r.qty)
          .sort(),
        ['1', '5'],
      )
    })
  })
}

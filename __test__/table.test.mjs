// The DeltaTable API beyond reads (create, refresh, add actions, counts, limits), against Python
// deltalake; schemas given as Delta type names.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'
import {
  CsvInputAdapter,
  DeltaCoordinator,
  DeltaInputAdapter,
  DeltaOutputAdapter,
  DeltaTable,
  DeltaWriter,
  readDelta,
  toRows,
  writeDelta,
} from '../index.mjs'
import { py, rejectsWith, scratch } from './helpers.mjs'
import { parquetMeta, tableApiTests } from './table-api.mjs'

describe('DeltaTable API', () => {
  tableApiTests({ DeltaTable, writeDelta, readDelta, DeltaOutputAdapter, DeltaInputAdapter, toRows })

  it('writerProperties apply to optimize and to DeltaWriter files too', async () => {
    const uri = scratch('writer-props-optimize')
    for (let i = 0; i < 3; i++) await writeDelta(uri, [{ id: i, name: `n${i}` }])
    const dt = await DeltaTable.open(uri)
    await dt.optimize.compact({ writerProperties: { compression: 'GZIP', compressionLevel: 9 } })
    const [compacted, ...others] = await dt.files()
    assert.equal(others.length, 0)
    const meta = JSON.parse(py('parquet_meta.py', path.join(uri, compacted.path)))
    assert.ok(meta.length === 2 && meta.every((m) => m.compression === 'GZIP'))
    await rejectsWith(dt.optimize.compact({ writerProperties: { writeBatchSize: 0 } }), 'INVALID_ARGUMENT', /writeBatchSize/)

    const fanout = scratch('writer-props-fanout')
    const w = new DeltaWriter(fanout, {
      writerProperties: { compression: 'BROTLI', defaultColumnProperties: { statisticsEnabled: 'NONE' } },
    })
    await w.write([{ id: 1, name: 'a' }])
    await new DeltaCoordinator(fanout).commit(await w.finish())
    const written = parquetMeta(fanout)
    assert.ok(written.length === 2 && written.every((m) => m.compression === 'BROTLI' && m.min === null))
  })

  it('tables with the writer features Databricks enables (inCommitTimestamp, domainMetadata, checkConstraints, appendOnly) read; writes honour them or are UNSUPPORTED_FEATURE naming the feature', async () => {
    // Protocol upgrades as a newer writer commits them (by hand: no peer here writes these).
    const upgraded = async (feature, configuration = {}) => {
      const uri = scratch(`feature-${feature}`)
      await writeDelta(uri, [{ id: 1 }, { id: 2 }])
      const commitInfo = { timestamp: Date.now(), operation: 'SET TBLPROPERTIES', operationParameters: {} }
      const protocol = { minReaderVersion: 1, minWriterVersion: 7, writerFeatures: [feature] }
      const { metaData } = fs
        .readFileSync(path.join(uri, '_delta_log', '00000000000000000000.json'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
        .find((a) => a.metaData)
      const metadata = { metaData: { ...metaData, configuration: { ...metaData.configuration, ...configuration } } }
      const actions = [commitInfo, protocol, metadata].map((a, i) =>
        JSON.stringify(i === 0 ? { commitInfo: a } : i === 1 ? { protocol: a } : a),
      )
      fs.writeFileSync(path.join(uri, '_delta_log', '00000000000000000001.json'), `${actions.join('\n')}\n`)
      return uri
    }
    const ids = async (uri) => Array.from((await readDelta(uri)).getChild('id').toArray(), Number).sort((a, b) => a - b)
    // delta-rs 1.1 writes neither: refused, naming the feature; the table stays readable and unchanged.
    for (const [feature, conf] of [
      ['inCommitTimestamp', { 'delta.enableInCommitTimestamps': 'true' }],
      ['domainMetadata', {}],
    ]) {
      const uri = await upgraded(feature, conf)
      assert.deepEqual(await ids(uri), [1, 2], `${feature}: reads`)
      await rejectsWith(writeDelta(uri, [{ id: 3 }]), 'UNSUPPORTED_FEATURE', new RegExp(feature, 'i'))
      assert.equal((await DeltaTable.open(uri)).version, 1)
    }
    // checkConstraints: enforced on writes.
    const checked = await upgraded('checkConstraints', { 'delta.constraints.positive': 'id > 0' })
    await writeDelta(checked, [{ id: 3 }])
    await rejectsWith(
      writeDelta(checked, [{ id: -1 }]),
      'INVALID_DATA',
      /failed validation check \(the table's CHECK constraints: positive \(id > 0\)\)/,
    )
    assert.deepEqual(await ids(checked), [1, 2, 3])
    // appendOnly: appends go in, removing rows is refused.
    const appendOnly = await upgraded('appendOnly', { 'delta.appendOnly': 'true' })
    await writeDelta(appendOnly, [{ id: 3 }])
    await rejectsWith((await DeltaTable.open(appendOnly)).delete('id = 1'), 'PROTOCOL', /append-only/)
    await rejectsWith(writeDelta(appendOnly, [{ id: 9 }], { mode: 'overwrite' }), 'PROTOCOL', /append-only/)
    assert.deepEqual(await ids(appendOnly), [1, 2, 3])
  })

  it("optimize's partition filter takes one AND-list: an OR of them is INVALID_ARGUMENT", async () => {
    const uri = scratch('optimize-dnf')
    await writeDelta(uri, [{ id: 1, part: 'a' }], { partitionBy: ['part'] })
    const dt = await DeltaTable.open(uri)
    await rejectsWith(dt.optimize.compact({ filter: [[['part', '=', 'a']], [['part', '=', 'b']]] }), 'INVALID_ARGUMENT', /joined with AND/)
    assert.equal(dt.version, 0)
  })

  it('file input adapters take a schema as Delta type names too, and a bad one is INVALID_ARGUMENT, not a TypeError', async () => {
    const dir = scratch('csv-schema')
    fs.mkdirSync(dir, { recursive: true })
    const file = `${dir}/rows.csv`
    fs.writeFileSync(file, 'id,amount,day\n1,2.50,2024-01-02\n2,3.25,2024-01-03\n')
    const t = await new CsvInputAdapter(file, { schema: { id: 'long', amount: 'decimal(10,2)', day: 'date' } }).readAll()
    assert.deepEqual(
      t.schema.fields.map((f) => [f.name, String(f.type)]),
      [
        ['id', 'Int64'],
        ['amount', 'Decimal[10e+2]'],
        ['day', 'Date32<DAY>'],
      ],
    )
    assert.deepEqual([t.schema.fields[1].type.precision, t.schema.fields[1].type.scale], [10, 2])
    assert.equal(t.numRows, 2)
    assert.throws(
      () => new CsvInputAdapter(file, { schema: { id: 'number' } }),
      (e) => e.code === 'INVALID_ARGUMENT' && /unknown Delta type/.test(e.message),
    )
    assert.throws(
      () => new CsvInputAdapter(file, { schema: 42 }),
      (e) => e.code === 'INVALID_ARGUMENT',
    )
  })
})

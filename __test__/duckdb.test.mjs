// The second interop peer: DuckDB's delta reader (built on delta-kernel, not on delta-rs) reads the
// tables zoopipe writes exactly as zoopipe reads them — every type, partitions that need escaping,
// coordinator commits, checkpoints, and files rewritten by DML on tables other engines wrote.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import { describe, it } from 'node:test'
import { DeltaCoordinator, DeltaTable, DeltaWriter, readDelta, writeDelta } from '../index.mjs'
import { DV_TABLE, INT96_TABLE, assertSameTable, duckRead, engineTable, fixture, people, scratch } from './helpers.mjs'

async function sameInDuckDB(uri) {
  const ours = await readDelta(uri)
  assert.ok(ours.numRows > 0, uri)
  assertSameTable(duckRead(uri), ours, uri)
}

describe('DuckDB reads what zoopipe wrote, row for row', () => {
  it('every data type, with nulls (an Arrow table written as a new table)', async () => {
    const uri = scratch('duck-types')
    await writeDelta(uri, await readDelta(fixture('all_types')))
    await sameInDuckDB(uri)
  })

  it('partition values that need escaping, written by writeDelta and by DeltaWriter + DeltaCoordinator', async () => {
    const uri = scratch('duck-parts')
    const values = ['A/A', 'B B', 'C%C', 'D=D', '2024-01-01 00:00:00', 'ünï', null]
    await writeDelta(
      uri,
      values.map((part, i) => ({ id: BigInt(i), part })),
      { partitionBy: ['part'] },
    )
    const w = new DeltaWriter(uri)
    await w.write(values.map((part, i) => ({ id: BigInt(100 + i), part })))
    await new DeltaCoordinator(uri).commit(await w.finish())
    await sameInDuckDB(uri)
  })

  it('a checkpointed table after overwrite, delete, update, merge and compaction', async () => {
    const uri = scratch('duck-dml')
    for (let i = 0; i < 4; i++)
      await writeDelta(uri, people([2 * i, 2 * i + 1], { part: i % 2 ? 'odd' : 'even' }), { partitionBy: ['part'] })
    const dt = await DeltaTable.open(uri)
    await dt.delete('id = 3')
    await dt.update({ set: { name: "'updated'" }, predicate: 'id < 2' })
    await dt
      .merge(people([7, 50], { part: 'odd' }), { predicate: 'target.id = source.id' })
      .whenMatchedUpdate({ updates: { name: "'merged'" } })
      .whenNotMatchedInsert({ values: { id: 'source.id', name: 'source.name', part: 'source.part' } })
      .execute()
    await dt.optimize.compact()
    await dt.createCheckpoint()
    await writeDelta(uri, people([60], { part: 'even' }))
    await sameInDuckDB(uri)
  })

  it('tables Databricks wrote, after zoopipe rewrote files: deletion vectors stay applied, INT96 dates stay 9999', async () => {
    const dv = engineTable(DV_TABLE)
    await (await DeltaTable.open(dv)).update({ set: { value: 'value * 10' }, predicate: 'value > 6' })
    await sameInDuckDB(dv)
    const int96 = engineTable(INT96_TABLE)
    await (await DeltaTable.open(int96)).update({ set: { SOME_VALUE: 'SOME_VALUE + 10' }, predicate: 'SOME_VALUE = 1' })
    await sameInDuckDB(int96)
  })

  it('appends into a column-mapped table', async () => {
    const uri = scratch('duck-colmap')
    fs.cpSync(fixture('column_mapping'), uri, { recursive: true })
    await writeDelta(uri, [{ a: 4n, 'b c': 'w' }])
    await sameInDuckDB(uri)
  })
})

// `signal: AbortSignal` on every long operation (full build): reads and writes (abort-cases.mjs, shared
// with the slim build), and the DataFusion operations — optimize, merge, delete, update, vacuum,
// restore, loadCdf — whose native work stops and which commit nothing when aborted.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import { describe, it } from 'node:test'
import { DeltaInputAdapter, DeltaOutputAdapter, DeltaTable, readDelta, writeDelta } from '../index.mjs'
import { abortTests, holdingCommits, logVersions } from './abort-cases.mjs'
import { people, range, rejectsWith, scratch } from './helpers.mjs'

const ids = async (uri) => Array.from((await readDelta(uri)).getChild('id').toArray(), Number).sort((a, b) => a - b)

/** A table of 4 small files (versions 0-3), ids 0..39. */
async function fourFiles(name, options) {
  const uri = scratch(name)
  for (let v = 0; v < 4; v++) await writeDelta(uri, people(range(v * 10, v * 10 + 10)), options)
  return uri
}

describe('AbortSignal', () => {
  abortTests({ DeltaTable, writeDelta, readDelta, DeltaOutputAdapter, DeltaInputAdapter })

  it('optimize, merge, delete and update aborted mid-operation stop with ABORTED and commit nothing, then or later', async () => {
    const uri = await fourFiles('abort-ops')
    const dt = await DeltaTable.open(uri)
    const ops = {
      compact: (signal) => dt.optimize.compact({ signal }),
      zOrder: (signal) => dt.optimize.zOrder(['id'], { signal }),
      merge: (signal) =>
        dt
          .merge(people([1, 100]), { predicate: 'target.id = source.id', signal })
          .whenMatchedUpdateAll()
          .whenNotMatchedInsertAll()
          .execute(),
      delete: (signal) => dt.delete('id < 5', { signal }),
      update: (signal) => dt.update({ set: { name: "'x'" }, predicate: 'id = 3', signal }),
    }
    for (const [name, op] of Object.entries(ops)) {
      const controller = new AbortController()
      const started = Date.now()
      await holdingCommits(1500, async () => {
        const running = op(controller.signal)
        setTimeout(() => controller.abort(), 300)
        await rejectsWith(running, 'ABORTED', /aborted by its signal before it committed/)
      })
      assert.ok(Date.now() - started < 1200, `${name}: the held commit was dropped, not waited for (${Date.now() - started} ms)`)
      assert.equal(dt.version, 3, `${name}: the handle did not move`)
    }
    await new Promise((r) => setTimeout(r, 1600))
    assert.equal(logVersions(uri), 4, 'no aborted operation landed later')
    assert.deepEqual(await ids(uri), range(0, 40))
    // Not aborted: the same operations run as usual.
    const m = await ops.delete(new AbortController().signal)
    assert.equal(m.numDeletedRows, 5)
    assert.equal((await DeltaTable.open(uri)).version, 4)
  })

  it('an already-aborted signal fails vacuum, restore and loadCdf before they start; vacuum deletes nothing', async () => {
    const uri = await fourFiles('abort-pre', { configuration: { 'delta.enableChangeDataFeed': 'true' } })
    const dt = await DeltaTable.open(uri)
    await dt.optimize.compact()
    const files = () => fs.readdirSync(uri).filter((f) => f.endsWith('.parquet')).length
    const before = files()
    const signal = AbortSignal.abort()
    await rejectsWith(dt.vacuum({ retentionHours: 0, enforceRetentionDuration: false, dryRun: false, signal }), 'ABORTED')
    assert.equal(files(), before)
    await rejectsWith(dt.restore(1, { signal }), 'ABORTED')
    assert.equal((await DeltaTable.open(uri)).version, 4)
    await rejectsWith(
      (async () => {
        for await (const _ of dt.loadCdf({ startingVersion: 0, signal })) {
        }
      })(),
      'ABORTED',
    )
    // loadCdf aborted after its first batch.
    const controller = new AbortController()
    let batches = 0
    await rejectsWith(
      (async () => {
        for await (const _ of dt.loadCdf({ startingVersion: 0, batchSize: 5, signal: controller.signal })) {
          batches++
          controller.abort()
        }
      })(),
      'ABORTED',
    )
    assert.equal(batches, 1)
    const vacuumed = await dt.vacuum({
      retentionHours: 0,
      enforceRetentionDuration: false,
      dryRun: false,
      signal: new AbortController().signal,
    })
    assert.equal(vacuumed.filesDeleted.length, 4)
    assert.throws(() => dt.merge(people([1]), { predicate: 'target.id = source.id', signal: {} }), /AbortSignal/)
  })
})

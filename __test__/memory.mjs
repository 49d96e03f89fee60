// What a streamed write holds: one open file per partition value, and row groups sized so all open
// files share maxBufferedBytes (checked in the written Parquet footers). Shared by both builds.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import crypto from 'node:crypto'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { it } from 'node:test'
import { Table, makeVector, tableFromArrays } from 'apache-arrow'
import { dataFiles, py, rejectsWith, scratch } from './helpers.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))

/** Per data file (sorted by path): its partition folder and its row groups' byte sizes. */
const rowGroups = (uri) => JSON.parse(py('row_groups.py', uri))

/** 50,000 rows from `from`: 80 random hex characters each (barely compressible), 8 partition values. */
const batch = (from, n = 50_000) =>
  tableFromArrays({
    id: Int32Array.from({ length: n }, (_, i) => from + i),
    name: Array.from({ length: n }, () => crypto.randomBytes(40).toString('hex')),
    part: Array.from({ length: n }, (_, i) => `p${(from + i) % 8}`),
  })

export function bufferBudgetTests({ DeltaOutputAdapter, DeltaWriter, DeltaCoordinator, readDelta, writeDelta }) {
  const write = async (uri, options) => {
    const out = new DeltaOutputAdapter(uri, { partitionBy: ['part'], ...options })
    for (let from = 0; from < 400_000; from += 50_000) await out.write(batch(from))
    return out.close()
  }

  it('a streamed partitioned write keeps one file per partition value open, and its row groups share maxBufferedBytes', async () => {
    // 400,000 rows, ~34 MB of text: 4 MB per value. A 20 MiB budget over 8 open files is 1 MiB
    // row groups (20 MiB x 2 / (5 x 8)); the default 64 MiB budget is 3.2 MiB ones.
    const small = scratch('budget-small')
    const res = await write(small, { maxBufferedBytes: 20 << 20 })
    assert.equal(res.numRows, 400_000)
    const files = rowGroups(small)
    assert.deepEqual(
      files.map(([dir]) => dir),
      ['part=p0', 'part=p1', 'part=p2', 'part=p3', 'part=p4', 'part=p5', 'part=p6', 'part=p7'],
      'one file per partition value',
    )
    const groups = files.flatMap(([, g]) => g)
    assert.ok(Math.max(...groups) < 1.5 * (1 << 20), `largest row group ${Math.max(...groups)} bytes`)
    assert.ok(groups.length >= 24, `${groups.length} row groups`)

    const byDefault = scratch('budget-default')
    await write(byDefault, {})
    const defaultGroups = rowGroups(byDefault).flatMap(([, g]) => g)
    assert.equal(dataFiles(byDefault).length, 8)
    assert.ok(Math.max(...defaultGroups) > 2 << 20, `largest row group ${Math.max(...defaultGroups)} bytes`)
    assert.ok(Math.max(...defaultGroups) < 4 << 20, `largest row group ${Math.max(...defaultGroups)} bytes`)
    const back = await readDelta(small)
    assert.equal(back.numRows, 400_000)
    assert.equal(new Set(back.getChild('id').toArray()).size, 400_000)
  })

  it('a DeltaWriter sizes its row groups from maxBufferedBytes too, and a budget under 1 MiB is INVALID_ARGUMENT', async () => {
    const uri = scratch('budget-writer')
    const w = new DeltaWriter(uri, { partitionBy: ['part'], maxBufferedBytes: 20 << 20 })
    for (let from = 0; from < 200_000; from += 50_000) await w.write(batch(from))
    await new DeltaCoordinator(uri).commit(await w.finish())
    const groups = rowGroups(uri).flatMap(([, g]) => g)
    assert.equal(rowGroups(uri).length, 8)
    assert.ok(Math.max(...groups) < 1.5 * (1 << 20), `largest row group ${Math.max(...groups)} bytes`)
    await rejectsWith(write(scratch('budget-bad'), { maxBufferedBytes: 1000 }), 'INVALID_ARGUMENT', /maxBufferedBytes/)
    assert.throws(() => new DeltaWriter(scratch('budget-bad2'), { maxBufferedBytes: 1000 }), /maxBufferedBytes/)
  })

  it('streamed batches larger than the whole input budget go one after another, and one larger than a run is shared by the writers: every row once', async () => {
    // 1 MiB budget: half of it for queued input, less than one 50,000-row batch (~5 MB), so each
    // write() waits until the writers have encoded the one before. The last write() is 300,000
    // rows in one batch, more than a run (262,144): its runs go to both writers under one claim.
    const uri = scratch('budget-input')
    const out = new DeltaOutputAdapter(uri, { maxBufferedBytes: 1 << 20 })
    for (let from = 0; from < 200_000; from += 50_000) await out.write(batch(from))
    await out.write(batch(200_000, 300_000))
    const res = await out.close()
    assert.equal(res.numRows, 500_000)
    const ids = (await readDelta(uri, { columns: ['id'] })).getChild('id').toArray()
    assert.equal(ids.length, 500_000)
    assert.equal(new Set(ids).size, 500_000)
    if (os.availableParallelism() > 1) assert.ok(res.numFiles >= 2, `${res.numFiles} file(s): the runs went to one writer`)
  })

  // A fresh process each (workers/copied-batches.mjs; it inherits the build to load): 48 batches
  // of 4 MB made and written one after another.
  const copiedBatches = async (name, lowMemory, ...args) => {
    const env = { ...process.env }
    if (lowMemory === undefined) delete env.ZOOPIPE_LOW_MEMORY
    else env.ZOOPIPE_LOW_MEMORY = lowMemory
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [path.join(here, 'workers', 'copied-batches.mjs'), scratch(name), '48', ...args],
      { env },
    )
    const got = JSON.parse(stdout)
    assert.equal(got.rows, 48 * 524_288)
    return got.mostArrayBufferMb
  }

  it('batches a streamed write has copied are collected by V8 within a few batches, not left to pile up to its own 64 MiB limit', async () => {
    const adapter = await copiedBatches('collect-adapter')
    const worker = await copiedBatches('collect-worker', undefined, 'writer')
    // Asked after each 16 MiB copied: that, the batch being written and one more being made.
    assert.ok(adapter < 40 && worker < 40, `most ArrayBuffer memory: adapter ${adapter} MB, DeltaWriter ${worker} MB`)
    // Not asked (ZOOPIPE_LOW_MEMORY=0): V8 lets the consumed batches reach its limit first.
    const left = await copiedBatches('collect-off', '0')
    assert.ok(left > 56, `most ArrayBuffer memory without the requests: ${left} MB`)
  })

  it("a read into one table keeps what it receives past 64 MiB out of V8's count until the next read into a table starts or a second passes: one collection per read back to back, and V8 counts every byte once they are shown", async () => {
    // 400 MB of float64 in 16 MB batches, read in fresh processes (workers/collecting-read.mjs).
    const uri = scratch('collecting-read')
    const ROWS = 524_288
    async function* batches() {
      for (let b = 0; b < 24; b++) {
        const x = new Float64Array(ROWS)
        for (let i = 0; i < ROWS; i++) x[i] = b * ROWS + i
        yield new Table({ a: makeVector(x), b: makeVector(x), c: makeVector(x), d: makeVector(x) })
      }
    }
    await writeDelta(uri, batches())
    const read = async (lowMemory) => {
      const env = { ...process.env }
      if (lowMemory === undefined) delete env.ZOOPIPE_LOW_MEMORY
      else env.ZOOPIPE_LOW_MEMORY = lowMemory
      const { stdout } = await promisify(execFile)(process.execPath, [path.join(here, 'workers', 'collecting-read.mjs'), uri], { env })
      const got = JSON.parse(stdout)
      assert.equal(got.rows, 24 * ROWS)
      assert.equal(got.bytes, 24 * ROWS * 32)
      // V8 counts the table's buffers and nothing more once the held bytes are shown (a collection
      // may have freed a little of what came before).
      assert.ok(got.counted <= got.bytes + (1 << 20) && got.counted > got.bytes - (16 << 20), JSON.stringify(got))
      return got
    }
    const held = await read()
    const counted = await read('0') // ZOOPIPE_LOW_MEMORY=0 turns it off
    // As the read ends V8 has seen its first 64 MiB; without holding back, all of it.
    assert.ok(held.countedAtEnd < 72 << 20, JSON.stringify(held))
    assert.ok(counted.countedAtEnd > held.bytes - (16 << 20), JSON.stringify(counted))
    assert.ok(
      held.majorGcs <= 2 && held.majorGcs < counted.majorGcs,
      `major collections during the read: ${held.majorGcs} held back, ${counted.majorGcs} counted as they came`,
    )
    // Three more reads back to back: the collection each starts by showing the last one's bytes,
    // and no other (the last one's end shows nothing; it was two per read when it did).
    assert.ok(
      held.loopGcs <= 3 && held.loopGcs < counted.loopGcs,
      `major collections over 3 reads back to back: ${held.loopGcs} held back, ${counted.loopGcs} counted as they came`,
    )
  })
}

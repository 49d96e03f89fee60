// `signal: AbortSignal` on reads and writes, in both builds: aborting stops the native work, rejects
// with ABORTED and commits nothing. The commit failpoint (ZOOPIPE_TEST_PAUSE_BEFORE_LOG_WRITE_MS,
// dev builds) holds a commit just before its log write, so an abort lands mid-operation for sure.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { it } from 'node:test'
import { people, range, rejectsWith, scratch } from './helpers.mjs'

/** Run `fn` with every commit held `ms` before its log write. */
export async function holdingCommits(ms, fn) {
  process.env.ZOOPIPE_TEST_PAUSE_BEFORE_LOG_WRITE_MS = String(ms)
  try {
    return await fn()
  } finally {
    delete process.env.ZOOPIPE_TEST_PAUSE_BEFORE_LOG_WRITE_MS
  }
}

export const logVersions = (uri) =>
  fs.existsSync(path.join(uri, '_delta_log'))
    ? fs.readdirSync(path.join(uri, '_delta_log')).filter((f) => /^\d{20}\.json$/.test(f)).length
    : 0

export function abortTests({ writeDelta, readDelta, DeltaTable, DeltaOutputAdapter, DeltaInputAdapter }) {
  it('signal: a read aborted mid-stream rejects with ABORTED and stops; an aborted signal fails a read before it starts', async () => {
    const uri = scratch('abort-read')
    await writeDelta(uri, people(range(0, 5000)))
    const controller = new AbortController()
    const seen = []
    await rejectsWith(
      (async () => {
        for await (const b of new DeltaInputAdapter(uri, { batchSize: 1000, signal: controller.signal })) {
          seen.push(b.numRows)
          controller.abort(new Error('enough'))
        }
      })(),
      'ABORTED',
      /enough/,
    )
    assert.deepEqual(seen, [1000], 'no batch after the abort')
    await rejectsWith(readDelta(uri, { signal: controller.signal }), 'ABORTED')
    const dt = await DeltaTable.open(uri)
    await rejectsWith(dt.toTable({ signal: AbortSignal.abort() }), 'ABORTED')
    assert.equal((await dt.toTable({ signal: new AbortController().signal })).numRows, 5000, 'a signal that never aborts changes nothing')
    assert.throws(
      () => new DeltaInputAdapter(uri, { signal: 'stop' }),
      (e) => e.code === 'INVALID_ARGUMENT' && /AbortSignal/.test(e.message),
    )
  })

  it('signal: a streamed write aborted between batches rejects with ABORTED and commits nothing; writeDelta too', async () => {
    const uri = scratch('abort-write')
    await writeDelta(uri, people([1, 2]))
    const controller = new AbortController()
    let produced = 0
    async function* batches() {
      for (let i = 0; i < 100; i++) {
        produced++
        if (i === 3) controller.abort()
        yield people(range(100 + i * 10, 110 + i * 10))
      }
    }
    await rejectsWith(writeDelta(uri, batches(), { signal: controller.signal }), 'ABORTED')
    assert.ok(produced <= 5, `the source stopped being read (${produced} batches)`)
    const out = new DeltaOutputAdapter(uri, { signal: controller.signal })
    await rejectsWith(out.write(people([7])), 'ABORTED')
    await rejectsWith(out.close(), 'ABORTED')
    assert.equal((await DeltaTable.open(uri)).version, 0)
    assert.equal((await readDelta(uri)).numRows, 2)
  })

  it('signal: aborting while close() commits cancels the commit before its log write: ABORTED, no new version, then or later', async () => {
    const uri = scratch('abort-close')
    await writeDelta(uri, people([1, 2]))
    const controller = new AbortController()
    const out = new DeltaOutputAdapter(uri, { signal: controller.signal })
    await out.write(people(range(10, 20)))
    const started = Date.now()
    await holdingCommits(1500, async () => {
      const closing = out.close()
      setTimeout(() => controller.abort(), 300)
      await rejectsWith(closing, 'ABORTED')
    })
    assert.ok(Date.now() - started < 1200, `the held commit was dropped, not waited for (${Date.now() - started} ms)`)
    await new Promise((r) => setTimeout(r, 1500))
    assert.equal(logVersions(uri), 1, 'nothing landed later')
    assert.equal((await readDelta(uri)).numRows, 2)
    // A signal that aborts after the commit changed nothing.
    const late = new AbortController()
    const res = await writeDelta(uri, people([3]), { signal: late.signal })
    late.abort()
    assert.equal(res.version, 1)
    assert.equal((await readDelta(uri)).numRows, 3)
  })
}

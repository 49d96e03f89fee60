// Append storms: many processes appending to one table at once while the machine is busy, as
// serverless functions do. Shared by the full and slim builds and the object stores.
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const run = promisify(execFile)

/** Keep every core busy until the returned function is called. */
export function busyMachine() {
  const burners = os.cpus().map(() => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }))
  return () => {
    for (const b of burners) b.kill('SIGKILL')
  }
}

/**
 * `procs` processes each append `appends` one-row commits to `uri` at the same moment.
 * Returns each append's latency (ms).
 */
export async function appendStorm(uri, { procs, appends, env = {}, storageOptions = {} }) {
  const startAt = Date.now() + 1500 // after every process has loaded the addon
  const childEnv = { ...process.env, ...env, ZOOPIPE_TEST_STORAGE: JSON.stringify(storageOptions), ZOOPIPE_TEST_START_AT: String(startAt) }
  const workers = Array.from({ length: procs }, (_, w) =>
    run(process.execPath, [path.join(here, 'workers', 'append.mjs'), uri, String(w), String(appends)], { env: childEnv }),
  )
  const settled = await Promise.allSettled(workers)
  const failed = settled.filter((s) => s.status === 'rejected').map((s) => s.reason.stderr || String(s.reason))
  assert.deepEqual(failed, [], `${failed.length} of ${procs} processes failed`)
  return settled.flatMap((s) => JSON.parse(s.value.stdout.trim().split('\n').pop()).ms)
}

/** What the storm's commits say of their races: commits that lost at least one race to another writer. */
export function retriedCommits(commitInfos) {
  return commitInfos.filter(
    (c) => Number(c.operationMetrics?.num_retries ?? 0) > 0 || (c.readVersion !== undefined && c.readVersion < c.version - 1),
  ).length
}

export function appendStormTests(
  { writeDelta, readDelta, DeltaTable },
  { label, uri, storageOptions = () => ({}), env = () => ({}), procs = 8, appends = 6 },
) {
  return [
    `${label}: ${procs} processes x ${appends} appends at once on a busy machine: ${procs * appends} new versions, every row exactly once, no error`,
    async () => {
      const so = storageOptions()
      const target = uri()
      await writeDelta(target, [{ worker: -1, seq: -1, key: 'seed' }], { storageOptions: so })
      const idle = busyMachine()
      let latencies
      try {
        latencies = await appendStorm(target, { procs, appends, env: env(), storageOptions: so })
      } finally {
        idle()
      }
      assert.equal(latencies.length, procs * appends)
      const dt = await DeltaTable.open(target, { storageOptions: so })
      assert.equal(dt.version, procs * appends)
      const keys = [...(await readDelta(target, { storageOptions: so }))].map((r) => r.key)
      assert.equal(keys.length, procs * appends + 1)
      assert.equal(new Set(keys).size, procs * appends + 1)
      // The race happened: commits found their version taken and went on to a later one.
      const history = await dt.history()
      assert.equal(history.length, procs * appends + 1)
      assert.ok(retriedCommits(history) > 0, 'no commit lost a race: the storm did not overlap')
    },
  ]
}

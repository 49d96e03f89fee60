'use strict'
// A Pipe from a DeltaChangesInputAdapter into a DeltaOutputAdapter with an appId: exactly once by
// construction. The progress marker is the target's own transaction (appId, appVersion = the last
// source version written), committed atomically with the rows; a run starts after the marker.
const { DeltaError } = require('./errors')
const { sleep } = require('./abort')

/** Whether `pipe` runs incrementally: changes in, a DeltaOutputAdapter with appId (and no appVersion) out. */
function incremental(input, output) {
  const cp = output?._options?.commitProperties
  return (
    typeof input?.versions === 'function' &&
    typeof input?.latestVersion === 'function' &&
    typeof input?.checkStart === 'function' &&
    typeof output?._withAppVersion === 'function' &&
    typeof cp?.appId === 'string' &&
    (cp.appVersion === undefined || cp.appVersion === null)
  )
}

/** The last appVersion `appId` committed to the target, or null (no table yet, or never). */
async function committedVersion(output, DeltaTable) {
  const storage = { storageOptions: output._options.storageOptions }
  if (!(await DeltaTable.isDeltaTable(output.uri, storage))) return null
  const target = await DeltaTable.open(output.uri, storage)
  return target.transactionVersion(output._options.commitProperties.appId)
}

/**
 * Source versions after the target's marker, in groups of at most `maxVersionsPerCommit` (all of
 * them by default, 1 with `follow`), each group one target commit with appVersion = its last
 * version. With `follow`, keeps polling until the pipe's (or the input's) signal aborts; the
 * report then covers what was committed.
 */
async function runIncremental(pipe, { DeltaTable, pump, setOutput, progress, checkAbort }) {
  const input = pipe.input
  const template = pipe.output
  const per = pipe.maxVersionsPerCommit ?? (input.follow ? 1 : Number.POSITIVE_INFINITY)
  const last = await committedVersion(template, DeltaTable)
  let next = Math.max(input.startingVersion, last === null ? 0 : last + 1)
  const signal = pipe.signal ?? input.signal
  let version = null
  let from = null
  let to = null
  let commits = 0
  let idle = 0
  // The template adapter is never written: each group gets its own with its appVersion.
  await template.abort().catch(() => {})
  for (;;) {
    checkAbort()
    const latest = await input.latestVersion()
    if (commits === 0 && from === null) input.checkStart(latest)
    const end = input.endingVersion === undefined ? latest : Math.min(latest, input.endingVersion)
    while (next <= end) {
      const groupEnd = Math.min(end, next + per - 1)
      const out = template._withAppVersion(groupEnd)
      setOutput(out)
      await pump(input.versions(next, groupEnd))
      checkAbort()
      progress(true)
      const res = await out.close()
      // No rows (e.g. metadata-only commits): nothing is committed, and the versions are read again next run.
      if (res.numRows > 0 || res.numFiles > 0) {
        version = res.version
        commits++
      }
      from ??= next
      to = groupEnd
      next = groupEnd + 1
      idle = 0
    }
    if (!input.follow || (input.endingVersion !== undefined && next > input.endingVersion)) break
    try {
      await sleep(input.pollIntervalMs * Math.min(8, 2 ** Math.min(idle++, 3)), signal)
    } catch (err) {
      if (err instanceof DeltaError && err.code === 'ABORTED') break // following ends with the signal
      throw err
    }
  }
  return { version, commits, sourceVersions: from === null ? null : { from, to } }
}

module.exports = { incremental, runIncremental }

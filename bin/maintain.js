'use strict'
// zoopipe CLI: the commands that change a table's files or list them — files, vacuum, optimize,
// restore. Flags mirror the API's option names in kebab-case; --json prints the API's result.
const HELP = {
  files:
    'Usage: zoopipe files <uri> [--json] [--option KEY=VALUE]...\n  Lists the active data files: path, size, rows and partition values.',
  vacuum: `Usage: zoopipe vacuum <uri> [options]
  Deletes data files no version within the retention needs. Without --yes it only prints what it
  would delete (a dry run, as DeltaTable.vacuum() by default).
  --retention-hours N             keep files removed less than N hours ago (default: the table's, 7 days)
  --no-enforce-retention          allow a retention below the table's (also --no-enforce-retention-duration)
  --keep-versions 3,4             keep the files of these versions too
  --full                          also files no version references (left by writes that died)
  --yes                           delete them
  --json                          print the result as JSON`,
  optimize: `Usage: zoopipe optimize <uri> [options]
  Compacts small files into files of about --target-size bytes, in one commit (or Z-orders).
  --target-size N      bytes per file (default: the table's delta.targetFileSize or 100 MiB)
  --filter EXPR        only partitions matching "col op value" (repeatable, ANDed; partition columns)
  --z-order a,b        Z-order the rows by these columns instead of compacting
  --json               print the metrics as JSON`,
  restore: `Usage: zoopipe restore <uri> <version | ISO timestamp> [options]
  Restores the table to a version (a number) or the latest version at or before a time, in one commit.
  --ignore-missing-files         restore even when data files of the target version are gone
  --protocol-downgrade-allowed   allow a target version with a lower protocol
  --json                         print the metrics as JSON`,
}

const OPTIONS = {
  json: { type: 'boolean' },
  'retention-hours': { type: 'string' },
  'no-enforce-retention': { type: 'boolean' },
  'no-enforce-retention-duration': { type: 'boolean' },
  'keep-versions': { type: 'string' },
  full: { type: 'boolean' },
  yes: { type: 'boolean' },
  'target-size': { type: 'string' },
  'z-order': { type: 'string' },
  'ignore-missing-files': { type: 'boolean' },
  'protocol-downgrade-allowed': { type: 'boolean' },
}

function createMaintain({ zp, UsageError, parseFilter, plural, printJson }) {
  const number = (v, flag) => {
    if (v === undefined) return undefined
    const n = Number(v)
    if (v === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`${flag} must be a number >= 0, got '${v}'`)
    return n
  }
  const open = (uri, so) => zp.DeltaTable.open(uri, { storageOptions: so })

  async function files(uri, so, v) {
    const list = await (await open(uri, so)).files()
    if (v.json) return printJson(list)
    for (const f of list) {
      const parts = Object.entries(f.partitionValues ?? {}).map(([k, x]) => `${k}=${x}`)
      console.log(`${f.path}  ${f.size} bytes  ${f.numRecords ?? '?'} rows${parts.length ? `  ${parts.join(' ')}` : ''}`)
    }
    console.error(`(${plural(list.length, 'file')})`)
  }

  async function vacuum(uri, so, v) {
    const keep = v['keep-versions']
    const result = await (await open(uri, so)).vacuum({
      retentionHours: number(v['retention-hours'], '--retention-hours'),
      enforceRetentionDuration: v['no-enforce-retention'] || v['no-enforce-retention-duration'] ? false : undefined,
      keepVersions: keep === undefined ? undefined : keep.split(',').map((x) => number(x.trim(), '--keep-versions')),
      full: v.full ? true : undefined,
      dryRun: !v.yes,
    })
    if (v.json) return printJson(result)
    for (const f of result.filesDeleted) console.log(f)
    console.error(
      result.dryRun
        ? `would delete ${plural(result.filesDeleted.length, 'file')} (a dry run: --yes deletes them)`
        : `deleted ${plural(result.filesDeleted.length, 'file')}`,
    )
  }

  async function optimize(uri, so, v) {
    const dt = await open(uri, so)
    const options = { targetSize: number(v['target-size'], '--target-size'), filter: (v.filter ?? []).map(parseFilter) }
    const m = v['z-order'] ? await dt.optimize.zOrder(v['z-order'].split(','), options) : await dt.optimize.compact(options)
    if (v.json) return printJson(m)
    console.log(
      `${plural(m.numFilesRemoved, 'file')} rewritten into ${m.numFilesAdded} (${m.partitionsOptimized} ${m.partitionsOptimized === 1 ? 'partition' : 'partitions'}); version ${dt.version}`,
    )
  }

  async function restore(uri, target, so, v) {
    const to = /^\d+$/.test(target) ? Number(target) : target
    const dt = await open(uri, so)
    const m = await dt.restore(to, {
      ignoreMissingFiles: v['ignore-missing-files'] ? true : undefined,
      protocolDowngradeAllowed: v['protocol-downgrade-allowed'] ? true : undefined,
    })
    if (v.json) return printJson({ ...m, version: dt.version })
    console.log(`restored to ${target}: version ${dt.version} (${plural(m.numRemovedFile, 'file')} removed, ${m.numRestoredFile} restored)`)
  }

  return { files, vacuum, optimize, restore }
}

module.exports = { HELP, OPTIONS, createMaintain }

#!/usr/bin/env node
'use strict'
// zoopipe CLI: inspect, history, cat, convert, sync here; files, vacuum, optimize, restore in maintain.js.
// Storage options from --option KEY=VALUE and the environment.
const { parseArgs } = require('node:util')
const path = require('node:path')
const zp = require('..')
const { Type } = require('apache-arrow')
const maintain = require('./maintain')

const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`

const HELP = {
  main: `Usage: zoopipe <command> [options]

Commands:
  inspect <uri> [--json]             version, schema, partition columns, files, protocol, properties
  history <uri> [--limit N] [--json] commits, newest first
  files <uri> [--json]               the active data files
  cat <uri> [--version N] [--timestamp T] [--columns a,b] [--filter EXPR]... [--limit N] [--format table|ndjson|csv]
  convert <csv|ndjson|parquet path> <delta uri> [--partition-by a,b] [--mode append|overwrite|error|ignore]
  sync <source uri> <target uri> --app-id ID [--follow]   append what the source's commits added since the last sync, exactly once
  vacuum <uri> [--retention-hours N] [--no-enforce-retention] [--full] [--yes]   delete unneeded files (a dry run without --yes)
  optimize <uri> [--target-size N] [--filter EXPR]... [--z-order a,b]            compact small files
  restore <uri> <version | timestamp>                                            restore an earlier version

Every command takes --option KEY=VALUE (storage options, repeatable) and --help; zoopipe --version
prints the version.`,
  inspect:
    'Usage: zoopipe inspect <uri> [--json] [--option KEY=VALUE]...\n  Prints version, schema, partition columns, file count and size, protocol and table properties.',
  history: 'Usage: zoopipe history <uri> [--limit N] [--json] [--option KEY=VALUE]...\n  Prints the commits of the table, newest first.',
  cat: `Usage: zoopipe cat <uri> [options]
  --version N          time travel to version N
  --timestamp T        time travel to the latest version at or before T (ISO 8601)
  --columns a,b        only these columns
  --filter EXPR        "col op value" with op one of = != < <= > >= in, not in (repeatable, ANDed); values are
                       JSON or text, a set a JSON array or comma-separated ("id in 1,2", "day not in ["a"]")
  --limit N            at most N rows
  --format F           table (default), ndjson or csv`,
  convert: `Usage: zoopipe convert <source> <delta uri> [options]
  <source>             a .csv, .ndjson/.jsonl/.json or .parquet file, directory or glob
  --format F           csv, ndjson or parquet (default: from the extension)
  --partition-by a,b   partition columns of a new table
  --mode M             append (default), overwrite, error or ignore`,
  sync: `Usage: zoopipe sync <source uri> <target uri> --app-id ID [options]
  Appends to the target the rows the source's commits added since the version the target last
  recorded for ID (each row with _commit_version and _commit_timestamp), in one commit that also
  records the new version: a sync killed at any point and run again writes every row exactly once.
  --app-id ID              the sync's name in the target's log (required)
  --follow                 then keep polling the source, one target commit per source version (Ctrl-C stops)
  --poll-interval-ms N     poll interval while following (default 1000)
  --partition-by a,b       partition columns of a new target table`,
  ...maintain.HELP,
}

class UsageError extends Error {}

function storageOptions(list = []) {
  const out = {}
  for (const kv of list) {
    const i = kv.indexOf('=')
    if (i <= 0) throw new UsageError(`--option takes KEY=VALUE, got '${kv}'`)
    out[kv.slice(0, i)] = kv.slice(i + 1)
  }
  return out
}

function parseFilter(expr) {
  // "col in [1, 2]" / "col not in a,b": a JSON array, or comma-separated values
  const set = /^\s*([^\s=!<>]+)\s+(not\s+in|in)\s+(.+)$/i.exec(expr)
  if (set) {
    let values = set[3].trim().replace(/^\((.*)\)$/, '$1') // SQL's "in (1, 2)" too
    try {
      values = JSON.parse(values)
    } catch {
      values = values.split(',').map(jsonOrText)
    }
    if (!Array.isArray(values)) values = [values]
    return [set[1], set[2].toLowerCase().replace(/\s+/, ' '), values]
  }
  const m = /^\s*([^\s=!<>]+)\s*(=|!=|<=|>=|<|>)\s*(.*)$/.exec(expr)
  if (!m) throw new UsageError(`--filter '${expr}' is not "column op value" (op: = != < <= > >= in, not in)`)
  return [m[1], m[2], jsonOrText(m[3])]
}

function jsonOrText(text) {
  const t = text.trim()
  try {
    return JSON.parse(t)
  } catch {
    return t
  }
}

const jsonSafe = (_k, v) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v)
const cell = (v) => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v, jsonSafe) : String(v))
const csvCell = (v) => {
  const s = cell(v)
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

const printJson = (value) => console.log(JSON.stringify(value, jsonSafe, 2))

function printTable(rows, columns) {
  const widths = columns.map((c) => Math.min(40, Math.max(c.length, ...rows.map((r) => cell(r[c]).length))))
  const fmt = (vals) => vals.map((v, i) => v.slice(0, widths[i]).padEnd(widths[i])).join('  ')
  console.log(fmt(columns))
  console.log(widths.map((w) => '-'.repeat(w)).join('  '))
  for (const r of rows) console.log(fmt(columns.map((c) => cell(r[c]))))
}

async function inspect(uri, so, v) {
  const dt = await zp.DeltaTable.open(uri, { storageOptions: so })
  const files = await dt.files()
  const md = dt.metadata()
  if (v.json)
    return printJson({
      uri,
      version: dt.version,
      metadata: md,
      protocol: dt.protocol(),
      numFiles: files.length,
      sizeBytes: files.reduce((n, f) => n + f.size, 0),
      numRows: files.every((f) => f.numRecords != null) ? files.reduce((n, f) => n + f.numRecords, 0) : null,
      schema: dt.schema().fields.map((f) => ({ name: f.name, type: String(f.type), nullable: f.nullable })),
    })
  console.log(`table:      ${uri}`)
  console.log(`version:    ${dt.version}`)
  if (md.name) console.log(`name:       ${md.name}`)
  if (md.description) console.log(`description: ${md.description}`)
  console.log(`partitions: ${md.partitionColumns.length ? md.partitionColumns.join(', ') : '(none)'}`)
  console.log(
    `files:      ${files.length} (${files.reduce((n, f) => n + f.size, 0)} bytes, ${plural(
      files.reduce((n, f) => n + (f.numRecords ?? 0), 0),
      'row',
    )})`,
  )
  const p = dt.protocol()
  console.log(
    `protocol:   reader ${p.minReaderVersion}, writer ${p.minWriterVersion}${p.readerFeatures ? `, reader features ${p.readerFeatures.join(' ')}` : ''}${p.writerFeatures ? `, writer features ${p.writerFeatures.join(' ')}` : ''}`,
  )
  const conf = Object.entries(md.configuration || {})
  console.log(`properties: ${conf.length ? '' : '(none)'}`)
  for (const [k, v] of conf) console.log(`  ${k} = ${v}`)
  console.log('schema:')
  for (const f of dt.schema().fields) console.log(`  ${f.name}: ${f.type}${f.nullable ? '' : ' not null'}`)
}

async function history(uri, so, limit, v) {
  const dt = await zp.DeltaTable.open(uri, { storageOptions: so })
  const commits = await dt.history(limit)
  if (v.json) return printJson(commits)
  for (const h of commits) {
    console.log(
      `${String(h.version).padStart(6)}  ${h.timestamp ? new Date(h.timestamp).toISOString() : '-'.padEnd(24)}  ${h.operation ?? '?'}  ${JSON.stringify(h.operationParameters ?? {})}`,
    )
  }
}

async function cat(uri, so, v) {
  const format = v.format ?? 'table'
  if (!['table', 'ndjson', 'csv'].includes(format)) throw new UsageError(`--format must be table, ndjson or csv`)
  const limit = v.limit === undefined ? Infinity : Number(v.limit)
  if (!(limit >= 0)) throw new UsageError('--limit must be a number')
  const input = new zp.DeltaInputAdapter(uri, {
    storageOptions: so,
    version: v.version === undefined ? undefined : Number(v.version),
    timestamp: v.timestamp,
    columns: v.columns ? v.columns.split(',') : undefined,
    filter: (v.filter ?? []).map(parseFilter),
  })
  const rows = []
  let columns = null
  let printed = 0
  let temporal = new Set()
  for await (const batch of input.getBatches()) {
    if (!columns) {
      columns = batch.schema.fields.map((f) => f.name)
      // timestamps and dates print as ISO 8601, not epoch milliseconds
      temporal = new Set(batch.schema.fields.filter((f) => [Type.Timestamp, Type.Date].includes(f.type.typeId)).map((f) => f.name))
    }
    if (format === 'csv' && printed === 0) console.log(columns.map(csvCell).join(','))
    for (const row of batch) {
      if (printed >= limit) break
      const obj = row.toJSON()
      for (const c of temporal) if (obj[c] !== null && obj[c] !== undefined) obj[c] = new Date(Number(obj[c])).toISOString()
      if (format === 'ndjson') console.log(JSON.stringify(obj, jsonSafe))
      else if (format === 'csv') console.log(columns.map((c) => csvCell(obj[c])).join(','))
      else rows.push(obj)
      printed++
    }
    if (printed >= limit) break
  }
  if (format === 'table') {
    columns ??= (await input.table()).schema().fields.map((f) => f.name)
    printTable(rows, columns)
    console.error(`(${plural(rows.length, 'row')})`)
  }
}

async function convert(src, dst, so, v) {
  const ext = path.extname(src.replace(/[*?]+.*$/, '')).toLowerCase()
  const format = v.format ?? { '.csv': 'csv', '.ndjson': 'ndjson', '.jsonl': 'ndjson', '.json': 'ndjson', '.parquet': 'parquet' }[ext]
  const Adapter = { csv: zp.CsvInputAdapter, ndjson: zp.JsonLinesInputAdapter, parquet: zp.ParquetInputAdapter }[format]
  if (!Adapter) throw new UsageError(`cannot tell the format of '${src}': use --format csv|ndjson|parquet`)
  const report = await new zp.Pipe({
    input: new Adapter(src, { storageOptions: so }),
    output: new zp.DeltaOutputAdapter(dst, {
      storageOptions: so,
      mode: v.mode ?? 'append',
      partitionBy: v['partition-by'] ? v['partition-by'].split(',') : undefined,
    }),
  }).run()
  console.log(`wrote ${plural(report.rowsWritten, 'row')} to ${dst} (version ${report.version}) in ${report.durationMs} ms`)
}

async function sync(src, dst, so, v) {
  if (!v['app-id']) throw new UsageError(`sync needs --app-id ID\n\n${HELP.sync}`)
  const controller = new AbortController()
  const stop = () => controller.abort(new Error('interrupted'))
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  const report = await new zp.Pipe({
    input: new zp.DeltaChangesInputAdapter(src, {
      storageOptions: so,
      follow: Boolean(v.follow),
      pollIntervalMs: v['poll-interval-ms'] === undefined ? undefined : Number(v['poll-interval-ms']),
    }),
    output: new zp.DeltaOutputAdapter(dst, {
      storageOptions: so,
      partitionBy: v['partition-by'] ? v['partition-by'].split(',') : undefined,
      commitProperties: { appId: v['app-id'] },
    }),
    signal: controller.signal,
  }).run()
  process.off('SIGINT', stop)
  process.off('SIGTERM', stop)
  if (report.sourceVersions === null) console.log(`nothing new in ${src} for '${v['app-id']}'`)
  else
    console.log(
      `synced source versions ${report.sourceVersions.from}..${report.sourceVersions.to}: ${plural(report.rowsWritten, 'row')} to ${dst} in ${plural(report.commits, 'commit')} (target version ${report.version})`,
    )
}

async function main(argv) {
  const [command, ...rest] = argv
  if (command === '--version' || command === '-v') {
    console.log(require('../package.json').version)
    return 0
  }
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(HELP.main)
    return command ? 0 : 2
  }
  if (!HELP[command] || command === 'main') throw new UsageError(`unknown command '${command}'\n\n${HELP.main}`)
  const { values: v, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      option: { type: 'string', multiple: true },
      limit: { type: 'string' },
      version: { type: 'string' },
      timestamp: { type: 'string' },
      columns: { type: 'string' },
      filter: { type: 'string', multiple: true },
      format: { type: 'string' },
      'partition-by': { type: 'string' },
      mode: { type: 'string' },
      'app-id': { type: 'string' },
      follow: { type: 'boolean' },
      'poll-interval-ms': { type: 'string' },
      ...maintain.OPTIONS,
    },
  })
  if (v.help) {
    console.log(HELP[command])
    return 0
  }
  const so = storageOptions(v.option)
  const operands = { convert: '<source> <delta uri>', sync: '<source> <target uri>', restore: '<uri> <version | timestamp>' }
  const need = operands[command] ? 2 : 1
  if (positionals.length !== need) throw new UsageError(`${command} takes ${operands[command] ?? '<uri>'}\n\n${HELP[command]}`)
  const m = maintain.createMaintain({ zp, UsageError, parseFilter, plural, printJson })
  const [a, b] = positionals
  const commands = {
    inspect: () => inspect(a, so, v),
    history: () => history(a, so, v.limit === undefined ? undefined : Number(v.limit), v),
    cat: () => cat(a, so, v),
    convert: () => convert(a, b, so, v),
    sync: () => sync(a, b, so, v),
    files: () => m.files(a, so, v),
    vacuum: () => m.vacuum(a, so, v),
    optimize: () => m.optimize(a, so, v),
    restore: () => m.restore(a, b, so, v),
  }
  await commands[command]()
  return 0
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err) => {
    if (
      err instanceof UsageError ||
      (err && err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') ||
      (err && err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE')
    ) {
      console.error(`zoopipe: ${err.message}`)
      process.exitCode = 2
    } else if (err instanceof zp.DeltaError) {
      console.error(`zoopipe: ${err.code}: ${err.message}`)
      process.exitCode = 1
    } else {
      console.error(`zoopipe: ${err?.stack ? err.stack : err}`)
      process.exitCode = 1
    }
  },
)

'use strict'
// Conversions of user options into what the native layer takes.
const { invalid } = require('./errors')

function isPlainObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

// ISO 8601 date or date-time (a space for the T as SQL writes it; without a zone a date is UTC and a
// date-time local, as Date.parse has them). Date.parse alone also takes '1' (2001-01-01), '2024',
// '12/25/2024' and rolls 2024-02-30 over to March 1: a time-travel read or restore to a time the
// caller did not mean.
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})?)?$/i

function isoDate(text) {
  const m = ISO_DATE.exec(text)
  if (!m) return false
  const [y, mo, d, h = 0, mi = 0, s = 0] = m.slice(1).map((v) => (v === undefined ? undefined : Number(v)))
  const day = new Date(Date.UTC(y, mo - 1, d))
  return day.getUTCFullYear() === y && day.getUTCMonth() === mo - 1 && day.getUTCDate() === d && h < 24 && mi < 60 && s < 60
}

/** Date | ISO string | epoch millis -> epoch millis. */
function toMillis(ts, what = 'timestamp') {
  if (ts === undefined || ts === null) return undefined
  if (ts instanceof Date) {
    if (Number.isNaN(ts.getTime())) throw invalid(`${what} is an invalid Date`)
    return ts.getTime()
  }
  if (typeof ts === 'number') {
    if (!Number.isFinite(ts)) throw invalid(`${what} must be a finite number of milliseconds`)
    return ts
  }
  if (typeof ts === 'string') {
    const ms = isoDate(ts) ? Date.parse(ts.replace(' ', 'T')) : NaN
    if (Number.isNaN(ms)) throw invalid(`${what} '${ts}' is not a date (use ISO 8601, e.g. 2024-01-31T12:00:00Z)`)
    return ms
  }
  throw invalid(`${what} must be a Date, an ISO 8601 string or epoch milliseconds`)
}

function toVersion(v) {
  if (v === undefined || v === null) return undefined
  const n = typeof v === 'bigint' ? Number(v) : v
  if (typeof n !== 'number' || !Number.isInteger(n))
    throw invalid(`version must be an integer, got ${typeof v === 'string' ? `'${v}'` : String(v)}`)
  return n
}

function storageOptions(opts) {
  const so = opts?.storageOptions
  if (so === undefined || so === null) return undefined
  if (!isPlainObject(so)) throw invalid('storageOptions must be an object of string values')
  const out = {}
  for (const [k, v] of Object.entries(so)) {
    if (v === undefined || v === null) continue
    out[k] = String(v)
  }
  return out
}

function openOptions(opts = {}) {
  if (!isPlainObject(opts)) throw invalid('options must be an object')
  const version = toVersion(opts.version)
  const timestamp = toMillis(opts.timestamp)
  if (version !== undefined && timestamp !== undefined) throw invalid('give either version or timestamp, not both')
  return { storageOptions: storageOptions(opts), version, timestamp }
}

// Filter values cross as JSON: Dates become ISO strings, bigints decimal strings (the native
// layer casts string literals to the column's type), bytes (Buffer, Uint8Array) { $bytes: hex }.
function filterValue(v) {
  if (v instanceof Date) return v.toISOString()
  if (v instanceof Uint8Array) return { $bytes: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex') }
  if (typeof v === 'bigint') return v.toString()
  if (Array.isArray(v)) return v.map(filterValue)
  if (typeof v === 'number' && !Number.isFinite(v)) throw invalid(`filter value ${v} is not a finite number`)
  return v === undefined ? null : v
}

/** A `filter` option as it crosses to the native layer (undefined when not given). */
function filterOption(filter) {
  if (filter === undefined || filter === null) return undefined
  if (!Array.isArray(filter))
    throw invalid('filter must be an array of [column, op, value] triples (AND), or an array of such arrays (their OR)')
  const triple = (t) => (Array.isArray(t) ? t.map(filterValue) : t)
  // [[a], [b, c]] = a OR (b AND c), as Python deltalake's DNF filters.
  const dnf = filter.length > 0 && filter.every((g) => Array.isArray(g) && g.every(Array.isArray)) && filter.some((g) => g.length > 0)
  return dnf ? filter.map((g) => g.map(triple)) : filter.map(triple)
}

/** A read's scan options, checked. With `arrow` (the apache-arrow module tables are built with),
 *  `stringViews` is dropped where that apache-arrow has no view types: plain Utf8. */
function scanOptions(opts = {}, arrow = undefined) {
  const out = {}
  if (opts.columns !== undefined && opts.columns !== null) {
    if (!Array.isArray(opts.columns) || !opts.columns.every((c) => typeof c === 'string')) {
      throw invalid('columns must be an array of column names')
    }
    out.columns = opts.columns
  }
  const filter = filterOption(opts.filter)
  if (filter !== undefined) out.filter = filter
  if (opts.batchSize !== undefined && opts.batchSize !== null) {
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1 || opts.batchSize > 2 ** 31) {
      throw invalid(`batchSize must be a positive integer, got ${opts.batchSize}`)
    }
    out.batchSize = opts.batchSize
  }
  if (opts.stringViews !== undefined && opts.stringViews !== null) {
    if (typeof opts.stringViews !== 'boolean') throw invalid(`stringViews must be a boolean, got ${String(opts.stringViews)}`)
    if (opts.stringViews && arrow?.Type.Utf8View !== undefined) out.stringViews = true
  }
  return out
}

/** A read's `limit`: at most this many rows (undefined: all). */
function limitOption(limit) {
  if (limit === undefined || limit === null) return undefined
  if (!Number.isSafeInteger(limit) || limit < 0) throw invalid(`limit must be an integer >= 0, got ${String(limit)}`)
  return limit
}

function checkUri(uri) {
  if (typeof uri !== 'string' || uri.length === 0) throw invalid('table URI must be a non-empty string')
  return uri
}

// How long a commit may keep retrying lost races to other writers (default 2 minutes).
function commitTimeout(o) {
  const ms = o.commitTimeoutMs
  if (ms === undefined || ms === null) return undefined
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0)
    throw invalid(`commitTimeoutMs must be a number of milliseconds >= 0, got ${String(ms)}`)
  return ms
}

/** `commitProperties` of a write or an operation as the native layer takes them (maxRetries is a
 *  coordinator commit's own option), with the operation's cancel token (lib/abort.js). */
function opOptions(cp, cancel) {
  cp ??= {} // null as well as undefined
  return { customMetadata: cp.customMetadata, appId: cp.appId, appVersion: cp.appVersion, commitTimeoutMs: commitTimeout(cp), cancel }
}

// Python deltalake's WriterProperties / ColumnProperties / BloomFilterProperties, camelCased. Unknown
// keys are refused here: the native layer would ignore a misspelt one.
const WRITER_PROPERTIES = new Set([
  'dataPageSizeLimit',
  'dictionaryPageSizeLimit',
  'dataPageRowCountLimit',
  'writeBatchSize',
  'maxRowGroupSize',
  'compression',
  'compressionLevel',
  'statisticsTruncateLength',
  'defaultColumnProperties',
  'columnProperties',
])
const COLUMN_PROPERTIES = new Set(['dictionaryEnabled', 'statisticsEnabled', 'bloomFilterProperties'])
const BLOOM_FILTER_PROPERTIES = new Set(['setBloomFilterEnabled', 'fpp', 'ndv'])

function onlyKeys(obj, allowed, what) {
  if (!isPlainObject(obj)) throw invalid(`${what} must be an object`)
  for (const k of Object.keys(obj)) if (!allowed.has(k)) throw invalid(`unknown ${what} option '${k}' (one of ${[...allowed].join(', ')})`)
}

/** A writer's `writerProperties`, checked (undefined when not given). */
function writerPropertiesOption(wp) {
  if (wp === undefined || wp === null) return undefined
  onlyKeys(wp, WRITER_PROPERTIES, 'writerProperties')
  const column = (c) => {
    onlyKeys(c, COLUMN_PROPERTIES, 'columnProperties')
    if (c.bloomFilterProperties != null) onlyKeys(c.bloomFilterProperties, BLOOM_FILTER_PROPERTIES, 'bloomFilterProperties')
  }
  if (wp.defaultColumnProperties != null) column(wp.defaultColumnProperties)
  if (wp.columnProperties != null) {
    if (!isPlainObject(wp.columnProperties)) throw invalid('writerProperties.columnProperties must map column names to properties')
    Object.values(wp.columnProperties).forEach(column)
  }
  return wp
}

module.exports = {
  writerPropertiesOption,
  limitOption,
  commitTimeout,
  opOptions,
  toMillis,
  toVersion,
  openOptions,
  scanOptions,
  filterOption,
  storageOptions,
  checkUri,
  isPlainObject,
}

'use strict'
// The public API, built over one apache-arrow module instance: index.js passes the CommonJS build,
// index.mjs the ES module build, so objects we return are instances of the caller's own classes.
const native = require('./native')
const { DeltaError, call, invalid, toDeltaError } = require('./errors')
const { toMillis, toVersion, openOptions, scanOptions, filterOption, storageOptions, checkUri } = require('./options')

// Options arguments may be left out or given as null (`options ??= {}`): a TypeError from
// destructuring null is not a DeltaError.
function createApi(arrow) {
  const decodeSchema = (buf) => arrow.tableFromIPC(buf).schema

  const { toRecordBatch, fromRecordBatch } = require('./handover').createHandover(arrow)

  // A native batch stream as an async generator of RecordBatches (or IPC Buffers); leaving the
  // loop early (break, throw) closes the stream, which stops the native work. Streaming bounds
  // memory: the scan's large native buffers go back to the OS when freed (src/alloc.rs).
  async function* streamBatches(open, format) {
    if (format !== undefined && format !== 'arrow' && format !== 'ipc') throw invalid(`format must be 'arrow' or 'ipc', got ${format}`)
    const stream = await call(open)
    stream.boundMemory()
    try {
      if (format === 'ipc') {
        for (let buf; (buf = await call(() => stream.next())) != null; ) yield buf
      } else {
        const schema = decodeSchema(stream.schema())
        for (let batch; (batch = await call(() => stream.nextBatch())) != null; ) yield toRecordBatch(schema, batch)
      }
    } finally {
      stream.close()
    }
  }

  // Reading a whole table into memory has no batch-size memory bound to keep, and bigger batches
  // decode faster (measured: a 10 M-row full read 0.59 s at 65,536 rows per batch, 0.50 s at 262,144).
  const COLLECT_BATCH_SIZE = 262_144
  const forCollect = (opts) => (opts.batchSize === undefined ? { ...opts, batchSize: COLLECT_BATCH_SIZE } : opts)

  async function collect(open) {
    const stream = await call(open)
    try {
      const schemaIpc = stream.schema()
      const schema = decodeSchema(schemaIpc)
      const batches = []
      for (let batch; (batch = await call(() => stream.nextBatch())) != null; ) batches.push(toRecordBatch(schema, batch))
      return batches.length ? new arrow.Table(batches) : arrow.tableFromIPC(schemaIpc)
    } finally {
      stream.close()
    }
  }

  class DeltaTable {
    /** @internal use DeltaTable.open */
    constructor(handle) {
      if (!handle || typeof handle.scan !== 'function') throw invalid('use `await DeltaTable.open(uri, options)`')
      this._t = handle
    }

    static async open(uri, options) {
      options ??= {}
      checkUri(uri)
      const opts = openOptions(options)
      return new DeltaTable(await call(() => native.openTable(uri, opts)))
    }

    static async isDeltaTable(uri, options) {
      options ??= {}
      checkUri(uri)
      return call(() => native.isDeltaTable(uri, storageOptions(options)))
    }

    get uri() {
      return this._t.uri
    }
    get version() {
      return this._t.version
    }
    schema() {
      return decodeSchema(this._t.schema())
    }
    metadata() {
      return this._t.metadata()
    }
    protocol() {
      return this._t.protocol()
    }

    async history(limit) {
      if (limit !== undefined && (!Number.isInteger(limit) || limit < 1))
        throw invalid(`history limit must be a positive integer, got ${limit}`)
      return call(() => this._t.history(limit))
    }

    async files() {
      return call(() => this._t.files())
    }

    async loadVersion(version) {
      const v = toVersion(version)
      if (v === undefined) throw invalid('loadVersion needs a version number')
      await call(() => this._t.loadVersion(v))
      return this
    }

    async loadTimestamp(timestamp) {
      const ms = toMillis(timestamp)
      if (ms === undefined) throw invalid('loadTimestamp needs a Date, ISO string or epoch milliseconds')
      await call(() => this._t.loadTimestamp(ms))
      return this
    }

    // ---- maintenance, DML, change data feed (one commit each; the handle moves to it) ----

    async createCheckpoint() {
      await call(() => this._t.createCheckpoint())
      return this
    }
    async cleanupMetadata() {
      return call(() => this._t.cleanupMetadata())
    }

    /** Delete files no version within the retention needs. Refuses a retention below the table's
     *  (delta.deletedFileRetentionDuration, 7 days) unless enforceRetentionDuration is false. */
    async vacuum(options) {
      options ??= {}
      const { retentionHours, dryRun, enforceRetentionDuration, commitProperties } = options
      return call(() => this._t.vacuum({ retentionHours, dryRun, enforceRetentionDuration }, opOptions(commitProperties)))
    }

    get optimize() {
      const t = this._t
      return {
        compact: async (options) => call(() => t.optimize(optimizeOptions(options), opOptions(options?.commitProperties))),
        zOrder: async (columns, options) => {
          options ??= {}
          if (!Array.isArray(columns) || columns.length === 0) throw invalid('zOrder needs an array of column names')
          return call(() => t.optimize({ ...optimizeOptions(options), zOrder: columns }, opOptions(options.commitProperties)))
        },
      }
    }

    /** Restore the table to a version (number) or a point in time (Date / ISO string). */
    async restore(target, options) {
      options ??= {}
      const byVersion = typeof target === 'number'
      if (byVersion && !Number.isInteger(target)) throw invalid('restore version must be an integer')
      const ms = byVersion ? undefined : toMillis(target, 'restore target')
      return call(() => this._t.restore(byVersion ? target : undefined, ms, opOptions(options.commitProperties)))
    }

    /** Delete the rows matching a SQL predicate (all rows without one). */
    async delete(predicate, options) {
      options ??= {}
      if (predicate !== undefined && typeof predicate !== 'string') throw invalid('delete predicate must be a SQL string')
      return call(() => this._t.delete(predicate, opOptions(options.commitProperties)))
    }

    /** Set columns to SQL expressions on the rows matching predicate. */
    async update(options) {
      const { set, predicate, commitProperties } = options ?? {}
      if (!set || typeof set !== 'object') throw invalid('update needs { set: { column: sqlExpression } }')
      return call(() => this._t.update(sqlMap(set), predicate, opOptions(commitProperties)))
    }

    /** Start a merge: chain when…() clauses, then execute(). */
    merge(source, options) {
      const { predicate, sourceAlias = 'source', targetAlias = 'target', commitProperties } = options ?? {}
      if (typeof predicate !== 'string') throw invalid('merge needs a predicate (SQL), e.g. "target.id = source.id"')
      return new MergeBuilder(this, source, { predicate, sourceAlias, targetAlias }, commitProperties)
    }

    /** Stream the change data feed (tables with delta.enableChangeDataFeed = true). */
    loadCdf(options) {
      options ??= {}
      const { startingVersion, endingVersion, startingTimestamp, endingTimestamp, columns, batchSize } = options
      const o = {
        startingVersion,
        endingVersion,
        columns,
        batchSize,
        startingTimestamp: toMillis(startingTimestamp, 'startingTimestamp'),
        endingTimestamp: toMillis(endingTimestamp, 'endingTimestamp'),
      }
      return streamBatches(() => this._t.loadCdf(o), options.format)
    }

    get alterTable() {
      const t = this._t
      return {
        setProperties: (properties, options) => call(() => t.setProperties(sqlMap(properties), opOptions(options?.commitProperties))),
        addConstraint: async (constraints, options) => {
          options ??= {}
          const entries = Object.entries(constraints || {})
          if (entries.length !== 1) throw invalid('addConstraint takes { name: "SQL check expression" } (one constraint)')
          return call(() => t.addConstraint(entries[0][0], String(entries[0][1]), opOptions(options.commitProperties)))
        },
        dropConstraint: async (name, options) => {
          options ??= {}
          if (typeof name !== 'string' || name === '') throw invalid('dropConstraint takes the name of a constraint')
          return call(() => t.dropConstraint(name, options.raiseIfNotExists ?? true, opOptions(options.commitProperties)))
        },
        addColumns: async (fields, options) => {
          options ??= {}
          const list = fields instanceof arrow.Schema ? fields.fields : fields
          if (!Array.isArray(list) || list.length === 0)
            throw invalid('addColumns takes a non-empty array of apache-arrow Fields or a Schema')
          list.forEach((f, i) => {
            // Duck-typed like isArrowTable (another copy of apache-arrow is fine); typeId 0 is Type.NONE.
            if (!f || typeof f.name !== 'string' || !f.type || typeof f.type.typeId !== 'number' || f.type.typeId === 0) {
              throw invalid(
                `addColumns: field ${i} is not an apache-arrow Field with a data type, e.g. new Field('note', new Utf8(), true)`,
              )
            }
          })
          const schema = fields instanceof arrow.Schema ? fields : new arrow.Schema(list)
          return call(() =>
            t.addColumns(Buffer.from(arrow.tableToIPC(new arrow.Table(schema), 'stream')), opOptions(options.commitProperties)),
          )
        },
      }
    }

    /** Stream this snapshot (the same options as DeltaInputAdapter, minus time travel). */
    getBatches(options) {
      options ??= {}
      const { format, ...rest } = options
      return streamBatches(() => this._t.scan(scanOptions(rest)), format)
    }

    async toTable(options) {
      options ??= {}
      return collect(() => this._t.scan(forCollect(scanOptions(options))))
    }
  }

  function opOptions(cp) {
    cp ??= {} // null as well as undefined
    return { customMetadata: cp.customMetadata, appId: cp.appId, appVersion: cp.appVersion, commitTimeoutMs: commitTimeout(cp) }
  }
  // How long a commit may keep retrying lost races to other writers (default 2 minutes).
  function commitTimeout(o) {
    const ms = o.commitTimeoutMs
    if (ms === undefined || ms === null) return undefined
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0)
      throw invalid(`commitTimeoutMs must be a number of milliseconds >= 0, got ${String(ms)}`)
    return ms
  }
  function optimizeOptions(options) {
    const { targetSize, filter, compression } = options ?? {}
    return { targetSize, filter: filterOption(filter), compression }
  }
  function sqlMap(obj) {
    const out = {}
    for (const [k, v] of Object.entries(obj)) out[k] = String(v)
    return out
  }

  /** Any write input as one Arrow IPC stream (a merge source is read in full). */
  async function toIpc(data) {
    if (Buffer.isBuffer(data) || data instanceof Uint8Array) return Buffer.from(data)
    if (isArrowTable(data)) return Buffer.from(arrow.tableToIPC(data, 'stream'))
    if (isArrowBatch(data)) return Buffer.from(arrow.tableToIPC(new arrow.Table(data), 'stream'))
    if (Array.isArray(data) && (data.length === 0 || !(isArrowTable(data[0]) || isArrowBatch(data[0])))) {
      return rowsToIpc(data)
    }
    const batches = []
    for await (const item of data) {
      const t = isArrowTable(item) ? item : isArrowBatch(item) ? new arrow.Table(item) : arrow.tableFromIPC(await rowsToIpc(item))
      batches.push(...t.batches)
    }
    return Buffer.from(arrow.tableToIPC(new arrow.Table(batches), 'stream'))
  }

  class MergeBuilder {
    constructor(table, source, spec, commitProperties) {
      Object.assign(this, { _table: table, _source: source, _spec: { ...spec, clauses: [] }, _cp: commitProperties })
    }
    _add(kind, options) {
      const { predicate, updates, values, set } = options ?? {}
      if (predicate !== undefined && typeof predicate !== 'string') throw invalid(`${kind}: predicate must be a SQL string`)
      this._spec.clauses.push({ kind, predicate, set: sqlMap(updates || values || set || {}) })
      return this
    }
    whenMatchedUpdate(o) {
      return this._add('whenMatchedUpdate', o)
    }
    /** Every source column into the target column of its name (Python's when_matched_update_all). */
    whenMatchedUpdateAll(o) {
      return this._add('whenMatchedUpdateAll', { predicate: o?.predicate })
    }
    whenMatchedDelete(o) {
      return this._add('whenMatchedDelete', o)
    }
    whenNotMatchedInsert(o) {
      return this._add('whenNotMatchedInsert', o)
    }
    /** Insert every source column into the target column of its name (when_not_matched_insert_all). */
    whenNotMatchedInsertAll(o) {
      return this._add('whenNotMatchedInsertAll', { predicate: o?.predicate })
    }
    whenNotMatchedBySourceUpdate(o) {
      return this._add('whenNotMatchedBySourceUpdate', o)
    }
    whenNotMatchedBySourceDelete(o) {
      return this._add('whenNotMatchedBySourceDelete', o)
    }
    async execute() {
      const ipc = await toIpc(this._source)
      return call(() => this._table._t.merge(ipc, this._spec, opOptions(this._cp)))
    }
  }

  class DeltaInputAdapter {
    constructor(uri, options) {
      options ??= {}
      checkUri(uri)
      this.uri = uri
      this._open = openOptions(options) // validated now, opened lazily
      this._scan = scanOptions(options)
      this._table = null
    }

    async table() {
      if (!this._table) this._table = new DeltaTable(await call(() => native.openTable(this.uri, this._open)))
      return this._table
    }

    async *getBatches(options) {
      options ??= {}
      const table = await this.table()
      yield* table.getBatches({ ...this._scan, ...options })
    }

    async readAll() {
      const table = await this.table()
      return table.toTable(this._scan)
    }
  }

  async function readDelta(uri, options) {
    options ??= {}
    return new DeltaInputAdapter(uri, options).readAll()
  }

  // ---- file input adapters (parsed in Rust) -------------------------------------------------

  const path = require('node:path')
  const oneChar = (name, v) => {
    if (v !== undefined && (typeof v !== 'string' || v.length !== 1)) throw invalid(`${name} must be a single character`)
    return v
  }

  class FileInputAdapter {
    constructor(format, uri, options) {
      options ??= {}
      if (typeof uri !== 'string' || uri.length === 0) throw invalid('path must be a non-empty string')
      this.uri = uri
      this.format = format
      const isUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(uri)
      this._path = isUrl ? uri : path.resolve(uri)
      const { columns, batchSize } = scanOptions({ columns: options.columns, batchSize: options.batchSize })
      this._opts = {
        format,
        storageOptions: storageOptions(options),
        batchSize,
        columns,
        schema: options.schema === undefined ? undefined : Buffer.from(arrow.tableToIPC(new arrow.Table(options.schema), 'stream')),
        fileExtension: options.fileExtension,
        header: options.header,
        delimiter: oneChar('delimiter', options.delimiter),
        quote: oneChar('quote', options.quote),
        escape: oneChar('escape', options.escape),
        nullValues: options.nullValues,
        newlinesInValues: options.newlinesInValues,
        inferRows: options.inferRows,
      }
    }

    /** `rejects: true` (CSV): rows with values that do not fit their column come back as separate
     *  batches marked with schema metadata `zoopipe.rejected` (raw text + `_error`) instead of failing. */
    getBatches(options) {
      options ??= {}
      const opts = options.rejects ? { ...this._opts, rejectInvalid: true } : this._opts
      return streamBatches(() => native.openFileSource(this._path, opts), options.format)
    }

    readAll() {
      return collect(() => native.openFileSource(this._path, forCollect(this._opts)))
    }
  }

  class CsvInputAdapter extends FileInputAdapter {
    constructor(uri, options) {
      super('csv', uri, options)
    }
  }
  class JsonLinesInputAdapter extends FileInputAdapter {
    constructor(uri, options) {
      super('json', uri, options)
    }
  }
  class ParquetInputAdapter extends FileInputAdapter {
    constructor(uri, options) {
      super('parquet', uri, options)
    }
  }

  // ---- writing ----------------------------------------------------------------------------

  const ROWS_PER_CALL = 10_000
  const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)

  function isArrowTable(d) {
    return d instanceof arrow.Table || (d && typeof d === 'object' && Array.isArray(d.batches) && d.schema && 'numRows' in d)
  }
  function isArrowBatch(d) {
    return (
      d instanceof arrow.RecordBatch || (d && typeof d === 'object' && d.schema && d.data && 'numRows' in d && !Array.isArray(d.batches))
    )
  }

  // Row values cross as JSON: Dates as ISO strings, bigints as JSON numbers (exact: arrow-json
  // parses integers from the text), binary (Uint8Array, Buffer) as hex strings (arrow-json's
  // encoding for binary columns), other typed arrays and Sets as arrays, Maps as objects (which
  // map columns take, keys as text; a new table makes a struct of them, as of any object), objects with
  // their own toJSON (apache-arrow rows and vectors) as what it returns, converted in turn.
  // A bigint a JS number cannot hold stays a bigint here and marks the row for `jsonText`.
  // `hint(path, kind, keys)`, when given, learns where below the top level (`path`: the column,
  // then field names, '*' for a list's items) Dates and binary were, for the same reason as
  // rowLine's hints (a new table gets timestamp and binary fields there), and each object's keys
  // (its struct fields take their order).
  let bigintsLeft = false
  function rowValue(v, hint, path) {
    if (typeof v === 'bigint') {
      if (v >= -MAX_SAFE && v <= MAX_SAFE) return Number(v)
      bigintsLeft = true
      return v
    }
    if (typeof v === 'number') return v - v === 0 ? wholeBeyondSafe(v) : nonFinite(v, hint, path)
    if (v === null || typeof v !== 'object') return v
    if (v instanceof Date) {
      if (hint) hint(path, 'timestamp')
      return v.toJSON() // ISO text; null for an invalid Date, as JSON.stringify has it
    }
    if (Array.isArray(v)) {
      if (!hint) return v.map((x) => rowValue(x))
      path.push('*')
      const items = v.map((x) => rowValue(x, hint, path))
      path.pop()
      return items
    }
    if (v[Symbol.for('isArrowBigNum')]) {
      // an apache-arrow decimal cell out of its row: unscaled words, the scale is not on it (rowLine
      // converts a StructRow's own decimal cells, whose type it knows)
      throw new Error(
        'it holds an apache-arrow decimal cell without its scale; write the Table, its rows (table.toArray()), or a number or decimal string',
      )
    }
    if (v instanceof Uint8Array) {
      if (hint) hint(path, 'binary')
      return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')
    }
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
      if (!hint) return Array.from(v, (x) => rowValue(x))
      path.push('*')
      const items = Array.from(v, (x) => rowValue(x, hint, path))
      path.pop()
      return items
    }
    // JSON.stringify writes a Map or a Set as {}: a map column got an empty map, silently.
    if (v instanceof Map) return rowValue(Object.fromEntries(Array.from(v, ([k, x]) => [String(k), x])), hint, path)
    if (v instanceof Set) return rowValue(Array.from(v), hint, path)
    if (typeof v.toJSON === 'function') {
      const json = v.toJSON()
      if (json !== v) return rowValue(json, hint, path)
    }
    const o = {}
    const keys = Object.keys(v)
    if (!hint) {
      for (const k of keys) o[k] = rowValue(v[k])
      return o
    }
    hint(path, 'fields', keys)
    for (const k of keys) {
      path.push(k) // one path array per top-level value, extended and cut back in place
      o[k] = rowValue(v[k], hint, path)
      path.pop()
    }
    return o
  }

  // A number past ±2^53 is a whole number JSON.stringify writes by its shortest text
  // (2 ** 60 as 1152921504606847000), which a long column then parses as that integer, not the
  // number's own value (1152921504606846976): such numbers cross as the bigint of their exact value
  // (within a long's range; past it JSON's text makes a double column, as before).
  const LONG = 2 ** 63
  function wholeBeyondSafe(v) {
    if ((v <= Number.MAX_SAFE_INTEGER && v >= -Number.MAX_SAFE_INTEGER) || v >= LONG || v < -LONG) return v
    bigintsLeft = true
    return BigInt(v)
  }

  // NaN and ±Infinity: JSON has no such numbers (JSON.stringify writes null, which lost them), so
  // they cross as the text arrow-json parses into a float column ('NaN', 'Infinity', '-Infinity'),
  // and the hints make such a field a double in a new table.
  function nonFinite(v, hint, path) {
    if (hint) hint(path, 'float')
    return String(v)
  }

  // JSON.stringify for a row `rowValue` left bigints in, written as JSON numbers. Hand-written
  // because JSON.stringify refuses bigints and JSON.rawJSON (which would let it write them) is not
  // in every Node we support (Node 20 lacks it). Skips what JSON.stringify skips.
  const skipped = (x) => x === undefined || typeof x === 'function' || typeof x === 'symbol'
  function jsonText(v) {
    if (typeof v === 'bigint') return v.toString()
    if (Array.isArray(v)) return `[${v.map((x) => (skipped(x) ? 'null' : jsonText(x))).join(',')}]`
    if (v !== null && typeof v === 'object' && typeof v.toJSON !== 'function') {
      const parts = []
      for (const k of Object.keys(v)) if (!skipped(v[k])) parts.push(`${JSON.stringify(k)}:${jsonText(v[k])}`)
      return `{${parts.join(',')}}`
    }
    return JSON.stringify(v)
  }

  // Row objects cross as newline-delimited JSON, one row per line, which arrow-json decodes in
  // Rust: one string per call instead of a napi call per value (100,000 rows of 10 columns:
  // see BENCHMARKS.md). V8's JSON.stringify does the work; a row is copied (`rowValue`) only
  // where JSON would differ from the conversions above: bigints, binary, nested values, rows with
  // their own toJSON (apache-arrow StructRows). Top-level Dates use their toJSON (ISO strings).
  // `hints` collects the top-level columns that held Dates, binary and NaN/±Infinity, which JSON
  // cannot say, so that a new table gets timestamp, binary and double columns for them (src/rows.rs
  // RowHints), and for binary and NaN the first row `i` that held it (into a string column either
  // is refused, naming it);
  // `hints.hint` the same below the top level (rowValue).
  function rowLine(r, hints, i) {
    bigintsLeft = false
    let row
    if (typeof r.toJSON === 'function') {
      // an apache-arrow StructRow: its values, through the same loop (so binary cells hint too)
      const json = r.toJSON()
      if (json === null || typeof json !== 'object' || json === r) return lineOf(rowValue(r))
      const decimals = decimalFields(r)
      r = json
      if (decimals) {
        // Decimal cells are unscaled integers (Uint32 words); their scale is only in the row's type.
        row = { ...r }
        for (const f of decimals) {
          if (r[f.name] === null || r[f.name] === undefined) continue
          row[f.name] = decimalText(r[f.name], f.type.scale)
          if (!hints.decimal.has(f.name)) hints.decimal.set(f.name, [f.type.precision, f.type.scale])
        }
        r = row
      }
    }
    row = r
    if (i === 0) hints.order = Object.keys(r) // a new table's column order (src/rows.rs RowHints)
    for (const k of Object.keys(r)) {
      const v = r[k]
      if (typeof v === 'number') {
        if (v <= Number.MAX_SAFE_INTEGER && v >= -Number.MAX_SAFE_INTEGER) continue
        if (v - v === 0) {
          if (row === r) row = { ...r }
          row[k] = wholeBeyondSafe(v)
          continue
        }
        if (!hints.float.has(k)) hints.float.set(k, i)
        if (row === r) row = { ...r }
        row[k] = nonFinite(v)
      } else if (typeof v === 'bigint' || (v !== null && typeof v === 'object')) {
        if (v instanceof Date) {
          hints.timestamp.add(k)
          continue
        }
        if (v instanceof Uint8Array) {
          if (!hints.binary.has(k)) hints.binary.set(k, i)
          if (row === r) row = { ...r }
          row[k] = rowValue(v)
          continue
        }
        if (row === r) row = { ...r }
        row[k] = rowValue(v, hints.hint, [k])
      }
    }
    return lineOf(row)
  }
  const lineOf = (row) => (bigintsLeft ? jsonText(row) : JSON.stringify(row))

  // The decimal fields of an apache-arrow StructRow, from its parent vector's type (apache-arrow keeps
  // it under Symbol.for('parent')), or null when it has none.
  function decimalFields(r) {
    const fields = r[Symbol.for('parent')]?.type?.children
    const decimals = Array.isArray(fields) ? fields.filter((f) => f.type && f.type.typeId === arrow.Type.Decimal) : []
    return decimals.length ? decimals : null
  }
  // An apache-arrow decimal cell (unscaled, as words) as exact decimal text, e.g. -456 at scale 2: "-4.56".
  function decimalText(cell, scale) {
    const digits = arrow.util.bigNumToString(cell)
    const negative = digits.startsWith('-')
    const abs = (negative ? digits.slice(1) : digits).padStart(scale + 1, '0')
    const text = scale > 0 ? `${abs.slice(0, abs.length - scale)}.${abs.slice(abs.length - scale)}` : abs + '0'.repeat(-scale)
    return negative ? `-${text}` : text
  }

  /** Rows as the (text, hints) pair the native row decoders take. A row that is not an object, or
   *  that JSON cannot hold (a circular one), is INVALID_DATA naming it, counted from `firstRow`. */
  function rowsText(rows, firstRow) {
    const nested = new Map()
    let i = 0 // the row being converted
    const hint = (path, kind, keys) => {
      if (kind === 'fields' && i > 0) return // struct field order: the first row's, as for columns
      const key = `${kind}\u0000${path.join('\u0000')}`
      if (!nested.has(key)) nested.set(key, [kind, [...path], keys])
    }
    const hints = { timestamp: new Set(), binary: new Map(), float: new Map(), decimal: new Map(), order: [], hint }
    const lines = new Array(rows.length)
    for (; i < rows.length; i++) {
      const r = rows[i]
      if (r === null || typeof r !== 'object' || Array.isArray(r))
        throw new DeltaError('INVALID_DATA', `row ${firstRow + i} is not an object`)
      try {
        lines[i] = rowLine(r, hints, i)
      } catch (err) {
        throw new DeltaError('INVALID_DATA', `row ${firstRow + i} cannot be written as JSON: ${err?.message}`, { cause: err })
      }
    }
    const decimals = [...hints.decimal]
    return [
      lines.join('\n'),
      {
        timestamp: [...hints.timestamp],
        binary: [...hints.binary.keys()],
        binaryRows: [...hints.binary.values()],
        float: [...hints.float.keys()],
        floatRows: [...hints.float.values()],
        floatPaths: [...nested.values()].filter(([kind]) => kind === 'float').map(([, path]) => path),
        decimal: decimals.map(([k]) => k),
        decimalTypes: decimals.map(([, t]) => t),
        order: hints.order,
        timestampPaths: [...nested.values()].filter(([kind]) => kind === 'timestamp').map(([, path]) => path),
        binaryPaths: [...nested.values()].filter(([kind]) => kind === 'binary').map(([, path]) => path),
        fieldPaths: [...nested.values()].filter(([kind]) => kind === 'fields').map(([, path]) => path),
        fieldOrders: [...nested.values()].filter(([kind]) => kind === 'fields').map(([, , keys]) => keys),
      },
    ]
  }

  /** Row objects as one Arrow IPC stream with the types write(rows) gives a new table (integers
   *  Int64, not apache-arrow tableFromJSON's Float64), for a merge source and a Pipe's input rows. */
  async function rowsToIpc(rows) {
    const [text, hints] = rowsText(rows, 0)
    return call(() => native.rowsToIpc(text, hints))
  }

  /** Feed any WriteData into a native sink with writeIpc/writeRows. */
  async function feed(sink, data) {
    if (data === null || data === undefined)
      throw invalid('write() needs data: an apache-arrow Table or RecordBatch, Arrow IPC bytes, row objects, or an async iterable of those')
    if (Buffer.isBuffer(data) || data instanceof Uint8Array) {
      return call(() => sink.writeIpc(Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength)))
    }
    if (isArrowTable(data)) {
      const schemaIpc = () => Buffer.from(arrow.tableToIPC(new arrow.Table(data.schema), 'stream'))
      // No rows still carries a schema: an overwrite with it empties the table, a new table gets it.
      if (data.numRows === 0) return call(() => sink.writeIpc(schemaIpc()))
      const parts = data.batches.map(fromRecordBatch)
      if (parts.every(Boolean)) return call(() => sink.writeBatches(schemaIpc(), parts))
      return call(() => sink.writeIpc(Buffer.from(arrow.tableToIPC(data, 'stream'))))
    }
    if (isArrowBatch(data)) return feed(sink, new arrow.Table(data))
    if (Array.isArray(data) && data.length > 0 && (isArrowTable(data[0]) || isArrowBatch(data[0]) || data[0] instanceof Uint8Array)) {
      for (const item of data) await feed(sink, item) // an array of batches/tables/IPC buffers
      return
    }
    if (Array.isArray(data)) {
      // One call in flight: the next rows turn into JSON here while Rust decodes and writes these.
      let inFlight = null
      try {
        for (let i = 0; i < data.length; i += ROWS_PER_CALL) {
          const chunk = data.slice(i, i + ROWS_PER_CALL)
          const [text, hints] = rowsText(chunk, i)
          await inFlight
          inFlight = call(() => sink.writeRows(text, i, hints))
        }
        await inFlight
      } catch (err) {
        await inFlight?.catch(() => {}) // settled before write() rejects: nothing left running
        throw err
      }
      return
    }
    // A string is iterable too (of one-character strings, themselves iterable): never data.
    if (typeof data !== 'string' && (typeof data[Symbol.asyncIterator] === 'function' || typeof data[Symbol.iterator] === 'function')) {
      try {
        for await (const item of data) await feed(sink, item)
      } catch (err) {
        if (err instanceof DeltaError) throw err
        throw new DeltaError('ABORTED', `write aborted: the data source failed: ${err?.message}`, { cause: err })
      }
      return
    }
    throw invalid(
      `cannot write a ${Object.prototype.toString.call(data)}: expected an apache-arrow Table or RecordBatch, Arrow IPC bytes, row objects, or an (async) iterable of those`,
    )
  }

  function writeOptions(options) {
    options ??= {}
    const cp = options.commitProperties || {}
    const o = {
      storageOptions: storageOptions(options),
      mode: options.mode,
      partitionBy: options.partitionBy,
      schemaMode: options.schemaMode,
      predicate: options.predicate,
      targetFileSize: options.targetFileSize,
      compression: options.compression,
      name: options.name,
      description: options.description,
      configuration: options.configuration,
      customMetadata: cp.customMetadata,
      appId: cp.appId,
      appVersion: cp.appVersion,
      commitTimeoutMs: commitTimeout(cp),
    }
    if (o.partitionBy !== undefined && (!Array.isArray(o.partitionBy) || !o.partitionBy.every((c) => typeof c === 'string'))) {
      throw invalid('partitionBy must be an array of column names')
    }
    return o
  }

  class DeltaOutputAdapter {
    constructor(uri, options) {
      options ??= {}
      checkUri(uri)
      this.uri = uri
      const opts = writeOptions(options)
      try {
        this._w = new native.NativeTableWriter(uri, opts)
      } catch (err) {
        throw toDeltaError(err)
      }
      this._closed = false
      this._queue = Promise.resolve()
    }

    /** Stage data; nothing is visible in the table until close(). */
    write(data) {
      if (this._closed) return Promise.reject(invalid('the output adapter is closed'))
      // Writes are applied in call order even when not awaited.
      const p = this._queue.then(() => feed(this._w, data))
      this._queue = p.catch(() => {})
      return p
    }

    /** Commit everything written as ONE new table version. */
    async close() {
      if (this._closed) throw invalid('the output adapter is already closed')
      this._closed = true
      await this._queue
      return call(() => this._w.close())
    }

    /** Discard everything written; the table is left exactly as it was. */
    async abort() {
      this._closed = true
      await this._queue
      return call(() => this._w.abort())
    }
  }

  async function writeDelta(uri, data, options) {
    options ??= {}
    const out = new DeltaOutputAdapter(uri, options)
    try {
      await out.write(data)
    } catch (err) {
      await out.abort().catch(() => {})
      throw err
    }
    return out.close()
  }

  class DeltaWriter {
    constructor(uri, options) {
      options ??= {}
      checkUri(uri)
      this.uri = uri
      if (options.partitionBy !== undefined && !Array.isArray(options.partitionBy))
        throw invalid('partitionBy must be an array of column names')
      try {
        this._w = new native.NativeFileWriter(uri, {
          storageOptions: storageOptions(options),
          partitionBy: options.partitionBy,
          targetFileSize: options.targetFileSize,
          compression: options.compression,
        })
      } catch (err) {
        throw toDeltaError(err)
      }
      this._queue = Promise.resolve()
    }

    /** Write Parquet data files into the table location. Nothing is committed. */
    write(data) {
      const p = this._queue.then(() => feed(this._w, data))
      this._queue = p.catch(() => {})
      return p
    }

    /** The add actions of every file written (plain JSON), for DeltaCoordinator.commit(). */
    async finish() {
      await this._queue
      return call(() => this._w.finish())
    }
  }

  class DeltaCoordinator {
    constructor(uri, options) {
      options ??= {}
      checkUri(uri)
      this.uri = uri
      try {
        const schema = options.schema === undefined ? undefined : Buffer.from(arrow.tableToIPC(new arrow.Table(options.schema), 'stream'))
        this._c = new native.NativeCoordinator(uri, {
          storageOptions: storageOptions(options),
          mode: options.mode,
          schema,
          partitionBy: options.partitionBy,
        })
      } catch (err) {
        throw toDeltaError(err)
      }
    }

    /** Commit every worker's files as ONE new version. */
    async commit(files, options) {
      options ??= {}
      if (!Array.isArray(files)) throw invalid('commit() takes an array of DeltaWriter file actions')
      const flat = files.flat()
      if (options.maxRetries !== undefined && (!Number.isInteger(options.maxRetries) || options.maxRetries < 0)) {
        throw invalid('maxRetries must be a non-negative integer')
      }
      return call(() =>
        this._c.commit(flat, {
          appId: options.appId,
          appVersion: options.appVersion,
          maxRetries: options.maxRetries,
          customMetadata: options.customMetadata,
          commitTimeoutMs: commitTimeout(options),
        }),
      )
    }
  }

  const api = {
    DeltaTable,
    DeltaInputAdapter,
    readDelta,
    DeltaOutputAdapter,
    writeDelta,
    DeltaWriter,
    DeltaCoordinator,
    DeltaError,
    CsvInputAdapter,
    JsonLinesInputAdapter,
    ParquetInputAdapter,
  }
  const rowsToBatch = async (rows) => arrow.tableFromIPC(await rowsToIpc(rows)).batches[0]
  api.Pipe = require('./pipe').createPipe({ feedable: isArrowTable, isArrowBatch, rowsToBatch })
  return api
}

module.exports = { createApi }

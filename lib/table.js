'use strict'
// DeltaTable (metadata, history, reads, maintenance, DML, change data feed), its merge builder, and
// DeltaInputAdapter / readDelta over it.
const native = require('./native')
const { call, invalid } = require('./errors')
const { toArrowSchema } = require('./schema')
const { signalOption, withSignal } = require('./abort')
const { createMerge, sqlMap } = require('./merge')
const {
  toMillis,
  toVersion,
  openOptions,
  scanOptions,
  filterOption,
  checkUri,
  opOptions,
  storageOptions,
  limitOption,
  writerPropertiesOption,
} = require('./options')

function createTable(arrow, { reading, rows }) {
  const { decodeSchema, streamBatches, collect, forCollect } = reading
  const { MergeBuilder } = createMerge(rows)

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

    /** A new table with `schema` (an apache-arrow Schema or { column: 'delta type' }) and no rows. */
    static async create(uri, options) {
      options ??= {}
      checkUri(uri)
      const { schema, partitionBy, mode, name, description, configuration, commitProperties } = options
      if (partitionBy !== undefined && !Array.isArray(partitionBy)) throw invalid('partitionBy must be an array of column names')
      const ipc = Buffer.from(arrow.tableToIPC(new arrow.Table(toArrowSchema(arrow, schema)), 'stream'))
      const opts = {
        storageOptions: storageOptions(options),
        partitionBy,
        mode,
        name,
        description,
        configuration,
        commitProperties: opOptions(commitProperties),
      }
      return new DeltaTable(await call(() => native.createTable(uri, ipc, opts)))
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

    /** The absolute URI of every active data file. */
    async fileUris() {
      return call(() => this._t.fileUris())
    }

    /** The active files' add actions (path, size, modification time, stats, partition values) as
     *  an apache-arrow Table; `flatten` gives dotted column names (min.id, partition.day). */
    async addActions(options) {
      const { flatten = false } = options ?? {}
      if (typeof flatten !== 'boolean') throw invalid('addActions: flatten must be a boolean')
      return arrow.tableFromIPC(await call(() => this._t.addActions(flatten)))
    }

    /** The distinct partition values of the active files, one object per partition. */
    async partitions() {
      const seen = new Map()
      for (const f of await this.files()) {
        const key = JSON.stringify(Object.entries(f.partitionValues).sort(([a], [b]) => (a < b ? -1 : 1)))
        if (!seen.has(key)) seen.set(key, f.partitionValues)
      }
      return [...seen.values()]
    }

    /** The row count: from the log's per-file counts (less deleted rows) when every file has
     *  them, else by reading the rows. */
    async count() {
      const adds = await this.addActions({ flatten: true })
      const records = adds.getChild('num_records')
      const deleted = adds.getChild('deletion_vector.cardinality')
      if (records && records.nullCount === 0) {
        let n = 0
        for (let i = 0; i < adds.numRows; i++) n += Number(records.get(i)) - Number(deleted?.get(i) ?? 0)
        return n
      }
      const first = this.schema().fields[0].name
      let n = 0
      for await (const batch of this.getBatches({ columns: [first] })) n += batch.numRows
      return n
    }

    /** Load what was committed since the loaded version; the new version. */
    async refresh() {
      return call(() => this._t.refresh())
    }

    /** The last appVersion committed for `appId` (writes with commitProperties { appId, appVersion }), or null. */
    async transactionVersion(appId) {
      if (typeof appId !== 'string' || appId === '') throw invalid('transactionVersion needs an appId string')
      return (await call(() => this._t.transactionVersion(appId))) ?? null
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
      const { retentionHours, dryRun, enforceRetentionDuration, full, keepVersions, commitProperties } = options
      if (dryRun !== undefined && typeof dryRun !== 'boolean') throw invalid('vacuum: dryRun must be a boolean')
      if (keepVersions !== undefined && (!Array.isArray(keepVersions) || !keepVersions.every((v) => Number.isInteger(v) && v >= 0)))
        throw invalid('vacuum: keepVersions must be an array of version numbers')
      const o = { retentionHours, dryRun, enforceRetentionDuration, full, keepVersions }
      return withSignal(options.signal, (c) => this._t.vacuum(o, opOptions(commitProperties, c)))
    }

    get optimize() {
      const t = this._t
      return {
        compact: async (options) =>
          withSignal(options?.signal, (c) => t.optimize(optimizeOptions(options), opOptions(options?.commitProperties, c))),
        zOrder: async (columns, options) => {
          options ??= {}
          if (!Array.isArray(columns) || columns.length === 0) throw invalid('zOrder needs an array of column names')
          const o = { ...optimizeOptions(options), zOrder: columns }
          return withSignal(options.signal, (c) => t.optimize(o, opOptions(options.commitProperties, c)))
        },
      }
    }

    /** Restore the table to a version (number) or a point in time (Date / ISO string). */
    async restore(target, options) {
      options ??= {}
      const byVersion = typeof target === 'number'
      if (byVersion && !Number.isInteger(target)) throw invalid('restore version must be an integer')
      const ms = byVersion ? undefined : toMillis(target, 'restore target')
      const { ignoreMissingFiles, protocolDowngradeAllowed } = options
      const version = byVersion ? target : undefined
      const o = { ignoreMissingFiles, protocolDowngradeAllowed }
      return withSignal(options.signal, (c) => this._t.restore(version, ms, o, opOptions(options.commitProperties, c)))
    }

    /** Delete the rows matching a SQL predicate (all rows without one). */
    async delete(predicate, options) {
      options ??= {}
      if (predicate !== undefined && typeof predicate !== 'string') throw invalid('delete predicate must be a SQL string')
      return withSignal(options.signal, (c) => this._t.delete(predicate, opOptions(options.commitProperties, c)))
    }

    /** Set columns to SQL expressions on the rows matching predicate. */
    async update(options) {
      const { set, predicate, commitProperties, signal } = options ?? {}
      if (!set || typeof set !== 'object') throw invalid('update needs { set: { column: sqlExpression } }')
      return withSignal(signal, (c) => this._t.update(sqlMap(set), predicate, opOptions(commitProperties, c)))
    }

    /** Start a merge: chain when…() clauses, then execute(). */
    merge(source, options) {
      const { predicate, sourceAlias = 'source', targetAlias = 'target', commitProperties, signal } = options ?? {}
      if (typeof predicate !== 'string') throw invalid('merge needs a predicate (SQL), e.g. "target.id = source.id"')
      return new MergeBuilder(this, source, { predicate, sourceAlias, targetAlias }, commitProperties, signalOption(signal))
    }

    /** Stream the change data feed (tables with delta.enableChangeDataFeed = true). */
    loadCdf(options) {
      options ??= {}
      const { startingVersion, endingVersion, startingTimestamp, endingTimestamp, columns, batchSize, predicate, allowOutOfRange } = options
      if (predicate !== undefined && typeof predicate !== 'string') throw invalid('loadCdf: predicate must be a SQL string')
      if (allowOutOfRange !== undefined && typeof allowOutOfRange !== 'boolean') throw invalid('loadCdf: allowOutOfRange must be a boolean')
      const o = {
        startingVersion,
        endingVersion,
        columns,
        batchSize,
        predicate,
        allowOutOfRange,
        startingTimestamp: toMillis(startingTimestamp, 'startingTimestamp'),
        endingTimestamp: toMillis(endingTimestamp, 'endingTimestamp'),
      }
      return streamBatches(() => this._t.loadCdf(o), options.format, undefined, options.signal)
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
      const { format, limit, signal, ...rest } = options
      return streamBatches(() => this._t.scan(scanOptions(rest, arrow)), format, limitOption(limit), signal)
    }

    async toTable(options) {
      options ??= {}
      const { limit, signal, ...rest } = options
      return collect(() => this._t.scan(forCollect(scanOptions(rest, arrow))), limitOption(limit), signal)
    }
  }

  function optimizeOptions(options) {
    const { targetSize, filter, compression, writerProperties } = options ?? {}
    return { targetSize, filter: filterOption(filter), compression, writerProperties: writerPropertiesOption(writerProperties) }
  }

  class DeltaInputAdapter {
    constructor(uri, options) {
      options ??= {}
      checkUri(uri)
      this.uri = uri
      this._open = openOptions(options) // validated now, opened lazily
      this._scan = scanOptions(options, arrow)
      this._limit = limitOption(options.limit)
      this._signal = signalOption(options.signal)
      this._table = null
    }

    async table() {
      if (!this._table) this._table = new DeltaTable(await call(() => native.openTable(this.uri, this._open)))
      return this._table
    }

    async *getBatches(options) {
      options ??= {}
      const table = await this.table()
      yield* table.getBatches({ ...this._scan, limit: this._limit, signal: this._signal, ...options })
    }

    /** `for await (const batch of new DeltaInputAdapter(uri))`: getBatches() with no options. */
    [Symbol.asyncIterator]() {
      return this.getBatches()
    }

    async readAll(options) {
      const table = await this.table()
      return table.toTable({ ...this._scan, limit: this._limit, signal: options?.signal ?? this._signal })
    }
  }

  // One snapshot read once: no DeltaTable handle, so no load of every file's add action first
  // (src/table.rs, Table::scan_once).
  async function readDelta(uri, options) {
    options ??= {}
    const a = new DeltaInputAdapter(uri, options)
    return collect(() => call(() => native.scanTable(a.uri, a._open, forCollect(a._scan))), a._limit, a._signal)
  }

  return { DeltaTable, MergeBuilder, DeltaInputAdapter, readDelta }
}

module.exports = { createTable }

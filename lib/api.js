'use strict'
// The public API, built over one apache-arrow module instance: index.js passes the CommonJS build,
// index.mjs the ES module build, so objects we return are instances of the caller's own classes.
const native = require('./native')
const { DeltaError, call, invalid } = require('./errors')
const { toMillis, openOptions, scanOptions, storageOptions, checkUri } = require('./options')

function createApi(arrow) {
  const decodeSchema = (buf) => arrow.tableFromIPC(buf).schema

  class DeltaTable {
    /** @internal use DeltaTable.open */
    constructor(handle) {
      if (!handle || typeof handle.scan !== 'function') throw invalid('use `await DeltaTable.open(uri, options)`')
      this._t = handle
    }

    static async open(uri, options = {}) {
      checkUri(uri)
      const opts = openOptions(options)
      return new DeltaTable(await call(() => native.openTable(uri, opts)))
    }

    static async isDeltaTable(uri, options = {}) {
      checkUri(uri)
      return call(() => native.isDeltaTable(uri, storageOptions(options)))
    }

    get uri() { return this._t.uri }
    get version() { return this._t.version }
    schema() { return decodeSchema(this._t.schema()) }
    metadata() { return this._t.metadata() }
    protocol() { return this._t.protocol() }

    async history(limit) {
      if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw invalid(`history limit must be a positive integer, got ${limit}`)
      return call(() => this._t.history(limit))
    }

    async files() { return call(() => this._t.files()) }

    async loadVersion(version) {
      if (!Number.isInteger(version)) throw invalid(`version must be an integer, got ${version}`)
      await call(() => this._t.loadVersion(version))
      return this
    }

    async loadTimestamp(timestamp) {
      const ms = toMillis(timestamp)
      if (ms === undefined) throw invalid('loadTimestamp needs a Date, ISO string or epoch milliseconds')
      await call(() => this._t.loadTimestamp(ms))
      return this
    }

    /** Stream this snapshot (the same options as DeltaInputAdapter, minus time travel). */
    async *getBatches(options = {}) {
      const { format, ...rest } = options
      if (format !== undefined && format !== 'arrow' && format !== 'ipc') throw invalid(`format must be 'arrow' or 'ipc', got ${format}`)
      const stream = await call(() => this._t.scan(scanOptions(rest)))
      try {
        for (;;) {
          const buf = await call(() => stream.next())
          if (buf === null || buf === undefined) return
          yield format === 'ipc' ? buf : arrow.tableFromIPC(buf).batches[0]
        }
      } finally {
        stream.close()
      }
    }

    async toTable(options = {}) {
      const stream = await call(() => this._t.scan(scanOptions(options)))
      try {
        const batches = []
        for (;;) {
          const buf = await call(() => stream.next())
          if (buf === null || buf === undefined) break
          batches.push(...arrow.tableFromIPC(buf).batches)
        }
        return batches.length ? new arrow.Table(batches) : arrow.tableFromIPC(stream.schema())
      } finally {
        stream.close()
      }
    }
  }

  class DeltaInputAdapter {
    constructor(uri, options = {}) {
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

    async *getBatches(options = {}) {
      const table = await this.table()
      yield* table.getBatches({ ...this._scanOptions(), ...options })
    }

    async readAll() {
      const table = await this.table()
      return table.toTable(this._scanOptions())
    }

    _scanOptions() {
      const { columns, filter, batchSize } = this._scan
      return { columns, filter, batchSize }
    }
  }

  async function readDelta(uri, options = {}) {
    return new DeltaInputAdapter(uri, options).readAll()
  }

  return { DeltaTable, DeltaInputAdapter, readDelta, DeltaError }
}

module.exports = { createApi }

'use strict'
// Writing: DeltaOutputAdapter / writeDelta (one commit per write), DeltaWriter (files, no commit) and
// DeltaCoordinator (one commit of many writers' files), fed any WriteData.
const native = require('./native')
const { DeltaError, call, invalid, toDeltaError } = require('./errors')
const { checkUri, storageOptions, opOptions, writerPropertiesOption } = require('./options')
const { abortError, signalOption, throwIfAborted, withSignal } = require('./abort')
const { batchBytes, copiedOut } = require('./collection')

/** The adapter's native writer, checking `signal` before each call: an abort stops the write at
 *  the next batch. */
function signalled(w, signal) {
  if (!signal) return w
  const checked =
    (method) =>
    (...args) => {
      throwIfAborted(signal, 'write')
      return w[method](...args)
    }
  const s = { writeIpc: checked('writeIpc'), writeBatches: checked('writeBatches'), writeRows: checked('writeRows') }
  if (w.writeRowBatches) s.writeRowBatches = checked('writeRowBatches')
  return s
}

function createWriting(arrow, { handover, rows }) {
  const { fromRecordBatch } = handover
  const { ROWS_PER_CALL, isArrowTable, isArrowBatch, rowsText } = rows
  const { rowColumns } = require('./row-columns').createRowColumns(arrow)
  // Rows per call when plain rows go as columns (row-columns.js): larger than as JSON, where the
  // text of 10,000 rows is already a few MB.
  const COLUMN_ROWS = 65_536
  const schemaIpc = (table) => Buffer.from(arrow.tableToIPC(new arrow.Table(table.schema), 'stream'))

  /** Feed any WriteData into a native sink with writeIpc/writeRows. `hold`: apache-arrow data is
   *  shared with the native writer instead of copied (src/handover.rs), for data the caller leaves
   *  untouched until the commit: writeDelta's in-memory tables, never a streamed write(). */
  async function feed(sink, data, hold = false) {
    if (data === null || data === undefined)
      throw invalid('write() needs data: an apache-arrow Table or RecordBatch, Arrow IPC bytes, row objects, or an async iterable of those')
    if (Buffer.isBuffer(data) || data instanceof Uint8Array) {
      await call(() => sink.writeIpc(Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength)))
      if (!hold) copiedOut(data.byteLength)
      return
    }
    if (isArrowTable(data)) {
      // No rows still carries a schema: an overwrite with it empties the table, a new table gets it.
      if (data.numRows === 0) return call(() => sink.writeIpc(schemaIpc(data)))
      const parts = data.batches.map(fromRecordBatch)
      if (parts.every(Boolean)) {
        await call(() => sink.writeBatches(schemaIpc(data), parts, hold))
        if (!hold) copiedOut(parts.reduce((n, p) => n + batchBytes(p), 0))
        return
      }
      const ipc = Buffer.from(arrow.tableToIPC(data, 'stream'))
      await call(() => sink.writeIpc(ipc))
      if (!hold) copiedOut(ipc.byteLength)
      return
    }
    if (isArrowBatch(data)) return feed(sink, new arrow.Table(data), hold)
    if (Array.isArray(data) && data.length > 0 && (isArrowTable(data[0]) || isArrowBatch(data[0]) || data[0] instanceof Uint8Array)) {
      for (const item of data) await feed(sink, item, hold) // an array of batches/tables/IPC buffers
      return
    }
    if (Array.isArray(data)) {
      // Rows go as columns where row-columns.js covers them and the sink takes them (a refusal
      // holds for the rest: the table's types do not change within a write), else as JSON with one
      // call in flight: the next rows turn into JSON here while Rust decodes and writes these.
      let inFlight = null
      let columnsTaken = typeof sink.writeRowBatches === 'function'
      try {
        for (let i = 0; i < data.length; ) {
          const end = Math.min(data.length, i + COLUMN_ROWS)
          const columns = columnsTaken ? rowColumns(data.slice(i, end)) : null
          const parts = columns?.batches.map(fromRecordBatch)
          if (parts?.every(Boolean)) {
            await inFlight
            inFlight = null
            columnsTaken = await call(() => sink.writeRowBatches(schemaIpc(columns), parts))
            if (columnsTaken) {
              i = end
              continue
            }
          }
          for (let first = i; first < end; first += ROWS_PER_CALL) {
            const [text, hints] = rowsText(data.slice(first, Math.min(end, first + ROWS_PER_CALL)), first)
            await inFlight
            inFlight = call(() => sink.writeRows(text, first, hints))
          }
          i = end
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
    const o = {
      storageOptions: storageOptions(options),
      mode: options.mode,
      partitionBy: options.partitionBy,
      schemaMode: options.schemaMode,
      predicate: options.predicate,
      targetFileSize: options.targetFileSize,
      compression: options.compression,
      maxRowGroupBytes: options.maxRowGroupBytes,
      maxBufferedBytes: options.maxBufferedBytes,
      name: options.name,
      description: options.description,
      configuration: options.configuration,
      commitProperties: opOptions(options.commitProperties),
      writerProperties: writerPropertiesOption(options.writerProperties),
    }
    if (o.partitionBy !== undefined && (!Array.isArray(o.partitionBy) || !o.partitionBy.every((c) => typeof c === 'string'))) {
      throw invalid('partitionBy must be an array of column names')
    }
    return o
  }

  const appVersionMissing = () =>
    invalid(
      'commitProperties.appId without appVersion: give both, or make this adapter the output of a Pipe from a DeltaChangesInputAdapter (it sets appVersion to the source version of each commit)',
    )

  class DeltaOutputAdapter {
    constructor(uri, options) {
      options ??= {}
      checkUri(uri)
      this.uri = uri
      this._options = options
      // appId without appVersion: the output of an incremental Pipe, which sets the version per
      // commit (_withAppVersion). Its other options are checked now all the same.
      const cp = options.commitProperties
      if (cp?.appId !== undefined && (typeof cp.appId !== 'string' || cp.appId.length === 0))
        throw invalid(`commitProperties.appId must be a non-empty string, got ${typeof cp.appId === 'string' ? "''" : String(cp.appId)}`)
      this._appOnly = Boolean(cp && cp.appId !== undefined && (cp.appVersion === undefined || cp.appVersion === null))
      const opts = writeOptions(this._appOnly ? { ...options, commitProperties: { ...cp, appId: undefined } } : options)
      try {
        this._w = new native.DeltaOutputAdapter(uri, opts)
      } catch (err) {
        throw toDeltaError(err)
      }
      this._closed = false
      this._queue = Promise.resolve()
      // An abort before close() drops what was staged; during close() it cancels the commit.
      this._signal = signalOption(options.signal)
      this._sink = signalled(this._w, this._signal)
      this._onAbort = () => {
        if (this._closed) return
        this._abortedBySignal = true
        this.abort().catch(() => {})
      }
      if (this._signal?.aborted) this._abortedBySignal = true
      else this._signal?.addEventListener('abort', this._onAbort, { once: true })
    }

    /** Stage data; nothing is visible in the table until close(). */
    write(data) {
      return this._write(data, false)
    }

    /** @internal write(); `hold` as feed() takes it (writeDelta). */
    _write(data, hold) {
      if (this._abortedBySignal) return Promise.reject(abortError(this._signal, 'write'))
      if (this._closed) return Promise.reject(invalid('the output adapter is closed'))
      if (this._appOnly) return Promise.reject(appVersionMissing())
      // Writes are applied in call order even when not awaited.
      const p = this._queue.then(() => feed(this._sink, data, hold))
      this._queue = p.catch(() => {})
      return p
    }

    /** Commit everything written as ONE new table version. */
    async close() {
      if (this._abortedBySignal) throw abortError(this._signal, 'write')
      if (this._closed) throw invalid('the output adapter is already closed')
      if (this._appOnly) throw appVersionMissing()
      this._closed = true
      await this._queue
      try {
        const res = await withSignal(this._signal, (c) => this._w.close(c))
        return { ...res, version: res.version ?? null }
      } catch (err) {
        if (err.code === 'ABORTED') await call(() => this._w.abort()).catch(() => {})
        throw err
      } finally {
        this._signal?.removeEventListener('abort', this._onAbort)
      }
    }

    /** Discard everything written; the table is left exactly as it was. */
    async abort() {
      this._closed = true
      this._signal?.removeEventListener('abort', this._onAbort)
      await this._queue
      return call(() => this._w.abort())
    }

    /** `await using out = new DeltaOutputAdapter(...)`: a write never closed is aborted. */
    async [Symbol.asyncDispose]() {
      if (!this._closed) await this.abort()
    }

    /** @internal A new adapter with these options, committing appVersion `v` (incremental pipes). */
    _withAppVersion(v) {
      const cp = this._options.commitProperties
      return new DeltaOutputAdapter(this.uri, { ...this._options, commitProperties: { ...cp, appVersion: v } })
    }
  }

  async function writeDelta(uri, data, options) {
    options ??= {}
    const out = new DeltaOutputAdapter(uri, options)
    try {
      // The caller awaits the commit: its tables' memory is shared with the writers, not copied
      // (an async iterable's items are copied as they come: the iterable may reuse them).
      await out._write(data, true)
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
        this._w = new native.DeltaWriter(uri, {
          storageOptions: storageOptions(options),
          partitionBy: options.partitionBy,
          targetFileSize: options.targetFileSize,
          compression: options.compression,
          maxRowGroupBytes: options.maxRowGroupBytes,
          maxBufferedBytes: options.maxBufferedBytes,
          writerProperties: writerPropertiesOption(options.writerProperties),
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
        this._c = new native.DeltaCoordinator(uri, {
          storageOptions: storageOptions(options),
          mode: options.mode,
          schema,
          partitionBy: options.partitionBy,
        })
      } catch (err) {
        throw toDeltaError(err)
      }
    }

    /** Commit every worker's files as ONE new version: `{ commitProperties, maxRetries }`, the
     *  same commitProperties as every writer's. */
    async commit(files, options) {
      options ??= {}
      if (!Array.isArray(files)) throw invalid('commit() takes an array of DeltaWriter file actions')
      const flat = files.flat()
      for (const k of Object.keys(options))
        if (k !== 'commitProperties' && k !== 'maxRetries')
          throw invalid(
            `DeltaCoordinator.commit: unknown option '${k}' (it takes { commitProperties: { appId, appVersion, customMetadata, commitTimeoutMs }, maxRetries })`,
          )
      if (options.maxRetries !== undefined && (!Number.isInteger(options.maxRetries) || options.maxRetries < 0)) {
        throw invalid('maxRetries must be a non-negative integer')
      }
      return call(() => this._c.commit(flat, { ...opOptions(options.commitProperties), maxRetries: options.maxRetries }))
    }
  }

  return { DeltaOutputAdapter, writeDelta, DeltaWriter, DeltaCoordinator }
}

module.exports = { createWriting }

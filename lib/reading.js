'use strict'
// Reading: native batch streams as async generators of apache-arrow RecordBatches, whole reads into a
// Table, and the file input adapters (CSV, NDJSON, Parquet parsed in Rust).
const native = require('./native')
const { DeltaError, call, invalid } = require('./errors')
const { scanOptions, storageOptions } = require('./options')
const { abortRace, signalOption, throwIfAborted } = require('./abort')
const { toArrowSchema } = require('./schema')
const { isByteInput, readBytes } = require('./byte-input')
const { readAccounting, batchBytes } = require('./collection')

function createReading(arrow, handover) {
  const { toRecordBatch } = handover
  const decodeSchema = (buf) => arrow.tableFromIPC(buf).schema

  // A native batch stream as an async generator of RecordBatches (or IPC Buffers); leaving the
  // loop early (break, throw) closes the stream, which stops the native work. Streaming bounds
  // memory: the scan's large native buffers go back to the OS when freed (src/alloc.rs).
  // With a `limit`, the stream is closed (its native scan stopped) once that many rows came; with a
  // `signal`, when it aborts (the pending batch rejects with ABORTED at once).
  async function* streamBatches(open, format, limit, signal) {
    if (format !== undefined && format !== 'arrow' && format !== 'ipc') throw invalid(`format must be 'arrow' or 'ipc', got ${format}`)
    const { stream, pull, done } = await opened(open, signal)
    stream.boundMemory()
    let left = limit ?? Infinity
    try {
      if (format === 'ipc') {
        for (let buf; left > 0 && (buf = await pull(() => stream.next())) != null; ) {
          const t = arrow.tableFromIPC(buf)
          if (t.numRows > left) buf = Buffer.from(arrow.tableToIPC(t.slice(0, left), 'stream'))
          left -= Math.min(left, t.numRows)
          yield buf
        }
      } else {
        const schema = decodeSchema(stream.schema())
        for (let batch; left > 0 && (batch = await pull(() => stream.nextBatch())) != null; ) {
          let b = toRecordBatch(schema, batch)
          if (b.numRows > left) b = b.slice(0, left)
          left -= b.numRows
          yield b
        }
      }
    } finally {
      done()
    }
  }

  /** The native stream `open` returns, `pull` (a next call raced against `signal`) and `done`. */
  async function opened(open, signal) {
    signal = signalOption(signal)
    throwIfAborted(signal, 'read')
    const stream = await call(open)
    if (!signal) return { stream, pull: (next) => call(next), done: () => stream.close() }
    const race = abortRace(signal, 'read')
    return {
      stream,
      pull: (next) => Promise.race([call(next), race.promise]),
      done: () => {
        race.dispose()
        stream.close()
      },
    }
  }

  // Reading a whole table into memory has no batch-size memory bound to keep, and bigger batches
  // decode faster (measured: a 10 M-row full read 0.59 s at 65,536 rows per batch, 0.50 s at 262,144;
  // release, alternating, three sittings of 6: 0.495-0.524 s at 262,144, 0.458-0.490 s at 524,288,
  // 0.475-0.513 s at 1,048,576; peak RSS of a first read 1012 -> 1032 MB).
  const COLLECT_BATCH_SIZE = 524_288
  const forCollect = (opts) => (opts.batchSize === undefined ? { ...opts, batchSize: COLLECT_BATCH_SIZE } : opts)

  async function collect(open, limit, signal) {
    const { stream, pull, done } = await opened(open, signal)
    let left = limit ?? Infinity
    const accounting = readAccounting()
    try {
      const schemaIpc = stream.schema()
      const schema = decodeSchema(schemaIpc)
      const batches = []
      for (let batch; left > 0 && (batch = await pull(() => stream.nextBatch())) != null; ) {
        accounting.next(batchBytes(batch))
        let b = toRecordBatch(schema, batch)
        if (b.numRows > left) b = b.slice(0, left)
        left -= b.numRows
        batches.push(b)
      }
      return batches.length ? new arrow.Table(batches) : arrow.tableFromIPC(schemaIpc)
    } finally {
      accounting.done()
      done()
    }
  }

  // ---- file input adapters (parsed in Rust) -------------------------------------------------

  const path = require('node:path')
  const oneChar = (name, v) => {
    if (v !== undefined && (typeof v !== 'string' || v.length !== 1)) throw invalid(`${name} must be a single character`)
    return v
  }

  class FileInputAdapter {
    /** `uri`: a path, URL, directory or glob; or the bytes themselves (lib/byte-input.js). */
    constructor(format, uri, options) {
      options ??= {}
      if (isByteInput(uri)) {
        this._bytes = uri
        uri = uri instanceof Uint8Array ? `<${format} bytes>` : `<${format} stream>`
        const c = options.chunkBytes
        if (c !== undefined && (!Number.isSafeInteger(c) || c < 1)) throw invalid(`chunkBytes must be a positive integer, got ${c}`)
        this._chunkBytes = c
      } else if (typeof uri !== 'string' || uri.length === 0)
        throw invalid('the input must be a path (a non-empty string), a Buffer, a Readable or a ReadableStream')
      this.uri = uri
      this.format = format
      const isUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(uri)
      this._path = isUrl || this._bytes ? uri : path.resolve(uri)
      const { columns, batchSize } = scanOptions({ columns: options.columns, batchSize: options.batchSize })
      this._opts = {
        format,
        storageOptions: storageOptions(options),
        batchSize,
        columns,
        schema:
          options.schema === undefined
            ? undefined
            : Buffer.from(arrow.tableToIPC(new arrow.Table(toArrowSchema(arrow, options.schema)), 'stream')),
        fileExtension: options.fileExtension,
        header: options.header,
        delimiter: oneChar('delimiter', options.delimiter),
        quote: oneChar('quote', options.quote),
        escape: oneChar('escape', options.escape),
        nullValues: options.nullValues,
        newlinesInValues: options.newlinesInValues,
        inferRows: options.inferRows,
      }
      this._signal = signalOption(options.signal)
    }

    /** `rejects: true` (CSV): rows with values that do not fit their column come back as separate
     *  batches marked with schema metadata `zoopipe.rejected` (raw text + `_error`) instead of failing. */
    getBatches(options) {
      options ??= {}
      const opts = options.rejects ? { ...this._opts, rejectInvalid: true } : this._opts
      const signal = options.signal ?? this._signal
      if (this._bytes) return this._fromBytes(opts, (open) => streamBatches(open, options.format, undefined, signal))
      return streamBatches(() => native.openFileSource(this._path, opts), options.format, undefined, signal)
    }

    async readAll(options) {
      const signal = options?.signal ?? this._signal
      if (this._bytes) {
        const batches = []
        for await (const b of this._fromBytes(forCollect(this._opts), (open) => streamBatches(open, undefined, undefined, signal)))
          batches.push(b)
        if (batches.length === 0) throw new DeltaError('INVALID_DATA', `${this.uri}: the input is empty`)
        return new arrow.Table(batches)
      }
      return collect(() => native.openFileSource(this._path, forCollect(this._opts)), undefined, signal)
    }

    /** The batches of a byte input; a stream (unlike a Buffer) can be read once. */
    _fromBytes(opts, openStream) {
      if (this._consumed) throw invalid(`${this.uri}: a stream input can be read once`)
      if (!(this._bytes instanceof Uint8Array)) this._consumed = true
      return readBytes(this._bytes, this.format, opts, { chunkBytes: this._chunkBytes, label: this.uri }, openStream)
    }

    /** `for await (const batch of adapter)`: getBatches() with no options. */
    [Symbol.asyncIterator]() {
      return this.getBatches()
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

  return { decodeSchema, streamBatches, collect, forCollect, CsvInputAdapter, JsonLinesInputAdapter, ParquetInputAdapter }
}

module.exports = { createReading }

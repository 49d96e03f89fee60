'use strict'
// Byte inputs of the file input adapters: a Buffer / Uint8Array, a Node Readable, a web
// ReadableStream or any async iterable of byte chunks (an S3 event body, an HTTP upload) instead of
// a path, read without a temp file. A stream is cut into chunks that end at a record boundary
// (CSV: a newline outside quotes; NDJSON: a newline); each chunk is parsed by the same native reader
// as a file, put in the addon's memory store for the time it is read. The first chunk fixes the
// schema (inferred unless given) and every later one is read with it, so a stream holds about one
// chunk (`chunkBytes`, default 8 MiB) plus its batches. Parquet needs its footer first: a Parquet
// stream is gathered whole, then read.
const crypto = require('node:crypto')
const native = require('./native')
const { DeltaError, call, invalid } = require('./errors')

const DEFAULT_CHUNK_BYTES = 8 << 20
const NL = 0x0a

/** Whether `input` is bytes or a byte stream rather than a path. */
function isByteInput(input) {
  return (
    input instanceof Uint8Array ||
    (input !== null &&
      typeof input === 'object' &&
      (typeof input.getReader === 'function' || typeof input[Symbol.asyncIterator] === 'function'))
  )
}

/** The chunks of a Readable, web ReadableStream or async iterable, as Buffers. */
async function* chunksOf(input) {
  const bytes = (c) => {
    if (typeof c === 'string') return Buffer.from(c)
    if (c instanceof Uint8Array) return Buffer.from(c.buffer, c.byteOffset, c.byteLength)
    throw invalid(`a byte stream input yielded ${c === null ? 'null' : typeof c}, not bytes (Buffer, Uint8Array or string)`)
  }
  if (typeof input.getReader === 'function' && typeof input[Symbol.asyncIterator] !== 'function') {
    const reader = input.getReader()
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) return
        yield bytes(value)
      }
    } finally {
      reader.releaseLock()
    }
  }
  for await (const c of input) yield bytes(c)
}

/** Where the last record of `buf` ends (the index after its newline), or -1: newlines inside quotes
 *  (CSV) do not end a record. `state.quoted` carries across calls (bytes already scanned). */
function lastRecordEnd(buf, from, csv, state) {
  let end = -1
  const { quote, escape: esc } = csv ?? {}
  for (let i = from; i < buf.length; i++) {
    const b = buf[i]
    if (csv) {
      if (state.quoted && esc !== undefined && esc !== quote && b === esc) {
        i++
        continue
      }
      if (b === quote) {
        state.quoted = !state.quoted
        continue
      }
    }
    if (b === NL && !state.quoted) end = i + 1
  }
  return end
}

/**
 * Byte pieces of `input` to read one after another: Buffers that each end at a record boundary
 * (the last holds the rest), or the whole input for Parquet.
 */
async function* pieces(input, format, options) {
  if (input instanceof Uint8Array) {
    yield Buffer.from(input.buffer, input.byteOffset, input.byteLength)
    return
  }
  const size = options.chunkBytes ?? DEFAULT_CHUNK_BYTES
  const csv = format === 'csv' ? { quote: (options.quote ?? '"').charCodeAt(0), escape: options.escape?.charCodeAt(0) } : null
  const state = { quoted: false }
  let parts = []
  let held = 0
  let scanned = 0 // bytes of `parts` already scanned for quotes
  for await (const chunk of chunksOf(input)) {
    parts.push(chunk)
    held += chunk.length
    if (format === 'parquet' || held < size) continue
    const buf = parts.length === 1 ? parts[0] : Buffer.concat(parts, held)
    const end = lastRecordEnd(buf, scanned, csv, state)
    scanned = buf.length
    if (end <= 0) {
      parts = [buf]
      continue
    }
    yield buf.subarray(0, end)
    // The scan state is for the whole buffer; rescanning the rest keeps it exact for what follows.
    const rest = buf.subarray(end)
    state.quoted = false
    lastRecordEnd(rest, 0, csv, state)
    parts = rest.length ? [rest] : []
    held = rest.length
    scanned = rest.length
  }
  if (held > 0 || format === 'parquet') yield parts.length === 1 ? parts[0] : Buffer.concat(parts, held)
}

const EXTENSIONS = { csv: 'csv', json: 'ndjson', parquet: 'parquet' }

/**
 * The batches of a byte input: `open(uri, opts)` opens a native file source, `stream(open, opts)`
 * turns it into batches; `label` names the input in errors instead of its memory URI.
 */
async function* readBytes(input, format, opts, { chunkBytes, label }, openStream) {
  const id = crypto.randomUUID()
  let n = 0
  let schema = opts.schema
  const rename = (err) =>
    err instanceof DeltaError
      ? new DeltaError(err.code, err.message.replace(/memory:\/\/zoopipe-inputs\/[^\s:'"]+/g, label), { cause: err })
      : err
  for await (const piece of pieces(input, format, { ...opts, chunkBytes })) {
    if (piece.length === 0) continue
    const name = `${id}/${n}.${EXTENSIONS[format]}`
    const uri = await call(() => native.putInputBytes(name, piece))
    try {
      let o = opts
      if (n > 0) {
        // Later chunks: no header, the first chunk's schema; the BOM only ever starts the first.
        o = { ...opts, schema, ...(format === 'csv' ? { header: false } : {}) }
      } else if (schema === undefined && format !== 'parquet' && !(input instanceof Uint8Array)) {
        // A stream: the schema the first chunk gives, before any projection, for every chunk (this
        // one is then read with it rather than inferred twice). A Buffer is one piece: no probe.
        const probe = await call(() => native.openFileSource(uri, { ...opts, columns: undefined, rejectInvalid: undefined }))
        schema = probe.schema()
        probe.close()
        o = { ...opts, schema }
      }
      yield* openStream(() => native.openFileSource(uri, o))
    } catch (err) {
      throw rename(err)
    } finally {
      await call(() => native.deleteInputBytes(name)).catch(() => {})
    }
    n++
  }
}

module.exports = { isByteInput, readBytes, pieces }

'use strict'
// Write inputs as what the native writers take: row objects as newline-delimited JSON text with type
// hints (or one Arrow IPC stream), apache-arrow Tables and RecordBatches recognised across module builds.
const native = require('./native')
const { DeltaError, call } = require('./errors')

function createRows(arrow) {
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

  return { ROWS_PER_CALL, isArrowTable, isArrowBatch, rowsText, rowsToIpc, toIpc }
}

module.exports = { createRows }

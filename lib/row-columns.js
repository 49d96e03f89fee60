'use strict'
// Plain row objects of plain values (numbers, strings, booleans, null) as Arrow columns built here,
// without the JSON text rows.js makes for everything else. JSON.stringify was most of a row write:
// 1 M rows { id, amount, qty, customer } took 0.43-0.46 s to stringify alone, and arrow-json then
// parsed the numbers back; built here they take ~0.14 s (each value read once, in the pass that
// finds its column's kind: 0.17 -> 0.14 s), and the write 0.59-0.74 -> 0.25-0.30 s (release, 2
// cores). The columns have the types the JSON path gives a new table (whole numbers long, others
// double, text string, booleans boolean); rows this does not
// cover (other values, differing keys, a column of mixed kinds or only nulls, NaN/±Infinity,
// numbers past ±2^53) return null and go the JSON way, so what a write stores does not depend on
// the path. Little-endian platforms only (the longs are written as 32-bit halves).

const TWO_32 = 4294967296
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

function createRowColumns(arrow) {
  /** `rows` as an apache-arrow Table, or null when the JSON path must take them. */
  function rowColumns(rows) {
    if (!LITTLE_ENDIAN || rows.length === 0) return null
    const first = rows[0]
    if (!plain(first)) return null
    const keys = Object.keys(first)
    if (keys.length === 0) return null
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]
      if (!plain(r) || ownKeys(r) !== keys.length) return null
    }
    const fields = []
    const children = []
    for (const key of keys) {
      const column = buildColumn(rows, key)
      if (!column) return null
      fields.push(new arrow.Field(key, column.type, true))
      children.push(column)
    }
    const schema = new arrow.Schema(fields)
    const data = arrow.makeData({ type: new arrow.Struct(fields), length: rows.length, nullCount: 0, children })
    return new arrow.Table(schema, new arrow.RecordBatch(schema, data))
  }

  // How many keys `r` has, without the array Object.keys makes per row (the JSON path writes the
  // enumerable own string keys; a plain object inherits none, as plain() checked).
  function ownKeys(r) {
    let count = 0
    for (const _ in r) count++
    return count
  }

  // An object the JSON path would write as its own keys: no toJSON, no class of its own.
  function plain(r) {
    if (r === null || typeof r !== 'object') return false
    const proto = Object.getPrototypeOf(r)
    return (proto === Object.prototype || proto === null) && typeof r.toJSON !== 'function'
  }

  // The column of `key`, filled in the same pass that finds its kind (each value is read once).
  // Null when not covered, or when a row lacks the key while holding as many others (its keys
  // differ from the first row's).
  function buildColumn(rows, key) {
    const n = rows.length
    let numbers = null // Float64Array of the values, once a number is seen
    let strings = null // the values, once a string is seen
    let bits = null // booleans, once one is seen
    let validity = null // once a null is seen
    let kinds = 0
    let nulls = 0
    let whole = true
    for (let i = 0; i < n; i++) {
      const v = rows[i][key]
      switch (typeof v) {
        case 'number':
          if (!Number.isInteger(v)) {
            if (v - v !== 0) return null // NaN, ±Infinity: the JSON path's hints make them doubles
            whole = false
          } else if (v > Number.MAX_SAFE_INTEGER || v < -Number.MAX_SAFE_INTEGER) return null
          if (numbers === null) {
            numbers = new Float64Array(n)
            kinds++
          }
          numbers[i] = v
          break
        case 'string':
          if (strings === null) {
            strings = new Array(n).fill('')
            kinds++
          }
          strings[i] = v
          break
        case 'boolean':
          if (bits === null) {
            bits = new Uint8Array((n + 7) >> 3)
            kinds++
          }
          if (v) bits[i >> 3] |= 1 << (i & 7)
          break
        case 'undefined': // a null, as JSON leaves it out; a row without the key is not covered
        case 'object':
          if (v === undefined ? !(key in rows[i]) : v !== null) return null
          if (validity === null) {
            // Every row before this one held a value.
            validity = new Uint8Array((n + 7) >> 3).fill(0xff)
          }
          validity[i >> 3] &= ~(1 << (i & 7))
          nulls++
          break
        default:
          return null
      }
    }
    if (kinds !== 1) return null // mixed kinds (the JSON path refuses or widens them), or only nulls
    const base = { length: n, nullCount: nulls, nullBitmap: validity ?? undefined }
    if (strings !== null) return utf8(strings, base)
    if (bits !== null) return arrow.makeData({ ...base, type: new arrow.Bool(), data: bits })
    if (!whole) return arrow.makeData({ ...base, type: new arrow.Float64(), data: numbers })
    // Longs as two 32-bit halves: BigInt for each value cost more than the rest of the column.
    const halves = new Int32Array(2 * n)
    for (let i = 0; i < n; i++) {
      const v = numbers[i]
      const hi = Math.floor(v / TWO_32)
      halves[2 * i] = (v - hi * TWO_32) | 0
      halves[2 * i + 1] = hi | 0
    }
    return arrow.makeData({ ...base, type: new arrow.Int64(), data: new BigInt64Array(halves.buffer) })
  }

  // Text as one buffer and offsets. All-ASCII text (checked once over the joined values) has as
  // many bytes as characters, so the offsets come from the lengths and one latin1 copy makes the
  // bytes; other text is encoded value by value.
  function utf8(values, base) {
    const n = values.length
    let joined
    try {
      joined = values.join('')
    } catch {
      return null // longer than a JS string can be: JSON's chunks are smaller
    }
    const total = Buffer.byteLength(joined, 'utf8') // as many as characters: all ASCII
    if (total > 0x7fffffff) return null
    const offsets = new Int32Array(n + 1)
    let bytes
    if (total === joined.length) {
      for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i] + values[i].length
      bytes = Buffer.from(joined, 'latin1')
    } else {
      if (!joined.isWellFormed()) return null // lone surrogates: as the JSON path has them
      bytes = Buffer.allocUnsafe(total)
      let at = 0
      for (let i = 0; i < n; i++) {
        at += bytes.write(values[i], at, 'utf8')
        offsets[i + 1] = at
      }
    }
    const data = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    return arrow.makeData({ ...base, type: new arrow.Utf8(), valueOffsets: offsets, data })
  }

  return { rowColumns }
}

module.exports = { createRowColumns }

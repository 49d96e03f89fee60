'use strict'
// toRows: an apache-arrow Table or RecordBatch as plain, JSON-safe row objects. apache-arrow's own
// rows hold bigints (which JSON.stringify refuses), Decimal bignums, Uint8Arrays and proxies; every
// user printing or returning rows wrote this converter.
const { DeltaError, invalid } = require('./errors')

const INT64 = new Set(['number', 'string', 'bigint'])

function createToRows(arrow) {
  /** A converter of one non-null value of `type`; `where(i)` names the row in errors. */
  function converter(type, int64, where) {
    const { Type } = arrow
    switch (type.typeId) {
      case Type.Int:
      case Type.Time:
      case Type.Duration:
        if (type.bitWidth !== 64 && type.typeId !== Type.Duration) return (v) => v
        return int64Converter(int64, where)
      case Type.Decimal: {
        const scale = type.scale
        return (v) => withScale(String(v), scale)
      }
      case Type.Timestamp:
        return (v) => new Date(Number(v))
      case Type.Date:
        return (v) => new Date(Number(v)).toISOString().slice(0, 10)
      case Type.Binary:
      case Type.LargeBinary:
      case Type.BinaryView:
      case Type.FixedSizeBinary:
        return (v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')
      case Type.Dictionary:
        return converter(type.dictionary, int64, where)
      case Type.List:
      case Type.LargeList:
      case Type.FixedSizeList: {
        const child = nullable(converter(type.children[0].type, int64, where))
        return (v) => Array.from(v, child)
      }
      case Type.Struct: {
        const fields = type.children.map((f) => [f.name, nullable(converter(f.type, int64, where))])
        return (v) => Object.fromEntries(fields.map(([name, c]) => [name, c(v[name])]))
      }
      case Type.Map: {
        const [key, value] = type.children[0].type.children
        const k = nullable(converter(key.type, int64, where))
        const val = nullable(converter(value.type, int64, where))
        return (v) => Object.fromEntries(Array.from(v, ([a, b]) => [String(k(a)), val(b)]))
      }
      default:
        return (v) => v
    }
  }

  const nullable = (c) => (v) => (v === null || v === undefined ? null : c(v))

  function int64Converter(int64, where) {
    if (int64 === 'bigint') return (v) => BigInt(v)
    if (int64 === 'string') return (v) => String(v)
    return (v) => {
      const n = Number(v)
      if (!Number.isSafeInteger(n) && typeof v === 'bigint')
        throw new DeltaError('INVALID_DATA', `toRows: ${where()} holds ${v}, beyond a safe JS number: use { int64: 'string' } or 'bigint'`)
      return n
    }
  }

  function withScale(digits, scale) {
    if (scale <= 0) return scale === 0 ? digits : digits + '0'.repeat(-scale)
    const negative = digits.startsWith('-')
    const abs = (negative ? digits.slice(1) : digits).padStart(scale + 1, '0')
    return `${negative ? '-' : ''}${abs.slice(0, -scale)}.${abs.slice(-scale)}`
  }

  /**
   * Rows of `data` as plain objects: int64 values as numbers (an unsafe one is INVALID_DATA),
   * strings or bigints (`int64`); decimals as exact strings; timestamps as Dates; dates as
   * 'YYYY-MM-DD'; binary as base64; structs, lists and maps as objects and arrays.
   */
  function toRows(data, options) {
    options ??= {}
    const int64 = options.int64 ?? 'number'
    if (!INT64.has(int64)) throw invalid(`toRows: int64 must be 'number', 'string' or 'bigint', got ${String(int64)}`)
    const table = arrow.util.isArrowRecordBatch(data) || data instanceof arrow.RecordBatch ? new arrow.Table(data) : data
    if (!table || typeof table.getChildAt !== 'function' || !table.schema)
      throw invalid('toRows takes an apache-arrow Table or RecordBatch')
    const out = Array.from({ length: table.numRows }, () => ({}))
    table.schema.fields.forEach((field, c) => {
      let i = 0
      const convert = nullable(converter(field.type, int64, () => `column '${field.name}', row ${i}`))
      for (const v of table.getChildAt(c)) {
        out[i][field.name] = convert(v)
        i++
      }
    })
    return out
  }

  return { toRows }
}

module.exports = { createToRows }

'use strict'
// The two forms a schema is given in, one conversion: an apache-arrow Schema as it is, or a plain
// map of column names to Delta type names (`{ id: 'long', amount: 'decimal(10,2)', tags:
// 'array<string>' }`, `'long not null'` for a required column), turned into an apache-arrow Schema.
const { invalid } = require('./errors')

/** Delta's primitive type names and the apache-arrow type each is written as. */
function primitives(arrow) {
  return {
    string: () => new arrow.Utf8(),
    long: () => new arrow.Int64(),
    integer: () => new arrow.Int32(),
    int: () => new arrow.Int32(),
    short: () => new arrow.Int16(),
    byte: () => new arrow.Int8(),
    float: () => new arrow.Float32(),
    double: () => new arrow.Float64(),
    boolean: () => new arrow.Bool(),
    binary: () => new arrow.Binary(),
    date: () => new arrow.DateDay(),
    timestamp: () => new arrow.TimestampMicrosecond('UTC'),
    timestamp_ntz: () => new arrow.TimestampMicrosecond(),
  }
}

/** Split `s` at top-level commas (not inside <> or ()). */
function splitTop(s) {
  const parts = []
  let depth = 0
  let start = 0
  for (let i = 0; i < s.length; i++) {
    const c = s[i]
    if (c === '<' || c === '(') depth++
    else if (c === '>' || c === ')') depth--
    else if (c === ',' && depth === 0) {
      parts.push(s.slice(start, i).trim())
      start = i + 1
    }
  }
  parts.push(s.slice(start).trim())
  return parts
}

/** The apache-arrow type of one Delta type name; `where` names the column for errors. */
function parseType(arrow, text, where) {
  const t = text.trim()
  const lower = t.toLowerCase()
  const prim = primitives(arrow)[lower]
  if (prim) return prim()
  let m = /^decimal\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(lower)
  if (m) {
    const [precision, scale] = [Number(m[1]), Number(m[2])]
    if (precision < 1 || precision > 38 || scale > precision)
      throw invalid(`${where}: decimal(${precision},${scale}) needs 1 <= precision <= 38 and scale <= precision`)
    return new arrow.Decimal(scale, precision, 128)
  }
  m = /^(array|map|struct)\s*<(.*)>$/is.exec(t)
  if (m) {
    const kind = m[1].toLowerCase()
    const inner = splitTop(m[2])
    if (kind === 'array') {
      if (inner.length !== 1) throw invalid(`${where}: array takes one element type, e.g. array<string>`)
      return new arrow.List(new arrow.Field('element', parseType(arrow, inner[0], where), true))
    }
    if (kind === 'map') {
      if (inner.length !== 2) throw invalid(`${where}: map takes a key and a value type, e.g. map<string,long>`)
      const entries = new arrow.Struct([
        new arrow.Field('key', parseType(arrow, inner[0], where), false),
        new arrow.Field('value', parseType(arrow, inner[1], where), true),
      ])
      return new arrow.Map_(new arrow.Field('key_value', entries, false))
    }
    const fields = inner.map((f) => {
      const at = f.indexOf(':')
      if (at < 1) throw invalid(`${where}: struct fields are name:type, e.g. struct<a:long,b:string>`)
      const name = f.slice(0, at).trim()
      return new arrow.Field(name, parseType(arrow, f.slice(at + 1), `${where}.${name}`), true)
    })
    return new arrow.Struct(fields)
  }
  throw invalid(
    `${where}: unknown Delta type '${text}' (string, long, integer, short, byte, float, double, boolean, binary, date, timestamp, timestamp_ntz, decimal(p,s), array<T>, map<K,V>, struct<name:T,...>)`,
  )
}

/** An apache-arrow Schema (returned as it is) or a plain map of Delta type names, as a Schema. */
function toArrowSchema(arrow, schema, what = 'schema') {
  // Duck-typed: another copy of apache-arrow is fine.
  if (schema && Array.isArray(schema.fields) && schema.fields.every((f) => f && typeof f.name === 'string' && f.type)) {
    return schema instanceof arrow.Schema ? schema : new arrow.Schema(schema.fields, schema.metadata)
  }
  if (!schema || typeof schema !== 'object' || Array.isArray(schema))
    throw invalid(`${what} must be an apache-arrow Schema or a map of column names to Delta type names, e.g. { id: 'long' }`)
  const entries = Object.entries(schema)
  if (entries.length === 0) throw invalid(`${what} has no columns`)
  const fields = entries.map(([name, type]) => {
    if (typeof type !== 'string') throw invalid(`${what}: column '${name}' needs a Delta type name, got ${typeof type}`)
    const m = /^(.*?)\s+not\s+null$/is.exec(type.trim())
    return new arrow.Field(name, parseType(arrow, m ? m[1] : type, `${what}: column '${name}'`), !m)
  })
  return new arrow.Schema(fields)
}

module.exports = { toArrowSchema }

'use strict'
// DeltaTable.merge's builder: clauses as Python deltalake's TableMerger names them, then one
// native merge (DataFusion) that commits once.
const { invalid } = require('./errors')
const { opOptions } = require('./options')
const { signalOption, withSignal } = require('./abort')

/** SQL expressions by column, as strings. */
function sqlMap(obj) {
  const out = {}
  for (const [k, v] of Object.entries(obj)) out[k] = String(v)
  return out
}

function createMerge({ toIpc }) {
  class MergeBuilder {
    constructor(table, source, spec, commitProperties, signal) {
      Object.assign(this, { _table: table, _source: source, _spec: { ...spec, clauses: [] }, _cp: commitProperties, _signal: signal })
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
    async execute(options) {
      const signal = signalOption(options?.signal) ?? this._signal
      const ipc = await toIpc(this._source)
      return withSignal(signal, (c) => this._table._t.merge(ipc, this._spec, opOptions(this._cp, c)))
    }
  }

  return { MergeBuilder }
}

module.exports = { createMerge, sqlMap }

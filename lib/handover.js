'use strict'
// Arrow batches between JS and Rust buffer by buffer (see src/handover.rs): nodes and buffers go
// depth first in the order of the Arrow IPC format. Reads: every buffer is a view of Rust-owned
// memory that stays alive as long as JS references it. Writes: the same layout, copied once in Rust.

function createHandover(arrow) {
  // Resolved at first use: index.js loads apache-arrow when the API first needs it.
  let parts
  const arrowParts = () => {
    parts ??= {
      makeData: arrow.makeData,
      RecordBatch: arrow.RecordBatch,
      Struct: arrow.Struct,
      Type: arrow.Type,
      tableFromIPC: arrow.tableFromIPC,
    }
    return parts
  }

  /** A RecordBatch of `schema` from one JsBatch of the native RecordBatchStream.nextBatch(). */
  function toRecordBatch(schema, batch) {
    const { makeData, RecordBatch, Struct, Type, tableFromIPC } = arrowParts()
    if (batch.ipc) return tableFromIPC(batch.ipc).batches[0]
    const { nodes, buffers, variadic } = batch
    let n = 0
    let b = 0
    let v = 0
    const load = (type) => {
      const length = nodes[n++]
      const nullCount = nodes[n++]
      if (type.typeId === Type.Null) return makeData({ type, length })
      const nullBitmap = buffers[b++] ?? undefined
      const base = { type, length, nullCount, nullBitmap }
      switch (type.typeId) {
        case Type.Utf8:
        case Type.Binary:
        case Type.LargeUtf8:
        case Type.LargeBinary:
          return makeData({ ...base, valueOffsets: buffers[b++], data: buffers[b++] })
        case Type.Utf8View:
        case Type.BinaryView: {
          const views = buffers[b++]
          const count = variadic[v++]
          b += count
          return makeData({ ...base, views, variadicBuffers: buffers.slice(b - count, b) })
        }
        case Type.List:
        case Type.Map: {
          const valueOffsets = buffers[b++]
          return makeData({ ...base, valueOffsets, child: load(type.children[0].type) })
        }
        case Type.FixedSizeList:
          return makeData({ ...base, child: load(type.children[0].type) })
        case Type.Struct:
          return makeData({ ...base, children: type.children.map((f) => load(f.type)) })
        default:
          return makeData({ ...base, data: buffers[b++] })
      }
    }
    const children = schema.fields.map((f) => load(f.type))
    return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: batch.length, nullCount: 0, children }))
  }

  const bytes = (view) => new Uint8Array(view.buffer, view.byteOffset, view.byteLength)

  /** The same layout for a RecordBatch going to Rust, or null when a part of it is laid out in a
   *  way this does not cover (sliced data, dictionaries, unions): send it as IPC instead. */
  function fromRecordBatch(batch) {
    const { Type } = arrowParts()
    const nodes = []
    const buffers = []
    const visit = (data) => {
      if (data.offset !== 0) return false
      nodes.push(data.length, data.nullCount)
      const t = data.type.typeId
      if (t === Type.Null) return true
      buffers.push(data.nullCount > 0 ? bytes(data.nullBitmap) : null)
      switch (t) {
        case Type.Utf8:
        case Type.Binary:
        case Type.LargeUtf8:
        case Type.LargeBinary:
          buffers.push(bytes(data.valueOffsets), bytes(data.values))
          return true
        case Type.List:
        case Type.Map:
          buffers.push(bytes(data.valueOffsets))
          return visit(data.children[0])
        case Type.FixedSizeList:
        case Type.Struct:
          return data.children.every(visit)
        case Type.Dictionary: {
          // The indices, then the dictionary's values as the one child (as arrow-rs lays it out);
          // a dictionary of several chunks goes as IPC.
          const dictionary = data.dictionary?.data
          if (dictionary?.length !== 1) return false
          buffers.push(bytes(data.values))
          return visit(dictionary[0])
        }
        case Type.Bool:
        case Type.Int:
        case Type.Float:
        case Type.Decimal:
        case Type.Date:
        case Type.Time:
        case Type.Timestamp:
        case Type.Duration:
        case Type.FixedSizeBinary:
          buffers.push(bytes(data.values))
          return true
        default:
          return false
      }
    }
    return batch.data.children.every(visit) ? { length: batch.numRows, nodes, buffers } : null
  }

  return { toRecordBatch, fromRecordBatch }
}

module.exports = { createHandover }

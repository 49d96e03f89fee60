'use strict'
// Rebuilds a RecordBatch from the buffers src/handover.rs hands over without copying: nodes and
// buffers come depth first in the order of the Arrow IPC format, and every buffer is a view of
// Rust-owned memory that stays alive as long as JS references it.

function createHandover(arrow) {
  const { makeData, RecordBatch, Struct, Type, tableFromIPC } = arrow

  /** A RecordBatch of `schema` from one JsBatch of NativeBatchStream.nextBatch(). */
  return function toRecordBatch(schema, batch) {
    if (batch.ipc) return tableFromIPC(batch.ipc).batches[0]
    const { nodes, buffers } = batch
    let n = 0
    let b = 0
    const load = (type) => {
      const length = nodes[n++]
      const nullCount = nodes[n++]
      if (type.typeId === Type.Null) return makeData({ type, length })
      const nullBitmap = buffers[b++] ?? undefined
      const base = { type, length, nullCount, nullBitmap }
      switch (type.typeId) {
        case Type.Utf8: case Type.Binary: case Type.LargeUtf8: case Type.LargeBinary:
          return makeData({ ...base, valueOffsets: buffers[b++], data: buffers[b++] })
        case Type.List: case Type.Map: {
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
}

module.exports = { createHandover }

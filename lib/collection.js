'use strict'
// A streamed write copies each batch into the native writers, so the caller's batch is garbage as
// soon as write() resolves; but V8 frees ArrayBuffers only when it collects, and external memory
// prompts that only 64 MiB after the last collection. That garbage was a quarter of a streamed
// write's peak RSS, so after every 16 MiB copied V8 is made to collect (native.requestCollection).
// Measured (release, bench/stream_write.mjs, 5 M rows): 8 partitions 281-292 -> 204-207 MB,
// unpartitioned 252-262 -> 168-175 MB, for up to 10% more time; the demo's Pipe (bench/pipe.mjs)
// 288-304 -> 235-245 MB for ~12%. ZOOPIPE_LOW_MEMORY=0 turns it off (as it keeps the addon's
// large buffers in malloc: src/alloc.rs).

const v8 = require('node:v8')
const native = require('./native')

/** Bytes copied between two requests, at least: a collection per ~2 of the bench's batches. */
const EVERY = 16 << 20

const off = process.env.ZOOPIPE_LOW_MEMORY === '0'
let copied = 0

/** `bytes` of the caller's memory were copied and let go. A request waits until as many bytes as
 *  V8's heap holds were copied too, so what the collections cost stays proportional to the data
 *  (with 565 MB of JS objects alive, a 400 MB streamed write made none and took as long). */
function copiedOut(bytes) {
  copied += bytes
  if (off || copied < EVERY) return
  if (copied < v8.getHeapStatistics().used_heap_size) return
  copied = 0
  native.requestCollection()
}

/** The bytes of a handover.js batch (its buffers; nulls are absent buffers). */
function batchBytes(part) {
  let n = 0
  for (const b of part.buffers) if (b) n += b.byteLength
  return n
}

module.exports = { copiedOut, batchBytes }

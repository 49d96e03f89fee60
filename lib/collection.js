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

/** The bytes of a handover.js batch (its buffers; nulls are absent buffers; or its IPC stream). */
function batchBytes(part) {
  if (part.ipc) return part.ipc.byteLength
  let n = 0
  for (const b of part.buffers) if (b) n += b.byteLength
  return n
}

// A read into one table is the other way round: nothing it hands over is garbage, but V8 counts
// every buffer as external memory and starts a collection each time the count passes 64 MiB over
// what the last one left: about five during a 10 M-row read (600 MB), whose marking and sweeping
// took the cores the decode needs, and none of which could free a byte of the read. So V8 sees the
// read's first 64 MiB as they come (a collection then frees what came before, as it would), and the
// rest later, by when V8 counts the same bytes once each. Measured (release, alternating, 24 reads
// each, collections counted with --trace-gc): 10 M-row full read 5 -> 2 collections per read,
// 0.406 -> 0.364 s; projected read (2 columns, 160 MB) 3 -> 2, 0.103 -> 0.096 s.
//
// "Later" is not the read's end: the caller holds the table then, so the collection V8 starts as it
// sees those bytes frees nothing of it either. They are shown when the next collecting read starts
// (they count towards its first 64 MiB: the collection they start frees what the caller has let go
// since, and a read that follows one of 64 MiB or more holds back all it receives) or after
// LATER_MS, whichever comes first.
// Measured (release, 10 M rows, alternating, medians of reads 4-12 of a process): one collection
// per read instead of two; full read 0.276-0.291 -> 0.263-0.272 s, projected 0.067-0.070 ->
// 0.060-0.065 s; peak RSS of read, drop, wait 1.5 s (x4) 1390 -> 1146 MB, back to back unchanged.

/** The bytes V8 sees as a collecting read starts: held bytes of ended reads, then what arrives. */
const SEEN = 64 << 20
/** How long a collecting read's held bytes wait for the next one before V8 is shown them. */
const LATER_MS = 1000

/** Bytes ended collecting reads held back that V8 has not been shown yet. */
let pending = 0
let timer = null

/** Shows V8 the bytes ended reads held back; how many. */
function showPending() {
  if (timer) clearTimeout(timer)
  timer = null
  const n = pending
  pending = 0
  if (n) native.adjustExternalMemory(n)
  return n
}

/** The accounting of one collecting read: `next(bytes)` with each batch's bytes as it comes,
 *  `done()` at the end, however it ends. */
function readAccounting() {
  const seen = Math.max(0, SEEN - showPending())
  let received = 0
  let held = 0
  return {
    next(bytes) {
      if (off || !bytes) return
      received += bytes
      const hold = Math.min(bytes, received - seen)
      if (hold <= 0) return
      held += hold
      native.adjustExternalMemory(-hold)
    },
    done() {
      if (!held) return
      pending += held
      held = 0
      if (timer) return
      timer = setTimeout(showPending, LATER_MS)
      timer.unref()
    },
  }
}

module.exports = { copiedOut, batchBytes, readAccounting }

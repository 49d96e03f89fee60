'use strict'
// Pipe: input adapter -> optional JS transform -> output adapter, one batch in flight at a time
// (backpressure comes from awaiting each write; the native writer buffers a few batches more).
const fs = require('node:fs')
const { DeltaError, toDeltaError, invalid } = require('./errors')
const { incremental, runIncremental } = require('./incremental')
const { signalOption, throwIfAborted } = require('./abort')

const ROWS_PER_BATCH = 10_000

/** A failure of the caller's own code (its input iterable, onProgress) stops the pipe: ABORTED,
 *  with what it threw as the cause. zoopipe's own errors pass through as they are. */
const userFailure = (what, err) =>
  err instanceof DeltaError
    ? err
    : new DeltaError('ABORTED', `pipe aborted: ${what} threw: ${err && err.message !== undefined ? err.message : String(err)}`, {
        cause: err,
      })

function createPipe({ feedable, isArrowBatch, rowsToBatch, DeltaTable }) {
  const isRowArray = (v) =>
    Array.isArray(v) && (v.length === 0 || (v[0] !== null && typeof v[0] === 'object' && !feedable(v[0]) && !isArrowBatch(v[0])))

  /** Any input as an async iterable of RecordBatches and arrays of row objects (up to
   *  ROWS_PER_BATCH each). With a dead letter, file inputs hand back rows whose values do not fit
   *  their columns as rejected batches instead of failing. */
  async function* batchesOf(input, rejects) {
    if (input && typeof input.getBatches === 'function') {
      yield* input.getBatches(rejects ? { rejects: true } : {})
      return
    }
    if (
      !input ||
      typeof input === 'string' ||
      (typeof input[Symbol.asyncIterator] !== 'function' && typeof input[Symbol.iterator] !== 'function')
    ) {
      throw invalid('Pipe input must be an input adapter or an (async) iterable of rows, row arrays, RecordBatches or Tables')
    }
    let pending = []
    const items = async function* () {
      try {
        yield* input
      } catch (err) {
        throw userFailure('the input', err)
      }
    }
    for await (const item of items()) {
      if (isArrowBatch(item) || feedable(item) || isRowArray(item)) {
        if (pending.length) {
          yield pending
          pending = []
        }
        if (isArrowBatch(item)) yield item
        else if (feedable(item)) yield* item.batches
        else for (let i = 0; i < item.length; i += ROWS_PER_BATCH) yield item.slice(i, i + ROWS_PER_BATCH)
      } else if (item !== null && typeof item === 'object') {
        pending.push(item)
        if (pending.length >= ROWS_PER_BATCH) {
          yield pending
          pending = []
        }
      } else {
        throw new DeltaError(
          'INVALID_DATA',
          `Pipe input yielded ${item === null ? 'null' : typeof item}; expected row objects or Arrow batches`,
        )
      }
    }
    if (pending.length) yield pending
  }

  const numRows = (r) => (Array.isArray(r) ? r.length : r.numRows)
  const jsonSafe = (_k, v) => (typeof v === 'bigint' ? v.toString() : v)
  const rowObjects = (r) => (Array.isArray(r) ? r : Array.from(r, (row) => (row && typeof row.toJSON === 'function' ? row.toJSON() : row)))

  class Pipe {
    constructor(options) {
      const { input, transform, output, onProgress, deadLetter, signal, progressIntervalMs = 250, maxVersionsPerCommit } = options ?? {}
      if (!input) throw invalid('Pipe needs an input')
      if (!output || typeof output.write !== 'function') throw invalid('Pipe needs an output adapter (DeltaOutputAdapter or DeltaWriter)')
      if (transform !== undefined && typeof transform !== 'function') throw invalid('transform must be a function')
      if (onProgress !== undefined && typeof onProgress !== 'function') throw invalid('onProgress must be a function')
      if (deadLetter !== undefined && typeof deadLetter !== 'string') throw invalid('deadLetter must be a file path')
      if (maxVersionsPerCommit !== undefined && (!Number.isSafeInteger(maxVersionsPerCommit) || maxVersionsPerCommit < 1))
        throw invalid('maxVersionsPerCommit must be a positive integer')
      Object.assign(this, {
        input,
        transform,
        output,
        onProgress,
        deadLetter,
        signal: signalOption(signal),
        progressIntervalMs,
        maxVersionsPerCommit,
      })
    }

    async run() {
      const started = Date.now()
      const stats = { rowsRead: 0, rowsWritten: 0, rowsFailed: 0, bytesRead: 0 }
      let lastProgress = 0
      let dead = null
      const progress = (force) => {
        const now = Date.now()
        if (!this.onProgress || (!force && now - lastProgress < this.progressIntervalMs)) return
        lastProgress = now
        try {
          this.onProgress({ ...stats, elapsedMs: now - started })
        } catch (err) {
          throw userFailure('onProgress', err)
        }
      }
      const checkAbort = () => throwIfAborted(this.signal, 'pipe')
      // Rows that failed go to the dead-letter file with the error and their source position;
      // without one, the first failure fails the whole pipe.
      const fail = async (rows, err, position) => {
        if (!this.deadLetter) {
          const e = toDeltaError(err)
          throw new DeltaError(
            e.code === 'INTERNAL' ? 'INVALID_DATA' : e.code,
            `pipe failed at batch ${position.batch}, row ${position.row}: ${err?.message}`,
            { cause: err },
          )
        }
        const message = String(err?.message)
        const lines = rowObjects(rows).map((row, i) =>
          JSON.stringify({ error: message, position: { batch: position.batch, row: position.row + i }, row }, jsonSafe),
        )
        fs.writeSync(dead, `${lines.join('\n')}\n`)
        stats.rowsFailed += Array.isArray(rows) ? rows.length : rows.numRows
      }
      // Row objects: `use` (a write, or the conversion to a batch) refuses a row it cannot take with
      // INVALID_DATA naming it ("row N"); with a dead letter that row goes there and `use` runs
      // again on the rest. `at` maps the rows left to where they were in what came in.
      const withoutBadRows = async (rows, position, use) => {
        let at = rows.map((_, i) => i)
        while (rows.length) {
          try {
            return await use(rows)
          } catch (err) {
            const m = /row (\d+)/.exec(err?.message)
            const k = m ? Number(m[1]) : -1
            if (!(err instanceof DeltaError) || err.code !== 'INVALID_DATA' || !(k >= 0 && k < rows.length) || !this.deadLetter) throw err
            // The writer counts from the start of what it was given; the dead letter names the row
            // by its place in the input, as its `position` does.
            const row = position.row + at[k]
            await fail([rows[k]], new DeltaError(err.code, err.message.replace(/row \d+/, `row ${row}`), { cause: err }), {
              batch: position.batch,
              row,
            })
            rows = rows.filter((_, i) => i !== k)
            at = at.filter((_, i) => i !== k)
          }
        }
        return null
      }
      let out = this.output
      const writeRows = (rows, position) =>
        withoutBadRows(rows, position, async (left) => {
          await out.write(left)
          stats.rowsWritten += left.length
        })
      const writeResult = async (result, position) => {
        if (result === null || result === undefined) return
        if (Array.isArray(result) && !result.some((r) => feedable(r) || isArrowBatch(r))) {
          await writeRows(result, position)
        } else {
          await out.write(result)
          stats.rowsWritten += Array.isArray(result) ? result.reduce((n, r) => n + numRows(r), 0) : numRows(result)
        }
      }
      const transformed = async (batch, position) => {
        if (!this.transform) return [{ result: batch, position }]
        try {
          return [{ result: await this.transform(batch), position }]
        } catch (err) {
          if (!this.deadLetter) await fail(batch, err, position)
          // Retry the batch row by row: only the rows whose transform throws are dead-lettered.
          const results = []
          for (let i = 0; i < batch.numRows; i++) {
            const one = batch.slice(i, i + 1)
            // Each result keeps its row's position: rows the writer then refuses are named by it.
            const at = { batch: position.batch, row: position.row + i }
            try {
              results.push({ result: await this.transform(one), position: at })
            } catch (rowErr) {
              await fail(one, rowErr, at)
            }
          }
          return results
        }
      }

      // Every batch of `items` through the transform into `out`.
      let index = 0
      const pump = async (items) => {
        for await (const item of items) {
          checkAbort()
          const position = { batch: index++, row: stats.rowsRead }
          stats.rowsRead += numRows(item)
          let batch = item
          if (Array.isArray(item)) {
            // Row objects. Without a transform they go to the output as they are (typed by its
            // table, as write(rows) does); a transform takes a RecordBatch, typed as write(rows)
            // types a new table (integers Int64).
            if (this.transform) batch = await withoutBadRows(item, position, rowsToBatch)
            else batch = await writeRows(item, position) // all written: nothing left to transform
          } else {
            stats.bytesRead += item.data?.byteLength ? item.data.byteLength : 0
            if (item.schema.metadata.get('zoopipe.rejected') === 'true') {
              // rows the reader could not type: raw values, each with its reason
              const raw = rowObjects(item)
              for (let i = 0; i < raw.length; i++) {
                const { _error, ...row } = raw[i]
                await fail([row], new Error(_error), { batch: position.batch, row: position.row + i })
              }
              batch = null
            }
          }
          if (!batch) {
            progress(false)
            continue
          }
          const results = await transformed(batch, position)
          checkAbort()
          for (const { result, position: at } of results) await writeResult(result, at)
          progress(false)
        }
      }

      try {
        checkAbort()
        // Opened (emptied) now: a path that cannot be written fails before anything is read, and
        // the file holds this run's rows only.
        if (this.deadLetter) {
          try {
            dead = fs.openSync(this.deadLetter, 'w')
          } catch (err) {
            throw new DeltaError('INVALID_ARGUMENT', `deadLetter '${this.deadLetter}' cannot be written: ${err.message}`, { cause: err })
          }
        }
        if (incremental(this.input, this.output)) {
          const report = await runIncremental(this, {
            DeltaTable,
            pump,
            setOutput: (o) => {
              out = o
            },
            progress,
            checkAbort,
          })
          return { ...stats, ...report, durationMs: Date.now() - started }
        }
        await pump(batchesOf(this.input, Boolean(this.deadLetter)))
        checkAbort()
        // The last report comes before the commit: an onProgress that throws still commits nothing.
        progress(true)
      } catch (err) {
        if (typeof out.abort === 'function') await out.abort().catch(() => {})
        throw toDeltaError(err)
      } finally {
        if (dead !== null) fs.closeSync(dead)
      }
      let version = null
      let files
      if (typeof this.output.close === 'function') {
        version = (await this.output.close()).version
      } else if (typeof this.output.finish === 'function') {
        files = await this.output.finish()
      }
      const report = { ...stats, version, durationMs: Date.now() - started }
      if (files) report.files = files
      return report
    }
  }
  return Pipe
}

module.exports = { createPipe }

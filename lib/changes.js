'use strict'
// DeltaChangesInputAdapter: what a table's commits added since a version, commit by commit, each
// batch with its `_commit_version` and `_commit_timestamp` (as the change data feed has them);
// with `follow`, it keeps polling for new commits. Pipe resumes it from a target table's own
// commits (pipe.js), which makes bronze -> silver jobs exactly once.
const { DeltaError, invalid } = require('./errors')
const { scanOptions, storageOptions } = require('./options')
const { abortError, signalOption, sleep } = require('./abort')

const nonNegative = (name, v) => {
  if (v === undefined || v === null) return undefined
  if (!Number.isSafeInteger(v) || v < 0) throw invalid(`${name} must be an integer >= 0, got ${String(v)}`)
  return v
}

function createChanges(arrow, { DeltaTable, streamBatches }) {
  /** `batch` with `_commit_version` (Int64) and `_commit_timestamp` (Timestamp ms) columns. */
  function withCommit(batch, version, timestamp) {
    const n = batch.numRows
    const v = arrow.makeData({ type: new arrow.Int64(), length: n, nullCount: 0, data: new BigInt64Array(n).fill(BigInt(version)) })
    const tsType = new arrow.TimestampMillisecond()
    const ts = arrow.makeData({ type: tsType, length: n, nullCount: 0, data: new BigInt64Array(n).fill(BigInt(timestamp ?? 0)) })
    const fields = [
      ...batch.schema.fields,
      new arrow.Field('_commit_version', new arrow.Int64(), false),
      new arrow.Field('_commit_timestamp', tsType, false),
    ]
    const type = new arrow.Struct(fields)
    const data = arrow.makeData({ type, length: n, nullCount: 0, children: [...batch.data.children, v, ts] })
    return new arrow.RecordBatch(new arrow.Schema(fields, batch.schema.metadata), data)
  }

  class DeltaChangesInputAdapter {
    constructor(uri, options) {
      options ??= {}
      if (typeof uri !== 'string' || uri.length === 0) throw invalid('table URI must be a non-empty string')
      this.uri = uri
      this.startingVersion = nonNegative('startingVersion', options.startingVersion) ?? 0
      this.endingVersion = nonNegative('endingVersion', options.endingVersion)
      if (this.endingVersion !== undefined && this.endingVersion < this.startingVersion)
        throw invalid(`endingVersion ${this.endingVersion} is before startingVersion ${this.startingVersion}`)
      for (const k of ['changeFeed', 'follow']) {
        if (options[k] !== undefined && typeof options[k] !== 'boolean') throw invalid(`${k} must be a boolean`)
      }
      this.changeFeed = options.changeFeed ?? false
      this.follow = options.follow ?? false
      this.pollIntervalMs = nonNegative('pollIntervalMs', options.pollIntervalMs) ?? 1000
      this.signal = signalOption(options.signal)
      this._storage = { storageOptions: storageOptions(options) }
      this._scan = scanOptions({ columns: options.columns, filter: options.filter, batchSize: options.batchSize })
      /** The last source version whose rows were all yielded (null before the first). */
      this.lastVersion = null
      this._probe = null
      this._reader = null
    }

    /** The source's latest version (a log listing when nothing is new). */
    async latestVersion() {
      if (!this._probe) this._probe = await DeltaTable.open(this.uri, this._storage)
      else await this._probe.refresh()
      return this._probe.version
    }

    /** A startingVersion after the latest version is VERSION_NOT_FOUND (following waits for it). */
    checkStart(latest) {
      if (!this.follow && this.startingVersion > latest)
        throw new DeltaError(
          'VERSION_NOT_FOUND',
          `${this.uri}: startingVersion ${this.startingVersion} is after the latest version ${latest}`,
        )
    }

    /** The batches of versions `from` to `to`, in order; lastVersion follows each finished one. */
    async *versions(from, to) {
      for (let v = from; v <= to; v++) {
        this._checkAbort()
        if (this.changeFeed) {
          if (!this._reader) this._reader = await DeltaTable.open(this.uri, this._storage)
          const { columns, batchSize } = this._scan
          try {
            yield* this._reader.loadCdf({ columns, batchSize, startingVersion: v, endingVersion: v, signal: this.signal })
          } catch (err) {
            if (err instanceof DeltaError && /change ?data|not enabled|not recorded/i.test(err.message))
              throw new DeltaError(
                'UNSUPPORTED_FEATURE',
                `${this.uri}: version ${v} has no change data feed (set delta.enableChangeDataFeed = true before the commits to read): ${err.message}`,
                { cause: err },
              )
            throw err
          }
        } else {
          let c
          try {
            if (!this._reader) this._reader = await DeltaTable.open(this.uri, { ...this._storage, version: v })
            else await this._reader.loadVersion(v)
            c = await this._reader._t.commitChanges(v)
          } catch (err) {
            throw this._gone(v, err)
          }
          if (c.rewrote)
            throw new DeltaError(
              'UNSUPPORTED_FEATURE',
              `${this.uri}: version ${v} (${c.operation ?? 'a commit'}) removed or rewrote data, which appended-data reads cannot follow: read the change data feed instead (changeFeed: true, on a table with delta.enableChangeDataFeed = true)`,
            )
          if (c.added.length > 0) {
            const reader = this._reader._t
            let started = false
            try {
              for await (const b of streamBatches(() => reader.scan(this._scan, c.added), undefined, undefined, this.signal)) {
                started = true
                yield withCommit(b, v, c.timestamp)
              }
            } catch (err) {
              throw started ? err : this._gone(v, err)
            }
          }
        }
        this.lastVersion = v
      }
    }

    /** A version whose log entry or files are gone (log cleanup, vacuum) is VERSION_NOT_FOUND naming it. */
    _gone(v, err) {
      if (!(err instanceof DeltaError) || !/not found|no such file|not in the log|NotFound|cannot be read/i.test(err.message)) return err
      return new DeltaError(
        'VERSION_NOT_FOUND',
        `${this.uri}: source version ${v} can no longer be read (its log entry or data files were removed, e.g. by vacuum or log cleanup); start from a later startingVersion to skip it: ${err.message}`,
        { cause: err },
      )
    }

    _checkAbort() {
      if (this.signal?.aborted) throw abortError(this.signal, 'reading changes')
    }

    /** Every version from startingVersion to endingVersion (default: the latest when the read
     *  starts); with `follow`, then each new version as it is committed, until `signal` aborts. */
    async *getBatches() {
      let next = this.startingVersion
      let idle = 0
      for (;;) {
        this._checkAbort()
        const latest = await this.latestVersion()
        if (next === this.startingVersion) this.checkStart(latest)
        const to = this.endingVersion === undefined ? latest : Math.min(latest, this.endingVersion)
        if (next <= to) {
          yield* this.versions(next, to)
          next = to + 1
          idle = 0
        }
        if (!this.follow || (this.endingVersion !== undefined && next > this.endingVersion)) return
        // Idle: poll again, backing off up to 8x the interval while nothing comes.
        await sleep(this.pollIntervalMs * Math.min(8, 2 ** Math.min(idle++, 3)), this.signal)
      }
    }

    [Symbol.asyncIterator]() {
      return this.getBatches()
    }

    async readAll() {
      const batches = []
      for await (const b of this.getBatches()) batches.push(b)
      return new arrow.Table(batches)
    }
  }

  return { DeltaChangesInputAdapter }
}

module.exports = { createChanges }

'use strict'
// `signal: AbortSignal` on long operations. Native table operations take a cancel token
// (src/cancel.rs) that the signal cancels: the work stops and nothing is committed, unless the
// commit's log write had begun (then the operation finishes and reports its commit). Streams race
// each next batch against the signal and close the native scan when it aborts.
const native = require('./native')
const { DeltaError, call, invalid } = require('./errors')

/** A `signal` option: an AbortSignal or nothing. */
function signalOption(signal) {
  if (signal === undefined || signal === null) return undefined
  if (typeof signal !== 'object' || typeof signal.aborted !== 'boolean' || typeof signal.addEventListener !== 'function')
    throw invalid('signal must be an AbortSignal')
  return signal
}

const abortError = (signal, what = 'operation') => {
  const r = signal.reason
  const why = r instanceof Error ? r.message : r === undefined ? 'signal' : String(r)
  return new DeltaError('ABORTED', `${what} aborted by its signal (${why})`)
}

function throwIfAborted(signal, what) {
  if (signal?.aborted) throw abortError(signal, what)
}

/** `run(token)`, a native call taking a cancel token, under `signal` (token undefined without one). */
async function withSignal(signal, run) {
  signal = signalOption(signal)
  if (!signal) return call(() => run(undefined))
  throwIfAborted(signal)
  const token = native.newCancelToken()
  const onAbort = () => native.cancelOperation(token)
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    return await call(() => run(token))
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

/** A promise that rejects with ABORTED when `signal` aborts (never otherwise); dispose() when done. */
function abortRace(signal, what) {
  let onAbort
  const promise = new Promise((_, reject) => {
    onAbort = () => reject(abortError(signal, what))
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })
  })
  promise.catch(() => {}) // rejected while no race is waiting is not an unhandled rejection
  return { promise, dispose: () => signal.removeEventListener('abort', onAbort) }
}

/** Resolves after `ms`, or rejects with ABORTED when `signal` aborts first. */
async function sleep(ms, signal) {
  let timer
  const race = signal ? abortRace(signal, 'wait') : null
  try {
    await Promise.race([new Promise((resolve) => (timer = setTimeout(resolve, ms))), ...(race ? [race.promise] : [])])
  } finally {
    clearTimeout(timer)
    race?.dispose()
  }
}

module.exports = { signalOption, abortError, throwIfAborted, withSignal, abortRace, sleep }

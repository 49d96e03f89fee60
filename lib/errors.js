'use strict'
// DeltaError: the one error type zoopipe throws. Native errors arrive as "[CODE] message" (why not
// as napi's error status: src/error.rs). CODES is src/error.rs's list, which the native errorCodes()
// returns; __test__/boundary.test.mjs holds this copy and index.d.ts to it. Kept as a copy so a
// DeltaError can still be made when the addon fails to load.

const CODES = new Set([
  'TABLE_NOT_FOUND',
  'VERSION_NOT_FOUND',
  'SCHEMA_MISMATCH',
  'INVALID_ARGUMENT',
  'INVALID_DATA',
  'COMMIT_CONFLICT',
  'STORAGE',
  'UNSUPPORTED_FEATURE',
  'PROTOCOL',
  'ABORTED',
  'INTERNAL',
])

class DeltaError extends Error {
  constructor(code, message, options) {
    super(message, options)
    this.name = 'DeltaError'
    this.code = CODES.has(code) ? code : 'INTERNAL'
  }
}

// napi-rs rejects arguments of the wrong JS type before our code runs; those are caller errors.
const NAPI_ARGUMENT_STATUSES = new Set([
  'InvalidArg',
  'ObjectExpected',
  'StringExpected',
  'NameExpected',
  'FunctionExpected',
  'NumberExpected',
  'BooleanExpected',
  'ArrayExpected',
  'BigintExpected',
  'DateExpected',
  'ArrayBufferExpected',
  'DetachableArraybufferExpected',
])

function toDeltaError(err) {
  if (err instanceof DeltaError) return err
  const message = err && err.message !== undefined ? String(err.message) : String(err)
  const m = /^\[([A-Z_]+)\] ([\s\S]*)$/.exec(message)
  if (m) return new DeltaError(m[1], m[2])
  if (err && NAPI_ARGUMENT_STATUSES.has(err.code)) return new DeltaError('INVALID_ARGUMENT', message, { cause: err })
  return new DeltaError('INTERNAL', message, { cause: err })
}

/** Await `fn()` and turn whatever it throws into a DeltaError. */
async function call(fn) {
  try {
    return await fn()
  } catch (err) {
    throw toDeltaError(err)
  }
}

function invalid(message) {
  return new DeltaError('INVALID_ARGUMENT', message)
}

module.exports = { DeltaError, toDeltaError, call, invalid }

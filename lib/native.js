'use strict'
// The generated napi-rs binding (built by scripts/build.js).
try {
  module.exports = require('../binding.js')
} catch (err) {
  const { DeltaError } = require('./errors')
  throw new DeltaError(
    'INTERNAL',
    `zoopipe: the native addon could not be loaded (${err.message}). ` +
      'From a source checkout run `npm install` (builds it with cargo).',
    { cause: err },
  )
}

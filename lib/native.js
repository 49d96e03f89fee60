'use strict'
// The generated napi-rs binding (built by scripts/build.js): it loads a local zoopipe.<platform>.node
// (source checkouts) or the prebuilt platform package zoopipe-<platform> (an optional dependency
// of the published package). When neither loads, say which package this machine needs.

const SUPPORTED = ['linux-x64-gnu', 'linux-x64-musl', 'linux-arm64-gnu', 'linux-arm64-musl', 'darwin-x64', 'darwin-arm64', 'win32-x64-msvc']

function isMusl() {
  if (process.platform !== 'linux') return false
  try {
    // glibc's version is in the process report on glibc systems only.
    return !process.report.getReport().header.glibcVersionRuntime
  } catch {
    return false
  }
}

/** The platform package suffix this process needs, e.g. "linux-x64-musl". */
function platformName(platform = process.platform, arch = process.arch, musl = isMusl()) {
  if (platform === 'linux') return `linux-${arch}-${musl ? 'musl' : 'gnu'}`
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}

function loadError(err) {
  const { DeltaError } = require('./errors')
  const name = platformName()
  const pkg = `zoopipe-${name}`
  const why = SUPPORTED.includes(name)
    ? `its prebuilt binary comes in the package ${pkg}, an optional dependency of zoopipe that is not installed here. ` +
      `Reinstall without --omit=optional / --no-optional (with npm, removing node_modules and package-lock.json ` +
      `first works around npm's optional-dependency bug), or add ${pkg} to a bundle built on another platform.`
    : `there is no prebuilt binary for ${name} (prebuilt: ${SUPPORTED.join(', ')}); build from source with a Rust toolchain.`
  const message =
    `zoopipe: the native addon for ${name} could not be loaded: ${why} ` +
    `From a source checkout, \`npm install\` builds it with cargo. (${err.message.split('\n')[0]})`
  return new DeltaError('INTERNAL', message, { cause: err })
}

try {
  module.exports = require('../binding.js')
} catch (err) {
  throw loadError(err)
}

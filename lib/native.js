'use strict'
// The generated napi-rs binding (built by scripts/build.js): it loads a local zoopipe.<platform>.node
// (source checkouts) or the prebuilt platform package zoopipe-<platform> (an optional dependency
// of the published package). The slim variant (no DataFusion, same API, DataFusion operations answer
// UNSUPPORTED_FEATURE) comes from slim/ in a checkout or the package zoopipe-slim-<platform>: it is
// used with ZOOPIPE_VARIANT=slim, or when it is the only one installed (e.g. a size-limited bundle).
// When none loads, say which package this machine needs.
const fs = require('node:fs')
const path = require('node:path')

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

/** The slim addon for this platform, or null when it is not installed. */
function slimAddon(name) {
  const file = `zoopipe.${name}.node`
  const local = path.join(__dirname, '..', 'slim', file)
  if (fs.existsSync(local)) return local
  try {
    return require.resolve(`zoopipe-slim-${name}/${file}`)
  } catch {
    return null
  }
}

function loadError(err, variant) {
  const { DeltaError } = require('./errors')
  const name = platformName()
  const pkg = `zoopipe-${variant === 'slim' ? 'slim-' : ''}${name}`
  let why
  if (!SUPPORTED.includes(name)) {
    why = `there is no prebuilt binary for ${name} (prebuilt: ${SUPPORTED.join(', ')}); build from source with a Rust toolchain.`
  } else if (variant === 'slim') {
    why =
      `its slim binary comes in the package ${pkg}, which is not installed here: \`npm install ${pkg}\` ` +
      '(or add it to a bundle built on another platform).'
  } else {
    why =
      `its prebuilt binary comes in the package ${pkg}, an optional dependency of zoopipe that is not installed here. ` +
      `Reinstall without --omit=optional / --no-optional (with npm, removing node_modules and package-lock.json ` +
      `first works around npm's optional-dependency bug), or add ${pkg} (or the smaller zoopipe-slim-${name}, ` +
      'without DataFusion) to a bundle built on another platform.'
  }
  const message =
    `zoopipe: the native addon for ${name} could not be loaded: ${why} ` +
    `From a source checkout, \`npm install\` builds it with cargo. (${err.message.split('\n')[0]})`
  return new DeltaError('INTERNAL', message, { cause: err })
}

function load() {
  const variant = process.env.ZOOPIPE_VARIANT
  if (variant !== undefined && variant !== 'full' && variant !== 'slim') {
    const { DeltaError } = require('./errors')
    throw new DeltaError('INVALID_ARGUMENT', `ZOOPIPE_VARIANT must be 'full' or 'slim', got '${variant}'`)
  }
  if (variant === 'slim' && !process.env.NAPI_RS_NATIVE_LIBRARY_PATH) {
    const slim = slimAddon(platformName())
    if (!slim) throw loadError(new Error('ZOOPIPE_VARIANT=slim but no slim addon is installed'), 'slim')
    return require(slim)
  }
  try {
    return require('../binding.js')
  } catch (err) {
    const slim = variant === undefined && !process.env.NAPI_RS_NATIVE_LIBRARY_PATH && slimAddon(platformName())
    if (slim) return require(slim)
    throw loadError(err, variant)
  }
}

module.exports = load()

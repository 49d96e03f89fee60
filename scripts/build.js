#!/usr/bin/env node
// Builds the native addon from source with the napi-rs CLI.
//   node scripts/build.js               dev profile (the one profile install, demo and tests share)
//   node scripts/build.js --release     LTO + strip, for benchmarks and published binaries
//   node scripts/build.js --slim        the slim variant (no DataFusion) into slim/, beside the full one
//   node scripts/build.js --if-missing  skip when a built addon newer than the sources exists
// CARGO_TARGET_DIR defaults to ~/.cache/zoopipe/target so clones and CI runs share one build.
'use strict'
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const root = path.resolve(__dirname, '..')
const args = process.argv.slice(2)
const release = args.includes('--release')
const slim = args.includes('--slim')
const outDir = slim ? path.join(root, 'slim') : root

function newestSource() {
  let newest = 0
  const visit = (p) => {
    const st = fs.statSync(p)
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) visit(path.join(p, e))
    else newest = Math.max(newest, st.mtimeMs)
  }
  for (const p of ['src', 'Cargo.toml', 'Cargo.lock', 'build.rs']) {
    if (fs.existsSync(path.join(root, p))) visit(path.join(root, p))
  }
  return newest
}

function builtAddon() {
  if (!fs.existsSync(outDir)) return null
  const addons = fs.readdirSync(outDir).filter((f) => /^zoopipe\..*\.node$/.test(f))
  if (addons.length === 0 || !fs.existsSync(path.join(root, 'binding.js'))) return null
  return Math.min(...addons.map((f) => fs.statSync(path.join(outDir, f)).mtimeMs))
}

if (args.includes('--if-missing')) {
  const built = builtAddon()
  if (built !== null && built >= newestSource()) process.exit(0)
}

if (spawnSync('cargo', ['--version'], { stdio: 'ignore' }).status !== 0) {
  console.error('zoopipe: building from source needs a Rust toolchain (cargo) on PATH: https://rustup.rs')
  process.exit(1)
}

const env = { ...process.env }
env.CARGO_TARGET_DIR ||= path.join(os.homedir(), '.cache', 'zoopipe', 'target')
const napi = path.join(root, 'node_modules', '@napi-rs', 'cli', 'dist', 'cli.js')
if (!fs.existsSync(napi)) {
  console.error('zoopipe: @napi-rs/cli is missing; run `npm install` first')
  process.exit(1)
}
// The slim addon has the same binding surface (binding.js loads it through NAPI_RS_NATIVE_LIBRARY_PATH),
// so only its .node file is kept.
const napiArgs = slim
  ? ['build', '--platform', '--no-default-features', '--output-dir', 'slim', '--no-js', '--dts', 'slim/binding.d.ts']
  : ['build', '--platform', '--js', 'binding.js', '--dts', 'binding.d.ts']
// No --strip: the release profile strips already, and napi's --strip adds RUSTFLAGS, which rebuilds every
// dependency instead of reusing a plain `cargo build --release`.
if (release) napiArgs.push('--release')
// Dev builds (npm install from source, npm test) carry the tests' failpoints; release builds do not.
else napiArgs.push('--features', 'test-hooks')
console.error(
  `zoopipe: building the ${slim ? 'slim ' : ''}native addon (${release ? 'release' : 'dev'} profile, target dir ${env.CARGO_TARGET_DIR})`,
)
const started = Date.now()
const res = spawnSync(process.execPath, [napi, ...napiArgs], { cwd: root, env, stdio: 'inherit' })
if (res.status !== 0) process.exit(res.status ?? 1)
console.error(`zoopipe: addon built in ${((Date.now() - started) / 1000).toFixed(1)} s`)

#!/usr/bin/env node
// `npm test`: works on a fresh clone. Installs npm dependencies if missing, builds the addon
// (a no-op when cargo is up to date), prepares the Python peer venv (pinned, cached under
// ~/.cache/zoopipe), writes the fixture tables with Python `deltalake`, then runs every test.
'use strict'
const { spawnSync } = require('node:child_process')
const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const root = path.resolve(__dirname, '..')
const cache = process.env.ZOOPIPE_CACHE || path.join(os.homedir(), '.cache', 'zoopipe')

function run(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts })
  if (res.status !== 0) {
    console.error(`zoopipe test: '${cmd} ${args.join(' ')}' failed (${res.error ? res.error.message : `exit ${res.status}`})`)
    process.exit(res.status || 1)
  }
  return res
}

function step(name, fn) {
  const t = Date.now()
  fn()
  console.error(`zoopipe test: ${name} (${((Date.now() - t) / 1000).toFixed(1)} s)`)
}

step('npm dependencies', () => {
  if (!fs.existsSync(path.join(root, 'node_modules', '@napi-rs', 'cli'))) run('npm', ['install', '--no-audit', '--no-fund'])
})
// Style first: it takes seconds and fails before any build does.
step('lint: JS/TS format and lint (biome ci)', () => run(path.join(root, 'node_modules', '.bin', 'biome'), ['ci', '--reporter=summary']))
step('lint: Rust format (cargo fmt --check)', () => run('cargo', ['fmt', '--check']))
// --if-missing: the napi CLI forces cargo to rebuild the crate on every call (NAPI_FORCE_BUILD_*),
// 20-30 s each even when nothing changed; an addon newer than every source is kept.
step('native addon', () => run(process.execPath, [path.join(__dirname, 'build.js'), '--if-missing']))
// The slim variant (no DataFusion) shares the target dir; __test__/slim.test.mjs runs against it.
step('slim native addon', () => run(process.execPath, [path.join(__dirname, 'build.js'), '--slim', '--if-missing']))
// Same target triple and profile as the napi build, so the compiled dependencies are shared.
const host = /host: (\S+)/.exec(spawnSync('rustc', ['-vV'], { encoding: 'utf8' }).stdout)[1]
step('Rust unit tests', () => {
  const env = { ...process.env, CARGO_TARGET_DIR: process.env.CARGO_TARGET_DIR || path.join(cache, 'target') }
  run('cargo', ['test', '--lib', '--quiet', '--target', host], { env })
})
step('lint: cargo clippy, warnings denied (full and slim builds)', () => {
  const env = { ...process.env, CARGO_TARGET_DIR: process.env.CARGO_TARGET_DIR || path.join(cache, 'target') }
  for (const features of [[], ['--no-default-features'], ['--features', 'test-hooks']]) {
    run('cargo', ['clippy', '--quiet', '--lib', '--all-targets', ...features, '--', '-D', 'warnings'], { env })
  }
})

const requirements = path.join(root, '__test__', 'requirements.txt')
const hash = crypto.createHash('sha256').update(fs.readFileSync(requirements)).digest('hex').slice(0, 12)
const venv = path.join(cache, `venv-${hash}`)
const python = path.join(venv, 'bin', 'python')
step('python peers', () => {
  if (fs.existsSync(path.join(venv, '.complete'))) return
  fs.rmSync(venv, { recursive: true, force: true })
  fs.mkdirSync(cache, { recursive: true })
  const py = process.env.PYTHON || 'python3'
  run(py, ['-m', 'venv', venv])
  run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', requirements])
  fs.writeFileSync(path.join(venv, '.complete'), '')
})

const tmp = path.join(root, '__test__', '.tmp')
const fixtures = path.join(tmp, 'fixtures')
step('fixture tables (Python deltalake)', () => {
  fs.rmSync(tmp, { recursive: true, force: true })
  fs.mkdirSync(fixtures, { recursive: true })
  run(python, [path.join(root, '__test__', 'py', 'make_fixtures.py'), fixtures], { stdio: ['ignore', 'ignore', 'inherit'] })
})

const filter = process.argv.slice(2)
const tests = fs
  .readdirSync(path.join(root, '__test__'))
  .filter((f) => f.endsWith('.test.mjs'))
  .filter((f) => filter.length === 0 || filter.some((x) => f.includes(x)))
  .map((f) => path.join('__test__', f))
if (tests.length === 0) {
  console.error(`zoopipe test: no test file matches ${filter.join(' ')}`)
  process.exit(1)
}
const env = { ...process.env, ZOOPIPE_PYTHON: python, ZOOPIPE_FIXTURES: fixtures, ZOOPIPE_TMP: tmp }
const res = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...tests], { cwd: root, stdio: 'inherit', env })
process.exit(res.status ?? 1)

// The published shape: `npm pack` of zoopipe and its linux-x64-gnu platform package, installed into an
// empty directory with no Rust toolchain on PATH and no source tree, used from CJS, ESM and TypeScript.
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, it } from 'node:test'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'zoopipe-pack-'))
const app = path.join(work, 'app')
const platformDir = path.join(work, 'linux-x64-gnu')
// PATH with node and npm only: no cargo/rustc
const bin = path.join(work, 'bin')
const env = { ...process.env, PATH: bin, npm_config_audit: 'false', npm_config_fund: 'false' }
const run = (cmd, args, cwd) => {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8' })
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}\n${r.stdout}\n${r.stderr}`)
  return r.stdout
}

before(() => {
  fs.mkdirSync(bin)
  fs.symlinkSync(process.execPath, path.join(bin, 'node'))
  const npm = execFileSync('which', ['npm'], { encoding: 'utf8' }).trim()
  fs.symlinkSync(fs.realpathSync(npm), path.join(bin, 'npm'))
  assert.notEqual(spawnSync('cargo', ['--version'], { env }).status, 0, 'cargo must not be on PATH')
  // the platform package: its package.json as napi laid it out, plus the built addon
  fs.mkdirSync(platformDir)
  fs.copyFileSync(path.join(root, 'npm', 'linux-x64-gnu', 'package.json'), path.join(platformDir, 'package.json'))
  fs.copyFileSync(path.join(root, 'zoopipe.linux-x64-gnu.node'), path.join(platformDir, 'zoopipe.linux-x64-gnu.node'))
  const mainTgz = run('npm', ['pack', '--ignore-scripts', '--pack-destination', work], root).trim().split('\n').pop()
  const platTgz = run('npm', ['pack', '--pack-destination', work], platformDir).trim().split('\n').pop()
  fs.mkdirSync(app)
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'commonjs' }))
  const arrowVersion = JSON.parse(fs.readFileSync(path.join(root, 'node_modules', 'apache-arrow', 'package.json'))).version
  const tsVersion = JSON.parse(fs.readFileSync(path.join(root, 'node_modules', 'typescript', 'package.json'))).version
  run(
    'npm',
    [
      'install',
      '--prefer-offline',
      '--ignore-scripts',
      path.join(work, mainTgz),
      path.join(work, platTgz),
      `apache-arrow@${arrowVersion}`,
      `typescript@${tsVersion}`,
      '@types/node@20',
    ],
    app,
  )
})
after(() => fs.rmSync(work, { recursive: true, force: true }))

it('the packed tarball ships the JS layer and types, not the sources or the addon', () => {
  const files = fs.readdirSync(path.join(app, 'node_modules', 'zoopipe'))
  for (const f of ['index.js', 'index.mjs', 'index.d.ts', 'binding.js', 'lib', 'bin', 'package.json']) assert.ok(files.includes(f), f)
  for (const f of ['src', 'Cargo.toml', '__test__']) assert.ok(!files.includes(f), f)
  assert.ok(!files.some((f) => f.endsWith('.node')))
})

it('CommonJS and ESM read and write a table through the platform package', () => {
  fs.writeFileSync(
    path.join(app, 'cjs.js'),
    `
    const { writeDelta, readDelta } = require('zoopipe')
    ;(async () => {
      await writeDelta('./t-cjs', [{ id: 1, s: 'a' }, { id: 2, s: 'b' }])
      console.log((await readDelta('./t-cjs')).numRows)
    })().catch((e) => { console.error(e); process.exit(1) })`,
  )
  assert.equal(run('node', ['cjs.js'], app).trim(), '2')
  fs.writeFileSync(
    path.join(app, 'esm.mjs'),
    `
    import { writeDelta, readDelta, DeltaTable } from 'zoopipe'
    await writeDelta('./t-cjs', [{ id: 3, s: 'c' }])
    const t = await readDelta('./t-cjs', { filter: [['id', '>', 1]] })
    console.log(t.numRows, (await DeltaTable.open('./t-cjs')).version)`,
  )
  assert.equal(run('node', ['esm.mjs'], app).trim(), '2 1')
})

it('the oldest supported apache-arrow major (18) works as the peer too', () => {
  const old = path.join(work, 'app-arrow18')
  fs.mkdirSync(old)
  fs.writeFileSync(path.join(old, 'package.json'), JSON.stringify({ name: 'app-arrow18', private: true }))
  const tgz = fs
    .readdirSync(work)
    .filter((f) => f.endsWith('.tgz'))
    .map((f) => path.join(work, f))
  run('npm', ['install', '--prefer-offline', '--ignore-scripts', ...tgz, 'apache-arrow@18.1.0'], old)
  assert.match(fs.readFileSync(path.join(old, 'node_modules', 'apache-arrow', 'package.json'), 'utf8'), /"version": "18\./)
  fs.writeFileSync(
    path.join(old, 'roundtrip.mjs'),
    `
    import { Field, Float64, List, Table, makeVector, vectorFromArray } from 'apache-arrow'
    import { writeDelta, readDelta } from 'zoopipe'
    const l = vectorFromArray([[1, 2], [3], []], new List(new Field('item', new Float64(), true)))
    await writeDelta('./t', new Table({ id: makeVector(Int32Array.from([1, 2, 3])), big: makeVector(BigInt64Array.from([7n, 8n, 9n])), s: vectorFromArray(['a', null, 'c']), l }))
    const t = await readDelta('./t')
    console.log(t.numRows, t.getChild('s').toArray().join('|'), t.getChild('big').toArray().join(','), JSON.stringify(t.getChild('l').toArray().map((v) => [...v])))`,
  )
  assert.equal(run('node', ['roundtrip.mjs'], old).trim(), '3 a||c 7,8,9 [[1,2],[3],[]]')
})

it('without its platform package, require names the package this machine needs', () => {
  const bare = path.join(work, 'app-no-binary')
  fs.mkdirSync(bare)
  fs.writeFileSync(path.join(bare, 'package.json'), JSON.stringify({ name: 'app-no-binary', private: true }))
  const mainTgz = fs
    .readdirSync(work)
    .filter((f) => /^zoopipe-\d.*\.tgz$/.test(f))
    .map((f) => path.join(work, f))
  assert.equal(mainTgz.length, 1)
  run('npm', ['install', '--prefer-offline', '--ignore-scripts', ...mainTgz, 'apache-arrow@18.1.0'], bare)
  fs.writeFileSync(
    path.join(bare, 'load.js'),
    `
    try { require('zoopipe'); console.log('loaded') } catch (e) { console.log(e.name, e.code, e.message) }`,
  )
  const out = run('node', ['load.js'], bare)
  assert.match(out, /^DeltaError INTERNAL zoopipe: the native addon for linux-x64-gnu could not be loaded/)
  assert.match(out, /package zoopipe-linux-x64-gnu, an optional dependency/)
  const slim = spawnSync('node', ['load.js'], { cwd: bare, env: { ...env, ZOOPIPE_VARIANT: 'slim' }, encoding: 'utf8' })
  assert.match(slim.stdout, /^DeltaError INTERNAL .*package zoopipe-slim-linux-x64-gnu, which is not installed here/)
})

it('with only the slim platform package installed, zoopipe loads it: reads and writes work, DataFusion operations are refused', () => {
  const slimPkg = path.join(work, 'slim-linux-x64-gnu')
  fs.mkdirSync(slimPkg)
  fs.copyFileSync(path.join(root, 'npm', 'slim-linux-x64-gnu', 'package.json'), path.join(slimPkg, 'package.json'))
  fs.copyFileSync(path.join(root, 'slim', 'zoopipe.linux-x64-gnu.node'), path.join(slimPkg, 'zoopipe.linux-x64-gnu.node'))
  const slimTgz = run('npm', ['pack', '--pack-destination', work], slimPkg).trim().split('\n').pop()
  const mainTgz = fs
    .readdirSync(work)
    .filter((f) => /^zoopipe-\d.*\.tgz$/.test(f))
    .map((f) => path.join(work, f))
  const lean = path.join(work, 'app-slim')
  fs.mkdirSync(lean)
  fs.writeFileSync(path.join(lean, 'package.json'), JSON.stringify({ name: 'app-slim', private: true }))
  run('npm', ['install', '--prefer-offline', '--ignore-scripts', ...mainTgz, path.join(work, slimTgz), 'apache-arrow@18.1.0'], lean)
  assert.ok(!fs.existsSync(path.join(lean, 'node_modules', 'zoopipe-linux-x64-gnu')))
  fs.writeFileSync(
    path.join(lean, 'slim.mjs'),
    `
    import { writeDelta, readDelta, DeltaTable } from 'zoopipe'
    await writeDelta('./t', [{ id: 1, day: 'mon' }, { id: 2, day: 'tue' }], { partitionBy: ['day'] })
    await writeDelta('./t', [{ id: 3, day: 'mon' }])
    const t = await readDelta('./t', { filter: [['day', '=', 'mon']] })
    const dt = await DeltaTable.open('./t')
    const refused = await dt.optimize.compact().then(() => 'ran', (e) => e.code)
    console.log(t.numRows, dt.version, refused)`,
  )
  assert.equal(run('node', ['slim.mjs'], lean).trim(), '2 1 UNSUPPORTED_FEATURE')
})

it('a TypeScript file type-checks against the shipped index.d.ts', () => {
  fs.writeFileSync(
    path.join(app, 'use.ts'),
    `
    import { DeltaTable, writeDelta, type WriteResult } from 'zoopipe'
    export async function main(): Promise<number> {
      const r: WriteResult = await writeDelta('./t-ts', [{ id: 1 }], { mode: 'overwrite' })
      return (await DeltaTable.open('./t-ts')).version + r.numRows
    }`,
  )
  fs.writeFileSync(
    path.join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'es2022',
        types: ['node'],
        skipLibCheck: true,
      },
      files: ['use.ts'],
    }),
  )
  run('node', [path.join(app, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], app)
})

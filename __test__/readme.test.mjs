// The README's commands and its TypeScript quick start work as written in a clone.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { tmpDir } from './helpers.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8')

it('the quick start (TypeScript) type-checks against index.d.ts and runs on the shipped sample table', () => {
  const section = readme.slice(readme.indexOf('## Quick start (TypeScript)'))
  const code = /```ts\n([\s\S]*?)```/.exec(section)[1]
  // A project of a user's that depends on zoopipe: `import ... from 'zoopipe'` finds this checkout.
  const dir = path.join(tmpDir, 'quickstart')
  fs.mkdirSync(path.join(dir, 'node_modules'), { recursive: true })
  if (!fs.existsSync(path.join(dir, 'node_modules', 'zoopipe'))) fs.symlinkSync(root, path.join(dir, 'node_modules', 'zoopipe'), 'dir')
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'quickstart', private: true, dependencies: { zoopipe: '*' } }))
  fs.writeFileSync(path.join(dir, 'quickstart.mts'), code)
  const tsconfig = {
    compilerOptions: {
      strict: true,
      target: 'es2022',
      module: 'nodenext',
      moduleResolution: 'nodenext',
      types: ['node'],
      skipLibCheck: true,
      outDir: 'dist',
    },
    files: ['quickstart.mts'],
  }
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(tsconfig))
  const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { encoding: 'utf8' })
  assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr)
  const run = spawnSync(process.execPath, [path.join(dir, 'dist', 'quickstart.mjs')], { cwd: root, encoding: 'utf8' })
  assert.equal(run.status, 0, run.stderr)
  const lines = run.stdout.trim().split('\n')
  assert.match(lines[0], /^\d+ \[/, 'row count and column names of version 1')
  assert.equal(lines.at(-1), 'TABLE_NOT_FOUND')
})

it('the CLI command the README shows inspects the sample table', () => {
  const cmd = /`(node bin\/zoopipe\.js inspect [^`]+)`/.exec(readme)[1].split(' ')
  const res = spawnSync(process.execPath, cmd.slice(1), { cwd: root, encoding: 'utf8' })
  assert.equal(res.status, 0, res.stderr)
  assert.match(res.stdout, /region/)
})

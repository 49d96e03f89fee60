// index.d.ts types the whole API: a TypeScript user's file type-checks, and misuse does not.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { it } from 'node:test'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const tsc = (project) =>
  spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { cwd: root, encoding: 'utf8' })

it('examples/typed.ts type-checks against index.d.ts', () => {
  const res = tsc('__test__/types/tsconfig.json')
  assert.equal(res.status, 0, res.stdout + res.stderr)
})

it('a wrong write mode is a type error', () => {
  const res = tsc('__test__/types/tsconfig.bad.json')
  assert.notEqual(res.status, 0)
  assert.match(res.stdout, /bogus/)
})

// The native binding and the public contract agree: one list of error codes (Rust's, which
// lib/errors.js and index.d.ts must both carry), and every option field the native layer reads is one
// index.d.ts documents, as is every field of its typed results (read from the generated
// binding.d.ts, so a Rust option or result field added without documenting it fails here).
import assert from 'node:assert/strict'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { declaredFields } from './helpers.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(import.meta.url)
const native = require('../lib/native.js')
const { DeltaError } = require('../lib/errors.js')
const publicTypes = fs.readFileSync(path.join(root, 'index.d.ts'), 'utf8')
const bindingTypes = fs.readFileSync(path.join(root, 'binding.d.ts'), 'utf8')

/** Field names of `interface name` in a .d.ts text. */
const fields = (text, name) => declaredFields(text, name).map((f) => f.field)

it('the error codes are one list: the native one, which DeltaError and index.d.ts both carry', () => {
  const codes = native.errorCodes()
  assert.ok(codes.includes('COMMIT_CONFLICT') && codes.length >= 10)
  const typed = /export type ErrorCode =([^/]*?)\n\n/
    .exec(publicTypes)[1]
    .match(/'([A-Z_]+)'/g)
    .map((c) => c.slice(1, -1))
  assert.deepEqual([...typed].sort(), [...codes].sort(), 'index.d.ts ErrorCode')
  for (const code of codes) assert.equal(new DeltaError(code, 'x').code, code, `DeltaError keeps ${code}`)
  assert.equal(new DeltaError('NOT_A_CODE', 'x').code, 'INTERNAL')
})

it('every option field the native layer reads, and every result field it returns, is documented in index.d.ts', () => {
  // native interface -> public interface(s) that carry its fields (the one native commit-properties
  // shape is public `commitProperties` everywhere, plus `maxRetries` for a coordinator's commit).
  const pairs = [
    ['OpenOptions', ['OpenOptions']],
    ['ScanOptions', ['ScanOptions']],
    ['CdfOptions', ['CdfOptions']],
    ['VacuumOptions', ['VacuumOptions']],
    ['OptimizeOptions', ['OptimizeOptions'], ['zOrder']], // zOrder is DeltaTable.optimize.zOrder(columns)
    ['WriteOptions', ['WriteOptions']],
    ['CommitProperties', ['CommitProperties', 'CoordinatorCommitOptions'], ['cancel']], // cancel: lib/abort.js's token for `signal`
    ['FileWriterOptions', ['DeltaWriterOptions']],
    ['ParquetProperties', ['WriterProperties']],
    ['ColumnProperties', ['ColumnProperties']],
    ['BloomFilterProperties', ['BloomFilterProperties']],
    ['WriteResult', ['WriteResult']],
    ['TableMetadata', ['TableMetadata']],
    ['TableProtocol', ['TableProtocol']],
    ['TableFile', ['TableFile']],
    ['VacuumMetrics', ['VacuumMetrics']],
    ['RestoreMetrics', ['RestoreMetrics']],
    ['OptimizeMetrics', ['OptimizeMetrics']],
    ['FileSizeMetrics', ['FileSizeMetrics']],
    ['DeleteMetrics', ['DeleteMetrics']],
    ['UpdateMetrics', ['UpdateMetrics']],
    ['MergeMetrics', ['MergeMetrics']],
  ]
  for (const [nativeName, publicNames, elsewhere = []] of pairs) {
    const documented = new Set(publicNames.flatMap((n) => fields(publicTypes, n)).concat(elsewhere))
    const missing = fields(bindingTypes, nativeName).filter((f) => !documented.has(f))
    assert.deepEqual(missing, [], `${nativeName} fields missing from index.d.ts ${publicNames.join(' / ')}`)
  }
})

it('a native error reaches JS as a DeltaError with its code, from sync and async methods alike', async () => {
  const { DeltaOutputAdapter, DeltaTable } = await import('../index.mjs')
  assert.throws(
    () => new DeltaOutputAdapter(path.join(root, '__test__', '.tmp', 'never'), { mode: 'bogus' }),
    (e) => e instanceof DeltaError && e.code === 'INVALID_ARGUMENT',
  )
  await assert.rejects(
    DeltaTable.open(path.join(root, '__test__', 'no-such-table')),
    (e) => e instanceof DeltaError && e.code === 'TABLE_NOT_FOUND',
  )
})

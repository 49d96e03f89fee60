// The independent raw-decode floor: bench/raw_decode.rs (arrow-rs `parquet` reading the table's files
// directly, every column), built as a cargo example with the release profile, run in its own process.
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/** Seconds of `runs` decodes of every Parquet file under `table` (after one warm-up), or an error text. */
export function rawDecode(root, table, runs) {
  const env = { ...process.env, CARGO_TARGET_DIR: process.env.CARGO_TARGET_DIR || path.join(os.homedir(), '.cache', 'zoopipe', 'target') }
  const host = /host: (\S+)/.exec(execFileSync('rustc', ['-vV'], { encoding: 'utf8' }))[1]
  const build = spawnSync('cargo', ['build', '--release', '--quiet', '--example', 'raw_decode', '--target', host], {
    cwd: root,
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  if (build.status !== 0) return 'error: cargo build --example raw_decode failed'
  const files = fs
    .readdirSync(table, { recursive: true })
    .filter((f) => f.endsWith('.parquet'))
    .map((f) => path.join(table, f))
  const bin = path.join(env.CARGO_TARGET_DIR, host, 'release', 'examples', 'raw_decode')
  return JSON.parse(execFileSync(bin, [String(runs), ...files], { encoding: 'utf8' })).seconds
}

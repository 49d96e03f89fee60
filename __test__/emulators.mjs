// Storage emulators on 127.0.0.1, started by the tests themselves on free ports and stopped after:
// S3 = moto server (PyPI), Azure Blob = azurite (npm), GCS = __test__/py/fake_gcs.py (test fixture).
// If one cannot start, start() throws with the reason: nothing is skipped silently.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob'
import { python, tmpDir } from './helpers.mjs'
import { freePort, motoStorageOptions } from './servers.mjs'

export { freePort }

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '..')

async function waitForPort(port, child, name, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs
  let exited = null
  child.once('exit', (code) => {
    exited = code
  })
  while (Date.now() < deadline) {
    if (exited !== null) throw new Error(`${name} exited with code ${exited} before listening on ${port}`)
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy()
        resolve(true)
      })
      s.once('error', () => resolve(false))
    })
    if (ok) return
    await new Promise((r) => setTimeout(r, 100))
  }
  child.kill('SIGKILL')
  throw new Error(`${name} did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`)
}

function launch(cmd, args, name) {
  if (!fs.existsSync(cmd)) throw new Error(`${name}: ${cmd} is missing (npm test installs it)`)
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-4000)
  })
  child.on('error', (e) => {
    stderr += String(e)
  })
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve()
      child.once('exit', resolve)
      child.kill('SIGTERM')
    })
  return { child, stop, stderr: () => stderr }
}

export async function startS3() {
  const port = await freePort()
  const bin = path.join(path.dirname(python), 'moto_server')
  const p = launch(bin, ['-H', '127.0.0.1', '-p', String(port)], 'moto')
  await waitForPort(port, p.child, 'moto')
  const endpoint = `http://127.0.0.1:${port}`
  const bucket = 'zoopipe-test'
  const res = await fetch(`${endpoint}/${bucket}`, { method: 'PUT' })
  if (!res.ok) throw new Error(`moto: creating bucket failed: ${res.status} ${await res.text()}`)
  return {
    name: 's3',
    root: `s3://${bucket}`,
    endpoint,
    storageOptions: motoStorageOptions(endpoint),
    env: {},
    stop: p.stop,
  }
}

export const AZURITE_ACCOUNT = 'devstoreaccount1'
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

export async function startAzure() {
  const port = await freePort()
  const bin = path.join(root, 'node_modules', '.bin', 'azurite-blob')
  const p = launch(
    bin,
    [
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      String(port),
      '--loose',
      '--skipApiVersionCheck',
      '--disableTelemetry',
      '--inMemoryPersistence',
    ],
    'azurite',
  )
  await waitForPort(port, p.child, 'azurite')
  const url = `http://127.0.0.1:${port}`
  const container = 'zoopipe-test'
  const client = new BlobServiceClient(`${url}/${AZURITE_ACCOUNT}`, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY))
  await client.getContainerClient(container).create()
  // object_store reads the emulator address from the environment of the process opening the table.
  return {
    name: 'azure',
    root: `az://${container}`,
    storageOptions: { AZURE_STORAGE_USE_EMULATOR: 'true' },
    env: { AZURITE_BLOB_STORAGE_URL: url },
    port,
    stop: p.stop,
  }
}

export async function startGcs() {
  const port = await freePort()
  const p = launch(python, [path.join(here, 'py', 'fake_gcs.py'), String(port)], 'fake GCS')
  await waitForPort(port, p.child, 'fake GCS')
  const sa = path.join(tmpDir, `gcs-sa-${port}.json`)
  fs.writeFileSync(
    sa,
    JSON.stringify({
      gcs_base_url: `http://127.0.0.1:${port}`,
      disable_oauth: true,
      client_email: '',
      private_key: '',
      private_key_id: '',
    }),
  )
  return { name: 'gcs', root: 'gs://zoopipe-test', storageOptions: { GOOGLE_SERVICE_ACCOUNT: sa }, env: {}, stop: p.stop }
}

// Every operation on S3 (moto), Azure Blob (azurite) and GCS (fake_gcs.py), real servers on 127.0.0.1.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import net from 'node:net'
import path from 'node:path'
import { promisify } from 'node:util'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { DeltaCoordinator, DeltaError, DeltaInputAdapter, DeltaTable, DeltaWriter, readDelta, writeDelta } from '../index.mjs'
import { AZURITE_ACCOUNT, AZURITE_KEY, freePort, startAzure, startGcs, startS3 } from './emulators.mjs'
import { assertSameTable, duckRead, people, pyRead, rejectsWith, rows } from './helpers.mjs'
import { appendStormTests } from './storm.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const run = promisify(execFile)
const ids = async (uri, opts) =>
  rows(await readDelta(uri, opts))
    .map((r) => Number(r.id))
    .sort((a, b) => a - b)

for (const [label, start] of [
  ['S3 (moto)', startS3],
  ['Azure Blob (azurite)', startAzure],
  ['GCS (fake_gcs.py fixture)', startGcs],
]) {
  describe(label, () => {
    let store
    let n = 0
    const table = (name) => `${store.root}/${name}-${n++}`
    before(async () => {
      store = await start()
      Object.assign(process.env, store.env)
    })
    after(() => store?.stop())

    it('create, append, overwrite, time travel, filtered read', async () => {
      const so = store.storageOptions
      const uri = table('basic')
      assert.equal(await DeltaTable.isDeltaTable(uri, { storageOptions: so }), false)
      assert.equal((await writeDelta(uri, people([1, 2]), { storageOptions: so, mode: 'error' })).version, 0)
      assert.equal((await writeDelta(uri, people([3]), { storageOptions: so })).version, 1)
      assert.equal((await writeDelta(uri, people([7]), { storageOptions: so, mode: 'overwrite' })).version, 2)
      assert.deepEqual(await ids(uri, { storageOptions: so }), [7])
      assert.deepEqual(await ids(uri, { storageOptions: so, version: 1 }), [1, 2, 3])
      assert.deepEqual(await ids(uri, { storageOptions: so, version: 1, filter: [['id', '>=', 2]] }), [2, 3])
      const dt = await DeltaTable.open(uri, { storageOptions: so })
      assert.deepEqual(
        (await dt.history()).map((h) => h.version),
        [2, 1, 0],
      )
      assert.equal(await DeltaTable.isDeltaTable(uri, { storageOptions: so }), true)
    })

    it('partitioned write and partition-pruned read', async () => {
      const so = store.storageOptions
      const uri = table('parts')
      const data = ['a/b', 'x=y', 'with space', null].flatMap((p, i) => people([i * 10, i * 10 + 1], { part: p }))
      await writeDelta(uri, data, { storageOptions: so, partitionBy: ['part'] })
      assert.deepEqual(await ids(uri, { storageOptions: so, filter: [['part', '=', 'x=y']] }), [10, 11])
      assert.deepEqual(await ids(uri, { storageOptions: so, filter: [['part', '=', null]] }), [30, 31])
      let streamed = 0
      for await (const b of new DeltaInputAdapter(uri, { storageOptions: so, batchSize: 3 }).getBatches()) streamed += b.numRows
      assert.equal(streamed, 8)
    })

    it('DeltaWriter workers + one DeltaCoordinator commit', async () => {
      const so = store.storageOptions
      const uri = table('fanout')
      const files = []
      for (const w of [0, 1, 2]) {
        const writer = new DeltaWriter(uri, { storageOptions: so })
        await writer.write(people([w * 100, w * 100 + 1]))
        files.push(JSON.parse(JSON.stringify(await writer.finish())))
      }
      assert.equal(await DeltaTable.isDeltaTable(uri, { storageOptions: so }), false)
      const c = new DeltaCoordinator(uri, { storageOptions: so })
      const res = await c.commit(files, { commitProperties: { appId: 'cloud', appVersion: 1 } })
      assert.deepEqual(await ids(uri, { storageOptions: so }), [0, 1, 100, 101, 200, 201])
      assert.equal((await c.commit(files, { commitProperties: { appId: 'cloud', appVersion: 1 } })).version, res.version)
      await assert.rejects(c.commit([{ ...files[0][0], path: 'nope.parquet' }]), (e) => e.code === 'INVALID_ARGUMENT')
    })

    it('DeltaWriter files in partition folders that need escaping commit through the coordinator', async () => {
      const so = store.storageOptions
      const uri = table('fanout-parts')
      const writer = new DeltaWriter(uri, { storageOptions: so, partitionBy: ['part'] })
      await writer.write(['a/b', 'x=y', 'with space', '100%'].flatMap((p, i) => people([i], { part: p })))
      await new DeltaCoordinator(uri, { storageOptions: so }).commit(await writer.finish())
      assert.deepEqual(await ids(uri, { storageOptions: so }), [0, 1, 2, 3])
      assert.deepEqual(await ids(uri, { storageOptions: so, filter: [['part', '=', 'with space']] }), [2])
    })

    it(
      ...appendStormTests(
        { writeDelta, readDelta, DeltaTable },
        {
          label,
          uri: () => table('storm'),
          storageOptions: () => store.storageOptions,
          env: () => store.env,
          procs: 6,
          appends: 4,
        },
      ),
    )

    // DuckDB's delta extension (delta-kernel and its own object store client) as the independent
    // reader. GCS is left out: DuckDB reaches gs:// through its S3 interoperability API, which the
    // fake GCS server here does not speak.
    const duckStore = () => {
      if (label.startsWith('S3')) {
        const so = store.storageOptions
        const endpoint = new URL(so.AWS_ENDPOINT_URL).host
        return { s3: { endpoint, key_id: so.AWS_ACCESS_KEY_ID, secret: so.AWS_SECRET_ACCESS_KEY, region: so.AWS_REGION } }
      }
      if (label.startsWith('Azure')) {
        const cs = `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=${store.env.AZURITE_BLOB_STORAGE_URL}/${AZURITE_ACCOUNT};`
        return { azure: { connection_string: cs } }
      }
      return null
    }
    if (!label.startsWith('GCS'))
      it('DuckDB reads what zoopipe wrote here, row for row and type for type: a partitioned write, an append, a coordinator commit', async () => {
        const so = store.storageOptions
        const uri = table('duck')
        await writeDelta(uri, people([1, 2, 3], { part: 'a b' }), { storageOptions: so, partitionBy: ['part'] })
        await writeDelta(uri, people([4], { part: 'q' }), { storageOptions: so })
        const w = new DeltaWriter(uri, { storageOptions: so })
        await w.write(people([5], { part: 'a b' }))
        await new DeltaCoordinator(uri, { storageOptions: so }).commit(await w.finish())
        const ours = await readDelta(uri, { storageOptions: so })
        assert.equal(ours.numRows, 5)
        assertSameTable(duckRead(uri, duckStore()), ours, uri)
      })

    if (label.startsWith('S3')) {
      it('Python deltalake reads the S3 table zoopipe wrote, row for row', async () => {
        const so = store.storageOptions
        const uri = table('interop')
        await writeDelta(uri, people([1, 2, 3], { part: 'p' }), { storageOptions: so, partitionBy: ['part'] })
        await writeDelta(uri, people([4], { part: 'q' }), { storageOptions: so })
        assertSameTable(pyRead(uri, { storage_options: so }), await readDelta(uri, { storageOptions: so }))
      })

      it('s3a:// URIs, lower-case option keys, and options from the environment alone', async () => {
        const so = store.storageOptions
        await writeDelta(`s3a://zoopipe-test/s3a-${n}`, people([1]), { storageOptions: so })
        assert.deepEqual(await ids(`s3://zoopipe-test/s3a-${n}`, { storageOptions: so }), [1])
        const lower = Object.fromEntries(Object.entries(so).map(([k, v]) => [k.toLowerCase(), v]))
        const uri = table('lower')
        await writeDelta(uri, people([2]), { storageOptions: lower })
        assert.deepEqual(await ids(uri, { storageOptions: lower }), [2])
        // a child process with AWS_* in its environment and no storageOptions at all
        const envUri = table('env')
        await run(process.execPath, [path.join(here, 'workers', 'append.mjs'), envUri, '0', '2'], {
          env: { ...process.env, ...so, ZOOPIPE_TEST_STORAGE: '{}' },
        })
        assert.equal((await DeltaTable.open(envUri, { storageOptions: so })).version, 1)
      })

      it('a missing bucket is a DeltaError naming the URI', async () => {
        const so = store.storageOptions
        await assert.rejects(readDelta('s3://no-such-bucket-zp/t', { storageOptions: so }), (e) => {
          assert.ok(e instanceof DeltaError)
          assert.ok(['TABLE_NOT_FOUND', 'STORAGE'].includes(e.code), e.code)
          assert.match(e.message, /no-such-bucket-zp/)
          assert.doesNotMatch(e.message, new RegExp(so.AWS_SECRET_ACCESS_KEY))
          return true
        })
      })

      it('an endpoint that is not an http(s) URL, or a URI without a bucket, is INVALID_ARGUMENT (object_store panicked on the endpoint)', async () => {
        for (const bad of ['not a url', '127.0.0.1:9000', 'http://exa mple.com']) {
          const so = { ...store.storageOptions, AWS_ENDPOINT_URL: bad }
          await rejectsWith(readDelta('s3://zp/t', { storageOptions: so }), 'INVALID_ARGUMENT', /AWS_ENDPOINT_URL must be an http\(s\) URL/)
          await rejectsWith(writeDelta('s3://zp/new', [{ a: 1 }], { storageOptions: so }), 'INVALID_ARGUMENT', /must be an http\(s\) URL/)
        }
        await rejectsWith(readDelta('s3://', { storageOptions: store.storageOptions }), 'INVALID_ARGUMENT', /Unable to recognise URL/)
      })
    }

    if (label.startsWith('Azure')) {
      it('azure:// and abfs[s]:// URIs reach the same container', async () => {
        const so = store.storageOptions
        const name = `variants-${n++}`
        await writeDelta(`azure://zoopipe-test/${name}`, people([1]), { storageOptions: so })
        await writeDelta(`abfs://zoopipe-test@${AZURITE_ACCOUNT}.dfs.core.windows.net/${name}`, people([2]), { storageOptions: so })
        await writeDelta(`abfss://zoopipe-test@${AZURITE_ACCOUNT}.dfs.core.windows.net/${name}`, people([3]), { storageOptions: so })
        assert.deepEqual(await ids(`az://zoopipe-test/${name}`, { storageOptions: so }), [1, 2, 3])
      })

      it('wrong credentials: STORAGE, quickly, without the key in the message', async () => {
        const badKey = Buffer.from('not-the-right-key-but-well-formed-0123456789').toString('base64')
        const so = { AZURE_STORAGE_ACCOUNT_NAME: AZURITE_ACCOUNT, AZURE_STORAGE_ACCOUNT_KEY: badKey, AZURE_STORAGE_USE_EMULATOR: 'true' }
        const t0 = Date.now()
        await assert.rejects(writeDelta(table('badkey'), people([1]), { storageOptions: so }), (e) => {
          assert.ok(e instanceof DeltaError)
          assert.ok(['STORAGE', 'TABLE_NOT_FOUND'].includes(e.code), `${e.code}: ${e.message}`)
          assert.ok(!e.message.includes(badKey), e.message)
          assert.match(e.message, /403|Authoriz/)
          return true
        })
        assert.ok(Date.now() - t0 < 60000)
      })
    }
  })
}

describe('the GCS test fixture', () => {
  it('honours x-goog-if-generation-match: 0 (the put-if-absent Delta commits rely on)', async () => {
    const store = await startGcs()
    try {
      const port = JSON.parse((await import('node:fs')).readFileSync(store.storageOptions.GOOGLE_SERVICE_ACCOUNT, 'utf8')).gcs_base_url
      const put = (body) =>
        fetch(`${port}/zoopipe-test/log/0.json`, { method: 'PUT', body, headers: { 'x-goog-if-generation-match': '0' } })
      assert.equal((await put('first')).status, 200)
      assert.equal((await put('second')).status, 412)
      assert.equal(await (await fetch(`${port}/zoopipe-test/log/0.json`)).text(), 'first')
    } finally {
      await store.stop()
    }
  })
})

describe('network faults', () => {
  const s3 = (port, extra = {}) => ({
    AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
    AWS_ALLOW_HTTP: 'true',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEKEYID',
    AWS_SECRET_ACCESS_KEY: 'do-not-leak-this-secret-42',
    ...extra,
  })
  const noSecret = (e, so) => {
    assert.ok(e instanceof DeltaError)
    assert.equal(e.code, 'STORAGE', e.message)
    assert.ok(!e.message.includes(so.AWS_SECRET_ACCESS_KEY), e.message)
    assert.match(e.message, /s3:\/\/bucket\/table/)
    return true
  }

  it('an unreachable endpoint fails within the configured retry bound', async () => {
    const so = s3(await freePort(), { max_retries: '2', retry_timeout: '5s' })
    const t0 = Date.now()
    await assert.rejects(readDelta('s3://bucket/table', { storageOptions: so }), (e) => noSecret(e, so))
    assert.ok(Date.now() - t0 < 30000, `${Date.now() - t0} ms`)
  })

  it('an endpoint that accepts connections but never answers times out instead of hanging', async () => {
    const sockets = []
    const hole = net.createServer((s) => sockets.push(s))
    await new Promise((r) => hole.listen(0, '127.0.0.1', r))
    const so = s3(hole.address().port, { timeout: '1s', max_retries: '1', retry_timeout: '3s' })
    const t0 = Date.now()
    try {
      await assert.rejects(readDelta('s3://bucket/table', { storageOptions: so }), (e) => noSecret(e, so))
      assert.ok(Date.now() - t0 < 30000, `${Date.now() - t0} ms`)
    } finally {
      for (const s of sockets) s.destroy()
      hole.close()
    }
  })

  it('a server answering 503 gives STORAGE after bounded retries', async () => {
    const srv = (await import('node:http')).createServer((_req, res) => {
      res.writeHead(503)
      res.end('SlowDown')
    })
    await new Promise((r) => srv.listen(0, '127.0.0.1', r))
    const so = s3(srv.address().port, { max_retries: '2', retry_timeout: '5s' })
    const t0 = Date.now()
    try {
      await assert.rejects(readDelta('s3://bucket/table', { storageOptions: so }), (e) => noSecret(e, so))
      assert.ok(Date.now() - t0 < 30000)
    } finally {
      srv.close()
    }
  })
})

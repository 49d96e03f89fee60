// examples/lambda handlers invoked as Lambda would, against S3 (moto) with credentials in the environment.
// Shared by lambda.test.mjs (full build) and lambda-slim.test.mjs (the slim build, as a size-limited bundle would ship).
import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { startS3 } from './emulators.mjs'
import { scratch } from './helpers.mjs'

export function lambdaTests() {
  let s3
  let read
  let append
  let sync
  before(async () => {
    s3 = await startS3()
    Object.assign(process.env, s3.storageOptions, { TABLE_URI: `${s3.root}/lambda-orders` })
    ;({ handler: read } = await import('../examples/lambda/read.mjs'))
    ;({ handler: append } = await import('../examples/lambda/append.mjs'))
    ;({ handler: sync } = await import('../examples/lambda/sync.mjs'))
  })
  after(async () => {
    for (const k of [...Object.keys(s3.storageOptions), 'TABLE_URI', 'SOURCE_URI']) delete process.env[k]
    await s3.stop()
  })

  it('append then read with a filter, through the handlers', async () => {
    const rows = Array.from({ length: 30 }, (_, i) => ({ id: i, region: ['eu', 'us', 'apac'][i % 3], amount: i * 1.5 }))
    const first = await append({ rows: rows.slice(0, 20), partitionBy: ['region'] })
    assert.equal(first.statusCode, 200)
    assert.equal(JSON.parse(first.body).version, 0)
    assert.equal(JSON.parse((await append({ rows: rows.slice(20), requestId: 'r1' })).body).version, 1)
    const retried = JSON.parse((await append({ rows: rows.slice(20), requestId: 'r1' })).body) // a retried invocation
    assert.deepEqual([retried.version, retried.numRows], [1, 0])
    const res = await read({
      filter: [
        ['region', '=', 'eu'],
        ['amount', '>=', 10],
      ],
      columns: ['id', 'amount'],
    })
    const body = JSON.parse(res.body)
    assert.deepEqual(
      body.rows.map((r) => r.id).sort((a, b) => a - b),
      [9, 12, 15, 18, 21, 24, 27],
    )
    assert.deepEqual(Object.keys(body.rows[0]).sort(), ['amount', 'id'])
    assert.equal((await append({ rows: [] })).statusCode, 400)
    if (process.env.ZOOPIPE_VARIANT === 'slim') {
      // really the slim addon: what needs DataFusion is refused
      const { DeltaTable } = await import('../index.mjs')
      const dt = await DeltaTable.open(process.env.TABLE_URI, { storageOptions: s3.storageOptions })
      await assert.rejects(dt.optimize.compact(), (e) => e.code === 'UNSUPPORTED_FEATURE')
    }
  })

  it('a scheduled sync bronze -> silver through the handler: each bronze row once across invocations, also from another store', async () => {
    const { readDelta, writeDelta } = await import('../index.mjs')
    const orders = (from, n) => Array.from({ length: n }, (_, i) => ({ id: from + i, region: i % 2 ? 'EU' : 'US', amount: i * 2.5 }))
    const invoke = async () => JSON.parse((await sync()).body)
    const silverRows = async (uri) =>
      (await readDelta(uri))
        .toArray()
        .map((r) => [Number(r.id), r.region, Number(r.bronze_version)])
        .sort((a, b) => a[0] - b[0])
    const table = process.env.TABLE_URI
    try {
      for (const [bronze, silver] of [
        [`${s3.root}/bronze`, `${s3.root}/silver`],
        [scratch('lambda-bronze'), `${s3.root}/silver-from-disk`],
      ]) {
        Object.assign(process.env, { SOURCE_URI: bronze, TABLE_URI: silver })
        await writeDelta(bronze, orders(0, 4))
        await writeDelta(bronze, [...orders(4, 2), { id: null, region: 'EU', amount: 1 }])
        assert.deepEqual((await invoke()).sourceVersions, { from: 0, to: 1 })
        assert.deepEqual(await invoke(), { sourceVersions: null, rows: 0, version: null }, 'nothing new: nothing committed')
        await writeDelta(bronze, orders(6, 3))
        const third = await invoke()
        assert.deepEqual([third.sourceVersions, third.rows, third.version], [{ from: 2, to: 2 }, 3, 1])
        assert.deepEqual(
          await silverRows(silver),
          orders(0, 9).map((o) => [o.id, o.region.toLowerCase(), o.id < 4 ? 0 : o.id < 6 ? 1 : 2]),
        )
      }
    } finally {
      process.env.TABLE_URI = table
    }
  })
}

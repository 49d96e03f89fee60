// Type-checked against index.d.ts by the tests (tsc --noEmit); also a usage example.
import type { Table } from 'apache-arrow'
import {
  CsvInputAdapter,
  DeltaChangesInputAdapter,
  DeltaCoordinator,
  DeltaError,
  DeltaInputAdapter,
  DeltaOutputAdapter,
  DeltaTable,
  DeltaWriter,
  Pipe,
  readDelta,
  toRows,
  writeDelta,
  type DeltaFileAction,
  type Filter,
  type WriteResult,
} from 'zoopipe'

export async function etl(src: string, dst: string): Promise<number> {
  const filter: Filter = [
    ['region', '=', 'eu'],
    ['amount', '>=', 50],
  ]
  const input = new DeltaInputAdapter(src, { columns: ['order_id', 'amount'], filter, batchSize: 1024 })
  const out = new DeltaOutputAdapter(dst, { mode: 'overwrite', partitionBy: [], commitProperties: { customMetadata: { job: 'typed' } } })
  for await (const batch of input.getBatches()) await out.write(batch)
  const res: WriteResult = await out.close()

  const dt = await DeltaTable.open(dst, { version: res.version ?? undefined }) // null: no table was written
  const history = await dt.history(1)
  const t: Table = await readDelta(dst)
  await writeDelta(dst, [{ order_id: 1n, amount: 2.5 }], { mode: 'append' })

  const w = new DeltaWriter(dst)
  await w.write(t)
  const files: DeltaFileAction[] = await w.finish()
  const { version } = await new DeltaCoordinator(dst).commit(files, { commitProperties: { appId: 'typed', appVersion: 1 } })
  const compacted: number = (await dt.optimize.compact({ targetSize: 1 << 20 })).numFilesAdded
  const merged = await dt
    .merge([{ order_id: 1n, amount: 3 }], { predicate: 'target.order_id = source.order_id' })
    .whenMatchedUpdate({ updates: { amount: 'source.amount' } })
    .whenNotMatchedInsert({ values: { order_id: 'source.order_id', amount: 'source.amount' } })
    .execute()
  for await (const change of dt.loadCdf({ startingVersion: 0, columns: ['order_id', '_change_type'] })) void change.numRows
  await dt.vacuum({ dryRun: true, keepVersions: [0] })
  const created = await DeltaTable.create(`${dst}-empty`, { schema: { id: 'long not null', tags: 'array<string>' }, mode: 'ignore' })
  const adds: Table = await created.addActions({ flatten: true })
  const counted: number = (await created.count()) + (await created.refresh()) + adds.numRows
  const marker: number | null = await created.transactionVersion('typed')
  const report = await new Pipe({
    input: new DeltaChangesInputAdapter(src, { startingVersion: 0 }),
    output: new DeltaOutputAdapter(`${dst}-silver`, { commitProperties: { appId: 'typed' } }),
  }).run()
  void (counted + (marker ?? 0) + (report.sourceVersions?.to ?? 0) + (await readDelta(dst, { limit: 1 })).numRows)
  void (compacted + merged.numTargetRowsInserted)
  const controller = new AbortController()
  const json: Array<Record<string, unknown>> = toRows(await readDelta(dst, { limit: 5, signal: controller.signal }), { int64: 'string' })
  const writerProperties = {
    compression: 'ZSTD',
    compressionLevel: 3,
    columnProperties: { amount: { statisticsEnabled: 'PAGE' } },
  } as const
  await writeDelta(dst, t, { writerProperties, signal: controller.signal })
  const uploaded: Table = await new CsvInputAdapter(Buffer.from('a,b\n1,2\n'), { chunkBytes: 1 << 20 }).readAll()
  void (json.length + uploaded.numRows)
  try {
    await DeltaTable.open('/nope')
  } catch (e) {
    if (e instanceof DeltaError && e.code === 'TABLE_NOT_FOUND') return version + history.length
  }
  return version
}

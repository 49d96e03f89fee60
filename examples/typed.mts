// Type-checked against index.d.ts by the tests (tsc --noEmit); also a usage example.
import type { Table } from 'apache-arrow'
import {
  DeltaCoordinator, DeltaError, DeltaInputAdapter, DeltaOutputAdapter, DeltaTable, DeltaWriter,
  readDelta, writeDelta, type DeltaFileAction, type Filter, type WriteResult,
} from 'zoopipe'

export async function etl(src: string, dst: string): Promise<number> {
  const filter: Filter = [['region', '=', 'eu'], ['amount', '>=', 50]]
  const input = new DeltaInputAdapter(src, { columns: ['order_id', 'amount'], filter, batchSize: 1024 })
  const out = new DeltaOutputAdapter(dst, { mode: 'overwrite', partitionBy: [], commitProperties: { customMetadata: { job: 'typed' } } })
  for await (const batch of input.getBatches()) await out.write(batch)
  const res: WriteResult = await out.close()

  const dt = await DeltaTable.open(dst, { version: res.version })
  const history = await dt.history(1)
  const t: Table = await readDelta(dst)
  await writeDelta(dst, [{ order_id: 1n, amount: 2.5 }], { mode: 'append' })

  const w = new DeltaWriter(dst)
  await w.write(t)
  const files: DeltaFileAction[] = await w.finish()
  const { version } = await new DeltaCoordinator(dst).commit(files, { appId: 'typed', appVersion: 1 })
  try {
    await DeltaTable.open('/nope')
  } catch (e) {
    if (e instanceof DeltaError && e.code === 'TABLE_NOT_FOUND') return version + history.length
  }
  return version
}

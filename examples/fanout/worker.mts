// A "serverless function": writes its shard with a DeltaWriter and returns the file actions as JSON.
// Usage: node examples/dist/fanout/worker.mjs <delta uri> <shard> <shards> <rows>
import { DeltaWriter } from 'zoopipe'

export async function handler(event: { table: string; shard: number; shards: number; rows: number }) {
  const writer = new DeltaWriter(event.table, { partitionBy: ['shard'] })
  const rows = Array.from({ length: event.rows }, (_, i) => ({
    id: event.shard * event.rows + i,
    shard: `s${event.shard}`,
    value: (i * 31 + event.shard) % 97,
  }))
  await writer.write(rows)
  return { files: await writer.finish() }
}

const [table, shard, shards, rows] = process.argv.slice(2)
process.stdout.write(JSON.stringify(await handler({ table, shard: Number(shard), shards: Number(shards), rows: Number(rows) })))

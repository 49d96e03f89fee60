// A TypeScript ETL script: NDJSON events -> validate/transform -> Delta, bad rows to a dead-letter file.
// Usage: node examples/dist/etl.mjs <events.ndjson> <delta uri> <dead-letter.ndjson>
import { DeltaTable, JsonLinesInputAdapter, DeltaOutputAdapter, Pipe } from 'zoopipe'
import type { RecordBatch } from 'apache-arrow'

type Event = { id: number | bigint; user: string; kind: string; value: number | null }

export async function run(source: string, target: string, deadLetter: string) {
  const report = await new Pipe({
    input: new JsonLinesInputAdapter(source, { batchSize: 1000 }),
    // Row-wise transform: drop test users, normalise kinds, refuse negative values (those rows are
    // reported in the dead-letter file with the error, the rest goes on).
    transform: (batch: RecordBatch) => {
      const out: Event[] = []
      for (const row of batch) {
        const e = row.toJSON() as Event
        if (e.user.startsWith('test-')) continue
        if (e.value !== null && e.value < 0) throw new Error(`negative value in event ${e.id}`)
        out.push({ ...e, kind: e.kind.toLowerCase() })
      }
      return out.length ? out : null
    },
    output: new DeltaOutputAdapter(target, { mode: 'append', partitionBy: ['kind'] }),
    deadLetter,
  }).run()
  const dt = await DeltaTable.open(target)
  return { ...report, files: (await dt.files()).length }
}

if (process.argv[1]?.endsWith('etl.mjs')) {
  const [source, target, dead] = process.argv.slice(2)
  console.log(JSON.stringify(await run(source, target, dead)))
}

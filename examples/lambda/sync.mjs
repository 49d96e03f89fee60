// AWS Lambda handler run on a schedule (e.g. an EventBridge rule every 5 minutes): appends what is
// new in a bronze Delta table to a silver one, cleaned, exactly once. The progress marker is the
// silver table's own commit (appId 'bronze-to-silver'), so a timed-out, retried or overlapping
// invocation just picks up where the last commit left off. SOURCE_URI and TABLE_URI come from the
// environment, credentials from the role (the two tables may be in different stores).
import { DeltaChangesInputAdapter, DeltaOutputAdapter, Pipe } from 'zoopipe'

export async function handler() {
  const report = await new Pipe({
    input: new DeltaChangesInputAdapter(process.env.SOURCE_URI),
    // Cleaning: rows without an id are dropped, regions lower-cased, each row keeps its bronze version.
    transform: (batch) =>
      batch
        .toArray()
        .filter((r) => r.id !== null)
        .map((r) => ({ id: r.id, region: String(r.region).toLowerCase(), amount: r.amount, bronze_version: r._commit_version })),
    output: new DeltaOutputAdapter(process.env.TABLE_URI, { commitProperties: { appId: 'bronze-to-silver' } }),
  }).run()
  const body = { sourceVersions: report.sourceVersions, rows: report.rowsWritten, version: report.version }
  return { statusCode: 200, body: JSON.stringify(body) }
}

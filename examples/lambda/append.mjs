// AWS Lambda handler: appends the event's rows to a Delta table on S3 (one atomic commit per call;
// concurrent invocations are safe: S3 conditional PUT on the log entry). Idempotent per requestId.
import { writeDelta } from 'zoopipe'

export async function handler(event = {}) {
  if (!Array.isArray(event.rows) || event.rows.length === 0) return { statusCode: 400, body: 'rows must be a non-empty array' }
  const commitProperties = event.requestId ? { appId: `append-${event.requestId}`, appVersion: 1 } : undefined
  const res = await writeDelta(process.env.TABLE_URI, event.rows, { mode: 'append', partitionBy: event.partitionBy, commitProperties })
  return { statusCode: 200, body: JSON.stringify(res) }
}

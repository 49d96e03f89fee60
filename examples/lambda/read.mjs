// AWS Lambda handler: reads a partitioned Delta table on S3 with a filter and returns JSON rows.
// Configuration comes from the environment as on Lambda: TABLE_URI, and the role's AWS_* credentials
// (AWS_ENDPOINT_URL / AWS_ALLOW_HTTP only for S3-compatible stores and local tests).
import { readDelta } from 'zoopipe'

const jsonSafe = (row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v]))

export async function handler(event = {}) {
  const table = await readDelta(process.env.TABLE_URI, {
    filter: event.filter ?? [],
    columns: event.columns,
    version: event.version,
  })
  const rows = table
    .toArray()
    .slice(0, event.limit ?? 1000)
    .map((r) => jsonSafe(r.toJSON()))
  return { statusCode: 200, body: JSON.stringify({ count: table.numRows, rows }) }
}

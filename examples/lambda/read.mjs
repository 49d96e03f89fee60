// AWS Lambda handler: reads a partitioned Delta table on S3 with a filter and returns JSON rows.
// Configuration comes from the environment as on Lambda: TABLE_URI, and the role's AWS_* credentials
// (AWS_ENDPOINT_URL / AWS_ALLOW_HTTP only for S3-compatible stores and local tests).
import { readDelta, toRows } from 'zoopipe'

export async function handler(event = {}) {
  const table = await readDelta(process.env.TABLE_URI, {
    filter: event.filter ?? [],
    columns: event.columns,
    version: event.version,
  })
  // toRows: plain objects JSON.stringify takes (64-bit integers as numbers, decimals as strings).
  const rows = toRows(table.slice(0, event.limit ?? 1000))
  return { statusCode: 200, body: JSON.stringify({ count: table.numRows, rows }) }
}

import { createRequire } from 'node:module'
import * as arrow from 'apache-arrow'

const require = createRequire(import.meta.url)
const { createApi } = require('./lib/api.js')
const api = createApi(arrow)

export const {
  DeltaTable,
  DeltaInputAdapter,
  readDelta,
  DeltaOutputAdapter,
  writeDelta,
  DeltaWriter,
  DeltaCoordinator,
  DeltaError,
  CsvInputAdapter,
  JsonLinesInputAdapter,
  ParquetInputAdapter,
  DeltaChangesInputAdapter,
  Pipe,
  toRows,
} = api
export default api

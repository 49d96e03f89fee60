'use strict'
// The public API, built over one apache-arrow module instance: index.js passes the CommonJS build,
// index.mjs the ES module build, so objects we return are instances of the caller's own classes.
// One module per concept: reading.js, table.js, rows.js (write inputs), writing.js, pipe.js,
// to-rows.js (rows out).
const { DeltaError } = require('./errors')

// Options arguments may be left out or given as null (`options ??= {}`): a TypeError from
// destructuring null is not a DeltaError.
function createApi(arrow) {
  const handover = require('./handover').createHandover(arrow)
  const rows = require('./rows').createRows(arrow)
  const reading = require('./reading').createReading(arrow, handover)
  const { DeltaTable, DeltaInputAdapter, readDelta } = require('./table').createTable(arrow, { reading, rows })
  const { DeltaOutputAdapter, writeDelta, DeltaWriter, DeltaCoordinator } = require('./writing').createWriting(arrow, { handover, rows })
  const { CsvInputAdapter, JsonLinesInputAdapter, ParquetInputAdapter } = reading
  const { DeltaChangesInputAdapter } = require('./changes').createChanges(arrow, { DeltaTable, streamBatches: reading.streamBatches })
  const api = {
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
    toRows: require('./to-rows').createToRows(arrow).toRows,
  }
  // A transform's input rows, typed as write(rows) types a new table: plain rows as columns built in
  // JS (row-columns.js), others through JSON.
  const { rowColumns } = require('./row-columns').createRowColumns(arrow)
  const rowsToBatch = async (r) => rowColumns(r)?.batches[0] ?? arrow.tableFromIPC(await rows.rowsToIpc(r)).batches[0]
  api.Pipe = require('./pipe').createPipe({ feedable: rows.isArrowTable, isArrowBatch: rows.isArrowBatch, rowsToBatch, DeltaTable })
  return api
}

module.exports = { createApi }

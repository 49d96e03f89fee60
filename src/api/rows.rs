//! Row objects before any table is involved: a Pipe's input rows (its transform takes
//! RecordBatches) and a merge source become one Arrow IPC stream (`rows.rs` decides the types).

use napi::bindgen_prelude::Buffer;

use crate::error::guard;
use crate::rows::RowHints;

/// Row objects (newline-delimited JSON) as one Arrow IPC stream, with the types `write(rows)` gives
/// a new table.
#[napi]
pub async fn rows_to_ipc(rows: String, hints: RowHints) -> napi::Result<Buffer> {
    guard(async move { Ok(crate::rows::rows_to_ipc(&rows, &hints)?.into()) }).await
}

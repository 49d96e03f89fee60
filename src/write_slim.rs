//! The slim build's table writer (no DataFusion): `append.rs`'s parallel `RecordBatchWriter`s
//! (partitioning, stats, target file size) and one commit. replaceWhere (`predicate`) and
//! `schemaMode` need the full build.

use std::collections::HashMap;

use deltalake::DeltaTable;
use deltalake::arrow::datatypes::SchemaRef;
use deltalake::protocol::SaveMode;
use tokio::sync::mpsc;

use crate::append;
use crate::error::{ZError, ZResult};
use crate::write::{Msg, WriteOptions, WriteTask};

/// Start the writers on the batches arriving through `rx`; they commit at the end.
#[allow(clippy::too_many_arguments)]
pub fn spawn_writer(
    table: DeltaTable,
    exists: bool,
    schema: SchemaRef,
    mode: SaveMode,
    o: &WriteOptions,
    uri: &str,
    storage: &HashMap<String, String>,
    rx: mpsc::Receiver<Msg>,
) -> ZResult<WriteTask> {
    if o.schema_mode.is_some() {
        return Err(ZError::needs_full("schemaMode"));
    }
    if o.predicate.is_some() {
        return Err(ZError::needs_full("predicate (replaceWhere)"));
    }
    let append = append::Append::open(append::Target { table, exists, schema, mode, storage: storage.clone() }, o)?;
    let uri = uri.to_string();
    Ok(tokio::spawn(async move { append.write(Vec::new(), rx).await.map_err(|e| e.context(uri)) }))
}

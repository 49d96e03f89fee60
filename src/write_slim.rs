//! The slim build's table writer (no DataFusion): `append.rs`'s parallel writers (`data_files.rs`:
//! partitioning, stats, target file size) and one commit. replaceWhere (`predicate`) and
//! `schemaMode` need the full build.

use std::sync::Arc;

use tokio::sync::mpsc;

use crate::append;
use crate::cancel::Cancel;
use crate::error::{ZError, ZResult};
use crate::options::{Msg, WriteOptions, WriteTask};

/// Start the writers on the batches arriving through `rx`; they commit at the end.
pub fn spawn_writer(
    target: append::Target,
    o: &WriteOptions,
    uri: &str,
    rx: mpsc::Receiver<Msg>,
    cancel: Arc<Cancel>,
) -> ZResult<WriteTask> {
    if o.schema_mode.is_some() {
        return Err(ZError::needs_full("schemaMode"));
    }
    if o.predicate.is_some() {
        return Err(ZError::needs_full("predicate (replaceWhere)"));
    }
    let append = append::Append::open(target, o)?;
    let uri = uri.to_string();
    let budget = crate::log_store::budget(o.commit().commit_timeout_ms)?;
    Ok(tokio::spawn(crate::cancel::scope(
        cancel,
        crate::log_store::with_budget(budget, async move {
            append
                .write(Vec::new(), rx)
                .await
                .map_err(|e| e.context(uri))
        }),
    )))
}

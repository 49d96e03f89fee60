//! The slim build's table writer (no DataFusion): delta-rs's `RecordBatchWriter` encodes the
//! channel's batches into Parquet files (partitioning, stats, target file size), then one commit adds
//! them — removing the current files for `overwrite`, or creating the table with them as version 0.
//! replaceWhere (`predicate`) and `schemaMode` need the full build.

use std::collections::HashMap;

use deltalake::DeltaTable;
use deltalake::arrow::datatypes::SchemaRef;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::kernel::{Action, Add, StructType};
use deltalake::operations::create::CreateBuilder;
use deltalake::protocol::SaveMode;
use deltalake::writer::DeltaWriter as _;
use delta_kernel::engine::arrow_conversion::TryIntoKernel as _;
use tokio::sync::mpsc;

use crate::commit::commit_adds;
use crate::error::{Code, ZError, ZResult};
use crate::worker::open_writer;
use crate::write::{Msg, WriteOptions, WriteTask, commit_properties, target_file_size};

/// Start a `RecordBatchWriter` on the batches arriving through `rx`; it commits at the end.
#[allow(clippy::too_many_arguments)]
pub fn spawn_writer(
    table: DeltaTable,
    exists: bool,
    schema: SchemaRef,
    mode: SaveMode,
    o: &WriteOptions,
    uri: &str,
    storage: &HashMap<String, String>,
    mut rx: mpsc::Receiver<Msg>,
) -> ZResult<WriteTask> {
    if o.schema_mode.is_some() {
        return Err(ZError::needs_full("schemaMode"));
    }
    if o.predicate.is_some() {
        return Err(ZError::needs_full("predicate (replaceWhere)"));
    }
    let props = commit_properties(o.custom_metadata.as_ref(), o.app_id.as_deref(), o.app_version)?;
    let (mut writer, partition_by) = open_writer(&table, exists, schema, o.partition_by.as_ref(), storage, o.compression.as_deref())?;
    if let Some(size) = target_file_size(o.target_file_size)? {
        writer = writer.with_target_file_size(size.get());
    }
    let create = NewTable { name: o.name.clone(), description: o.description.clone(), configuration: o.configuration.clone(), partition_by };
    let uri = uri.to_string();
    Ok(tokio::spawn(async move {
        let run = async move {
            loop {
                match rx.recv().await {
                    Some(Some(batch)) => writer.write(batch).await?,
                    Some(None) => break,
                    None => return Err(ZError::new(Code::Aborted, "write input ended without close()")),
                }
            }
            let schema: StructType = writer.arrow_schema().as_ref().try_into_kernel().map_err(|e| ZError::new(Code::SchemaMismatch, e.to_string()))?;
            let adds = writer.flush().await?;
            if exists { commit(table, mode, adds, props).await } else { create.commit(table, schema, adds, props).await }
        };
        run.await.map_err(|e| e.context(uri))
    }))
}

/// Add `adds` to an existing table in one commit (replacing its files for `overwrite`).
async fn commit(mut table: DeltaTable, mode: SaveMode, adds: Vec<Add>, props: CommitProperties) -> ZResult<DeltaTable> {
    let partition_by = Some(table.snapshot()?.metadata().partition_columns().to_vec()).filter(|p| !p.is_empty());
    let version = commit_adds(&table, mode, adds, partition_by, props).await?;
    table.update_incremental(Some(version)).await?;
    Ok(table)
}

/// What a write that creates its table records in version 0.
struct NewTable {
    name: Option<String>,
    description: Option<String>,
    configuration: Option<HashMap<String, Option<String>>>,
    partition_by: Vec<String>,
}

impl NewTable {
    /// Create the table with `adds` as its first version.
    async fn commit(self, table: DeltaTable, schema: StructType, adds: Vec<Add>, props: CommitProperties) -> ZResult<DeltaTable> {
        let mut b = CreateBuilder::new()
            .with_log_store(table.log_store())
            .with_columns(schema.fields().cloned())
            .with_partition_columns(self.partition_by)
            .with_actions(adds.into_iter().map(Action::Add))
            .with_commit_properties(props)
            // Another writer created the table since this one started: fail rather than guess.
            .with_save_mode(SaveMode::ErrorIfExists);
        if let Some(name) = self.name {
            b = b.with_table_name(name);
        }
        if let Some(d) = self.description {
            b = b.with_comment(d);
        }
        if let Some(conf) = self.configuration {
            b = b.with_configuration(conf);
        }
        Ok(b.await?)
    }
}

//! The full build's table writer: delta-rs's own `WriteBuilder` (modes, partitioning, replaceWhere,
//! schema enforcement/evolution, stats, checkpoints) runs on a DataFusion `StreamingTable` that
//! reads the adapter's bounded channel.

use std::collections::HashMap;
use std::sync::{Arc, Mutex as StdMutex};

use deltalake::DeltaTable;
use deltalake::arrow::datatypes::SchemaRef;
use deltalake::datafusion::catalog::streaming::StreamingTable;
use deltalake::datafusion::datasource::provider_as_source;
use deltalake::datafusion::error::DataFusionError;
use deltalake::datafusion::execution::{SendableRecordBatchStream, TaskContext};
use deltalake::datafusion::logical_expr::LogicalPlanBuilder;
use deltalake::datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use deltalake::datafusion::physical_plan::streaming::PartitionStream;
use deltalake::operations::write::{SchemaMode, WriteBuilder};
use deltalake::protocol::SaveMode;
use futures::StreamExt;
use tokio::sync::mpsc;

use crate::error::{ZError, ZResult};
use crate::write::{Msg, WriteOptions, WriteTask, commit_properties, schema_mode, target_file_size, writer_properties};

/// One-shot source of the channel's batches for DataFusion.
#[derive(Debug)]
struct ChannelSource {
    schema: SchemaRef,
    rx: StdMutex<Option<mpsc::Receiver<Msg>>>,
}

impl PartitionStream for ChannelSource {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let rx = self.rx.lock().unwrap_or_else(|e| e.into_inner()).take();
        let stream = match rx {
            Some(rx) => futures::stream::unfold(Some(rx), |rx| async move {
                let mut rx = rx?;
                match rx.recv().await {
                    Some(Some(batch)) => Some((Ok(batch), Some(rx))),
                    Some(None) => None,
                    None => Some((Err(DataFusionError::Execution("write input ended without close()".into())), None)),
                }
            })
            .boxed(),
            None => futures::stream::once(async { Err(DataFusionError::Execution("write input consumed twice".into())) }).boxed(),
        };
        Box::pin(RecordBatchStreamAdapter::new(self.schema.clone(), stream))
    }
}

/// Start delta-rs's `WriteBuilder` on the batches arriving through `rx`.
#[allow(clippy::too_many_arguments)]
pub fn spawn_writer(
    table: DeltaTable,
    exists: bool,
    schema: SchemaRef,
    mode: SaveMode,
    o: &WriteOptions,
    uri: &str,
    _storage: &HashMap<String, String>,
    rx: mpsc::Receiver<Msg>,
) -> ZResult<WriteTask> {
    let source = ChannelSource { schema: schema.clone(), rx: StdMutex::new(Some(rx)) };
    let provider = StreamingTable::try_new(schema.clone(), vec![Arc::new(source)])?;
    let plan = LogicalPlanBuilder::scan("zoopipe_input", provider_as_source(Arc::new(provider)), None)?.build()?;

    let snapshot = if exists { Some(table.snapshot()?.snapshot().clone()) } else { None };
    let mut builder = WriteBuilder::new(table.log_store(), snapshot)
        .with_input_plan(plan)
        .with_save_mode(mode)
        .with_commit_properties(commit_properties(o.custom_metadata.as_ref(), o.app_id.as_deref(), o.app_version)?);
    if let Some(cols) = &o.partition_by {
        builder = builder.with_partition_columns(cols.clone());
    }
    if let Some(merge) = schema_mode(o.schema_mode.as_deref())? {
        builder = builder.with_schema_mode(if merge { SchemaMode::Merge } else { SchemaMode::Overwrite });
    }
    if let Some(p) = &o.predicate {
        builder = builder.with_replace_where(p.as_str());
    }
    if let Some(size) = target_file_size(o.target_file_size)? {
        builder = builder.with_target_file_size(Some(size));
    }
    if let Some(props) = writer_properties(o.compression.as_deref())? {
        builder = builder.with_writer_properties(props);
    }
    if let Some(name) = &o.name {
        builder = builder.with_table_name(name);
    }
    if let Some(d) = &o.description {
        builder = builder.with_description(d);
    }
    if let Some(conf) = &o.configuration {
        builder = builder.with_configuration(conf.clone());
    }
    let uri = uri.to_string();
    Ok(tokio::spawn(async move { builder.await.map_err(|e| ZError::from(e).context(uri)) }))
}

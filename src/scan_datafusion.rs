//! The full build's DataFusion scan, for reads whose filter only DataFusion evaluates (`read.rs`;
//! every other read goes through `scan_kernel.rs`): delta-rs's DataFusion provider with projection
//! pushdown, partition pruning and stats-based file skipping from the filter, exact row filtering,
//! and files read concurrently (one DataFusion partition per core). Also turns the other DataFusion
//! plans' streams (file sources, change data feed) into the batches JS reads.

use std::sync::Arc;

use deltalake::DeltaTable;
use deltalake::arrow::datatypes::SchemaRef;
use deltalake::datafusion::common::Column;
use deltalake::datafusion::common::tree_node::{Transformed, TreeNode};
use deltalake::datafusion::datasource::physical_plan::{FileGroup, FileScanConfig};
use deltalake::datafusion::datasource::source::DataSourceExec;
use deltalake::datafusion::execution::SendableRecordBatchStream;
use deltalake::datafusion::logical_expr::Expr;
use deltalake::datafusion::physical_plan::{ExecutionPlan, execute_stream};
use deltalake::delta_datafusion::{DeltaScanConfig, DeltaScanNext, FileSelection};
use futures::StreamExt;

use crate::error::{ZError, ZResult};
use crate::filter;
use crate::read::{Batches, ScanOptions, batch_size};

/// A DataFusion stream as the batches JS reads.
pub fn batches(stream: SendableRecordBatchStream, batch_size: usize) -> Batches {
    let schema = stream.schema();
    Batches::new(
        &schema,
        stream.map(|r| r.map_err(ZError::from)).boxed(),
        batch_size,
    )
}

fn projection(schema: &SchemaRef, columns: &[String]) -> ZResult<Vec<Expr>> {
    filter::check_columns(schema, columns)?;
    Ok(columns
        .iter()
        .map(|name| Expr::Column(Column::new_unqualified(name)))
        .collect())
}

/// Plan and start the scan of `table`'s loaded snapshot; with `files`, of only those data files
/// (paths as the log has them, each active in the snapshot: the files one commit added).
pub async fn scan(
    table: &DeltaTable,
    options: &ScanOptions,
    files: Option<&[String]>,
) -> ZResult<Batches> {
    let batch_size = batch_size(options)?;
    let snapshot = table.snapshot()?;
    let schema = snapshot.snapshot().arrow_schema();
    let predicate = match &options.filter {
        Some(f) => filter::to_expr(&schema, f)?,
        None => None,
    };
    let select = options
        .columns
        .as_deref()
        .map(|c| projection(&schema, c))
        .transpose()?;

    let ctx = crate::session::context(Some(batch_size))?;
    table.update_datafusion_session(&ctx.state())?;
    // Plain Utf8/Binary (unless asked for views) and un-wrapped partition values: the types JS
    // reads, so batches cross without a cast (dictionary-wrapped partition columns cost a copy).
    let views = options.string_views.unwrap_or(false);
    let config = DeltaScanConfig {
        wrap_partition_values: false,
        schema_force_view_types: views,
        ..DeltaScanConfig::new()
    };
    let mut provider = DeltaScanNext::new(snapshot.snapshot().clone(), config)?;
    if let Some(files) = files {
        provider = provider.with_file_selection(FileSelection::from_file_paths(files.to_vec()));
    }
    let mut df = ctx.read_table(Arc::new(provider))?;
    if let Some(predicate) = predicate {
        df = df.filter(predicate)?;
    }
    if let Some(select) = select {
        df = df.select(select)?;
    }
    let task = Arc::new(df.task_ctx());
    let plan = inexact_file_stats(df.create_physical_plan().await?)?;
    let stream = execute_stream(plan, task)?;
    let schema = stream.schema();
    let batches = batches(stream, batch_size);
    Ok(if views {
        batches.with_views(&crate::ipc::with_views(
            &schema,
            snapshot.metadata().partition_columns(),
        ))
    } else {
        batches
    })
}

/// DataFusion 55's Parquet opener takes a column whose file statistics say min == max, exactly, for
/// that constant, in the filter and in the rows it returns. delta-rs hands Delta's statistics over
/// as exact, and they are not: they leave NaN out (a file of 1 and NaN has min = max = 1, and under
/// a filter on that column its NaN was read as 1), and Spark writes timestamps truncated to the
/// millisecond (a filtered read of a one-row Spark file returned the truncated time). The files'
/// statistics reach the scan as inexact: still used to skip files and row groups, never taken for
/// the values.
fn inexact_file_stats(plan: Arc<dyn ExecutionPlan>) -> ZResult<Arc<dyn ExecutionPlan>> {
    let plan = plan.transform_up(|node| {
        let Some(config) = node
            .downcast_ref::<DataSourceExec>()
            .and_then(|e| e.data_source().downcast_ref::<FileScanConfig>())
        else {
            return Ok(Transformed::no(node));
        };
        let mut config = config.clone();
        config.file_groups = std::mem::take(&mut config.file_groups)
            .into_iter()
            .map(|group| {
                let files = group.into_inner().into_iter().map(|mut f| {
                    f.statistics = f
                        .statistics
                        .map(|s| Arc::new(s.as_ref().clone().to_inexact()));
                    f
                });
                FileGroup::new(files.collect())
            })
            .collect();
        Ok(Transformed::yes(
            DataSourceExec::from_data_source(config) as Arc<dyn ExecutionPlan>
        ))
    })?;
    Ok(plan.data)
}

//! The slim build's scan (no DataFusion): delta-kernel plans it — partition pruning and stats-based
//! file skipping from the filter's predicate, deletion vectors, column mapping — and reads the files
//! with its default Parquet engine on a blocking thread, one file after another; rows are then
//! filtered exactly with the kernel's own Arrow predicate evaluator.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use deltalake::DeltaTable;
use deltalake::arrow::array::{AsArray, RecordBatch};
use deltalake::arrow::compute::filter_record_batch;
use deltalake::arrow::datatypes::Schema as ArrowSchema;
use delta_kernel::engine::arrow_conversion::TryFromKernel as _;
use delta_kernel::engine::arrow_data::ArrowEngineData;
use futures::StreamExt;
use tokio::sync::mpsc;

use crate::error::{Code, ZError, ZResult};
use crate::filter;
use crate::read::{Batches, ScanOptions, batch_size};

/// Batches read ahead of the JS consumer.
const READ_AHEAD: usize = 2;

/// Plan and start the scan of `table`'s loaded snapshot.
pub async fn scan(table: &DeltaTable, options: &ScanOptions) -> ZResult<Batches> {
    let batch_size = batch_size(options)?;
    let state = table.snapshot()?;
    let arrow_schema = state.snapshot().arrow_schema();
    let kernel_schema = state.snapshot().schema();
    let filter = match &options.filter {
        Some(f) => filter::to_predicate(&arrow_schema, f)?,
        None => None,
    };
    let wanted: Vec<String> = match &options.columns {
        Some(columns) => {
            filter::check_columns(&arrow_schema, columns)?;
            columns.clone()
        }
        None => arrow_schema.fields().iter().map(|f| f.name().clone()).collect(),
    };
    // Read the wanted columns first, then the ones only the filter needs (dropped after filtering).
    let mut read = wanted.clone();
    for column in filter.iter().flat_map(|(_, columns)| columns) {
        if !read.contains(column) {
            read.push(column.clone());
        }
    }
    let keep: Vec<usize> = (0..wanted.len()).collect();
    let read_schema = kernel_schema.project(&read)?;
    let out_schema = Arc::new(ArrowSchema::try_from_kernel(kernel_schema.project(&wanted)?.as_ref())?);
    let version = table.version().ok_or_else(|| ZError::new(Code::TableNotFound, "no table loaded"))?;
    let snapshot = deltalake::kernel::Snapshot::try_new(table.log_store().as_ref(), Some(version)).await?;
    let kernel_snapshot = snapshot.scan_builder().build()?.snapshot().clone();
    let engine = table.log_store().engine(None);
    let predicate = filter.map(|(p, _)| Arc::new(p));

    let (tx, rx) = mpsc::channel::<ZResult<RecordBatch>>(READ_AHEAD);
    let tx_failed = tx.clone();
    let reader = move || -> ZResult<()> {
        let scan = delta_kernel::scan::ScanBuilder::new(kernel_snapshot)
            .with_schema(read_schema.clone())
            .with_predicate(predicate.clone())
            .build()?;
        let evaluator = predicate.map(|p| engine.evaluation_handler().new_predicate_evaluator(read_schema, p)).transpose()?;
        for data in scan.execute(engine.clone())? {
            let data = data?;
            let mask = evaluator.as_ref().map(|e| e.evaluate(data.as_ref())).transpose()?;
            let mut batch: RecordBatch = (*ArrowEngineData::try_from_engine_data(data)?).into();
            if let Some(mask) = mask {
                let mask = ArrowEngineData::try_from_engine_data(mask)?;
                batch = filter_record_batch(&batch, mask.record_batch().column(0).as_boolean())?;
            }
            let batch = batch.project(&keep)?;
            // A send fails once the stream is closed or dropped: stop reading.
            if batch.num_rows() > 0 && tx.blocking_send(Ok(batch)).is_err() {
                return Ok(());
            }
        }
        Ok(())
    };
    let failed = move |e: ZError| {
        let _ = tx_failed.blocking_send(Err(e));
    };
    tokio::task::spawn_blocking(move || match std::panic::catch_unwind(AssertUnwindSafe(reader)) {
        Ok(Ok(())) => {}
        Ok(Err(e)) => failed(e),
        // Never a silently short result: a panic in the reader fails the stream.
        Err(_) => failed(ZError::new(Code::Internal, "native panic while reading")),
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) }).boxed();
    Ok(Batches::new(&out_schema, stream, batch_size))
}

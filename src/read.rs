//! A running scan as JS sees it: batches re-sliced to the batch size, handed over buffer by buffer
//! (or as IPC), memory bounded by a few batches in flight. The scan itself is planned by
//! `scan_datafusion.rs` (full build) or `scan_slim.rs` (kernel only).

use std::collections::VecDeque;
use std::sync::Arc;

use deltalake::arrow::array::RecordBatch;
use deltalake::arrow::datatypes::SchemaRef;
use futures::StreamExt;
use futures::stream::BoxStream;
use napi::bindgen_prelude::Buffer;
use tokio::sync::Mutex;

use crate::error::{ZError, ZResult, guard};
use crate::handover::{self, JsBatch};
use crate::ipc;

#[cfg(target_os = "linux")]
use crate::alloc::BoundMemory;
#[cfg(feature = "datafusion")]
pub use crate::scan_datafusion::scan;
#[cfg(not(feature = "datafusion"))]
pub use crate::scan_slim::scan;

/// The batches of a scan, whoever produces them.
pub type BatchStream = BoxStream<'static, ZResult<RecordBatch>>;

pub const DEFAULT_BATCH_SIZE: u32 = 65_536;

/// `batchSize`, checked.
pub fn batch_size(options: &ScanOptions) -> ZResult<usize> {
    match options.batch_size.unwrap_or(DEFAULT_BATCH_SIZE) {
        0 => Err(ZError::invalid("batchSize must be at least 1")),
        n => Ok(n as usize),
    }
}

#[napi(object)]
#[derive(Default)]
pub struct ScanOptions {
    /// Projection: only these columns are read.
    pub columns: Option<Vec<String>>,
    /// `[column, op, value]` triples joined with AND.
    pub filter: Option<serde_json::Value>,
    /// Max rows per batch.
    pub batch_size: Option<u32>,
}

/// Turns one batch of the stream into the batches handed to JS (e.g. typed rows plus rejected rows).
pub type Rework = Box<dyn FnMut(RecordBatch) -> ZResult<Vec<RecordBatch>> + Send>;

/// Batches of a running scan, re-sliced so that none exceeds the batch size.
pub struct Batches {
    /// Reading plain files: what the reader rejects is bad input data, never a Delta log problem.
    pub files: bool,
    stream: BatchStream,
    /// The stream's batches as JS sees them.
    stream_schema: SchemaRef,
    /// The schema of the result (differs from the stream's when `rework` changes it).
    schema: SchemaRef,
    rework: Option<Rework>,
    batch_size: usize,
    pending: VecDeque<RecordBatch>,
    /// Held while JS streams the batches: large buffers go back to the OS when freed (`alloc.rs`).
    #[cfg(target_os = "linux")]
    bound: Option<BoundMemory>,
}

impl Batches {
    pub fn new(schema: &SchemaRef, stream: BatchStream, batch_size: usize) -> Self {
        let schema = ipc::js_schema(schema);
        Self {
            files: false,
            stream,
            stream_schema: schema.clone(),
            schema,
            rework: None,
            batch_size,
            pending: VecDeque::new(),
            #[cfg(target_os = "linux")]
            bound: None,
        }
    }

    /// Pass every batch through `rework`, whose main output has `schema`.
    pub fn with_rework(mut self, schema: SchemaRef, rework: Rework) -> Self {
        self.schema = ipc::js_schema(&schema);
        self.rework = Some(rework);
        self
    }

    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    pub async fn next_batch(&mut self) -> ZResult<Option<RecordBatch>> {
        loop {
            if let Some(batch) = self.pending.pop_front() {
                return Ok(Some(batch));
            }
            let next = self.stream.next().await.transpose();
            let next = if self.files {
                next.map_err(crate::error::as_data_error)
            } else {
                next
            };
            let Some(batch) = next? else { return Ok(None) };
            let batch = ipc::to_js_batch(batch, &self.stream_schema)?;
            let batches = match &mut self.rework {
                Some(rework) => rework(batch)?,
                None => vec![batch],
            };
            for batch in batches {
                let rows = batch.num_rows();
                let mut offset = 0;
                while offset < rows {
                    let len = self.batch_size.min(rows - offset);
                    self.pending.push_back(batch.slice(offset, len));
                    offset += len;
                }
            }
        }
    }
}

/// The next batch of the scan in `slot`; the end or an error also releases the scan.
async fn pull(slot: &Mutex<Option<Batches>>) -> ZResult<Option<RecordBatch>> {
    let mut slot = slot.lock().await;
    let Some(batches) = slot.as_mut() else {
        return Ok(None);
    };
    let next = batches.next_batch().await;
    if !matches!(next, Ok(Some(_))) {
        *slot = None;
    }
    next
}

/// A running scan as JS sees it: `next()` resolves one Arrow IPC stream per batch, or null at the
/// end. Dropping it (or `close()`) stops the native work.
#[napi]
pub struct NativeBatchStream {
    inner: Arc<Mutex<Option<Batches>>>,
    schema: SchemaRef,
    schema_ipc: Vec<u8>,
}

impl NativeBatchStream {
    pub fn new(batches: Batches) -> ZResult<Self> {
        let schema = batches.schema().clone();
        let schema_ipc = ipc::encode(&schema, &[])?;
        Ok(Self {
            inner: Arc::new(Mutex::new(Some(batches))),
            schema,
            schema_ipc,
        })
    }
}

#[napi]
impl NativeBatchStream {
    /// The schema of the batches, as an IPC stream with no batches.
    #[napi]
    pub fn schema(&self) -> Buffer {
        self.schema_ipc.clone().into()
    }

    /// The next batch as one Arrow IPC stream, or null at the end.
    #[napi]
    pub async fn next(&self) -> napi::Result<Option<Buffer>> {
        let inner = self.inner.clone();
        guard(async move {
            let Some(batch) = pull(&inner).await? else {
                return Ok(None);
            };
            Ok(Some(ipc::encode(&batch.schema(), &[batch])?.into()))
        })
        .await
    }

    /// The next batch handed over buffer by buffer without copying (see `handover.rs`), or null.
    #[napi]
    pub async fn next_batch(&self) -> napi::Result<Option<JsBatch>> {
        let (inner, schema) = (self.inner.clone(), self.schema.clone());
        guard(async move {
            let Some(batch) = pull(&inner).await? else {
                return Ok(None);
            };
            Ok(Some(handover::to_js(batch, &schema)?))
        })
        .await
    }

    /// Called by streaming readers (not by `readAll`) before the first batch: until the scan ends,
    /// its large buffers are returned to the OS when freed instead of kept by malloc for reuse, so
    /// memory stays bounded (`alloc.rs`; Linux, unless `ZOOPIPE_LOW_MEMORY=0`).
    #[napi]
    pub fn bound_memory(&self) {
        #[cfg(target_os = "linux")]
        if let Ok(mut slot) = self.inner.try_lock()
            && let Some(batches) = slot.as_mut()
        {
            batches.bound.get_or_insert_with(BoundMemory::start);
        }
    }

    /// Stop the scan and free its resources; later `next()` calls resolve null.
    #[napi]
    pub fn close(&self) {
        match self.inner.try_lock() {
            Ok(mut slot) => *slot = None,
            Err(_) => {
                // A next() is in flight: drop the scan as soon as it finishes.
                let inner = self.inner.clone();
                napi::bindgen_prelude::spawn(async move {
                    inner.lock().await.take();
                });
            }
        }
    }
}

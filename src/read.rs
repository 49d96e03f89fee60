//! A running scan: batches re-sliced to the batch size, memory bounded by a few batches in flight
//! (JS pulls them through `api/record_batch_stream.rs`). Which scan produces them is `scan.rs`'s
//! choice.

use std::collections::VecDeque;

use deltalake::arrow::array::RecordBatch;
use deltalake::arrow::datatypes::SchemaRef;
use futures::StreamExt;
use futures::stream::BoxStream;
use tokio::sync::Mutex;

use crate::error::{ZError, ZResult};
use crate::ipc;

#[cfg(target_os = "linux")]
use crate::alloc::{BoundMemory, ReuseMemory};

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
    /// Strings and binaries read from the data files as `Utf8View` / `BinaryView`: views into the
    /// decoded pages instead of copies (partition values stay `Utf8`).
    pub string_views: Option<bool>,
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
    /// Held otherwise (JS collects the batches into a table), from the first batch asked for (a
    /// stream bounds its memory before that): freed large buffers are kept for the next reads
    /// (`alloc.rs`).
    #[cfg(target_os = "linux")]
    reuse: Option<ReuseMemory>,
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
            #[cfg(target_os = "linux")]
            reuse: None,
        }
    }

    /// Pass every batch through `rework`, whose main output has `schema`.
    pub fn with_rework(mut self, schema: SchemaRef, rework: Rework) -> Self {
        self.schema = ipc::js_schema(&schema);
        self.rework = Some(rework);
        self
    }

    /// Batches of `schema` (from [`ipc::with_views`]) whose view types go to JS as they are (a read
    /// with `stringViews`: JS asked for them).
    pub fn with_views(mut self, schema: &SchemaRef) -> Self {
        self.stream_schema = ipc::js_schema_keeping_views(schema);
        self.schema = self.stream_schema.clone();
        self
    }

    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    pub async fn next_batch(&mut self) -> ZResult<Option<RecordBatch>> {
        #[cfg(target_os = "linux")]
        if self.bound.is_none() {
            self.reuse.get_or_insert_with(ReuseMemory::start);
        }
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
pub async fn pull(slot: &Mutex<Option<Batches>>) -> ZResult<Option<RecordBatch>> {
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

impl Batches {
    /// Until the scan ends, its large buffers go back to the OS when freed (but for a small cache)
    /// instead of being kept for later reads, so memory stays bounded (`alloc.rs`; Linux, unless
    /// `ZOOPIPE_LOW_MEMORY=0`).
    pub fn bound_memory(&mut self) {
        #[cfg(target_os = "linux")]
        {
            self.bound.get_or_insert_with(BoundMemory::start);
            self.reuse = None;
        }
    }
}

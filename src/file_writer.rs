//! The engine of `DeltaWriter` (`api/delta_writer.rs`), the worker side of a distributed write:
//! workers write Parquet files into the table location with the parallel writers of a table write
//! (`append::write_files`: one per core, streamed to storage as they are encoded) and return the add
//! actions (with stats) as plain JSON; they commit nothing. The coordinator (`coordinator.rs`)
//! commits them. Measured (release, 5 M rows in 100,000-row batches, alternating): a worker that
//! encoded inside `write()` on one core took 4.5-4.9 s unpartitioned and 5.2-5.3 s into 8
//! partitions; with these writers 2.9-3.0 s and 3.3-3.7 s, at 278-285 MB (was 251-264) and 314-317
//! MB (was 328-330) peak RSS: the second writer's open file costs memory when there is one file.

use std::collections::HashMap;
use std::sync::Arc;

use delta_kernel::engine::arrow_conversion::TryIntoKernel as _;
use deltalake::arrow::array::RecordBatch;
use deltalake::kernel::{Add, StructType};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::{Mutex, mpsc};

use crate::append::{RUN_ROWS, Sizing, write_files};
use crate::conform::{stored_schema, to_stored, typed_nulls};
use crate::convert;
use crate::data_files::{FileSpec, conform};
use crate::error::{Code, ZError, ZResult};
use crate::handover::{self, JsBatch};
use crate::options::{
    InputBudget, Msg, ParquetProperties, Queued, row_group_bytes, writer_properties,
};
use crate::rows;
use crate::storage::trailing_slash;
use crate::storage::{self, table_or_new};

/// Batches in flight between `write()` and the writers (their bytes bounded by the `InputBudget`).
const CHANNEL_BATCHES: usize = 4;

/// A worker's files roll over at this size unless `targetFileSize` says otherwise.
const DEFAULT_FILE_BYTES: u64 = 128 * 1024 * 1024;

/// One data file as it crosses from a worker to the coordinator: the Delta add action plus what
/// the coordinator needs to check it (and to create the table from it).
#[derive(Serialize, Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct FileAction {
    #[serde(flatten)]
    pub add: Add,
    /// The table root URL the worker wrote into.
    pub table_uri: String,
    /// The Delta schema (JSON) of the data in the file.
    pub schema: Value,
    pub partition_columns: Vec<String>,
}

#[napi(object)]
#[derive(Default)]
pub struct FileWriterOptions {
    pub storage_options: Option<HashMap<String, String>>,
    pub partition_by: Option<Vec<String>>,
    pub target_file_size: Option<i64>,
    pub compression: Option<String>,
    /// Encoded bytes held per open file before they are flushed as a row group (default 8 MiB).
    pub max_row_group_bytes: Option<i64>,
    /// As `WriteOptions.max_buffered_bytes`.
    pub max_buffered_bytes: Option<i64>,
    pub writer_properties: Option<ParquetProperties>,
}

/// A writer that has rows: its batches go through `tx` to `append::write_files` (one Parquet
/// writer per core, files streamed to storage), which `task` runs.
struct Open {
    tx: mpsc::Sender<Msg>,
    task: tokio::task::JoinHandle<ZResult<Vec<Add>>>,
    /// Bounds the batches queued for the writers, as a streamed table write's (`write.rs`).
    input: InputBudget,
    /// As a streamed write's (`write.rs`): from the second `write()` on, the writer's freed
    /// buffers leave the process.
    bound: Option<crate::alloc::BoundMemory>,
    arrow_schema: deltalake::arrow::datatypes::SchemaRef,
    table_uri: String,
    schema: Value,
    partition_columns: Vec<String>,
}

impl Drop for Open {
    // Dropped without finish() (the JS object collected): the writers stop.
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Open {
    /// How the writers' task ended: their add actions, or what stopped them.
    async fn join(&mut self) -> ZResult<Vec<Add>> {
        match (&mut self.task).await {
            Ok(r) => r,
            Err(e) if e.is_panic() => {
                Err(ZError::new(Code::Internal, "native panic while writing"))
            }
            Err(_) => Err(ZError::new(Code::Aborted, "write aborted")),
        }
    }

    /// What stopped the writers (they end only on an error before the end mark).
    async fn error(&mut self) -> ZError {
        match self.join().await {
            Err(e) => e,
            Ok(_) => ZError::new(
                Code::Internal,
                "writers stopped before the end of the input",
            ),
        }
    }
}

/// The engine behind a JS `DeltaWriter` (`api/delta_writer.rs`).
pub struct FileWriter {
    uri: String,
    options: FileWriterOptions,
    storage: HashMap<String, String>,
    state: Arc<Mutex<Option<Open>>>,
    finished: std::sync::atomic::AtomicBool,
    /// Why the writers stopped, once they did: every later `write()` and `finish()` fails with it
    /// (their files are gone, so a writer that went on would hand over part of the rows).
    failed: std::sync::Mutex<Option<(Code, String)>>,
}

impl FileWriter {
    async fn open(&self, first: &RecordBatch) -> ZResult<Open> {
        let (table, exists) = table_or_new(&self.uri, &self.storage).await?;
        let table_uri = trailing_slash(table.table_url().as_str());
        let o = &self.options;
        let target = match o.target_file_size {
            Some(n) if n > 0 => n as u64,
            Some(_) => return Err(ZError::invalid("targetFileSize must be positive")),
            None => DEFAULT_FILE_BYTES,
        };
        let spec = FileSpec::for_table(
            &table,
            exists,
            typed_nulls(stored_schema(&first.schema())),
            o.partition_by.as_ref(),
            HashMap::new(),
            // Row groups are sized by `write_files` from the files its first batch opens.
            writer_properties(
                o.compression.as_deref(),
                o.max_row_group_bytes,
                o.writer_properties.as_ref(),
            )?,
            Some(target),
        )?;
        let arrow_schema = spec.schema.clone();
        let kernel: StructType = arrow_schema
            .as_ref()
            .try_into_kernel()
            .map_err(|e| ZError::new(Code::SchemaMismatch, e.to_string()))?;
        let partition_columns = spec.partition_columns.clone();
        let sizing = Sizing {
            compression: o.compression.clone(),
            max_row_group_bytes: o.max_row_group_bytes,
            max_buffered_bytes: o.max_buffered_bytes,
            writer_properties: o.writer_properties.clone(),
        };
        let (tx, rx) = mpsc::channel(CHANNEL_BATCHES);
        let task = tokio::spawn(async move { write_files(spec, &sizing, Vec::new(), rx).await });
        Ok(Open {
            tx,
            task,
            input: InputBudget::new(o.max_buffered_bytes),
            bound: None,
            arrow_schema,
            table_uri,
            schema: serde_json::to_value(&kernel)?,
            partition_columns,
        })
    }

    async fn push(&self, batches: Vec<RecordBatch>) -> ZResult<()> {
        if self.finished.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(ZError::invalid("the writer is finished"));
        }
        self.check_failed()?;
        let mut state = self.state.lock().await;
        if let Some(open) = state.as_mut() {
            open.bound
                .get_or_insert_with(crate::alloc::BoundMemory::writing);
        }
        for batch in batches.into_iter().filter(|b| b.num_rows() > 0) {
            let batch = to_stored(batch, true)?;
            if state.is_none() {
                *state = Some(self.open(&batch).await?);
            }
            let open = state.as_mut().expect("opened above");
            // In the writer's columns and types here, so write() reports a batch it cannot take.
            let batch = conform(&open.arrow_schema, batch, &[])?;
            let claim = match open.bound {
                Some(_) => open.input.claim(&batch).await,
                None => None,
            };
            // Runs, as a table write sends them (`write.rs`), so both writers share a large batch.
            let rows = batch.num_rows();
            for at in (0..rows).step_by(RUN_ROWS) {
                let run = batch.slice(at, RUN_ROWS.min(rows - at));
                let queued = Queued {
                    batch: run,
                    claim: claim.clone(),
                };
                if open.tx.send(Some(queued)).await.is_err() {
                    let mut open = state.take().expect("open");
                    let e = open.error().await;
                    *self.failed.lock().unwrap_or_else(|p| p.into_inner()) =
                        Some((e.code, e.message.clone()));
                    return Err(e);
                }
            }
        }
        Ok(())
    }
}

impl FileWriter {
    pub fn new(uri: String, options: Option<FileWriterOptions>) -> ZResult<Self> {
        let options = options.unwrap_or_default();
        writer_properties(
            options.compression.as_deref(),
            options.max_row_group_bytes,
            options.writer_properties.as_ref(),
        )?;
        row_group_bytes(options.max_row_group_bytes, options.max_buffered_bytes, 1)?;
        let storage = storage::storage_options(&uri, options.storage_options.clone());
        Ok(Self {
            uri,
            options,
            storage,
            state: Arc::new(Mutex::new(None)),
            finished: false.into(),
            failed: std::sync::Mutex::new(None),
        })
    }

    /// The error that stopped the writers, if they stopped.
    fn check_failed(&self) -> ZResult<()> {
        match &*self.failed.lock().unwrap_or_else(|p| p.into_inner()) {
            Some((code, message)) => Err(ZError::new(
                *code,
                format!("an earlier write of this DeltaWriter failed: {message}"),
            )),
            None => Ok(()),
        }
    }

    pub async fn write_ipc(&self, data: &[u8]) -> ZResult<()> {
        self.push(convert::decode_ipc(data)?.1).await
    }

    pub async fn write_batches(&self, schema: &[u8], batches: Vec<JsBatch>) -> ZResult<()> {
        let (schema, _) = convert::decode_ipc(schema)?;
        self.push(handover::from_js(&schema, batches, false)?).await
    }

    /// Plain row objects sent as Arrow columns (`lib/row-columns.js`): written only where that is
    /// what the JSON path would write (`rows::columns_fit`); `false`: not written, send them as JSON.
    pub async fn write_row_batches(&self, schema: &[u8], batches: Vec<JsBatch>) -> ZResult<bool> {
        let (schema, _) = convert::decode_ipc(schema)?;
        if !rows::columns_fit(self.existing_schema().await?.as_deref(), &schema) {
            return Ok(false);
        }
        self.push(handover::from_js(&schema, batches, true)?)
            .await?;
        Ok(true)
    }

    /// The schema written so far, or the table's; `None` for a new table.
    async fn existing_schema(&self) -> ZResult<Option<deltalake::arrow::datatypes::SchemaRef>> {
        if let Some(open) = &*self.state.lock().await {
            return Ok(Some(open.arrow_schema.clone()));
        }
        let (table, exists) = table_or_new(&self.uri, &self.storage).await?;
        Ok(if exists {
            Some(table.snapshot()?.snapshot().arrow_schema())
        } else {
            None
        })
    }

    /// Row objects as newline-delimited JSON (arguments: `api/delta_writer.rs`).
    pub async fn write_rows(
        &self,
        rows: String,
        first_row: u32,
        hints: rows::RowHints,
    ) -> ZResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let existing = self.existing_schema().await?;
        self.push(rows::rows_to_batches(
            &rows,
            first_row as usize,
            existing.as_ref(),
            false,
            &hints,
        )?)
        .await
    }

    /// Flush the remaining data and return every file written, as JSON add actions.
    pub async fn finish(&self) -> ZResult<Vec<Value>> {
        if self
            .finished
            .swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            return Err(ZError::invalid("finish() was already called"));
        }
        self.check_failed()?;
        let Some(mut open) = self.state.lock().await.take() else {
            return Ok(Vec::new());
        };
        if open.tx.send(None).await.is_err() {
            return Err(open.error().await);
        }
        let adds = open.join().await?;
        adds.into_iter()
            .map(|add| {
                let action = FileAction {
                    add,
                    table_uri: open.table_uri.clone(),
                    schema: open.schema.clone(),
                    partition_columns: open.partition_columns.clone(),
                };
                Ok(serde_json::to_value(action)?)
            })
            .collect()
    }
}

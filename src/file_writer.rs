//! The engine of `DeltaWriter` (`api/delta_writer.rs`), the worker side of a distributed write:
//! workers write Parquet files into the table location with delta-rs's `RecordBatchWriter` and
//! return the add actions (with stats) as plain JSON; they commit nothing. The coordinator
//! (`coordinator.rs`) commits them.

use std::collections::HashMap;
use std::sync::Arc;

use delta_kernel::engine::arrow_conversion::TryIntoKernel as _;
use deltalake::DeltaTable;
use deltalake::arrow::array::RecordBatch;
use deltalake::arrow::datatypes::SchemaRef;
use deltalake::kernel::{Add, StructType};
use deltalake::parquet::file::properties::WriterProperties;
use deltalake::writer::{DeltaWriter as _, RecordBatchWriter};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::Mutex;

use crate::conform::{by_name, partition_count, to_stored, typed_nulls};
use crate::convert;
use crate::error::{Code, ZError, ZResult};
use crate::handover::{self, JsBatch};
use crate::options::{ParquetProperties, row_group_bytes, writer_properties};
use crate::rows;
use crate::storage::trailing_slash;
use crate::storage::{self, table_or_new};

/// Flush a worker's buffered Parquet file once it holds this many bytes.
const DEFAULT_FLUSH_BYTES: usize = 128 * 1024 * 1024;

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

struct Open {
    writer: RecordBatchWriter,
    table_uri: String,
    schema: Value,
    partition_columns: Vec<String>,
    flushed: Vec<Add>,
}

/// The engine behind a JS `DeltaWriter` (`api/delta_writer.rs`).
pub struct FileWriter {
    uri: String,
    options: FileWriterOptions,
    storage: HashMap<String, String>,
    state: Arc<Mutex<Option<Open>>>,
    finished: std::sync::atomic::AtomicBool,
}

/// A `RecordBatchWriter` for `table` and its partition columns: the table's schema and partitioning
/// when it exists (batches that do not fit are a SCHEMA_MISMATCH), else `schema` and `partition_by`.
pub(crate) fn open_writer(
    table: &DeltaTable,
    exists: bool,
    schema: SchemaRef,
    partition_by: Option<&Vec<String>>,
    storage: &HashMap<String, String>,
    props: WriterProperties,
) -> ZResult<(RecordBatchWriter, Vec<String>)> {
    let (writer, partition_columns) = if exists {
        // It would write values the table forbids, unchecked (and nulls where it computes values).
        if let Some(rules) = crate::conform::unchecked_rules(table)? {
            return Err(ZError::new(
                Code::UnsupportedFeature,
                format!(
                    "the table has {rules}, which this writer (delta-rs's RecordBatchWriter: DeltaWriter, and every write of the slim build) does not evaluate; DeltaOutputAdapter / writeDelta of the full build does"
                ),
            ));
        }
        let actual: Vec<String> = table.snapshot()?.metadata().partition_columns().to_vec();
        crate::conform::check_same_partitioning(&actual, partition_by)?;
        (RecordBatchWriter::for_table(table)?, actual)
    } else {
        let partition_by = partition_by.cloned().unwrap_or_default();
        crate::conform::check_new_partitioning(&schema, &partition_by)?;
        (
            RecordBatchWriter::try_new(
                table.table_url().as_str(),
                schema,
                Some(partition_by.clone()),
                Some(storage.clone()),
            )?,
            partition_by,
        )
    };
    Ok((writer.with_writer_properties(props), partition_columns))
}

impl FileWriter {
    async fn open(&self, first: &RecordBatch) -> ZResult<Open> {
        let (table, exists) = table_or_new(&self.uri, &self.storage).await?;
        let table_uri = trailing_slash(table.table_url().as_str());
        let o = &self.options;
        let partition_by = match (&o.partition_by, exists) {
            (_, true) => table.snapshot()?.metadata().partition_columns().to_vec(),
            (Some(p), false) => p.clone(),
            (None, false) => Vec::new(),
        };
        // An unknown partition column is open_writer's to report.
        let files = partition_count(first, &partition_by).unwrap_or(1);
        let row_group = row_group_bytes(o.max_row_group_bytes, o.max_buffered_bytes, files)?;
        let (writer, partition_columns) = open_writer(
            &table,
            exists,
            typed_nulls(first.schema()),
            o.partition_by.as_ref(),
            &self.storage,
            writer_properties(
                o.compression.as_deref(),
                row_group,
                o.writer_properties.as_ref(),
            )?,
        )?;
        let arrow_schema = writer.arrow_schema();
        let kernel: StructType = arrow_schema
            .as_ref()
            .try_into_kernel()
            .map_err(|e| ZError::new(Code::SchemaMismatch, e.to_string()))?;
        Ok(Open {
            writer,
            table_uri,
            schema: serde_json::to_value(&kernel)?,
            partition_columns,
            flushed: Vec::new(),
        })
    }

    async fn push(&self, batches: Vec<RecordBatch>) -> ZResult<()> {
        if self.finished.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(ZError::invalid("the writer is finished"));
        }
        let flush_at = match self.options.target_file_size {
            Some(n) if n > 0 => n as usize,
            Some(_) => return Err(ZError::invalid("targetFileSize must be positive")),
            None => DEFAULT_FLUSH_BYTES,
        };
        let mut state = self.state.lock().await;
        for batch in batches.into_iter().filter(|b| b.num_rows() > 0) {
            let batch = to_stored(batch)?;
            if state.is_none() {
                *state = Some(self.open(&batch).await?);
            }
            let open = state.as_mut().expect("opened above");
            // The table's columns by name, its missing nullable ones as nulls; types are the writer's to check.
            let batch = by_name(batch, &open.writer.arrow_schema(), false)?;
            open.writer.write(batch).await?;
            if open.writer.buffer_len() >= flush_at {
                let adds = open.writer.flush().await?;
                open.flushed.extend(adds);
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
        })
    }

    pub async fn write_ipc(&self, data: &[u8]) -> ZResult<()> {
        self.push(convert::decode_ipc(data)?.1).await
    }

    pub async fn write_batches(&self, schema: &[u8], batches: Vec<JsBatch>) -> ZResult<()> {
        let (schema, _) = convert::decode_ipc(schema)?;
        self.push(handover::from_js(&schema, &batches)?).await
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
        let existing = match &*self.state.lock().await {
            Some(open) => Some(open.writer.arrow_schema()),
            None => {
                let (table, exists) = table_or_new(&self.uri, &self.storage).await?;
                if exists {
                    Some(table.snapshot()?.snapshot().arrow_schema())
                } else {
                    None
                }
            }
        };
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
        let Some(mut open) = self.state.lock().await.take() else {
            return Ok(Vec::new());
        };
        let mut adds = std::mem::take(&mut open.flushed);
        adds.extend(open.writer.flush().await?);
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

//! `DeltaOutputAdapter`: any number of `write()`s, then one atomic commit at `close()`.
//!
//! The first write starts a writer task fed by a bounded channel, so memory stays bounded by a few
//! batches plus the Parquet writers' buffers, and nothing reaches the log before `close()`: delta-rs's
//! `WriteBuilder` in the full build (`write_datafusion.rs`), `RecordBatchWriter` plus one commit in
//! the slim build (`write_slim.rs`).

use std::collections::HashMap;
use std::num::NonZeroU64;
use std::sync::Arc;

use deltalake::arrow::array::{ArrayRef, AsArray as _, RecordBatch, new_null_array};
use deltalake::arrow::datatypes::Float64Type;
use deltalake::arrow::compute::{CastOptions, cast_with_options};
use deltalake::arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef, TimeUnit};
use deltalake::kernel::transaction::CommitProperties;
use deltalake::kernel::Transaction;
use deltalake::parquet::basic::{Compression, GzipLevel, ZstdLevel};
use deltalake::parquet::file::properties::WriterProperties;
use deltalake::protocol::SaveMode;
use deltalake::DeltaTable;
use napi::bindgen_prelude::Buffer;
use serde_json::Value;
use tokio::sync::{Mutex, mpsc};

#[cfg(feature = "datafusion")]
use crate::write_datafusion::spawn_writer;
#[cfg(not(feature = "datafusion"))]
use crate::write_slim::spawn_writer;
use tokio::task::JoinHandle;

use crate::convert;
use crate::rows;
use crate::handover::{self, JsBatch};
use crate::error::{Code, ZError, ZResult, guard};
use crate::storage::{self, table_or_new};


/// Batches in flight between `write()` and the Parquet writers.
const CHANNEL_BATCHES: usize = 4;

#[napi(object)]
#[derive(Default, Clone)]
pub struct WriteOptions {
    pub storage_options: Option<HashMap<String, String>>,
    pub mode: Option<String>,
    pub partition_by: Option<Vec<String>>,
    pub schema_mode: Option<String>,
    pub predicate: Option<String>,
    pub target_file_size: Option<i64>,
    pub compression: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub configuration: Option<HashMap<String, Option<String>>>,
    pub custom_metadata: Option<Value>,
    pub app_id: Option<String>,
    pub app_version: Option<i64>,
}

#[napi(object)]
pub struct WriteResult {
    pub version: i64,
    pub num_files: u32,
    pub num_rows: i64,
    pub num_bytes: i64,
}

pub fn save_mode(mode: Option<&str>) -> ZResult<SaveMode> {
    match mode.unwrap_or("append") {
        "append" => Ok(SaveMode::Append),
        "overwrite" => Ok(SaveMode::Overwrite),
        "error" => Ok(SaveMode::ErrorIfExists),
        "ignore" => Ok(SaveMode::Ignore),
        other => Err(ZError::invalid(format!("mode must be 'append', 'overwrite', 'error' or 'ignore', got '{other}'"))),
    }
}

/// `schemaMode`, checked: `Some(true)` for merge, `Some(false)` for overwrite.
pub fn schema_mode(mode: Option<&str>) -> ZResult<Option<bool>> {
    match mode {
        None => Ok(None),
        Some("merge") => Ok(Some(true)),
        Some("overwrite") => Ok(Some(false)),
        Some(other) => Err(ZError::invalid(format!("schemaMode must be 'merge' or 'overwrite', got '{other}'"))),
    }
}

/// `targetFileSize`, checked.
pub fn target_file_size(size: Option<i64>) -> ZResult<Option<NonZeroU64>> {
    size.map(|s| u64::try_from(s).ok().and_then(NonZeroU64::new).ok_or_else(|| ZError::invalid("targetFileSize must be a positive number of bytes")))
        .transpose()
}

pub fn writer_properties(compression: Option<&str>) -> ZResult<Option<WriterProperties>> {
    let c = match compression {
        None => return Ok(None),
        Some("snappy") => Compression::SNAPPY,
        Some("zstd") => Compression::ZSTD(ZstdLevel::default()),
        Some("gzip") => Compression::GZIP(GzipLevel::default()),
        Some("lz4") => Compression::LZ4_RAW,
        Some("uncompressed") => Compression::UNCOMPRESSED,
        Some(other) => return Err(ZError::invalid(format!("compression must be snappy, zstd, gzip, lz4 or uncompressed, got '{other}'"))),
    };
    Ok(Some(WriterProperties::builder().set_compression(c).build()))
}

pub fn commit_properties(custom: Option<&Value>, app_id: Option<&str>, app_version: Option<i64>) -> ZResult<CommitProperties> {
    let mut props = CommitProperties::default();
    if let Some(custom) = custom {
        let Value::Object(map) = custom else { return Err(ZError::invalid("commitProperties.customMetadata must be an object")) };
        props = props.with_metadata(map.clone());
    }
    match (app_id, app_version) {
        (Some(id), Some(v)) => props = props.with_application_transaction(Transaction::new(id, v)),
        (None, None) => {}
        _ => return Err(ZError::invalid("commitProperties.appId and appVersion go together")),
    }
    Ok(props)
}

/// `None` marks the end of the input. A channel that closes without it (the adapter was dropped
/// or aborted) fails the write, so it can never commit partial input.
pub type Msg = Option<RecordBatch>;

/// The next batch for a writer: `None` once close() marked the end; a channel closed without that
/// mark is ABORTED.
pub async fn next_batch(rx: &mut mpsc::Receiver<Msg>) -> ZResult<Option<RecordBatch>> {
    rx.recv().await.ok_or_else(|| ZError::new(Code::Aborted, "write input ended without close()"))
}

/// What the writer task ends with: the table at the version it committed.
pub type WriteTask = JoinHandle<ZResult<DeltaTable>>;

struct Running {
    tx: mpsc::Sender<Msg>,
    task: WriteTask,
    schema: SchemaRef,
}

impl Drop for Running {
    // Dropped without close() (abort, or the JS object collected): the write never commits.
    fn drop(&mut self) {
        self.task.abort();
    }
}

enum State {
    /// Nothing written yet.
    Idle,
    Running(Running),
    /// `mode: 'ignore'` on an existing table: writes are dropped.
    Ignoring(i64),
    Finished,
}

#[napi]
pub struct NativeTableWriter {
    uri: String,
    options: WriteOptions,
    storage: HashMap<String, String>,
    state: Arc<Mutex<State>>,
}

impl NativeTableWriter {
    /// Start the writer task on the first batch's schema.
    async fn start(&self, schema: SchemaRef) -> ZResult<State> {
        let o = &self.options;
        let mode = save_mode(o.mode.as_deref())?;
        let (table, exists) = table_or_new(&self.uri, &self.storage).await?;
        if let (true, Some(id), Some(v)) = (exists, &o.app_id, o.app_version) {
            // The same application transaction already committed (e.g. a retried invocation): no-op.
            if let Some(version) = crate::commit::already_committed(&table, id, v).await? {
                return Ok(State::Ignoring(version));
            }
        }
        if exists {
            match mode {
                SaveMode::ErrorIfExists => {
                    return Err(ZError::invalid(format!("{}: a table already exists here (mode 'error')", self.uri)));
                }
                SaveMode::Ignore => return Ok(State::Ignoring(table.version().unwrap_or(0) as i64)),
                _ => {}
            }
        } else if let Some(cols) = &o.partition_by
            && let Some(c) = cols.iter().find(|c| schema.field_with_name(c).is_err())
        {
            return Err(ZError::invalid(format!("{}: unknown partition column '{c}'", self.uri)));
        }
        if !exists && o.predicate.is_some() {
            return Err(ZError::new(Code::TableNotFound, format!("{}: predicate needs an existing table", self.uri)));
        }
        let schema = if exists && o.schema_mode.is_none() { table_order(schema, &table.snapshot()?.snapshot().arrow_schema())? } else { schema };
        let (tx, rx) = mpsc::channel(CHANNEL_BATCHES);
        let target = crate::append::Target { table, exists, schema: schema.clone(), mode, storage: self.storage.clone() };
        let task = spawn_writer(target, o, &self.uri, rx)?;
        Ok(State::Running(Running { tx, task, schema }))
    }

    async fn push(&self, batches: Vec<RecordBatch>) -> ZResult<()> {
        let mut state = self.state.lock().await;
        for batch in batches {
            if batch.num_rows() == 0 {
                continue;
            }
            let batch = convert::to_stored(batch)?;
            if matches!(*state, State::Idle) {
                *state = self.start(batch.schema()).await?;
            }
            match &mut *state {
                State::Running(running) => {
                    let batch = by_name(batch, &running.schema, true).map_err(|e| e.context(&self.uri))?;
                    if running.tx.send(Some(batch)).await.is_err() {
                        // The writer stopped early: its error says why.
                        let State::Running(running) = std::mem::replace(&mut *state, State::Finished) else { unreachable!() };
                        return Err(running.finish_with_error().await);
                    }
                }
                State::Ignoring(_) => {}
                State::Finished => return Err(ZError::invalid("the output adapter is closed")),
                State::Idle => unreachable!(),
            }
        }
        Ok(())
    }

    /// The table schema when the table exists (row objects are decoded with it).
    async fn table_schema(&self) -> ZResult<Option<SchemaRef>> {
        if let State::Running(r) = &*self.state.lock().await {
            return Ok(Some(r.schema.clone()));
        }
        let (table, exists) = table_or_new(&self.uri, &self.storage).await?;
        if !exists || self.options.schema_mode.as_deref() == Some("overwrite") {
            return Ok(None);
        }
        Ok(Some(table.snapshot()?.snapshot().arrow_schema()))
    }
}

impl Running {
    /// Mark the end of the input and wait for the commit.
    async fn commit(mut self) -> ZResult<DeltaTable> {
        if self.tx.send(None).await.is_err() {
            return Err(self.finish_with_error().await);
        }
        join(&mut self.task).await
    }

    async fn finish_with_error(mut self) -> ZError {
        join(&mut self.task).await.err().unwrap_or_else(|| ZError::new(Code::Internal, "writer stopped without an error"))
    }
}

async fn join(task: &mut WriteTask) -> ZResult<DeltaTable> {
    match task.await {
        Ok(r) => r,
        Err(e) if e.is_panic() => Err(ZError::new(Code::Internal, "native panic while writing")),
        Err(_) => Err(ZError::new(Code::Aborted, "write aborted")),
    }
}

/// What a write into an existing table streams: the table's columns in the table's order, each in
/// the input's type (nullable where the table's column is: apache-arrow declares typed arrays
/// non-null), and a nullable column the input lacks as the table has it, filled with nulls by
/// [`by_name`]. Delta's schema enforcement allows data without some nullable columns (Spark fills
/// them; apache-arrow's `tableFromJSON` drops a column whose values are all null); delta-rs refuses
/// it. The batches then have the table's exact fields where the types agree, which the full build's
/// parallel writers need (`write_datafusion::fast_path_ok`). An input column the table lacks is a
/// SCHEMA_MISMATCH; a generated column the input lacks is left out, for delta-rs to compute.
fn table_order(input: SchemaRef, table: &Schema) -> ZResult<SchemaRef> {
    // Named here: delta-rs says "Field z not found in schema", and its RecordBatchWriter (the slim
    // build) drops such columns from a partitioned table without a word.
    let extra: Vec<&str> = input.fields().iter().map(|f| f.name().as_str()).filter(|n| table.field_with_name(n).is_err()).collect();
    if !extra.is_empty() {
        let msg = format!("the table has no column {} (schemaMode: 'merge' adds new columns)", extra.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", "));
        return Err(ZError::new(Code::SchemaMismatch, msg));
    }
    let fields = table
        .fields()
        .iter()
        .filter_map(|t| match input.field_with_name(t.name()) {
            Ok(f) => {
                let dt = if fits(f.data_type(), t.data_type()) { t.data_type() } else { f.data_type() };
                Some(Ok(Arc::new(f.clone().with_data_type(dt.clone()).with_nullable(f.is_nullable() || t.is_nullable()))))
            }
            // Left out: delta-rs computes it.
            Err(_) if is_generated(t) => None,
            Err(_) if t.is_nullable() => Some(Ok(t.clone())),
            Err(_) => Some(Err(ZError::new(Code::SchemaMismatch, format!("the data lacks the table's column '{}', which is not nullable", t.name())))),
        })
        .collect::<ZResult<Vec<FieldRef>>>()?;
    Ok(Arc::new(Schema::new_with_metadata(fields, input.metadata().clone())))
}

fn int_bits(t: &DataType) -> Option<i32> {
    match t {
        DataType::Int8 => Some(8),
        DataType::Int16 => Some(16),
        DataType::Int32 => Some(32),
        DataType::Int64 => Some(64),
        _ => None,
    }
}

/// Whether a column of `from` goes into a column of `to` without changing a value: wider integers
/// and floats, timestamps of the same zone at microseconds (Delta's unit) from a coarser unit, and
/// floats into integers when every value is a whole number in range (checked by [`exact_cast`]:
/// JS numbers are doubles, as in `tableFromJSON`). Such columns are cast to the table's type; other
/// differences are left to the writer's own rules.
fn fits(from: &DataType, to: &DataType) -> bool {
    use DataType::*;
    match (from, to) {
        (Timestamp(unit, a), Timestamp(TimeUnit::Microsecond, b)) => a == b && matches!(unit, TimeUnit::Second | TimeUnit::Millisecond),
        (Float32, Float64) | (Int8 | Int16, Float32) | (Int8 | Int16 | Int32, Float64) => true,
        (Float32 | Float64, _) => int_bits(to).is_some(),
        _ => matches!((int_bits(from), int_bits(to)), (Some(a), Some(b)) if a < b),
    }
}

/// `column` cast to `to` (a value that does not convert is an error); floats into integers only
/// when every value is a whole number within `to`, since Arrow's cast would truncate 2.5 to 2.
fn exact_cast(column: &ArrayRef, to: &DataType, name: &str) -> ZResult<ArrayRef> {
    if let (DataType::Float32 | DataType::Float64, Some(bits)) = (column.data_type(), int_bits(to)) {
        let doubles = cast_with_options(column, &DataType::Float64, &CastOptions::default())?;
        let limit = 2f64.powi(bits - 1);
        let bad = doubles.as_primitive::<Float64Type>().iter().flatten().find(|v| v.fract() != 0.0 || *v < -limit || *v >= limit);
        if let Some(v) = bad {
            return Err(ZError::new(Code::InvalidData, format!("column '{name}': {v} is not a whole number within the table's type {to}")));
        }
    }
    let opts = CastOptions { safe: false, ..Default::default() };
    cast_with_options(column, to, &opts).map_err(|e| ZError::new(Code::SchemaMismatch, format!("column '{name}' does not fit the write's type {to}: {e}")))
}

/// A generated column (`delta.generationExpression`): delta-rs's `WriteBuilder` computes its values
/// when the data leaves it out, and checks them when the data gives them.
fn is_generated(f: &Field) -> bool {
    f.metadata().contains_key("delta.generationExpression")
}

/// `batch` with `schema`'s columns, matched by name, a nullable column the batch lacks filled with
/// nulls (as [`table_order`] allows); a column `schema` lacks, or a missing non-nullable one, is
/// SCHEMA_MISMATCH. With `cast`, columns are cast to `schema`'s types where Arrow can (as later
/// batches of a write always were to the first one's; a value that does not convert is an error);
/// without, they keep their own fields, for a writer that checks types itself (`RecordBatchWriter`).
pub fn by_name(batch: RecordBatch, schema: &SchemaRef, cast: bool) -> ZResult<RecordBatch> {
    if batch.schema().fields() == schema.fields() {
        return Ok(batch);
    }
    let names = |s: &SchemaRef| s.fields().iter().map(|f| f.name().clone()).collect::<Vec<_>>().join(", ");
    if batch.schema().fields().iter().any(|f| schema.field_with_name(f.name()).is_err()) {
        let msg = format!("batch columns [{}] differ from the write's [{}]", names(&batch.schema()), names(schema));
        return Err(ZError::new(Code::SchemaMismatch, msg));
    }
    let input = batch.schema();
    let (fields, columns): (Vec<FieldRef>, Vec<_>) = schema
        .fields()
        .iter()
        .map(|f| match input.index_of(f.name()).ok() {
            Some(i) => {
                let (column, field) = (batch.column(i), &input.fields()[i]);
                if column.data_type() == f.data_type() || !(cast || fits(column.data_type(), f.data_type())) {
                    return Ok((if cast { f.clone() } else { field.clone() }, column.clone()));
                }
                let out = if cast { f.clone() } else { Arc::new(field.as_ref().clone().with_data_type(f.data_type().clone())) };
                Ok((out, exact_cast(column, f.data_type(), f.name())?))
            }
            None if is_generated(f) => {
                Err(ZError::new(Code::SchemaMismatch, format!("the data lacks the generated column '{}' (only delta-rs's own writes compute it)", f.name())))
            }
            None if f.is_nullable() => Ok((f.clone(), new_null_array(f.data_type(), batch.num_rows()))),
            None => Err(ZError::new(Code::SchemaMismatch, format!("the data lacks the column '{}', which is not nullable", f.name()))),
        })
        .collect::<ZResult<Vec<_>>>()?
        .into_iter()
        .unzip();
    let out = if cast { schema.clone() } else { Arc::new(Schema::new_with_metadata(fields, input.metadata().clone())) };
    Ok(RecordBatch::try_new(out, columns)?)
}

/// What the commit at `version` added: (files, rows, bytes).
pub async fn commit_stats(table: &DeltaTable, version: u64) -> ZResult<(u32, i64, i64)> {
    let Some(actions) = storage::commit_actions(&table.log_store(), version).await? else { return Ok((0, 0, 0)) };
    let (mut files, mut rows, mut size) = (0u32, 0i64, 0i64);
    for add in actions.iter().filter_map(|a| a.get("add")) {
        files += 1;
        size += add["size"].as_i64().unwrap_or(0);
        if let Some(stats) = add["stats"].as_str().and_then(|s| serde_json::from_str::<Value>(s).ok()) {
            rows += stats["numRecords"].as_i64().unwrap_or(0);
        }
    }
    Ok((files, rows, size))
}

#[napi]
impl NativeTableWriter {
    #[napi(constructor)]
    pub fn new(uri: String, options: Option<WriteOptions>) -> napi::Result<Self> {
        let options = options.unwrap_or_default();
        let check = || -> ZResult<()> {
            save_mode(options.mode.as_deref())?;
            schema_mode(options.schema_mode.as_deref())?;
            target_file_size(options.target_file_size)?;
            writer_properties(options.compression.as_deref())?;
            commit_properties(options.custom_metadata.as_ref(), options.app_id.as_deref(), options.app_version)?;
            Ok(())
        };
        check()?;
        let storage = storage::storage_options(&uri, options.storage_options.clone());
        Ok(Self { uri, options, storage, state: Arc::new(Mutex::new(State::Idle)) })
    }

    /// Write Arrow IPC bytes (stream or file format).
    #[napi]
    pub async fn write_ipc(&self, data: Buffer) -> napi::Result<()> {
        guard(async move {
            let (_, batches) = convert::decode_ipc(&data)?;
            self.push(batches).await
        })
        .await
    }

    /// Write apache-arrow batches sent buffer by buffer (`lib/handover.js`); `schema` is an IPC
    /// stream carrying their schema.
    #[napi]
    pub async fn write_batches(&self, schema: Buffer, batches: Vec<JsBatch>) -> napi::Result<()> {
        guard(async move {
            let (schema, _) = convert::decode_ipc(&schema)?;
            let batches = handover::from_js(&schema, &batches)?;
            self.push(batches).await
        })
        .await
    }

    /// Write plain row objects, sent as newline-delimited JSON (one object per line);
    /// `first_row`: their index in what `write()` was given (error messages name rows by it);
    /// `hints`: the types of new columns that JSON cannot say (timestamps, binary).
    #[napi]
    pub async fn write_rows(&self, rows: String, first_row: u32, hints: rows::RowHints) -> napi::Result<()> {
        guard(async move {
            if rows.is_empty() {
                return Ok(());
            }
            // Generated columns no row gives are left to delta-rs to compute (decoded, they would be nulls).
            let table_schema = self.table_schema().await?.map(|s| {
                let given = |f: &FieldRef| !is_generated(f) || rows::mentions_key(&rows, f.name());
                if s.fields().iter().all(given) { s } else { Arc::new(Schema::new_with_metadata(s.fields().iter().filter(|f| given(f)).cloned().collect::<Vec<_>>(), s.metadata().clone())) }
            });
            let allow_new = self.options.schema_mode.is_some();
            self.push(rows::rows_to_batches(&rows, first_row as usize, table_schema.as_ref(), allow_new, &hints)?).await
        })
        .await
    }

    /// Commit everything written as one new version.
    #[napi]
    pub async fn close(&self) -> napi::Result<WriteResult> {
        guard(async move {
            let mut state = self.state.lock().await;
            match std::mem::replace(&mut *state, State::Finished) {
                State::Running(running) => {
                    let table = running.commit().await?;
                    let version = table.version().unwrap_or(0);
                    let (num_files, num_rows, num_bytes) = commit_stats(&table, version).await?;
                    Ok(WriteResult { version: version as i64, num_files, num_rows, num_bytes })
                }
                State::Ignoring(version) => Ok(WriteResult { version, num_files: 0, num_rows: 0, num_bytes: 0 }),
                // Nothing written: no commit (documented), report the current version or -1.
                State::Idle => {
                    let (table, exists) = table_or_new(&self.uri, &self.storage).await?;
                    let version = if exists { table.version().unwrap_or(0) as i64 } else { -1 };
                    Ok(WriteResult { version, num_files: 0, num_rows: 0, num_bytes: 0 })
                }
                State::Finished => Err(ZError::invalid("the output adapter is already closed")),
            }
        })
        .await
    }

    /// Drop everything written so far; nothing is committed.
    #[napi]
    pub async fn abort(&self) -> napi::Result<()> {
        guard(async move {
            let mut state = self.state.lock().await;
            if let State::Running(mut running) = std::mem::replace(&mut *state, State::Finished) {
                running.task.abort();
                let _ = (&mut running.task).await;
            }
            Ok(())
        })
        .await
    }
}

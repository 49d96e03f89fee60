//! The engine of `DeltaOutputAdapter` (`api/delta_output_adapter.rs`): any number of `write()`s, then
//! one atomic commit at `close()`.
//!
//! The first write starts a writer task fed by a bounded channel, so memory stays bounded by a few
//! batches plus the Parquet writers' buffers, and nothing reaches the log before `close()`: delta-rs's
//! `WriteBuilder` or zoopipe's own writers (`append.rs`) in the full build (`write_datafusion.rs`),
//! the own writers plus one commit in the slim build (`write_slim.rs`).

use std::collections::HashMap;
use std::sync::Arc;

use deltalake::DeltaTable;
use deltalake::arrow::array::RecordBatch;
use deltalake::arrow::datatypes::SchemaRef;
use deltalake::protocol::SaveMode;
use serde_json::Value;
use tokio::sync::{Mutex, mpsc};

#[cfg(feature = "datafusion")]
use crate::write_datafusion::spawn_writer;
#[cfg(not(feature = "datafusion"))]
use crate::write_slim::spawn_writer;

use crate::conform::{
    by_name, check_new_partitioning, check_same_partitioning, merge_order, stored_schema,
    table_order, to_stored, typed_nulls,
};
use crate::convert;
use crate::error::{Code, ZError, ZResult};
use crate::handover::{self, JsBatch};
use crate::options::{
    InputBudget, Msg, Queued, WriteOptions, WriteTask, commit_properties, save_mode, schema_mode,
    target_file_size, writer_properties,
};
use crate::rows;
use crate::storage::{self, table_or_new};

/// Batches in flight between `write()` and the Parquet writers.
const CHANNEL_BATCHES: usize = 4;

#[napi(object)]
pub struct WriteResult {
    /// None: no table exists (nothing was written to a missing one).
    pub version: Option<i64>,
    pub num_files: u32,
    pub num_rows: i64,
    pub num_bytes: i64,
}

impl WriteResult {
    /// No commit: the table stays at `version`.
    fn nothing(version: Option<i64>) -> Self {
        Self {
            version,
            num_files: 0,
            num_rows: 0,
            num_bytes: 0,
        }
    }
}

struct Running {
    tx: mpsc::Sender<Msg>,
    task: WriteTask,
    schema: SchemaRef,
    /// From the second `write()` on (a stream, not one in-memory table): the writers' buffers are
    /// mapped, so what they free leaves the process (`alloc.rs`). Not for a single write: mapping
    /// costs page faults, and one table given whole is in memory anyway (release, 1 M rows into 8
    /// partitions: 0.26 s malloc, 0.37 s mapped).
    bound: Option<crate::alloc::BoundMemory>,
    /// Bounds the streamed batches queued for the writers (from the second `write()`, as `bound`).
    input: InputBudget,
}

impl Drop for Running {
    // Dropped without close() (abort, or the JS object collected): the write never commits.
    fn drop(&mut self) {
        self.task.abort();
    }
}

enum State {
    /// No rows written yet; the schema of the first batch given without rows (an empty
    /// apache-arrow table), which `close()` may still commit.
    Idle(Option<SchemaRef>),
    Running(Running),
    /// `mode: 'ignore'` on an existing table: writes are dropped.
    Ignoring(Option<i64>),
    Finished,
}

/// The engine behind a JS `DeltaOutputAdapter` (`api/delta_output_adapter.rs`).
pub struct TableWriter {
    uri: String,
    options: WriteOptions,
    storage: HashMap<String, String>,
    state: Arc<Mutex<State>>,
    /// The table as `write_rows` loaded it to type the rows, kept for `start` (one load per write).
    loaded: std::sync::Mutex<Option<(DeltaTable, bool)>>,
    /// Its writer task commits under this (`cancel.rs`): `close(cancel)` lends it to the signal's token.
    cancel: Arc<crate::cancel::Cancel>,
}

impl TableWriter {
    /// The table (loaded) and whether it exists: the one `table_schema` loaded, or a fresh load.
    async fn load(&self) -> ZResult<(DeltaTable, bool)> {
        let cached = self.loaded.lock().unwrap_or_else(|e| e.into_inner()).take();
        match cached {
            Some(t) => Ok(t),
            None => table_or_new(&self.uri, &self.storage).await,
        }
    }

    /// Start the writer task on the first batch's schema.
    async fn start(&self, schema: SchemaRef) -> ZResult<State> {
        let o = &self.options;
        let mode = save_mode(o.mode.as_deref())?;
        let (table, exists) = self.load().await?;
        if let (true, Some(id), Some(v)) = (exists, &o.commit().app_id, o.commit().app_version) {
            // The same application transaction already committed (e.g. a retried invocation): no-op.
            if let Some(version) = crate::commit::already_committed(&table, id, v).await? {
                return Ok(State::Ignoring(Some(version)));
            }
        }
        if exists {
            match mode {
                SaveMode::ErrorIfExists => {
                    return Err(ZError::invalid(format!(
                        "{}: a table already exists here (mode 'error')",
                        self.uri
                    )));
                }
                SaveMode::Ignore => {
                    return Ok(State::Ignoring(Some(table.version().unwrap_or(0) as i64)));
                }
                _ => {}
            }
            if !(mode == SaveMode::Overwrite && o.schema_mode.as_deref() == Some("overwrite")) {
                let actual = table.snapshot()?.metadata().partition_columns().to_vec();
                check_same_partitioning(&actual, o.partition_by.as_ref())
                    .map_err(|e| e.context(&self.uri))?;
            }
        } else if let Some(cols) = &o.partition_by {
            check_new_partitioning(&schema, cols).map_err(|e| e.context(&self.uri))?;
        }
        if !exists && o.predicate.is_some() {
            return Err(ZError::new(
                Code::TableNotFound,
                format!("{}: predicate needs an existing table", self.uri),
            ));
        }
        let schema = match (exists, o.schema_mode.as_deref()) {
            (true, None) => table_order(schema, &table.snapshot()?.snapshot().arrow_schema())
                .map_err(|e| e.context(&self.uri))?,
            (true, Some("merge")) => {
                merge_order(schema, &table.snapshot()?.snapshot().arrow_schema())
                    .map_err(|e| e.context(&self.uri))?
            }
            _ => typed_nulls(schema),
        };
        let (tx, rx) = mpsc::channel(CHANNEL_BATCHES);
        let target = crate::append::Target {
            table,
            exists,
            schema: schema.clone(),
            mode,
        };
        let task = spawn_writer(target, o, &self.uri, rx, self.cancel.clone())?;
        Ok(State::Running(Running {
            tx,
            task,
            schema,
            bound: None,
            input: InputBudget::new(self.options.max_buffered_bytes),
        }))
    }

    /// Write `batches` of `schema`.
    async fn push(&self, schema: SchemaRef, batches: Vec<RecordBatch>) -> ZResult<()> {
        let mut state = self.state.lock().await;
        match &mut *state {
            State::Idle(seen) => {
                seen.get_or_insert(schema);
            }
            State::Running(running) => {
                running
                    .bound
                    .get_or_insert_with(crate::alloc::BoundMemory::writing);
            }
            _ => {}
        }
        // A batch larger than a run is sent in runs (slices, no copy), so the parallel writers share
        // it: apache-arrow's tableFromArrays makes one batch of the whole table, which went to one
        // writer on one core (release, 1 M / 5 M rows x 4 columns: 0.14-0.16 -> 0.07-0.09 s and
        // 0.65-0.82 -> 0.39-0.42 s). The runs of a streamed batch share its claim.
        for whole in batches {
            let rows = whole.num_rows();
            let claim = match &*state {
                State::Running(running) if running.bound.is_some() && rows > 0 => {
                    running.input.claim(&whole).await
                }
                _ => None,
            };
            for at in (0..rows).step_by(crate::append::RUN_ROWS) {
                let batch = whole.slice(at, crate::append::RUN_ROWS.min(rows - at));
                let batch = to_stored(batch, true).map_err(|e| e.context(&self.uri))?;
                if matches!(*state, State::Idle(_)) {
                    *state = self.start(stored_schema(&batch.schema())).await?;
                }
                match &mut *state {
                    State::Running(running) => {
                        let batch = by_name(batch, &running.schema, true)
                            .map_err(|e| e.context(&self.uri))?;
                        let claim = claim.clone();
                        if running
                            .tx
                            .send(Some(Queued { batch, claim }))
                            .await
                            .is_err()
                        {
                            // The writer stopped early: its error says why.
                            let State::Running(running) =
                                std::mem::replace(&mut *state, State::Finished)
                            else {
                                unreachable!()
                            };
                            return Err(running.finish_with_error().await);
                        }
                    }
                    State::Ignoring(_) => {}
                    State::Finished => return Err(ZError::invalid("the output adapter is closed")),
                    State::Idle(_) => unreachable!(),
                }
            }
        }
        Ok(())
    }

    /// A write that got no rows still commits in two cases, as Spark and Python `deltalake` do: an
    /// overwrite of an existing table (it becomes empty, or loses the rows its `predicate` matches),
    /// and a new table whose schema an empty batch gave (it is created with no files). Otherwise
    /// nothing is committed: `Ignoring` the current version (none without a table).
    async fn start_empty(&self, seen: Option<SchemaRef>) -> ZResult<State> {
        let (table, exists) = self.load().await?;
        let overwrite = save_mode(self.options.mode.as_deref())? == SaveMode::Overwrite;
        let schema = match seen {
            Some(s) if overwrite || !exists => stored_schema(&s),
            None if overwrite && exists => table.snapshot()?.snapshot().arrow_schema(),
            _ => {
                return Ok(State::Ignoring(
                    exists.then(|| table.version().unwrap_or(0) as i64),
                ));
            }
        };
        self.start(schema).await
    }

    /// The table schema when the table exists (row objects are decoded with it).
    async fn table_schema(&self) -> ZResult<Option<SchemaRef>> {
        if let State::Running(r) = &*self.state.lock().await {
            return Ok(Some(r.schema.clone()));
        }
        let (table, exists) = self.load().await?;
        let schema = match exists && self.options.schema_mode.as_deref() != Some("overwrite") {
            true => Some(table.snapshot()?.snapshot().arrow_schema()),
            false => None,
        };
        *self.loaded.lock().unwrap_or_else(|e| e.into_inner()) = Some((table, exists));
        Ok(schema)
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
        join(&mut self.task)
            .await
            .err()
            .unwrap_or_else(|| ZError::new(Code::Internal, "writer stopped without an error"))
    }
}

async fn join(task: &mut WriteTask) -> ZResult<DeltaTable> {
    match task.await {
        Ok(r) => r,
        Err(e) if e.is_panic() => Err(ZError::new(Code::Internal, "native panic while writing")),
        Err(_) => Err(ZError::new(Code::Aborted, "write aborted")),
    }
}

/// What the commit at `version` added: (files, rows, bytes).
pub async fn commit_stats(table: &DeltaTable, version: u64) -> ZResult<(u32, i64, i64)> {
    let Some(actions) = storage::commit_actions(&table.log_store(), version).await? else {
        return Ok((0, 0, 0));
    };
    let (mut files, mut rows, mut size) = (0u32, 0i64, 0i64);
    for add in actions.iter().filter_map(|a| a.get("add")) {
        files += 1;
        size += add["size"].as_i64().unwrap_or(0);
        if let Some(stats) = add["stats"]
            .as_str()
            .and_then(|s| serde_json::from_str::<Value>(s).ok())
        {
            rows += stats["numRecords"].as_i64().unwrap_or(0);
        }
    }
    Ok((files, rows, size))
}

impl TableWriter {
    pub fn new(uri: String, options: Option<WriteOptions>) -> ZResult<Self> {
        let options = options.unwrap_or_default();
        let check = || -> ZResult<()> {
            save_mode(options.mode.as_deref())?;
            schema_mode(options.schema_mode.as_deref())?;
            target_file_size(options.target_file_size)?;
            writer_properties(
                options.compression.as_deref(),
                options.max_row_group_bytes,
                options.writer_properties.as_ref(),
            )?;
            crate::options::row_group_bytes(
                options.max_row_group_bytes,
                options.max_buffered_bytes,
                1,
            )?;
            commit_properties(options.commit())?;
            crate::log_store::budget(options.commit().commit_timeout_ms)?;
            if let Some(conf) = &options.configuration {
                crate::options::check_table_properties(
                    conf.iter().map(|(k, v)| (k.as_str(), v.as_deref())),
                )?;
            }
            #[cfg(feature = "datafusion")]
            if let Some(p) = &options.predicate {
                crate::sql::whole_expression(p, "predicate")?;
            }
            Ok(())
        };
        check()?;
        let storage = storage::storage_options(&uri, options.storage_options.clone());
        Ok(Self {
            uri,
            options,
            storage,
            state: Arc::new(Mutex::new(State::Idle(None))),
            loaded: Default::default(),
            cancel: Default::default(),
        })
    }

    /// Write Arrow IPC bytes (stream or file format).
    pub async fn write_ipc(&self, data: &[u8]) -> ZResult<()> {
        let (schema, batches) = convert::decode_ipc(data)?;
        self.push(schema, batches).await
    }

    /// Write apache-arrow batches sent buffer by buffer (`lib/handover.js`); `schema` is an IPC
    /// stream carrying their schema; `hold`: share their memory instead of copying it (the caller
    /// leaves it untouched until the commit, `handover::from_js`).
    pub async fn write_batches(
        &self,
        schema: &[u8],
        batches: Vec<JsBatch>,
        hold: bool,
    ) -> ZResult<()> {
        let (schema, _) = convert::decode_ipc(schema)?;
        let batches = handover::from_js(&schema, batches, hold)?;
        self.push(schema, batches).await
    }

    /// Row objects as columns `lib/row-columns.js` built (the types JSON would give a new table),
    /// written only when that is what the JSON path would write: a new table, or columns of the
    /// table's exact types (no cast), without `schemaMode`, into nullable columns. `false`: not
    /// written, send them as JSON.
    pub async fn write_row_batches(&self, schema: &[u8], batches: Vec<JsBatch>) -> ZResult<bool> {
        if self.options.schema_mode.is_some() {
            return Ok(false);
        }
        let (schema, _) = convert::decode_ipc(schema)?;
        if !rows::columns_fit(self.table_schema().await?.as_deref(), &schema) {
            return Ok(false);
        }
        let batches = handover::from_js(&schema, batches, true)?;
        self.push(schema, batches).await?;
        Ok(true)
    }

    /// Row objects as newline-delimited JSON (arguments: `api/delta_output_adapter.rs`).
    pub async fn write_rows(
        &self,
        rows: String,
        first_row: u32,
        hints: rows::RowHints,
    ) -> ZResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let table_schema = self.table_schema().await?.map(|s| rows::for_rows(s, &rows));
        let allow_new = self.options.schema_mode.is_some();
        let batches = rows::rows_to_batches(
            &rows,
            first_row as usize,
            table_schema.as_ref(),
            allow_new,
            &hints,
        )?;
        match batches.first() {
            Some(b) => self.push(b.schema(), batches).await,
            None => Ok(()),
        }
    }

    /// Commit everything written as one new version.
    pub async fn close(&self, cancel: Option<u32>) -> ZResult<WriteResult> {
        if let Some(id) = cancel {
            crate::cancel::adopt(id, &self.cancel);
        }
        crate::cancel::run(cancel, self.commit()).await
    }

    async fn commit(&self) -> ZResult<WriteResult> {
        let mut state = self.state.lock().await;
        let running = match std::mem::replace(&mut *state, State::Finished) {
            State::Idle(seen) => self.start_empty(seen).await?,
            other => other,
        };
        let running = match running {
            State::Running(running) => running,
            State::Ignoring(version) => return Ok(WriteResult::nothing(version)),
            State::Idle(_) | State::Finished => {
                return Err(ZError::invalid("the output adapter is already closed"));
            }
        };
        let table = running.commit().await?;
        let version = table.version().unwrap_or(0);
        let (num_files, num_rows, num_bytes) = commit_stats(&table, version).await?;
        Ok(WriteResult {
            version: Some(version as i64),
            num_files,
            num_rows,
            num_bytes,
        })
    }

    /// Drop everything written so far; nothing is committed.
    pub async fn abort(&self) -> ZResult<()> {
        let mut state = self.state.lock().await;
        if let State::Running(mut running) = std::mem::replace(&mut *state, State::Finished) {
            running.task.abort();
            let _ = (&mut running.task).await;
        }
        Ok(())
    }
}

//! A handle on one snapshot of a table — metadata, history, files, time travel, and the scan that
//! `DeltaInputAdapter` streams. Maintenance (`maintain.rs`) and DML (`dml.rs`) extend it; JS sees
//! it as `DeltaTable` (`api/delta_table.rs`).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use deltalake::DeltaTable;
use deltalake::kernel::Snapshot;
use futures::{StreamExt, TryStreamExt};
use serde_json::{Value, json};

use crate::error::{Code, ZError, ZResult};
use crate::ipc;
use crate::read::{Batches, ScanOptions};
use crate::scan::{kernel_reads, scan};
use crate::scan_kernel::scan_snapshot;
use crate::storage::{self, At};

/// The table's metadata action, as `DeltaTable.metadata()` returns it.
#[napi(object, use_nullable = true)]
pub struct TableMetadata {
    pub id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub partition_columns: Vec<String>,
    pub configuration: HashMap<String, String>,
    /// Milliseconds since the epoch.
    pub created_time: Option<i64>,
}

/// The table's protocol: the reader and writer versions and features a client needs.
#[napi(object)]
pub struct TableProtocol {
    pub min_reader_version: i32,
    pub min_writer_version: i32,
    pub reader_features: Option<Vec<String>>,
    pub writer_features: Option<Vec<String>>,
}

/// One active data file of the snapshot.
#[napi(object)]
pub struct TableFile {
    /// Relative to the table root, URL-encoded as in the log.
    pub path: String,
    pub size: i64,
    pub partition_values: HashMap<String, Option<String>>,
    pub num_records: Option<i64>,
    pub modification_time: i64,
}

/// What one commit did to the table's data, as an incremental reader needs it.
#[napi(object, use_nullable = true)]
pub struct CommitChanges {
    pub version: i64,
    /// The commit's time (its in-commit timestamp, else commitInfo's), epoch milliseconds.
    pub timestamp: Option<i64>,
    pub operation: Option<String>,
    /// Data files the commit added (dataChange), paths as in the log.
    pub added: Vec<String>,
    /// Whether the commit removed data or wrote change-data files (delete, update, merge,
    /// overwrite): then its added files are not all new rows.
    pub rewrote: bool,
}

#[napi(object)]
#[derive(Default)]
pub struct OpenOptions {
    pub storage_options: Option<HashMap<String, String>>,
    pub version: Option<i64>,
    /// Milliseconds since the epoch (the JS layer converts `Date` and ISO strings).
    pub timestamp: Option<f64>,
}

/// The handle behind a JS `DeltaTable`: one loaded snapshot, replaced when the handle loads
/// another version or an operation commits one.
pub struct Table {
    uri: String,
    inner: Arc<RwLock<DeltaTable>>,
}

impl Table {
    /// Open a table (the JS `DeltaTable.open`).
    pub async fn open(uri: String, options: Option<OpenOptions>) -> ZResult<Self> {
        let options = options.unwrap_or_default();
        let at = At::from_options(options.version, options.timestamp)?;
        let storage_options = storage::storage_options(&uri, options.storage_options);
        let table = storage::open_table(&uri, &storage_options, at).await?;
        Ok(Self {
            uri,
            inner: Arc::new(RwLock::new(table)),
        })
    }

    /// A handle on `table` as loaded (e.g. just created).
    pub fn from_table(uri: String, table: DeltaTable) -> Self {
        Self {
            uri,
            inner: Arc::new(RwLock::new(table)),
        }
    }

    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// Load what was committed since the loaded version (only the new log entries, as delta-rs's
    /// `update_incremental`); the new version.
    pub async fn refresh(&self) -> ZResult<i64> {
        let mut table = self.table();
        table
            .update_incremental(None)
            .await
            .map_err(|e| ZError::from(e).context(&self.uri))?;
        let version = table.version().map_or(-1, |v| v as i64);
        self.replace(table);
        Ok(version)
    }

    /// The last `appVersion` committed for `app_id` in the loaded snapshot, if any.
    pub async fn transaction_version(&self, app_id: &str) -> ZResult<Option<i64>> {
        let table = self.table();
        Ok(table
            .snapshot()?
            .transaction_version(table.log_store().as_ref(), app_id)
            .await?)
    }

    /// The snapshot's add actions as an Arrow IPC stream (delta-rs's `add_actions_table`): path,
    /// size, modification time, stats and partition values, nested or `flatten`ed to dotted names.
    pub fn add_actions(&self, flatten: bool) -> ZResult<Vec<u8>> {
        self.with_state(|s| {
            let batch = s.add_actions_table(flatten)?;
            let schema = ipc::js_schema(&batch.schema());
            let batch = ipc::to_js_batch(batch, &schema)?;
            Ok(ipc::encode(&schema, &[batch])?)
        })
    }

    /// What commit `version` added and whether it removed or rewrote data.
    pub async fn commit_changes(&self, version: i64) -> ZResult<CommitChanges> {
        let v = u64::try_from(version)
            .map_err(|_| ZError::invalid(format!("version must be >= 0, got {version}")))?;
        let table = self.table();
        let actions = storage::commit_actions(&table.log_store(), v)
            .await?
            .ok_or_else(|| {
                ZError::new(
                    crate::error::Code::VersionNotFound,
                    format!("{}: version {version} is not in the log", self.uri),
                )
            })?;
        let mut out = CommitChanges {
            version,
            timestamp: None,
            operation: None,
            added: Vec::new(),
            rewrote: false,
        };
        let data_change = |a: &Value| a["dataChange"].as_bool().unwrap_or(true);
        for action in &actions {
            if let Some(info) = action.get("commitInfo") {
                out.timestamp = info["inCommitTimestamp"]
                    .as_i64()
                    .or(info["timestamp"].as_i64())
                    .or(out.timestamp);
                out.operation = info["operation"].as_str().map(str::to_string);
            } else if let Some(add) = action.get("add") {
                if data_change(add)
                    && let Some(path) = add["path"].as_str()
                {
                    out.added.push(path.to_string());
                }
            } else if let Some(rm) = action.get("remove") {
                out.rewrote |= data_change(rm);
            } else if action.get("cdc").is_some() {
                out.rewrote = true;
            }
        }
        Ok(out)
    }

    /// The absolute URI of every active data file.
    pub fn file_uris(&self) -> ZResult<Vec<String>> {
        Ok(self.table().get_file_uris()?.collect())
    }

    pub(crate) fn table(&self) -> DeltaTable {
        self.inner.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn with_state<T>(
        &self,
        f: impl FnOnce(&deltalake::table::state::DeltaTableState) -> ZResult<T>,
    ) -> ZResult<T> {
        let table = self.inner.read().unwrap_or_else(|e| e.into_inner());
        f(table.snapshot()?)
    }

    /// Point the handle at `table` (after an operation committed a new version).
    pub(crate) fn replace(&self, table: DeltaTable) {
        *self.inner.write().unwrap_or_else(|e| e.into_inner()) = table;
    }

    async fn reload(&self, at: At) -> ZResult<i64> {
        let mut table = self.table();
        storage::load_at(&mut table, at)
            .await
            .map_err(|e| e.context(&self.uri))?;
        let version = table.version().unwrap_or(0) as i64;
        self.replace(table);
        Ok(version)
    }

    /// The loaded version, -1 for a table with no commit.
    pub fn version(&self) -> i64 {
        self.inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .version()
            .map_or(-1, |v| v as i64)
    }

    /// The table schema as an Arrow IPC stream with no batches.
    pub fn schema_ipc(&self) -> ZResult<Vec<u8>> {
        self.with_state(|s| {
            Ok(ipc::encode(
                &ipc::js_schema(&s.snapshot().arrow_schema()),
                &[],
            )?)
        })
    }

    pub fn metadata(&self) -> ZResult<TableMetadata> {
        // Through serde: the kernel's getters of these actions are crate-private.
        self.with_state(|s| {
            let m = serde_json::to_value(s.metadata())?;
            Ok(TableMetadata {
                id: m["id"].as_str().unwrap_or_default().to_string(),
                name: m["name"].as_str().map(str::to_string),
                description: m["description"].as_str().map(str::to_string),
                partition_columns: strings(&m["partitionColumns"]).unwrap_or_default(),
                configuration: m["configuration"]
                    .as_object()
                    .map(|c| {
                        c.iter()
                            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                            .collect()
                    })
                    .unwrap_or_default(),
                created_time: m["createdTime"].as_i64(),
            })
        })
    }

    pub fn protocol(&self) -> ZResult<TableProtocol> {
        self.with_state(|s| {
            let p = serde_json::to_value(s.protocol())?;
            Ok(TableProtocol {
                min_reader_version: p["minReaderVersion"].as_i64().unwrap_or_default() as i32,
                min_writer_version: p["minWriterVersion"].as_i64().unwrap_or_default() as i32,
                reader_features: strings(&p["readerFeatures"]),
                writer_features: strings(&p["writerFeatures"]),
            })
        })
    }

    pub async fn history(&self, limit: Option<u32>) -> ZResult<Vec<Value>> {
        history(&self.table(), limit).await
    }

    pub fn files(&self) -> ZResult<Vec<TableFile>> {
        files(&self.table())
    }

    pub async fn load_version(&self, version: i64) -> ZResult<i64> {
        self.reload(At::from_options(Some(version), None)?).await
    }

    pub async fn load_timestamp(&self, timestamp_ms: f64) -> ZResult<i64> {
        self.reload(At::from_options(None, Some(timestamp_ms))?)
            .await
    }

    /// Read one snapshot with no handle kept (`readDelta`): from the kernel's snapshot alone. A
    /// `DeltaTable` load first replays every file's add action into memory, which the scan then
    /// does again itself. Time travel by timestamp, a filter only DataFusion evaluates, and a
    /// snapshot that fails to load but for storage errors (a table or version that is not there:
    /// for the load's errors, which say what exists) go through [`Table::open`].
    pub async fn scan_once(
        uri: String,
        open: Option<OpenOptions>,
        options: Option<ScanOptions>,
    ) -> ZResult<Batches> {
        let open = open.unwrap_or_default();
        let options = options.unwrap_or_default();
        let version = match At::from_options(open.version, open.timestamp)? {
            At::Latest => Some(None),
            At::Version(v) => Some(Some(v as u64)),
            At::Timestamp(_) => None,
        };
        let storage = storage::storage_options(&uri, open.storage_options.clone());
        if let Some(version) = version
            && let Ok(log_store) = storage::log_store(&uri, &storage)
        {
            match Snapshot::try_new(log_store.as_ref(), version).await {
                Ok(s) if kernel_reads(&s.arrow_schema(), &options) => {
                    return scan_snapshot(&s, log_store, &options, None)
                        .map_err(|e| e.context(&uri));
                }
                Ok(_) => {}
                // Storage failing is not retried through the load (its errors are the same).
                Err(e) => {
                    let e = ZError::from(e);
                    if e.code == Code::Storage {
                        return Err(e.context(&uri));
                    }
                }
            }
        }
        Self::open(uri, Some(open))
            .await?
            .scan(Some(options), None)
            .await
    }

    /// Start streaming this snapshot.
    pub async fn scan(
        &self,
        options: Option<ScanOptions>,
        files: Option<Vec<String>>,
    ) -> ZResult<Batches> {
        scan(
            &self.table(),
            &options.unwrap_or_default(),
            files.as_deref(),
        )
        .await
        .map_err(|e| e.context(&self.uri))
    }
}

/// A JSON array of strings, or None.
fn strings(v: &Value) -> Option<Vec<String>> {
    v.as_array().map(|a| {
        a.iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect()
    })
}

/// Everything the log says about one commit, newest first, with its version.
///
/// Hand-written over `LogStore::read_commit_entry` rather than `DeltaTable::history`, because the
/// latter drops version numbers and lists commits past a time-travelled snapshot.
async fn history(table: &DeltaTable, limit: Option<u32>) -> ZResult<Vec<Value>> {
    let latest = table.version().unwrap_or(0);
    let oldest = match limit {
        Some(n) => latest.saturating_sub(n.max(1) as u64 - 1),
        None => 0,
    };
    let log_store = table.log_store();
    let entries: Vec<Option<Value>> = futures::stream::iter((oldest..=latest).rev())
        .map(|version| {
            let log_store = log_store.clone();
            async move {
                let Some(actions) = storage::commit_actions(&log_store, version).await? else {
                    return Ok(None);
                };
                let mut entry = actions
                    .into_iter()
                    .find_map(|a| match a.get("commitInfo") {
                        Some(Value::Object(info)) => Some(info.clone()),
                        _ => None,
                    })
                    .unwrap_or_default();
                entry.insert("version".into(), json!(version));
                Ok::<_, ZError>(Some(Value::Object(entry)))
            }
        })
        .buffered(16)
        .try_collect()
        .await?;
    // Log files removed by log retention end the history.
    Ok(entries.into_iter().map_while(|e| e).collect())
}

fn files(table: &DeltaTable) -> ZResult<Vec<TableFile>> {
    let state = table.snapshot()?;
    Ok(state
        .log_data()
        .iter()
        .map(|file| TableFile {
            path: file.path().to_string(),
            size: file.size(),
            partition_values: file.partition_values_map(),
            num_records: file.num_records().map(|n| n as i64),
            modification_time: file.modification_time(),
        })
        .collect())
}

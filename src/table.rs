//! `DeltaTable`: a handle on one snapshot of a table — metadata, history, files, time travel,
//! and the scan that `DeltaInputAdapter` streams.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use deltalake::DeltaTable;
use futures::{StreamExt, TryStreamExt};
use napi::bindgen_prelude::Buffer;
use serde_json::{Value, json};

use crate::error::{ZError, ZResult, guard, guard_sync};
use crate::ipc;
use crate::read::{NativeBatchStream, ScanOptions, scan};
use crate::storage::{self, At};

#[napi(object)]
#[derive(Default)]
pub struct OpenOptions {
    pub storage_options: Option<HashMap<String, String>>,
    pub version: Option<i64>,
    /// Milliseconds since the epoch (the JS layer converts `Date` and ISO strings).
    pub timestamp: Option<f64>,
}

#[napi]
pub struct NativeTable {
    uri: String,
    inner: Arc<RwLock<DeltaTable>>,
}

impl NativeTable {
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
}

/// Open a table (the JS `DeltaTable.open`).
#[napi]
pub async fn open_table(uri: String, options: Option<OpenOptions>) -> napi::Result<NativeTable> {
    guard(async move {
        let options = options.unwrap_or_default();
        let at = At::from_options(options.version, options.timestamp)?;
        let storage_options = storage::storage_options(&uri, options.storage_options);
        let table = storage::open_table(&uri, &storage_options, at).await?;
        Ok(NativeTable {
            uri,
            inner: Arc::new(RwLock::new(table)),
        })
    })
    .await
}

#[napi]
pub async fn is_delta_table(
    uri: String,
    storage_options: Option<HashMap<String, String>>,
) -> napi::Result<bool> {
    guard(async move {
        storage::is_delta_table(&uri, &storage::storage_options(&uri, storage_options)).await
    })
    .await
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

fn files(table: &DeltaTable) -> ZResult<Vec<Value>> {
    let state = table.snapshot()?;
    Ok(state
        .log_data()
        .iter()
        .map(|file| {
            let mut entry = json!({
                "path": file.path(),
                "size": file.size(),
                "partitionValues": file.partition_values_map(),
                "modificationTime": file.modification_time(),
            });
            if let Some(n) = file.num_records() {
                entry["numRecords"] = json!(n);
            }
            entry
        })
        .collect())
}

#[napi]
impl NativeTable {
    #[napi(getter)]
    pub fn uri(&self) -> String {
        self.uri.clone()
    }

    #[napi(getter)]
    pub fn version(&self) -> i64 {
        self.inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .version()
            .map_or(-1, |v| v as i64)
    }

    /// The table schema as an Arrow IPC stream with no batches.
    #[napi(catch_unwind)]
    pub fn schema(&self) -> napi::Result<Buffer> {
        guard_sync(|| {
            self.with_state(|s| {
                let schema = ipc::js_schema(&s.snapshot().arrow_schema());
                Ok(ipc::encode(&schema, &[])?.into())
            })
        })
    }

    #[napi(catch_unwind)]
    pub fn metadata(&self) -> napi::Result<Value> {
        guard_sync(|| {
            self.with_state(|s| {
                let m = serde_json::to_value(s.metadata())?;
                Ok(json!({
                    "id": m["id"],
                    "name": m["name"],
                    "description": m["description"],
                    "partitionColumns": m["partitionColumns"],
                    "configuration": m["configuration"],
                    "createdTime": m["createdTime"],
                }))
            })
        })
    }

    #[napi(catch_unwind)]
    pub fn protocol(&self) -> napi::Result<Value> {
        guard_sync(|| self.with_state(|s| Ok(serde_json::to_value(s.protocol())?)))
    }

    #[napi]
    pub async fn history(&self, limit: Option<u32>) -> napi::Result<Vec<Value>> {
        let table = self.table();
        guard(async move { history(&table, limit).await }).await
    }

    #[napi]
    pub async fn files(&self) -> napi::Result<Vec<Value>> {
        let table = self.table();
        guard(async move { files(&table) }).await
    }

    #[napi]
    pub async fn load_version(&self, version: i64) -> napi::Result<i64> {
        guard(async move { self.reload(At::from_options(Some(version), None)?).await }).await
    }

    #[napi]
    pub async fn load_timestamp(&self, timestamp_ms: f64) -> napi::Result<i64> {
        guard(async move {
            self.reload(At::from_options(None, Some(timestamp_ms))?)
                .await
        })
        .await
    }

    /// Start streaming this snapshot.
    #[napi]
    pub async fn scan(&self, options: Option<ScanOptions>) -> napi::Result<NativeBatchStream> {
        let table = self.table();
        let uri = self.uri.clone();
        guard(async move {
            NativeBatchStream::new(
                scan(&table, &options.unwrap_or_default())
                    .await
                    .map_err(|e| e.context(&uri))?,
            )
        })
        .await
    }
}

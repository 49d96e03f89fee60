//! `DeltaTable`: one snapshot of a table as JS holds it — metadata, history, files, time travel,
//! scans, maintenance and (full build) DML and the change data feed. Each method converts and
//! delegates: the work is in `table.rs`, `maintain.rs` and `dml.rs`.

use std::collections::HashMap;

use napi::bindgen_prelude::Buffer;
use serde_json::Value;

use super::record_batch_stream::RecordBatchStream;
use crate::create::{CreateOptions, create};
use crate::error::{guard, guard_sync};
use crate::maintain::VacuumOptions;
use crate::maintain::{RestoreMetrics, RestoreOptions, VacuumMetrics};
use crate::options::CommitProperties;
use crate::read::ScanOptions;
use crate::storage;
use crate::table::{CommitChanges, OpenOptions, Table, TableFile, TableMetadata, TableProtocol};

#[napi]
pub struct DeltaTable(Table);

/// Open a table (the JS `DeltaTable.open`).
#[napi]
pub async fn open_table(uri: String, options: Option<OpenOptions>) -> napi::Result<DeltaTable> {
    guard(async move { Ok(DeltaTable(Table::open(uri, options).await?)) }).await
}

/// Read one snapshot with no handle kept (the JS `readDelta`).
#[napi]
pub async fn scan_table(
    uri: String,
    options: Option<OpenOptions>,
    scan: Option<ScanOptions>,
) -> napi::Result<RecordBatchStream> {
    guard(async move { RecordBatchStream::new(Table::scan_once(uri, options, scan).await?) }).await
}

/// Create a table with a schema (an Arrow IPC stream) and no data (the JS `DeltaTable.create`).
#[napi]
pub async fn create_table(
    uri: String,
    schema: Buffer,
    options: Option<CreateOptions>,
) -> napi::Result<DeltaTable> {
    guard(async move {
        Ok(DeltaTable(
            create(uri, &schema, options.unwrap_or_default()).await?,
        ))
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

#[napi]
impl DeltaTable {
    #[napi(getter)]
    pub fn uri(&self) -> String {
        self.0.uri().to_string()
    }

    #[napi(getter)]
    pub fn version(&self) -> i64 {
        self.0.version()
    }

    /// The table schema as an Arrow IPC stream with no batches.
    #[napi(catch_unwind)]
    pub fn schema(&self) -> napi::Result<Buffer> {
        guard_sync(|| Ok(self.0.schema_ipc()?.into()))
    }

    #[napi(catch_unwind)]
    pub fn metadata(&self) -> napi::Result<TableMetadata> {
        guard_sync(|| self.0.metadata())
    }

    #[napi(catch_unwind)]
    pub fn protocol(&self) -> napi::Result<TableProtocol> {
        guard_sync(|| self.0.protocol())
    }

    #[napi]
    pub async fn history(&self, limit: Option<u32>) -> napi::Result<Vec<Value>> {
        guard(self.0.history(limit)).await
    }

    #[napi]
    pub async fn files(&self) -> napi::Result<Vec<TableFile>> {
        guard(async move { self.0.files() }).await
    }

    #[napi]
    pub async fn file_uris(&self) -> napi::Result<Vec<String>> {
        guard(async move { self.0.file_uris() }).await
    }

    /// The active files' add actions as an Arrow IPC stream.
    #[napi]
    pub async fn add_actions(&self, flatten: bool) -> napi::Result<Buffer> {
        guard(async move { Ok(self.0.add_actions(flatten)?.into()) }).await
    }

    #[napi]
    pub async fn commit_changes(&self, version: i64) -> napi::Result<CommitChanges> {
        guard(self.0.commit_changes(version)).await
    }

    #[napi]
    pub async fn refresh(&self) -> napi::Result<i64> {
        guard(self.0.refresh()).await
    }

    #[napi]
    pub async fn transaction_version(&self, app_id: String) -> napi::Result<Option<i64>> {
        guard(async move { self.0.transaction_version(&app_id).await }).await
    }

    #[napi]
    pub async fn load_version(&self, version: i64) -> napi::Result<i64> {
        guard(self.0.load_version(version)).await
    }

    #[napi]
    pub async fn load_timestamp(&self, timestamp_ms: f64) -> napi::Result<i64> {
        guard(self.0.load_timestamp(timestamp_ms)).await
    }

    /// Start streaming this snapshot; with `files`, only those data files (paths as in the log).
    #[napi]
    pub async fn scan(
        &self,
        options: Option<ScanOptions>,
        files: Option<Vec<String>>,
    ) -> napi::Result<RecordBatchStream> {
        guard(async move { RecordBatchStream::new(self.0.scan(options, files).await?) }).await
    }

    #[napi]
    pub async fn create_checkpoint(&self) -> napi::Result<()> {
        guard(self.0.create_checkpoint()).await
    }

    #[napi]
    pub async fn cleanup_metadata(&self) -> napi::Result<u32> {
        guard(self.0.cleanup_metadata()).await
    }

    #[napi]
    pub async fn vacuum(
        &self,
        options: Option<VacuumOptions>,
        op: Option<CommitProperties>,
    ) -> napi::Result<VacuumMetrics> {
        guard(self.0.vacuum(options, op)).await
    }

    #[napi]
    pub async fn restore(
        &self,
        version: Option<i64>,
        timestamp_ms: Option<f64>,
        options: Option<RestoreOptions>,
        op: Option<CommitProperties>,
    ) -> napi::Result<RestoreMetrics> {
        guard(self.0.restore(version, timestamp_ms, options, op)).await
    }

    #[napi]
    pub async fn set_properties(
        &self,
        properties: HashMap<String, String>,
        op: Option<CommitProperties>,
    ) -> napi::Result<()> {
        guard(self.0.set_properties(properties, op)).await
    }

    #[napi]
    pub async fn add_columns(
        &self,
        schema: Buffer,
        op: Option<CommitProperties>,
    ) -> napi::Result<()> {
        guard(self.0.add_columns(&schema, op)).await
    }
}

/// What needs DataFusion: optimize, DML, constraints, the change data feed.
#[cfg(feature = "datafusion")]
#[napi]
impl DeltaTable {
    #[napi]
    pub async fn optimize(
        &self,
        options: Option<crate::dml::OptimizeOptions>,
        op: Option<CommitProperties>,
    ) -> napi::Result<crate::dml::OptimizeMetrics> {
        guard(self.0.optimize(options, op)).await
    }

    #[napi]
    pub async fn delete(
        &self,
        predicate: Option<String>,
        op: Option<CommitProperties>,
    ) -> napi::Result<crate::dml::DeleteMetrics> {
        guard(self.0.delete(predicate, op)).await
    }

    #[napi]
    pub async fn update(
        &self,
        set: HashMap<String, String>,
        predicate: Option<String>,
        op: Option<CommitProperties>,
    ) -> napi::Result<crate::dml::UpdateMetrics> {
        guard(self.0.update(set, predicate, op)).await
    }

    #[napi]
    pub async fn merge(
        &self,
        source: Buffer,
        spec: Value,
        op: Option<CommitProperties>,
    ) -> napi::Result<crate::dml::MergeMetrics> {
        guard(self.0.merge(&source, spec, op)).await
    }

    #[napi]
    pub async fn add_constraint(
        &self,
        name: String,
        expression: String,
        op: Option<CommitProperties>,
    ) -> napi::Result<()> {
        guard(self.0.add_constraint(name, expression, op)).await
    }

    #[napi]
    pub async fn drop_constraint(
        &self,
        name: String,
        raise_if_not_exists: bool,
        op: Option<CommitProperties>,
    ) -> napi::Result<()> {
        guard(self.0.drop_constraint(name, raise_if_not_exists, op)).await
    }

    #[napi]
    pub async fn load_cdf(
        &self,
        options: Option<crate::dml::CdfOptions>,
    ) -> napi::Result<RecordBatchStream> {
        guard(async move { RecordBatchStream::new(self.0.load_cdf(options).await?) }).await
    }
}

/// The slim build keeps the full build's surface: what needs DataFusion answers UNSUPPORTED_FEATURE,
/// so JS sees a DeltaError, never a missing method.
#[cfg(not(feature = "datafusion"))]
#[napi]
impl DeltaTable {
    #[napi]
    pub async fn optimize(
        &self,
        _options: Option<Value>,
        _op: Option<Value>,
    ) -> napi::Result<Value> {
        needs_full("optimize")
    }

    #[napi]
    pub async fn delete(
        &self,
        _predicate: Option<String>,
        _op: Option<Value>,
    ) -> napi::Result<Value> {
        needs_full("delete")
    }

    #[napi]
    pub async fn update(
        &self,
        _set: HashMap<String, String>,
        _predicate: Option<String>,
        _op: Option<Value>,
    ) -> napi::Result<Value> {
        needs_full("update")
    }

    #[napi]
    pub async fn merge(
        &self,
        _source: Buffer,
        _spec: Value,
        _op: Option<Value>,
    ) -> napi::Result<Value> {
        needs_full("merge")
    }

    #[napi]
    pub async fn add_constraint(
        &self,
        _name: String,
        _expression: String,
        _op: Option<Value>,
    ) -> napi::Result<()> {
        needs_full("addConstraint")
    }

    #[napi]
    pub async fn drop_constraint(
        &self,
        _name: String,
        _raise_if_not_exists: bool,
        _op: Option<Value>,
    ) -> napi::Result<()> {
        needs_full("dropConstraint")
    }

    #[napi]
    pub async fn load_cdf(&self, _options: Option<Value>) -> napi::Result<RecordBatchStream> {
        needs_full("loadCdf (change data feed)")
    }
}

#[cfg(not(feature = "datafusion"))]
fn needs_full<T>(what: &str) -> napi::Result<T> {
    Err(crate::error::ZError::needs_full(what).into())
}

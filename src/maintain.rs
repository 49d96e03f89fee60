//! Table maintenance on `DeltaTable` that needs no query engine (checkpoints, vacuum, restore,
//! properties, new columns): each a delta-rs operation, one atomic commit (or none), with
//! `commitProperties`, returning delta-rs's metrics. The handle moves to the version the operation
//! committed. The DataFusion-backed operations (optimize, DML, change data feed) are in `dml.rs`.

use std::collections::HashMap;

use delta_kernel::engine::arrow_conversion::TryIntoKernel as _;
use deltalake::DeltaTable;
use deltalake::kernel::StructType;

use crate::convert;
use crate::error::{Code, ZError, ZResult};
use crate::options::{CommitProperties, check_table_properties, props};
use crate::storage::{At, load_at, to_datetime};
use crate::table::Table;

/// What `vacuum()` deleted (or, in a dry run, would delete).
#[napi(object)]
pub struct VacuumMetrics {
    pub dry_run: bool,
    pub files_deleted: Vec<String>,
}

/// What `restore()` changed.
#[napi(object)]
#[derive(Default)]
pub struct RestoreOptions {
    /// Restore even when files of the target version are gone (they are left out).
    pub ignore_missing_files: Option<bool>,
    /// Allow a restore to a version of a lower protocol than the table's now.
    pub protocol_downgrade_allowed: Option<bool>,
}

#[napi(object)]
pub struct RestoreMetrics {
    pub num_removed_file: i64,
    pub num_restored_file: i64,
}

#[napi(object)]
#[derive(Default)]
pub struct VacuumOptions {
    pub retention_hours: Option<f64>,
    /// Default true, as Python `deltalake`'s `vacuum`: list what would go, delete nothing.
    pub dry_run: Option<bool>,
    /// Versions whose files stay even past the retention (delta-rs's `keep_versions`).
    pub keep_versions: Option<Vec<i64>>,
    pub enforce_retention_duration: Option<bool>,
    /// Also files no version references at all (e.g. left by a write that died before its commit),
    /// not only those removed by a commit (delta-rs's `VacuumMode::Full`).
    pub full: Option<bool>,
}

impl Table {
    /// Run `op` on the handle's table within the commit budget of `options`; the handle moves to
    /// the version it committed.
    pub(crate) async fn run<T>(
        &self,
        options: &Option<CommitProperties>,
        op: impl AsyncFnOnce(DeltaTable) -> ZResult<(DeltaTable, T)>,
    ) -> ZResult<T> {
        let budget = crate::log_store::budget(options.as_ref().and_then(|o| o.commit_timeout_ms))?;
        let table = self.table();
        let cancel = options.as_ref().and_then(|o| o.cancel);
        let op = crate::log_store::with_budget(budget, op(table.clone()));
        match crate::cancel::run(cancel, op).await {
            Ok((table, out)) => {
                self.replace(table);
                Ok(out)
            }
            Err(mut e) => {
                // A handle behind the table (time travel, or another writer since it loaded)
                // conflicts with the commits it has not seen, however often it is retried: say so.
                if e.code == Code::CommitConflict
                    && let (Some(at), Some(latest)) = (
                        table.version(),
                        crate::storage::latest_version(&table).await,
                    )
                    && latest > at
                {
                    e.message = format!(
                        "{} (this handle is at version {at} and the table at {latest}: load the latest version, e.g. with DeltaTable.open, and run it again)",
                        e.message
                    );
                }
                Err(e.context(self.uri()))
            }
        }
    }
}

impl Table {
    pub async fn create_checkpoint(&self) -> ZResult<()> {
        deltalake::checkpoints::create_checkpoint(&self.table(), None)
            .await
            .map_err(|e| ZError::from(e).context(self.uri()))
    }

    pub async fn cleanup_metadata(&self) -> ZResult<u32> {
        Ok(deltalake::checkpoints::cleanup_metadata(&self.table(), None).await? as u32)
    }

    pub async fn vacuum(
        &self,
        options: Option<VacuumOptions>,
        op: Option<CommitProperties>,
    ) -> ZResult<VacuumMetrics> {
        let o = options.unwrap_or_default();
        let props = props(&op)?;
        let custom = op.as_ref().and_then(|c| c.custom_metadata.clone());
        self.run(&op, async move |t| {
            // Delta's vacuum protocol check (and the `vacuumProtocolCheck` feature's rule): a vacuum,
            // dry run too, first checks that this writer supports every feature of the table's
            // protocol; delta-rs's vacuum alone does not, and would delete files a feature it does
            // not know still needs.
            crate::commit::can_write_to(&t).map_err(|e| {
                ZError::from(e).context(
                    "vacuum refused: this writer must support every feature of the table's protocol",
                )
            })?;
            let own_commit = crate::commit::needs_commit_view(&t)?;
            let mut b = t.vacuum().with_commit_properties(props.clone());
            if let Some(h) = o.retention_hours {
                if h.is_nan() || h < 0.0 {
                    return Err(ZError::invalid("retentionHours must be >= 0"));
                }
                b = b.with_retention_period(chrono::Duration::milliseconds(
                    (h * 3_600_000.0) as i64,
                ));
            }
            if let Some(keep) = &o.keep_versions {
                let keep = keep
                    .iter()
                    .map(|v| {
                        u64::try_from(*v).map_err(|_| {
                            ZError::invalid(format!("keepVersions: {v} is not a version"))
                        })
                    })
                    .collect::<ZResult<Vec<_>>>()?;
                b = b.with_keep_versions(&keep);
            }
            let dry_run = o.dry_run.unwrap_or(true);
            let enforce = o.enforce_retention_duration.unwrap_or(true);
            b = b
                .with_dry_run(dry_run || own_commit)
                .with_enforce_retention_duration(enforce);
            if o.full.unwrap_or(false) {
                b = b.with_mode(deltalake::operations::vacuum::VacuumMode::Full);
            }
            let (t, m) = b.await?;
            if own_commit && !dry_run && !m.files_deleted.is_empty() {
                return vacuum_own_commit(t, m.files_deleted, o.retention_hours, enforce, props, custom)
                    .await;
            }
            Ok((
                t,
                VacuumMetrics {
                    // What was asked: a vacuum run as a dry run above, or with nothing to delete,
                    // still reports the dry run it was not.
                    dry_run,
                    files_deleted: m.files_deleted,
                },
            ))
        })
        .await
    }

    pub async fn restore(
        &self,
        version: Option<i64>,
        timestamp_ms: Option<f64>,
        options: Option<RestoreOptions>,
        op: Option<CommitProperties>,
    ) -> ZResult<RestoreMetrics> {
        let o = options.unwrap_or_default();
        let props = props(&op)?;
        self.run(&op, async move |t| {
            let at = match (version, timestamp_ms) {
                (Some(v), None) if v >= 0 => At::Version(v),
                (None, Some(ms)) => At::Timestamp(ms),
                _ => {
                    return Err(ZError::invalid(
                        "restore takes a version (>= 0) or a timestamp",
                    ));
                }
            };
            // Loaded first for the errors that say what exists (delta-rs: "LogSegment end
            // version 2 not the same as the specified end version 99").
            load_at(&mut t.clone(), at).await?;
            let b = t
                .restore()
                .with_commit_properties(props)
                .with_ignore_missing_files(o.ignore_missing_files.unwrap_or(false))
                .with_protocol_downgrade_allowed(o.protocol_downgrade_allowed.unwrap_or(false));
            let b = match at {
                At::Timestamp(ms) => b.with_datetime_to_restore(to_datetime(ms)?),
                At::Version(v) => b.with_version_to_restore(v as u64),
                At::Latest => b,
            };
            let (t, m) = b.await?;
            Ok((
                t,
                RestoreMetrics {
                    num_removed_file: m.num_removed_file as i64,
                    num_restored_file: m.num_restored_file as i64,
                },
            ))
        })
        .await
    }

    pub async fn set_properties(
        &self,
        properties: HashMap<String, String>,
        op: Option<CommitProperties>,
    ) -> ZResult<()> {
        check_table_properties(
            properties
                .iter()
                .map(|(k, v)| (k.as_str(), Some(v.as_str()))),
        )?;
        let props = props(&op)?;
        self.run(&op, async move |t| {
            Ok((
                t.set_tbl_properties()
                    .with_properties(properties)
                    .with_commit_properties(props)
                    .await?,
                (),
            ))
        })
        .await
    }

    pub async fn add_columns(&self, schema: &[u8], op: Option<CommitProperties>) -> ZResult<()> {
        let (arrow_schema, _) = convert::decode_ipc(schema)?;
        // delta-rs 1.1 commits a column the table has (same type) as a version that changes
        // nothing, and a non-null one as such: the table's files have no values for it, and
        // every read then failed ("Non-nullable column 'q' is missing from the physical schema").
        let table_schema = self.table().snapshot()?.snapshot().arrow_schema();
        for f in arrow_schema.fields() {
            if let Some(have) = table_schema
                .fields()
                .iter()
                .find(|t| t.name().eq_ignore_ascii_case(f.name()))
            {
                return Err(ZError::invalid(format!(
                    "addColumns: the table already has a column '{}' (names are case-insensitive)",
                    have.name()
                )));
            }
            if !f.is_nullable() {
                return Err(ZError::invalid(format!(
                    "addColumns: column '{}' must be nullable: the rows already in the table have no value for it",
                    f.name()
                )));
            }
        }
        let fields: StructType = arrow_schema
            .as_ref()
            .try_into_kernel()
            .map_err(|e| ZError::invalid(format!("addColumns: {e}")))?;
        let fields: Vec<_> = fields.fields().cloned().collect();
        let props = props(&op)?;
        self.run(&op, async move |t| {
            Ok((
                t.add_columns()
                    .with_fields(fields)
                    .with_commit_properties(props)
                    .await?,
                (),
            ))
        })
        .await
    }
}

/// The deleting part of delta-rs's vacuum (VACUUM START, the deletes, VACUUM END) for a table whose
/// protocol lists a feature only zoopipe's commit check knows (`commit::KEPT_BY_ZOOPIPE`): delta-rs's
/// own vacuum commits through a check that refuses it. `files` is its dry run's list.
async fn vacuum_own_commit(
    table: DeltaTable,
    files: Vec<String>,
    retention_hours: Option<f64>,
    enforce: bool,
    props: deltalake::kernel::transaction::CommitProperties,
    custom: Option<serde_json::Value>,
) -> ZResult<(DeltaTable, VacuumMetrics)> {
    use deltalake::Path;
    use deltalake::logstore::object_store::ObjectStoreExt as _;
    use deltalake::protocol::DeltaOperation;
    use deltalake::table::config::TablePropertiesExt as _;

    use crate::commit::commit_operation;

    let default_retention = table
        .snapshot()?
        .table_config()
        .deleted_file_retention_duration()
        .as_millis() as i64;
    let start = DeltaOperation::VacuumStart {
        retention_check_enabled: enforce,
        specified_retention_millis: retention_hours.map(|h| (h * 3_600_000.0) as i64),
        default_retention_millis: default_retention,
    };
    // The caller's custom metadata and the operation metrics delta-rs's vacuum records (less the
    // bytes: the dry run lists no sizes).
    let metadata = |metrics: serde_json::Value| {
        let mut m: Vec<(String, serde_json::Value)> = custom
            .as_ref()
            .and_then(serde_json::Value::as_object)
            .map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        m.push(("operationMetrics".into(), metrics));
        m
    };
    let start_props = props.clone().with_metadata(metadata(
        serde_json::json!({ "num_files_to_delete": files.len() }),
    ));
    let table = commit_operation(&table, Vec::new(), start, start_props).await?;
    let store = table.log_store().object_store(None);
    let mut deleted = Vec::with_capacity(files.len());
    for file in files {
        match store.delete(&Path::from(file.as_str())).await {
            Ok(()) | Err(deltalake::ObjectStoreError::NotFound { .. }) => deleted.push(file),
            Err(e) => return Err(ZError::from(deltalake::DeltaTableError::from(e))),
        }
    }
    let end = DeltaOperation::VacuumEnd {
        status: "COMPLETED".into(),
    };
    let end_props = props.with_metadata(metadata(
        serde_json::json!({ "num_deleted_files": deleted.len(), "num_vacuumed_directories": 0 }),
    ));
    let table = commit_operation(&table, Vec::new(), end, end_props).await?;
    Ok((
        table,
        VacuumMetrics {
            dry_run: false,
            files_deleted: deleted,
        },
    ))
}

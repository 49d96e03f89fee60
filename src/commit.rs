//! The commit primitives every writer shares: adding files to a table in one version
//! (`commit_adds`), creating a table with its first files (`create_with_files`), idempotence by
//! (appId, appVersion) (`already_committed`), and what a lost race to create a table means
//! (`creation_error`). How a single log entry is written, retried and
//! read back after an ambiguous failure is `log_store.rs`.

use deltalake::kernel::transaction::{CommitBuilder, CommitProperties, TableReference};
use std::collections::HashMap;

use delta_kernel::table_properties::TableProperties;
use deltalake::kernel::{Action, Add, EagerSnapshot, Metadata, Protocol, StructType};
use deltalake::operations::create::CreateBuilder;
use deltalake::protocol::{DeltaOperation, SaveMode};
use deltalake::table::state::DeltaTableState;
use deltalake::{DeltaTable, DeltaTableError};
use serde_json::Value;

use crate::error::{Code, ZError, ZResult};
use crate::storage;

/// The version whose commit holds the txn action (app_id, app_version), searching newest first.
async fn txn_commit_version(
    table: &DeltaTable,
    app_id: &str,
    app_version: i64,
) -> ZResult<Option<u64>> {
    let log_store = table.log_store();
    let mut version = table.version().unwrap_or(0);
    loop {
        let Some(actions) = storage::commit_actions(&log_store, version).await? else {
            return Ok(None);
        };
        if actions
            .iter()
            .filter_map(|a| a.get("txn"))
            .any(|t| t["appId"] == app_id && t["version"] == app_version)
        {
            return Ok(Some(version));
        }
        if version == 0 {
            return Ok(None);
        }
        version -= 1;
    }
}

/// If (app_id, app_version) is already in the table, the version that committed it.
pub(crate) async fn already_committed(
    table: &DeltaTable,
    app_id: &str,
    app_version: i64,
) -> ZResult<Option<i64>> {
    let Some(last) = table
        .snapshot()?
        .transaction_version(table.log_store().as_ref(), app_id)
        .await?
    else {
        return Ok(None);
    };
    if last < app_version {
        return Ok(None);
    }
    match txn_commit_version(table, app_id, app_version).await? {
        Some(v) => Ok(Some(v as i64)),
        None => Err(ZError::new(
            Code::CommitConflict,
            format!(
                "appId '{app_id}' already committed appVersion {last}, newer than {app_version}"
            ),
        )),
    }
}

/// Add files to an existing table in one commit (replacing its current files for `overwrite`);
/// returns the version committed. `partition_by` is what the commit info records.
pub(crate) async fn commit_adds(
    table: &DeltaTable,
    mode: SaveMode,
    adds: impl IntoIterator<Item = Add>,
    partition_by: Option<Vec<String>>,
    props: CommitProperties,
    custom: Option<&Value>,
) -> ZResult<u64> {
    Ok(try_commit_adds(table, mode, adds, partition_by, props, custom).await?)
}

/// Table features whose only rule zoopipe keeps itself, so that delta-rs's commit check need not
/// know them: `vacuumProtocolCheck` (Databricks sets it) asks only that vacuum check the protocol
/// before it deletes anything, which zoopipe's vacuum does (`maintain.rs`).
pub const KEPT_BY_ZOOPIPE: [&str; 1] = ["vacuumProtocolCheck"];

/// The table as delta-rs's commit check sees it: its protocol without [`KEPT_BY_ZOOPIPE`]. delta-rs
/// 1.1's protocol checker is a static list that lacks `vacuumProtocolCheck`, so it refused every
/// commit to such a table; every other feature is still checked as the table lists it.
struct CommitView<'a> {
    state: &'a DeltaTableState,
    /// The protocol without [`KEPT_BY_ZOOPIPE`]; `None` when it lists none of them.
    kept: Option<Protocol>,
}

impl CommitView<'_> {
    fn of(state: &DeltaTableState) -> ZResult<CommitView<'_>> {
        let mut protocol = serde_json::to_value(TableReference::protocol(state))?;
        let mut kept = false;
        for key in ["readerFeatures", "writerFeatures"] {
            if let Some(features) = protocol[key].as_array_mut() {
                let before = features.len();
                features.retain(|f| !f.as_str().is_some_and(|f| KEPT_BY_ZOOPIPE.contains(&f)));
                kept |= features.len() != before;
            }
        }
        let kept = kept.then(|| serde_json::from_value(protocol)).transpose()?;
        Ok(CommitView { state, kept })
    }
}

impl TableReference for CommitView<'_> {
    fn config(&self) -> &TableProperties {
        TableReference::config(self.state)
    }

    fn protocol(&self) -> &Protocol {
        match &self.kept {
            Some(protocol) => protocol,
            None => TableReference::protocol(self.state),
        }
    }

    fn metadata(&self) -> &Metadata {
        TableReference::metadata(self.state)
    }

    fn eager_snapshot(&self) -> &EagerSnapshot {
        self.state.snapshot()
    }
}

/// Whether `table`'s protocol lists a feature of [`KEPT_BY_ZOOPIPE`]: only zoopipe's own commit
/// paths (`commit_adds`, `commit_operation`) can write it.
pub fn needs_commit_view(table: &DeltaTable) -> ZResult<bool> {
    Ok(CommitView::of(table.snapshot()?)?.kept.is_some())
}

/// Delta's writer check of `table` (every feature of its protocol supported), as the commit check
/// sees it: [`KEPT_BY_ZOOPIPE`] count as supported.
pub fn can_write_to(table: &DeltaTable) -> Result<(), DeltaTableError> {
    let view =
        CommitView::of(table.snapshot()?).map_err(|e| DeltaTableError::Generic(e.message))?;
    deltalake::kernel::transaction::PROTOCOL.can_write_to(&view)?;
    Ok(())
}

/// Commit `operation` with `actions` (none, for a vacuum's START and END entries) as the table's
/// next version, through [`CommitView`]; the table at that version.
pub(crate) async fn commit_operation(
    table: &DeltaTable,
    actions: Vec<Action>,
    operation: DeltaOperation,
    props: CommitProperties,
) -> ZResult<DeltaTable> {
    let view = CommitView::of(table.snapshot()?)?;
    let finalized = CommitBuilder::from(props)
        .with_actions(actions)
        .build(Some(&view), table.log_store(), operation)
        .await?;
    let mut table = table.clone();
    table.update_incremental(Some(finalized.version())).await?;
    Ok(table)
}

/// [`commit_adds`] with delta-rs's error as it is.
pub(crate) async fn try_commit_adds(
    table: &DeltaTable,
    mode: SaveMode,
    adds: impl IntoIterator<Item = Add>,
    partition_by: Option<Vec<String>>,
    props: CommitProperties,
    custom: Option<&Value>,
) -> Result<u64, DeltaTableError> {
    let state = table.snapshot()?;
    let mut actions: Vec<Action> = Vec::new();
    if mode == SaveMode::Overwrite {
        actions.extend(
            state
                .log_data()
                .iter()
                .map(|f| Action::Remove(f.remove_action(true))),
        );
    }
    let removed = actions.len();
    actions.extend(adds.into_iter().map(Action::Add));
    let added: Vec<&Add> = actions
        .iter()
        .filter_map(|a| {
            if let Action::Add(add) = a {
                Some(add)
            } else {
                None
            }
        })
        .collect();
    let rows: i64 = added
        .iter()
        .filter_map(|a| a.get_stats().ok().flatten())
        .map(|s| s.num_records)
        .sum();
    // As delta-rs's WriteBuilder records them; the commit fills in `num_retries` (lost races).
    let metrics = serde_json::json!({ "num_added_files": added.len(), "num_removed_files": removed, "num_added_rows": rows });
    let mut metadata: serde_json::Map<String, Value> = custom
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    metadata.insert("operationMetrics".into(), metrics);
    let operation = DeltaOperation::Write {
        mode,
        partition_by,
        predicate: None,
    };
    let view = CommitView::of(state).map_err(|e| DeltaTableError::Generic(e.message))?;
    let finalized = CommitBuilder::from(props.with_metadata(metadata))
        .with_actions(actions)
        .build(Some(&view), table.log_store(), operation)
        .await?;
    Ok(finalized.version())
}

/// The error of a commit that created `table`: when another writer created the table meanwhile
/// (delta-rs says "already exists", or "Failed to commit transaction: 0" for a lost race without
/// retries), COMMIT_CONFLICT saying so; otherwise (or for an error about the data) `e` as it is.
pub(crate) async fn creation_error(table: &DeltaTable, e: ZError) -> ZError {
    if !matches!(e.code, Code::CommitConflict | Code::Internal) {
        return e;
    }
    match table.verify_deltatable_existence().await {
        Ok(true) => ZError::new(
            Code::CommitConflict,
            "another writer created the table at the same time; nothing was committed (write again to add to it)",
        ),
        _ => e,
    }
}

/// What a table is created with beside its columns and first files.
#[derive(Default)]
pub struct NewTable {
    pub partition_by: Vec<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub configuration: Option<HashMap<String, Option<String>>>,
}

/// Create the missing table with `adds` as its first version: the one place a table is created
/// with its files (large appends, the slim writer, the coordinator; delta-rs's `WriteBuilder`
/// creates its own). No retries: on losing the race for version 0, delta-rs 1.1 would commit this
/// CREATE TABLE again as version 1, replacing the winner's metadata (seen with three racing
/// coordinators); another writer having created the table is COMMIT_CONFLICT instead.
pub(crate) async fn create_with_files(
    table: &DeltaTable,
    schema: StructType,
    new: NewTable,
    adds: impl IntoIterator<Item = Add>,
    props: CommitProperties,
) -> ZResult<DeltaTable> {
    let b = create_builder(table, &schema, new)
        .with_actions(adds.into_iter().map(Action::Add))
        .with_commit_properties(props.with_max_retries(0))
        .with_save_mode(SaveMode::ErrorIfExists);
    match b.await {
        Ok(t) => Ok(t),
        Err(e) => Err(creation_error(table, e.into()).await),
    }
}

/// delta-rs's CREATE TABLE of `table`'s location with `schema` and what `new` says.
pub(crate) fn create_builder(
    table: &DeltaTable,
    schema: &StructType,
    new: NewTable,
) -> CreateBuilder {
    let mut b = CreateBuilder::new()
        .with_log_store(table.log_store())
        .with_columns(schema.fields().cloned())
        .with_partition_columns(new.partition_by);
    if let Some(name) = new.name {
        b = b.with_table_name(name);
    }
    if let Some(d) = new.description {
        b = b.with_comment(d);
    }
    if let Some(conf) = new.configuration {
        b = b.with_configuration(conf);
    }
    b
}

//! The engine of `DeltaCoordinator` (`api/delta_coordinator.rs`): validates every worker's file
//! actions (see `file_writer.rs`) and commits them as ONE version with `commit.rs`'s primitives
//! (delta-rs's `CommitBuilder`, which detects conflicts and retries); idempotent by (appId,
//! appVersion).

use std::collections::{HashMap, HashSet};

use delta_kernel::engine::arrow_conversion::TryIntoKernel as _;
use deltalake::kernel::StructType;
use deltalake::kernel::transaction::{
    CommitConflictError, CommitProperties as DeltaCommitProperties, TransactionError,
};
use deltalake::logstore::object_store::ObjectStoreExt as _;
use deltalake::protocol::SaveMode;
use deltalake::{DeltaTable, DeltaTableError, Path};
use futures::{StreamExt, TryStreamExt};
use napi::bindgen_prelude::Buffer;
use serde_json::Value;

use crate::commit::{NewTable, already_committed, create_with_files, try_commit_adds};
use crate::convert;
use crate::error::{Code, ZError, ZResult};
use crate::file_writer::FileAction;
use crate::options::{CommitProperties, commit_properties, save_mode};
use crate::storage::trailing_slash;
use crate::storage::{self, table_or_new};

#[napi(object)]
#[derive(Default)]
pub struct CoordinatorOptions {
    pub storage_options: Option<HashMap<String, String>>,
    pub mode: Option<String>,
    /// Schema (an Arrow IPC stream, e.g. of an empty table) to create the table with when it does
    /// not exist yet; otherwise the workers' schema is used.
    pub schema: Option<Buffer>,
    pub partition_by: Option<Vec<String>>,
}

#[napi(object)]
pub struct CommitResult {
    pub version: i64,
    pub num_files: u32,
    /// False when (appId, appVersion) was already committed and nothing new was written.
    pub committed: bool,
}

/// The engine behind a JS `DeltaCoordinator` (`api/delta_coordinator.rs`).
pub struct Coordinator {
    uri: String,
    mode: SaveMode,
    storage: HashMap<String, String>,
    /// Explicit schema and partition columns for creating the table.
    create_with: Option<(StructType, Vec<String>)>,
}

fn is_safe_relative(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && !path.contains("://")
        && !path.contains('\\')
        && path
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
}

/// Two Delta schemas (JSON) have the same columns: names and types, whatever their nullability.
fn same_columns(a: &Value, b: &Value) -> bool {
    let columns = |s: &Value| -> Vec<(Value, Value)> {
        s["fields"].as_array().map_or_else(Vec::new, |f| {
            f.iter()
                .map(|f| (f["name"].clone(), f["type"].clone()))
                .collect()
        })
    };
    columns(a) == columns(b)
}

/// Everything about the actions that can be checked without touching the log.
async fn validate(actions: &[FileAction], table: &DeltaTable, exists: bool) -> ZResult<()> {
    let root = trailing_slash(table.table_url().as_str());
    let mut seen = HashSet::new();
    for (i, a) in actions.iter().enumerate() {
        if trailing_slash(&a.table_uri) != root {
            return Err(ZError::invalid(format!(
                "action {i} was written for table {} , not {root}",
                a.table_uri
            )));
        }
        if !is_safe_relative(&a.add.path) {
            return Err(ZError::invalid(format!(
                "action {i}: path '{}' is not inside the table",
                a.add.path
            )));
        }
        if !seen.insert(a.add.path.as_str()) {
            return Err(ZError::invalid(format!(
                "action {i}: file '{}' is listed twice",
                a.add.path
            )));
        }
        if a.schema != actions[0].schema || a.partition_columns != actions[0].partition_columns {
            return Err(ZError::invalid(format!(
                "action {i}: schema or partition columns differ from action 0's"
            )));
        }
    }
    if exists {
        // Workers refuse such tables when they open them; this catches rules added since.
        if let Some(rules) = crate::conform::unchecked_rules(table)? {
            return Err(ZError::new(
                Code::UnsupportedFeature,
                format!(
                    "the table has {rules}, which the workers' writer (DeltaWriter) does not evaluate: their files cannot be committed to it"
                ),
            ));
        }
        let state = table.snapshot()?;
        let table_schema = serde_json::to_value(state.snapshot().schema().as_ref())?;
        if !same_columns(&actions[0].schema, &table_schema) {
            return Err(ZError::invalid(
                "the files' schema differs from the table's schema",
            ));
        }
        if actions[0].partition_columns != state.metadata().partition_columns() {
            return Err(ZError::invalid(
                "the files' partition columns differ from the table's",
            ));
        }
        let active: HashSet<String> = state
            .log_data()
            .iter()
            .map(|f| f.path().to_string())
            .collect();
        if let Some(a) = actions.iter().find(|a| active.contains(&a.add.path)) {
            return Err(ZError::invalid(format!(
                "file '{}' is already part of the table",
                a.add.path
            )));
        }
    }
    // Every file must exist with the size the worker reported.
    let store = table.object_store();
    let checks: Vec<(usize, String, i64)> = actions
        .iter()
        .enumerate()
        .map(|(i, a)| (i, a.add.path.clone(), a.add.size))
        .collect();
    futures::stream::iter(checks)
        .map(|(i, path, size)| {
            let store = store.clone();
            async move {
                // The object's own name, as in `append.rs`'s `remove_files` (not encoded again).
                let object = Path::parse(&path)
                    .map_err(|e| ZError::invalid(format!("action {i}: file '{path}': {e}")))?;
                let meta = store.head(&object).await.map_err(|e| match e {
                    deltalake::ObjectStoreError::NotFound { .. } => {
                        ZError::invalid(format!("action {i}: file '{path}' does not exist"))
                    }
                    other => ZError::from(other),
                })?;
                if meta.size as i64 != size {
                    return Err(ZError::invalid(format!(
                        "action {i}: file '{path}' has {} bytes, the action says {size}",
                        meta.size
                    )));
                }
                Ok(())
            }
        })
        .buffer_unordered(16)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(())
}

/// Whether a blind append into `table` lost only because a concurrent commit removed data, which
/// it may then commit on top of: it read nothing, but delta-rs's conflict checker takes a commit
/// without a read predicate to have read every file (`ConcurrentDeleteRead`). Delta's default
/// isolation, WriteSerializable, lets blind appends through concurrent deletes, updates, merges and
/// overwrites (Spark does); a table whose `delta.isolationLevel` is Serializable keeps the conflict.
fn append_may_follow(table: &DeltaTable, mode: SaveMode, e: &DeltaTableError) -> bool {
    let lost_to_delete = matches!(
        e,
        DeltaTableError::Transaction {
            source: TransactionError::CommitConflict(CommitConflictError::ConcurrentDeleteRead)
        }
    );
    // The property's text, read here: the kernel parses only camelCase ("serializable"), not the
    // "Serializable" Spark writes, and defaults to Serializable, though its documentation, like
    // Delta's and Spark's, says WriteSerializable is the default.
    let serializable = table.snapshot().map(|s| {
        s.metadata()
            .configuration()
            .get("delta.isolationLevel")
            .is_some_and(|v| v.eq_ignore_ascii_case("serializable"))
    });
    lost_to_delete && mode == SaveMode::Append && matches!(serializable, Ok(false))
}

/// A failpoint for the tests: `ZOOPIPE_TEST_PAUSE_BEFORE_COMMIT_MS` holds a coordinator between
/// reading the table and committing, so a test can commit something else in that window (the race
/// that otherwise needs luck to see). Compiled into dev builds only (feature `test-hooks`).
async fn pause_for_tests() {
    #[cfg(feature = "test-hooks")]
    if let Some(ms) = std::env::var("ZOOPIPE_TEST_PAUSE_BEFORE_COMMIT_MS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
}

/// How often a coordinator's append commits again on the latest version after losing to commits
/// that removed data (each attempt re-validates the files against the table as it is then); fewer
/// when the commit's `maxRetries` says so (0: never).
const APPEND_REBASES: usize = 10;

/// JS numbers arrive as doubles; integral ones become integers again for serde.
fn integral_numbers(v: &mut Value) {
    match v {
        Value::Number(n) => {
            if let Some(f) = n
                .as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15)
                && n.as_i64().is_none()
            {
                *v = Value::from(f as i64);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(integral_numbers),
        Value::Object(o) => o.values_mut().for_each(integral_numbers),
        _ => {}
    }
}

impl Coordinator {
    /// Create the missing table with the files in its first version (one version, as every commit
    /// of the coordinator): `None` when another writer created the table meanwhile.
    async fn create(
        &self,
        table: &DeltaTable,
        actions: &[FileAction],
        props: DeltaCommitProperties,
    ) -> ZResult<Option<i64>> {
        let (schema, partition_columns) = match &self.create_with {
            Some((schema, parts)) => (schema.clone(), parts.clone()),
            None => (
                serde_json::from_value(actions[0].schema.clone())?,
                actions[0].partition_columns.clone(),
            ),
        };
        let new = NewTable {
            partition_by: partition_columns,
            ..Default::default()
        };
        let adds = actions.iter().map(|a| a.add.clone());
        match create_with_files(table, schema, new, adds, props).await {
            Ok(t) => Ok(Some(t.version().unwrap_or(0) as i64)),
            Err(e) if e.code == Code::CommitConflict => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn commit_once(
        &self,
        actions: &[FileAction],
        options: &CommitProperties,
    ) -> ZResult<CommitResult> {
        if actions.is_empty() {
            return Err(ZError::invalid("commit() needs at least one file action"));
        }
        let mut props = commit_properties(options)?;
        if let Some(n) = options.max_retries {
            props = props.with_max_retries(n as usize);
        }
        let committed = |version: i64| CommitResult {
            version,
            num_files: actions.len() as u32,
            committed: true,
        };
        // A table another writer creates meanwhile is committed to as an existing one; an append
        // that loses to a commit removing data is committed again on the latest version.
        let mut rebases = 0;
        loop {
            let (table, exists) = table_or_new(&self.uri, &self.storage).await?;
            if let (Some(id), Some(v)) = (&options.app_id, options.app_version)
                && exists
                && let Some(version) = already_committed(&table, id, v).await?
            {
                return Ok(CommitResult {
                    version,
                    num_files: 0,
                    committed: false,
                });
            }
            if let Err(e) = validate(actions, &table, exists).await {
                // On a second attempt the files were good for the table as it was: a commit in between
                // changed it (a new schema, a CHECK constraint).
                return Err(match rebases {
                    0 => e,
                    _ => ZError::new(
                        Code::CommitConflict,
                        format!(
                            "a concurrent commit changed the table so that these files no longer fit it: {}",
                            e.message
                        ),
                    ),
                });
            }
            if exists {
                if rebases == 0 {
                    pause_for_tests().await;
                }
                match try_commit_adds(
                    &table,
                    self.mode,
                    actions.iter().map(|a| a.add.clone()),
                    None,
                    props.clone(),
                    options.custom_metadata.as_ref(),
                )
                .await
                {
                    Ok(version) => return Ok(committed(version as i64)),
                    Err(e)
                        if rebases
                            < options
                                .max_retries
                                .map_or(APPEND_REBASES, |n| APPEND_REBASES.min(n as usize))
                            && append_may_follow(&table, self.mode, &e) =>
                    {
                        rebases += 1;
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            if let Some((schema, parts)) = &self.create_with
                && (!same_columns(&actions[0].schema, &serde_json::to_value(schema)?)
                    || &actions[0].partition_columns != parts)
            {
                return Err(ZError::invalid(
                    "the files' schema or partition columns differ from the schema given to the coordinator",
                ));
            }
            if let Some(version) = self.create(&table, actions, props.clone()).await? {
                return Ok(committed(version));
            }
        }
    }
}

impl Coordinator {
    pub fn new(uri: String, options: Option<CoordinatorOptions>) -> ZResult<Self> {
        let options = options.unwrap_or_default();
        let mode = save_mode(options.mode.as_deref())?;
        if !matches!(mode, SaveMode::Append | SaveMode::Overwrite) {
            return Err(ZError::invalid(
                "a coordinator commits with mode 'append' or 'overwrite'",
            ));
        }
        let create_with = match &options.schema {
            Some(ipc) => {
                let (arrow_schema, _) = convert::decode_ipc(ipc)?;
                let schema: StructType = arrow_schema
                    .as_ref()
                    .try_into_kernel()
                    .map_err(|e| ZError::invalid(format!("schema: {e}")))?;
                Some((schema, options.partition_by.clone().unwrap_or_default()))
            }
            None => None,
        };
        let storage = storage::storage_options(&uri, options.storage_options);
        Ok(Self {
            uri,
            mode,
            storage,
            create_with,
        })
    }

    /// Commit every file of every worker as one new version.
    pub async fn commit(
        &self,
        files: Vec<Value>,
        options: Option<CommitProperties>,
    ) -> ZResult<CommitResult> {
        let options = options.unwrap_or_default();
        let actions = files
            .into_iter()
            .enumerate()
            .map(|(i, mut f)| {
                integral_numbers(&mut f);
                serde_json::from_value::<FileAction>(f).map_err(|e| {
                    ZError::invalid(format!("action {i} is not a DeltaWriter file action: {e}"))
                })
            })
            .collect::<ZResult<Vec<_>>>()?;
        let budget = crate::log_store::budget(options.commit_timeout_ms)?;
        match crate::log_store::with_budget(budget, self.commit_once(&actions, &options)).await {
            // A concurrent commit of the same (appId, appVersion) won the race: that is success.
            Err(e) if e.code == Code::CommitConflict && options.app_id.is_some() => {
                let (table, exists) = table_or_new(&self.uri, &self.storage).await?;
                if exists
                    && let (Some(id), Some(v)) = (&options.app_id, options.app_version)
                    && let Some(version) = already_committed(&table, id, v).await?
                {
                    return Ok(CommitResult {
                        version,
                        num_files: 0,
                        committed: false,
                    });
                }
                Err(e)
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn worker_paths_must_stay_inside_the_table() {
        assert!(is_safe_relative("part=a/file.parquet"));
        for bad in [
            "",
            "/etc/passwd",
            "../x.parquet",
            "a/../../x",
            "./x",
            "s3://b/x",
            "a\\b",
            "a//b",
        ] {
            assert!(!is_safe_relative(bad), "{bad}");
        }
    }

    #[test]
    fn schemas_match_by_names_and_types_not_nullability() {
        let a = json!({"fields": [{"name": "id", "type": "long", "nullable": true}]});
        let b = json!({"fields": [{"name": "id", "type": "long", "nullable": false}]});
        let c = json!({"fields": [{"name": "id", "type": "string", "nullable": true}]});
        assert!(same_columns(&a, &b));
        assert!(!same_columns(&a, &c));
    }

    #[test]
    fn js_doubles_that_are_whole_become_integers_at_any_depth() {
        let mut v = json!({"size": 12.0, "stats": [1.5, 3.0], "big": 1e300});
        integral_numbers(&mut v);
        assert_eq!(v, json!({"size": 12, "stats": [1.5, 3], "big": 1e300}));
    }
}

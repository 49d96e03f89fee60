//! Options as the writers and operations take them, checked once, and the channel between a
//! writer's `write()` calls and its Parquet writers. Below every writer and every JS class: it
//! imports only errors, the log store's budget and the Parquet writer properties, so any of them can use it.

use std::collections::HashMap;
use std::num::NonZeroU64;
use std::sync::Arc;

use deltalake::DeltaTable;
use deltalake::arrow::array::RecordBatch;
use deltalake::kernel::Transaction;
use deltalake::kernel::transaction::CommitProperties as DeltaCommitProperties;
use deltalake::protocol::SaveMode;
use serde_json::Value;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::JoinHandle;

use crate::error::{Code, ZError, ZResult};
pub use crate::parquet_properties::{
    DEFAULT_ROW_GROUP_BYTES, ParquetProperties, writer_properties,
};

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
    /// Encoded bytes held per open file before they are flushed as a row group (default 8 MiB).
    pub max_row_group_bytes: Option<i64>,
    /// Encoded bytes all open files of the write may hold together (default 64 MiB): see
    /// [`row_group_bytes`].
    pub max_buffered_bytes: Option<i64>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub configuration: Option<HashMap<String, Option<String>>>,
    pub commit_properties: Option<CommitProperties>,
    pub writer_properties: Option<ParquetProperties>,
}

impl WriteOptions {
    /// The write's commit properties (none given: the defaults).
    pub fn commit(&self) -> &CommitProperties {
        self.commit_properties
            .as_ref()
            .unwrap_or(&NO_COMMIT_PROPERTIES)
    }
}

/// The one commit-properties shape (JS `commitProperties` of every write and operation, and a
/// coordinator's commit options): what the commit records and how long it may retry.
#[napi(object)]
#[derive(Default, Clone)]
pub struct CommitProperties {
    /// Extra commitInfo fields (not ones the commit writes itself).
    pub custom_metadata: Option<Value>,
    /// An application transaction (with `app_version`): the commit records it, and a second commit
    /// of the same pair is skipped.
    pub app_id: Option<String>,
    pub app_version: Option<i64>,
    /// How long the commit may keep retrying lost races (`log_store.rs`); default 2 minutes.
    pub commit_timeout_ms: Option<f64>,
    /// A coordinator's append: how often it commits again on top of concurrent deletes (default 10).
    pub max_retries: Option<u32>,
    /// The token (`cancel.rs`) the JS layer took for the operation's `signal`.
    pub cancel: Option<u32>,
}

static NO_COMMIT_PROPERTIES: CommitProperties = CommitProperties {
    custom_metadata: None,
    app_id: None,
    app_version: None,
    commit_timeout_ms: None,
    max_retries: None,
    cancel: None,
};

pub fn save_mode(mode: Option<&str>) -> ZResult<SaveMode> {
    match mode.unwrap_or("append") {
        "append" => Ok(SaveMode::Append),
        "overwrite" => Ok(SaveMode::Overwrite),
        "error" => Ok(SaveMode::ErrorIfExists),
        "ignore" => Ok(SaveMode::Ignore),
        other => Err(ZError::invalid(format!(
            "mode must be 'append', 'overwrite', 'error' or 'ignore', got '{other}'"
        ))),
    }
}

/// `schemaMode`, checked: `Some(true)` for merge, `Some(false)` for overwrite.
pub fn schema_mode(mode: Option<&str>) -> ZResult<Option<bool>> {
    match mode {
        None => Ok(None),
        Some("merge") => Ok(Some(true)),
        Some("overwrite") => Ok(Some(false)),
        Some(other) => Err(ZError::invalid(format!(
            "schemaMode must be 'merge' or 'overwrite', got '{other}'"
        ))),
    }
}

/// `targetFileSize`, checked.
pub fn target_file_size(size: Option<i64>) -> ZResult<Option<NonZeroU64>> {
    size.map(|s| {
        u64::try_from(s)
            .ok()
            .and_then(NonZeroU64::new)
            .ok_or_else(|| ZError::invalid("targetFileSize must be a positive number of bytes"))
    })
    .transpose()
}

/// Default `maxBufferedBytes`: what the open files of one write hold together in row groups.
pub const DEFAULT_BUFFERED_BYTES: usize = 64 << 20;

/// The row-group size for each of `files` files a write keeps open at once (one per partition
/// value, or per writer thread): their share of `max_buffered_bytes`, at most `max_row_group_bytes`
/// and at least 1 MiB. An open file holds about 2.5x its row group while it is flushed (the encoded
/// pages and their copy into the upload), so the share is budget / (2.5 x files). The files' count
/// is what the first batch shows (later partition values get the same size). delta-rs's writers
/// take their row-group size when a file opens and expose no flush of one, hence a size chosen up
/// front rather than the largest file flushed when the budget fills. Measured (5 M rows, 8
/// partitions, slim release build): 8 MiB row groups 465 MB peak RSS, 3.2 MiB (the default
/// budget's share) in the commit that added this.
pub fn row_group_bytes(
    max_row_group_bytes: Option<i64>,
    max_buffered_bytes: Option<i64>,
    files: usize,
) -> ZResult<Option<i64>> {
    let budget = match max_buffered_bytes {
        None => DEFAULT_BUFFERED_BYTES,
        Some(b) => usize::try_from(b)
            .ok()
            .filter(|b| *b >= 1 << 20)
            .ok_or_else(|| {
                ZError::invalid(format!(
                    "maxBufferedBytes must be at least 1048576 bytes, got {b}"
                ))
            })?,
    };
    let cap = match max_row_group_bytes {
        Some(b) => b,
        None => DEFAULT_ROW_GROUP_BYTES as i64,
    };
    let share = (budget * 2 / (5 * files.max(1))).max(1 << 20) as i64;
    Ok(Some(share.min(cap)))
}

/// The commitInfo fields delta-rs (and the Delta protocol) write themselves. delta-rs merges custom
/// metadata over them, so `customMetadata: { isBlindAppend: true, readVersion: 7 }` rewrote what
/// this commit says it read and did (Spark's conflict checks trust isBlindAppend): refused.
const COMMIT_INFO_FIELDS: [&str; 14] = [
    "timestamp",
    "operation",
    "operationParameters",
    "operationMetrics",
    "readVersion",
    "isolationLevel",
    "isBlindAppend",
    "engineInfo",
    "clientVersion",
    "version",
    "userId",
    "userName",
    "txnId",
    "inCommitTimestamp",
];

/// Retries of a lost race that every commit allows: in effect unbounded, as a commit gives up when
/// its time budget runs out instead (`log_store.rs`), and each retry re-runs delta-rs's conflict checks.
pub const COMMIT_RETRIES: usize = 1_000_000;

/// delta-rs's commit properties for `o`, checked.
pub fn commit_properties(o: &CommitProperties) -> ZResult<DeltaCommitProperties> {
    let mut props = DeltaCommitProperties::default().with_max_retries(COMMIT_RETRIES);
    if let Some(custom) = &o.custom_metadata {
        let Value::Object(map) = custom else {
            return Err(ZError::invalid(
                "commitProperties.customMetadata must be an object",
            ));
        };
        if let Some(k) = map
            .keys()
            .find(|k| COMMIT_INFO_FIELDS.contains(&k.as_str()))
        {
            return Err(ZError::invalid(format!(
                "commitProperties.customMetadata key '{k}' is a commitInfo field the commit writes itself; use another name"
            )));
        }
        props = props.with_metadata(map.clone());
    }
    match (&o.app_id, o.app_version) {
        (Some(id), Some(v)) => {
            props = props.with_application_transaction(Transaction::new(id.as_str(), v))
        }
        (None, None) => {}
        _ => {
            return Err(ZError::invalid(
                "commitProperties.appId and appVersion go together",
            ));
        }
    }
    Ok(props)
}

/// `None` marks the end of the input. A channel that closes without it (the adapter was dropped
/// or aborted) fails the write, so it can never commit partial input.
pub type Msg = Option<Queued>;

/// A batch on its way to the writers with its claim on the write's input budget, which it holds
/// until a writer has encoded it (the pieces of a partitioned batch share it).
pub struct Queued {
    pub batch: RecordBatch,
    pub claim: Claim,
}

/// A share of [`InputBudget`]; `None` for input that is in memory anyway (one table given whole).
pub type Claim = Option<Arc<OwnedSemaphorePermit>>;

/// The next batch for a writer: `None` once close() marked the end; a channel closed without that
/// mark is ABORTED. Its claim is released here (DataFusion's writer takes batches as a stream).
#[cfg(feature = "datafusion")]
pub async fn next_batch(rx: &mut mpsc::Receiver<Msg>) -> ZResult<Option<RecordBatch>> {
    Ok(next_queued(rx).await?.map(|q| q.batch))
}

/// As [`next_batch`], keeping the claim for the writer that encodes the batch.
pub async fn next_queued(rx: &mut mpsc::Receiver<Msg>) -> ZResult<Option<Queued>> {
    rx.recv()
        .await
        .ok_or_else(|| ZError::new(Code::Aborted, "write input ended without close()"))
}

/// Bytes of streamed input between `write()` and the encoders: half of `maxBufferedBytes`, and
/// always room for one batch however large. Counted in batches, the queues could hold ten (a
/// 4-batch channel, 2 per writer, one being encoded in each), ~85 MB of 8.7 MB batches, and no
/// count bounds large batches. It shows where the writers fall behind the caller: 5 M rows into 8
/// partitions peaked at 375 -> 356 MB (dev build); a release build on local disk keeps up (the same
/// 299-309 MB), the demo's Pipe gained part of its 387-393 -> 342-351 MB. The claims are KiB.
pub struct InputBudget {
    permits: Arc<Semaphore>,
    total: u32,
}

impl InputBudget {
    pub fn new(max_buffered_bytes: Option<i64>) -> Self {
        let total = (input_bytes(max_buffered_bytes) >> 10).clamp(1, u32::MAX as usize) as u32;
        Self {
            permits: Arc::new(Semaphore::new(total as usize)),
            total,
        }
    }

    /// Wait until `batch` fits in the budget (a batch larger than all of it waits for an empty
    /// queue), then hold its share.
    pub async fn claim(&self, batch: &RecordBatch) -> Claim {
        let kib = (batch.get_array_memory_size() >> 10).clamp(1, self.total as usize) as u32;
        // Never closed: acquiring fails only on a closed semaphore.
        let permit = self.permits.clone().acquire_many_owned(kib).await.ok()?;
        Some(Arc::new(permit))
    }
}

/// [`InputBudget`]'s bytes for a write's `maxBufferedBytes` (checked by `row_group_bytes`).
pub fn input_bytes(max_buffered_bytes: Option<i64>) -> usize {
    max_buffered_bytes
        .and_then(|b| usize::try_from(b).ok())
        .unwrap_or(DEFAULT_BUFFERED_BYTES)
        / 2
}

/// What the writer task ends with: the table at the version it committed.
pub type WriteTask = JoinHandle<ZResult<DeltaTable>>;

/// Keys delta-rs takes that the kernel's `TableProperties` does not parse (delta-rs checks the
/// version values itself; the others are its aliases and its own setting).
const KEYS_KERNEL_DOES_NOT_PARSE: [&str; 6] = [
    "delta.minReaderVersion",
    "delta.minWriterVersion",
    "delta-rs.checkpoint.useRunLengthEncoding",
    "deletedFileRetentionDuration",
    "logRetentionDuration",
    "enableExpiredLogCleanup",
];

/// Table properties (`setProperties`, a new table's `configuration`) must be ones delta-rs knows,
/// with values the kernel can read. delta-rs refuses an unknown key only with a generic error, and
/// stores a bad value without a word, after which the kernel ignores it: `delta.appendOnly: 'maybe'`
/// left the table open to deletes, `delta.logRetentionDuration: 'forever'` let `cleanupMetadata`
/// use the 30-day default. Spark refuses both when they are set.
pub(crate) fn check_table_properties<'a>(
    properties: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
) -> ZResult<()> {
    for (key, value) in properties {
        if key.parse::<deltalake::TableProperty>().is_err() {
            return Err(ZError::invalid(format!(
                "unknown table property '{key}' (delta-rs sets the delta.* properties it knows)"
            )));
        }
        let Some(value) = value else { continue };
        let parsed = delta_kernel::table_properties::TableProperties::from([(key, value)]);
        if !parsed.unknown_properties.is_empty() && !KEYS_KERNEL_DOES_NOT_PARSE.contains(&key) {
            return Err(ZError::invalid(format!(
                "table property '{key}' cannot be '{value}'"
            )));
        }
    }
    Ok(())
}

/// delta-rs's commit properties of an operation's (optional) `commitProperties`.
pub(crate) fn props(o: &Option<CommitProperties>) -> ZResult<DeltaCommitProperties> {
    commit_properties(o.as_ref().unwrap_or(&NO_COMMIT_PROPERTIES))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_and_unknown_ones_name_the_choices() {
        assert_eq!(save_mode(None).unwrap(), SaveMode::Append);
        assert_eq!(save_mode(Some("overwrite")).unwrap(), SaveMode::Overwrite);
        assert_eq!(save_mode(Some("error")).unwrap(), SaveMode::ErrorIfExists);
        assert_eq!(save_mode(Some("ignore")).unwrap(), SaveMode::Ignore);
        let e = save_mode(Some("upsert")).unwrap_err();
        assert_eq!(e.code, Code::InvalidArgument);
        assert!(e.message.contains("'upsert'"), "{}", e.message);
        assert_eq!(schema_mode(Some("merge")).unwrap(), Some(true));
        assert_eq!(schema_mode(Some("overwrite")).unwrap(), Some(false));
        assert!(schema_mode(Some("evolve")).is_err());
    }

    #[test]
    fn a_target_file_size_must_be_positive() {
        assert_eq!(target_file_size(Some(1)).unwrap().map(|s| s.get()), Some(1));
        assert!(target_file_size(None).unwrap().is_none());
        assert!(target_file_size(Some(0)).is_err());
        assert!(target_file_size(Some(-5)).is_err());
    }

    #[test]
    fn commit_properties_refuse_commit_info_fields_and_half_a_transaction() {
        let cp = |custom: Option<Value>, id: Option<&str>, v: Option<i64>| CommitProperties {
            custom_metadata: custom,
            app_id: id.map(str::to_string),
            app_version: v,
            ..Default::default()
        };
        let custom = serde_json::json!({ "job": "nightly" });
        assert!(commit_properties(&cp(Some(custom), Some("etl"), Some(3))).is_ok());
        let forged = serde_json::json!({ "isBlindAppend": true });
        let e = commit_properties(&cp(Some(forged), None, None)).unwrap_err();
        assert!(e.message.contains("isBlindAppend"), "{}", e.message);
        assert!(commit_properties(&cp(Some(serde_json::json!([1])), None, None)).is_err());
        assert!(commit_properties(&cp(None, Some("etl"), None)).is_err());
        assert!(commit_properties(&cp(None, None, Some(1))).is_err());
    }
}

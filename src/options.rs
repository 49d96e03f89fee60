//! Options as the writers and operations take them, checked once, and the channel between a
//! writer's `write()` calls and its Parquet writers. Below every writer and every JS class: it
//! imports only errors and the log store's budget, so any of them can use it.

use std::collections::HashMap;
use std::num::NonZeroU64;

use deltalake::DeltaTable;
use deltalake::arrow::array::RecordBatch;
use deltalake::kernel::Transaction;
use deltalake::kernel::transaction::CommitProperties as DeltaCommitProperties;
use deltalake::parquet::basic::{BrotliLevel, Compression, GzipLevel, ZstdLevel};
use deltalake::parquet::errors::ParquetError;
use deltalake::parquet::file::properties::{
    EnabledStatistics, WriterProperties, WriterPropertiesBuilder,
};
use deltalake::parquet::schema::types::ColumnPath;
use deltalake::protocol::SaveMode;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::error::{Code, ZError, ZResult};

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

/// Parquet writer properties with Python `deltalake`'s `WriterProperties` names (camelCase), for
/// every writer; unset: arrow-rs's defaults.
#[napi(object)]
#[derive(Default, Clone)]
pub struct ParquetProperties {
    pub data_page_size_limit: Option<u32>,
    pub dictionary_page_size_limit: Option<u32>,
    pub data_page_row_count_limit: Option<u32>,
    pub write_batch_size: Option<u32>,
    /// Rows per row group at most (row groups also end at `maxRowGroupBytes`).
    pub max_row_group_size: Option<u32>,
    /// As Python: 'UNCOMPRESSED', 'SNAPPY', 'GZIP', 'BROTLI', 'LZ4', 'ZSTD', 'LZ4_RAW' (any case).
    pub compression: Option<String>,
    /// GZIP 0-9, BROTLI 0-11, ZSTD 1-22.
    pub compression_level: Option<i32>,
    pub statistics_truncate_length: Option<u32>,
    pub default_column_properties: Option<ColumnProperties>,
    /// By column name (a nested field by its dotted path).
    pub column_properties: Option<HashMap<String, ColumnProperties>>,
}

#[napi(object)]
#[derive(Default, Clone)]
pub struct ColumnProperties {
    pub dictionary_enabled: Option<bool>,
    /// 'NONE', 'CHUNK' or 'PAGE'.
    pub statistics_enabled: Option<String>,
    pub bloom_filter_properties: Option<BloomFilterProperties>,
}

#[napi(object)]
#[derive(Default, Clone)]
pub struct BloomFilterProperties {
    pub set_bloom_filter_enabled: Option<bool>,
    /// False-positive probability, in (0, 1).
    pub fpp: Option<f64>,
    /// Distinct values expected.
    pub ndv: Option<i64>,
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

/// Encoded bytes a Parquet writer holds for one open file before it flushes them as a row group
/// (`maxRowGroupBytes`). Unbounded, a row group held up to 1,048,576 rows: a streamed write kept a
/// partition's whole file in memory until it reached that many rows, so memory grew with the rows
/// and the partitions. Measured (5 M rows in 100,000-row batches, dev build, peak RSS with the JS
/// heap capped at 128 MB): unpartitioned 458 -> 397 MB at 4 MiB, partitioned 8 ways 619 -> 511 MB;
/// reading the table back took 17% longer at 4 MiB and 6% at 8 MiB (files 16% / 6% larger).
pub const DEFAULT_ROW_GROUP_BYTES: usize = 8 << 20;

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

/// Writer properties of every data file zoopipe writes: `compression` (default snappy, as delta-rs),
/// row groups of at most `max_row_group_bytes` encoded bytes (default [`DEFAULT_ROW_GROUP_BYTES`]),
/// and the user's `writerProperties`.
pub fn writer_properties(
    compression: Option<&str>,
    max_row_group_bytes: Option<i64>,
    props: Option<&ParquetProperties>,
) -> ZResult<WriterProperties> {
    let row_group_bytes = match max_row_group_bytes {
        None => DEFAULT_ROW_GROUP_BYTES,
        Some(b) => usize::try_from(b)
            .ok()
            .filter(|b| *b >= 1 << 16)
            .ok_or_else(|| {
                ZError::invalid(format!(
                    "maxRowGroupBytes must be at least 65536 bytes, got {b}"
                ))
            })?,
    };
    let c = match compression {
        None | Some("snappy") => Compression::SNAPPY,
        Some("zstd") => Compression::ZSTD(ZstdLevel::default()),
        Some("gzip") => Compression::GZIP(GzipLevel::default()),
        Some("lz4") => Compression::LZ4_RAW,
        Some("uncompressed") => Compression::UNCOMPRESSED,
        Some(other) => {
            return Err(ZError::invalid(format!(
                "compression must be snappy, zstd, gzip, lz4 or uncompressed, got '{other}'"
            )));
        }
    };
    let mut b = WriterProperties::builder()
        // What delta-rs's own default properties record as the file's writer.
        .set_created_by(format!("delta-rs version {}", deltalake::crate_version()))
        .set_compression(c)
        .set_max_row_group_bytes(Some(row_group_bytes));
    if let Some(p) = props {
        b = parquet_properties(b, p, compression.is_some())?;
    }
    Ok(b.build())
}

fn positive(name: &str, v: Option<u32>) -> ZResult<Option<usize>> {
    match v {
        Some(0) => Err(ZError::invalid(format!(
            "writerProperties.{name} must be at least 1"
        ))),
        v => Ok(v.map(|v| v as usize)),
    }
}

/// `writerProperties` onto the builder (Python deltalake's `WriterProperties`).
fn parquet_properties(
    mut b: WriterPropertiesBuilder,
    p: &ParquetProperties,
    compression_given: bool,
) -> ZResult<WriterPropertiesBuilder> {
    if let Some(v) = positive("dataPageSizeLimit", p.data_page_size_limit)? {
        b = b.set_data_page_size_limit(v);
    }
    if let Some(v) = positive("dictionaryPageSizeLimit", p.dictionary_page_size_limit)? {
        b = b.set_dictionary_page_size_limit(v);
    }
    if let Some(v) = positive("dataPageRowCountLimit", p.data_page_row_count_limit)? {
        b = b.set_data_page_row_count_limit(v);
    }
    if let Some(v) = positive("writeBatchSize", p.write_batch_size)? {
        b = b.set_write_batch_size(v);
    }
    if let Some(v) = positive("maxRowGroupSize", p.max_row_group_size)? {
        b = b.set_max_row_group_row_count(Some(v));
    }
    if let Some(v) = p.statistics_truncate_length {
        b = b.set_statistics_truncate_length(Some(v as usize));
    }
    match (&p.compression, p.compression_level) {
        (Some(_), _) if compression_given => {
            return Err(ZError::invalid(
                "give compression either as the write's compression or as writerProperties.compression, not both",
            ));
        }
        (Some(name), level) => b = b.set_compression(parquet_compression(name, level)?),
        (None, Some(_)) => {
            return Err(ZError::invalid(
                "writerProperties.compressionLevel needs writerProperties.compression",
            ));
        }
        (None, None) => {}
    }
    if let Some(c) = &p.default_column_properties {
        b = column(b, None, c)?;
    }
    for (name, c) in p.column_properties.iter().flatten() {
        b = column(b, Some(ColumnPath::from(name.as_str())), c)?;
    }
    Ok(b)
}

fn parquet_compression(name: &str, level: Option<i32>) -> ZResult<Compression> {
    let bad = |e: ParquetError| ZError::invalid(format!("writerProperties.compressionLevel: {e}"));
    let needs_none = |c: Compression| match level {
        None => Ok(c),
        Some(_) => Err(ZError::invalid(format!(
            "writerProperties.compressionLevel applies to GZIP, BROTLI and ZSTD, not {name}"
        ))),
    };
    match name.to_ascii_uppercase().as_str() {
        "UNCOMPRESSED" => needs_none(Compression::UNCOMPRESSED),
        "SNAPPY" => needs_none(Compression::SNAPPY),
        "LZ4" => needs_none(Compression::LZ4),
        "LZ4_RAW" => needs_none(Compression::LZ4_RAW),
        "GZIP" => Ok(Compression::GZIP(match level {
            None => GzipLevel::default(),
            Some(l) => GzipLevel::try_new(u32::try_from(l).unwrap_or(u32::MAX)).map_err(bad)?,
        })),
        "BROTLI" => Ok(Compression::BROTLI(match level {
            None => BrotliLevel::default(),
            Some(l) => BrotliLevel::try_new(u32::try_from(l).unwrap_or(u32::MAX)).map_err(bad)?,
        })),
        "ZSTD" => Ok(Compression::ZSTD(match level {
            None => ZstdLevel::default(),
            Some(l) => ZstdLevel::try_new(l).map_err(bad)?,
        })),
        _ => Err(ZError::invalid(format!(
            "writerProperties.compression must be UNCOMPRESSED, SNAPPY, GZIP, BROTLI, LZ4, LZ4_RAW or ZSTD, got '{name}'"
        ))),
    }
}

/// One column's properties (`col`), or every column's default (None).
fn column(
    mut b: WriterPropertiesBuilder,
    col: Option<ColumnPath>,
    c: &ColumnProperties,
) -> ZResult<WriterPropertiesBuilder> {
    if let Some(v) = c.dictionary_enabled {
        b = match &col {
            Some(p) => b.set_column_dictionary_enabled(p.clone(), v),
            None => b.set_dictionary_enabled(v),
        };
    }
    if let Some(s) = &c.statistics_enabled {
        let v = match s.to_ascii_uppercase().as_str() {
            "NONE" => EnabledStatistics::None,
            "CHUNK" => EnabledStatistics::Chunk,
            "PAGE" => EnabledStatistics::Page,
            _ => {
                return Err(ZError::invalid(format!(
                    "statisticsEnabled must be NONE, CHUNK or PAGE, got '{s}'"
                )));
            }
        };
        b = match &col {
            Some(p) => b.set_column_statistics_enabled(p.clone(), v),
            None => b.set_statistics_enabled(v),
        };
    }
    if let Some(f) = &c.bloom_filter_properties {
        let enabled = f.set_bloom_filter_enabled.unwrap_or(true);
        b = match &col {
            Some(p) => b.set_column_bloom_filter_enabled(p.clone(), enabled),
            None => b.set_bloom_filter_enabled(enabled),
        };
        if let Some(fpp) = f.fpp {
            if !(fpp > 0.0 && fpp < 1.0) {
                return Err(ZError::invalid(format!(
                    "bloomFilterProperties.fpp must be between 0 and 1, got {fpp}"
                )));
            }
            b = match &col {
                Some(p) => b.set_column_bloom_filter_fpp(p.clone(), fpp),
                None => b.set_bloom_filter_fpp(fpp),
            };
        }
        if let Some(ndv) = f.ndv {
            let ndv = u64::try_from(ndv).ok().filter(|n| *n > 0).ok_or_else(|| {
                ZError::invalid(format!(
                    "bloomFilterProperties.ndv must be at least 1, got {ndv}"
                ))
            })?;
            b = match &col {
                Some(p) => b.set_column_bloom_filter_max_ndv(p.clone(), ndv),
                None => b.set_bloom_filter_max_ndv(ndv),
            };
        }
    }
    Ok(b)
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
pub type Msg = Option<RecordBatch>;

/// The next batch for a writer: `None` once close() marked the end; a channel closed without that
/// mark is ABORTED.
pub async fn next_batch(rx: &mut mpsc::Receiver<Msg>) -> ZResult<Option<RecordBatch>> {
    rx.recv()
        .await
        .ok_or_else(|| ZError::new(Code::Aborted, "write input ended without close()"))
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
    fn every_file_gets_bounded_row_groups_and_the_compression_asked_for() {
        let p = writer_properties(None, None, None).unwrap();
        assert_eq!(p.max_row_group_bytes(), Some(DEFAULT_ROW_GROUP_BYTES));
        let path = deltalake::parquet::schema::types::ColumnPath::from("x");
        assert_eq!(p.compression(&path), Compression::SNAPPY);
        assert!(p.created_by().starts_with("delta-rs version"));
        let p = writer_properties(Some("zstd"), Some(1 << 20), None).unwrap();
        assert_eq!(p.max_row_group_bytes(), Some(1 << 20));
        assert!(matches!(p.compression(&path), Compression::ZSTD(_)));
        assert!(writer_properties(Some("brotli9"), None, None).is_err());
        assert!(
            writer_properties(None, Some(100), None)
                .unwrap_err()
                .message
                .contains("maxRowGroupBytes")
        );
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

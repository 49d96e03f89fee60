//! Where a table lives: URI parsing, storage options and opening a table at a version or time.
//! Storage backends (S3, Azure, GCS) are delta-rs's own object_store handlers.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use deltalake::Path;
use deltalake::logstore::object_store::ObjectStoreExt as _;
use deltalake::logstore::object_store::memory::InMemory;
use deltalake::logstore::{
    ObjectStoreFactory, ObjectStoreRef, StorageConfig, object_store_factories,
};
use deltalake::table::builder::parse_table_uri;
use deltalake::{DeltaTable, DeltaTableBuilder};
use url::Url;

use crate::error::{Code, ZError, ZResult, register_secret};

/// Register the cloud handlers explicitly when the addon loads (deltalake also does this from
/// `ctor` constructors, which a linker may drop from a cdylib).
pub fn register_handlers() {
    deltalake::aws::register_handlers(None);
    deltalake::azure::register_handlers(None);
    deltalake::gcp::register_handlers(None);
    let memory = Url::parse("memory://").expect("a valid URL");
    object_store_factories().insert(memory, MEMORY.clone());
    crate::log_store::ensure_registered();
}

/// `memory://` tables live as long as the process, seen by every handle, reader and writer in it
/// (as a local disk's are). delta-rs's default factory gives each handle a new, empty `InMemory`
/// store, so a table written there was gone before anything could read it. One store per host:
/// `memory://a/t` and `memory://b/t` are different tables (delta-rs takes the path from the URL).
#[derive(Debug, Default)]
struct SharedMemory(std::sync::Mutex<HashMap<String, Arc<InMemory>>>);

static MEMORY: std::sync::LazyLock<Arc<SharedMemory>> = std::sync::LazyLock::new(Default::default);

impl SharedMemory {
    fn store(&self, host: &str) -> Arc<InMemory> {
        let mut stores = self.0.lock().unwrap_or_else(|e| e.into_inner());
        stores.entry(host.to_string()).or_default().clone()
    }
}

/// Where the file input adapters' byte inputs (a Buffer, a chunk of a stream) are put to be read
/// as files: `memory://zoopipe-inputs/`.
const INPUTS: &str = "zoopipe-inputs";

/// Put `bytes` as an input file named `name` (unique per input); its `memory://` URI.
pub async fn put_memory_input(name: &str, bytes: Vec<u8>) -> ZResult<String> {
    let path = Path::parse(name).map_err(|e| ZError::invalid(e.to_string()))?;
    MEMORY
        .store(INPUTS)
        .put(&path, bytes.into())
        .await
        .map_err(ZError::from)?;
    Ok(format!("memory://{INPUTS}/{path}"))
}

/// Forget an input file [`put_memory_input`] made (unknown: nothing to do).
pub async fn delete_memory_input(name: &str) -> ZResult<()> {
    let path = Path::parse(name).map_err(|e| ZError::invalid(e.to_string()))?;
    match MEMORY.store(INPUTS).delete(&path).await {
        Ok(()) | Err(deltalake::ObjectStoreError::NotFound { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

impl ObjectStoreFactory for SharedMemory {
    fn parse_url_opts(
        &self,
        url: &Url,
        _config: &StorageConfig,
    ) -> deltalake::DeltaResult<(ObjectStoreRef, Path)> {
        let store = self.store(url.host_str().unwrap_or(""));
        let path = Path::from_url_path(url.path())
            .map_err(|e| deltalake::DeltaTableError::InvalidTableLocation(e.to_string()))?;
        Ok((store, path))
    }
}

fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_uppercase();
    [
        "SECRET",
        "KEY",
        "TOKEN",
        "SAS",
        "PASSWORD",
        "CREDENTIAL",
        "SIGNATURE",
    ]
    .iter()
    .any(|s| k.contains(s))
}

/// Defaults that bound how long a request to an unreachable or failing store can take (object_store
/// alone retries for up to 3 minutes). Any of them can be overridden with the same key.
const CLOUD_DEFAULTS: [(&str, &str); 3] = [
    ("max_retries", "4"),
    ("retry_timeout", "30s"),
    ("connect_timeout", "10s"),
];

fn is_local(uri: &str) -> bool {
    uri.starts_with("file:") || !uri.contains("://")
}

/// Storage options as delta-rs takes them, plus [`CLOUD_DEFAULTS`] for remote stores. Secret values
/// (given here or in the environment, which delta-rs falls back to) are registered for redaction
/// from every error message.
pub fn storage_options(
    uri: &str,
    given: Option<HashMap<String, String>>,
) -> HashMap<String, String> {
    let mut given = given.unwrap_or_default();
    if !is_local(uri) {
        for (k, v) in CLOUD_DEFAULTS {
            if !given.keys().any(|g| g.eq_ignore_ascii_case(k)) {
                given.insert(k.to_string(), v.to_string());
            }
        }
    }
    for (k, v) in &given {
        if is_secret_key(k) {
            register_secret(v);
        }
    }
    for (k, v) in std::env::vars() {
        if (k.starts_with("AWS_") || k.starts_with("AZURE_") || k.starts_with("GOOGLE_"))
            && is_secret_key(&k)
        {
            register_secret(&v);
        }
    }
    given
}

/// `url` with exactly one trailing slash, so that table URLs compare equal however they were given.
pub(crate) fn trailing_slash(url: &str) -> String {
    if url.ends_with('/') {
        url.to_string()
    } else {
        format!("{url}/")
    }
}

/// The table URL of an existing table (local paths must exist).
pub fn existing_table_url(uri: &str) -> ZResult<Url> {
    if uri.trim().is_empty() {
        return Err(ZError::invalid("table URI must not be empty"));
    }
    parse_table_uri(uri).map_err(|e| ZError::from(e).context(uri))
}

/// What version of a table to load.
#[derive(Debug, Clone, Copy, Default)]
pub enum At {
    #[default]
    Latest,
    Version(i64),
    /// Milliseconds since the epoch: the latest version committed at or before it.
    Timestamp(f64),
}

impl At {
    pub fn from_options(version: Option<i64>, timestamp_ms: Option<f64>) -> ZResult<At> {
        match (version, timestamp_ms) {
            (Some(_), Some(_)) => Err(ZError::invalid(
                "give either version or timestamp, not both",
            )),
            (Some(v), None) if v < 0 => {
                Err(ZError::invalid(format!("version must be >= 0, got {v}")))
            }
            (Some(v), None) => Ok(At::Version(v)),
            (None, Some(t)) if !t.is_finite() => {
                Err(ZError::invalid("timestamp is not a valid date"))
            }
            (None, Some(t)) => Ok(At::Timestamp(t)),
            (None, None) => Ok(At::Latest),
        }
    }
}

pub(crate) fn to_datetime(ms: f64) -> ZResult<DateTime<Utc>> {
    Utc.timestamp_millis_opt(ms as i64)
        .single()
        .ok_or_else(|| ZError::invalid(format!("timestamp {ms} is out of range")))
}

/// An S3 endpoint (given, or from the environment as object_store reads it) must be an http(s) URL:
/// object_store 0.13's S3 client panics building a request to one that is not ("request valid:
/// InvalidUri"), which reached the caller as INTERNAL "task panicked", with the panic on stderr.
pub(crate) fn check_s3_endpoint(url: &Url, options: &HashMap<String, String>) -> ZResult<()> {
    if !matches!(url.scheme(), "s3" | "s3a") {
        return Ok(());
    }
    const KEYS: [&str; 4] = [
        "aws_endpoint_url",
        "aws_endpoint",
        "endpoint_url",
        "endpoint",
    ];
    let given = options
        .iter()
        .find(|(k, _)| KEYS.iter().any(|key| k.eq_ignore_ascii_case(key)))
        .map(|(k, v)| (k.clone(), v.clone()));
    let from_env = || {
        ["AWS_ENDPOINT_URL", "AWS_ENDPOINT"]
            .iter()
            .find_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
    };
    let Some((key, value)) = given.or_else(from_env) else {
        return Ok(());
    };
    match Url::parse(&value) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        _ => Err(ZError::invalid(format!(
            "storage option {key} must be an http(s) URL such as http://127.0.0.1:9000, got '{value}'"
        ))),
    }
}

fn builder(url: Url, options: &HashMap<String, String>) -> ZResult<DeltaTableBuilder> {
    check_s3_endpoint(&url, options)?;
    crate::log_store::ensure_registered();
    Ok(DeltaTableBuilder::from_url(url)?.with_storage_options(options.clone()))
}

/// Open a table at the latest version, a version, or a point in time.
pub async fn open_table(
    uri: &str,
    options: &HashMap<String, String>,
    at: At,
) -> ZResult<DeltaTable> {
    let url = existing_table_url(uri)?;
    let mut table = builder(url, options)?
        .build()
        .map_err(|e| ZError::from(e).context(uri))?;
    load_at(&mut table, at).await.map_err(|e| e.context(uri))?;
    Ok(table)
}

/// The log store of the table at `uri`, nothing read yet.
pub fn log_store(
    uri: &str,
    options: &HashMap<String, String>,
) -> ZResult<deltalake::logstore::LogStoreRef> {
    let url = existing_table_url(uri)?;
    Ok(builder(url, options)?.build()?.log_store())
}

/// Load `table` (already opened or not) at `at`, with errors that say what exists.
pub async fn load_at(table: &mut DeltaTable, at: At) -> ZResult<()> {
    let result = match at {
        At::Latest => table.load().await,
        At::Version(v) => table.load_version(v as u64).await,
        At::Timestamp(ms) => table.load_with_datetime(to_datetime(ms)?).await,
    };
    if let Err(e) = result {
        let err = ZError::from(e);
        if let At::Version(v) = at {
            // Whatever delta-rs said, a version past the end is a missing version, and so is one
            // whose commits are gone from a table that exists (the kernel says "no files in log
            // segment", which delta-rs reports as not a table).
            if let Some(latest) = latest_version(table).await {
                if v as u64 > latest {
                    return Err(ZError::new(
                        Code::VersionNotFound,
                        format!("version {v} does not exist (latest version is {latest})"),
                    ));
                }
                if err.code == Code::TableNotFound {
                    return Err(ZError::new(
                        Code::VersionNotFound,
                        format!(
                            "version {v} can no longer be read: its commits are gone from the log (log retention, cleanupMetadata); the latest version is {latest}"
                        ),
                    ));
                }
            }
        }
        return Err(err);
    }
    if let At::Timestamp(ms) = at {
        let version = table.snapshot()?.version();
        if let Some(committed) = commit_time(table, version).await
            && committed as f64 > ms
        {
            return Err(ZError::new(
                Code::VersionNotFound,
                format!(
                    "no version was committed at or before {} (the earliest available version {version} was committed at {})",
                    to_datetime(ms)?.to_rfc3339(),
                    to_datetime(committed as f64)?.to_rfc3339()
                ),
            ));
        }
    }
    Ok(())
}

/// When `version` was committed (its commit file's time, as time travel by timestamp counts it).
/// The snapshot knows it for the commits after its checkpoint; for the checkpoint's own version
/// (the earliest one left after log cleanup, for instance) the commit file is asked, if it is there.
async fn commit_time(table: &DeltaTable, version: u64) -> Option<i64> {
    if let Some(t) = table.snapshot().ok()?.snapshot().version_timestamp(version) {
        return Some(t);
    }
    let commit = deltalake::logstore::commit_uri_from_version(Some(version));
    table
        .log_store()
        .object_store(None)
        .head(&commit)
        .await
        .ok()
        .map(|m| m.last_modified.timestamp_millis())
}

/// The table's latest version, if it has one, however its load at another version failed. Listing
/// the log from the loaded version (`get_latest_version`) needs version 0's commit when nothing is
/// loaded, and that may be gone; the kernel's snapshot starts from the last checkpoint instead.
pub(crate) async fn latest_version(table: &DeltaTable) -> Option<u64> {
    match table.get_latest_version().await {
        Ok(v) => Some(v),
        Err(_) => deltalake::kernel::Snapshot::try_new(table.log_store().as_ref(), None)
            .await
            .ok()
            .map(|s| s.version()),
    }
}

/// The actions of the commit at `version`, or `None` when its log file is gone (log retention).
pub async fn commit_actions(
    log_store: &deltalake::logstore::LogStoreRef,
    version: u64,
) -> ZResult<Option<Vec<serde_json::Value>>> {
    let Some(bytes) = log_store.read_commit_entry(version).await? else {
        return Ok(None);
    };
    bytes
        .split(|b| *b == b'\n')
        .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
        .map(|line| {
            serde_json::from_slice(line).map_err(|e| {
                ZError::new(
                    Code::Protocol,
                    format!("invalid JSON in log version {version}: {e}"),
                )
            })
        })
        .collect::<ZResult<Vec<_>>>()
        .map(Some)
}

/// The table at `uri` if it exists (loaded), else an unloaded handle to create it with (writers).
pub async fn table_or_new(
    uri: &str,
    options: &HashMap<String, String>,
) -> ZResult<(DeltaTable, bool)> {
    let url = deltalake::ensure_table_uri(uri).map_err(|e| ZError::from(e).context(uri))?;
    let mut table = builder(url, options)?.build()?;
    let exists = table
        .verify_deltatable_existence()
        .await
        .map_err(|e| ZError::from(e).context(uri))?;
    if exists {
        table
            .load()
            .await
            .map_err(|e| ZError::from(e).context(uri))?;
    }
    Ok((table, exists))
}

/// Whether `uri` holds a Delta table (false for missing paths and non-table directories).
pub async fn is_delta_table(uri: &str, options: &HashMap<String, String>) -> ZResult<bool> {
    let url = match existing_table_url(uri) {
        Ok(url) => url,
        Err(e) if e.code == Code::TableNotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    let table = builder(url, options)?.build()?;
    Ok(table.verify_deltatable_existence().await?)
}

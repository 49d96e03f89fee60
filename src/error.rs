//! The one place where every library error becomes a zoopipe error code (like delta-rs's
//! `python/src/error.rs`). The JS layer turns the `[CODE] message` reason into a `DeltaError`.
//!
//! Why the code travels in the reason and not as napi's error status (`napi::Error<S>`, which
//! becomes `err.code`): napi-rs 3.16 settles an async method's promise through
//! `execute_tokio_future`, which takes `Into<napi::Error>` — napi's own fixed `Status` enum — so a
//! custom status cannot cross an async method, and two mechanisms (sync vs async) would be worse
//! than one.

use std::collections::BTreeSet;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{LazyLock, RwLock};

use deltalake::arrow::error::ArrowError;
#[cfg(feature = "datafusion")]
use deltalake::datafusion::error::DataFusionError;
use deltalake::kernel::transaction::TransactionError;
use deltalake::parquet::errors::ParquetError;
use deltalake::{DeltaTableError, ObjectStoreError};
use futures::FutureExt;

/// Keeps the one panic the libraries raise and catch by design off the host's stderr: delta-rs
/// aborts a failed multipart upload with object_store's `BufWriter::abort`, which panics ("Already
/// shut down") once the upload's completion has begun; delta-rs catches it
/// (`datafile::writer::upload_parquet_file`) and returns the upload's error, but Rust's default hook
/// had already printed a panic and a backtrace, as if zoopipe had crashed (CI log of a data upload
/// reset mid-completion). Every other panic is printed as before and still reaches JS as INTERNAL.
pub fn quiet_caught_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let caught_by_design = info.location().is_some_and(|l| {
            l.file().contains("object_store") && l.file().ends_with("buffered.rs")
        }) && info
            .payload()
            .downcast_ref::<&str>()
            .is_some_and(|m| *m == "Already shut down");
        if !caught_by_design {
            default(info);
        }
    }));
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    TableNotFound,
    VersionNotFound,
    SchemaMismatch,
    InvalidArgument,
    InvalidData,
    CommitConflict,
    Storage,
    UnsupportedFeature,
    Protocol,
    Aborted,
    Internal,
}

impl Code {
    /// Every code, the one list (JS reads it through `errorCodes()`; a test holds `lib/errors.js`
    /// and `index.d.ts` to it).
    pub const ALL: [Code; 11] = [
        Code::TableNotFound,
        Code::VersionNotFound,
        Code::SchemaMismatch,
        Code::InvalidArgument,
        Code::InvalidData,
        Code::CommitConflict,
        Code::Storage,
        Code::UnsupportedFeature,
        Code::Protocol,
        Code::Aborted,
        Code::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::TableNotFound => "TABLE_NOT_FOUND",
            Code::VersionNotFound => "VERSION_NOT_FOUND",
            Code::SchemaMismatch => "SCHEMA_MISMATCH",
            Code::InvalidArgument => "INVALID_ARGUMENT",
            Code::InvalidData => "INVALID_DATA",
            Code::CommitConflict => "COMMIT_CONFLICT",
            Code::Storage => "STORAGE",
            Code::UnsupportedFeature => "UNSUPPORTED_FEATURE",
            Code::Protocol => "PROTOCOL",
            Code::Aborted => "ABORTED",
            Code::Internal => "INTERNAL",
        }
    }
}

#[derive(Debug)]
pub struct ZError {
    pub code: Code,
    pub message: String,
}

pub type ZResult<T> = Result<T, ZError>;

impl ZError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// What the slim build (no DataFusion) cannot do.
    pub fn needs_full(what: &str) -> Self {
        ZError::new(
            Code::UnsupportedFeature,
            format!(
                "{what} needs the full zoopipe build (this is the slim build, without DataFusion)"
            ),
        )
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(Code::InvalidArgument, message)
    }
    /// Prefix the message with where it happened (e.g. the table URI), keeping the code.
    pub fn context(mut self, what: impl std::fmt::Display) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }
}

impl std::fmt::Display for ZError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}] {}", self.code.as_str(), self.message)
    }
}

// ---- secrets: every value a user handed us as a credential is scrubbed from every message ----

static SECRETS: LazyLock<RwLock<BTreeSet<String>>> = LazyLock::new(|| RwLock::new(BTreeSet::new()));

/// Remember a credential value so that no error message can ever carry it.
pub fn register_secret(value: &str) {
    if value.len() >= 4 {
        SECRETS
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(value.to_string());
    }
}

fn redact(message: &str) -> String {
    let mut out = message.to_string();
    for secret in SECRETS.read().unwrap_or_else(|e| e.into_inner()).iter() {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), "***");
        }
    }
    redact_url_passwords(&redact_url_queries(&out))
}

/// A URL's password (`s3://KEY:SECRET@bucket/t`, `https://user:pass@host`): object_store ignores
/// it for table URIs, and messages name the URI. Everything from the user name's ':' to the first
/// '@' goes (a '@' later in a path after a port could take more than the password: never less).
fn redact_url_passwords(message: &str) -> String {
    let mut out = message.to_string();
    let mut from = 0;
    while let Some(pos) = out[from..].find("://") {
        let start = from + pos + 3;
        // To the end of the URL, not of its host: a secret pasted raw may hold a '/'.
        let end = out[start..]
            .find(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == ')')
            .map_or(out.len(), |e| start + e);
        let url = &out[start..end];
        from = end;
        if let Some(at) = url.find('@')
            && let Some(colon) = url[..at].find(':')
            && !url[..colon].contains('/')
        {
            out.replace_range(start + colon + 1..start + at, "***");
            from = start + colon + 4;
        }
    }
    out
}

/// Signed URLs (SAS tokens, presigned S3 URLs) carry their secret in the query string.
fn redact_url_queries(message: &str) -> String {
    const MARKERS: [&str; 6] = [
        "sig=",
        "Signature=",
        "X-Amz-Signature=",
        "X-Amz-Credential=",
        "X-Amz-Security-Token=",
        "token=",
    ];
    let mut out = message.to_string();
    for marker in MARKERS {
        let mut from = 0;
        while let Some(pos) = out[from..].find(marker) {
            let start = from + pos + marker.len();
            let end = out[start..]
                .find(|c: char| c == '&' || c.is_whitespace() || c == '"' || c == '\'' || c == ')')
                .map_or(out.len(), |e| start + e);
            out.replace_range(start..end, "***");
            from = start + 3;
        }
    }
    out
}

impl From<ZError> for napi::Error {
    fn from(e: ZError) -> Self {
        napi::Error::new(
            napi::Status::GenericFailure,
            redact(&missing_file_hint(
                e.code,
                without_backtrace(&e.to_string()),
            )),
        )
    }
}

/// A data file the log lists but the store lacks: the reader's message names the path and "not
/// found"; say what usually did it.
fn missing_file_hint(code: Code, message: &str) -> String {
    let missing = code == Code::Storage
        && message.contains(".parquet")
        && (message.contains("not found") || message.contains("No such file"));
    if missing {
        format!(
            "{message} (a data file of this version is gone: removed by vacuum, or deleted outside Delta)"
        )
    } else {
        message.to_string()
    }
}

/// With RUST_BACKTRACE set, kernel errors print their backtrace after the message ("\n   0: ...",
/// at any depth of the error chain): a DeltaError carries the message only.
fn without_backtrace(message: &str) -> &str {
    let frames = message
        .match_indices('\n')
        .find(|(i, _)| message[i + 1..].trim_start().starts_with("0: "));
    match frames {
        Some((i, _)) => message[..i]
            .trim_end()
            .trim_end_matches("Stack backtrace:")
            .trim_end(),
        None => message,
    }
}

// ---- mapping library errors to codes ----

fn object_store_code(e: &ObjectStoreError) -> Code {
    match e {
        ObjectStoreError::NotFound { .. } => Code::Storage,
        ObjectStoreError::AlreadyExists { .. } | ObjectStoreError::Precondition { .. } => {
            Code::CommitConflict
        }
        ObjectStoreError::NotImplemented { .. } => Code::UnsupportedFeature,
        _ => Code::Storage,
    }
}

fn kernel_code(e: &deltalake::kernel::Error) -> Code {
    use deltalake::kernel::Error as K;
    match e {
        K::ObjectStore(e) => object_store_code(e),
        K::FileNotFound(_) => Code::Storage,
        K::MissingColumn(_) | K::UnexpectedColumnType(_) | K::MissingData(_) => Code::InvalidData,
        K::Parquet(p) => parquet_code(p),
        K::Arrow(a) => arrow_code(a),
        _ => Code::Internal,
    }
}

fn delta_kernel_code(e: &delta_kernel::Error) -> Code {
    use delta_kernel::Error as K;
    match e {
        K::Backtraced { source, .. } => delta_kernel_code(source),
        K::Unsupported(_) | K::ChangeDataFeedUnsupported(_) | K::InvalidColumnMappingMode(_) => {
            Code::UnsupportedFeature
        }
        K::InvalidProtocol(_)
        | K::MissingProtocol
        | K::MissingMetadata
        | K::MissingMetadataAndProtocol
        | K::MalformedJson(_)
        | K::InvalidCheckpoint(_)
        | K::InvalidLogPath(_) => Code::Protocol,
        K::MissingVersion => Code::VersionNotFound,
        K::FileNotFound(_) | K::ObjectStore(_) | K::IOError(_) | K::Reqwest(_) => Code::Storage,
        K::InvalidTableLocation(_) => Code::TableNotFound,
        K::Parquet(p) => parquet_code(p),
        K::Arrow(a) => arrow_code(a),
        K::DeletionVector(_) | K::InvalidPartitionValues(_) => Code::InvalidData,
        K::Schema(_) => Code::SchemaMismatch,
        K::Generic(m) if m.contains("version") && m.contains("not") => Code::VersionNotFound,
        _ => Code::Internal,
    }
}

fn transaction_code(e: &TransactionError) -> Code {
    match e {
        TransactionError::VersionAlreadyExists(_)
        | TransactionError::CommitConflict(_)
        | TransactionError::MaxCommitAttempts(_) => Code::CommitConflict,
        TransactionError::ObjectStore { source } => object_store_code(source),
        TransactionError::UnsupportedTableFeatures(_)
        | TransactionError::TableFeaturesRequired(_) => Code::UnsupportedFeature,
        TransactionError::DeltaTableAppendOnly => Code::Protocol,
        _ => Code::Internal,
    }
}

pub fn delta_code(e: &DeltaTableError) -> Code {
    use DeltaTableError as E;
    match e {
        E::NotATable(_) => Code::TableNotFound,
        E::InvalidTableLocation(m)
            if m.contains("Unknown scheme") || m.contains("Could not parse") =>
        {
            Code::InvalidArgument
        }
        E::InvalidTableLocation(_) => Code::TableNotFound,
        // ChangeDataTimestampGreaterThanCommit: the change data feed asked from after the last commit.
        E::InvalidVersion(_)
        | E::VersionDowngrade { .. }
        | E::ChangeDataTimestampGreaterThanCommit { .. } => Code::VersionNotFound,
        E::KernelError(k) => delta_kernel_code(k),
        E::Kernel { source } => kernel_code(source),
        E::ObjectStore { source } => object_store_code(source),
        E::Parquet { source } => parquet_code(source),
        E::Arrow { source } => arrow_code(source),
        E::InvalidData { .. } | E::InvalidStatsJson { .. } => Code::InvalidData,
        E::InvalidJsonLog { .. } | E::MetadataError(_) | E::NoSchema => Code::Protocol,
        E::SchemaMismatch { .. } => Code::SchemaMismatch,
        E::PartitionError { .. }
        | E::InvalidPartitionFilter { .. }
        | E::InvalidDateTimeString { .. }
        | E::ChangeDataInvalidVersionRange { .. }
        | E::NoStartingVersionOrTimestamp => Code::InvalidArgument,
        E::Transaction { source } => transaction_code(source),
        E::VersionAlreadyExists(_) | E::VersionMismatch(..) => Code::CommitConflict,
        E::MissingFeature { .. }
        | E::UnsupportedColumnMapping { .. }
        | E::ChangeDataNotEnabled { .. }
        | E::ChangeDataNotRecorded { .. } => Code::UnsupportedFeature,
        E::NotInitialized | E::NotInitializedWithFiles(_) => Code::TableNotFound,
        E::Io { .. } => Code::Storage,
        E::GenericError { source } => boxed_code(source.as_ref()),
        _ => Code::Internal,
    }
}

fn boxed_code(e: &(dyn std::error::Error + 'static)) -> Code {
    if let Some(d) = e.downcast_ref::<DeltaTableError>() {
        delta_code(d)
    } else if let Some(o) = e.downcast_ref::<ObjectStoreError>() {
        object_store_code(o)
    } else if let Some(a) = e.downcast_ref::<ArrowError>() {
        arrow_code(a)
    } else if let Some(p) = e.downcast_ref::<ParquetError>() {
        parquet_code(p)
    } else if let Some(k) = e.downcast_ref::<delta_kernel::Error>() {
        delta_kernel_code(k)
    } else {
        #[cfg(feature = "datafusion")]
        if let Some(d) = e.downcast_ref::<DataFusionError>() {
            return datafusion_code(d);
        }
        if e.downcast_ref::<std::io::Error>().is_some() {
            return Code::Storage;
        }
        // Writers wrap a failed upload in their own error types: the cause says what it was.
        match e.source() {
            Some(inner) => boxed_code(inner),
            None => Code::Internal,
        }
    }
}

/// Arrow errors on the read path: JSON ones come from parsing the log, I/O ones from storage.
fn arrow_code(e: &ArrowError) -> Code {
    match e {
        ArrowError::JsonError(_) => Code::Protocol,
        ArrowError::SchemaError(_) => Code::SchemaMismatch,
        ArrowError::IoError(..) => Code::Storage,
        ArrowError::ExternalError(inner) => boxed_code(inner.as_ref()),
        _ => Code::InvalidData,
    }
}

/// Parquet errors: a missing or unreadable object is storage, anything else is bad data.
fn parquet_code(e: &ParquetError) -> Code {
    match e {
        ParquetError::External(inner) => boxed_code(inner.as_ref()),
        // The reader flattens object store errors into text ("... Object Store error: ...").
        ParquetError::General(m) if m.contains("Object Store error") || m.contains("not found") => {
            Code::Storage
        }
        _ => Code::InvalidData,
    }
}

#[cfg(feature = "datafusion")]
pub fn datafusion_code(e: &DataFusionError) -> Code {
    use DataFusionError as D;
    match e {
        D::Context(_, inner) | D::Diagnostic(_, inner) => datafusion_code(inner),
        D::Shared(inner) => datafusion_code(inner),
        D::External(inner) => boxed_code(inner.as_ref()),
        D::ObjectStore(o) => object_store_code(o),
        D::ArrowError(a, _) => arrow_code(a),
        D::ParquetError(p) => parquet_code(p),
        D::Plan(_) | D::SchemaError(..) | D::SQL(..) | D::NotImplemented(_) => {
            Code::InvalidArgument
        }
        D::IoError(_) => Code::Storage,
        _ => Code::Internal,
    }
}

/// delta-rs flattens some caller errors into text (SQL predicates, validation of written rows,
/// partition columns); recognise them so that they do not surface as INTERNAL.
fn code_from_text(message: &str) -> Code {
    const PATTERNS: [(&str, Code); 14] = [
        ("Invalid retention period", Code::InvalidArgument),
        // addConstraint under a name the table uses for another expression.
        (
            "a constraint with this name already exists",
            Code::InvalidArgument,
        ),
        // Source rows that match one target row more than once (as Spark, a data error).
        (
            "matched a target row with multiple source rows",
            Code::InvalidData,
        ),
        // A cloud URI without a bucket or container ("s3://").
        ("Unable to recognise URL", Code::InvalidArgument),
        // DataFusion planning the caller's SQL (DML predicates and expressions), as text; typed
        // planning errors map the same way (`datafusion_code`).
        ("Error during planning", Code::InvalidArgument),
        ("Optimizer rule", Code::InvalidArgument),
        ("Z-order column", Code::InvalidArgument),
        ("Version to restore", Code::InvalidArgument),
        ("sql parser error", Code::InvalidArgument),
        ("not found in schema", Code::InvalidArgument),
        ("No field named", Code::InvalidArgument),
        ("failed validation check", Code::InvalidData),
        ("Cannot cast field", Code::SchemaMismatch),
        ("Schema error", Code::SchemaMismatch),
    ];
    PATTERNS
        .iter()
        .find(|(p, _)| message.contains(p))
        .map_or(Code::Internal, |(_, c)| *c)
}

impl From<DeltaTableError> for ZError {
    fn from(e: DeltaTableError) -> Self {
        if let DeltaTableError::Transaction {
            source: TransactionError::LogStoreError { source, .. },
        } = &e
            && let Some(spent) = source.downcast_ref::<BudgetSpent>()
        {
            return ZError::new(Code::CommitConflict, spent.to_string());
        }
        if let DeltaTableError::Transaction {
            source: TransactionError::MaxCommitAttempts(n),
        } = &e
        {
            // delta-rs says "Failed to commit transaction: 0".
            let msg = match n {
                0 => "another writer committed the next version first, and maxRetries 0 allows no retry; nothing was committed".to_string(),
                n => format!("other writers committed the next version first on each of {} attempts (maxRetries {n}); nothing was committed", n + 1),
            };
            return ZError::new(Code::CommitConflict, msg);
        }
        let code = match delta_code(&e) {
            Code::Internal => code_from_text(&e.to_string()),
            code => code,
        };
        ZError::new(code, e.to_string())
    }
}

impl From<delta_kernel::Error> for ZError {
    fn from(e: delta_kernel::Error) -> Self {
        DeltaTableError::KernelError(e).into()
    }
}

/// Parquet errors of the kernel scan's own file reader (`parquet_kernel.rs`) map as the kernel's reader
/// reported them (a kernel Parquet error).
impl From<ParquetError> for ZError {
    fn from(e: ParquetError) -> Self {
        delta_kernel::Error::from(e).into()
    }
}

#[cfg(feature = "datafusion")]
impl From<DataFusionError> for ZError {
    fn from(e: DataFusionError) -> Self {
        let code = match datafusion_code(&e) {
            Code::Internal => code_from_text(&e.to_string()),
            code => code,
        };
        ZError::new(code, e.to_string())
    }
}

impl From<ArrowError> for ZError {
    fn from(e: ArrowError) -> Self {
        ZError::new(arrow_code(&e), e.to_string())
    }
}

impl From<ObjectStoreError> for ZError {
    fn from(e: ObjectStoreError) -> Self {
        ZError::new(object_store_code(&e), e.to_string())
    }
}

impl From<serde_json::Error> for ZError {
    fn from(e: serde_json::Error) -> Self {
        ZError::invalid(e.to_string())
    }
}

/// For readers of plain data files: a parse failure there is bad input data (INVALID_DATA), not a
/// corrupted Delta log (PROTOCOL) as the same arrow error means on the table read path.
pub fn as_data_error(mut e: ZError) -> ZError {
    if e.code == Code::Protocol {
        e.code = Code::InvalidData;
    }
    e
}

// ---- the boundary: no panic reaches Node ----

pub(crate) fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

/// Run a future for JS: a panic inside becomes an `INTERNAL` error instead of aborting the process,
/// and every error is converted (and redacted) at this one boundary.
pub async fn guard<T, F>(fut: F) -> napi::Result<T>
where
    F: Future<Output = ZResult<T>>,
{
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(result) => result.map_err(Into::into),
        Err(payload) => Err(ZError::new(
            Code::Internal,
            format!("native panic: {}", panic_message(payload)),
        )
        .into()),
    }
}

/// The synchronous twin of [`guard`].
pub fn guard_sync<T>(f: impl FnOnce() -> ZResult<T>) -> napi::Result<T> {
    match std::panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result.map_err(Into::into),
        Err(payload) => Err(ZError::new(
            Code::Internal,
            format!("native panic: {}", panic_message(payload)),
        )
        .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backtrace_after_the_message_is_cut() {
        assert_eq!(
            without_backtrace("bad type: Duration\n   0: kernel::Error::with_backtrace\n   1: x"),
            "bad type: Duration"
        );
        assert_eq!(without_backtrace("a\nStack backtrace:\n   0: f"), "a");
        assert_eq!(
            without_backtrace("line one\nline two 0: not a frame"),
            "line one\nline two 0: not a frame"
        );
    }

    #[test]
    fn redacts_registered_secrets_and_signed_query_strings() {
        register_secret("hunter2-secret");
        let msg = redact("failed https://x/y?sv=1&sig=abc%2Fdef&se=2 with key hunter2-secret");
        assert!(!msg.contains("hunter2-secret"), "{msg}");
        assert!(!msg.contains("abc%2Fdef"), "{msg}");
        assert!(msg.contains("sig=***&se=2"), "{msg}");
    }

    #[test]
    fn redacts_passwords_in_urls() {
        let msg = redact(
            "s3://AKIAX:wJalr/K7MDENG@bucket/t: failed; endpoint 'ftp://user:pa:ss@host:9000/x' and http://host:9000/p",
        );
        assert_eq!(
            msg,
            "s3://AKIAX:***@bucket/t: failed; endpoint 'ftp://user:***@host:9000/x' and http://host:9000/p"
        );
    }
}

/// The error of a commit whose budget ran out (`log_store.rs`): COMMIT_CONFLICT.
#[derive(Debug)]
pub struct BudgetSpent {
    pub budget: std::time::Duration,
    pub attempts: u32,
}

impl std::fmt::Display for BudgetSpent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "other writers committed first on each of {} attempts within the commit budget of {} ms (commitTimeoutMs); nothing was committed",
            self.attempts,
            self.budget.as_millis()
        )
    }
}

impl std::error::Error for BudgetSpent {}

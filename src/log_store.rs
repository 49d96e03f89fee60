//! Every commit's log write, whichever code path made the commit (the adapter's `WriteBuilder`,
//! parallel appends, the coordinator, DML, maintenance): each goes through delta-rs's
//! `PreparedCommit`, which puts `_delta_log/<version>.json` if absent and, when another writer took
//! that version, checks the winner for conflicts and tries the next one. This wrapper around the
//! table's log store adds what that loop lacks for many writers on one table:
//!
//! - **Backoff.** A lost race waits a jittered, exponentially growing pause (capped at
//!   [`MAX_PAUSE`]) before delta-rs tries the next version, instead of retrying at once: 16
//!   processes retrying immediately kept losing to each other until their 15 retries ran out.
//! - **A time budget, not a retry count.** Our commits allow unbounded retries
//!   (`options::commit_properties`); a commit gives up when its budget (`commitTimeoutMs`, default
//!   [`DEFAULT_BUDGET`]) runs out, as COMMIT_CONFLICT naming the budget and the attempts made.
//!   Retrying is always safe here: delta-rs re-runs its conflict checks against every commit that
//!   won, so an overwrite, replaceWhere or DML that really conflicts still fails at once.
//! - **Ambiguous writes.** An object store may apply a PUT whose response is lost (a timeout, a
//!   reset); object_store then retries it and gets "already exists", or reports the error. Either
//!   way the version may hold this very commit. The entry is read back: when it is byte-for-byte
//!   what this attempt wrote (commit files carry a timestamp and unique file names, so no other
//!   writer writes the same bytes), the commit succeeded, and is neither written again at the next
//!   version (the same data twice in the log) nor reported as failed (data in the table).

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use deltalake::kernel::transaction::TransactionError;
use deltalake::logstore::object_store::ObjectStore;
use deltalake::logstore::{
    CommitOrBytes, LogStore, LogStoreConfig, LogStoreFactory, LogStoreRef, ObjectStoreRef,
    StorageConfig, logstore_factories,
};
use deltalake::{DeltaResult, Path};
use url::Url;
use uuid::Uuid;

use crate::error::BudgetSpent;

/// How long a commit may keep retrying lost races when the caller gives no `commitTimeoutMs`.
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(120);
/// The first pause after a lost race; it doubles per loss up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(4);
const MAX_PAUSE: Duration = Duration::from_millis(100);
/// Reads of a version whose write ended in an error, to learn whether the write was applied.
const CHECK_READS: u32 = 5;

tokio::task_local! {
    /// The commit budget of the operation running in this task (see [`with_budget`]).
    static BUDGET: Duration;
}

/// Run `fut` (a write, a coordinator commit, an operation) with `budget` for each of its commits.
pub async fn with_budget<F: Future>(budget: Option<Duration>, fut: F) -> F::Output {
    BUDGET.scope(budget.unwrap_or(DEFAULT_BUDGET), fut).await
}

/// `commitTimeoutMs`, checked.
pub fn budget(ms: Option<f64>) -> crate::error::ZResult<Option<Duration>> {
    match ms {
        None => Ok(None),
        Some(ms) if ms.is_finite() && ms >= 0.0 => Ok(Some(Duration::from_millis(ms as u64))),
        Some(_) => Err(crate::error::ZError::invalid(
            "commitTimeoutMs must be a number of milliseconds >= 0",
        )),
    }
}

/// What a log version holds, read back after a write that did not plainly succeed.
enum Entry {
    /// Exactly the bytes this attempt wrote: the commit is in the log.
    Ours,
    /// Another writer's commit.
    Theirs,
    Absent,
    /// It could not be read.
    Unknown,
}

/// One commit's lost races so far.
struct Attempts {
    started: Instant,
    lost: u32,
}

/// The table's log store (delta-rs's, for every scheme) with the behaviour described above.
struct SafeLogStore {
    inner: LogStoreRef,
    /// By delta-rs's operation id, which is the same for every attempt of one commit.
    commits: Mutex<HashMap<Uuid, Attempts>>,
}

/// A pause in `[d/2, d)` for `d` the capped exponential delay after `lost` losses.
fn pause(lost: u32) -> Duration {
    let d = FIRST_PAUSE
        .saturating_mul(1u32 << lost.min(16).saturating_sub(1))
        .min(MAX_PAUSE);
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let half = d.as_micros() as u64 / 2;
    Duration::from_micros(half + random % half.max(1))
}

impl SafeLogStore {
    /// What `version` holds, read back up to [`CHECK_READS`] times while the read fails.
    async fn read_back(&self, version: u64, bytes: &Bytes) -> Entry {
        for attempt in 0..CHECK_READS {
            match self.inner.read_commit_entry(version).await {
                Ok(Some(found)) if found == *bytes => return Entry::Ours,
                Ok(Some(_)) => return Entry::Theirs,
                Ok(None) => return Entry::Absent,
                Err(_) => tokio::time::sleep(pause(attempt + 2)).await,
            }
        }
        Entry::Unknown
    }

    fn finish(&self, id: Uuid) {
        self.commits
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
    }

    /// A lost race: pause, or give up when the budget is spent.
    async fn lost(&self, id: Uuid, version: u64) -> TransactionError {
        let budget = BUDGET.try_with(|b| *b).unwrap_or(DEFAULT_BUDGET);
        let (elapsed, lost) = {
            let mut commits = self.commits.lock().unwrap_or_else(|e| e.into_inner());
            // A commit that a conflict ended never writes again: forget entries past any budget.
            commits.retain(|k, a| *k == id || a.started.elapsed() <= budget.max(DEFAULT_BUDGET));
            let a = commits.entry(id).or_insert_with(|| Attempts {
                started: Instant::now(),
                lost: 0,
            });
            a.lost += 1;
            (a.started.elapsed(), a.lost)
        };
        let wait = pause(lost);
        if elapsed + wait > budget {
            self.finish(id);
            return TransactionError::LogStoreError {
                msg: "commit budget spent".into(),
                source: Box::new(BudgetSpent {
                    budget,
                    attempts: lost,
                }),
            };
        }
        tokio::time::sleep(wait).await;
        TransactionError::VersionAlreadyExists(version)
    }
}

#[async_trait]
impl LogStore for SafeLogStore {
    fn name(&self) -> String {
        // delta-rs chooses how to hand over the commit (bytes or a temporary file) by this name.
        self.inner.name()
    }

    async fn refresh(&self) -> DeltaResult<()> {
        self.inner.refresh().await
    }

    async fn read_commit_entry(&self, version: u64) -> DeltaResult<Option<Bytes>> {
        self.inner.read_commit_entry(version).await
    }

    async fn write_commit_entry(
        &self,
        version: u64,
        commit: CommitOrBytes,
        id: Uuid,
    ) -> Result<(), TransactionError> {
        let CommitOrBytes::LogBytes(bytes) = &commit else {
            // Stores that commit by renaming a temporary file (none of ours): as delta-rs does.
            return self.inner.write_commit_entry(version, commit, id).await;
        };
        let bytes = bytes.clone();
        // A failpoint for the tests (dev builds only): hold every commit just before its log write,
        // so a test can kill the process at that moment.
        #[cfg(feature = "test-hooks")]
        if let Some(ms) = std::env::var("ZOOPIPE_TEST_PAUSE_BEFORE_LOG_WRITE_MS")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        }
        if !crate::cancel::enter_commit() {
            self.finish(id);
            return Err(TransactionError::LogStoreError {
                msg: "aborted by its signal before the log write".into(),
                source: "aborted".into(),
            });
        }
        let mut failures = 0;
        loop {
            // "Already exists" may be our own earlier try of this very write (object_store retried
            // it after a lost response); any other error may have been applied all the same.
            let error = match self
                .inner
                .write_commit_entry(version, commit.clone(), id)
                .await
            {
                Ok(()) => {
                    self.finish(id);
                    return Ok(());
                }
                Err(TransactionError::VersionAlreadyExists(_)) => None,
                Err(e) => Some(e),
            };
            match (self.read_back(version, &bytes).await, error) {
                (Entry::Ours, _) => {
                    self.finish(id);
                    return Ok(());
                }
                (Entry::Theirs, _) | (Entry::Absent | Entry::Unknown, None) => {
                    // Not ours: a signal may stop the retry at the next version.
                    crate::cancel::leave_commit();
                    return Err(self.lost(id, version).await);
                }
                // Nothing there after an error: the put failed before it was applied, and a
                // put-if-absent is safe to try again, a few times.
                (Entry::Absent, Some(_)) if failures < CHECK_READS => {
                    failures += 1;
                    tokio::time::sleep(pause(failures + 1)).await;
                }
                (Entry::Absent | Entry::Unknown, Some(e)) => {
                    self.finish(id);
                    return Err(e);
                }
            }
        }
    }

    async fn abort_commit_entry(
        &self,
        version: u64,
        commit: CommitOrBytes,
        id: Uuid,
    ) -> Result<(), TransactionError> {
        self.finish(id);
        self.inner.abort_commit_entry(version, commit, id).await
    }

    async fn get_latest_version(&self, start: u64) -> DeltaResult<u64> {
        self.inner.get_latest_version(start).await
    }

    fn object_store(&self, id: Option<Uuid>) -> Arc<dyn ObjectStore> {
        self.inner.object_store(id)
    }

    fn root_object_store(&self, id: Option<Uuid>) -> Arc<dyn ObjectStore> {
        self.inner.root_object_store(id)
    }

    fn engine(&self, id: Option<Uuid>) -> Arc<dyn delta_kernel::Engine> {
        self.inner.engine(id)
    }

    fn to_uri(&self, location: &Path) -> String {
        self.inner.to_uri(location)
    }

    fn root_url(&self) -> &Url {
        self.inner.root_url()
    }

    fn log_path(&self) -> &Path {
        self.inner.log_path()
    }

    fn transaction_url(&self, id: Option<Uuid>) -> DeltaResult<Url> {
        self.inner.transaction_url(id)
    }

    async fn is_delta_table_location(&self) -> DeltaResult<bool> {
        self.inner.is_delta_table_location().await
    }

    fn config(&self) -> &LogStoreConfig {
        self.inner.config()
    }

    #[cfg(feature = "datafusion")]
    fn object_store_url(&self) -> deltalake::datafusion::execution::object_store::ObjectStoreUrl {
        self.inner.object_store_url()
    }
}

/// Makes each scheme's log store a [`SafeLogStore`] around the one delta-rs would make.
struct SafeFactory(Arc<dyn LogStoreFactory>);

impl LogStoreFactory for SafeFactory {
    fn with_options(
        &self,
        prefixed: ObjectStoreRef,
        root: ObjectStoreRef,
        location: &Url,
        options: &StorageConfig,
    ) -> DeltaResult<LogStoreRef> {
        let inner = self.0.with_options(prefixed, root, location, options)?;
        Ok(Arc::new(SafeLogStore {
            inner,
            commits: Mutex::new(HashMap::new()),
        }))
    }
}

/// Wrap every registered scheme's log store factory that is not wrapped yet. Called before every
/// table is opened: deltalake registers its cloud factories from load-time constructors, which may
/// run after the addon's module init and replace what it wrapped there (seen: S3 commits bypassed
/// the wrapper while local ones went through it).
pub fn ensure_registered() {
    static OURS: Mutex<Vec<(Url, Arc<dyn LogStoreFactory>)>> = Mutex::new(Vec::new());
    let registry = logstore_factories();
    let mut ours = OURS.lock().unwrap_or_else(|e| e.into_inner());
    let current: Vec<(Url, Arc<dyn LogStoreFactory>)> = registry
        .iter()
        .map(|e| (e.key().clone(), e.value().clone()))
        .collect();
    for (scheme, factory) in current {
        if ours
            .iter()
            .any(|(s, f)| *s == scheme && Arc::ptr_eq(f, &factory))
        {
            continue;
        }
        let wrapped: Arc<dyn LogStoreFactory> = Arc::new(SafeFactory(factory));
        registry.insert(scheme.clone(), wrapped.clone());
        ours.retain(|(s, _)| *s != scheme);
        ours.push((scheme, wrapped));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_grow_with_losses_and_stay_under_the_cap() {
        for lost in 1..40 {
            let p = pause(lost);
            let d = FIRST_PAUSE
                .saturating_mul(1u32 << (lost.min(16) - 1))
                .min(MAX_PAUSE);
            assert!(
                p >= d / 2 && p < d,
                "pause {p:?} after {lost} losses outside [{:?}, {d:?})",
                d / 2
            );
        }
        assert!(pause(30) >= MAX_PAUSE / 2);
    }

    #[test]
    fn a_spent_budget_says_how_long_and_how_often() {
        let msg = BudgetSpent {
            budget: Duration::from_millis(1500),
            attempts: 7,
        }
        .to_string();
        assert!(
            msg.contains("1500 ms")
                && msg.contains("commitTimeoutMs")
                && msg.contains("7 attempts"),
            "{msg}"
        );
    }
}

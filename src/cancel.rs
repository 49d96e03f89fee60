//! Cancelling a running table operation from JS (`signal: AbortSignal`). The JS layer takes a
//! token before it starts the operation and calls `cancel` when its signal aborts. An operation
//! cancelled before its log write is dropped — its native work stops, nothing is committed, it
//! fails with ABORTED; one whose log write has begun runs to its end (a dropped write could land
//! without us knowing), so an abort that comes that late reports the commit. The log store
//! (`log_store.rs`) marks that point with [`enter_commit`], which refuses the write once cancelled.
//! A table writer commits from its own task: it scopes that task with its [`Cancel`] ([`scope`])
//! and lends it to the token of its `close()` ([`adopt`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::SeqCst};
use std::sync::{Arc, LazyLock, Mutex};

use tokio::sync::Notify;

use crate::error::{Code, ZError, ZResult};

/// One operation's cancel state.
#[derive(Default)]
pub struct Cancel {
    cancelled: AtomicBool,
    in_commit: AtomicBool,
    notify: Notify,
}

static TOKENS: LazyLock<Mutex<HashMap<u32, Arc<Cancel>>>> = LazyLock::new(Default::default);
static NEXT: AtomicU32 = AtomicU32::new(1);

tokio::task_local! {
    static CURRENT: Arc<Cancel>;
}

fn tokens() -> std::sync::MutexGuard<'static, HashMap<u32, Arc<Cancel>>> {
    TOKENS.lock().unwrap_or_else(|e| e.into_inner())
}

/// A new token for one operation.
pub fn token() -> u32 {
    let id = NEXT.fetch_add(1, SeqCst);
    tokens().insert(id, Arc::default());
    id
}

/// Token `id` now stands for `c` (a writer's, whose task commits): cancelling the token cancels
/// `c`, and a cancel that came before carries over.
pub fn adopt(id: u32, c: &Arc<Cancel>) {
    let mut tokens = tokens();
    if let Some(old) = tokens.get(&id) {
        if old.cancelled.load(SeqCst) {
            c.cancelled.store(true, SeqCst);
        }
        tokens.insert(id, c.clone());
    }
}

/// `fut` (a task that commits) under `c`: its log write checks `c` ([`enter_commit`]).
pub fn scope<F: Future>(c: Arc<Cancel>, fut: F) -> impl Future<Output = F::Output> {
    CURRENT.scope(c, fut)
}

/// The operation's signal aborted (a token already finished or unknown: nothing to do).
pub fn cancel(id: u32) {
    if let Some(c) = tokens().get(&id) {
        c.cancelled.store(true, SeqCst);
        c.notify.notify_one();
    }
}

fn aborted() -> ZError {
    ZError::new(
        Code::Aborted,
        "aborted by its signal before it committed; nothing was committed",
    )
}

/// Forgets the token when the operation ends.
struct Forget(u32);

impl Drop for Forget {
    fn drop(&mut self) {
        tokens().remove(&self.0);
    }
}

/// Run `fut` under token `id` (none: as it is); see the module header.
pub async fn run<T>(id: Option<u32>, fut: impl Future<Output = ZResult<T>>) -> ZResult<T> {
    let Some(c) = id.and_then(|id| tokens().get(&id).cloned()) else {
        return fut.await;
    };
    let _forget = Forget(id.unwrap_or_default());
    if c.cancelled.load(SeqCst) {
        return Err(aborted());
    }
    let fut = CURRENT.scope(c.clone(), fut);
    tokio::pin!(fut);
    let result = tokio::select! {
        r = &mut fut => r,
        _ = c.notify.notified() => {
            // `cancelled` was set before this reads `in_commit`, and `enter_commit` sets
            // `in_commit` before it reads `cancelled`: either the write sees the cancel and
            // refuses, or this sees the write and lets it finish.
            if c.in_commit.load(SeqCst) { fut.await } else { return Err(aborted()) }
        }
    };
    match result {
        Err(_) if c.cancelled.load(SeqCst) && !c.in_commit.load(SeqCst) => Err(aborted()),
        r => r,
    }
}

/// Called by the log store as a commit's write begins: false (write nothing) once the
/// operation was cancelled; after true, a cancel no longer drops the operation.
pub fn enter_commit() -> bool {
    CURRENT
        .try_with(|c| {
            c.in_commit.store(true, SeqCst);
            if c.cancelled.load(SeqCst) {
                c.in_commit.store(false, SeqCst);
                return false;
            }
            true
        })
        .unwrap_or(true)
}

/// The log write did not land (another writer's entry is there): a cancel may drop the operation
/// again before its next try.
pub fn leave_commit() {
    let _ = CURRENT.try_with(|c| c.in_commit.store(false, SeqCst));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// An operation that waits `before` ms, then "commits" (enter_commit) and waits `during` ms.
    async fn op(before: u64, during: u64) -> ZResult<&'static str> {
        tokio::time::sleep(Duration::from_millis(before)).await;
        if !enter_commit() {
            return Err(ZError::new(Code::Internal, "log write refused"));
        }
        tokio::time::sleep(Duration::from_millis(during)).await;
        Ok("committed")
    }

    fn cancel_after(id: u32, ms: u64) {
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            cancel(id);
        });
    }

    #[tokio::test]
    async fn a_cancel_before_the_log_write_drops_the_operation_and_one_after_lets_it_finish() {
        let id = token();
        cancel_after(id, 10);
        let e = run(Some(id), op(200, 0)).await.unwrap_err();
        assert_eq!(e.code, Code::Aborted);

        let id = token();
        cancel_after(id, 50);
        assert_eq!(run(Some(id), op(0, 150)).await.unwrap(), "committed");

        // Cancelled before it started: nothing runs; an unknown token or none runs as is.
        let id = token();
        cancel(id);
        assert_eq!(
            run(Some(id), op(0, 0)).await.unwrap_err().code,
            Code::Aborted
        );
        assert_eq!(run(Some(9_999_999), op(0, 0)).await.unwrap(), "committed");
        assert_eq!(run(None, op(0, 0)).await.unwrap(), "committed");
        assert!(
            tokens().is_empty() || !tokens().contains_key(&id),
            "finished tokens are forgotten"
        );
    }

    #[tokio::test]
    async fn a_log_write_that_lost_its_race_can_be_cancelled_before_the_next_try() {
        let id = token();
        let fut = async {
            assert!(enter_commit());
            leave_commit(); // another writer's entry was there
            tokio::time::sleep(Duration::from_millis(200)).await;
            if !enter_commit() {
                return Err(ZError::new(Code::Internal, "refused"));
            }
            Ok(())
        };
        cancel_after(id, 50);
        assert_eq!(run(Some(id), fut).await.unwrap_err().code, Code::Aborted);
    }
}

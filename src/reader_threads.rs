//! The kernel scan's reading threads, kept between scans instead of started per scan.
//!
//! Why: glibc gives each new thread an arena of its own (up to 8 per core), and memory goes back to
//! the arena it came from. Threads started per scan land in different arenas from one scan to the
//! next, so a read does not reuse the memory the last one freed: it faults in fresh pages while
//! other arenas hold free ones. After the DataFusion reads of other parts of the API (whose threads
//! fill arenas of their own), reads of the 10 M-row bench table were measured up to 50% slower for
//! that (release: time travel 0.237 -> 0.357 s, projected read 0.089 -> 0.129 s; 6k -> 103k page
//! faults per read); with one arena for the whole process (`glibc.malloc.arena_max=1`, not ours to
//! set) the slowdown was gone. A thread kept here keeps its arena.
//!
//! Not a fixed pool: a reading thread blocks while JS has not taken its batches, so a scan must
//! never wait for another scan's thread. A job goes to an idle thread when there is one and to a
//! new thread otherwise; a thread idle for a minute ends.

use std::sync::Mutex;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::Duration;

type Job = Box<dyn FnOnce() + Send>;

/// How long an idle thread waits for its next job before it ends.
const KEEP: Duration = Duration::from_secs(60);

/// Idle threads, each as its id and the sender of its jobs; the most recently idle last.
static IDLE: Mutex<Vec<(u64, Sender<Job>)>> = Mutex::new(Vec::new());
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn idle() -> std::sync::MutexGuard<'static, Vec<(u64, Sender<Job>)>> {
    IDLE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Run `job` on a kept thread (the one idle the shortest time) or a new one. `job` must not panic
/// (the scan's jobs catch their panics): a panic ends the thread, nothing else.
pub fn spawn(job: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
    let mut job: Job = Box::new(job);
    loop {
        let Some((_, tx)) = idle().pop() else { break };
        match tx.send(job) {
            Ok(()) => return Ok(()),
            Err(returned) => job = returned.0, // that thread ended meanwhile
        }
    }
    let id = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::thread::Builder::new()
        .name("zoopipe-read".into())
        .spawn(move || work(id, job))
        .map(drop)
}

fn work(id: u64, first: Job) {
    let (tx, rx): (Sender<Job>, Receiver<Job>) = channel();
    let mut job = first;
    loop {
        job();
        idle().push((id, tx.clone()));
        job = match rx.recv_timeout(KEEP) {
            Ok(next) => next,
            Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => {
                let mut list = idle();
                match list.iter().position(|(i, _)| *i == id) {
                    Some(at) => {
                        list.remove(at);
                        return;
                    }
                    // Taken from the list just now: its job is on the way.
                    None => {
                        drop(list);
                        match rx.recv() {
                            Ok(next) => next,
                            Err(_) => return,
                        }
                    }
                }
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::sync::mpsc::sync_channel;

    #[test]
    fn jobs_run_on_kept_threads_and_a_busy_thread_never_delays_another_job() {
        // One job blocks until the end; the others still run (on other threads).
        let (release, blocked) = sync_channel::<()>(0);
        let (done, finished) = channel::<std::thread::ThreadId>();
        let d = done.clone();
        spawn(move || {
            blocked.recv().unwrap();
            d.send(std::thread::current().id()).unwrap();
        })
        .unwrap();
        let mut ids = HashSet::new();
        for _ in 0..20 {
            let d = done.clone();
            spawn(move || d.send(std::thread::current().id()).unwrap()).unwrap();
            ids.insert(finished.recv_timeout(Duration::from_secs(10)).unwrap());
            // Until the thread is back in the idle list (it goes there after its job).
            for _ in 0..10_000 {
                if !idle().is_empty() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        assert_eq!(
            ids.len(),
            1,
            "20 jobs one after another ran on {} threads",
            ids.len()
        );
        release.send(()).unwrap();
        let last = finished.recv_timeout(Duration::from_secs(10)).unwrap();
        assert!(
            !ids.contains(&last),
            "the blocked job had a thread of its own"
        );
    }
}

//! The JS boundary: one file per class (or function) the JS layer calls, named after it, each
//! method converting arguments and errors and delegating to the engine modules beside `api/`.
//! Nothing below this folder uses it.

pub mod delta_coordinator;
pub mod delta_output_adapter;
pub mod delta_table;
pub mod delta_writer;
pub mod file_input_adapter;
pub mod record_batch_stream;
pub mod rows;

/// Every error code a `DeltaError` can carry (`error.rs`'s list).
#[napi]
pub fn error_codes() -> Vec<String> {
    crate::error::Code::ALL
        .iter()
        .map(|c| c.as_str().to_string())
        .collect()
}

/// How many large buffers the addon has mapped from the kernel (`alloc.rs`) since it loaded; tests
/// use it to see which reads bound their memory.
#[napi]
pub fn native_mappings() -> u32 {
    #[cfg(target_os = "linux")]
    let n = crate::alloc::mappings() as u32;
    #[cfg(not(target_os = "linux"))]
    let n = 0;
    n
}

/// A token for one operation's `signal` (`cancel.rs`): passed to the operation, then
/// `cancelOperation(token)` when the signal aborts.
#[napi]
pub fn new_cancel_token() -> u32 {
    crate::cancel::token()
}

/// The signal of the operation holding `token` aborted: it stops unless its log write began.
#[napi]
pub fn cancel_operation(token: u32) {
    crate::cancel::cancel(token)
}

/// Has V8 collect garbage now, as it does when external memory grows past its hard limit: streamed
/// writes call it (`lib/collection.js`) once they have copied enough of the caller's batches.
#[napi]
pub fn request_collection(env: napi::Env) -> napi::Result<()> {
    // Past V8's hard limit (half the heap's maximum: 2 GiB by default; 4 TiB is past any), where it
    // collects at once and gives memory back, then undone. Only past the soft limit (64 MiB above
    // what the last collection left) it started incremental marking, which ended too late: 5 M
    // rows into 8 partitions peaked at 245-250 MB that way, 204-207 MB this way. When the change
    // is undone V8 lowers both limits to the real amount again (ExternalMemoryAccounting::Update).
    const PULSE: i64 = 1 << 42;
    env.adjust_external_memory(PULSE)?;
    env.adjust_external_memory(-PULSE)?;
    Ok(())
}

/// Moves V8's count of external memory by `bytes` (either way) and returns the new count: a read
/// collecting a table holds what it receives past 64 MiB out of the count until it ends
/// (`lib/collection.js`).
#[napi]
pub fn adjust_external_memory(env: napi::Env, bytes: i64) -> napi::Result<i64> {
    env.adjust_external_memory(bytes)
}

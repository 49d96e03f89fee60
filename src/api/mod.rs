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

//! zoopipe: Delta Lake for Node.js. The binding layer only converts types and errors;
//! delta-rs, DataFusion and arrow-rs do the data work. Without the `datafusion` feature this is the
//! slim build: the kernel scans, `RecordBatchWriter` writes, and `slim.rs` refuses the rest.
#![deny(clippy::all)]
// The unit-test harness has no JS caller: what only the #[napi] exports use is dead there.
#![cfg_attr(test, allow(dead_code))]

#[macro_use]
extern crate napi_derive;

#[cfg(target_os = "linux")]
mod alloc;
mod append;
mod commit;
mod conform;
mod convert;
#[cfg(feature = "datafusion")]
mod dml;
mod error;
#[cfg(not(feature = "datafusion"))]
mod file_filter;
mod filter;
mod handover;
mod ipc;
mod local;
mod log_store;
mod maintain;
mod options;
#[cfg(not(feature = "datafusion"))]
mod parquet_slim;
mod read;
mod rows;
#[cfg(feature = "datafusion")]
mod scan_datafusion;
#[cfg(not(feature = "datafusion"))]
mod scan_slim;
#[cfg(feature = "datafusion")]
mod session;
#[cfg(not(feature = "datafusion"))]
mod slim;
#[cfg(feature = "datafusion")]
mod source;
#[cfg(feature = "datafusion")]
mod sql;
mod storage;
mod table;
mod worker;
mod write;
#[cfg(feature = "datafusion")]
mod write_datafusion;
#[cfg(not(feature = "datafusion"))]
mod write_slim;

// System malloc, with large allocations as their own mappings while streaming (alloc.rs).
#[cfg(target_os = "linux")]
#[global_allocator]
static ALLOCATOR: alloc::Allocator = alloc::Allocator;

/// How many large buffers the addon has mapped from the kernel (`alloc.rs`) since it loaded; tests
/// use it to see which reads bound their memory.
#[napi]
pub fn native_mappings() -> u32 {
    #[cfg(target_os = "linux")]
    let n = alloc::mappings() as u32;
    #[cfg(not(target_os = "linux"))]
    let n = 0;
    n
}

#[napi_derive::module_init]
fn init() {
    #[cfg(target_os = "linux")]
    alloc::policy();
    storage::register_handlers();
}

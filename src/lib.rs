//! zoopipe: Delta Lake for Node.js. `api/` is the JS boundary (one file per JS class, converting
//! types and errors); the modules beside it are the engine, each importing only those below it:
//! errors → storage (and the log store) → options and conversion → commit primitives → writers and
//! scans → `api/`. delta-rs, DataFusion and arrow-rs do the data work. Without the `datafusion`
//! feature this is the slim build: no DataFusion, zoopipe's own writers (`data_files.rs`), and the API refuses
//! the rest with UNSUPPORTED_FEATURE.
#![deny(clippy::all)]
// The unit-test harness has no JS caller: what only the #[napi] exports use is dead there.
#![cfg_attr(test, allow(dead_code))]

#[macro_use]
extern crate napi_derive;

#[cfg(target_os = "linux")]
mod alloc;
mod api;
mod append;
mod cancel;
mod commit;
mod conform;
mod convert;
mod coordinator;
mod create;
mod data_files;
#[cfg(feature = "datafusion")]
mod dml;
mod encoding;
mod error;
mod file_filter;
mod file_stats;
mod file_writer;
mod filter;
mod handover;
mod ipc;
#[cfg(feature = "datafusion")]
mod local;
mod log_store;
mod maintain;
#[cfg(target_os = "linux")]
mod mapping_pool;
mod options;
mod parquet_kernel;
mod parquet_properties;
mod partition_values;
mod read;
mod reader_threads;
mod rows;
mod scan;
#[cfg(feature = "datafusion")]
mod scan_datafusion;
mod scan_kernel;
#[cfg(feature = "datafusion")]
mod session;
#[cfg(feature = "datafusion")]
mod source;
#[cfg(feature = "datafusion")]
mod sql;
mod storage;
mod table;
mod upload;
mod write;
#[cfg(feature = "datafusion")]
mod write_datafusion;
#[cfg(not(feature = "datafusion"))]
mod write_slim;

// System malloc, with large allocations as their own mappings while streaming (alloc.rs).
#[cfg(target_os = "linux")]
#[global_allocator]
static ALLOCATOR: alloc::Allocator = alloc::Allocator;

#[napi_derive::module_init]
fn init() {
    error::quiet_caught_panics();
    #[cfg(target_os = "linux")]
    alloc::policy();
    storage::register_handlers();
}

//! zoopipe: Delta Lake for Node.js. The binding layer only converts types and errors;
//! delta-rs, DataFusion and arrow-rs do the data work. Without the `datafusion` feature this is the
//! slim build: the kernel scans, `RecordBatchWriter` writes, and `slim.rs` refuses the rest.
#![deny(clippy::all)]

#[macro_use]
extern crate napi_derive;

#[cfg(target_os = "linux")]
mod alloc;
mod append;
mod commit;
mod convert;
#[cfg(feature = "datafusion")]
mod dml;
mod error;
mod filter;
mod handover;
mod ipc;
mod maintain;
mod read;
#[cfg(feature = "datafusion")]
mod scan_datafusion;
#[cfg(not(feature = "datafusion"))]
mod scan_slim;
#[cfg(not(feature = "datafusion"))]
mod slim;
#[cfg(feature = "datafusion")]
mod source;
mod storage;
mod table;
mod worker;
mod write;
#[cfg(feature = "datafusion")]
mod write_datafusion;
#[cfg(not(feature = "datafusion"))]
mod write_slim;

// System malloc, or large allocations as their own mappings with ZOOPIPE_LOW_MEMORY=1 (alloc.rs).
#[cfg(target_os = "linux")]
#[global_allocator]
static ALLOCATOR: alloc::Allocator = alloc::Allocator;

#[napi_derive::module_init]
fn init() {
    #[cfg(target_os = "linux")]
    alloc::policy();
    storage::register_handlers();
}

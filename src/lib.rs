//! zoopipe: Delta Lake for Node.js. The binding layer only converts types and errors;
//! delta-rs, DataFusion and arrow-rs do the data work. Without the `datafusion` feature this is the
//! slim build: the kernel scans, `RecordBatchWriter` writes, and `slim.rs` refuses the rest.
#![deny(clippy::all)]

#[macro_use]
extern crate napi_derive;

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

#[napi_derive::module_init]
fn init() {
    storage::register_handlers();
}

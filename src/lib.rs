//! zoopipe: Delta Lake for Node.js. The binding layer only converts types and errors;
//! delta-rs, DataFusion and arrow-rs do the data work.
#![deny(clippy::all)]

#[macro_use]
extern crate napi_derive;

mod commit;
mod convert;
mod error;
mod filter;
mod handover;
mod ipc;
mod maintain;
mod read;
mod source;
mod storage;
mod table;
mod worker;
mod write;

#[napi_derive::module_init]
fn init() {
    storage::register_handlers();
}

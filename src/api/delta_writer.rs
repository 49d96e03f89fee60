//! `DeltaWriter`: the worker side of a distributed write (one per worker thread, process or
//! function). It writes Parquet files into the table location and returns their add actions for a
//! `DeltaCoordinator`; it commits nothing. The writer is `file_writer.rs`.

use napi::bindgen_prelude::Buffer;
use serde_json::Value;

use crate::error::guard;
use crate::file_writer::{FileWriter, FileWriterOptions};
use crate::handover::JsBatch;
use crate::rows::RowHints;

#[napi]
pub struct DeltaWriter(FileWriter);

#[napi]
impl DeltaWriter {
    #[napi(constructor)]
    pub fn new(uri: String, options: Option<FileWriterOptions>) -> napi::Result<Self> {
        Ok(Self(FileWriter::new(uri, options)?))
    }

    #[napi]
    pub async fn write_ipc(&self, data: Buffer) -> napi::Result<()> {
        guard(self.0.write_ipc(&data)).await
    }

    #[napi]
    pub async fn write_batches(&self, schema: Buffer, batches: Vec<JsBatch>) -> napi::Result<()> {
        guard(self.0.write_batches(&schema, batches)).await
    }

    /// Write plain row objects sent as Arrow columns (`lib/row-columns.js`); `false` when they
    /// must come as JSON instead (`file_writer.rs`).
    #[napi]
    pub async fn write_row_batches(
        &self,
        schema: Buffer,
        batches: Vec<JsBatch>,
    ) -> napi::Result<bool> {
        guard(self.0.write_row_batches(&schema, batches)).await
    }

    /// Plain row objects, sent as newline-delimited JSON (one object per line);
    /// `first_row`: their index in what `write()` was given (error messages name rows by it);
    /// `hints`: the types of new columns that JSON cannot say (timestamps, binary).
    #[napi]
    pub async fn write_rows(
        &self,
        rows: String,
        first_row: u32,
        hints: RowHints,
    ) -> napi::Result<()> {
        guard(self.0.write_rows(rows, first_row, hints)).await
    }

    /// Flush the remaining data and return every file written, as JSON add actions.
    #[napi]
    pub async fn finish(&self) -> napi::Result<Vec<Value>> {
        guard(self.0.finish()).await
    }
}

//! `DeltaOutputAdapter`: any number of `write()`s (apache-arrow batches, Arrow IPC, row objects),
//! then one atomic commit at `close()`, or none at `abort()`. The writer is `write.rs`.

use napi::bindgen_prelude::Buffer;

use crate::error::guard;
use crate::handover::JsBatch;
use crate::options::WriteOptions;
use crate::rows::RowHints;
use crate::write::{TableWriter, WriteResult};

#[napi]
pub struct DeltaOutputAdapter(TableWriter);

#[napi]
impl DeltaOutputAdapter {
    /// Checks the options; nothing is read or written before the first `write()`.
    #[napi(constructor)]
    pub fn new(uri: String, options: Option<WriteOptions>) -> napi::Result<Self> {
        Ok(Self(TableWriter::new(uri, options)?))
    }

    /// Write Arrow IPC bytes (stream or file format).
    #[napi]
    pub async fn write_ipc(&self, data: Buffer) -> napi::Result<()> {
        guard(self.0.write_ipc(&data)).await
    }

    /// Write apache-arrow batches sent buffer by buffer (`lib/handover.js`); `schema` is an IPC
    /// stream carrying their schema; `hold`: the caller leaves their memory untouched until the
    /// commit, so it is shared instead of copied (`writeDelta` of an in-memory table).
    #[napi]
    pub async fn write_batches(
        &self,
        schema: Buffer,
        batches: Vec<JsBatch>,
        hold: Option<bool>,
    ) -> napi::Result<()> {
        guard(
            self.0
                .write_batches(&schema, batches, hold.unwrap_or(false)),
        )
        .await
    }

    /// Write plain row objects sent as Arrow columns (`lib/row-columns.js`); `false` when they
    /// must come as JSON instead (`write.rs`).
    #[napi]
    pub async fn write_row_batches(
        &self,
        schema: Buffer,
        batches: Vec<JsBatch>,
    ) -> napi::Result<bool> {
        guard(self.0.write_row_batches(&schema, batches)).await
    }

    /// Write plain row objects, sent as newline-delimited JSON (one object per line);
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

    /// Commit everything written as one new version; `cancel`: a token of `newCancelToken()` for
    /// the caller's signal.
    #[napi]
    pub async fn close(&self, cancel: Option<u32>) -> napi::Result<WriteResult> {
        guard(self.0.close(cancel)).await
    }

    /// Drop everything written so far; nothing is committed.
    #[napi]
    pub async fn abort(&self) -> napi::Result<()> {
        guard(self.0.abort()).await
    }
}

//! `RecordBatchStream`: a running scan as JS pulls it (`DeltaInputAdapter`, the file input adapters,
//! `loadCdf`): `nextBatch()` hands one batch over buffer by buffer, `next()` as Arrow IPC, null at
//! the end. Dropping it (or `close()`) stops the native work.

use std::sync::Arc;

use deltalake::arrow::datatypes::SchemaRef;
use napi::bindgen_prelude::Buffer;
use tokio::sync::Mutex;

use crate::error::{ZResult, guard};
use crate::handover::{self, JsBatch};
use crate::ipc;
use crate::read::{Batches, pull};

#[napi]
pub struct RecordBatchStream {
    inner: Arc<Mutex<Option<Batches>>>,
    schema: SchemaRef,
    schema_ipc: Vec<u8>,
}

impl RecordBatchStream {
    pub fn new(batches: Batches) -> ZResult<Self> {
        let schema = batches.schema().clone();
        let schema_ipc = ipc::encode(&schema, &[])?;
        Ok(Self {
            inner: Arc::new(Mutex::new(Some(batches))),
            schema,
            schema_ipc,
        })
    }
}

#[napi]
impl RecordBatchStream {
    /// The schema of the batches, as an IPC stream with no batches.
    #[napi]
    pub fn schema(&self) -> Buffer {
        self.schema_ipc.clone().into()
    }

    /// The next batch as one Arrow IPC stream, or null at the end.
    #[napi]
    pub async fn next(&self) -> napi::Result<Option<Buffer>> {
        let inner = self.inner.clone();
        guard(async move {
            let Some(batch) = pull(&inner).await? else {
                return Ok(None);
            };
            Ok(Some(ipc::encode(&batch.schema(), &[batch])?.into()))
        })
        .await
    }

    /// The next batch handed over buffer by buffer without copying (see `handover.rs`), or null.
    #[napi]
    pub async fn next_batch(&self) -> napi::Result<Option<JsBatch>> {
        let (inner, schema) = (self.inner.clone(), self.schema.clone());
        guard(async move {
            let Some(batch) = pull(&inner).await? else {
                return Ok(None);
            };
            Ok(Some(handover::to_js(batch, &schema)?))
        })
        .await
    }

    /// Called by streaming readers (not by `readAll`) before the first batch: see
    /// `Batches::bound_memory`.
    #[napi]
    pub fn bound_memory(&self) {
        if let Ok(mut slot) = self.inner.try_lock()
            && let Some(batches) = slot.as_mut()
        {
            batches.bound_memory();
        }
    }

    /// Stop the scan and free its resources; later `next()` calls resolve null.
    #[napi]
    pub fn close(&self) {
        match self.inner.try_lock() {
            Ok(mut slot) => *slot = None,
            Err(_) => {
                // A next() is in flight: drop the scan as soon as it finishes.
                let inner = self.inner.clone();
                napi::bindgen_prelude::spawn(async move {
                    inner.lock().await.take();
                });
            }
        }
    }
}

//! A data file's bytes on their way to storage (`data_files.rs` writes Parquet into it): kept until
//! one upload part is full, so a small file is one PUT, then a multipart upload with a bounded amount
//! in flight, so the store writes while Parquet encodes and a file never holds more than a part.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use deltalake::Path;
use deltalake::logstore::ObjectStoreRef;
use deltalake::logstore::object_store::{ObjectStoreExt as _, WriteMultipart};
use deltalake::parquet::arrow::async_writer::AsyncFileWriter;
use deltalake::parquet::errors::ParquetError;
use futures::future::BoxFuture;

/// Upload bytes a file may have in flight (at least one part).
const IN_FLIGHT_BYTES: usize = 1 << 20;

/// Upload part size for a table location: local disk takes any size (each part is one write to
/// the file), object stores need 5 MiB (S3's and GCS's minimum for every part but the last).
pub fn part_size(table_url: &url::Url) -> usize {
    if table_url.scheme() == "file" {
        256 << 10
    } else {
        5 << 20
    }
}

/// Where a file's bytes go: kept until one part is full (a small file is one PUT), then a
/// multipart upload with about `IN_FLIGHT_BYTES` in flight.
pub struct Upload {
    store: ObjectStoreRef,
    path: Path,
    part: usize,
    state: UploadState,
    written: Arc<AtomicUsize>,
}

enum UploadState {
    Buffer(Vec<u8>),
    Parts(WriteMultipart),
    Done,
}

impl Upload {
    /// The upload of `path`; `written` counts the bytes handed to it.
    pub fn new(store: ObjectStoreRef, path: Path, part: usize, written: Arc<AtomicUsize>) -> Self {
        Self {
            store,
            path,
            part,
            state: UploadState::Buffer(Vec::new()),
            written,
        }
    }

    async fn put(&mut self, bs: Bytes) -> deltalake::logstore::object_store::Result<()> {
        self.written.fetch_add(bs.len(), Ordering::SeqCst);
        match &mut self.state {
            UploadState::Buffer(buf) if buf.len() + bs.len() < self.part => {
                buf.extend_from_slice(&bs);
            }
            UploadState::Buffer(buf) => {
                let head = std::mem::take(buf);
                let upload = self.store.put_multipart(&self.path).await?;
                let mut w = WriteMultipart::new_with_chunk_size(upload, self.part);
                w.put(head.into());
                w.put(bs);
                self.state = UploadState::Parts(w);
                self.wait().await?;
            }
            UploadState::Parts(w) => {
                w.put(bs);
                self.wait().await?;
            }
            UploadState::Done => {}
        }
        Ok(())
    }

    /// Back-pressure: about 1 MiB in flight per file (four local parts, one object-store part), so
    /// the store writes while parquet encodes.
    async fn wait(&mut self) -> deltalake::logstore::object_store::Result<()> {
        let parts = (IN_FLIGHT_BYTES / self.part).max(1);
        if let UploadState::Parts(w) = &mut self.state {
            w.wait_for_capacity(parts).await?;
        }
        Ok(())
    }

    async fn complete(&mut self) -> deltalake::logstore::object_store::Result<()> {
        match std::mem::replace(&mut self.state, UploadState::Done) {
            UploadState::Buffer(buf) => {
                self.store.put(&self.path, Bytes::from(buf).into()).await?;
            }
            UploadState::Parts(w) => {
                w.finish().await?;
            }
            UploadState::Done => {}
        }
        Ok(())
    }

    /// Best effort: an unfinished multipart upload is aborted (nothing else was stored yet).
    pub async fn abort(mut self) {
        if let UploadState::Parts(w) = std::mem::replace(&mut self.state, UploadState::Done) {
            let _ = w.abort().await;
        }
    }
}

impl AsyncFileWriter for Upload {
    fn write(&mut self, bs: Bytes) -> BoxFuture<'_, Result<(), ParquetError>> {
        Box::pin(async move {
            self.put(bs)
                .await
                .map_err(|e| ParquetError::External(Box::new(e)))
        })
    }

    fn complete(&mut self) -> BoxFuture<'_, Result<(), ParquetError>> {
        Box::pin(async move {
            self.complete()
                .await
                .map_err(|e| ParquetError::External(Box::new(e)))
        })
    }
}

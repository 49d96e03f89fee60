//! DataFusion's reads of local files (`ParquetInputAdapter`, the scans of filters only DataFusion
//! evaluates, DML): object_store's `LocalFileSystem`, except for ranged reads (how the Parquet reader
//! fetches column chunks), which go into uninitialised buffers. (The kernel scan reads local files
//! with arrow-rs's synchronous reader, `parquet_kernel.rs`.)
//!
//! Hand-written because `LocalFileSystem::get_ranges` zero-fills every buffer before `pread` writes
//! over it (object_store 0.13 `local::read_range`): `perf` put that zero-fill at 6% of a full read's
//! CPU. `Read::read_to_end` on a `File` fills spare capacity without initialising it first: a full
//! read of the 10M-row bench table took 7% less CPU and 8% less time (alternating, 20 reads each).
//! Everything else, and every error (missing file, range past the end), is `LocalFileSystem`'s own.

use std::fmt;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use deltalake::logstore::object_store::local::LocalFileSystem;
use deltalake::logstore::object_store::path::Path;
use deltalake::logstore::object_store::{
    self, CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult,
};
use futures::stream::BoxStream;

#[derive(Debug, Default)]
struct LocalStore {
    inner: LocalFileSystem,
}

impl fmt::Display for LocalStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

/// `ranges` of the file at `path`, each read into a buffer of exactly its length.
fn read_ranges(path: &std::path::Path, ranges: &[Range<u64>]) -> std::io::Result<Vec<Bytes>> {
    let mut file = File::open(path)?;
    ranges
        .iter()
        .map(|range| {
            let len = range.end.saturating_sub(range.start);
            let mut buf = Vec::with_capacity(len as usize);
            file.seek(SeekFrom::Start(range.start))?;
            (&mut file).take(len).read_to_end(&mut buf)?;
            if buf.len() as u64 != len {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            Ok(Bytes::from(buf))
        })
        .collect()
}

#[async_trait]
impl ObjectStore for LocalStore {
    async fn get_ranges(
        &self,
        location: &Path,
        ranges: &[Range<u64>],
    ) -> object_store::Result<Vec<Bytes>> {
        let path = self.inner.path_to_filesystem(location)?;
        let owned = ranges.to_vec();
        match tokio::task::spawn_blocking(move || read_ranges(&path, &owned)).await {
            Ok(Ok(bytes)) => Ok(bytes),
            // Let LocalFileSystem read it again and report the failure in its own terms.
            _ => self.inner.get_ranges(location, ranges).await,
        }
    }

    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        self.inner.get_opts(location, options).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.inner.list_with_offset(prefix, offset)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(
        &self,
        from: &Path,
        to: &Path,
        options: CopyOptions,
    ) -> object_store::Result<()> {
        self.inner.copy_opts(from, to, options).await
    }

    async fn rename_opts(
        &self,
        from: &Path,
        to: &Path,
        options: object_store::RenameOptions,
    ) -> object_store::Result<()> {
        self.inner.rename_opts(from, to, options).await
    }
}

/// The store for `file://` URLs, rooted at `/` like object_store's own.
fn store() -> Arc<dyn ObjectStore> {
    Arc::new(LocalStore::default())
}

/// Read local files in `ctx` through [`LocalStore`]. DataFusion sessions come with their own
/// `LocalFileSystem` for `file://`, and delta-rs registers a table's store only for URLs a session
/// does not know yet, so this replaces the session's.
pub fn use_in(ctx: &deltalake::datafusion::prelude::SessionContext) {
    let file = url::Url::parse("file://").expect("a valid URL");
    ctx.register_object_store(&file, store());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_read_exactly_and_a_range_past_the_end_fails() {
        let dir = std::env::temp_dir().join(format!("zoopipe-local-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("data.bin");
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();

        let got = read_ranges(&path, &[0..10, 4096..9000, 9999..10_000, 5..5]).unwrap();
        assert_eq!(got[0].as_ref(), &data[0..10]);
        assert_eq!(got[1].as_ref(), &data[4096..9000]);
        assert_eq!(got[2].as_ref(), &data[9999..10_000]);
        assert!(got[3].is_empty());
        assert_eq!(
            read_ranges(&path, &[0..10, 9000..10_001])
                .unwrap_err()
                .kind(),
            std::io::ErrorKind::UnexpectedEof
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

//! The file input adapters (`ParquetInputAdapter`, `CsvInputAdapter`, `JsonLinesInputAdapter`): JS opens
//! one stream of the files' rows here; reading is DataFusion's (`source.rs`), so the slim build
//! answers UNSUPPORTED_FEATURE.

use napi::bindgen_prelude::Buffer;

use super::record_batch_stream::RecordBatchStream;
use crate::error::guard;

/// Put a byte input (a Buffer, or a chunk of a stream that ends at a record boundary) where the
/// adapters read it as a file; its `memory://` URI. `name`: unique per input, with its extension.
#[napi]
pub async fn put_input_bytes(name: String, bytes: Buffer) -> napi::Result<String> {
    let bytes = bytes.to_vec();
    guard(async move { crate::storage::put_memory_input(&name, bytes).await }).await
}

/// Forget an input `put_input_bytes` made.
#[napi]
pub async fn delete_input_bytes(name: String) -> napi::Result<()> {
    guard(async move { crate::storage::delete_memory_input(&name).await }).await
}

/// Start streaming the rows of CSV / NDJSON / Parquet files.
#[cfg(feature = "datafusion")]
#[napi]
pub async fn open_file_source(
    path: String,
    options: crate::source::FileSourceOptions,
) -> napi::Result<RecordBatchStream> {
    guard(async move { RecordBatchStream::new(crate::source::open(&path, &options).await?) }).await
}

#[cfg(not(feature = "datafusion"))]
#[napi]
pub async fn open_file_source(
    _path: String,
    _options: serde_json::Value,
) -> napi::Result<RecordBatchStream> {
    guard(async {
        Err(crate::error::ZError::needs_full(
            "CSV / NDJSON / Parquet input adapters",
        ))
    })
    .await
}

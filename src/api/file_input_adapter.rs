//! The file input adapters (`ParquetInputAdapter`, `CsvInputAdapter`, `JsonLinesInputAdapter`): JS opens
//! one stream of the files' rows here; reading is DataFusion's (`source.rs`), so the slim build
//! answers UNSUPPORTED_FEATURE.

use super::record_batch_stream::RecordBatchStream;
use crate::error::guard;

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

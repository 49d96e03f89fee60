//! Parquet writer properties of every data file zoopipe writes: the defaults (compression, row
//! groups bounded in bytes) and the user's `writerProperties`, with Python `deltalake`'s
//! `WriterProperties` names. Below the options (`options.rs`), importing only errors.

use std::collections::HashMap;

use deltalake::parquet::basic::{BrotliLevel, Compression, GzipLevel, ZstdLevel};
use deltalake::parquet::errors::ParquetError;
use deltalake::parquet::file::properties::{
    EnabledStatistics, WriterProperties, WriterPropertiesBuilder,
};
use deltalake::parquet::schema::types::ColumnPath;

use crate::error::{ZError, ZResult};

/// Parquet writer properties with Python `deltalake`'s `WriterProperties` names (camelCase), for
/// every writer; unset: arrow-rs's defaults.
#[napi(object)]
#[derive(Default, Clone)]
pub struct ParquetProperties {
    pub data_page_size_limit: Option<u32>,
    pub dictionary_page_size_limit: Option<u32>,
    pub data_page_row_count_limit: Option<u32>,
    pub write_batch_size: Option<u32>,
    /// Rows per row group at most (row groups also end at `maxRowGroupBytes`).
    pub max_row_group_size: Option<u32>,
    /// As Python: 'UNCOMPRESSED', 'SNAPPY', 'GZIP', 'BROTLI', 'LZ4', 'ZSTD', 'LZ4_RAW' (any case).
    pub compression: Option<String>,
    /// GZIP 0-9, BROTLI 0-11, ZSTD 1-22.
    pub compression_level: Option<i32>,
    pub statistics_truncate_length: Option<u32>,
    pub default_column_properties: Option<ColumnProperties>,
    /// By column name (a nested field by its dotted path).
    pub column_properties: Option<HashMap<String, ColumnProperties>>,
}

#[napi(object)]
#[derive(Default, Clone)]
pub struct ColumnProperties {
    pub dictionary_enabled: Option<bool>,
    /// 'NONE', 'CHUNK' or 'PAGE'.
    pub statistics_enabled: Option<String>,
    pub bloom_filter_properties: Option<BloomFilterProperties>,
}

#[napi(object)]
#[derive(Default, Clone)]
pub struct BloomFilterProperties {
    pub set_bloom_filter_enabled: Option<bool>,
    /// False-positive probability, in (0, 1).
    pub fpp: Option<f64>,
    /// Distinct values expected.
    pub ndv: Option<i64>,
}

/// Encoded bytes a Parquet writer holds for one open file before it flushes them as a row group
/// (`maxRowGroupBytes`). Unbounded, a row group held up to 1,048,576 rows: a streamed write kept a
/// partition's whole file in memory until it reached that many rows, so memory grew with the rows
/// and the partitions. Measured (5 M rows in 100,000-row batches, dev build, peak RSS with the JS
/// heap capped at 128 MB): unpartitioned 458 -> 397 MB at 4 MiB, partitioned 8 ways 619 -> 511 MB;
/// reading the table back took 17% longer at 4 MiB and 6% at 8 MiB (files 16% / 6% larger).
pub const DEFAULT_ROW_GROUP_BYTES: usize = 8 << 20;

/// A column's dictionary gives up (falls back to plain pages for the rest of the row group) beyond
/// this share of the row group, at most parquet's default 1 MiB: a dictionary that large next to
/// small row groups (many partitions open) rarely pays, and it is held per column per open file
/// until the row group closes. Measured (dev build, 5 M rows into 8 partitions, 3.2 MB row groups):
/// peak RSS 371 -> 352 MB and 9.6 -> 8.1 s at 256 KiB.
const DICTIONARY_SHARE: usize = 8;

/// Writer properties of every data file zoopipe writes: `compression` (default snappy, as delta-rs),
/// row groups of at most `max_row_group_bytes` encoded bytes (default [`DEFAULT_ROW_GROUP_BYTES`]),
/// dictionaries of at most an eighth of that (`DICTIONARY_SHARE`), and the user's `writerProperties`.
pub fn writer_properties(
    compression: Option<&str>,
    max_row_group_bytes: Option<i64>,
    props: Option<&ParquetProperties>,
) -> ZResult<WriterProperties> {
    let row_group_bytes = match max_row_group_bytes {
        None => DEFAULT_ROW_GROUP_BYTES,
        Some(b) => usize::try_from(b)
            .ok()
            .filter(|b| *b >= 1 << 16)
            .ok_or_else(|| {
                ZError::invalid(format!(
                    "maxRowGroupBytes must be at least 65536 bytes, got {b}"
                ))
            })?,
    };
    let c = match compression {
        None | Some("snappy") => Compression::SNAPPY,
        Some("zstd") => Compression::ZSTD(ZstdLevel::default()),
        Some("gzip") => Compression::GZIP(GzipLevel::default()),
        Some("lz4") => Compression::LZ4_RAW,
        Some("uncompressed") => Compression::UNCOMPRESSED,
        Some(other) => {
            return Err(ZError::invalid(format!(
                "compression must be snappy, zstd, gzip, lz4 or uncompressed, got '{other}'"
            )));
        }
    };
    let mut b = WriterProperties::builder()
        // What delta-rs's own default properties record as the file's writer.
        .set_created_by(format!("delta-rs version {}", deltalake::crate_version()))
        .set_compression(c)
        .set_max_row_group_bytes(Some(row_group_bytes))
        .set_dictionary_page_size_limit(
            (row_group_bytes / DICTIONARY_SHARE).clamp(64 << 10, 1 << 20),
        );
    if let Some(p) = props {
        b = parquet_properties(b, p, compression.is_some())?;
    }
    Ok(b.build())
}

fn positive(name: &str, v: Option<u32>) -> ZResult<Option<usize>> {
    match v {
        Some(0) => Err(ZError::invalid(format!(
            "writerProperties.{name} must be at least 1"
        ))),
        v => Ok(v.map(|v| v as usize)),
    }
}

/// `writerProperties` onto the builder (Python deltalake's `WriterProperties`).
fn parquet_properties(
    mut b: WriterPropertiesBuilder,
    p: &ParquetProperties,
    compression_given: bool,
) -> ZResult<WriterPropertiesBuilder> {
    if let Some(v) = positive("dataPageSizeLimit", p.data_page_size_limit)? {
        b = b.set_data_page_size_limit(v);
    }
    if let Some(v) = positive("dictionaryPageSizeLimit", p.dictionary_page_size_limit)? {
        b = b.set_dictionary_page_size_limit(v);
    }
    if let Some(v) = positive("dataPageRowCountLimit", p.data_page_row_count_limit)? {
        b = b.set_data_page_row_count_limit(v);
    }
    if let Some(v) = positive("writeBatchSize", p.write_batch_size)? {
        b = b.set_write_batch_size(v);
    }
    if let Some(v) = positive("maxRowGroupSize", p.max_row_group_size)? {
        b = b.set_max_row_group_row_count(Some(v));
    }
    if let Some(v) = p.statistics_truncate_length {
        b = b.set_statistics_truncate_length(Some(v as usize));
    }
    match (&p.compression, p.compression_level) {
        (Some(_), _) if compression_given => {
            return Err(ZError::invalid(
                "give compression either as the write's compression or as writerProperties.compression, not both",
            ));
        }
        (Some(name), level) => b = b.set_compression(parquet_compression(name, level)?),
        (None, Some(_)) => {
            return Err(ZError::invalid(
                "writerProperties.compressionLevel needs writerProperties.compression",
            ));
        }
        (None, None) => {}
    }
    if let Some(c) = &p.default_column_properties {
        b = column(b, None, c)?;
    }
    for (name, c) in p.column_properties.iter().flatten() {
        b = column(b, Some(ColumnPath::from(name.as_str())), c)?;
    }
    Ok(b)
}

fn parquet_compression(name: &str, level: Option<i32>) -> ZResult<Compression> {
    let bad = |e: ParquetError| ZError::invalid(format!("writerProperties.compressionLevel: {e}"));
    let needs_none = |c: Compression| match level {
        None => Ok(c),
        Some(_) => Err(ZError::invalid(format!(
            "writerProperties.compressionLevel applies to GZIP, BROTLI and ZSTD, not {name}"
        ))),
    };
    match name.to_ascii_uppercase().as_str() {
        "UNCOMPRESSED" => needs_none(Compression::UNCOMPRESSED),
        "SNAPPY" => needs_none(Compression::SNAPPY),
        "LZ4" => needs_none(Compression::LZ4),
        "LZ4_RAW" => needs_none(Compression::LZ4_RAW),
        "GZIP" => Ok(Compression::GZIP(match level {
            None => GzipLevel::default(),
            Some(l) => GzipLevel::try_new(u32::try_from(l).unwrap_or(u32::MAX)).map_err(bad)?,
        })),
        "BROTLI" => Ok(Compression::BROTLI(match level {
            None => BrotliLevel::default(),
            Some(l) => BrotliLevel::try_new(u32::try_from(l).unwrap_or(u32::MAX)).map_err(bad)?,
        })),
        "ZSTD" => Ok(Compression::ZSTD(match level {
            None => ZstdLevel::default(),
            Some(l) => ZstdLevel::try_new(l).map_err(bad)?,
        })),
        _ => Err(ZError::invalid(format!(
            "writerProperties.compression must be UNCOMPRESSED, SNAPPY, GZIP, BROTLI, LZ4, LZ4_RAW or ZSTD, got '{name}'"
        ))),
    }
}

/// One column's properties (`col`), or every column's default (None).
fn column(
    mut b: WriterPropertiesBuilder,
    col: Option<ColumnPath>,
    c: &ColumnProperties,
) -> ZResult<WriterPropertiesBuilder> {
    if let Some(v) = c.dictionary_enabled {
        b = match &col {
            Some(p) => b.set_column_dictionary_enabled(p.clone(), v),
            None => b.set_dictionary_enabled(v),
        };
    }
    if let Some(s) = &c.statistics_enabled {
        let v = match s.to_ascii_uppercase().as_str() {
            "NONE" => EnabledStatistics::None,
            "CHUNK" => EnabledStatistics::Chunk,
            "PAGE" => EnabledStatistics::Page,
            _ => {
                return Err(ZError::invalid(format!(
                    "statisticsEnabled must be NONE, CHUNK or PAGE, got '{s}'"
                )));
            }
        };
        b = match &col {
            Some(p) => b.set_column_statistics_enabled(p.clone(), v),
            None => b.set_statistics_enabled(v),
        };
    }
    if let Some(f) = &c.bloom_filter_properties {
        let enabled = f.set_bloom_filter_enabled.unwrap_or(true);
        b = match &col {
            Some(p) => b.set_column_bloom_filter_enabled(p.clone(), enabled),
            None => b.set_bloom_filter_enabled(enabled),
        };
        if let Some(fpp) = f.fpp {
            if !(fpp > 0.0 && fpp < 1.0) {
                return Err(ZError::invalid(format!(
                    "bloomFilterProperties.fpp must be between 0 and 1, got {fpp}"
                )));
            }
            b = match &col {
                Some(p) => b.set_column_bloom_filter_fpp(p.clone(), fpp),
                None => b.set_bloom_filter_fpp(fpp),
            };
        }
        if let Some(ndv) = f.ndv {
            let ndv = u64::try_from(ndv).ok().filter(|n| *n > 0).ok_or_else(|| {
                ZError::invalid(format!(
                    "bloomFilterProperties.ndv must be at least 1, got {ndv}"
                ))
            })?;
            b = match &col {
                Some(p) => b.set_column_bloom_filter_max_ndv(p.clone(), ndv),
                None => b.set_bloom_filter_max_ndv(ndv),
            };
        }
    }
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_gets_bounded_row_groups_and_the_compression_asked_for() {
        let p = writer_properties(None, None, None).unwrap();
        assert_eq!(p.max_row_group_bytes(), Some(DEFAULT_ROW_GROUP_BYTES));
        let path = deltalake::parquet::schema::types::ColumnPath::from("x");
        assert_eq!(p.compression(&path), Compression::SNAPPY);
        assert!(p.created_by().starts_with("delta-rs version"));
        let p = writer_properties(Some("zstd"), Some(1 << 20), None).unwrap();
        assert_eq!(p.max_row_group_bytes(), Some(1 << 20));
        assert!(matches!(p.compression(&path), Compression::ZSTD(_)));
        assert!(writer_properties(Some("brotli9"), None, None).is_err());
        assert!(
            writer_properties(None, Some(100), None)
                .unwrap_err()
                .message
                .contains("maxRowGroupBytes")
        );
    }
}

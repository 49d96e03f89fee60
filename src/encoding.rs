//! Which columns of a write skip Parquet's dictionary encoding: those whose values are (nearly) all
//! different, judged from a sample of the write's first batch.
//!
//! arrow-rs dictionary-encodes every column and falls back to plain pages only once a column
//! chunk's dictionary outgrows its size limit. In the row groups a write with many open files makes
//! (a few MB, `options::row_group_bytes`), the dictionary of a unique column (ids, timestamps, free
//! text) never reaches that limit: every value is hashed into it, stored once in the dictionary
//! page and again as an index, and the file is larger than with plain pages. parquet-mr gives up on
//! a dictionary that does not compress; arrow-rs has no such check, so it is made here, once per
//! write, before any file is opened. Measured (release, 1 M rows x 10 columns of the benchmark's
//! data, median of 5): into 8 partitions 0.200 -> 0.144 s and 30.9 -> 26.2 MB of files;
//! unpartitioned 0.165 -> 0.137 s and 27.5 -> 25.1 MB (id, ts and name plain; user_id, amount and
//! score, 12,000 distinct values each, kept their dictionaries).

use deltalake::arrow::array::{Array, ArrayRef, RecordBatch, UInt32Array};
use deltalake::arrow::compute::take_record_batch;
use deltalake::arrow::datatypes::{DataType, SchemaRef};
use deltalake::arrow::row::{RowConverter, SortField};
use deltalake::parquet::file::properties::WriterProperties;
use deltalake::parquet::schema::types::ColumnPath;

use crate::parquet_properties::ParquetProperties;

/// Rows sampled over the first batch.
const SAMPLE_ROWS: usize = 4096;
/// Fewer non-null values than this say too little: the column keeps its dictionary.
const MIN_VALUES: usize = 1024;
/// A column goes plain when at least this share of its sampled values occur once in the sample.
/// A column of D distinct values, evenly spread, has about e^(-n/D) of n sampled values once:
/// 90% means D > ~10 n (40,000 here), more than a few-MB row group's dictionary would pay for.
/// The benchmark's columns of 12,000 values have ~71% singletons and keep their dictionaries,
/// which halve their size.
const UNIQUE_SHARE: f64 = 0.9;

/// `props` with the dictionary turned off for the columns of `batch` (the write's first, in the
/// table's `schema`) that look unique. A column whose dictionary the user set
/// (`writerProperties`) keeps the user's choice; so does every column when the user set the
/// default.
pub fn plain_where_unique(
    props: WriterProperties,
    schema: &SchemaRef,
    batch: &RecordBatch,
    user: Option<&ParquetProperties>,
) -> WriterProperties {
    let user_default = user
        .and_then(|p| p.default_column_properties.as_ref())
        .is_some_and(|c| c.dictionary_enabled.is_some());
    let rows = batch.num_rows();
    if user_default || rows < MIN_VALUES {
        return props;
    }
    let indices = sample_rows(rows);
    // The sample in the table's columns and types (names as the files have them); a batch the
    // writer will refuse is left for it to report.
    let Ok(sample) = take_record_batch(batch, &indices)
        .map_err(crate::error::ZError::from)
        .and_then(|s| crate::data_files::conform(schema, s))
    else {
        return props;
    };
    let user_set = |name: &str| {
        user.and_then(|p| p.column_properties.as_ref())
            .and_then(|c| c.get(name))
            .is_some_and(|c| c.dictionary_enabled.is_some())
    };
    let plain: Vec<String> = sample
        .schema()
        .fields()
        .iter()
        .zip(sample.columns())
        .filter(|(f, c)| !user_set(f.name()) && flat(f.data_type()) && mostly_unique(c))
        .map(|(f, _)| f.name().clone())
        .collect();
    if plain.is_empty() {
        return props;
    }
    plain
        .into_iter()
        .fold(props.into_builder(), |b, name| {
            b.set_column_dictionary_enabled(ColumnPath::new(vec![name]), false)
        })
        .build()
}

/// Up to `SAMPLE_ROWS` of `rows` row positions: one at random in each of as many equal stretches.
/// Evenly spaced positions would alias with periodic columns (`i % 12000` sampled every 24 rows
/// showed every value once).
fn sample_rows(rows: usize) -> UInt32Array {
    let n = rows.min(SAMPLE_ROWS);
    // xorshift64, fixed seed: the same batch gets the same decision.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    UInt32Array::from_iter_values((0..n).map(|k| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let (lo, hi) = (k * rows / n, (k + 1) * rows / n);
        (lo + (x % (hi - lo) as u64) as usize) as u32
    }))
}

/// A top-level column Parquet stores as one leaf that can be dictionary-encoded.
fn flat(data_type: &DataType) -> bool {
    match data_type {
        DataType::Boolean | DataType::Null => false,
        DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View
        | DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => true,
        DataType::Dictionary(_, values) => flat(values),
        other => other.is_primitive(),
    }
}

/// Whether at least `UNIQUE_SHARE` of the column's non-null values occur once in it.
fn mostly_unique(column: &ArrayRef) -> bool {
    let Ok(converter) = RowConverter::new(vec![SortField::new(column.data_type().clone())]) else {
        return false;
    };
    let Ok(rows) = converter.convert_columns(std::slice::from_ref(column)) else {
        return false;
    };
    // Sorted row bytes: equal values are neighbours (no hashing of values the user chose).
    let mut values: Vec<&[u8]> = (0..column.len())
        .filter(|i| column.is_valid(*i))
        .map(|i| rows.row(i).data())
        .collect();
    if values.len() < MIN_VALUES {
        return false;
    }
    values.sort_unstable();
    let once = values
        .chunk_by(|a, b| a == b)
        .filter(|run| run.len() == 1)
        .count();
    once as f64 >= UNIQUE_SHARE * values.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parquet_properties::ColumnProperties;
    use deltalake::arrow::array::{Int64Array, StringArray};
    use deltalake::arrow::datatypes::{Field, Schema};
    use std::sync::Arc;

    fn batch(rows: usize) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("few", DataType::Utf8, true),
            Field::new("some", DataType::Int64, true),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from_iter_values(0..rows as i64)),
                Arc::new(StringArray::from_iter_values(
                    (0..rows).map(|i| format!("v{}", i % 50)),
                )),
                // 12,000 values, as the benchmark's user ids: ~71% of a 4,096-row sample once.
                Arc::new(Int64Array::from_iter_values(
                    (0..rows as i64).map(|i| (i * 7919) % 12_000),
                )),
            ],
        )
        .unwrap()
    }

    fn dictionary(props: &WriterProperties, column: &str) -> bool {
        props.dictionary_enabled(&ColumnPath::new(vec![column.to_string()]))
    }

    #[test]
    fn unique_columns_go_plain_and_repeated_ones_keep_their_dictionary() {
        let b = batch(100_000);
        let p = plain_where_unique(WriterProperties::new(), &b.schema(), &b, None);
        assert!(!dictionary(&p, "id"));
        assert!(dictionary(&p, "few"));
        assert!(dictionary(&p, "some"));
    }

    #[test]
    fn small_batches_and_the_users_choice_are_left_alone() {
        let small = batch(500);
        let p = plain_where_unique(WriterProperties::new(), &small.schema(), &small, None);
        assert!(dictionary(&p, "id"));

        let b = batch(100_000);
        let on = ColumnProperties {
            dictionary_enabled: Some(true),
            ..Default::default()
        };
        let user = ParquetProperties {
            column_properties: Some([("id".to_string(), on.clone())].into()),
            ..Default::default()
        };
        let p = plain_where_unique(WriterProperties::new(), &b.schema(), &b, Some(&user));
        assert!(dictionary(&p, "id"));
        let user = ParquetProperties {
            default_column_properties: Some(on),
            ..Default::default()
        };
        let p = plain_where_unique(WriterProperties::new(), &b.schema(), &b, Some(&user));
        assert!(dictionary(&p, "id"));
    }
}

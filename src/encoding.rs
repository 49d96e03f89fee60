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

use std::hash::Hasher;

use deltalake::arrow::array::{Array, AsArray, RecordBatch};
use deltalake::arrow::datatypes::{DataType, SchemaRef};
use deltalake::parquet::file::properties::WriterProperties;
use deltalake::parquet::schema::types::ColumnPath;

use crate::conform::KeyHasher;
use crate::error::ZResult;
use crate::parquet_properties::{ParquetProperties, writer_properties};

/// Rows sampled; a batch is sampled at most one row in `SAMPLE_EVERY`, so a first batch of fewer
/// than 32,768 rows leaves the dictionaries on. The sampling then costs little beside encoding the
/// batch: 0.66-0.84 ms for the benchmark's 10 columns (release), beside a 140 ms write of 1 M rows.
/// A first version sampled 4,096 rows of any batch with a sort of arrow's row format: 220 ms for
/// 200 columns of 100,000 rows in the dev build, against 72 ms for this one.
const SAMPLE_ROWS: usize = 1024;
const SAMPLE_EVERY: usize = 32;
/// Fewer non-null sampled values than this say too little: the column keeps its dictionary.
const MIN_VALUES: usize = 256;
/// Distinct values from which a dictionary is not worth it in the row groups zoopipe writes (a few
/// MB, some 100,000 rows): a column whose values are spread evenly over D distinct ones has about
/// e^(-n/D) of n sampled values occurring once, so it goes plain when at least e^(-n/40,000) of
/// its sampled values occur once (97.5% of 1,024). The benchmark's columns of 12,000 values (~92%
/// once) keep their dictionaries, which halve their size.
const DISTINCT: f64 = 40_000.0;

/// A write's Parquet properties (`parquet_properties::writer_properties`), with the dictionary off
/// for the columns that look unique in its `first` batch (when it has one yet).
pub fn write_properties(
    compression: Option<&str>,
    row_group_bytes: Option<i64>,
    user: Option<&ParquetProperties>,
    schema: &SchemaRef,
    first: Option<&RecordBatch>,
) -> ZResult<WriterProperties> {
    let props = writer_properties(compression, row_group_bytes, user)?;
    Ok(match first {
        Some(batch) => plain_where_unique(props, schema, batch, user),
        None => props,
    })
}

/// `props` with the dictionary turned off for the columns of `batch` (the write's first) that look
/// unique, by the names of the table's `schema`. A column whose dictionary the user set
/// (`writerProperties`) keeps the user's choice; so does every column when the user set the
/// default.
fn plain_where_unique(
    props: WriterProperties,
    schema: &SchemaRef,
    batch: &RecordBatch,
    user: Option<&ParquetProperties>,
) -> WriterProperties {
    let user_default = user
        .and_then(|p| p.default_column_properties.as_ref())
        .is_some_and(|c| c.dictionary_enabled.is_some());
    let rows = sample_rows(batch.num_rows());
    if user_default || rows.is_empty() {
        return props;
    }
    let user_set = |name: &str| {
        user.and_then(|p| p.column_properties.as_ref())
            .and_then(|c| c.get(name))
            .is_some_and(|c| c.dictionary_enabled.is_some())
    };
    let plain: Vec<&String> = schema
        .fields()
        .iter()
        .map(|f| f.name())
        .filter(|name| !user_set(name))
        .filter(|name| {
            batch
                .column_by_name(name)
                .and_then(|c| sampled(c.as_ref(), &rows))
                .is_some_and(mostly_unique)
        })
        .collect();
    if plain.is_empty() {
        return props;
    }
    plain
        .into_iter()
        .fold(props.into_builder(), |b, name| {
            b.set_column_dictionary_enabled(ColumnPath::new(vec![name.clone()]), false)
        })
        .build()
}

/// `SAMPLE_ROWS` row positions of `rows`, or none when that is more than one in `SAMPLE_EVERY`: one at random in
/// each of as many equal stretches. Evenly spaced positions would alias with periodic columns
/// (`i % 12000` sampled every 24 rows showed every value once).
fn sample_rows(rows: usize) -> Vec<usize> {
    if rows < SAMPLE_ROWS * SAMPLE_EVERY {
        return Vec::new();
    }
    let n = SAMPLE_ROWS;
    // xorshift64, fixed seed: the same batch gets the same decision.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|k| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let (lo, hi) = (k * rows / n, (k + 1) * rows / n);
            lo + (x % (hi - lo) as u64) as usize
        })
        .collect()
}

/// The non-null values of `column` at `rows`, each as a 64-bit key (the value itself for numbers of
/// up to 8 bytes, else a hash), or `None` for a column Parquet cannot dictionary-encode as one leaf.
/// A dictionary column's keys stand for its values.
fn sampled(column: &dyn Array, rows: &[usize]) -> Option<Vec<u64>> {
    let valid = rows.iter().copied().filter(|i| column.is_valid(*i));
    // FxHash-style (conform.rs): a collision only makes two values look equal, never slower.
    let hash = |bytes: &[u8]| {
        let mut h = KeyHasher::default();
        h.write(bytes);
        h.finish()
    };
    Some(match column.data_type() {
        DataType::Boolean | DataType::Null => return None,
        DataType::Dictionary(_, values) if matches!(values.as_ref(), DataType::Boolean) => {
            return None;
        }
        DataType::Dictionary(_, _) => {
            return sampled(column.as_any_dictionary().keys(), rows);
        }
        DataType::Utf8 => {
            let a = column.as_string::<i32>();
            valid.map(|i| hash(a.value(i).as_bytes())).collect()
        }
        DataType::LargeUtf8 => {
            let a = column.as_string::<i64>();
            valid.map(|i| hash(a.value(i).as_bytes())).collect()
        }
        DataType::Utf8View => {
            let a = column.as_string_view();
            valid.map(|i| hash(a.value(i).as_bytes())).collect()
        }
        DataType::Binary => {
            let a = column.as_binary::<i32>();
            valid.map(|i| hash(a.value(i))).collect()
        }
        DataType::LargeBinary => {
            let a = column.as_binary::<i64>();
            valid.map(|i| hash(a.value(i))).collect()
        }
        DataType::BinaryView => {
            let a = column.as_binary_view();
            valid.map(|i| hash(a.value(i))).collect()
        }
        DataType::FixedSizeBinary(_) => {
            let a = column.as_fixed_size_binary();
            valid.map(|i| hash(a.value(i))).collect()
        }
        t if t.is_primitive() => {
            let width = t.primitive_width()?;
            let data = column.to_data();
            let bytes = data.buffers().first()?.as_slice();
            let offset = data.offset();
            valid
                .map(|i| {
                    let value = &bytes[(offset + i) * width..(offset + i + 1) * width];
                    match width {
                        1 | 2 | 4 | 8 => {
                            let mut word = [0u8; 8];
                            word[..width].copy_from_slice(value);
                            u64::from_le_bytes(word)
                        }
                        _ => hash(value),
                    }
                })
                .collect()
        }
        _ => return None,
    })
}

/// Whether enough of the sampled `values` occur once to call the column unique (`DISTINCT`).
fn mostly_unique(mut values: Vec<u64>) -> bool {
    if values.len() < MIN_VALUES {
        return false;
    }
    // Sorted, equal values are neighbours; a hash collision only makes two values look equal.
    values.sort_unstable();
    let once = values
        .chunk_by(|a, b| a == b)
        .filter(|r| r.len() == 1)
        .count();
    let n = values.len() as f64;
    once as f64 >= n * (-n / DISTINCT).exp()
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
        let small = batch(20_000);
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

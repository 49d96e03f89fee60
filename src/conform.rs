//! How written batches meet the table: columns (and struct fields) matched by name, the ones the
//! data leaves out filled with nulls (or, for generated columns, left to delta-rs to compute), and
//! values cast into the table's types only where none is lost (beyond a float's rounding, and
//! nanoseconds cut to Delta's microseconds); a column of another kind of value is refused. Types
//! Delta lacks (dictionaries, views, unsigned integers, large and zoned variants) become the ones
//! it stores first. One rule for every writer (`write.rs`, `file_writer.rs`) and both builds, with the
//! table rules only delta-rs's `WriteBuilder` evaluates ([`unchecked_rules`]).

use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use deltalake::arrow::array::{
    Array as _, ArrayRef, AsArray as _, Date32Array, LargeListArray, ListArray, RecordBatch,
    StructArray, UInt32Array, new_null_array,
};
use deltalake::arrow::compute::kernels::arity::unary;
use deltalake::arrow::compute::{CastOptions, cast_with_options};
use deltalake::arrow::datatypes::{
    DataType, Date64Type, Decimal128Type, Field, FieldRef, Float64Type, Schema, SchemaRef, TimeUnit,
};

use deltalake::DeltaTable;
use indexmap::IndexMap;

use crate::error::{Code, ZError, ZResult};
use crate::ipc;

/// The rows' partition values, one comparable key per row (an empty list for no partition
/// columns), for dealing rows by value and counting the values.
pub fn partition_keys(
    batch: &RecordBatch,
    columns: &[String],
) -> ZResult<deltalake::arrow::row::Rows> {
    let columns = columns
        .iter()
        .map(|c| {
            batch.column_by_name(c).cloned().ok_or_else(|| {
                ZError::new(
                    Code::SchemaMismatch,
                    format!("partition column '{c}' is missing"),
                )
            })
        })
        .collect::<ZResult<Vec<_>>>()?;
    let fields = columns
        .iter()
        .map(|c| deltalake::arrow::row::SortField::new(c.data_type().clone()))
        .collect();
    Ok(deltalake::arrow::row::RowConverter::new(fields)?.convert_columns(&columns)?)
}

/// `batch`'s rows by partition value, values in order of first appearance, each with its key
/// (`partition_keys`'s): the whole batch when all its rows share one value.
pub fn split_by_partition(
    batch: RecordBatch,
    columns: &[String],
) -> ZResult<Vec<(Vec<u8>, RecordBatch)>> {
    partition_rows(&batch, columns)?
        .into_iter()
        .map(|(key, rows)| {
            Ok((
                key,
                match rows {
                    Some(rows) => deltalake::arrow::compute::take_record_batch(&batch, &rows)?,
                    None => batch.clone(),
                },
            ))
        })
        .collect()
}

/// Which rows of `batch` hold each partition value, values in order of first appearance, each
/// with its key (`partition_keys`'s); `None` when all rows hold that one value. The rows are taken
/// by whoever encodes them: the parallel writers' router hands out these indices, so the copying
/// runs on every writer's core instead of the router's one.
pub fn partition_rows(batch: &RecordBatch, columns: &[String]) -> ZResult<Vec<PartitionRows>> {
    let keys = partition_keys(batch, columns)?;
    let Some(first) = keys.iter().next() else {
        return Ok(Vec::new());
    };
    // One value (a sorted or clustered input's batches): a comparison per row.
    if keys.iter().all(|k| k == first) {
        return Ok(vec![(first.data().to_vec(), None)]);
    }
    let mut groups: IndexMap<&[u8], Vec<u32>, BuildHasherDefault<KeyHasher>> = IndexMap::default();
    // Rows of one value often come together (sorted or clustered input): their group is at hand.
    let mut last: Option<(&[u8], usize)> = None;
    for (i, key) in keys.iter().enumerate() {
        let key = key.data();
        let at = match last {
            Some((k, at)) if k == key => at,
            _ => {
                let entry = groups.entry(key);
                let at = entry.index();
                entry.or_default();
                at
            }
        };
        groups[at].push(i as u32);
        last = Some((key, at));
    }
    Ok(groups
        .into_iter()
        .map(|(key, rows)| (key.to_vec(), Some(UInt32Array::from(rows))))
        .collect())
}

/// A partition value's key and the rows holding it (`None`: every row).
pub type PartitionRows = (Vec<u8>, Option<UInt32Array>);

/// FxHash's multiply-rotate over a partition key's bytes, for grouping rows by key: std's SipHash
/// of every row's key was the largest cost of splitting a batch by partition value (it runs on
/// every row of a partitioned write twice: by the router, then by each writer; with this and the
/// one-value check above, 1 M rows into 8 partitions went 0.25-0.27 -> 0.23 s, release). The keys
/// are the writer's own partition values, not input from a party that could choose colliding ones.
/// `encoding.rs` also hashes sampled values with it, where a collision only makes two values look
/// equal (no table is probed).
#[derive(Default)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// How many files writing `batch` opens: its distinct partition values (1 unpartitioned). The
/// DataFusion writer's; ours groups the first batch's rows instead (`append::write_files`).
#[cfg(feature = "datafusion")]
pub fn partition_count(batch: &RecordBatch, columns: &[String]) -> ZResult<usize> {
    if columns.is_empty() {
        return Ok(1);
    }
    let keys = partition_keys(batch, columns)?;
    // Borrowed keys and the cheap hash, each run of one value hashed once (as `partition_rows`),
    // not a copy and a SipHash per row: the pass runs before any writer starts.
    let mut seen: std::collections::HashSet<&[u8], BuildHasherDefault<KeyHasher>> =
        Default::default();
    let mut last = None;
    for key in keys.iter() {
        let key = key.data();
        if last != Some(key) {
            seen.insert(key);
            last = Some(key);
        }
    }
    Ok(seen.len())
}

/// The type a column is stored as: view and dictionary-encoded types as their plain ones, the
/// types JS reads back (`ipc::js_schema`); Delta has neither, and delta-rs cannot partition by a
/// dictionary column (apache-arrow's `tableFromArrays` dictionary-encodes every string column).
/// Unsigned integers as the signed type that holds all their values: Delta has no unsigned types,
/// and delta-rs stores UInt8 as byte, UInt32 as integer, failing on the values past their range
/// (as Python `deltalake` and Polars do). UInt64 stays 64 bits: values past i64::MAX are refused.
/// The other representations of Delta's types as the one it reads back: large and fixed-size
/// binary and large strings as plain ones (the slim build wrote fixed-size binary files its own
/// reader then refused), half floats as floats, millisecond dates (apache-arrow's `DateMillisecond`)
/// as days, and timestamps in any zone as UTC (the same instants; delta-rs refused the type).
fn stored_type(dt: &DataType) -> Option<DataType> {
    ipc::plain_view(dt).or(match dt {
        DataType::UInt8 => Some(DataType::Int16),
        DataType::UInt16 => Some(DataType::Int32),
        DataType::UInt32 | DataType::UInt64 => Some(DataType::Int64),
        DataType::LargeUtf8 => Some(DataType::Utf8),
        DataType::LargeBinary | DataType::FixedSizeBinary(_) => Some(DataType::Binary),
        DataType::Float16 => Some(DataType::Float32),
        DataType::Date64 => Some(DataType::Date32),
        DataType::Timestamp(unit, Some(tz)) if tz.as_ref() != UTC => {
            Some(DataType::Timestamp(*unit, Some(UTC.into())))
        }
        _ => None,
    })
}

const UTC: &str = "UTC";

/// `schema` in the types a Delta table stores ([`stored_type`], at any depth).
pub fn stored_schema(schema: &SchemaRef) -> SchemaRef {
    ipc::map_schema(schema, &stored_type)
}

/// `batch` in the types a Delta table stores ([`stored_type`], at any depth), except its
/// [`kept_dictionary`] columns when `keep_dictionaries` (for the writers, which take them as they
/// are).
pub fn to_stored(batch: RecordBatch, keep_dictionaries: bool) -> ZResult<RecordBatch> {
    let target = stored_schema(&batch.schema());
    if Arc::ptr_eq(&target, &batch.schema()) {
        return Ok(batch);
    }
    let columns = batch
        .columns()
        .iter()
        .zip(target.fields())
        .map(|(c, f)| {
            if c.data_type() == f.data_type()
                || (keep_dictionaries && kept_dictionary(c.data_type(), f.data_type()))
            {
                Ok(c.clone())
            } else {
                exact_cast(c, f.data_type(), f.name())
            }
        })
        .collect::<ZResult<Vec<_>>>()?;
    Ok(RecordBatch::try_new(
        with_kept_dictionaries(&target, &columns, &[]),
        columns,
    )?)
}

/// Whether a column of type `from` goes into a column of type `to` as it is: a top-level
/// Dictionary<integer, Utf8> into a Utf8 column. apache-arrow's `tableFromArrays` makes every JS
/// string column one; Parquet's writer takes it under a Utf8 field and `file_stats.rs` takes its
/// statistics, so the writers never cast it (the cast, serial before the parallel writers, made
/// such a write 5-15% slower than the same rows as plain Utf8). Partition columns are still cast
/// (`data_files::conform`): their values name folders.
pub fn kept_dictionary(from: &DataType, to: &DataType) -> bool {
    matches!(from, DataType::Dictionary(key, value)
        if key.is_dictionary_key_type() && **value == DataType::Utf8)
        && *to == DataType::Utf8
}

/// `schema` with the types of its [`kept_dictionary`] `columns` but for those named in `cast`
/// (the same schema when none is kept).
pub fn with_kept_dictionaries(
    schema: &SchemaRef,
    columns: &[ArrayRef],
    cast: &[String],
) -> SchemaRef {
    let fields: Vec<_> = schema
        .fields()
        .iter()
        .zip(columns)
        .map(
            |(f, c)| match kept_dictionary(c.data_type(), f.data_type()) {
                true if !cast.contains(f.name()) => with_type(f, c.data_type()),
                _ => f.clone(),
            },
        )
        .collect();
    if fields
        .iter()
        .zip(schema.fields())
        .all(|(a, b)| Arc::ptr_eq(a, b))
    {
        return schema.clone();
    }
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// `f` holding values of type `dt` (a [`kept_dictionary`] column's field).
fn with_type(f: &FieldRef, dt: &DataType) -> FieldRef {
    Arc::new(f.as_ref().clone().with_data_type(dt.clone()))
}

/// The partition columns of a new table of `schema`, checked: each must be a column, and at least
/// one column must stay a data column (delta-rs's writer failed on a batch with no columns left).
pub fn check_new_partitioning(schema: &Schema, partition_by: &[String]) -> ZResult<()> {
    if let Some(c) = partition_by
        .iter()
        .find(|c| schema.field_with_name(c).is_err())
    {
        return Err(ZError::invalid(format!("unknown partition column '{c}'")));
    }
    // The protocol writes binary partition values as escaped text ("\u0001\u0002"), and delta-rs's
    // readers (ours, Python `deltalake`) read that text back as the bytes: [1, 2, 255] came back as
    // the 18 bytes of "\u0001\u0002\u00FF".
    if let Some(f) = schema.fields().iter().find(|f| {
        partition_by.contains(f.name())
            && matches!(
                f.data_type(),
                DataType::Binary | DataType::LargeBinary | DataType::BinaryView
            )
    }) {
        return Err(ZError::invalid(format!(
            "partition column '{}' is binary, which delta-rs does not read back as written; partition by another column",
            f.name()
        )));
    }
    if schema
        .fields()
        .iter()
        .all(|f| partition_by.contains(f.name()))
    {
        return Err(ZError::invalid(
            "partitionBy takes every column: a Delta table needs at least one column that is not a partition column",
        ));
    }
    Ok(())
}

/// `partitionBy` given for a write into an existing table must be the table's partitioning (only an
/// overwrite with `schemaMode: 'overwrite'` may change it, which the caller allows). Checked here,
/// before any file is written, for every writer: delta-rs's `WriteBuilder` says so only as a
/// generic error after reading the input, and its `RecordBatchWriter` followed the table silently.
pub fn check_same_partitioning(
    table_columns: &[String],
    partition_by: Option<&Vec<String>>,
) -> ZResult<()> {
    match partition_by {
        Some(p) if p.as_slice() != table_columns => Err(ZError::invalid(format!(
            "partitionBy [{}] differs from the table's [{}] (an overwrite with schemaMode 'overwrite' may change it)",
            p.join(", "),
            table_columns.join(", ")
        ))),
        _ => Ok(()),
    }
}

/// What a write into an existing table streams: the table's columns in the table's order, each in
/// the input's type (nullable where the table's column is: apache-arrow declares typed arrays
/// non-null), and a nullable column the input lacks as the table has it, filled with nulls by
/// [`by_name`]. Delta's schema enforcement allows data without some nullable columns (Spark fills
/// them; apache-arrow's `tableFromJSON` drops a column whose values are all null); delta-rs refuses
/// it. The batches then have the table's exact fields where the types agree, which the full build's
/// parallel writers need (`write_datafusion::fast_path_ok`). An input column the table lacks is a
/// SCHEMA_MISMATCH; a generated column the input lacks is left out, for delta-rs to compute.
pub fn table_order(input: SchemaRef, table: &Schema) -> ZResult<SchemaRef> {
    // Named here: delta-rs says "Field z not found in schema", and its RecordBatchWriter dropped
    // such columns from a partitioned table without a word.
    let extra: Vec<&str> = input
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .filter(|n| table.field_with_name(n).is_err())
        .collect();
    if !extra.is_empty() {
        let msg = format!(
            "the table has no column {} (schemaMode: 'merge' adds new columns)",
            extra
                .iter()
                .map(|n| format!("'{n}'"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        return Err(ZError::new(Code::SchemaMismatch, msg));
    }
    if let Some(path) = input.fields().iter().find_map(|f| {
        extra_field(
            f.data_type(),
            table.field_with_name(f.name()).ok()?.data_type(),
            f.name(),
        )
    }) {
        return Err(ZError::new(
            Code::SchemaMismatch,
            format!("the table has no column '{path}' (schemaMode: 'merge' adds new columns)"),
        ));
    }
    let fields = table
        .fields()
        .iter()
        .filter_map(|t| match input.field_with_name(t.name()) {
            Ok(f) => Some(into_column(f, t)),
            // Left out: delta-rs computes it.
            Err(_) if is_generated(t) => None,
            Err(_) if t.is_nullable() => Some(Ok(t.clone())),
            Err(_) => Some(Err(ZError::new(
                Code::SchemaMismatch,
                format!(
                    "the data lacks the table's column '{}', which is not nullable",
                    t.name()
                ),
            ))),
        })
        .collect::<ZResult<Vec<FieldRef>>>()?;
    Ok(Arc::new(Schema::new_with_metadata(
        fields,
        input.metadata().clone(),
    )))
}

/// `schema` for a new table (or new columns): a column of nulls only (`Null`, which CSV and JSON
/// inference give a column with no value) as a nullable string. delta-rs stored it as `void`,
/// declared non-null, which other readers lack and which refused every later value.
pub fn typed_nulls(schema: SchemaRef) -> SchemaRef {
    ipc::map_schema(&schema, &|dt| {
        (*dt == DataType::Null).then_some(DataType::Utf8)
    })
}

/// What a write with `schemaMode: 'merge'` streams: the input's columns in its order, those the
/// table has under the same rules as in [`table_order`] (delta-rs's schema merge would refuse whole
/// doubles for a long column, and cast an int column into a string one), new ones as they are, for
/// delta-rs to add to the table.
pub fn merge_order(input: SchemaRef, table: &Schema) -> ZResult<SchemaRef> {
    let fields = input
        .fields()
        .iter()
        .map(|f| match table.field_with_name(f.name()) {
            Ok(t) => into_column(f, t),
            Err(_) => Ok(f.clone()),
        })
        .collect::<ZResult<Vec<FieldRef>>>()?;
    Ok(typed_nulls(Arc::new(Schema::new_with_metadata(
        fields,
        input.metadata().clone(),
    ))))
}

/// The input's column `f` as it goes into the table's column `t`: in `t`'s type where it [`fits`]
/// (nullable where `t` is: apache-arrow declares typed arrays non-null), refused where it is
/// [`unconvertible`] — one rule for every writer: delta-rs's `WriteBuilder` (the full build) would
/// cast an int column into a string one and parse strings into numbers, its `RecordBatchWriter`
/// refused both and lossless conversions alike.
fn into_column(f: &Field, t: &Field) -> ZResult<FieldRef> {
    if let Some((path, from, to)) = unconvertible_at(f.data_type(), t.data_type(), t.name()) {
        return Err(type_mismatch(&path, from, to));
    }
    let dt = if fits(f.data_type(), t.data_type()) {
        t.data_type()
    } else {
        f.data_type()
    };
    Ok(Arc::new(
        f.clone()
            .with_data_type(dt.clone())
            .with_nullable(f.is_nullable() || t.is_nullable()),
    ))
}

/// Whether a column of `from` is refused for one of `to`: plain types that differ and do not
/// [`fits`] (a number for a string, a string for a number, a timestamp for a date). Nested types
/// are left to the writer (it takes some differences, e.g. a map's entries under another name, as
/// apache-arrow reads them).
fn unconvertible(from: &DataType, to: &DataType) -> bool {
    from != to && !from.is_nested() && !to.is_nested() && !fits(from, to)
}

/// The first place (a column, a struct field `s.a`, list items `l[]`) where `from` is
/// [`unconvertible`] into `to`, with its two types: the same rule inside structs and lists (the
/// full build's delta-rs cast made a nested 5 into '5', the slim build's writer listed both schemas).
fn unconvertible_at<'a>(
    from: &'a DataType,
    to: &'a DataType,
    path: &str,
) -> Option<(String, &'a DataType, &'a DataType)> {
    use DataType::*;
    match (from, to) {
        (Struct(a), Struct(b)) => a.iter().find_map(|f| {
            let (_, t) = b.find(f.name())?;
            unconvertible_at(
                f.data_type(),
                t.data_type(),
                &format!("{path}.{}", f.name()),
            )
        }),
        (List(a), List(b)) | (LargeList(a), LargeList(b)) => {
            unconvertible_at(a.data_type(), b.data_type(), &format!("{path}[]"))
        }
        _ => unconvertible(from, to).then(|| (path.to_string(), from, to)),
    }
}

/// The error for such a column: delta-rs would list both schemas whole.
fn type_mismatch(name: &str, from: &DataType, to: &DataType) -> ZError {
    let msg = format!(
        "column '{name}' is {from} in the data and {to} in the table: writes convert only between representations of the same values (cast the column first)"
    );
    ZError::new(Code::SchemaMismatch, msg)
}

/// The path of the first struct field (at any depth) of `from` that `to` lacks.
fn extra_field(from: &DataType, to: &DataType, path: &str) -> Option<String> {
    use DataType::*;
    match (from, to) {
        (Struct(a), Struct(b)) => a.iter().find_map(|f| match b.find(f.name()) {
            None => Some(format!("{path}.{}", f.name())),
            Some((_, t)) => extra_field(
                f.data_type(),
                t.data_type(),
                &format!("{path}.{}", f.name()),
            ),
        }),
        (List(a), List(b)) | (LargeList(a), LargeList(b)) => {
            extra_field(a.data_type(), b.data_type(), &format!("{path}[]"))
        }
        _ => None,
    }
}

fn is_unsigned(t: &DataType) -> bool {
    matches!(
        t,
        DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64
    )
}

fn int_bits(t: &DataType) -> Option<i32> {
    match t {
        DataType::Int8 => Some(8),
        DataType::Int16 => Some(16),
        DataType::Int32 => Some(32),
        DataType::Int64 => Some(64),
        _ => None,
    }
}

/// Whether a column of `from` goes into a column of `to`, checked value by value by [`exact_cast`]:
/// wider integers and floats, timestamps of any unit and zone (as instants: one without a zone is
/// taken as UTC, as delta-rs does) and dates (midnight UTC) into timestamps; narrower integers and
/// doubles into floats when every value is in range, and floats into integers when every value is a
/// whole number in range (JS numbers are doubles, as in `tableFromJSON`; bigints are longs);
/// integers, floats and decimals into decimals when every value keeps its digits — the values SQL's
/// store assignment (Spark's ANSI policy) accepts; structs and lists whose fields and items go (the
/// same rules at any depth); text into numbers, booleans, dates, timestamps and decimals, parsed.
/// Nanoseconds are cut to microseconds, Delta's unit, as delta-rs, Spark and Polars do. Such columns
/// are cast to the table's type; other plain types are refused (a number never becomes text).
fn fits(from: &DataType, to: &DataType) -> bool {
    use DataType::*;
    let goes = |a: &DataType, b: &DataType| a == b || fits(a, b);
    match (from, to) {
        // A column of nulls only (CSV inference of an empty column, apache-arrow's `Null`).
        (Null, _) => true,
        // Text parses into numbers, booleans, dates, timestamps and decimals, as row objects' text
        // does (arrow-json): what NDJSON and CSV sources infer as strings. Never the other way.
        (Utf8 | LargeUtf8 | Utf8View, _) => {
            to.is_numeric() || matches!(to, Boolean | Date32 | Timestamp(..))
        }
        // Structs by field name, in any order; a nullable field the data lacks is filled with nulls.
        (Struct(a), Struct(b)) => {
            a.iter().all(|f| b.find(f.name()).is_some())
                && b.iter().all(|t| {
                    a.find(t.name())
                        .map_or(t.is_nullable(), |(_, f)| goes(f.data_type(), t.data_type()))
                })
        }
        (List(a), List(b)) | (LargeList(a), LargeList(b)) => goes(a.data_type(), b.data_type()),
        (Timestamp(..) | Date32 | Date64, Timestamp(TimeUnit::Microsecond, _)) => true,
        (Float32 | Float64, Decimal128(..)) => true,
        (Decimal128(_, a), Decimal128(_, b)) => a <= b,
        (_, Decimal128(..)) => int_bits(from).is_some(),
        (Float32, Float64)
        | (Float64, Float32)
        | (Int8 | Int16, Float32)
        | (Int8 | Int16 | Int32, Float64) => true,
        (Float32 | Float64, _) => int_bits(to).is_some(),
        _ => matches!((int_bits(from), int_bits(to)), (Some(a), Some(b)) if a != b),
    }
}

/// `column` cast to `to` (a value that does not convert is an error). Values out of `to`'s range
/// are INVALID_DATA naming the column, never wrapped or made infinite; floats go into integers only
/// when every value is a whole number, since Arrow's cast would truncate 2.5 to 2.
fn exact_cast(column: &ArrayRef, to: &DataType, name: &str) -> ZResult<ArrayRef> {
    let checked = CastOptions {
        safe: false,
        ..Default::default()
    };
    let nested = |c: &ArrayRef, to: &DataType, path: String| {
        if c.data_type() == to {
            Ok(c.clone())
        } else {
            exact_cast(c, to, &path)
        }
    };
    let invalid = |e: deltalake::arrow::error::ArrowError| {
        ZError::new(Code::InvalidData, format!("column '{name}': {e}"))
    };
    match (column.data_type(), to) {
        (DataType::Struct(_), DataType::Struct(fields)) => {
            if let Some(path) = extra_field(column.data_type(), to, name) {
                return Err(ZError::new(
                    Code::SchemaMismatch,
                    format!("the write has no column '{path}'"),
                ));
            }
            let s = column.as_struct();
            let children = fields
                .iter()
                .map(|t| match s.column_by_name(t.name()) {
                    Some(c) => nested(c, t.data_type(), format!("{name}.{}", t.name())),
                    None => Ok(new_null_array(t.data_type(), s.len())),
                })
                .collect::<ZResult<Vec<_>>>()?;
            return Ok(Arc::new(
                StructArray::try_new(fields.clone(), children, s.nulls().cloned())
                    .map_err(invalid)?,
            ));
        }
        (DataType::List(_), DataType::List(item)) => {
            let l = column.as_list::<i32>();
            let values = nested(l.values(), item.data_type(), format!("{name}[]"))?;
            return Ok(Arc::new(
                ListArray::try_new(
                    item.clone(),
                    l.offsets().clone(),
                    values,
                    l.nulls().cloned(),
                )
                .map_err(invalid)?,
            ));
        }
        (DataType::LargeList(_), DataType::LargeList(item)) => {
            let l = column.as_list::<i64>();
            let values = nested(l.values(), item.data_type(), format!("{name}[]"))?;
            return Ok(Arc::new(
                LargeListArray::try_new(
                    item.clone(),
                    l.offsets().clone(),
                    values,
                    l.nulls().cloned(),
                )
                .map_err(invalid)?,
            ));
        }
        _ => {}
    }
    let out_of_range = |v: &dyn std::fmt::Display| {
        ZError::new(
            Code::InvalidData,
            format!("column '{name}': {v} is not a whole number within the table's type {to}"),
        )
    };
    let into_type = |e: deltalake::arrow::error::ArrowError| {
        ZError::new(
            Code::InvalidData,
            format!("column '{name}' into the table's type {to}: {e}"),
        )
    };
    match (column.data_type(), to) {
        (DataType::Float32 | DataType::Float64, DataType::Float32) => {
            let doubles = cast_with_options(column, &DataType::Float64, &CastOptions::default())?;
            if let Some(v) = doubles
                .as_primitive::<Float64Type>()
                .iter()
                .flatten()
                .find(|v| v.is_finite() && v.abs() > f64::from(f32::MAX))
            {
                return Err(ZError::new(
                    Code::InvalidData,
                    format!("column '{name}': {v} is out of the range of the table's type {to}"),
                ));
            }
        }
        (DataType::Float32 | DataType::Float64, _) if int_bits(to).is_some() => {
            let doubles = cast_with_options(column, &DataType::Float64, &CastOptions::default())?;
            let limit = 2f64.powi(int_bits(to).unwrap_or(64) - 1);
            if let Some(v) = doubles
                .as_primitive::<Float64Type>()
                .iter()
                .flatten()
                .find(|v| v.fract() != 0.0 || *v < -limit || *v >= limit)
            {
                return Err(out_of_range(&v));
            }
        }
        (DataType::Date64, DataType::Date32) => return Ok(Arc::new(floor_days(column))),
        (DataType::Float32 | DataType::Float64, DataType::Decimal128(_, scale)) => {
            let doubles = cast_with_options(column, &DataType::Float64, &CastOptions::default())?;
            let decimals = cast_with_options(&doubles, to, &checked).map_err(into_type)?;
            let back = cast_with_options(&decimals, &DataType::Float64, &CastOptions::default())?;
            let (given, kept) = (
                doubles.as_primitive::<Float64Type>(),
                back.as_primitive::<Float64Type>(),
            );
            if let Some(v) = given
                .iter()
                .zip(kept.iter())
                .find_map(|(a, b)| a.filter(|a| Some(*a) != b))
            {
                return Err(ZError::new(
                    Code::InvalidData,
                    format!(
                        "column '{name}': {v} has more than the {scale} decimal places of the table's type {to}"
                    ),
                ));
            }
            return Ok(decimals);
        }
        (from, DataType::Decimal128(p, scale)) if from.is_string() => {
            // Arrow's parse rounds '1.239' into decimal(10,2) to 1.24: read with every place a
            // decimal128 leaves (as `rows::decimals_exact` does for row objects) and refuse more.
            let Some((wide, unit)) = finer_decimal(*p, *scale) else {
                return cast_with_options(column, to, &checked).map_err(into_type);
            };
            let finer = cast_with_options(column, &wide, &checked).map_err(into_type)?;
            let values = finer.as_primitive::<Decimal128Type>();
            if let Some(i) =
                (0..values.len()).find(|&i| values.is_valid(i) && values.value(i) % unit != 0)
            {
                let text = cast_with_options(column, &DataType::Utf8, &CastOptions::default())?;
                let msg = format!(
                    "column '{name}': '{}' has more than the {scale} decimal places of the table's type {to}",
                    text.as_string::<i32>().value(i)
                );
                return Err(ZError::new(Code::InvalidData, msg));
            }
            // Every value is a whole multiple of `unit`: narrowing the parsed decimals is exact (the
            // text is not parsed a second time).
            return cast_with_options(&finer, to, &checked).map_err(into_type);
        }
        (from, _)
            if matches!(to, DataType::Decimal128(..))
                || matches!((int_bits(from), int_bits(to)), (Some(a), Some(b)) if a > b)
                || is_unsigned(from)
                || from.is_string() =>
        {
            // Arrow's checked cast names the first value that does not fit.
            return cast_with_options(column, to, &checked).map_err(into_type);
        }
        _ => {}
    }
    cast_with_options(column, to, &checked).map_err(|e| {
        ZError::new(
            Code::SchemaMismatch,
            format!("column '{name}' does not fit the write's type {to}: {e}"),
        )
    })
}

/// For a decimal(p, s) column, the decimal128 type that keeps every place it can beyond `s` (the same
/// whole digits, scale `s + 38 - p`) and the unit a value of it must be a multiple of to fit
/// decimal(p, s); `None` at precision 38 (no room to look).
pub fn finer_decimal(precision: u8, scale: i8) -> Option<(DataType, i128)> {
    let extra = 38u8.checked_sub(precision).filter(|e| *e > 0)?;
    Some((
        DataType::Decimal128(38, scale + extra as i8),
        10i128.pow(u32::from(extra)),
    ))
}

/// Millisecond dates as days, floored: Arrow's Date64 -> Date32 cast truncates toward zero, a day
/// late before 1970.
pub fn floor_days(column: &ArrayRef) -> Date32Array {
    unary(column.as_primitive::<Date64Type>(), |ms| {
        ms.div_euclid(86_400_000) as i32
    })
}

/// A generated column (`delta.generationExpression`): delta-rs's `WriteBuilder` computes its values
/// when the data leaves it out, and checks them when the data gives them.
pub(crate) fn is_generated(f: &Field) -> bool {
    f.metadata().contains_key(GENERATION_EXPRESSION)
}

const GENERATION_EXPRESSION: &str = "delta.generationExpression";

/// Field metadata keys that make delta-rs compute or check values on write.
const COMPUTED_FIELD_KEYS: [&str; 3] =
    ["delta.invariants", GENERATION_EXPRESSION, "delta.identity."];

/// What `table` asks of its writers that zoopipe's own (`data_files.rs`) do not do (CHECK constraints;
/// invariants, generated or identity columns), which only delta-rs's `WriteBuilder` evaluates.
/// `None` when it asks none of it.
pub fn unchecked_rules(table: &DeltaTable) -> ZResult<Option<&'static str>> {
    let state = table.snapshot()?;
    if state
        .metadata()
        .configuration()
        .keys()
        .any(|k| k.starts_with("delta.constraints."))
    {
        return Ok(Some("CHECK constraints"));
    }
    if has_computed_field(&serde_json::to_value(state.snapshot().schema().as_ref())?) {
        return Ok(Some("generated, identity or invariant columns"));
    }
    Ok(None)
}

/// Any field (at any depth) whose metadata asks delta-rs to compute or check its values.
pub fn has_computed_field(v: &serde_json::Value) -> bool {
    use serde_json::Value;
    match v {
        Value::Object(map) => {
            let computed = map
                .get("metadata")
                .and_then(Value::as_object)
                .is_some_and(|m| {
                    m.keys()
                        .any(|k| COMPUTED_FIELD_KEYS.iter().any(|c| k.starts_with(c)))
                });
            computed || map.values().any(has_computed_field)
        }
        Value::Array(items) => items.iter().any(has_computed_field),
        _ => false,
    }
}

/// `batch` with `schema`'s columns, matched by name, a nullable column the batch lacks filled with
/// nulls (as [`table_order`] allows); a column `schema` lacks, or a missing non-nullable one, is
/// SCHEMA_MISMATCH. With `cast`, columns are cast to `schema`'s types where Arrow can (as later
/// batches of a write always were to the first one's; a value that does not convert is an error;
/// a [`kept_dictionary`] column stays as it is); without, they keep their own fields, for a writer
/// that casts itself (`data_files.rs`).
pub fn by_name(batch: RecordBatch, schema: &SchemaRef, cast: bool) -> ZResult<RecordBatch> {
    if batch.schema().fields() == schema.fields() {
        return Ok(batch);
    }
    let names = |s: &SchemaRef| {
        s.fields()
            .iter()
            .map(|f| f.name().clone())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if batch
        .schema()
        .fields()
        .iter()
        .any(|f| schema.field_with_name(f.name()).is_err())
    {
        let msg = format!(
            "batch columns [{}] differ from the write's [{}]",
            names(&batch.schema()),
            names(schema)
        );
        return Err(ZError::new(Code::SchemaMismatch, msg));
    }
    let input = batch.schema();
    let (fields, columns): (Vec<FieldRef>, Vec<_>) = schema
        .fields()
        .iter()
        .map(|f| match input.index_of(f.name()).ok() {
            Some(i) => {
                let (column, field) = (batch.column(i), &input.fields()[i]);
                if column.data_type() == f.data_type() {
                    return Ok((if cast { f.clone() } else { field.clone() }, column.clone()));
                }
                if kept_dictionary(column.data_type(), f.data_type()) {
                    return Ok((with_type(if cast { f } else { field }, column.data_type()), column.clone()));
                }
                if let Some((path, from, to)) = unconvertible_at(column.data_type(), f.data_type(), f.name()) {
                    return Err(type_mismatch(&path, from, to));
                }
                // A `Null` column (nulls only) may declare itself non-null.
                let nullable = field.is_nullable() || *column.data_type() == DataType::Null;
                let out = if cast { f.clone() } else { Arc::new(field.as_ref().clone().with_data_type(f.data_type().clone()).with_nullable(nullable)) };
                Ok((out, exact_cast(column, f.data_type(), f.name())?))
            }
            None if is_generated(f) => {
                Err(ZError::new(Code::SchemaMismatch, format!("the data lacks the generated column '{}' (only delta-rs's own writes compute it)", f.name())))
            }
            None if f.is_nullable() => Ok((f.clone(), new_null_array(f.data_type(), batch.num_rows()))),
            None => Err(ZError::new(Code::SchemaMismatch, format!("the data lacks the column '{}', which is not nullable", f.name()))),
        })
        .collect::<ZResult<Vec<_>>>()?
        .into_iter()
        .unzip();
    let out = if cast
        && fields
            .iter()
            .zip(schema.fields())
            .all(|(a, b)| Arc::ptr_eq(a, b))
    {
        schema.clone()
    } else if cast {
        Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
    } else {
        Arc::new(Schema::new_with_metadata(fields, input.metadata().clone()))
    };
    Ok(RecordBatch::try_new(out, columns)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use deltalake::arrow::array::{Float64Array, Int64Array, StringArray, UInt8Array};
    use deltalake::arrow::datatypes::Int64Type;

    #[test]
    fn a_batch_splits_by_partition_value_in_order_of_first_appearance_keeping_row_order() {
        let part = StringArray::from(vec!["b", "b", "a", "b", "c", "a", "a"]);
        let id = Int64Array::from((0..7).collect::<Vec<i64>>());
        let batch = RecordBatch::try_from_iter(vec![
            ("id", Arc::new(id) as ArrayRef),
            ("part", Arc::new(part) as ArrayRef),
        ])
        .unwrap();
        let ids = |b: &RecordBatch| -> Vec<i64> {
            b.column(0).as_primitive::<Int64Type>().values().to_vec()
        };
        let parts = split_by_partition(batch.clone(), &["part".to_string()]).unwrap();
        let got: Vec<Vec<i64>> = parts.iter().map(|(_, b)| ids(b)).collect();
        assert_eq!(got, vec![vec![0, 1, 3], vec![2, 5, 6], vec![4]]);
        // One value: the batch as it is; no rows: no pieces.
        let one = split_by_partition(batch.slice(0, 2), &["part".to_string()]).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(ids(&one[0].1), vec![0, 1]);
        assert!(
            split_by_partition(batch.slice(0, 0), &["part".to_string()])
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    #[cfg(feature = "datafusion")]
    fn a_batch_opens_a_file_per_distinct_partition_value() {
        let part = StringArray::from(vec![Some("b"), Some("b"), Some("a"), None, Some("b"), None]);
        let batch = RecordBatch::try_from_iter(vec![("part", Arc::new(part) as ArrayRef)]).unwrap();
        let by = ["part".to_string()];
        assert_eq!(partition_count(&batch, &by).unwrap(), 3);
        assert_eq!(partition_count(&batch.slice(0, 2), &by).unwrap(), 1);
        assert_eq!(partition_count(&batch.slice(0, 0), &by).unwrap(), 0);
        assert_eq!(partition_count(&batch, &[]).unwrap(), 1);
    }

    #[test]
    fn types_delta_lacks_are_stored_as_the_ones_it_reads_back() {
        assert_eq!(stored_type(&DataType::UInt8), Some(DataType::Int16));
        assert_eq!(stored_type(&DataType::UInt32), Some(DataType::Int64));
        assert_eq!(stored_type(&DataType::LargeUtf8), Some(DataType::Utf8));
        assert_eq!(stored_type(&DataType::Float16), Some(DataType::Float32));
        let paris = DataType::Timestamp(TimeUnit::Microsecond, Some("Europe/Paris".into()));
        let utc = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
        assert_eq!(stored_type(&paris), Some(utc.clone()));
        assert_eq!(stored_type(&utc), None);
        assert_eq!(stored_type(&DataType::Int64), None);
    }

    #[test]
    fn what_fits_a_column_follows_store_assignment() {
        use DataType::*;
        assert!(
            fits(&Int32, &Int64) && fits(&Int64, &Int32),
            "integers either way, checked by value"
        );
        assert!(fits(&Float64, &Int64), "whole doubles into longs");
        assert!(fits(&Utf8, &Int64) && fits(&Utf8, &Date32), "text parses");
        assert!(!fits(&Int64, &Utf8), "a number never becomes text");
        assert!(!fits(&Boolean, &Int64));
        assert!(fits(&Decimal128(10, 2), &Decimal128(12, 4)));
        assert!(
            !fits(&Decimal128(10, 4), &Decimal128(12, 2)),
            "digits would be lost"
        );
        assert!(fits(&Null, &Utf8));
    }

    #[test]
    fn casts_refuse_values_they_would_change() {
        let halves: ArrayRef = Arc::new(Float64Array::from(vec![1.0, 2.5]));
        assert!(
            exact_cast(&halves, &DataType::Int64, "q").is_err(),
            "2.5 is not truncated"
        );
        let whole: ArrayRef = Arc::new(Float64Array::from(vec![1.0, 2.0]));
        let cast = exact_cast(&whole, &DataType::Int64, "q").unwrap();
        assert_eq!(
            cast.as_any().downcast_ref::<Int64Array>().unwrap().values(),
            &[1, 2]
        );
        let big: ArrayRef = Arc::new(Int64Array::from(vec![300]));
        let e = exact_cast(&big, &DataType::Int8, "small").unwrap_err();
        assert!(e.message.contains("small"), "{}", e.message);
        let bytes: ArrayRef = Arc::new(UInt8Array::from(vec![255]));
        assert!(exact_cast(&bytes, &DataType::Int16, "b").is_ok());
    }

    #[test]
    fn computed_fields_are_found_at_any_depth() {
        let plain = serde_json::json!({"type": "struct", "fields": [{"name": "a", "type": "long", "nullable": true, "metadata": {"comment": "x"}}]});
        assert!(!has_computed_field(&plain));
        let nested = serde_json::json!({"type": "struct", "fields": [{"name": "s", "type": {"type": "struct", "fields": [
            {"name": "g", "type": "long", "nullable": true, "metadata": {"delta.generationExpression": "1"}}]}, "nullable": true, "metadata": {}}]});
        assert!(has_computed_field(&nested));
        let identity = serde_json::json!({"fields": [{"name": "id", "metadata": {"delta.identity.start": 1}}]});
        assert!(has_computed_field(&identity));
    }
}

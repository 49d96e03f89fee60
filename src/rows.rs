//! Plain row objects, as `lib/api.js` sends them (newline-delimited JSON, one object per row),
//! turned into Arrow batches by arrow-json: against the table's schema, or an inferred one.

use std::sync::Arc;

use deltalake::arrow::array::{
    Array, ArrayRef, AsArray, Int64Array, ListArray, RecordBatch, StructArray,
};
use deltalake::arrow::compute::kernels::arity::unary;
use deltalake::arrow::compute::kernels::zip::zip;
use deltalake::arrow::compute::{cast, is_not_null};
use deltalake::arrow::datatypes::{
    DataType, Decimal128Type, Field, Float64Type, Schema, SchemaRef, TimeUnit,
};
use deltalake::arrow::error::ArrowError;
use deltalake::arrow::json::ReaderBuilder;
use deltalake::arrow::json::reader::infer_json_schema;

use crate::error::{Code, ZError, ZResult};
use crate::ipc;

/// What JSON cannot say about the rows' columns, from the JS values they came from: the columns
/// and nested fields that held `Date`s and `Uint8Array`s (sent as ISO strings and hex), so a new
/// table gets timestamp and binary columns where inference alone would give strings.
#[napi(object)]
pub struct RowHints {
    pub timestamp: Vec<String>,
    pub binary: Vec<String>,
    /// For each `binary` column, the first of these rows that held a `Uint8Array` there.
    pub binary_rows: Vec<u32>,
    /// Columns that held NaN or ±Infinity (sent as the text arrow-json parses into floats), and for
    /// each the first of these rows that did.
    pub float: Vec<String>,
    pub float_rows: Vec<u32>,
    /// Columns of apache-arrow decimal cells (sent as decimal text) and their [precision, scale].
    pub decimal: Vec<String>,
    pub decimal_types: Vec<Vec<i32>>,
    /// The first row's keys in their order: new columns take it (inference sorts them by name).
    pub order: Vec<String>,
    /// Fields below the top level that held `Date`s / `Uint8Array`s: paths from a top-level column
    /// through field names, `*` for a list's items.
    pub timestamp_paths: Vec<Vec<String>>,
    pub binary_paths: Vec<Vec<String>>,
    pub float_paths: Vec<Vec<String>>,
    /// Objects below the top level (paths as above) and their keys in the first row's order: new
    /// struct fields take it, as new columns take `order`.
    pub field_paths: Vec<Vec<String>>,
    pub field_orders: Vec<Vec<String>>,
}

impl RowHints {
    /// Inferred column `f` with the types and field order the hints give it and its fields.
    fn hinted(&self, f: &Arc<Field>) -> Arc<Field> {
        let timestamp = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
        let decimals: Vec<(&String, DataType)> = (self.decimal.iter().zip(&self.decimal_types))
            .filter_map(|(name, t)| match t.as_slice() {
                [p, s] => Some((
                    name,
                    DataType::Decimal128(
                        u8::try_from(*p).unwrap_or(38),
                        i8::try_from(*s).unwrap_or(0),
                    ),
                )),
                _ => None,
            })
            .collect();
        // Top-level columns are paths of one step; where a column is in two lists, the first wins.
        let hints = (columns(&self.timestamp, &timestamp)
            .chain(columns(&self.binary, &DataType::Binary))
            .chain(columns(&self.float, &DataType::Float64)))
        .chain(
            decimals
                .iter()
                .map(|(name, t)| (std::slice::from_ref(*name), Hint::Type(t))),
        )
        .chain(
            self.timestamp_paths
                .iter()
                .map(|p| (p.as_slice(), Hint::Type(&timestamp))),
        )
        .chain(
            self.binary_paths
                .iter()
                .map(|p| (p.as_slice(), Hint::Type(&DataType::Binary))),
        )
        .chain(
            self.float_paths
                .iter()
                .map(|p| (p.as_slice(), Hint::Type(&DataType::Float64))),
        )
        .chain(
            self.field_paths
                .iter()
                .zip(&self.field_orders)
                .map(|(p, order)| (p.as_slice(), Hint::Order(order))),
        );
        match below(hints, f.name()) {
            hints if hints.is_empty() => f.clone(),
            hints => nested(f, &hints),
        }
    }
}

/// What a path of the hints says about the field it leads to.
#[derive(Clone, Copy)]
enum Hint<'h> {
    /// The type of a string field (it held Dates, binary, NaN or ±Infinity, or apache-arrow decimal cells).
    Type(&'h DataType),
    /// The order of a struct's fields (the keys of the first row's object there).
    Order(&'h [String]),
}

/// Top-level column `names` as one-step paths to `to`.
fn columns<'h>(
    names: &'h [String],
    to: &'h DataType,
) -> impl Iterator<Item = (&'h [String], Hint<'h>)> {
    names
        .iter()
        .map(move |n| (std::slice::from_ref(n), Hint::Type(to)))
}

/// The rest of the `paths` that start at `step` (a field name, or `*` for a list's items).
fn below<'p>(
    paths: impl IntoIterator<Item = (&'p [String], Hint<'p>)>,
    step: &str,
) -> Vec<(&'p [String], Hint<'p>)> {
    paths
        .into_iter()
        .filter_map(|(path, hint)| {
            path.split_first()
                .filter(|(first, _)| *first == step)
                .map(|(_, rest)| (rest, hint))
        })
        .collect()
}

/// Inferred field `f` as the hints' `paths` (from inside `f`) say: string fields retyped, struct
/// fields in the rows' key order (inference sorts them by name).
fn nested(f: &Arc<Field>, paths: &[(&[String], Hint)]) -> Arc<Field> {
    let here = || {
        paths
            .iter()
            .filter(|(path, _)| path.is_empty())
            .map(|(_, hint)| *hint)
    };
    let to = match f.data_type() {
        DataType::Utf8 => here().find_map(|h| {
            if let Hint::Type(t) = h {
                Some(t.clone())
            } else {
                None
            }
        }),
        DataType::Struct(children) => {
            let mut children: Vec<Arc<Field>> = children
                .iter()
                .map(|c| match below(paths.iter().copied(), c.name()) {
                    inside if inside.is_empty() => c.clone(),
                    inside => nested(c, &inside),
                })
                .collect();
            if let Some(order) = here().find_map(|h| {
                if let Hint::Order(o) = h {
                    Some(o)
                } else {
                    None
                }
            }) {
                in_key_order(&mut children, order);
            }
            Some(DataType::Struct(children.into()))
        }
        DataType::List(item) => Some(DataType::List(nested(
            item,
            &below(paths.iter().copied(), "*"),
        ))),
        _ => None,
    };
    to.map_or_else(
        || f.clone(),
        |dt| Arc::new(f.as_ref().clone().with_data_type(dt)),
    )
}

/// Whether plain rows sent as Arrow columns (`lib/row-columns.js`) store what their JSON would:
/// into a new table (`table` is `None`), or a table whose columns are all nullable, as the JSON path
/// makes them, and hold these columns' exact types (the JSON path would cast; this one does not).
pub fn columns_fit(table: Option<&Schema>, columns: &Schema) -> bool {
    let Some(table) = table else {
        return true;
    };
    table.fields().iter().all(|t| t.is_nullable())
        && columns.fields().iter().all(|f| {
            table
                .field_with_name(f.name())
                .is_ok_and(|t| t.data_type() == f.data_type())
        })
}

/// Decode rows (newline-delimited JSON, one object per row, as `lib/api.js` sends them) into
/// `table`'s columns (types win, every column nullable). Without a table, or with `allow_new`
/// (schema evolution), the columns it lacks take the types inferred from the rows; otherwise a
/// column the table lacks is a SCHEMA_MISMATCH. A field a struct column lacks is one too, always
/// (never silently dropped); a value of the wrong type is INVALID_DATA. Both name the row, counted
/// from `first_row` (where these rows start in what the caller was given). `hints` type the new
/// columns that JSON alone would make strings.
pub fn rows_to_batches(
    rows: &str,
    first_row: usize,
    table: Option<&SchemaRef>,
    allow_new: bool,
    hints: &RowHints,
) -> ZResult<Vec<RecordBatch>> {
    // The table whose columns are all there may be, if there is one.
    let fixed = table.filter(|_| !allow_new);
    if let Some(table) = table {
        non_text_into_strings(table, hints, first_row)?;
    }
    // Inference parses every row into JSON values, as costly as decoding them: only when new
    // columns may appear. Otherwise the strict decoder refuses unknown columns by itself.
    let target = if fixed.is_some() {
        with_columns(table, None, hints)
    } else {
        with_columns(table, Some(&infer(rows)?), hints)
    };
    if target.fields().is_empty() && rows.lines().any(|l| !l.trim().is_empty()) {
        // Arrow said "must either specify a row count or at least one column".
        return Err(ZError::new(
            Code::InvalidData,
            format!(
                "rows {first_row}..{} have no values: a new table needs at least one column",
                first_row + rows.lines().count()
            ),
        ));
    }
    let schema = wire_schema(&target);
    decode_as(rows, &target)
        .map_err(|err| {
            // Only on this error path: name the columns the table lacks (rows whose types conflict,
            // which inference refuses, are found below instead).
            if let Some(table) = fixed
                && let Ok(inferred) = infer(rows)
                && let Err(e) = check_new_columns(table, &inferred)
            {
                return e;
            }
            if fixed.is_none()
                && let Some(e) = conflicting_row(rows, first_row, table, hints)
            {
                return e;
            }
            // The first bad row, so the message can name it: a wrong type (the lenient decoder fails
            // too) or a field the schema lacks (only the strict one does).
            for (i, line) in rows
                .lines()
                .enumerate()
                .map(|(i, line)| (first_row + i, line))
            {
                if let Err(e) = decode(line, &schema, false) {
                    return ZError::new(
                        Code::InvalidData,
                        format!("row {i}: {e} (row: {})", preview(line)),
                    );
                }
                if let Err(e) = decode(line, &schema, true) {
                    return ZError::new(
                        Code::SchemaMismatch,
                        format!(
                            "row {i}: {e}; the table has no such field (row: {})",
                            preview(line)
                        ),
                    );
                }
            }
            ZError::new(Code::InvalidData, err.to_string())
        })
        .and_then(|batches| {
            decimals_exact(rows, &target, first_row)?;
            Ok(batches)
        })
}

/// arrow-json parses a decimal with more places than its column's scale by dropping the extra
/// digits: 1.239 into a decimal(10, 2) column was 1.23, 0.005 was 0.00. Refused instead (as
/// pyarrow refuses it: "would cause data loss"), naming the row: the decimal columns are read
/// again with every place a decimal128 leaves them (scale 38 - precision more), and a value with
/// digits past the column's scale is the error. Top-level columns; only tables with decimals pay.
fn decimals_exact(rows: &str, target: &SchemaRef, first_row: usize) -> ZResult<()> {
    let wide: Vec<(Field, i8, i128)> = target
        .fields()
        .iter()
        .filter_map(|f| match f.data_type() {
            DataType::Decimal128(p, s) => crate::conform::finer_decimal(*p, *s)
                .map(|(wide, unit)| (Field::new(f.name(), wide, true), *s, unit)),
            _ => None,
        })
        .collect();
    if wide.is_empty() {
        return Ok(());
    }
    let schema = Arc::new(Schema::new(
        wide.iter().map(|(f, _, _)| f.clone()).collect::<Vec<_>>(),
    ));
    for batch in decode(rows, &schema, false)? {
        for ((f, scale, unit), column) in wide.iter().zip(batch.columns()) {
            let values = column.as_primitive::<Decimal128Type>();
            if let Some(i) =
                (0..values.len()).find(|&i| values.is_valid(i) && values.value(i) % unit != 0)
            {
                let line = rows.lines().nth(i).unwrap_or("");
                let msg = format!(
                    "row {}: column '{}' keeps {scale} decimal places, and this value has more; round it first (row: {})",
                    first_row + i,
                    f.name(),
                    preview(line)
                );
                return Err(ZError::new(Code::InvalidData, msg));
            }
        }
    }
    Ok(())
}

/// A `Uint8Array` would land in a string column as its hex text (how binary crosses), NaN as the
/// text 'NaN' (how it crosses): refused, naming the first row that holds one, so nothing is written
/// (and a Pipe can dead-letter that row), as any other number into a string column is.
fn non_text_into_strings(table: &SchemaRef, hints: &RowHints, first_row: usize) -> ZResult<()> {
    let binary = hints.binary.iter().zip(&hints.binary_rows).map(|(n, r)| {
        (
            n,
            r,
            "a Uint8Array (binary) is not one; convert it first, e.g. buf.toString('utf8')",
        )
    });
    let float = hints
        .float
        .iter()
        .zip(&hints.float_rows)
        .map(|(n, r)| (n, r, "NaN or Infinity (a number) is not one"));
    for (name, row, why) in binary.chain(float) {
        if let Ok(f) = table.field_with_name(name)
            && matches!(
                f.data_type(),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            )
        {
            return Err(ZError::new(
                Code::InvalidData,
                format!(
                    "row {}: column '{name}' holds strings, and {why}",
                    first_row + *row as usize
                ),
            ));
        }
    }
    Ok(())
}

// JS gives instants as epoch milliseconds (`Date.now()`, apache-arrow's timestamp and date cells),
// while arrow-json reads a number in a timestamp field in the field's unit (microseconds in Delta)
// and in a date field as days. So date fields, at any depth, are decoded as Date64 (milliseconds,
// and ISO text) and turned into days after; numbers in timestamp fields are read again as
// milliseconds (strings there, ISO text, are left as arrow-json parsed them: to the microsecond).
// Through structs and lists; inside maps the values keep arrow-json's reading.

/// `dt` as the decoder is given it (dates as Date64), or `None` when that is `dt` itself.
fn wire_type(dt: &DataType) -> Option<DataType> {
    match dt {
        DataType::Date32 => Some(DataType::Date64),
        DataType::Struct(fields) => {
            let wired: Vec<Option<DataType>> =
                fields.iter().map(|f| wire_type(f.data_type())).collect();
            wired.iter().any(Option::is_some).then(|| {
                DataType::Struct(
                    fields
                        .iter()
                        .zip(wired)
                        .map(|(f, w)| {
                            w.map_or_else(
                                || f.clone(),
                                |t| Arc::new(f.as_ref().clone().with_data_type(t)),
                            )
                        })
                        .collect(),
                )
            })
        }
        DataType::List(item) => wire_type(item.data_type())
            .map(|t| DataType::List(Arc::new(item.as_ref().clone().with_data_type(t)))),
        _ => None,
    }
}

/// `target` as the decoder is given it (its columns as the fields of one struct).
fn wire_schema(target: &SchemaRef) -> SchemaRef {
    match wire_type(&DataType::Struct(target.fields().clone())) {
        Some(DataType::Struct(fields)) => {
            Arc::new(Schema::new_with_metadata(fields, target.metadata().clone()))
        }
        _ => target.clone(),
    }
}

/// The type that reads the numbers of `dt`'s timestamp fields (Float64 there, only the containers
/// leading to them around), or `None` when it has none that `rows` gives a number.
fn numbers_type(dt: &DataType, rows: &str, name: &str) -> Option<DataType> {
    match dt {
        DataType::Timestamp(..) => has_numbers(rows, name).then_some(DataType::Float64),
        DataType::Struct(fields) => {
            let kept: Vec<Field> = fields
                .iter()
                .filter_map(|f| {
                    numbers_type(f.data_type(), rows, f.name())
                        .map(|t| Field::new(f.name(), t, true))
                })
                .collect();
            (!kept.is_empty()).then(|| DataType::Struct(kept.into()))
        }
        DataType::List(item) => numbers_type(item.data_type(), rows, name)
            .map(|t| DataType::List(Arc::new(Field::new(item.name(), t, true)))),
        _ => None,
    }
}

/// A batch decoded with [`wire_schema`] as `target`'s: dates in days, timestamp numbers as
/// milliseconds. `batch` holds all of `rows`.
fn from_wire(
    rows: &str,
    batch: &RecordBatch,
    target: &SchemaRef,
) -> Result<RecordBatch, ArrowError> {
    let columns: Vec<ArrayRef> = batch
        .columns()
        .iter()
        .zip(target.fields())
        .map(|(c, f)| days(c, f.data_type()))
        .collect::<Result<_, _>>()?;
    // The columns as the fields of one struct, as `wire_schema` takes them.
    let all = DataType::Struct(target.fields().clone());
    let Some(DataType::Struct(fields)) = numbers_type(&all, rows, "") else {
        return RecordBatch::try_new(target.clone(), columns);
    };
    // The same rows, those fields only, as numbers: a string there is a type conflict, so null.
    let read = ReaderBuilder::new(Arc::new(Schema::new(fields)))
        .with_batch_size(batch.num_rows().max(1))
        .with_ignore_type_conflicts(true)
        .build(rows.as_bytes())?
        .next()
        .transpose()?;
    // `batch` has rows, so this reads one batch of them.
    let Some(read) = read else {
        return RecordBatch::try_new(target.clone(), columns);
    };
    // Every column is nullable (`with_columns`), so the struct needs no null buffer of its own.
    let whole: ArrayRef = Arc::new(StructArray::try_new(
        target.fields().clone(),
        columns,
        None,
    )?);
    let numbers: ArrayRef = Arc::new(StructArray::from(read));
    RecordBatch::try_new(
        target.clone(),
        with_millis(&whole, &numbers, &all)?
            .as_struct()
            .columns()
            .to_vec(),
    )
}

/// `array` (decoded as [`wire_type`] of `dt`) as `dt`: Date64 values floored to days.
fn days(array: &ArrayRef, dt: &DataType) -> Result<ArrayRef, ArrowError> {
    Ok(match (dt, array.data_type()) {
        (DataType::Date32, DataType::Date64) => Arc::new(crate::conform::floor_days(array)),
        (DataType::Struct(fields), DataType::Struct(_)) if wire_type(dt).is_some() => {
            let s = array.as_struct();
            let children = s
                .columns()
                .iter()
                .zip(fields)
                .map(|(c, f)| days(c, f.data_type()))
                .collect::<Result<Vec<_>, _>>()?;
            Arc::new(StructArray::try_new(
                fields.clone(),
                children,
                s.nulls().cloned(),
            )?)
        }
        (DataType::List(item), DataType::List(_)) if wire_type(dt).is_some() => {
            let l = array.as_list::<i32>();
            Arc::new(ListArray::try_new(
                item.clone(),
                l.offsets().clone(),
                days(l.values(), item.data_type())?,
                l.nulls().cloned(),
            )?)
        }
        _ => array.clone(),
    })
}

/// `array` (of type `dt`) with the values `numbers` holds (read by [`numbers_type`]) taken as
/// epoch milliseconds in its timestamp fields.
fn with_millis(
    array: &ArrayRef,
    numbers: &ArrayRef,
    dt: &DataType,
) -> Result<ArrayRef, ArrowError> {
    Ok(match (dt, numbers.data_type()) {
        (DataType::Timestamp(unit, _), DataType::Float64) => {
            let ms = numbers.as_primitive::<Float64Type>();
            if ms.null_count() == ms.len() {
                return Ok(array.clone());
            }
            let scaled: Int64Array = match unit {
                TimeUnit::Second => unary(ms, |v| (v / 1e3).floor() as i64),
                TimeUnit::Millisecond => unary(ms, |v| v.round() as i64),
                TimeUnit::Microsecond => unary(ms, |v| (v * 1e3).round() as i64),
                TimeUnit::Nanosecond => unary(ms, |v| (v * 1e6).round() as i64),
            };
            zip(&is_not_null(ms)?, &cast(&scaled, dt)?, array)?
        }
        (DataType::Struct(fields), DataType::Struct(_)) => {
            let (s, n) = (array.as_struct(), numbers.as_struct());
            let mut children = s.columns().to_vec();
            for (i, f) in fields.iter().enumerate() {
                if let Some(c) = n.column_by_name(f.name()) {
                    children[i] = with_millis(&children[i], c, f.data_type())?;
                }
            }
            Arc::new(StructArray::try_new(
                fields.clone(),
                children,
                s.nulls().cloned(),
            )?)
        }
        (DataType::List(item), DataType::List(_)) => {
            let (l, n) = (array.as_list::<i32>(), numbers.as_list::<i32>());
            // Both decoded the same JSON lists; a list the numbers read made null (a type conflict)
            // would have failed the first decode, so the offsets agree.
            if l.offsets() != n.offsets() {
                return Ok(array.clone());
            }
            Arc::new(ListArray::try_new(
                item.clone(),
                l.offsets().clone(),
                with_millis(l.values(), n.values(), item.data_type())?,
                l.nulls().cloned(),
            )?)
        }
        _ => array.clone(),
    })
}

/// Whether some row may give field `name` a number (or a list, which may hold numbers), so that
/// [`from_wire`] reads the rows again only then (Dates cross as ISO text). In JSON text a quote
/// inside a string is always escaped, so the key followed by a digit, minus or `[` matches only keys
/// (this one, a nested one of the same name, or one ending in an escaped quote and the name): never
/// a miss, at worst a second read for nothing.
fn has_numbers(rows: &str, name: &str) -> bool {
    let key = format!("{}:", serde_json::Value::from(name));
    rows.match_indices(&key).any(|(i, k)| {
        rows.as_bytes()
            .get(i + k.len())
            .is_some_and(|b| b.is_ascii_digit() || *b == b'-' || *b == b'[')
    })
}

/// Whether some row may give field `name` (the key appears; at worst a nested key of the same name).
pub fn mentions_key(rows: &str, name: &str) -> bool {
    rows.contains(&format!("{}:", serde_json::Value::from(name)))
}

/// Row objects as one Arrow IPC stream, with the types `write(rows)` gives a new table (arrow-json's
/// inference: integers Int64, other numbers Float64, strings Utf8, objects structs, arrays lists),
/// for JS paths that need a batch of rows before any table is involved: a Pipe's input rows (its
/// transform takes RecordBatches) and a merge source.
pub fn rows_to_ipc(rows: &str, hints: &RowHints) -> ZResult<Vec<u8>> {
    // One batch for the rows (`decode` sizes arrow-json's batches to them), none for no rows.
    let batches = rows_to_batches(rows, 0, None, false, hints)?;
    let schema = match batches.first() {
        Some(b) => b.schema(),
        None => Arc::new(Schema::empty()),
    };
    Ok(ipc::encode(&schema, &batches)?)
}

fn infer(rows: &str) -> ZResult<Schema> {
    infer_json_schema(rows.as_bytes(), None)
        .map(|(schema, _)| schema)
        .map_err(|e| {
            ZError::new(
                Code::InvalidData,
                format!("cannot infer a schema from the rows: {e}"),
            )
        })
}

/// `fields` (inferred: in name order) in the `order` of the first row's keys. Stable: fields the
/// first row lacked keep their place after the ones it had.
fn in_key_order(fields: &mut [Arc<Field>], order: &[String]) {
    fields.sort_by_key(|f| {
        order
            .iter()
            .position(|k| k == f.name())
            .unwrap_or(usize::MAX)
    });
}

/// The table's columns, then the inferred ones it lacks (typed by `hints`); all nullable.
fn with_columns(
    table: Option<&SchemaRef>,
    inferred: Option<&Schema>,
    hints: &RowHints,
) -> SchemaRef {
    let mut new: Vec<Arc<Field>> = inferred
        .into_iter()
        .flat_map(|inferred| new_columns(table, inferred))
        .map(|f| hints.hinted(f))
        .collect();
    in_key_order(&mut new, &hints.order);
    let fields = table
        .into_iter()
        .flat_map(|t| t.fields().iter().cloned())
        .chain(new)
        .map(|f| f.as_ref().clone().with_nullable(true));
    Arc::new(Schema::new(fields.collect::<Vec<_>>()))
}

/// The inferred columns `table` lacks (all of them without a table).
fn new_columns<'a>(
    table: Option<&'a SchemaRef>,
    inferred: &'a Schema,
) -> impl Iterator<Item = &'a Arc<Field>> {
    inferred
        .fields()
        .iter()
        .filter(move |f| table.is_none_or(|t| t.field_with_name(f.name()).is_err()))
}

/// SCHEMA_MISMATCH naming the top-level columns of `inferred` that `table` lacks.
fn check_new_columns(table: &SchemaRef, inferred: &Schema) -> ZResult<()> {
    let names: Vec<&str> = new_columns(Some(table), inferred)
        .map(|f| f.name().as_str())
        .collect();
    if names.is_empty() {
        return Ok(());
    }
    Err(ZError::new(
        Code::SchemaMismatch,
        format!(
            "rows have columns the table does not: {} (use schemaMode: 'merge' to add them)",
            names.join(", ")
        ),
    ))
}

/// `rows` decoded as `target`'s columns (strictly: a field `target` lacks is an error).
fn decode_as(rows: &str, target: &SchemaRef) -> Result<Vec<RecordBatch>, ArrowError> {
    let mut batches = decode(rows, &wire_schema(target), true)?;
    if let [batch] = batches.as_mut_slice() {
        *batch = from_wire(rows, batch, target)?;
    }
    Ok(batches)
}

/// Inference makes values of conflicting types one type (a number and a string give a string),
/// so the row that then fails to decode may be a good, early one ({"a":1} before {"a":"x"}). The
/// row to blame is the first whose rows up to it do not decode as the types inferred from them
/// (found by bisection over prefixes, on this error path only), with the error of decoding it as
/// the types of the rows before it. `None` when that is the first row, or not a type conflict.
fn conflicting_row(
    rows: &str,
    first_row: usize,
    table: Option<&SchemaRef>,
    hints: &RowHints,
) -> Option<ZError> {
    let ends: Vec<usize> = rows
        .match_indices('\n')
        .map(|(i, _)| i)
        .chain([rows.len()])
        .collect();
    let prefix = |k: usize| &rows[..ends[k - 1]];
    let inferred = |text: &str| {
        infer(text)
            .ok()
            .map(|s| with_columns(table, Some(&s), hints))
    };
    let fails =
        |k: usize| inferred(prefix(k)).is_none_or(|target| decode_as(prefix(k), &target).is_err());
    // The smallest failing prefix: the whole input fails (that is why we are here).
    let (mut lo, mut hi) = (1, ends.len());
    while lo < hi {
        let mid = (lo + hi) / 2;
        if fails(mid) { hi = mid } else { lo = mid + 1 }
    }
    if lo == 1 {
        return None;
    }
    let line = &rows[ends[lo - 2] + 1..ends[lo - 1]];
    let e = decode(line, &wire_schema(&inferred(prefix(lo - 1))?), false).err()?;
    let msg = format!(
        "row {}: {e}; the rows before it have another type there (row: {})",
        first_row + lo - 1,
        preview(line)
    );
    Some(ZError::new(Code::InvalidData, msg))
}

fn decode(rows: &str, schema: &SchemaRef, strict: bool) -> Result<Vec<RecordBatch>, ArrowError> {
    let lines = rows.lines().count();
    ReaderBuilder::new(schema.clone())
        .with_batch_size(lines.max(1))
        .with_strict_mode(strict)
        .build(rows.as_bytes())?
        .collect()
}

fn preview(s: &str) -> String {
    if s.len() > 200 {
        format!(
            "{}…",
            &s[..s.char_indices().nth(200).map_or(s.len(), |(i, _)| i)]
        )
    } else {
        s.to_string()
    }
}

/// The schema row objects are decoded with into `table`: without the generated columns no row names,
/// which delta-rs then computes (decoded, they would be nulls that fail its check).
pub fn for_rows(table: SchemaRef, rows: &str) -> SchemaRef {
    let given = |f: &deltalake::arrow::datatypes::FieldRef| {
        !crate::conform::is_generated(f) || mentions_key(rows, f.name())
    };
    if table.fields().iter().all(given) {
        return table;
    }
    let fields: Vec<deltalake::arrow::datatypes::FieldRef> = table
        .fields()
        .iter()
        .filter(|f| given(f))
        .cloned()
        .collect();
    Arc::new(Schema::new_with_metadata(fields, table.metadata().clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_numbers_sees_number_values_of_the_key_and_nothing_inside_strings() {
        assert!(has_numbers("{\"at\":\"2024-01-01\"}\n{\"at\":-5}", "at"));
        assert!(has_numbers("{\"id\":1,\"at\":17}", "at"));
        assert!(!has_numbers(r#"{"at":"2024-01-01","s":"\"at\":1"}"#, "at"));
        assert!(!has_numbers(r#"{"at":null,"cat":1}"#, "at"));
        assert!(has_numbers(r#"{"s":{"at":5}}"#, "at"));
        assert!(has_numbers(r#"{"l":[null,5]}"#, "l"));
    }
}

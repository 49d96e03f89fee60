//! Plain row objects, as `lib/api.js` sends them (newline-delimited JSON, one object per row),
//! turned into Arrow batches by arrow-json: against the table's schema, or an inferred one.

use std::sync::Arc;

use deltalake::arrow::array::{Array, AsArray, Date32Array, Int64Array, RecordBatch};
use deltalake::arrow::compute::kernels::arity::unary;
use deltalake::arrow::compute::kernels::zip::zip;
use deltalake::arrow::compute::{cast, is_not_null};
use deltalake::arrow::datatypes::{DataType, Date64Type, Field, Float64Type, Schema, SchemaRef, TimeUnit};
use deltalake::arrow::error::ArrowError;
use deltalake::arrow::json::ReaderBuilder;
use deltalake::arrow::json::reader::infer_json_schema;
use napi::bindgen_prelude::Buffer;

use crate::error::{Code, ZError, ZResult, guard};
use crate::ipc;

/// What JSON cannot say about the rows' top-level columns, from the JS values they came from: the
/// columns that held `Date`s and `Uint8Array`s (sent as ISO strings and hex), so a new table gets
/// timestamp and binary columns where inference alone would give strings.
#[napi(object)]
pub struct RowHints {
    pub timestamp: Vec<String>,
    pub binary: Vec<String>,
    /// For each `binary` column, the first of these rows that held a `Uint8Array` there.
    pub binary_rows: Vec<u32>,
}

impl RowHints {
    /// Inferred column `f` with the type the hints give it.
    fn hinted(&self, f: &Arc<Field>) -> Arc<Field> {
        let to = if f.data_type() != &DataType::Utf8 {
            None
        } else if self.timestamp.iter().any(|n| n == f.name()) {
            Some(DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())))
        } else if self.binary.iter().any(|n| n == f.name()) {
            Some(DataType::Binary)
        } else {
            None
        };
        to.map_or_else(|| f.clone(), |dt| Arc::new(f.as_ref().clone().with_data_type(dt)))
    }
}

/// Decode rows (newline-delimited JSON, one object per row, as `lib/api.js` sends them) into
/// `table`'s columns (types win, every column nullable). Without a table, or with `allow_new`
/// (schema evolution), the columns it lacks take the types inferred from the rows; otherwise a
/// column the table lacks is a SCHEMA_MISMATCH. A field a struct column lacks is one too, always
/// (never silently dropped); a value of the wrong type is INVALID_DATA. Both name the row, counted
/// from `first_row` (where these rows start in what the caller was given). `hints` type the new
/// columns that JSON alone would make strings.
pub fn rows_to_batches(rows: &str, first_row: usize, table: Option<&SchemaRef>, allow_new: bool, hints: &RowHints) -> ZResult<Vec<RecordBatch>> {
    // The table whose columns are all there may be, if there is one.
    let fixed = table.filter(|_| !allow_new);
    if let Some(table) = table {
        binary_into_strings(table, hints, first_row)?;
    }
    // Inference parses every row into JSON values, as costly as decoding them: only when new
    // columns may appear. Otherwise the strict decoder refuses unknown columns by itself.
    let target = if fixed.is_some() { with_columns(table, None, hints) } else { with_columns(table, Some(&infer(rows)?), hints) };
    let schema = wire_schema(&target);
    let batches = decode(rows, &schema, true).and_then(|mut batches| {
        if let [batch] = batches.as_mut_slice() {
            *batch = from_wire(rows, batch, &target)?;
        }
        Ok(batches)
    });
    batches.map_err(|err| {
        // Only on this error path: name the columns the table lacks (rows whose types conflict,
        // which inference refuses, are found below instead).
        if let Some(table) = fixed && let Ok(inferred) = infer(rows) && let Err(e) = check_new_columns(table, &inferred) {
            return e;
        }
        // The first bad row, so the message can name it: a wrong type (the lenient decoder fails
        // too) or a field the schema lacks (only the strict one does).
        for (i, line) in rows.lines().enumerate().map(|(i, line)| (first_row + i, line)) {
            if let Err(e) = decode(line, &schema, false) {
                return ZError::new(Code::InvalidData, format!("row {i}: {e} (row: {})", preview(line)));
            }
            if let Err(e) = decode(line, &schema, true) {
                return ZError::new(Code::SchemaMismatch, format!("row {i}: {e}; the table has no such field (row: {})", preview(line)));
            }
        }
        ZError::new(Code::InvalidData, err.to_string())
    })
}

/// A `Uint8Array` would land in a string column as its hex text (how binary crosses): refused, naming
/// the first row that holds one, so nothing is written (and a Pipe can dead-letter that row).
fn binary_into_strings(table: &SchemaRef, hints: &RowHints, first_row: usize) -> ZResult<()> {
    for (name, row) in hints.binary.iter().zip(&hints.binary_rows) {
        if let Ok(f) = table.field_with_name(name)
            && matches!(f.data_type(), DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
        {
            return Err(ZError::new(
                Code::InvalidData,
                format!("row {}: column '{name}' holds strings, and a Uint8Array (binary) is not one; convert it first, e.g. buf.toString('utf8')", first_row + *row as usize),
            ));
        }
    }
    Ok(())
}

// JS gives instants as epoch milliseconds (`Date.now()`, apache-arrow's timestamp and date cells),
// while arrow-json reads a number in a timestamp column in the column's unit (microseconds in Delta)
// and in a date column as days. So top-level date columns are decoded as Date64 (milliseconds, and
// ISO text) and turned into days after; numbers in top-level timestamp columns are read again as
// milliseconds (strings there, ISO text, are left as arrow-json parsed them: to the microsecond).

/// `target` as the decoder is given it: date columns as Date64.
fn wire_schema(target: &SchemaRef) -> SchemaRef {
    if !target.fields().iter().any(|f| f.data_type() == &DataType::Date32) {
        return target.clone();
    }
    let fields = target.fields().iter().map(|f| match f.data_type() {
        DataType::Date32 => Arc::new(f.as_ref().clone().with_data_type(DataType::Date64)),
        _ => f.clone(),
    });
    Arc::new(Schema::new_with_metadata(fields.collect::<Vec<_>>(), target.metadata().clone()))
}

/// A batch decoded with [`wire_schema`] as `target`'s: dates in days, timestamp numbers as
/// milliseconds. `batch` holds all of `rows`.
fn from_wire(rows: &str, batch: &RecordBatch, target: &SchemaRef) -> Result<RecordBatch, ArrowError> {
    let mut columns = batch.columns().to_vec();
    for (i, f) in target.fields().iter().enumerate() {
        if f.data_type() == &DataType::Date32 && columns[i].data_type() == &DataType::Date64 {
            // days, flooring (arrow's Date64 -> Date32 cast truncates toward zero: a day late before 1970)
            let days: Date32Array = unary(columns[i].as_primitive::<Date64Type>(), |ms| ms.div_euclid(86_400_000) as i32);
            columns[i] = Arc::new(days);
        }
    }
    let timestamps: Vec<usize> = (0..target.fields().len())
        .filter(|&i| matches!(target.field(i).data_type(), DataType::Timestamp(..)) && has_numbers(rows, target.field(i).name()))
        .collect();
    if !timestamps.is_empty() {
        // The same rows, those columns only, as numbers: a string there is a type conflict, so null.
        let fields: Vec<Field> = timestamps.iter().map(|&i| Field::new(target.field(i).name(), DataType::Float64, true)).collect();
        let numbers = ReaderBuilder::new(Arc::new(Schema::new(fields)))
            .with_batch_size(batch.num_rows().max(1))
            .with_ignore_type_conflicts(true)
            .build(rows.as_bytes())?
            .next()
            .transpose()?;
        // `batch` has rows, so this reads one batch of them.
        if let Some(numbers) = numbers {
            for (j, &i) in timestamps.iter().enumerate() {
                let ms = numbers.column(j).as_primitive::<Float64Type>();
                if ms.null_count() == ms.len() {
                    continue;
                }
                let dt = target.field(i).data_type();
                let scaled: Int64Array = match dt {
                    DataType::Timestamp(TimeUnit::Second, _) => unary(ms, |v| (v / 1e3).floor() as i64),
                    DataType::Timestamp(TimeUnit::Millisecond, _) => unary(ms, |v| v.round() as i64),
                    DataType::Timestamp(TimeUnit::Microsecond, _) => unary(ms, |v| (v * 1e3).round() as i64),
                    _ => unary(ms, |v| (v * 1e6).round() as i64),
                };
                columns[i] = zip(&is_not_null(ms)?, &cast(&scaled, dt)?, &columns[i])?;
            }
        }
    }
    RecordBatch::try_new(target.clone(), columns)
}

/// Whether some row may give column `name` a number, so that [`from_wire`] reads the rows again only
/// then (Dates cross as ISO text). In JSON text a quote inside a string is always escaped, so the
/// key followed by a digit or minus matches only keys (this one, a nested one of the same name, or
/// one ending in an escaped quote and the name): never a miss, at worst a second read for nothing.
fn has_numbers(rows: &str, name: &str) -> bool {
    let key = format!("{}:", serde_json::Value::from(name));
    rows.match_indices(&key).any(|(i, k)| rows.as_bytes().get(i + k.len()).is_some_and(|b| b.is_ascii_digit() || *b == b'-'))
}

/// Row objects as one Arrow IPC stream, with the types `write(rows)` gives a new table (arrow-json's
/// inference: integers Int64, other numbers Float64, strings Utf8, objects structs, arrays lists),
/// for JS paths that need a batch of rows before any table is involved: a Pipe's input rows (its
/// transform takes RecordBatches) and a merge source.
#[napi]
pub async fn rows_to_ipc(rows: String, hints: RowHints) -> napi::Result<Buffer> {
    guard(async move {
        // One batch for the rows (`decode` sizes arrow-json's batches to them), none for no rows.
        let batches = rows_to_batches(&rows, 0, None, false, &hints)?;
        let schema = match batches.first() {
            Some(b) => b.schema(),
            None => Arc::new(Schema::empty()),
        };
        Ok(ipc::encode(&schema, &batches)?.into())
    })
    .await
}

fn infer(rows: &str) -> ZResult<Schema> {
    infer_json_schema(rows.as_bytes(), None)
        .map(|(schema, _)| schema)
        .map_err(|e| ZError::new(Code::InvalidData, format!("cannot infer a schema from the rows: {e}")))
}

/// The table's columns, then the inferred ones it lacks (typed by `hints`); all nullable.
fn with_columns(table: Option<&SchemaRef>, inferred: Option<&Schema>, hints: &RowHints) -> SchemaRef {
    let new = inferred.into_iter().flat_map(|inferred| new_columns(table, inferred)).map(|f| hints.hinted(f));
    let fields = table.into_iter().flat_map(|t| t.fields().iter().cloned()).chain(new).map(|f| f.as_ref().clone().with_nullable(true));
    Arc::new(Schema::new(fields.collect::<Vec<_>>()))
}

/// The inferred columns `table` lacks (all of them without a table).
fn new_columns<'a>(table: Option<&'a SchemaRef>, inferred: &'a Schema) -> impl Iterator<Item = &'a Arc<Field>> {
    inferred.fields().iter().filter(move |f| table.is_none_or(|t| t.field_with_name(f.name()).is_err()))
}

/// SCHEMA_MISMATCH naming the top-level columns of `inferred` that `table` lacks.
fn check_new_columns(table: &SchemaRef, inferred: &Schema) -> ZResult<()> {
    let names: Vec<&str> = new_columns(Some(table), inferred).map(|f| f.name().as_str()).collect();
    if names.is_empty() {
        return Ok(());
    }
    Err(ZError::new(
        Code::SchemaMismatch,
        format!("rows have columns the table does not: {} (use schemaMode: 'merge' to add them)", names.join(", ")),
    ))
}

fn decode(rows: &str, schema: &SchemaRef, strict: bool) -> Result<Vec<RecordBatch>, ArrowError> {
    let lines = rows.lines().count();
    ReaderBuilder::new(schema.clone()).with_batch_size(lines.max(1)).with_strict_mode(strict).build(rows.as_bytes())?.collect()
}

fn preview(s: &str) -> String {
    if s.len() > 200 { format!("{}…", &s[..s.char_indices().nth(200).map_or(s.len(), |(i, _)| i)]) } else { s.to_string() }
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
    }
}

//! Data handed to writers, turned into Arrow batches: Arrow IPC bytes (stream or file format) and
//! plain row objects as newline-delimited JSON (decoded by arrow-json against the table's schema, or
//! an inferred one).

use std::io::Cursor;
use std::sync::Arc;

use deltalake::arrow::array::RecordBatch;
use deltalake::arrow::datatypes::{Field, Schema, SchemaRef};
use deltalake::arrow::ipc::reader::{FileReader, StreamReader};
use deltalake::arrow::json::ReaderBuilder;
use deltalake::arrow::error::ArrowError;
use deltalake::arrow::json::reader::infer_json_schema;

use crate::error::{Code, ZError, ZResult};

const ARROW_FILE_MAGIC: &[u8] = b"ARROW1";

/// Decode an Arrow IPC stream or file.
pub fn decode_ipc(bytes: &[u8]) -> ZResult<(SchemaRef, Vec<RecordBatch>)> {
    let bad = |e: deltalake::arrow::error::ArrowError| ZError::new(Code::InvalidData, format!("malformed Arrow IPC data: {e}"));
    if bytes.starts_with(ARROW_FILE_MAGIC) {
        let reader = FileReader::try_new(Cursor::new(bytes), None).map_err(bad)?;
        let schema = reader.schema();
        Ok((schema, reader.collect::<Result<Vec<_>, _>>().map_err(bad)?))
    } else {
        let reader = StreamReader::try_new(Cursor::new(bytes), None).map_err(bad)?;
        let schema = reader.schema();
        Ok((schema, reader.collect::<Result<Vec<_>, _>>().map_err(bad)?))
    }
}

/// Decode rows (newline-delimited JSON, one object per row, as `lib/api.js` sends them) into
/// `table`'s columns (types win, every column nullable). Without a table, or with `allow_new`
/// (schema evolution), the columns it lacks take the types inferred from the rows; otherwise a
/// column the table lacks is a SCHEMA_MISMATCH. A field a struct column lacks is one too, always
/// (never silently dropped); a value of the wrong type is INVALID_DATA. Both name the row, counted
/// from `first_row` (where these rows start in what the caller was given).
pub fn rows_to_batches(rows: &str, first_row: usize, table: Option<&SchemaRef>, allow_new: bool) -> ZResult<Vec<RecordBatch>> {
    // The table whose columns are all there may be, if there is one.
    let fixed = table.filter(|_| !allow_new);
    // Inference parses every row into JSON values, as costly as decoding them: only when new
    // columns may appear. Otherwise the strict decoder refuses unknown columns by itself.
    let schema = if fixed.is_some() { with_columns(table, None) } else { with_columns(table, Some(&infer(rows)?)) };
    decode(rows, &schema, true).map_err(|err| {
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

fn infer(rows: &str) -> ZResult<Schema> {
    infer_json_schema(rows.as_bytes(), None)
        .map(|(schema, _)| schema)
        .map_err(|e| ZError::new(Code::InvalidData, format!("cannot infer a schema from the rows: {e}")))
}

/// The table's columns, then the inferred ones it lacks; all nullable.
fn with_columns(table: Option<&SchemaRef>, inferred: Option<&Schema>) -> SchemaRef {
    let new = inferred.into_iter().flat_map(|inferred| new_columns(table, inferred));
    let fields = table.into_iter().flat_map(|t| t.fields().iter()).chain(new).map(|f| f.as_ref().clone().with_nullable(true));
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

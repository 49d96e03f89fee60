//! Data handed to writers, turned into Arrow batches: Arrow IPC bytes (stream or file format) and
//! arrays of plain row objects (decoded by arrow-json against the table's schema, or an inferred one).

use std::io::Cursor;
use std::sync::Arc;

use deltalake::arrow::array::RecordBatch;
use deltalake::arrow::datatypes::{Field, Schema, SchemaRef};
use deltalake::arrow::ipc::reader::{FileReader, StreamReader};
use deltalake::arrow::json::ReaderBuilder;
use deltalake::arrow::json::reader::infer_json_schema_from_iterator;
use serde_json::Value;

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

/// The schema rows are decoded with: the table's fields (types win) plus, for columns the table
/// does not have, the types inferred from the rows (`allow_new`), or a SCHEMA_MISMATCH.
pub fn rows_schema(rows: &[Value], table: Option<&SchemaRef>, allow_new: bool) -> ZResult<SchemaRef> {
    let inferred = infer_json_schema_from_iterator(rows.iter().map(|r| Ok(r.clone())))
        .map_err(|e| ZError::new(Code::InvalidData, format!("cannot infer a schema from the rows: {e}")))?;
    let Some(table) = table else { return Ok(Arc::new(inferred)) };
    let mut fields: Vec<Field> = table.fields().iter().map(|f| f.as_ref().clone().with_nullable(true)).collect();
    let extra: Vec<&Arc<Field>> = inferred.fields().iter().filter(|f| table.field_with_name(f.name()).is_err()).collect();
    if !extra.is_empty() && !allow_new {
        let names: Vec<&str> = extra.iter().map(|f| f.name().as_str()).collect();
        return Err(ZError::new(
            Code::SchemaMismatch,
            format!("rows have columns the table does not: {} (use schemaMode: 'merge' to add them)", names.join(", ")),
        ));
    }
    fields.extend(extra.into_iter().map(|f| f.as_ref().clone().with_nullable(true)));
    Ok(Arc::new(Schema::new(fields)))
}

fn decode(rows: &[Value], schema: &SchemaRef) -> Result<Option<RecordBatch>, deltalake::arrow::error::ArrowError> {
    let mut decoder = ReaderBuilder::new(schema.clone()).with_batch_size(rows.len().max(1)).build_decoder()?;
    decoder.serialize(rows)?;
    decoder.flush()
}

/// Decode row objects with `schema`. A value of the wrong type is INVALID_DATA naming the row.
pub fn rows_to_batch(rows: &[Value], schema: &SchemaRef) -> ZResult<RecordBatch> {
    if let Some(i) = rows.iter().position(|r| !r.is_object()) {
        return Err(ZError::new(Code::InvalidData, format!("row {i} is not an object: {}", rows[i])));
    }
    match decode(rows, schema) {
        Ok(Some(batch)) => Ok(batch),
        Ok(None) => Ok(RecordBatch::new_empty(schema.clone())),
        Err(err) => {
            // Find the first bad row (only on this error path) so the message can name it.
            let at = rows.iter().position(|r| decode(std::slice::from_ref(r), schema).is_err());
            let msg = match at {
                Some(i) => format!("row {i}: {err} (row: {})", crate::convert::preview(&rows[i])),
                None => err.to_string(),
            };
            Err(ZError::new(Code::InvalidData, msg))
        }
    }
}

fn preview(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 200 { format!("{}…", &s[..s.char_indices().nth(200).map_or(s.len(), |(i, _)| i)]) } else { s }
}

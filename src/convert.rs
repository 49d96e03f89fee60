//! Arrow IPC bytes handed to writers (stream or file format), turned into Arrow batches in the
//! types a table stores. Row objects are `rows.rs`.

use std::io::Cursor;
use std::sync::Arc;

use deltalake::arrow::array::RecordBatch;
use deltalake::arrow::compute::{CastOptions, cast_with_options};
use deltalake::arrow::datatypes::{DataType, SchemaRef};
use deltalake::arrow::ipc::reader::{FileReader, StreamReader};

use crate::error::{panic_message, Code, ZError, ZResult};
use crate::ipc;

const ARROW_FILE_MAGIC: &[u8] = b"ARROW1";

/// Decode an Arrow IPC stream or file.
pub fn decode_ipc(bytes: &[u8]) -> ZResult<(SchemaRef, Vec<RecordBatch>)> {
    // arrow-ipc panics (`unimplemented!`, `panic!`) on schemas it cannot map rather than returning an
    // error, e.g. a field of type NONE, which apache-arrow JS writes for a Field built from a plain
    // object. The bytes are the caller's input: INVALID_DATA, not a native panic (INTERNAL).
    std::panic::catch_unwind(|| read_ipc(bytes)).unwrap_or_else(|payload| {
        Err(ZError::new(Code::InvalidData, format!("malformed Arrow IPC data: {}", panic_message(payload))))
    })
}

fn read_ipc(bytes: &[u8]) -> ZResult<(SchemaRef, Vec<RecordBatch>)> {
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

/// The type a column is stored as: view and dictionary-encoded types as their plain ones, the
/// types JS reads back (`ipc::js_schema`); Delta has neither, and delta-rs cannot partition by a
/// dictionary column (apache-arrow's `tableFromArrays` dictionary-encodes every string column).
/// Unsigned integers as the signed type that holds all their values: Delta has no unsigned types,
/// and delta-rs stores UInt8 as byte, UInt32 as integer, failing on the values past their range
/// (as Python `deltalake` and Polars do). UInt64 stays 64 bits: values past i64::MAX are refused.
fn stored_type(dt: &DataType) -> Option<DataType> {
    ipc::plain_view(dt).or(match dt {
        DataType::UInt8 => Some(DataType::Int16),
        DataType::UInt16 => Some(DataType::Int32),
        DataType::UInt32 | DataType::UInt64 => Some(DataType::Int64),
        _ => None,
    })
}

/// `batch` in the types a Delta table stores ([`stored_type`], at any depth).
pub fn to_stored(batch: RecordBatch) -> ZResult<RecordBatch> {
    let target = ipc::map_schema(&batch.schema(), &stored_type);
    if Arc::ptr_eq(&target, &batch.schema()) {
        return Ok(batch);
    }
    let opts = CastOptions { safe: false, ..Default::default() };
    let columns = batch
        .columns()
        .iter()
        .zip(target.fields())
        .map(|(c, f)| match c.data_type() == f.data_type() {
            true => Ok(c.clone()),
            false => cast_with_options(c, f.data_type(), &opts).map_err(|e| ZError::new(Code::InvalidData, format!("column '{}': {e}", f.name()))),
        })
        .collect::<ZResult<Vec<_>>>()?;
    Ok(RecordBatch::try_new(target, columns)?)
}

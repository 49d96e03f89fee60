//! Arrow IPC bytes handed to writers (stream or file format), turned into Arrow batches in the
//! types a table stores. Row objects are `rows.rs`.

use std::io::Cursor;

use deltalake::arrow::array::RecordBatch;
use deltalake::arrow::datatypes::SchemaRef;
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

/// `batch` in the types a Delta table stores: dictionary-encoded and view columns (at any depth) as
/// their plain types, the ones JS reads back (`ipc::js_schema`). Delta has neither; apache-arrow's
/// `tableFromArrays` dictionary-encodes every string column, and delta-rs cannot partition by a
/// dictionary column ("failed to read partition column value as Scalar") nor does its
/// `RecordBatchWriter` take one for a string column of an existing table.
pub fn plain(batch: RecordBatch) -> ZResult<RecordBatch> {
    let target = ipc::js_schema(&batch.schema());
    Ok(ipc::to_js_batch(batch, &target)?)
}

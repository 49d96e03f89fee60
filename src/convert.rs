//! Arrow IPC bytes handed to writers (stream or file format), turned into Arrow batches. Row objects
//! are `rows.rs`; how the batches meet the table's types is `conform.rs`.

use std::io::Cursor;

use deltalake::arrow::array::RecordBatch;
use deltalake::arrow::datatypes::SchemaRef;
use deltalake::arrow::ipc::reader::{FileReader, StreamReader};

use crate::error::{Code, ZError, ZResult, panic_message};

const ARROW_FILE_MAGIC: &[u8] = b"ARROW1";

/// Decode an Arrow IPC stream or file.
pub fn decode_ipc(bytes: &[u8]) -> ZResult<(SchemaRef, Vec<RecordBatch>)> {
    // arrow-ipc panics (`unimplemented!`, `panic!`) on schemas it cannot map rather than returning an
    // error, e.g. a field of type NONE, which apache-arrow JS writes for a Field built from a plain
    // object. The bytes are the caller's input: INVALID_DATA, not a native panic (INTERNAL).
    std::panic::catch_unwind(|| read_ipc(bytes)).unwrap_or_else(|payload| {
        Err(ZError::new(
            Code::InvalidData,
            format!("malformed Arrow IPC data: {}", panic_message(payload)),
        ))
    })
}

fn read_ipc(bytes: &[u8]) -> ZResult<(SchemaRef, Vec<RecordBatch>)> {
    let bad = |e: deltalake::arrow::error::ArrowError| {
        ZError::new(Code::InvalidData, format!("malformed Arrow IPC data: {e}"))
    };
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

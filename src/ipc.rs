//! Arrow IPC stream bytes: how batches cross into JS (and, for writes, back).
//! Types apache-arrow JS cannot decode (view types, dictionary-encoded partition values) are cast
//! to their plain equivalents first, so JS sees the table's logical schema.

use std::sync::Arc;

use deltalake::arrow::array::RecordBatch;
use deltalake::arrow::compute::cast;
use deltalake::arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef};
use deltalake::arrow::error::ArrowError;
use deltalake::arrow::ipc::writer::StreamWriter;

fn js_type(dt: &DataType) -> DataType {
    match dt {
        DataType::Utf8View => DataType::Utf8,
        DataType::BinaryView => DataType::Binary,
        DataType::ListView(f) => DataType::List(js_field(f)),
        DataType::LargeListView(f) => DataType::LargeList(js_field(f)),
        DataType::Dictionary(_, value) => js_type(value),
        DataType::List(f) => DataType::List(js_field(f)),
        DataType::LargeList(f) => DataType::LargeList(js_field(f)),
        DataType::FixedSizeList(f, n) => DataType::FixedSizeList(js_field(f), *n),
        DataType::Struct(fields) => DataType::Struct(fields.iter().map(js_field).collect()),
        DataType::Map(f, sorted) => DataType::Map(js_field(f), *sorted),
        other => other.clone(),
    }
}

fn js_field(f: &FieldRef) -> FieldRef {
    let dt = js_type(f.data_type());
    if &dt == f.data_type() {
        f.clone()
    } else {
        Arc::new(Field::new(f.name(), dt, f.is_nullable()).with_metadata(f.metadata().clone()))
    }
}

/// The schema JS will see for batches of `schema`.
pub fn js_schema(schema: &SchemaRef) -> SchemaRef {
    let fields: Vec<FieldRef> = schema.fields().iter().map(js_field).collect();
    if fields.iter().zip(schema.fields().iter()).all(|(a, b)| Arc::ptr_eq(a, b)) {
        schema.clone()
    } else {
        Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
    }
}

/// Cast `batch` to `target` (from [`js_schema`]) where the types differ.
pub fn to_js_batch(batch: RecordBatch, target: &SchemaRef) -> Result<RecordBatch, ArrowError> {
    if Arc::ptr_eq(&batch.schema(), target) || batch.schema().fields() == target.fields() {
        return Ok(batch);
    }
    let columns = batch
        .columns()
        .iter()
        .zip(target.fields())
        .map(|(col, field)| if col.data_type() == field.data_type() { Ok(col.clone()) } else { cast(col, field.data_type()) })
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new(target.clone(), columns)
}

/// One self-contained Arrow IPC stream (schema + the batches).
pub fn encode(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<Vec<u8>, ArrowError> {
    let size: usize = batches.iter().map(|b| b.get_array_memory_size()).sum();
    let mut buf = Vec::with_capacity(size + 1024);
    {
        let mut writer = StreamWriter::try_new(&mut buf, schema)?;
        for batch in batches {
            writer.write(batch)?;
        }
        writer.finish()?;
    }
    Ok(buf)
}

//! Arrow IPC stream bytes: how batches cross into JS (and, for writes, back).
//! Types apache-arrow JS cannot decode (view types, dictionary-encoded partition values) are cast
//! to their plain equivalents first, so JS sees the table's logical schema.

use std::sync::Arc;

use deltalake::arrow::array::RecordBatch;
use deltalake::arrow::compute::cast;
use deltalake::arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef};
use deltalake::arrow::error::ArrowError;
use deltalake::arrow::ipc::writer::StreamWriter;

/// `dt` with `leaf` applied to it and every type inside it (list items, struct fields, map entries);
/// dictionaries and list views become their plain equivalents on the way.
fn map_type(dt: &DataType, leaf: &dyn Fn(&DataType) -> Option<DataType>) -> DataType {
    if let Some(t) = leaf(dt) {
        return t;
    }
    match dt {
        DataType::Dictionary(_, value) => map_type(value, leaf),
        DataType::ListView(f) | DataType::List(f) => DataType::List(map_field(f, leaf)),
        DataType::LargeListView(f) | DataType::LargeList(f) => {
            DataType::LargeList(map_field(f, leaf))
        }
        DataType::FixedSizeList(f, n) => DataType::FixedSizeList(map_field(f, leaf), *n),
        DataType::Struct(fields) => {
            DataType::Struct(fields.iter().map(|f| map_field(f, leaf)).collect())
        }
        DataType::Map(f, sorted) => DataType::Map(map_field(f, leaf), *sorted),
        other => other.clone(),
    }
}

fn map_field(f: &FieldRef, leaf: &dyn Fn(&DataType) -> Option<DataType>) -> FieldRef {
    let dt = map_type(f.data_type(), leaf);
    if &dt == f.data_type() {
        f.clone()
    } else {
        // A `Null` field holds nulls only, whatever it declares.
        let nullable = f.is_nullable() || *f.data_type() == DataType::Null;
        Arc::new(Field::new(f.name(), dt, nullable).with_metadata(f.metadata().clone()))
    }
}

/// `schema` with [`map_type`] applied to its columns (the same schema when nothing changes).
pub fn map_schema(schema: &SchemaRef, leaf: &dyn Fn(&DataType) -> Option<DataType>) -> SchemaRef {
    let fields: Vec<FieldRef> = schema.fields().iter().map(|f| map_field(f, leaf)).collect();
    if fields
        .iter()
        .zip(schema.fields().iter())
        .all(|(a, b)| Arc::ptr_eq(a, b))
    {
        schema.clone()
    } else {
        Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
    }
}

/// View types as their plain equivalents (apache-arrow JS reads neither).
pub fn plain_view(dt: &DataType) -> Option<DataType> {
    match dt {
        DataType::Utf8View => Some(DataType::Utf8),
        DataType::BinaryView => Some(DataType::Binary),
        _ => None,
    }
}

/// `schema` with its strings and binaries as views (reads with `stringViews`), except in the
/// columns named in `plain`, which are plain.
pub fn with_views(schema: &SchemaRef, plain: &[String]) -> SchemaRef {
    let to_view = |dt: &DataType| match dt {
        DataType::Utf8 | DataType::LargeUtf8 => Some(DataType::Utf8View),
        DataType::Binary | DataType::LargeBinary => Some(DataType::BinaryView),
        _ => None,
    };
    let fields: Vec<FieldRef> = schema
        .fields()
        .iter()
        .map(|f| {
            if plain.contains(f.name()) {
                map_field(f, &plain_view)
            } else {
                map_field(f, &to_view)
            }
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// The schema JS will see for batches of `schema`.
pub fn js_schema(schema: &SchemaRef) -> SchemaRef {
    map_schema(schema, &plain_view)
}

/// [`js_schema`], except that view types stay views.
pub fn js_schema_keeping_views(schema: &SchemaRef) -> SchemaRef {
    map_schema(schema, &|dt| {
        matches!(dt, DataType::Utf8View | DataType::BinaryView).then(|| dt.clone())
    })
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
        .map(|(col, field)| {
            if col.data_type() == field.data_type() {
                Ok(col.clone())
            } else {
                cast(col, field.data_type())
            }
        })
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

//! The kernel scan's Parquet file reader: what delta-kernel's default engine does per file (its
//! `DefaultParquetHandler` opener: footer, `parquet_read_plan`, arrow-rs's async reader,
//! `fixup_parquet_read`; local files through arrow-rs's synchronous reader, whose batches run across
//! row groups), except that INT96 columns decode as microseconds, that strings and binaries
//! decode as views when the read asks (`stringViews`), and that the scan's filter skips row groups and
//! rows inside the read (`file_filter.rs`).
//!
//! Spark and Databricks write `timestamp` columns as Parquet INT96. arrow-rs decodes INT96 as
//! nanoseconds unless the reader is given a schema saying otherwise, and the kernel's reader options
//! cannot be changed: values past 2262-04-11 (the 9999-12-31 "valid until" sentinel of many
//! warehouse tables) wrapped around to dates in the 1800s. The full build sets DataFusion's
//! `coerce_int96` for the same reason (`session.rs`).

use std::sync::Arc;

use delta_kernel::engine::arrow_data::ArrowEngineData;
use delta_kernel::engine::arrow_utils::{
    RowIndexBuilder, fixup_parquet_read, ordering_needs_row_indexes, parquet_read_plan,
};
use delta_kernel::object_store::DynObjectStore;
use delta_kernel::object_store::path::Path;
use delta_kernel::parquet::arrow::ProjectionMask;
use delta_kernel::parquet::arrow::arrow_reader::{
    ArrowReaderBuilder, ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use deltalake::arrow::array::RecordBatch;
use deltalake::arrow::datatypes::{
    DataType, FieldRef, Fields, Schema, SchemaRef as ArrowSchemaRef, TimeUnit,
};
// ParquetObjectReader is deprecated in parquet 59 in favour of hand-written `AsyncFileReader`s; the
// kernel's own reader (which this mirrors) still uses it.
#[allow(deprecated)]
use delta_kernel::parquet::arrow::async_reader::ParquetObjectReader;
use delta_kernel::parquet::arrow::async_reader::ParquetRecordBatchStreamBuilder;
use delta_kernel::parquet::basic::Type as PhysicalType;
use delta_kernel::parquet::file::metadata::PageIndexPolicy;
use delta_kernel::schema::SchemaRef;
use delta_kernel::{EngineData, FileMeta};
use futures::StreamExt;
use tokio::runtime::Handle;

use crate::error::{Code, ZError, ZResult};
use crate::file_filter::FileFilter;

/// Reads data files for the kernel scan's reading threads (plain threads: `Handle::block_on` drives
/// the async reader on them).
pub struct ParquetReader {
    store: Arc<DynObjectStore>,
    runtime: Handle,
    batch_size: usize,
    /// Strings and binaries as views into the decoded pages (`Utf8View`/`BinaryView`).
    views: bool,
}

impl ParquetReader {
    pub fn new(
        store: Arc<DynObjectStore>,
        runtime: Handle,
        batch_size: usize,
        views: bool,
    ) -> Self {
        Self {
            store,
            runtime,
            batch_size,
            views,
        }
    }

    /// The batches of `file` with the columns of `schema` (the scan's physical schema), in order,
    /// less the row groups and rows `filter` rules out (the caller passes none for a file with a
    /// deletion vector).
    #[allow(deprecated)] // ParquetObjectReader, see the imports
    pub fn read<'a>(
        &'a self,
        file: &FileMeta,
        schema: &'a SchemaRef,
        filter: Option<&FileFilter>,
    ) -> ZResult<impl Iterator<Item = ZResult<Box<dyn EngineData>>> + 'a> {
        let options = || options(filter.is_some());
        let typed = |metadata: ArrowReaderMetadata| -> ZResult<ArrowReaderMetadata> {
            Ok(match read_types(&metadata, self.views) {
                Some(hint) => ArrowReaderMetadata::try_new(
                    metadata.metadata().clone(),
                    options().with_schema(hint),
                )?,
                None => metadata,
            })
        };
        // The file's columns in the scan's order, the projection, and the row indexes if it needs them.
        let plan = |metadata: &ArrowReaderMetadata| {
            let (ordering, mask) = parquet_read_plan(schema, metadata)?;
            let row_indexes = ordering_needs_row_indexes(&ordering)
                .then(|| RowIndexBuilder::new(metadata.metadata().row_groups()));
            ZResult::Ok((ordering, mask, row_indexes))
        };
        // Local files go through arrow-rs's synchronous reader, whose batches run across row groups
        // (the async reader's end at each one, and the scan copies short batches together): a 10 M-row
        // full read of files with 104k-row row groups took 0.53 -> 0.46 s and 13% less CPU (release,
        // 10 reads each). It reads a page at a time, into buffers it does not zero first.
        type Batches<'b> = Box<dyn Iterator<Item = ZResult<RecordBatch>> + 'b>;
        let (ordering, row_indexes, batches): (_, _, Batches<'a>) = match local_path(&file.location)
        {
            Some(local) => {
                let f = std::fs::File::open(&local).map_err(|e| {
                    // As object_store says it, which the missing-file hint recognises.
                    let what = match e.kind() {
                        std::io::ErrorKind::NotFound => "not found".to_string(),
                        _ => e.to_string(),
                    };
                    ZError::new(
                        Code::Storage,
                        format!("data file '{}': {what}", file.location),
                    )
                })?;
                let metadata = typed(ArrowReaderMetadata::load(&f, options())?)?;
                let (ordering, mask, mut row_indexes) = plan(&metadata)?;
                let builder = ParquetRecordBatchReaderBuilder::new_with_metadata(f, metadata);
                let builder = self.configure(builder, mask, filter, row_indexes.as_mut());
                let reader = builder.build()?;
                let batches = reader.map(|b| b.map_err(ZError::from));
                (ordering, row_indexes, Box::new(batches))
            }
            _ => {
                let path = Path::from_url_path(file.location.path()).map_err(|e| {
                    ZError::new(
                        Code::Protocol,
                        format!("data file path '{}': {e}", file.location),
                    )
                })?;
                let mut reader = ParquetObjectReader::new(self.store.clone(), path);
                if file.size != 0 {
                    reader = reader.with_file_size(file.size); // saves the footer's suffix request
                }
                let metadata = typed(
                    self.runtime
                        .block_on(ArrowReaderMetadata::load_async(&mut reader, options()))?,
                )?;
                let (ordering, mask, mut row_indexes) = plan(&metadata)?;
                let builder = ParquetRecordBatchStreamBuilder::new_with_metadata(reader, metadata);
                let builder = self.configure(builder, mask, filter, row_indexes.as_mut());
                let mut stream = builder.build()?;
                let batches = std::iter::from_fn(move || {
                    let batch = self.runtime.block_on(stream.next())?;
                    Some(batch.map_err(ZError::from))
                });
                (ordering, row_indexes, Box::new(batches))
            }
        };
        let mut row_indexes = row_indexes.map(RowIndexBuilder::build).transpose()?;
        let location = file.location.to_string();
        Ok(batches.map(move |batch| {
            batch.and_then(|b| {
                if schema.fields().len() == 0 {
                    // No column of the file is read (only partition columns, or none, to count rows):
                    // the reader gives row counts, which `fixup_parquet_read` cannot take (it panicked
                    // building a struct of no fields).
                    return Ok(Box::new(ArrowEngineData::new(b)) as Box<dyn EngineData>);
                }
                let data = fixup_parquet_read(
                    b,
                    &ordering,
                    row_indexes.as_mut(),
                    Some(&location),
                    Some(schema),
                )?;
                Ok(Box::new(data) as Box<dyn EngineData>)
            })
        }))
    }

    /// `builder` with the batch size, the projection `mask` and `filter`'s row groups and rows.
    fn configure<T>(
        &self,
        builder: ArrowReaderBuilder<T>,
        mask: Option<ProjectionMask>,
        filter: Option<&FileFilter>,
        row_indexes: Option<&mut RowIndexBuilder>,
    ) -> ArrowReaderBuilder<T> {
        let mut builder = builder.with_batch_size(self.batch_size);
        if let Some(mask) = mask {
            builder = builder.with_projection(mask);
        }
        match filter {
            Some(filter) => filter.apply(builder, row_indexes),
            None => builder,
        }
    }
}

/// The kernel's reader options: the files' embedded Arrow schemas are ignored (types come from the
/// Parquet schema and the table's). A filtered read also loads the offset index where a file has one
/// (the page locations that let it fetch only the pages of the rows that pass).
/// The path of a data file [`ParquetReader::read`] reads with the synchronous reader, whose batches
/// run across row groups (so only a file's last batch comes short); `None` for the async reader's.
pub fn local_path(location: &url::Url) -> Option<std::path::PathBuf> {
    (location.scheme() == "file")
        .then(|| location.to_file_path().ok())
        .flatten()
}

fn options(filtered: bool) -> ArrowReaderOptions {
    let options = ArrowReaderOptions::new().with_skip_arrow_metadata(true);
    if filtered {
        options.with_offset_index_policy(PageIndexPolicy::Optional)
    } else {
        options
    }
}

/// The file's Arrow schema with its INT96 columns as `Timestamp(µs, UTC)` and, with `views`, its
/// strings and binaries as views; `None` when nothing changes.
/// Nested ones too: the Arrow schema's leaves (struct fields, list items, map keys and values, in
/// depth-first order) are the Parquet schema's leaf columns in order, so leaf `i` is INT96 exactly
/// when Parquet column `i` is (Parquet paths would not do: lists and maps add group names that the
/// Arrow fields lack).
/// Without `views` strings decode straight to `Utf8`. Decoding them as views and copying the values
/// out on the reading thread into exact-size buffers was tried (release, 10 M rows): full read
/// 0.289-0.302 -> 0.280-0.287 s, within this machine's noise, time travel unchanged, a process's
/// first read 0.42-0.46 -> 0.50-0.53 s. The copy took 8% of the cycles: it reads each batch's values
/// again after they have left the cache, where arrow-rs copies each value while its page is decoded.
fn read_types(metadata: &ArrowReaderMetadata, views: bool) -> Option<ArrowSchemaRef> {
    let int96: Vec<bool> = metadata
        .parquet_schema()
        .columns()
        .iter()
        .map(|c| c.physical_type() == PhysicalType::INT96)
        .collect();
    if !int96.contains(&true) && !views {
        return None;
    }
    fn walk(field: &FieldRef, leaf: &mut usize, int96: &[bool], views: bool) -> FieldRef {
        let data_type = match field.data_type() {
            DataType::Struct(children) => DataType::Struct(
                children
                    .iter()
                    .map(|c| walk(c, leaf, int96, views))
                    .collect::<Fields>(),
            ),
            DataType::List(item) => DataType::List(walk(item, leaf, int96, views)),
            DataType::LargeList(item) => DataType::LargeList(walk(item, leaf, int96, views)),
            DataType::Map(entries, sorted) => {
                DataType::Map(walk(entries, leaf, int96, views), *sorted)
            }
            other => {
                let is_int96 = int96.get(*leaf).copied().unwrap_or(false);
                *leaf += 1;
                match other {
                    // UTC: INT96 holds instants (Spark writes `timestamp`, never `timestamp_ntz`, as
                    // INT96), and the table's type says so; with the same type no cast is needed
                    // (delta-kernel's cast of a list's items fails: "Cannot cast LIST to non-list").
                    DataType::Timestamp(TimeUnit::Nanosecond, None) if is_int96 => {
                        DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
                    }
                    DataType::Utf8 | DataType::LargeUtf8 if views => DataType::Utf8View,
                    DataType::Binary | DataType::LargeBinary if views => DataType::BinaryView,
                    _ => return field.clone(),
                }
            }
        };
        Arc::new(field.as_ref().clone().with_data_type(data_type))
    }
    let schema = metadata.schema();
    let mut leaf = 0;
    let fields: Fields = schema
        .fields()
        .iter()
        .map(|f| walk(f, &mut leaf, &int96, views))
        .collect();
    Some(Arc::new(Schema::new_with_metadata(
        fields,
        schema.metadata().clone(),
    )))
}

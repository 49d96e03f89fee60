//! The data files of one writer, streamed to storage as they are encoded: every batch is split by
//! partition value, each value's rows go into its open Parquet file, and a file is closed (its
//! upload completed, its add action made) once it reaches the target size. It commits nothing.
//!
//! Why not delta-rs's `RecordBatchWriter`: its files go through object_store's `BufWriter`, which
//! holds up to a 5 MiB upload part per open file (S3's minimum part size) on every store, as the
//! row groups parquet hands over (each a `Vec` grown by doubling). With 8 partitions that was
//! ~70 MB of a streamed write's peak (heaptrack, 5 M rows). Here a file holds its open row group
//! (the share of `maxBufferedBytes` that `options::row_group_bytes` gives it) and an upload part
//! (`upload.rs`): 256 KiB on local disk, where any part size works, 5 MiB on object stores, and about 1 MiB (at
//! least a part) per file is in flight. Stats are delta-kernel's
//! (`FileStatsAccumulator`, written as JSON by the kernel's own `to_json`), so the files carry the
//! statistics a kernel-based writer gives them (`file_stats.rs`).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use delta_kernel::engine::arrow_conversion::{TryIntoArrow as _, TryIntoKernel as _};
use delta_kernel::expressions::{ColumnName, Scalar};
use delta_kernel::schema::StructType;
use deltalake::arrow::array::{Array, RecordBatch, UInt32Array};
use deltalake::arrow::compute::take_record_batch;
use deltalake::arrow::datatypes::{DataType, Schema, SchemaRef};
use deltalake::kernel::Add;
use deltalake::kernel::scalars::ScalarExt as _;
use deltalake::logstore::ObjectStoreRef;
use deltalake::logstore::object_store::ObjectStoreExt as _;
use deltalake::parquet::arrow::AsyncArrowWriter;
use deltalake::parquet::basic::Compression;
use deltalake::parquet::file::properties::WriterProperties;
use deltalake::{DeltaTable, Path};
use indexmap::IndexMap;

use crate::conform::{split_by_partition, with_kept_dictionaries};
use crate::error::{Code, ZError, ZResult};
use crate::file_stats::{FileStats, stats_columns};
use crate::upload::{Upload, part_size};

/// Delta's default `delta.targetFileSize` (delta-rs's too).
const DEFAULT_TARGET_FILE_SIZE: u64 = 100 << 20;
/// Rows handed to parquet at a time, so a file's size is checked (and row groups leave) between them.
const SLICE_ROWS: usize = 16_384;

/// How the files of a write are made.
#[derive(Clone)]
pub struct FileSpec {
    pub store: ObjectStoreRef,
    /// The table's Arrow schema, partition columns included (what `write` takes).
    pub schema: SchemaRef,
    pub partition_columns: Vec<String>,
    pub props: WriterProperties,
    pub target_file_size: u64,
    pub part_size: usize,
    /// The table's configuration (data-skipping columns, target file size).
    pub configuration: HashMap<String, String>,
}

impl FileSpec {
    /// The files of a write into `table`: its schema, partitioning and configuration when it exists
    /// (then `partition_by`, if given, must be the table's), else `schema` partitioned by
    /// `partition_by` with the `configuration` the table will be created with.
    pub fn for_table(
        table: &DeltaTable,
        exists: bool,
        schema: SchemaRef,
        partition_by: Option<&Vec<String>>,
        configuration: HashMap<String, String>,
        props: WriterProperties,
        target_file_size: Option<u64>,
    ) -> ZResult<Self> {
        let (schema, partition_columns, configuration) = if exists {
            // It would write values the table forbids, unchecked (and nulls where it computes values).
            if let Some(rules) = crate::conform::unchecked_rules(table)? {
                return Err(ZError::new(
                    Code::UnsupportedFeature,
                    format!(
                        "the table has {rules}, which this writer (DeltaWriter, and every write of the slim build) does not evaluate; DeltaOutputAdapter / writeDelta of the full build does"
                    ),
                ));
            }
            let state = table.snapshot()?;
            let metadata = state.metadata();
            let configuration = metadata.configuration().clone();
            if configuration
                .get("delta.columnMapping.mode")
                .is_some_and(|m| m != "none")
            {
                return Err(ZError::new(
                    Code::UnsupportedFeature,
                    "the table uses column mapping, which this writer (DeltaWriter, and every write of the slim build) does not write; DeltaOutputAdapter / writeDelta of the full build does",
                ));
            }
            let actual: Vec<String> = metadata.partition_columns().to_vec();
            crate::conform::check_same_partitioning(&actual, partition_by)?;
            let arrow: Schema = (&metadata.parse_schema()?).try_into_arrow()?;
            (Arc::new(arrow), actual, configuration)
        } else {
            let partition_by = partition_by.cloned().unwrap_or_default();
            crate::conform::check_new_partitioning(&schema, &partition_by)?;
            (schema, partition_by, configuration)
        };
        let target_file_size = Self::target_from(&configuration, target_file_size);
        Ok(Self {
            store: table.object_store(),
            schema,
            partition_columns,
            props,
            target_file_size,
            part_size: part_size(table.table_url()),
            configuration,
        })
    }

    /// The target size from `delta.targetFileSize` unless the write gives one.
    pub fn target_from(configuration: &HashMap<String, String>, given: Option<u64>) -> u64 {
        given
            .or_else(|| {
                configuration
                    .get("delta.targetFileSize")
                    .and_then(|v| v.parse().ok())
            })
            .filter(|s| *s > 0)
            .unwrap_or(DEFAULT_TARGET_FILE_SIZE)
    }
}

/// A writer's open files and the add actions of the files it closed.
pub struct DataFiles {
    spec: FileSpec,
    file_schema: SchemaRef,
    kernel_schema: StructType,
    stats_columns: Vec<ColumnName>,
    writer_id: uuid::Uuid,
    files_made: usize,
    open: IndexMap<String, OpenFile>,
    closed: Vec<Add>,
}

impl DataFiles {
    pub fn new(spec: FileSpec) -> ZResult<Self> {
        let file_schema = Arc::new(Schema::new(
            spec.schema
                .fields()
                .iter()
                .filter(|f| !spec.partition_columns.contains(f.name()))
                .cloned()
                .collect::<Vec<_>>(),
        ));
        let kernel_schema: StructType = file_schema
            .as_ref()
            .try_into_kernel()
            .map_err(|e| ZError::new(Code::SchemaMismatch, e.to_string()))?;
        let stats_columns = stats_columns(&file_schema, &spec.configuration)?;
        Ok(Self {
            spec,
            file_schema,
            kernel_schema,
            stats_columns,
            writer_id: uuid::Uuid::new_v4(),
            files_made: 0,
            open: IndexMap::new(),
            closed: Vec::new(),
        })
    }

    /// Encode `batch` (the table's columns, partition columns included) into the open files.
    pub async fn write(&mut self, batch: RecordBatch) -> ZResult<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let batch = self.conform(batch)?;
        for (values, rows) in self.split(batch)? {
            let data = strip(&rows, &self.file_schema)?;
            self.write_value(values, data).await?;
        }
        Ok(())
    }

    /// As [`write`](Self::write) for `batch`'s `rows` (all of them when `None`), which all hold one
    /// partition value (the pieces the parallel writers' router hands out): not split again, and
    /// only the file's columns are copied out (the partition columns stay in the path).
    pub async fn write_one_value(
        &mut self,
        batch: RecordBatch,
        rows: Option<&UInt32Array>,
    ) -> ZResult<()> {
        if rows.map_or(batch.num_rows(), |r| r.len()) == 0 {
            return Ok(());
        }
        // A batch to be cast is cast once per piece: its rows first, then those alone.
        let (batch, rows) = match rows {
            Some(r) if !self.exact(&batch) => (take_record_batch(&batch, r)?, None),
            _ => (batch, rows),
        };
        let first = rows.map_or(0, |r| r.value(0) as usize);
        let batch = self.conform(batch)?;
        let values = if self.spec.partition_columns.is_empty() {
            IndexMap::new()
        } else {
            self.open_values(&batch, first)?
        };
        let data = strip(&batch, &self.file_schema)?;
        let data = match rows {
            Some(rows) => take_record_batch(&data, rows)?,
            None => data,
        };
        self.write_value(values, data).await
    }

    /// Encode `data` (the file's columns), whose rows all hold the partition `values`, into that
    /// value's open file(s).
    async fn write_value(
        &mut self,
        values: IndexMap<String, Scalar>,
        data: RecordBatch,
    ) -> ZResult<()> {
        let key = hive_path(&values);
        // Handed to parquet in slices, so the size is checked (and row groups leave) between
        // them; the stats are taken once per file's share of the rows.
        let mut at = 0;
        while at < data.num_rows() {
            if !self.open.contains_key(&key) {
                let file = self.new_file(&key, values.clone())?;
                self.open.insert(key.clone(), file);
            }
            let file = self.open.get_mut(&key).expect("opened above");
            let start = at;
            let mut full = false;
            while at < data.num_rows() && !full {
                let n = SLICE_ROWS.min(data.num_rows() - at);
                file.writer.write(&data.slice(at, n)).await?;
                at += n;
                full = file.size() as u64 >= self.spec.target_file_size;
            }
            file.stats.merge(&data.slice(start, at - start))?;
            if full {
                let file = self.open.shift_remove(&key).expect("open");
                self.closed.push(file.close().await?);
            }
        }
        Ok(())
    }

    /// Close every open file: the add actions of all files written. On failure nothing of this
    /// writer stays behind (see `abort`).
    pub async fn finish(mut self) -> ZResult<Vec<Add>> {
        while let Some((_, file)) = self.open.shift_remove_index(0) {
            match file.close().await {
                Ok(add) => self.closed.push(add),
                Err(e) => {
                    self.abort().await;
                    return Err(e);
                }
            }
        }
        Ok(self.closed)
    }

    /// Give up: abort the open files' uploads and delete the files already closed (best effort).
    pub async fn abort(mut self) {
        for (_, f) in std::mem::take(&mut self.open) {
            f.abort().await;
        }
        remove_files(&self.spec.store, &self.closed).await;
    }

    fn exact(&self, batch: &RecordBatch) -> bool {
        exact(&self.spec.schema, batch)
    }

    fn conform(&self, batch: RecordBatch) -> ZResult<RecordBatch> {
        conform(&self.spec.schema, batch, &self.spec.partition_columns)
    }

    /// The rows of `batch` by partition value, values in order of first appearance.
    fn split(&self, batch: RecordBatch) -> ZResult<Vec<(IndexMap<String, Scalar>, RecordBatch)>> {
        let columns = &self.spec.partition_columns;
        if columns.is_empty() {
            return Ok(vec![(IndexMap::new(), batch)]);
        }
        split_by_partition(batch, columns)?
            .into_iter()
            .map(|(_, part)| Ok((self.open_values(&part, 0)?, part)))
            .collect()
    }

    /// The partition values of `rows`' row `at` (the values of every row being written with it).
    fn open_values(&self, rows: &RecordBatch, at: usize) -> ZResult<IndexMap<String, Scalar>> {
        self.spec
            .partition_columns
            .iter()
            .map(|c| {
                let col = rows.column_by_name(c).ok_or_else(|| {
                    ZError::new(
                        Code::SchemaMismatch,
                        format!("partition column '{c}' is missing"),
                    )
                })?;
                let value = Scalar::from_array(col.as_ref(), at).ok_or_else(|| {
                    ZError::new(
                        Code::SchemaMismatch,
                        format!(
                            "partition column '{c}' has a type Delta cannot partition by ({})",
                            col.data_type()
                        ),
                    )
                })?;
                Ok((c.clone(), value))
            })
            .collect()
    }

    fn new_file(&mut self, key: &str, values: IndexMap<String, Scalar>) -> ZResult<OpenFile> {
        let name = format!(
            "part-{:05}-{}-c000{}.parquet",
            self.files_made,
            self.writer_id,
            extension(&self.spec.props)
        );
        self.files_made += 1;
        let path = if key.is_empty() {
            Path::parse(&name)
        } else {
            Path::parse(format!("{key}/{name}"))
        }
        .map_err(|e| ZError::new(Code::InvalidArgument, e.to_string()))?;
        let written = Arc::new(AtomicUsize::new(0));
        let sink = Upload::new(
            self.spec.store.clone(),
            path.clone(),
            self.spec.part_size,
            written.clone(),
        );
        let writer = AsyncArrowWriter::try_new(
            sink,
            self.file_schema.clone(),
            Some(self.spec.props.clone()),
        )?;
        Ok(OpenFile {
            path,
            values,
            writer,
            written,
            stats: FileStats::new(&self.stats_columns, &self.kernel_schema),
        })
    }
}

/// One Parquet file being written and uploaded.
struct OpenFile {
    path: Path,
    values: IndexMap<String, Scalar>,
    writer: AsyncArrowWriter<Upload>,
    written: Arc<AtomicUsize>,
    stats: FileStats,
}

impl OpenFile {
    /// Encoded bytes so far (uploaded or not) plus the open row group.
    fn size(&self) -> usize {
        self.writer.bytes_written() + self.writer.in_progress_size()
    }

    /// Finish the file (footer, upload completed) and make its add action.
    async fn close(mut self) -> ZResult<Add> {
        if let Err(e) = self.writer.finish().await {
            self.writer.into_inner().abort().await;
            return Err(e.into());
        }
        let stats = self.stats.finish()?;
        let modification_time = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        Ok(Add {
            path: self.path.to_string(),
            size: self.written.load(Ordering::SeqCst) as i64,
            partition_values: self
                .values
                .iter()
                .map(|(k, v)| (k.clone(), (!v.is_null()).then(|| v.serialize())))
                .collect(),
            modification_time,
            data_change: true,
            stats,
            tags: None,
            deletion_vector: None,
            base_row_id: None,
            default_row_commit_version: None,
            clustering_provider: None,
        })
    }

    async fn abort(self) {
        self.writer.into_inner().abort().await;
    }
}

/// Whether `batch` has `schema`'s columns in order with their exact types (nothing to cast).
fn exact(schema: &SchemaRef, batch: &RecordBatch) -> bool {
    batch.schema().fields().len() == schema.fields().len()
        && batch
            .schema()
            .fields()
            .iter()
            .zip(schema.fields())
            .all(|(a, b)| a.name() == b.name() && a.data_type() == b.data_type())
}

/// `batch` in the writer's `schema` (the table's columns, partition columns included): columns by
/// name, types cast as delta-rs's writer casts them, except dictionary strings, which the writers
/// take as they are (`conform::kept_dictionary`) unless they are among `cast_dictionaries`; a null
/// in a non-nullable column is refused. The writers conform every batch; a `DeltaWriter` does it
/// before queueing, so its `write()` reports a batch it cannot take.
pub fn conform(
    schema: &SchemaRef,
    batch: RecordBatch,
    cast_dictionaries: &[String],
) -> ZResult<RecordBatch> {
    let batch = if exact(schema, &batch) {
        batch
    } else {
        let by_name = crate::conform::by_name(batch, schema, false)?;
        let target = with_kept_dictionaries(schema, by_name.columns(), cast_dictionaries);
        deltalake::kernel::schema::cast::cast_record_batch(&by_name, target, false, false)?
    };
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        let nulls = match column.data_type() {
            DataType::Dictionary(_, _) => column.logical_null_count(),
            _ => column.null_count(),
        };
        if !field.is_nullable() && nulls > 0 {
            return Err(ZError::new(
                Code::SchemaMismatch,
                format!(
                    "column '{}' is not nullable but {nulls} of the rows written are null",
                    field.name(),
                ),
            ));
        }
    }
    Ok(RecordBatch::try_new(
        with_kept_dictionaries(schema, batch.columns(), cast_dictionaries),
        batch.columns().to_vec(),
    )?)
}

/// Best effort: files of a write that did not commit are not part of the table; delete them.
pub async fn remove_files(store: &ObjectStoreRef, adds: &[Add]) {
    for add in adds {
        // `add.path` is the object's own name (the log holds it URL-encoded): parsed as it is, not
        // encoded again as `Path::from` would (a partition value "a b" is the folder `x=a%20b`).
        if let Ok(path) = Path::parse(&add.path) {
            let _ = store.delete(&path).await;
        }
    }
}

/// `k=v/k2=v2` as delta-rs names partition folders.
fn hive_path(values: &IndexMap<String, Scalar>) -> String {
    values
        .iter()
        .map(|(k, v)| format!("{k}={}", v.serialize_encoded()))
        .collect::<Vec<_>>()
        .join("/")
}

/// `rows` without its partition columns, in the file schema (kept dictionaries as they are).
fn strip(rows: &RecordBatch, file_schema: &SchemaRef) -> ZResult<RecordBatch> {
    let columns = file_schema
        .fields()
        .iter()
        .map(|f| {
            rows.column_by_name(f.name()).cloned().ok_or_else(|| {
                ZError::new(
                    Code::SchemaMismatch,
                    format!("column '{}' is missing", f.name()),
                )
            })
        })
        .collect::<ZResult<Vec<_>>>()?;
    Ok(RecordBatch::try_new(
        with_kept_dictionaries(file_schema, &columns, &[]),
        columns,
    )?)
}

/// The file name's codec part, as delta-rs (and Hadoop) name them.
fn extension(props: &WriterProperties) -> &'static str {
    let path = deltalake::parquet::schema::types::ColumnPath::new(Vec::new());
    match props.compression(&path) {
        Compression::UNCOMPRESSED => "",
        Compression::SNAPPY => ".snappy",
        Compression::GZIP(_) => ".gz",
        Compression::LZO => ".lzo",
        Compression::BROTLI(_) => ".br",
        Compression::LZ4 => ".lz4",
        Compression::ZSTD(_) => ".zstd",
        Compression::LZ4_RAW => ".lz4raw",
    }
}

//! Parallel Parquet writers and one commit: the slim build's table writer, and the full build's
//! path for large plain appends and plain partitioned writes; the writers alone
//! (`write_files`) make a `DeltaWriter`'s files.
//!
//! delta-rs's `WriteBuilder` funnels an unpartitioned write into one Parquet writer, so encoding
//! and compression run on one core (as in Python's `write_deltalake`, which is the same Rust). Here
//! the input is cut into runs of `RUN_ROWS` rows, dealt round-robin to one writer per core
//! (`data_files.rs`: each streams its files to storage with stats, rolling at the target file
//! size; a partitioned write deals rows by partition value instead, so each value is one writer's),
//! and all files are committed as one version — adding to the table (replacing its files for
//! `overwrite`), or creating it with them as version 0. A write smaller than one run stays in one
//! writer and one file.
//!
//! These writers do not evaluate CHECK constraints, invariants, generated or identity columns and
//! cast only as delta-rs's writer did; the full build therefore only takes this path for tables
//! that have none of them and batches that already have the table's exact Arrow schema
//! (`write_datafusion::fast_path_ok`).

use delta_kernel::engine::arrow_conversion::TryIntoKernel as _;
use deltalake::DeltaTable;
use deltalake::arrow::array::{RecordBatch, UInt32Array};
use deltalake::arrow::compute::take_record_batch;
use deltalake::arrow::datatypes::SchemaRef;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::kernel::{Add, StructType};
use deltalake::protocol::SaveMode;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::commit::{NewTable, commit_adds, create_with_files};
use crate::conform::{PartitionRows, partition_rows};
use crate::data_files::{DataFiles, FileSpec, remove_files};
use crate::encoding::write_properties;
use crate::error::{Code, ZError, ZResult};
use crate::options::{
    Claim, Msg, ParquetProperties, Queued, WriteOptions, commit_properties, input_bytes,
    next_queued, row_group_bytes, target_file_size, writer_properties,
};

/// Rows dealt to one writer before moving to the next (~10 MB of a typical 10-column batch).
pub const RUN_ROWS: usize = 262_144;

/// Batches queued per writer (their bytes are bounded by the write's `InputBudget`).
const WRITER_QUEUE: usize = 2;

/// Where the files go and how the commit is made.
pub struct Target {
    pub table: DeltaTable,
    pub exists: bool,
    pub schema: SchemaRef,
    pub mode: SaveMode,
}

/// A write about to start: its files are specified, so bad options fail before any data moves.
pub struct Append {
    t: Target,
    o: WriteOptions,
    props: CommitProperties,
    spec: FileSpec,
}

impl Append {
    pub fn open(t: Target, o: &WriteOptions) -> ZResult<Self> {
        let props = commit_properties(o.commit())?;
        let spec = file_spec(&t, o, o.max_row_group_bytes)?;
        Ok(Self {
            t,
            o: o.clone(),
            props,
            spec,
        })
    }

    /// Write `head`, then everything arriving through `rx`, with one writer per core; commit.
    pub async fn write(
        self,
        head: Vec<RecordBatch>,
        rx: mpsc::Receiver<Msg>,
    ) -> ZResult<DeltaTable> {
        let Self { t, o, props, spec } = self;
        let partition_by = spec.partition_columns.clone();
        let file_schema: StructType = spec
            .schema
            .as_ref()
            .try_into_kernel()
            .map_err(|e| ZError::new(Code::SchemaMismatch, e.to_string()))?;
        let sizing = Sizing {
            compression: o.compression.clone(),
            max_row_group_bytes: o.max_row_group_bytes,
            max_buffered_bytes: o.max_buffered_bytes,
            writer_properties: o.writer_properties.clone(),
        };
        let adds = write_files(spec, &sizing, head, rx).await?;
        let store = t.table.object_store();
        let committed = if t.exists {
            commit(
                &t.table,
                t.mode,
                adds.clone(),
                props,
                o.commit().custom_metadata.as_ref(),
            )
            .await
        } else {
            let new = NewTable {
                partition_by,
                name: o.name.clone(),
                description: o.description.clone(),
                configuration: o.configuration.clone(),
            };
            create_with_files(&t.table, file_schema, new, adds.clone(), props).await
        };
        if committed.is_err() {
            remove_files(&store, &adds).await;
        }
        committed
    }
}

/// How the files of a write are sized and encoded (`WriteOptions`' and `DeltaWriter`'s options).
pub struct Sizing {
    pub compression: Option<String>,
    pub max_row_group_bytes: Option<i64>,
    pub max_buffered_bytes: Option<i64>,
    pub writer_properties: Option<ParquetProperties>,
}

/// Encode `head`, then everything arriving through `rx` until its end mark, into data files of
/// `spec` with one writer per core; their add actions. Commits nothing: a table writer commits them
/// (`Append::write`), a `DeltaWriter` hands them to its coordinator. On failure no file stays.
pub async fn write_files(
    mut spec: FileSpec,
    sizing: &Sizing,
    head: Vec<RecordBatch>,
    mut rx: mpsc::Receiver<Msg>,
) -> ZResult<Vec<Add>> {
    let partition_by = spec.partition_columns.clone();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut head = head.into_iter().map(|batch| Queued { batch, claim: None });
    let first_batch = match head.next() {
        Some(b) => Some(b),
        None => next_queued(&mut rx).await?,
    };
    // The first batch's rows by partition value, grouped once: for the router, and the files open
    // at once (one per partition value in each writer, or one per writer).
    let mut first_parts = match &first_batch {
        Some(q) if !partition_by.is_empty() => Some(partition_rows(&q.batch, &partition_by)?),
        _ => None,
    };
    let files = first_parts.as_ref().map_or(cores, Vec::len);
    let row_group = row_group_bytes(sizing.max_row_group_bytes, sizing.max_buffered_bytes, files)?;
    spec.props = write_properties(
        sizing.compression.as_deref(),
        row_group,
        sizing.writer_properties.as_ref(),
        &spec.schema,
        first_batch.as_ref().map(|q| &q.batch),
    )?;
    let ended = first_batch.is_none();
    let mut head = first_batch.into_iter().chain(head);

    // Writers are spawned as rows reach them; dropping the set (abort, error) stops them all.
    let mut tasks: JoinSet<ZResult<Vec<Add>>> = JoinSet::new();
    let mut queues: Vec<Option<mpsc::Sender<Piece>>> = (0..cores).map(|_| None).collect();
    let mut router = Router::new(&partition_by, cores)?;
    // A run ends at RUN_ROWS rows or at this many bytes: each writer's share of the streamed
    // input budget, so the claims of one run never keep the next writer waiting.
    let run_bytes = input_bytes(sizing.max_buffered_bytes) / (2 * cores);
    let (mut current, mut run, mut run_size) = (0usize, 0usize, 0usize);
    'input: loop {
        let Queued { batch, claim } = match head.next() {
            Some(q) => q,
            None if ended => break,
            None => match next_queued(&mut rx).await? {
                Some(q) => q,
                None => break,
            },
        };
        let rows = batch.num_rows();
        let size = batch.get_array_memory_size();
        let parts = match (&mut router, first_parts.take()) {
            (Some(r), Some(parts)) => r.assign(parts),
            (Some(r), None) => r.assign(partition_rows(&batch, &r.columns)?),
            (None, _) => vec![(current, None)],
        };
        for (to, part_rows) in parts {
            if queues[to].is_none() {
                let (tx, rx) = mpsc::channel(WRITER_QUEUE);
                tasks.spawn(drain(DataFiles::new(spec.clone())?, rx));
                queues[to] = Some(tx);
            }
            let queue = queues[to].as_ref().expect("opened above");
            let piece = Piece {
                batch: batch.clone(),
                rows: part_rows,
                one_value: router.is_some(),
                claim: claim.clone(),
            };
            if queue.send(piece).await.is_err() {
                // That writer stopped: its error says why.
                break 'input;
            }
        }
        run += rows;
        run_size += size;
        if run >= RUN_ROWS || run_size >= run_bytes {
            (run, run_size) = (0, 0);
            current = (current + 1) % cores;
        }
    }
    drop(queues);
    let mut adds = Vec::new();
    let mut failure = None;
    while let Some(res) = tasks.join_next().await {
        match res
            .map_err(|_| ZError::new(Code::Internal, "native panic while writing"))
            .and_then(|r| r)
        {
            Ok(a) => adds.extend(a),
            Err(e) => {
                failure.get_or_insert(e);
                tasks.abort_all();
            }
        }
    }
    if let Some(e) = failure {
        remove_files(&spec.store, &adds).await;
        return Err(e);
    }
    Ok(adds)
}

/// Deals the rows of a partitioned write to writers by partition value, so each value is one
/// writer's (one file per value up to the target size, as delta-rs's `WriteBuilder` makes them)
/// and each writer keeps open only the files of its values.
struct Router {
    columns: Vec<String>,
    writers: usize,
    /// Each partition value's writer: the values in order of first appearance, dealt round-robin,
    /// so the writers get as many values each (a hash of the values split 8 of them 5/3 or worse).
    assigned: std::collections::HashMap<Vec<u8>, usize>,
}

impl Router {
    fn new(partition_by: &[String], writers: usize) -> ZResult<Option<Self>> {
        if partition_by.is_empty() || writers < 2 {
            return Ok(None);
        }
        Ok(Some(Self {
            columns: partition_by.to_vec(),
            writers,
            assigned: std::collections::HashMap::new(),
        }))
    }

    /// A batch's rows of each partition value (`partition_rows`), with the writer they go to
    /// (`None`: all rows hold one value). Grouped once here; each writer copies out its own rows.
    fn assign(&mut self, parts: Vec<PartitionRows>) -> Vec<(usize, Option<UInt32Array>)> {
        parts
            .into_iter()
            .map(|(key, part)| {
                let next = self.assigned.len() % self.writers;
                (*self.assigned.entry(key).or_insert(next), part)
            })
            .collect()
    }
}

/// The files of a write to the target, with the write's row groups and file size.
fn file_spec(t: &Target, o: &WriteOptions, row_group: Option<i64>) -> ZResult<FileSpec> {
    let configuration = o
        .configuration
        .iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), v.clone()?)))
        .collect();
    FileSpec::for_table(
        &t.table,
        t.exists,
        t.schema.clone(),
        o.partition_by.as_ref(),
        configuration,
        writer_properties(
            o.compression.as_deref(),
            row_group,
            o.writer_properties.as_ref(),
        )?,
        target_file_size(o.target_file_size)?.map(|s| s.get()),
    )
}

/// What the router hands a writer: `batch`'s `rows` (all of them when `None`), which hold one
/// partition value when `one_value`.
struct Piece {
    batch: RecordBatch,
    rows: Option<UInt32Array>,
    one_value: bool,
    claim: Claim,
}

/// One writer: encode its pieces into files streamed to storage; their add actions. A writer
/// that fails leaves no file behind.
async fn drain(mut files: DataFiles, mut rx: mpsc::Receiver<Piece>) -> ZResult<Vec<Add>> {
    // The claim goes once the rows are encoded.
    while let Some(Piece {
        batch,
        rows,
        one_value,
        claim: _claim,
    }) = rx.recv().await
    {
        let written = match (one_value, rows) {
            (true, rows) => files.write_one_value(batch, rows.as_ref()).await,
            (false, None) => files.write(batch).await,
            (false, Some(rows)) => match take_record_batch(&batch, &rows) {
                Ok(taken) => files.write(taken).await,
                Err(e) => Err(e.into()),
            },
        };
        if let Err(e) = written {
            files.abort().await;
            return Err(e);
        }
    }
    files.finish().await
}

/// Add `adds` to an existing table in one commit (replacing its files for `overwrite`).
async fn commit(
    table: &DeltaTable,
    mode: SaveMode,
    adds: Vec<Add>,
    props: CommitProperties,
    custom: Option<&serde_json::Value>,
) -> ZResult<DeltaTable> {
    let partition_by =
        Some(table.snapshot()?.metadata().partition_columns().to_vec()).filter(|p| !p.is_empty());
    let version = commit_adds(table, mode, adds, partition_by, props, custom).await?;
    let mut table = table.clone();
    table.update_incremental(Some(version)).await?;
    Ok(table)
}

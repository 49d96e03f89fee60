//! Parallel Parquet writers and one commit: the slim build's table writer, and the full build's
//! fast path for large plain appends.
//!
//! delta-rs's `WriteBuilder` funnels an unpartitioned write into one Parquet writer, so encoding
//! and compression run on one core (as in Python's `write_deltalake`, which is the same Rust). Here
//! the input is cut into runs of `RUN_ROWS` rows, dealt round-robin to one `RecordBatchWriter` per
//! core (each finalises its own files: stats, target file size), and all files are committed as one
//! version — adding to the table (replacing its files for `overwrite`), or creating it with them as
//! version 0. A write smaller than one run stays in one writer and one file.
//!
//! `RecordBatchWriter` does not evaluate CHECK constraints, invariants, generated or identity columns
//! and does not cast; the full build therefore only takes this path for tables that have none of
//! them and batches that already have the table's exact Arrow schema (`write_datafusion::fast_path_ok`).

use std::collections::HashMap;

use delta_kernel::engine::arrow_conversion::TryIntoKernel as _;
use deltalake::DeltaTable;
use deltalake::Path;
use deltalake::arrow::array::{BooleanArray, RecordBatch};
use deltalake::arrow::compute::filter_record_batch;
use deltalake::arrow::datatypes::SchemaRef;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::kernel::{Add, StructType};
use deltalake::logstore::object_store::ObjectStoreExt as _;
use deltalake::protocol::SaveMode;
use deltalake::writer::{DeltaWriter as _, RecordBatchWriter};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::commit::{NewTable, commit_adds, create_with_files};
use crate::conform::{partition_count, partition_keys};
use crate::error::{Code, ZError, ZResult};
use crate::file_writer::open_writer;
use crate::options::{
    Msg, WriteOptions, commit_properties, next_batch, row_group_bytes, target_file_size,
    writer_properties,
};

/// Rows dealt to one writer before moving to the next (~10 MB of a typical 10-column batch).
pub const RUN_ROWS: usize = 262_144;

/// Batches queued per writer.
const WRITER_QUEUE: usize = 2;

/// Where the files go and how the commit is made.
pub struct Target {
    pub table: DeltaTable,
    pub exists: bool,
    pub schema: SchemaRef,
    pub mode: SaveMode,
    pub storage: HashMap<String, String>,
}

/// A write about to start: the first writer is open, so bad options fail before any data moves.
pub struct Append {
    t: Target,
    o: WriteOptions,
    props: CommitProperties,
    first: RecordBatchWriter,
    partition_by: Vec<String>,
}

impl Append {
    pub fn open(t: Target, o: &WriteOptions) -> ZResult<Self> {
        let props = commit_properties(o.commit())?;
        let (first, partition_by) = open(&t, o, o.max_row_group_bytes)?;
        Ok(Self {
            t,
            o: o.clone(),
            props,
            first,
            partition_by,
        })
    }

    /// Write `head`, then everything arriving through `rx`, with one writer per core; commit.
    pub async fn write(
        self,
        head: Vec<RecordBatch>,
        mut rx: mpsc::Receiver<Msg>,
    ) -> ZResult<DeltaTable> {
        let Self {
            t,
            o,
            props,
            first,
            partition_by,
        } = self;
        let file_schema: StructType = first
            .arrow_schema()
            .as_ref()
            .try_into_kernel()
            .map_err(|e| ZError::new(Code::SchemaMismatch, e.to_string()))?;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut head = head.into_iter();
        let first_batch = match head.next() {
            Some(b) => Some(b),
            None => next_batch(&mut rx).await?,
        };
        // The files open at once: one per partition value in each writer, or one per writer.
        let files = match &first_batch {
            Some(b) if !partition_by.is_empty() => partition_count(b, &partition_by)?,
            _ => cores,
        };
        let row_group = row_group_bytes(o.max_row_group_bytes, o.max_buffered_bytes, files)?;
        let first = first.with_writer_properties(writer_properties(
            o.compression.as_deref(),
            row_group,
            o.writer_properties.as_ref(),
        )?);
        let mut spare = Some(first);
        let ended = first_batch.is_none();
        let mut head = first_batch.into_iter().chain(head);

        // Writers are spawned as rows reach them; dropping the set (abort, error) stops them all.
        let mut tasks: JoinSet<ZResult<Vec<Add>>> = JoinSet::new();
        let mut queues: Vec<Option<mpsc::Sender<RecordBatch>>> = (0..cores).map(|_| None).collect();
        let router = Router::new(&partition_by, cores)?;
        let (mut current, mut run) = (0usize, 0usize);
        'input: loop {
            let batch = match head.next() {
                Some(b) => b,
                None if ended => break,
                None => match next_batch(&mut rx).await? {
                    Some(b) => b,
                    None => break,
                },
            };
            let rows = batch.num_rows();
            let parts = match &router {
                Some(r) => r.split(batch)?,
                None => vec![(current, batch)],
            };
            for (to, part) in parts {
                if queues[to].is_none() {
                    let writer = match spare.take() {
                        Some(w) => w,
                        None => open(&t, &o, row_group)?.0,
                    };
                    let (tx, rx) = mpsc::channel(WRITER_QUEUE);
                    tasks.spawn(drain(writer, rx));
                    queues[to] = Some(tx);
                }
                let queue = queues[to].as_ref().expect("opened above");
                if queue.send(part).await.is_err() {
                    // That writer stopped: its error says why.
                    break 'input;
                }
            }
            run += rows;
            if run >= RUN_ROWS {
                run = 0;
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
            remove_files(&t.table, &adds).await;
            return Err(e);
        }
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
            remove_files(&t.table, &adds).await;
        }
        committed
    }
}

/// Deals the rows of a partitioned write to writers by partition value, so each value is one
/// writer's (one file per value up to the target size, as delta-rs's `WriteBuilder` makes them)
/// and each writer keeps open only the files of its values.
struct Router {
    columns: Vec<String>,
    writers: usize,
}

impl Router {
    fn new(partition_by: &[String], writers: usize) -> ZResult<Option<Self>> {
        if partition_by.is_empty() || writers < 2 {
            return Ok(None);
        }
        Ok(Some(Self {
            columns: partition_by.to_vec(),
            writers,
        }))
    }

    /// `batch` cut into one batch per writer it goes to (the whole batch when all its rows go
    /// to one).
    fn split(&self, batch: RecordBatch) -> ZResult<Vec<(usize, RecordBatch)>> {
        let keys = partition_keys(&batch, &self.columns)?;
        // FNV-1a of the row's encoded partition values: the same writer for a value all write long.
        let to: Vec<usize> = keys
            .iter()
            .map(|r| {
                let h = r.as_ref().iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                    (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
                });
                (h % self.writers as u64) as usize
            })
            .collect();
        if to.iter().all(|w| *w == to[0]) {
            return Ok(vec![(to[0], batch)]);
        }
        let mut out = Vec::new();
        for w in 0..self.writers {
            let mask: BooleanArray = to.iter().map(|x| Some(*x == w)).collect();
            if mask.true_count() > 0 {
                out.push((w, filter_record_batch(&batch, &mask)?));
            }
        }
        Ok(out)
    }
}

/// A `RecordBatchWriter` for the target (see `file_writer::open_writer`) with the write's file size.
fn open(
    t: &Target,
    o: &WriteOptions,
    row_group: Option<i64>,
) -> ZResult<(RecordBatchWriter, Vec<String>)> {
    let (w, partition_by) = open_writer(
        &t.table,
        t.exists,
        t.schema.clone(),
        o.partition_by.as_ref(),
        &t.storage,
        writer_properties(
            o.compression.as_deref(),
            row_group,
            o.writer_properties.as_ref(),
        )?,
    )?;
    Ok(match target_file_size(o.target_file_size)? {
        Some(s) => (w.with_target_file_size(s.get()), partition_by),
        None => (w, partition_by),
    })
}

/// One writer: encode its batches, then finalise its files.
async fn drain(
    mut writer: RecordBatchWriter,
    mut rx: mpsc::Receiver<RecordBatch>,
) -> ZResult<Vec<Add>> {
    while let Some(batch) = rx.recv().await {
        writer.write(batch).await?;
    }
    Ok(writer.flush().await?)
}

/// Best effort: files of a write that did not commit are not part of the table; delete them.
async fn remove_files(table: &DeltaTable, adds: &[Add]) {
    let store = table.object_store();
    for add in adds {
        // `add.path` is the object's own name (the log holds it URL-encoded): parsed as it is, not
        // encoded again as `Path::from` would (a partition value "a b" is the folder `x=a%20b`).
        if let Ok(path) = Path::parse(&add.path) {
            let _ = store.delete(&path).await;
        }
    }
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

//! The scan of both builds (the full build's DataFusion scan takes only filters the kernel cannot
//! express, `scan.rs`): delta-kernel plans it — partition pruning and stats-based
//! file skipping from the filter's predicate, deletion vectors, column mapping — and its default
//! engine's per-file Parquet read does the rest (`parquet_kernel.rs`, which also decodes Spark's INT96
//! timestamps correctly). Kernel's `Scan::execute` reads one file after another in
//! 1,000-row batches; this is the same per-file work (read, `transform_to_logical`, deletion
//! vector) spread over one reading thread per core (kept between scans: `reader_threads.rs`), with
//! rows filtered exactly by the kernel's own Arrow predicate evaluator (after the read has left out
//! the row groups and rows it could: `file_filter.rs`). Files are read in batches of the scan's
//! size; what comes out much smaller (filtered batches, short row groups of remote files) is
//! coalesced to the batch size by arrow's `BatchCoalescer`. String partition values are added as
//! whole columns (`partition_values.rs`).

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use delta_kernel::FileMeta;
use delta_kernel::engine::arrow_conversion::TryFromKernel as _;
use delta_kernel::engine::arrow_data::ArrowEngineData;
use delta_kernel::scan::state::{ScanFile, transform_to_logical};
use deltalake::DeltaTable;
use deltalake::arrow::array::{Array, AsArray, BooleanArray, RecordBatch};
use deltalake::arrow::compute::{BatchCoalescer, and, prep_null_mask_filter};
use deltalake::arrow::datatypes::Schema as ArrowSchema;
use deltalake::kernel::Snapshot;
use deltalake::logstore::LogStoreRef;
use futures::StreamExt;
use tokio::sync::mpsc;

use crate::error::{Code, ZError, ZResult};
use crate::file_filter::FileFilter;
use crate::filter;
use crate::parquet_kernel::{ParquetReader, local_path};
use crate::partition_values::PartitionValues;
use crate::read::{Batches, ScanOptions, batch_size};

/// Batches read ahead of the JS consumer.
const READ_AHEAD: usize = 2;

/// Plan and start the scan of `table`'s loaded snapshot; with `files`, of only those data files
/// (paths as the log has them, each active in the snapshot: the files one commit added).
pub async fn scan(
    table: &DeltaTable,
    options: &ScanOptions,
    files: Option<&[String]>,
) -> ZResult<Batches> {
    let version = table
        .version()
        .ok_or_else(|| ZError::new(Code::TableNotFound, "no table loaded"))?;
    // delta-rs keeps the loaded kernel snapshot private (EagerSnapshot), so the kernel builds its own
    // at the same version: a log listing and a protocol/metadata read, not a file replay.
    let snapshot = Snapshot::try_new(table.log_store().as_ref(), Some(version)).await?;
    scan_snapshot(&snapshot, table.log_store(), options, files)
}

/// Plan and start the scan of `snapshot` of the table in `log_store`; `files` as for [`scan`].
pub fn scan_snapshot(
    snapshot: &Snapshot,
    log_store: LogStoreRef,
    options: &ScanOptions,
    files: Option<&[String]>,
) -> ZResult<Batches> {
    let batch_size = batch_size(options)?;
    let arrow_schema = snapshot.arrow_schema();
    let kernel_schema = snapshot.schema();
    let filter = match &options.filter {
        Some(f) => filter::to_predicate(&arrow_schema, f)?,
        None => None,
    };
    let wanted: Vec<String> = match &options.columns {
        Some(columns) => {
            filter::check_columns(&arrow_schema, columns)?;
            columns.clone()
        }
        None => arrow_schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect(),
    };
    // Read the wanted columns first, then the ones only the filter needs (dropped after filtering).
    let mut read = wanted.clone();
    for column in filter.iter().flat_map(|f| &f.columns) {
        if !read.contains(column) {
            read.push(column.clone());
        }
    }
    let keep: Vec<usize> = (0..wanted.len()).collect();
    let read_schema = kernel_schema.project(&read)?;
    let views = options.string_views.unwrap_or(false);
    let out_schema = Arc::new(ArrowSchema::try_from_kernel(
        kernel_schema.project(&wanted)?.as_ref(),
    )?);
    let out_schema = if views {
        // Partition values do not come from the files: they stay plain strings.
        crate::ipc::with_views(&out_schema, snapshot.metadata().partition_columns())
    } else {
        out_schema
    };
    let kernel_snapshot = snapshot.scan_builder().build()?.snapshot().clone();
    let engine = log_store.engine(None);
    // The engine reads Parquet in 1,000-row batches that would all be copied again to coalesce them;
    // this reader makes batches of the scan's size, which pass through whole.
    let store = log_store.root_object_store(None);
    let parquet = ParquetReader::new(store, tokio::runtime::Handle::current(), batch_size, views);
    let (predicate, skipping) = match filter {
        Some(f) => (Some(Arc::new(f.exact)), f.skipping.map(Arc::new)),
        None => (None, None),
    };

    let only_files: Option<std::collections::HashSet<String>> =
        files.map(|f| f.iter().cloned().collect());
    let (tx, rx) = mpsc::channel::<ZResult<RecordBatch>>(READ_AHEAD);
    let tx_failed = tx.clone();
    let reader = move || -> ZResult<()> {
        let scan = delta_kernel::scan::ScanBuilder::new(kernel_snapshot.clone())
            .with_schema(read_schema.clone())
            .with_predicate(skipping.clone())
            .build()?;
        let evaluator = predicate
            .map(|p| {
                engine
                    .evaluation_handler()
                    .new_predicate_evaluator(read_schema, p)
            })
            .transpose()?;
        let file_filter = FileFilter::new(&scan, engine.as_ref())?;
        let mut files: Vec<ScanFile> = Vec::new();
        for metadata in scan.scan_metadata(engine.as_ref())? {
            files = metadata?.visit_scan_files(files, |files, file| files.push(file))?;
        }
        if let Some(only) = &only_files {
            files.retain(|f| only.contains(&f.path));
            // Selected files the filter's stats skipped are not missing: those still count.
            let active = if files.len() < only.len() && skipping.is_some() {
                let all = delta_kernel::scan::ScanBuilder::new(kernel_snapshot).build()?;
                let mut all_files: Vec<ScanFile> = Vec::new();
                for metadata in all.scan_metadata(engine.as_ref())? {
                    all_files =
                        metadata?.visit_scan_files(all_files, |files, file| files.push(file))?;
                }
                all_files.iter().filter(|f| only.contains(&f.path)).count()
            } else {
                files.len()
            };
            if active < only.len() {
                return Err(ZError::new(
                    Code::InvalidArgument,
                    "a selected data file is not active in this version",
                ));
            }
        }
        let workers = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(files.len())
            .max(1);
        let job = Arc::new(FileJob {
            scan,
            engine,
            parquet,
            evaluator,
            file_filter,
            keep,
            batch_size,
            tx,
            files,
            next: AtomicUsize::new(0),
        });
        // One job per core on the kept reading threads (`reader_threads.rs` says why not new ones).
        let (done_tx, done) = std::sync::mpsc::channel::<ZResult<()>>();
        for _ in 0..workers {
            let (job, done_tx) = (job.clone(), done_tx.clone());
            crate::reader_threads::spawn(move || {
                let result = std::panic::catch_unwind(AssertUnwindSafe(|| job.run()))
                    .unwrap_or_else(|_| {
                        Err(ZError::new(Code::Internal, "native panic while reading"))
                    });
                if result.is_err() {
                    job.stop();
                }
                let _ = done_tx.send(result);
            })
            .map_err(|e| ZError::new(Code::Internal, format!("starting a reading thread: {e}")))?;
        }
        drop(done_tx);
        done.iter().fold(Ok(()), ZResult::and)
    };
    let failed = move |e: ZError| {
        let _ = tx_failed.blocking_send(Err(e));
    };
    tokio::task::spawn_blocking(
        move || match std::panic::catch_unwind(AssertUnwindSafe(reader)) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failed(e),
            // Never a silently short result: a panic in the reader fails the stream.
            Err(_) => failed(ZError::new(Code::Internal, "native panic while reading")),
        },
    );
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
    .boxed();
    let batches = Batches::new(&out_schema, stream, batch_size);
    Ok(if views {
        batches.with_views(&out_schema)
    } else {
        batches
    })
}

/// What every reading thread shares: the scan's files, taken one at a time.
struct FileJob {
    scan: delta_kernel::scan::Scan,
    engine: Arc<dyn delta_kernel::Engine>,
    parquet: ParquetReader,
    evaluator: Option<Arc<dyn delta_kernel::PredicateEvaluator>>,
    /// The predicate inside each file's read (row groups, early rows); the evaluator above stays exact.
    file_filter: Option<FileFilter>,
    keep: Vec<usize>,
    batch_size: usize,
    tx: mpsc::Sender<ZResult<RecordBatch>>,
    files: Vec<ScanFile>,
    /// The next file to read.
    next: AtomicUsize,
}

impl FileJob {
    /// Read files until none is left, the consumer is gone or another thread stopped the scan.
    fn run(&self) -> ZResult<()> {
        let mut out = None;
        while let Some(file) = self.files.get(self.next.fetch_add(1, Ordering::Relaxed)) {
            if !self.read(file, &mut out)? {
                self.stop(); // the reader is gone: stop everyone
                return Ok(());
            }
        }
        if let Some(mut out) = out {
            out.finish_buffered_batch()?;
            self.send_completed(&mut out);
        }
        Ok(())
    }

    /// No file is started after this.
    fn stop(&self) {
        self.next.store(self.files.len(), Ordering::Relaxed);
    }

    /// Read one file into `out` (what `Scan::execute` does per file), sending full batches on.
    /// `false` once the consumer is gone.
    fn read(&self, file: &ScanFile, out: &mut Option<BatchCoalescer>) -> ZResult<bool> {
        let root = self.scan.table_root();
        let mut deleted = file
            .dv_info
            .get_selection_vector(self.engine.as_ref(), root)?;
        // Row groups and rows are filtered in the read only where no deletion vector has to line
        // up with the file's rows.
        let file_filter = self.file_filter.as_ref().filter(|_| deleted.is_none());
        let meta = FileMeta {
            last_modified: 0,
            size: file.size.try_into().unwrap_or(0),
            location: root.join(&file.path).map_err(|e| {
                ZError::new(
                    Code::Protocol,
                    format!("data file path '{}': {e}", file.path),
                )
            })?,
        };
        // The local reader's batches run across row groups, so only a file's tail comes short:
        // passing tails of an eighth of a batch or more on uncopied took the 10 M-row full read
        // from 0.382 to 0.364 s (release, 16 files, 24 reads each). The remote reader's batches end
        // at each row group: passing those on uncopied made that read slower, 0.48 -> 0.50 s, with
        // 800k page faults instead of 450k in 11 reads (104k-row row groups, 524,288-row batches).
        let pass_from = match local_path(&meta.location) {
            Some(_) => self.batch_size / 8,
            None => self.batch_size / 2,
        };
        let physical = self.scan.physical_schema();
        let partition_values = PartitionValues::new(file.transform.as_ref(), physical)?;
        for data in self.parquet.read(&meta, physical, file_filter)? {
            let logical = transform_to_logical(
                self.engine.as_ref(),
                partition_values.add_to(data?)?,
                partition_values.physical(),
                self.scan.logical_schema(),
                partition_values.transform(),
            )?;
            let rows = logical.len();
            let mask = self
                .evaluator
                .as_ref()
                .map(|e| e.evaluate(logical.as_ref()))
                .transpose()?;
            let batch: RecordBatch = (*ArrowEngineData::try_from_engine_data(logical)?).into();
            // Rows to keep: the predicate's (null is not a match) and the deletion vector's, whose
            // selection covers the file's rows in order; rows past its end are kept.
            let mut keep_rows = mask
                .map(|m| -> ZResult<BooleanArray> {
                    let m = ArrowEngineData::try_from_engine_data(m)?;
                    let m = m.record_batch().column(0).as_boolean();
                    Ok(if m.null_count() > 0 {
                        prep_null_mask_filter(m)
                    } else {
                        m.clone()
                    })
                })
                .transpose()?;
            if let Some(selection) = deleted.as_mut() {
                let rest = selection.split_off(rows.min(selection.len()));
                let mut selected = std::mem::replace(selection, rest);
                selected.resize(rows, true);
                let selected = BooleanArray::from(selected);
                keep_rows = Some(match keep_rows {
                    Some(k) => and(&k, &selected)?,
                    None => selected,
                });
            }
            let batch = batch.project(&self.keep)?;
            // Whole batches of the reader go on as they are, and so do unfiltered ones of at
            // least `pass_from` rows; smaller ones and filtered ones are coalesced (row order
            // across the reading threads is not kept anyway).
            if keep_rows.is_none() && batch.num_rows() >= pass_from {
                if self.tx.blocking_send(Ok(batch)).is_err() {
                    return Ok(false);
                }
                continue;
            }
            let out = self.coalescer_for(out, &batch)?;
            match keep_rows {
                Some(k) => out.push_batch_with_filter(batch, &k)?,
                None => out.push_batch(batch)?,
            }
            if !self.send_completed(out) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The coalescer for `batch`: the coalescer needs exact types, and the kernel's may differ from
    /// the declared schema in details such as list item names (`Batches` conforms them for JS), so
    /// it takes the batches' own schema and starts over if that changes.
    fn coalescer_for<'o>(
        &self,
        out: &'o mut Option<BatchCoalescer>,
        batch: &RecordBatch,
    ) -> ZResult<&'o mut BatchCoalescer> {
        if let Some(current) = out
            .as_mut()
            .filter(|c| c.schema().fields() != batch.schema().fields())
        {
            current.finish_buffered_batch()?;
            self.send_completed(current);
            *out = None;
        }
        Ok(out.get_or_insert_with(|| BatchCoalescer::new(batch.schema(), self.batch_size)))
    }

    /// Send the coalescer's full batches on; `false` once the consumer is gone.
    fn send_completed(&self, out: &mut BatchCoalescer) -> bool {
        while let Some(batch) = out.next_completed_batch() {
            if self.tx.blocking_send(Ok(batch)).is_err() {
                return false;
            }
        }
        true
    }
}

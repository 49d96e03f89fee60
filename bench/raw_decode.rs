//! The raw Parquet decode floor of `npm run bench`: arrow-rs's `parquet` crate (the one zoopipe's
//! readers are built on, through deltalake's re-export) reading every column of the given files
//! into Arrow batches, with nothing of Delta (no log, no scan planning, no conversion for JS). One
//! thread per core takes files from a shared list, as zoopipe's scan does; the batches are kept
//! until every file is read, as a collected table keeps them.
//!   raw_decode RUNS FILE...   (prints the seconds of each run, after one warm-up, as JSON)

use std::fs::File;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use deltalake::arrow::array::RecordBatch;
use deltalake::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

/// The batch size of zoopipe's reads (`read.rs`'s default).
const BATCH_ROWS: usize = 65_536;

fn read_all(files: &[String]) -> usize {
    let next = AtomicUsize::new(0);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..cores)
            .map(|_| {
                s.spawn(|| {
                    let mut kept: Vec<RecordBatch> = Vec::new();
                    while let Some(path) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let file = File::open(path).expect("open a data file");
                        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
                            .expect("read a footer")
                            .with_batch_size(BATCH_ROWS)
                            .build()
                            .expect("plan the read");
                        for batch in reader {
                            kept.push(batch.expect("decode a batch"));
                        }
                    }
                    kept
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a reading thread panicked"))
            .map(|kept| kept.iter().map(RecordBatch::num_rows).sum::<usize>())
            .sum()
    })
}

fn main() {
    let mut args = std::env::args().skip(1);
    let runs: usize = args
        .next()
        .and_then(|r| r.parse().ok())
        .expect("usage: raw_decode RUNS FILE...");
    let files: Vec<String> = args.collect();
    let rows = read_all(&files);
    let seconds: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            assert_eq!(read_all(&files), rows, "every run reads the same rows");
            t.elapsed().as_secs_f64()
        })
        .collect();
    println!("{{\"rows\":{rows},\"seconds\":{seconds:?}}}");
}

//! Which scan reads a table: `scan_kernel.rs` (delta-kernel plans it, arrow-rs reads the files), or
//! in the full build `scan_datafusion.rs` when the filter is one only DataFusion evaluates.

use deltalake::DeltaTable;
use deltalake::arrow::datatypes::Schema;

use crate::error::ZResult;
use crate::read::{Batches, ScanOptions};

/// Plan and start the scan of `table`'s loaded snapshot; with `files`, of only those data files.
/// The kernel scan reads it unless the filter is one only DataFusion evaluates (a fraction against
/// an integer column, which DataFusion coerces and the kernel refuses). Why the kernel's: the full
/// read of the bench's 10 M rows took 0.791 s through delta-rs's DataFusion provider (run at
/// 870a98b) and 0.655 s through the kernel scan (run at 8a139d1; release builds, BENCHMARKS.md's
/// history), and the provider refuses tables with reader features delta-rs's static protocol
/// check lacks (`vacuumProtocolCheck`), which the kernel reads.
#[cfg(feature = "datafusion")]
pub async fn scan(
    table: &DeltaTable,
    options: &ScanOptions,
    files: Option<&[String]>,
) -> ZResult<Batches> {
    if kernel_reads(&table.snapshot()?.snapshot().arrow_schema(), options) {
        crate::scan_kernel::scan(table, options, files).await
    } else {
        crate::scan_datafusion::scan(table, options, files).await
    }
}

/// Whether the kernel scan reads a table of `schema` with `options` (see [`scan`]).
#[cfg(feature = "datafusion")]
pub fn kernel_reads(schema: &Schema, options: &ScanOptions) -> bool {
    match &options.filter {
        None => true,
        Some(f) => crate::filter::to_predicate(schema, f).is_ok(),
    }
}

/// Whether the kernel scan reads a table of `schema` with `options`: always, in the slim build.
#[cfg(not(feature = "datafusion"))]
pub fn kernel_reads(_schema: &Schema, _options: &ScanOptions) -> bool {
    true
}

/// Plan and start the scan of `table`'s loaded snapshot; with `files`, of only those data files.
#[cfg(not(feature = "datafusion"))]
pub async fn scan(
    table: &DeltaTable,
    options: &ScanOptions,
    files: Option<&[String]>,
) -> ZResult<Batches> {
    crate::scan_kernel::scan(table, options, files).await
}

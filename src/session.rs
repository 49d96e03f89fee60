//! The one DataFusion session every plan of the full build runs in: scans, delete, update, merge,
//! optimize, constraints, replaceWhere writes and the change data feed. Reading a file the same way
//! everywhere matters most for the operations that rewrite files: what they read is what they write.

use std::collections::HashMap;
use std::sync::Arc;

use deltalake::datafusion::catalog::Session;
use deltalake::datafusion::prelude::SessionContext;
use deltalake::delta_datafusion::DeltaSessionContext;

use crate::error::ZResult;

/// A session for one operation; `batch_size` sets DataFusion's batch size (its default otherwise).
pub fn context(batch_size: Option<usize>) -> ZResult<SessionContext> {
    // Spark and Databricks write `timestamp` columns as Parquet INT96. arrow-rs reads INT96 as
    // nanoseconds unless told otherwise, and values past 2262-04-11 (the 9999-12-31 "valid until"
    // sentinel of many warehouse tables) wrap around to dates in the 1800s: wrong rows on read, and
    // stored wrong by any operation that rewrites the file. Delta timestamps are microseconds.
    let mut overrides = HashMap::from([(
        "datafusion.execution.parquet.coerce_int96".to_string(),
        "us".to_string(),
    )]);
    if let Some(n) = batch_size {
        overrides.insert("datafusion.execution.batch_size".to_string(), n.to_string());
    }
    let ctx: SessionContext = DeltaSessionContext::new_with_session_overrides(&overrides)?.into();
    crate::local::use_in(&ctx);
    Ok(ctx)
}

/// [`context`] as the session delta-rs operations take (`with_session_state`).
pub fn state() -> ZResult<Arc<dyn Session>> {
    Ok(Arc::new(context(None)?.state()))
}

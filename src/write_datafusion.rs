//! The full build's table writer: delta-rs's own `WriteBuilder` (modes, partitioning, replaceWhere,
//! schema enforcement/evolution, stats, checkpoints) runs on a DataFusion `StreamingTable` that
//! reads the adapter's bounded channel; large plain appends take `append.rs`'s parallel writers.

use std::sync::{Arc, Mutex as StdMutex};

use delta_kernel::engine::arrow_conversion::{TryIntoArrow as _, TryIntoKernel as _};
use deltalake::arrow::array::RecordBatch;
use deltalake::arrow::compute::cast;
use deltalake::arrow::datatypes::{Schema, SchemaRef};
use deltalake::datafusion::catalog::streaming::StreamingTable;
use deltalake::datafusion::datasource::provider_as_source;
use deltalake::datafusion::error::DataFusionError;
use deltalake::datafusion::execution::{SendableRecordBatchStream, TaskContext};
use deltalake::datafusion::logical_expr::LogicalPlanBuilder;
use deltalake::datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use deltalake::datafusion::physical_plan::streaming::PartitionStream;
use deltalake::kernel::StructType;
use deltalake::operations::write::{SchemaMode, WriteBuilder};
use deltalake::protocol::SaveMode;
use futures::StreamExt;
use tokio::sync::mpsc;

use crate::append;
use crate::cancel::Cancel;
use crate::conform::{kept_dictionary, partition_count};
use crate::encoding::write_properties;
use crate::error::ZResult;
use crate::options::{
    Msg, WriteOptions, WriteTask, commit_properties, next_batch, row_group_bytes, schema_mode,
    target_file_size,
};

/// Batches already taken from the channel, then the channel (none once it ended).
type Input = (Vec<RecordBatch>, Option<mpsc::Receiver<Msg>>);

/// One-shot source of the channel's batches for DataFusion.
#[derive(Debug)]
struct ChannelSource {
    schema: SchemaRef,
    input: StdMutex<Option<Input>>,
}

impl PartitionStream for ChannelSource {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let input = self.input.lock().unwrap_or_else(|e| e.into_inner()).take();
        // WriteBuilder takes the table's exact types: dictionary strings the writers keep are cast.
        let schema = self.schema.clone();
        let exact = move |b: RecordBatch| {
            without_dictionaries(b, &schema).map_err(|e| DataFusionError::Execution(e.message))
        };
        let stream = match input {
            Some((head, rx)) => futures::stream::iter(head.into_iter().map(Ok))
                .chain(futures::stream::unfold(rx, |rx| async move {
                    let mut rx = rx?;
                    match next_batch(&mut rx).await {
                        Ok(Some(batch)) => Some((Ok(batch), Some(rx))),
                        Ok(None) => None,
                        Err(e) => Some((Err(DataFusionError::Execution(e.message)), None)),
                    }
                }))
                .map(move |b| b.and_then(&exact))
                .boxed(),
            None => futures::stream::once(async {
                Err(DataFusionError::Execution(
                    "write input consumed twice".into(),
                ))
            })
            .boxed(),
        };
        Box::pin(RecordBatchStreamAdapter::new(self.schema.clone(), stream))
    }
}

/// Start the write of the batches arriving through `rx`: delta-rs's `WriteBuilder`, or for a large
/// plain append or overwrite that needs nothing of it (`fast_path_ok`), parallel writers (`append.rs`).
pub fn spawn_writer(
    target: append::Target,
    o: &WriteOptions,
    uri: &str,
    mut rx: mpsc::Receiver<Msg>,
    cancel: Arc<Cancel>,
) -> ZResult<WriteTask> {
    let fast = fast_path_ok(&target, o)?;
    // A table whose protocol lists a feature only zoopipe's own commit knows is written as the slim
    // build writes (delta-rs's WriteBuilder refuses it), where that writer can: plain appends and
    // overwrites of tables without CHECK constraints, invariants, generated or identity columns.
    let own_commit = target.exists
        && crate::commit::needs_commit_view(&target.table)?
        && o.predicate.is_none()
        && o.schema_mode.is_none()
        && matches!(target.mode, SaveMode::Append | SaveMode::Overwrite)
        && crate::conform::unchecked_rules(&target.table)?.is_none();
    let o = o.clone();
    let uri = uri.to_string();
    let budget = crate::log_store::budget(o.commit().commit_timeout_ms)?;
    Ok(tokio::spawn(crate::cancel::scope(
        cancel,
        crate::log_store::with_budget(budget, async move {
            let run = async move {
                // A write of more than one run goes parallel; a smaller one (all of it is in `head`
                // then) goes through WriteBuilder, which also gets the first batch read ahead (its
                // partition values size the row groups).
                let mut head = Vec::new();
                let mut rows = 0;
                let mut ended = false;
                while head.is_empty() || (fast && rows <= append::RUN_ROWS) {
                    let Some(b) = next_batch(&mut rx).await? else {
                        ended = true;
                        break;
                    };
                    rows += b.num_rows();
                    head.push(b);
                }
                if (fast && !ended) || own_commit {
                    return append::Append::open(target, &o)?.write(head, rx).await;
                }
                let created = (!target.exists).then(|| target.table.clone());
                let checks = target
                    .exists
                    .then(|| check_constraints(&target.table))
                    .flatten();
                let rx = (!ended).then_some(rx);
                match write_builder(target, &o, head, rx)?.await {
                    Ok(t) => Ok(t),
                    Err(e) => Err(naming_checks(
                        match created {
                            Some(table) => crate::commit::creation_error(&table, e.into()).await,
                            None => e.into(),
                        },
                        checks.as_deref(),
                    )),
                }
            };
            run.await.map_err(|e| e.context(uri))
        }),
    )))
}

/// The table's CHECK constraints as "name (expression)": delta-rs's validation error says how many
/// rows failed, not which constraint they broke.
fn check_constraints(table: &deltalake::DeltaTable) -> Option<String> {
    let state = table.snapshot().ok()?;
    let mut checks: Vec<String> = state
        .metadata()
        .configuration()
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("delta.constraints.")
                .map(|name| format!("{name} ({v})"))
        })
        .collect();
    checks.sort();
    (!checks.is_empty()).then(|| checks.join(", "))
}

/// A failed validation names the table's CHECK constraints.
fn naming_checks(mut e: crate::error::ZError, checks: Option<&str>) -> crate::error::ZError {
    if let Some(checks) = checks
        && e.code == crate::error::Code::InvalidData
        && e.message.contains("failed validation check")
    {
        e.message = e.message.replacen(
            "failed validation check",
            &format!("failed validation check (the table's CHECK constraints: {checks})"),
            1,
        );
    }
    e
}

/// delta-rs's `WriteBuilder` over the batches arriving through `rx`.
fn write_builder(
    t: append::Target,
    o: &WriteOptions,
    head: Vec<RecordBatch>,
    rx: Option<mpsc::Receiver<Msg>>,
) -> ZResult<WriteBuilder> {
    // Each partition value is one open file (delta-rs hash-partitions rows by value).
    let partition_by = match (&o.partition_by, t.exists) {
        (Some(p), _) => p.clone(),
        (None, true) => t.table.snapshot()?.metadata().partition_columns().to_vec(),
        (None, false) => Vec::new(),
    };
    let files = match head.first() {
        Some(b) if !partition_by.is_empty() => partition_count(b, &partition_by)?,
        _ => 1,
    };
    let row_group = row_group_bytes(o.max_row_group_bytes, o.max_buffered_bytes, files)?;
    let writer_props = write_properties(
        o.compression.as_deref(),
        row_group,
        o.writer_properties.as_ref(),
        &t.schema,
        head.first(),
    )?;
    let source = ChannelSource {
        schema: t.schema.clone(),
        input: StdMutex::new(Some((head, rx))),
    };
    let provider = StreamingTable::try_new(t.schema.clone(), vec![Arc::new(source)])?;
    let plan = LogicalPlanBuilder::scan(
        "zoopipe_input",
        provider_as_source(Arc::new(provider)),
        None,
    )?
    .build()?;

    let snapshot = if t.exists {
        Some(t.table.snapshot()?.snapshot().clone())
    } else {
        None
    };
    let mut props = commit_properties(o.commit())?;
    if !t.exists {
        // Creating the table: no retries, for the reason `commit::create_with_files` gives.
        props = props.with_max_retries(0);
    }
    let mut builder = WriteBuilder::new(t.table.log_store(), snapshot)
        .with_input_plan(plan)
        .with_session_state(crate::session::state()?)
        .with_save_mode(t.mode)
        .with_commit_properties(props);
    if let Some(cols) = &o.partition_by {
        builder = builder.with_partition_columns(cols.clone());
    }
    if let Some(merge) = schema_mode(o.schema_mode.as_deref())? {
        builder = builder.with_schema_mode(if merge {
            SchemaMode::Merge
        } else {
            SchemaMode::Overwrite
        });
    }
    if let Some(p) = &o.predicate {
        builder = builder.with_replace_where(p.as_str());
    }
    if let Some(size) = target_file_size(o.target_file_size)? {
        builder = builder.with_target_file_size(Some(size));
    }
    builder = builder.with_writer_properties(writer_props);
    if let Some(name) = &o.name {
        builder = builder.with_table_name(name);
    }
    if let Some(d) = &o.description {
        builder = builder.with_description(d);
    }
    if let Some(conf) = &o.configuration {
        builder = builder.with_configuration(conf.clone());
    }
    Ok(builder)
}

/// Writer features a plain append may ignore: none of them constrains the data written.
const PLAIN_WRITER_FEATURES: [&str; 3] = ["appendOnly", "timestampNtz", "deletionVectors"];

/// The full build may write `schema`'s batches with `write()` instead of delta-rs's `WriteBuilder`:
/// a plain append or overwrite (or the creation of a table without extra configuration), no
/// replaceWhere or schema evolution, a table with no constraint, invariant, generated or identity
/// column and no table feature beyond `PLAIN_WRITER_FEATURES`, and batches whose Arrow schema is
/// exactly the table's (so `WriteBuilder` would neither cast nor reject them).
pub fn fast_path_ok(t: &append::Target, o: &WriteOptions) -> ZResult<bool> {
    let append::Target {
        table,
        exists,
        schema,
        mode,
        ..
    } = t;
    if o.predicate.is_some() || o.schema_mode.is_some() {
        return Ok(false);
    }
    if !*exists {
        if o.configuration.is_some() {
            return Ok(false);
        }
        // What the table would be created with, back in Arrow: equal means no cast on write.
        let kernel: Result<StructType, _> = schema.as_ref().try_into_kernel();
        let Ok(kernel) = kernel else { return Ok(false) };
        if crate::conform::has_computed_field(&serde_json::to_value(&kernel)?) {
            return Ok(false);
        }
        let back: Result<Schema, _> = (&kernel).try_into_arrow();
        let Ok(back) = back else { return Ok(false) };
        return Ok(same_fields(&back, schema));
    }
    if !matches!(mode, SaveMode::Append | SaveMode::Overwrite) {
        return Ok(false);
    }
    let state = table.snapshot()?;
    if crate::conform::unchecked_rules(table)?.is_some() {
        return Ok(false);
    }
    let protocol = serde_json::to_value(state.protocol())?;
    let writer_version = protocol["minWriterVersion"].as_i64().unwrap_or(i64::MAX);
    let features_plain = protocol["writerFeatures"].as_array().is_none_or(|f| {
        f.iter().all(|f| {
            f.as_str()
                .is_some_and(|f| PLAIN_WRITER_FEATURES.contains(&f))
        })
    });
    if !(writer_version <= 2 || (writer_version == 7 && features_plain)) {
        return Ok(false);
    }
    Ok(same_fields(&state.snapshot().arrow_schema(), schema))
}

/// Same column names, types and nullability, in order (field metadata aside).
fn same_fields(a: &Schema, b: &Schema) -> bool {
    a.fields().len() == b.fields().len()
        && a.fields().iter().zip(b.fields()).all(|(x, y)| {
            x.name() == y.name()
                && x.data_type() == y.data_type()
                && x.is_nullable() == y.is_nullable()
        })
}

/// `batch` with its [`kept_dictionary`] columns cast to `schema`'s types, for a writer that needs
/// the table's exact types (delta-rs's `WriteBuilder`).
fn without_dictionaries(batch: RecordBatch, schema: &SchemaRef) -> ZResult<RecordBatch> {
    if batch.schema().fields() == schema.fields() {
        return Ok(batch);
    }
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(
            |(c, f)| match kept_dictionary(c.data_type(), f.data_type()) {
                true => Ok(cast(c, f.data_type())?),
                false => Ok(c.clone()),
            },
        )
        .collect::<ZResult<Vec<_>>>()?;
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

//! The operations that need DataFusion: optimize (compaction, Z-order), delete, update, merge,
//! constraints and the change data feed. Each is a delta-rs operation with one atomic commit (or
//! none), returning delta-rs's metrics; the slim build (no DataFusion) answers them with
//! UNSUPPORTED_FEATURE (`api/delta_table.rs`).

use std::collections::HashMap;
use std::num::NonZeroU64;
use std::sync::Arc;

use deltalake::datafusion::common::Column;
use deltalake::datafusion::logical_expr::Expr;
use deltalake::delta_datafusion::DeltaCdfTableProvider;
use deltalake::kernel::schema::partitions::{FilterValue, filter_literal};
use deltalake::operations::optimize::OptimizeType;
use serde_json::Value;

use crate::convert;
use crate::error::{Code, ZError, ZResult};
use crate::filter;
use crate::options::{CommitProperties, props};
use crate::options::{ParquetProperties, writer_properties};
use crate::read::{Batches, DEFAULT_BATCH_SIZE};
use crate::scan_datafusion::batches;
use crate::session;
use crate::sql::whole_expression;
use crate::storage::to_datetime;
use crate::table::Table;

#[napi(object)]
#[derive(Default)]
pub struct OptimizeOptions {
    pub target_size: Option<i64>,
    /// Partition filter triples (partition columns only).
    pub filter: Option<Value>,
    pub z_order: Option<Vec<String>>,
    pub compression: Option<String>,
    pub writer_properties: Option<ParquetProperties>,
}

#[napi(object)]
#[derive(Default)]
pub struct CdfOptions {
    pub starting_version: Option<i64>,
    pub ending_version: Option<i64>,
    pub starting_timestamp: Option<f64>,
    pub ending_timestamp: Option<f64>,
    pub columns: Option<Vec<String>>,
    pub batch_size: Option<u32>,
    /// SQL over the feed's columns (`_change_type` and the others too): only matching rows.
    pub predicate: Option<String>,
    /// A start past the latest version (or time) is an empty feed instead of an error.
    pub allow_out_of_range: Option<bool>,
}

/// One `when…` clause of a merge, as the JS builder chain recorded it.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Clause {
    kind: String,
    predicate: Option<String>,
    #[serde(default)]
    set: HashMap<String, String>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct MergeSpec {
    predicate: String,
    source_alias: Option<String>,
    target_alias: Option<String>,
    clauses: Vec<Clause>,
}

/// File sizes of what optimize wrote or removed.
#[napi(object)]
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileSizeMetrics {
    pub avg: f64,
    pub max: i64,
    pub min: i64,
    pub total_files: i64,
    pub total_size: i64,
}

// delta-rs's metric structs, field for field (`deny_unknown_fields`: a field a new delta-rs adds
// fails the tests instead of disappearing).

#[napi(object)]
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OptimizeMetrics {
    pub num_files_added: i64,
    pub num_files_removed: i64,
    pub files_added: FileSizeMetrics,
    pub files_removed: FileSizeMetrics,
    pub partitions_optimized: i64,
    pub num_batches: i64,
    pub total_considered_files: i64,
    pub total_files_skipped: i64,
    pub preserve_insertion_order: bool,
    /// `preserveLocality` (compaction) or `zOrder`.
    pub planner_strategy: String,
    pub preserved_stable_order: bool,
    pub max_bin_span_files: i64,
}

#[napi(object)]
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeleteMetrics {
    pub num_added_files: i64,
    pub num_removed_files: i64,
    /// Absent when delta-rs removed whole files without counting their rows.
    pub num_deleted_rows: Option<i64>,
    pub num_copied_rows: i64,
    pub execution_time_ms: i64,
    pub scan_time_ms: i64,
    pub rewrite_time_ms: i64,
}

#[napi(object)]
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateMetrics {
    pub num_added_files: i64,
    pub num_removed_files: i64,
    pub num_updated_rows: i64,
    pub num_copied_rows: i64,
    pub execution_time_ms: i64,
    pub scan_time_ms: i64,
}

#[napi(object)]
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MergeMetrics {
    pub num_source_rows: i64,
    pub num_target_rows_inserted: i64,
    pub num_target_rows_updated: i64,
    pub num_target_rows_deleted: i64,
    pub num_target_rows_copied: i64,
    pub num_output_rows: i64,
    pub num_target_files_scanned: i64,
    pub num_target_files_skipped_during_scan: i64,
    pub num_target_files_added: i64,
    pub num_target_files_removed: i64,
    pub execution_time_ms: i64,
    pub scan_time_ms: i64,
    pub rewrite_time_ms: i64,
}

/// delta-rs's metrics `m` as `T` (through their camelCase JSON, see [`metrics`]).
fn typed<T: serde::de::DeserializeOwned>(m: impl serde::Serialize) -> ZResult<T> {
    serde_json::from_value(metrics(m)?)
        .map_err(|e| ZError::new(Code::Internal, format!("delta-rs metrics: {e}")))
}

/// delta-rs's metrics with camelCase keys, as TypeScript users expect (num_files_added -> numFilesAdded).
/// Values delta-rs serialises as JSON text (optimize's `files_added`: '{"avg":1399.0,...}') are
/// the objects they hold.
fn metrics(m: impl serde::Serialize) -> ZResult<Value> {
    fn camel(key: &str) -> String {
        let mut out = String::with_capacity(key.len());
        let mut upper = false;
        for c in key.chars() {
            match (c, upper) {
                ('_', _) => upper = true,
                (c, true) => {
                    out.extend(c.to_uppercase());
                    upper = false;
                }
                (c, false) => out.push(c),
            }
        }
        out
    }
    Ok(match serde_json::to_value(m)? {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (camel(&k), object_text(v)))
                .collect(),
        ),
        other => other,
    })
}

fn object_text(v: Value) -> Value {
    match &v {
        Value::String(s) if s.starts_with('{') => serde_json::from_str::<Value>(s)
            .ok()
            .filter(Value::is_object)
            .map_or(v, |o| metrics(o).unwrap_or_default()),
        _ => v,
    }
}

impl Table {
    pub async fn optimize(
        &self,
        options: Option<OptimizeOptions>,
        op: Option<CommitProperties>,
    ) -> ZResult<OptimizeMetrics> {
        let o = options.unwrap_or_default();
        let props = props(&op)?;
        self.run(&op, async move |t| {
            let terms = match &o.filter {
                Some(f) => filter::to_partition_terms(&t.snapshot()?.snapshot().arrow_schema(), f)?,
                None => Vec::new(),
            };
            let literals = terms
                .iter()
                .map(|p| {
                    let value = if p.set {
                        FilterValue::Set(p.values.iter().map(String::as_str).collect())
                    } else {
                        FilterValue::Scalar(&p.values[0])
                    };
                    Ok(filter_literal(&p.column, p.op, value)?)
                })
                .collect::<ZResult<Vec<_>>>()?;
            let mut b = t
                .optimize()
                .with_filters(&literals)
                .with_commit_properties(props)
                .with_session_state(session::state()?);
            if let Some(cols) = o.z_order {
                b = b.with_type(OptimizeType::ZOrder(cols));
            }
            if let Some(size) = o.target_size {
                b = b.with_target_size(
                    u64::try_from(size)
                        .ok()
                        .and_then(NonZeroU64::new)
                        .ok_or_else(|| ZError::invalid("targetSize must be positive"))?,
                );
            }
            b = b.with_writer_properties(writer_properties(
                o.compression.as_deref(),
                None,
                o.writer_properties.as_ref(),
            )?);
            let (t, m) = b.await?;
            Ok((t, typed(m)?))
        })
        .await
    }

    pub async fn delete(
        &self,
        predicate: Option<String>,
        op: Option<CommitProperties>,
    ) -> ZResult<DeleteMetrics> {
        if let Some(p) = &predicate {
            whole_expression(p, "delete predicate")?;
        }
        let props = props(&op)?;
        self.run(&op, async move |t| {
            let mut b = t
                .delete()
                .with_commit_properties(props)
                .with_session_state(session::state()?);
            if let Some(p) = predicate {
                b = b.with_predicate(p);
            }
            let (t, m) = b.await?;
            Ok((t, typed(m)?))
        })
        .await
    }

    pub async fn update(
        &self,
        set: HashMap<String, String>,
        predicate: Option<String>,
        op: Option<CommitProperties>,
    ) -> ZResult<UpdateMetrics> {
        if set.is_empty() {
            return Err(ZError::invalid("update needs at least one column in set"));
        }
        let schema = self.table().snapshot()?.snapshot().arrow_schema();
        if let Some(c) = set.keys().find(|c| schema.field_with_name(c).is_err()) {
            return Err(ZError::invalid(format!("update: unknown column '{c}'")));
        }
        for (c, e) in &set {
            whole_expression(e, &format!("update value for '{c}'"))?;
        }
        if let Some(p) = &predicate {
            whole_expression(p, "update predicate")?;
        }
        let props = props(&op)?;
        self.run(&op, async move |t| {
            let mut b = t
                .update()
                .with_commit_properties(props)
                .with_session_state(session::state()?);
            for (c, e) in set {
                b = b.with_update(c, e);
            }
            if let Some(p) = predicate {
                b = b.with_predicate(p);
            }
            let (t, m) = b.await?;
            Ok((t, typed(m)?))
        })
        .await
    }

    pub async fn merge(
        &self,
        source: &[u8],
        spec: Value,
        op: Option<CommitProperties>,
    ) -> ZResult<MergeMetrics> {
        let spec: MergeSpec =
            serde_json::from_value(spec).map_err(|e| ZError::invalid(format!("merge: {e}")))?;
        whole_expression(&spec.predicate, "merge predicate")?;
        if spec.clauses.is_empty() {
            return Err(ZError::invalid(
                "merge needs at least one when…() clause before execute()",
            ));
        }
        let table_schema = self.table().snapshot()?.snapshot().arrow_schema();
        let target_alias = spec.target_alias.as_deref().unwrap_or("target");
        for c in &spec.clauses {
            if let Some(p) = &c.predicate {
                whole_expression(p, &format!("{} predicate", c.kind))?;
            }
            for (col, e) in &c.set {
                whole_expression(e, &format!("{} value for '{col}'", c.kind))?;
                // delta-rs 1.1 skips an update of a column the table does not have, without a word.
                let name = col
                    .strip_prefix(&format!("{target_alias}."))
                    .unwrap_or(col)
                    .trim_matches('`')
                    .trim_matches('"');
                if table_schema.field_with_name(name).is_err() {
                    return Err(ZError::invalid(format!(
                        "merge {}: the table has no column '{col}'",
                        c.kind
                    )));
                }
            }
        }
        let (schema, batches) = convert::decode_ipc(source)?;
        // No rows and so no columns (`merge([])`): the source has the table's columns, so the
        // predicate resolves and not-matched-by-source clauses see every target row unmatched.
        let schema = if batches.is_empty() && schema.fields().is_empty() {
            table_schema.clone()
        } else {
            schema
        };
        let source_columns: Vec<String> =
            schema.fields().iter().map(|f| f.name().clone()).collect();
        let ctx = session::context(None)?;
        let df = if batches.is_empty() {
            ctx.read_batch(deltalake::arrow::array::RecordBatch::new_empty(schema))?
        } else {
            ctx.read_batches(batches)?
        };
        let props = props(&op)?;
        self.run(&op, async move |t| {
            let mut b = t
                .merge(df, spec.predicate.as_str())
                .with_commit_properties(props)
                .with_session_state(Arc::new(ctx.state()));
            if let Some(a) = &spec.source_alias {
                b = b.with_source_alias(a);
            }
            if let Some(a) = &spec.target_alias {
                b = b.with_target_alias(a);
            }
            // The `…All` clauses: every source column into the target column of its name (as
            // Python's when_matched_update_all / when_not_matched_insert_all).
            let alias = spec.source_alias.as_deref().unwrap_or("source");
            let all = || -> ZResult<HashMap<String, String>> {
                source_columns
                    .iter()
                    .map(|name| match table_schema.field_with_name(name) {
                        Ok(_) => Ok((
                            name.clone(),
                            format!(
                                "\"{}\".\"{}\"",
                                alias.replace('"', "\"\""),
                                name.replace('"', "\"\"")
                            ),
                        )),
                        Err(_) => Err(ZError::new(
                            Code::SchemaMismatch,
                            format!("merge: the table has no column '{name}' of the source"),
                        )),
                    })
                    .collect()
            };
            for mut c in spec.clauses {
                let kind = match c.kind.as_str() {
                    "whenMatchedUpdateAll" => "whenMatchedUpdate",
                    "whenNotMatchedInsertAll" => "whenNotMatchedInsert",
                    other => other,
                };
                if kind != c.kind {
                    c.set = all()?;
                }
                let p = c.predicate.clone();
                b = match kind {
                    "whenMatchedUpdate" => b.when_matched_update(|mut u| {
                        if let Some(p) = p {
                            u = u.predicate(p)
                        }
                        c.set
                            .iter()
                            .fold(u, |u, (k, v)| u.update(k.as_str(), v.as_str()))
                    })?,
                    "whenMatchedDelete" => b.when_matched_delete(|d| match p {
                        Some(p) => d.predicate(p),
                        None => d,
                    })?,
                    "whenNotMatchedInsert" => b.when_not_matched_insert(|mut i| {
                        if let Some(p) = p {
                            i = i.predicate(p)
                        }
                        c.set
                            .iter()
                            .fold(i, |i, (k, v)| i.set(k.as_str(), v.as_str()))
                    })?,
                    "whenNotMatchedBySourceUpdate" => {
                        b.when_not_matched_by_source_update(|mut u| {
                            if let Some(p) = p {
                                u = u.predicate(p)
                            }
                            c.set
                                .iter()
                                .fold(u, |u, (k, v)| u.update(k.as_str(), v.as_str()))
                        })?
                    }
                    "whenNotMatchedBySourceDelete" => {
                        b.when_not_matched_by_source_delete(|d| match p {
                            Some(p) => d.predicate(p),
                            None => d,
                        })?
                    }
                    other => {
                        return Err(ZError::invalid(format!("unknown merge clause '{other}'")));
                    }
                };
            }
            let (t, m) = b.await?;
            Ok((t, typed(m)?))
        })
        .await
    }

    pub async fn add_constraint(
        &self,
        name: String,
        expression: String,
        op: Option<CommitProperties>,
    ) -> ZResult<()> {
        whole_expression(&expression, &format!("constraint '{name}'"))?;
        let props = props(&op)?;
        self.run(&op, async move |t| {
            Ok((
                t.add_constraint()
                    .with_constraint(name, expression)
                    .with_commit_properties(props)
                    .with_session_state(session::state()?)
                    .await?,
                (),
            ))
        })
        .await
    }

    /// Drop the CHECK constraint `name`; without `raise_if_not_exists` a name the table lacks is a
    /// no-op (no version is committed), as in Python `deltalake`. delta-rs builds this with DataFusion only.
    pub async fn drop_constraint(
        &self,
        name: String,
        raise_if_not_exists: bool,
        op: Option<CommitProperties>,
    ) -> ZResult<()> {
        // Names compare without case, as in Spark; delta-rs wants the one stored.
        let known = constraint_names(&self.table())?;
        let stored = match (
            known.iter().find(|k| k.eq_ignore_ascii_case(&name)),
            raise_if_not_exists,
        ) {
            (Some(stored), _) => stored.clone(),
            (None, true) => {
                let list = if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                };
                return Err(ZError::invalid(format!(
                    "the table has no constraint '{name}' (constraints: {list})"
                )));
            }
            (None, false) => return Ok(()),
        };
        let props = props(&op)?;
        self.run(&op, async move |t| {
            Ok((
                t.drop_constraints()
                    .with_constraint(stored)
                    .with_commit_properties(props)
                    .await?,
                (),
            ))
        })
        .await
    }

    pub async fn load_cdf(&self, options: Option<CdfOptions>) -> ZResult<Batches> {
        let o = options.unwrap_or_default();
        let t = self.table();
        let mut b = t.clone().scan_cdf();
        match (o.starting_version, o.starting_timestamp) {
            (Some(v), None) if v >= 0 => b = b.with_starting_version(v as u64),
            (None, Some(ms)) => b = b.with_starting_timestamp(to_datetime(ms)?),
            (None, None) => b = b.with_starting_version(0),
            _ => {
                return Err(ZError::invalid(
                    "give startingVersion (>= 0) or startingTimestamp",
                ));
            }
        }
        if let Some(v) = o.ending_version {
            b = b.with_ending_version(
                u64::try_from(v).map_err(|_| ZError::invalid("endingVersion must be >= 0"))?,
            );
        }
        if let Some(ms) = o.ending_timestamp {
            b = b.with_ending_timestamp(to_datetime(ms)?);
        }
        if o.allow_out_of_range == Some(true) {
            b = b.with_allow_out_of_range();
        } else if let Some(start) = o.starting_version
            && let Some(latest) = crate::storage::latest_version(&t).await
            && start > latest as i64
        {
            return Err(ZError::new(
                Code::VersionNotFound,
                format!(
                    "{}: startingVersion {start} is after the latest version {latest} (allowOutOfRange: true reads an empty feed)",
                    self.uri()
                ),
            ));
        }
        let ctx = session::context(None)?;
        t.update_datafusion_session(&ctx.state())?;
        let mut df = ctx.read_table(Arc::new(DeltaCdfTableProvider::try_new(b)?))?;
        if let Some(p) = &o.predicate {
            crate::sql::whole_expression(p, "loadCdf predicate")?;
            let expr = df
                .parse_sql_expr(p)
                .map_err(|e| ZError::invalid(format!("loadCdf predicate '{p}': {e}")))?;
            df = df.filter(expr)?;
        }
        if let Some(cols) = &o.columns {
            df = df.select(
                cols.iter()
                    .map(|c| Expr::Column(Column::new_unqualified(c)))
                    .collect::<Vec<_>>(),
            )?;
        }
        let stream = df.execute_stream().await?;
        Ok(batches(
            stream,
            o.batch_size.unwrap_or(DEFAULT_BATCH_SIZE).max(1) as usize,
        ))
    }
}

/// The names of `table`'s CHECK constraints (`delta.constraints.<name>` properties).
fn constraint_names(table: &deltalake::DeltaTable) -> ZResult<Vec<String>> {
    let state = table.snapshot()?;
    let mut names: Vec<String> = state
        .metadata()
        .configuration()
        .keys()
        .filter_map(|k| k.strip_prefix("delta.constraints."))
        .map(str::to_string)
        .collect();
    names.sort();
    Ok(names)
}

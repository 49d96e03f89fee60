//! File input adapters (CSV, NDJSON, Parquet; a file, a directory or a glob; local or cloud) as
//! streams of Arrow batches. Parsing is DataFusion's (arrow-rs readers underneath), which also
//! handles schema inference, globs, listing, projection and reading files concurrently.

use std::collections::HashMap;

use deltalake::DeltaTableBuilder;
use deltalake::datafusion::common::Column;
use deltalake::datafusion::datasource::file_format::options::{
    CsvReadOptions, JsonReadOptions, ParquetReadOptions,
};
use std::sync::Arc;

use deltalake::arrow::array::{Array, BooleanArray, RecordBatch, StringArray};
use deltalake::arrow::compute::kernels::boolean::not;
use deltalake::arrow::compute::{
    BatchCoalescer, CastOptions, cast_with_options, filter_record_batch,
};
use deltalake::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use deltalake::datafusion::common::ScalarValue;
use deltalake::datafusion::execution::SendableRecordBatchStream;
use deltalake::datafusion::logical_expr::{Expr, cast, lit, when};
use deltalake::datafusion::prelude::{DataFrame, SessionConfig, SessionContext};
use futures::StreamExt;
use napi::bindgen_prelude::Buffer;
use url::Url;

use crate::error::{ZError, ZResult, as_data_error};
use crate::read::{BatchStream, Batches, DEFAULT_BATCH_SIZE};
use crate::scan_datafusion::batches;
use crate::{convert, storage};

const BOM: char = '\u{feff}';

#[napi(object)]
#[derive(Default)]
pub struct FileSourceOptions {
    /// 'csv' | 'json' (newline-delimited) | 'parquet'
    pub format: String,
    pub storage_options: Option<HashMap<String, String>>,
    pub batch_size: Option<u32>,
    pub columns: Option<Vec<String>>,
    /// Explicit schema as an Arrow IPC stream (else inferred).
    pub schema: Option<Buffer>,
    /// Only files ending with this are read from a directory (default per format).
    pub file_extension: Option<String>,
    /// CSV: first line is a header (default true).
    pub header: Option<bool>,
    pub delimiter: Option<String>,
    pub quote: Option<String>,
    pub escape: Option<String>,
    /// CSV: values that mean null (exact matches), e.g. ['', 'NA', 'null'].
    pub null_values: Option<Vec<String>>,
    /// CSV: quoted values may contain newlines.
    pub newlines_in_values: Option<bool>,
    /// Rows read to infer a schema (default 1000).
    pub infer_rows: Option<u32>,
    /// CSV: instead of failing on a value that does not fit its column, hand such rows back as
    /// separate "rejected" batches (raw text plus `_error`, schema metadata `zoopipe.rejected`).
    pub reject_invalid: Option<bool>,
}

const REJECTED: &str = "zoopipe.rejected";

/// Cast the text columns of `raw` to `target`; rows with a value that does not cast become a
/// rejected batch (their raw text and the reason) instead of failing the whole read.
fn validate(raw: RecordBatch, target: &SchemaRef) -> ZResult<Vec<RecordBatch>> {
    let opts = CastOptions {
        safe: true,
        ..Default::default()
    };
    let n = raw.num_rows();
    let mut errors: Vec<Option<String>> = vec![None; n];
    let mut columns = Vec::with_capacity(target.fields().len());
    for (i, f) in target.fields().iter().enumerate() {
        let text = raw.column(i);
        let typed = cast_with_options(text, f.data_type(), &opts)?;
        if typed.null_count() > text.null_count() {
            let strings = text.as_any().downcast_ref::<StringArray>();
            for row in (0..n).filter(|&r| text.is_valid(r) && typed.is_null(r)) {
                let value = strings.map_or(String::new(), |s| s.value(row).to_string());
                errors[row].get_or_insert_with(|| {
                    format!(
                        "column '{}': '{}' is not a valid {}",
                        f.name(),
                        value,
                        f.data_type()
                    )
                });
            }
        }
        columns.push(typed);
    }
    let typed = RecordBatch::try_new(target.clone(), columns)?;
    if errors.iter().all(Option::is_none) {
        return Ok(vec![typed]);
    }
    let bad: BooleanArray = errors.iter().map(|e| Some(e.is_some())).collect();
    let good = filter_record_batch(&typed, &not(&bad)?)?;
    let rejected_raw = filter_record_batch(&raw, &bad)?;
    let reasons: StringArray = errors.into_iter().flatten().map(Some).collect();
    let mut fields: Vec<Field> = rejected_raw
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(Field::new("_error", DataType::Utf8, false));
    let schema = Arc::new(Schema::new_with_metadata(
        fields,
        HashMap::from([(REJECTED.to_string(), "true".to_string())]),
    ));
    let mut cols = rejected_raw.columns().to_vec();
    cols.push(Arc::new(reasons));
    Ok(vec![good, RecordBatch::try_new(schema, cols)?])
}

fn one_byte(what: &str, v: &Option<String>, default: u8) -> ZResult<u8> {
    match v.as_deref() {
        None => Ok(default),
        Some(s) if s.len() == 1 => Ok(s.as_bytes()[0]),
        Some(s) => Err(ZError::invalid(format!(
            "{what} must be a single ASCII character, got '{s}'"
        ))),
    }
}

fn null_regex(values: &[String]) -> String {
    // Exact matches only: escape every character that regex treats specially.
    let alts: Vec<String> = values
        .iter()
        .map(|v| {
            v.chars()
                .map(|c| {
                    if "\\.+*?()|[]{}^$#&-~".contains(c) {
                        format!("\\{c}")
                    } else {
                        c.to_string()
                    }
                })
                .collect()
        })
        .collect();
    format!("^({})$", alts.join("|"))
}

fn csv_options<'a>(
    o: &'a FileSourceOptions,
    ext: &'a str,
    infer: usize,
    schema: Option<&'a Schema>,
) -> ZResult<CsvReadOptions<'a>> {
    let mut opts = CsvReadOptions::new()
        .has_header(o.header.unwrap_or(true))
        .delimiter(one_byte("delimiter", &o.delimiter, b',')?)
        .quote(one_byte("quote", &o.quote, b'"')?)
        .file_extension(ext)
        .schema_infer_max_records(infer)
        .newlines_in_values(o.newlines_in_values.unwrap_or(false));
    if o.escape.is_some() {
        opts = opts.escape(one_byte("escape", &o.escape, b'\\')?);
    }
    if let Some(nulls) = &o.null_values {
        opts = opts.null_regex(Some(null_regex(nulls)));
    }
    if let Some(s) = schema {
        opts = opts.schema(s);
    }
    Ok(opts)
}

/// The URL DataFusion reads, registering the cloud store for its bucket when needed.
fn resolve(ctx: &SessionContext, path: &str, options: &HashMap<String, String>) -> ZResult<String> {
    let Ok(url) = Url::parse(path) else {
        return Ok(path.to_string());
    };
    if url.scheme() == "file" || url.scheme().len() == 1 {
        return Ok(path.to_string());
    }
    let root = Url::parse(&format!("{}://{}/", url.scheme(), url.authority()))
        .map_err(|e| ZError::invalid(e.to_string()))?;
    crate::storage::check_s3_endpoint(&root, options)?;
    let store = DeltaTableBuilder::from_url(root.clone())?
        .with_storage_options(options.clone())
        .build_storage()
        .map_err(|e| ZError::from(e).context(path))?
        .root_object_store(None);
    ctx.register_object_store(&root, store);
    Ok(path.to_string())
}

/// The rows to read, and (in reject mode) the typed schema they are validated against.
async fn frame(
    path: &str,
    o: &FileSourceOptions,
    options: &HashMap<String, String>,
) -> ZResult<(DataFrame, Option<SchemaRef>)> {
    let batch_size = o.batch_size.unwrap_or(DEFAULT_BATCH_SIZE).max(1) as usize;
    let mut config = SessionConfig::new().with_batch_size(decode_rows(&o.format, batch_size));
    // Spark's INT96 timestamps as microseconds, as Delta tables hold them (`session.rs` says why).
    config.options_mut().execution.parquet.coerce_int96 = Some("us".to_string());
    let ctx = SessionContext::new_with_config(config);
    crate::local::use_in(&ctx);
    let url = resolve(&ctx, path, options)?;
    let schema = match &o.schema {
        Some(ipc) => Some(convert::decode_ipc(ipc)?.0),
        None => None,
    };
    let infer = o.infer_rows.unwrap_or(1000) as usize;
    let mut target: Option<SchemaRef> = None;
    let df = match o.format.as_str() {
        "csv" => {
            let ext = o.file_extension.clone().unwrap_or_default();
            let base = |schema| csv_options(o, &ext, infer, schema);
            let typed = ctx.read_csv(url.clone(), base(schema.as_deref())?).await?;
            let reject = o.reject_invalid.unwrap_or(false);
            match &o.null_values {
                None if !reject => typed,
                // DataFusion uses null_regex only to infer the schema, not while parsing: read every
                // column as text and map the null markers to NULL before casting to the column type.
                // DataFusion uses null_regex only to infer the schema, not while parsing (and in reject
                // mode the values are validated here): read every column as text, map the null
                // markers to NULL, then cast to the column type.
                nulls => {
                    let typed_schema = typed.schema().as_arrow().clone();
                    let text = Schema::new(
                        typed_schema
                            .fields()
                            .iter()
                            .map(|f| Field::new(f.name(), DataType::Utf8, true))
                            .collect::<Vec<_>>(),
                    );
                    let raw = ctx.read_csv(url, base(Some(&text))?).await?;
                    let markers: Vec<Expr> =
                        nulls.iter().flatten().map(|v| lit(v.clone())).collect();
                    let exprs = typed_schema
                        .fields()
                        .iter()
                        .map(|f| {
                            let c = Expr::Column(Column::new_unqualified(f.name()));
                            let to = if reject {
                                DataType::Utf8
                            } else {
                                f.data_type().clone()
                            };
                            let null = lit(ScalarValue::try_from(&to)?);
                            let value = if reject {
                                c.clone()
                            } else {
                                cast(c.clone(), to)
                            };
                            let e = if markers.is_empty() {
                                value
                            } else {
                                when(c.in_list(markers.clone(), false), null).otherwise(value)?
                            };
                            Ok(e.alias(f.name()))
                        })
                        .collect::<ZResult<Vec<_>>>()?;
                    if reject {
                        target = Some(Arc::new(typed_schema));
                    }
                    raw.select(exprs)?
                }
            }
        }
        "json" => {
            let mut opts = JsonReadOptions::default()
                .file_extension(o.file_extension.as_deref().unwrap_or(""))
                .schema_infer_max_records(infer);
            if let Some(s) = &schema {
                opts = opts.schema(s.as_ref());
            }
            ctx.read_json(url, opts).await?
        }
        "parquet" => {
            let mut opts = ParquetReadOptions::default()
                .file_extension(o.file_extension.as_deref().unwrap_or(""));
            if let Some(s) = &schema {
                opts = opts.schema(s.as_ref());
            }
            ctx.read_parquet(url, opts).await?
        }
        other => {
            return Err(ZError::invalid(format!(
                "format must be 'csv', 'json' or 'parquet', got '{other}'"
            )));
        }
    };
    // A UTF-8 byte order mark is not part of the first column's name.
    let strip = |s: &SchemaRef| -> SchemaRef {
        Arc::new(Schema::new(
            s.fields()
                .iter()
                .map(|f| {
                    f.as_ref()
                        .clone()
                        .with_name(f.name().trim_start_matches(BOM))
                })
                .collect::<Vec<_>>(),
        ))
    };
    let target = target.map(|t| strip(&t));
    let names: Vec<String> = df
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let df = if names.first().is_some_and(|n| n.starts_with(BOM)) {
        let exprs = names
            .iter()
            .map(|n| Expr::Column(Column::new_unqualified(n)).alias(n.trim_start_matches(BOM)))
            .collect::<Vec<_>>();
        df.select(exprs)?
    } else {
        df
    };
    match &o.columns {
        Some(cols) => {
            let known: Vec<String> = df
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect();
            if let Some(c) = cols.iter().find(|c| !known.contains(c)) {
                return Err(ZError::invalid(format!(
                    "unknown column '{c}' (columns: {})",
                    known.join(", ")
                )));
            }
            let target = match target {
                Some(t) => Some(Arc::new(
                    t.project(
                        &cols
                            .iter()
                            .map(|c| t.index_of(c))
                            .collect::<Result<Vec<_>, _>>()?,
                    )?,
                )),
                None => None,
            };
            Ok((
                df.select(
                    cols.iter()
                        .map(|c| Expr::Column(Column::new_unqualified(c)))
                        .collect::<Vec<_>>(),
                )?,
                target,
            ))
        }
        None => Ok((df, target)),
    }
}

/// Rows a CSV / NDJSON decoder parses at a time, at most: its record buffers are sized by them, in
/// each partition of the scan, so text is parsed in batches of this size and joined into batches of
/// the asked `batchSize` ([`joined`]). Measured (release, the demo's 3 M-row CSV, 65,536-row
/// batches, 2 cores): reading alone peaked at 206-214 MB parsed whole, 189-195 MB joined, as fast;
/// the demo's Pipe (with the streamed-write budget of `options::InputBudget`) 387-393 -> 342-351 MB.
const DECODE_ROWS: usize = 16_384;

fn decode_rows(format: &str, batch_size: usize) -> usize {
    match format {
        "csv" | "json" => batch_size.min(DECODE_ROWS),
        _ => batch_size,
    }
}

/// `stream`'s batches joined into batches of `rows` rows (the last one shorter); an error ends it.
fn joined(stream: SendableRecordBatchStream, rows: usize) -> BatchStream {
    let coalescer = BatchCoalescer::new(stream.schema(), rows);
    futures::stream::unfold(Some((stream, coalescer, false)), |state| async move {
        let (mut stream, mut c, mut ended) = state?;
        loop {
            if let Some(batch) = c.next_completed_batch() {
                return Some((Ok(batch), Some((stream, c, ended))));
            }
            if ended {
                return None;
            }
            let pushed = match stream.next().await {
                Some(Ok(batch)) => c.push_batch(batch),
                Some(Err(e)) => return Some((Err(ZError::from(e)), None)),
                None => {
                    ended = true;
                    c.finish_buffered_batch()
                }
            };
            if let Err(e) = pushed {
                return Some((Err(ZError::from(e)), None));
            }
        }
    })
    .boxed()
}

/// Start streaming the rows of CSV / NDJSON / Parquet files.
pub async fn open(path: &str, options: &FileSourceOptions) -> ZResult<Batches> {
    let storage = storage::storage_options(path, options.storage_options.clone());
    let batch_size = options.batch_size.unwrap_or(DEFAULT_BATCH_SIZE).max(1) as usize;
    let (df, target) = frame(path, options, &storage)
        .await
        .map_err(|e| as_data_error(e).context(path))?;
    let stream = df
        .execute_stream()
        .await
        .map_err(|e| as_data_error(ZError::from(e)).context(path))?;
    let mut batches = if decode_rows(&options.format, batch_size) < batch_size {
        let schema = stream.schema();
        Batches::new(&schema, joined(stream, batch_size), batch_size)
    } else {
        batches(stream, batch_size)
    };
    if let Some(target) = target {
        let t = target.clone();
        batches = batches.with_rework(target, Box::new(move |raw| validate(raw, &t)));
    }
    batches.files = true;
    Ok(batches)
}

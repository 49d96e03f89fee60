//! The contract's filter — `[column, op, value]` triples joined with AND, as in delta-rs's
//! `partitions`/`filters`, or a list of such lists joined with OR (disjunctive normal form, as
//! Python `deltalake`'s `filters`) — checked once into `Term`s, then built for the engine at hand: a
//! DataFusion expression (the full build's DML, and its reads of filters only DataFusion evaluates) or a
//! kernel predicate (every other read). Either is used three ways:
//! partition pruning and file skipping by stats, and exact row filtering.

use deltalake::arrow::datatypes::{DataType, Schema};
use serde_json::Value;

use crate::error::{ZError, ZResult};

const OPS: &str = "= != < <= > >= in, not in";

/// The comparison of a term. On float columns `>` and `>=` also exclude NaN: arrow-rs and
/// DataFusion compare floats in total order, where NaN is above every number, so `x > 2` held for
/// NaN rows, but only in files whose stats (which leave NaN out) did not prune them first: whether
/// a NaN matched depended on how the rows were laid out in files. NaN now matches no range, in every
/// file, as IEEE 754 and pyarrow compare (`<` and `<=` already did not match it). And `!=` and
/// `not in` match NaN in every file: the stats leave NaN out, so they cannot be used to skip there.
#[derive(Clone, Copy, PartialEq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
    IsNull,
    IsNotNull,
}

/// One checked triple. `values` holds the non-null values; for `in`/`not in`, `with_null` says the
/// list also held null, which matches null values (as delta-rs partition filters do).
pub struct Term<'a> {
    pub at: usize,
    pub name: &'a str,
    pub data_type: DataType,
    pub op: Op,
    pub values: Vec<Value>,
    pub with_null: bool,
}

impl Term<'_> {
    /// A float column, where NaN needs care: see `Op`.
    pub fn is_float(&self) -> bool {
        matches!(self.data_type, DataType::Float64 | DataType::Float32)
    }

    /// The bytes of a binary value (a JS `Uint8Array` arrives as `{"$bytes": "<hex>"}`).
    pub fn bytes(&self, value: &Value) -> ZResult<Vec<u8>> {
        value
            .get(BYTES)
            .and_then(Value::as_str)
            .and_then(|h| hex::decode(h).ok())
            .ok_or_else(|| self.not_comparable(value))
    }

    pub fn not_comparable(&self, value: &Value) -> ZError {
        ZError::invalid(format!(
            "filter[{}]: value {value} cannot be compared with column '{}' of type {}",
            self.at, self.name, self.data_type
        ))
    }
}

/// Every name must be a column of `schema`, once.
pub fn check_columns(schema: &Schema, columns: &[String]) -> ZResult<()> {
    if let Some((i, j, name)) = columns.iter().enumerate().find_map(|(j, name)| {
        columns[..j]
            .iter()
            .position(|c| c == name)
            .map(|i| (i, j, name))
    }) {
        return Err(ZError::invalid(format!(
            "column '{name}' is listed twice in columns (at {i} and {j})"
        )));
    }
    match columns
        .iter()
        .find(|name| schema.field_with_name(name).is_err())
    {
        Some(name) => {
            let known: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            Err(ZError::invalid(format!(
                "unknown column '{name}' in columns (table columns: {})",
                known.join(", ")
            )))
        }
        None => Ok(()),
    }
}

fn term<'a>(schema: &Schema, t: &'a Value, at: usize) -> ZResult<Term<'a>> {
    let parts = t.as_array().filter(|a| a.len() == 3).ok_or_else(|| {
        ZError::invalid(format!(
            "filter[{at}] must be a [column, op, value] triple, got {t}"
        ))
    })?;
    let name = parts[0].as_str().ok_or_else(|| {
        ZError::invalid(format!(
            "filter[{at}]: column must be a string, got {}",
            parts[0]
        ))
    })?;
    let op = parts[1].as_str().ok_or_else(|| {
        ZError::invalid(format!(
            "filter[{at}]: operator must be a string, got {}",
            parts[1]
        ))
    })?;
    let field = schema.field_with_name(name).map_err(|_| {
        let known: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        ZError::invalid(format!(
            "filter[{at}]: unknown column '{name}' (table columns: {})",
            known.join(", ")
        ))
    })?;
    let value = &parts[2];
    let data_type = field.data_type();
    let scalar = |v: &Value| match v {
        Value::Object(o) if o.len() == 1 && o.contains_key(BYTES) => Ok(()),
        Value::Array(_) | Value::Object(_) => Err(ZError::invalid(format!(
            "filter[{at}]: value for '{name}' must be a scalar, got {v}"
        ))),
        _ => Ok(()),
    };
    let time = |v: &Value| {
        normalise(v, data_type).ok_or_else(|| {
            let hint = if is_time(data_type) && v.is_number() { " (a number there is whole epoch milliseconds)" } else { "" };
            ZError::invalid(format!("filter[{at}]: value {v} cannot be compared with column '{name}' of type {data_type}{hint}"))
        })
    };
    let (op, values, with_null) = match op {
        "in" | "not in" => {
            let list = value.as_array().ok_or_else(|| {
                ZError::invalid(format!(
                    "filter[{at}]: '{op}' needs an array of values, got {value}"
                ))
            })?;
            list.iter().try_for_each(scalar)?;
            let values = list
                .iter()
                .filter(|v| !v.is_null())
                .map(time)
                .collect::<ZResult<_>>()?;
            (
                if op == "in" { Op::In } else { Op::NotIn },
                values,
                list.iter().any(Value::is_null),
            )
        }
        "=" | "==" if value.is_null() => (Op::IsNull, vec![], false),
        "!=" if value.is_null() => (Op::IsNotNull, vec![], false),
        "=" | "==" | "!=" | "<" | "<=" | ">" | ">=" => {
            if value.is_null() {
                return Err(ZError::invalid(format!(
                    "filter[{at}]: '{op}' cannot compare with null (use '=' or '!=')"
                )));
            }
            scalar(value)?;
            let op = match op {
                "=" | "==" => Op::Eq,
                "!=" => Op::Ne,
                "<" => Op::Lt,
                "<=" => Op::Le,
                ">" => Op::Gt,
                _ => Op::Ge,
            };
            (op, vec![time(value)?], false)
        }
        other => {
            return Err(ZError::invalid(format!(
                "filter[{at}]: unknown operator '{other}' (expected one of {OPS})"
            )));
        }
    };
    // A struct, list or map against a scalar: the slim build refused it, DataFusion's coercion
    // failed with a planner error for a struct and compared a list with 'q' as the list ['q'].
    if data_type.is_nested() && !matches!(op, Op::IsNull | Op::IsNotNull) {
        return Err(ZError::invalid(format!(
            "filter[{at}]: column '{name}' is {data_type}: filters compare values of scalar columns ('=' and '!=' null work on any column)"
        )));
    }
    Ok(Term {
        at,
        name,
        data_type: data_type.clone(),
        op,
        values,
        with_null,
    })
}

/// JS numbers arrive as doubles: a whole one within ±2^53 becomes an integer, so it casts exactly to
/// the column's type. A number against a timestamp or date column is the instant JS means by it,
/// epoch milliseconds (as `Date.now()`, `getTime()` and row objects have it): it becomes the ISO
/// text `Date` values already cross as, so both compare the same. Booleans compare only with
/// boolean columns, numbers only with others (Arrow's casts would make true 1 and 5 true). `None`
/// for a value that cannot be compared so, or a number on a time column that is not whole
/// milliseconds. Other values pass unchanged.
fn normalise(value: &Value, data_type: &DataType) -> Option<Value> {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    // Bytes compare only with binary columns (text does too: its UTF-8 bytes).
    if value.get(BYTES).is_some() && *data_type != DataType::Binary {
        return None;
    }
    if matches!(value, Value::Bool(_) | Value::Number(_))
        && value.is_boolean() != (*data_type == DataType::Boolean)
    {
        return None;
    }
    let Value::Number(n) = value else {
        return Some(value.clone());
    };
    let whole = n.as_i64().or_else(|| {
        n.as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() <= EXACT)
            .map(|f| f as i64)
    });
    if is_time(data_type) {
        let at = chrono::DateTime::from_timestamp_millis(whole?)?;
        return Some(Value::String(
            at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        ));
    }
    Some(whole.map_or_else(|| value.clone(), Value::from))
}

/// The key a JS `Uint8Array` filter value crosses under, as hex (`lib/options.js`).
const BYTES: &str = "$bytes";

fn is_time(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Timestamp(..) | DataType::Date32 | DataType::Date64
    )
}

/// Whether `filter` is a list of AND-lists (`[[a], [b, c]]` = a OR (b AND c)) rather than one.
fn is_dnf(filter: &Value) -> bool {
    filter.as_array().is_some_and(|groups| {
        !groups.is_empty()
            && groups.iter().all(|g| {
                g.as_array()
                    .is_some_and(|terms| terms.iter().all(Value::is_array))
            })
            && groups
                .iter()
                .any(|g| g.as_array().is_some_and(|t| !t.is_empty()))
    })
}

/// The AND-lists of a filter whose OR it is: one for a plain list of triples.
pub fn groups(filter: &Value) -> ZResult<Vec<&Value>> {
    if !is_dnf(filter) {
        return Ok(vec![filter]);
    }
    let groups: Vec<&Value> = filter.as_array().into_iter().flatten().collect();
    if let Some(i) = groups
        .iter()
        .position(|g| g.as_array().is_some_and(Vec::is_empty))
    {
        return Err(ZError::invalid(format!(
            "filter[{i}] is an empty AND-list: every list of an OR needs a [column, op, value] triple"
        )));
    }
    Ok(groups)
}

/// Refuses an OR of AND-lists where only one AND-list is taken (optimize's partition filter).
#[cfg(feature = "datafusion")]
pub fn only_and(filter: &Value, what: &str) -> ZResult<()> {
    if is_dnf(filter) {
        return Err(ZError::invalid(format!(
            "{what} takes [column, op, value] triples joined with AND, not a list of them"
        )));
    }
    Ok(())
}

/// The checked terms of a filter (empty for `[]`).
pub fn terms<'a>(schema: &Schema, filter: &'a Value) -> ZResult<Vec<Term<'a>>> {
    let list = filter.as_array().ok_or_else(|| {
        ZError::invalid(format!(
            "filter must be an array of [column, op, value] triples, got {filter}"
        ))
    })?;
    list.iter()
        .enumerate()
        .map(|(i, t)| term(schema, t, i))
        .collect()
}

#[cfg(feature = "datafusion")]
mod datafusion {
    use deltalake::arrow::datatypes::{DataType, Schema};
    use deltalake::datafusion::common::{Column, ScalarValue};
    use deltalake::datafusion::functions::math::expr_fn::isnan;
    use deltalake::datafusion::logical_expr::{Expr, lit};
    use serde_json::Value;

    use super::{Op, Term, groups, terms};
    use crate::error::{ZError, ZResult};

    /// A JSON value as a literal of the column's type where that is lossless; otherwise the natural
    /// literal, which DataFusion's type coercion compares correctly (e.g. `int_col < 1.5`).
    fn literal(t: &Term, value: &Value) -> ZResult<Expr> {
        let natural = match value {
            Value::Bool(b) => ScalarValue::Boolean(Some(*b)),
            Value::Number(n) => match n.as_i64() {
                Some(i) => ScalarValue::Int64(Some(i)),
                None => ScalarValue::Float64(n.as_f64()),
            },
            Value::String(s) => ScalarValue::Utf8(Some(s.clone())),
            Value::Object(_) => ScalarValue::Binary(Some(t.bytes(value)?)),
            _ => ScalarValue::Null,
        };
        // Text casts to every type ('true' to a boolean, as delta-rs partition filters write it);
        // `normalise` kept booleans to boolean columns and numbers to the others.
        let should_cast = match natural {
            ScalarValue::Utf8(_) | ScalarValue::Int64(_) => true,
            // DataFusion's coercion compares a fraction with a number column (`int_col < 1.5`).
            ScalarValue::Float64(_) => !t.data_type.is_numeric(),
            _ => false,
        };
        if !should_cast {
            return Ok(lit(natural));
        }
        match natural.cast_to(&t.data_type) {
            Ok(v) if !v.is_null() => Ok(lit(v)),
            _ if matches!(natural, ScalarValue::Int64(_)) => Ok(lit(natural)),
            _ => Err(t.not_comparable(value)),
        }
    }

    fn expr(t: &Term) -> ZResult<Expr> {
        let e = comparison(t)?;
        // NaN != v: see `Op` (the `isnan` keeps stats-based pruning off this term).
        Ok(match t.op {
            Op::Ne | Op::NotIn if t.is_float() => {
                e.or(isnan(Expr::Column(Column::new_unqualified(t.name))))
            }
            _ => e,
        })
    }

    fn comparison(t: &Term) -> ZResult<Expr> {
        let col = Expr::Column(Column::new_unqualified(t.name));
        let mut values = t
            .values
            .iter()
            .map(|v| literal(t, v))
            .collect::<ZResult<Vec<_>>>()?;
        Ok(match t.op {
            Op::IsNull => col.is_null(),
            Op::IsNotNull => col.is_not_null(),
            Op::In if t.with_null => col.clone().in_list(values, false).or(col.is_null()),
            Op::NotIn if t.with_null => col.clone().in_list(values, true).and(col.is_not_null()),
            Op::In | Op::NotIn => col.in_list(values, t.op == Op::NotIn),
            op => {
                let v = values.remove(0);
                match op {
                    Op::Eq => col.eq(v),
                    Op::Ne => col.not_eq(v),
                    Op::Lt => col.lt(v),
                    Op::Le => col.lt_eq(v),
                    // NaN matches no range: see `Op`.
                    Op::Gt | Op::Ge if t.is_float() => {
                        let cmp = if op == Op::Gt {
                            col.clone().gt(v)
                        } else {
                            col.clone().gt_eq(v)
                        };
                        cmp.and(Expr::Not(Box::new(isnan(col))))
                    }
                    Op::Gt => col.gt(v),
                    _ => col.gt_eq(v),
                }
            }
        })
    }

    /// One term as delta-rs's partition filters take it (optimize's `filter`): the operator and each
    /// value as the text of a partition value of the column (`""` is null), converted by the same
    /// cast as the expressions, so a `Date` or epoch-ms number on a date column is its day.
    pub struct PartitionTerm {
        pub column: String,
        pub op: &'static str,
        pub values: Vec<String>,
        pub set: bool,
    }

    fn partition_text(t: &Term, value: &Value) -> ZResult<String> {
        let Expr::Literal(v, _) = literal(t, value)? else {
            return Err(t.not_comparable(value));
        };
        let micros = |us: i64| {
            chrono::DateTime::from_timestamp_micros(us)
                .map(|at| at.naive_utc().format("%Y-%m-%d %H:%M:%S%.6f").to_string())
        };
        if t.data_type == DataType::Binary {
            // delta-rs writes binary partition values as escaped text that it does not read back (see
            // `conform::check_new_partitioning`): no text of ours would match them.
            return Err(t.not_comparable(value));
        }
        let text = match v.cast_to(&t.data_type) {
            Ok(ScalarValue::Date32(Some(days))) => {
                chrono::DateTime::from_timestamp(i64::from(days) * 86_400, 0)
                    .map(|at| at.format("%Y-%m-%d").to_string())
            }
            Ok(ScalarValue::TimestampMicrosecond(Some(us), _)) => micros(us),
            Ok(ScalarValue::Utf8(Some(s))) => Some(s),
            Ok(v) if !v.is_null() => Some(v.to_string()),
            _ => None,
        };
        text.ok_or_else(|| t.not_comparable(value))
    }

    /// The filter as partition terms (see [`PartitionTerm`]). They are ANDed, so `not in` a list
    /// with null adds `!= null`; `in` a list with null cannot be said and is refused.
    pub fn to_partition_terms(schema: &Schema, filter: &Value) -> ZResult<Vec<PartitionTerm>> {
        super::only_and(filter, "optimize's filter")?;
        let mut out = Vec::new();
        for t in terms(schema, filter)? {
            let values = t
                .values
                .iter()
                .map(|v| partition_text(&t, v))
                .collect::<ZResult<Vec<_>>>()?;
            let column = t.name.to_string();
            let (op, set) = match t.op {
                Op::IsNull | Op::Eq => ("=", false),
                Op::IsNotNull | Op::Ne => ("!=", false),
                Op::Lt => ("<", false),
                Op::Le => ("<=", false),
                Op::Gt => (">", false),
                Op::Ge => (">=", false),
                Op::In if t.with_null => {
                    return Err(ZError::invalid(format!(
                        "filter[{}]: this filter cannot match null inside 'in' (use ['{column}', '=', null] apart)",
                        t.at
                    )));
                }
                Op::In => ("in", true),
                Op::NotIn => ("not in", true),
            };
            if t.with_null {
                out.push(PartitionTerm {
                    column: column.clone(),
                    op: "!=",
                    values: vec![String::new()],
                    set: false,
                });
            }
            // A null partition value is the empty text.
            let values = if matches!(t.op, Op::IsNull | Op::IsNotNull) {
                vec![String::new()]
            } else {
                values
            };
            out.push(PartitionTerm {
                column,
                op,
                values,
                set,
            });
        }
        Ok(out)
    }

    /// The filter as a DataFusion expression (the OR of its AND-lists), or `None` for an empty one.
    pub fn to_expr(schema: &Schema, filter: &Value) -> ZResult<Option<Expr>> {
        let mut ors = Vec::new();
        for group in groups(filter)? {
            let mut exprs = terms(schema, group)?.into_iter().map(|t| expr(&t));
            if let Some(first) = exprs.next() {
                ors.push(exprs.try_fold(first?, |acc, e| Ok::<_, ZError>(acc.and(e?)))?);
            }
        }
        Ok(ors.into_iter().reduce(|a, b| a.or(b)))
    }
}
#[cfg(feature = "datafusion")]
pub use datafusion::{to_expr, to_partition_terms};

mod kernel {
    use std::sync::Arc;

    use delta_kernel::expressions::{Expression, Predicate, Scalar};
    use deltalake::arrow::array::{
        Array, ArrayRef, AsArray, BinaryArray, BooleanArray, Float64Array, Int64Array, StringArray,
    };
    use deltalake::arrow::compute::{CastOptions, cast_with_options};
    use deltalake::arrow::datatypes::{self as arrow, DataType, Schema, TimeUnit};
    use serde_json::Value;

    use super::{Op, Term, groups, terms};
    use crate::error::ZResult;

    /// The value at 0 of a one-element array of a column's type, as a kernel scalar.
    fn scalar(a: &ArrayRef) -> Option<Scalar> {
        Some(match a.data_type() {
            DataType::Int8 => Scalar::Byte(a.as_primitive::<arrow::Int8Type>().value(0)),
            DataType::Int16 => Scalar::Short(a.as_primitive::<arrow::Int16Type>().value(0)),
            DataType::Int32 => Scalar::Integer(a.as_primitive::<arrow::Int32Type>().value(0)),
            DataType::Int64 => Scalar::Long(a.as_primitive::<arrow::Int64Type>().value(0)),
            DataType::Float32 => Scalar::Float(a.as_primitive::<arrow::Float32Type>().value(0)),
            DataType::Float64 => Scalar::Double(a.as_primitive::<arrow::Float64Type>().value(0)),
            DataType::Utf8 => Scalar::String(a.as_string::<i32>().value(0).to_string()),
            DataType::Boolean => Scalar::Boolean(a.as_boolean().value(0)),
            DataType::Date32 => Scalar::Date(a.as_primitive::<arrow::Date32Type>().value(0)),
            DataType::Timestamp(TimeUnit::Microsecond, Some(_)) => {
                Scalar::Timestamp(a.as_primitive::<arrow::TimestampMicrosecondType>().value(0))
            }
            DataType::Timestamp(TimeUnit::Microsecond, None) => {
                Scalar::TimestampNtz(a.as_primitive::<arrow::TimestampMicrosecondType>().value(0))
            }
            DataType::Decimal128(p, s) => Scalar::decimal(
                a.as_primitive::<arrow::Decimal128Type>().value(0),
                *p,
                *s as u8,
            )
            .ok()?,
            DataType::Binary => Scalar::Binary(a.as_binary::<i32>().value(0).to_vec()),
            _ => return None,
        })
    }

    /// A JSON value as a scalar of the column's type, converted by the same Arrow cast the full
    /// build's DataFusion literals use (ISO dates and timestamps, decimals; numbers against time
    /// columns arrive as ISO text, see `normalise`). Unlike DataFusion there is no numeric coercion: a fractional number against
    /// an integer column (`int_col < 1.5`) is refused rather than truncated.
    fn literal(t: &Term, value: &Value) -> ZResult<Scalar> {
        let natural: ArrayRef = match value {
            Value::Bool(b) => Arc::new(BooleanArray::from(vec![*b])),
            Value::Number(n) => match n.as_i64() {
                Some(i) => Arc::new(Int64Array::from(vec![i])),
                None if t.data_type.is_integer() => return Err(t.not_comparable(value)),
                None => Arc::new(Float64Array::from(vec![n.as_f64().unwrap_or(f64::NAN)])),
            },
            Value::String(s) => Arc::new(StringArray::from(vec![s.as_str()])),
            Value::Object(_) => Arc::new(BinaryArray::from_vec(vec![t.bytes(value)?.as_slice()])),
            _ => return Err(t.not_comparable(value)),
        };
        let cast = cast_with_options(
            &natural,
            &t.data_type,
            &CastOptions {
                safe: false,
                ..Default::default()
            },
        );
        match cast {
            Ok(a) if !a.is_null(0) && !rounded(&natural, &a) => {
                scalar(&a).ok_or_else(|| t.not_comparable(value))
            }
            _ => Err(t.not_comparable(value)),
        }
    }

    /// Whether the cast to a decimal column's type rounded `natural` (1.234 for decimal(10,2) is
    /// 1.23, which `d = 1.234` then matched): refused as a fraction against an integer column is.
    fn rounded(natural: &ArrayRef, cast: &ArrayRef) -> bool {
        if !matches!(cast.data_type(), DataType::Decimal128(..)) {
            return false;
        }
        let double = |a: &ArrayRef| {
            cast_with_options(a, &DataType::Float64, &CastOptions::default())
                .ok()
                .map(|d| d.as_primitive::<arrow::Float64Type>().value(0))
        };
        double(natural) != double(cast)
    }

    fn predicate(t: &Term) -> ZResult<Predicate> {
        let col = || Expression::column([t.name]);
        let values = t
            .values
            .iter()
            .map(|v| literal(t, v))
            .collect::<ZResult<Vec<_>>>()?;
        Ok(match t.op {
            Op::IsNull => Predicate::is_null(col()),
            Op::IsNotNull => Predicate::is_not_null(col()),
            Op::In => {
                let any = Predicate::or_from(values.into_iter().map(|v| Predicate::eq(col(), v)));
                if t.with_null {
                    Predicate::or(any, Predicate::is_null(col()))
                } else {
                    any
                }
            }
            Op::NotIn => {
                let none = Predicate::and_from(values.into_iter().map(|v| Predicate::ne(col(), v)));
                if t.with_null {
                    Predicate::and(none, Predicate::is_not_null(col()))
                } else {
                    none
                }
            }
            op => {
                let v = values
                    .into_iter()
                    .next()
                    .expect("comparison terms carry one value");
                let nan = match t.data_type {
                    DataType::Float64 => Some(Scalar::Double(f64::NAN)),
                    DataType::Float32 => Some(Scalar::Float(f32::NAN)),
                    _ => None,
                };
                match op {
                    Op::Eq => Predicate::eq(col(), v),
                    Op::Ne => Predicate::ne(col(), v),
                    Op::Lt => Predicate::lt(col(), v),
                    Op::Le => Predicate::le(col(), v),
                    // NaN matches no range: see `Op`.
                    Op::Gt | Op::Ge if let Some(nan) = nan => {
                        let cmp = if op == Op::Gt {
                            Predicate::gt(col(), v)
                        } else {
                            Predicate::ge(col(), v)
                        };
                        Predicate::and(cmp, Predicate::ne(col(), nan))
                    }
                    Op::Gt => Predicate::gt(col(), v),
                    _ => Predicate::ge(col(), v),
                }
            }
        })
    }

    /// The filter for the kernel scan: the exact predicate (every row is checked against it), the one
    /// that may skip files and row groups by their stats (`None` if none), and the columns it reads.
    pub struct KernelFilter {
        pub exact: Predicate,
        pub skipping: Option<Predicate>,
        pub columns: Vec<String>,
    }

    /// The filter (see [`KernelFilter`]): the OR of its AND-lists, or `None` for an empty one.
    pub fn to_predicate(schema: &Schema, filter: &Value) -> ZResult<Option<KernelFilter>> {
        let mut parts = Vec::new();
        for group in groups(filter)? {
            if let Some(p) = and_predicate(schema, group)? {
                parts.push(p);
            }
        }
        if parts.len() <= 1 {
            return Ok(parts.pop());
        }
        let mut columns: Vec<String> = Vec::new();
        for c in parts.iter().flat_map(|p| p.columns.iter()) {
            if !columns.contains(c) {
                columns.push(c.clone());
            }
        }
        // An AND-list that cannot skip may match in any file: then the OR skips nothing.
        let skipping = parts
            .iter()
            .map(|p| p.skipping.clone())
            .collect::<Option<Vec<_>>>()
            .map(Predicate::or_from);
        Ok(Some(KernelFilter {
            exact: Predicate::or_from(parts.into_iter().map(|p| p.exact)),
            skipping,
            columns,
        }))
    }

    /// The AND of one list's terms, or `None` for an empty list. Float `!=` and `not in` terms do
    /// not skip: the stats leave NaN out, so a file of [1.5, NaN] looks all 1.5 to `x != 1.5` and
    /// its NaN row (a match) was skipped with it. See `Op`. Nor do the null tests of struct, list
    /// and map columns.
    fn and_predicate(schema: &Schema, filter: &Value) -> ZResult<Option<KernelFilter>> {
        let terms = terms(schema, filter)?;
        if terms.is_empty() {
            return Ok(None);
        }
        let columns = terms.iter().map(|t| t.name.to_string()).collect();
        let preds = terms.iter().map(predicate).collect::<ZResult<Vec<_>>>()?;
        // The kernel's scan resolves only leaf columns: a struct column's `IS NULL` failed with
        // "Predicate references unknown column"; such terms are checked row by row only.
        let may_skip = |t: &Term| {
            let nan_sensitive = matches!(t.op, Op::Ne | Op::NotIn) && t.is_float();
            !nan_sensitive && !t.data_type.is_nested()
        };
        let skipping: Vec<Predicate> = terms
            .iter()
            .zip(&preds)
            .filter(|(t, _)| may_skip(t))
            .map(|(_, p)| p.clone())
            .collect();
        let skipping = (!skipping.is_empty()).then(|| Predicate::and_from(skipping));
        Ok(Some(KernelFilter {
            exact: Predicate::and_from(preds),
            skipping,
            columns,
        }))
    }
}
pub use kernel::to_predicate;

#[cfg(test)]
mod tests {
    use super::*;
    use deltalake::arrow::datatypes::{Field, TimeUnit};
    use serde_json::json;

    fn schema() -> Schema {
        Schema::new(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("ok", DataType::Boolean, true),
            Field::new(
                "at",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                true,
            ),
            Field::new("blob", DataType::Binary, true),
            Field::new("name", DataType::Utf8, true),
        ])
    }

    #[test]
    fn a_list_of_and_lists_is_their_or_and_a_list_of_triples_one_and() {
        let triples = json!([["id", "=", 1], ["ok", "=", true]]);
        assert_eq!(groups(&triples).unwrap().len(), 1);
        let dnf = json!([[["id", "=", 1]], [["id", "=", 2], ["ok", "=", true]]]);
        let g = groups(&dnf).unwrap();
        assert_eq!(g.len(), 2);
        assert_eq!(terms(&schema(), g[1]).unwrap().len(), 2);
        assert!(groups(&json!([[["id", "=", 1]], []])).is_err());
        assert_eq!(groups(&json!([])).unwrap().len(), 1);
        #[cfg(feature = "datafusion")]
        {
            assert!(only_and(&dnf, "x").is_err());
            assert!(only_and(&triples, "x").is_ok());
        }
    }

    #[test]
    fn whole_js_numbers_become_integers_and_others_stay() {
        assert_eq!(normalise(&json!(3.0), &DataType::Int64), Some(json!(3)));
        assert_eq!(normalise(&json!(2.5), &DataType::Float64), Some(json!(2.5)));
        // Past 2^53 a double is not an exact integer: left as it came.
        assert_eq!(normalise(&json!(1e17), &DataType::Int64), Some(json!(1e17)));
        assert_eq!(normalise(&json!("x"), &DataType::Utf8), Some(json!("x")));
    }

    #[test]
    fn numbers_on_time_columns_are_epoch_milliseconds() {
        let ts = DataType::Timestamp(TimeUnit::Microsecond, None);
        assert_eq!(
            normalise(&json!(0), &ts),
            Some(json!("1970-01-01T00:00:00.000Z"))
        );
        assert_eq!(normalise(&json!(1.5), &ts), None, "not whole milliseconds");
    }

    #[test]
    fn booleans_numbers_and_bytes_compare_only_with_their_kind() {
        assert_eq!(normalise(&json!(true), &DataType::Int64), None);
        assert_eq!(normalise(&json!(1), &DataType::Boolean), None);
        assert_eq!(
            normalise(&json!(true), &DataType::Boolean),
            Some(json!(true))
        );
        assert_eq!(normalise(&json!({ "$bytes": "00" }), &DataType::Utf8), None);
        assert!(normalise(&json!({ "$bytes": "00" }), &DataType::Binary).is_some());
    }

    #[test]
    fn terms_check_shape_columns_and_values() {
        let s = schema();
        let ok = json!([
            ["id", ">=", 1.0],
            ["name", "in", ["a", null]],
            ["ok", "=", true]
        ]);
        let t = terms(&s, &ok).unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(t[0].values, vec![json!(1)]);
        assert!(t[1].with_null && t[1].values == vec![json!("a")]);
        let bad = |f: serde_json::Value| terms(&s, &f).map(|_| ()).unwrap_err().message;
        assert!(bad(json!([["id", ">="]])).contains("triple"));
        assert!(bad(json!([["nope", "=", 1]])).contains("unknown column 'nope'"));
        assert!(bad(json!([["id", "=", [1]]])).contains("scalar"));
        assert!(bad(json!([["id", "=", true]])).contains("id"));
        assert!(bad(json!({ "id": 1 })).contains("array"));
        assert!(terms(&s, &json!([])).unwrap().is_empty());
    }
}

//! The contract's filter — `[column, op, value]` triples joined with AND, as in delta-rs's
//! `partitions`/`filters` — checked once into `Term`s, then built for the engine at hand: a
//! DataFusion expression (full build) or a kernel predicate (slim build). Either is used three ways:
//! partition pruning and file skipping by stats, and exact row filtering.

use deltalake::arrow::datatypes::{DataType, Schema};
use serde_json::Value;

use crate::error::{ZError, ZResult};

const OPS: &str = "= != < <= > >= in, not in";

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
    pub values: Vec<&'a Value>,
    pub with_null: bool,
}

impl Term<'_> {
    pub fn not_comparable(&self, value: &Value) -> ZError {
        ZError::invalid(format!("filter[{}]: value {value} cannot be compared with column '{}' of type {}", self.at, self.name, self.data_type))
    }
}

/// Every name must be a column of `schema`.
pub fn check_columns(schema: &Schema, columns: &[String]) -> ZResult<()> {
    match columns.iter().find(|name| schema.field_with_name(name).is_err()) {
        Some(name) => {
            let known: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            Err(ZError::invalid(format!("unknown column '{name}' in columns (table columns: {})", known.join(", "))))
        }
        None => Ok(()),
    }
}

fn term<'a>(schema: &Schema, t: &'a Value, at: usize) -> ZResult<Term<'a>> {
    let parts = t
        .as_array()
        .filter(|a| a.len() == 3)
        .ok_or_else(|| ZError::invalid(format!("filter[{at}] must be a [column, op, value] triple, got {t}")))?;
    let name = parts[0]
        .as_str()
        .ok_or_else(|| ZError::invalid(format!("filter[{at}]: column must be a string, got {}", parts[0])))?;
    let op = parts[1]
        .as_str()
        .ok_or_else(|| ZError::invalid(format!("filter[{at}]: operator must be a string, got {}", parts[1])))?;
    let field = schema.field_with_name(name).map_err(|_| {
        let known: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        ZError::invalid(format!("filter[{at}]: unknown column '{name}' (table columns: {})", known.join(", ")))
    })?;
    let value = &parts[2];
    let scalar = |v: &Value| match v {
        Value::Array(_) | Value::Object(_) => Err(ZError::invalid(format!("filter[{at}]: value for '{name}' must be a scalar, got {v}"))),
        _ => Ok(()),
    };
    let (op, values, with_null) = match op {
        "in" | "not in" => {
            let list = value
                .as_array()
                .ok_or_else(|| ZError::invalid(format!("filter[{at}]: '{op}' needs an array of values, got {value}")))?;
            list.iter().try_for_each(scalar)?;
            let values = list.iter().filter(|v| !v.is_null()).collect();
            (if op == "in" { Op::In } else { Op::NotIn }, values, list.iter().any(Value::is_null))
        }
        "=" | "==" if value.is_null() => (Op::IsNull, vec![], false),
        "!=" if value.is_null() => (Op::IsNotNull, vec![], false),
        "=" | "==" | "!=" | "<" | "<=" | ">" | ">=" => {
            if value.is_null() {
                return Err(ZError::invalid(format!("filter[{at}]: '{op}' cannot compare with null (use '=' or '!=')")));
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
            (op, vec![value], false)
        }
        other => return Err(ZError::invalid(format!("filter[{at}]: unknown operator '{other}' (expected one of {OPS})"))),
    };
    Ok(Term { at, name, data_type: field.data_type().clone(), op, values, with_null })
}

/// The checked terms of a filter (empty for `[]`).
pub fn terms<'a>(schema: &Schema, filter: &'a Value) -> ZResult<Vec<Term<'a>>> {
    let list = filter
        .as_array()
        .ok_or_else(|| ZError::invalid(format!("filter must be an array of [column, op, value] triples, got {filter}")))?;
    list.iter().enumerate().map(|(i, t)| term(schema, t, i)).collect()
}

#[cfg(feature = "datafusion")]
mod datafusion {
    use deltalake::arrow::datatypes::{DataType, Schema};
    use deltalake::datafusion::common::{Column, ScalarValue};
    use deltalake::datafusion::logical_expr::{Expr, lit};
    use serde_json::Value;

    use super::{Op, Term, terms};
    use crate::error::ZResult;

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
            _ => ScalarValue::Null,
        };
        let should_cast = matches!(natural, ScalarValue::Utf8(_) | ScalarValue::Int64(_)) && t.data_type != DataType::Boolean;
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
        let col = Expr::Column(Column::new_unqualified(t.name));
        let mut values = t.values.iter().map(|v| literal(t, v)).collect::<ZResult<Vec<_>>>()?;
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
                    Op::Gt => col.gt(v),
                    _ => col.gt_eq(v),
                }
            }
        })
    }

    /// The AND of all terms as a DataFusion expression, or `None` for an empty filter.
    pub fn to_expr(schema: &Schema, filter: &Value) -> ZResult<Option<Expr>> {
        let mut exprs = terms(schema, filter)?.into_iter().map(|t| expr(&t));
        let Some(first) = exprs.next() else { return Ok(None) };
        exprs.try_fold(first?, |acc, e| Ok(acc.and(e?))).map(Some)
    }
}
#[cfg(feature = "datafusion")]
pub use datafusion::to_expr;

#[cfg(not(feature = "datafusion"))]
mod kernel {
    use std::sync::Arc;

    use deltalake::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array, StringArray};
    use deltalake::arrow::compute::{CastOptions, cast_with_options};
    use deltalake::arrow::datatypes::{self as arrow, DataType, Schema, TimeUnit};
    use delta_kernel::expressions::{Expression, Predicate, Scalar};
    use serde_json::Value;

    use super::{Op, Term, terms};
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
            DataType::Timestamp(TimeUnit::Microsecond, Some(_)) => Scalar::Timestamp(a.as_primitive::<arrow::TimestampMicrosecondType>().value(0)),
            DataType::Timestamp(TimeUnit::Microsecond, None) => Scalar::TimestampNtz(a.as_primitive::<arrow::TimestampMicrosecondType>().value(0)),
            DataType::Decimal128(p, s) => Scalar::decimal(a.as_primitive::<arrow::Decimal128Type>().value(0), *p, *s as u8).ok()?,
            DataType::Binary => Scalar::Binary(a.as_binary::<i32>().value(0).to_vec()),
            _ => return None,
        })
    }

    /// A JSON value as a scalar of the column's type, converted by the same Arrow cast the full
    /// build's DataFusion literals use (ISO dates and timestamps, decimals, numbers as days or
    /// microseconds). Unlike DataFusion there is no numeric coercion: a fractional number against
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
            _ => return Err(t.not_comparable(value)),
        };
        let cast = cast_with_options(&natural, &t.data_type, &CastOptions { safe: false, ..Default::default() });
        match cast {
            Ok(a) if !a.is_null(0) => scalar(&a).ok_or_else(|| t.not_comparable(value)),
            _ => Err(t.not_comparable(value)),
        }
    }

    fn predicate(t: &Term) -> ZResult<Predicate> {
        let col = || Expression::column([t.name]);
        let values = t.values.iter().map(|v| literal(t, v)).collect::<ZResult<Vec<_>>>()?;
        Ok(match t.op {
            Op::IsNull => Predicate::is_null(col()),
            Op::IsNotNull => Predicate::is_not_null(col()),
            Op::In => {
                let any = Predicate::or_from(values.into_iter().map(|v| Predicate::eq(col(), v)));
                if t.with_null { Predicate::or(any, Predicate::is_null(col())) } else { any }
            }
            Op::NotIn => {
                let none = Predicate::and_from(values.into_iter().map(|v| Predicate::ne(col(), v)));
                if t.with_null { Predicate::and(none, Predicate::is_not_null(col())) } else { none }
            }
            op => {
                let v = values.into_iter().next().expect("comparison terms carry one value");
                match op {
                    Op::Eq => Predicate::eq(col(), v),
                    Op::Ne => Predicate::ne(col(), v),
                    Op::Lt => Predicate::lt(col(), v),
                    Op::Le => Predicate::le(col(), v),
                    Op::Gt => Predicate::gt(col(), v),
                    _ => Predicate::ge(col(), v),
                }
            }
        })
    }

    /// The AND of all terms as a kernel predicate (and the columns it reads), or `None` for an
    /// empty filter.
    pub fn to_predicate(schema: &Schema, filter: &Value) -> ZResult<Option<(Predicate, Vec<String>)>> {
        let terms = terms(schema, filter)?;
        if terms.is_empty() {
            return Ok(None);
        }
        let columns = terms.iter().map(|t| t.name.to_string()).collect();
        let preds = terms.iter().map(predicate).collect::<ZResult<Vec<_>>>()?;
        Ok(Some((Predicate::and_from(preds), columns)))
    }
}
#[cfg(not(feature = "datafusion"))]
pub use kernel::to_predicate;

//! The contract's filter — `[column, op, value]` triples joined with AND, as in delta-rs's
//! `partitions`/`filters` — turned into a DataFusion expression. DataFusion then uses it three
//! ways: partition pruning and file skipping by stats in the Delta scan, and exact row filtering.

use deltalake::arrow::datatypes::{DataType, Schema};
use deltalake::datafusion::common::{Column, ScalarValue};
use deltalake::datafusion::logical_expr::{Expr, lit};
use serde_json::Value;

use crate::error::{ZError, ZResult};

const OPS: &str = "= != < <= > >= in, not in";

fn column(schema: &Schema, name: &str, at: usize) -> ZResult<(Expr, DataType)> {
    let field = schema.field_with_name(name).map_err(|_| {
        let known: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        ZError::invalid(format!("filter[{at}]: unknown column '{name}' (table columns: {})", known.join(", ")))
    })?;
    Ok((Expr::Column(Column::new_unqualified(name)), field.data_type().clone()))
}

/// A JSON value as a literal of the column's type where that is lossless; otherwise the natural
/// literal, which DataFusion's type coercion compares correctly (e.g. `int_col < 1.5`).
fn literal(value: &Value, dt: &DataType, name: &str, at: usize) -> ZResult<Expr> {
    let natural = match value {
        Value::Bool(b) => ScalarValue::Boolean(Some(*b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => ScalarValue::Int64(Some(i)),
            None => ScalarValue::Float64(n.as_f64()),
        },
        Value::String(s) => ScalarValue::Utf8(Some(s.clone())),
        Value::Null => ScalarValue::Null,
        Value::Array(_) | Value::Object(_) => {
            return Err(ZError::invalid(format!("filter[{at}]: value for '{name}' must be a scalar, got {value}")));
        }
    };
    let should_cast = matches!(natural, ScalarValue::Utf8(_) | ScalarValue::Int64(_)) && dt != &DataType::Boolean;
    if !should_cast {
        return Ok(lit(natural));
    }
    match natural.cast_to(dt) {
        Ok(v) if !v.is_null() => Ok(lit(v)),
        _ if matches!(natural, ScalarValue::Int64(_)) => Ok(lit(natural)),
        _ => Err(ZError::invalid(format!("filter[{at}]: value {value} cannot be compared with column '{name}' of type {dt}"))),
    }
}

fn term(schema: &Schema, t: &Value, at: usize) -> ZResult<Expr> {
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
    let (col, dt) = column(schema, name, at)?;
    let value = &parts[2];
    let expr = match op {
        "in" | "not in" => {
            let values = value
                .as_array()
                .ok_or_else(|| ZError::invalid(format!("filter[{at}]: '{op}' needs an array of values, got {value}")))?;
            let has_null = values.iter().any(Value::is_null);
            let list = values
                .iter()
                .filter(|v| !v.is_null())
                .map(|v| literal(v, &dt, name, at))
                .collect::<ZResult<Vec<_>>>()?;
            let negated = op == "not in";
            // A null in the list matches null values (as delta-rs partition filters do).
            match (negated, has_null) {
                (false, true) => col.clone().in_list(list, false).or(col.is_null()),
                (true, true) => col.clone().in_list(list, true).and(col.is_not_null()),
                (_, false) => col.in_list(list, negated),
            }
        }
        "=" | "==" if value.is_null() => col.is_null(),
        "!=" if value.is_null() => col.is_not_null(),
        "=" | "==" | "!=" | "<" | "<=" | ">" | ">=" => {
            if value.is_null() {
                return Err(ZError::invalid(format!("filter[{at}]: '{op}' cannot compare with null (use '=' or '!=')")));
            }
            let v = literal(value, &dt, name, at)?;
            match op {
                "=" | "==" => col.eq(v),
                "!=" => col.not_eq(v),
                "<" => col.lt(v),
                "<=" => col.lt_eq(v),
                ">" => col.gt(v),
                _ => col.gt_eq(v),
            }
        }
        other => return Err(ZError::invalid(format!("filter[{at}]: unknown operator '{other}' (expected one of {OPS})"))),
    };
    Ok(expr)
}

/// The AND of all terms, or `None` for an empty filter.
pub fn to_expr(schema: &Schema, filter: &Value) -> ZResult<Option<Expr>> {
    let terms = filter
        .as_array()
        .ok_or_else(|| ZError::invalid(format!("filter must be an array of [column, op, value] triples, got {filter}")))?;
    let mut exprs = terms.iter().enumerate().map(|(i, t)| term(schema, t, i));
    let Some(first) = exprs.next() else { return Ok(None) };
    exprs.try_fold(first?, |acc, e| Ok(acc.and(e?))).map(Some)
}

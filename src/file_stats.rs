//! A data file's statistics (the add action's `stats`): delta-kernel's `FileStatsAccumulator`, as
//! a kernel-based writer takes them, for every column but the dictionary-encoded strings the
//! writers keep (`conform::kept_dictionary`). The kernel's statistics have no dictionary types, so
//! those columns' null counts and bounds are taken here, over the dictionary values the rows use,
//! and truncated by Delta's rules as the kernel truncates its own. Which columns get statistics at
//! all is the table's setting (`stats_columns`).

use std::collections::HashMap;
use std::sync::Arc;

use delta_kernel::engine::arrow_expression::evaluate_expression::to_json;
use delta_kernel::expressions::ColumnName;
use delta_kernel::schema::StructType;
use delta_kernel_engine::stats::FileStatsAccumulator;
use deltalake::arrow::array::{
    Array, ArrayRef, AsArray, DictionaryArray, Int64Array, RecordBatch, RecordBatchOptions,
    StringArray, StructArray,
};
use deltalake::arrow::compute::{cast, max_string, min_string};
use deltalake::arrow::datatypes::{
    ArrowDictionaryKeyType, ArrowNativeType, DataType, Field, FieldRef, Fields, Schema,
};
use deltalake::arrow::downcast_dictionary_array;

use crate::error::{Code, ZError, ZResult};

/// Delta's string bounds: a 32-character prefix (the kernel's `STRING_PREFIX_LENGTH`).
const PREFIX_CHARS: usize = 32;

/// Statistics of one file, merged slice by slice as its rows are written.
pub struct FileStats {
    kernel: FileStatsAccumulator,
    stats_columns: Vec<ColumnName>,
    /// The file's column names, in order (where the columns taken here go in the stats).
    names: Vec<String>,
    /// The columns taken here: those the file's first slice has dictionary-encoded.
    own: Option<Vec<Own>>,
}

/// A column's statistics taken here.
struct Own {
    index: usize,
    /// Whether the column gets statistics at all (`delta.dataSkippingNumIndexedCols`, ...).
    counted: bool,
    nulls: i64,
    min: Option<String>,
    max: Option<String>,
}

impl FileStats {
    pub fn new(stats_columns: &[ColumnName], file_schema: &StructType) -> Self {
        Self {
            kernel: FileStatsAccumulator::new(stats_columns, file_schema),
            stats_columns: stats_columns.to_vec(),
            names: file_schema.fields().map(|f| f.name().clone()).collect(),
            own: None,
        }
    }

    /// Add `rows` (the file's columns) to the statistics.
    pub fn merge(&mut self, rows: &RecordBatch) -> ZResult<()> {
        let stats_columns = &self.stats_columns;
        let own = self.own.get_or_insert_with(|| {
            rows.columns()
                .iter()
                .enumerate()
                .filter(|(_, c)| is_dictionary_string(c.data_type()))
                .map(|(index, _)| Own {
                    index,
                    counted: stats_columns
                        .iter()
                        .any(|c| c.path() == [rows.schema().field(index).name().clone()]),
                    nulls: 0,
                    min: None,
                    max: None,
                })
                .collect()
        });
        if own.is_empty() {
            return Ok(self.kernel.merge(rows)?);
        }
        let mut fields: Vec<FieldRef> = Vec::new();
        let mut columns: Vec<ArrayRef> = Vec::new();
        for (i, (field, column)) in rows
            .schema()
            .fields()
            .iter()
            .zip(rows.columns())
            .enumerate()
        {
            if let Some(o) = own.iter_mut().find(|o| o.index == i) {
                if o.counted {
                    o.merge(column)?;
                }
            } else if is_dictionary_string(column.data_type()) {
                // Plain in the file's first slice: the kernel sees it plain throughout.
                fields.push(Arc::new(
                    field.as_ref().clone().with_data_type(DataType::Utf8),
                ));
                columns.push(cast(column, &DataType::Utf8)?);
            } else {
                fields.push(field.clone());
                columns.push(column.clone());
            }
        }
        let schema = Schema::new_with_metadata(fields, rows.schema().metadata().clone());
        let options = RecordBatchOptions::new().with_row_count(Some(rows.num_rows()));
        let rest = RecordBatch::try_new_with_options(Arc::new(schema), columns, &options)?;
        Ok(self.kernel.merge(&rest)?)
    }

    /// The statistics as the add action's JSON (`None`: no rows were merged).
    pub fn finish(self) -> ZResult<Option<String>> {
        let Some(stats) = self.kernel.finish()? else {
            return Ok(None);
        };
        let stats = match self.own {
            Some(own) if own.iter().any(|o| o.counted) => with_own(&stats, &own, &self.names)?,
            _ => stats,
        };
        let json = to_json(&stats).map_err(|e| ZError::new(Code::Internal, e.to_string()))?;
        let json = json.as_string::<i32>();
        Ok((!json.is_null(0)).then(|| json.value(0).to_string()))
    }
}

fn is_dictionary_string(dt: &DataType) -> bool {
    matches!(dt, DataType::Dictionary(_, v) if **v == DataType::Utf8)
}

impl Own {
    fn merge(&mut self, column: &ArrayRef) -> ZResult<()> {
        let (nulls, min, max) = if column.data_type() == &DataType::Utf8 {
            let s = column.as_string::<i32>();
            (s.null_count(), min_string(s), max_string(s))
        } else {
            downcast_dictionary_array!(
                column => used_bounds(column)?,
                other => return Err(ZError::new(
                    Code::Internal,
                    format!("dictionary statistics of a {other} column"),
                ))
            )
        };
        self.nulls += nulls as i64;
        if let Some(m) = min.filter(|m| self.min.as_deref().is_none_or(|old| *m < old)) {
            self.min = Some(m.to_string());
        }
        if let Some(m) = max.filter(|m| self.max.as_deref().is_none_or(|old| *m > old)) {
            self.max = Some(m.to_string());
        }
        Ok(())
    }
}

/// Null count, least and greatest value of the dictionary values `column`'s rows use (a value no
/// row uses may be anything, as after a slice or a split by partition).
fn used_bounds<K: ArrowDictionaryKeyType>(
    column: &DictionaryArray<K>,
) -> ZResult<(usize, Option<&str>, Option<&str>)> {
    let values = column
        .values()
        .as_string_opt::<i32>()
        .ok_or_else(|| ZError::new(Code::Internal, "dictionary values are not strings"))?;
    let keys = column.keys();
    let mut used = vec![false; values.len()];
    let mut nulls = 0;
    if keys.null_count() == 0 && values.null_count() == 0 {
        for k in keys.values() {
            used[k.as_usize()] = true;
        }
    } else {
        for k in keys.iter() {
            match k.map(|k| k.as_usize()) {
                Some(k) if values.is_valid(k) => used[k] = true,
                _ => nulls += 1,
            }
        }
    }
    let mut used_values = used
        .iter()
        .enumerate()
        .filter(|(_, u)| **u)
        .map(|(i, _)| values.value(i));
    let Some(first) = used_values.next() else {
        return Ok((nulls, None, None));
    };
    let (min, max) = used_values.fold((first, first), |(lo, hi), v| (lo.min(v), hi.max(v)));
    Ok((nulls, Some(min), Some(max)))
}

/// The kernel's file statistics with the columns taken here put in, in the file's column order.
fn with_own(stats: &StructArray, own: &[Own], names: &[String]) -> ZResult<StructArray> {
    let counted: Vec<&Own> = own.iter().filter(|o| o.counted).collect();
    let section = |name: &str| -> ZResult<ArrayRef> {
        let ours = |o: &Own| -> ArrayRef {
            match name {
                "nullCount" => Arc::new(Int64Array::from(vec![o.nulls])),
                "minValues" => {
                    Arc::new(StringArray::from(vec![o.min.as_deref().map(truncate_min)]))
                }
                _ => Arc::new(StringArray::from(vec![
                    o.max.as_deref().and_then(truncate_max),
                ])),
            }
        };
        let theirs = stats.column_by_name(name).map(|c| c.as_struct());
        let mut fields = Vec::new();
        let mut columns = Vec::new();
        for (index, column) in names.iter().enumerate() {
            let (field, array) = match counted.iter().find(|o| o.index == index) {
                Some(o) => {
                    let array = ours(o);
                    (Field::new(column, array.data_type().clone(), true), array)
                }
                None => match theirs.and_then(|t| t.column_by_name(column).map(|c| (t, c))) {
                    Some((t, c)) => (
                        t.fields().find(column).expect("found").1.as_ref().clone(),
                        c.clone(),
                    ),
                    None => continue,
                },
            };
            fields.push(field);
            columns.push(array);
        }
        Ok(Arc::new(StructArray::try_new(
            Fields::from(fields),
            columns,
            None,
        )?))
    };
    let mut fields: Vec<FieldRef> = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for name in [
        "numRecords",
        "nullCount",
        "minValues",
        "maxValues",
        "tightBounds",
    ] {
        let column = match name {
            "nullCount" | "minValues" | "maxValues" => section(name)?,
            _ => match stats.column_by_name(name) {
                Some(c) => c.clone(),
                None => continue,
            },
        };
        fields.push(Arc::new(Field::new(name, column.data_type().clone(), true)));
        columns.push(column);
    }
    Ok(StructArray::try_new(Fields::from(fields), columns, None)?)
}

/// A lower bound: the first 32 characters (the kernel's `truncate_min_string`, which is private).
fn truncate_min(s: &str) -> &str {
    match s.char_indices().nth(PREFIX_CHARS) {
        Some((at, _)) => &s[..at],
        None => s,
    }
}

/// An upper bound: the first 32 characters (up to 64 where the next is U+10FFFF) and a character
/// past the one cut off, or none when no prefix of 64 characters works (the kernel's
/// `truncate_max_string`, which is private; it also gives none for a string of fewer than 32
/// characters but more than 32 bytes, which is its own upper bound).
fn truncate_max(s: &str) -> Option<String> {
    let chars: Vec<(usize, char)> = s.char_indices().take(2 * PREFIX_CHARS + 1).collect();
    if chars.len() <= PREFIX_CHARS {
        return Some(s.to_string());
    }
    for len in PREFIX_CHARS..=chars.len().min(2 * PREFIX_CHARS) {
        let Some(&(at, next)) = chars.get(len) else {
            return Some(s.to_string());
        };
        if next == char::MAX {
            continue;
        }
        let tie = if next < '\x7F' { '\x7F' } else { char::MAX };
        return Some(format!("{}{tie}", &s[..at]));
    }
    None
}

/// Delta's default `delta.dataSkippingNumIndexedCols`.
const DEFAULT_INDEXED_COLUMNS: usize = 32;

/// The columns that get min/max/null-count stats: `delta.dataSkippingStatsColumns` when set, else
/// the first `delta.dataSkippingNumIndexedCols` (default 32; -1 all) leaf columns of the file.
pub fn stats_columns(
    file_schema: &Schema,
    configuration: &HashMap<String, String>,
) -> ZResult<Vec<ColumnName>> {
    if let Some(list) = configuration.get("delta.dataSkippingStatsColumns") {
        return ColumnName::parse_column_name_list(list)
            .map_err(|e| ZError::invalid(format!("delta.dataSkippingStatsColumns: {e}")));
    }
    let limit = match configuration.get("delta.dataSkippingNumIndexedCols") {
        Some(v) => match v.trim().parse::<i64>() {
            Ok(n) if n < 0 => usize::MAX,
            Ok(n) => n as usize,
            Err(_) => DEFAULT_INDEXED_COLUMNS,
        },
        None => DEFAULT_INDEXED_COLUMNS,
    };
    let mut out = Vec::new();
    fn leaves(path: &mut Vec<String>, dt: &DataType, out: &mut Vec<ColumnName>, limit: usize) {
        if out.len() >= limit {
            return;
        }
        match dt {
            DataType::Struct(fields) => {
                for f in fields {
                    path.push(f.name().clone());
                    leaves(path, f.data_type(), out, limit);
                    path.pop();
                }
            }
            _ => out.push(ColumnName::new(path.iter().cloned())),
        }
    }
    for f in file_schema.fields() {
        let mut path = vec![f.name().clone()];
        leaves(&mut path, f.data_type(), &mut out, limit);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use delta_kernel::engine::arrow_conversion::TryIntoKernel as _;
    use deltalake::arrow::array::{Int32Array, Int64Array as I64};
    use deltalake::arrow::datatypes::Int32Type;

    fn stats_of(batches: &[RecordBatch]) -> serde_json::Value {
        let plain: Schema = Schema::new(
            batches[0]
                .schema()
                .fields()
                .iter()
                .map(|f| {
                    f.as_ref().clone().with_data_type(match f.data_type() {
                        DataType::Dictionary(_, v) => v.as_ref().clone(),
                        t => t.clone(),
                    })
                })
                .collect::<Vec<_>>(),
        );
        let kernel: StructType = (&plain).try_into_kernel().unwrap();
        let columns: Vec<ColumnName> = plain
            .fields()
            .iter()
            .map(|f| ColumnName::new([f.name().clone()]))
            .collect();
        let mut stats = FileStats::new(&columns, &kernel);
        for b in batches {
            stats.merge(b).unwrap();
        }
        serde_json::from_str(&stats.finish().unwrap().unwrap()).unwrap()
    }

    fn batch(name: Arc<dyn Array>) -> RecordBatch {
        let n = name.len() as i64;
        RecordBatch::try_from_iter(vec![
            (
                "id",
                Arc::new(I64::from((0..n).collect::<Vec<_>>())) as ArrayRef,
            ),
            ("name", name),
        ])
        .unwrap()
    }

    #[test]
    fn dictionary_strings_get_the_statistics_of_the_same_rows_as_plain_strings() {
        let rows = vec![Some("m"), None, Some("b"), Some("x"), Some("b")];
        let dict: DictionaryArray<Int32Type> = rows.clone().into_iter().collect();
        let plain = stats_of(&[batch(Arc::new(StringArray::from(rows)))]);
        assert_eq!(stats_of(&[batch(Arc::new(dict))]), plain);
        assert_eq!(plain["minValues"]["name"], "b");
        assert_eq!(plain["maxValues"]["name"], "x");
        assert_eq!(plain["nullCount"]["name"], 1);
    }

    #[test]
    fn bounds_cover_only_the_values_rows_use() {
        // Keys use "b" and "c"; "a" and "z" are in the dictionary but in no row.
        let values = StringArray::from(vec![Some("a"), Some("b"), Some("c"), Some("z"), None]);
        let keys = Int32Array::from(vec![Some(1), Some(2), None, Some(4), Some(1)]);
        let dict = DictionaryArray::<Int32Type>::try_new(keys, Arc::new(values)).unwrap();
        let s = stats_of(&[batch(Arc::new(dict))]);
        assert_eq!(
            (
                s["minValues"]["name"].as_str(),
                s["maxValues"]["name"].as_str()
            ),
            (Some("b"), Some("c"))
        );
        assert_eq!(
            s["nullCount"]["name"], 2,
            "a null key and a key of a null value"
        );
        assert_eq!(s["numRecords"], 5);
        assert_eq!(
            s["maxValues"]["id"], 4,
            "the kernel's columns are still there"
        );
    }

    #[test]
    fn a_file_merges_dictionary_and_plain_slices_and_truncates_as_the_kernel_does() {
        let long = "k".repeat(40);
        let first: DictionaryArray<Int32Type> = vec!["d", long.as_str()].into_iter().collect();
        let second = StringArray::from(vec!["a", "e"]);
        let s = stats_of(&[batch(Arc::new(first)), batch(Arc::new(second))]);
        assert_eq!(s["minValues"]["name"], "a");
        assert_eq!(s["maxValues"]["name"], format!("{}\x7F", "k".repeat(32)));
        let all_plain = stats_of(&[
            batch(Arc::new(StringArray::from(vec!["d", long.as_str()]))),
            batch(Arc::new(StringArray::from(vec!["a", "e"]))),
        ]);
        assert_eq!(s, all_plain);
    }

    #[test]
    fn truncation_matches_delta_rules() {
        assert_eq!(truncate_min("short"), "short");
        let s: String = "é".repeat(40);
        assert_eq!(truncate_min(&s).chars().count(), 32);
        assert_eq!(
            truncate_max(&s).unwrap(),
            format!("{}{}", "é".repeat(32), char::MAX)
        );
        assert_eq!(truncate_max(&char::MAX.to_string().repeat(70)), None);
        assert_eq!(truncate_max(&"é".repeat(20)).unwrap(), "é".repeat(20));
    }
}

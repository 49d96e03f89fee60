//! SQL text from the caller (delete/update predicates and values, merge predicates and values,
//! replaceWhere, CHECK constraints) must be one whole expression. delta-rs 1.1 parses it with
//! sqlparser's `parse_expr`, which stops where the expression can no longer continue and drops the
//! rest without a word: `delete("id = 1 id = 2")` deleted the rows with id 1, `delete("x = 1;
//! ...")` ran `x = 1`, a constraint `"id > 0 junk"` was stored as `id > 0`. Checked here with the
//! same dialect and parser before delta-rs sees the text.

use deltalake::datafusion::sql::sqlparser::dialect::GenericDialect;
use deltalake::datafusion::sql::sqlparser::parser::Parser;
use deltalake::datafusion::sql::sqlparser::tokenizer::Token;

use crate::error::{ZError, ZResult};

/// INVALID_ARGUMENT unless `text` is exactly one SQL expression (comments and spaces aside).
/// `what` names it in the message ("delete predicate", "update value for 's'", ...).
pub fn whole_expression(text: &str, what: &str) -> ZResult<()> {
    let dialect = GenericDialect {};
    let bad = |detail: String| {
        ZError::invalid(format!(
            "{what} {text:?} is not one SQL expression: {detail}"
        ))
    };
    let mut parser = Parser::new(&dialect)
        .try_with_sql(text)
        .map_err(|e| bad(e.to_string()))?;
    parser.parse_expr().map_err(|e| bad(e.to_string()))?;
    let next = parser.peek_token();
    if next.token != Token::EOF {
        let at = next.span.start;
        return Err(bad(format!(
            "it goes on with '{}' at line {}, column {}",
            next.token, at.line, at.column
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::whole_expression;

    #[test]
    fn one_expression_passes_and_anything_after_it_is_refused() {
        for ok in [
            "id = 1",
            "id IN (1, 2) AND s <> 'x;y'",
            "id = 1 -- note",
            "id = 1 /* c */",
            " (a = 1) OR b IS NULL ",
            "\"a b\" = 1",
        ] {
            assert!(whole_expression(ok, "predicate").is_ok(), "{ok}");
        }
        for bad in [
            "id = 1 id = 2",
            "id = 1; DROP TABLE t",
            "id = 1)",
            "id IN (1, 2) 3",
            "id > 0 junk",
            "",
            "id = 1 OR",
            "(id = 1",
        ] {
            let e = whole_expression(bad, "predicate").unwrap_err();
            assert!(
                e.message.contains("is not one SQL expression"),
                "{bad}: {}",
                e.message
            );
        }
    }
}

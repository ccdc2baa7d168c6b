//! Argo's expression languages, written for Trellis and pure (no I/O, no clock):
//!
//! - [`eval`]: expr-lang (github.com/expr-lang/expr), the language of `{{=…}}` tags, with the
//!   functions Argo adds;
//! - [`when::eval_when`]: the govaluate dialect Argo uses for a step's or task's `when:` once
//!   its `{{…}}` tags are substituted;
//! - [`template`]: `{{…}}` tag substitution over a [`template::Scope`] of Argo variables.
//!
//! Values are `serde_json::Value`s. Integers stay `i64`, floats `f64`, as in expr-lang's Go
//! runtime.
//!
//! # Expression syntax (`eval`)
//!
//! | | |
//! |---|---|
//! | literals | `42`, `0x2A`, `0o52`, `0b101010`, `1_000`, `0.5`, `.5`, `1e3`, `"a\n"`, `'b'`, `` `raw` ``, `true`, `false`, `nil`, `[1, 2]`, `{a: 1, "b-c": 2, (k): 3}` |
//! | arithmetic | `+ - * / % ** ^`; `/`, `**` and `^` always give a float, `%` takes ints, int overflow wraps; `+` also joins strings and (a Trellis extension) arrays |
//! | comparison | `== != < > <= >=` (`==` compares ints and floats by value; strings order by bytes; `a < b < c` chains) |
//! | logic | `and or not && \|\| !` |
//! | membership | `in`, `not in`, `a.b`, `a['b-c']`, `a[0]`, `a[-1]`, `a?.b`, `a?.[0]`, `a[1:3]`, `a[:2]`, `1..3` |
//! | strings | `contains startsWith endsWith matches` (regular expressions in RE2 syntax), each also with `not` |
//! | conditional | `c ? a : b`, `a ?: b`, `a ?? b`, `if c { a } else { b }` |
//! | other | `let x = 1; x + 1`, pipes `x \| f(y)` (= `f(x, y)`), comments `//` and `/* */`, `$env` |
//! | predicates | `filter map all any none one count find findIndex findLast findLastIndex sum sortBy reduce` with `#`, `#.field`, `.field`, `#index` (and `#acc` in `reduce(xs, body[, initial])`), e.g. `filter(xs, # > 1)` or `xs \| map({.name})` |
//!
//! Unknown variables are nil; reading a field of nil is an error unless `?.` is used; unknown
//! functions are errors.
//!
//! # Functions
//!
//! - expr-lang builtins: `len type abs ceil floor round int float string trim trimPrefix
//!   trimSuffix upper lower split splitAfter replace repeat join indexOf lastIndexOf hasPrefix
//!   hasSuffix max min mean median toJSON fromJSON toBase64 fromBase64 first last get take keys
//!   values toPairs fromPairs reverse uniq concat flatten sort bitand bitor bitxor bitnand bitnot
//!   bitshl bitshr bitushr`.
//! - Argo's: `asInt(x)`, `asFloat(x)` (parse strings, fail on bad input), `toJson(x)` (compact
//!   JSON), `jsonpath(json, path)` (RFC 9535 path; a path of names and indices gives the one
//!   value, any other path the array of matches).
//! - sprig, as `sprig.name(…)` with sprig's argument order: `trim trimAll trimPrefix trimSuffix
//!   upper lower title replace contains hasPrefix hasSuffix repeat substr trunc quote squote cat
//!   nospace indent nindent plural toString splitList split join regexMatch regexFind
//!   regexFindAll regexReplaceAll regexReplaceAllLiteral regexSplit regexQuoteMeta b64enc b64dec
//!   atoi int int64 float64 add add1 sub mul div mod max min floor ceil round until untilStep seq
//!   default empty coalesce ternary all any compact toJson toPrettyJson fromJson list dict get
//!   hasKey keys values has first last rest initial append prepend reverse uniq without date
//!   dateInZone htmlDate htmlDateInZone unixEpoch dateModify`. The date functions take RFC 3339
//!   strings (such as `workflow.creationTimestamp`) or Unix seconds.
//!
//! Not provided: functions that read the clock (`now()`, expr-lang's `date()`/`duration()`),
//! as the engine has none, and `groupBy`/`reduce`. Maps iterate in key order where Go's order is random.
//!
//! # Limits
//!
//! Expressions nest at most 100 levels and have at most 10 000 nodes; an evaluation may build at
//! most expr-lang's memory budget (10⁶ elements, strings counted per 16 bytes) and run at most
//! 10⁷ predicate iterations. Exceeding a limit is an [`ExprError`], never a panic.

mod argo;
mod args;
mod ast;
mod builtins;
mod codec;
mod collections;
mod ctx;
mod error;
mod eval;
mod format;
mod lexer;
mod ops;
mod parser;
mod predicates;
mod sprig;
pub(crate) mod sprig_dates;
mod sprig_lists;
mod sprig_numbers;
mod sprig_regex;
mod value;

pub mod template;
pub mod when;

pub use error::{ExprError, Position};

use serde_json::Value as Json;

/// Evaluates the expr-lang expression `src` with the variables of `env` (a JSON object).
pub fn eval(src: &str, env: &Json) -> Result<Json, ExprError> {
    let value = eval_value(src, env)?;
    value
        .to_json()
        .map_err(|message| ExprError::eval(message, 0).locate(src))
}

/// Evaluates to the evaluator's own value type (kept for Go-compatible rendering).
pub(crate) fn eval_value(src: &str, env: &Json) -> Result<value::Value, ExprError> {
    let node = parser::parse(src).map_err(|e| e.locate(src))?;
    eval::run(&node, env).map_err(|e| e.locate(src))
}

#[cfg(test)]
mod tests;

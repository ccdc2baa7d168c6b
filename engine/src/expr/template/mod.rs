//! Argo's template tags (`util/template`): `{{key}}` is replaced by the scope's value for the
//! trimmed key, `{{=expression}}` by the expression's result — a string as it is, any other
//! value as JSON (Go's `encoding/json`: `2`, `0.5`, `true`, `["a","b"]`, `{"k":1}`).
//!
//! Tags are found as Argo's template library finds them: from each `{{` to the next `}}`
//! (so `{{a}}}` is the tag `a` followed by `}`, and a `{{` without a `}}` is an error). When a
//! simple tag is unknown but ends in a nested tag (`{{outer-{{inner}}}}`), the inner one is
//! resolved and the outer tag is written back for a later pass.
//!
//! Expression tags see the scope as Argo builds their environment: the dotted keys expanded
//! into nested maps of strings (`inputs.parameters.x` is `inputs.parameters.x` or
//! `inputs.parameters['x']`; when a key is also the prefix of others, e.g. `item` and
//! `item.a`, the nested form wins), plus Argo's functions. An expression reading a variable the
//! scope does not have (not counting paths guarded by `??` or `?.`) is left as written with
//! [`Unresolved::Keep`] and is an error with [`Unresolved::Error`]. Syntax errors, and once all
//! its variables are present evaluation errors and nil results, are errors in both modes, as in
//! Argo's strict replacement.

mod idents;
mod scope;

pub use scope::Scope;

use super::error::ExprError;
use super::format::to_json;
use super::value::Value;
use super::{eval, parser};

/// What to do with a tag whose variables the scope does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unresolved {
    /// Fail with an error naming the tag.
    Error,
    /// Leave the tag as written, for a later pass.
    Keep,
}

/// Why a template could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A `{{` has no matching `}}`.
    #[error("cannot find end tag }}}} for the {{{{ at byte {offset}")]
    Unclosed {
        /// Byte offset of the `{{` in the text.
        offset: usize,
    },
    /// A simple tag names a key the scope does not have.
    #[error("failed to resolve {{{{{tag}}}}}")]
    Unresolved {
        /// The tag as written between the braces.
        tag: String,
    },
    /// An expression tag reads a variable the scope does not have.
    #[error("failed to evaluate expression {{{{={expression}}}}}: {variable} is missing")]
    Missing {
        /// The expression as written.
        expression: String,
        /// The first missing variable or member path.
        variable: String,
    },
    /// An expression tag failed to parse or to evaluate, or its result has no JSON form.
    #[error("failed to evaluate expression {{{{={expression}}}}}: {source}")]
    Expression {
        /// The expression as written.
        expression: String,
        /// What went wrong.
        source: ExprError,
    },
    /// An expression tag evaluated to nil, which has no text.
    #[error("failed to evaluate expression {{{{={expression}}}}}: the result is nil")]
    Nil {
        /// The expression as written.
        expression: String,
    },
}

/// A piece of a template: literal text, a tag's content, or an unclosed `{{`.
enum Piece<'a> {
    Text(&'a str),
    Tag(&'a str),
    Unclosed(usize),
}

/// Splits a template into text and tags the way Argo's template library does.
struct Pieces<'a> {
    text: &'a str,
    pos: usize,
    pending_tag: Option<&'a str>,
    done: bool,
}

impl<'a> Iterator for Pieces<'a> {
    type Item = Piece<'a>;

    fn next(&mut self) -> Option<Piece<'a>> {
        if let Some(tag) = self.pending_tag.take() {
            return Some(Piece::Tag(tag));
        }
        if self.done {
            return None;
        }
        let rest = &self.text[self.pos..];
        let Some(open) = rest.find("{{") else {
            self.done = true;
            return (!rest.is_empty()).then_some(Piece::Text(rest));
        };
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            self.done = true;
            return Some(Piece::Unclosed(self.pos + open));
        };
        self.pending_tag = Some(&after[..close]);
        self.pos += open + 2 + close + 2;
        Some(Piece::Text(&rest[..open]))
    }
}

fn pieces(text: &str) -> Pieces<'_> {
    Pieces {
        text,
        pos: 0,
        pending_tag: None,
        done: false,
    }
}

/// The tags of `text`, each as written between `{{` and `}}` (an unclosed `{{` ends the list).
pub fn tags(text: &str) -> impl Iterator<Item = &str> {
    pieces(text).filter_map(|p| match p {
        Piece::Tag(t) => Some(t),
        _ => None,
    })
}

/// Substitutes the tags of `text` from `scope`.
pub fn render(text: &str, scope: &Scope, unresolved: Unresolved) -> Result<String, TemplateError> {
    if !text.contains("{{") {
        return Ok(text.to_owned());
    }
    let mut out = String::with_capacity(text.len());
    for piece in pieces(text) {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Unclosed(offset) => return Err(TemplateError::Unclosed { offset }),
            Piece::Tag(tag) => match tag.strip_prefix('=') {
                Some(expression) => expression_tag(expression, scope, unresolved, &mut out)?,
                None => simple_tag(tag, scope, unresolved, &mut out)?,
            },
        }
    }
    Ok(out)
}

fn simple_tag(
    tag: &str,
    scope: &Scope,
    unresolved: Unresolved,
    out: &mut String,
) -> Result<(), TemplateError> {
    if let Some(value) = scope.get(tag.trim()) {
        out.push_str(value);
        return Ok(());
    }
    if let Some(i) = tag.rfind("{{").filter(|&i| i > 0)
        && let Some(value) = scope.get(&tag[i + 2..])
    {
        out.push_str("{{");
        out.push_str(&tag[..i]);
        out.push_str(value);
        return Ok(());
    }
    match unresolved {
        Unresolved::Error => Err(TemplateError::Unresolved {
            tag: tag.to_owned(),
        }),
        Unresolved::Keep => {
            out.push_str("{{");
            out.push_str(tag);
            out.push_str("}}");
            Ok(())
        }
    }
}

fn expression_tag(
    expression: &str,
    scope: &Scope,
    unresolved: Unresolved,
    out: &mut String,
) -> Result<(), TemplateError> {
    let failed = |source: ExprError| TemplateError::Expression {
        expression: expression.to_owned(),
        source: source.locate(expression),
    };
    let node = parser::parse(expression).map_err(failed)?;
    let ids = idents::identifiers(&node);
    let env = idents::environment(scope, idents::roots(&ids));
    if let Some(variable) = idents::missing(&ids, &env).into_iter().next() {
        return match unresolved {
            Unresolved::Error => Err(TemplateError::Missing {
                expression: expression.to_owned(),
                variable,
            }),
            Unresolved::Keep => {
                out.push_str("{{=");
                out.push_str(expression);
                out.push_str("}}");
                Ok(())
            }
        };
    }
    match eval::run(&node, &env).map_err(failed)? {
        Value::Nil => Err(TemplateError::Nil {
            expression: expression.to_owned(),
        }),
        Value::Str(s) => {
            out.push_str(&s);
            Ok(())
        }
        other => {
            let text = to_json(&other, "").map_err(|m| failed(ExprError::eval(m, 0)))?;
            out.push_str(&text);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests;

/// The top-level names of Argo's variables, the roots of an expression's environment.
const ROOTS: [&str; 10] = [
    "inputs",
    "outputs",
    "steps",
    "tasks",
    "workflow",
    "item",
    "retries",
    "pod",
    "node",
    "lastRetry",
];

/// Evaluates an expression (`valueFrom.expression`, a retry or hook `expression`) against a
/// scope, with the environment Argo builds for `{{=…}}` tags. Unknown variables are `nil`.
pub fn eval_in(src: &str, scope: &Scope) -> Result<serde_json::Value, crate::expr::ExprError> {
    eval_with_nils(src, scope, &[])
}

/// [`eval_in`] where each of `nils` (dotted keys, e.g. the outputs of a skipped step) is
/// present in the environment as `nil`, as Argo puts absent optional values.
pub fn eval_with_nils(
    src: &str,
    scope: &Scope,
    nils: &[String],
) -> Result<serde_json::Value, crate::expr::ExprError> {
    let mut env = idents::environment(scope, ROOTS);
    for key in nils {
        insert_nil(&mut env, key);
    }
    crate::expr::eval(src, &env)
}

fn insert_nil(env: &mut serde_json::Value, key: &str) {
    let mut current = env;
    let mut parts = key.split('.').peekable();
    while let Some(part) = parts.next() {
        let Some(map) = current.as_object_mut() else {
            return;
        };
        if parts.peek().is_none() {
            map.entry(part.to_owned())
                .or_insert(serde_json::Value::Null);
            return;
        }
        let slot = map
            .entry(part.to_owned())
            .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
        if slot.is_null() {
            *slot = serde_json::Value::Object(serde_json::Map::new());
        }
        current = slot;
    }
}

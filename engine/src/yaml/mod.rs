//! A YAML document tree that remembers where every node came from.
//!
//! Scalars keep their source text and style; their type (string, number, boolean, null) is decided by
//! whoever reads them — the way Kubernetes and Argo read YAML into typed fields. Anchors and aliases are
//! expanded, `<<` merge keys are applied, and duplicate keys are reported.

mod build;
pub mod de;
mod emit;
mod guard;

pub use build::{YamlError, parse_stream, parse_stream_checked};
pub use emit::to_yaml_string;

use std::fmt;

/// A position in a source text: 1-based line and 1-based column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, serde::Serialize)]
pub struct Pos {
    /// Line number, starting at 1.
    pub line: u32,
    /// Column number in characters, starting at 1.
    pub column: u32,
}

/// The range of source text a node was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Span {
    /// Where the node starts.
    pub start: Pos,
    /// Where the node ends (exclusive).
    pub end: Pos,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// How a scalar was written; quoting decides whether `true` or `1` is a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarStyle {
    /// Unquoted: resolved by the YAML core schema when read as "any" value.
    Plain,
    /// Single- or double-quoted, or a block scalar: always a string.
    Quoted,
}

/// A YAML node and the span it was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The node's content.
    pub kind: NodeKind,
    /// Where it was written.
    pub span: Span,
}

/// The content of a YAML node.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// A scalar with its text exactly as parsed (escapes resolved) and its style.
    Scalar(String, ScalarStyle),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in source order; keys are nodes too so they keep their spans.
    Map(Vec<(Node, Node)>),
}

/// One step of a path into a document: a mapping key or a sequence index.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Seg {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

impl From<&str> for Seg {
    fn from(key: &str) -> Self {
        Seg::Key(key.to_string())
    }
}

impl From<usize> for Seg {
    fn from(index: usize) -> Self {
        Seg::Index(index)
    }
}

/// Renders a path the way people write it: `spec.templates[0].container.image`.
pub fn path_to_string(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => {
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
        }
    }
    out
}

impl Node {
    /// The scalar text, if this is a scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar(s, _) => Some(s),
            _ => None,
        }
    }

    /// Whether this is a plain `null`, `~` or empty scalar.
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar(s, ScalarStyle::Plain) if is_null_text(s))
    }

    /// The value under `key`, if this is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key node and value node under `key`, if this is a mapping that has it.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        match &self.kind {
            NodeKind::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    /// Follows `path` as far as it goes; returns the deepest node reached and whether the whole path
    /// resolved. When the last step is a key, the span of the *key* is the useful one for a caret, so
    /// `key_span` is filled in for it.
    pub fn locate(&self, path: &[Seg]) -> Located<'_> {
        let mut node = self;
        let mut key_span = None;
        for (depth, seg) in path.iter().enumerate() {
            let next = match (seg, &node.kind) {
                (Seg::Key(k), NodeKind::Map(_)) => node.entry(k).map(|(key, value)| {
                    key_span = Some(key.span);
                    value
                }),
                (Seg::Index(i), NodeKind::Seq(items)) => {
                    key_span = None;
                    items.get(*i)
                }
                _ => None,
            };
            match next {
                Some(n) => node = n,
                None => {
                    return Located {
                        node,
                        key_span: if depth == 0 { None } else { key_span },
                        complete: false,
                    };
                }
            }
        }
        Located {
            node,
            key_span,
            complete: true,
        }
    }
}

/// The result of [`Node::locate`].
#[derive(Debug, Clone, Copy)]
pub struct Located<'a> {
    /// The deepest node reached.
    pub node: &'a Node,
    /// The span of the key that led to `node`, when the last step was a mapping key.
    pub key_span: Option<Span>,
    /// Whether the whole path resolved.
    pub complete: bool,
}

impl Located<'_> {
    /// The span best suited to point at: a scalar value itself, else the key that leads to the value
    /// (a whole mapping or list is better pointed at by its key), else the node.
    pub fn span(&self) -> Span {
        match (&self.node.kind, self.key_span) {
            (NodeKind::Scalar(..), _) | (_, None) => self.node.span,
            (_, Some(key)) => key,
        }
    }
}

/// Whether a plain scalar's text means null in the YAML core schema.
pub fn is_null_text(s: &str) -> bool {
    matches!(s, "" | "~" | "null" | "Null" | "NULL")
}

/// The boolean a plain scalar means in the YAML core schema, if any.
pub fn bool_text(s: &str) -> Option<bool> {
    match s {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// A scalar's value resolved by the YAML 1.2 core schema.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved<'a> {
    /// `null`, `~` or empty.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A negative or small integer.
    Int(i64),
    /// A non-negative integer too large for `i64`.
    UInt(u64),
    /// A floating-point number.
    Float(f64),
    /// Anything else.
    Str(&'a str),
}

/// Resolves a scalar by the YAML 1.2 core schema (quoted scalars are always strings).
pub fn resolve_scalar(text: &str, style: ScalarStyle) -> Resolved<'_> {
    if style == ScalarStyle::Quoted {
        return Resolved::Str(text);
    }
    if is_null_text(text) {
        return Resolved::Null;
    }
    if let Some(b) = bool_text(text) {
        return Resolved::Bool(b);
    }
    if let Some(n) = parse_int(text) {
        return n;
    }
    if let Some(f) = parse_float(text) {
        return Resolved::Float(f);
    }
    Resolved::Str(text)
}

fn parse_int(text: &str) -> Option<Resolved<'_>> {
    let (neg, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, digits) = if let Some(h) = digits.strip_prefix("0x") {
        (16, h)
    } else if let Some(o) = digits.strip_prefix("0o") {
        (8, o)
    } else if digits.len() > 1
        && digits.starts_with('0')
        && digits.chars().all(|c| ('0'..='7').contains(&c))
    {
        // YAML 1.1 octal (`mode: 0755`), as Kubernetes' and Argo's YAML readers take it.
        (8, &digits[1..])
    } else {
        (10, digits)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    if neg {
        i64::from_str_radix(&format!("-{digits}"), radix)
            .ok()
            .map(Resolved::Int)
    } else {
        let v = u64::from_str_radix(digits, radix).ok()?;
        Some(match i64::try_from(v) {
            Ok(i) => Resolved::Int(i),
            Err(_) => Resolved::UInt(v),
        })
    }
}

fn parse_float(text: &str) -> Option<f64> {
    match text {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    let body = text.trim_start_matches(['-', '+']);
    let starts_ok = body.starts_with(|c: char| c.is_ascii_digit())
        || (body.starts_with('.') && body[1..].starts_with(|c: char| c.is_ascii_digit()));
    if !starts_ok
        || !body
            .chars()
            .all(|c| c.is_ascii_digit() || "eE.+-".contains(c))
    {
        return None;
    }
    text.parse().ok()
}

/// Converts a node to JSON, resolving plain scalars by the core schema.
pub fn to_json(node: &Node) -> serde_json::Value {
    use serde_json::Value;
    match &node.kind {
        NodeKind::Scalar(text, style) => match resolve_scalar(text, *style) {
            Resolved::Null => Value::Null,
            Resolved::Bool(b) => Value::Bool(b),
            Resolved::Int(i) => Value::from(i),
            Resolved::UInt(u) => Value::from(u),
            Resolved::Float(f) => serde_json::Number::from_f64(f)
                .map(Value::Number)
                .unwrap_or_else(|| Value::String(text.clone())),
            Resolved::Str(s) => Value::String(s.to_string()),
        },
        NodeKind::Seq(items) => Value::Array(items.iter().map(to_json).collect()),
        NodeKind::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| (key_text(k), to_json(v)))
                .collect(),
        ),
    }
}

/// The text of a mapping key; non-scalar keys (rare, and rejected elsewhere) render as JSON.
pub fn key_text(key: &Node) -> String {
    match &key.kind {
        NodeKind::Scalar(s, _) => s.clone(),
        _ => to_json(key).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_schema_resolution() {
        use Resolved::*;
        let p = ScalarStyle::Plain;
        assert_eq!(resolve_scalar("true", p), Bool(true));
        assert_eq!(resolve_scalar("~", p), Null);
        assert_eq!(resolve_scalar("12", p), Int(12));
        assert_eq!(resolve_scalar("-3", p), Int(-3));
        assert_eq!(resolve_scalar("0x1F", p), Int(31));
        assert_eq!(resolve_scalar("0755", p), Int(493));
        assert_eq!(resolve_scalar("0", p), Int(0));
        assert_eq!(resolve_scalar("089", p), Int(89));
        assert_eq!(resolve_scalar("1.5", p), Float(1.5));
        assert_eq!(resolve_scalar("1e3", p), Float(1000.0));
        assert_eq!(resolve_scalar("1.2.3", p), Str("1.2.3"));
        assert_eq!(resolve_scalar("12", ScalarStyle::Quoted), Str("12"));
        assert_eq!(resolve_scalar("yes", p), Str("yes"));
        assert_eq!(resolve_scalar("e5", p), Str("e5"));
        assert_eq!(resolve_scalar("18446744073709551615", p), UInt(u64::MAX));
    }

    #[test]
    fn path_rendering() {
        let path = vec![
            Seg::from("spec"),
            Seg::from("templates"),
            Seg::from(0),
            Seg::from("name"),
        ];
        assert_eq!(path_to_string(&path), "spec.templates[0].name");
    }
}

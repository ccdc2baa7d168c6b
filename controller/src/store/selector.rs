//! Kubernetes label selectors (`env=prod,tier!=web,team in (a,b),!draft,size>3`):
//! parsing with Kubernetes' grammar and validation, and matching a set of labels.
//!
//! The store turns a parsed selector into SQL; [`LabelSelector::matches`] is the same rule in memory,
//! used where the objects are few (templates) and as the reference the SQL is tested against.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// Why a label selector was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SelectorError {
    /// The text does not follow the selector grammar.
    #[error("label selector {selector:?}: {reason}")]
    Syntax {
        /// The whole selector.
        selector: String,
        /// What was wrong, with the offending token.
        reason: String,
    },
    /// A key is not a valid label key (`[prefix/]name`).
    #[error("label selector: invalid key {key:?}: {reason}")]
    InvalidKey {
        /// The key.
        key: String,
        /// Why it is invalid.
        reason: &'static str,
    },
    /// A value is not a valid label value (or, for `>`/`<`, not an integer).
    #[error("label selector: invalid value {value:?} for key {key:?}: {reason}")]
    InvalidValue {
        /// The key it was compared with.
        key: String,
        /// The value.
        value: String,
        /// Why it is invalid.
        reason: &'static str,
    },
}

/// How a requirement compares a label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Operator {
    /// `k=v` or `k==v`: the label is present with that value.
    Equals,
    /// `k!=v`: the label is absent or has another value.
    NotEquals,
    /// `k in (a,b)`: the label is present with one of the values.
    In,
    /// `k notin (a,b)`: the label is absent or has none of the values.
    NotIn,
    /// `k`: the label is present.
    Exists,
    /// `!k`: the label is absent.
    DoesNotExist,
    /// `k>n`: the label is present, an integer, and greater than `n`.
    GreaterThan,
    /// `k<n`: the label is present, an integer, and less than `n`.
    LessThan,
}

/// One comma-separated clause of a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// The label key.
    pub key: String,
    /// The comparison.
    pub op: Operator,
    /// The values compared with, sorted and without duplicates (empty for `Exists`/`DoesNotExist`).
    pub values: Vec<String>,
}

/// A parsed label selector: every requirement must hold. The empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
}

impl LabelSelector {
    /// Parses Kubernetes' label-selector syntax, validating keys and values.
    pub fn parse(text: &str) -> Result<Self, SelectorError> {
        let tokens = lex(text);
        let mut parser = Parser {
            text,
            tokens,
            pos: 0,
        };
        let mut requirements = parser.parse_all()?;
        requirements.sort_by(|a, b| (&a.key, a.op).cmp(&(&b.key, b.op)));
        Ok(LabelSelector { requirements })
    }

    /// Requirements sorted by key.
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// Whether there is no requirement (matches everything).
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Whether a set of labels satisfies every requirement.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }
}

impl Requirement {
    /// Whether a set of labels satisfies this requirement.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let value = labels.get(&self.key);
        let listed = |v: &String| self.values.binary_search(v).is_ok();
        match self.op {
            Operator::Equals | Operator::In => value.is_some_and(listed),
            Operator::NotEquals | Operator::NotIn => !value.is_some_and(listed),
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
            Operator::GreaterThan | Operator::LessThan => {
                let (Some(have), Some(bound)) = (
                    value.and_then(|v| v.parse::<i64>().ok()),
                    self.integer_operand(),
                ) else {
                    return false;
                };
                if self.op == Operator::GreaterThan {
                    have > bound
                } else {
                    have < bound
                }
            }
        }
    }

    /// The integer of a `>`/`<` requirement.
    pub fn integer_operand(&self) -> Option<i64> {
        self.values.first()?.parse().ok()
    }
}

impl FromStr for LabelSelector {
    type Err = SelectorError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LabelSelector::parse(s)
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (key, values) = (&self.key, self.values.join(","));
        match self.op {
            Operator::Equals => write!(f, "{key}={values}"),
            Operator::NotEquals => write!(f, "{key}!={values}"),
            Operator::In => write!(f, "{key} in ({values})"),
            Operator::NotIn => write!(f, "{key} notin ({values})"),
            Operator::Exists => write!(f, "{key}"),
            Operator::DoesNotExist => write!(f, "!{key}"),
            Operator::GreaterThan => write!(f, "{key}>{values}"),
            Operator::LessThan => write!(f, "{key}<{values}"),
        }
    }
}

impl fmt::Display for LabelSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

/// A lexical token of the selector grammar.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    Bang,
    NotEq,
    Eq,
    EqEq,
    Gt,
    Lt,
    Open,
    Close,
    Comma,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Token::Ident(s) => return write!(f, "`{s}`"),
            Token::Bang => "!",
            Token::NotEq => "!=",
            Token::Eq => "=",
            Token::EqEq => "==",
            Token::Gt => ">",
            Token::Lt => "<",
            Token::Open => "(",
            Token::Close => ")",
            Token::Comma => ",",
        };
        write!(f, "`{s}`")
    }
}

/// Characters that end an identifier.
fn is_special(c: char) -> bool {
    matches!(c, '=' | '!' | '(' | ')' | ',' | '>' | '<')
}

/// Splits the selector into tokens (the lexer cannot fail: anything else is an identifier).
fn lex(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let token = match c {
            c if c.is_whitespace() => continue,
            '(' => Token::Open,
            ')' => Token::Close,
            ',' => Token::Comma,
            '>' => Token::Gt,
            '<' => Token::Lt,
            '!' | '=' => {
                let doubled = chars.next_if_eq(&'=').is_some();
                match (c, doubled) {
                    ('!', true) => Token::NotEq,
                    ('!', false) => Token::Bang,
                    (_, true) => Token::EqEq,
                    (_, false) => Token::Eq,
                }
            }
            c => {
                let mut ident = String::from(c);
                while let Some(n) = chars.next_if(|n| !n.is_whitespace() && !is_special(*n)) {
                    ident.push(n);
                }
                Token::Ident(ident)
            }
        };
        tokens.push(token);
    }
    tokens
}

/// A recursive-descent parser over the tokens.
struct Parser<'a> {
    text: &'a str,
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn error(&self, reason: String) -> SelectorError {
        SelectorError::Syntax {
            selector: self.text.to_owned(),
            reason,
        }
    }

    fn unexpected(&self, found: Option<&Token>, expected: &str) -> SelectorError {
        match found {
            Some(t) => self.error(format!("found {t}, expected {expected}")),
            None => self.error(format!("unexpected end, expected {expected}")),
        }
    }

    /// `requirement (, requirement)*`, or nothing.
    fn parse_all(&mut self) -> Result<Vec<Requirement>, SelectorError> {
        let mut out = Vec::new();
        if self.peek().is_none() {
            return Ok(out);
        }
        loop {
            out.push(self.requirement()?);
            match self.next() {
                None => return Ok(out),
                Some(Token::Comma) => {}
                other => return Err(self.unexpected(other.as_ref(), "`,` or the end")),
            }
        }
    }

    fn requirement(&mut self) -> Result<Requirement, SelectorError> {
        if self.peek() == Some(&Token::Bang) {
            self.pos += 1;
            let key = self.key()?;
            return Ok(Requirement {
                key,
                op: Operator::DoesNotExist,
                values: Vec::new(),
            });
        }
        let key = self.key()?;
        let op = match self.peek() {
            None | Some(Token::Comma) => Operator::Exists,
            Some(Token::Eq | Token::EqEq) => Operator::Equals,
            Some(Token::NotEq) => Operator::NotEquals,
            Some(Token::Gt) => Operator::GreaterThan,
            Some(Token::Lt) => Operator::LessThan,
            Some(Token::Ident(w)) if w == "in" => Operator::In,
            Some(Token::Ident(w)) if w == "notin" => Operator::NotIn,
            other => return Err(self.unexpected(other, "an operator (=, ==, !=, in, notin, >, <)")),
        };
        if op != Operator::Exists {
            self.pos += 1;
        }
        let values = match op {
            Operator::Exists => Vec::new(),
            Operator::In | Operator::NotIn => self.value_list()?,
            _ => vec![self.exact_value()?],
        };
        requirement(key, op, values)
    }

    fn key(&mut self) -> Result<String, SelectorError> {
        match self.next() {
            Some(Token::Ident(k)) if k != "in" && k != "notin" => Ok(k),
            other => Err(self.unexpected(other.as_ref(), "a label key")),
        }
    }

    /// The value after `=`, `!=`, `>` or `<`; empty when the clause ends right there.
    fn exact_value(&mut self) -> Result<String, SelectorError> {
        match self.peek() {
            None | Some(Token::Comma) => Ok(String::new()),
            Some(Token::Ident(v)) => {
                let v = v.clone();
                self.pos += 1;
                Ok(v)
            }
            other => Err(self.unexpected(other, "a value")),
        }
    }

    /// `( value? (, value?)* )`: values between commas may be empty, as in Kubernetes.
    fn value_list(&mut self) -> Result<Vec<String>, SelectorError> {
        if self.next() != Some(Token::Open) {
            let found = self.tokens.get(self.pos - 1);
            return Err(self.unexpected(found, "`(`"));
        }
        if self.peek() == Some(&Token::Close) {
            self.pos += 1;
            return Ok(Vec::new());
        }
        let mut values = Vec::new();
        let mut current = String::new();
        loop {
            match self.next() {
                Some(Token::Ident(v)) if current.is_empty() => current = v,
                Some(Token::Comma) => values.push(std::mem::take(&mut current)),
                Some(Token::Close) => {
                    values.push(current);
                    return Ok(values);
                }
                other => {
                    let found = other.as_ref();
                    return Err(self.unexpected(found, "a value, `,` or `)`"));
                }
            }
        }
    }
}

/// Builds a requirement, validating its key and values as Kubernetes does.
fn requirement(
    key: String,
    op: Operator,
    values: Vec<String>,
) -> Result<Requirement, SelectorError> {
    validate_key(&key)?;
    let bad_value = |value: &str, reason| SelectorError::InvalidValue {
        key: key.clone(),
        value: value.to_owned(),
        reason,
    };
    match op {
        Operator::In | Operator::NotIn if values.is_empty() => {
            return Err(bad_value("", "`in` and `notin` need at least one value"));
        }
        Operator::GreaterThan | Operator::LessThan => {
            let v = values.first().map(String::as_str).unwrap_or_default();
            if v.parse::<i64>().is_err() {
                return Err(bad_value(v, "`>` and `<` compare with an integer"));
            }
        }
        _ => {
            for v in &values {
                label_value_problem(v).map_or(Ok(()), |reason| Err(bad_value(v, reason)))?;
            }
        }
    }
    let values: BTreeSet<String> = values.into_iter().collect();
    Ok(Requirement {
        key,
        op,
        values: values.into_iter().collect(),
    })
}

/// Checks a label key: an optional DNS-subdomain prefix and `/`, then a name of at most 63 characters.
pub fn validate_key(key: &str) -> Result<(), SelectorError> {
    let invalid = |reason| SelectorError::InvalidKey {
        key: key.to_owned(),
        reason,
    };
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        if prefix.is_empty() || prefix.len() > 253 {
            return Err(invalid("the prefix must be 1 to 253 characters"));
        }
        let dns_label = |l: &str| {
            !l.is_empty()
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if !prefix.split('.').all(dns_label) {
            return Err(invalid("the prefix must be a lowercase DNS subdomain"));
        }
    }
    if name.is_empty() {
        return Err(invalid("the name part must not be empty"));
    }
    match label_value_problem(name) {
        Some(reason) => Err(invalid(reason)),
        None => Ok(()),
    }
}

/// Why a text is not a valid label value (or key name part), if it is not.
fn label_value_problem(v: &str) -> Option<&'static str> {
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if v.is_empty() {
        None
    } else if v.len() > 63 {
        Some("at most 63 characters")
    } else if !v
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        Some("only letters, digits, `-`, `_` and `.` are allowed")
    } else if !edge_ok(v.chars().next()) || !edge_ok(v.chars().last()) {
        Some("must begin and end with a letter or digit")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parses_and_prints_canonically() {
        let cases = [
            ("", ""),
            ("a=b", "a=b"),
            ("a==b", "a=b"),
            (" a = b ", "a=b"),
            ("a!=b", "a!=b"),
            ("a=", "a="),
            ("x, !y", "x,!y"),
            ("k in (b, a, a)", "k in (a,b)"),
            ("k notin (a,,b)", "k notin (,a,b)"),
            ("k in (a,)", "k in (,a)"),
            ("n<10,n>3", "n>3,n<10"),
            ("example.com/team=core", "example.com/team=core"),
            ("z=1,a=2", "a=2,z=1"),
            ("k = in", "k=in"),
        ];
        for (text, want) in cases {
            let sel = LabelSelector::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(sel.to_string(), want, "{text}");
        }
    }

    #[test]
    fn rejects_bad_selectors() {
        let cases = [
            "a=b=c",
            "a b",
            "=b",
            "!",
            "a,",
            "a in b",
            "a in (b",
            "a in ()",
            "a notin (b c)",
            "a>b",
            "a<",
            "(a)",
            "in=b",
            "a=-b",
            "a=b c",
            "-a=b",
            "Ex.com/a=b",
            "/a",
            "a/b/c=d",
            "a=has space",
        ];
        for text in cases {
            assert!(LabelSelector::parse(text).is_err(), "{text:?} should fail");
        }
    }

    #[test]
    fn matches_like_kubernetes() {
        let l = labels(&[("env", "prod"), ("tier", "web"), ("n", "7")]);
        let cases = [
            ("", true),
            ("env=prod", true),
            ("env=dev", false),
            ("env!=dev", true),
            ("missing!=x", true),
            ("env in (dev,prod)", true),
            ("env notin (dev,prod)", false),
            ("missing notin (a)", true),
            ("missing in (a)", false),
            ("tier", true),
            ("!tier", false),
            ("!missing", true),
            ("n>6", true),
            ("n>7", false),
            ("n<8", true),
            ("env>1", false),
            ("missing<1", false),
            ("env=prod,tier=db", false),
            ("env=prod,tier=web,n", true),
        ];
        for (text, want) in cases {
            let sel = LabelSelector::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(sel.matches(&l), want, "{text}");
        }
    }

    #[test]
    fn errors_say_what_was_found() {
        let err = LabelSelector::parse("a in b").unwrap_err();
        assert_eq!(
            err.to_string(),
            "label selector \"a in b\": found `b`, expected `(`"
        );
        let err = LabelSelector::parse("a>x").unwrap_err();
        assert!(err.to_string().contains("integer"), "{err}");
    }
}

//! govaluate's lexer as Argo runs it for `when:`: numbers are floats, a quoted string ends at
//! the next quote of either kind, backslash escapes any character, words are variables (which
//! Argo then treats as strings), and an operator is a run of symbol characters.

use crate::expr::error::ExprError;

/// govaluate's token kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Numeric,
    Boolean,
    Str,
    Variable,
    Accessor,
    Comparator,
    LogicalOp,
    Modifier,
    Prefix,
    Clause,
    ClauseClose,
    Ternary,
    Separator,
}

/// A token's value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Num(f64),
    Bool(bool),
    Text(String),
}

/// A token with the character offset where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub kind: Kind,
    pub value: Tok,
    pub pos: usize,
}

impl Token {
    /// The token's text, for operators and words.
    pub fn text(&self) -> &str {
        match &self.value {
            Tok::Text(s) => s,
            _ => "",
        }
    }
}

const MODIFIERS: [&str; 10] = ["+", "-", "*", "/", "%", "**", "&", "|", "^", ">>"];
const COMPARATORS: [&str; 8] = ["==", "!=", ">", ">=", "<", "<=", "=~", "!~"];

use Kind::*;

/// What may start an operand.
const OPERAND: &[Kind] = &[Prefix, Numeric, Boolean, Variable, Accessor, Str, Clause];
/// What may follow an operand.
const AFTER_OPERAND: &[Kind] = &[
    Modifier,
    Comparator,
    LogicalOp,
    ClauseClose,
    Ternary,
    Separator,
];

/// What may follow a token of `kind` (govaluate's lexer states); `None` stands for the start.
pub(crate) fn can_follow(prev: Option<Kind>, next: Kind) -> bool {
    let valid: &[Kind] = match prev {
        None | Some(Separator) => OPERAND,
        Some(Clause) => &[
            Prefix,
            Numeric,
            Boolean,
            Variable,
            Accessor,
            Str,
            Clause,
            ClauseClose,
        ],
        Some(ClauseClose) => &[
            Comparator,
            Modifier,
            Numeric,
            Boolean,
            Variable,
            Str,
            Clause,
            ClauseClose,
            LogicalOp,
            Ternary,
            Separator,
        ],
        Some(Numeric | Boolean | Str | Variable) => AFTER_OPERAND,
        Some(Modifier | Comparator | LogicalOp) => &[
            Prefix,
            Numeric,
            Boolean,
            Variable,
            Accessor,
            Str,
            Clause,
            ClauseClose,
        ],
        Some(Prefix) => &[Numeric, Boolean, Variable, Accessor, Clause, ClauseClose],
        Some(Ternary) => &[
            Prefix, Numeric, Boolean, Str, Variable, Accessor, Clause, Separator,
        ],
        Some(Accessor) => &[
            Clause,
            Modifier,
            Comparator,
            LogicalOp,
            ClauseClose,
            Ternary,
            Separator,
        ],
    };
    valid.contains(&next)
}

/// Whether a token of `kind` may end an expression.
pub(crate) fn can_end(kind: Kind) -> bool {
    matches!(
        kind,
        ClauseClose | Numeric | Boolean | Str | Variable | Accessor
    )
}

fn is_numeric(c: char) -> bool {
    c.is_ascii_digit() || c == '.' || (!c.is_ascii() && c.is_numeric())
}

fn is_symbol(c: char) -> bool {
    !(c.is_alphanumeric() || matches!(c, '(' | ')' | '[' | ']' | '\'' | '"') || c.is_whitespace())
}

struct Lexer {
    chars: Vec<char>,
    i: usize,
}

impl Lexer {
    /// Reads while `cond` holds, with backslash escapes.
    fn read_while(&mut self, cond: impl Fn(char) -> bool) -> String {
        let mut out = String::new();
        while let Some(&c) = self.chars.get(self.i) {
            if c == '\\' {
                if let Some(&e) = self.chars.get(self.i + 1) {
                    out.push(e);
                }
                self.i += 2;
                continue;
            }
            if !cond(c) {
                break;
            }
            out.push(c);
            self.i += 1;
        }
        out
    }

    /// Reads up to (and past) a closing character, or fails if there is none.
    fn read_until(&mut self, close: impl Fn(char) -> bool) -> Option<String> {
        let text = self.read_while(|c| !close(c));
        if self.i < self.chars.len() {
            self.i += 1;
            Some(text)
        } else {
            None
        }
    }
}

/// Splits a `when` expression into govaluate tokens.
pub(crate) fn lex(src: &str) -> Result<Vec<Token>, ExprError> {
    let mut lx = Lexer {
        chars: src.chars().collect(),
        i: 0,
    };
    let mut tokens: Vec<Token> = Vec::new();
    while let Some(&c) = lx.chars.get(lx.i) {
        let pos = lx.i;
        if c.is_whitespace() {
            lx.i += 1;
            continue;
        }
        let prev = tokens.last().map(|t| t.kind);
        let (kind, value) = if is_numeric(c) {
            number(&mut lx)?
        } else if c == ',' {
            lx.i += 1;
            (Kind::Separator, Tok::Text(",".into()))
        } else if c == '[' {
            lx.i += 1;
            let name = lx
                .read_until(|c| c == ']')
                .ok_or_else(|| ExprError::syntax("unclosed parameter bracket", pos))?;
            (Kind::Variable, Tok::Text(name))
        } else if c.is_alphabetic() {
            word(&mut lx, pos)?
        } else if c == '\'' || c == '"' {
            lx.i += 1;
            let text = lx
                .read_until(|c| c == '\'' || c == '"')
                .ok_or_else(|| ExprError::syntax("unclosed string literal", pos))?;
            (Kind::Str, Tok::Text(text))
        } else if c == '(' || c == ')' {
            lx.i += 1;
            let kind = if c == '(' {
                Kind::Clause
            } else {
                Kind::ClauseClose
            };
            (kind, Tok::Text(c.to_string()))
        } else {
            let symbol = lx.read_while(is_symbol);
            (symbol_kind(&symbol, prev, pos)?, Tok::Text(symbol))
        };
        tokens.push(Token { kind, value, pos });
    }
    Ok(tokens)
}

fn number(lx: &mut Lexer) -> Result<(Kind, Tok), ExprError> {
    let pos = lx.i;
    if lx.chars.get(pos) == Some(&'0') && lx.chars.get(pos + 1) == Some(&'x') {
        lx.i += 2;
        let digits = lx.read_while(|c| c.is_ascii_hexdigit());
        let n = u64::from_str_radix(&digits, 16).map_err(|_| {
            ExprError::syntax(
                format!("unable to parse hex value '{digits}' to uint64"),
                pos,
            )
        })?;
        return Ok((Kind::Numeric, Tok::Num(n as f64)));
    }
    let text = lx.read_while(is_numeric);
    let n: f64 = text.parse().map_err(|_| {
        ExprError::syntax(
            format!("unable to parse numeric value '{text}' to float64"),
            pos,
        )
    })?;
    Ok((Kind::Numeric, Tok::Num(n)))
}

fn word(lx: &mut Lexer, pos: usize) -> Result<(Kind, Tok), ExprError> {
    let text = lx.read_while(|c| c.is_alphanumeric() || c == '_' || c == '.');
    match text.as_str() {
        "true" => return Ok((Kind::Boolean, Tok::Bool(true))),
        "false" => return Ok((Kind::Boolean, Tok::Bool(false))),
        "in" | "IN" => return Ok((Kind::Comparator, Tok::Text("in".into()))),
        _ => {}
    }
    if !text.contains('.') || text.starts_with('.') {
        return Ok((Kind::Variable, Tok::Text(text)));
    }
    if text.ends_with('.') {
        return Err(ExprError::syntax(
            format!("hanging accessor on token '{text}'"),
            pos,
        ));
    }
    for field in text.split('.').skip(1) {
        let first = field.chars().next().unwrap_or(' ');
        if first.is_lowercase() {
            return Err(ExprError::syntax(
                format!(
                    "unable to access unexported field '{field}' in token '{text}' (quote the value: '{text}')"
                ),
                pos,
            ));
        }
    }
    Ok((Kind::Accessor, Tok::Text(text)))
}

fn symbol_kind(symbol: &str, prev: Option<Kind>, pos: usize) -> Result<Kind, ExprError> {
    if can_follow(prev, Kind::Prefix) && matches!(symbol, "-" | "!" | "~") {
        return Ok(Kind::Prefix);
    }
    if MODIFIERS.contains(&symbol) || symbol == "<<" {
        return Ok(Kind::Modifier);
    }
    if symbol == "&&" || symbol == "||" {
        return Ok(Kind::LogicalOp);
    }
    if COMPARATORS.contains(&symbol) {
        return Ok(Kind::Comparator);
    }
    if matches!(symbol, "?" | ":" | "??") {
        return Ok(Kind::Ternary);
    }
    Err(ExprError::syntax(
        format!("invalid token: '{symbol}' (hint: try wrapping the affected value in quotes)"),
        pos,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Kind> {
        lex(src)
            .map(|t| t.into_iter().map(|t| t.kind).collect())
            .unwrap_or_default()
    }

    #[test]
    fn token_kinds() {
        use Kind::*;
        assert_eq!(kinds("heads == heads"), [Variable, Comparator, Variable]);
        assert_eq!(kinds("-1 < 2"), [Prefix, Numeric, Comparator, Numeric]);
        assert_eq!(kinds("1 - 2"), [Numeric, Modifier, Numeric]);
        assert_eq!(kinds("!(a)"), [Prefix, Clause, Variable, ClauseClose]);
        assert_eq!(kinds("'it' != \"x\""), [Str, Comparator, Str]);
        assert_eq!(kinds("[a b] == Foo.Bar"), [Variable, Comparator, Accessor]);
        assert_eq!(
            kinds("a ? b : c"),
            [Variable, Ternary, Variable, Ternary, Variable]
        );
    }

    #[test]
    fn lexing_errors() {
        for (src, want) in [
            ("a == 'b", "unclosed string"),
            ("[a == b", "unclosed parameter"),
            ("a ==- b", "invalid token: '==-'"),
            ("1.2.3 == x", "unable to parse numeric"),
            ("a.b == c", "unexported field"),
            ("a. == c", "hanging accessor"),
            ("0xz == 1", "hex value"),
        ] {
            let e = lex(src).expect_err(src).to_string();
            assert!(e.contains(want), "{src}: {e}");
        }
    }
}

//! How Argo decides a step's or task's `when:` once its `{{…}}` tags are substituted: the text
//! is a govaluate expression in which bare words are strings (Argo turns govaluate's variables
//! into string literals), so `heads == heads`, `tails == heads` and `Succeeded == Succeeded`
//! compare words.
//!
//! Supported: numbers (floats, `0x` hex), `'…'` and `"…"` strings (ending at the next quote of
//! either kind; `\` escapes any character), `[…]` words with spaces, `true`/`false`,
//! `== != < <= > >=` (`<`… on two numbers or two strings), `=~ !~` (regular expressions),
//! `&& ||` (short-circuit), `!`, unary `-` and `~`, `+` (numbers, or concatenation when either
//! side is a string), `- * / % **`, `& | ^ << >>`, and parentheses. The ternary operators, `in`
//! and dotted words (govaluate accessors) are refused, as Argo's evaluation of them fails too.
//! An empty `when` is true; any other result than a bool is an error.

mod lexer;

use regex::RegexBuilder;

use super::error::ExprError;
use super::format::float_v;
use lexer::{Kind, Tok, Token, can_end, can_follow, lex};

const MAX_NESTING: usize = 100;

/// Evaluates a substituted `when` condition the way Argo does.
pub fn eval_when(src: &str) -> Result<bool, ExprError> {
    if src.is_empty() {
        return Ok(true);
    }
    let result = evaluate(src).map_err(|e| e.locate(src))?;
    match result {
        Val::Bool(b) => Ok(b),
        other => Err(ExprError::eval(
            format!(
                "expected boolean evaluation for '{src}', got {}",
                other.show()
            ),
            0,
        )
        .locate(src)),
    }
}

fn evaluate(src: &str) -> Result<Val, ExprError> {
    let mut tokens = lex(src)?;
    check_syntax(&tokens)?;
    for t in &mut tokens {
        if t.kind == Kind::Variable {
            t.kind = Kind::Str;
        }
    }
    check_syntax(&tokens)?;
    let mut p = Parser {
        toks: &tokens,
        i: 0,
        nesting: 0,
    };
    let node = p.parse_or()?;
    if let Some(t) = tokens.get(p.i) {
        let message = match t.kind {
            Kind::Ternary | Kind::Separator | Kind::Comparator => {
                format!(
                    "the operator '{}' is not supported in when expressions",
                    t.text()
                )
            }
            _ => format!("unexpected token '{}'", show_token(t)),
        };
        return Err(ExprError::syntax(message, t.pos));
    }
    eval(&node)
}

/// govaluate's check that every token may follow the previous one.
fn check_syntax(tokens: &[Token]) -> Result<(), ExprError> {
    let mut prev: Option<&Token> = None;
    let mut depth = 0i64;
    for t in tokens {
        if !can_follow(prev.map(|p| p.kind), t.kind) {
            let message = match prev {
                Some(p) if p.kind == Kind::Variable && t.kind == Kind::Clause => {
                    format!("undefined function {}", p.text())
                }
                Some(p) => format!(
                    "cannot transition token types from {:?} [{}] to {:?} [{}]",
                    p.kind,
                    show_token(p),
                    t.kind,
                    show_token(t)
                ),
                None => format!("unexpected {:?} [{}] at the start", t.kind, show_token(t)),
            };
            return Err(ExprError::syntax(message, t.pos));
        }
        match t.kind {
            Kind::Clause => depth += 1,
            Kind::ClauseClose => depth -= 1,
            _ => {}
        }
        prev = Some(t);
    }
    if depth != 0 {
        return Err(ExprError::syntax("unbalanced parenthesis", 0));
    }
    match prev {
        Some(p) if can_end(p.kind) => Ok(()),
        _ => Err(ExprError::syntax(
            "unexpected end of expression",
            tokens.last().map_or(0, |t| t.pos),
        )),
    }
}

fn show_token(t: &Token) -> String {
    match &t.value {
        Tok::Num(n) => float_v(*n),
        Tok::Bool(b) => b.to_string(),
        Tok::Text(s) => s.clone(),
    }
}

/// A value: govaluate works on floats, strings and bools.
#[derive(Debug, Clone, PartialEq)]
enum Val {
    Num(f64),
    Str(String),
    Bool(bool),
}

impl Val {
    /// Go's `%v`.
    fn show(&self) -> String {
        match self {
            Val::Num(n) => float_v(*n),
            Val::Str(s) => s.clone(),
            Val::Bool(b) => b.to_string(),
        }
    }
}

/// The tree: a chain of same-precedence operators is kept flat and evaluated left to right.
enum Node {
    Lit(Val),
    Accessor(String, usize),
    Prefix(String, Box<Node>, usize),
    Chain(Box<Node>, Vec<(String, Node, usize)>),
}

/// Binary operator levels, loosest first.
const LEVELS: [&[&str]; 8] = [
    &["||"],
    &["&&"],
    &["==", "!=", ">", ">=", "<", "<=", "=~", "!~"],
    &["&", "|", "^"],
    &["<<", ">>"],
    &["+", "-"],
    &["*", "/", "%"],
    &["**"],
];

struct Parser<'t> {
    toks: &'t [Token],
    i: usize,
    nesting: usize,
}

impl Parser<'_> {
    fn parse_or(&mut self) -> Result<Node, ExprError> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            let pos = self.toks.get(self.i).map_or(0, |t| t.pos);
            return Err(ExprError::TooDeep {
                position: super::error::Position::at(pos),
                limit: MAX_NESTING,
            });
        }
        let node = self.parse_level(0);
        self.nesting -= 1;
        node
    }

    fn parse_level(&mut self, level: usize) -> Result<Node, ExprError> {
        if level == LEVELS.len() {
            return self.parse_value();
        }
        let first = self.parse_level(level + 1)?;
        let mut rest = Vec::new();
        while let Some(t) = self.toks.get(self.i) {
            let binary = matches!(t.kind, Kind::Comparator | Kind::LogicalOp | Kind::Modifier);
            if !binary || !LEVELS[level].contains(&t.text()) {
                break;
            }
            self.i += 1;
            let operand = self.parse_level(level + 1)?;
            rest.push((t.text().to_owned(), operand, t.pos));
        }
        Ok(if rest.is_empty() {
            first
        } else {
            Node::Chain(Box::new(first), rest)
        })
    }

    fn parse_value(&mut self) -> Result<Node, ExprError> {
        let Some(t) = self.toks.get(self.i) else {
            return Err(ExprError::syntax("unexpected end of expression", 0));
        };
        self.i += 1;
        match (&t.kind, &t.value) {
            (Kind::Clause, _) => {
                let inner = self.parse_or()?;
                match self.toks.get(self.i) {
                    Some(close) if close.kind == Kind::ClauseClose => self.i += 1,
                    _ => return Err(ExprError::syntax("unbalanced parenthesis", t.pos)),
                }
                Ok(inner)
            }
            (Kind::Prefix, _) => {
                let operand = self.parse_value()?;
                Ok(Node::Prefix(t.text().to_owned(), Box::new(operand), t.pos))
            }
            (Kind::Numeric, Tok::Num(n)) => Ok(Node::Lit(Val::Num(*n))),
            (Kind::Boolean, Tok::Bool(b)) => Ok(Node::Lit(Val::Bool(*b))),
            (Kind::Str, Tok::Text(s)) => Ok(Node::Lit(Val::Str(s.clone()))),
            (Kind::Accessor, Tok::Text(s)) => Ok(Node::Accessor(s.clone(), t.pos)),
            _ => Err(ExprError::syntax(
                format!("{} is not supported in when expressions", show_token(t)),
                t.pos,
            )),
        }
    }
}

fn eval(node: &Node) -> Result<Val, ExprError> {
    match node {
        Node::Lit(v) => Ok(v.clone()),
        Node::Accessor(name, pos) => Err(ExprError::eval(
            format!("no parameter '{name}' found (quote the value: '{name}')"),
            *pos,
        )),
        Node::Prefix(op, operand, pos) => {
            let v = eval(operand)?;
            match (op.as_str(), &v) {
                ("!", Val::Bool(b)) => Ok(Val::Bool(!b)),
                ("-", Val::Num(n)) => Ok(Val::Num(-n)),
                ("~", Val::Num(n)) => Ok(Val::Num(!(*n as i64) as f64)),
                _ => Err(ExprError::eval(
                    format!("value '{}' cannot be used with the prefix '{op}'", v.show()),
                    *pos,
                )),
            }
        }
        Node::Chain(first, rest) => {
            let mut acc = eval(first)?;
            for (op, operand, pos) in rest {
                match (op.as_str(), &acc) {
                    ("&&", Val::Bool(false)) => return Ok(acc),
                    ("||", Val::Bool(true)) => return Ok(acc),
                    _ => {}
                }
                let right = eval(operand)?;
                acc = binary(op, &acc, &right).map_err(|m| ExprError::eval(m, *pos))?;
            }
            Ok(acc)
        }
    }
}

fn binary(op: &str, l: &Val, r: &Val) -> Result<Val, String> {
    use Val::{Bool, Num, Str};
    let kind = match op {
        "&&" | "||" => "logical operator",
        "==" | "!=" | ">" | ">=" | "<" | "<=" => "comparator",
        _ => "modifier",
    };
    let not = |v: &Val, what: &str| {
        format!(
            "value '{}' cannot be used with the {kind} '{op}', it is not a {what}",
            v.show()
        )
    };
    Ok(match (op, l, r) {
        ("&&", Bool(a), Bool(b)) => Bool(*a && *b),
        ("||", Bool(a), Bool(b)) => Bool(*a || *b),
        ("&&" | "||", Bool(_), v) | ("&&" | "||", v, _) => return Err(not(v, "bool")),
        ("==", a, b) => Bool(a == b),
        ("!=", a, b) => Bool(a != b),
        (">" | ">=" | "<" | "<=", Num(a), Num(b)) => Bool(compare(op, a.partial_cmp(b))),
        (">" | ">=" | "<" | "<=", Str(a), Str(b)) => Bool(compare(op, Some(a.cmp(b)))),
        (">" | ">=" | "<" | "<=", v, _) => return Err(not(v, "number")),
        ("=~" | "!~", Str(s), Str(pattern)) => {
            let re = RegexBuilder::new(pattern)
                .size_limit(1 << 20)
                .build()
                .map_err(|e| format!("unable to compile regexp pattern '{pattern}': {e}"))?;
            Bool(re.is_match(s) == (op == "=~"))
        }
        ("=~" | "!~", Str(_), v) | ("=~" | "!~", v, _) => {
            return Err(format!(
                "value '{}' cannot be used with '{op}', it is not a string",
                v.show()
            ));
        }
        ("+", Num(a), Num(b)) => Num(a + b),
        ("+", Str(_), _) | ("+", _, Str(_)) => Str(format!("{}{}", l.show(), r.show())),
        (_, Num(a), Num(b)) => Num(arithmetic(op, *a, *b)),
        (_, Num(_), v) | (_, v, _) => return Err(not(v, "number")),
    })
}

fn compare(op: &str, ord: Option<std::cmp::Ordering>) -> bool {
    ord.is_some_and(|o| match op {
        ">" => o.is_gt(),
        ">=" => o.is_ge(),
        "<" => o.is_lt(),
        _ => o.is_le(),
    })
}

fn arithmetic(op: &str, a: f64, b: f64) -> f64 {
    match op {
        "-" => a - b,
        "*" => a * b,
        "/" => a / b,
        "%" => a % b,
        "**" => a.powf(b),
        "&" => ((a as i64) & (b as i64)) as f64,
        "|" => ((a as i64) | (b as i64)) as f64,
        "^" => ((a as i64) ^ (b as i64)) as f64,
        "<<" => (a as u64).checked_shl(b as u32).unwrap_or(0) as f64,
        _ => (a as u64).checked_shr(b as u32).unwrap_or(0) as f64,
    }
}

#[cfg(test)]
mod tests;

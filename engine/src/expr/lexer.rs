//! The expr-lang lexer: source text to tokens, with expr-lang's rules for numbers, strings,
//! comments, word operators (`and`, `not in`, `matches` …) and predicate pointers (`#`, `#index`).

use super::error::ExprError;

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Identifier,
    Number,
    Str,
    Operator,
    Bracket,
    Eof,
}

/// A token with its text (unescaped for strings) and the character offset where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub kind: Kind,
    pub value: String,
    pub pos: usize,
}

impl Token {
    /// Whether this token is of `kind` with the text `value`.
    pub fn is(&self, kind: Kind, value: &str) -> bool {
        self.kind == kind && self.value == value
    }

    /// How the token is named in error messages.
    pub fn describe(&self) -> String {
        match self.kind {
            Kind::Eof => "end of expression".to_owned(),
            Kind::Str => format!("string {:?}", self.value),
            _ => format!("{:?}", self.value),
        }
    }
}

const WORD_OPERATORS: [&str; 10] = [
    "in",
    "or",
    "and",
    "matches",
    "contains",
    "startsWith",
    "endsWith",
    "let",
    "if",
    "else",
];

const NEGATABLE: [&str; 5] = ["in", "matches", "contains", "startsWith", "endsWith"];

/// Whether `c` may appear in an identifier (expr-lang: letters, digits, `_` and `$`).
pub(crate) fn is_ident_char(c: char) -> bool {
    c == '_' || c == '$' || c.is_alphanumeric()
}

/// Whether `s` is a valid identifier (a letter, `_` or `$`, then identifier characters).
pub(crate) fn is_valid_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c == '_' || c == '$' || c.is_alphabetic() => chars.all(is_ident_char),
        _ => false,
    }
}

/// Splits `src` into tokens, ending with an [`Kind::Eof`] token.
pub(crate) fn lex(src: &str) -> Result<Vec<Token>, ExprError> {
    let mut lexer = Lexer {
        chars: src.chars().collect(),
        i: 0,
        tokens: Vec::new(),
    };
    lexer.run()?;
    Ok(lexer.tokens)
}

struct Lexer {
    chars: Vec<char>,
    i: usize,
    tokens: Vec<Token>,
}

impl Lexer {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.i + n).copied()
    }

    fn accept(&mut self, valid: &str) -> bool {
        match self.peek() {
            Some(c) if valid.contains(c) => {
                self.i += 1;
                true
            }
            _ => false,
        }
    }

    fn accept_run(&mut self, valid: &str) {
        while self.accept(valid) {}
    }

    fn text(&self, start: usize) -> String {
        self.chars[start..self.i].iter().collect()
    }

    fn emit(&mut self, kind: Kind, value: String, pos: usize) {
        self.tokens.push(Token { kind, value, pos });
    }

    fn run(&mut self) -> Result<(), ExprError> {
        while let Some(c) = self.peek() {
            let start = self.i;
            if c.is_whitespace() {
                self.i += 1;
                continue;
            }
            match c {
                '\'' | '"' => self.string(c)?,
                '`' => self.raw_string()?,
                '0'..='9' => self.number(start)?,
                '.' if self.peek_at(1).is_some_and(|d| d.is_ascii_digit()) => self.number(start)?,
                '.' => {
                    self.i += 1;
                    self.accept(".");
                    self.emit(Kind::Operator, self.text(start), start);
                }
                '?' => {
                    self.i += 1;
                    self.accept(".?");
                    self.emit(Kind::Operator, self.text(start), start);
                }
                '/' => self.slash(start)?,
                '#' => self.pointer(start),
                '|' | ':' => {
                    self.i += 1;
                    self.accept(&c.to_string());
                    self.emit(Kind::Operator, self.text(start), start);
                }
                '(' | '[' | '{' | ')' | ']' | '}' => {
                    self.i += 1;
                    self.emit(Kind::Bracket, c.to_string(), start);
                }
                ',' | ';' | '%' | '+' | '-' | '^' => {
                    self.i += 1;
                    self.emit(Kind::Operator, c.to_string(), start);
                }
                '&' | '!' | '=' | '*' | '<' | '>' => {
                    self.i += 1;
                    self.accept("&=*");
                    self.emit(Kind::Operator, self.text(start), start);
                }
                'b' | 'B' if matches!(self.peek_at(1), Some('\'' | '"')) => {
                    return Err(ExprError::syntax(
                        "bytes literals (b\"…\") are not supported",
                        start,
                    ));
                }
                c if is_ident_char(c) => self.identifier(start),
                c => {
                    return Err(ExprError::syntax(
                        format!("unrecognized character: U+{:04X} {c:?}", c as u32),
                        start,
                    ));
                }
            }
        }
        let end = self.chars.len();
        self.emit(Kind::Eof, String::new(), end);
        Ok(())
    }

    fn number(&mut self, start: usize) -> Result<(), ExprError> {
        let mut digits = "0123456789_";
        if self.peek() == Some('.') {
            self.i += 1;
        } else if self.accept("0") {
            if self.accept("xX") {
                digits = "0123456789abcdefABCDEF_";
            } else if self.accept("oO") {
                digits = "01234567_";
            } else if self.accept("bB") {
                digits = "01_";
            }
        }
        self.accept_run(digits);
        if self.peek() == Some('.') && self.peek_at(1) != Some('.') {
            self.i += 1;
            self.accept_run(digits);
        }
        if self.accept("eE") {
            self.accept("+-");
            self.accept_run(digits);
        }
        if self.peek().is_some_and(is_ident_char) {
            self.i += 1;
            let word = self.text(start);
            return Err(ExprError::syntax(
                format!("bad number syntax: {word:?}"),
                start,
            ));
        }
        self.emit(Kind::Number, self.text(start), start);
        Ok(())
    }

    fn string(&mut self, quote: char) -> Result<(), ExprError> {
        let start = self.i;
        self.i += 1;
        loop {
            match self.peek() {
                None | Some('\n') => {
                    return Err(ExprError::syntax("literal not terminated", start));
                }
                Some('\\') => self.i += 2,
                Some(c) if c == quote => break,
                Some(_) => self.i += 1,
            }
            if self.i > self.chars.len() {
                return Err(ExprError::syntax("literal not terminated", start));
            }
        }
        let body: String = self.chars[start + 1..self.i].iter().collect();
        self.i += 1;
        let value = unescape(&body).map_err(|m| ExprError::syntax(m, start))?;
        self.emit(Kind::Str, value, start);
        Ok(())
    }

    fn raw_string(&mut self) -> Result<(), ExprError> {
        let start = self.i;
        self.i += 1;
        let mut value = String::new();
        loop {
            match self.peek() {
                None => return Err(ExprError::syntax("literal not terminated", start)),
                Some('`') if self.peek_at(1) == Some('`') => {
                    value.push('`');
                    self.i += 2;
                }
                Some('`') => {
                    self.i += 1;
                    break;
                }
                Some(c) => {
                    value.push(c);
                    self.i += 1;
                }
            }
        }
        self.emit(Kind::Str, value, start);
        Ok(())
    }

    fn slash(&mut self, start: usize) -> Result<(), ExprError> {
        self.i += 1;
        if self.accept("/") {
            while let Some(c) = self.peek() {
                self.i += 1;
                if c == '\n' {
                    break;
                }
            }
        } else if self.accept("*") {
            loop {
                match self.peek() {
                    None => return Err(ExprError::syntax("unclosed comment", start)),
                    Some('*') if self.peek_at(1) == Some('/') => {
                        self.i += 2;
                        break;
                    }
                    Some(_) => self.i += 1,
                }
            }
        } else {
            self.emit(Kind::Operator, "/".to_owned(), start);
        }
        Ok(())
    }

    fn pointer(&mut self, start: usize) {
        self.i += 1;
        self.accept("#");
        self.emit(Kind::Operator, self.text(start), start);
        let name_start = self.i;
        while self.peek().is_some_and(is_ident_char) {
            self.i += 1;
        }
        if self.i > name_start {
            self.emit(Kind::Identifier, self.text(name_start), name_start);
        }
    }

    fn identifier(&mut self, start: usize) {
        while self.peek().is_some_and(is_ident_char) {
            self.i += 1;
        }
        let word = self.text(start);
        if word == "not" {
            self.emit(Kind::Operator, word, start);
            self.negated_operator();
        } else if WORD_OPERATORS.contains(&word.as_str()) {
            self.emit(Kind::Operator, word, start);
        } else {
            self.emit(Kind::Identifier, word, start);
        }
    }

    /// After `not`, a following `in`/`matches`/… is an operator of its own (`not in`).
    fn negated_operator(&mut self) {
        let save = self.i;
        while self.peek() == Some(' ') {
            self.i += 1;
        }
        let start = self.i;
        while self.peek().is_some_and(is_ident_char) {
            self.i += 1;
        }
        let word = self.text(start);
        if NEGATABLE.contains(&word.as_str()) {
            self.emit(Kind::Operator, word, start);
        } else {
            self.i = save;
        }
    }
}

/// Resolves the escapes of a quoted string's body the way expr-lang does.
fn unescape(body: &str) -> Result<String, String> {
    let body = body.replace("\r\n", "\n").replace('\r', "\n");
    let chars: Vec<char> = body.chars().collect();
    let mut out = String::with_capacity(body.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c != '\\' {
            out.push(c);
            i += 1;
            continue;
        }
        let Some(&e) = chars.get(i + 1) else {
            return Err("unable to unescape string, found '\\' as last character".into());
        };
        i += 2;
        let simple = match e {
            'a' => Some('\u{7}'),
            'b' => Some('\u{8}'),
            'f' => Some('\u{c}'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\u{b}'),
            '\\' | '\'' | '"' | '`' | '?' => Some(e),
            _ => None,
        };
        if let Some(s) = simple {
            out.push(s);
            continue;
        }
        let (value, used) = numeric_escape(e, &chars[i..])?;
        out.push(char::from_u32(value).unwrap_or('\u{FFFD}'));
        i += used;
    }
    Ok(out)
}

/// `\xHH`, `\uHHHH`, `\u{H…}`, `\UHHHHHHHH` and octal `\OOO` escapes: the code point and how
/// many characters after the escape letter were used.
fn numeric_escape(e: char, rest: &[char]) -> Result<(u32, usize), String> {
    let bad = || "unable to unescape string".to_owned();
    if e == 'u' && rest.first() == Some(&'{') {
        let close = rest.iter().position(|&c| c == '}').ok_or_else(bad)?;
        let digits = &rest[1..close];
        if digits.is_empty() || digits.len() > 6 {
            return Err(bad());
        }
        let v = hex_value(digits).ok_or_else(bad)?;
        return if v > 0x10FFFF {
            Err(bad())
        } else {
            Ok((v, close + 1))
        };
    }
    let n = match e {
        'x' | 'X' => 2,
        'u' => 4,
        'U' => 8,
        '0'..='3' => {
            let digits = rest
                .get(..2)
                .ok_or("unable to unescape octal sequence in string")?;
            let mut v = e as u32 - '0' as u32;
            for &d in digits {
                if !('0'..='7').contains(&d) {
                    return Err("unable to unescape octal sequence in string".into());
                }
                v = v * 8 + (d as u32 - '0' as u32);
            }
            return Ok((v, 2));
        }
        _ => return Err(bad()),
    };
    let digits = rest.get(..n).ok_or_else(bad)?;
    let v = hex_value(digits).ok_or_else(bad)?;
    if v > 0x10FFFF { Err(bad()) } else { Ok((v, n)) }
}

fn hex_value(digits: &[char]) -> Option<u32> {
    digits
        .iter()
        .try_fold(0u32, |acc, d| Some(acc.checked_mul(16)? + d.to_digit(16)?))
}

/// The value of a number literal: hex, octal and binary integers, decimal integers and floats.
pub(crate) fn number_literal(text: &str) -> Result<super::ast::NodeKind, String> {
    let value = text.replace('_', "");
    let lower = value.to_ascii_lowercase();
    let radix = |prefix: &str, radix: u32, what: &str| {
        i64::from_str_radix(&lower[prefix.len()..], radix)
            .map(super::ast::NodeKind::Int)
            .map_err(|e| format!("invalid {what} literal {text:?}: {e}"))
    };
    if lower.starts_with("0x") {
        radix("0x", 16, "hex")
    } else if lower.contains(['.', 'e']) {
        match value.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(super::ast::NodeKind::Float(f)),
            Ok(_) => Err(format!("float literal {text:?} is too large")),
            Err(e) => Err(format!("invalid float literal {text:?}: {e}")),
        }
    } else if lower.starts_with("0b") {
        radix("0b", 2, "binary")
    } else if lower.starts_with("0o") {
        radix("0o", 8, "octal")
    } else {
        value
            .parse::<i64>()
            .map(super::ast::NodeKind::Int)
            .map_err(|e| format!("invalid integer literal {text:?}: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<(Kind, String)> {
        lex(src)
            .unwrap_or_default()
            .into_iter()
            .map(|t| (t.kind, t.value))
            .collect()
    }

    #[test]
    fn tokens_of_typical_expressions() {
        use Kind::*;
        let cases: Vec<(&str, Vec<(Kind, &str)>)> = vec![
            (
                "a.b ?? 1",
                vec![
                    (Identifier, "a"),
                    (Operator, "."),
                    (Identifier, "b"),
                    (Operator, "??"),
                    (Number, "1"),
                ],
            ),
            (
                "x not in y",
                vec![
                    (Identifier, "x"),
                    (Operator, "not"),
                    (Operator, "in"),
                    (Identifier, "y"),
                ],
            ),
            ("not x", vec![(Operator, "not"), (Identifier, "x")]),
            ("1..3", vec![(Number, "1"), (Operator, ".."), (Number, "3")]),
            (
                ".5 + 1e3",
                vec![(Number, ".5"), (Operator, "+"), (Number, "1e3")],
            ),
            (
                "#index #",
                vec![(Operator, "#"), (Identifier, "index"), (Operator, "#")],
            ),
            (
                "a?.b",
                vec![(Identifier, "a"), (Operator, "?."), (Identifier, "b")],
            ),
            (
                "a**2 != 3",
                vec![
                    (Identifier, "a"),
                    (Operator, "**"),
                    (Number, "2"),
                    (Operator, "!="),
                    (Number, "3"),
                ],
            ),
            (
                "1 // c\n+ /* d */ 2",
                vec![(Number, "1"), (Operator, "+"), (Number, "2")],
            ),
            ("`a``b`", vec![(Str, "a`b")]),
            (r#"'a\n\x41\u00e9\101'"#, vec![(Str, "a\nAéA")]),
            (r#""\u{1F600}""#, vec![(Str, "😀")]),
        ];
        for (src, want) in cases {
            let mut want: Vec<(Kind, String)> =
                want.into_iter().map(|(k, v)| (k, v.to_owned())).collect();
            want.push((Eof, String::new()));
            assert_eq!(kinds(src), want, "{src}");
        }
    }

    #[test]
    fn lexing_errors() {
        let cases = [
            ("'abc", "literal not terminated"),
            ("\"a\nb\"", "literal not terminated"),
            ("`abc", "literal not terminated"),
            ("1abc", "bad number syntax"),
            ("'\\q'", "unable to unescape"),
            ("'\\u{}'", "unable to unescape"),
            ("\"\\", "literal not terminated"),
            ("/* x", "unclosed comment"),
            ("a @ b", "unrecognized character"),
            ("b'x'", "bytes literals"),
        ];
        for (src, want) in cases {
            let err = lex(src).expect_err(src).to_string();
            assert!(err.contains(want), "{src}: {err}");
        }
    }

    #[test]
    fn identifiers() {
        assert!(is_valid_identifier("not"));
        assert!(is_valid_identifier("_a1"));
        assert!(!is_valid_identifier("1a"));
        assert!(!is_valid_identifier(""));
    }
}

//! DAG `depends` expressions: `a && (b.Failed || c.Skipped) && !d.Errored`.

use std::fmt;

/// The outcome of a task a `depends` expression can test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskResult {
    /// The task succeeded.
    Succeeded,
    /// The task failed.
    Failed,
    /// The task errored.
    Errored,
    /// The task was skipped by its `when`.
    Skipped,
    /// The task was omitted because its own dependencies were not met.
    Omitted,
    /// The task is a daemon that is running.
    Daemoned,
    /// At least one iteration of a looped task succeeded.
    AnySucceeded,
    /// Every iteration of a looped task failed.
    AllFailed,
}

const RESULTS: [(&str, TaskResult); 8] = [
    ("Succeeded", TaskResult::Succeeded),
    ("Failed", TaskResult::Failed),
    ("Errored", TaskResult::Errored),
    ("Skipped", TaskResult::Skipped),
    ("Omitted", TaskResult::Omitted),
    ("Daemoned", TaskResult::Daemoned),
    ("AnySucceeded", TaskResult::AnySucceeded),
    ("AllFailed", TaskResult::AllFailed),
];

/// A parsed `depends` expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Depends {
    /// `task` (no result: Succeeded, Skipped or Daemoned, as Argo reads it) or `task.Result`.
    Task(String, Option<TaskResult>),
    /// `!expr`.
    Not(Box<Depends>),
    /// `a && b`.
    And(Box<Depends>, Box<Depends>),
    /// `a || b`.
    Or(Box<Depends>, Box<Depends>),
}

/// A `depends` expression that cannot be parsed, with the character offset of the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DependsError {
    /// What is wrong.
    pub message: String,
    /// Offset in characters from the start of the expression.
    pub offset: usize,
}

impl fmt::Display for DependsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Depends {
    /// Every task name the expression mentions, in order of appearance, without repeats.
    pub fn task_names(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Depends::Task(name, _) => {
                if !out.contains(&name.as_str()) {
                    out.push(name);
                }
            }
            Depends::Not(e) => e.collect(out),
            Depends::And(a, b) | Depends::Or(a, b) => {
                a.collect(out);
                b.collect(out);
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Name(String),
    Dot,
    And,
    Or,
    Not,
    Open,
    Close,
}

fn tokenize(text: &str) -> Result<Vec<(Token, usize)>, DependsError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let token = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '&' | '|' => {
                if chars.get(i + 1) != Some(&c) {
                    return Err(DependsError {
                        message: format!("`{c}` must be doubled: write `{c}{c}`"),
                        offset: i,
                    });
                }
                i += 2;
                tokens.push((if c == '&' { Token::And } else { Token::Or }, i - 2));
                continue;
            }
            '!' => Token::Not,
            '(' => Token::Open,
            ')' => Token::Close,
            '.' => Token::Dot,
            c if c.is_alphanumeric() || c == '-' || c == '_' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || chars[i] == '-' || chars[i] == '_')
                {
                    i += 1;
                }
                tokens.push((Token::Name(chars[start..i].iter().collect()), start));
                continue;
            }
            other => {
                return Err(DependsError {
                    message: format!("unexpected `{other}`"),
                    offset: i,
                });
            }
        };
        tokens.push((token, i));
        i += 1;
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<(Token, usize)>,
    pos: usize,
    end: usize,
    depth: usize,
}

/// Parses a `depends` expression.
pub fn parse_depends(text: &str) -> Result<Depends, DependsError> {
    let tokens = tokenize(text)?;
    let mut parser = Parser {
        tokens,
        pos: 0,
        end: text.chars().count(),
        depth: 0,
    };
    let expr = parser.or()?;
    if let Some((_, offset)) = parser.tokens.get(parser.pos) {
        return Err(DependsError {
            message: "expected `&&` or `||` between tasks".into(),
            offset: *offset,
        });
    }
    Ok(expr)
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos).map(|(t, _)| t)
    }

    fn offset(&self) -> usize {
        self.tokens.get(self.pos).map_or(self.end, |(_, o)| *o)
    }

    fn or(&mut self) -> Result<Depends, DependsError> {
        let mut left = self.and()?;
        while self.peek() == Some(&Token::Or) {
            self.pos += 1;
            left = Depends::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Depends, DependsError> {
        let mut left = self.unary()?;
        while self.peek() == Some(&Token::And) {
            self.pos += 1;
            left = Depends::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Depends, DependsError> {
        self.depth += 1;
        if self.depth > 100 {
            return Err(DependsError {
                message: "expression nested too deeply".into(),
                offset: self.offset(),
            });
        }
        let result = match self.peek().cloned() {
            Some(Token::Not) => {
                self.pos += 1;
                self.unary().map(|e| Depends::Not(Box::new(e)))
            }
            Some(Token::Open) => {
                self.pos += 1;
                let inner = self.or()?;
                if self.peek() != Some(&Token::Close) {
                    return Err(DependsError {
                        message: "missing `)`".into(),
                        offset: self.offset(),
                    });
                }
                self.pos += 1;
                Ok(inner)
            }
            Some(Token::Name(name)) => {
                self.pos += 1;
                self.result(name)
            }
            _ => Err(DependsError {
                message: "expected a task name".into(),
                offset: self.offset(),
            }),
        };
        self.depth -= 1;
        result
    }

    fn result(&mut self, name: String) -> Result<Depends, DependsError> {
        if self.peek() != Some(&Token::Dot) {
            return Ok(Depends::Task(name, None));
        }
        self.pos += 1;
        let offset = self.offset();
        match self.peek().cloned() {
            Some(Token::Name(result)) => {
                self.pos += 1;
                match RESULTS.iter().find(|(n, _)| *n == result) {
                    Some((_, r)) => Ok(Depends::Task(name, Some(*r))),
                    None => {
                        let names: Vec<&str> = RESULTS.iter().map(|(n, _)| *n).collect();
                        let hint = crate::diag::did_you_mean(&result, names.iter().copied())
                            .map(|s| format!("; did you mean `{s}`?"))
                            .unwrap_or_else(|| format!("; use one of {}", names.join(", ")));
                        Err(DependsError {
                            message: format!("`{result}` is not a task result{hint}"),
                            offset,
                        })
                    }
                }
            }
            _ => Err(DependsError {
                message: "expected a result such as `Succeeded` after `.`".into(),
                offset,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_argo_depends() {
        let e = parse_depends("lint && unit-tests && (it.Succeeded || it.Skipped) && !b.Failed")
            .unwrap();
        assert_eq!(e.task_names(), ["lint", "unit-tests", "it", "b"]);
        assert_eq!(parse_depends("a").unwrap(), Depends::Task("a".into(), None));
        assert_eq!(
            parse_depends("a.AnySucceeded").unwrap(),
            Depends::Task("a".into(), Some(TaskResult::AnySucceeded))
        );
    }

    #[test]
    fn explains_mistakes() {
        assert!(parse_depends("a & b").unwrap_err().message.contains("`&&`"));
        assert_eq!(
            parse_depends("a.Succeded").unwrap_err().message,
            "`Succeded` is not a task result; did you mean `Succeeded`?"
        );
        assert!(
            parse_depends("(a || b")
                .unwrap_err()
                .message
                .contains("missing `)`")
        );
        assert!(
            parse_depends("a b")
                .unwrap_err()
                .message
                .contains("between tasks")
        );
        assert!(parse_depends("").is_err());
        assert!(parse_depends(&"(".repeat(500)).is_err());
    }
}

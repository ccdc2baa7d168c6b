//! Errors of the expression languages: what went wrong, and where in the source.

use std::fmt;

/// A place in an expression's source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    /// Offset in characters from the start of the source.
    pub offset: usize,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

impl Position {
    /// The position of the `offset`-th character of `src` (clamped to its end).
    pub fn locate(src: &str, offset: usize) -> Position {
        let mut line = 1;
        let mut column = 1;
        for (i, c) in src.chars().enumerate() {
            if i == offset {
                break;
            }
            if c == '\n' {
                line += 1;
                column = 1;
            } else {
                column += 1;
            }
        }
        Position {
            offset,
            line,
            column,
        }
    }

    /// A position known only by its character offset; [`ExprError::locate`] fills in the rest.
    pub(crate) fn at(offset: usize) -> Position {
        Position {
            offset,
            line: 0,
            column: 0,
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Why an expression (expr-lang, or a govaluate `when`) could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExprError {
    /// The source is not a well-formed expression: a bad token, an unbalanced bracket, an early end.
    #[error("syntax error at {position}: {message}")]
    Syntax {
        /// What is wrong.
        message: String,
        /// Where.
        position: Position,
    },
    /// The expression is well formed but evaluating it failed: a type mismatch, a bad argument,
    /// an unknown function, a result that is not what was asked for.
    #[error("{message} (at {position})")]
    Eval {
        /// What is wrong.
        message: String,
        /// The operator or call that failed.
        position: Position,
    },
    /// The expression nests deeper than the evaluator allows.
    #[error("expression nested too deeply at {position}: the limit is {limit} levels")]
    TooDeep {
        /// Where the limit was reached.
        position: Position,
        /// The limit.
        limit: usize,
    },
    /// Evaluating would build values larger, or run longer, than the evaluator allows.
    #[error("{message} (at {position})")]
    Limit {
        /// Which limit was exceeded.
        message: String,
        /// The operator or call that exceeded it.
        position: Position,
    },
}

impl ExprError {
    /// Where in the source the problem is.
    pub fn position(&self) -> Position {
        match self {
            ExprError::Syntax { position, .. }
            | ExprError::Eval { position, .. }
            | ExprError::TooDeep { position, .. }
            | ExprError::Limit { position, .. } => *position,
        }
    }

    /// What is wrong, without the position.
    pub fn message(&self) -> String {
        match self {
            ExprError::Syntax { message, .. }
            | ExprError::Eval { message, .. }
            | ExprError::Limit { message, .. } => message.clone(),
            ExprError::TooDeep { limit, .. } => {
                format!("expression nested too deeply: the limit is {limit} levels")
            }
        }
    }

    /// Fills in the line and column of the position from the source text.
    pub(crate) fn locate(mut self, src: &str) -> ExprError {
        let position = match &mut self {
            ExprError::Syntax { position, .. }
            | ExprError::Eval { position, .. }
            | ExprError::TooDeep { position, .. }
            | ExprError::Limit { position, .. } => position,
        };
        *position = Position::locate(src, position.offset);
        self
    }

    pub(crate) fn syntax(message: impl Into<String>, offset: usize) -> ExprError {
        ExprError::Syntax {
            message: message.into(),
            position: Position::at(offset),
        }
    }

    pub(crate) fn eval(message: impl Into<String>, offset: usize) -> ExprError {
        ExprError::Eval {
            message: message.into(),
            position: Position::at(offset),
        }
    }
}

/// A failure inside a function or an operator, before it is tied to a place in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fail {
    /// A type mismatch or a bad argument.
    Msg(String),
    /// A size or time limit.
    Limit(String),
}

impl Fail {
    /// Ties the failure to the character `offset` of the source.
    pub(crate) fn at(self, offset: usize) -> ExprError {
        match self {
            Fail::Msg(message) => ExprError::eval(message, offset),
            Fail::Limit(message) => ExprError::Limit {
                message,
                position: Position::at(offset),
            },
        }
    }
}

impl From<String> for Fail {
    fn from(message: String) -> Self {
        Fail::Msg(message)
    }
}

impl From<&str> for Fail {
    fn from(message: &str) -> Self {
        Fail::Msg(message.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_counts_lines_and_characters() {
        let cases = [
            ("abc", 0, (1, 1)),
            ("abc", 2, (1, 3)),
            ("a\nbc", 3, (2, 2)),
            ("hé\nx", 3, (2, 1)),
            ("ab", 10, (1, 3)),
        ];
        for (src, offset, (line, column)) in cases {
            let p = Position::locate(src, offset);
            assert_eq!((p.line, p.column), (line, column), "{src:?} @ {offset}");
        }
    }

    #[test]
    fn errors_show_message_and_position() {
        let e = ExprError::eval("bad", 2).locate("a +\"x\"");
        assert_eq!(e.to_string(), "bad (at 1:3)");
        assert_eq!(e.message(), "bad");
        assert_eq!(e.position().column, 3);
        let d = ExprError::TooDeep {
            position: Position::at(0),
            limit: 3,
        }
        .locate("x");
        assert!(d.message().contains("limit is 3"));
        let l = Fail::Limit("memory budget exceeded".into()).at(0);
        assert!(matches!(l, ExprError::Limit { .. }));
    }
}

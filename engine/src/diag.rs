//! Diagnostics: what is wrong, where, and how to fix it — rendered the way rustc prints them.

use std::fmt::Write as _;

use serde::Serialize;

use crate::yaml::{Seg, Span, path_to_string};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The manifest is wrong: it would not run, or not as written.
    Error,
    /// The manifest works but uses something deprecated or unverifiable here.
    Warning,
}

/// One finding about a manifest.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// A stable, kebab-case identifier of the rule (e.g. `unknown-field`), for machines and docs.
    pub code: &'static str,
    /// What is wrong, in one sentence.
    pub message: String,
    /// The path of the offending value inside its document, e.g. `spec.templates[0].container`.
    pub path: String,
    /// Where in the source, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span: Option<Span>,
    /// A short note printed under the caret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// How to fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error of rule `code` at `path`.
    pub fn error(code: &'static str, path: &[Seg], message: impl Into<String>) -> Self {
        Self::new(Severity::Error, code, path, message)
    }

    /// A warning of rule `code` at `path`.
    pub fn warning(code: &'static str, path: &[Seg], message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, code, path, message)
    }

    fn new(
        severity: Severity,
        code: &'static str,
        path: &[Seg],
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity,
            code,
            message: message.into(),
            path: path_to_string(path),
            span: None,
            label: None,
            help: None,
        }
    }

    /// Adds advice on how to fix it.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a note to print under the caret.
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Sets the source span.
    pub fn at(mut self, span: Span) -> Self {
        self.span = Some(span);
        self
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// The closest of `candidates` to `word`, if any is close enough to be a plausible typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&lower, &c.to_ascii_lowercase()), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// ANSI styles used when rendering for a terminal.
struct Style {
    error: &'static str,
    warning: &'static str,
    accent: &'static str,
    bold: &'static str,
    reset: &'static str,
}

const COLOR: Style = Style {
    error: "\x1b[1;31m",
    warning: "\x1b[1;33m",
    accent: "\x1b[1;34m",
    bold: "\x1b[1m",
    reset: "\x1b[0m",
};

const PLAIN: Style = Style {
    error: "",
    warning: "",
    accent: "",
    bold: "",
    reset: "",
};

/// Renders a diagnostic like rustc does: headline, `--> file:line:col`, the source line with a caret
/// under the offending text, and the help.
pub fn render(diag: &Diagnostic, file: &str, source: &str, color: bool) -> String {
    let s = if color { &COLOR } else { &PLAIN };
    let (word, tone) = match diag.severity {
        Severity::Error => ("error", s.error),
        Severity::Warning => ("warning", s.warning),
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{tone}{word}[{}]{reset}{bold}: {}{reset}",
        diag.code,
        diag.message,
        reset = s.reset,
        bold = s.bold
    );
    let Some(span) = diag.span else {
        let _ = writeln!(out, "  {}-->{} {file}", s.accent, s.reset);
        if !diag.path.is_empty() {
            let _ = writeln!(out, "   {}={} at `{}`", s.accent, s.reset, diag.path);
        }
        if let Some(help) = &diag.help {
            let _ = writeln!(out, "   {}={} help: {help}", s.accent, s.reset);
        }
        return out;
    };
    let line_no = span.start.line.max(1);
    let gutter = line_no.to_string().len();
    let pad = " ".repeat(gutter);
    let _ = writeln!(out, "{pad}{}-->{} {file}:{}", s.accent, s.reset, span.start);
    let _ = writeln!(out, "{pad} {}|{}", s.accent, s.reset);
    let text = source.lines().nth(line_no as usize - 1).unwrap_or("");
    let _ = writeln!(out, "{}{line_no} |{} {text}", s.accent, s.reset);
    let col = span.start.column.max(1) as usize - 1;
    let width = if span.end.line == span.start.line && span.end.column > span.start.column {
        (span.end.column - span.start.column) as usize
    } else {
        text.chars().count().saturating_sub(col).max(1)
    };
    let lead: String = text
        .chars()
        .take(col)
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    let label = diag
        .label
        .as_deref()
        .map(|l| format!(" {l}"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{pad} {}|{} {lead}{tone}{}{label}{reset}",
        s.accent,
        s.reset,
        "^".repeat(width.max(1)),
        reset = s.reset
    );
    if !diag.path.is_empty() || diag.help.is_some() {
        let _ = writeln!(out, "{pad} {}|{}", s.accent, s.reset);
    }
    if !diag.path.is_empty() {
        let _ = writeln!(out, "{pad} {}={} at `{}`", s.accent, s.reset, diag.path);
    }
    if let Some(help) = &diag.help {
        let _ = writeln!(
            out,
            "{pad} {}={} {}help{}: {help}",
            s.accent, s.reset, s.bold, s.reset
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::Pos;

    #[test]
    fn suggestions_pick_the_closest_plausible_name() {
        let fields = ["command", "args", "image", "env"];
        assert_eq!(did_you_mean("comand", fields), Some("command"));
        assert_eq!(did_you_mean("Image", fields), Some("image"));
        assert_eq!(did_you_mean("zzz", fields), None);
    }

    #[test]
    fn renders_like_rustc() {
        let source = "kind: Workflow\nspec:\n  comand: [x]\n";
        let diag = Diagnostic::error(
            "unknown-field",
            &["spec".into(), "comand".into()],
            "unknown field `comand`",
        )
        .at(Span {
            start: Pos { line: 3, column: 3 },
            end: Pos { line: 3, column: 9 },
        })
        .with_help("did you mean `command`?");
        let text = render(&diag, "wf.yaml", source, false);
        assert_eq!(
            text,
            "error[unknown-field]: unknown field `comand`\n \
             --> wf.yaml:3:3\n  |\n3 |   comand: [x]\n  |   ^^^^^^\n  |\n  \
             = at `spec.comand`\n  = help: did you mean `command`?\n"
        );
    }
}

//! `trellis lint`: check manifests and print diagnostics the way rustc does.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use engine::diag::{Diagnostic, Severity, render};
use engine::lint::CheckedFile;
use serde::Serialize;

use crate::manifests::{self, ManifestFile};

/// Flags of `trellis lint`.
#[derive(Debug, Args)]
pub struct LintArgs {
    /// Files or directories to lint. Directories are searched recursively for `*.yaml`, `*.yml` and
    /// `*.json`; a file may hold several documents separated by `---`. References between the files
    /// (`templateRef`, `workflowTemplateRef`) are checked. `-` reads standard input.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format: `text` for people, `json` for machines.
    #[arg(long, short = 'o', value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// Treat warnings as errors (exit 1 when there are any).
    #[arg(long)]
    pub strict: bool,
}

/// How `trellis lint` prints its findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// Human-readable, like rustc.
    Text,
    /// One JSON document.
    Json,
}

/// The JSON report of `trellis lint --output json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// How many manifests were checked.
    pub manifests: usize,
    /// How many errors were found.
    pub errors: usize,
    /// How many warnings were found.
    pub warnings: usize,
    /// Every finding.
    pub diagnostics: Vec<JsonDiagnostic>,
}

/// One finding with its file, for machines.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonDiagnostic {
    /// The file it is in.
    pub file: String,
    /// 1-based line, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// 1-based column, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// The finding itself.
    #[serde(flatten)]
    pub diagnostic: Diagnostic,
}

/// Runs `trellis lint`; returns whether the manifests passed.
pub fn run(args: &LintArgs) -> anyhow::Result<bool> {
    let paths = manifests::collect(&args.paths)?;
    if paths.is_empty() {
        anyhow::bail!(
            "no manifests found in {}: lint looks for *.yaml, *.yml and *.json files",
            args.paths
                .iter()
                .map(|p| format!("`{}`", p.display()))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let files = manifests::read(&paths)?;
    let checked = manifests::lint(&files);
    let report = report(&checked);
    let failed = report.errors > 0 || (args.strict && report.warnings > 0);
    match args.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Output::Text => print!("{}", text(&files, &checked, &report, color())),
    }
    Ok(!failed)
}

fn color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// Counts and flattens the findings.
pub fn report(checked: &[CheckedFile]) -> Report {
    let diagnostics: Vec<JsonDiagnostic> = checked
        .iter()
        .flat_map(|f| {
            f.diagnostics.iter().map(|d| JsonDiagnostic {
                file: f.name.clone(),
                line: d.span.map(|s| s.start.line),
                column: d.span.map(|s| s.start.column),
                diagnostic: d.clone(),
            })
        })
        .collect();
    let count = |s: Severity| {
        diagnostics
            .iter()
            .filter(|d| d.diagnostic.severity == s)
            .count()
    };
    Report {
        manifests: checked.iter().map(CheckedFile::checked).sum(),
        errors: count(Severity::Error),
        warnings: count(Severity::Warning),
        diagnostics,
    }
}

/// The human-readable report: every diagnostic, then a summary line.
pub fn text(
    files: &[ManifestFile],
    checked: &[CheckedFile],
    report: &Report,
    color: bool,
) -> String {
    let mut out = String::new();
    for (file, result) in files.iter().zip(checked) {
        for d in &result.diagnostics {
            out.push_str(&render(d, &file.name, &file.text, color));
            out.push('\n');
        }
    }
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    if report.errors == 0 {
        let warnings = if report.warnings > 0 {
            format!(" ({})", plural(report.warnings, "warning"))
        } else {
            String::new()
        };
        out.push_str(&format!(
            "✔ {} valid{warnings}\n",
            plural(report.manifests, "manifest")
        ));
    } else {
        out.push_str(&format!(
            "✖ {} and {} in {}\n",
            plural(report.errors, "error"),
            plural(report.warnings, "warning"),
            plural(report.manifests, "manifest")
        ));
    }
    out
}

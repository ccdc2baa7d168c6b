//! Lints Argo's own examples (all must pass with zero errors) and its negative cases (all must fail,
//! naming the real problem).

use std::path::{Path, PathBuf};

use engine::diag::{Severity, render};
use engine::lint::{Source, check};

fn corpus(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/conformance")
        .join(dir)
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_argo_example_lints_without_errors() {
    let root = corpus("argo-examples");
    let files = yaml_files(&root);
    assert_eq!(files.len(), 217, "the corpus has 217 examples");
    let texts: Vec<(String, String)> = files
        .iter()
        .map(|p| {
            let name = p.strip_prefix(&root).unwrap().display().to_string();
            (name, std::fs::read_to_string(p).unwrap())
        })
        .collect();
    let sources: Vec<Source<'_>> = texts
        .iter()
        .map(|(name, text)| Source { name, text })
        .collect();
    let mut failures = String::new();
    let mut manifests = 0;
    let mut warnings = 0;
    for (file, (_, text)) in check(&sources).iter().zip(&texts) {
        manifests += file.checked();
        for d in &file.diagnostics {
            match d.severity {
                Severity::Error => failures.push_str(&render(d, &file.name, text, false)),
                Severity::Warning => warnings += 1,
            }
        }
    }
    assert!(
        failures.is_empty(),
        "errors in Argo's examples:\n{failures}"
    );
    println!("{manifests} manifests in 217 files: 0 errors, {warnings} warnings");
    assert!(manifests >= 217);
}

/// Each negative case, and a word its diagnostics must contain.
const NEGATIVE: [(&str, &str); 8] = [
    (
        "lintfail/disallow-unknown.yaml",
        "unknown field `someExtraField` in `container`",
    ),
    (
        "lintfail/invalid-spec.yaml",
        "entrypoint `doesnotexist` is not a template",
    ),
    (
        "lintfail/malformed-spec.yaml",
        "expected a string, found a list",
    ),
    (
        "malformed/malformed-clusterworkflowtemplate.yaml",
        "expected a list, found a mapping",
    ),
    (
        "malformed/malformed-cronworkflow.yaml",
        "expected a list, found a mapping",
    ),
    (
        "malformed/malformed-workflow.yaml",
        "expected a list, found a mapping",
    ),
    (
        "malformed/malformed-workflowtemplate-2.yaml",
        "this template has no name",
    ),
    (
        "malformed/malformed-workflowtemplate.yaml",
        "expected a list, found a mapping",
    ),
];

#[test]
fn every_negative_case_is_rejected_for_its_real_problem() {
    let root = corpus("argo-negative");
    let on_disk: Vec<String> = yaml_files(&root)
        .iter()
        .map(|p| p.strip_prefix(&root).unwrap().display().to_string())
        .collect();
    let listed: Vec<String> = NEGATIVE.iter().map(|(f, _)| f.to_string()).collect();
    assert_eq!(on_disk, listed, "every negative case has an expectation");
    for (file, expected) in NEGATIVE {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        let checked = check(&[Source {
            name: file,
            text: &text,
        }]);
        let errors: Vec<String> = checked[0]
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| render(d, file, &text, false))
            .collect();
        assert!(
            errors.iter().any(|e| e.contains(expected)),
            "{file}: expected an error containing {expected:?}, got:\n{}",
            errors.join("\n")
        );
    }
}

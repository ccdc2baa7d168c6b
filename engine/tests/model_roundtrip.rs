//! Round-trips every Argo example through `engine::model` with Trellis' own strict parser.
//!
//! For each document of `shared/conformance/argo-examples`: read it (a) as plain YAML → JSON and
//! (b) into the typed model picked by its `kind` (no unknown field, no type error allowed), serialize
//! (b) back to JSON and compare with (a), scalars compared by their text (`AnyString` turns numbers
//! into strings) and absent == null.

use std::path::{Path, PathBuf};

use engine::parse::parse_file;
use serde_json::Value;

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "yaml") {
            out.push(path);
        }
    }
}

/// Scalars become their text; null object members vanish.
fn normalize(v: &Value) -> Value {
    match v {
        Value::Null => Value::Null,
        Value::Bool(b) => Value::String(b.to_string()),
        Value::Number(n) => Value::String(match n.as_f64() {
            Some(f) if n.is_f64() => f.to_string(),
            _ => n.to_string(),
        }),
        Value::String(s) => Value::String(s.clone()),
        Value::Array(a) => Value::Array(a.iter().map(normalize).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), normalize(v)))
                .collect(),
        ),
    }
}

/// Every difference between two normalized values, with its path.
fn diff(path: &str, expected: &Value, actual: &Value, out: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            let keys: std::collections::BTreeSet<&String> = e.keys().chain(a.keys()).collect();
            for k in keys {
                let p = format!("{path}.{k}");
                match (e.get(k), a.get(k)) {
                    (Some(ev), Some(av)) => diff(&p, ev, av, out),
                    (Some(ev), None) => {
                        out.push(format!("{p}: missing after round-trip (was {ev})"))
                    }
                    (None, Some(av)) => out.push(format!("{p}: added by round-trip ({av})")),
                    (None, None) => {}
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                out.push(format!("{path}: {} items became {}", e.len(), a.len()));
            }
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                diff(&format!("{path}[{i}]"), ev, av, out);
            }
        }
        _ if expected == actual => {}
        _ => out.push(format!("{path}: {expected} became {actual}")),
    }
}

#[test]
fn every_argo_example_round_trips_through_the_model() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance/argo-examples");
    let mut files = Vec::new();
    yaml_files(&root, &mut files);
    assert_eq!(files.len(), 217);
    let mut problems = Vec::new();
    let mut round_tripped = 0;
    for path in &files {
        let name = path.strip_prefix(&root).unwrap().display().to_string();
        let text = std::fs::read_to_string(path).unwrap();
        let parsed = parse_file(&text);
        problems.extend(
            parsed
                .diagnostics
                .iter()
                .filter(|d| d.is_error())
                .map(|d| format!("{name}: {}", d.message)),
        );
        for doc in &parsed.documents {
            for d in doc.diagnostics.iter().filter(|d| d.is_error()) {
                problems.push(format!("{name}: {} at {}", d.message, d.path));
            }
            let Some(manifest) = &doc.manifest else {
                continue;
            };
            let original = normalize(&engine::yaml::to_json(&doc.node));
            let back = normalize(&serde_json::to_value(manifest).unwrap());
            let mut diffs = Vec::new();
            diff("", &original, &back, &mut diffs);
            problems.extend(
                diffs
                    .into_iter()
                    .map(|d| format!("{name} document {}: {d}", doc.index)),
            );
            round_tripped += 1;
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(
        round_tripped >= 224,
        "only {round_tripped} Argo documents were read"
    );
}

#[test]
fn yaml_1_1_octal_modes_read_as_go_reads_them() {
    let text = "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {generateName: m-}\nspec:\n  entrypoint: main\n  templates:\n  - name: main\n    inputs:\n      artifacts:\n      - {name: a, path: /tmp/a, mode: 0755, raw: {data: x}}\n    container: {image: alpine}\n";
    let parsed = parse_file(text);
    let json = serde_json::to_value(parsed.documents[0].manifest.as_ref().unwrap()).unwrap();
    assert_eq!(
        json["spec"]["templates"][0]["inputs"]["artifacts"][0]["mode"],
        493
    );
}

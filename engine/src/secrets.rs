//! Secret parameters: a template marks some of its parameters secret (annotation
//! `trellis.dev/secret: "token, password"`, or `trellis.dev/type.<name>: secret`); a run made from
//! it carries the names in its own `trellis.dev/secret` annotation, and wherever Trellis shows
//! the run (history, parameters, logs) their values are masked.

use std::collections::BTreeMap;

use crate::model::Workflow;

/// The annotation naming secret parameters, comma-separated.
pub const SECRET_ANNOTATION: &str = "trellis.dev/secret";
/// The annotation prefix of a parameter's type hint (`trellis.dev/type.<parameter>`).
pub const TYPE_HINT_PREFIX: &str = "trellis.dev/type.";
/// The type hints a parameter can have.
pub const TYPE_HINTS: [&str; 6] = [
    "boolean",
    "number",
    "integer",
    "text",
    "multiline",
    "secret",
];
/// What a secret's value is shown as.
pub const MASK: &str = "••••••";
/// Values shorter than this are not redacted from logs (masking `1` would mask every digit).
const MIN_REDACTED: usize = 3;

/// The secret parameters named by a resource's annotations, sorted.
pub fn secret_names(annotations: Option<&BTreeMap<String, String>>) -> Vec<String> {
    let Some(a) = annotations else {
        return Vec::new();
    };
    let mut names: Vec<String> = a
        .get(SECRET_ANNOTATION)
        .into_iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    names.extend(
        a.iter()
            .filter(|(_, v)| v.trim() == "secret")
            .filter_map(|(k, _)| k.strip_prefix(TYPE_HINT_PREFIX))
            .map(str::to_string),
    );
    names.sort();
    names.dedup();
    names
}

/// The secret parameters of a run.
pub fn run_secrets(wf: &Workflow) -> Vec<String> {
    secret_names(wf.metadata.as_ref().and_then(|m| m.annotations.as_ref()))
}

/// The values a run was given for its secret parameters.
pub fn secret_values(wf: &Workflow) -> Vec<String> {
    let names = run_secrets(wf);
    if names.is_empty() {
        return Vec::new();
    }
    wf.spec
        .as_ref()
        .and_then(|s| s.arguments.as_ref())
        .and_then(|a| a.parameters.as_ref())
        .into_iter()
        .flatten()
        .filter(|p| p.name.as_ref().is_some_and(|n| names.contains(n)))
        .filter_map(|p| p.value.as_ref().map(|v| v.0.clone()))
        // A multi-line secret is also masked line by line (logs and YAML show it so).
        .flat_map(|v| {
            let lines: Vec<String> = v
                .lines()
                .map(str::trim)
                .filter(|l| l.chars().count() >= MIN_REDACTED)
                .map(str::to_string)
                .collect();
            let multi = lines.len() > 1;
            std::iter::once(v).chain(lines.into_iter().filter(move |_| multi))
        })
        .collect()
}

/// Every string in `value` with each of `values` masked (before it is shown as YAML, whose
/// quoting and escaping would hide a secret from [`redact`]).
pub fn redact_json(value: &mut serde_json::Value, values: &[String]) {
    match value {
        serde_json::Value::String(s) => *s = redact(s, values),
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| redact_json(v, values)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| redact_json(v, values)),
        _ => {}
    }
}

/// Replaces the value of each pair whose name is in `names` with [`MASK`].
pub fn mask(pairs: &mut [(String, String)], names: &[String]) {
    for (k, v) in pairs {
        if names.contains(k) {
            *v = MASK.to_string();
        }
    }
}

/// `text` with every occurrence of each of `values` replaced by [`MASK`].
pub fn redact(text: &str, values: &[String]) -> String {
    let mut out = text.to_string();
    for v in values.iter().filter(|v| v.chars().count() >= MIN_REDACTED) {
        if out.contains(v.as_str()) {
            out = out.replace(v.as_str(), MASK);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_list_and_the_type_hints() {
        let a = BTreeMap::from([
            (SECRET_ANNOTATION.to_string(), " token, ,pw ".to_string()),
            (format!("{TYPE_HINT_PREFIX}key"), "secret".to_string()),
            (format!("{TYPE_HINT_PREFIX}n"), "number".to_string()),
        ]);
        assert_eq!(secret_names(Some(&a)), ["key", "pw", "token"]);
        assert!(secret_names(None).is_empty());
    }

    #[test]
    fn values_are_masked_and_redacted() {
        let wf: Workflow = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "w", "annotations": {SECRET_ANNOTATION: "token"}},
            "spec": {"arguments": {"parameters": [
                {"name": "token", "value": "s3cret"}, {"name": "env", "value": "dev"}]}}
        }))
        .unwrap();
        assert_eq!(secret_values(&wf), ["s3cret"]);
        let mut pairs = vec![
            ("token".into(), "s3cret".into()),
            ("env".into(), "dev".into()),
        ];
        mask(&mut pairs, &run_secrets(&wf));
        assert_eq!(pairs[0].1, MASK);
        assert_eq!(pairs[1].1, "dev");
        assert_eq!(
            redact("login with s3cret now", &secret_values(&wf)),
            format!("login with {MASK} now")
        );
        assert_eq!(redact("a1b", &["1".into()]), "a1b");
    }

    #[test]
    fn multi_line_secrets_are_masked_line_by_line_and_in_json() {
        let wf: Workflow = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "w", "annotations": {SECRET_ANNOTATION: "key"}},
            "spec": {"arguments": {"parameters": [
                {"name": "key", "value": "-----BEGIN-----\nabcdef\n-----END-----"}]}}
        }))
        .unwrap();
        let values = secret_values(&wf);
        assert_eq!(redact("  abcdef", &values), format!("  {MASK}"));
        let mut v =
            serde_json::json!({"a": ["x@\"-----BEGIN-----\nabcdef\n-----END-----"], "n": 1});
        redact_json(&mut v, &values);
        assert_eq!(v["a"][0], format!("x@\"{MASK}"));
    }
}

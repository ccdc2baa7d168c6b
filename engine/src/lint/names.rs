//! Name rules: Kubernetes object names, template/step/task names and parameter names.

use super::Lint;
use crate::diag::Diagnostic;
use crate::model::Manifest;
use crate::yaml::Seg;

/// Checks `metadata.name` / `metadata.generateName` and `metadata.namespace`.
pub fn metadata(cx: &mut Lint<'_>, manifest: &Manifest) {
    let (max, what) = match manifest {
        Manifest::CronWorkflow(_) => (52, "CronWorkflow names"),
        _ => (63, "names"),
    };
    let meta = manifest.metadata();
    let name = meta
        .and_then(|m| m.name.as_deref())
        .filter(|n| !n.is_empty());
    let generate = meta
        .and_then(|m| m.generate_name.as_deref())
        .filter(|n| !n.is_empty());
    match (name, generate) {
        (None, None) if matches!(manifest, Manifest::Workflow(_)) => cx.push(
            Diagnostic::warning(
                "missing-name",
                &["metadata".into()],
                "the Workflow has no `metadata.name` or `metadata.generateName`; a name will be generated",
            )
            .with_help("add `generateName: my-pipeline-` under `metadata` to choose how its runs are named"),
        ),
        (None, None) => cx.push(
            Diagnostic::error(
                "missing-name",
                &["metadata".into()],
                format!("the {} has no `metadata.name`", manifest.kind()),
            )
            .with_help("add `name: my-name` under `metadata`"),
        ),
        (Some(name), _) => {
            if let Some(problem) = dns_subdomain_problem(name, max, what) {
                cx.push(
                    Diagnostic::error(
                        "invalid-name",
                        &["metadata".into(), "name".into()],
                        format!("`{name}` is not a valid name: {problem}"),
                    )
                    .with_help(suggest_dns(name)),
                );
            }
        }
        (None, Some(prefix)) => {
            let candidate = format!("{prefix}x");
            if let Some(problem) = dns_subdomain_problem(&candidate, max, what) {
                cx.push(
                    Diagnostic::error(
                        "invalid-name",
                        &["metadata".into(), "generateName".into()],
                        format!("`{prefix}` is not a valid name prefix: {problem}"),
                    )
                    .with_help(suggest_dns(prefix)),
                );
            }
        }
    }
    if let Some(ns) = meta.and_then(|m| m.namespace.as_deref())
        && let Some(problem) = dns_label_problem(ns)
    {
        cx.push(
            Diagnostic::error(
                "invalid-name",
                &["metadata".into(), "namespace".into()],
                format!("`{ns}` is not a valid namespace: {problem}"),
            )
            .with_help(suggest_dns(ns)),
        );
    }
}

fn suggest_dns(name: &str) -> String {
    let fixed: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!(
        "use lowercase letters, digits, `-` and `.`, e.g. `{}`",
        fixed.trim_matches('-')
    )
}

/// Why `name` is not a DNS-1123 subdomain of at most `max` characters, if it is not.
pub fn dns_subdomain_problem(name: &str, max: usize, what: &str) -> Option<String> {
    if name.len() > max {
        return Some(format!(
            "{what} may have at most {max} characters, this one has {}",
            name.len()
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '.'))
    {
        return Some(format!(
            "`{c}` is not allowed (only lowercase letters, digits, `-` and `.`)"
        ));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric())
        || !name.ends_with(|c: char| c.is_ascii_alphanumeric())
    {
        return Some("it must start and end with a letter or digit".into());
    }
    None
}

/// Why `name` is not a DNS-1123 label (namespaces), if it is not.
pub fn dns_label_problem(name: &str) -> Option<String> {
    if name.contains('.') {
        return Some("`.` is not allowed".into());
    }
    dns_subdomain_problem(name, 63, "namespaces")
}

/// Why `name` is not a valid template, step or task name (Argo: letters, digits and `-`, starting with
/// a letter or digit, at most 128 characters), if it is not. `{{…}}` placeholders are allowed in step
/// names, as Argo allows them.
pub fn field_name_problem(name: &str) -> Option<String> {
    let skeleton = strip_tags(name);
    if name.len() > 128 {
        return Some(format!(
            "names may have at most 128 characters, this one has {}",
            name.len()
        ));
    }
    if let Some(c) = skeleton
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        return Some(format!(
            "`{c}` is not allowed (only letters, digits and `-`)"
        ));
    }
    if !skeleton.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Some("it must start with a letter or digit".into());
    }
    None
}

/// Why `name` is not a valid parameter or artifact name (letters, digits, `_` and `-`), if it is not.
pub fn param_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("the name is empty".into());
    }
    name.chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        .map(|c| format!("`{c}` is not allowed (only letters, digits, `_` and `-`)"))
}

/// Replaces every `{{…}}` tag with `x`, so the literal parts of a name can be checked.
fn strip_tags(name: &str) -> String {
    let mut out = String::new();
    let mut rest = name;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        match rest[start..].find("}}") {
            Some(end) => {
                out.push('x');
                rest = &rest[start + end + 2..];
            }
            None => {
                rest = &rest[start..];
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Reports every name in `names` that is empty, invalid, or used twice. `kind` is e.g. "template".
pub fn check_list<'n>(
    cx: &mut Lint<'_>,
    names: impl IntoIterator<Item = (Vec<Seg>, Option<&'n str>)>,
    kind: &str,
    problem: fn(&str) -> Option<String>,
) {
    let mut seen: Vec<&'n str> = Vec::new();
    for (path, name) in names {
        let name_path = super::join(&path, &["name".into()]);
        match name {
            None | Some("") => cx.push(
                Diagnostic::error("missing-name", &path, format!("this {kind} has no name"))
                    .with_help(format!("add `name:`; every {kind} needs a unique name")),
            ),
            Some(name) => {
                if let Some(p) = problem(name) {
                    cx.push(Diagnostic::error(
                        "invalid-name",
                        &name_path,
                        format!("{kind} name `{name}` is invalid: {p}"),
                    ));
                }
                if seen.contains(&name) {
                    cx.push(
                        Diagnostic::error(
                            "duplicate-name",
                            &name_path,
                            format!("there is already a {kind} named `{name}`"),
                        )
                        .with_help(format!("give each {kind} a unique name")),
                    );
                } else {
                    seen.push(name);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_rules() {
        assert_eq!(dns_subdomain_problem("hello-world", 63, "names"), None);
        assert!(
            dns_subdomain_problem("Hello", 63, "names")
                .unwrap()
                .contains("`H`")
        );
        assert!(dns_subdomain_problem("-x", 63, "names").is_some());
        assert!(
            dns_subdomain_problem(&"a".repeat(64), 63, "names")
                .unwrap()
                .contains("63")
        );
        assert_eq!(field_name_problem("step-{{item}}"), None);
        assert_eq!(field_name_problem("Step1"), None);
        assert!(field_name_problem("my_step").unwrap().contains("`_`"));
        assert_eq!(param_name_problem("my_param-1"), None);
        assert!(param_name_problem("my.param").is_some());
    }
}

//! Strict reading of policy files: every unknown key, ill-typed value, unknown role, empty subject
//! list and bad glob is reported at once, with its position and a suggestion.

use std::collections::HashMap;

use serde::Deserialize;

use super::role::{ROLE_NAMES, hint};
use super::{Binding, Glob, GlobKind, Member, Policy, Role, Scope};
use crate::diag::{Diagnostic, did_you_mean};
use crate::yaml::de::{DeError, UnknownField, from_node, quote_list};
use crate::yaml::{Node, NodeKind, Seg, parse_stream_checked};

/// The `apiVersion` of a policy file.
pub const POLICY_API_VERSION: &str = "trellis.dev/v1";
/// The `kind` of a policy file.
pub const POLICY_KIND: &str = "Policy";

const TOP_FIELDS: [&str; 3] = ["apiVersion", "kind", "bindings"];
const SUBJECT_HELP: &str =
    "write `- user: NAME` (subject or email), `- group: NAME` or `- token: NAME`";

#[derive(Deserialize)]
#[serde(rename = "a binding")]
struct RawBinding {
    name: Option<String>,
    role: Option<String>,
    subjects: Option<Vec<RawMember>>,
    scope: Option<RawScope>,
}

#[derive(Deserialize)]
#[serde(rename = "a subject")]
struct RawMember {
    user: Option<String>,
    group: Option<String>,
    token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename = "a scope")]
struct RawScope {
    namespaces: Option<Vec<String>>,
    folders: Option<Vec<String>>,
    templates: Option<Vec<String>>,
}

/// Reads a policy file (one YAML document), or says everything that is wrong with it.
///
/// Duplicate keys are errors here, unlike in manifests: in an access policy, a key that silently
/// replaces another is a hole.
pub fn parse_policy(source: &str) -> Result<Policy, Vec<Diagnostic>> {
    let (nodes, duplicates) = parse_stream_checked(source).map_err(|err| {
        vec![
            Diagnostic::error("yaml-syntax", &[], format!("invalid YAML: {}", err.message))
                .at(err.span)
                .with_help("fix the YAML syntax; a common cause is inconsistent indentation"),
        ]
    })?;
    let mut diags: Vec<Diagnostic> = duplicates
        .into_iter()
        .map(|d| {
            Diagnostic::error("duplicate-key", &[], d.message)
                .at(d.span)
                .with_help("remove one of the two: in a policy a repeated key is ambiguous")
        })
        .collect();
    let documents: Vec<&Node> = nodes.iter().filter(|n| !n.is_null()).collect();
    let root = match documents.as_slice() {
        [] => {
            diags.push(
                Diagnostic::error("empty-policy", &[], "the policy file is empty").with_help(
                    format!("start it with `apiVersion: {POLICY_API_VERSION}`, `kind: {POLICY_KIND}` and `bindings:`"),
                ),
            );
            return Err(diags);
        }
        [root, rest @ ..] => {
            if let Some(extra) = rest.first() {
                diags.push(
                    Diagnostic::error(
                        "multiple-documents",
                        &[],
                        "a policy file holds one document",
                    )
                    .at(extra.span)
                    .with_help("put every binding under the first document's `bindings:`"),
                );
            }
            *root
        }
    };
    let bindings = read_policy(root, &mut diags);
    if diags.is_empty() {
        Ok(Policy::new(bindings))
    } else {
        Err(diags)
    }
}

fn read_policy(root: &Node, diags: &mut Vec<Diagnostic>) -> Vec<Binding> {
    let NodeKind::Map(entries) = &root.kind else {
        diags.push(
            Diagnostic::error("not-a-policy", &[], "a policy must be a mapping")
                .at(root.span)
                .with_help(format!(
                    "start it with `apiVersion: {POLICY_API_VERSION}` and `kind: {POLICY_KIND}`"
                )),
        );
        return Vec::new();
    };
    check_header(root, "apiVersion", POLICY_API_VERSION, diags);
    check_header(root, "kind", POLICY_KIND, diags);
    for (key, _) in entries {
        let text = key.as_str().unwrap_or_default();
        if !TOP_FIELDS.contains(&text) {
            let help = match did_you_mean(text, TOP_FIELDS) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("a policy accepts {}", quote_list(&TOP_FIELDS)),
            };
            diags.push(
                Diagnostic::error(
                    "unknown-field",
                    &[Seg::from(text)],
                    format!("unknown field `{text}` in the policy"),
                )
                .at(key.span)
                .with_label("not a field here")
                .with_help(help),
            );
        }
    }
    let items: &[Node] = match root.get("bindings") {
        None => {
            diags.push(
                Diagnostic::error("missing-bindings", &[], "the policy has no `bindings`")
                    .at(root.span)
                    .with_help("add `bindings:` with a list of `role` and `subjects`; `bindings: []` denies everything"),
            );
            return Vec::new();
        }
        Some(node) => match &node.kind {
            NodeKind::Seq(items) => items,
            _ if node.is_null() => &[],
            _ => {
                diags.push(
                    Diagnostic::error(
                        "invalid-value",
                        &[Seg::from("bindings")],
                        "`bindings` must be a list",
                    )
                    .at(node.span)
                    .with_help("write each binding as a list item: `- role: viewer`"),
                );
                return Vec::new();
            }
        },
    };
    let bindings: Vec<(usize, Binding)> = items
        .iter()
        .enumerate()
        .filter_map(|(i, node)| read_binding(i, node, diags).map(|b| (i, b)))
        .collect();
    check_unique_names(items, &bindings, diags);
    bindings.into_iter().map(|(_, b)| b).collect()
}

fn check_header(root: &Node, key: &str, expected: &str, diags: &mut Vec<Diagnostic>) {
    let found = root.get(key);
    let (message, span) = match found {
        None => (format!("the policy has no `{key}`"), root.span),
        Some(v) if v.as_str() == Some(expected) => return,
        Some(v) => {
            let text = v
                .as_str()
                .map_or_else(|| "this".to_string(), |s| format!("`{s}`"));
            (format!("{text} is not a policy's {key}"), v.span)
        }
    };
    diags.push(
        Diagnostic::error("policy-header", &[Seg::from(key)], message)
            .at(span)
            .with_help(format!("use `{key}: {expected}`")),
    );
}

fn read_binding(i: usize, node: &Node, diags: &mut Vec<Diagnostic>) -> Option<Binding> {
    let base = [Seg::from("bindings"), Seg::Index(i)];
    let outcome = from_node::<RawBinding>(node);
    diags.extend(outcome.unknown.iter().map(|u| unknown_field(&base, u)));
    let raw = match outcome.value {
        Ok(raw) => raw,
        Err(err) => {
            diags.push(type_error(&base, &err));
            return None;
        }
    };
    let at = Here { base: &base, node };
    let before = diags.len();
    let name = match raw.name {
        Some(name) if name.trim().is_empty() => {
            diags.push(
                at.error(
                    "empty-name",
                    &["name".into()],
                    "a binding's `name` is empty",
                )
                .with_help(format!(
                    "name it, or leave `name` out to call it `bindings[{i}]`"
                )),
            );
            name
        }
        Some(name) => name,
        None => format!("bindings[{i}]"),
    };
    let role = read_role(&at, raw.role.as_deref(), diags);
    let subjects = read_subjects(&at, raw.subjects.unwrap_or_default(), diags);
    let scope = match raw.scope {
        Some(scope) => read_scope(&at, scope, diags),
        None => Scope::default(),
    };
    (diags.len() == before).then_some(Binding {
        name,
        role: role?,
        subjects,
        scope,
    })
}

/// A binding's node and path, to point diagnostics at values inside it.
struct Here<'a> {
    base: &'a [Seg],
    node: &'a Node,
}

impl Here<'_> {
    fn error(&self, code: &'static str, rel: &[Seg], message: impl Into<String>) -> Diagnostic {
        let path: Vec<Seg> = self.base.iter().chain(rel).cloned().collect();
        Diagnostic::error(code, &path, message).at(self.node.locate(rel).span())
    }
}

fn read_role(at: &Here, role: Option<&str>, diags: &mut Vec<Diagnostic>) -> Option<Role> {
    let Some(text) = role else {
        diags.push(
            at.error("missing-role", &[], "the binding has no `role`")
                .with_help(format!(
                    "add `role:` with one of {}",
                    quote_list(&ROLE_NAMES)
                )),
        );
        return None;
    };
    match text.parse::<Role>() {
        Ok(role) => Some(role),
        Err(err) => {
            diags.push(
                at.error(
                    "unknown-role",
                    &["role".into()],
                    format!("unknown role `{text}`"),
                )
                .with_help(hint(err.suggestion, &ROLE_NAMES)),
            );
            None
        }
    }
}

fn read_subjects(at: &Here, raw: Vec<RawMember>, diags: &mut Vec<Diagnostic>) -> Vec<Member> {
    if raw.is_empty() {
        diags.push(
            at.error(
                "empty-subjects",
                &["subjects".into()],
                "the binding has no subjects",
            )
            .with_help(format!(
                "add `subjects:` with at least one entry: {SUBJECT_HELP}"
            )),
        );
    }
    let mut members = Vec::new();
    for (j, m) in raw.into_iter().enumerate() {
        let rel = [Seg::from("subjects"), Seg::Index(j)];
        let given: Vec<(&str, String)> = [("user", m.user), ("group", m.group), ("token", m.token)]
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect();
        let member = match given.as_slice() {
            [(key, value)] if value.trim().is_empty() => {
                let path = [rel[0].clone(), rel[1].clone(), Seg::from(*key)];
                diags.push(
                    at.error("empty-subject", &path, format!("`{key}` is empty"))
                        .with_help(SUBJECT_HELP),
                );
                continue;
            }
            [("user", v)] => Member::User(v.clone()),
            [("group", v)] => Member::Group(v.clone()),
            [(_, v)] => Member::Token(v.clone()),
            [] => {
                diags.push(
                    at.error(
                        "subject-kind",
                        &rel,
                        "a subject needs one of `user`, `group` or `token`",
                    )
                    .with_help(SUBJECT_HELP),
                );
                continue;
            }
            _ => {
                let keys: Vec<&str> = given.iter().map(|(k, _)| *k).collect();
                diags.push(
                    at.error(
                        "subject-kind",
                        &rel,
                        format!(
                            "a subject is one of `user`, `group` or `token`, not {}",
                            quote_list(&keys).replace(" or ", " and ")
                        ),
                    )
                    .with_help("give each its own list item"),
                );
                continue;
            }
        };
        members.push(member);
    }
    members
}

fn read_scope(at: &Here, raw: RawScope, diags: &mut Vec<Diagnostic>) -> Scope {
    let mut list = |field: &str, kind: GlobKind, patterns: Option<Vec<String>>| {
        let patterns = patterns?;
        if patterns.is_empty() {
            diags.push(
                at.error(
                    "empty-scope",
                    &["scope".into(), field.into()],
                    format!("an empty `{field}` list matches nothing"),
                )
                .with_help(format!(
                    "list {field}, or remove `{field}` to cover them all"
                )),
            );
            return None;
        }
        let mut globs = Vec::new();
        for (k, pattern) in patterns.iter().enumerate() {
            match Glob::new(pattern, kind) {
                Ok(glob) => globs.push(glob),
                Err(err) => {
                    let rel = [Seg::from("scope"), Seg::from(field), Seg::Index(k)];
                    diags.push(
                        at.error("invalid-glob", &rel, format!("invalid glob {pattern:?} in `{field}`: {err}"))
                            .with_help("`*` matches any characters but `/`, `**` any path (`ci/**`), `?` one character"),
                    );
                }
            }
        }
        Some(globs)
    };
    Scope {
        namespaces: list("namespaces", GlobKind::Name, raw.namespaces),
        folders: list("folders", GlobKind::Path, raw.folders),
        templates: list("templates", GlobKind::Name, raw.templates),
    }
}

fn check_unique_names(items: &[Node], bindings: &[(usize, Binding)], diags: &mut Vec<Diagnostic>) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, b) in bindings {
        let Some(&first) = seen.get(b.name.as_str()) else {
            seen.insert(&b.name, *i);
            continue;
        };
        let line = |i: usize| items[i].locate(&["name".into()]).span().start.line;
        let at = Here {
            base: &[Seg::from("bindings"), Seg::Index(*i)],
            node: &items[*i],
        };
        diags.push(
            at.error(
                "duplicate-binding",
                &["name".into()],
                format!("two bindings are named \"{}\"", b.name),
            )
            .with_help(format!(
                "the first is at line {}; rename one so explanations say which applied",
                line(first)
            )),
        );
    }
}

fn unknown_field(base: &[Seg], u: &UnknownField) -> Diagnostic {
    let place = u.struct_name;
    let help = match did_you_mean(&u.key, u.expected.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None => {
            let mut fields: Vec<&str> = u.expected.to_vec();
            fields.sort_unstable();
            format!("{place} accepts {}", quote_list(&fields))
        }
    };
    let path: Vec<Seg> = base.iter().chain(&u.path).cloned().collect();
    Diagnostic::error(
        "unknown-field",
        &path,
        format!("unknown field `{}` in {place}", u.key),
    )
    .at(u.span)
    .with_label("not a field here")
    .with_help(help)
}

fn type_error(base: &[Seg], err: &DeError) -> Diagnostic {
    let rel = err.path.clone().unwrap_or_default();
    let path: Vec<Seg> = base.iter().chain(&rel).cloned().collect();
    let mut diag = Diagnostic::error("invalid-value", &path, err.message.clone());
    if let Some(span) = err.span {
        diag = diag.at(span);
    }
    if err.message.contains("(a subject)") {
        diag = diag.with_help(SUBJECT_HELP);
    }
    diag
}

#[cfg(test)]
mod tests;

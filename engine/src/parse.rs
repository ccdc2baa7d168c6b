//! Strict parsing of manifest files: YAML → typed Argo resources, with every unknown key and every
//! ill-typed value reported with its position.

use serde::de::DeserializeOwned;

use crate::diag::{Diagnostic, did_you_mean};
use crate::model::{
    ClusterWorkflowTemplate, CronWorkflow, Manifest, Workflow, WorkflowEventBinding,
    WorkflowTemplate,
};
use crate::yaml::de::{DeError, UnknownField, from_node, quote_list};
use crate::yaml::{Node, NodeKind, Seg, parse_stream_checked};

/// The API group and version of every Argo resource.
pub const ARGO_API_VERSION: &str = "argoproj.io/v1alpha1";

/// The kinds of Argo resources Trellis reads.
pub const ARGO_KINDS: [&str; 5] = [
    "Workflow",
    "WorkflowTemplate",
    "ClusterWorkflowTemplate",
    "CronWorkflow",
    "WorkflowEventBinding",
];

/// One YAML document of a file.
#[derive(Debug, Clone)]
pub struct Document {
    /// Its position in the file, from 0.
    pub index: usize,
    /// The YAML tree, kept for positions.
    pub node: Node,
    /// Its `kind`, when it says one.
    pub kind: Option<String>,
    /// The typed resource, when it is an Argo resource that could be read.
    pub manifest: Option<Manifest>,
    /// Whether Trellis checked this document (Argo resources and the Kubernetes kinds Argo examples ship
    /// beside them); other documents are skipped with a warning.
    pub checked: bool,
    /// What reading this document found.
    pub diagnostics: Vec<Diagnostic>,
}

/// A file's documents, or the syntax error that stopped its reading.
#[derive(Debug, Clone, Default)]
pub struct ParsedFile {
    /// The non-empty documents, in order.
    pub documents: Vec<Document>,
    /// File-level findings (a YAML syntax error).
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses every document of a YAML file.
pub fn parse_file(source: &str) -> ParsedFile {
    match parse_stream_checked(source) {
        Ok((nodes, duplicates)) => ParsedFile {
            documents: nodes
                .into_iter()
                .enumerate()
                .filter(|(_, node)| !node.is_null())
                .map(|(index, node)| parse_document(index, node))
                .collect(),
            diagnostics: duplicates
                .into_iter()
                .map(|d| {
                    Diagnostic::warning("duplicate-key", &[], d.message)
                        .at(d.span)
                        .with_help("remove one of the two; only the later one takes effect")
                })
                .collect(),
        },
        Err(err) => ParsedFile {
            documents: Vec::new(),
            diagnostics: vec![
                Diagnostic::error("yaml-syntax", &[], format!("invalid YAML: {}", err.message))
                    .at(err.span)
                    .with_help("fix the YAML syntax; a common cause is inconsistent indentation or a `:` in an unquoted value"),
            ],
        },
    }
}

/// Reads one document into the typed resource its `kind` names.
pub fn parse_document(index: usize, node: Node) -> Document {
    let mut doc = Document {
        index,
        kind: node.get("kind").and_then(Node::as_str).map(str::to_string),
        node,
        manifest: None,
        checked: false,
        diagnostics: Vec::new(),
    };
    if !matches!(doc.node.kind, NodeKind::Map(_)) {
        doc.diagnostics.push(
            Diagnostic::error("not-a-manifest", &[], "a manifest must be a mapping")
                .at(doc.node.span)
                .with_help("start the document with `apiVersion: argoproj.io/v1alpha1` and `kind: Workflow`"),
        );
        return doc;
    }
    let api_version = doc
        .node
        .get("apiVersion")
        .and_then(Node::as_str)
        .unwrap_or("")
        .to_string();
    let api_version = api_version.as_str();
    let Some(kind) = doc.kind.clone() else {
        doc.diagnostics.push(
            Diagnostic::error("missing-kind", &[], "the manifest has no `kind`")
                .at(doc.node.span)
                .with_help(format!(
                    "add `kind:` with one of {}",
                    quote_list(&ARGO_KINDS)
                )),
        );
        return doc;
    };
    if api_version.starts_with("argoproj.io/") || api_version.is_empty() {
        check_argo_header(&mut doc, api_version, &kind);
        if doc.diagnostics.is_empty() {
            doc.checked = true;
            doc.manifest = read_argo(&doc.node, &kind, &mut doc.diagnostics);
        }
    } else {
        doc.checked = read_kubernetes(&doc.node, &kind, &mut doc.diagnostics);
        if !doc.checked {
            doc.diagnostics.push(
                Diagnostic::warning(
                    "not-checked",
                    &[Seg::from("kind")],
                    format!("`{kind}` ({api_version}) is not an Argo resource; Trellis does not check it"),
                )
                .at(doc.node.get("kind").map_or(doc.node.span, |n| n.span)),
            );
        }
    }
    doc
}

fn check_argo_header(doc: &mut Document, api_version: &str, kind: &str) {
    if api_version != ARGO_API_VERSION {
        let at = doc
            .node
            .entry("apiVersion")
            .map_or(doc.node.span, |(_, v)| v.span);
        let message = if api_version.is_empty() {
            "the manifest has no `apiVersion`".to_string()
        } else {
            format!("unsupported apiVersion `{api_version}`")
        };
        doc.diagnostics.push(
            Diagnostic::error("api-version", &[Seg::from("apiVersion")], message)
                .at(at)
                .with_help(format!("use `apiVersion: {ARGO_API_VERSION}`")),
        );
    }
    if !ARGO_KINDS.contains(&kind) {
        let at = doc.node.get("kind").map_or(doc.node.span, |n| n.span);
        let help = match did_you_mean(kind, ARGO_KINDS) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("use one of {}", quote_list(&ARGO_KINDS)),
        };
        doc.diagnostics.push(
            Diagnostic::error(
                "unknown-kind",
                &[Seg::from("kind")],
                format!("unknown kind `{kind}`"),
            )
            .at(at)
            .with_help(help),
        );
    }
}

fn read_argo(node: &Node, kind: &str, diagnostics: &mut Vec<Diagnostic>) -> Option<Manifest> {
    match kind {
        "Workflow" => read::<Workflow>(node, diagnostics).map(Manifest::Workflow),
        "WorkflowTemplate" => {
            read::<WorkflowTemplate>(node, diagnostics).map(Manifest::WorkflowTemplate)
        }
        "ClusterWorkflowTemplate" => read::<ClusterWorkflowTemplate>(node, diagnostics)
            .map(Manifest::ClusterWorkflowTemplate),
        "CronWorkflow" => read::<CronWorkflow>(node, diagnostics).map(Manifest::CronWorkflow),
        "WorkflowEventBinding" => {
            read::<WorkflowEventBinding>(node, diagnostics).map(Manifest::WorkflowEventBinding)
        }
        _ => None,
    }
}

/// Kubernetes kinds that Argo's examples ship beside workflows; they are checked strictly too.
fn read_kubernetes(node: &Node, kind: &str, diagnostics: &mut Vec<Diagnostic>) -> bool {
    use k8s_openapi::api::core::v1 as core;
    match kind {
        "ConfigMap" => drop(read::<core::ConfigMap>(node, diagnostics)),
        "Secret" => drop(read::<core::Secret>(node, diagnostics)),
        "PersistentVolumeClaim" => drop(read::<core::PersistentVolumeClaim>(node, diagnostics)),
        "ResourceQuota" => drop(read::<core::ResourceQuota>(node, diagnostics)),
        "ServiceAccount" => drop(read::<core::ServiceAccount>(node, diagnostics)),
        _ => return false,
    }
    true
}

/// Deserializes `node` as `T`, turning unknown fields and type errors into diagnostics.
pub fn read<T: DeserializeOwned>(node: &Node, diagnostics: &mut Vec<Diagnostic>) -> Option<T> {
    let outcome = from_node::<T>(node);
    diagnostics.extend(outcome.unknown.iter().map(unknown_field));
    match outcome.value {
        Ok(value) => Some(value),
        Err(err) => {
            diagnostics.push(type_error(&err));
            None
        }
    }
}

fn unknown_field(u: &UnknownField) -> Diagnostic {
    let parent = u.path[..u.path.len().saturating_sub(1)]
        .iter()
        .rev()
        .find_map(|s| match s {
            Seg::Key(k) => Some(k.as_str()),
            Seg::Index(_) => None,
        });
    let place = parent.map_or_else(|| "the manifest".to_string(), |p| format!("`{p}`"));
    let help = match did_you_mean(&u.key, u.expected.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None => {
            let mut fields: Vec<&str> = u.expected.to_vec();
            fields.sort_unstable();
            format!("{place} accepts {}", quote_list(&fields))
        }
    };
    Diagnostic::error(
        "unknown-field",
        &u.path,
        format!("unknown field `{}` in {place}", u.key),
    )
    .at(u.span)
    .with_label("not a field here")
    .with_help(help)
}

fn type_error(err: &DeError) -> Diagnostic {
    let path = err.path.clone().unwrap_or_default();
    let mut diag = Diagnostic::error("invalid-value", &path, err.message.clone());
    if let Some(span) = err.span {
        diag = diag.at(span);
    }
    diag
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_are_reported_with_suggestions() {
        let file = parse_file(
            "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {generateName: x-}\nspec:\n  entrypoint: main\n  templates:\n  - name: main\n    container:\n      image: alpine\n      comand: [echo]\n",
        );
        let diags = &file.documents[0].diagnostics;
        assert_eq!(diags.len(), 1, "{diags:#?}");
        assert_eq!(diags[0].message, "unknown field `comand` in `container`");
        assert_eq!(diags[0].help.as_deref(), Some("did you mean `command`?"));
        assert_eq!(diags[0].path, "spec.templates[0].container.comand");
        assert_eq!(diags[0].span.unwrap().start.line, 10);
    }

    #[test]
    fn kinds_and_versions_are_checked() {
        let file = parse_file("apiVersion: argoproj.io/v1\nkind: Workfow\n");
        let codes: Vec<_> = file.documents[0]
            .diagnostics
            .iter()
            .map(|d| d.code)
            .collect();
        assert_eq!(codes, ["api-version", "unknown-kind"]);
        assert_eq!(
            file.documents[0].diagnostics[1].help.as_deref(),
            Some("did you mean `Workflow`?")
        );
    }

    #[test]
    fn other_kubernetes_objects_are_checked_or_skipped() {
        let file = parse_file(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n---\napiVersion: apps/v1\nkind: Deployment\n",
        );
        assert!(file.documents[0].checked);
        assert!(file.documents[0].diagnostics.is_empty());
        assert!(!file.documents[1].checked);
        assert_eq!(file.documents[1].diagnostics[0].code, "not-checked");
    }

    #[test]
    fn syntax_errors_stop_the_file() {
        let file = parse_file("a: [1\n");
        assert!(file.documents.is_empty());
        assert_eq!(file.diagnostics[0].code, "yaml-syntax");
    }
}

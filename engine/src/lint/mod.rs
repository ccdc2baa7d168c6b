//! `trellis lint`: strict validation of Argo manifests, at least as thorough as `argo lint`.
//!
//! Parsing (`crate::parse`) reports unknown keys and ill-typed values; the rules here check meaning:
//! references between templates, DAG dependencies, `{{…}}` variables, names, durations, cron schedules.
//! Every finding carries the YAML path of the offending value, and its span is looked up in the
//! document's tree, so messages point at the exact line and column.

mod cron;
mod dag;
mod form;
mod index;
mod names;
mod refs;
mod spec;
mod steps;
mod template;
mod vars;

use crate::diag::Diagnostic;
use crate::model::Manifest;
use crate::parse::{Document, parse_file};
use crate::yaml::{Node, Seg};

pub use index::Index;

/// A file to lint: its name (for messages) and its text.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// The name shown in diagnostics, usually the path.
    pub name: &'a str,
    /// The file's content.
    pub text: &'a str,
}

/// The lint result of one file.
#[derive(Debug, Clone)]
pub struct CheckedFile {
    /// The file's name, as given.
    pub name: String,
    /// Its documents, with the typed manifests.
    pub documents: Vec<Document>,
    /// Every finding, in source order.
    pub diagnostics: Vec<Diagnostic>,
}

impl CheckedFile {
    /// How many documents Trellis checked.
    pub fn checked(&self) -> usize {
        self.documents.iter().filter(|d| d.checked).count()
    }

    /// Whether any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Lints several files together: a `templateRef` or `workflowTemplateRef` to a template defined in any
/// of them is checked like a local reference.
pub fn check(sources: &[Source<'_>]) -> Vec<CheckedFile> {
    check_with(sources, &[])
}

/// Lints files as [`check`] does, with the templates of `library` (e.g. those a server already
/// stores) available to their references as well.
pub fn check_with(sources: &[Source<'_>], library: &[Manifest]) -> Vec<CheckedFile> {
    let parsed: Vec<_> = sources.iter().map(|s| parse_file(s.text)).collect();
    let index = Index::new(
        parsed
            .iter()
            .flat_map(|p| p.documents.iter())
            .filter_map(|d| d.manifest.as_ref())
            .chain(library),
    );
    sources
        .iter()
        .zip(&parsed)
        .map(|(source, file)| {
            let mut diagnostics = file.diagnostics.clone();
            for doc in &file.documents {
                let mut found = doc.diagnostics.clone();
                if let Some(manifest) = &doc.manifest {
                    found.extend(lint_manifest(manifest, &index));
                }
                diagnostics.extend(found.into_iter().map(|d| place(d, &doc.node)));
            }
            diagnostics.sort_by_key(|d| d.span.map(|s| (s.start.line, s.start.column)));
            CheckedFile {
                name: source.name.to_string(),
                documents: file.documents.clone(),
                diagnostics,
            }
        })
        .collect()
}

/// Lints one typed manifest on its own (references to other templates are resolved against `index`).
pub fn lint_manifest(manifest: &Manifest, index: &Index<'_>) -> Vec<Diagnostic> {
    let mut cx = Lint::new(index, manifest);
    names::metadata(&mut cx, manifest);
    let (meta, spec) = match manifest {
        // A run names the secrets of its template, whose parameters it need not declare.
        Manifest::Workflow(_) => (None, None),
        Manifest::WorkflowTemplate(t) => (t.metadata.as_ref(), t.spec.as_ref()),
        Manifest::ClusterWorkflowTemplate(t) => (t.metadata.as_ref(), t.spec.as_ref()),
        Manifest::CronWorkflow(c) => (
            c.metadata.as_ref(),
            c.spec.as_ref().and_then(|s| s.workflow_spec.as_ref()),
        ),
        Manifest::WorkflowEventBinding(_) => (None, None),
    };
    form::lint_form_hints(&mut cx, meta.and_then(|m| m.annotations.as_ref()), spec);
    match manifest {
        Manifest::Workflow(wf) => {
            if let Some(s) = &wf.spec {
                spec::lint_spec(&mut cx, s, &["spec".into()], true);
            } else {
                cx.push(Diagnostic::error(
                    "missing-spec",
                    &[],
                    "the Workflow has no `spec`",
                ));
            }
        }
        Manifest::WorkflowTemplate(t) => {
            if let Some(s) = &t.spec {
                spec::lint_spec(&mut cx, s, &["spec".into()], false);
            } else {
                cx.push(Diagnostic::error(
                    "missing-spec",
                    &[],
                    "the WorkflowTemplate has no `spec`",
                ));
            }
        }
        Manifest::ClusterWorkflowTemplate(t) => {
            if let Some(s) = &t.spec {
                spec::lint_spec(&mut cx, s, &["spec".into()], false);
            } else {
                cx.push(Diagnostic::error(
                    "missing-spec",
                    &[],
                    "the ClusterWorkflowTemplate has no `spec`",
                ));
            }
        }
        Manifest::CronWorkflow(c) => cron::lint_cron(&mut cx, c),
        Manifest::WorkflowEventBinding(b) => refs::event_binding(&mut cx, b),
    }
    cx.diags
}

/// Gives a diagnostic the span of its path in the document (the key, when the path ends at one).
fn place(mut diag: Diagnostic, node: &Node) -> Diagnostic {
    if diag.span.is_none() {
        let path = rejoin_dotted(node, parse_path(&diag.path));
        diag.span = Some(node.locate(&path).span());
    }
    diag
}

/// Reads back a path rendered by [`crate::yaml::path_to_string`].
fn parse_path(text: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    for part in text.split('.').filter(|p| !p.is_empty()) {
        let (key, rest) = part.split_once('[').unwrap_or((part, ""));
        if !key.is_empty() {
            out.push(Seg::Key(key.to_string()));
        }
        for index in rest.split('[') {
            if let Ok(i) = index.trim_end_matches(']').parse() {
                out.push(Seg::Index(i));
            }
        }
    }
    out
}

/// Joins back the keys that hold dots (`trellis.dev/approvers`), which a rendered path splits,
/// where the document has such a key: the longest run of keys the map has wins.
fn rejoin_dotted(node: &Node, segs: Vec<Seg>) -> Vec<Seg> {
    let mut out = Vec::with_capacity(segs.len());
    let mut at = Some(node);
    let mut i = 0;
    while i < segs.len() {
        let mut seg = segs[i].clone();
        let mut took = 1;
        if let Some(n) = at {
            let keys: Vec<&str> = segs[i..]
                .iter()
                .map_while(|s| match s {
                    Seg::Key(k) => Some(k.as_str()),
                    Seg::Index(_) => None,
                })
                .collect();
            if let Some(len) = (2..=keys.len())
                .rev()
                .find(|len| n.get(&keys[..*len].join(".")).is_some())
            {
                seg = Seg::Key(keys[..len].join("."));
                took = len;
            }
        }
        at = at.and_then(|n| match &seg {
            Seg::Key(k) => n.get(k),
            Seg::Index(idx) => match &n.kind {
                crate::yaml::NodeKind::Seq(items) => items.get(*idx),
                _ => None,
            },
        });
        out.push(seg);
        i += took;
    }
    out
}

/// The state of one manifest's linting.
pub(crate) struct Lint<'a> {
    pub diags: Vec<Diagnostic>,
    pub index: &'a Index<'a>,
    /// The manifest's namespace, for resolving `templateRef`s.
    pub namespace: Option<&'a str>,
    /// Whether the manifest is a WorkflowTemplate or ClusterWorkflowTemplate: its workflow parameters
    /// may come from the workflow that uses it.
    pub is_template: bool,
}

impl<'a> Lint<'a> {
    fn new(index: &'a Index<'a>, manifest: &'a Manifest) -> Self {
        Lint {
            diags: Vec::new(),
            index,
            namespace: manifest.metadata().and_then(|m| m.namespace.as_deref()),
            is_template: matches!(
                manifest,
                Manifest::WorkflowTemplate(_) | Manifest::ClusterWorkflowTemplate(_)
            ),
        }
    }

    pub fn push(&mut self, diag: Diagnostic) {
        self.diags.push(diag);
    }
}

/// Builds a path from keys and indexes: `path(base, ["templates".into(), 3.into()])`.
pub(crate) fn join(base: &[Seg], rest: &[Seg]) -> Vec<Seg> {
    let mut out = base.to_vec();
    out.extend_from_slice(rest);
    out
}

#[cfg(test)]
mod tests;

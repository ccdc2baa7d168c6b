//! What a request acts on, as the policy sees it: the [`Target`] of a workflow (its namespace,
//! the template it ran from and that template's folder) or of a template, and the checks and
//! list filters built on them that every handler uses.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use controller::store::{Store as _, TemplateKind};
use engine::access::{Action, Kind, Target};
use engine::model::Workflow;
use serde_json::Value;

use super::Caller;
use crate::api::{ApiError, ApiState};

/// The label that puts a template in a folder (`a/b/c` nests).
pub const FOLDER_LABEL: &str = "trellis.dev/folder";

/// How long a template's folder is remembered before it is read again.
const FOLDER_TTL: Duration = Duration::from_secs(10);

/// The folders of templates, remembered for a few seconds so that filtering a page of runs
/// reads each template once.
#[derive(Debug, Default)]
pub struct Folders {
    known: Mutex<HashMap<TemplateAt, (Option<String>, Instant)>>,
}

/// A template by kind, namespace (none when cluster-scoped) and name.
type TemplateAt = (TemplateKind, Option<String>, String);

impl Folders {
    fn get(&self, key: &TemplateAt) -> Option<Option<String>> {
        let known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        known
            .get(key)
            .filter(|(_, at)| at.elapsed() < FOLDER_TTL)
            .map(|(folder, _)| folder.clone())
    }

    fn put(&self, key: TemplateAt, folder: Option<String>) {
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        if known.len() > 10_000 {
            known.clear();
        }
        known.insert(key, (folder, Instant::now()));
    }
}

/// The policy's kind of a stored template kind.
pub fn kind_of(kind: TemplateKind) -> Kind {
    match kind {
        TemplateKind::ClusterWorkflowTemplate => Kind::ClusterWorkflowTemplate,
        TemplateKind::CronWorkflow => Kind::CronWorkflow,
        TemplateKind::WorkflowTemplate | TemplateKind::WorkflowEventBinding => {
            Kind::WorkflowTemplate
        }
    }
}

/// The folder a template's document puts it in, if any.
pub fn folder_of(body: &Value) -> Option<String> {
    body.pointer("/metadata/labels")
        .and_then(|l| l.get(FOLDER_LABEL))
        .and_then(Value::as_str)
        .map(|f| f.trim_matches('/').to_owned())
}

/// The target of a template (its folder read from `body`).
pub fn template_target(
    kind: TemplateKind,
    namespace: Option<&str>,
    name: &str,
    body: &Value,
) -> Target {
    Target {
        kind: kind_of(kind),
        namespace: namespace.filter(|_| kind.namespaced()).map(str::to_owned),
        name: Some(name.to_owned()),
        template: Some(name.to_owned()),
        folder: folder_of(body),
    }
}

/// The template a workflow ran from, from Argo's labels: kind and name.
pub fn template_of(wf: &Workflow) -> Option<(TemplateKind, String)> {
    let labels = wf.metadata.as_ref()?.labels.as_ref()?;
    TemplateKind::ALL.into_iter().find_map(|kind| {
        labels
            .get(kind.workflow_label())
            .filter(|n| !n.is_empty())
            .map(|n| (kind, n.clone()))
    })
}

/// Removes from a client's workflow the labels that say which template a run comes from: the
/// policy reads a run's template and folder from them, so only the server may set them (from
/// the template it really runs).
pub fn strip_origin_labels(value: &mut Value) {
    if let Some(labels) = value
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        for kind in TemplateKind::ALL {
            labels.remove(kind.workflow_label());
        }
    }
}

/// The namespace of a workflow (`default` when it names none).
fn namespace_of(wf: &Workflow) -> String {
    wf.metadata
        .as_ref()
        .and_then(|m| m.namespace.clone())
        .unwrap_or_else(|| controller::store::DEFAULT_NAMESPACE.to_owned())
}

/// The target of a workflow: its namespace and name, its template and that template's folder
/// (read from the store, remembered a few seconds).
pub async fn workflow_target(state: &ApiState, wf: &Workflow) -> Target {
    let namespace = namespace_of(wf);
    let name = wf.metadata.as_ref().and_then(|m| m.name.clone());
    let Some((kind, template)) = template_of(wf) else {
        return Target {
            kind: Kind::Workflow,
            namespace: Some(namespace),
            name,
            template: None,
            folder: None,
        };
    };
    let folder = template_folder(state, kind, &namespace, &template).await;
    Target {
        kind: Kind::Workflow,
        namespace: Some(namespace),
        name,
        template: Some(template),
        folder,
    }
}

/// The folder of a stored template (remembered a few seconds); `None` when it has none or no
/// longer exists.
async fn template_folder(
    state: &ApiState,
    kind: TemplateKind,
    namespace: &str,
    name: &str,
) -> Option<String> {
    let ns = kind.namespaced().then(|| namespace.to_owned());
    let key = (kind, ns.clone(), name.to_owned());
    if let Some(folder) = state.folders().get(&key) {
        return folder;
    }
    let folder = state
        .backend
        .store()
        .get_template(kind, ns.as_deref(), name)
        .await
        .ok()
        .and_then(|t| folder_of(&t.body));
    state.folders().put(key, folder.clone());
    folder
}

/// The target of a run known by its namespace and template key (`Kind/ns/name` or
/// `Kind/name`), as audit entries record it.
pub async fn run_target(state: &ApiState, namespace: &str, template_key: Option<&str>) -> Target {
    let template = template_key.and_then(|key| {
        let mut parts = key.split('/');
        let kind = parts.next()?;
        let kind = TemplateKind::ALL.into_iter().find(|k| k.as_str() == kind)?;
        let name = parts.next_back()?.to_owned();
        Some((kind, name))
    });
    let folder = match &template {
        Some((kind, name)) => template_folder(state, *kind, namespace, name).await,
        None => None,
    };
    Target {
        kind: Kind::Workflow,
        namespace: Some(namespace.to_owned()),
        name: None,
        template: template.map(|(_, n)| n),
        folder,
    }
}

/// The target of a new workflow in `namespace`: the template it names (`workflowTemplateRef`)
/// if any, with that template's folder.
pub async fn new_workflow_target(state: &ApiState, namespace: &str, wf: &Workflow) -> Target {
    let mut wf = wf.clone();
    let meta = wf.metadata.get_or_insert_with(Default::default);
    meta.namespace = Some(namespace.to_owned());
    if let Some(r) = wf
        .spec
        .as_ref()
        .and_then(|s| s.workflow_template_ref.as_ref())
    {
        let kind = if r.cluster_scope.unwrap_or(false) {
            TemplateKind::ClusterWorkflowTemplate
        } else {
            TemplateKind::WorkflowTemplate
        };
        if let Some(name) = r.name.clone() {
            wf.metadata
                .get_or_insert_with(Default::default)
                .labels
                .get_or_insert_with(Default::default)
                .insert(kind.workflow_label().to_owned(), name);
        }
    }
    workflow_target(state, &wf).await
}

/// `Ok` when `caller` may do `action` on workflow `wf`, else a 403 saying why.
pub async fn check_workflow(
    state: &ApiState,
    caller: &Caller,
    action: Action,
    wf: &Workflow,
) -> Result<(), ApiError> {
    let target = workflow_target(state, wf).await;
    state.auth().check(caller, action, &target)
}

/// The workflows of `list` that `caller` may read, in order.
pub async fn readable_workflows(
    state: &ApiState,
    caller: &Caller,
    list: Vec<Workflow>,
) -> Vec<Workflow> {
    let mut kept = Vec::with_capacity(list.len());
    for wf in list {
        let target = workflow_target(state, &wf).await;
        if state.auth().allows(caller, Action::Read, &target) {
            kept.push(wf);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_and_their_folders() {
        let body = serde_json::json!({"metadata": {"labels": {FOLDER_LABEL: "/ci/backend/"}}});
        let t = template_target(TemplateKind::WorkflowTemplate, Some("team"), "build", &body);
        assert_eq!(t.folder.as_deref(), Some("ci/backend"));
        assert_eq!(t.template.as_deref(), Some("build"));
        let c = template_target(
            TemplateKind::ClusterWorkflowTemplate,
            Some("ignored"),
            "lib",
            &Value::Null,
        );
        assert_eq!((c.namespace, c.folder), (None, None));
        assert_eq!(c.kind, Kind::ClusterWorkflowTemplate);
    }

    #[test]
    fn clients_cannot_say_which_template_a_run_comes_from() {
        let mut wf = serde_json::json!({"metadata": {"labels": {
            "workflows.argoproj.io/workflow-template": "deploy",
            "workflows.argoproj.io/cron-workflow": "nightly",
            "team": "a"}}});
        strip_origin_labels(&mut wf);
        assert_eq!(wf["metadata"]["labels"], serde_json::json!({"team": "a"}));
    }

    #[test]
    fn a_run_names_its_template() {
        let wf: Workflow = serde_json::from_value(serde_json::json!({"metadata": {
            "name": "x", "labels": {"workflows.argoproj.io/cron-workflow": "nightly"}}}))
        .unwrap();
        assert_eq!(
            template_of(&wf),
            Some((TemplateKind::CronWorkflow, "nightly".into()))
        );
        assert_eq!(namespace_of(&wf), "default");
    }
}

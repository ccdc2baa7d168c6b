//! Resolving a Workflow once into the one value the scheduler reads: `ResolvedWorkflow`.
//!
//! `workflowTemplateRef` is merged as Argo merges it (the Workflow's own fields win, arguments
//! merge by name), and every template reachable through `templateRef` is fetched from the store
//! once, so planning never looks anything up.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::model::{
    Arguments, ClusterWorkflowTemplate, Parameter, Template, TemplateRef, Workflow, WorkflowSpec,
    WorkflowTemplate,
};

/// Where `templateRef`/`workflowTemplateRef` targets are looked up (the store).
pub trait TemplateSource {
    /// A WorkflowTemplate of a namespace.
    fn workflow_template(&self, namespace: &str, name: &str) -> Option<WorkflowTemplate>;
    /// A ClusterWorkflowTemplate.
    fn cluster_workflow_template(&self, name: &str) -> Option<ClusterWorkflowTemplate>;
    /// The value of `key` in ConfigMap `name` (for `valueFrom.configMapKeyRef`); none by default.
    fn config_map_value(&self, _namespace: &str, _name: &str, _key: &str) -> Option<String> {
        None
    }
}

/// Which set of templates a template name is looked up in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TemplateScope {
    /// The workflow's own templates.
    Local,
    /// The templates of a WorkflowTemplate (`cluster == false`) or ClusterWorkflowTemplate.
    Ref {
        /// ClusterWorkflowTemplate?
        cluster: bool,
        /// Its name.
        name: String,
    },
}

/// Why a workflow cannot be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// `workflowTemplateRef` or `templateRef` names something the store does not hold.
    #[error("{kind} \"{name}\" not found{hint}")]
    NotFound {
        /// WorkflowTemplate or ClusterWorkflowTemplate.
        kind: &'static str,
        /// Its name.
        name: String,
        /// Where it was looked for.
        hint: String,
    },
    /// A referenced WorkflowTemplate has no template of that name.
    #[error("template \"{template}\" not found in {kind} \"{name}\"")]
    TemplateNotFound {
        /// WorkflowTemplate or ClusterWorkflowTemplate.
        kind: &'static str,
        /// Its name.
        name: String,
        /// The template asked for.
        template: String,
    },
    /// The workflow has no spec or no entrypoint.
    #[error("{0}")]
    Invalid(String),
}

/// A workflow with everything it references resolved: the input of [`super::plan`].
#[derive(Debug)]
pub struct ResolvedWorkflow {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace` (`default` when unset).
    pub namespace: String,
    /// `metadata.uid`.
    pub uid: String,
    /// `metadata.creationTimestamp`.
    pub creation_timestamp: String,
    /// `metadata.labels`.
    pub labels: BTreeMap<String, String>,
    /// `metadata.annotations`.
    pub annotations: BTreeMap<String, String>,
    /// The effective spec (merged with its `workflowTemplateRef`).
    pub spec: WorkflowSpec,
    /// Workflow parameters after merging, in order.
    pub parameters: Vec<(String, String)>,
    templates: HashMap<(TemplateScope, String), Arc<Template>>,
    dags: HashMap<(TemplateScope, String), Result<Arc<super::dag::DagInfo>, String>>,
    /// Values of the ConfigMap keys the workflow refers to, by (ConfigMap, key).
    config_values: HashMap<(String, String), String>,
    /// The limit of each semaphore the workflow names, by lock key (or why it is unknown).
    pub(crate) semaphore_limits: HashMap<String, Result<u32, String>>,
    /// Node names and IDs of the tasks of each DAG node, computed once per DAG node name.
    task_ids: std::sync::Mutex<HashMap<String, Arc<TaskIds>>>,
}

/// The node names and IDs of a DAG node's tasks, in task order.
#[derive(Debug)]
pub(crate) struct TaskIds {
    /// `<dag node name>.<task>`.
    pub names: Vec<String>,
    /// Their node IDs.
    pub ids: Vec<String>,
    /// Task indexes sorted by node ID (for one ordered pass over the status).
    pub by_id: Vec<usize>,
}

impl Clone for ResolvedWorkflow {
    fn clone(&self) -> Self {
        Self {
            name: self.name.clone(),
            namespace: self.namespace.clone(),
            uid: self.uid.clone(),
            creation_timestamp: self.creation_timestamp.clone(),
            labels: self.labels.clone(),
            annotations: self.annotations.clone(),
            spec: self.spec.clone(),
            parameters: self.parameters.clone(),
            templates: self.templates.clone(),
            dags: self.dags.clone(),
            config_values: self.config_values.clone(),
            semaphore_limits: self.semaphore_limits.clone(),
            task_ids: Default::default(),
        }
    }
}

impl ResolvedWorkflow {
    /// Looks a template up by name in a scope.
    pub fn template(&self, scope: &TemplateScope, name: &str) -> Option<&Arc<Template>> {
        self.templates.get(&(scope.clone(), name.to_string()))
    }

    /// The template a `templateRef` points at.
    pub fn template_ref(&self, r: &TemplateRef) -> Option<(TemplateScope, &Arc<Template>)> {
        let scope = TemplateScope::Ref {
            cluster: r.cluster_scope.unwrap_or(false),
            name: r.name.clone().unwrap_or_default(),
        };
        let t = self.template(&scope, r.template.as_deref().unwrap_or_default())?;
        Some((scope, t))
    }

    /// The analysis of a DAG template (cached for the workflow's own and referenced ones).
    pub(crate) fn dag_info(
        &self,
        scope: &TemplateScope,
        t: &Template,
    ) -> Result<Arc<super::dag::DagInfo>, String> {
        let key = (scope.clone(), t.name().to_string());
        let names = |t: &Template| {
            let tasks = t
                .dag
                .as_ref()
                .and_then(|d| d.tasks.as_deref())
                .unwrap_or_default();
            (
                t.dag.as_ref().and_then(|d| d.target.clone()),
                tasks.len(),
                tasks.first().map(|x| x.name.clone()),
                tasks.last().map(|x| x.name.clone()),
            )
        };
        let same = self
            .templates
            .get(&key)
            .is_some_and(|known| names(known) == names(t));
        match self.dags.get(&key) {
            Some(cached) if same => cached.clone(),
            _ => super::dag::DagInfo::new(t).map(Arc::new),
        }
    }

    /// The node names and IDs of the tasks of the DAG node `node_name` (a pure function of its
    /// arguments, memoized).
    pub(crate) fn task_ids(
        &self,
        node_name: &str,
        tasks: &[crate::model::DAGTask],
    ) -> Arc<TaskIds> {
        if let Ok(cache) = self.task_ids.lock()
            && let Some(t) = cache.get(node_name)
            && t.names.len() == tasks.len()
        {
            return t.clone();
        }
        let names: Vec<String> = tasks
            .iter()
            .map(|t| format!("{node_name}.{}", t.name.as_deref().unwrap_or_default()))
            .collect();
        let ids: Vec<String> = names
            .iter()
            .map(|n| super::ids::node_id(&self.name, n))
            .collect();
        let mut by_id: Vec<usize> = (0..ids.len()).collect();
        by_id.sort_by(|a, b| ids[*a].cmp(&ids[*b]));
        let out = Arc::new(TaskIds { names, ids, by_id });
        if let Ok(mut cache) = self.task_ids.lock() {
            cache.insert(node_name.to_string(), out.clone());
        }
        out
    }

    /// The value of a ConfigMap key the workflow refers to, when the store holds it.
    pub fn config_value(&self, name: &str, key: &str) -> Option<&str> {
        self.config_values
            .get(&(name.to_string(), key.to_string()))
            .map(String::as_str)
    }

    /// The entrypoint's name.
    pub fn entrypoint(&self) -> &str {
        self.spec.entrypoint.as_deref().unwrap_or_default()
    }
}

/// Resolves a workflow against the templates a store holds.
pub fn resolve(
    wf: &Workflow,
    source: &dyn TemplateSource,
) -> Result<ResolvedWorkflow, ResolveError> {
    let meta = wf.metadata.clone().unwrap_or_default();
    let namespace = meta.namespace.clone().unwrap_or_else(|| "default".into());
    let mut spec = wf
        .spec
        .clone()
        .ok_or_else(|| ResolveError::Invalid("the workflow has no spec".into()))?;
    if let Some(r) = spec.workflow_template_ref.clone() {
        let name = r.name.clone().unwrap_or_default();
        let cluster = r.cluster_scope.unwrap_or(false);
        let base = fetch_spec(source, &namespace, cluster, &name)?;
        spec = merge_specs(spec, base);
    }
    let mut out = ResolvedWorkflow {
        name: meta.name.clone().unwrap_or_default(),
        namespace: namespace.clone(),
        uid: meta.uid.clone().unwrap_or_default(),
        creation_timestamp: meta
            .creation_timestamp
            .as_ref()
            .map(|t| t.0.to_string())
            .unwrap_or_default(),
        labels: meta.labels.clone().unwrap_or_default(),
        annotations: meta.annotations.clone().unwrap_or_default(),
        parameters: Vec::new(),
        templates: HashMap::new(),
        dags: HashMap::new(),
        config_values: HashMap::new(),
        semaphore_limits: HashMap::new(),
        task_ids: Default::default(),
        spec,
    };
    if out
        .spec
        .entrypoint
        .as_deref()
        .unwrap_or_default()
        .is_empty()
    {
        return Err(ResolveError::Invalid(
            "the workflow has no entrypoint: set spec.entrypoint".into(),
        ));
    }
    for t in out.spec.templates.iter().flatten() {
        out.templates.insert(
            (TemplateScope::Local, t.name().to_string()),
            Arc::new(t.clone()),
        );
    }
    collect_refs(&mut out, source, &namespace)?;
    collect_config_values(&mut out, source, &namespace);
    out.parameters = params_of(out.spec.arguments.as_ref(), &out.config_values);
    for (key, t) in &out.templates {
        if t.dag.is_some() {
            let info = super::dag::DagInfo::new(t).map(Arc::new);
            out.dags.insert(key.clone(), info);
        }
    }
    Ok(out)
}

fn params_of(
    args: Option<&Arguments>,
    config: &HashMap<(String, String), String>,
) -> Vec<(String, String)> {
    args.and_then(|a| a.parameters.as_ref())
        .into_iter()
        .flatten()
        .map(|p| {
            let from_config = p
                .value_from
                .as_ref()
                .and_then(|f| f.config_map_key_ref.as_ref())
                .and_then(|r| config.get(&(r.name.clone(), r.key.clone())).cloned());
            let v = p
                .value
                .as_ref()
                .map(|v| v.0.clone())
                .or(from_config)
                .or_else(|| p.default.as_ref().map(|v| v.0.clone()))
                .unwrap_or_default();
            (p.name.clone().unwrap_or_default(), v)
        })
        .collect()
}

fn fetch_spec(
    source: &dyn TemplateSource,
    namespace: &str,
    cluster: bool,
    name: &str,
) -> Result<WorkflowSpec, ResolveError> {
    let spec = if cluster {
        source.cluster_workflow_template(name).map(|t| t.spec)
    } else {
        source.workflow_template(namespace, name).map(|t| t.spec)
    };
    spec.map(Option::unwrap_or_default)
        .ok_or_else(|| ResolveError::NotFound {
            kind: kind_name(cluster),
            name: name.to_string(),
            hint: if cluster {
                String::new()
            } else {
                format!(" in namespace \"{namespace}\"")
            },
        })
}

fn kind_name(cluster: bool) -> &'static str {
    if cluster {
        "ClusterWorkflowTemplate"
    } else {
        "WorkflowTemplate"
    }
}

/// Merges a Workflow's spec over the spec of the template it references: fields the workflow
/// sets win; arguments merge by name (the workflow's values win).
fn merge_specs(own: WorkflowSpec, base: WorkflowSpec) -> WorkflowSpec {
    let own_args = own.arguments.clone();
    let base_args = base.arguments.clone();
    let mut own_json = serde_json::to_value(&own).unwrap_or_default();
    let base_json = serde_json::to_value(&base).unwrap_or_default();
    if let (Some(o), serde_json::Value::Object(b)) = (own_json.as_object_mut(), base_json) {
        for (k, v) in b {
            o.entry(k).or_insert(v);
        }
    }
    let mut merged: WorkflowSpec = serde_json::from_value(own_json).unwrap_or(own);
    merged.arguments = merge_arguments(own_args, base_args);
    merged
}

fn merge_arguments(own: Option<Arguments>, base: Option<Arguments>) -> Option<Arguments> {
    let (Some(own), Some(base)) = (own.clone(), base.clone()) else {
        return own.or(base);
    };
    let mut params: Vec<Parameter> = base.parameters.unwrap_or_default();
    for p in own.parameters.unwrap_or_default() {
        match params.iter_mut().find(|b| b.name == p.name) {
            Some(b) => {
                if p.value.is_some() {
                    b.value = p.value.clone();
                }
                if p.value_from.is_some() {
                    b.value_from = p.value_from.clone();
                }
            }
            None => params.push(p),
        }
    }
    let mut artifacts = base.artifacts.unwrap_or_default();
    for a in own.artifacts.unwrap_or_default() {
        artifacts.retain(|b| b.name != a.name);
        artifacts.push(a);
    }
    Some(Arguments {
        parameters: Some(params),
        artifacts: (!artifacts.is_empty()).then_some(artifacts),
    })
}

/// Fetches every WorkflowTemplate reachable through `templateRef`, transitively.
fn collect_refs(
    out: &mut ResolvedWorkflow,
    source: &dyn TemplateSource,
    namespace: &str,
) -> Result<(), ResolveError> {
    let mut pending: Vec<TemplateRef> = Vec::new();
    for t in out.templates.values() {
        refs_of(t, &mut pending);
    }
    if let Some(d) = &out.spec.template_defaults {
        refs_of(d, &mut pending);
    }
    let mut loaded: HashMap<(bool, String), ()> = HashMap::new();
    while let Some(r) = pending.pop() {
        let cluster = r.cluster_scope.unwrap_or(false);
        let name = r.name.clone().unwrap_or_default();
        let scope = TemplateScope::Ref {
            cluster,
            name: name.clone(),
        };
        if loaded.insert((cluster, name.clone()), ()).is_none() {
            let spec = fetch_spec(source, namespace, cluster, &name)?;
            for t in spec.templates.iter().flatten() {
                refs_of(t, &mut pending);
                out.templates
                    .insert((scope.clone(), t.name().to_string()), Arc::new(t.clone()));
            }
        }
        let tname = r.template.clone().unwrap_or_default();
        if !out.templates.contains_key(&(scope, tname.clone())) {
            return Err(ResolveError::TemplateNotFound {
                kind: kind_name(cluster),
                name,
                template: tname,
            });
        }
    }
    Ok(())
}

fn refs_of(t: &Template, out: &mut Vec<TemplateRef>) {
    let steps = t.steps.iter().flatten().flatten();
    for s in steps {
        out.extend(s.template_ref.clone());
        if let Some(i) = &s.inline {
            refs_of(i, out);
        }
        for h in s.hooks.iter().flat_map(|h| h.values()) {
            out.extend(h.template_ref.clone());
        }
    }
    for task in t.dag.iter().flat_map(|d| d.tasks.iter().flatten()) {
        out.extend(task.template_ref.clone());
        if let Some(i) = &task.inline {
            refs_of(i, out);
        }
        for h in task.hooks.iter().flat_map(|h| h.values()) {
            out.extend(h.template_ref.clone());
        }
    }
}

/// Reads every ConfigMap key that a parameter's `valueFrom.configMapKeyRef` names.
fn collect_config_values(out: &mut ResolvedWorkflow, source: &dyn TemplateSource, namespace: &str) {
    let args = out
        .spec
        .arguments
        .iter()
        .flat_map(|a| a.parameters.iter().flatten());
    let inputs = out
        .templates
        .values()
        .flat_map(|t| t.inputs.iter().flat_map(|i| i.parameters.iter().flatten()));
    let refs: Vec<(String, String)> = args
        .chain(inputs)
        .filter_map(|p| p.value_from.as_ref()?.config_map_key_ref.as_ref())
        .map(|r| (r.name.clone(), r.key.clone()))
        .collect();
    for (name, key) in refs {
        if let Some(v) = source.config_map_value(namespace, &name, &key) {
            out.config_values.insert((name, key), v);
        }
    }
    let syncs = out
        .templates
        .values()
        .filter_map(|t| t.synchronization.as_ref())
        .chain(out.spec.synchronization.as_ref());
    let sems: Vec<_> = syncs
        .flat_map(super::sync::semaphores)
        .map(|sem| super::sync::semaphore_ref(namespace, sem))
        .collect();
    for (lock, ns, cm, key) in sems {
        let value = source.config_map_value(&ns, &cm, &key);
        let limit = super::sync::limit_of(value.as_deref(), &cm, &key);
        out.semaphore_limits.insert(lock, limit);
    }
}

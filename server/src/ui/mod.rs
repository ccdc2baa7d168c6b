//! The web UI's data source: the read models of its pages, built from the store the API uses
//! (the `app` crate's server functions call these through [`app::api::data::UiData`]).
//! Laid-out graphs are cached per workflow revision; log windows go through line indexes.

pub mod act;
pub mod approve;
pub mod convert;
pub mod graph;
pub mod logs;
pub mod operate;
pub mod runs;
pub mod trigger;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use app::api::UiError;
use app::api::data::{Fut, UiData};
use app::model::{
    FolderPage, GraphView, LogWindow, NodeDetail, RunPage, RunTab, RunsFilter, RunsPage, Stats,
    TemplateId, TemplatePage, TrendPoint,
};
use chrono::Utc;
use controller::store::{
    LabelSelector, Scope, Store, StoreError, TemplateKind, WorkflowQuery, template_key,
};
use engine::history::{RunSummary, TemplateRuns, duration_stats, summarize, template_runs};
use engine::model::{Manifest, Workflow, WorkflowPhase};

use crate::api::ApiState;
use crate::auth::{Caller, guard};
use engine::access::Action;

/// History rows per page of a template page.
const HISTORY_PAGE: u32 = 25;
/// Runs per page of the all-runs list.
const RUNS_PAGE: u32 = 50;
/// Finished runs the duration statistics and trend look at.
pub const STATS_RUNS: u32 = 30;
/// Recent runs a folder-tree row looks at.
pub const RECENT_RUNS: u32 = 10;
/// Runs in a template's grid.
const GRID_RUNS: u32 = 20;
/// Laid-out graphs kept.
const GRAPH_CACHE: usize = 64;

/// The UI's data source over the API's state.
pub struct UiSource {
    state: ApiState,
    graphs: Mutex<GraphCache>,
    logs: logs::LogIndexes,
}

/// Laid-out graphs by (workflow uid, resource version, expanded groups).
#[derive(Default)]
struct GraphCache {
    order: VecDeque<String>,
    graphs: HashMap<String, Arc<GraphView>>,
}

impl GraphCache {
    fn get(&self, key: &str) -> Option<Arc<GraphView>> {
        self.graphs.get(key).cloned()
    }

    fn put(&mut self, key: String, graph: Arc<GraphView>) {
        if self.graphs.insert(key.clone(), graph).is_none() {
            self.order.push_back(key);
        }
        while self.order.len() > GRAPH_CACHE {
            if let Some(old) = self.order.pop_front() {
                self.graphs.remove(&old);
            }
        }
    }
}

impl UiSource {
    /// The data source (and the actions) of the UI served next to the API with `state`.
    pub fn new(state: ApiState) -> Arc<Self> {
        Arc::new(Self {
            state,
            graphs: Mutex::default(),
            logs: logs::LogIndexes::default(),
        })
    }
}

/// A store failure as the UI reports it; the cause of an internal one is logged, not shown.
fn ui_error(e: StoreError) -> UiError {
    match e {
        StoreError::NotFound { .. } => UiError::NotFound(e.to_string()),
        StoreError::Invalid { .. } | StoreError::Selector(_) => UiError::Invalid(e.to_string()),
        other => {
            tracing::error!(error = %other, "a UI request failed");
            UiError::Internal("see the server's log".into())
        }
    }
}

/// The caller of the current page or server function; without one (no request, or not signed
/// in) nothing may be seen.
pub(crate) fn caller() -> Result<Caller, UiError> {
    Caller::of_leptos_request()
        .ok_or_else(|| UiError::Forbidden("sign in to see this: /login".into()))
}

/// The error of a node a workflow does not have.
fn no_node(namespace: &str, name: &str, node: &str) -> UiError {
    UiError::NotFound(format!("workflow {namespace}/{name} has no node {node:?}"))
}

/// Runs of the template with store key `key` that `caller` may read, newest first (a cluster
/// template's runs live in many namespaces).
pub async fn history(
    state: &ApiState,
    caller: &Caller,
    key: &str,
    phases: Vec<WorkflowPhase>,
    limit: u32,
    continue_token: Option<String>,
) -> Result<(Vec<Workflow>, Option<String>), StoreError> {
    let page = state
        .backend
        .store()
        .list_workflows(&WorkflowQuery {
            scope: Scope::All,
            template_key: Some(key.to_string()),
            phases,
            limit: Some(limit),
            continue_token,
            ..Default::default()
        })
        .await?;
    let items = guard::readable_workflows(state, caller, page.items).await;
    Ok((items, page.continue_token))
}

/// The finished phases.
pub fn finished() -> Vec<WorkflowPhase> {
    vec![
        WorkflowPhase::Succeeded,
        WorkflowPhase::Failed,
        WorkflowPhase::Error,
    ]
}

/// The folder tree of the stored templates matching `query`, each one's row by store key, and
/// the names of their recent runs that wait at a suspend step.
pub async fn folder_rows(
    state: &ApiState,
    caller: &Caller,
    query: &str,
) -> Result<
    (
        app::tree::CatalogTree,
        BTreeMap<String, TemplateRuns>,
        BTreeSet<String>,
    ),
    StoreError,
> {
    let store = state.backend.store();
    let all = LabelSelector::default();
    let mut summaries = Vec::new();
    for kind in TemplateKind::ALL {
        for t in store.list_templates(kind, None, &all).await? {
            let target = guard::template_target(kind, t.namespace.as_deref(), &t.name, &t.body);
            if !state.auth().allows(caller, Action::Read, &target) {
                continue;
            }
            let Some(s) = manifest_of(kind, t.body)
                .as_ref()
                .and_then(crate::catalog::summarize)
            else {
                continue;
            };
            summaries.push((kind, t.namespace.clone().unwrap_or_default(), s));
        }
    }
    let catalog = app::catalog::Catalog {
        templates: summaries.iter().map(|(_, _, s)| s.clone()).collect(),
    };
    let tree = app::tree::CatalogTree::build(&catalog).filtered(query);
    let shown: BTreeSet<String> = tree
        .templates()
        .map(|t| {
            template_key(
                convert::store_kind(t.kind),
                t.namespace.as_deref().unwrap_or("default"),
                &t.name,
            )
        })
        .collect();
    let now = Utc::now();
    let mut rows = BTreeMap::new();
    let mut waiting = BTreeSet::new();
    for (kind, ns, s) in &summaries {
        let key = template_key(*kind, ns, &s.name);
        if !shown.contains(&key) {
            continue;
        }
        let (recent, _) = history(state, caller, &key, vec![], RECENT_RUNS, None).await?;
        waiting.extend(
            recent
                .iter()
                .filter(|w| convert::is_waiting(w))
                .filter_map(|w| w.metadata.as_ref()?.name.clone()),
        );
        let recent: Vec<RunSummary> = recent.iter().map(|w| summarize(w, now)).collect();
        let newest = async |phases: Vec<WorkflowPhase>| {
            let (w, _) = history(state, caller, &key, phases, 1, None).await?;
            Ok::<_, StoreError>(w.first().map(|w| summarize(w, now)))
        };
        let success = newest(vec![WorkflowPhase::Succeeded]).await?;
        let failure = newest(vec![WorkflowPhase::Failed, WorkflowPhase::Error]).await?;
        rows.insert(key, template_runs(&recent, success, failure));
    }
    Ok((tree, rows, waiting))
}

/// The stored template `id` as a manifest, if `caller` may read it.
async fn stored_manifest(
    state: &ApiState,
    caller: &Caller,
    id: &TemplateId,
) -> Result<Manifest, UiError> {
    let kind = convert::store_kind(id.kind);
    let ns = (!id.kind.is_cluster_scoped()).then_some(id.namespace.as_str());
    let stored = state
        .backend
        .store()
        .get_template(kind, ns, &id.name)
        .await
        .map_err(ui_error)?;
    let target = guard::template_target(kind, ns, &id.name, &stored.body);
    state
        .auth()
        .check(caller, Action::Read, &target)
        .map_err(act::api_ui_error)?;
    manifest_of(kind, stored.body)
        .ok_or_else(|| UiError::Internal("the stored template does not parse".into()))
}

/// A stored template's body as a manifest of its kind.
fn manifest_of(kind: TemplateKind, body: serde_json::Value) -> Option<Manifest> {
    let m = match kind {
        TemplateKind::WorkflowTemplate => {
            serde_json::from_value(body).map(Manifest::WorkflowTemplate)
        }
        TemplateKind::ClusterWorkflowTemplate => {
            serde_json::from_value(body).map(Manifest::ClusterWorkflowTemplate)
        }
        TemplateKind::CronWorkflow => serde_json::from_value(body).map(Manifest::CronWorkflow),
        TemplateKind::WorkflowEventBinding => return None,
    };
    m.ok()
}

/// A template manifest's annotations.
fn annotations_of(m: &Manifest) -> Option<&BTreeMap<String, String>> {
    match m {
        Manifest::WorkflowTemplate(t) => t.metadata.as_ref(),
        Manifest::ClusterWorkflowTemplate(t) => t.metadata.as_ref(),
        Manifest::CronWorkflow(c) => c.metadata.as_ref(),
        _ => None,
    }?
    .annotations
    .as_ref()
}

/// The spec a template manifest runs.
fn spec_of(m: &Manifest) -> Option<&engine::model::WorkflowSpec> {
    match m {
        Manifest::WorkflowTemplate(t) => t.spec.as_ref(),
        Manifest::ClusterWorkflowTemplate(t) => t.spec.as_ref(),
        Manifest::CronWorkflow(c) => c.spec.as_ref()?.workflow_spec.as_ref(),
        _ => None,
    }
}

impl UiSource {
    async fn folders_page(&self, caller: Caller, query: String) -> Result<FolderPage, UiError> {
        let (tree, rows, waiting) = folder_rows(&self.state, &caller, &query)
            .await
            .map_err(ui_error)?;
        Ok(FolderPage {
            tree,
            jobs: rows
                .into_iter()
                .map(|(k, r)| (k, convert::job_row(r, &waiting)))
                .collect(),
        })
    }

    async fn template_page(
        &self,
        caller: Caller,
        id: TemplateId,
        page: String,
    ) -> Result<TemplatePage, UiError> {
        let kind = convert::store_kind(id.kind);
        let manifest = stored_manifest(&self.state, &caller, &id).await?;
        let mut summary = crate::catalog::summarize(&manifest)
            .ok_or_else(|| UiError::Internal("the stored template has no name".into()))?;
        let secrets = engine::secrets::secret_names(annotations_of(&manifest));
        for p in summary
            .parameters
            .iter_mut()
            .filter(|p| secrets.contains(&p.name))
        {
            p.default = p
                .default
                .as_ref()
                .map(|_| engine::secrets::MASK.to_string());
        }
        let graph = spec_of(&manifest)
            .map(|s| graph::of_spec(&id.name, s))
            .unwrap_or_default();
        let key = template_key(kind, &id.namespace, &id.name);
        let now = Utc::now();
        let token = Some(page).filter(|p| !p.is_empty());
        let (recent, _) = history(&self.state, &caller, &key, finished(), STATS_RUNS, None)
            .await
            .map_err(ui_error)?;
        let summaries: Vec<RunSummary> = recent.iter().map(|w| summarize(w, now)).collect();
        let ds = duration_stats(&summaries);
        let (rows, next) = history(&self.state, &caller, &key, vec![], HISTORY_PAGE, token)
            .await
            .map_err(ui_error)?;
        let runs = rows
            .iter()
            .map(|w| convert::row_of(w, now, |d| ds.is_slow(d)))
            .collect();
        let (grid_runs, _) = history(&self.state, &caller, &key, vec![], GRID_RUNS, None)
            .await
            .map_err(ui_error)?;
        let total_runs = grid_runs
            .first()
            .map(|w| summarize(w, now).number.unwrap_or(0))
            .unwrap_or(0);
        let trend = summaries
            .iter()
            .rev()
            .filter_map(|s| {
                Some(TrendPoint {
                    name: s.name.clone(),
                    number: s.number,
                    phase: app::model::Phase::from_argo(&s.phase),
                    duration_seconds: s.duration_seconds?,
                })
            })
            .collect();
        Ok(TemplatePage {
            id,
            summary,
            graph,
            runs,
            next,
            stats: Stats {
                median_seconds: ds.median_seconds,
                p90_seconds: ds.p90_seconds,
            },
            trend,
            grid: convert::grid_view(engine::history::grid(&grid_runs, now)),
            total_runs,
            cron: match &manifest {
                Manifest::CronWorkflow(c) => Some(convert::cron_view(c, now)),
                _ => None,
            },
        })
    }

    async fn runs_page(&self, caller: Caller, filter: RunsFilter) -> Result<RunsPage, UiError> {
        let query = runs::runs_query(&filter)?;
        let page = self
            .state
            .backend
            .store()
            .list_workflows(&query)
            .await
            .map_err(ui_error)?;
        let items = guard::readable_workflows(&self.state, &caller, page.items).await;
        let now = Utc::now();
        // In the store's order (the filter's sort), page by page.
        let runs: Vec<_> = items
            .iter()
            .map(|w| convert::row_of(w, now, |_| false))
            .collect();
        Ok(RunsPage {
            runs,
            next: page.continue_token,
        })
    }

    /// The workflow `namespace/name`, if `caller` may do `action` on it.
    pub(crate) async fn workflow(
        &self,
        caller: &Caller,
        action: Action,
        namespace: &str,
        name: &str,
    ) -> Result<Workflow, UiError> {
        let wf = self
            .state
            .backend
            .store()
            .get_workflow(namespace, name)
            .await
            .map_err(ui_error)?;
        guard::check_workflow(&self.state, caller, action, &wf)
            .await
            .map_err(act::api_ui_error)?;
        Ok(wf)
    }

    /// The spec a run runs: its own, the one stored in its status, or its workflow template's.
    pub(crate) async fn spec_of_run(&self, wf: &Workflow) -> engine::model::WorkflowSpec {
        let own = convert::effective_spec(wf);
        if own.templates.as_ref().is_some_and(|t| !t.is_empty()) {
            return own;
        }
        let Some(r) = wf
            .spec
            .as_ref()
            .and_then(|s| s.workflow_template_ref.as_ref())
        else {
            return own;
        };
        let cluster = r.cluster_scope.unwrap_or(false);
        let (kind, ns) = if cluster {
            (TemplateKind::ClusterWorkflowTemplate, None)
        } else {
            let ns = wf.metadata.as_ref().and_then(|m| m.namespace.as_deref());
            (TemplateKind::WorkflowTemplate, ns)
        };
        let name = r.name.as_deref().unwrap_or_default();
        let Ok(t) = self
            .state
            .backend
            .store()
            .get_template(kind, ns, name)
            .await
        else {
            return own;
        };
        let Some(mut spec) = manifest_of(kind, t.body)
            .as_ref()
            .and_then(spec_of)
            .cloned()
        else {
            return own;
        };
        if own.entrypoint.is_some() {
            spec.entrypoint = own.entrypoint;
        }
        spec
    }

    fn graph_of(
        &self,
        wf: &Workflow,
        spec: &engine::model::WorkflowSpec,
        expand: &BTreeSet<String>,
        live: bool,
    ) -> Arc<GraphView> {
        let meta = wf.metadata.clone().unwrap_or_default();
        let key = format!(
            "{}/{}/{}",
            meta.uid.unwrap_or_default(),
            meta.resource_version.unwrap_or_default(),
            expand.iter().cloned().collect::<Vec<_>>().join(",")
        );
        if let Some(g) = self
            .graphs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return g;
        }
        let name = meta.name.unwrap_or_default();
        let planned = engine::outline::outline(&name, spec);
        let nodes = wf
            .status
            .as_ref()
            .and_then(|s| s.nodes.clone())
            .unwrap_or_default();
        let g = Arc::new(graph::build(
            &name,
            &nodes,
            &planned,
            live,
            expand,
            Utc::now(),
        ));
        self.graphs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .put(key, g.clone());
        g
    }

    async fn run_page(
        &self,
        caller: Caller,
        namespace: String,
        name: String,
        expand: Vec<String>,
    ) -> Result<RunPage, UiError> {
        let wf = self
            .workflow(&caller, Action::Read, &namespace, &name)
            .await?;
        let now = Utc::now();
        let mut run = convert::row_of(&wf, now, |_| false);
        let expand: BTreeSet<String> = expand.into_iter().collect();
        let full_spec = self.spec_of_run(&wf).await;
        run.parameters = convert::effective_parameters(&wf, &full_spec);
        // Planned steps are only needed while the run is live.
        let spec = if run.phase.is_live() {
            full_spec
        } else {
            Default::default()
        };
        let graph = self.graph_of(&wf, &spec, &expand, run.phase.is_live());
        let meta = wf.metadata.clone().unwrap_or_default();
        let previous = self.previous_run(&wf).await?;
        Ok(RunPage {
            suspended: wf.spec.as_ref().and_then(|s| s.suspend).unwrap_or(false),
            previous,
            graph: (*graph).clone(),
            revision: format!(
                "{}/{}",
                meta.uid.unwrap_or_default(),
                meta.resource_version.unwrap_or_default()
            ),
            run,
        })
    }

    /// The run of the same template numbered just before `wf`, if it is still there: one
    /// indexed lookup by template and run number.
    async fn previous_run(&self, wf: &Workflow) -> Result<Option<String>, UiError> {
        let Some(key) = controller::store::workflow_template_key(wf) else {
            return Ok(None);
        };
        let number = wf
            .metadata
            .as_ref()
            .and_then(|m| m.labels.as_ref())
            .and_then(|l| l.get(controller::store::LABEL_RUN_NUMBER))
            .and_then(|n| n.parse::<u64>().ok());
        let Some(previous) = number.and_then(|n| n.checked_sub(1)).filter(|n| *n > 0) else {
            return Ok(None);
        };
        let labels = LabelSelector::parse(&format!(
            "{}={previous}",
            controller::store::LABEL_RUN_NUMBER
        ))
        .map_err(|e| UiError::Internal(e.to_string()))?;
        let page = self
            .state
            .backend
            .store()
            .list_workflows(&WorkflowQuery {
                scope: Scope::All,
                template_key: Some(key),
                labels,
                limit: Some(1),
                ..Default::default()
            })
            .await
            .map_err(ui_error)?;
        Ok(page.items.first().map(|w| w.name().to_string()))
    }

    async fn run_tab(
        &self,
        caller: Caller,
        namespace: String,
        name: String,
        tab: String,
    ) -> Result<RunTab, UiError> {
        let wf = self
            .workflow(&caller, Action::Read, &namespace, &name)
            .await?;
        match tab.as_str() {
            "timeline" => Ok(RunTab {
                timeline: convert::timeline(&wf, Utc::now()),
                ..Default::default()
            }),
            "yaml" => Ok(RunTab {
                yaml: {
                    let mut v = serde_json::to_value(&wf).unwrap_or_default();
                    engine::secrets::redact_json(&mut v, &engine::secrets::secret_values(&wf));
                    engine::yaml::to_yaml_string(&v)
                },
                ..Default::default()
            }),
            other => Err(UiError::Invalid(format!(
                "a run has the tabs timeline and yaml, not {other:?}"
            ))),
        }
    }

    async fn node_page(
        &self,
        caller: Caller,
        namespace: String,
        name: String,
        node: String,
    ) -> Result<NodeDetail, UiError> {
        let wf = self
            .workflow(&caller, Action::Read, &namespace, &name)
            .await?;
        let spec = self.spec_of_run(&wf).await;
        let mut d = convert::node_detail(&wf, &spec, &node, Utc::now())
            .ok_or_else(|| no_node(&namespace, &name, &node))?;
        let secrets = engine::secrets::secret_values(&wf);
        if !secrets.is_empty() {
            for (_, v) in d.inputs.iter_mut().chain(d.outputs.iter_mut()) {
                *v = engine::secrets::redact(v, &secrets);
            }
            d.message = d.message.map(|m| engine::secrets::redact(&m, &secrets));
        }
        Ok(d)
    }

    async fn log_window(
        &self,
        caller: Caller,
        namespace: String,
        name: String,
        node: String,
        from: Option<u64>,
        count: u32,
    ) -> Result<LogWindow, UiError> {
        let wf = self
            .workflow(&caller, Action::Read, &namespace, &name)
            .await?;
        // Read every second while a log is followed: only the node's phase is needed.
        let phase = wf
            .status
            .as_ref()
            .and_then(|s| s.nodes.as_ref()?.get(&node))
            .map(convert::node_phase)
            .ok_or_else(|| no_node(&namespace, &name, &node))?;
        let secrets = engine::secrets::secret_values(&wf);
        let path = self.state.backend.log_path(&wf, &node).await;
        let (mut lines, first, total) = self.logs.window(&path, from, count).map_err(|e| {
            tracing::error!(error = %e, path = %path.display(), "cannot read a step's log");
            UiError::Internal("cannot read the step's log; see the server's log".into())
        })?;
        if !secrets.is_empty() {
            for l in &mut lines {
                *l = engine::secrets::redact(l, &secrets);
            }
        }
        Ok(LogWindow {
            lines,
            first,
            total,
            done: !phase.is_live(),
        })
    }
}

impl UiData for UiSource {
    fn folders(&self, query: String) -> Fut<'_, FolderPage> {
        let caller = caller();
        Box::pin(async move { self.folders_page(caller?, query).await })
    }

    fn namespaces(&self) -> Fut<'_, Vec<String>> {
        let caller = caller();
        Box::pin(async move {
            let caller = caller?;
            let store = self.state.backend.store();
            let mut out = BTreeSet::new();
            for kind in TemplateKind::ALL {
                let all = store
                    .list_templates(kind, None, &LabelSelector::default())
                    .await
                    .map_err(ui_error)?;
                for t in all {
                    let target =
                        guard::template_target(kind, t.namespace.as_deref(), &t.name, &t.body);
                    if !self.state.auth().allows(&caller, Action::Read, &target) {
                        continue;
                    }
                    out.insert(
                        t.namespace
                            .unwrap_or_else(|| app::tree::CLUSTER_WIDE.to_string()),
                    );
                }
            }
            Ok(out.into_iter().collect())
        })
    }

    fn template(&self, id: TemplateId, page: String) -> Fut<'_, TemplatePage> {
        let caller = caller();
        Box::pin(async move { self.template_page(caller?, id, page).await })
    }

    fn runs(&self, filter: RunsFilter) -> Fut<'_, RunsPage> {
        let caller = caller();
        Box::pin(async move { self.runs_page(caller?, filter).await })
    }

    fn run(&self, namespace: String, name: String, expand: Vec<String>) -> Fut<'_, RunPage> {
        let caller = caller();
        Box::pin(async move { self.run_page(caller?, namespace, name, expand).await })
    }

    fn tab(&self, namespace: String, name: String, tab: String) -> Fut<'_, RunTab> {
        let caller = caller();
        Box::pin(async move { self.run_tab(caller?, namespace, name, tab).await })
    }

    fn node(&self, namespace: String, name: String, node: String) -> Fut<'_, NodeDetail> {
        let caller = caller();
        Box::pin(async move { self.node_page(caller?, namespace, name, node).await })
    }

    fn log(
        &self,
        namespace: String,
        name: String,
        node: String,
        from: Option<u64>,
        count: u32,
    ) -> Fut<'_, LogWindow> {
        let caller = caller();
        Box::pin(async move {
            self.log_window(caller?, namespace, name, node, from, count)
                .await
        })
    }
}

//! The Kubernetes backend (DESIGN §3): a kube-runtime `Controller` over Workflow objects and the
//! Pods and `WorkflowTaskResult`s they own. One reconcile = read the workflow, its Pods and task
//! results from watch caches → [`decide::decide`] (the engine's `plan`, pure) → write the status
//! (optimistic concurrency on `resourceVersion`) → create, stop or delete Pods.
//!
//! Crash safety: Pod names are Argo's (format v2) and derived from the node, so a Pod created
//! before a restart is adopted, and a create racing another is answered `AlreadyExists`; the
//! status is written before the Pods it implies; a stale reconcile loses on the status write.

pub mod artifacts;
pub mod compress;
pub mod cron;
pub mod decide;
pub mod lease;
pub mod observe;
pub mod pod;
pub mod report;
pub mod resource;
pub mod serve;
mod templates;
#[cfg(test)]
mod testing;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, ResourceExt};

pub use decide::Settings;

/// Label of the objects a controller started with `--instance-id` handles (Argo's).
pub const LABEL_INSTANCE_ID: &str = "workflows.argoproj.io/controller-instanceid";

/// The API resource of `argoproj.io/v1alpha1` kind `kind`, plural `plural`.
pub fn argo_resource(kind: &str, plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("argoproj.io", "v1alpha1", kind),
        plural,
    )
}

/// A time as `k8s-openapi` holds it.
pub fn to_k8s_time(t: chrono::DateTime<chrono::Utc>) -> k8s_openapi::jiff::Timestamp {
    k8s_openapi::jiff::Timestamp::from_microsecond(t.timestamp_micros())
        .unwrap_or(k8s_openapi::jiff::Timestamp::UNIX_EPOCH)
}

/// A `k8s-openapi` time as the engine holds it.
pub fn from_k8s_time(t: k8s_openapi::jiff::Timestamp) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_micros(t.as_microsecond()).unwrap_or_default()
}

/// `Workflow`.
pub fn workflows() -> ApiResource {
    argo_resource("Workflow", "workflows")
}

/// `WorkflowTaskResult`.
pub fn task_results() -> ApiResource {
    argo_resource("WorkflowTaskResult", "workflowtaskresults")
}

/// Which workflows this controller runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// Only this namespace (`--namespaced`), else every namespace.
    pub namespace: Option<String>,
    /// Only objects labelled with this instance ID (`--instance-id`), else only unlabelled ones.
    pub instance_id: Option<String>,
}

impl Scope {
    /// The label selector of the objects in scope.
    pub fn selector(&self) -> String {
        match &self.instance_id {
            Some(id) => format!("{LABEL_INSTANCE_ID}={id}"),
            None => format!("!{LABEL_INSTANCE_ID}"),
        }
    }

    fn dynamic(&self, client: &Client, ar: &ApiResource) -> Api<DynamicObject> {
        match &self.namespace {
            Some(ns) => Api::namespaced_with(client.clone(), ns, ar),
            None => Api::all_with(client.clone(), ar),
        }
    }

    fn pods(&self, client: &Client) -> Api<Pod> {
        match &self.namespace {
            Some(ns) => Api::namespaced(client.clone(), ns),
            None => Api::all(client.clone()),
        }
    }
}

/// Why a reconcile failed (it is retried with a backoff).
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// A request to the API server failed.
    #[error("{what}: {source}")]
    Api {
        /// What was being done.
        what: String,
        /// The API's error.
        #[source]
        source: kube::Error,
    },
    /// The database of offloaded node status failed, or lacks the version a workflow names.
    #[error("{0}")]
    Offload(String),
}

fn api_error(what: impl Into<String>) -> impl FnOnce(kube::Error) -> ReconcileError {
    let what = what.into();
    move |source| ReconcileError::Api { what, source }
}

/// What every reconcile shares.
pub struct Context {
    client: Client,
    pods: Store<Pod>,
    results: Store<DynamicObject>,
    templates: templates::Templates,
    settings: Settings,
    /// Pods the API refused to create, by workflow uid then node ID, with the API's message.
    refused: Mutex<HashMap<String, BTreeMap<String, String>>>,
    /// Consecutive failures per workflow, for the backoff of [`error_policy`].
    failures: Mutex<HashMap<String, u32>>,
}

/// A cache holding exactly these objects, as a watch that listed them would.
fn fixed_store<K>(dyntype: K::DynamicType, objects: Vec<K>) -> Store<K>
where
    K: kube::Resource + Clone + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    let mut writer = reflector::store::Writer::new(dyntype);
    writer.apply_watcher_event(&watcher::Event::Init);
    for o in objects {
        writer.apply_watcher_event(&watcher::Event::InitApply(o));
    }
    writer.apply_watcher_event(&watcher::Event::InitDone);
    writer.as_reader()
}

impl Context {
    /// A context whose caches hold exactly these Pods, task results and WorkflowTemplates
    /// (no watches): for one reconcile at a time, as the scenario tests drive it.
    pub fn fixed(
        client: Client,
        settings: Settings,
        pods: Vec<Pod>,
        results: Vec<DynamicObject>,
        workflow_templates: Vec<DynamicObject>,
    ) -> Arc<Self> {
        Arc::new(Self::cached(
            client,
            settings,
            pods,
            results,
            templates::Templates::fixed(workflow_templates),
            HashMap::new(),
        ))
    }

    /// The same context with these Pods and task results cached instead (what the watches
    /// would have seen since); the templates and the refused Pods are kept.
    pub fn observe(self: &Arc<Self>, pods: Vec<Pod>, results: Vec<DynamicObject>) -> Arc<Self> {
        let refused = self.refused.lock().map(|m| m.clone()).unwrap_or_default();
        Arc::new(Self::cached(
            self.client.clone(),
            self.settings.clone(),
            pods,
            results,
            self.templates.clone(),
            refused,
        ))
    }

    fn cached(
        client: Client,
        settings: Settings,
        pods: Vec<Pod>,
        results: Vec<DynamicObject>,
        templates: templates::Templates,
        refused: HashMap<String, BTreeMap<String, String>>,
    ) -> Self {
        Self {
            client,
            pods: fixed_store((), pods),
            results: fixed_store(task_results(), results),
            templates,
            settings,
            refused: Mutex::new(refused),
            failures: Mutex::new(HashMap::new()),
        }
    }
}

impl Context {
    /// Drops what is remembered of a workflow (refused Pods, failures).
    fn forget(&self, uid: &str) {
        if let Ok(mut m) = self.refused.lock() {
            m.remove(uid);
        }
        if let Ok(mut m) = self.failures.lock() {
            m.remove(uid);
        }
    }
}

/// One reconcile of one workflow (what the controller runs on every change).
pub async fn reconcile_once(
    obj: Arc<DynamicObject>,
    ctx: Arc<Context>,
) -> Result<Action, ReconcileError> {
    reconcile(obj, ctx).await
}

/// How a workflow that has nothing scheduled is looked at again anyway.
const RESYNC: Duration = Duration::from_secs(300);

/// Whether the Pod and task-result caches hold their first full list (before that, a running
/// step's Pod would look deleted).
async fn caches_ready(ctx: &Context) -> bool {
    let both = async {
        ctx.pods.wait_until_ready().await.is_ok() && ctx.results.wait_until_ready().await.is_ok()
    };
    tokio::time::timeout(Duration::from_secs(5), both)
        .await
        .unwrap_or(false)
}

async fn reconcile(obj: Arc<DynamicObject>, ctx: Arc<Context>) -> Result<Action, ReconcileError> {
    if !caches_ready(&ctx).await {
        return Ok(Action::requeue(Duration::from_secs(1)));
    }
    let ns = obj.namespace().unwrap_or_else(|| "default".into());
    let name = obj.name_any();
    let uid = obj.uid().unwrap_or_default();
    let mut object = serde_json::to_value(obj.as_ref()).unwrap_or_default();
    let named_version = object["status"]["offloadNodeStatusVersion"]
        .as_str()
        .map(str::to_owned);
    inline_offloaded(&mut object, &uid, &ctx.settings).await?;
    let with_repository;
    let settings = match artifacts::uses_artifacts(&object) {
        false => &ctx.settings,
        true => {
            let mut s = ctx.settings.clone();
            s.pod.artifact_repository = artifact_repository(&ctx.client, &ns, &object).await?;
            with_repository = s;
            &with_repository
        }
    };
    let pods: Vec<Arc<Pod>> = ctx.pods.state_filter(|p| {
        p.namespace().as_deref() == Some(ns.as_str())
            && p.owner_references().iter().any(|o| o.uid == uid)
    });
    let results: BTreeMap<String, observe::Reported> = ctx
        .results
        .state_filter(|r| {
            r.namespace().as_deref() == Some(ns.as_str())
                && r.owner_references().iter().any(|o| o.uid == uid)
        })
        .iter()
        .filter_map(|r| {
            let value = serde_json::to_value(r.as_ref()).ok()?;
            Some((r.name_any(), observe::Reported::from_object(&value).ok()?))
        })
        .collect();
    let refused = ctx
        .refused
        .lock()
        .map(|m| m.get(&uid).cloned().unwrap_or_default())
        .unwrap_or_default();
    let now = chrono::Utc::now();
    let d = decide::decide(&decide::Inputs {
        object: &object,
        pods: &pods,
        results: &results,
        templates: &ctx.templates.snapshot(&ns),
        refused: &refused,
        settings,
        now,
    });
    let phase = d.status.as_ref().and_then(|s| s.phase).or_else(|| {
        serde_json::from_value::<engine::model::WorkflowPhase>(object["status"]["phase"].clone())
            .ok()
    });
    if phase.is_some_and(|p| p.completed()) {
        ctx.forget(&uid);
    }
    let wf_api: Api<DynamicObject> = Api::namespaced_with(ctx.client.clone(), &ns, &workflows());
    if let (Some(o), Some(store)) = (&d.offload, &ctx.settings.offload) {
        store
            .offload_nodes(&uid, &o.version, &o.nodes, named_version.as_deref())
            .await
            .map_err(|e| {
                ReconcileError::Offload(format!("offloading the nodes of {ns}/{name}: {e}"))
            })?;
    }
    if let Some(status) = &d.status {
        let mut body = object.clone();
        body["status"] = serde_json::to_value(status).unwrap_or_default();
        let body: DynamicObject = match serde_json::from_value(body) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(error = %e, "cannot encode a status");
                return Ok(Action::requeue(RESYNC));
            }
        };
        match wf_api
            .replace_status(&name, &PostParams::default(), &body)
            .await
        {
            Ok(_) => {}
            // Another reconcile (or a user) changed it first: start again from the new object.
            Err(kube::Error::Api(s)) if s.is_conflict() => {
                return Ok(Action::requeue(Duration::from_millis(200)));
            }
            Err(kube::Error::Api(s)) if s.is_not_found() => return Ok(Action::await_change()),
            Err(e) => return Err(api_error(format!("writing the status of {ns}/{name}"))(e)),
        }
    }
    let pod_api: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);
    for p in &d.create {
        match pod_api.create(&PostParams::default(), p).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.is_already_exists() => {}
            Err(kube::Error::Api(s)) if refused_for_good(&s) => {
                // Refused for good (invalid, forbidden by a policy or quota): the step errors.
                let node = decide::node_of(p).unwrap_or_default().to_string();
                if let Ok(mut m) = ctx.refused.lock() {
                    m.entry(uid.clone())
                        .or_default()
                        .insert(node, format!("cannot create pod: {}", s.message));
                }
                return Ok(Action::requeue(Duration::from_millis(10)));
            }
            Err(e) => {
                return Err(api_error(format!(
                    "creating pod {ns}/{}",
                    p.metadata.name.clone().unwrap_or_default()
                ))(e));
            }
        }
    }
    for pod in &d.stop {
        let patch = serde_json::json!({"spec": {"activeDeadlineSeconds": 1}});
        match pod_api
            .patch(pod, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.is_not_found() => {}
            Err(e) => return Err(api_error(format!("stopping pod {ns}/{pod}"))(e)),
        }
    }
    for pod in &d.delete_pods {
        match pod_api.delete(pod, &DeleteParams::default()).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.is_not_found() => {}
            Err(e) => return Err(api_error(format!("deleting pod {ns}/{pod}"))(e)),
        }
    }
    if d.delete_workflow {
        match wf_api.delete(&name, &DeleteParams::background()).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.is_not_found() => {}
            Err(e) => return Err(api_error(format!("deleting workflow {ns}/{name}"))(e)),
        }
        if let Ok(mut m) = ctx.refused.lock() {
            m.remove(&uid);
        }
        return Ok(Action::await_change());
    }
    if let Ok(mut f) = ctx.failures.lock() {
        f.remove(&uid);
    }
    Ok(match d.requeue_at {
        Some(at) => {
            let wait = (at - now).to_std().unwrap_or_default();
            Action::requeue(wait.min(RESYNC).max(Duration::from_millis(10)))
        }
        None => Action::requeue(RESYNC),
    })
}

/// Whether the API refused a Pod for good (invalid, forbidden by a policy, a missing namespace or
/// ServiceAccount); throttling, authentication and quota refusals pass and are retried.
fn refused_for_good(s: &kube::core::Status) -> bool {
    match s.code {
        400 | 404 | 422 => true,
        403 => !s.message.contains("exceeded quota"),
        _ => false,
    }
}

/// Retries a failed reconcile after 1 s, doubling per consecutive failure up to 5 minutes.
fn error_policy(obj: Arc<DynamicObject>, error: &ReconcileError, ctx: Arc<Context>) -> Action {
    let uid = obj.uid().unwrap_or_default();
    let n = ctx
        .failures
        .lock()
        .map(|mut f| {
            let n = f.entry(uid).or_insert(0);
            *n += 1;
            *n
        })
        .unwrap_or(1);
    tracing::warn!(workflow = %obj.name_any(), attempt = n, %error, "reconcile failed");
    Action::requeue(backoff(n))
}

/// The artifact repository of a workflow (see [`artifacts::repository`]), read from its
/// namespace's ConfigMap.
async fn artifact_repository(
    client: &Client,
    ns: &str,
    object: &serde_json::Value,
) -> Result<Result<Option<engine::model::S3ArtifactRepository>, String>, ReconcileError> {
    let reference: Option<engine::model::ArtifactRepositoryRef> =
        serde_json::from_value(object["spec"]["artifactRepositoryRef"].clone()).ok();
    let name = artifacts::config_map_name(reference.as_ref());
    let api: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(client.clone(), ns);
    let cm = api
        .get_opt(&name)
        .await
        .map_err(api_error(format!("reading ConfigMap {ns}/{name}")))?;
    let cm = cm.map(|c| serde_json::to_value(c).unwrap_or_default());
    Ok(artifacts::repository(cm.as_ref(), reference.as_ref()))
}

/// Puts the node status a workflow object names by `status.offloadNodeStatusVersion` back into
/// it, from the database.
async fn inline_offloaded(
    object: &mut serde_json::Value,
    uid: &str,
    settings: &Settings,
) -> Result<(), ReconcileError> {
    let Some(version) = object["status"]["offloadNodeStatusVersion"]
        .as_str()
        .map(str::to_owned)
    else {
        return Ok(());
    };
    let Some(store) = &settings.offload else {
        return Err(ReconcileError::Offload(format!(
            "workflow {uid} keeps its node status in a database (version {version}): start the controller with --database-url"
        )));
    };
    let nodes = store
        .offloaded_nodes(uid, &version)
        .await
        .map_err(|e| ReconcileError::Offload(format!("reading offloaded nodes: {e}")))?
        .ok_or_else(|| {
            ReconcileError::Offload(format!(
                "the offloaded node status {version} of workflow {uid} is not in the database"
            ))
        })?;
    let nodes: serde_json::Value = serde_json::from_str(&nodes).map_err(|e| {
        ReconcileError::Offload(format!(
            "the offloaded node status {version} is corrupt: {e}"
        ))
    })?;
    object["status"]["nodes"] = nodes;
    if let Some(s) = object["status"].as_object_mut() {
        s.remove("offloadNodeStatusVersion");
    }
    Ok(())
}

/// The wait before retry `n` (1-based) of a failing reconcile.
pub fn backoff(n: u32) -> Duration {
    Duration::from_secs(1u64 << n.saturating_sub(1).min(8)).min(RESYNC)
}

/// Runs the controller until `shutdown` resolves (or its watches end); an `Err` says why it
/// could not start.
pub async fn run(
    client: Client,
    scope: Scope,
    settings: Settings,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) -> Result<(), String> {
    let selector = scope.selector();
    let config = watcher::Config::default().labels(&selector);
    let wf_ar = workflows();
    let wf_api: Api<DynamicObject> = scope.dynamic(&client, &wf_ar);

    let (pods, pod_writer) = reflector::store();
    let pod_api: Api<Pod> = scope.pods(&client);
    // Only this controller's Pods (those of its instance ID, or of none).
    let pod_selector = format!("{},{selector}", pod::LABEL_WORKFLOW);
    let pod_stream = watcher(pod_api, watcher::Config::default().labels(&pod_selector))
        .default_backoff()
        .reflect(pod_writer)
        .applied_objects();

    let tr_ar = task_results();
    let tr_writer = reflector::store::Writer::new(tr_ar.clone());
    let results = tr_writer.as_reader();
    let tr_api: Api<DynamicObject> = scope.dynamic(&client, &tr_ar);
    let tr_stream = watcher(
        tr_api,
        watcher::Config::default().labels(pod::LABEL_WORKFLOW),
    )
    .default_backoff()
    .reflect(tr_writer)
    .applied_objects();

    let templates = templates::Templates::watch(&client, &scope);
    if tokio::time::timeout(Duration::from_secs(60), templates.ready())
        .await
        .is_err()
    {
        return Err(
            "the WorkflowTemplate caches did not fill in 60 s: are the CRDs installed (manifests/crds), \
             and may the controller list workflowtemplates and clusterworkflowtemplates? See the warnings above"
                .into(),
        );
    }

    // CronWorkflows: the same scheduler as the local backend's, over the API.
    let crons = tokio::spawn(
        crate::cron::CronScheduler::new(cron::KubeCrons::watch(&client, &scope)).run(),
    );
    let ctx = Arc::new(Context {
        client: client.clone(),
        pods,
        results,
        templates,
        settings,
        refused: Mutex::new(HashMap::new()),
        failures: Mutex::new(HashMap::new()),
    });
    let owner_ar = wf_ar.clone();
    Controller::new_with(wf_api, config, wf_ar)
        .owns_stream_with(pod_stream, ())
        .watches_stream_with(
            tr_stream,
            move |r: DynamicObject| {
                r.owner_references()
                    .iter()
                    .filter(|o| o.kind == "Workflow")
                    .map(|o| {
                        ObjectRef::new_with(&o.name, owner_ar.clone())
                            .within(&r.namespace().unwrap_or_default())
                    })
                    .collect::<Vec<_>>()
            },
            tr_ar,
        )
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, ctx)
        .for_each(|r| async move {
            if let Err(e) = r {
                tracing::debug!(error = %e, "controller event");
            }
        })
        .await;
    crons.abort();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_five_minutes() {
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(2), Duration::from_secs(2));
        assert_eq!(backoff(5), Duration::from_secs(16));
        assert_eq!(backoff(30), Duration::from_secs(256));
    }

    #[test]
    fn the_scope_selects_by_instance_id() {
        assert_eq!(Scope::default().selector(), format!("!{LABEL_INSTANCE_ID}"));
        let s = Scope {
            instance_id: Some("a".into()),
            ..Scope::default()
        };
        assert_eq!(s.selector(), format!("{LABEL_INSTANCE_ID}=a"));
    }
}

//! The local backend: workflows in the store, each step a `trellis exec` process on this
//! machine. One task per active workflow runs the loop of DESIGN §3:
//! load → `plan` → persist status → perform actions → wait for an observation or a wake-up.
//!
//! Crash safety: the status is written before the actions it implies; a step is claimed in the
//! store before its process starts (so it never starts twice); after a restart, steps whose
//! process finished are read from their result file, steps still running are adopted, and steps
//! whose process vanished become Error (and are retried when their `retryStrategy` allows).

mod control;
pub mod data;
pub mod http;
pub mod launch;
pub mod locks;
mod memo;
pub mod probe;
mod process;
pub(crate) use process::observation;
mod recover;
mod retry;
mod templates;

pub use templates::{config_map_path, resolve, with_template_spec};

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use engine::model::{NodePhase, Workflow};
use engine::ops::{NodeSelector, NodeUpdate, OpError};
use engine::plan::{Action, Observations, ResolvedWorkflow, StepLaunch, StepObservation, plan};
use tokio::sync::{broadcast, mpsc};

use crate::store::{Database, RunnerLock, SqlStore, Store, StoreError};
use launch::{Layout, plan_run};
use locks::Locks;
use process::Runner;

/// How the local backend is set up.
#[derive(Debug, Clone)]
pub struct LocalConfig {
    /// Where the database (unless `database` names another), step directories, logs and
    /// artifacts live.
    pub data_dir: PathBuf,
    /// The database of workflows and templates: `<data_dir>/trellis.db` when `None`.
    pub database: Option<Database>,
    /// The `trellis` binary that provides `trellis exec`.
    pub exec_binary: PathBuf,
    /// Run steps in a bubblewrap sandbox when bubblewrap works here.
    pub sandbox: bool,
}

/// Errors of the local backend.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The data directory cannot be created.
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The workflow is not running in this process.
    #[error("workflow {0} is not running")]
    NotRunning(String),
    /// The operation does not apply to the workflow as it is (nothing changed).
    #[error(transparent)]
    Op(#[from] OpError),
    /// The Kubernetes API failed or refused (`serve --backend kubernetes`).
    #[error("the Kubernetes API: {0}")]
    Cluster(String),
}

/// An operation on a running workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control {
    /// Stop: stop running steps, run exit handlers, end Failed.
    Stop,
    /// Terminate: stop running steps, no exit handlers.
    Terminate,
    /// Start nothing new until resumed.
    Suspend,
    /// Resume a suspended workflow and every suspend node waiting for a human.
    Resume,
    /// [`Control::Resume`], only if every waiting suspend node is among these ids (those whose
    /// approval rules were checked); otherwise nothing changes.
    ResumeChecked(Vec<String>),
    /// Change the waiting suspend nodes a selector picks: approve (Succeeded, with supplied
    /// output values), reject (Failed, with a message) — Argo's `set`, and `resume` / `stop`
    /// with a `nodeFieldSelector`.
    Nodes {
        /// Which suspend nodes.
        selector: NodeSelector,
        /// What to change on them.
        update: NodeUpdate,
    },
}

/// The answer to a [`Control`]: whether it applied.
type Reply = tokio::sync::oneshot::Sender<Result<(), OpError>>;

enum Event {
    Step(String, Box<StepObservation>),
    Control(Control, Option<Reply>),
}

struct Inner {
    store: SqlStore,
    /// Held while this process runs the database's workflows (PostgreSQL).
    runner_lock: Option<RunnerLock>,
    layout_root: PathBuf,
    runner: Runner,
    sandboxed: bool,
    locks: Locks,
    workflows: Mutex<HashMap<String, mpsc::UnboundedSender<Event>>>,
    updates: broadcast::Sender<Arc<Workflow>>,
    /// Workflows deleted through [`LocalBackend::delete`].
    deletions: broadcast::Sender<Arc<Workflow>>,
    /// Held while a workflow is being retried.
    retrying: tokio::sync::Mutex<()>,
}

/// The embedded backend (cheap to clone).
#[derive(Clone)]
pub struct LocalBackend {
    inner: Arc<Inner>,
}

impl LocalBackend {
    /// Opens the store under the data directory.
    pub async fn open(config: LocalConfig) -> Result<Self, BackendError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|source| BackendError::DataDir {
            path: config.data_dir.display().to_string(),
            source,
        })?;
        let data_dir =
            std::fs::canonicalize(&config.data_dir).map_err(|source| BackendError::DataDir {
                path: config.data_dir.display().to_string(),
                source,
            })?;
        let config = LocalConfig { data_dir, ..config };
        let database = config
            .database
            .clone()
            .unwrap_or_else(|| Database::Sqlite(config.data_dir.join("trellis.db")));
        let store = SqlStore::open(&database).await?;
        let runner_lock = store.lock_runner().await?;
        let bwrap = if config.sandbox {
            crate::exec::sandbox::sandbox_available()
        } else {
            None
        };
        let (updates, _) = broadcast::channel(1024);
        let (deletions, _) = broadcast::channel(256);
        Ok(Self {
            inner: Arc::new(Inner {
                store,
                runner_lock,
                layout_root: config.data_dir.clone(),
                sandboxed: bwrap.is_some(),
                runner: Runner {
                    exec_binary: config.exec_binary,
                    bwrap,
                    probe_client: reqwest::Client::new(),
                },
                locks: Locks::default(),
                workflows: Mutex::new(HashMap::new()),
                updates,
                deletions,
                retrying: tokio::sync::Mutex::new(()),
            }),
        })
    }

    /// The store workflows and templates live in.
    pub fn store(&self) -> &SqlStore {
        &self.inner.store
    }

    /// Returns only if this process lost the right to run the database's workflows to another
    /// one (PostgreSQL; see [`RunnerLock::lost`]): then it must stop.
    pub async fn runner_lost(&self) -> StoreError {
        match &self.inner.runner_lock {
            Some(lock) => lock.lost().await,
            None => std::future::pending().await,
        }
    }

    /// Whether steps run sandboxed.
    pub fn sandboxed(&self) -> bool {
        self.inner.sandboxed
    }

    /// Picks up every workflow that was running when the process last stopped.
    pub async fn resume_all(&self) -> Result<usize, BackendError> {
        let active = self.inner.store.list_active_workflows().await?;
        let n = active.len();
        for wf in active {
            self.drive(wf);
        }
        Ok(n)
    }

    /// Stores a new workflow and starts running it. Returns it as stored (name, uid, …).
    pub async fn submit(&self, wf: Workflow) -> Result<Workflow, BackendError> {
        let stored = self.inner.store.create_workflow(&wf).await?.workflow;
        self.drive(stored.clone());
        Ok(stored)
    }

    /// Resolves a workflow against the templates and ConfigMaps stored now, as running it would:
    /// an error names the missing WorkflowTemplate, ClusterWorkflowTemplate or template.
    pub async fn resolve(&self, wf: &Workflow) -> Result<ResolvedWorkflow, String> {
        templates::resolve(&self.inner.store, &self.inner.layout_root, wf).await
    }

    /// The default artifact repository (`DATA_DIR/artifacts`).
    pub fn artifact_root(&self) -> PathBuf {
        self.inner.layout_root.join("artifacts")
    }

    /// The directory where a workflow's steps run and keep their logs (`main.log`).
    pub fn step_dir(&self, uid: &str, node_id: &str) -> PathBuf {
        launch::step_dir(&self.inner.layout_root, uid, node_id)
    }

    /// Stores a ConfigMap's data, for parameters' `valueFrom.configMapKeyRef`.
    pub fn put_config_map(
        &self,
        namespace: &str,
        name: &str,
        data: &std::collections::BTreeMap<String, String>,
    ) -> std::io::Result<()> {
        let path = config_map_path(&self.inner.layout_root, namespace, name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(data)?)?;
        std::fs::rename(tmp, path)
    }

    /// Every status change of every workflow, as it is persisted.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Workflow>> {
        self.inner.updates.subscribe()
    }

    fn drive(&self, wf: Workflow) {
        let uid = uid_of(&wf);
        let (tx, rx) = mpsc::unbounded_channel();
        if let Ok(mut map) = self.inner.workflows.lock() {
            if map.contains_key(&uid) {
                return;
            }
            map.insert(uid.clone(), tx.clone());
        }
        let inner = self.inner.clone();
        tokio::spawn(async move {
            let mut d = Driver::new(inner.clone(), wf, tx, rx);
            d.run().await;
            if let Ok(mut map) = inner.workflows.lock() {
                map.remove(&uid);
            }
        });
    }
}

fn uid_of(wf: &Workflow) -> String {
    wf.metadata
        .as_ref()
        .and_then(|m| m.uid.clone())
        .unwrap_or_default()
}

/// One workflow's loop.
struct Driver {
    inner: Arc<Inner>,
    wf: Workflow,
    uid: String,
    tx: mpsc::UnboundedSender<Event>,
    rx: mpsc::UnboundedReceiver<Event>,
    obs: Observations,
    running: HashSet<String>,
    layout: Layout,
    /// `spec.volumes` and the names of `spec.volumeClaimTemplates` of the resolved spec.
    volumes: (Vec<k8s_openapi::api::core::v1::Volume>, Vec<String>),
    /// The lock releases seen before the last plan's steps tried their locks.
    lock_generation: u64,
    /// Running memoized steps: their cache entry, written when they succeed.
    memos: HashMap<String, engine::plan::Memo>,
    /// Outputs of memoized steps that succeeded, to store before the next plan.
    memo_saves: Vec<(engine::plan::Memo, String, serde_json::Value)>,
    /// The workflow was deleted from the store while it ran.
    deleted: bool,
    /// Callers of operations that applied, answered once the status they led to is stored.
    applied: Vec<Reply>,
}

impl Driver {
    fn new(
        inner: Arc<Inner>,
        wf: Workflow,
        tx: mpsc::UnboundedSender<Event>,
        rx: mpsc::UnboundedReceiver<Event>,
    ) -> Self {
        let meta = wf.metadata.clone().unwrap_or_default();
        let layout = Layout {
            data_dir: inner.layout_root.clone(),
            namespace: meta.namespace.clone().unwrap_or_else(|| "default".into()),
            workflow: meta.name.clone().unwrap_or_default(),
            uid: meta.uid.clone().unwrap_or_default(),
            sandboxed: inner.sandboxed,
        };
        Self {
            uid: layout.uid.clone(),
            inner,
            wf,
            tx,
            rx,
            obs: Observations::default(),
            running: HashSet::new(),
            layout,
            volumes: (Vec::new(), Vec::new()),
            memos: HashMap::new(),
            memo_saves: Vec::new(),
            lock_generation: 0,
            deleted: false,
            applied: Vec::new(),
        }
    }

    async fn run(&mut self) {
        let resolved = match self.resolve().await {
            Ok(r) => r,
            Err(message) => return self.fail(message).await,
        };
        let mut resolved = resolved;
        self.volumes = (
            resolved.spec.volumes.clone().unwrap_or_default(),
            resolved
                .spec
                .volume_claim_templates
                .iter()
                .flatten()
                .filter_map(|c| c.metadata.as_ref().and_then(|m| m.name.clone()))
                .collect(),
        );
        let holder = format!("{}/workflow", self.uid);
        match engine::plan::workflow_locks(&resolved) {
            Ok(locks) if !locks.is_empty() => {
                self.acquire_workflow_locks(&holder, &locks, &mut resolved)
                    .await
            }
            Ok(_) => {}
            Err(message) => return self.fail(message).await,
        }
        self.recover().await;
        loop {
            self.save_memos().await;
            let status = self.wf.status.take().unwrap_or_default();
            let obs = std::mem::take(&mut self.obs);
            let (status, actions) = plan(&resolved, status, &obs, Utc::now());
            self.wf.status = Some(status);
            if self.persist().await {
                // What was asked of the workflow is stored now: those who asked may read it.
                for reply in self.applied.drain(..) {
                    let _ = reply.send(Ok(()));
                }
            } else {
                if self.deleted {
                    // Deleted under our feet: stop what still runs and let the workflow go.
                    for id in &self.running {
                        let _ = crate::exec::request_stop(&self.layout.step_dir(id));
                    }
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                self.obs = obs;
                continue;
            }
            if self.completed() {
                // What still runs (daemons whose scope ended on this pass) is stopped.
                for id in &self.running {
                    let _ = crate::exec::request_stop(&self.layout.step_dir(id));
                }
                break;
            }
            let (wake, blocked, again) = self.perform(actions).await;
            if again {
                continue;
            }
            self.wait(wake, blocked, &mut resolved).await;
        }
        for id in self.running.drain() {
            self.inner.locks.release(&format!("{}/{id}", self.uid));
        }
        self.inner.locks.release(&holder);
    }

    /// Waits for the workflow's own mutexes and semaphores (`spec.synchronization`). Meanwhile
    /// the workflow is Pending with a message naming what it waits for; a stop or terminate
    /// ends the wait (the plan then ends the workflow, which never started a step).
    async fn acquire_workflow_locks(
        &mut self,
        holder: &str,
        locks: &[engine::plan::Lock],
        resolved: &mut ResolvedWorkflow,
    ) {
        let mut told = false;
        let all = self.inner.locks.clone();
        loop {
            let seen = all.generation();
            if all.try_acquire(holder, locks) {
                return;
            }
            if self.wf.spec.as_ref().is_some_and(|s| s.shutdown.is_some()) {
                return;
            }
            let started = self
                .wf
                .status
                .as_ref()
                .is_some_and(|s| s.started_at.is_some());
            if !told && !started {
                let status = self.wf.status.get_or_insert_with(Default::default);
                status.phase = Some(engine::model::WorkflowPhase::Pending);
                status.message = Some(waiting_message(locks));
                told = self.persist().await;
                if self.deleted {
                    return;
                }
            }
            tokio::select! {
                () = all.changed(seen) => {}
                ev = self.rx.recv() => match ev {
                    Some(ev) => self.handle(ev, resolved),
                    None => return,
                },
            }
            // An operation while waiting (a suspend, say) is stored and answered now.
            if !self.applied.is_empty() && self.persist().await {
                for reply in self.applied.drain(..) {
                    let _ = reply.send(Ok(()));
                }
            }
        }
    }

    async fn resolve(&self) -> Result<ResolvedWorkflow, String> {
        LocalBackend {
            inner: self.inner.clone(),
        }
        .resolve(&self.wf)
        .await
    }

    async fn fail(&mut self, message: String) {
        let status = self.wf.status.get_or_insert_with(Default::default);
        status.phase = Some(engine::model::WorkflowPhase::Error);
        status.message = Some(message);
        let now = engine::plan::format_time(Utc::now());
        status.started_at.get_or_insert(now.clone());
        status.finished_at = Some(now);
        self.persist().await;
    }

    fn completed(&self) -> bool {
        self.wf
            .status
            .as_ref()
            .and_then(|s| s.phase)
            .is_some_and(|p| p.completed())
    }

    /// Writes the status (and Argo's phase labels); broadcasts it. False when the store failed.
    async fn persist(&mut self) -> bool {
        set_phase_labels(&mut self.wf);
        let rv = self
            .wf
            .metadata
            .as_ref()
            .and_then(|m| m.resource_version.clone())
            .unwrap_or_default();
        match self.inner.store.update_workflow(&self.wf, &rv).await {
            Ok(stored) => {
                self.wf = stored;
                let _ = self.inner.updates.send(Arc::new(self.wf.clone()));
                true
            }
            Err(StoreError::NotFound { .. }) => {
                tracing::info!(workflow.uid = %self.uid, "the workflow was deleted; its steps are stopped");
                self.deleted = true;
                false
            }
            Err(e) => {
                tracing::error!(workflow.uid = %self.uid, error = %e, "persisting the workflow status failed");
                false
            }
        }
    }

    /// Performs the actions of a plan. Returns the earliest wake-up, whether a step waits for a
    /// lock, and whether to plan again at once.
    async fn perform(&mut self, actions: Vec<Action>) -> (Option<DateTime<Utc>>, bool, bool) {
        let (mut wake, mut blocked, mut again) = (None::<DateTime<Utc>>, false, false);
        self.lock_generation = self.inner.locks.generation();
        for a in actions {
            match a {
                Action::StartStep(l) => match self.start(*l).await {
                    Start::Started | Start::Failed => again = true,
                    Start::Blocked => blocked = true,
                    Start::Skipped => {}
                },
                Action::StopStep { node_id, reason } => {
                    if self.running.contains(&node_id) {
                        let _ = crate::exec::request_stop(&self.layout.step_dir(&node_id));
                    } else {
                        self.obs.steps.insert(node_id, failed_obs(reason));
                        again = true;
                    }
                }
                Action::WakeUpAt { at } => wake = Some(wake.map_or(at, |w| w.min(at))),
            }
        }
        (wake, blocked, again)
    }

    async fn start(&mut self, l: StepLaunch) -> Start {
        if self.running.contains(&l.node_id) {
            return Start::Skipped;
        }
        let holder = format!("{}/{}", self.uid, l.node_id);
        if !self.inner.locks.try_acquire(&holder, &l.locks) {
            return Start::Blocked;
        }
        match self
            .inner
            .store
            .claim_step(&self.uid, &l.node_id, &l.node_id)
            .await
        {
            Ok(true) => {}
            Ok(false) => return Start::Skipped,
            Err(e) => {
                tracing::error!(error = %e, "claiming a step failed");
                return Start::Skipped;
            }
        }
        if let Some(m) = &l.memo {
            if let Some(hit) = self.memo_hit(m).await {
                self.inner.locks.release(&holder);
                self.obs.steps.insert(l.node_id, hit);
                return Start::Started;
            }
            self.memos.insert(l.node_id.clone(), m.clone());
        }
        if l.template.data.is_some() {
            self.running.insert(l.node_id.clone());
            self.obs.steps.insert(l.node_id.clone(), running_obs());
            let tx = self.tx.clone();
            let root = self.layout.artifact_root();
            tokio::spawn(async move {
                let o = data::run(&l.template, &root).await;
                let _ = tx.send(Event::Step(l.node_id, Box::new(o)));
            });
            return Start::Started;
        }
        if l.template.http.is_some() {
            self.running.insert(l.node_id.clone());
            self.obs.steps.insert(l.node_id.clone(), running_obs());
            let tx = self.tx.clone();
            tokio::spawn(async move {
                let o = http::run(&l.template).await;
                let _ = tx.send(Event::Step(l.node_id, Box::new(o)));
            });
            return Start::Started;
        }
        let run = match plan_run(&l, &self.layout, &self.volumes.0, &self.volumes.1) {
            Ok(r) => r,
            Err(message) => {
                self.inner.locks.release(&holder);
                self.obs.steps.insert(l.node_id, error_obs(message));
                return Start::Failed;
            }
        };
        self.running.insert(l.node_id.clone());
        self.obs.steps.insert(l.node_id.clone(), running_obs());
        let runner = self.inner.runner.clone();
        let tx = self.tx.clone();
        let on_ready: Option<Box<dyn FnOnce() + Send>> = run.daemon.is_some().then(|| {
            let tx = tx.clone();
            let id = l.node_id.clone();
            Box::new(move || {
                let ready = StepObservation {
                    daemoned: true,
                    ..running_obs()
                };
                let _ = tx.send(Event::Step(id, Box::new(ready)));
            }) as Box<dyn FnOnce() + Send>
        });
        tokio::spawn(async move {
            let o = runner.run(run, on_ready).await;
            let _ = tx.send(Event::Step(l.node_id, Box::new(o)));
        });
        Start::Started
    }

    async fn wait(
        &mut self,
        wake: Option<DateTime<Utc>>,
        blocked: bool,
        resolved: &mut ResolvedWorkflow,
    ) {
        let sleep = async {
            match wake {
                Some(at) => {
                    let d = (at - Utc::now()).to_std().unwrap_or_default();
                    tokio::time::sleep(d).await;
                }
                None => std::future::pending().await,
            }
        };
        let locks = self.inner.locks.clone();
        let seen = self.lock_generation;
        let lock_change = async {
            if blocked {
                locks.changed(seen).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            ev = self.rx.recv() => {
                if let Some(ev) = ev {
                    self.handle(ev, resolved);
                }
            }
            _ = sleep => {}
            _ = lock_change => {}
        }
        while let Ok(ev) = self.rx.try_recv() {
            self.handle(ev, resolved);
        }
    }

    fn handle(&mut self, ev: Event, resolved: &mut ResolvedWorkflow) {
        match ev {
            Event::Step(id, o) => {
                if o.phase.fulfilled() {
                    record_duration(&o);
                    self.running.remove(&id);
                    self.inner.locks.release(&format!("{}/{id}", self.uid));
                    if let Some(m) = self.memos.remove(&id)
                        && o.phase == NodePhase::Succeeded
                        && let Ok(outputs) =
                            serde_json::to_value(o.outputs.clone().unwrap_or_default())
                    {
                        self.memo_saves.push((m, id.clone(), outputs));
                    }
                }
                self.obs.steps.insert(id, *o);
            }
            Event::Control(c, reply) => match (self.apply_control(c, resolved), reply) {
                // Answered after the next pass has stored what it led to.
                (Ok(()), Some(reply)) => self.applied.push(reply),
                (result, Some(reply)) => {
                    let _ = reply.send(result);
                }
                (_, None) => {}
            },
        }
    }
}

enum Start {
    Started,
    Failed,
    Blocked,
    Skipped,
}

/// Adds a finished step's duration to the step duration metric.
fn record_duration(o: &StepObservation) {
    let time = |t: &Option<String>| {
        t.as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
    };
    if let (Some(s), Some(f)) = (time(&o.started_at), time(&o.finished_at)) {
        let secs = (f - s).num_milliseconds().max(0) as f64 / 1000.0;
        crate::metrics::STEP_DURATION.observe(&[o.phase.as_str()], secs);
    }
}

fn set_phase_labels(wf: &mut Workflow) {
    let phase = wf
        .status
        .as_ref()
        .and_then(|s| s.phase)
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "Pending".into());
    let completed = wf
        .status
        .as_ref()
        .and_then(|s| s.phase)
        .is_some_and(|p| p.completed());
    let labels = wf
        .metadata
        .get_or_insert_with(Default::default)
        .labels
        .get_or_insert_with(Default::default);
    labels.insert("workflows.argoproj.io/phase".into(), phase);
    labels.insert(
        "workflows.argoproj.io/completed".into(),
        completed.to_string(),
    );
}

/// The message of a workflow waiting for its locks, like Argo's.
fn waiting_message(locks: &[engine::plan::Lock]) -> String {
    let names: Vec<String> = locks
        .iter()
        .map(|l| format!("{} (limit {})", l.key, l.limit))
        .collect();
    format!("Waiting for lock: {}", names.join(", "))
}

fn running_obs() -> StepObservation {
    StepObservation {
        ip: Some(probe::LOCAL_IP.into()),
        host_node_name: Some(probe::host_name()),
        phase: NodePhase::Running,
        started_at: Some(engine::plan::format_time(Utc::now())),
        ..Default::default()
    }
}

fn error_obs(message: String) -> StepObservation {
    process::error_obs(engine::plan::format_time(Utc::now()), message)
}

fn failed_obs(message: String) -> StepObservation {
    StepObservation {
        phase: NodePhase::Failed,
        ..error_obs(message)
    }
}

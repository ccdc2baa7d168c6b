//! A deterministic driver for `engine::plan` in tests: a workflow from YAML, a fake clock, and
//! steps that finish the way each test says.

// Shared by several test binaries; each uses part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use engine::model::{
    ClusterWorkflowTemplate, NodePhase, NodeStatus, Outputs, Parameter, Workflow, WorkflowPhase,
    WorkflowStatus, WorkflowTemplate,
};
use engine::plan::{
    Action, Observations, ResolvedWorkflow, StepLaunch, StepObservation, TemplateSource, plan,
    resolve,
};

/// WorkflowTemplates a test makes available to `templateRef`.
#[derive(Default)]
pub struct Templates {
    pub wf: Vec<WorkflowTemplate>,
    pub cwf: Vec<ClusterWorkflowTemplate>,
    /// (ConfigMap, key, value).
    pub config: Vec<(String, String, String)>,
}

impl TemplateSource for Templates {
    fn workflow_template(&self, _ns: &str, name: &str) -> Option<WorkflowTemplate> {
        self.wf
            .iter()
            .find(|t| t.metadata.as_ref().and_then(|m| m.name.as_deref()) == Some(name))
            .cloned()
    }
    fn config_map_value(&self, _ns: &str, name: &str, key: &str) -> Option<String> {
        self.config
            .iter()
            .find(|(n, k, _)| n == name && k == key)
            .map(|(_, _, v)| v.clone())
    }

    fn cluster_workflow_template(&self, name: &str) -> Option<ClusterWorkflowTemplate> {
        self.cwf
            .iter()
            .find(|t| t.metadata.as_ref().and_then(|m| m.name.as_deref()) == Some(name))
            .cloned()
    }
}

/// How a started step ends.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub phase: NodePhase,
    pub message: Option<String>,
    pub result: Option<String>,
    pub params: Vec<(String, String)>,
    /// Output artifacts: name and the key they were stored under.
    pub artifacts: Vec<(String, String)>,
}

impl Outcome {
    pub fn ok() -> Self {
        Self {
            phase: NodePhase::Succeeded,
            message: None,
            result: None,
            params: vec![],
            artifacts: vec![],
        }
    }
    pub fn result(r: &str) -> Self {
        Self {
            result: Some(r.into()),
            ..Self::ok()
        }
    }
    pub fn fail(code: i32) -> Self {
        Self {
            phase: NodePhase::Failed,
            message: Some(format!("Error (exit code {code})")),
            ..Self::ok()
        }
    }
    pub fn param(mut self, k: &str, v: &str) -> Self {
        self.params.push((k.into(), v.into()));
        self
    }
    pub fn artifact(mut self, name: &str, key: &str) -> Self {
        self.artifacts.push((name.into(), key.into()));
        self
    }
}

/// The command of a launched step's container (empty when it has none).
pub fn command(launch: &StepLaunch) -> Vec<String> {
    launch
        .template
        .container
        .as_ref()
        .and_then(|c| c.command.clone())
        .unwrap_or_default()
}

/// A workflow being planned step by step.
pub struct Sim {
    pub wf: ResolvedWorkflow,
    pub status: WorkflowStatus,
    pub now: DateTime<Utc>,
    pub last_actions: Vec<Action>,
    pub started: Vec<String>,
}

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

pub fn workflow(yaml: &str) -> Workflow {
    let doc = engine::parse::parse_file(yaml);
    let m = doc.documents.into_iter().next().expect("one document");
    let json = engine::yaml::to_json(&m.node);
    let mut wf: Workflow = serde_json::from_value(json).expect("a Workflow");
    let meta = wf.metadata.get_or_insert_with(Default::default);
    if meta.name.is_none() {
        meta.name = meta.generate_name.clone().map(|g| format!("{g}abcde"));
    }
    meta.uid = Some("uid-1".into());
    wf
}

impl Sim {
    pub fn new(yaml: &str) -> Self {
        Self::with_templates(yaml, &Templates::default())
    }

    pub fn with_templates(yaml: &str, t: &Templates) -> Self {
        let wf = resolve(&workflow(yaml), t).expect("resolves");
        Self {
            wf,
            status: WorkflowStatus::default(),
            now: t0(),
            last_actions: vec![],
            started: vec![],
        }
    }

    /// One planning pass with these observations.
    pub fn step(&mut self, obs: Observations) -> Vec<Action> {
        let status = std::mem::take(&mut self.status);
        let (status, actions) = plan(&self.wf, status, &obs, self.now);
        self.status = status;
        self.last_actions = actions.clone();
        actions
    }

    pub fn tick(&mut self) -> Vec<Action> {
        self.step(Observations::default())
    }

    pub fn advance(&mut self, secs: i64) {
        self.now += Duration::seconds(secs);
    }

    /// The steps the last pass asked to start, by node name.
    pub fn launches(&self) -> Vec<StepLaunch> {
        self.last_actions
            .iter()
            .filter_map(|a| match a {
                Action::StartStep(l) => Some((**l).clone()),
                _ => None,
            })
            .collect()
    }

    pub fn launched_names(&self) -> Vec<String> {
        self.launches().into_iter().map(|l| l.node_name).collect()
    }

    /// Finishes every launched step with the outcome `f` gives, then plans again. Returns the
    /// names of the steps finished.
    pub fn finish_all(&mut self, f: &dyn Fn(&StepLaunch) -> Outcome) -> Vec<String> {
        let launches = self.launches();
        let mut obs = Observations::default();
        let mut names = vec![];
        for l in &launches {
            let o = f(l);
            names.push(l.node_name.clone());
            self.started.push(l.node_name.clone());
            let params: Vec<Parameter> = o
                .params
                .iter()
                .map(|(k, v)| Parameter {
                    name: Some(k.clone()),
                    value: Some(v.clone().into()),
                    ..Default::default()
                })
                .collect();
            let artifacts: Vec<engine::model::Artifact> = o
                .artifacts
                .iter()
                .map(|(name, key)| {
                    serde_json::from_value(serde_json::json!({"name": name, "s3": {"key": key}}))
                        .expect("an artifact")
                })
                .collect();
            obs.steps.insert(
                l.node_id.clone(),
                StepObservation {
                    phase: o.phase,
                    message: o.message.clone(),
                    started_at: Some(engine::plan::format_time(self.now)),
                    finished_at: Some(engine::plan::format_time(self.now + Duration::seconds(1))),
                    outputs: Some(Outputs {
                        result: o.result.clone(),
                        parameters: (!params.is_empty()).then_some(params),
                        artifacts: (!artifacts.is_empty()).then_some(artifacts),
                        exit_code: Some(if o.phase == NodePhase::Succeeded {
                            "0".into()
                        } else {
                            "1".into()
                        }),
                    }),
                    ..Default::default()
                },
            );
        }
        self.advance(1);
        self.step(obs);
        names
    }

    /// Reports that the launched step `name` is running (a daemon that is up when `daemoned`,
    /// reachable at `ip`), then plans again.
    pub fn running(&mut self, name: &str, daemoned: bool, ip: Option<&str>) -> Vec<Action> {
        let id = engine::plan::node_id(&self.wf.name, name);
        let mut obs = Observations::default();
        obs.steps.insert(
            id,
            StepObservation {
                phase: NodePhase::Running,
                started_at: Some(engine::plan::format_time(self.now)),
                daemoned,
                ip: ip.map(str::to_string),
                ..Default::default()
            },
        );
        self.step(obs)
    }

    /// Reports that the step `name` ended in `phase` with `message`, then plans again.
    pub fn ended(&mut self, name: &str, phase: NodePhase, message: &str) -> Vec<Action> {
        let id = engine::plan::node_id(&self.wf.name, name);
        let mut obs = Observations::default();
        obs.steps.insert(
            id,
            StepObservation {
                phase,
                message: Some(message.into()),
                finished_at: Some(engine::plan::format_time(self.now)),
                ..Default::default()
            },
        );
        self.step(obs)
    }

    /// Runs to completion (at most `max` passes), finishing steps with `f` and following
    /// wake-ups.
    pub fn run(&mut self, f: &dyn Fn(&StepLaunch) -> Outcome) -> WorkflowPhase {
        self.tick();
        for _ in 0..500 {
            if let Some(p) = self.status.phase.filter(|p| p.completed()) {
                return p;
            }
            if self.launches().is_empty() {
                let wake = self.last_actions.iter().find_map(|a| match a {
                    Action::WakeUpAt { at } => Some(*at),
                    _ => None,
                });
                match wake {
                    Some(at) => {
                        self.now = self.now.max(at);
                        self.tick();
                    }
                    None => return self.status.phase.unwrap_or(WorkflowPhase::Unknown),
                }
                continue;
            }
            self.finish_all(f);
        }
        panic!("workflow did not finish in 500 passes");
    }

    pub fn nodes(&self) -> &BTreeMap<String, NodeStatus> {
        self.status.nodes.as_ref().expect("nodes")
    }

    /// The name and value of the workflow's first output parameter (`status.outputs`).
    pub fn first_global_output(&self) -> (Option<String>, Option<String>) {
        let params = self
            .status
            .outputs
            .as_ref()
            .and_then(|o| o.parameters.as_ref());
        let first = params.and_then(|p| p.first());
        (
            first.and_then(|p| p.name.clone()),
            first.and_then(|p| p.value.as_ref().map(|v| v.0.clone())),
        )
    }

    pub fn node(&self, name: &str) -> &NodeStatus {
        self.nodes()
            .values()
            .find(|n| n.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("no node {name}; nodes: {:?}", self.names()))
    }

    pub fn has(&self, name: &str) -> bool {
        self.nodes()
            .values()
            .any(|n| n.name.as_deref() == Some(name))
    }

    pub fn names(&self) -> Vec<String> {
        self.nodes()
            .values()
            .filter_map(|n| n.name.clone())
            .collect()
    }

    pub fn phase(&self, name: &str) -> NodePhase {
        self.node(name).phase.unwrap()
    }

    /// `name=Phase` for every node, sorted, for compact assertions.
    pub fn summary(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .nodes()
            .values()
            .map(|n| format!("{}={}", n.name.as_deref().unwrap_or(""), n.phase.unwrap()))
            .collect();
        v.sort();
        v
    }
}

/// The value of an argument after substitution, e.g. the first arg of a container.
pub fn args_of(l: &StepLaunch) -> Vec<String> {
    let c = l
        .template
        .container
        .as_ref()
        .map(|c| c.args.clone().unwrap_or_default());
    let s = l
        .template
        .script
        .as_ref()
        .map(|s| vec![s.source.clone().unwrap_or_default()]);
    c.or(s).unwrap_or_default()
}

//! Pure conversions from the engine's read models and workflows to the UI's view models.

use app::catalog::TemplateKind as UiKind;
use app::model::{
    ArtifactLink, CronView, GridCell, GridColumn, GridRow, GridView, HealthView, JobRow,
    NodeDetail, NodeKind, Phase, RunRow, TimelineBar,
};
use chrono::{DateTime, Utc};
use engine::history::{Grid, RunSummary, TemplateRuns, Trigger};
use engine::model::{NodePhase, NodeStatus, NodeType, Template, Workflow, WorkflowSpec};

/// The store kind of a UI kind.
pub fn store_kind(kind: UiKind) -> controller::store::TemplateKind {
    use controller::store::TemplateKind as K;
    match kind {
        UiKind::WorkflowTemplate => K::WorkflowTemplate,
        UiKind::ClusterWorkflowTemplate => K::ClusterWorkflowTemplate,
        UiKind::CronWorkflow => K::CronWorkflow,
    }
}

/// The template a store key (`WorkflowTemplate/ci/build`) names.
pub fn template_id(key: &str) -> Option<app::model::TemplateId> {
    let mut parts = key.splitn(3, '/');
    let kind = match parts.next()? {
        "WorkflowTemplate" => UiKind::WorkflowTemplate,
        "ClusterWorkflowTemplate" => UiKind::ClusterWorkflowTemplate,
        "CronWorkflow" => UiKind::CronWorkflow,
        _ => return None,
    };
    let (namespace, name) = if kind.is_cluster_scoped() {
        (String::new(), parts.next()?.to_string())
    } else {
        (parts.next()?.to_string(), parts.next()?.to_string())
    };
    Some(app::model::TemplateId {
        kind,
        namespace,
        name,
    })
}

/// The trigger in words.
pub fn trigger_text(t: &Trigger) -> String {
    match t {
        Trigger::Cron { name, .. } => format!("cron {name}"),
        Trigger::Resubmit { from } => format!("resubmitted from {from}"),
        Trigger::Manual { by: Some(by) } => format!("manual, by {by}"),
        Trigger::Manual { by: None } => "manual".to_string(),
    }
}

/// Whether a running workflow is waiting at a suspend step.
pub fn is_waiting(wf: &Workflow) -> bool {
    wf.status
        .iter()
        .flat_map(|s| s.nodes.iter().flatten())
        .any(|(_, n)| n.r#type == Some(NodeType::Suspend) && n.phase == Some(NodePhase::Running))
}

/// The list row of a run from its summary; `waiting` when it waits at a suspend step.
pub fn run_row(s: RunSummary, waiting: bool, slow: bool, wf: Option<&Workflow>) -> RunRow {
    let mut phase = Phase::from_argo(&s.phase);
    if phase == Phase::Running && waiting {
        phase = Phase::Waiting;
    }
    let template = wf
        .and_then(controller::store::workflow_template_key)
        .and_then(|k| template_id(&k));
    RunRow {
        trigger: trigger_text(&s.trigger),
        name: s.name,
        namespace: s.namespace,
        number: s.number,
        phase,
        created_at: s.created_at,
        started_at: s.started_at,
        finished_at: s.finished_at,
        duration_seconds: s.duration_seconds,
        progress: s.progress,
        message: s.message,
        parameters: s.parameters,
        slow,
        template,
    }
}

/// The list row of a workflow.
pub fn row_of(wf: &Workflow, now: DateTime<Utc>, slow: impl Fn(i64) -> bool) -> RunRow {
    let s = engine::history::summarize(wf, now);
    let is_slow = s.duration_seconds.is_some_and(slow);
    run_row(s, is_waiting(wf), is_slow, Some(wf))
}

/// A template's tree row; runs named in `waiting` wait at a suspend step.
pub fn job_row(t: TemplateRuns, waiting: &std::collections::BTreeSet<String>) -> JobRow {
    let row = |s: RunSummary| {
        let w = waiting.contains(&s.name);
        run_row(s, w, false, None)
    };
    JobRow {
        last: t.last.map(row),
        last_success: t.last_success.map(row),
        last_failure: t.last_failure.map(row),
        health: t.health.map(|h| HealthView {
            passed: h.passed,
            of: h.of,
            text: h.text,
        }),
        durations: t.durations,
    }
}

/// The grid view of the engine's grid.
pub fn grid_view(g: Grid) -> GridView {
    GridView {
        runs: g
            .runs
            .into_iter()
            .map(|r| GridColumn {
                name: r.name,
                number: r.number,
                phase: Phase::from_argo(&r.phase),
            })
            .collect(),
        rows: g
            .rows
            .into_iter()
            .map(|r| GridRow {
                step: r.step,
                cells: r
                    .cells
                    .into_iter()
                    .map(|c| {
                        c.map(|c| GridCell {
                            node_id: c.node_id,
                            phase: Phase::from_argo(&c.phase),
                            duration_seconds: c.duration_seconds,
                        })
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// How many next runs a cron page lists.
const NEXT_RUNS: usize = 5;

/// A CronWorkflow's schedules in words, its next runs after `now` and its state.
pub fn cron_view(c: &engine::model::CronWorkflow, now: DateTime<Utc>) -> CronView {
    let spec = c.spec.clone().unwrap_or_default();
    let zone = spec.timezone.as_deref();
    let texts: Vec<String> = spec
        .schedules
        .clone()
        .unwrap_or_default()
        .into_iter()
        .chain(spec.schedule.clone())
        .collect();
    let suspended = spec.suspend.unwrap_or(false);
    let (next_runs, error) = match engine::cron::schedules(c) {
        Ok(_) if suspended => (Vec::new(), None),
        Ok(s) => {
            let mut at = now;
            let mut next = Vec::new();
            while next.len() < NEXT_RUNS {
                let Some(t) = engine::cron::next_after(&s, at) else {
                    break;
                };
                next.push(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
                at = t;
            }
            (next, None)
        }
        Err(e) => (Vec::new(), Some(e)),
    };
    CronView {
        schedules: texts
            .iter()
            .map(|t| (t.clone(), engine::cron::describe::describe(t, zone)))
            .collect(),
        next_runs,
        suspended,
        concurrency_policy: spec
            .concurrency_policy
            .unwrap_or_else(|| "Allow".to_string()),
        last_scheduled: c
            .status
            .as_ref()
            .and_then(|s| s.last_scheduled_time.clone()),
        error,
    }
}

/// The UI kind of a node type.
pub fn node_kind(t: Option<NodeType>) -> NodeKind {
    match t {
        Some(NodeType::Steps) => NodeKind::Steps,
        Some(NodeType::StepGroup) => NodeKind::StepGroup,
        Some(NodeType::Dag) => NodeKind::Dag,
        Some(NodeType::TaskGroup) => NodeKind::TaskGroup,
        Some(NodeType::Retry) => NodeKind::Retry,
        Some(NodeType::Skipped) => NodeKind::Skipped,
        Some(NodeType::Suspend) => NodeKind::Suspend,
        Some(NodeType::Http) => NodeKind::Http,
        Some(NodeType::Plugin) => NodeKind::Plugin,
        Some(NodeType::Container) => NodeKind::Container,
        Some(NodeType::Pod) | None => NodeKind::Pod,
    }
}

/// The UI phase of a node (a running suspend node is waiting).
pub fn node_phase(n: &NodeStatus) -> Phase {
    let phase = Phase::from_argo(n.phase.map_or("", |p| p.as_str()));
    if phase == Phase::Running && n.r#type == Some(NodeType::Suspend) {
        Phase::Waiting
    } else {
        phase
    }
}

fn parse(t: Option<&str>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(t?).ok().map(|t| t.to_utc())
}

/// How long a node ran (so far), in seconds.
pub fn node_duration(n: &NodeStatus, now: DateTime<Utc>) -> Option<i64> {
    let start = parse(n.started_at.as_deref())?;
    let end = parse(n.finished_at.as_deref()).unwrap_or(now);
    Some((end - start).num_seconds().max(0))
}

/// The spec a workflow runs: its own templates, or those stored from its workflow template.
pub fn effective_spec(wf: &Workflow) -> WorkflowSpec {
    let own = wf.spec.clone().unwrap_or_default();
    let stored = wf
        .status
        .as_ref()
        .and_then(|s| s.stored_workflow_template_spec.as_deref());
    match stored {
        Some(s) if own.templates.as_ref().is_none_or(Vec::is_empty) => {
            let mut spec = s.clone();
            if own.entrypoint.is_some() {
                spec.entrypoint = own.entrypoint;
            }
            spec
        }
        _ => own,
    }
}

/// A run's workflow parameters in the order `spec` (the spec it runs, see
/// [`effective_spec`]) declares them, with the values it was given; secrets masked.
pub fn effective_parameters(wf: &Workflow, spec: &WorkflowSpec) -> Vec<(String, String)> {
    let list = |s: Option<&WorkflowSpec>| -> Vec<(String, String)> {
        s.and_then(|s| s.arguments.as_ref())
            .and_then(|a| a.parameters.as_ref())
            .into_iter()
            .flatten()
            .filter_map(|p| {
                let v = p.value.as_ref().or(p.default.as_ref())?;
                Some((p.name.clone()?, v.0.clone()))
            })
            .collect()
    };
    let mut out = list(Some(spec));
    for (k, v) in list(wf.spec.as_ref()) {
        match out.iter_mut().find(|(n, _)| *n == k) {
            Some(p) => p.1 = v,
            None => out.push((k, v)),
        }
    }
    engine::secrets::mask(&mut out, &engine::secrets::run_secrets(wf));
    out
}

/// The steps of a run on a time line (nodes that ran a step), by start.
pub fn timeline(wf: &Workflow, now: DateTime<Utc>) -> Vec<TimelineBar> {
    let status = wf.status.clone().unwrap_or_default();
    let Some(start) = parse(status.started_at.as_deref()) else {
        return Vec::new();
    };
    let name = wf
        .metadata
        .as_ref()
        .and_then(|m| m.name.clone())
        .unwrap_or_default();
    let mut bars: Vec<TimelineBar> = status
        .nodes
        .iter()
        .flatten()
        .filter(|(_, n)| {
            matches!(
                n.r#type,
                Some(NodeType::Pod | NodeType::Suspend | NodeType::Http | NodeType::Container)
            )
        })
        .filter_map(|(id, n)| {
            let s = parse(n.started_at.as_deref())?;
            let e = parse(n.finished_at.as_deref()).unwrap_or(now);
            let full = n.name.clone().unwrap_or_default();
            Some(TimelineBar {
                id: id.clone(),
                label: full.strip_prefix(&name).unwrap_or(&full).to_string(),
                phase: node_phase(n),
                start: (s - start).num_milliseconds() as f64 / 1000.0,
                duration: ((e - s).num_milliseconds().max(0)) as f64 / 1000.0,
            })
        })
        .collect();
    bars.sort_by(|a, b| {
        a.start
            .total_cmp(&b.start)
            .then_with(|| a.label.cmp(&b.label))
    });
    bars
}

fn params(p: Option<&Vec<engine::model::Parameter>>) -> Vec<(String, String)> {
    p.into_iter()
        .flatten()
        .filter_map(|p| {
            let v = p.value.as_ref().or(p.default.as_ref())?;
            Some((p.name.clone()?, v.0.clone()))
        })
        .collect()
}

/// The template a node ran, from the workflow's spec.
fn template_of<'a>(spec: &'a WorkflowSpec, n: &NodeStatus) -> Option<&'a Template> {
    let name = n.template_name.as_deref()?;
    spec.templates
        .iter()
        .flatten()
        .find(|t| t.name.as_deref() == Some(name))
}

/// When a waiting suspend node with a `duration` resumes by itself (RFC 3339); `None` for one
/// that waits for a person, or whose duration is only known while it runs.
pub fn resume_at(spec: &WorkflowSpec, n: &NodeStatus) -> Option<String> {
    if n.r#type != Some(NodeType::Suspend) || n.phase != Some(NodePhase::Running) {
        return None;
    }
    let duration = template_of(spec, n)?.suspend.as_ref()?.duration.clone()?;
    let wait = engine::plan::duration_of(&duration).ok()?;
    let started = engine::plan::parse_time(n.started_at.as_deref()?)?;
    Some(engine::plan::format_time(started + wait))
}

/// The node panel of node `id` of `wf` running `spec`; `None` when the workflow has no such
/// node.
pub fn node_detail(
    wf: &Workflow,
    spec: &WorkflowSpec,
    id: &str,
    now: DateTime<Utc>,
) -> Option<NodeDetail> {
    let n = wf.status.as_ref()?.nodes.as_ref()?.get(id)?;
    let meta = wf.metadata.clone().unwrap_or_default();
    let (ns, name) = (
        meta.namespace.unwrap_or_default(),
        meta.name.unwrap_or_default(),
    );
    let inputs = n.inputs.clone().unwrap_or_default();
    let outputs = n.outputs.clone().unwrap_or_default();
    let mut outs = params(outputs.parameters.as_ref());
    outs.extend(outputs.result.clone().map(|r| ("result".to_string(), r)));
    outs.extend(
        outputs
            .exit_code
            .clone()
            .map(|c| ("exitCode".to_string(), c)),
    );
    let link = |a: &engine::model::Artifact, input: bool| {
        let art = a.name.clone()?;
        let base = if input {
            "input-artifacts"
        } else {
            "artifacts"
        };
        Some(ArtifactLink {
            href: format!("/{base}/{ns}/{name}/{id}/{art}"),
            name: art,
            input,
        })
    };
    let artifacts = inputs
        .artifacts
        .iter()
        .flatten()
        .filter_map(|a| link(a, true))
        .chain(
            outputs
                .artifacts
                .iter()
                .flatten()
                .filter_map(|a| link(a, false)),
        )
        .collect();
    let template_yaml = template_of(spec, n)
        .and_then(|t| serde_json::to_value(t).ok())
        .map(|v| engine::yaml::to_yaml_string(&v))
        .unwrap_or_default();
    Some(NodeDetail {
        id: id.to_string(),
        name: n.name.clone().unwrap_or_default(),
        display_name: n
            .display_name
            .clone()
            .or(n.name.clone())
            .unwrap_or_default(),
        kind: node_kind(n.r#type),
        template: n.template_name.clone(),
        phase: node_phase(n),
        message: n.message.clone(),
        started_at: n.started_at.clone(),
        finished_at: n.finished_at.clone(),
        duration_seconds: node_duration(n, now),
        inputs: params(inputs.parameters.as_ref()),
        outputs: outs,
        artifacts,
        template_yaml,
        has_log: n.r#type == Some(NodeType::Pod),
        resume_in_seconds: resume_at(spec, n)
            .and_then(|t| engine::plan::parse_time(&t))
            .map(|t| (t - now).num_seconds().max(0)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wf(v: serde_json::Value) -> Workflow {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_cron_page_says_when_it_runs() {
        let c: engine::model::CronWorkflow = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "nightly"},
            "spec": {"schedule": "0 2 * * *", "timezone": "Europe/Paris", "workflowSpec": {}}
        }))
        .unwrap();
        let now = "2026-12-01T12:00:00Z".parse().unwrap();
        let v = cron_view(&c, now);
        assert_eq!(
            v.schedules,
            [(
                "0 2 * * *".to_string(),
                "every day at 02:00 Europe/Paris".to_string()
            )]
        );
        assert_eq!(
            v.next_runs[..2],
            ["2026-12-02T01:00:00Z", "2026-12-03T01:00:00Z"]
        );
        assert_eq!(v.next_runs.len(), 5);
        assert_eq!(v.concurrency_policy, "Allow");
        let mut suspended = c.clone();
        suspended.spec.as_mut().unwrap().suspend = Some(true);
        let v = cron_view(&suspended, now);
        assert!(v.suspended && v.next_runs.is_empty());
        let mut bad = c;
        bad.spec.as_mut().unwrap().schedule = Some("61 * * * *".into());
        assert!(cron_view(&bad, now).error.is_some());
    }

    #[test]
    fn store_keys_name_templates() {
        let id = template_id("WorkflowTemplate/ci/build").unwrap();
        assert_eq!((id.namespace.as_str(), id.name.as_str()), ("ci", "build"));
        let c = template_id("ClusterWorkflowTemplate/lint").unwrap();
        assert_eq!(
            (c.kind, c.name.as_str()),
            (UiKind::ClusterWorkflowTemplate, "lint")
        );
        assert!(template_id("Pod/x").is_none());
        assert!(template_id("WorkflowTemplate/only-ns").is_none());
    }

    #[test]
    fn a_run_at_a_suspend_step_is_waiting_not_running() {
        let w = wf(serde_json::json!({
            "metadata": {"name": "r", "namespace": "ci", "labels": {"workflows.argoproj.io/workflow-template": "build", "trellis.dev/run-number": "4"}},
            "status": {"phase": "Running", "startedAt": "2026-01-01T00:00:00Z", "nodes": {
                "r-1": {"id": "r-1", "name": "r[0].approve", "type": "Suspend", "phase": "Running", "startedAt": "2026-01-01T00:00:05Z"}}}
        }));
        let now = "2026-01-01T00:01:00Z".parse().unwrap();
        let row = row_of(&w, now, |_| false);
        assert_eq!(row.phase, Phase::Waiting);
        assert_eq!(row.title(), "#4");
        assert_eq!(row.template.unwrap().href(), "/templates/ci/build");
        assert_eq!(row.duration_seconds, Some(60));
        let bars = timeline(&w, now);
        assert_eq!(
            (bars[0].label.as_str(), bars[0].start, bars[0].duration),
            ("[0].approve", 5.0, 55.0)
        );
        assert_eq!(bars[0].phase, Phase::Waiting);
    }

    #[test]
    fn a_job_row_shows_a_run_at_a_suspend_step_as_waiting() {
        let run = |name: &str| {
            engine::history::summarize(
                &wf(
                    serde_json::json!({"metadata": {"name": name, "namespace": "ci"},
                    "status": {"phase": "Running", "startedAt": "2026-01-01T00:00:00Z"}}),
                ),
                Utc::now(),
            )
        };
        let runs = engine::history::template_runs(&[run("a")], None, None);
        let waiting = ["a".to_string()].into();
        assert_eq!(
            job_row(runs.clone(), &waiting).last.unwrap().phase,
            Phase::Waiting
        );
        assert_eq!(
            job_row(runs, &Default::default()).last.unwrap().phase,
            Phase::Running
        );
    }

    #[test]
    fn node_details_link_artifacts_and_show_the_template() {
        let w = wf(serde_json::json!({
            "metadata": {"name": "r", "namespace": "ci"},
            "spec": {"entrypoint": "t", "templates": [{"name": "t", "container": {"image": "alpine"}}]},
            "status": {"nodes": {"r": {"id": "r", "name": "r", "type": "Pod", "templateName": "t", "phase": "Succeeded",
                "inputs": {"parameters": [{"name": "x", "value": "1"}]},
                "outputs": {"result": "ok", "exitCode": "0", "artifacts": [{"name": "out", "path": "/tmp/o"}]}}}}
        }));
        let d = node_detail(&w, &effective_spec(&w), "r", Utc::now()).unwrap();
        assert_eq!(d.inputs, [("x".to_string(), "1".to_string())]);
        assert_eq!(d.outputs[0], ("result".to_string(), "ok".to_string()));
        assert_eq!(d.artifacts[0].href, "/artifacts/ci/r/r/out");
        assert!(
            d.template_yaml.contains("image: alpine"),
            "{}",
            d.template_yaml
        );
        assert!(d.has_log);
        assert!(node_detail(&w, &effective_spec(&w), "nope", Utc::now()).is_none());
    }
}

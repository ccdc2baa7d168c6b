//! The header above the node table: name, status, times, progress and parameters.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use super::text::{Color, Line, Span, colored, plain};
use super::{elapsed, human_duration, is_active_suspend, parse_timestamp};
use crate::model::{NodePhase, NodeStatus, NodeType, Workflow, WorkflowPhase, WorkflowSpec};

/// Width of a header label column, as Argo's `%-20s`.
const LABEL_WIDTH: usize = 20;

/// The spec the workflow runs: the stored template spec when there is one.
fn exec_spec(wf: &Workflow) -> Option<&WorkflowSpec> {
    let stored = wf.status.as_ref()?.stored_workflow_template_spec.as_deref();
    stored.or(wf.spec.as_ref())
}

/// A `Label:  value` line, the label padded as Argo pads it.
fn field(label: &str, value: Vec<Span>) -> Line {
    let mut line = vec![plain(format!("{label:<LABEL_WIDTH$} "))];
    line.extend(value);
    line
}

/// The header lines: identity, status, times, progress and parameters.
pub(super) fn header(wf: &Workflow, now: DateTime<Utc>) -> Vec<Line> {
    let meta = wf.metadata.as_ref();
    let name = meta.and_then(|m| m.name.as_deref()).unwrap_or_default();
    let namespace = meta
        .and_then(|m| m.namespace.as_deref())
        .unwrap_or_default();
    let mut out = vec![
        field("Name:", vec![plain(name)]),
        field("Namespace:", vec![plain(namespace)]),
    ];
    let account = exec_spec(wf).and_then(|s| s.service_account_name.as_deref());
    if let Some(account) = account.filter(|a| !a.is_empty()) {
        out.push(field("ServiceAccount:", vec![plain(account)]));
    }
    let phase = wf.status.as_ref().and_then(|s| s.phase).unwrap_or_default();
    let status = colored(status_text(wf, phase), workflow_color(phase));
    out.push(field("Status:", vec![status]));
    let status = wf.status.clone().unwrap_or_default();
    if let Some(message) = status.message.as_deref().filter(|m| !m.is_empty()) {
        out.push(field("Message:", vec![plain(message)]));
    }
    out.extend(times(wf, phase, now));
    let progress = match status.progress.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => p.to_owned(),
        None => summed_progress(status.nodes.as_ref()),
    };
    out.push(field("Progress:", vec![plain(progress)]));
    out.extend(parameters(wf));
    out
}

/// Argo's reading of a workflow's phase: suspended, terminated, pending or unknown.
fn status_text(wf: &Workflow, phase: WorkflowPhase) -> String {
    let created = wf
        .metadata
        .as_ref()
        .is_some_and(|m| m.creation_timestamp.is_some());
    match phase {
        WorkflowPhase::Running if is_suspended(wf) => "Running (Suspended)".into(),
        WorkflowPhase::Failed if is_shut_down(wf) => "Failed (Terminated)".into(),
        WorkflowPhase::Unknown | WorkflowPhase::Pending if created => "Pending".into(),
        WorkflowPhase::Unknown | WorkflowPhase::Pending => "Unknown".into(),
        other => other.as_str().into(),
    }
}

/// Whether the workflow was asked to stop or terminate.
fn is_shut_down(wf: &Workflow) -> bool {
    let shutdown = wf.spec.as_ref().and_then(|s| s.shutdown.as_deref());
    shutdown.is_some_and(|s| !s.is_empty())
}

/// Whether the workflow waits: suspended as a whole or at a suspend step.
fn is_suspended(wf: &Workflow) -> bool {
    let spec_suspend = wf.spec.as_ref().and_then(|s| s.suspend) == Some(true);
    let nodes = wf.status.as_ref().and_then(|s| s.nodes.as_ref());
    spec_suspend || nodes.is_some_and(|n| n.values().any(is_active_suspend))
}

/// The colour of a workflow phase.
fn workflow_color(phase: WorkflowPhase) -> Color {
    match phase {
        WorkflowPhase::Unknown | WorkflowPhase::Pending => Color::Yellow,
        WorkflowPhase::Running => Color::Blue,
        WorkflowPhase::Succeeded => Color::Green,
        WorkflowPhase::Failed | WorkflowPhase::Error => Color::Red,
    }
}

/// An RFC 3339 time as `YYYY-MM-DDTHH:MM:SSZ`, or as written when it cannot be read.
fn show_time(text: &str) -> String {
    parse_timestamp(text).map_or_else(|_| text.to_owned(), iso)
}

/// A time as `YYYY-MM-DDTHH:MM:SSZ`.
fn iso(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The Created, Started, Finished, Duration and EstimatedDuration lines that apply.
fn times(wf: &Workflow, phase: WorkflowPhase, now: DateTime<Utc>) -> Vec<Line> {
    let mut out = Vec::new();
    let created = wf
        .metadata
        .as_ref()
        .and_then(|m| m.creation_timestamp.as_ref())
        .and_then(|t| DateTime::<Utc>::from_timestamp(t.0.as_second(), 0));
    if let Some(created) = created {
        out.push(field("Created:", vec![plain(iso(created))]));
    }
    let status = wf.status.as_ref();
    let started = status.and_then(|s| s.started_at.as_deref());
    let finished = status.and_then(|s| s.finished_at.as_deref());
    if let Some(started) = started {
        out.push(field("Started:", vec![plain(show_time(started))]));
    }
    if let Some(finished) = finished {
        out.push(field("Finished:", vec![plain(show_time(finished))]));
    }
    if let Some(duration) = started.and_then(|s| elapsed(s, finished, now)) {
        out.push(field("Duration:", vec![plain(human_duration(duration))]));
    }
    let estimate = status.and_then(|s| s.estimated_duration).unwrap_or(0);
    if phase == WorkflowPhase::Running && estimate > 0 {
        let estimate = human_duration(Duration::seconds(estimate));
        out.push(field("EstimatedDuration:", vec![plain(estimate)]));
    }
    out
}

/// `done/total` over the nodes that do work, as Argo sums it when the status has none.
fn summed_progress(nodes: Option<&BTreeMap<String, NodeStatus>>) -> String {
    let (mut done, mut total) = (0_i64, 0_i64);
    for node in nodes.into_iter().flat_map(BTreeMap::values) {
        let executable = node.r#type.is_some_and(NodeType::is_executable);
        let own = match node.progress.as_deref() {
            None | Some("") => Some((0, 1)),
            Some(p) => parse_progress(p),
        };
        let (Some((n, m)), true) = (own, executable) else {
            continue;
        };
        let complete = matches!(
            node.phase,
            Some(NodePhase::Succeeded | NodePhase::Skipped | NodePhase::Omitted)
        );
        done = done.saturating_add(if complete { m } else { n });
        total = total.saturating_add(m);
    }
    format!("{done}/{total}")
}

/// A valid `N/M` progress: `0 <= N <= M` and `M > 0`.
fn parse_progress(text: &str) -> Option<(i64, i64)> {
    let (n, m) = text.split_once('/')?;
    let (n, m) = (n.parse::<i64>().ok()?, m.parse::<i64>().ok()?);
    (n >= 0 && n <= m && m > 0).then_some((n, m))
}

/// The workflow's parameters, then its output parameters, those that have a value.
fn parameters(wf: &Workflow) -> Vec<Line> {
    let inputs = exec_spec(wf)
        .and_then(|s| s.arguments.as_ref())
        .and_then(|a| a.parameters.as_deref())
        .unwrap_or_default();
    let outputs = wf
        .status
        .as_ref()
        .and_then(|s| s.outputs.as_ref())
        .and_then(|o| o.parameters.as_deref())
        .unwrap_or_default();
    let mut out = Vec::new();
    for (title, params) in [("Parameters:", inputs), ("Output Parameters:", outputs)] {
        if params.is_empty() {
            continue;
        }
        out.push(field(title, Vec::new()));
        for p in params {
            if let Some(value) = &p.value {
                let label = format!("  {}:", p.name.as_deref().unwrap_or_default());
                out.push(field(&label, vec![plain(value.as_str())]));
            }
        }
    }
    out
}

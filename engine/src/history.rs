//! Read models of a template's run history, as pure functions of its workflows: one row per run
//! (number, phase, times, duration, what triggered it, parameters), duration statistics, and the
//! Airflow-style grid of runs × steps. The server pages the workflows; this shapes them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::model::{NodeStatus, NodeType, Workflow, WorkflowPhase};

/// Label with a run's number in its template's history.
pub const LABEL_RUN_NUMBER: &str = "trellis.dev/run-number";
/// Label naming who submitted a run (Argo's).
pub const LABEL_CREATOR: &str = "workflows.argoproj.io/creator";

/// What started a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Trigger {
    /// Its CronWorkflow's schedule.
    Cron {
        /// The CronWorkflow.
        name: String,
        /// The time it was scheduled for.
        #[serde(skip_serializing_if = "Option::is_none")]
        scheduled: Option<String>,
    },
    /// Resubmitted from another run.
    Resubmit {
        /// The run it was resubmitted from.
        from: String,
    },
    /// A person or an API client (named when the server knows who).
    Manual {
        /// Who, when known.
        #[serde(skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
}

/// One run in a history.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunSummary {
    /// The workflow's name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// Its number in the template's history (`#12`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<u64>,
    /// Its phase (`Pending` before it starts).
    pub phase: String,
    /// When it was created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// When it started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// When it finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// How long it ran (so far, for a running one), in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<i64>,
    /// Its progress (`3/5`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<String>,
    /// Why it ended as it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// What started it.
    pub trigger: Trigger,
    /// Its workflow parameters, in order.
    pub parameters: Vec<(String, String)>,
}

fn parse(t: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(t).ok().map(|t| t.to_utc())
}

/// The history row of a workflow, as of `now`.
pub fn summarize(wf: &Workflow, now: DateTime<Utc>) -> RunSummary {
    let meta = wf.metadata.clone().unwrap_or_default();
    let labels = meta.labels.clone().unwrap_or_default();
    let annotations = meta.annotations.clone().unwrap_or_default();
    let status = wf.status.clone().unwrap_or_default();
    let phase = status.phase.filter(|p| *p != WorkflowPhase::Unknown);
    let duration = status.started_at.as_deref().and_then(parse).map(|s| {
        let end = status.finished_at.as_deref().and_then(parse).unwrap_or(now);
        (end - s).num_seconds().max(0)
    });
    let trigger = if let Some(c) = labels.get(crate::submit::LABEL_CRON_WORKFLOW) {
        Trigger::Cron {
            name: c.clone(),
            scheduled: annotations
                .get("workflows.argoproj.io/scheduled-time")
                .cloned(),
        }
    } else if let Some(from) = labels.get(crate::submit::LABEL_RESUBMITTED_FROM) {
        Trigger::Resubmit { from: from.clone() }
    } else {
        Trigger::Manual {
            by: labels.get(LABEL_CREATOR).cloned(),
        }
    };
    let mut parameters: Vec<(String, String)> = wf
        .spec
        .as_ref()
        .and_then(|s| s.arguments.as_ref())
        .and_then(|a| a.parameters.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|p| {
            let value = p.value.as_ref().or(p.default.as_ref())?;
            Some((p.name.clone()?, value.0.clone()))
        })
        .collect();
    crate::secrets::mask(&mut parameters, &crate::secrets::run_secrets(wf));
    RunSummary {
        name: meta.name.unwrap_or_default(),
        namespace: meta.namespace.unwrap_or_default(),
        number: labels.get(LABEL_RUN_NUMBER).and_then(|n| n.parse().ok()),
        phase: phase.map_or("Pending", |p| p.as_str()).to_string(),
        created_at: meta.creation_timestamp.map(|t| t.0.to_string()),
        started_at: status.started_at,
        finished_at: status.finished_at,
        duration_seconds: duration,
        progress: status.progress,
        message: status.message,
        trigger,
        parameters,
    }
}

/// Durations of a template's recent finished runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DurationStats {
    /// How many finished runs were measured.
    pub runs: usize,
    /// Their median duration, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub median_seconds: Option<i64>,
    /// Their 90th percentile (nearest rank), in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p90_seconds: Option<i64>,
}

impl DurationStats {
    /// Whether a run of this duration is slower than usual (beyond the p90 of at least five
    /// runs).
    pub fn is_slow(&self, seconds: i64) -> bool {
        self.runs >= 5 && self.p90_seconds.is_some_and(|p| seconds > p)
    }
}

/// Median and p90 of the durations of the finished runs among `runs`.
pub fn duration_stats(runs: &[RunSummary]) -> DurationStats {
    let mut d: Vec<i64> = runs
        .iter()
        .filter(|r| r.finished_at.is_some())
        .filter_map(|r| r.duration_seconds)
        .collect();
    d.sort_unstable();
    let rank = |q: f64| -> Option<i64> {
        if d.is_empty() {
            return None;
        }
        let i = ((q * d.len() as f64).ceil() as usize).clamp(1, d.len()) - 1;
        Some(d[i])
    };
    let median = match d.len() {
        0 => None,
        n if n % 2 == 1 => Some(d[n / 2]),
        n => Some((d[n / 2 - 1] + d[n / 2]) / 2),
    };
    DurationStats {
        runs: d.len(),
        median_seconds: median,
        p90_seconds: rank(0.9),
    }
}

/// A template's row in the folder tree, like a Jenkins job's: its last run, last success and
/// failure, health, and recent durations.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateRuns {
    /// The newest run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<RunSummary>,
    /// The newest run that succeeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_success: Option<RunSummary>,
    /// The newest run that failed or errored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_failure: Option<RunSummary>,
    /// How many of the last (up to five) finished runs succeeded, and of how many.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<Health>,
    /// Durations of the recent finished runs in seconds, oldest first (a sparkline).
    pub durations: Vec<i64>,
}

/// How many recent runs passed, in numbers and in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// Runs that succeeded.
    pub passed: usize,
    /// Runs counted.
    pub of: usize,
    /// E.g. "4 of the last 5 runs passed".
    pub text: String,
}

/// The tree row of a template from its recent runs (newest first) and its newest success and
/// failure (which may be older than the recent ones).
pub fn template_runs(
    recent: &[RunSummary],
    last_success: Option<RunSummary>,
    last_failure: Option<RunSummary>,
) -> TemplateRuns {
    let finished: Vec<&RunSummary> = recent.iter().filter(|r| r.finished_at.is_some()).collect();
    let counted: Vec<&&RunSummary> = finished.iter().take(5).collect();
    let health = (!counted.is_empty()).then(|| {
        let passed = counted.iter().filter(|r| r.phase == "Succeeded").count();
        let of = counted.len();
        let text = match (passed, of) {
            (1, 1) => "the last run passed".to_string(),
            (0, 1) => "the last run failed".to_string(),
            (p, n) if p == n => format!("all of the last {n} runs passed"),
            (0, n) => format!("none of the last {n} runs passed"),
            (p, n) => format!("{p} of the last {n} runs passed"),
        };
        Health { passed, of, text }
    });
    let mut durations: Vec<i64> = finished.iter().filter_map(|r| r.duration_seconds).collect();
    durations.reverse();
    TemplateRuns {
        last: recent.first().cloned(),
        last_success,
        last_failure,
        health,
        durations,
    }
}

/// One run (a column) of the grid.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GridRun {
    /// The workflow's name.
    pub name: String,
    /// Its run number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<u64>,
    /// Its phase.
    pub phase: String,
}

/// One step's cell in one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GridCell {
    /// The node's id in that run (to link to it).
    pub node_id: String,
    /// Its phase.
    pub phase: String,
    /// How long it ran, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<i64>,
}

/// One step (a row) of the grid.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GridRow {
    /// The step's path without the run's name, e.g. `[1].deploy` or `.build(0:linux)`.
    pub step: String,
    /// Its cell in each run (in the runs' order); `None` where it did not run.
    pub cells: Vec<Option<GridCell>>,
}

/// Runs × steps.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Grid {
    /// The runs, as given (newest first).
    pub runs: Vec<GridRun>,
    /// The steps, in the order they first ran.
    pub rows: Vec<GridRow>,
}

/// Whether a node is a step a person looks for in the grid (what ran, not the groups).
fn is_step(n: &NodeStatus) -> bool {
    matches!(
        n.r#type,
        Some(
            NodeType::Pod
                | NodeType::Suspend
                | NodeType::Http
                | NodeType::Plugin
                | NodeType::Container
        )
    )
}

/// The grid of `runs` (newest first).
pub fn grid(runs: &[Workflow], now: DateTime<Utc>) -> Grid {
    // Each step's earliest start relative to its run's start: rows follow the order steps run in.
    let mut order: BTreeMap<String, i64> = BTreeMap::new();
    let mut cells: BTreeMap<String, Vec<Option<GridCell>>> = BTreeMap::new();
    let columns: Vec<GridRun> = runs
        .iter()
        .map(|wf| {
            let s = summarize(wf, now);
            GridRun {
                name: s.name,
                number: s.number,
                phase: s.phase,
            }
        })
        .collect();
    for (col, wf) in runs.iter().enumerate() {
        let name = wf
            .metadata
            .as_ref()
            .and_then(|m| m.name.clone())
            .unwrap_or_default();
        let status = wf.status.as_ref();
        let run_start = status.and_then(|s| s.started_at.as_deref()).and_then(parse);
        let nodes = status.and_then(|s| s.nodes.as_ref());
        for (id, n) in nodes.into_iter().flatten().filter(|(_, n)| is_step(n)) {
            let full = n.name.clone().unwrap_or_default();
            let step = full.strip_prefix(&name).unwrap_or(&full).to_string();
            let started = n.started_at.as_deref().and_then(parse);
            let offset = match (started, run_start) {
                (Some(s), Some(r)) => (s - r).num_seconds(),
                _ => i64::MAX,
            };
            let o = order.entry(step.clone()).or_insert(offset);
            *o = (*o).min(offset);
            let duration = started.map(|s| {
                let end = n.finished_at.as_deref().and_then(parse).unwrap_or(now);
                (end - s).num_seconds().max(0)
            });
            let row = cells.entry(step).or_insert_with(|| vec![None; runs.len()]);
            row[col] = Some(GridCell {
                node_id: id.clone(),
                phase: n.phase.map_or("Pending", |p| p.as_str()).to_string(),
                duration_seconds: duration,
            });
        }
    }
    let mut steps: Vec<(String, i64)> = order.into_iter().collect();
    steps.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    Grid {
        runs: columns,
        rows: steps
            .into_iter()
            .map(|(step, _)| GridRow {
                cells: cells.remove(&step).unwrap_or_default(),
                step,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests;

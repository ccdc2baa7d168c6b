//! How long one `plan` call takes on large DAGs, per event (a step finishing), at 1k, 10k and
//! 50k tasks. Prints the figures; run with `cargo bench -p engine --bench plan`.
//!
//! The DAG is 100 parallel chains (task `c<i>-<j>` depends on `c<i>-<j-1>`), so every event
//! unlocks one new task and the status keeps growing, like a real large run.

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use engine::model::{NodePhase, Workflow, WorkflowStatus};
use engine::plan::{Action, Observations, StepObservation, TemplateSource, plan, resolve};

struct NoTemplates;

impl TemplateSource for NoTemplates {
    fn workflow_template(&self, _: &str, _: &str) -> Option<engine::model::WorkflowTemplate> {
        None
    }
    fn cluster_workflow_template(&self, _: &str) -> Option<engine::model::ClusterWorkflowTemplate> {
        None
    }
}

fn dag(tasks: usize, chains: usize) -> Workflow {
    let per = tasks / chains;
    let mut list = Vec::with_capacity(tasks);
    for c in 0..chains {
        for j in 0..per {
            let mut t = serde_json::json!({"name": format!("c{c}-{j}"), "template": "t"});
            if j > 0 {
                t["depends"] = format!("c{c}-{}", j - 1).into();
            }
            list.push(t);
        }
    }
    serde_json::from_value(serde_json::json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
        "metadata": {"name": "big", "uid": "u"},
        "spec": {"entrypoint": "main", "templates": [
            {"name": "main", "dag": {"tasks": list}},
            {"name": "t", "container": {"image": "alpine", "command": ["true"]}}
        ]}
    }))
    .expect("workflow")
}

fn observe(ids: &[String], now: chrono::DateTime<Utc>) -> Observations {
    let mut o = Observations::default();
    let t = engine::plan::format_time(now);
    for id in ids {
        o.steps.insert(
            id.clone(),
            StepObservation {
                phase: NodePhase::Succeeded,
                started_at: Some(t.clone()),
                finished_at: Some(t.clone()),
                ..Default::default()
            },
        );
    }
    o
}

fn started(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::StartStep(l) => Some(l.node_id.clone()),
            _ => None,
        })
        .collect()
}

/// Runs the DAG to 90% (finishing every running step at once), then times `events` events of
/// one step finishing each.
fn measure(tasks: usize, events: usize) -> (Duration, usize) {
    let wf = resolve(&dag(tasks, 100), &NoTemplates).expect("resolves");
    let mut now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let (mut status, mut actions) = plan(
        &wf,
        WorkflowStatus::default(),
        &Observations::default(),
        now,
    );
    let mut done = 0;
    while done < tasks * 9 / 10 {
        let ids = started(&actions);
        done += ids.len();
        now += chrono::Duration::seconds(1);
        (status, actions) = plan(&wf, status, &observe(&ids, now), now);
    }
    let mut pending: std::collections::VecDeque<String> = started(&actions).into();
    let mut timed = Duration::ZERO;
    let mut counted = 0u32;
    while counted < events as u32 {
        let Some(id) = pending.pop_front() else { break };
        now += chrono::Duration::seconds(1);
        let obs = observe(std::slice::from_ref(&id), now);
        let start = Instant::now();
        (status, actions) = plan(&wf, status, &obs, now);
        timed += start.elapsed();
        counted += 1;
        for new in started(&actions) {
            if !pending.contains(&new) {
                pending.push_back(new);
            }
        }
    }
    let nodes = status.nodes.as_ref().map_or(0, |n| n.len());
    (timed / counted.max(1), nodes)
}

fn main() {
    println!("plan() per event on a DAG of 100 parallel chains (status near its full size)");
    for (tasks, events) in [(1_000, 50), (10_000, 50), (50_000, 50)] {
        let (per_event, nodes) = measure(tasks, events);
        println!(
            "  {tasks:>6} tasks ({nodes:>6} nodes in status): {:>8.3} ms per event",
            per_event.as_secs_f64() * 1000.0
        );
    }
}

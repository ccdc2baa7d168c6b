//! The node table: one row per shown node, columns padded to line up.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};

use super::names::{PodNameVersion, node_id, pod_name_version, pod_name_with_version};
use super::text::{Color, Line, Span, colored, plain, width_of};
use super::tree::{Forest, display_name, one_line};
use super::{elapsed, human_duration, is_active_suspend};
use crate::model::{NodePhase, NodeStatus, NodeType, Workflow};

/// Suffix of the exit handler's node name.
const ON_EXIT_SUFFIX: &str = ".onExit";

/// Spaces between table columns.
const COLUMN_GAP: usize = 2;
/// Message of a suspended node that says nothing itself.
const WAITING: &str = "waiting to be resumed";

/// A table row: the tree cell, then TEMPLATE, PODNAME, DURATION and MESSAGE.
struct Row {
    step: Vec<Span>,
    cells: [String; 4],
}

/// The table rows: a heading, the main tree and, after a blank line, the exit handler's tree.
pub(super) fn table(wf: &Workflow, now: DateTime<Utc>) -> Vec<Line> {
    let name = wf.metadata.as_ref().and_then(|m| m.name.as_deref());
    let nodes = wf.status.as_ref().and_then(|s| s.nodes.as_ref());
    let (Some(name), Some(nodes)) = (name, nodes) else {
        return Vec::new();
    };
    let Some((root, _)) = nodes.get_key_value(name) else {
        return Vec::new();
    };
    let forest = Forest::new(nodes);
    let version = pod_name_version(wf);
    let mut seen = HashSet::new();
    let row = |(prefix, node): (String, &NodeStatus)| node_row(name, &prefix, node, now, version);
    let mut rows = vec![Row {
        step: vec![plain("STEP")],
        cells: ["TEMPLATE", "PODNAME", "DURATION", "MESSAGE"].map(String::from),
    }];
    rows.extend(forest.walk(root, &mut seen).into_iter().map(row));
    let exit_id = node_id(name, &format!("{name}{ON_EXIT_SUFFIX}"));
    if let Some(exit) = forest.roots.get(exit_id.as_str()) {
        rows.push(Row {
            step: Vec::new(),
            cells: Default::default(),
        });
        rows.extend(forest.walk(exit, &mut seen).into_iter().map(row));
    }
    layout(rows)
}

/// The row of one node; only Pod nodes have a pod name and a duration, as in Argo.
fn node_row(
    workflow: &str,
    prefix: &str,
    node: &NodeStatus,
    now: DateTime<Utc>,
    version: PodNameVersion,
) -> Row {
    let (icon, color) = icon(node);
    let step = vec![
        plain(prefix),
        colored(icon, color),
        plain(format!(" {}", one_line(display_name(node)))),
    ];
    let template = match &node.template_ref {
        Some(r) => format!(
            "{}/{}",
            r.name.as_deref().unwrap_or_default(),
            r.template.as_deref().unwrap_or_default()
        ),
        None => node.template_name.clone().unwrap_or_default(),
    };
    let (pod, duration) = if node.r#type == Some(NodeType::Pod) {
        let template_name = match &node.template_ref {
            Some(r) => r.template.as_deref(),
            None => node.template_name.as_deref(),
        };
        let pod = pod_name_with_version(
            workflow,
            node.name.as_deref().unwrap_or_default(),
            template_name.unwrap_or_default(),
            node.id.as_deref().unwrap_or_default(),
            version,
        );
        (pod, node_duration(node, now))
    } else {
        (String::new(), String::new())
    };
    let mut message = one_line(node.message.as_deref().unwrap_or_default());
    if message.is_empty() && is_active_suspend(node) {
        message = WAITING.to_owned();
    }
    Row {
        step,
        cells: [template, pod, duration, message],
    }
}

/// The icon and colour of a node's phase; a suspended node shows `ǁ`.
fn icon(node: &NodeStatus) -> (&'static str, Color) {
    if is_active_suspend(node) {
        return ("ǁ", Color::Blue);
    }
    match node.phase.unwrap_or(NodePhase::Pending) {
        NodePhase::Pending => ("◷", Color::Yellow),
        NodePhase::Running => ("●", Color::Blue),
        NodePhase::Succeeded => ("✔", Color::Green),
        NodePhase::Failed => ("✖", Color::Red),
        NodePhase::Error => ("⚠", Color::Red),
        NodePhase::Skipped | NodePhase::Omitted => ("○", Color::Grey),
    }
}

/// How long a node ran, or has been running at `now`; `0s` before it starts.
fn node_duration(node: &NodeStatus, now: DateTime<Utc>) -> String {
    let duration = node
        .started_at
        .as_deref()
        .and_then(|s| elapsed(s, node.finished_at.as_deref(), now));
    human_duration(duration.unwrap_or_else(Duration::zero))
}

/// Pads every column but the last to its widest cell plus the gap.
fn layout(rows: Vec<Row>) -> Vec<Line> {
    let mut widths = [0_usize; 4];
    for row in &rows {
        widths[0] = widths[0].max(width_of(&row.step));
        for (w, cell) in widths[1..].iter_mut().zip(&row.cells) {
            *w = (*w).max(cell.chars().count());
        }
    }
    rows.into_iter()
        .map(|row| {
            let pad = widths[0] + COLUMN_GAP - width_of(&row.step);
            let mut line = row.step;
            line.push(plain(" ".repeat(pad)));
            let [template, pod, duration, message] = row.cells;
            for (cell, width) in [template, pod, duration].into_iter().zip(&widths[1..]) {
                line.push(plain(format!("{cell:<width$}", width = width + COLUMN_GAP)));
            }
            line.push(plain(message));
            line
        })
        .collect()
}

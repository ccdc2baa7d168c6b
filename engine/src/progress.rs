//! A workflow's progress as text for a terminal, the way `trellis run` and `trellis get`
//! show it (Argo's `argo get` / `argo watch` layout), plus the node ids and pod names
//! that the scheduler and the controller share with it.
//!
//! The output is a header of `Label:  value` lines, then a table
//! `STEP  TEMPLATE  PODNAME  DURATION  MESSAGE` whose first column draws the node tree.
//! The tree follows Argo's rules:
//! - Steps and DAG nodes contain the nodes whose `boundaryID` names them; StepGroup and
//!   Retry nodes contain their `children` (that wins over the boundary);
//! - a StepGroup is not printed: its children fan out from its place (`┬─`, `──`);
//! - a Retry node with a single attempt is not printed: the attempt takes its place;
//! - Skipped nodes that were Omitted (DAG tasks whose dependencies failed) are not printed;
//! - TaskGroup and Container nodes are not printed, and neither is what hangs only from
//!   them (loop iterations of a DAG task carry the DAG's boundary, so they show under it);
//! - siblings are ordered by start time, then by loop index (`name(3:x)`), then by name;
//! - the workflow's exit handler (`<workflow>.onExit`) follows the main tree after a blank line.

mod header;
mod names;
mod table;
mod text;
mod tree;

use chrono::{DateTime, Duration, Utc};

use crate::model::{NodePhase, NodeStatus, NodeType, Workflow};

pub use names::{
    POD_NAME_FORMAT_ANNOTATION, PodNameVersion, node_id, pod_name, pod_name_version,
    pod_name_with_version,
};

/// Why a value could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProgressError {
    /// A timestamp is not RFC 3339 (e.g. `2024-05-01T10:00:00Z`).
    #[error("timestamp {0:?} is not RFC 3339")]
    InvalidTimestamp(String),
}

/// How to render a workflow.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// Colour icons and phases with ANSI escapes.
    pub color: bool,
    /// Cut every line to this many characters (a terminal's width), ending cut lines with `…`.
    pub width: Option<usize>,
    /// Print the header (name, status, times, parameters) above the node table.
    pub show_header: bool,
}

/// Renders `wf` for a terminal; running nodes' durations are measured up to `now`.
pub fn render(wf: &Workflow, now: DateTime<Utc>, opts: &RenderOptions) -> String {
    let mut lines = Vec::new();
    if opts.show_header {
        lines.extend(header::header(wf, now));
    }
    let table = table::table(wf, now);
    if !table.is_empty() {
        if !lines.is_empty() {
            lines.push(Vec::new());
        }
        lines.extend(table);
    }
    lines
        .into_iter()
        .map(|line| text::paint(text::fit(text::trim_end(line), opts.width), opts.color) + "\n")
        .collect()
}

/// A duration for people, in its two largest units: `0s`, `45s`, `1m 30s`, `1h 2m`, `3d 4h`.
/// Negative durations (clock skew) read `0s`.
pub fn human_duration(duration: Duration) -> String {
    let secs = duration.num_seconds().max(0);
    let (d, h, m, s) = (secs / 86_400, secs / 3_600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else if m > 0 {
        format!("{m}m {s}s")
    } else {
        format!("{s}s")
    }
}

/// Reads an RFC 3339 timestamp as the status of a workflow holds them.
pub fn parse_timestamp(text: &str) -> Result<DateTime<Utc>, ProgressError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| ProgressError::InvalidTimestamp(text.to_owned()))
}

/// Time from `started` to `finished`, or to `now` while unfinished.
fn elapsed(started: &str, finished: Option<&str>, now: DateTime<Utc>) -> Option<Duration> {
    let start = parse_timestamp(started).ok()?;
    let end = match finished {
        Some(f) => parse_timestamp(f).ok()?,
        None => now,
    };
    Some(end - start)
}

/// Whether a node is a suspend step still waiting.
fn is_active_suspend(node: &NodeStatus) -> bool {
    node.r#type == Some(NodeType::Suspend) && node.phase == Some(NodePhase::Running)
}

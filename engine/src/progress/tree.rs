//! The node tree: which node hangs under which, in what order, drawn with what prefix.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::parse_timestamp;
use crate::model::{NodePhase, NodeStatus, NodeType};

/// How a node takes part in the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Steps and DAG: contain the nodes of their boundary.
    Boundary,
    /// StepGroup and Retry: contain their children.
    Group,
    /// Pods, suspends, skipped steps, HTTP and plugin nodes.
    Leaf,
    /// TaskGroup, Container and untyped nodes: not shown.
    Unshown,
}

/// The part a node plays in the tree, from its type.
fn kind(node: &NodeStatus) -> Kind {
    match node.r#type {
        Some(NodeType::Steps | NodeType::Dag) => Kind::Boundary,
        Some(NodeType::StepGroup | NodeType::Retry) => Kind::Group,
        Some(
            NodeType::Pod
            | NodeType::Skipped
            | NodeType::Suspend
            | NodeType::Http
            | NodeType::Plugin,
        ) => Kind::Leaf,
        Some(NodeType::TaskGroup | NodeType::Container) | None => Kind::Unshown,
    }
}

/// The nodes arranged for printing: each shown node under at most one parent.
pub(super) struct Forest<'a> {
    nodes: &'a BTreeMap<String, NodeStatus>,
    children: HashMap<&'a str, Vec<&'a str>>,
    pub(super) roots: HashSet<&'a str>,
}

impl<'a> Forest<'a> {
    /// Arranges the nodes of a workflow status.
    pub(super) fn new(nodes: &'a BTreeMap<String, NodeStatus>) -> Self {
        let mut group_of: HashMap<&str, &str> = HashMap::new();
        for (id, node) in nodes.iter().filter(|(_, n)| kind(n) == Kind::Group) {
            for child in node.children.iter().flatten() {
                group_of.entry(child.as_str()).or_insert(id.as_str());
            }
        }
        let mut forest = Forest {
            nodes,
            children: HashMap::new(),
            roots: HashSet::new(),
        };
        for (id, node) in nodes.iter().filter(|(_, n)| kind(n) != Kind::Unshown) {
            let boundary = node.boundary_id.as_deref().filter(|b| !b.is_empty());
            let parent = match (group_of.get(id.as_str()), boundary) {
                (Some(group), _) => Some(*group),
                (None, None) => {
                    forest.roots.insert(id.as_str());
                    None
                }
                (None, Some(b)) => nodes
                    .get_key_value(b)
                    .filter(|(_, n)| kind(n) == Kind::Boundary)
                    .map(|(k, _)| k.as_str()),
            };
            if let Some(parent) = parent {
                forest.children.entry(parent).or_default().push(id);
            }
        }
        for list in forest.children.values_mut() {
            list.sort_by_cached_key(|id| sibling_key(nodes, id));
        }
        forest
    }

    /// The rows of the tree under `root`, each with its drawn prefix. Iterative, and each
    /// node at most once, so that no input can loop or exhaust the stack.
    pub(super) fn walk(
        &self,
        root: &'a str,
        seen: &mut HashSet<&'a str>,
    ) -> Vec<(String, &'a NodeStatus)> {
        let mut out = Vec::new();
        let mut stack = vec![Frame {
            id: root,
            prefix: " ".into(),
            indent: " ".into(),
        }];
        while let Some(frame) = stack.pop() {
            let Some(node) = self.nodes.get(frame.id) else {
                continue;
            };
            if !seen.insert(frame.id) {
                continue;
            }
            let (hidden, fan_out) = hidden(node);
            if !hidden {
                out.push((frame.prefix.clone(), node));
            }
            let kids = self
                .children
                .get(frame.id)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let last = kids.len().saturating_sub(1);
            for (i, kid) in kids.iter().enumerate().rev() {
                stack.push(frame.child(kid, i, last, hidden, fan_out));
            }
        }
        out
    }
}

/// A node waiting to be printed: its own prefix and the indent of what it contains.
struct Frame<'a> {
    id: &'a str,
    prefix: String,
    indent: String,
}

impl<'a> Frame<'a> {
    /// The frame of child `i` (of `0..=last`) of this node, drawn as Argo draws it.
    fn child(&self, id: &'a str, i: usize, last: usize, hidden: bool, fan_out: bool) -> Frame<'a> {
        let (part, sub) = match (hidden, fan_out) {
            (true, true) if last == 0 => ("──", "  "),
            (true, true) if i == 0 => ("┬─", "│ "),
            (true, true) if i == last => ("└─", "  "),
            (true, true) => ("├─", "│ "),
            (false, _) if i == last => ("└─", "  "),
            (false, _) => ("├─", "│ "),
            (true, false) => ("", ""),
        };
        let base = if hidden && i == 0 {
            &self.prefix
        } else {
            &self.indent
        };
        Frame {
            id,
            prefix: format!("{base}{part}"),
            indent: format!("{}{sub}", self.indent),
        }
    }
}

/// Whether a node is left out of the table, and whether its children then fan out.
fn hidden(node: &NodeStatus) -> (bool, bool) {
    let single_attempt = node.children.as_ref().is_some_and(|c| c.len() == 1);
    match (node.r#type, node.phase) {
        (Some(NodeType::Retry), _) if single_attempt => (true, false),
        (Some(NodeType::StepGroup), _) => (true, true),
        (Some(NodeType::Skipped), Some(NodePhase::Omitted)) => (true, false),
        _ => (false, false),
    }
}

/// Order of siblings: start time (none first), then loop index, then display name; loop
/// iterations come before other siblings started at the same time.
fn sibling_key(
    nodes: &BTreeMap<String, NodeStatus>,
    id: &str,
) -> (Option<DateTime<Utc>>, u8, i64, String, String) {
    let node = nodes.get(id);
    let start = node
        .and_then(|n| n.started_at.as_deref())
        .and_then(|t| parse_timestamp(t).ok());
    let name = node.map(display_name).unwrap_or_default().to_owned();
    match loop_index(&name) {
        Some(index) => (start, 0, index, name, id.to_owned()),
        None => (start, 1, 0, name, id.to_owned()),
    }
}

/// The index of a loop iteration named like `step(3:value)`.
fn loop_index(name: &str) -> Option<i64> {
    let open = name.find('(')?;
    let colon = name.find(':')?;
    let index = name.get(open + 1..colon)?.parse::<i64>().ok()?;
    (index >= 0).then_some(index)
}

/// Text on one line: control characters (newlines, escapes) become spaces.
pub(super) fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The name shown for a node: its display name, else its name, else its id.
pub(super) fn display_name(node: &NodeStatus) -> &str {
    [&node.display_name, &node.name, &node.id]
        .into_iter()
        .find_map(|s| s.as_deref())
        .unwrap_or_default()
}

//! A workflow's graph as the run page draws it: the nodes that exist, the steps still to come
//! (drawn from the spec, named as `plan` will name them), large groups of loop children collapsed
//! into one node, laid out by [`layout`]. Pure.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use app::model::{GraphNode, GraphView, GroupSummary, NodeKind, Phase};
use chrono::{DateTime, Utc};
use engine::model::{NodeStatus, WorkflowSpec};
use engine::outline::PlannedNode;

use super::convert::{node_duration, node_kind, node_phase};

/// A parent with more children than this shows them as one group until expanded.
pub const COLLAPSE_AT: usize = 12;

/// A node before layout.
#[derive(Debug, Clone)]
struct Vertex {
    id: String,
    label: String,
    kind: NodeKind,
    phase: Phase,
    duration: Option<i64>,
    group: Option<GroupSummary>,
    planned: bool,
    template: Option<String>,
}

/// The size of a node's box.
fn size(kind: NodeKind) -> layout::Size {
    match kind {
        NodeKind::StepGroup | NodeKind::TaskGroup => layout::Size {
            width: 18.0,
            height: 18.0,
        },
        NodeKind::Collapsed => layout::Size {
            width: 220.0,
            height: 52.0,
        },
        _ => layout::Size {
            width: 200.0,
            height: 44.0,
        },
    }
}

/// The graph of a workflow named `workflow` with `nodes` (its status, may be empty) and the
/// planned nodes of its spec; `live` adds planned nodes not started yet; parents in `expand`
/// show all their children.
pub fn build(
    workflow: &str,
    nodes: &BTreeMap<String, NodeStatus>,
    planned: &[PlannedNode],
    live: bool,
    expand: &BTreeSet<String>,
    now: DateTime<Utc>,
) -> GraphView {
    let mut vertices: Vec<Vertex> = nodes
        .iter()
        .map(|(id, n)| Vertex {
            id: id.clone(),
            label: n
                .display_name
                .clone()
                .or(n.name.clone())
                .unwrap_or_default(),
            kind: node_kind(n.r#type),
            phase: node_phase(n),
            duration: node_duration(n, now),
            group: None,
            planned: false,
            template: n.template_name.clone(),
        })
        .collect();
    let mut edges: Vec<(String, String)> = nodes
        .iter()
        .flat_map(|(id, n)| {
            n.children
                .iter()
                .flatten()
                .filter(|c| nodes.contains_key(*c))
                .map(move |c| (id.clone(), c.clone()))
        })
        .collect();
    if live || nodes.is_empty() {
        add_planned(workflow, nodes, planned, &mut vertices, &mut edges);
    }
    let boundary: HashMap<&str, &str> = nodes
        .iter()
        .filter_map(|(id, n)| Some((id.as_str(), n.boundary_id.as_deref()?)))
        .collect();
    collapse(&mut vertices, &mut edges, &boundary, expand);
    lay_out(vertices, edges)
}

/// Adds the planned nodes that have not started; edges join them to the started ones by name
/// (a looped node stands for its iterations, `name(0:…)`).
fn add_planned(
    workflow: &str,
    nodes: &BTreeMap<String, NodeStatus>,
    planned: &[PlannedNode],
    vertices: &mut Vec<Vertex>,
    edges: &mut Vec<(String, String)>,
) {
    let mut by_name: HashMap<&str, Vec<String>> = HashMap::new();
    for (id, n) in nodes {
        if let Some(name) = n.name.as_deref() {
            by_name.entry(name).or_default().push(id.clone());
            if let Some(base) = name
                .strip_suffix(')')
                .and_then(|s| s.rfind('(').map(|i| &s[..i]))
            {
                by_name.entry(base).or_default().push(id.clone());
            }
        }
    }
    let mut ids: HashMap<&str, Vec<String>> = HashMap::new();
    let mut drawn: BTreeSet<String> = BTreeSet::new();
    for p in planned {
        match by_name.get(p.name.as_str()) {
            Some(existing) => {
                ids.insert(&p.name, existing.clone());
            }
            None => {
                let id = engine::plan::node_id(workflow, &p.name);
                vertices.push(Vertex {
                    id: id.clone(),
                    label: if p.looped {
                        format!("{} (loop)", p.display_name)
                    } else {
                        p.display_name.clone()
                    },
                    kind: node_kind(Some(p.kind)),
                    phase: Phase::Pending,
                    duration: None,
                    group: None,
                    planned: true,
                    template: p.template.clone(),
                });
                drawn.insert(id.clone());
                ids.insert(&p.name, vec![id]);
            }
        }
    }
    for p in planned {
        let from = ids.get(p.name.as_str()).cloned().unwrap_or_default();
        for c in &p.children {
            for to in ids.get(c.as_str()).into_iter().flatten() {
                for f in &from {
                    if drawn.contains(f) || drawn.contains(to) {
                        edges.push((f.clone(), to.clone()));
                    }
                }
            }
        }
    }
}

/// Collapses the children of parents with more than [`COLLAPSE_AT`] of them (and everything
/// inside those children) into one node per parent, unless the parent is in `expand`.
fn collapse(
    vertices: &mut Vec<Vertex>,
    edges: &mut Vec<(String, String)>,
    boundary: &HashMap<&str, &str>,
    expand: &BTreeSet<String>,
) {
    let mut children: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (f, t) in edges.iter() {
        children.entry(f.as_str()).or_default().push(t.as_str());
    }
    let phase: HashMap<&str, Phase> = vertices.iter().map(|v| (v.id.as_str(), v.phase)).collect();
    let mut owner: HashMap<String, String> = HashMap::new();
    let mut groups: Vec<Vertex> = Vec::new();
    for (parent, kids) in &children {
        if kids.len() <= COLLAPSE_AT || expand.contains(*parent) {
            continue;
        }
        let group_id = format!("{parent}:group");
        let mut counts: BTreeMap<&'static str, (Phase, usize)> = BTreeMap::new();
        for k in kids {
            let p = phase.get(k).copied().unwrap_or(Phase::Pending);
            counts.entry(p.slug()).or_insert((p, 0)).1 += 1;
            owner
                .entry(k.to_string())
                .or_insert_with(|| group_id.clone());
        }
        let mut phases: Vec<(Phase, usize)> = counts.into_values().collect();
        phases.sort_by_key(|p| std::cmp::Reverse(p.1));
        groups.push(Vertex {
            label: format!("{} steps", kids.len()),
            kind: NodeKind::Collapsed,
            phase: group_phase(&phases),
            duration: None,
            group: Some(GroupSummary {
                parent: parent.to_string(),
                count: kids.len(),
                phases,
            }),
            planned: false,
            template: None,
            id: group_id,
        });
    }
    if groups.is_empty() {
        return;
    }
    // Nodes inside a collapsed child (by boundary) go into its group too.
    let inside: Vec<(String, String)> = vertices
        .iter()
        .filter(|v| !owner.contains_key(&v.id))
        .filter_map(|v| {
            let mut at = v.id.as_str();
            for _ in 0..64 {
                at = boundary.get(at)?;
                if let Some(g) = owner.get(at) {
                    return Some((v.id.clone(), g.clone()));
                }
            }
            None
        })
        .collect();
    owner.extend(inside);
    vertices.retain(|v| !owner.contains_key(&v.id));
    vertices.extend(groups);
    let map = |id: &String| owner.get(id).cloned().unwrap_or_else(|| id.clone());
    let mut seen = BTreeSet::new();
    let remapped: Vec<(String, String)> = edges
        .iter()
        .map(|(f, t)| (map(f), map(t)))
        .filter(|(f, t)| f != t && seen.insert((f.clone(), t.clone())))
        .collect();
    *edges = remapped;
}

/// The phase a group shows: live while any child is, else failed when any failed.
fn group_phase(phases: &[(Phase, usize)]) -> Phase {
    let has = |p: Phase| phases.iter().any(|(q, n)| *q == p && *n > 0);
    [
        Phase::Running,
        Phase::Waiting,
        Phase::Pending,
        Phase::Error,
        Phase::Failed,
        Phase::Succeeded,
        Phase::Skipped,
    ]
    .into_iter()
    .find(|p| has(*p))
    .unwrap_or(Phase::Omitted)
}

/// `v` to a tenth of a pixel: the browser needs no more, and the page is smaller.
fn tenth(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// Places the vertices.
fn lay_out(vertices: Vec<Vertex>, edges: Vec<(String, String)>) -> GraphView {
    let index: HashMap<&str, usize> = vertices
        .iter()
        .enumerate()
        .map(|(i, v)| (v.id.as_str(), i))
        .collect();
    let graph = layout::Graph {
        nodes: vertices.iter().map(|v| size(v.kind)).collect(),
        edges: edges
            .iter()
            .filter_map(|(f, t)| Some((*index.get(f.as_str())?, *index.get(t.as_str())?)))
            .collect(),
    };
    let placed = layout::layout(&graph, &layout::Options::default());
    let nodes = vertices
        .into_iter()
        .zip(&placed.nodes)
        .map(|(v, p)| {
            let s = size(v.kind);
            GraphNode {
                id: v.id,
                label: v.label,
                kind: v.kind,
                phase: v.phase,
                x: tenth(p.x),
                y: tenth(p.y),
                width: s.width,
                height: s.height,
                duration_seconds: v.duration,
                group: v.group,
                planned: v.planned,
                template: v.template,
            }
        })
        .collect();
    GraphView {
        width: tenth(placed.width),
        height: tenth(placed.height),
        nodes,
        edges: placed
            .edges
            .iter()
            .map(|line| line.iter().map(|p| (tenth(p.x), tenth(p.y))).collect())
            .collect(),
    }
}

/// The graph of a template's spec before any run.
pub fn of_spec(name: &str, spec: &WorkflowSpec) -> GraphView {
    let planned = engine::outline::outline(name, spec);
    build(
        name,
        &BTreeMap::new(),
        &planned,
        true,
        &BTreeSet::new(),
        Utc::now(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str, name: &str, t: &str, phase: &str, children: &[&str]) -> (String, NodeStatus) {
        let v = serde_json::json!({"id": id, "name": name, "displayName": name, "type": t, "phase": phase,
            "children": children});
        (id.to_string(), serde_json::from_value(v).unwrap())
    }

    fn spec(yaml: &str) -> WorkflowSpec {
        let json = engine::yaml::to_json(&engine::parse::parse_file(yaml).documents[0].node);
        serde_json::from_value::<engine::model::Workflow>(json)
            .unwrap()
            .spec
            .unwrap()
    }

    #[test]
    fn pending_steps_are_drawn_after_the_started_ones() {
        let s = spec(
            "kind: Workflow\nspec:\n  entrypoint: main\n  templates:\n  - name: main\n    steps:\n    - - {name: a, template: t}\n    - - {name: b, template: t}\n  - name: t\n    container: {image: alpine}\n",
        );
        let planned = engine::outline::outline("wf", &s);
        let g0 = engine::plan::node_id("wf", "wf[0]");
        let a = engine::plan::node_id("wf", "wf[0].a");
        let nodes: BTreeMap<String, NodeStatus> = [
            node("wf", "wf", "Steps", "Running", &[&g0]),
            node(&g0, "wf[0]", "StepGroup", "Running", &[&a]),
            node(&a, "wf[0].a", "Pod", "Running", &[]),
        ]
        .into_iter()
        .collect();
        let g = build("wf", &nodes, &planned, true, &BTreeSet::new(), Utc::now());
        assert_eq!(g.nodes.len(), 5, "{:?}", g.nodes);
        let b = g.nodes.iter().find(|n| n.label == "b").unwrap();
        assert!(b.planned && b.phase == Phase::Pending);
        assert_eq!(g.edges.len(), 4);
        let a_node = g.nodes.iter().find(|n| n.id == a).unwrap();
        assert!(
            b.y > a_node.y,
            "the pending step is drawn below the running one"
        );
        // Once finished, nothing is planned any more.
        let done = build("wf", &nodes, &planned, false, &BTreeSet::new(), Utc::now());
        assert_eq!(done.nodes.len(), 3);
    }

    #[test]
    fn a_big_loop_is_one_group_until_expanded() {
        let kids: Vec<String> = (0..500).map(|i| format!("c{i}")).collect();
        let refs: Vec<&str> = kids.iter().map(String::as_str).collect();
        let mut nodes: BTreeMap<String, NodeStatus> = [
            node("wf", "wf", "StepGroup", "Running", &refs),
            node("next", "wf[1]", "StepGroup", "Pending", &[]),
        ]
        .into_iter()
        .collect();
        for (i, k) in kids.iter().enumerate() {
            let phase = if i < 480 { "Succeeded" } else { "Failed" };
            nodes.extend([node(k, &format!("wf[0].t({i})"), "Pod", phase, &["next"])]);
        }
        let g = build("wf", &nodes, &[], false, &BTreeSet::new(), Utc::now());
        assert_eq!(g.nodes.len(), 3);
        let group = g
            .nodes
            .iter()
            .find(|n| n.kind == NodeKind::Collapsed)
            .unwrap();
        let summary = group.group.clone().unwrap();
        assert_eq!(summary.count, 500);
        assert_eq!(
            summary.phases,
            [(Phase::Succeeded, 480), (Phase::Failed, 20)]
        );
        assert_eq!(group.phase, Phase::Failed);
        assert_eq!(g.edges.len(), 2, "parent → group → next");
        let open = build(
            "wf",
            &nodes,
            &[],
            false,
            &["wf".to_string()].into(),
            Utc::now(),
        );
        assert_eq!(open.nodes.len(), 502);
    }

    #[test]
    fn a_template_graph_is_drawn_from_its_spec() {
        let s = spec(
            "kind: Workflow\nspec:\n  entrypoint: main\n  templates:\n  - name: main\n    dag:\n      tasks:\n      - {name: a, template: t}\n      - {name: b, template: t, dependencies: [a]}\n  - name: t\n    container: {image: alpine}\n",
        );
        let g = of_spec("build", &s);
        assert_eq!(g.nodes.len(), 3);
        assert!(g.nodes.iter().all(|n| n.planned));
        assert_eq!(g.edges.len(), 2);
        assert!(g.width > 0.0 && g.height > 0.0);
    }
}

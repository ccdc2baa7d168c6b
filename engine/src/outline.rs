//! The graph a workflow spec will run, drawn before it runs: the entrypoint's steps and DAG tasks,
//! nested templates expanded, with nodes named exactly as `plan` names them (`wf[0].build`,
//! `wf.deploy`), so that a running workflow's pending steps can be shown next to the started
//! ones. Loops cannot be expanded before their items are known: a looped step is one node.

use std::collections::BTreeMap;

use crate::depends::parse_depends;
use crate::model::{DAGTask, NodeType, Template, WorkflowSpec, WorkflowStep};

/// How deep nested steps/DAG templates are expanded.
const MAX_DEPTH: usize = 6;
/// At most this many nodes are planned (a spec is written by hand; this bounds recursion).
const MAX_NODES: usize = 5_000;

/// A node the spec will create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedNode {
    /// Its node name, as `plan` names it.
    pub name: String,
    /// Its display name.
    pub display_name: String,
    /// What it is.
    pub kind: NodeType,
    /// The template it runs.
    pub template: Option<String>,
    /// The names of the nodes after it.
    pub children: Vec<String>,
    /// Whether it loops (`withItems`, `withParam`, `withSequence`): it stands for its iterations.
    pub looped: bool,
}

/// The nodes `spec` runs from its entrypoint in a workflow named `workflow`, the root first.
pub fn outline(workflow: &str, spec: &WorkflowSpec) -> Vec<PlannedNode> {
    let templates: BTreeMap<&str, &Template> = spec
        .templates
        .iter()
        .flatten()
        .filter_map(|t| Some((t.name.as_deref()?, t)))
        .collect();
    let mut o = Outliner {
        templates,
        nodes: Vec::new(),
        index: BTreeMap::new(),
    };
    if let Some(entry) = spec.entrypoint.as_deref() {
        let call = Call {
            template: Some(entry),
            inline: None,
            is_ref: false,
            looped: false,
        };
        o.expand(&call, workflow, workflow, 0, &mut Vec::new());
    }
    o.nodes
}

/// What a step or task calls.
struct Call<'a> {
    template: Option<&'a str>,
    inline: Option<&'a Template>,
    is_ref: bool,
    looped: bool,
}

impl<'a> Call<'a> {
    fn of_step(s: &'a WorkflowStep) -> Self {
        Self {
            template: s.template.as_deref(),
            inline: s.inline.as_deref(),
            is_ref: s.template_ref.is_some(),
            looped: s.with_items.is_some() || s.with_param.is_some() || s.with_sequence.is_some(),
        }
    }

    fn of_task(t: &'a DAGTask) -> Self {
        Self {
            template: t.template.as_deref(),
            inline: t.inline.as_deref(),
            is_ref: t.template_ref.is_some(),
            looped: t.with_items.is_some() || t.with_param.is_some() || t.with_sequence.is_some(),
        }
    }
}

struct Outliner<'a> {
    templates: BTreeMap<&'a str, &'a Template>,
    nodes: Vec<PlannedNode>,
    index: BTreeMap<String, usize>,
}

impl<'a> Outliner<'a> {
    fn add(&mut self, name: &str, display: &str, kind: NodeType, template: Option<&str>) -> usize {
        let i = self.nodes.len();
        self.nodes.push(PlannedNode {
            name: name.to_string(),
            display_name: display.to_string(),
            kind,
            template: template.map(str::to_string),
            children: Vec::new(),
            looped: false,
        });
        self.index.insert(name.to_string(), i);
        i
    }

    fn link(&mut self, from: &[String], to: &str) {
        for f in from {
            if let Some(&i) = self.index.get(f)
                && !self.nodes[i].children.iter().any(|c| c == to)
            {
                self.nodes[i].children.push(to.to_string());
            }
        }
    }

    /// Adds the node `name` running `call` and what it contains; returns its outbound nodes (the
    /// last ones inside it, which the next steps follow).
    fn expand(
        &mut self,
        call: &Call<'a>,
        name: &str,
        display: &str,
        depth: usize,
        stack: &mut Vec<&'a str>,
    ) -> Vec<String> {
        let template = call
            .inline
            .or_else(|| call.template.and_then(|t| self.templates.get(t).copied()));
        let label = call
            .template
            .or(call.template.is_none().then_some("inline"));
        let recursive = call.template.is_some_and(|t| stack.contains(&t));
        let Some(t) = template.filter(|_| !call.is_ref && !recursive) else {
            let i = self.add(name, display, NodeType::Pod, label);
            self.nodes[i].looped = call.looped;
            return vec![name.to_string()];
        };
        let kind = kind_of(t);
        let i = self.add(name, display, kind, t.name.as_deref().or(label));
        self.nodes[i].looped = call.looped;
        let nested = matches!(kind, NodeType::Steps | NodeType::Dag);
        if !nested || depth >= MAX_DEPTH || self.nodes.len() >= MAX_NODES {
            return vec![name.to_string()];
        }
        if let Some(n) = call.template {
            stack.push(n);
        }
        let out = match (&t.steps, &t.dag) {
            (Some(groups), _) => self.steps(groups, name, depth, stack),
            (None, Some(dag)) => {
                self.dag(dag.tasks.as_deref().unwrap_or_default(), name, depth, stack)
            }
            _ => vec![name.to_string()],
        };
        if call.template.is_some() {
            stack.pop();
        }
        out
    }

    fn steps(
        &mut self,
        groups: &'a [Vec<WorkflowStep>],
        name: &str,
        depth: usize,
        stack: &mut Vec<&'a str>,
    ) -> Vec<String> {
        let mut prev = vec![name.to_string()];
        for (i, group) in groups.iter().enumerate() {
            let sg = format!("{name}[{i}]");
            self.add(&sg, &format!("[{i}]"), NodeType::StepGroup, None);
            self.link(&prev, &sg);
            let mut outbound = Vec::new();
            for step in group {
                let sname = step.name.as_deref().unwrap_or_default();
                let child = format!("{sg}.{sname}");
                self.link(std::slice::from_ref(&sg), &child);
                outbound.extend(self.expand(&Call::of_step(step), &child, sname, depth + 1, stack));
            }
            prev = if outbound.is_empty() {
                vec![sg]
            } else {
                outbound
            };
        }
        prev
    }

    fn dag(
        &mut self,
        tasks: &'a [DAGTask],
        name: &str,
        depth: usize,
        stack: &mut Vec<&'a str>,
    ) -> Vec<String> {
        let mut outbound_of: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        let mut has_dependents: BTreeMap<&str, bool> = BTreeMap::new();
        let deps: Vec<Vec<String>> = tasks.iter().map(dependencies).collect();
        for (task, deps) in tasks.iter().zip(&deps) {
            let tname = task.name.as_deref().unwrap_or_default();
            let child = format!("{name}.{tname}");
            let out = self.expand(&Call::of_task(task), &child, tname, depth + 1, stack);
            outbound_of.insert(tname, out);
            has_dependents.entry(tname).or_insert(false);
            for d in deps {
                if let Some(flag) = has_dependents.get_mut(d.as_str()) {
                    *flag = true;
                }
            }
        }
        for (task, deps) in tasks.iter().zip(&deps) {
            let child = format!("{name}.{}", task.name.as_deref().unwrap_or_default());
            let known: Vec<&String> = deps
                .iter()
                .filter(|d| outbound_of.contains_key(d.as_str()))
                .collect();
            if known.is_empty() {
                self.link(&[name.to_string()], &child);
            }
            for d in known {
                let from = outbound_of[d.as_str()].clone();
                self.link(&from, &child);
            }
        }
        tasks
            .iter()
            .filter_map(|t| t.name.as_deref())
            .filter(|t| !has_dependents.get(t).copied().unwrap_or(false))
            .flat_map(|t| outbound_of.get(t).cloned().unwrap_or_default())
            .collect()
    }
}

/// The tasks a DAG task waits for (`dependencies` or the names in `depends`).
fn dependencies(task: &DAGTask) -> Vec<String> {
    if let Some(d) = task.depends.as_deref() {
        return parse_depends(d)
            .map(|d| d.task_names().into_iter().map(str::to_string).collect())
            .unwrap_or_default();
    }
    task.dependencies.clone().unwrap_or_default()
}

/// The node type a template creates.
fn kind_of(t: &Template) -> NodeType {
    if t.steps.is_some() {
        NodeType::Steps
    } else if t.dag.is_some() {
        NodeType::Dag
    } else if t.suspend.is_some() {
        NodeType::Suspend
    } else if t.http.is_some() {
        NodeType::Http
    } else if t.plugin.is_some() {
        NodeType::Plugin
    } else {
        NodeType::Pod
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Workflow;

    fn spec(yaml: &str) -> WorkflowSpec {
        let json = crate::yaml::to_json(&crate::parse::parse_file(yaml).documents[0].node);
        let wf: Workflow = serde_json::from_value(json).unwrap();
        wf.spec.unwrap()
    }

    fn edges(nodes: &[PlannedNode]) -> Vec<String> {
        nodes
            .iter()
            .flat_map(|n| n.children.iter().map(move |c| format!("{} -> {c}", n.name)))
            .collect()
    }

    #[test]
    fn steps_are_named_and_linked_as_plan_links_them() {
        let s = spec(
            "kind: Workflow\nspec:\n  entrypoint: main\n  templates:\n  - name: main\n    steps:\n    - - {name: a, template: t}\n      - {name: b, template: t}\n    - - {name: c, template: t, withItems: [1, 2]}\n  - name: t\n    container: {image: alpine}\n",
        );
        let nodes = outline("wf", &s);
        let names: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(
            names,
            ["wf", "wf[0]", "wf[0].a", "wf[0].b", "wf[1]", "wf[1].c"]
        );
        assert_eq!(nodes[0].kind, NodeType::Steps);
        assert_eq!(nodes[1].kind, NodeType::StepGroup);
        assert!(nodes[5].looped);
        assert_eq!(
            edges(&nodes),
            [
                "wf -> wf[0]",
                "wf[0] -> wf[0].a",
                "wf[0] -> wf[0].b",
                "wf[0].a -> wf[1]",
                "wf[0].b -> wf[1]",
                "wf[1] -> wf[1].c"
            ]
        );
    }

    #[test]
    fn dag_tasks_follow_their_dependencies_and_nested_templates_expand() {
        let s = spec(
            "kind: Workflow\nspec:\n  entrypoint: main\n  templates:\n  - name: main\n    dag:\n      tasks:\n      - {name: a, template: inner}\n      - {name: b, template: t, depends: a.Succeeded || a.Failed}\n      - {name: c, template: t, dependencies: [a]}\n      - {name: gate, template: wait, dependencies: [b, c]}\n  - name: inner\n    steps:\n    - - {name: x, template: t}\n  - name: t\n    container: {image: alpine}\n  - name: wait\n    suspend: {}\n",
        );
        let nodes = outline("wf", &s);
        assert_eq!(
            edges(&nodes),
            [
                "wf -> wf.a",
                "wf.a -> wf.a[0]",
                "wf.a[0] -> wf.a[0].x",
                "wf.a[0].x -> wf.b",
                "wf.a[0].x -> wf.c",
                "wf.b -> wf.gate",
                "wf.c -> wf.gate"
            ]
        );
        let gate = nodes.iter().find(|n| n.name == "wf.gate").unwrap();
        assert_eq!(gate.kind, NodeType::Suspend);
    }

    #[test]
    fn recursion_template_refs_and_missing_templates_stay_leaves() {
        let s = spec(
            "kind: Workflow\nspec:\n  entrypoint: main\n  templates:\n  - name: main\n    steps:\n    - - {name: again, template: main, when: 'false'}\n      - {name: remote, templateRef: {name: lib, template: build}}\n",
        );
        let nodes = outline("wf", &s);
        let names: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["wf", "wf[0]", "wf[0].again", "wf[0].remote"]);
        assert!(nodes[2].children.is_empty() && nodes[3].children.is_empty());
        assert!(outline("wf", &WorkflowSpec::default()).is_empty());
    }
}

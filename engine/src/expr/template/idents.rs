//! What an expression tag needs from its scope, the way Argo works it out
//! (`util/template/expression_template.go`): the variables and member paths it reads (those
//! guarded by `??` or `?.` excepted), the environment built from the scope's dotted keys, and
//! which of the variables that environment lacks.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde_json::{Map, Value as Json};

use super::Scope;
use crate::expr::argo::ENV_FUNCTIONS;
use crate::expr::ast::{BinaryOp, Node, NodeKind};

/// The variables and member paths (`inputs`, `inputs.parameters`, `inputs.parameters.x`)
/// `node` reads, in the order Argo's visitor finds them, without duplicates.
pub(crate) fn identifiers(node: &Node) -> Vec<String> {
    let mut guarded = HashSet::new();
    mark_guarded(node, &mut guarded);
    let mut let_names = HashSet::new();
    let mut found = Vec::new();
    visit(node, &guarded, &mut let_names, &mut found);
    let mut seen = HashSet::new();
    found
        .into_iter()
        .filter(|id| !let_names.contains(id.split('.').next().unwrap_or(id)))
        .filter(|id| seen.insert(id.clone()))
        .collect()
}

/// Member nodes whose absence the expression handles itself: everything left of `??`, and the
/// receiver of an `?.`.
fn mark_guarded(node: &Node, guarded: &mut HashSet<*const Node>) {
    match &node.kind {
        NodeKind::Binary(BinaryOp::Coalesce, left, _) => mark_members(left, guarded),
        NodeKind::Member {
            base,
            optional: true,
            ..
        } => {
            if matches!(base.kind, NodeKind::Member { .. }) {
                guarded.insert(&**base as *const Node);
            }
        }
        _ => {}
    }
    for child in node.kind.children() {
        mark_guarded(child, guarded);
    }
}

fn mark_members(node: &Node, guarded: &mut HashSet<*const Node>) {
    if matches!(node.kind, NodeKind::Member { .. }) {
        guarded.insert(node as *const Node);
    }
    for child in node.kind.children() {
        mark_members(child, guarded);
    }
}

fn visit(
    node: &Node,
    guarded: &HashSet<*const Node>,
    let_names: &mut HashSet<String>,
    found: &mut Vec<String>,
) {
    for child in node.kind.children() {
        visit(child, guarded, let_names, found);
    }
    if guarded.contains(&(node as *const Node)) {
        return;
    }
    match &node.kind {
        NodeKind::Ident(name) => found.push(name.clone()),
        NodeKind::Member { .. } => found.extend(member_path(node)),
        NodeKind::Let { name, .. } => {
            let_names.insert(name.clone());
        }
        _ => {}
    }
}

/// `a.b.c` for a chain of non-optional members with literal names on an identifier.
fn member_path(node: &Node) -> Option<String> {
    let mut parts = Vec::new();
    let mut current = node;
    loop {
        match &current.kind {
            NodeKind::Member {
                base,
                prop,
                optional: false,
            } => {
                let NodeKind::Str(name) = &prop.kind else {
                    return None;
                };
                parts.push(name.as_str());
                current = base;
            }
            NodeKind::Ident(root) => {
                parts.push(root.as_str());
                parts.reverse();
                return Some(parts.join("."));
            }
            _ => return None,
        }
    }
}

/// The environment Argo builds from the scope entries under `roots`: dotted keys expanded into
/// nested objects of strings; a key that is also the prefix of another key is dropped.
pub(crate) fn environment<'a>(scope: &Scope, roots: impl IntoIterator<Item = &'a str>) -> Json {
    let mut flat = BTreeMap::new();
    for root in roots {
        scope.collect_root(root, &mut flat);
    }
    let mut env = Map::new();
    for (key, value) in &flat {
        let children = format!("{key}.");
        let has_children = flat
            .range(children.as_str()..)
            .next()
            .is_some_and(|(k, _)| k.starts_with(&children));
        if !has_children {
            insert_path(&mut env, key, value);
        }
    }
    Json::Object(env)
}

fn insert_path(env: &mut Map<String, Json>, key: &str, value: &str) {
    let mut parts = key.split('.').peekable();
    let mut current = env;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            current.insert(part.to_owned(), Json::String(value.to_owned()));
            return;
        }
        let slot = current
            .entry(part.to_owned())
            .or_insert_with(|| Json::Object(Map::new()));
        if !slot.is_object() {
            *slot = Json::Object(Map::new());
        }
        let Json::Object(next) = slot else { return };
        current = next;
    }
}

/// The identifiers the environment lacks (Argo's functions and `$env` count as present).
pub(crate) fn missing(ids: &[String], env: &Json) -> Vec<String> {
    ids.iter().filter(|id| !present(id, env)).cloned().collect()
}

fn present(id: &str, env: &Json) -> bool {
    let mut parts = id.split('.');
    let root = parts.next().unwrap_or(id);
    if root == "$env" || ENV_FUNCTIONS.contains(&root) {
        return true;
    }
    let mut current = match env.get(root) {
        Some(v) => v,
        None => return false,
    };
    for part in parts {
        match current.get(part) {
            Some(v) if current.is_object() => current = v,
            _ => return false,
        }
    }
    true
}

/// The root variable names of `ids`.
pub(crate) fn roots(ids: &[String]) -> BTreeSet<&str> {
    ids.iter()
        .map(|id| id.split('.').next().unwrap_or(id))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::parser::parse;
    use serde_json::json;

    fn ids(src: &str) -> Vec<String> {
        parse(src).map(|n| identifiers(&n)).unwrap_or_default()
    }

    #[test]
    fn identifiers_like_argo() {
        let cases: [(&str, &[&str]); 10] = [
            ("item.requiredKey", &["item", "item.requiredKey"]),
            ("item.optionalKey ?? 'fallback'", &["item"]),
            ("item['optionalKey'] ?? ''", &["item"]),
            ("item?.optionalKey", &["item"]),
            ("item.a?.b", &["item"]),
            (
                "item.requiredKey + (item.optionalKey ?? 'x')",
                &["item", "item.requiredKey"],
            ),
            ("tasks.a.outputs.result ?? 'default'", &["tasks"]),
            ("sprig.upper(item)", &["sprig", "sprig.upper", "item"]),
            ("let x = 1; x + y", &["y"]),
            ("filter(xs, #.a > 1)[0].b", &["xs"]),
        ];
        for (src, want) in cases {
            let mut got = ids(src);
            got.sort();
            let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
            want.sort();
            assert_eq!(got, want, "{src}");
        }
    }

    #[test]
    fn environment_expands_and_drops_conflicts() {
        let scope = Scope::from_iter([
            ("item", "{\"a\":1}"),
            ("item.a", "1"),
            ("inputs.parameters.x", "5"),
            ("inputs.parameters.my-param", "y"),
            ("unrelated", "z"),
        ]);
        let env = environment(&scope, ["item", "inputs"]);
        assert_eq!(
            env,
            json!({"item": {"a": "1"}, "inputs": {"parameters": {"x": "5", "my-param": "y"}}})
        );
    }

    #[test]
    fn presence() {
        let env = json!({"tasks": {"a": {"out": null}}, "s": "x"});
        let ids: Vec<String> = [
            "tasks.a.out",
            "tasks.b",
            "s.x",
            "sprig.upper",
            "asInt",
            "nope",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(missing(&ids, &env), ["tasks.b", "s.x", "nope"]);
        assert_eq!(roots(&ids).len(), 5);
    }
}

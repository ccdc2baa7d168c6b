//! Argo's `fields` query parameter: which parts of a response to keep, so a list of workflows
//! need not carry every node. `fields=metadata,items.metadata.name,items.status.phase` keeps only
//! those paths (with everything below them); a leading `-` (`-items.status.nodes`) removes the
//! listed paths instead. A path goes through arrays: `items.metadata.name` is every item's name.

use serde_json::{Map, Value};

/// Applies a `fields` mask to a response; an empty mask keeps everything.
pub fn apply(value: Value, mask: &str) -> Value {
    let mask = mask.trim();
    if mask.is_empty() {
        return value;
    }
    if let Some(excluded) = mask.strip_prefix('-') {
        let mut value = value;
        for path in paths(excluded) {
            remove(&mut value, &path);
        }
        return value;
    }
    let included = paths(mask);
    keep(
        value,
        &included.iter().map(|p| p.as_slice()).collect::<Vec<_>>(),
    )
}

fn paths(list: &str) -> Vec<Vec<&str>> {
    list.split(',')
        .map(|p| p.trim().trim_start_matches('-'))
        .filter(|p| !p.is_empty())
        .map(|p| p.split('.').collect())
        .collect()
}

fn remove(value: &mut Value, path: &[&str]) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(|v| remove(v, path)),
        Value::Object(map) => match path {
            [] => {}
            [last] => {
                map.remove(*last);
            }
            [first, rest @ ..] => {
                if let Some(v) = map.get_mut(*first) {
                    remove(v, rest);
                }
            }
        },
        _ => {}
    }
}

/// Keeps the parts of `value` that some path names (an empty path keeps all of it).
fn keep(value: Value, paths: &[&[&str]]) -> Value {
    if paths.iter().any(|p| p.is_empty()) {
        return value;
    }
    match value {
        Value::Array(items) => Value::Array(items.into_iter().map(|v| keep(v, paths)).collect()),
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                let below: Vec<&[&str]> = paths
                    .iter()
                    .filter(|p| p[0] == k)
                    .map(|p| &p[1..])
                    .collect();
                if !below.is_empty() {
                    out.insert(k, keep(v, &below));
                }
            }
            Value::Object(out)
        }
        // A path that goes below a scalar keeps nothing of it.
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn list() -> Value {
        json!({
            "metadata": {"continue": "x"},
            "items": [
                {"metadata": {"name": "a", "uid": "1"}, "status": {"phase": "Running", "nodes": {"n": {}}}},
                {"metadata": {"name": "b", "uid": "2"}, "status": {"phase": "Failed"}}
            ]
        })
    }

    #[test]
    fn inclusion_keeps_only_the_named_paths_through_arrays() {
        let got = apply(list(), "metadata,items.metadata.name,items.status.phase");
        assert_eq!(
            got,
            json!({
                "metadata": {"continue": "x"},
                "items": [
                    {"metadata": {"name": "a"}, "status": {"phase": "Running"}},
                    {"metadata": {"name": "b"}, "status": {"phase": "Failed"}}
                ]
            })
        );
    }

    #[test]
    fn exclusion_removes_the_named_paths() {
        let got = apply(list(), "-items.status.nodes,items.metadata.uid");
        assert_eq!(
            got["items"][0],
            json!({"metadata": {"name": "a"}, "status": {"phase": "Running"}})
        );
        assert_eq!(got["metadata"], json!({"continue": "x"}));
    }

    #[test]
    fn an_empty_mask_keeps_everything() {
        assert_eq!(apply(list(), " "), list());
    }
}

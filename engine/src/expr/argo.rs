//! The functions Argo adds to expr-lang's environment (`util/expr/env`): `asInt`, `asFloat`,
//! `toJson` and `jsonpath`.

use serde_json::Value as Json;
use serde_json_path::JsonPath;

use super::args::{arity, go_string};
use super::builtins::{json_text, to_float, to_int};
use super::error::Fail;
use super::value::Value;

/// The names Argo puts in the environment besides the variables (`sprig` is the sprig library).
pub(crate) const ENV_FUNCTIONS: [&str; 5] = ["asInt", "asFloat", "jsonpath", "toJson", "sprig"];

/// Calls Argo's function `name`, or returns `None` if there is no such function.
pub(crate) fn call(name: &str, args: &[Value]) -> Option<Result<Value, Fail>> {
    let result = match name {
        "asInt" => arity("asInt", args, 1, 1).and_then(|()| to_int(&args[0])),
        "asFloat" => arity("asFloat", args, 1, 1).and_then(|()| to_float(&args[0])),
        "toJson" => json_text("toJson", args, ""),
        "jsonpath" => jsonpath(args),
        _ => return None,
    };
    Some(result)
}

/// `jsonpath(json, path)`: the value at `path` when the path can select at most one node (only
/// names and indices), else the array of the selected values — like the Go library Argo uses.
fn jsonpath(args: &[Value]) -> Result<Value, Fail> {
    arity("jsonpath", args, 2, 2)?;
    let text = go_string("jsonpath", args, 0)?;
    let path = go_string("jsonpath", args, 1)?;
    let doc: Json = serde_json::from_str(text)
        .map_err(|e| Fail::Msg(format!("jsonpath: the document is not JSON: {e}")))?;
    let query = JsonPath::parse(path)
        .map_err(|e| Fail::Msg(format!("jsonpath: invalid path {path:?}: {e}")))?;
    let nodes = query.query(&doc).all();
    if is_singular(path) {
        let node = nodes
            .first()
            .ok_or_else(|| Fail::Msg(format!("jsonpath: {path:?} selects nothing")))?;
        return Value::from_parsed_json(node).map_err(Fail::Msg);
    }
    let items = nodes
        .into_iter()
        .map(Value::from_parsed_json)
        .collect::<Result<Vec<_>, _>>()
        .map_err(Fail::Msg)?;
    Ok(Value::array(items))
}

/// Whether a valid path can select at most one node. RFC 9535 only allows such "singular"
/// queries in filter comparisons, so the parser answers the question.
fn is_singular(path: &str) -> bool {
    JsonPath::parse(&format!("$[?{path} == 0]")).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn singular_paths() {
        for p in ["$", "$.a", "$.a.b[0]", "$['x y'][-1]"] {
            assert!(is_singular(p), "{p}");
        }
        for p in ["$.a[*]", "$..a", "$.a[0:1]", "$.a[0,1]", "$.a[?@.b]"] {
            assert!(!is_singular(p), "{p}");
        }
    }
}

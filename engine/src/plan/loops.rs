//! `withItems`, `withParam` and `withSequence`: expanding one step or task into many.

use serde_json::Value;

use crate::model::{Item, Sequence};

use super::scope::Vars;

/// One iteration: its node-name suffix `(i:label)` and its item.
pub(crate) struct Iteration {
    pub suffix: String,
    pub item: Value,
}

/// The loop of a step or task, if it has one.
pub(crate) enum Loop<'a> {
    Items(&'a [Item]),
    Param(&'a str),
    Sequence(&'a Sequence),
}

/// Expands a loop into its iterations.
pub(crate) fn expand(l: Loop<'_>) -> Result<Vec<Iteration>, String> {
    let items: Vec<Value> = match l {
        Loop::Items(items) => items.to_vec(),
        Loop::Param(text) => match serde_json::from_str::<Value>(text.trim()) {
            Ok(Value::Array(a)) => a,
            _ => {
                return Err(format!(
                    "withParam value could not be parsed as a JSON list: {}",
                    text.trim()
                ));
            }
        },
        Loop::Sequence(s) => sequence(s)?,
    };
    Ok(items
        .into_iter()
        .enumerate()
        .map(|(i, item)| Iteration {
            suffix: format!("({i}:{})", label(&item).replace(['(', ')'], "")),
            item,
        })
        .collect())
}

/// How Argo prints an item in a node name: strings bare, everything else as compact JSON.
fn label(item: &Value) -> String {
    match item {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn int_of(
    v: &Option<k8s_openapi::apimachinery::pkg::util::intstr::IntOrString>,
) -> Result<Option<i64>, String> {
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
    match v {
        None => Ok(None),
        Some(IntOrString::Int(i)) => Ok(Some(i64::from(*i))),
        Some(IntOrString::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("withSequence: \"{s}\" is not a number")),
    }
}

const MAX_ITEMS: i64 = 100_000;

fn sequence(s: &Sequence) -> Result<Vec<Value>, String> {
    let start = int_of(&s.start)?;
    let count = int_of(&s.count)?;
    let end = int_of(&s.end)?;
    let (from, to): (i64, i64) = match (count, end) {
        (Some(_), Some(_)) => {
            return Err("withSequence: only one of count or end can be defined".into());
        }
        (Some(c), None) => {
            if c <= 0 {
                return Ok(Vec::new());
            }
            let from = start.unwrap_or(0);
            (from, from.saturating_add(c - 1))
        }
        (None, Some(e)) => (start.unwrap_or(0), e),
        (None, None) => return Err("withSequence: must define one of count or end".into()),
    };
    if from.abs_diff(to) >= MAX_ITEMS as u64 {
        return Err(format!("withSequence: more than {MAX_ITEMS} items"));
    }
    let values: Vec<i64> = if from <= to {
        (from..=to).collect()
    } else {
        (to..=from).rev().collect()
    };
    values
        .into_iter()
        .map(|i| format_item(i, s.format.as_deref()))
        .collect()
}

/// Formats a sequence number with a printf-style `format` (`%d`, `%02d`, `%x`, `%s`…).
fn format_item(i: i64, format: Option<&str>) -> Result<Value, String> {
    let Some(f) = format else {
        return Ok(Value::String(i.to_string()));
    };
    let Some(pos) = f.find('%') else {
        return Ok(Value::String(f.to_string()));
    };
    let rest = &f[pos + 1..];
    let spec_len = rest
        .find(|c: char| c.is_ascii_alphabetic())
        .ok_or_else(|| format!("withSequence: bad format \"{f}\""))?;
    let (flags, verb) = (&rest[..spec_len], &rest[spec_len..=spec_len]);
    let zero = flags.starts_with('0');
    let width: usize = flags.trim_start_matches('0').parse().unwrap_or(0);
    let body = match verb {
        "d" | "s" | "v" => i.to_string(),
        "x" => format!("{i:x}"),
        "X" => format!("{i:X}"),
        "o" => format!("{i:o}"),
        _ => return Err(format!("withSequence: unsupported format \"{f}\"")),
    };
    let padded = if zero {
        format!("{body:0>width$}")
    } else {
        format!("{body:>width$}")
    };
    Ok(Value::String(format!(
        "{}{}{}",
        &f[..pos],
        padded,
        &rest[spec_len + 1..]
    )))
}

/// Adds `item` (and `item.<key>` for maps) to a scope.
pub(crate) fn add_item_vars(v: &mut Vars, item: &Value) {
    v.insert("item", label(item));
    if let Value::Object(m) = item {
        for (k, val) in m {
            v.insert(format!("item.{k}"), label(val));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(json: &str) -> Vec<String> {
        let s: Sequence = serde_json::from_str(json).unwrap();
        sequence(&s)
            .unwrap()
            .into_iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn sequences_count_end_reverse_and_format() {
        assert_eq!(seq(r#"{"count":"3"}"#), ["0", "1", "2"]);
        assert_eq!(seq(r#"{"start":"5","end":"3"}"#), ["5", "4", "3"]);
        assert_eq!(
            seq(r#"{"start":"1","count":2,"format":"v%02d"}"#),
            ["v01", "v02"]
        );
        assert_eq!(seq(r#"{"count":"0"}"#), Vec::<String>::new());
    }

    #[test]
    fn labels_are_bare_strings_or_json_without_parentheses() {
        let its = expand(Loop::Param(r#"["a", {"x": 1}, 2, "f(x)"]"#)).unwrap();
        let s: Vec<&str> = its.iter().map(|i| i.suffix.as_str()).collect();
        assert_eq!(s, ["(0:a)", r#"(1:{"x":1})"#, "(2:2)", "(3:fx)"]);
        assert!(expand(Loop::Param("not json")).is_err());
    }
}

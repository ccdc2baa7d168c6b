//! sprig's default, list and dictionary functions (`sprig.default`, `sprig.list`,
//! `sprig.dict`, …), with sprig's argument order and Go's strict equality.

use std::collections::BTreeMap;

use super::args::{arity, go_string};
use super::ctx::Ctx;
use super::error::Fail;
use super::format::to_json;
use super::sprig::{Func, strval};
use super::value::{Value, deep_equal};

/// The default, list or dictionary function `name`, if it is one.
pub(crate) fn lookup(name: &str) -> Option<Func> {
    Some(match name {
        "default" => default,
        "empty" => |n, a, _| arity(n, a, 1, 1).map(|()| Value::Bool(empty(&a[0]))),
        "coalesce" => |_, a, _| Ok(a.iter().find(|v| !empty(v)).cloned().unwrap_or(Value::Nil)),
        "all" => |_, a, _| Ok(Value::Bool(a.iter().all(|v| !empty(v)))),
        "any" => |_, a, _| Ok(Value::Bool(a.iter().any(|v| !empty(v)))),
        "ternary" => ternary,
        "toJson" => |n, a, _| json(n, a, ""),
        "toPrettyJson" => |n, a, _| json(n, a, "  "),
        "fromJson" => |n, a, _| {
            arity(n, a, 1, 1)?;
            Ok(Value::parse_json(go_string(n, a, 0)?).unwrap_or(Value::Nil))
        },
        "list" => |_, a, _| Ok(Value::array(a.to_vec())),
        "dict" => dict,
        "get" => get,
        "hasKey" => has_key,
        "keys" => keys,
        "values" => values,
        "has" => has,
        "first" | "last" | "rest" | "initial" | "reverse" | "compact" => list_view,
        "append" | "prepend" => push,
        "uniq" => uniq,
        "without" => without,
        _ => return None,
    })
}

fn default(name: &str, args: &[Value], _: &mut Ctx) -> Result<Value, Fail> {
    arity(name, args, 1, usize::MAX)?;
    Ok(match args.get(1) {
        Some(given) if !empty(given) => given.clone(),
        _ => args[0].clone(),
    })
}

fn ternary(name: &str, args: &[Value], _: &mut Ctx) -> Result<Value, Fail> {
    arity(name, args, 3, 3)?;
    match &args[2] {
        Value::Bool(true) => Ok(args[0].clone()),
        Value::Bool(false) | Value::Nil => Ok(args[1].clone()),
        other => Err(format!(
            "{name}: argument 3 must be a bool, not {}",
            other.type_name()
        )
        .into()),
    }
}

fn get(name: &str, args: &[Value], _: &mut Ctx) -> Result<Value, Fail> {
    arity(name, args, 2, 2)?;
    let key = go_string(name, args, 1)?;
    let found = dict_arg(name, args, 0)?.and_then(|d| d.get(key)).cloned();
    Ok(found.unwrap_or_else(|| Value::str("")))
}

fn has_key(name: &str, args: &[Value], _: &mut Ctx) -> Result<Value, Fail> {
    arity(name, args, 2, 2)?;
    let key = go_string(name, args, 1)?;
    Ok(Value::Bool(
        dict_arg(name, args, 0)?.is_some_and(|d| d.contains_key(key)),
    ))
}

fn keys(name: &str, args: &[Value], _: &mut Ctx) -> Result<Value, Fail> {
    let mut keys = Vec::new();
    for i in 0..args.len() {
        let dict = dict_arg(name, args, i)?
            .into_iter()
            .flat_map(BTreeMap::keys);
        keys.extend(dict.map(|k| Value::str(k.as_str())));
    }
    Ok(Value::array(keys))
}

fn values(name: &str, args: &[Value], _: &mut Ctx) -> Result<Value, Fail> {
    arity(name, args, 1, 1)?;
    let dict = dict_arg(name, args, 0)?
        .into_iter()
        .flat_map(BTreeMap::values);
    Ok(Value::array(dict.cloned().collect()))
}

/// `has(needle, list)` with Go's strict deep equality.
fn has(name: &str, args: &[Value], _: &mut Ctx) -> Result<Value, Fail> {
    arity(name, args, 2, 2)?;
    match &args[1] {
        Value::Nil => Ok(Value::Bool(false)),
        Value::Array(items) => Ok(Value::Bool(items.iter().any(|v| deep_equal(&args[0], v)))),
        other => Err(format!("{name}: cannot find has on type {}", other.type_name()).into()),
    }
}

/// `append(list, v)` and `prepend(list, v)`.
fn push(name: &str, args: &[Value], ctx: &mut Ctx) -> Result<Value, Fail> {
    arity(name, args, 2, 2)?;
    let items = list_arg(name, args, 0)?;
    ctx.charge(items.len() + 1)?;
    let mut out = items.to_vec();
    if name.ends_with("append") {
        out.push(args[1].clone());
    } else {
        out.insert(0, args[1].clone());
    }
    Ok(Value::array(out))
}

fn uniq(name: &str, args: &[Value], ctx: &mut Ctx) -> Result<Value, Fail> {
    arity(name, args, 1, 1)?;
    let mut out: Vec<Value> = Vec::new();
    for item in list_arg(name, args, 0)? {
        let mut seen = false;
        for kept in &out {
            ctx.step()?;
            if deep_equal(kept, item) {
                seen = true;
                break;
            }
        }
        if !seen {
            out.push(item.clone());
        }
    }
    Ok(Value::array(out))
}

fn without(name: &str, args: &[Value], _: &mut Ctx) -> Result<Value, Fail> {
    arity(name, args, 1, usize::MAX)?;
    let omit = &args[1..];
    let items = list_arg(name, args, 0)?;
    let kept = items
        .iter()
        .filter(|v| !omit.iter().any(|o| deep_equal(o, v)));
    Ok(Value::array(kept.cloned().collect()))
}

/// sprig's `empty`: nil, zero numbers, false, and empty strings, lists and maps.
pub(crate) fn empty(v: &Value) -> bool {
    match v {
        Value::Nil => true,
        Value::Bool(b) => !b,
        Value::Int(i) => *i == 0,
        Value::Float(f) => *f == 0.0,
        Value::Str(s) => s.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Map(entries) => entries.is_empty(),
    }
}

fn json(name: &str, args: &[Value], indent: &str) -> Result<Value, Fail> {
    arity(name, args, 1, 1)?;
    Ok(Value::str(to_json(&args[0], indent).unwrap_or_default()))
}

fn dict(_: &str, args: &[Value], ctx: &mut Ctx) -> Result<Value, Fail> {
    ctx.charge(args.len() / 2)?;
    let mut out = BTreeMap::new();
    for pair in args.chunks(2) {
        let value = pair.get(1).cloned().unwrap_or_else(|| Value::str(""));
        out.insert(strval(&pair[0]), value);
    }
    Ok(Value::map(out))
}

/// The `i`-th argument as a dict; nil (Go's nil map) is `None`.
fn dict_arg<'a>(
    name: &str,
    args: &'a [Value],
    i: usize,
) -> Result<Option<&'a BTreeMap<String, Value>>, Fail> {
    match args.get(i) {
        Some(Value::Map(entries)) => Ok(Some(entries)),
        Some(Value::Nil) => Ok(None),
        Some(other) => Err(format!(
            "{name}: argument {} must be a dict, not {}",
            i + 1,
            other.type_name()
        )
        .into()),
        None => Err(format!("{name}: missing argument {}", i + 1).into()),
    }
}

fn list_arg<'a>(name: &str, args: &'a [Value], i: usize) -> Result<&'a [Value], Fail> {
    match args.get(i) {
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(format!(
            "{name}: cannot use type {}, it is not a list",
            other.type_name()
        )
        .into()),
        None => Err(format!("{name}: missing argument {}", i + 1).into()),
    }
}

fn list_view(name: &str, args: &[Value], _: &mut Ctx) -> Result<Value, Fail> {
    arity(name, args, 1, 1)?;
    let items = list_arg(name, args, 0)?;
    let op = name.trim_start_matches("sprig.");
    if items.is_empty() && op != "compact" && op != "reverse" {
        return Ok(Value::Nil);
    }
    let n = items.len();
    Ok(match op {
        "first" => items[0].clone(),
        "last" => items[n - 1].clone(),
        "rest" => Value::array(items[1..].to_vec()),
        "initial" => Value::array(items[..n - 1].to_vec()),
        "reverse" => Value::array(items.iter().rev().cloned().collect()),
        _ => Value::array(items.iter().filter(|v| !empty(v)).cloned().collect()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emptiness() {
        assert!(empty(&Value::Nil));
        assert!(empty(&Value::Float(0.0)));
        assert!(!empty(&Value::str(" ")));
        assert!(empty(&Value::array(vec![])));
    }
}

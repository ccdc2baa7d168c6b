//! expr-lang's builtins on arrays and maps (`first`, `keys`, `sort`, `max`, …) and its bitwise
//! functions. Maps iterate in sorted key order (Go's order is random).

use std::collections::BTreeMap;

use super::args::{arity, array};
use super::ctx::Ctx;
use super::error::Fail;
use super::ops::{fetch, less, sort_order};
use super::value::{Value, equal};

/// Calls the collection builtin `name`, or returns `None` if there is no such builtin.
pub(crate) fn call(name: &str, args: &[Value], ctx: &mut Ctx) -> Option<Result<Value, Fail>> {
    let f: fn(&[Value], &mut Ctx) -> Result<Value, Fail> = match name {
        "first" => |a, _| end("first", a, false),
        "last" => |a, _| end("last", a, true),
        "get" => get,
        "take" => take,
        "keys" => |a, _| map_parts("keys", a, |k, _| Value::str(k)),
        "values" => |a, _| map_parts("values", a, |_, v| v.clone()),
        "toPairs" => |a, _| {
            map_parts("toPairs", a, |k, v| {
                Value::array(vec![Value::str(k), v.clone()])
            })
        },
        "fromPairs" => from_pairs,
        "reverse" => |a, _| {
            arity("reverse", a, 1, 1)?;
            Ok(Value::array(
                array("reverse", a, 0)?.iter().rev().cloned().collect(),
            ))
        },
        "uniq" => uniq,
        "concat" => concat,
        "flatten" => |a, _| {
            arity("flatten", a, 1, 1)?;
            let mut out = Vec::new();
            flatten_into(array("flatten", a, 0)?, &mut out);
            Ok(Value::array(out))
        },
        "sort" => sort,
        "max" => |a, _| extreme("max", a, true),
        "min" => |a, _| extreme("min", a, false),
        "mean" => |a, _| {
            let values = numbers("mean", a)?;
            let n = values.len().max(1) as f64;
            Ok(Value::Float(values.iter().sum::<f64>() / n))
        },
        "median" => median,
        "bitnot" => |a, _| {
            arity("bitnot", a, 1, 1)?;
            Ok(Value::Int(!bit_arg("bitnot", a, 0)?))
        },
        "bitand" | "bitor" | "bitxor" | "bitnand" | "bitshl" | "bitshr" | "bitushr" => {
            return Some(bits(name, args));
        }
        _ => return None,
    };
    Some(f(args, ctx))
}

fn end(name: &str, args: &[Value], last: bool) -> Result<Value, Fail> {
    arity(name, args, 1, 1)?;
    let len = match &args[0] {
        Value::Array(items) => items.len(),
        Value::Str(s) => s.len(),
        _ => return Ok(Value::Nil),
    };
    if len == 0 {
        return Ok(Value::Nil);
    }
    let index = if last { -1 } else { 0 };
    Ok(fetch(&args[0], &Value::Int(index)).unwrap_or(Value::Nil))
}

fn get(args: &[Value], _: &mut Ctx) -> Result<Value, Fail> {
    arity("get", args, 2, usize::MAX)?;
    match (&args[0], &args[1]) {
        (Value::Array(_) | Value::Str(_), i) if i.as_int().is_none() => {
            Err(format!("get: cannot use {} as an index", i.type_name()).into())
        }
        (Value::Array(_) | Value::Str(_) | Value::Map(_), key) => {
            Ok(fetch(&args[0], key).unwrap_or(Value::Nil))
        }
        _ => Ok(Value::Nil),
    }
}

fn take(args: &[Value], _: &mut Ctx) -> Result<Value, Fail> {
    arity("take", args, 2, 2)?;
    let items = array("take", args, 0)?;
    let n = match &args[1] {
        Value::Int(n) if *n >= 0 => usize::try_from(*n).unwrap_or(usize::MAX),
        other => {
            return Err(format!("cannot take {} elements", other.type_name()).into());
        }
    };
    Ok(Value::array(items[..n.min(items.len())].to_vec()))
}

fn map_parts(name: &str, args: &[Value], f: fn(&str, &Value) -> Value) -> Result<Value, Fail> {
    arity(name, args, 1, 1)?;
    match &args[0] {
        Value::Map(entries) => Ok(Value::array(entries.iter().map(|(k, v)| f(k, v)).collect())),
        other => Err(format!("{name}: cannot use {}, it is not a map", other.type_name()).into()),
    }
}

fn from_pairs(args: &[Value], _: &mut Ctx) -> Result<Value, Fail> {
    arity("fromPairs", args, 1, 1)?;
    let mut out = BTreeMap::new();
    for pair in array("fromPairs", args, 0)? {
        let Value::Array(kv) = pair else {
            return Err(format!("fromPairs: invalid pair {}", super::format::sprint(pair)).into());
        };
        match kv.as_slice() {
            [Value::Str(k), v] => {
                out.insert(k.to_string(), v.clone());
            }
            [k, _] => {
                return Err(
                    format!("fromPairs: keys must be strings, not {}", k.type_name()).into(),
                );
            }
            _ => return Err(format!("fromPairs: invalid pair length {}", kv.len()).into()),
        }
    }
    Ok(Value::map(out))
}

fn uniq(args: &[Value], ctx: &mut Ctx) -> Result<Value, Fail> {
    arity("uniq", args, 1, 1)?;
    let mut out: Vec<Value> = Vec::new();
    for item in array("uniq", args, 0)? {
        let mut seen = false;
        for kept in &out {
            ctx.step()?;
            if equal(kept, item) {
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

fn concat(args: &[Value], ctx: &mut Ctx) -> Result<Value, Fail> {
    arity("concat", args, 1, usize::MAX)?;
    let mut out = Vec::new();
    for i in 0..args.len() {
        let items = array("concat", args, i)?;
        ctx.charge(items.len())?;
        out.extend(items.iter().cloned());
    }
    Ok(Value::array(out))
}

fn flatten_into(items: &[Value], out: &mut Vec<Value>) {
    for item in items {
        match item {
            Value::Array(inner) => flatten_into(inner, out),
            other => out.push(other.clone()),
        }
    }
}

fn sort(args: &[Value], _: &mut Ctx) -> Result<Value, Fail> {
    arity("sort", args, 1, 2)?;
    let desc = match args.get(1) {
        None => false,
        Some(Value::Str(s)) if &**s == "asc" => false,
        Some(Value::Str(s)) if &**s == "desc" => true,
        Some(Value::Str(s)) => {
            return Err(format!("invalid order {s}, expected asc or desc").into());
        }
        Some(other) => {
            return Err(format!(
                "sort order argument must be a string (got {})",
                other.type_name()
            )
            .into());
        }
    };
    let items = array("sort", args, 0)?;
    let keyed: Vec<(Value, Value)> = items.iter().map(|v| (v.clone(), v.clone())).collect();
    sort_keyed(keyed, desc).map(Value::array)
}

/// Sorts values by their keys with expr-lang's `<` (numbers with numbers, strings with strings).
pub(crate) fn sort_keyed(mut keyed: Vec<(Value, Value)>, desc: bool) -> Result<Vec<Value>, Fail> {
    for pair in keyed.windows(2) {
        less(&pair[0].0, &pair[1].0)?;
    }
    keyed.sort_by(|a, b| {
        let ord = sort_order(&a.0, &b.0);
        if desc { ord.reverse() } else { ord }
    });
    Ok(keyed.into_iter().map(|(_, v)| v).collect())
}

/// Every number in the arguments, arrays flattened.
fn collect_numbers(name: &str, v: &Value, out: &mut Vec<Value>) -> Result<(), Fail> {
    match v {
        Value::Int(_) | Value::Float(_) => out.push(v.clone()),
        Value::Array(items) => {
            for item in items.iter() {
                collect_numbers(name, item, out)?;
            }
        }
        other => {
            return Err(format!("invalid argument for {name} (type {})", other.type_name()).into());
        }
    }
    Ok(())
}

fn numbers(name: &str, args: &[Value]) -> Result<Vec<f64>, Fail> {
    let mut out = Vec::new();
    for a in args {
        collect_numbers(name, a, &mut out)?;
    }
    Ok(out.iter().filter_map(Value::as_f64).collect())
}

fn extreme(name: &str, args: &[Value], max: bool) -> Result<Value, Fail> {
    arity(name, args, 1, usize::MAX)?;
    if let [single] = args
        && !matches!(single, Value::Int(_) | Value::Float(_) | Value::Array(_))
    {
        return Ok(single.clone());
    }
    let mut all = Vec::new();
    for a in args {
        collect_numbers(name, a, &mut all)?;
    }
    let mut best: Option<Value> = None;
    for v in all {
        let better = match &best {
            None => true,
            Some(b) if max => less(b, &v)?,
            Some(b) => less(&v, b)?,
        };
        if better {
            best = Some(v);
        }
    }
    Ok(best.unwrap_or(Value::Nil))
}

fn median(args: &[Value], _: &mut Ctx) -> Result<Value, Fail> {
    let mut values = numbers("median", args)?;
    values.sort_by(f64::total_cmp);
    let n = values.len();
    Ok(Value::Float(match n {
        0 => 0.0,
        _ if n % 2 == 1 => values[n / 2],
        _ => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }))
}

fn bit_arg(name: &str, args: &[Value], i: usize) -> Result<i64, Fail> {
    match args.get(i) {
        Some(Value::Int(n)) => Ok(*n),
        Some(other) => Err(format!(
            "cannot use {} as argument (type int) to call {name}",
            other.type_name()
        )
        .into()),
        None => Err(format!("{name}: missing argument {}", i + 1).into()),
    }
}

fn bits(name: &str, args: &[Value]) -> Result<Value, Fail> {
    arity(name, args, 2, 2)?;
    let x = bit_arg(name, args, 0)?;
    let y = bit_arg(name, args, 1)?;
    let shift = || {
        if y < 0 {
            Err(Fail::Msg(format!(
                "invalid operation: negative shift count {y} (type int)"
            )))
        } else {
            Ok(u32::try_from(y).unwrap_or(u32::MAX))
        }
    };
    Ok(Value::Int(match name {
        "bitand" => x & y,
        "bitor" => x | y,
        "bitxor" => x ^ y,
        "bitnand" => x & !y,
        "bitshl" => x.checked_shl(shift()?).unwrap_or(0),
        "bitshr" => x
            .checked_shr(shift()?)
            .unwrap_or(if x < 0 { -1 } else { 0 }),
        _ => (x as u64).checked_shr(shift()?).unwrap_or(0) as i64,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(v: &[i64]) -> Value {
        Value::array(v.iter().copied().map(Value::Int).collect())
    }

    #[test]
    fn sorting_rejects_mixed_types() {
        let mixed = Value::array(vec![Value::Int(1), Value::str("a")]);
        assert!(sort(&[mixed], &mut Ctx::default()).is_err());
        let desc = sort(&[ints(&[1, 3, 2]), Value::str("desc")], &mut Ctx::default());
        assert_eq!(desc, Ok(ints(&[3, 2, 1])));
    }

    #[test]
    fn shifts_past_the_width() {
        let r = |n: &str, x: i64, y: i64| bits(n, &[Value::Int(x), Value::Int(y)]);
        assert_eq!(r("bitshl", 1, 64), Ok(Value::Int(0)));
        assert_eq!(r("bitshr", -8, 70), Ok(Value::Int(-1)));
        assert_eq!(r("bitushr", -1, 63), Ok(Value::Int(1)));
        assert!(r("bitshl", 1, -1).is_err());
    }

    #[test]
    fn uniq_is_bounded_by_steps() {
        let big = Value::array((0..5000).map(Value::Int).collect());
        let r = uniq(&[big], &mut Ctx::default());
        assert!(matches!(r, Err(Fail::Limit(_))));
    }
}

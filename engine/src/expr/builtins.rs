//! expr-lang's builtin functions on strings, numbers and conversions, with Go's semantics
//! (byte offsets for `indexOf`, rune counts for `len`, `strconv` parsing for `int`/`float`).
//! The collection builtins are in [`super::collections`].

use super::args::{arity, int, string};
use super::codec::{b64_decode, b64_encode};
use super::ctx::Ctx;
use super::error::Fail;
use super::format::{sprint, to_json};
use super::value::Value;

/// Calls the builtin `name`, or returns `None` if there is no such builtin.
pub(crate) fn call(name: &str, args: &[Value], ctx: &mut Ctx) -> Option<Result<Value, Fail>> {
    let f: fn(&[Value], &mut Ctx) -> Result<Value, Fail> = match name {
        "len" => len,
        "type" => |a, _| one("type", a).map(|v| Value::str(v.type_name())),
        "abs" => abs,
        "ceil" => |a, _| rounding("ceil", a, f64::ceil),
        "floor" => |a, _| rounding("floor", a, f64::floor),
        "round" => |a, _| rounding("round", a, f64::round),
        "int" => |a, _| to_int(one("int", a)?),
        "float" => |a, _| to_float(one("float", a)?),
        "string" => |a, _| one("string", a).map(|v| Value::str(sprint(v))),
        "trim" => trim,
        "trimPrefix" => |a, _| strip("trimPrefix", a, |s, p| s.strip_prefix(p)),
        "trimSuffix" => |a, _| strip("trimSuffix", a, |s, p| s.strip_suffix(p)),
        "upper" => |a, _| Ok(Value::str(go_upper(string("upper", a, 0)?))),
        "lower" => |a, _| Ok(Value::str(go_lower(string("lower", a, 0)?))),
        "split" => |a, _| split("split", a, false),
        "splitAfter" => |a, _| split("splitAfter", a, true),
        "replace" => replace,
        "repeat" => repeat,
        "join" => join,
        "indexOf" => |a, _| find("indexOf", a, |s, t| s.find(t)),
        "lastIndexOf" => |a, _| find("lastIndexOf", a, |s, t| s.rfind(t)),
        "hasPrefix" => |a, _| test2("hasPrefix", a, |s, t| s.starts_with(t)),
        "hasSuffix" => |a, _| test2("hasSuffix", a, |s, t| s.ends_with(t)),
        "toJSON" => |a, _| json_text("toJSON", a, "  "),
        "fromJSON" => |a, _| from_json("fromJSON", a),
        "toBase64" => |a, _| Ok(Value::str(b64_encode(string("toBase64", a, 0)?.as_bytes()))),
        "fromBase64" => from_base64,
        "now" | "duration" | "date" | "timezone" => {
            return Some(Err(format!(
                "{name}() is not supported: Trellis expressions have no clock or time values"
            )
            .into()));
        }
        _ => return super::collections::call(name, args, ctx),
    };
    Some(f(args, ctx))
}

fn one<'a>(name: &str, args: &'a [Value]) -> Result<&'a Value, Fail> {
    arity(name, args, 1, 1)?;
    Ok(&args[0])
}

fn len(args: &[Value], _: &mut Ctx) -> Result<Value, Fail> {
    let n = match one("len", args)? {
        Value::Str(s) => s.chars().count(),
        Value::Array(items) => items.len(),
        Value::Map(entries) => entries.len(),
        other => {
            return Err(format!("invalid argument for len (type {})", other.type_name()).into());
        }
    };
    Ok(Value::Int(i64::try_from(n).unwrap_or(i64::MAX)))
}

fn abs(args: &[Value], _: &mut Ctx) -> Result<Value, Fail> {
    match one("abs", args)? {
        Value::Int(i) => Ok(Value::Int(i.wrapping_abs())),
        Value::Float(f) => Ok(Value::Float(f.abs())),
        other => Err(format!("invalid argument for abs (type {})", other.type_name()).into()),
    }
}

fn rounding(name: &str, args: &[Value], f: fn(f64) -> f64) -> Result<Value, Fail> {
    match one(name, args)? {
        Value::Int(i) => Ok(Value::Float(*i as f64)),
        Value::Float(x) => Ok(Value::Float(f(*x))),
        other => Err(format!("invalid argument for {name} (type {})", other.type_name()).into()),
    }
}

/// expr-lang's `int()` (and Argo's `asInt()`): truncates floats, parses decimal strings.
pub(crate) fn to_int(v: &Value) -> Result<Value, Fail> {
    match v {
        Value::Int(i) => Ok(Value::Int(*i)),
        Value::Float(f) => Ok(Value::Int(*f as i64)),
        Value::Str(s) => s
            .parse::<i64>()
            .map(Value::Int)
            .map_err(|_| format!("invalid operation: int({s:?})").into()),
        other => Err(format!("invalid operation: int({})", other.type_name()).into()),
    }
}

/// expr-lang's `float()` (and Argo's `asFloat()`): widens ints, parses strings like Go's
/// `strconv.ParseFloat`.
pub(crate) fn to_float(v: &Value) -> Result<Value, Fail> {
    match v {
        Value::Int(i) => Ok(Value::Float(*i as f64)),
        Value::Float(f) => Ok(Value::Float(*f)),
        Value::Str(s) => parse_go_float(s)
            .map(Value::Float)
            .ok_or_else(|| format!("invalid operation: float({s:?})").into()),
        other => Err(format!("invalid operation: float({})", other.type_name()).into()),
    }
}

/// Go's `strconv.ParseFloat(s, 64)` for decimal input (Rust's grammar is the same, plus `_`
/// which Go only allows after a base prefix).
pub(crate) fn parse_go_float(s: &str) -> Option<f64> {
    if s.contains('_') {
        return None;
    }
    s.parse::<f64>().ok()
}

fn trim(args: &[Value], _: &mut Ctx) -> Result<Value, Fail> {
    arity("trim", args, 1, 2)?;
    let s = string("trim", args, 0)?;
    if args.len() == 1 {
        return Ok(Value::str(s.trim()));
    }
    let cutset = string("trim", args, 1)?;
    Ok(Value::str(s.trim_matches(|c| cutset.contains(c))))
}

fn strip(
    name: &str,
    args: &[Value],
    f: for<'a> fn(&'a str, &str) -> Option<&'a str>,
) -> Result<Value, Fail> {
    arity(name, args, 1, 2)?;
    let s = string(name, args, 0)?;
    let affix = if args.len() == 2 {
        string(name, args, 1)?
    } else {
        " "
    };
    Ok(Value::str(f(s, affix).unwrap_or(s)))
}

/// Go's `strings.ToUpper`: rune by rune, keeping runes without a single-rune upper case.
pub(crate) fn go_upper(s: &str) -> String {
    s.chars()
        .map(|c| single(c.to_uppercase()).unwrap_or(c))
        .collect()
}

/// Go's `strings.ToLower`, rune by rune.
pub(crate) fn go_lower(s: &str) -> String {
    s.chars()
        .map(|c| single(c.to_lowercase()).unwrap_or(c))
        .collect()
}

fn single(mut it: impl Iterator<Item = char>) -> Option<char> {
    let c = it.next()?;
    if it.next().is_some() { None } else { Some(c) }
}

/// Go's `strings.SplitN` / `SplitAfterN` (`n < 0`: no limit; `n == 0`: nothing).
pub(crate) fn go_split(s: &str, sep: &str, n: i64, after: bool) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    let limit = usize::try_from(n).unwrap_or(usize::MAX);
    let mut parts = Vec::new();
    if sep.is_empty() {
        let mut chars = s.char_indices();
        while parts.len() + 1 < limit {
            match chars.next() {
                Some((_, c)) => parts.push(c.to_string()),
                None => return parts,
            }
        }
        let rest = chars.as_str();
        if !rest.is_empty() {
            parts.push(rest.to_owned());
        }
        return parts;
    }
    let mut rest = s;
    while parts.len() + 1 < limit {
        let Some(i) = rest.find(sep) else { break };
        let end = if after { i + sep.len() } else { i };
        parts.push(rest[..end].to_owned());
        rest = &rest[i + sep.len()..];
    }
    parts.push(rest.to_owned());
    parts
}

fn split(name: &str, args: &[Value], after: bool) -> Result<Value, Fail> {
    arity(name, args, 2, 3)?;
    let s = string(name, args, 0)?;
    let sep = string(name, args, 1)?;
    let n = if args.len() == 3 {
        int(name, args, 2)?
    } else {
        -1
    };
    let parts = go_split(s, sep, n, after);
    Ok(Value::array(parts.into_iter().map(Value::str).collect()))
}

/// Fails if building a string of `bytes` bytes would exceed the budget.
pub(crate) fn reserve(ctx: &mut Ctx, bytes: usize) -> Result<(), Fail> {
    ctx.charge(bytes / 16)
}

/// The length of `s` with `count` occurrences of `old` replaced by `new`.
fn replaced_len(s: &str, old: &str, new: &str, count: usize) -> usize {
    let occurrences = if old.is_empty() {
        s.chars().count() + 1
    } else {
        s.matches(old).count()
    }
    .min(count);
    s.len()
        .saturating_sub(occurrences.saturating_mul(old.len()))
        .saturating_add(occurrences.saturating_mul(new.len()))
}

fn replace(args: &[Value], ctx: &mut Ctx) -> Result<Value, Fail> {
    arity("replace", args, 3, 4)?;
    let s = string("replace", args, 0)?;
    let old = string("replace", args, 1)?;
    let new = string("replace", args, 2)?;
    let n = if args.len() == 4 {
        int("replace", args, 3)?
    } else {
        -1
    };
    let count = usize::try_from(n).unwrap_or(usize::MAX);
    reserve(ctx, replaced_len(s, old, new, count))?;
    Ok(Value::str(if n < 0 {
        s.replace(old, new)
    } else {
        s.replacen(old, new, count)
    }))
}

/// `strings.Repeat` under expr-lang's limits: at most 10⁶ copies, charged byte by byte.
pub(crate) fn repeat_str(s: &str, n: i64, ctx: &mut Ctx) -> Result<String, Fail> {
    if n < 0 {
        return Err(
            format!("invalid argument for repeat (expected positive integer, got {n})").into(),
        );
    }
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    if n > 1_000_000 {
        return Err(Fail::Limit("memory budget exceeded".to_owned()));
    }
    ctx.charge(s.len().saturating_mul(n))?;
    Ok(s.repeat(n))
}

fn repeat(args: &[Value], ctx: &mut Ctx) -> Result<Value, Fail> {
    arity("repeat", args, 2, 2)?;
    let s = string("repeat", args, 0)?;
    let n = int("repeat", args, 1)?;
    repeat_str(s, n, ctx).map(Value::str)
}

/// Joins strings with `glue`, charging the result against the budget first.
pub(crate) fn join_strs(parts: &[&str], glue: &str, ctx: &mut Ctx) -> Result<String, Fail> {
    let total = parts
        .iter()
        .fold(0usize, |n, p| n.saturating_add(p.len()))
        .saturating_add(glue.len().saturating_mul(parts.len().saturating_sub(1)));
    reserve(ctx, total)?;
    Ok(parts.join(glue))
}

fn join(args: &[Value], ctx: &mut Ctx) -> Result<Value, Fail> {
    arity("join", args, 1, 2)?;
    let items = match &args[0] {
        Value::Array(items) => items,
        other => {
            return Err(format!("invalid argument for join (type {})", other.type_name()).into());
        }
    };
    let glue = if args.len() == 2 {
        string("join", args, 1)?
    } else {
        ""
    };
    let parts = items
        .iter()
        .map(|v| {
            v.as_str().ok_or_else(|| {
                Fail::Msg(format!(
                    "join: elements must be strings, not {}",
                    v.type_name()
                ))
            })
        })
        .collect::<Result<Vec<&str>, Fail>>()?;
    join_strs(&parts, glue, ctx).map(Value::str)
}

fn find(name: &str, args: &[Value], f: fn(&str, &str) -> Option<usize>) -> Result<Value, Fail> {
    arity(name, args, 2, 2)?;
    let s = string(name, args, 0)?;
    let t = string(name, args, 1)?;
    Ok(Value::Int(
        f(s, t).map_or(-1, |i| i64::try_from(i).unwrap_or(-1)),
    ))
}

fn test2(name: &str, args: &[Value], f: fn(&str, &str) -> bool) -> Result<Value, Fail> {
    arity(name, args, 2, 2)?;
    Ok(Value::Bool(f(
        string(name, args, 0)?,
        string(name, args, 1)?,
    )))
}

/// JSON text of the only argument (`indent` empty for compact).
pub(crate) fn json_text(name: &str, args: &[Value], indent: &str) -> Result<Value, Fail> {
    to_json(one(name, args)?, indent)
        .map(Value::str)
        .map_err(Fail::Msg)
}

fn from_json(name: &str, args: &[Value]) -> Result<Value, Fail> {
    let text = {
        arity(name, args, 1, 1)?;
        string(name, args, 0)?
    };
    Value::parse_json(text).map_err(|e| Fail::Msg(format!("{name}: {e}")))
}

fn from_base64(args: &[Value], _: &mut Ctx) -> Result<Value, Fail> {
    arity("fromBase64", args, 1, 1)?;
    let bytes = b64_decode(string("fromBase64", args, 0)?).map_err(Fail::Msg)?;
    Ok(Value::str(String::from_utf8_lossy(&bytes).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_split_matches_go() {
        let cases: [(&str, &str, i64, bool, &[&str]); 9] = [
            ("a,b,c", ",", -1, false, &["a", "b", "c"]),
            ("a,b,c", ",", 2, false, &["a", "b,c"]),
            ("a,b,c", ",", -1, true, &["a,", "b,", "c"]),
            ("", ",", -1, false, &[""]),
            ("abc", "", -1, false, &["a", "b", "c"]),
            ("abc", "", 2, false, &["a", "bc"]),
            ("", "", -1, false, &[]),
            ("a,b", ",", 0, false, &[]),
            ("a,,b", ",", -1, false, &["a", "", "b"]),
        ];
        for (s, sep, n, after, want) in cases {
            assert_eq!(go_split(s, sep, n, after), want, "{s:?} {sep:?} {n}");
        }
    }

    #[test]
    fn case_mapping_is_rune_by_rune() {
        assert_eq!(go_upper("straße"), "STRAßE");
        assert_eq!(go_lower("ÀB"), "àb");
    }

    #[test]
    fn replacement_size_is_known_in_advance() {
        assert_eq!(replaced_len("abc", "", "-", usize::MAX), 7);
        assert_eq!(replaced_len("aXbX", "X", "YY", 1), 5);
        let mut ctx = Ctx::default();
        let big = Value::str("x".repeat(100_000));
        let r = replace(&[big.clone(), Value::str(""), big], &mut ctx);
        assert!(matches!(r, Err(Fail::Limit(_))));
    }
}

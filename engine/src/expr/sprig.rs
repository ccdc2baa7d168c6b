//! A subset of Go's sprig library as Argo exposes it (`sprig.name(…)`), with sprig's argument
//! order (`sprig.replace(old, new, s)`, `sprig.trunc(n, s)`) and Go's conversions (nil passed to
//! a `string` parameter is ""). String functions are here; regular expressions and splitting
//! are in [`super::sprig_regex`], numbers in [`super::sprig_numbers`], dates in [`super::sprig_dates`], defaults, lists and dicts
//! in [`super::sprig_lists`].

use super::args::{arity, go_int, go_string};
use super::builtins::{go_lower, go_upper, repeat_str, reserve};
use super::codec::{b64_decode, b64_encode};
use super::ctx::Ctx;
use super::error::Fail;
use super::format::{go_quote, sprint};
use super::value::Value;
use super::{sprig_dates, sprig_lists, sprig_numbers, sprig_regex};

/// The sprig functions Trellis provides, for documentation and diagnostics.
#[rustfmt::skip]
pub(crate) const FUNCTIONS: &[&str] = &[
    "trim", "trimAll", "trimPrefix", "trimSuffix", "upper", "lower", "title", "replace",
    "contains", "hasPrefix", "hasSuffix", "repeat", "substr", "trunc", "quote", "squote",
    "cat", "nospace", "indent", "nindent", "plural", "toString", "splitList", "split",
    "join", "regexMatch", "regexFind", "regexFindAll", "regexReplaceAll", "regexReplaceAllLiteral", "regexSplit", "regexQuoteMeta",
    "b64enc", "b64dec", "atoi", "int", "int64", "float64", "add", "add1",
    "sub", "mul", "div", "mod", "max", "min", "floor", "ceil",
    "round", "until", "untilStep", "seq", "default", "empty", "coalesce", "ternary",
    "all", "any", "compact", "toJson", "toPrettyJson", "fromJson", "list", "dict",
    "get", "hasKey", "keys", "values", "has", "first", "last", "rest",
    "initial", "append", "prepend", "reverse", "uniq", "without", "date", "dateInZone",
    "htmlDate", "htmlDateInZone", "unixEpoch", "dateModify",
];

/// The provided sprig function closest to an unknown `name`, to suggest it.
pub(crate) fn suggest(name: &str) -> Option<&'static str> {
    FUNCTIONS
        .iter()
        .map(|f| (strsim::levenshtein(f, name), *f))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, f)| f)
}

/// A sprig function: it gets its qualified name (`sprig.upper`) for messages.
pub(crate) type Func = fn(&str, &[Value], &mut Ctx) -> Result<Value, Fail>;

/// Calls `sprig.<name>`, or returns `None` if Trellis has no such sprig function.
pub(crate) fn call(name: &str, args: &[Value], ctx: &mut Ctx) -> Option<Result<Value, Fail>> {
    let f = lookup(name)
        .or_else(|| sprig_regex::lookup(name))
        .or_else(|| sprig_numbers::lookup(name))
        .or_else(|| sprig_lists::lookup(name))
        .or_else(|| sprig_dates::lookup(name))?;
    Some(f(&format!("sprig.{name}"), args, ctx))
}

fn lookup(name: &str) -> Option<Func> {
    Some(match name {
        "trim" => |n, a, _| unary_str(n, a, |s| s.trim().to_owned()),
        "upper" => |n, a, _| unary_str(n, a, go_upper),
        "lower" => |n, a, _| unary_str(n, a, go_lower),
        "title" => |n, a, _| unary_str(n, a, title),
        "nospace" => |n, a, _| unary_str(n, a, nospace),
        "b64enc" => |n, a, _| unary_str(n, a, |s| b64_encode(s.as_bytes())),
        "b64dec" => |n, a, _| unary_str(n, a, b64dec),
        "trimAll" => |n, a, _| binary_str(n, a, trim_all),
        "trimPrefix" => |n, a, _| binary_str(n, a, |p, s| s.strip_prefix(p).unwrap_or(s).into()),
        "trimSuffix" => |n, a, _| binary_str(n, a, |p, s| s.strip_suffix(p).unwrap_or(s).into()),
        "contains" => |n, a, _| binary_test(n, a, |t, s| s.contains(t)),
        "hasPrefix" => |n, a, _| binary_test(n, a, |t, s| s.starts_with(t)),
        "hasSuffix" => |n, a, _| binary_test(n, a, |t, s| s.ends_with(t)),
        "replace" => replace,
        "repeat" => repeat,
        "substr" => substr,
        "trunc" => trunc,
        "quote" => |_, a, _| Ok(Value::str(joined(a, |v| go_quote(&strval(v))))),
        "squote" => |_, a, _| Ok(Value::str(joined(a, |v| format!("'{}'", sprint(v))))),
        "cat" => |_, a, _| Ok(Value::str(joined(a, sprint))),
        "indent" => |n, a, ctx| indent(n, a, ctx, ""),
        "nindent" => |n, a, ctx| indent(n, a, ctx, "\n"),
        "plural" => plural,
        "toString" => |n, a, _| arity(n, a, 1, 1).map(|()| Value::str(strval(&a[0]))),
        _ => return None,
    })
}

fn unary_str(name: &str, args: &[Value], f: fn(&str) -> String) -> Result<Value, Fail> {
    arity(name, args, 1, 1)?;
    Ok(Value::str(f(go_string(name, args, 0)?)))
}

fn binary_str(name: &str, args: &[Value], f: fn(&str, &str) -> String) -> Result<Value, Fail> {
    arity(name, args, 2, 2)?;
    Ok(Value::str(f(
        go_string(name, args, 0)?,
        go_string(name, args, 1)?,
    )))
}

fn binary_test(name: &str, args: &[Value], f: fn(&str, &str) -> bool) -> Result<Value, Fail> {
    arity(name, args, 2, 2)?;
    Ok(Value::Bool(f(
        go_string(name, args, 0)?,
        go_string(name, args, 1)?,
    )))
}

/// sprig's `strval`: strings as they are, anything else as Go's `%v`.
pub(crate) fn strval(v: &Value) -> String {
    match v {
        Value::Str(s) => s.to_string(),
        other => sprint(other),
    }
}

/// sprig's `strslice`: the non-nil elements of a list as strings; a single value as a list of one.
pub(crate) fn strslice(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => items.iter().filter(|i| !i.is_nil()).map(strval).collect(),
        Value::Nil => Vec::new(),
        other => vec![strval(other)],
    }
}

fn joined(args: &[Value], f: impl Fn(&Value) -> String) -> String {
    args.iter()
        .filter(|v| !v.is_nil())
        .map(f)
        .collect::<Vec<_>>()
        .join(" ")
}

fn nospace(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// sprig's `b64dec`: the decoded text, or Go's error message as the text.
fn b64dec(s: &str) -> String {
    match b64_decode(s) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => e,
    }
}

fn trim_all(cutset: &str, s: &str) -> String {
    s.trim_matches(|c| cutset.contains(c)).to_owned()
}

fn repeat(name: &str, args: &[Value], ctx: &mut Ctx) -> Result<Value, Fail> {
    arity(name, args, 2, 2)?;
    repeat_str(go_string(name, args, 1)?, go_int(name, args, 0)?, ctx).map(Value::str)
}

fn plural(name: &str, args: &[Value], _: &mut Ctx) -> Result<Value, Fail> {
    arity(name, args, 3, 3)?;
    let pick = if go_int(name, args, 2)? == 1 { 0 } else { 1 };
    Ok(Value::str(go_string(name, args, pick)?))
}

/// Go's `strings.Title`: upper-cases the first letter of every word.
fn title(s: &str) -> String {
    let separator = |c: char| {
        if c.is_ascii() {
            !(c.is_ascii_alphanumeric() || c == '_')
        } else {
            !c.is_alphanumeric() && c.is_whitespace()
        }
    };
    let mut prev = ' ';
    s.chars()
        .map(|c| {
            let out = if separator(prev) {
                go_upper(&c.to_string())
            } else {
                c.to_string()
            };
            prev = c;
            out
        })
        .collect()
}

fn replace(name: &str, args: &[Value], ctx: &mut Ctx) -> Result<Value, Fail> {
    arity(name, args, 3, 3)?;
    let old = go_string(name, args, 0)?;
    let new = go_string(name, args, 1)?;
    let src = go_string(name, args, 2)?;
    let occurrences = if old.is_empty() {
        src.chars().count() + 1
    } else {
        src.matches(old).count()
    };
    reserve(
        ctx,
        src.len()
            .saturating_add(occurrences.saturating_mul(new.len())),
    )?;
    Ok(Value::str(src.replace(old, new)))
}

/// Bytes `from..to` of `s`, or the panic Go's slicing would raise.
fn byte_slice(s: &str, from: i64, to: i64) -> Result<Value, Fail> {
    let len = i64::try_from(s.len()).unwrap_or(i64::MAX);
    if from < 0 || to < from || to > len {
        return Err(format!(
            "runtime error: slice bounds out of range [{from}:{to}] with length {len}"
        )
        .into());
    }
    let (a, b) = (
        usize::try_from(from).unwrap_or(0),
        usize::try_from(to).unwrap_or(0),
    );
    Ok(Value::str(
        String::from_utf8_lossy(&s.as_bytes()[a..b]).into_owned(),
    ))
}

fn substr(name: &str, args: &[Value], _: &mut Ctx) -> Result<Value, Fail> {
    arity(name, args, 3, 3)?;
    let (start, end) = (go_int(name, args, 0)?, go_int(name, args, 1)?);
    let s = go_string(name, args, 2)?;
    let len = i64::try_from(s.len()).unwrap_or(i64::MAX);
    if start < 0 {
        byte_slice(s, 0, end)
    } else if end < 0 || end > len {
        byte_slice(s, start, len)
    } else {
        byte_slice(s, start, end)
    }
}

fn trunc(name: &str, args: &[Value], _: &mut Ctx) -> Result<Value, Fail> {
    arity(name, args, 2, 2)?;
    let c = go_int(name, args, 0)?;
    let s = go_string(name, args, 1)?;
    let len = i64::try_from(s.len()).unwrap_or(i64::MAX);
    if c < 0 && len + c > 0 {
        byte_slice(s, len + c, len)
    } else if c >= 0 && len > c {
        byte_slice(s, 0, c)
    } else {
        Ok(Value::str(s))
    }
}

fn indent(name: &str, args: &[Value], ctx: &mut Ctx, lead: &str) -> Result<Value, Fail> {
    arity(name, args, 2, 2)?;
    let spaces = go_int(name, args, 0)?;
    let s = go_string(name, args, 1)?;
    let pad = repeat_str(" ", spaces, ctx)?;
    let lines = s.matches('\n').count() + 1;
    reserve(ctx, s.len().saturating_add(lines.saturating_mul(pad.len())))?;
    Ok(Value::str(format!(
        "{lead}{pad}{}",
        s.replace('\n', &format!("\n{pad}"))
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_like_go() {
        assert_eq!(title("hello wide_world-x 1a"), "Hello Wide_world-X 1a");
    }
}

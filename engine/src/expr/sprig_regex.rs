//! sprig's regular-expression and splitting functions (`regexMatch`, `regexReplaceAll`,
//! `splitList`, `join`, …), with Go's `regexp` semantics where they differ from the defaults.

use super::args::{arity, go_int, go_string};
use super::builtins::{go_split, join_strs, reserve};
use super::ctx::{Ctx, MEMORY_BUDGET};
use super::error::Fail;
use super::sprig::{Func, strslice};
use super::value::Value;

/// The regular-expression or splitting function `name`, if it is one.
pub(crate) fn lookup(name: &str) -> Option<Func> {
    Some(match name {
        "regexMatch" => regex_match,
        "regexFind" => regex_find,
        "regexFindAll" => regex_find_all,
        "regexReplaceAll" => |n, a, ctx| regex_replace(n, a, ctx, true),
        "regexReplaceAllLiteral" => |n, a, ctx| regex_replace(n, a, ctx, false),
        "regexSplit" => regex_split,
        "regexQuoteMeta" => |n, a, _| {
            arity(n, a, 1, 1)?;
            Ok(Value::str(quote_meta(go_string(n, a, 0)?)))
        },
        "splitList" => split_list,
        "split" => split,
        "join" => join,
        _ => return None,
    })
}

fn split_list(name: &str, args: &[Value], _: &mut Ctx) -> Result<Value, Fail> {
    arity(name, args, 2, 2)?;
    let parts = go_split(
        go_string(name, args, 1)?,
        go_string(name, args, 0)?,
        -1,
        false,
    );
    Ok(Value::array(parts.into_iter().map(Value::str).collect()))
}

/// sprig's `split`: a dict `{_0: …, _1: …}`.
fn split(name: &str, args: &[Value], _: &mut Ctx) -> Result<Value, Fail> {
    arity(name, args, 2, 2)?;
    let parts = go_split(
        go_string(name, args, 1)?,
        go_string(name, args, 0)?,
        -1,
        false,
    );
    let entries = parts.into_iter().enumerate();
    Ok(Value::map(
        entries
            .map(|(i, p)| (format!("_{i}"), Value::str(p)))
            .collect(),
    ))
}

fn join(name: &str, args: &[Value], ctx: &mut Ctx) -> Result<Value, Fail> {
    arity(name, args, 2, 2)?;
    let parts = strslice(&args[1]);
    let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
    join_strs(&refs, go_string(name, args, 0)?, ctx).map(Value::str)
}

/// `regexMatch`: false (not an error) for an invalid expression.
fn regex_match(name: &str, args: &[Value], ctx: &mut Ctx) -> Result<Value, Fail> {
    arity(name, args, 2, 2)?;
    let s = go_string(name, args, 1)?;
    let pattern = go_string(name, args, 0)?;
    Ok(Value::Bool(ctx.regex(pattern).is_ok_and(|r| r.is_match(s))))
}

fn regex_find(name: &str, args: &[Value], ctx: &mut Ctx) -> Result<Value, Fail> {
    arity(name, args, 2, 2)?;
    let s = go_string(name, args, 1)?;
    let found = ctx.regex(go_string(name, args, 0)?)?.find(s);
    Ok(Value::str(found.map_or("", |m| m.as_str())))
}

/// Go's `regexp.QuoteMeta`.
fn quote_meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn regex_find_all(name: &str, args: &[Value], ctx: &mut Ctx) -> Result<Value, Fail> {
    arity(name, args, 3, 3)?;
    let s = go_string(name, args, 1)?;
    let n = go_int(name, args, 2)?;
    let limit = usize::try_from(n).unwrap_or(usize::MAX);
    let re = ctx.regex(go_string(name, args, 0)?)?;
    let found = re
        .find_iter(s)
        .take(limit)
        .map(|m| Value::str(m.as_str()))
        .collect();
    Ok(Value::array(found))
}

fn regex_replace(name: &str, args: &[Value], ctx: &mut Ctx, expand: bool) -> Result<Value, Fail> {
    arity(name, args, 3, 3)?;
    let s = go_string(name, args, 1)?;
    let repl = go_string(name, args, 2)?;
    let limit = MEMORY_BUDGET.saturating_mul(16);
    let re = ctx.regex(go_string(name, args, 0)?)?.clone();
    let mut produced = 0usize;
    let mut over = false;
    let out = re.replace_all(s, |caps: &regex::Captures<'_>| {
        let mut piece = String::new();
        if !over {
            if expand {
                caps.expand(repl, &mut piece);
            } else {
                piece.push_str(repl);
            }
            produced = produced.saturating_add(piece.len());
            over = produced > limit;
        }
        piece
    });
    if over {
        return Err(Fail::Limit("memory budget exceeded".to_owned()));
    }
    reserve(ctx, produced)?;
    Ok(Value::str(out.into_owned()))
}

/// Go's `Regexp.Split(s, n)`.
fn regex_split(name: &str, args: &[Value], ctx: &mut Ctx) -> Result<Value, Fail> {
    arity(name, args, 3, 3)?;
    let pattern = go_string(name, args, 0)?;
    let s = go_string(name, args, 1)?;
    let n = go_int(name, args, 2)?;
    if n == 0 {
        return Ok(Value::array(Vec::new()));
    }
    if !pattern.is_empty() && s.is_empty() {
        return Ok(Value::array(vec![Value::str("")]));
    }
    let re = ctx.regex(pattern)?;
    let limit = usize::try_from(n).unwrap_or(usize::MAX);
    let mut parts = Vec::new();
    let (mut beg, mut end) = (0, 0);
    for m in re.find_iter(s).take(limit) {
        if n > 0 && parts.len() + 1 == limit {
            break;
        }
        end = m.start();
        if m.end() != 0 {
            parts.push(Value::str(&s[beg..end]));
        }
        beg = m.end();
    }
    if end != s.len() {
        parts.push(Value::str(&s[beg..]));
    }
    Ok(Value::array(parts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_meta_like_go() {
        assert_eq!(quote_meta("a.b*c#(x)"), "a\\.b\\*c#\\(x\\)");
    }
}

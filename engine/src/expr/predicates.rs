//! The predicate builtins (`filter`, `map`, `all`, `any`, `none`, `one`, `count`, `sum`,
//! `find`, `findIndex`, `findLast`, `findLastIndex`, `sortBy`, `reduce`): the predicate runs
//! once per element with `#` (and `#index`, and in `reduce` `#acc`) bound to it.

use super::ast::{Node, Pred};
use super::collections;
use super::error::Fail;
use super::eval::{Evaluator, R, Stop};
use super::value::Value;

fn fail(pos: usize, message: String) -> Stop {
    Stop::Error(Fail::Msg(message).at(pos))
}

/// Evaluates `pred(args…)`.
pub(crate) fn eval(ev: &mut Evaluator<'_>, pred: Pred, args: &[Node], pos: usize) -> R<Value> {
    let name = lower_first(&format!("{pred:?}"));
    let items = match ev.eval(&args[0])? {
        Value::Array(items) => items,
        other => {
            let shown = other.type_name();
            return Err(fail(pos, format!("cannot iterate over {shown} in {name}")));
        }
    };
    let body = args.get(1);
    let need_body = || body.ok_or_else(|| fail(pos, "missing predicate".into()));
    match pred {
        Pred::All | Pred::Any | Pred::None | Pred::One | Pred::Count => {
            quantify(ev, pred, &items, body, pos)
        }
        Pred::Filter | Pred::Map => collect(ev, pred == Pred::Map, &items, need_body()?, pos),
        Pred::Sum => sum(ev, &items, body, pos),
        Pred::Find | Pred::FindIndex | Pred::FindLast | Pred::FindLastIndex => {
            find(ev, pred, &items, need_body()?, pos)
        }
        Pred::SortBy => sort_by(ev, &items, args, pos),
        Pred::Reduce => reduce(ev, &items, need_body()?, args.get(2), pos),
        Pred::GroupBy => Err(fail(
            pos,
            format!("{name} is not supported in Trellis expressions"),
        )),
    }
}

/// `all`, `any`, `none`, `one` and `count`.
fn quantify(
    ev: &mut Evaluator<'_>,
    pred: Pred,
    items: &[Value],
    body: Option<&Node>,
    pos: usize,
) -> R<Value> {
    let mut hits = 0usize;
    for (i, item) in items.iter().enumerate() {
        let hit = match body {
            Some(b) => test(ev, b, item, i, pos)?,
            None => matches!(item, Value::Bool(true)),
        };
        hits += usize::from(hit);
        match (pred, hit) {
            (Pred::All, false) | (Pred::None, true) => return Ok(Value::Bool(false)),
            (Pred::Any, true) => return Ok(Value::Bool(true)),
            _ => {}
        }
    }
    Ok(match pred {
        Pred::All | Pred::None => Value::Bool(true),
        Pred::Any => Value::Bool(false),
        Pred::One => Value::Bool(hits == 1),
        _ => Value::Int(i64::try_from(hits).unwrap_or(i64::MAX)),
    })
}

/// `map` (the body's values) and `filter` (the elements the body accepts).
fn collect(
    ev: &mut Evaluator<'_>,
    map: bool,
    items: &[Value],
    body: &Node,
    pos: usize,
) -> R<Value> {
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if map {
            out.push(apply(ev, body, item, i, pos)?);
        } else if test(ev, body, item, i, pos)? {
            out.push(item.clone());
        }
    }
    ev.ctx
        .charge(out.len())
        .map_err(|f| Stop::Error(f.at(pos)))?;
    Ok(Value::array(out))
}

fn sum(ev: &mut Evaluator<'_>, items: &[Value], body: Option<&Node>, pos: usize) -> R<Value> {
    let mut acc = Value::Int(0);
    for (i, item) in items.iter().enumerate() {
        let v = match body {
            Some(b) => apply(ev, b, item, i, pos)?,
            None => item.clone(),
        };
        acc = add_number(&acc, &v).map_err(|f| Stop::Error(f.at(pos)))?;
    }
    Ok(acc)
}

/// `find`, `findIndex`, `findLast` and `findLastIndex`.
fn find(ev: &mut Evaluator<'_>, pred: Pred, items: &[Value], body: &Node, pos: usize) -> R<Value> {
    let forward = matches!(pred, Pred::Find | Pred::FindIndex);
    let want_item = matches!(pred, Pred::Find | Pred::FindLast);
    let order: Box<dyn Iterator<Item = (usize, &Value)>> = if forward {
        Box::new(items.iter().enumerate())
    } else {
        Box::new(items.iter().enumerate().rev())
    };
    for (i, item) in order {
        if test(ev, body, item, i, pos)? {
            return Ok(if want_item {
                item.clone()
            } else {
                Value::Int(i64::try_from(i).unwrap_or(i64::MAX))
            });
        }
    }
    Ok(if want_item {
        Value::Nil
    } else {
        Value::Int(-1)
    })
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_ascii_lowercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// `reduce(xs, body[, initial])`: `#acc` starts at `initial` (else the first element, and the
/// fold starts at the second) and becomes the body's value for each element in turn.
fn reduce(
    ev: &mut Evaluator<'_>,
    items: &[Value],
    body: &Node,
    initial: Option<&Node>,
    pos: usize,
) -> R<Value> {
    let (mut acc, start) = match initial {
        Some(n) => (ev.eval(n)?, 0),
        None => match items.first() {
            Some(first) => (first.clone(), 1),
            None => return Ok(Value::Nil),
        },
    };
    for (i, item) in items.iter().enumerate().skip(start) {
        ev.accs.push(acc);
        let result = apply(ev, body, item, i, pos);
        ev.accs.pop();
        acc = result?;
    }
    Ok(acc)
}

/// Runs the predicate body for one element.
fn apply(ev: &mut Evaluator<'_>, body: &Node, item: &Value, index: usize, pos: usize) -> R<Value> {
    ev.ctx.step().map_err(|f| Stop::Error(f.at(pos)))?;
    ev.frames.push((item.clone(), index));
    let result = ev.eval(body);
    ev.frames.pop();
    result
}

/// Runs the predicate body for one element; it must give a bool.
fn test(ev: &mut Evaluator<'_>, body: &Node, item: &Value, index: usize, pos: usize) -> R<bool> {
    match apply(ev, body, item, index, pos)? {
        Value::Bool(b) => Ok(b),
        other => Err(fail(
            pos,
            format!("the predicate must give a bool, not {}", other.type_name()),
        )),
    }
}

fn add_number(acc: &Value, v: &Value) -> Result<Value, Fail> {
    match (acc, v) {
        (Value::Int(a), Value::Int(b)) => Ok(Value::Int(a.wrapping_add(*b))),
        _ => match (acc.as_f64(), v.as_f64()) {
            (Some(a), Some(b)) => Ok(Value::Float(a + b)),
            _ => Err(format!(
                "invalid operation: {} + {} (sum takes numbers)",
                acc.type_name(),
                v.type_name()
            )
            .into()),
        },
    }
}

fn sort_by(ev: &mut Evaluator<'_>, items: &[Value], args: &[Node], pos: usize) -> R<Value> {
    let desc = match args.get(2) {
        None => false,
        Some(order) => match ev.eval(order)? {
            Value::Str(s) if &*s == "asc" => false,
            Value::Str(s) if &*s == "desc" => true,
            other => {
                let shown = super::format::sprint(&other);
                return Err(fail(
                    pos,
                    format!("invalid order {shown}, expected asc or desc"),
                ));
            }
        },
    };
    let b = args
        .get(1)
        .ok_or_else(|| fail(pos, "missing predicate".into()))?;
    let mut keyed = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        keyed.push((apply(ev, b, item, i, pos)?, item.clone()));
    }
    let sorted = collections::sort_keyed(keyed, desc).map_err(|f| Stop::Error(f.at(pos)))?;
    Ok(Value::array(sorted))
}

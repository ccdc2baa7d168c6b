//! expr-lang's operators on values: arithmetic with Go's int/float rules (ints wrap, `/` and
//! `**` give floats, `%` takes ints), comparisons, `in`, member access and slices.

use std::cmp::Ordering;

use super::ast::BinaryOp;
use super::ctx::Ctx;
use super::error::Fail;
use super::value::{Value, equal};

fn mismatch(op: &str, a: &Value, b: &Value) -> Fail {
    Fail::Msg(format!(
        "invalid operation: {} {op} {} (mismatched types)",
        a.type_name(),
        b.type_name()
    ))
}

/// Applies an arithmetic operator (`+ - * / % **`).
pub(crate) fn arithmetic(op: BinaryOp, a: &Value, b: &Value, ctx: &mut Ctx) -> Result<Value, Fail> {
    use Value::{Float, Int};
    let floats = || a.as_f64().zip(b.as_f64());
    match op {
        BinaryOp::Add => add(a, b, ctx),
        BinaryOp::Sub => match (a, b) {
            (Int(x), Int(y)) => Ok(Int(x.wrapping_sub(*y))),
            _ => floats()
                .map(|(x, y)| Float(x - y))
                .ok_or_else(|| mismatch("-", a, b)),
        },
        BinaryOp::Mul => match (a, b) {
            (Int(x), Int(y)) => Ok(Int(x.wrapping_mul(*y))),
            _ => floats()
                .map(|(x, y)| Float(x * y))
                .ok_or_else(|| mismatch("*", a, b)),
        },
        BinaryOp::Div => floats()
            .map(|(x, y)| Float(x / y))
            .ok_or_else(|| mismatch("/", a, b)),
        BinaryOp::Pow => floats()
            .map(|(x, y)| Float(x.powf(y)))
            .ok_or_else(|| mismatch("**", a, b)),
        BinaryOp::Mod => match (a, b) {
            (Int(_), Int(0)) => Err("runtime error: integer divide by zero".into()),
            (Int(x), Int(y)) => Ok(Int(x.wrapping_rem(*y))),
            _ => Err(mismatch("%", a, b)),
        },
        _ => Err(mismatch("?", a, b)),
    }
}

/// `+`: numbers, string concatenation, and (a Trellis extension) array concatenation.
fn add(a: &Value, b: &Value, ctx: &mut Ctx) -> Result<Value, Fail> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Ok(Value::Int(x.wrapping_add(*y))),
        (Value::Str(x), Value::Str(y)) => {
            ctx.charge((x.len() + y.len()) / 16)?;
            let mut s = String::with_capacity(x.len() + y.len());
            s.push_str(x);
            s.push_str(y);
            Ok(Value::str(s))
        }
        (Value::Array(x), Value::Array(y)) => {
            ctx.charge(x.len() + y.len())?;
            Ok(Value::array(x.iter().chain(y.iter()).cloned().collect()))
        }
        _ => a
            .as_f64()
            .zip(b.as_f64())
            .map(|(x, y)| Value::Float(x + y))
            .ok_or_else(|| mismatch("+", a, b)),
    }
}

/// The order of two numbers or two strings; anything else cannot be compared.
fn order(op: &str, a: &Value, b: &Value) -> Result<Option<Ordering>, Fail> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Ok(Some(x.cmp(y))),
        (Value::Str(x), Value::Str(y)) => Ok(Some(x.as_bytes().cmp(y.as_bytes()))),
        _ => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => Ok(x.partial_cmp(&y)),
            _ => Err(mismatch(op, a, b)),
        },
    }
}

/// Applies a comparison (`== != < > <= >=`).
pub(crate) fn compare(op: BinaryOp, a: &Value, b: &Value) -> Result<bool, Fail> {
    let check = |symbol: &str, f: fn(Ordering) -> bool| Ok(order(symbol, a, b)?.is_some_and(f));
    match op {
        BinaryOp::Eq => Ok(equal(a, b)),
        BinaryOp::Ne => Ok(!equal(a, b)),
        BinaryOp::Lt => check("<", Ordering::is_lt),
        BinaryOp::Gt => check(">", Ordering::is_gt),
        BinaryOp::Le => check("<=", Ordering::is_le),
        BinaryOp::Ge => check(">=", Ordering::is_ge),
        _ => Err(mismatch("?", a, b)),
    }
}

/// expr-lang's `<`, which `max`, `min` and the checks before sorting use.
pub(crate) fn less(a: &Value, b: &Value) -> Result<bool, Fail> {
    Ok(order("<", a, b)?.is_some_and(Ordering::is_lt))
}

/// A total order on numbers (exact across ints and floats, NaN last) and on strings, for
/// sorting; values of other kinds compare equal.
pub(crate) fn sort_order(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Int(x), Value::Float(y)) => int_float(*x, *y),
        (Value::Float(x), Value::Int(y)) => int_float(*y, *x).reverse(),
        (Value::Float(x), Value::Float(y)) => match (x.is_nan(), y.is_nan()) {
            (false, false) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
            (nx, ny) => nx.cmp(&ny),
        },
        (Value::Str(x), Value::Str(y)) => x.as_bytes().cmp(y.as_bytes()),
        _ => Ordering::Equal,
    }
}

/// The exact order of an int and a float (NaN after every number).
fn int_float(i: i64, f: f64) -> Ordering {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if f.is_nan() || f >= TWO_63 {
        return Ordering::Less;
    }
    if f < -TWO_63 {
        return Ordering::Greater;
    }
    let floor = f.floor();
    match i.cmp(&(floor as i64)) {
        Ordering::Equal if f > floor => Ordering::Less,
        other => other,
    }
}

/// `needle in haystack`: an element of an array or a key of a map.
pub(crate) fn contains_element(needle: &Value, haystack: &Value) -> Result<bool, Fail> {
    match haystack {
        Value::Nil => Ok(false),
        Value::Array(items) => Ok(items.iter().any(|v| equal(v, needle))),
        Value::Map(entries) => match needle {
            Value::Str(k) => Ok(entries.contains_key(&**k)),
            Value::Nil => Ok(entries.contains_key("")),
            other => Err(format!("cannot use {} as a map key", other.type_name()).into()),
        },
        other => Err(format!("operator \"in\" not defined on {}", other.type_name()).into()),
    }
}

/// `matches`, `contains`, `startsWith`, `endsWith`: false when either side is nil.
pub(crate) fn string_test(op: BinaryOp, a: &Value, b: &Value, ctx: &mut Ctx) -> Result<bool, Fail> {
    if a.is_nil() || b.is_nil() {
        return Ok(false);
    }
    let name = match op {
        BinaryOp::Matches => "matches",
        BinaryOp::Contains => "contains",
        BinaryOp::StartsWith => "startsWith",
        _ => "endsWith",
    };
    let (Some(s), Some(t)) = (a.as_str(), b.as_str()) else {
        return Err(mismatch(name, a, b));
    };
    Ok(match op {
        BinaryOp::Matches => ctx.regex(t)?.is_match(s),
        BinaryOp::Contains => s.contains(t),
        BinaryOp::StartsWith => s.starts_with(t),
        _ => s.ends_with(t),
    })
}

/// `a..b`: the integers from `a` to `b` inclusive.
pub(crate) fn range(a: &Value, b: &Value, ctx: &mut Ctx) -> Result<Value, Fail> {
    let (Value::Int(from), Value::Int(to)) = (a, b) else {
        return Err(mismatch("..", a, b));
    };
    let size = (i128::from(*to) - i128::from(*from) + 1).max(0);
    ctx.charge(usize::try_from(size).unwrap_or(usize::MAX))?;
    Ok(Value::array((*from..=*to).map(Value::Int).collect()))
}

/// An index into something of length `len`, counting from the end when negative.
fn resolve_index(prop: &Value, len: usize) -> Result<usize, Fail> {
    let Some(index) = prop.as_int() else {
        return Err(format!(
            "cannot use {} as an index (it must be a number)",
            prop.type_name()
        )
        .into());
    };
    let len_i = i64::try_from(len).unwrap_or(i64::MAX);
    let i = if index < 0 {
        index.saturating_add(len_i)
    } else {
        index
    };
    if i < 0 || i >= len_i {
        return Err(format!("index out of range: {i} (array length is {len})").into());
    }
    usize::try_from(i).map_err(|_| Fail::Msg(format!("index out of range: {i}")))
}

/// `base[prop]` / `base.prop`: a map's entry (nil when missing), an array's element, a
/// string's byte.
pub(crate) fn fetch(base: &Value, prop: &Value) -> Result<Value, Fail> {
    match base {
        Value::Map(entries) => match prop {
            Value::Str(k) => Ok(entries.get(&**k).cloned().unwrap_or(Value::Nil)),
            Value::Nil => Ok(entries.get("").cloned().unwrap_or(Value::Nil)),
            other => Err(format!("cannot use {} as a map key", other.type_name()).into()),
        },
        Value::Array(items) => Ok(items[resolve_index(prop, items.len())?].clone()),
        Value::Str(s) => Ok(Value::Int(i64::from(
            s.as_bytes()[resolve_index(prop, s.len())?],
        ))),
        other => Err(format!(
            "cannot fetch {} from {}",
            super::format::sprint(prop),
            other.type_name()
        )
        .into()),
    }
}

/// Slice bounds the way expr-lang clamps them.
fn bounds(from: &Value, to: &Value, len: usize) -> Result<(usize, usize), Fail> {
    let int = |v: &Value| {
        v.as_int().ok_or_else(|| {
            Fail::Msg(format!(
                "cannot slice with {} (bounds must be numbers)",
                v.type_name()
            ))
        })
    };
    let len_i = i64::try_from(len).unwrap_or(i64::MAX);
    let clamp = |x: i64| {
        let x = if x < 0 { x.saturating_add(len_i) } else { x };
        x.clamp(0, len_i)
    };
    let b = clamp(int(to)?);
    let a = clamp(int(from)?).min(b);
    Ok((
        usize::try_from(a).unwrap_or(0),
        usize::try_from(b).unwrap_or(0),
    ))
}

/// `base[from:to]` on an array or a string (strings are sliced by bytes, as in Go).
pub(crate) fn slice(base: &Value, from: Option<Value>, to: Option<Value>) -> Result<Value, Fail> {
    let len = match base {
        Value::Array(items) => items.len(),
        Value::Str(s) => s.len(),
        other => return Err(format!("cannot slice {}", other.type_name()).into()),
    };
    let from = from.unwrap_or(Value::Int(0));
    let to = to.unwrap_or(Value::Int(i64::try_from(len).unwrap_or(i64::MAX)));
    let (a, b) = bounds(&from, &to, len)?;
    Ok(match base {
        Value::Array(items) => Value::array(items[a..b].to_vec()),
        Value::Str(s) => Value::str(String::from_utf8_lossy(&s.as_bytes()[a..b]).into_owned()),
        _ => Value::Nil,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_arithmetic_wraps_like_go() {
        let mut ctx = Ctx::default();
        let max = Value::Int(i64::MAX);
        let one = Value::Int(1);
        assert_eq!(
            arithmetic(BinaryOp::Add, &max, &one, &mut ctx),
            Ok(Value::Int(i64::MIN))
        );
        assert_eq!(
            arithmetic(
                BinaryOp::Mod,
                &Value::Int(i64::MIN),
                &Value::Int(-1),
                &mut ctx
            ),
            Ok(Value::Int(0))
        );
    }

    #[test]
    fn fetch_and_slice_edges() {
        let arr = Value::array(vec![Value::Int(1), Value::Int(2), Value::Int(3)]);
        assert_eq!(fetch(&arr, &Value::Int(-1)), Ok(Value::Int(3)));
        assert!(fetch(&arr, &Value::Int(3)).is_err());
        assert!(fetch(&arr, &Value::Int(i64::MIN)).is_err());
        assert!(fetch(&arr, &Value::str("x")).is_err());
        assert_eq!(
            fetch(&Value::str("é"), &Value::Int(0)),
            Ok(Value::Int(0xC3))
        );
        assert_eq!(
            slice(&Value::str("é"), Some(Value::Int(0)), Some(Value::Int(1))),
            Ok(Value::str("\u{FFFD}"))
        );
        assert_eq!(
            slice(&arr, Some(Value::Int(i64::MIN)), Some(Value::Int(i64::MAX))),
            Ok(arr.clone())
        );
        assert_eq!(
            slice(&arr, Some(Value::Int(2)), Some(Value::Int(1))),
            Ok(Value::array(vec![]))
        );
    }

    #[test]
    fn ranges_are_budgeted() {
        let mut ctx = Ctx::default();
        let r = range(&Value::Int(i64::MIN), &Value::Int(i64::MAX), &mut ctx);
        assert!(matches!(r, Err(Fail::Limit(_))));
        let empty = range(&Value::Int(3), &Value::Int(1), &mut Ctx::default());
        assert_eq!(empty, Ok(Value::array(vec![])));
    }
}

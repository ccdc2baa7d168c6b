//! sprig's number functions (`int`, `add`, `div`, `round`, `until`, `seq`, …) with the
//! conversions of `spf13/cast` that sprig relies on: strings are parsed, failures are 0.

use super::args::{arity, go_int, go_string};
use super::builtins::{parse_go_float, reserve};
use super::ctx::Ctx;
use super::error::Fail;
use super::sprig::Func;
use super::value::Value;

/// The number function `name`, if it is one.
pub(crate) fn lookup(name: &str) -> Option<Func> {
    Some(match name {
        "atoi" => |n, a, _| {
            arity(n, a, 1, 1)?;
            Ok(Value::Int(go_string(n, a, 0)?.parse::<i64>().unwrap_or(0)))
        },
        "int" | "int64" => |n, a, _| arity(n, a, 1, 1).map(|()| Value::Int(to_int64(&a[0]))),
        "float64" => |n, a, _| arity(n, a, 1, 1).map(|()| Value::Float(to_float64(&a[0]))),
        "add" => |_, a, _| {
            Ok(Value::Int(
                a.iter().fold(0, |s, v| s.wrapping_add(to_int64(v))),
            ))
        },
        "add1" => |n, a, _| arity(n, a, 1, 1).map(|()| Value::Int(to_int64(&a[0]).wrapping_add(1))),
        "mul" => mul,
        "sub" | "div" | "mod" => int_op,
        "max" | "min" => extreme,
        "floor" => |n, a, _| arity(n, a, 1, 1).map(|()| Value::Float(to_float64(&a[0]).floor())),
        "ceil" => |n, a, _| arity(n, a, 1, 1).map(|()| Value::Float(to_float64(&a[0]).ceil())),
        "round" => round,
        "until" | "untilStep" | "seq" => sequence,
        _ => return None,
    })
}

fn mul(name: &str, args: &[Value], _: &mut Ctx) -> Result<Value, Fail> {
    arity(name, args, 1, usize::MAX)?;
    let first = to_int64(&args[0]);
    Ok(Value::Int(
        args[1..]
            .iter()
            .fold(first, |p, v| p.wrapping_mul(to_int64(v))),
    ))
}

fn extreme(name: &str, args: &[Value], _: &mut Ctx) -> Result<Value, Fail> {
    arity(name, args, 1, usize::MAX)?;
    let values = args.iter().map(to_int64);
    let best = if name.ends_with("max") {
        values.max()
    } else {
        values.min()
    };
    Ok(Value::Int(best.unwrap_or(0)))
}

/// Go's `strconv.ParseInt(s, 0, 64)`: optional sign, `0x`/`0o`/`0b`/leading-`0` prefixes, `_`
/// between digits.
fn parse_int_base0(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    let magnitude = u64::from_str_radix(&digits.replace('_', ""), radix).ok()?;
    if neg {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// `cast.ToInt64` as sprig uses it: numbers truncated, bools 1/0, strings parsed (a zero
/// fraction allowed), anything else — and failures — 0.
pub(crate) fn to_int64(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        Value::Float(f) => *f as i64,
        Value::Bool(b) => i64::from(*b),
        Value::Str(s) => {
            let trimmed = match s.split_once('.') {
                Some((int, frac))
                    if is_decimal(int) && frac.chars().all(|c| c.is_ascii_digit()) =>
                {
                    match int {
                        "" | "-" | "+" => return 0,
                        int => int,
                    }
                }
                _ => s,
            };
            parse_int_base0(trimmed).unwrap_or(0)
        }
        _ => 0,
    }
}

/// `[-+]?[0-9]*`
fn is_decimal(s: &str) -> bool {
    s.strip_prefix(['-', '+'])
        .unwrap_or(s)
        .chars()
        .all(|c| c.is_ascii_digit())
}

/// `cast.ToFloat64`: numbers, bools 1/0, parsed strings; anything else 0.
pub(crate) fn to_float64(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Str(s) => parse_go_float(s).unwrap_or(0.0),
        _ => 0.0,
    }
}

fn int_op(name: &str, args: &[Value], _: &mut Ctx) -> Result<Value, Fail> {
    arity(name, args, 2, 2)?;
    let (a, b) = (to_int64(&args[0]), to_int64(&args[1]));
    Ok(Value::Int(match name {
        "sprig.sub" => a.wrapping_sub(b),
        _ if b == 0 => return Err("runtime error: integer divide by zero".into()),
        "sprig.div" => a.wrapping_div(b),
        _ => a.wrapping_rem(b),
    }))
}

/// sprig's `round(value, places, roundOn = .5)`.
fn round(name: &str, args: &[Value], _: &mut Ctx) -> Result<Value, Fail> {
    arity(name, args, 2, 3)?;
    let val = to_float64(&args[0]);
    let places = go_int(name, args, 1)? as f64;
    let round_on = match args.get(2) {
        Some(Value::Float(f)) => *f,
        Some(Value::Nil) | None => 0.5,
        Some(other) => {
            return Err(format!(
                "{name}: argument 3 must be a float, not {}",
                other.type_name()
            )
            .into());
        }
    };
    let pow = 10f64.powf(places);
    let digit = pow * val;
    let fraction = digit.fract();
    let rounded = if fraction >= round_on {
        digit.ceil()
    } else {
        digit.floor()
    };
    Ok(Value::Float(rounded / pow))
}

/// The integers from `start` towards `stop` (exclusive) by `step`, like sprig's `untilStep`.
fn until_step(start: i64, stop: i64, step: i64, ctx: &mut Ctx) -> Result<Vec<i64>, Fail> {
    let (s, e, d) = (i128::from(start), i128::from(stop), i128::from(step));
    let count = if e < s && d < 0 {
        (s - e + (-d) - 1) / (-d)
    } else if e >= s && d > 0 {
        (e - s + d - 1) / d
    } else {
        0
    };
    ctx.charge(usize::try_from(count).unwrap_or(usize::MAX))?;
    let count = usize::try_from(count).unwrap_or(0);
    Ok((0..count).map(|k| (s + d * k as i128) as i64).collect())
}

/// `until(n)`, `untilStep(start, stop, step)` and `seq(…)`.
pub(crate) fn sequence(name: &str, args: &[Value], ctx: &mut Ctx) -> Result<Value, Fail> {
    let ints = (0..args.len())
        .map(|i| go_int(name, args, i))
        .collect::<Result<Vec<i64>, Fail>>()?;
    let as_array = |v: Vec<i64>| Value::array(v.into_iter().map(Value::Int).collect());
    match name {
        "sprig.until" => {
            arity(name, args, 1, 1)?;
            let step = if ints[0] < 0 { -1 } else { 1 };
            until_step(0, ints[0], step, ctx).map(as_array)
        }
        "sprig.untilStep" => {
            arity(name, args, 3, 3)?;
            until_step(ints[0], ints[1], ints[2], ctx).map(as_array)
        }
        _ => {
            let values = match ints.as_slice() {
                [end] => {
                    let inc = if *end < 1 { -1 } else { 1 };
                    until_step(1, end.wrapping_add(inc), inc, ctx)?
                }
                [start, end] => {
                    let inc = if end < start { -1 } else { 1 };
                    until_step(*start, end.wrapping_add(inc), inc, ctx)?
                }
                [start, step, end] => {
                    let inc = if end < start { -1 } else { 1 };
                    if end < start && *step > 0 {
                        Vec::new()
                    } else {
                        until_step(*start, end.wrapping_add(inc), *step, ctx)?
                    }
                }
                _ => Vec::new(),
            };
            let text: Vec<String> = values.iter().map(i64::to_string).collect();
            let text = text.join(" ");
            reserve(ctx, text.len())?;
            Ok(Value::str(text))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cast_like_spf13() {
        let cases = [
            (Value::str("42"), 42),
            (Value::str("-7"), -7),
            (Value::str("10.00"), 10),
            (Value::str("10.7"), 10),
            (Value::str("0x1f"), 31),
            (Value::str("010"), 8),
            (Value::str("1_000"), 1000),
            (Value::str("08"), 0),
            (Value::str("abc"), 0),
            (Value::str(""), 0),
            (Value::str("-.5"), 0),
            (Value::str("0x1f.0"), 0),
            (Value::str("-9223372036854775808"), i64::MIN),
            (Value::str("9223372036854775808"), 0),
            (Value::Float(3.9), 3),
            (Value::Bool(true), 1),
            (Value::Nil, 0),
        ];
        for (v, want) in cases {
            assert_eq!(to_int64(&v), want, "{v:?}");
        }
        assert_eq!(to_float64(&Value::str("2.5")), 2.5);
        assert_eq!(to_float64(&Value::str("x")), 0.0);
    }

    #[test]
    fn steps_like_sprig() {
        let mut ctx = Ctx::default();
        let cases = [
            ((0, 5, 1), vec![0, 1, 2, 3, 4]),
            ((0, 5, 2), vec![0, 2, 4]),
            ((5, 0, -2), vec![5, 3, 1]),
            ((5, 0, 1), vec![]),
            ((0, 5, 0), vec![]),
            ((0, 0, 1), vec![]),
        ];
        for ((a, b, c), want) in cases {
            assert_eq!(until_step(a, b, c, &mut ctx), Ok(want), "{a} {b} {c}");
        }
        let huge = until_step(i64::MIN, i64::MAX, 1, &mut ctx);
        assert!(matches!(huge, Err(Fail::Limit(_))));
    }
}

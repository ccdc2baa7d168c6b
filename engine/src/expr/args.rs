//! Argument checks shared by the function libraries: counts and expected types, with messages
//! that name the function and the argument.

use super::error::Fail;
use super::value::Value;

/// Fails unless `min <= args.len() <= max`.
pub(crate) fn arity(name: &str, args: &[Value], min: usize, max: usize) -> Result<(), Fail> {
    let n = args.len();
    if n >= min && n <= max {
        return Ok(());
    }
    let expected = if min == max {
        min.to_string()
    } else if max == usize::MAX {
        format!("at least {min}")
    } else {
        format!("{min} to {max}")
    };
    Err(format!("invalid number of arguments for {name} (expected {expected}, got {n})").into())
}

fn wrong(name: &str, i: usize, want: &str, got: &Value) -> Fail {
    Fail::Msg(format!(
        "{name}: argument {} must be {want}, not {}",
        i + 1,
        got.type_name()
    ))
}

/// The `i`-th argument as a string.
pub(crate) fn string<'a>(name: &str, args: &'a [Value], i: usize) -> Result<&'a str, Fail> {
    match args.get(i) {
        Some(Value::Str(s)) => Ok(s),
        Some(other) => Err(wrong(name, i, "a string", other)),
        None => Err(format!("{name}: missing argument {}", i + 1).into()),
    }
}

/// The `i`-th argument as an integer; floats are truncated (expr-lang's `ToInt`).
pub(crate) fn int(name: &str, args: &[Value], i: usize) -> Result<i64, Fail> {
    match args.get(i) {
        Some(v @ (Value::Int(_) | Value::Float(_))) => Ok(v.as_int().unwrap_or(0)),
        Some(other) => Err(wrong(name, i, "a number", other)),
        None => Err(format!("{name}: missing argument {}", i + 1).into()),
    }
}

/// The `i`-th argument as a string where Go passes it to a `string` parameter: nil becomes "".
pub(crate) fn go_string<'a>(name: &str, args: &'a [Value], i: usize) -> Result<&'a str, Fail> {
    match args.get(i) {
        Some(Value::Nil) => Ok(""),
        _ => string(name, args, i),
    }
}

/// The `i`-th argument where Go passes it to an `int` parameter: an int, or nil for 0.
pub(crate) fn go_int(name: &str, args: &[Value], i: usize) -> Result<i64, Fail> {
    match args.get(i) {
        Some(Value::Int(n)) => Ok(*n),
        Some(Value::Nil) => Ok(0),
        Some(other) => Err(wrong(name, i, "an int", other)),
        None => Err(format!("{name}: missing argument {}", i + 1).into()),
    }
}

/// The `i`-th argument as an array.
pub(crate) fn array<'a>(name: &str, args: &'a [Value], i: usize) -> Result<&'a [Value], Fail> {
    match args.get(i) {
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(wrong(name, i, "an array", other)),
        None => Err(format!("{name}: missing argument {}", i + 1).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_function_and_argument() {
        let args = [Value::Int(1), Value::Nil];
        assert!(arity("f", &args, 2, 2).is_ok());
        let e = arity("f", &args, 3, usize::MAX);
        assert_eq!(
            e,
            Err(Fail::Msg(
                "invalid number of arguments for f (expected at least 3, got 2)".into()
            ))
        );
        assert!(matches!(arity("f", &args, 0, 1), Err(Fail::Msg(m)) if m.contains("0 to 1")));
        assert_eq!(
            string("upper", &args, 0),
            Err(Fail::Msg(
                "upper: argument 1 must be a string, not int".into()
            ))
        );
        assert_eq!(go_string("f", &args, 1), Ok(""));
        assert_eq!(go_int("f", &args, 1), Ok(0));
        assert_eq!(int("f", &[Value::Float(2.9)], 0), Ok(2));
        assert!(go_int("f", &[Value::Float(2.9)], 0).is_err());
        assert!(array("f", &args, 0).is_err());
        assert!(string("f", &args, 5).is_err());
    }
}

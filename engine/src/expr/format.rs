//! Go's ways of turning values into text, which Argo's output depends on: `fmt`'s `%v`
//! (`string(x)`), `encoding/json` (rendered results, `toJson`, `toJSON`) with its float format
//! and HTML escaping, and `strconv.Quote` (`sprig.quote`).

use super::value::Value;

/// The shortest decimal digits of `|f|` and the exponent `e` such that `|f| = 0.d1d2… × 10^e`.
fn shortest_digits(f: f64) -> (String, i32) {
    let s = format!("{:e}", f.abs());
    let (mantissa, exp) = s.split_once('e').unwrap_or((s.as_str(), "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let exp: i32 = exp.parse().unwrap_or(0);
    if digits.chars().all(|c| c == '0') {
        return ("0".to_owned(), 1);
    }
    (digits, exp + 1)
}

fn special(f: f64) -> Option<&'static str> {
    if f.is_nan() {
        Some("NaN")
    } else if f == f64::INFINITY {
        Some("+Inf")
    } else if f == f64::NEG_INFINITY {
        Some("-Inf")
    } else {
        None
    }
}

fn sign(f: f64) -> &'static str {
    if f.is_sign_negative() { "-" } else { "" }
}

/// `%f` with the shortest digits.
fn fixed(f: f64) -> String {
    let (digits, dp) = shortest_digits(f);
    let n = digits.len() as i32;
    let body = if dp <= 0 {
        format!("0.{}{digits}", "0".repeat((-dp) as usize))
    } else if dp >= n {
        format!("{digits}{}", "0".repeat((dp - n) as usize))
    } else {
        let (int, frac) = digits.split_at(dp as usize);
        format!("{int}.{frac}")
    };
    format!("{}{body}", sign(f))
}

/// `%e` with the shortest digits and Go's at-least-two-digit exponent.
fn scientific(f: f64) -> String {
    let (digits, dp) = shortest_digits(f);
    let exp = if digits == "0" { 0 } else { dp - 1 };
    let (first, rest) = digits.split_at(1);
    let mantissa = if rest.is_empty() {
        first.to_owned()
    } else {
        format!("{first}.{rest}")
    };
    let exp_sign = if exp < 0 { '-' } else { '+' };
    format!("{}{mantissa}e{exp_sign}{:02}", sign(f), exp.abs())
}

/// Go's `%v` of a float64 (`strconv.FormatFloat(f, 'g', -1, 64)`): `1e+06`, `0.5`, `123456`.
pub(crate) fn float_v(f: f64) -> String {
    if let Some(s) = special(f) {
        return s.to_owned();
    }
    let (digits, dp) = shortest_digits(f);
    let exp = if digits == "0" { 0 } else { dp - 1 };
    if !(-4..6).contains(&exp) {
        scientific(f)
    } else {
        fixed(f)
    }
}

/// Go's `encoding/json` float: plain decimals between 1e-6 and 1e21, else `1e+21`, `1e-7`.
pub(crate) fn float_json(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = scientific(f);
        // encoding/json writes e-07 as e-7.
        match s.split_once("e-0") {
            Some((m, e)) => format!("{m}e-{e}"),
            None => s,
        }
    } else {
        fixed(f)
    }
}

/// Go's `fmt.Sprintf("%v", x)`: `<nil>`, `[1 2]`, `map[a:1 b:x]`.
pub(crate) fn sprint(v: &Value) -> String {
    let mut out = String::new();
    write_v(v, &mut out);
    out
}

fn write_v(v: &Value, out: &mut String) {
    match v {
        Value::Nil => out.push_str("<nil>"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&float_v(*f)),
        Value::Str(s) => out.push_str(s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_v(item, out);
            }
            out.push(']');
        }
        Value::Map(entries) => {
            out.push_str("map[");
            for (i, (k, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                write_v(item, out);
            }
            out.push(']');
        }
    }
}

/// Go's `json.Marshal` (`indent` empty) or `json.MarshalIndent(v, "", indent)`: sorted keys,
/// HTML-safe escapes, Go's float format; fails on NaN and infinities.
pub(crate) fn to_json(v: &Value, indent: &str) -> Result<String, String> {
    let mut out = String::new();
    write_json(v, indent, 0, &mut out)?;
    Ok(out)
}

fn newline(indent: &str, level: usize, out: &mut String) {
    if !indent.is_empty() {
        out.push('\n');
        for _ in 0..level {
            out.push_str(indent);
        }
    }
}

fn write_json(v: &Value, indent: &str, level: usize, out: &mut String) -> Result<(), String> {
    match v {
        Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => {
            if special(*f).is_some() {
                return Err(format!("json: unsupported value: {}", float_v(*f)));
            }
            out.push_str(&float_json(*f));
        }
        Value::Str(s) => write_json_string(s, out),
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(indent, level + 1, out);
                write_json(item, indent, level + 1, out)?;
            }
            newline(indent, level, out);
            out.push(']');
        }
        Value::Map(entries) if entries.is_empty() => out.push_str("{}"),
        Value::Map(entries) => {
            out.push('{');
            for (i, (k, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(indent, level + 1, out);
                write_json_string(k, out);
                out.push(':');
                if !indent.is_empty() {
                    out.push(' ');
                }
                write_json(item, indent, level + 1, out)?;
            }
            newline(indent, level, out);
            out.push('}');
        }
    }
    Ok(())
}

/// A JSON string the way Go's `encoding/json` writes it (escaping `<`, `>`, `&`, U+2028/9).
pub(crate) fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Go's `strconv.Quote` (`%q`): a double-quoted string with Go escapes for what is not printable.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                if (c as u32) < 0x10000 {
                    out.push_str(&format!("\\u{:04x}", c as u32));
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn floats_like_go_fmt_v() {
        let cases = [
            (0.5, "0.5"),
            (2.0, "2"),
            (-2.5, "-2.5"),
            (123456.0, "123456"),
            (1e6, "1e+06"),
            (1234567.0, "1.234567e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1e21, "1e+21"),
            (0.0, "0"),
            (-0.0, "-0"),
            (f64::INFINITY, "+Inf"),
            (f64::NAN, "NaN"),
            (0.1 + 0.2, "0.30000000000000004"),
        ];
        for (f, want) in cases {
            assert_eq!(float_v(f), want, "{f}");
        }
    }

    #[test]
    fn floats_like_go_json() {
        let cases = [
            (2.0, "2"),
            (0.5, "0.5"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (1.5e-7, "1.5e-7"),
            (0.000001, "0.000001"),
            (-3.25, "-3.25"),
            (1e-10, "1e-10"),
        ];
        for (f, want) in cases {
            assert_eq!(float_json(f), want, "{f}");
        }
    }

    #[test]
    fn sprint_like_go() {
        let map = Value::map(BTreeMap::from([
            ("b".to_owned(), Value::str("x y")),
            ("a".to_owned(), Value::Int(1)),
        ]));
        let v = Value::array(vec![Value::Nil, Value::Bool(true), Value::Float(1.5), map]);
        assert_eq!(sprint(&v), "[<nil> true 1.5 map[a:1 b:x y]]");
    }

    #[test]
    fn json_like_go() {
        let map = Value::map(BTreeMap::from([
            ("k".to_owned(), Value::str("<a&b>\"\n\u{1}")),
            (
                "n".to_owned(),
                Value::array(vec![Value::Int(1), Value::Float(2.0)]),
            ),
            ("e".to_owned(), Value::array(vec![])),
        ]));
        assert_eq!(
            to_json(&map, "").as_deref(),
            Ok(r#"{"e":[],"k":"\u003ca\u0026b\u003e\"\n\u0001","n":[1,2]}"#)
        );
        assert_eq!(
            to_json(&map, "  ").as_deref(),
            Ok(
                "{\n  \"e\": [],\n  \"k\": \"\\u003ca\\u0026b\\u003e\\\"\\n\\u0001\",\n  \"n\": [\n    1,\n    2\n  ]\n}"
            )
        );
        assert!(to_json(&Value::Float(f64::NAN), "").is_err());
    }

    #[test]
    fn quote_like_go() {
        assert_eq!(go_quote("a\"b\\c\n\u{1}é"), "\"a\\\"b\\\\c\\n\\x01é\"");
        assert_eq!(go_quote("\u{85}"), "\"\\u0085\"");
    }
}

//! Writes JSON values as block-style YAML that reads back to the same values.

use serde_json::Value;

use super::{Resolved, ScalarStyle, is_null_text, resolve_scalar};

/// Renders `value` as a YAML document (block style, two-space indentation, keys in the value's order).
pub fn to_yaml_string(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_map(&mut out, map, 0),
        Value::Array(items) if !items.is_empty() => write_seq(&mut out, items, 0),
        scalar => {
            out.push_str(&scalar_text(scalar, 0));
            out.push('\n');
        }
    }
    out
}

fn indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

fn write_map(out: &mut String, map: &serde_json::Map<String, Value>, level: usize) {
    for (key, value) in map {
        indent(out, level);
        out.push_str(&string_text(key, level, true));
        out.push(':');
        write_child(out, value, level, false);
    }
}

fn write_seq(out: &mut String, items: &[Value], level: usize) {
    for item in items {
        indent(out, level);
        out.push('-');
        write_child(out, item, level, true);
    }
}

/// Writes the value after `key:` or `-`: inline for scalars and empty collections, else on the next lines.
fn write_child(out: &mut String, value: &Value, level: usize, in_seq: bool) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            if in_seq {
                // `- key: value` with the first key on the dash's line.
                out.push(' ');
                let mut first = String::new();
                write_map(&mut first, map, level + 2);
                out.push_str(first.trim_start_matches(' '));
            } else {
                out.push('\n');
                write_map(out, map, level + 2);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            // A list under a key starts at the key's own indentation, as kubectl writes it.
            write_seq(out, items, if in_seq { level + 2 } else { level });
        }
        scalar => {
            out.push(' ');
            out.push_str(&scalar_text(scalar, level + 2));
            out.push('\n');
        }
    }
}

fn scalar_text(value: &Value, level: usize) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string_text(s, level, false),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

/// A string as plain, literal-block or double-quoted YAML, whichever reads back to exactly `s`.
fn string_text(s: &str, level: usize, is_key: bool) -> String {
    if is_plain_safe(s) {
        return s.to_string();
    }
    if !is_key && s.contains('\n') && is_block_safe(s) {
        let chomp = if s.ends_with('\n') { "" } else { "-" };
        let mut out = format!("|{chomp}\n");
        let body = s.strip_suffix('\n').unwrap_or(s);
        for line in body.split('\n') {
            if !line.is_empty() {
                indent(&mut out, level);
                out.push_str(line);
            }
            out.push('\n');
        }
        out.pop();
        return out;
    }
    serde_json::to_string(s).unwrap_or_default()
}

fn is_plain_safe(s: &str) -> bool {
    if s.is_empty() || is_null_text(s) {
        return false;
    }
    if !matches!(resolve_scalar(s, ScalarStyle::Plain), Resolved::Str(_)) {
        return false;
    }
    if matches!(
        s,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
    ) {
        return false;
    }
    let first = s.chars().next().unwrap_or(' ');
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) || first.is_whitespace() {
        return false;
    }
    if s.ends_with(' ') || s.ends_with(':') {
        return false;
    }
    if s.contains(": ") || s.contains(" #") || s.contains('\t') {
        return false;
    }
    s.chars().all(|c| !c.is_control())
}

fn is_block_safe(s: &str) -> bool {
    let body = s.strip_suffix('\n').unwrap_or(s);
    !body.ends_with('\n')
        && !body.starts_with([' ', '\t', '\n'])
        && s.chars().all(|c| c == '\n' || !c.is_control())
        && !body.split('\n').any(|l| l.ends_with([' ', '\t']))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{parse_stream, to_json};

    fn round_trip(value: Value) {
        let text = to_yaml_string(&value);
        let docs = parse_stream(&text).unwrap_or_else(|e| panic!("{e} in\n{text}"));
        assert_eq!(to_json(&docs[0]), value, "\n{text}");
    }

    #[test]
    fn values_read_back_identically() {
        round_trip(serde_json::json!({
            "apiVersion": "argoproj.io/v1alpha1",
            "metadata": {"name": "x", "labels": {"a": "true", "b": "1", "c": "", "d": "null"}},
            "spec": {
                "templates": [
                    {"name": "a", "script": {"source": "echo hi\nexit 0\n", "args": ["- x", "a: b", "#c"]}},
                    {"name": "b", "steps": [[{"name": "s"}], []], "value": 1.5, "flag": false, "none": null},
                    {"text": "  leading", "trail": "x ", "multi": "a\n  b", "crlf": "a\r\nb", "empty": {}}
                ],
                "yes": "yes", "on": "on", "colon": "http://x", "sharp": "a#b", "tab": "a\tb"
            }
        }));
        round_trip(serde_json::json!([1, "two", [3], {"four": [5]}]));
        round_trip(serde_json::json!("just a string"));
    }

    #[test]
    fn reads_like_kubectl() {
        let text = to_yaml_string(&serde_json::json!({"a": {"b": [{"c": 1, "d": 2}]}}));
        assert_eq!(text, "a:\n  b:\n  - c: 1\n    d: 2\n");
    }
}

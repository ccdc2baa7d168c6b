//! The evaluator's values: expr-lang's dynamic types (nil, bool, int, float, string, array,
//! map) with cheap clones, and their conversions to and from `serde_json::Value`.

use std::collections::BTreeMap;
use std::rc::Rc;

use serde_json::Value as Json;

/// How deeply a JSON value may nest to be converted (guards the recursion of every
/// function that walks values).
pub(crate) const MAX_VALUE_DEPTH: usize = 512;

/// A value during evaluation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    Array(Rc<Vec<Value>>),
    Map(Rc<BTreeMap<String, Value>>),
}

impl Value {
    /// A string value.
    pub fn str(s: impl Into<Rc<str>>) -> Value {
        Value::Str(s.into())
    }

    /// An array value.
    pub fn array(items: Vec<Value>) -> Value {
        Value::Array(Rc::new(items))
    }

    /// A map value.
    pub fn map(entries: BTreeMap<String, Value>) -> Value {
        Value::Map(Rc::new(entries))
    }

    /// expr-lang's `type()` name.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::Array(_) => "array",
            Value::Map(_) => "map",
        }
    }

    /// The number as a float, if this is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// The number truncated to an integer (Go's `int(x)`), if this is a number.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Float(f) => Some(*f as i64),
            _ => None,
        }
    }

    /// The string, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Whether this is nil.
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    /// Converts a JSON value, keeping integers as ints (the environment's values).
    pub fn from_json(json: &Json) -> Result<Value, String> {
        convert(json, false, 0)
    }

    /// Converts parsed JSON the way Go's `encoding/json` decodes into `any`: every number is
    /// a float (`fromJSON`, `jsonpath`, `sprig.fromJson`).
    pub fn from_parsed_json(json: &Json) -> Result<Value, String> {
        convert(json, true, 0)
    }

    /// Parses JSON text into a value with Go's number semantics.
    pub fn parse_json(text: &str) -> Result<Value, String> {
        let json: Json = serde_json::from_str(text).map_err(|e| e.to_string())?;
        Value::from_parsed_json(&json)
    }

    /// Converts to JSON; fails on NaN and infinities, which JSON cannot represent.
    pub fn to_json(&self) -> Result<Json, String> {
        Ok(match self {
            Value::Nil => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(i) => Json::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(Json::Number)
                .ok_or_else(|| {
                    format!("json: unsupported value: {}", super::format::float_v(*f))
                })?,
            Value::Str(s) => Json::String(s.to_string()),
            Value::Array(items) => Json::Array(
                items
                    .iter()
                    .map(Value::to_json)
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            Value::Map(entries) => Json::Object(
                entries
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), v.to_json()?)))
                    .collect::<Result<serde_json::Map<_, _>, String>>()?,
            ),
        })
    }

    /// How much work looking at this value once takes: its length, not its depth.
    pub fn shallow_size(&self) -> usize {
        match self {
            Value::Str(s) => 1 + s.len() / 16,
            Value::Array(items) => 1 + items.len(),
            Value::Map(entries) => 1 + entries.len(),
            _ => 1,
        }
    }

    /// How much of the evaluation budget building this value costs: one unit per element or
    /// entry, one per 16 bytes of string.
    pub fn cost(&self) -> usize {
        match self {
            Value::Str(s) => 1 + s.len() / 16,
            Value::Array(items) => items.iter().fold(1usize, |n, v| n.saturating_add(v.cost())),
            Value::Map(entries) => entries.iter().fold(1usize, |n, (k, v)| {
                n.saturating_add(1 + k.len() / 16).saturating_add(v.cost())
            }),
            _ => 1,
        }
    }
}

fn convert(json: &Json, floats: bool, depth: usize) -> Result<Value, String> {
    if depth > MAX_VALUE_DEPTH {
        return Err(format!(
            "value nested more than {MAX_VALUE_DEPTH} levels deep"
        ));
    }
    Ok(match json {
        Json::Null => Value::Nil,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) if !floats => Value::Int(i),
            _ => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Value::str(s.as_str()),
        Json::Array(items) => Value::array(
            items
                .iter()
                .map(|v| convert(v, floats, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Json::Object(entries) => Value::map(
            entries
                .iter()
                .map(|(k, v)| Ok((k.clone(), convert(v, floats, depth + 1)?)))
                .collect::<Result<_, String>>()?,
        ),
    })
}

/// expr-lang's `==`: numbers compare across int and float, arrays element-wise with `==`,
/// maps with Go's strict deep equality, nil only equals nil.
pub(crate) fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
            a.as_f64() == b.as_f64()
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| equal(p, q))
        }
        _ => deep_equal(a, b),
    }
}

/// Go's `reflect.DeepEqual` on decoded values: same types all the way down (an int never
/// equals a float).
pub(crate) fn deep_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Nil, Value::Nil) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| deep_equal(p, q))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| deep_equal(v, w)))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_round_trip_keeps_ints_and_floats() {
        let j = json!({"a": [1, 2.5, "x", null, true], "b": {"c": -3}});
        let v = Value::from_json(&j).expect("converts");
        assert_eq!(v.to_json().expect("back"), j);
        let parsed = Value::parse_json("[1, 2]").expect("parses");
        assert_eq!(
            parsed,
            Value::array(vec![Value::Float(1.0), Value::Float(2.0)])
        );
    }

    #[test]
    fn non_finite_floats_are_not_json() {
        assert!(Value::Float(f64::INFINITY).to_json().is_err());
        assert!(
            Value::array(vec![Value::Float(f64::NAN)])
                .to_json()
                .is_err()
        );
    }

    #[test]
    fn deep_json_is_refused() {
        let mut j = json!(1);
        for _ in 0..(MAX_VALUE_DEPTH + 5) {
            j = json!([j]);
        }
        assert!(Value::from_json(&j).is_err());
    }

    #[test]
    fn equality_rules() {
        let int = Value::Int(1);
        let float = Value::Float(1.0);
        assert!(equal(&int, &float));
        assert!(!deep_equal(&int, &float));
        let m1 = Value::map(BTreeMap::from([("a".to_owned(), int.clone())]));
        let m2 = Value::map(BTreeMap::from([("a".to_owned(), float.clone())]));
        assert!(!equal(&m1, &m2));
        assert!(equal(&m1, &m1.clone()));
        assert!(equal(&Value::array(vec![int]), &Value::array(vec![float])));
        assert!(equal(&Value::Nil, &Value::Nil));
        assert!(!equal(&Value::Nil, &Value::Bool(false)));
        assert!(!equal(&Value::str("1"), &Value::Int(1)));
    }

    #[test]
    fn costs_grow_with_size() {
        assert_eq!(Value::Int(3).cost(), 1);
        assert_eq!(Value::str("x".repeat(32)).cost(), 3);
        assert_eq!(Value::array(vec![Value::Nil, Value::Nil]).cost(), 3);
    }
}

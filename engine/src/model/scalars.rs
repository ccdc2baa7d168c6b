//! Scalars that Argo accepts in more than one YAML form.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A string that Argo also accepts as a number or a boolean (Go's `AnyString`).
///
/// Whatever form the document used, the value is kept as text: `3` becomes `"3"`,
/// `true` becomes `"true"`. It always serializes as a string.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AnyString(pub String);

impl AnyString {
    /// The text of the value.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AnyString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for AnyString {
    fn from(s: &str) -> Self {
        AnyString(s.to_owned())
    }
}

impl From<String> for AnyString {
    fn from(s: String) -> Self {
        AnyString(s)
    }
}

impl Serialize for AnyString {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// Formats a float the way Go's `strconv.FormatFloat(v, 'f', -1, 64)` does:
/// shortest round-trip digits, never an exponent.
fn float_text(v: f64) -> String {
    v.to_string()
}

struct AnyStringVisitor;

impl Visitor<'_> for AnyStringVisitor {
    type Value = AnyString;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, a number or a boolean")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<AnyString, E> {
        Ok(AnyString(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<AnyString, E> {
        Ok(AnyString(v))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<AnyString, E> {
        Ok(AnyString(v.to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<AnyString, E> {
        Ok(AnyString(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<AnyString, E> {
        Ok(AnyString(v.to_string()))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<AnyString, E> {
        Ok(AnyString(v.to_string()))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<AnyString, E> {
        Ok(AnyString(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<AnyString, E> {
        Ok(AnyString(float_text(v)))
    }
}

impl<'de> Deserialize<'de> for AnyString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(AnyStringVisitor)
    }
}

/// A number kept as its text (Go's `Amount`, a `json.Number`), e.g. a histogram bucket.
///
/// Accepts a number or a string; serializes as a number when the text is one.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount(pub String);

impl Amount {
    /// The number as `f64`, if the text is a number.
    pub fn as_f64(&self) -> Option<f64> {
        self.0.trim().parse().ok()
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if let Ok(i) = self.0.parse::<i64>() {
            serializer.serialize_i64(i)
        } else if let Ok(u) = self.0.parse::<u64>() {
            serializer.serialize_u64(u)
        } else if let Some(f) = self.as_f64().filter(|f| f.is_finite()) {
            serializer.serialize_f64(f)
        } else {
            serializer.serialize_str(&self.0)
        }
    }
}

struct AmountVisitor;

impl Visitor<'_> for AmountVisitor {
    type Value = Amount;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Amount, E> {
        Ok(Amount(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Amount, E> {
        Ok(Amount(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Amount, E> {
        Ok(Amount(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Amount, E> {
        Ok(Amount(v.to_string()))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Amount, E> {
        Ok(Amount(v.to_string()))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Amount, E> {
        Ok(Amount(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Amount, E> {
        Ok(Amount(float_text(v)))
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(AmountVisitor)
    }
}

/// One entry of `withItems`: any JSON value (Go's `Item`).
pub type Item = serde_json::Value;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_string_from_number_bool_and_string() {
        let v: Vec<AnyString> = serde_json::from_str(r#"[1, 2.5, true, "x", -3, 1e3]"#).unwrap();
        let texts: Vec<&str> = v.iter().map(AnyString::as_str).collect();
        assert_eq!(texts, ["1", "2.5", "true", "x", "-3", "1000"]);
        assert_eq!(serde_json::to_string(&v[0]).unwrap(), r#""1""#);
    }

    #[test]
    fn amount_keeps_text_and_serializes_as_number() {
        let v: Vec<Amount> = serde_json::from_str(r#"[0.01, 5, "2.5"]"#).unwrap();
        assert_eq!(v[0].0, "0.01");
        assert_eq!(v[2].as_f64(), Some(2.5));
        assert_eq!(serde_json::to_string(&v).unwrap(), "[0.01,5,2.5]");
    }
}

//! A serde `Deserializer` over [`Node`] trees that keeps positions and finds unknown fields.
//!
//! Typed structs (ours and Kubernetes') ask for their fields through `deserialize_struct`, and skip a key
//! they do not know by asking for its value with `deserialize_ignored_any`. This deserializer records
//! every such key with its span, the struct's name and the fields it does know, so that *all* unknown
//! fields of a document are reported at once, with a suggestion — including inside Kubernetes types whose
//! own `Deserialize` silently ignores them.

use std::cell::RefCell;
use std::fmt;

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, EnumAccess, IntoDeserializer, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};

use super::{Node, NodeKind, Resolved, ScalarStyle, Seg, Span, is_null_text, resolve_scalar};

/// A key that no field of the struct it appears in accepts.
#[derive(Debug, Clone, PartialEq)]
pub struct UnknownField {
    /// Path to the key, the key itself included.
    pub path: Vec<Seg>,
    /// The key as written.
    pub key: String,
    /// Where the key is written.
    pub span: Span,
    /// The Rust name of the struct the key appears in (e.g. `Container`).
    pub struct_name: &'static str,
    /// The fields that struct accepts.
    pub expected: &'static [&'static str],
}

/// A value of the wrong shape or type.
#[derive(Debug, Clone, PartialEq)]
pub struct DeError {
    /// What is wrong.
    pub message: String,
    /// Where, when known.
    pub span: Option<Span>,
    /// The path of the offending value, when known.
    pub path: Option<Vec<Seg>>,
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError {
            message: msg.to_string(),
            span: None,
            path: None,
        }
    }
}

/// What deserializing a node into a type found.
#[derive(Debug)]
pub struct Outcome<T> {
    /// The value, or the first error that made it impossible.
    pub value: Result<T, DeError>,
    /// Every unknown key met on the way (also when `value` is an error).
    pub unknown: Vec<UnknownField>,
}

/// Deserializes `node` into `T`, collecting unknown fields along the way.
pub fn from_node<T: DeserializeOwned>(node: &Node) -> Outcome<T> {
    let unknown = RefCell::new(Vec::new());
    let root = Link::Root;
    let value = T::deserialize(NodeDe {
        node,
        path: &root,
        field: None,
        unknown: &unknown,
    });
    Outcome {
        value,
        unknown: unknown.into_inner(),
    }
}

/// A path as a linked list on the stack, turned into a `Vec` only when an error needs it.
enum Link<'p> {
    Root,
    Key(&'p Link<'p>, &'p str),
    Index(&'p Link<'p>, usize),
}

impl Link<'_> {
    fn to_vec(&self) -> Vec<Seg> {
        let mut out = Vec::new();
        let mut link = self;
        loop {
            match link {
                Link::Root => break,
                Link::Key(parent, k) => {
                    out.push(Seg::Key((*k).to_string()));
                    link = parent;
                }
                Link::Index(parent, i) => {
                    out.push(Seg::Index(*i));
                    link = parent;
                }
            }
        }
        out.reverse();
        out
    }
}

/// The struct a value is a field of: where unknown keys are reported.
#[derive(Clone, Copy)]
struct FieldCtx<'a> {
    key: &'a Node,
    struct_name: &'static str,
    fields: &'static [&'static str],
}

struct NodeDe<'a, 'p> {
    node: &'a Node,
    path: &'p Link<'p>,
    field: Option<FieldCtx<'a>>,
    unknown: &'a RefCell<Vec<UnknownField>>,
}

fn describe(node: &Node) -> String {
    match &node.kind {
        NodeKind::Scalar(s, ScalarStyle::Quoted) => format!("the string {s:?}"),
        NodeKind::Scalar(s, ScalarStyle::Plain) if is_null_text(s) => "nothing (null)".into(),
        NodeKind::Scalar(s, ScalarStyle::Plain) => format!("`{s}`"),
        NodeKind::Seq(_) => "a list".into(),
        NodeKind::Map(_) => "a mapping".into(),
    }
}

impl<'a, 'p> NodeDe<'a, 'p> {
    fn error(&self, message: String) -> DeError {
        DeError {
            message,
            span: Some(self.node.span),
            path: Some(self.path.to_vec()),
        }
    }

    /// Gives an error raised by a visitor the position of this node, unless a deeper node already did.
    fn locate(&self, mut err: DeError) -> DeError {
        if err.span.is_none() {
            err.span = Some(self.node.span);
            err.path = Some(self.path.to_vec());
        }
        err
    }

    fn expected(&self, what: &str) -> DeError {
        self.error(format!("expected {what}, found {}", describe(self.node)))
    }

    fn scalar(&self) -> Option<(&'a str, ScalarStyle)> {
        match &self.node.kind {
            NodeKind::Scalar(s, style) => Some((s.as_str(), *style)),
            _ => None,
        }
    }

    fn number<'de, V: Visitor<'de>>(self, visitor: V, what: &str) -> Result<V::Value, DeError> {
        let resolved = match self.scalar() {
            Some((text, ScalarStyle::Plain)) => resolve_scalar(text, ScalarStyle::Plain),
            Some((text, ScalarStyle::Quoted)) => {
                return Err(self.error(format!(
                    "expected {what}, found the string {text:?}; write it without quotes"
                )));
            }
            None => return Err(self.expected(what)),
        };
        let result = match resolved {
            Resolved::Int(i) => visitor.visit_i64(i),
            Resolved::UInt(u) => visitor.visit_u64(u),
            Resolved::Float(f) => visitor.visit_f64(f),
            _ => return Err(self.expected(what)),
        };
        result.map_err(|e| self.locate(e))
    }

    fn seq<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.kind {
            NodeKind::Seq(items) => visitor
                .visit_seq(Items {
                    items,
                    index: 0,
                    path: self.path,
                    unknown: self.unknown,
                })
                .map_err(|e| self.locate(e)),
            _ if self.node.is_null() => visitor
                .visit_seq(Items {
                    items: &[],
                    index: 0,
                    path: self.path,
                    unknown: self.unknown,
                })
                .map_err(|e| self.locate(e)),
            _ => Err(self.expected("a list")),
        }
    }

    fn map<'de, V: Visitor<'de>>(
        self,
        visitor: V,
        shape: Option<(&'static str, &'static [&'static str])>,
    ) -> Result<V::Value, DeError> {
        let entries: &[(Node, Node)] = match &self.node.kind {
            NodeKind::Map(entries) => entries,
            _ if self.node.is_null() => &[],
            _ => {
                return Err(match shape {
                    Some((name, _)) => self.expected(&format!("a mapping ({name})")),
                    None => self.expected("a mapping"),
                });
            }
        };
        visitor
            .visit_map(Entries {
                entries,
                index: 0,
                path: self.path,
                shape,
                unknown: self.unknown,
            })
            .map_err(|e| self.locate(e))
    }
}

macro_rules! numbers {
    ($($method:ident => $what:literal),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
                self.number(visitor, $what)
            }
        )*
    };
}

impl<'de> de::Deserializer<'de> for NodeDe<'_, '_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let result = match &self.node.kind {
            NodeKind::Scalar(text, style) => match resolve_scalar(text, *style) {
                Resolved::Null => visitor.visit_unit(),
                Resolved::Bool(b) => visitor.visit_bool(b),
                Resolved::Int(i) => visitor.visit_i64(i),
                Resolved::UInt(u) => visitor.visit_u64(u),
                Resolved::Float(f) => visitor.visit_f64(f),
                Resolved::Str(s) => visitor.visit_str(s),
            },
            NodeKind::Seq(_) => return self.seq(visitor),
            NodeKind::Map(_) => return self.map(visitor, None),
        };
        result.map_err(|e| self.locate(e))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.scalar() {
            Some((text, ScalarStyle::Plain)) => match super::bool_text(text) {
                Some(b) => visitor.visit_bool(b).map_err(|e| self.locate(e)),
                None => Err(self.expected("`true` or `false`")),
            },
            Some((text, ScalarStyle::Quoted)) => Err(self.error(format!(
                "expected `true` or `false`, found the string {text:?}; write it without quotes"
            ))),
            None => Err(self.expected("`true` or `false`")),
        }
    }

    numbers! {
        deserialize_i8 => "an integer", deserialize_i16 => "an integer", deserialize_i32 => "an integer",
        deserialize_i64 => "an integer", deserialize_i128 => "an integer",
        deserialize_u8 => "a non-negative integer", deserialize_u16 => "a non-negative integer",
        deserialize_u32 => "a non-negative integer", deserialize_u64 => "a non-negative integer",
        deserialize_u128 => "a non-negative integer",
        deserialize_f32 => "a number", deserialize_f64 => "a number",
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.scalar() {
            Some((text, ScalarStyle::Plain)) if is_null_text(text) => visitor.visit_str(""),
            Some((text, _)) => visitor.visit_str(text),
            None => return Err(self.expected("a string")),
        }
        .map_err(|e| self.locate(e))
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.node.is_null() {
            visitor.visit_none().map_err(|e| self.locate(e))
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.node.is_null() {
            visitor.visit_unit().map_err(|e| self.locate(e))
        } else {
            Err(self.expected("nothing (null)"))
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.seq(visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.map(visitor, None)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.map(visitor, Some((name, fields)))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let result = match &self.node.kind {
            NodeKind::Scalar(text, _) => visitor.visit_enum(text.as_str().into_deserializer()),
            NodeKind::Map(entries) if entries.len() == 1 => {
                let (key, value) = &entries[0];
                visitor.visit_enum(Variant {
                    key,
                    value,
                    path: self.path,
                    unknown: self.unknown,
                })
            }
            _ => {
                return Err(self.expected(&format!("one of {}", quote_list(variants))));
            }
        };
        result.map_err(|e| {
            let mut e = self.locate(e);
            if e.message.starts_with("unknown variant") && !variants.is_empty() {
                e.message = format!(
                    "{} is not one of {}",
                    describe(self.node),
                    quote_list(variants)
                );
            }
            e
        })
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if let Some(field) = self.field {
            let key = super::key_text(field.key);
            let path = self.path.to_vec();
            self.unknown.borrow_mut().push(UnknownField {
                path,
                key,
                span: field.key.span,
                struct_name: field.struct_name,
                expected: field.fields,
            });
        }
        visitor.visit_unit()
    }
}

/// `a`, `b` or `c`, for messages.
pub fn quote_list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("`{s}`")).collect();
    match quoted.len() {
        0 => String::new(),
        1 => quoted[0].clone(),
        n => format!("{} or {}", quoted[..n - 1].join(", "), quoted[n - 1]),
    }
}

struct Items<'a, 'p> {
    items: &'a [Node],
    index: usize,
    path: &'p Link<'p>,
    unknown: &'a RefCell<Vec<UnknownField>>,
}

impl<'de> SeqAccess<'de> for Items<'_, '_> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        let Some(node) = self.items.get(self.index) else {
            return Ok(None);
        };
        let link = Link::Index(self.path, self.index);
        self.index += 1;
        seed.deserialize(NodeDe {
            node,
            path: &link,
            field: None,
            unknown: self.unknown,
        })
        .map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len() - self.index)
    }
}

struct Entries<'a, 'p> {
    entries: &'a [(Node, Node)],
    index: usize,
    path: &'p Link<'p>,
    shape: Option<(&'static str, &'static [&'static str])>,
    unknown: &'a RefCell<Vec<UnknownField>>,
}

impl<'de> MapAccess<'de> for Entries<'_, '_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some((key, _)) = self.entries.get(self.index) else {
            return Ok(None);
        };
        let text = key.as_str().unwrap_or_default();
        let link = Link::Key(self.path, text);
        seed.deserialize(NodeDe {
            node: key,
            path: &link,
            field: None,
            unknown: self.unknown,
        })
        .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let (key, value) = &self.entries[self.index];
        self.index += 1;
        let text = key.as_str().unwrap_or_default();
        let link = Link::Key(self.path, text);
        let field = self.shape.map(|(struct_name, fields)| FieldCtx {
            key,
            struct_name,
            fields,
        });
        seed.deserialize(NodeDe {
            node: value,
            path: &link,
            field,
            unknown: self.unknown,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len() - self.index)
    }
}

struct Variant<'a, 'p> {
    key: &'a Node,
    value: &'a Node,
    path: &'p Link<'p>,
    unknown: &'a RefCell<Vec<UnknownField>>,
}

impl<'de, 'a, 'p> EnumAccess<'de> for Variant<'a, 'p> {
    type Error = DeError;
    type Variant = NodeDe<'a, 'p>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self::Variant), DeError> {
        let key = NodeDe {
            node: self.key,
            path: self.path,
            field: None,
            unknown: self.unknown,
        };
        let variant = seed.deserialize(key)?;
        Ok((
            variant,
            NodeDe {
                node: self.value,
                path: self.path,
                field: None,
                unknown: self.unknown,
            },
        ))
    }
}

impl<'de> VariantAccess<'de> for NodeDe<'_, '_> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        de::Deserialize::deserialize(self)
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DeError> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, DeError> {
        self.seq(visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.map(visitor, Some(("variant", fields)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_stream;
    use std::collections::BTreeMap;

    #[derive(Debug, serde::Deserialize, PartialEq, Default)]
    #[serde(rename_all = "camelCase")]
    struct Inner {
        #[serde(default)]
        command: Option<Vec<String>>,
        #[serde(default)]
        port: Option<i32>,
        #[serde(default)]
        enabled: Option<bool>,
    }

    #[derive(Debug, serde::Deserialize, PartialEq, Default)]
    struct Outer {
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        items: Option<Vec<Inner>>,
        #[serde(default)]
        labels: Option<BTreeMap<String, String>>,
        #[serde(default)]
        any: Option<serde_json::Value>,
    }

    fn de<T: DeserializeOwned>(src: &str) -> Outcome<T> {
        from_node(&parse_stream(src).unwrap()[0])
    }

    #[test]
    fn collects_every_unknown_field_with_position() {
        let out = de::<Outer>("name: x\nnmae: y\nitems:\n- comand: [a]\n  port: 1\n  prot: 2\n");
        assert!(out.value.is_ok());
        let keys: Vec<_> = out
            .unknown
            .iter()
            .map(|u| {
                (
                    u.key.as_str(),
                    crate::yaml::path_to_string(&u.path),
                    u.span.start.line,
                )
            })
            .collect();
        assert_eq!(
            keys,
            vec![
                ("nmae", "nmae".to_string(), 2),
                ("comand", "items[0].comand".to_string(), 4),
                ("prot", "items[0].prot".to_string(), 6)
            ]
        );
        assert_eq!(out.unknown[1].struct_name, "Inner");
        assert!(out.unknown[1].expected.contains(&"command"));
    }

    #[test]
    fn scalars_take_the_type_the_field_asks_for() {
        let out = de::<Outer>(
            "name: 123\nlabels: {a: true, b: 1.5}\nany: {n: 1, s: '1', b: false, z: ~}\n",
        );
        let v = out.value.unwrap();
        assert_eq!(v.name.as_deref(), Some("123"));
        assert_eq!(v.labels.unwrap()["a"], "true");
        assert_eq!(
            v.any.unwrap(),
            serde_json::json!({"n": 1, "s": "1", "b": false, "z": null})
        );
    }

    #[test]
    fn type_errors_carry_path_and_span() {
        let err = de::<Outer>("items:\n- port: eighty\n").value.unwrap_err();
        assert_eq!(err.message, "expected an integer, found `eighty`");
        assert_eq!(err.span.unwrap().start.line, 2);
        assert_eq!(
            crate::yaml::path_to_string(&err.path.unwrap()),
            "items[0].port"
        );

        let err = de::<Outer>("items:\n- port: '80'\n").value.unwrap_err();
        assert!(err.message.contains("without quotes"), "{}", err.message);

        let err = de::<Outer>("items:\n- enabled: yes\n").value.unwrap_err();
        assert_eq!(err.message, "expected `true` or `false`, found `yes`");

        let err = de::<Outer>("items: {a: 1}\n").value.unwrap_err();
        assert_eq!(err.message, "expected a list, found a mapping");

        let err = de::<Outer>("items:\n- port: 99999999999\n")
            .value
            .unwrap_err();
        assert!(err.message.contains("invalid value"), "{}", err.message);
        assert_eq!(err.span.unwrap().start.line, 2);
    }

    #[test]
    fn enums_name_their_variants() {
        #[derive(Debug, serde::Deserialize)]
        enum Phase {
            Running,
            Succeeded,
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct S {
            phase: Phase,
        }
        let err = de::<S>("phase: Runing\n").value.unwrap_err();
        assert_eq!(
            err.message,
            "`Runing` is not one of `Running` or `Succeeded`"
        );
    }

    #[test]
    fn kubernetes_types_report_unknown_fields_too() {
        let out = de::<k8s_openapi::api::core::v1::Container>(
            "image: alpine\ncomand: [sh]\nresources: {limits: {cpu: 1}}\n",
        );
        let c = out.value.unwrap();
        assert_eq!(c.image.as_deref(), Some("alpine"));
        assert_eq!(out.unknown.len(), 1);
        assert_eq!(out.unknown[0].key, "comand");
        assert_eq!(out.unknown[0].struct_name, "Container");
        let limits = c.resources.unwrap().limits.unwrap();
        assert_eq!(limits["cpu"].0, "1");
    }
}

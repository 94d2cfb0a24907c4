//! A serde `Deserializer` over the spanned [`tree`](super::tree), so the typed
//! config is plain `#[derive(Deserialize)]` while every error knows its key
//! path and position.
//!
//! It keeps going after a problem it can recover from, to report as many as
//! it can in one run: an unknown key is recorded and skipped (with a "did you
//! mean" suggestion from the struct's field list), a value of the wrong type
//! or an invalid enum name is recorded and replaced by a placeholder of the
//! requested type. Errors raised by a type's own `Deserialize` (e.g. a missing
//! required field) stop the run; they are located at the innermost value that
//! was being read.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};

use super::path::KeyPath;
use super::tree::{Member, Node, Span, Value};

/// A problem found while reading the tree.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Issue {
    pub path: KeyPath,
    pub span: Span,
    pub message: String,
}

/// Collects recoverable problems.
#[derive(Debug, Default)]
pub(crate) struct Sink {
    issues: RefCell<Vec<Issue>>,
}

impl Sink {
    fn push(&self, path: KeyPath, span: Span, message: String) {
        self.issues.borrow_mut().push(Issue {
            path,
            span,
            message,
        });
    }
}

/// The error type serde sees. Carries the location once known.
#[derive(Debug)]
pub(crate) struct DeError {
    message: String,
    at: Option<(KeyPath, Span)>,
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self {
            message: msg.to_string(),
            at: None,
        }
    }
}

/// Deserializes `node` (at `path`) as `T`. Every problem, recoverable or not,
/// ends up in the returned list; `Ok` only when there were none.
pub(crate) fn from_node<T: DeserializeOwned>(node: &Node, path: KeyPath) -> Result<T, Vec<Issue>> {
    let sink = Sink::default();
    let result = T::deserialize(NodeDe {
        node,
        path: path.clone(),
        sink: &sink,
    });
    let mut issues = sink.issues.into_inner();
    match result {
        Ok(v) if issues.is_empty() => Ok(v),
        Ok(_) => Err(issues),
        Err(e) => {
            let (p, span) = e.at.unwrap_or((path, node.span));
            // A placeholder fed after a recorded problem can make the type
            // fail again at the same place: report the first cause only.
            if !issues.iter().any(|i| i.path == p) {
                issues.push(Issue {
                    path: p,
                    span,
                    message: e.message,
                });
            }
            Err(issues)
        }
    }
}

/// The best "did you mean" candidate for `typed` among `known`.
pub(crate) fn suggest<'k>(typed: &str, known: &[&'k str]) -> Option<&'k str> {
    let lower = typed.to_lowercase().replace(['_', '-'], "");
    if let Some(k) = known
        .iter()
        .find(|k| k.to_lowercase().replace(['_', '-'], "") == lower)
    {
        return Some(k);
    }
    known
        .iter()
        .map(|k| (k, strsim::jaro_winkler(typed, k)))
        .filter(|(_, score)| *score >= 0.8)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(k, _)| *k)
}

fn one_of(known: &[&str]) -> String {
    known
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Turns serde's "unknown variant `x`, expected one of `a`, `b`" (and the
/// same for fields) into our wording with a suggestion.
fn reword(message: &str) -> String {
    let Some(rest) = message
        .strip_prefix("unknown variant `")
        .or_else(|| message.strip_prefix("unknown field `"))
    else {
        return message.to_owned();
    };
    let is_field = message.starts_with("unknown field");
    let Some((typed, tail)) = rest.split_once('`') else {
        return message.to_owned();
    };
    let known: Vec<&str> = tail.split('`').skip(1).step_by(2).collect();
    let what = if is_field {
        "unknown key"
    } else {
        "invalid value"
    };
    match suggest(typed, &known) {
        Some(s) => format!("{what} `{typed}` (did you mean `{s}`?)"),
        None if known.is_empty() => format!("{what} `{typed}`"),
        None => format!("{what} `{typed}`; expected one of {}", one_of(&known)),
    }
}

#[derive(Clone)]
struct NodeDe<'a> {
    node: &'a Node,
    path: KeyPath,
    sink: &'a Sink,
}

impl<'a> NodeDe<'a> {
    /// Attaches this node's location to an error that has none yet. serde's
    /// messages about a buffered object (internally tagged enums such as
    /// `backend`) are pointed at the member they name when it exists.
    fn locate<T>(&self, r: Result<T, DeError>) -> Result<T, DeError> {
        r.map_err(|mut e| {
            if e.at.is_none() {
                e.at = Some(self.refine(&e.message));
                e.message = reword(&e.message);
            }
            e
        })
    }

    fn refine(&self, message: &str) -> (KeyPath, Span) {
        let named = |prefix: &str| {
            message
                .strip_prefix(prefix)
                .and_then(|r| r.split_once('`'))
                .map(|(name, _)| name.to_owned())
        };
        if let Some(field) = named("unknown field `") {
            if let Some(m) = self.node.member(&field) {
                return (self.path.key(&field), m.key_span);
            }
        }
        if let Some(variant) = named("unknown variant `") {
            if let Some(m) = self.node.member("type") {
                if m.value.value == Value::Str(variant) {
                    return (self.path.key("type"), m.value.span);
                }
            }
        }
        (self.path.clone(), self.node.span)
    }

    fn mismatch(&self, expected: &str) {
        self.sink.push(
            self.path.clone(),
            self.node.span,
            format!("expected {expected}, found {}", self.node.kind_name()),
        );
    }

    fn int<T: TryFrom<i128>>(&self, lo: i128, hi: i128) -> Option<T> {
        let whole = match &self.node.value {
            Value::Int(i) => Some(*i),
            #[allow(clippy::cast_possible_truncation)] // checked integral and in range
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e30 => Some(*f as i128),
            _ => None,
        };
        match (whole, &self.node.value) {
            (Some(i), _) if (lo..=hi).contains(&i) => T::try_from(i).ok(),
            (Some(i), _) => {
                self.sink.push(
                    self.path.clone(),
                    self.node.span,
                    format!("must be a whole number from {lo} to {hi}, found {i}"),
                );
                None
            }
            (None, Value::Float(f)) => {
                self.sink.push(
                    self.path.clone(),
                    self.node.span,
                    format!("expected a whole number, found {f}"),
                );
                None
            }
            (None, _) => {
                self.mismatch("a whole number");
                None
            }
        }
    }

    fn child(&self, node: &'a Node, path: KeyPath) -> NodeDe<'a> {
        NodeDe {
            node,
            path,
            sink: self.sink,
        }
    }
}

macro_rules! int_method {
    ($method:ident, $visit:ident, $ty:ty) => {
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            let n: $ty = self
                .int(i128::from(<$ty>::MIN), i128::from(<$ty>::MAX))
                .unwrap_or_default();
            let r = visitor.$visit(n);
            self.locate(r)
        }
    };
}

impl<'de> de::Deserializer<'de> for NodeDe<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let r = match &self.node.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(i) => {
                if let Ok(u) = u64::try_from(*i) {
                    visitor.visit_u64(u)
                } else if let Ok(s) = i64::try_from(*i) {
                    visitor.visit_i64(s)
                } else {
                    #[allow(clippy::cast_precision_loss)] // beyond i64 anyway
                    visitor.visit_f64(*i as f64)
                }
            }
            Value::Float(f) => visitor.visit_f64(*f),
            Value::Str(s) => visitor.visit_str(s),
            Value::Array(items) => visitor.visit_seq(SeqDe::new(items, &self)),
            Value::Object(members) => {
                visitor.visit_map(MapDe::new(members.iter().collect(), &self))
            }
        };
        self.locate(r)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let b = match &self.node.value {
            Value::Bool(b) => *b,
            _ => {
                self.mismatch("true or false");
                false
            }
        };
        let r = visitor.visit_bool(b);
        self.locate(r)
    }

    int_method!(deserialize_u8, visit_u8, u8);
    int_method!(deserialize_u16, visit_u16, u16);
    int_method!(deserialize_u32, visit_u32, u32);
    int_method!(deserialize_u64, visit_u64, u64);
    int_method!(deserialize_i8, visit_i8, i8);
    int_method!(deserialize_i16, visit_i16, i16);
    int_method!(deserialize_i32, visit_i32, i32);
    int_method!(deserialize_i64, visit_i64, i64);

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let f = match &self.node.value {
            #[allow(clippy::cast_precision_loss)] // config numbers are small
            Value::Int(i) => *i as f64,
            Value::Float(f) => *f,
            _ => {
                self.mismatch("a number");
                0.0
            }
        };
        let r = visitor.visit_f64(f);
        self.locate(r)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let r = match &self.node.value {
            Value::Str(s) => visitor.visit_str(s),
            _ => {
                self.mismatch("a string");
                visitor.visit_str("")
            }
        };
        self.locate(r)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_any(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_any(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.node.value == Value::Null {
            let r = visitor.visit_none();
            return self.locate(r);
        }
        let me = self.clone();
        let r = visitor.visit_some(self);
        me.locate(r)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.node.value != Value::Null {
            self.mismatch("null");
        }
        let r = visitor.visit_unit();
        self.locate(r)
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
        let me = self.clone();
        let r = visitor.visit_newtype_struct(self);
        me.locate(r)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let r = match &self.node.value {
            Value::Array(items) => visitor.visit_seq(SeqDe::new(items, &self)),
            _ => {
                self.mismatch("a list");
                visitor.visit_seq(SeqDe::new(&[], &self))
            }
        };
        self.locate(r)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let r = match &self.node.value {
            Value::Object(members) => {
                visitor.visit_map(MapDe::new(members.iter().collect(), &self))
            }
            _ => {
                self.mismatch("an object");
                visitor.visit_map(MapDe::new(Vec::new(), &self))
            }
        };
        self.locate(r)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let known: Vec<&Member> = match &self.node.value {
            Value::Object(members) => members
                .iter()
                .filter(|m| {
                    let ok = fields.contains(&m.key.as_str());
                    if !ok {
                        let message = match suggest(&m.key, fields) {
                            Some(s) => format!("unknown key `{}` (did you mean `{s}`?)", m.key),
                            None => format!(
                                "unknown key `{}`; expected one of {}",
                                m.key,
                                one_of(fields)
                            ),
                        };
                        self.sink.push(self.path.key(&m.key), m.key_span, message);
                    }
                    ok
                })
                .collect(),
            _ => {
                self.mismatch("an object");
                Vec::new()
            }
        };
        let r = visitor.visit_map(MapDe::new(known, &self));
        self.locate(r)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let chosen: &str = match &self.node.value {
            Value::Str(s) if variants.contains(&s.as_str()) => s,
            other => {
                let message = match (other, variants) {
                    (Value::Str(s), _) => match suggest(s, variants) {
                        Some(sug) => format!("invalid value `{s}` (did you mean `{sug}`?)"),
                        None => {
                            format!("invalid value `{s}`; expected one of {}", one_of(variants))
                        }
                    },
                    _ => format!(
                        "expected one of {}, found {}",
                        one_of(variants),
                        self.node.kind_name()
                    ),
                };
                self.sink.push(self.path.clone(), self.node.span, message);
                variants.first().copied().unwrap_or_default()
            }
        };
        let r = visitor.visit_enum(chosen.into_deserializer());
        self.locate(r)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }
}

struct SeqDe<'a> {
    items: &'a [Node],
    next: usize,
    parent: NodeDe<'a>,
}

impl<'a> SeqDe<'a> {
    fn new(items: &'a [Node], parent: &NodeDe<'a>) -> Self {
        Self {
            items,
            next: 0,
            parent: parent.clone(),
        }
    }
}

impl<'de> de::SeqAccess<'de> for SeqDe<'_> {
    type Error = DeError;

    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        let Some(node) = self.items.get(self.next) else {
            return Ok(None);
        };
        let path = self.parent.path.index(self.next);
        self.next += 1;
        seed.deserialize(self.parent.child(node, path)).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len() - self.next)
    }
}

struct MapDe<'a> {
    members: Vec<&'a Member>,
    next: usize,
    parent: NodeDe<'a>,
}

impl<'a> MapDe<'a> {
    fn new(members: Vec<&'a Member>, parent: &NodeDe<'a>) -> Self {
        Self {
            members,
            next: 0,
            parent: parent.clone(),
        }
    }
}

impl<'de> de::MapAccess<'de> for MapDe<'_> {
    type Error = DeError;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some(m) = self.members.get(self.next) else {
            return Ok(None);
        };
        let key: de::value::StrDeserializer<'_, DeError> = m.key.as_str().into_deserializer();
        seed.deserialize(key).map(Some).map_err(|mut e| {
            if e.at.is_none() {
                e.at = Some((self.parent.path.key(&m.key), m.key_span));
            }
            e
        })
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, DeError> {
        let Some(m) = self.members.get(self.next) else {
            return Err(de::Error::custom("value requested before its key"));
        };
        self.next += 1;
        let path = self.parent.path.key(&m.key);
        seed.deserialize(self.parent.child(&m.value, path))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.members.len() - self.next)
    }
}

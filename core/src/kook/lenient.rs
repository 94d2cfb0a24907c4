//! Lenient readers for KOOK JSON: the platform sends ids as strings or
//! numbers, flags as booleans or `0`/`1`, and lists as arrays, single values,
//! `false` or `null` (see `docs/protocol-kook.md` § Events krill reads).
//! Every reader here is total: a missing or oddly typed field gives `None`
//! or an empty value, never an error, so one strange field cannot make a
//! whole event unreadable.

use serde_json::Value;

/// `value[key]`, or `Null` when `value` is not an object or lacks the key.
pub(crate) fn field<'a>(value: &'a Value, key: &str) -> &'a Value {
    value.get(key).unwrap_or(&Value::Null)
}

/// An integer from a JSON integer, an integral float, or a numeric string.
pub(crate) fn int(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| {
            let f = n.as_f64()?;
            // `as` saturates; the range check keeps only exact integers.
            (f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64).then_some(f as i64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A non-negative integer (a sequence number), same sources as [`int`].
pub(crate) fn uint(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| int(value).and_then(|i| u64::try_from(i).ok())),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A string; numbers are turned into their decimal text (ids may arrive as
/// numbers).
pub(crate) fn string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Like [`string`], but an empty string counts as absent.
pub(crate) fn non_empty(value: &Value) -> Option<String> {
    string(value).filter(|s| !s.is_empty())
}

/// A string, empty when absent.
pub(crate) fn text(value: &Value) -> String {
    string(value).unwrap_or_default()
}

/// A flag from a boolean, a number (non-zero is true) or `"true"`/`"1"`.
pub(crate) fn flag(value: &Value) -> bool {
    match value {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => matches!(s.trim(), "true" | "1"),
        _ => false,
    }
}

/// Ids from an array of strings or numbers (or one bare id). Other items
/// are skipped.
pub(crate) fn id_list(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().filter_map(string).collect(),
        Value::String(_) | Value::Number(_) => string(value).into_iter().collect(),
        _ => Vec::new(),
    }
}

/// Integers from an array of integers or numeric strings (or one bare
/// integer). Other items are skipped.
pub(crate) fn int_list(value: &Value) -> Vec<i64> {
    match value {
        Value::Array(items) => items.iter().filter_map(int).collect(),
        Value::String(_) | Value::Number(_) => int(value).into_iter().collect(),
        _ => Vec::new(),
    }
}

/// The objects of a value that may be an array, one object, a map of
/// objects, `false` or `null` (KOOK `attachments`).
pub(crate) fn objects(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().filter(|v| v.is_object()).collect(),
        Value::Object(map) if map.values().all(Value::is_object) && !map.is_empty() => {
            map.values().collect()
        }
        Value::Object(_) => vec![value],
        _ => Vec::new(),
    }
}

//! The JSON the `discord` tool's results carry: Discord objects trimmed to
//! what a model needs, with camelCase keys. Messages (read, search, pins)
//! carry the raw `timestamp` plus `timestampMs` (UTC epoch milliseconds)
//! and `timestampUtc` (`2025-03-14T09:26:53.589Z`).

use serde_json::{json, Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Epoch milliseconds of an ISO 8601 / RFC 3339 timestamp (Discord's
/// `2025-03-14T09:26:53.589000+00:00`).
pub fn timestamp_ms(iso: &str) -> Option<i64> {
    let parsed = OffsetDateTime::parse(iso.trim(), &Rfc3339).ok()?;
    i64::try_from(parsed.unix_timestamp_nanos() / 1_000_000).ok()
}

/// `2025-03-14T09:26:53.589Z` for epoch milliseconds.
pub fn utc_string(ms: i64) -> Option<String> {
    let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()?;
    let (y, mo, d) = (at.year(), u8::from(at.month()), at.day());
    let (h, mi, s, milli) = (at.hour(), at.minute(), at.second(), at.millisecond());
    Some(format!(
        "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}Z"
    ))
}

fn string(v: &Value, key: &str) -> Value {
    match v.get(key) {
        Some(Value::String(s)) => Value::String(s.clone()),
        Some(Value::Number(n)) => Value::String(n.to_string()),
        _ => Value::Null,
    }
}

fn put(out: &mut Map<String, Value>, key: &str, value: Value) {
    if !value.is_null() {
        out.insert(key.to_owned(), value);
    }
}

/// A user: `{id, username, globalName?, bot?}`.
pub fn user(v: &Value) -> Value {
    let mut out = Map::new();
    put(&mut out, "id", string(v, "id"));
    put(&mut out, "username", string(v, "username"));
    put(&mut out, "globalName", string(v, "global_name"));
    if v.get("bot").and_then(Value::as_bool) == Some(true) {
        out.insert("bot".into(), Value::Bool(true));
    }
    Value::Object(out)
}

/// A reaction emoji as a model writes it: the Unicode emoji, or
/// `<:name:id>` (`<a:name:id>` animated).
pub fn emoji_text(emoji: &Value) -> String {
    let name = emoji.get("name").and_then(Value::as_str).unwrap_or("");
    match emoji.get("id").and_then(Value::as_str) {
        Some(id) if emoji.get("animated").and_then(Value::as_bool) == Some(true) => {
            format!("<a:{name}:{id}>")
        }
        Some(id) => format!("<:{name}:{id}>"),
        None => name.to_owned(),
    }
}

/// A message: `{id, channelId, author, content, timestamp, timestampMs,
/// timestampUtc, editedTimestamp?, replyTo?, reactions?, attachments?,
/// pinned?}`.
pub fn message(v: &Value) -> Value {
    let mut out = Map::new();
    put(&mut out, "id", string(v, "id"));
    put(&mut out, "channelId", string(v, "channel_id"));
    if let Some(author) = v.get("author").filter(|a| a.is_object()) {
        out.insert("author".into(), user(author));
    }
    out.insert(
        "content".into(),
        v.get("content")
            .cloned()
            .unwrap_or(Value::String(String::new())),
    );
    let raw = v.get("timestamp").and_then(Value::as_str);
    put(&mut out, "timestamp", string(v, "timestamp"));
    if let Some(ms) = raw.and_then(timestamp_ms) {
        out.insert("timestampMs".into(), json!(ms));
        put(
            &mut out,
            "timestampUtc",
            utc_string(ms).map_or(Value::Null, Value::String),
        );
    }
    put(&mut out, "editedTimestamp", string(v, "edited_timestamp"));
    if let Some(reference) = v.get("message_reference") {
        put(&mut out, "replyTo", string(reference, "message_id"));
    }
    if let Some(reactions) = v.get("reactions").and_then(Value::as_array) {
        out.insert("reactions".into(), reaction_counts(reactions));
    }
    if let Some(files) = v.get("attachments").and_then(Value::as_array) {
        if !files.is_empty() {
            let files: Vec<Value> = files
                .iter()
                .map(|f| json!({"filename": string(f, "filename"), "url": string(f, "url")}))
                .collect();
            out.insert("attachments".into(), Value::Array(files));
        }
    }
    if v.get("pinned").and_then(Value::as_bool) == Some(true) {
        out.insert("pinned".into(), Value::Bool(true));
    }
    Value::Object(out)
}

/// `[{emoji, count, me}]` of a message's `reactions`.
pub fn reaction_counts(reactions: &[Value]) -> Value {
    Value::Array(
        reactions
            .iter()
            .map(|r| {
                json!({
                    "emoji": emoji_text(r.get("emoji").unwrap_or(&Value::Null)),
                    "count": r.get("count").cloned().unwrap_or(json!(0)),
                    "me": r.get("me").and_then(Value::as_bool).unwrap_or(false),
                })
            })
            .collect(),
    )
}

/// A channel or thread: `{id, name, type, guildId?, parentId?, topic?}`.
pub fn channel(v: &Value) -> Value {
    let mut out = Map::new();
    put(&mut out, "id", string(v, "id"));
    put(&mut out, "name", string(v, "name"));
    put(
        &mut out,
        "type",
        v.get("type").cloned().unwrap_or(Value::Null),
    );
    put(&mut out, "guildId", string(v, "guild_id"));
    put(&mut out, "parentId", string(v, "parent_id"));
    put(&mut out, "topic", string(v, "topic"));
    Value::Object(out)
}

/// A guild member: `{user, nick?, roles, joinedAt?, communicationDisabledUntil?}`.
pub fn member(v: &Value) -> Value {
    let mut out = Map::new();
    if let Some(u) = v.get("user") {
        out.insert("user".into(), user(u));
    }
    put(&mut out, "nick", string(v, "nick"));
    out.insert(
        "roles".into(),
        v.get("roles").cloned().unwrap_or_else(|| json!([])),
    );
    put(&mut out, "joinedAt", string(v, "joined_at"));
    put(
        &mut out,
        "communicationDisabledUntil",
        string(v, "communication_disabled_until"),
    );
    Value::Object(out)
}

/// Applies `f` to every element of an array (anything else: empty).
pub fn each(v: &Value, f: fn(&Value) -> Value) -> Value {
    Value::Array(
        v.as_array()
            .map(|items| items.iter().map(f).collect())
            .unwrap_or_default(),
    )
}

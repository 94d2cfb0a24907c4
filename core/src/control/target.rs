//! Delivery targets as a user writes them (`krill message send --to`), as
//! the Discord doc gives them: `user:<id>` or `<@id>` (`<@!id>`) for a DM,
//! `channel:<id>` for a channel. KOOK takes the same forms. A bare numeric
//! id is refused: it could be a user or a channel, and a message sent to the
//! wrong one cannot be taken back.

use std::fmt;

/// Where a message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A direct message to this user id.
    User(String),
    /// This channel id.
    Channel(String),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::User(id) => write!(f, "user:{id}"),
            Target::Channel(id) => write!(f, "channel:{id}"),
        }
    }
}

/// Why a target was refused (the message says how to write it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// A bare id.
    #[error(
        "target {0:?} is ambiguous: write user:{0} (or <@{0}>) for a DM, or channel:{0} for a channel"
    )]
    Ambiguous(String),
    /// Anything else.
    #[error("target {0:?} is not valid: write user:<id>, <@id> or channel:<id>")]
    Invalid(String),
}

/// Parses a target (surrounding spaces ignored).
pub fn parse_target(text: &str) -> Result<Target, TargetError> {
    let text = text.trim();
    let id_ok =
        |id: &str| !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_digit());
    if id_ok(text) {
        return Err(TargetError::Ambiguous(text.to_owned()));
    }
    let invalid = || TargetError::Invalid(text.to_owned());
    if let Some(id) = text.strip_prefix("user:") {
        return id_ok(id.trim())
            .then(|| Target::User(id.trim().to_owned()))
            .ok_or_else(invalid);
    }
    if let Some(id) = text.strip_prefix("channel:") {
        return id_ok(id.trim())
            .then(|| Target::Channel(id.trim().to_owned()))
            .ok_or_else(invalid);
    }
    if let Some(inner) = text.strip_prefix("<@").and_then(|t| t.strip_suffix('>')) {
        let id = inner.strip_prefix('!').unwrap_or(inner);
        return id_ok(id)
            .then(|| Target::User(id.to_owned()))
            .ok_or_else(invalid);
    }
    Err(invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        assert_eq!(parse_target("user:12"), Ok(Target::User("12".into())));
        assert_eq!(parse_target("<@12>"), Ok(Target::User("12".into())));
        assert_eq!(parse_target("<@!12>"), Ok(Target::User("12".into())));
        assert_eq!(
            parse_target(" channel:34 "),
            Ok(Target::Channel("34".into()))
        );
        assert_eq!(parse_target("34"), Err(TargetError::Ambiguous("34".into())));
        assert!(matches!(
            parse_target("user:"),
            Err(TargetError::Invalid(_))
        ));
        assert!(matches!(
            parse_target("user:ab"),
            Err(TargetError::Invalid(_))
        ));
        assert!(matches!(
            parse_target("<#34>"),
            Err(TargetError::Invalid(_))
        ));
        assert!(matches!(parse_target(""), Err(TargetError::Invalid(_))));
    }

    #[test]
    fn ambiguous_message_says_how() {
        let message = parse_target("123").unwrap_err().to_string();
        assert!(message.contains("user:123") && message.contains("channel:123"));
    }
}

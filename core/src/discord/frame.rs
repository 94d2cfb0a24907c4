//! Gateway frames: parsing every opcode of `{"op","d","s","t"}` into a typed
//! [`GatewayFrame`], and building the text frames the shard sends
//! ([`OutgoingFrame`], whose `Debug` never shows the token).
//!
//! Parsing is lenient where Discord's docs and live gateway differ: `d`, `s`
//! and `t` may be absent or `null` alike (`{"op":11}` and
//! `{"op":11,"d":null,"s":null,"t":null}` are the same ACK), unknown opcodes
//! and unknown dispatch names become typed `Unknown` values, unknown keys are
//! ignored. Only bytes that are not a gateway frame at all, or a known payload
//! of the wrong shape, give a [`FrameError`]; the shard reports those as an
//! event and carries on. Source: discord-api-docs
//! `developers/events/gateway.mdx` (Payload Structure) and
//! `developers/topics/opcodes-and-status-codes.md`.

use std::fmt;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize, Serializer};

use super::model::{Channel, Guild, Message, Reaction, Ready};
use crate::secret::Secret;

/// What stands in for the token in logged frames.
const REDACTED: &str = "<redacted>";

/// The largest payload Discord accepts (close 4002 beyond it).
pub const MAX_PAYLOAD_BYTES: usize = 4096;

/// Gateway opcodes (`developers/topics/opcodes-and-status-codes.md`).
pub mod opcode {
    /// Receive: an event (`t`, `s`).
    pub const DISPATCH: u64 = 0;
    /// Both: heartbeat.
    pub const HEARTBEAT: u64 = 1;
    /// Send: start a new session.
    pub const IDENTIFY: u64 = 2;
    /// Send: update the presence.
    pub const PRESENCE_UPDATE: u64 = 3;
    /// Send: resume a session.
    pub const RESUME: u64 = 6;
    /// Receive: reconnect and resume.
    pub const RECONNECT: u64 = 7;
    /// Send: request guild members.
    pub const REQUEST_GUILD_MEMBERS: u64 = 8;
    /// Receive: the session is invalid (`d` = may resume).
    pub const INVALID_SESSION: u64 = 9;
    /// Receive: first frame, carries the heartbeat interval.
    pub const HELLO: u64 = 10;
    /// Receive: heartbeat acknowledged.
    pub const HEARTBEAT_ACK: u64 = 11;
}

/// One parsed gateway frame, either direction (the client-sent opcodes parse
/// too, so fake servers and tests can read what a shard sent).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum GatewayFrame {
    /// op 0: an event. `seq` is `s` (always set by Discord for op 0).
    Dispatch {
        /// The sequence number.
        seq: Option<u64>,
        /// The typed event.
        event: Dispatch,
    },
    /// op 1: a heartbeat (`d` = last sequence or null).
    Heartbeat {
        /// The sequence carried.
        seq: Option<u64>,
    },
    /// op 2 (sent by clients).
    Identify(Box<Identify>),
    /// op 3 (sent by clients).
    PresenceUpdate(PresenceUpdate),
    /// op 6 (sent by clients).
    Resume(Resume),
    /// op 7: reconnect and resume.
    Reconnect,
    /// op 8 (sent by clients).
    RequestGuildMembers(RequestGuildMembers),
    /// op 9: `resumable` is `d` (absent or null reads as false).
    InvalidSession {
        /// True when the session may be resumed.
        resumable: bool,
    },
    /// op 10: the heartbeat interval, as sent (not clamped).
    Hello {
        /// `d.heartbeat_interval`.
        heartbeat_interval: Duration,
    },
    /// op 11.
    HeartbeatAck,
    /// Any other opcode.
    Unknown {
        /// The opcode.
        op: u64,
        /// `d` as sent (null when absent).
        data: serde_json::Value,
    },
}

/// A typed dispatch event (op 0), keyed by `t`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Dispatch {
    /// `READY`.
    Ready(Box<Ready>),
    /// `RESUMED`: the replay after a Resume is complete.
    Resumed,
    /// `MESSAGE_CREATE`.
    MessageCreate(Box<Message>),
    /// `MESSAGE_REACTION_ADD`.
    MessageReactionAdd(Box<Reaction>),
    /// `MESSAGE_REACTION_REMOVE`.
    MessageReactionRemove(Box<Reaction>),
    /// `INTERACTION_CREATE` (slash commands; the raw interaction object).
    InteractionCreate(serde_json::Value),
    /// `THREAD_CREATE`.
    ThreadCreate(Box<Channel>),
    /// `CHANNEL_CREATE`.
    ChannelCreate(Box<Channel>),
    /// `GUILD_CREATE`.
    GuildCreate(Box<Guild>),
    /// Any other event name.
    Unknown {
        /// `t`.
        name: String,
        /// `d` as sent.
        data: serde_json::Value,
    },
}

impl Dispatch {
    /// The event name (`t`) this value was parsed from.
    pub fn name(&self) -> &str {
        match self {
            Self::Ready(_) => "READY",
            Self::Resumed => "RESUMED",
            Self::MessageCreate(_) => "MESSAGE_CREATE",
            Self::MessageReactionAdd(_) => "MESSAGE_REACTION_ADD",
            Self::MessageReactionRemove(_) => "MESSAGE_REACTION_REMOVE",
            Self::InteractionCreate(_) => "INTERACTION_CREATE",
            Self::ThreadCreate(_) => "THREAD_CREATE",
            Self::ChannelCreate(_) => "CHANNEL_CREATE",
            Self::GuildCreate(_) => "GUILD_CREATE",
            Self::Unknown { name, .. } => name,
        }
    }
}

/// Why bytes did not parse as a gateway frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// Not JSON, or no integer `op`.
    #[error("not a gateway frame: {message}")]
    Envelope {
        /// serde_json's description.
        message: String,
    },
    /// A known opcode or event whose `d` has the wrong shape. `seq` is the
    /// frame's `s`, which the shard still records.
    #[error("malformed payload for op {op}{}: {message}", event.as_deref().map(|e| format!(" ({e})")).unwrap_or_default())]
    Payload {
        /// The opcode.
        op: u64,
        /// `t`, for dispatches.
        event: Option<String>,
        /// `s`, when the envelope had one.
        seq: Option<u64>,
        /// serde_json's description.
        message: String,
    },
}

impl FrameError {
    /// The sequence number of the frame, when the envelope was readable.
    pub fn seq(&self) -> Option<u64> {
        match self {
            Self::Payload { seq, .. } => *seq,
            Self::Envelope { .. } => None,
        }
    }
}

/// `properties` of Identify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionProperties {
    /// The operating system.
    pub os: String,
    /// The library name.
    pub browser: String,
    /// The library name.
    pub device: String,
}

/// An activity in a presence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    /// The activity name.
    pub name: String,
    /// 0 playing, 1 streaming, 2 listening, 3 watching, 4 custom, 5 competing.
    #[serde(rename = "type")]
    pub kind: u8,
    /// Custom status text (for type 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Stream URL (for type 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// op 3 Presence Update (also Identify's `presence`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceUpdate {
    /// Unix ms since idle, or null.
    #[serde(default)]
    pub since: Option<u64>,
    /// Activities.
    #[serde(default)]
    pub activities: Vec<Activity>,
    /// `online`, `dnd`, `idle`, `invisible`, `offline`.
    pub status: String,
    /// Whether the client is AFK.
    #[serde(default)]
    pub afk: bool,
}

/// op 8 Request Guild Members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestGuildMembers {
    /// The guild.
    pub guild_id: String,
    /// Username prefix (`""` = all, needs GUILD_MEMBERS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// Maximum members (0 = no limit with an empty query).
    #[serde(default)]
    pub limit: u32,
    /// Include presences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presences: Option<bool>,
    /// Specific users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_ids: Option<Vec<String>>,
    /// Echoed in Guild Members Chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
}

/// op 2 Identify. `token` is a [`Secret`]: it reaches the wire only through
/// [`OutgoingFrame::as_str`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identify {
    /// The bot token (without `Bot ` prefix).
    #[serde(serialize_with = "expose_secret")]
    pub token: Secret,
    /// Gateway intents bit set.
    pub intents: u64,
    /// Connection properties.
    pub properties: ConnectionProperties,
    /// `[shard_id, shard_count]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<[u32; 2]>,
    /// Initial presence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence: Option<PresenceUpdate>,
    /// Member count above which offline members are not sent (50..=250).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub large_threshold: Option<u32>,
    /// Payload compression (krill uses transport compression instead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compress: Option<bool>,
}

/// op 6 Resume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resume {
    /// The bot token.
    #[serde(serialize_with = "expose_secret")]
    pub token: Secret,
    /// The session to resume.
    pub session_id: String,
    /// The last sequence number received.
    pub seq: u64,
}

/// A command the application asks the shard to send (see
/// [`Shard::send_command`](super::Shard::send_command)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GatewayCommand {
    /// op 3.
    PresenceUpdate(PresenceUpdate),
    /// op 8.
    RequestGuildMembers(RequestGuildMembers),
}

/// What an [`OutgoingFrame`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OutgoingKind {
    /// op 1.
    Heartbeat,
    /// op 2 (carries the token).
    Identify,
    /// op 3.
    PresenceUpdate,
    /// op 6 (carries the token).
    Resume,
    /// op 8.
    RequestGuildMembers,
}

/// A text frame to send. `Debug` and `Display` show the JSON with the token
/// replaced by `<redacted>`; the wire text is [`as_str`](Self::as_str).
#[derive(Clone, PartialEq, Eq)]
pub struct OutgoingFrame {
    kind: OutgoingKind,
    text: String,
    /// The text with the token redacted (Identify and Resume only).
    redacted: Option<String>,
}

impl OutgoingFrame {
    /// `{"op":1,"d":<seq or null>}`.
    pub fn heartbeat(seq: Option<u64>) -> Self {
        let text = match seq {
            Some(seq) => format!("{{\"op\":1,\"d\":{seq}}}"),
            None => "{\"op\":1,\"d\":null}".to_owned(),
        };
        Self {
            kind: OutgoingKind::Heartbeat,
            text,
            redacted: None,
        }
    }

    /// An Identify frame.
    pub fn identify(identify: &Identify) -> Self {
        let mut shown = identify.clone();
        shown.token = Secret::new(REDACTED);
        Self::with_token(OutgoingKind::Identify, opcode::IDENTIFY, identify, &shown)
    }

    /// A Resume frame.
    pub fn resume(resume: &Resume) -> Self {
        let mut shown = resume.clone();
        shown.token = Secret::new(REDACTED);
        Self::with_token(OutgoingKind::Resume, opcode::RESUME, resume, &shown)
    }

    /// A frame carrying the token: `payload` on the wire, `shown` (the same
    /// payload with the token redacted) in logs.
    fn with_token<T: Serialize>(kind: OutgoingKind, op: u64, payload: &T, shown: &T) -> Self {
        Self {
            kind,
            text: envelope(op, payload),
            redacted: Some(envelope(op, shown)),
        }
    }

    /// The frame for an application command.
    pub fn command(command: &GatewayCommand) -> Self {
        let (kind, text) = match command {
            GatewayCommand::PresenceUpdate(p) => (
                OutgoingKind::PresenceUpdate,
                envelope(opcode::PRESENCE_UPDATE, p),
            ),
            GatewayCommand::RequestGuildMembers(r) => (
                OutgoingKind::RequestGuildMembers,
                envelope(opcode::REQUEST_GUILD_MEMBERS, r),
            ),
        };
        Self {
            kind,
            text,
            redacted: None,
        }
    }

    /// What the frame is.
    pub fn kind(&self) -> OutgoingKind {
        self.kind
    }

    /// The wire text (contains the token for Identify/Resume).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The wire text, owned.
    pub fn into_string(self) -> String {
        self.text
    }

    /// The payload size in bytes.
    pub fn len(&self) -> usize {
        self.text.len()
    }

    /// Never true (a frame is at least `{"op":..}`); here for clippy.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// The text safe to log (token redacted).
    pub fn redacted(&self) -> &str {
        self.redacted.as_deref().unwrap_or(&self.text)
    }
}

impl fmt::Debug for OutgoingFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OutgoingFrame({:?} {})", self.kind, self.redacted())
    }
}

impl fmt::Display for OutgoingFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.redacted())
    }
}

impl GatewayFrame {
    /// Parses one complete text frame.
    pub fn parse(text: &str) -> Result<Self, FrameError> {
        // A lone surrogate escape decodes to U+FFFD instead of making the
        // frame (and its message) unreadable (issue 16).
        let text = &*crate::json_text::repair_lone_surrogates(text);
        let envelope: Envelope = serde_json::from_str(text).map_err(|e| FrameError::Envelope {
            message: e.to_string(),
        })?;
        let payload_error = |e: serde_json::Error| FrameError::Payload {
            op: envelope.op,
            event: envelope.t.clone(),
            seq: envelope.s,
            message: e.to_string(),
        };
        let frame = match envelope.op {
            opcode::DISPATCH => {
                let Some(name) = envelope.t.as_deref() else {
                    return Err(FrameError::Payload {
                        op: envelope.op,
                        event: None,
                        seq: envelope.s,
                        message: "dispatch without an event name `t`".to_owned(),
                    });
                };
                let event = Dispatch::parse(name, text).map_err(payload_error)?;
                Self::Dispatch {
                    seq: envelope.s,
                    event,
                }
            }
            opcode::HEARTBEAT => Self::Heartbeat {
                seq: data::<Option<u64>>(text).map_err(payload_error)?,
            },
            opcode::IDENTIFY => {
                Self::Identify(Box::new(required::<Identify>(text).map_err(payload_error)?))
            }
            opcode::PRESENCE_UPDATE => Self::PresenceUpdate(required(text).map_err(payload_error)?),
            opcode::RESUME => Self::Resume(required(text).map_err(payload_error)?),
            opcode::RECONNECT => Self::Reconnect,
            opcode::REQUEST_GUILD_MEMBERS => {
                Self::RequestGuildMembers(required(text).map_err(payload_error)?)
            }
            opcode::INVALID_SESSION => Self::InvalidSession {
                resumable: data::<Option<bool>>(text)
                    .map_err(payload_error)?
                    .unwrap_or(false),
            },
            opcode::HELLO => {
                let hello: HelloData = required(text).map_err(payload_error)?;
                Self::Hello {
                    heartbeat_interval: Duration::from_millis(hello.heartbeat_interval),
                }
            }
            opcode::HEARTBEAT_ACK => Self::HeartbeatAck,
            op => Self::Unknown {
                op,
                data: data::<Option<serde_json::Value>>(text)
                    .map_err(payload_error)?
                    .unwrap_or(serde_json::Value::Null),
            },
        };
        Ok(frame)
    }
}

impl Dispatch {
    /// Parses the `d` of the frame `text` as the event `name`.
    fn parse(name: &str, text: &str) -> Result<Self, serde_json::Error> {
        Ok(match name {
            "READY" => Self::Ready(Box::new(required(text)?)),
            "RESUMED" => Self::Resumed,
            "MESSAGE_CREATE" => Self::MessageCreate(Box::new(required(text)?)),
            "MESSAGE_REACTION_ADD" => Self::MessageReactionAdd(Box::new(required(text)?)),
            "MESSAGE_REACTION_REMOVE" => Self::MessageReactionRemove(Box::new(required(text)?)),
            "INTERACTION_CREATE" => Self::InteractionCreate(required(text)?),
            "THREAD_CREATE" => Self::ThreadCreate(Box::new(required(text)?)),
            "CHANNEL_CREATE" => Self::ChannelCreate(Box::new(required(text)?)),
            "GUILD_CREATE" => Self::GuildCreate(Box::new(required(text)?)),
            other => Self::Unknown {
                name: other.to_owned(),
                data: data::<Option<serde_json::Value>>(text)?.unwrap_or(serde_json::Value::Null),
            },
        })
    }
}

/// The envelope, read first to learn `op`/`t` (`d` is skipped here).
#[derive(Deserialize)]
struct Envelope {
    op: u64,
    #[serde(default)]
    s: Option<u64>,
    #[serde(default)]
    t: Option<String>,
}

/// A frame's `d`, which may be absent.
#[derive(Deserialize)]
struct Data<T> {
    #[serde(default = "Option::default")]
    d: Option<T>,
}

/// A frame's `d`, which must be present and non-null.
#[derive(Deserialize)]
struct Required<T> {
    d: T,
}

#[derive(Deserialize)]
struct HelloData {
    heartbeat_interval: u64,
}

/// Serialises `{"op":op,"d":payload}`.
#[derive(Serialize)]
struct OutgoingEnvelope<'a, T> {
    op: u64,
    d: &'a T,
}

fn envelope<T: Serialize>(op: u64, payload: &T) -> String {
    // Cannot fail: the payload types are plain structs with string keys and no
    // custom serialisers that return errors.
    serde_json::to_string(&OutgoingEnvelope { op, d: payload })
        .expect("gateway payloads always serialise to JSON")
}

/// `d` when it may be absent or null (then `T::default()`).
fn data<T: DeserializeOwned + Default>(text: &str) -> Result<T, serde_json::Error> {
    Ok(serde_json::from_str::<Data<T>>(text)?.d.unwrap_or_default())
}

fn required<T: DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    Ok(serde_json::from_str::<Required<T>>(text)?.d)
}

fn expose_secret<S: Serializer>(secret: &Secret, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose())
}

//! KOOK REST (API v3): the requests krill makes, how each is encoded as an
//! [`HttpRequest`], the `{code, message, data}` envelope (where `code != 0`
//! is an error even with HTTP 200), typed responses and the
//! `X-Rate-Limit-*` headers.
//!
//! Sources: kaiheila/api-docs `docs/zh-cn/http/gateway.md`, `http/message.md`,
//! `http/direct-message.md`, `http/user.md`, `rate-limit.md`, `reference.md`;
//! see `docs/protocol-kook.md` § HTTP basics, Sending, Rate limits.
//!
//! Error codes: KOOK documents no code table. Its codes follow the HTTP
//! status times 100 (`40000`, `40100`..`40103`, `40300`...), so krill reads
//! `401xx` as a rejected token, `403xx` as a missing permission, and
//! `50000..=59999` (server side) as **transient** (retried like a 5xx); every
//! other non-zero code is final.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::discord::{excerpt, parse_count, parse_seconds};
use super::{multipart, Api, HttpRequest, HttpResponse, Method, Response, SubmitError};
use crate::media::OutboundFile;
use crate::secret::Secret;

/// KMarkdown, the message `type` krill always sends (explicitly: the DM
/// endpoint defaults to 1, plain text; fixtures README, KOOK pitfall 3).
pub const KMARKDOWN: u8 = 9;

/// A KOOK REST request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Request {
    /// `GET /gateway/index?compress=0|1`.
    GatewayIndex {
        /// Ask for zlib-compressed frames (`compress=1`).
        compress: bool,
    },
    /// `GET /user/me`.
    UserMe,
    /// `POST /message/create`: a channel message.
    MessageCreate(MessageCreate),
    /// `POST /direct-message/create`: a DM.
    DirectMessageCreate(DirectMessageCreate),
    /// `POST /asset/create` (`multipart/form-data`, one `file` part):
    /// uploads a file; the answer ([`Asset`]) is the URL to send.
    AssetCreate(OutboundFile),
    /// A media message (`type` 2 image, 3 video, 4 file) whose `content` is
    /// an asset URL, to a channel or a DM.
    MediaMessageCreate(MediaMessageCreate),
    /// `POST /message/add-reaction {msg_id, emoji}`, or
    /// `/direct-message/add-reaction` when `direct`.
    AddReaction {
        /// In a DM (`/direct-message/...`).
        direct: bool,
        /// The message.
        msg_id: String,
        /// The emoji (a Unicode emoji or a guild emoji id).
        emoji: String,
    },
    /// `POST /message/delete-reaction {msg_id, emoji, user_id?}`, or
    /// `/direct-message/delete-reaction` when `direct`.
    DeleteReaction {
        /// In a DM (`/direct-message/...`).
        direct: bool,
        /// The message.
        msg_id: String,
        /// The emoji.
        emoji: String,
        /// Whose reaction; `None` = the bot's own.
        user_id: Option<String>,
    },
    /// `GET /message/list?target_id=..&page_size=..` (a channel), or
    /// `/direct-message/list` (a DM with user `target_id`) when `direct`:
    /// the newest messages of the chat.
    MessageList {
        /// A DM (`/direct-message/list`).
        direct: bool,
        /// The channel id, or the DM user's id.
        target_id: String,
        /// How many messages.
        page_size: u32,
    },
}

/// One message of `GET /message/list` / `/direct-message/list` (only what
/// krill reads; channel items carry `author.id`, DM items `author_id`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ListedMessage {
    /// The message id.
    pub id: String,
    /// The content.
    #[serde(default)]
    pub content: String,
    /// The author (channel messages).
    #[serde(default)]
    pub author: Option<User>,
    /// The author's id (DMs).
    #[serde(default)]
    pub author_id: Option<String>,
    /// Creation time, Unix ms.
    #[serde(default)]
    pub create_at: u64,
}

impl ListedMessage {
    /// Who wrote it.
    pub fn author_id(&self) -> &str {
        self.author_id
            .as_deref()
            .or(self.author.as_ref().map(|a| a.id.as_str()))
            .unwrap_or("")
    }
}

/// `data` of the message lists.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MessageList {
    /// The messages.
    #[serde(default)]
    pub items: Vec<ListedMessage>,
}

/// `POST /message/create`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageCreate {
    /// The channel.
    pub target_id: String,
    /// KMarkdown text.
    pub content: String,
    /// Reply to (quote) this message id.
    pub quote: Option<String>,
    /// Echoed back in the response and the event (KOOK does not deduplicate
    /// by it).
    pub nonce: Option<String>,
}

/// A media message: `/message/create` or `/direct-message/create` with
/// `type` 2/3/4 and the asset URL as `content`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaMessageCreate {
    /// Where it goes.
    pub target: MediaTarget,
    /// 2 image, 3 video, 4 file.
    pub message_type: u8,
    /// The URL `/asset/create` answered.
    pub url: String,
    /// Reply to (quote) this message id.
    pub quote: Option<String>,
}

/// Where a media message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaTarget {
    /// A channel id (`/message/create`).
    Channel(String),
    /// A DM (`/direct-message/create`).
    Direct(DmTarget),
}

/// `data` of `/asset/create`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Asset {
    /// Where the uploaded file lives (send it as a media message).
    pub url: String,
}

/// Whom a DM goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DmTarget {
    /// A user id (`target_id`).
    User(String),
    /// A DM chat code (`chat_code`, from the PERSON event's `extra.code`).
    ChatCode(String),
}

/// `POST /direct-message/create`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectMessageCreate {
    /// The recipient.
    pub target: DmTarget,
    /// KMarkdown text.
    pub content: String,
    /// Reply to (quote) this message id.
    pub quote: Option<String>,
    /// Echoed back.
    pub nonce: Option<String>,
}

/// The response envelope `{code, message, data}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Envelope {
    /// 0 = success.
    pub code: i64,
    /// Message (localised).
    #[serde(default)]
    pub message: String,
    /// The payload.
    #[serde(default)]
    pub data: serde_json::Value,
}

/// `GET /gateway/index`: the WebSocket URL. It carries the token in its query,
/// so it is a [`Secret`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Gateway {
    /// `wss://...?compress=0&token=...`.
    pub url: Secret,
}

/// `GET /user/me` (only what krill uses).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct User {
    /// The bot's user id.
    pub id: String,
    /// The bot's username.
    pub username: String,
    /// True for bots.
    #[serde(default)]
    pub bot: bool,
}

/// `data` of `/message/create` and `/direct-message/create`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MessageCreated {
    /// The new message id.
    pub msg_id: String,
    /// Server timestamp (ms).
    pub msg_timestamp: i64,
    /// The nonce sent (empty when none was).
    #[serde(default)]
    pub nonce: String,
}

/// The rate-limit headers of one response; unparsable values read as absent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RateLimitHeaders {
    /// `X-Rate-Limit-Limit`.
    pub limit: Option<u32>,
    /// `X-Rate-Limit-Remaining`.
    pub remaining: Option<u32>,
    /// `X-Rate-Limit-Reset`: seconds to wait (relative, unlike Discord).
    pub reset: Option<Duration>,
    /// `X-Rate-Limit-Bucket`, e.g. `message/create`.
    pub bucket: Option<String>,
    /// `X-Rate-Limit-Global` present (its value, often empty, is ignored).
    pub global: bool,
}

/// How an envelope code is treated (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodeClass {
    /// 0.
    Ok,
    /// `401xx`: the token was rejected.
    Unauthorized,
    /// `403xx`: a missing permission.
    Forbidden,
    /// `50000..=59999`: retried.
    Transient,
    /// Anything else: final.
    Final,
}

impl Request {
    /// The path without the query (the rate-limit route, and the default
    /// bucket name without its leading `/`).
    pub(crate) fn path(&self) -> &'static str {
        match self {
            Request::GatewayIndex { .. } => "/gateway/index",
            Request::UserMe => "/user/me",
            Request::MessageCreate(_) => "/message/create",
            Request::DirectMessageCreate(_)
            | Request::MediaMessageCreate(MediaMessageCreate {
                target: MediaTarget::Direct(_),
                ..
            }) => "/direct-message/create",
            Request::MediaMessageCreate(_) => "/message/create",
            Request::AssetCreate(_) => "/asset/create",
            Request::AddReaction { direct: false, .. } => "/message/add-reaction",
            Request::AddReaction { direct: true, .. } => "/direct-message/add-reaction",
            Request::DeleteReaction { direct: false, .. } => "/message/delete-reaction",
            Request::DeleteReaction { direct: true, .. } => "/direct-message/delete-reaction",
            Request::MessageList { direct: false, .. } => "/message/list",
            Request::MessageList { direct: true, .. } => "/direct-message/list",
        }
    }

    /// The resource a request is ordered by: the channel, the DM peer, or the
    /// message reacted to.
    pub(crate) fn resource(&self) -> &str {
        match self {
            Request::GatewayIndex { .. } | Request::UserMe | Request::AssetCreate(_) => "",
            Request::MessageCreate(m) => &m.target_id,
            Request::DirectMessageCreate(DirectMessageCreate { target, .. })
            | Request::MediaMessageCreate(MediaMessageCreate {
                target: MediaTarget::Direct(target),
                ..
            }) => match target {
                DmTarget::User(id) | DmTarget::ChatCode(id) => id,
            },
            Request::MediaMessageCreate(MediaMessageCreate {
                target: MediaTarget::Channel(id),
                ..
            }) => id,
            Request::AddReaction { msg_id, .. } | Request::DeleteReaction { msg_id, .. } => msg_id,
            Request::MessageList { target_id, .. } => target_id,
        }
    }

    /// What a 403 is about, for [`super::RestError::Forbidden`].
    pub(crate) fn target(&self) -> String {
        match self {
            Request::GatewayIndex { .. } | Request::UserMe | Request::AssetCreate(_) => {
                self.path().to_owned()
            }
            Request::MessageCreate(m) => format!("channel {}", m.target_id),
            Request::MediaMessageCreate(MediaMessageCreate {
                target: MediaTarget::Channel(id),
                ..
            }) => format!("channel {id}"),
            Request::DirectMessageCreate(DirectMessageCreate { target, .. })
            | Request::MediaMessageCreate(MediaMessageCreate {
                target: MediaTarget::Direct(target),
                ..
            }) => match target {
                DmTarget::User(id) => format!("DM with user {id}"),
                DmTarget::ChatCode(code) => format!("DM chat {code}"),
            },
            Request::AddReaction { msg_id, .. } | Request::DeleteReaction { msg_id, .. } => {
                format!("message {msg_id}")
            }
            Request::MessageList {
                direct: false,
                target_id,
                ..
            } => format!("channel {target_id}"),
            Request::MessageList {
                direct: true,
                target_id,
                ..
            } => format!("DM with user {target_id}"),
        }
    }

    /// The HTTP request for `api`. Errors: empty ids or emoji.
    pub fn encode(&self, api: &Api) -> Result<HttpRequest, SubmitError> {
        #[derive(Serialize)]
        struct Create<'a> {
            #[serde(rename = "type")]
            kind: u8,
            #[serde(skip_serializing_if = "Option::is_none")]
            target_id: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            chat_code: Option<&'a str>,
            content: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            quote: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            nonce: Option<&'a str>,
        }
        #[derive(Serialize)]
        struct Reaction<'a> {
            msg_id: &'a str,
            emoji: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            user_id: Option<&'a str>,
        }
        let (method, path_and_query, body) = match self {
            Request::GatewayIndex { compress } => (
                Method::Get,
                format!("/gateway/index?compress={}", u8::from(*compress)),
                None,
            ),
            Request::UserMe => (Method::Get, "/user/me".to_owned(), None),
            Request::MessageList {
                target_id,
                page_size,
                ..
            } => {
                non_empty("target_id", target_id)?;
                (
                    Method::Get,
                    format!(
                        "{}?target_id={}&page_size={page_size}",
                        self.path(),
                        super::path_segment(target_id)
                    ),
                    None,
                )
            }
            Request::MessageCreate(m) => {
                non_empty("target_id", &m.target_id)?;
                let body = Create {
                    kind: KMARKDOWN,
                    target_id: Some(&m.target_id),
                    chat_code: None,
                    content: &m.content,
                    quote: m.quote.as_deref(),
                    nonce: m.nonce.as_deref(),
                };
                (Method::Post, self.path().to_owned(), Some(to_json(&body)?))
            }
            Request::DirectMessageCreate(m) => {
                let (target_id, chat_code) = match &m.target {
                    DmTarget::User(id) => {
                        non_empty("target_id", id)?;
                        (Some(id.as_str()), None)
                    }
                    DmTarget::ChatCode(code) => {
                        non_empty("chat_code", code)?;
                        (None, Some(code.as_str()))
                    }
                };
                let body = Create {
                    kind: KMARKDOWN,
                    target_id,
                    chat_code,
                    content: &m.content,
                    quote: m.quote.as_deref(),
                    nonce: m.nonce.as_deref(),
                };
                (Method::Post, self.path().to_owned(), Some(to_json(&body)?))
            }
            Request::AssetCreate(file) => {
                let (body, content_type) =
                    multipart::encode(&[multipart::Part::File { name: "file", file }]);
                return Ok(api.request_with_type(Method::Post, self.path(), body, &content_type));
            }
            Request::MediaMessageCreate(m) => {
                if !matches!(m.message_type, 2..=4) {
                    return Err(SubmitError::Invalid(format!(
                        "a KOOK media message has type 2, 3 or 4, not {}",
                        m.message_type
                    )));
                }
                non_empty("url", &m.url)?;
                let (target_id, chat_code) = match &m.target {
                    MediaTarget::Channel(id) | MediaTarget::Direct(DmTarget::User(id)) => {
                        non_empty("target_id", id)?;
                        (Some(id.as_str()), None)
                    }
                    MediaTarget::Direct(DmTarget::ChatCode(code)) => {
                        non_empty("chat_code", code)?;
                        (None, Some(code.as_str()))
                    }
                };
                let body = Create {
                    kind: m.message_type,
                    target_id,
                    chat_code,
                    content: &m.url,
                    quote: m.quote.as_deref(),
                    nonce: None,
                };
                (Method::Post, self.path().to_owned(), Some(to_json(&body)?))
            }
            Request::AddReaction { msg_id, emoji, .. } => {
                non_empty("msg_id", msg_id)?;
                non_empty("emoji", emoji)?;
                let body = Reaction {
                    msg_id,
                    emoji,
                    user_id: None,
                };
                (Method::Post, self.path().to_owned(), Some(to_json(&body)?))
            }
            Request::DeleteReaction {
                msg_id,
                emoji,
                user_id,
                ..
            } => {
                non_empty("msg_id", msg_id)?;
                non_empty("emoji", emoji)?;
                let body = Reaction {
                    msg_id,
                    emoji,
                    user_id: user_id.as_deref(),
                };
                (Method::Post, self.path().to_owned(), Some(to_json(&body)?))
            }
        };
        Ok(api.request(method, &path_and_query, body))
    }

    /// Reads the `data` of a `code == 0` envelope answering this request.
    pub fn decode_data(&self, data: serde_json::Value) -> Result<Response, String> {
        fn typed<T: for<'de> Deserialize<'de>>(data: serde_json::Value) -> Result<T, String> {
            serde_json::from_value(data).map_err(|e| e.to_string())
        }
        Ok(match self {
            Request::GatewayIndex { .. } => Response::KookGateway(typed(data)?),
            Request::UserMe => Response::KookUser(typed(data)?),
            Request::MessageCreate(_)
            | Request::DirectMessageCreate(_)
            | Request::MediaMessageCreate(_) => Response::KookMessage(typed(data)?),
            Request::AssetCreate(_) => Response::KookAsset(typed(data)?),
            Request::AddReaction { .. } | Request::DeleteReaction { .. } => Response::Empty,
            Request::MessageList { .. } => Response::KookMessageList(typed(data)?),
        })
    }
}

impl Envelope {
    /// Reads the envelope of a response body.
    pub fn parse(body: &[u8]) -> Result<Self, String> {
        serde_json::from_slice(body).map_err(|e| format!("{e}: {}", excerpt(body)))
    }
}

impl RateLimitHeaders {
    /// Reads the rate-limit headers of `response`.
    pub fn parse(response: &HttpResponse) -> Self {
        Self {
            limit: response.header("X-Rate-Limit-Limit").and_then(parse_count),
            remaining: response
                .header("X-Rate-Limit-Remaining")
                .and_then(parse_count),
            reset: response
                .header("X-Rate-Limit-Reset")
                .and_then(parse_seconds),
            bucket: response
                .header("X-Rate-Limit-Bucket")
                .map(str::trim)
                .filter(|v| !v.is_empty() && v.len() <= 128)
                .map(str::to_owned),
            global: response.header("X-Rate-Limit-Global").is_some(),
        }
    }
}

/// How krill treats envelope `code` (see the module docs).
pub fn classify_code(code: i64) -> CodeClass {
    match code {
        0 => CodeClass::Ok,
        40100..=40199 => CodeClass::Unauthorized,
        40300..=40399 => CodeClass::Forbidden,
        50000..=59999 => CodeClass::Transient,
        _ => CodeClass::Final,
    }
}

fn non_empty(field: &str, value: &str) -> Result<(), SubmitError> {
    if value.trim().is_empty() {
        return Err(SubmitError::Invalid(format!("{field} is empty")));
    }
    Ok(())
}

fn to_json<T: Serialize>(value: &T) -> Result<Vec<u8>, SubmitError> {
    serde_json::to_vec(value).map_err(|e| SubmitError::Invalid(e.to_string()))
}

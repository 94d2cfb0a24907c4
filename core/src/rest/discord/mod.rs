//! Discord REST (API v10): the requests krill makes, how each is encoded as an
//! [`HttpRequest`] and which rate-limit route it belongs to, the
//! `allowed_mentions` krill sends, reaction emoji, typed responses, and the
//! `X-RateLimit-*` headers and 429 body ([`limits`]).
//!
//! Sources: discord-api-docs `developers/resources/message.mdx` (Create
//! Message, Allowed Mentions, reactions), `developers/topics/rate-limits.mdx`,
//! `developers/events/gateway.mdx` (Get Gateway Bot); see
//! `docs/protocol-discord.md` § REST and § REST rate limits.

mod limits;

pub use limits::*;

use serde::{Deserialize, Serialize};

use super::multipart::{self, Part};
use crate::reply::mentions::MentionPolicy;

use super::{path_segment, Api, HttpRequest, Method, Response, SubmitError};
use crate::media::OutboundFile;

/// The longest nonce Discord accepts (characters).
pub const MAX_NONCE_LEN: usize = 25;

/// Discord rejects more than this many ids in `allowed_mentions.users` /
/// `.roles`; krill keeps the first 100 mentioned.
pub const MAX_ALLOWED_MENTION_IDS: usize = 100;

/// A Discord REST request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Request {
    /// `GET /gateway/bot`.
    GatewayBot,
    /// `GET /users/@me`.
    CurrentUser,
    /// `POST /channels/{channel_id}/messages`.
    CreateMessage(CreateMessage),
    /// `POST /channels/{channel_id}/messages` as `multipart/form-data`
    /// (`payload_json` + `files[n]`): a message with files.
    CreateMessageWithFiles(CreateMessageWithFiles),
    /// `POST /users/@me/channels {"recipient_id"}`: open (or find) the DM
    /// channel with a user.
    OpenDm {
        /// The user.
        recipient_id: String,
    },
    /// `POST /channels/{channel_id}/typing` (shows typing for 10 s).
    TriggerTyping {
        /// The channel.
        channel_id: String,
    },
    /// `PUT /channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me`.
    CreateReaction {
        /// The channel.
        channel_id: String,
        /// The message.
        message_id: String,
        /// A Unicode emoji, `name:id`, `<:name:id>` or `<a:name:id>`.
        emoji: String,
    },
    /// `DELETE /channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me`.
    DeleteOwnReaction {
        /// The channel.
        channel_id: String,
        /// The message.
        message_id: String,
        /// A Unicode emoji, `name:id`, `<:name:id>` or `<a:name:id>`.
        emoji: String,
    },
    /// `GET /guilds/{guild_id}/members/search?query=&limit=`: the members
    /// whose username or nickname starts with `query` (refused without the
    /// Server Members Intent).
    SearchGuildMembers {
        /// The guild.
        guild_id: String,
        /// The name prefix (sent percent-encoded).
        query: String,
        /// 1 to [`MAX_MEMBER_SEARCH_LIMIT`] (Discord's default is 1).
        limit: u16,
    },
    /// `GET /applications/{application_id}/commands`: the global commands.
    GetGlobalCommands {
        /// The application.
        application_id: String,
    },
    /// `PUT /applications/{application_id}/commands`: replaces the global
    /// commands (`[]` clears them).
    PutGlobalCommands {
        /// The application.
        application_id: String,
        /// The command list (a JSON array).
        commands: serde_json::Value,
    },
    /// `POST /interactions/{interaction_id}/{token}/callback`.
    InteractionCallback {
        /// The interaction.
        interaction_id: String,
        /// Its token.
        token: String,
        /// What to answer.
        response: InteractionResponse,
    },
    /// `PATCH /webhooks/{application_id}/{token}/messages/@original`: the
    /// text of a deferred answer.
    EditOriginalResponse {
        /// The application.
        application_id: String,
        /// The interaction token.
        token: String,
        /// The text.
        content: String,
        /// Who the text may ping.
        mentions: MentionPolicy,
    },
    /// `POST /webhooks/{application_id}/{token}`: a follow-up message.
    CreateFollowup {
        /// The application.
        application_id: String,
        /// The interaction token.
        token: String,
        /// The text.
        content: String,
        /// Only the caller sees it (`flags: 64`).
        ephemeral: bool,
        /// Who the text may ping.
        mentions: MentionPolicy,
    },
    /// Any other route, JSON in and out: what the `discord` tool's actions
    /// plan ([`crate::tools`]).
    Api(ApiCall),
}

/// One call of the `discord` tool: a route of the API with a JSON body,
/// answered with JSON ([`Response::DiscordJson`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiCall {
    /// The method.
    pub method: Method,
    /// The rate-limit route template, e.g.
    /// `GET /channels/{channel_id}/messages`.
    pub route: &'static str,
    /// The path and query below the base URL, ids already percent-encoded
    /// (e.g. `/channels/123/messages?limit=20`).
    pub path: String,
    /// The route's major parameter (the channel or guild id; empty when
    /// none), which keys its rate-limit bucket.
    pub major: String,
    /// The JSON body, if any.
    pub body: Option<serde_json::Value>,
    /// `X-Audit-Log-Reason` (moderation actions), percent-encoded when sent.
    pub audit_reason: Option<String>,
}

/// An interaction callback.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InteractionResponse {
    /// Type 4 with `flags: 64` (ephemeral): an answer only the caller sees.
    EphemeralMessage(String),
    /// Type 5: "thinking…"; the answer follows through the webhook.
    Deferred,
}

/// The largest `limit` `GET /guilds/{guild_id}/members/search` accepts.
pub const MAX_MEMBER_SEARCH_LIMIT: u16 = 1000;

/// `POST /channels/{channel_id}/messages`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CreateMessage {
    /// The channel (a DM channel id for DMs).
    pub channel_id: String,
    /// The text (the chunker keeps it within 2000 characters).
    pub content: String,
    /// Reply to this message (`message_reference` with
    /// `fail_if_not_exists: false`, so a deleted original still gets the
    /// text).
    pub reply_to: Option<String>,
    /// At most [`MAX_NONCE_LEN`] characters. `None`: the [`super::Planner`]
    /// generates one at submission. Sent with `enforce_nonce: true` and the
    /// same on every retry, so a retry can never post the message twice.
    pub nonce: Option<String>,
    /// Who the text may ping ([`crate::reply::mentions`]); the default
    /// pings nobody but the replied-to author.
    pub mentions: MentionPolicy,
}

/// A message with up to 10 files (Discord "Uploading Files": the JSON body
/// goes in the `payload_json` part with `attachments: [{id, filename}]`,
/// each file in a `files[n]` part). Same route, nonce and retries as
/// [`CreateMessage`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateMessageWithFiles {
    /// The message (its `content` may be empty).
    pub message: CreateMessage,
    /// The files, in order.
    pub files: Vec<OutboundFile>,
}

/// `allowed_mentions` as krill sends it: `parse` is empty (unless
/// `allowedMentions: "all"`), so
/// `@everyone`, `@here` and role/user mentions Discord would otherwise parse
/// from the text never ping; only the users and roles the text mentions
/// explicitly (`<@id>`, `<@!id>`, `<@&id>`) are listed. `@everyone` / `@here`
/// can never be allowed: they are only enabled through `parse: ["everyone"]`,
/// which krill never sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AllowedMentions {
    /// Empty, or `["everyone"]` under `allowedMentions: "all"`.
    pub parse: Vec<String>,
    /// User ids mentioned as `<@id>` / `<@!id>` (in order, deduplicated, at
    /// most 100). Omitted when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<String>,
    /// Role ids mentioned as `<@&id>` (in order, deduplicated, at most 100).
    /// Omitted when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// Present only on replies, and then `true`: a reply pings the author of
    /// the message it answers, as a human reply does by default (and as
    /// `fixtures/discord/rest/create_message_reply_request.json` shows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replied_user: Option<bool>,
}

/// `GET /gateway/bot`: the gateway machine's own type, so the driver hands
/// the response to [`crate::discord::Shard::handle_gateway_fetched`] as is.
pub use crate::discord::{GatewayBot, SessionStartLimit};

/// `GET /users/@me` (only what krill uses).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct User {
    /// The bot's user id.
    pub id: String,
    /// The bot's username.
    pub username: String,
}

/// A created message (only what krill uses).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Message {
    /// The message id.
    pub id: String,
    /// The channel it was posted in.
    pub channel_id: String,
}

/// `POST /users/@me/channels` (only what krill uses).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DmChannel {
    /// The DM channel id, to send to.
    pub id: String,
}

/// A rate-limit route: the route template (e.g.
/// `POST /channels/{channel_id}/messages`) and its major parameter value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Route {
    pub(crate) template: &'static str,
    pub(crate) major: String,
}

impl Request {
    /// The rate-limit route: template plus major parameter (the channel for
    /// `/channels/{channel_id}/...`, none otherwise).
    pub(crate) fn route(&self) -> Route {
        let (template, major) = match self {
            Request::GatewayBot => ("GET /gateway/bot", ""),
            Request::CurrentUser => ("GET /users/@me", ""),
            Request::CreateMessage(m)
            | Request::CreateMessageWithFiles(CreateMessageWithFiles { message: m, .. }) => {
                ("POST /channels/{channel_id}/messages", &*m.channel_id)
            }
            Request::OpenDm { .. } => ("POST /users/@me/channels", ""),
            Request::TriggerTyping { channel_id } => {
                ("POST /channels/{channel_id}/typing", &**channel_id)
            }
            Request::CreateReaction { channel_id, .. } => (
                "PUT /channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
                &**channel_id,
            ),
            Request::DeleteOwnReaction { channel_id, .. } => (
                "DELETE /channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
                &**channel_id,
            ),
            Request::Api(call) => (call.route, &*call.major),
            Request::SearchGuildMembers { guild_id, .. } => {
                ("GET /guilds/{guild_id}/members/search", &**guild_id)
            }
            Request::GetGlobalCommands { application_id } => (
                "GET /applications/{application_id}/commands",
                &**application_id,
            ),
            Request::PutGlobalCommands { application_id, .. } => (
                "PUT /applications/{application_id}/commands",
                &**application_id,
            ),
            Request::InteractionCallback { interaction_id, .. } => (
                "POST /interactions/{interaction_id}/{token}/callback",
                &**interaction_id,
            ),
            Request::EditOriginalResponse { token, .. } => (
                "PATCH /webhooks/{application_id}/{token}/messages/@original",
                &**token,
            ),
            Request::CreateFollowup { token, .. } => {
                ("POST /webhooks/{application_id}/{token}", &**token)
            }
        };
        Route {
            template,
            major: major.to_owned(),
        }
    }

    /// What a 403 is about, for [`super::RestError::Forbidden`].
    pub(crate) fn target(&self) -> String {
        match self {
            Request::GatewayBot => "GET /gateway/bot".to_owned(),
            Request::CurrentUser => "GET /users/@me".to_owned(),
            Request::OpenDm { recipient_id } => format!("DM with user {recipient_id}"),
            Request::CreateMessage(CreateMessage { channel_id, .. })
            | Request::CreateMessageWithFiles(CreateMessageWithFiles {
                message: CreateMessage { channel_id, .. },
                ..
            })
            | Request::TriggerTyping { channel_id }
            | Request::CreateReaction { channel_id, .. }
            | Request::DeleteOwnReaction { channel_id, .. } => format!("channel {channel_id}"),
            Request::Api(call) => format!("{} {}", call.method.as_str(), call.path),
            Request::SearchGuildMembers { guild_id, .. } => {
                format!("member search in guild {guild_id}")
            }
            Request::GetGlobalCommands { .. } | Request::PutGlobalCommands { .. } => {
                "application commands".to_owned()
            }
            Request::InteractionCallback { interaction_id, .. } => {
                format!("interaction {interaction_id}")
            }
            Request::EditOriginalResponse { .. } | Request::CreateFollowup { .. } => {
                "interaction response".to_owned()
            }
        }
    }

    /// The HTTP request for `api`. Ids and emoji are percent-encoded in the
    /// path. Errors: empty ids, an empty emoji, a nonce longer than
    /// [`MAX_NONCE_LEN`] or empty.
    pub fn encode(&self, api: &Api) -> Result<HttpRequest, SubmitError> {
        let (method, path, body) = match self {
            Request::GatewayBot => (Method::Get, "/gateway/bot".to_owned(), None),
            Request::CurrentUser => (Method::Get, "/users/@me".to_owned(), None),
            Request::CreateMessage(m) => {
                let body = m.body(&[])?;
                (
                    Method::Post,
                    format!(
                        "/channels/{}/messages",
                        id_segment("channel_id", &m.channel_id)?
                    ),
                    Some(body),
                )
            }
            Request::CreateMessageWithFiles(upload) => {
                let path = format!(
                    "/channels/{}/messages",
                    id_segment("channel_id", &upload.message.channel_id)?
                );
                let (body, content_type) = upload.form()?;
                return Ok(api.request_with_type(Method::Post, &path, body, &content_type));
            }
            Request::OpenDm { recipient_id } => {
                non_empty("recipient_id", recipient_id)?;
                let body = serde_json::json!({ "recipient_id": recipient_id });
                (
                    Method::Post,
                    "/users/@me/channels".to_owned(),
                    Some(body.to_string().into_bytes()),
                )
            }
            Request::TriggerTyping { channel_id } => (
                Method::Post,
                format!("/channels/{}/typing", id_segment("channel_id", channel_id)?),
                None,
            ),
            Request::CreateReaction {
                channel_id,
                message_id,
                emoji,
            }
            | Request::DeleteOwnReaction {
                channel_id,
                message_id,
                emoji,
            } => {
                let method = if matches!(self, Request::CreateReaction { .. }) {
                    Method::Put
                } else {
                    Method::Delete
                };
                let path = format!(
                    "/channels/{}/messages/{}/reactions/{}/@me",
                    id_segment("channel_id", channel_id)?,
                    id_segment("message_id", message_id)?,
                    path_segment(&reaction_emoji(emoji)?),
                );
                (method, path, None)
            }
            Request::Api(call) => {
                if !call.path.starts_with('/') {
                    return Err(SubmitError::Invalid(format!(
                        "path {:?} does not start with /",
                        call.path
                    )));
                }
                let body = call.body.as_ref().map(|b| b.to_string().into_bytes());
                let mut request = api.request(call.method, &call.path, body);
                if let Some(reason) = call.audit_reason.as_deref().filter(|r| !r.is_empty()) {
                    request
                        .headers
                        .push(("X-Audit-Log-Reason".to_owned(), path_segment(reason)));
                }
                return Ok(request);
            }
            Request::SearchGuildMembers {
                guild_id,
                query,
                limit,
            } => {
                non_empty("query", query)?;
                if !(1..=MAX_MEMBER_SEARCH_LIMIT).contains(limit) {
                    return Err(SubmitError::Invalid(format!(
                        "limit {limit} is not within 1..={MAX_MEMBER_SEARCH_LIMIT}"
                    )));
                }
                let path = format!(
                    "/guilds/{}/members/search?query={}&limit={limit}",
                    id_segment("guild_id", guild_id)?,
                    path_segment(query),
                );
                (Method::Get, path, None)
            }
            Request::GetGlobalCommands { application_id } => (
                Method::Get,
                format!(
                    "/applications/{}/commands",
                    id_segment("application_id", application_id)?
                ),
                None,
            ),
            Request::PutGlobalCommands {
                application_id,
                commands,
            } => (
                Method::Put,
                format!(
                    "/applications/{}/commands",
                    id_segment("application_id", application_id)?
                ),
                Some(commands.to_string().into_bytes()),
            ),
            Request::InteractionCallback {
                interaction_id,
                token,
                response,
            } => {
                let body = match response {
                    InteractionResponse::EphemeralMessage(content) => serde_json::json!({
                        "type": 4,
                        "data": {
                            "content": content,
                            "flags": 64,
                            "allowed_mentions": allowed_mentions_for(content, false, &MentionPolicy::default()),
                        }
                    }),
                    InteractionResponse::Deferred => serde_json::json!({ "type": 5 }),
                };
                (
                    Method::Post,
                    format!(
                        "/interactions/{}/{}/callback",
                        id_segment("interaction_id", interaction_id)?,
                        id_segment("token", token)?
                    ),
                    Some(body.to_string().into_bytes()),
                )
            }
            Request::EditOriginalResponse {
                application_id,
                token,
                content,
                mentions,
            }
            | Request::CreateFollowup {
                application_id,
                token,
                content,
                mentions,
                ..
            } => {
                let mut body = serde_json::json!({
                    "content": content,
                    "allowed_mentions": allowed_mentions_for(content, false, mentions),
                });
                if let Request::CreateFollowup {
                    ephemeral: true, ..
                } = self
                {
                    body["flags"] = serde_json::json!(64);
                }
                let base = format!(
                    "/webhooks/{}/{}",
                    id_segment("application_id", application_id)?,
                    id_segment("token", token)?
                );
                let (method, path) = if matches!(self, Request::EditOriginalResponse { .. }) {
                    (Method::Patch, format!("{base}/messages/@original"))
                } else {
                    (Method::Post, base)
                };
                (method, path, Some(body.to_string().into_bytes()))
            }
        };
        Ok(api.request(method, &path, body))
    }

    /// Reads the body of a 2xx answer to this request.
    pub fn decode_success(&self, body: &[u8]) -> Result<Response, String> {
        fn json<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, String> {
            serde_json::from_slice(body).map_err(|e| e.to_string())
        }
        Ok(match self {
            Request::GatewayBot => Response::DiscordGatewayBot(json(body)?),
            Request::CurrentUser => Response::DiscordUser(json(body)?),
            Request::CreateMessage(_) | Request::CreateMessageWithFiles(_) => {
                Response::DiscordMessage(json(body)?)
            }
            Request::OpenDm { .. } => Response::DiscordDmChannel(json(body)?),
            Request::GetGlobalCommands { .. } => Response::DiscordCommands(json(body)?),
            Request::TriggerTyping { .. }
            | Request::CreateReaction { .. }
            | Request::DeleteOwnReaction { .. }
            | Request::PutGlobalCommands { .. }
            | Request::InteractionCallback { .. }
            | Request::EditOriginalResponse { .. }
            | Request::CreateFollowup { .. } => Response::Empty,
            Request::Api(_) if body.iter().all(u8::is_ascii_whitespace) => {
                Response::DiscordJson(serde_json::Value::Null)
            }
            Request::Api(_) => Response::DiscordJson(json(body)?),
            Request::SearchGuildMembers { .. } => Response::DiscordMembers(json(body)?),
        })
    }
}

impl CreateMessage {
    /// The JSON body: `{content, allowed_mentions, message_reference?, nonce?,
    /// enforce_nonce?, attachments?}` (`attachments` lists the files of an
    /// upload).
    fn body(&self, files: &[OutboundFile]) -> Result<Vec<u8>, SubmitError> {
        #[derive(Serialize)]
        struct AttachmentRef<'a> {
            id: usize,
            filename: &'a str,
        }
        #[derive(Serialize)]
        struct Reference<'a> {
            message_id: &'a str,
            fail_if_not_exists: bool,
        }
        #[derive(Serialize)]
        struct Body<'a> {
            content: &'a str,
            allowed_mentions: AllowedMentions,
            #[serde(skip_serializing_if = "Option::is_none")]
            message_reference: Option<Reference<'a>>,
            #[serde(skip_serializing_if = "Option::is_none")]
            nonce: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            enforce_nonce: Option<bool>,
            #[serde(skip_serializing_if = "Vec::is_empty")]
            attachments: Vec<AttachmentRef<'a>>,
        }
        if let Some(nonce) = &self.nonce {
            validate_nonce(nonce)?;
        }
        if let Some(id) = &self.reply_to {
            non_empty("reply_to", id)?;
        }
        let body = Body {
            content: &self.content,
            allowed_mentions: allowed_mentions_for(
                &self.content,
                self.reply_to.is_some(),
                &self.mentions,
            ),
            message_reference: self.reply_to.as_deref().map(|message_id| Reference {
                message_id,
                fail_if_not_exists: false,
            }),
            nonce: self.nonce.as_deref(),
            enforce_nonce: self.nonce.as_ref().map(|_| true),
            attachments: files
                .iter()
                .enumerate()
                .map(|(id, f)| AttachmentRef {
                    id,
                    filename: &f.filename,
                })
                .collect(),
        };
        serde_json::to_vec(&body).map_err(|e| SubmitError::Invalid(e.to_string()))
    }
}

impl CreateMessageWithFiles {
    /// The `multipart/form-data` body and its `Content-Type`. Errors: no
    /// files, more than 10, or an invalid message.
    fn form(&self) -> Result<(Vec<u8>, String), SubmitError> {
        if self.files.is_empty() || self.files.len() > crate::media::DISCORD_MAX_FILES_PER_MESSAGE {
            return Err(SubmitError::Invalid(format!(
                "a Discord message carries 1 to {} files, this one {}",
                crate::media::DISCORD_MAX_FILES_PER_MESSAGE,
                self.files.len()
            )));
        }
        let payload = self.message.body(&self.files)?;
        let names: Vec<String> = (0..self.files.len())
            .map(|i| format!("files[{i}]"))
            .collect();
        let mut parts = vec![Part::Json {
            name: "payload_json",
            value: &payload,
        }];
        parts.extend(
            self.files
                .iter()
                .zip(&names)
                .map(|(file, name)| Part::File { name, file }),
        );
        Ok(multipart::encode(&parts))
    }
}

impl Request {
    /// The nonce of a message create (plain or with files), for the planner
    /// to fill in at submission.
    pub(crate) fn nonce_slot(&mut self) -> Option<&mut Option<String>> {
        match self {
            Request::CreateMessage(m)
            | Request::CreateMessageWithFiles(CreateMessageWithFiles { message: m, .. }) => {
                Some(&mut m.nonce)
            }
            _ => None,
        }
    }
}

/// The `allowed_mentions` for `content` under `policy`
/// ([`crate::reply::mentions`]): `parse` lists `everyone` only for
/// [`MentionScope::All`](crate::reply::MentionScope::All); users are the ones the text mentions that may
/// ping (by default the turn's participants only); roles only when the scope
/// allows roles.
pub fn allowed_mentions_for(
    content: &str,
    replying: bool,
    policy: &MentionPolicy,
) -> AllowedMentions {
    let mut allowed = allowed_mentions(content, replying);
    allowed.users.retain(|id| policy.user_may_ping(id));
    if !policy.roles_may_ping() {
        allowed.roles.clear();
    }
    if policy.everyone_may_ping() {
        allowed.parse.push("everyone".to_owned());
    }
    allowed
}

/// Every user and role `content` mentions explicitly, `parse: []`: see
/// [`AllowedMentions`] (the widest list short of `@everyone`; replies narrow
/// it with [`allowed_mentions_for`]).
pub fn allowed_mentions(content: &str, replying: bool) -> AllowedMentions {
    let mut users = Vec::new();
    let mut roles = Vec::new();
    let mut rest = content;
    while let Some(start) = rest.find("<@") {
        rest = &rest[start + 2..];
        let (list, after_sigil) = if let Some(r) = rest.strip_prefix('&') {
            (&mut roles, r)
        } else if let Some(r) = rest.strip_prefix('!') {
            (&mut users, r)
        } else {
            (&mut users, rest)
        };
        let digits = after_sigil.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 20 || !after_sigil[digits..].starts_with('>') {
            continue;
        }
        let id = &after_sigil[..digits];
        if list.len() < MAX_ALLOWED_MENTION_IDS && !list.iter().any(|x: &String| x == id) {
            list.push(id.to_owned());
        }
        rest = &after_sigil[digits + 1..];
    }
    AllowedMentions {
        parse: Vec::new(),
        users,
        roles,
        replied_user: replying.then_some(true),
    }
}

/// A reaction emoji in the form the reactions route takes, before
/// percent-encoding: a Unicode emoji as it is, a custom emoji as `name:id`.
/// Accepts `<:name:id>` and `<a:name:id>` (how custom emoji appear in message
/// text) and converts them.
pub fn reaction_emoji(input: &str) -> Result<String, SubmitError> {
    let input = input.trim();
    let invalid = || SubmitError::Invalid(format!("not a reaction emoji: {input:?}"));
    if input.is_empty() {
        return Err(invalid());
    }
    let inner = match input.strip_prefix('<').and_then(|s| s.strip_suffix('>')) {
        Some(tag) => tag
            .strip_prefix("a:")
            .or_else(|| tag.strip_prefix(':'))
            .ok_or_else(invalid)?,
        None => input,
    };
    match inner.rsplit_once(':') {
        Some((name, id)) => {
            let valid_id =
                !id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit());
            if name.is_empty() || !valid_id || name.contains(':') {
                return Err(invalid());
            }
            Ok(format!("{name}:{id}"))
        }
        None if inner.len() == input.len() => Ok(inner.to_owned()),
        None => Err(invalid()),
    }
}

/// A nonce for a retried-safe create: decimal digits of 63 random bits (at
/// most 19 characters).
pub(crate) fn nonce_from(random: u64) -> String {
    (random >> 1).to_string()
}

fn validate_nonce(nonce: &str) -> Result<(), SubmitError> {
    let len = nonce.chars().count();
    if len == 0 || len > MAX_NONCE_LEN {
        return Err(SubmitError::Invalid(format!(
            "a Discord nonce has 1 to {MAX_NONCE_LEN} characters, this one {len}"
        )));
    }
    Ok(())
}

fn non_empty(field: &str, value: &str) -> Result<(), SubmitError> {
    if value.trim().is_empty() {
        return Err(SubmitError::Invalid(format!("{field} is empty")));
    }
    Ok(())
}

fn id_segment(field: &str, value: &str) -> Result<String, SubmitError> {
    non_empty(field, value)?;
    Ok(path_segment(value))
}

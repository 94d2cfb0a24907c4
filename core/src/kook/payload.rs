//! Typed KOOK event payloads: the `d` of an s=0 frame, parsed once at the
//! edge into [`EventBody`]: a chat [`Message`] (types 1, 2, 3, 4, 8, 9, 10),
//! a [`SystemEvent`] (type 255) or an [`UnknownEvent`].
//!
//! Sources: KOOK's event pages (introduction, message, channel, direct
//! message) and objects page, summarised with links in
//! `docs/protocol-kook.md` § Events krill reads.
//!
//! Parsing never fails. KOOK's types are loose (ids as strings or numbers,
//! `attachments` as an array, an object, `false` or `null`, role ids as
//! integers), so every field is read leniently and a missing field is empty;
//! `msg_id` is kept as an opaque string (the docs' examples mask it, so it is
//! not validated as a UUID). A `d` that is not an object, or has no known
//! `type`, becomes [`EventBody::Unknown`], kept raw.
//!
//! Bot mentions in KMarkdown look like `(met)<user id>(met)`; see
//! [`met_mentions`] and [`strip_met_mention`].

use serde_json::Value;

use super::lenient::{field, flag, id_list, int, int_list, non_empty, objects, string, text};

/// Where a message or event happened (`channel_type`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChannelType {
    /// A guild channel.
    Group,
    /// A direct message.
    Person,
    /// A broadcast.
    Broadcast,
    /// A value this build does not know, kept as sent.
    Other(String),
}

impl ChannelType {
    fn parse(value: &Value) -> Self {
        match string(value).as_deref() {
            Some("GROUP") => Self::Group,
            Some("PERSON") => Self::Person,
            Some("BROADCAST") => Self::Broadcast,
            Some(other) => Self::Other(other.to_owned()),
            None => Self::Other(String::new()),
        }
    }
}

/// A chat message's `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessageType {
    /// 1: plain text.
    Text,
    /// 2: an image; `content` is its URL.
    Image,
    /// 3: a video; `content` is its URL.
    Video,
    /// 4: a file; `content` is its URL.
    File,
    /// 8: audio; `content` is its URL.
    Audio,
    /// 9: KMarkdown.
    KMarkdown,
    /// 10: a card message; `content` is the card JSON.
    Card,
    /// Any other message type (e.g. 12, poke), kept by number.
    Other(i64),
}

impl MessageType {
    /// The type for a wire number (255, system, is not a message type and
    /// maps to `Other(255)`).
    pub fn from_code(code: i64) -> Self {
        match code {
            1 => Self::Text,
            2 => Self::Image,
            3 => Self::Video,
            4 => Self::File,
            8 => Self::Audio,
            9 => Self::KMarkdown,
            10 => Self::Card,
            other => Self::Other(other),
        }
    }

    /// The wire number.
    pub fn code(self) -> i64 {
        match self {
            Self::Text => 1,
            Self::Image => 2,
            Self::Video => 3,
            Self::File => 4,
            Self::Audio => 8,
            Self::KMarkdown => 9,
            Self::Card => 10,
            Self::Other(code) => code,
        }
    }
}

/// The kind of media in a media message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MediaKind {
    /// Type 2.
    Image,
    /// Type 3.
    Video,
    /// Type 4.
    File,
    /// Type 8.
    Audio,
}

/// A message's content, by type.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Body {
    /// Type 1: plain text.
    Text(String),
    /// Type 9: KMarkdown source (mentions as `(met)id(met)`).
    KMarkdown(String),
    /// Types 2, 3, 4, 8: `content` is the media URL.
    Media {
        /// Which media.
        kind: MediaKind,
        /// The media URL (the message `content`).
        url: String,
    },
    /// Type 10: the card JSON, raw.
    Card(String),
    /// Any other type: its number and raw content.
    Other {
        /// The `type` number.
        type_code: i64,
        /// The raw `content`.
        content: String,
    },
}

impl Body {
    fn new(kind: MessageType, content: String) -> Self {
        let media = match kind {
            MessageType::Text => return Self::Text(content),
            MessageType::KMarkdown => return Self::KMarkdown(content),
            MessageType::Card => return Self::Card(content),
            MessageType::Other(type_code) => return Self::Other { type_code, content },
            MessageType::Image => MediaKind::Image,
            MessageType::Video => MediaKind::Video,
            MessageType::File => MediaKind::File,
            MessageType::Audio => MediaKind::Audio,
        };
        Self::Media {
            kind: media,
            url: content,
        }
    }

    /// The raw `content` whatever the type.
    pub fn content(&self) -> &str {
        match self {
            Self::Text(s) | Self::KMarkdown(s) | Self::Card(s) => s,
            Self::Media { url, .. } => url,
            Self::Other { content, .. } => content,
        }
    }
}

/// A message author (`extra.author`, the User object).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Author {
    /// The user id.
    pub id: String,
    /// The user name (without the `#1234` suffix).
    pub username: String,
    /// The nickname in this guild, when set.
    pub nickname: Option<String>,
    /// The four-digit discriminator (`identify_num`).
    pub identify_num: Option<String>,
    /// True for bots (absent reads as false).
    pub bot: bool,
    /// Role ids (integers on the wire).
    pub roles: Vec<i64>,
    /// The avatar URL.
    pub avatar: Option<String>,
}

impl Author {
    fn parse(value: &Value) -> Self {
        Self {
            id: text(field(value, "id")),
            username: text(field(value, "username")),
            nickname: non_empty(field(value, "nickname")),
            identify_num: non_empty(field(value, "identify_num")),
            bot: flag(field(value, "bot")),
            roles: int_list(field(value, "roles")),
            avatar: non_empty(field(value, "avatar")),
        }
    }

    /// The nickname, else the user name.
    pub fn display_name(&self) -> &str {
        self.nickname.as_deref().unwrap_or(&self.username)
    }
}

/// Who a message mentions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mentions {
    /// Mentioned user ids (`extra.mention`; strings or numbers on the wire).
    pub users: Vec<String>,
    /// `@all` (`mention_all`).
    pub all: bool,
    /// `@here` (`mention_here`).
    pub here: bool,
    /// Mentioned role ids (`mention_roles`, integers).
    pub roles: Vec<i64>,
}

impl Mentions {
    fn parse(value: &Value) -> Self {
        Self {
            users: id_list(field(value, "mention")),
            all: flag(field(value, "mention_all")),
            here: flag(field(value, "mention_here")),
            roles: int_list(field(value, "mention_roles")),
        }
    }
}

/// One entry of `kmarkdown.mention_part`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MentionPart {
    /// The mentioned user's id.
    pub id: String,
    /// Their user name.
    pub username: String,
    /// `username#identify_num`.
    pub full_name: Option<String>,
}

/// `extra.kmarkdown`: the rendered text and mention details.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KMarkdownInfo {
    /// The text with mentions rendered as `@name`.
    pub raw_content: String,
    /// The users mentioned.
    pub mention_part: Vec<MentionPart>,
}

/// A quoted (replied-to) message: `extra.quote`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Quote {
    /// The quoted message's id.
    pub msg_id: String,
    /// The quoted message's author.
    pub author: Option<Author>,
    /// The quoted message's content.
    pub content: String,
    /// The quoted message's type.
    pub message_type: Option<MessageType>,
}

impl Quote {
    fn parse(value: &Value) -> Option<Self> {
        if !value.is_object() {
            return None;
        }
        let msg_id = non_empty(field(value, "id"))
            .or_else(|| non_empty(field(value, "msg_id")))
            .or_else(|| non_empty(field(value, "rong_id")))
            .unwrap_or_default();
        let author = field(value, "author");
        Some(Self {
            msg_id,
            author: author.is_object().then(|| Author::parse(author)),
            content: text(field(value, "content")),
            message_type: int(field(value, "type")).map(MessageType::from_code),
        })
    }
}

/// One attachment (`extra.attachments`, which may be an object, an array,
/// `false` or `null`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attachment {
    /// `type`, e.g. `image`, `video`, `file`.
    pub kind: String,
    /// The file URL.
    pub url: String,
    /// The file name.
    pub name: Option<String>,
    /// The MIME type, when given.
    pub file_type: Option<String>,
    /// The size in bytes, when given.
    pub size: Option<i64>,
}

impl Attachment {
    fn parse(value: &Value) -> Self {
        Self {
            kind: text(field(value, "type")),
            url: text(field(value, "url")),
            name: non_empty(field(value, "name")),
            file_type: non_empty(field(value, "file_type")),
            size: int(field(value, "size")),
        }
    }
}

/// A chat message (s=0 with `type` other than 255).
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// GROUP (guild channel), PERSON (DM), BROADCAST.
    pub channel_type: ChannelType,
    /// The message type.
    pub message_type: MessageType,
    /// The content, by type.
    pub body: Body,
    /// The channel id (GROUP) or the receiving user id (PERSON).
    pub target_id: String,
    /// The sender's user id.
    pub author_id: String,
    /// The message id (opaque: not validated as a UUID).
    pub msg_id: String,
    /// Milliseconds since the epoch.
    pub msg_timestamp: Option<i64>,
    /// The sender's nonce (empty when none).
    pub nonce: String,
    /// `extra.guild_id` (GROUP only).
    pub guild_id: Option<String>,
    /// `extra.channel_name` (GROUP only).
    pub channel_name: Option<String>,
    /// `extra.code`: the DM chat code (PERSON only; empty reads as `None`).
    pub chat_code: Option<String>,
    /// `extra.author`.
    pub author: Author,
    /// Mentions.
    pub mentions: Mentions,
    /// `extra.kmarkdown`, when present.
    pub kmarkdown: Option<KMarkdownInfo>,
    /// `extra.quote`: the message this one replies to.
    pub quote: Option<Quote>,
    /// `extra.attachments`, normalised to a list.
    pub attachments: Vec<Attachment>,
}

impl Message {
    fn parse(data: &Value, message_type: MessageType) -> Self {
        let extra = field(data, "extra");
        let author = field(extra, "author");
        let mut author = Author::parse(author);
        let author_id = text(field(data, "author_id"));
        if author.id.is_empty() {
            author.id.clone_from(&author_id);
        }
        let kmarkdown = field(extra, "kmarkdown");
        Self {
            channel_type: ChannelType::parse(field(data, "channel_type")),
            message_type,
            body: Body::new(message_type, text(field(data, "content"))),
            target_id: text(field(data, "target_id")),
            author_id,
            msg_id: text(field(data, "msg_id")),
            msg_timestamp: int(field(data, "msg_timestamp")),
            nonce: text(field(data, "nonce")),
            guild_id: non_empty(field(extra, "guild_id")),
            channel_name: non_empty(field(extra, "channel_name")),
            chat_code: non_empty(field(extra, "code")),
            author,
            mentions: Mentions::parse(extra),
            kmarkdown: kmarkdown.is_object().then(|| KMarkdownInfo {
                raw_content: text(field(kmarkdown, "raw_content")),
                mention_part: objects(field(kmarkdown, "mention_part"))
                    .into_iter()
                    .map(|part| MentionPart {
                        id: text(field(part, "id")),
                        username: text(field(part, "username")),
                        full_name: non_empty(field(part, "full_name")),
                    })
                    .collect(),
            }),
            quote: Quote::parse(field(extra, "quote")),
            attachments: objects(field(extra, "attachments"))
                .into_iter()
                .map(Attachment::parse)
                .collect(),
        }
    }

    /// The raw `content`.
    pub fn content(&self) -> &str {
        self.body.content()
    }

    /// True when the sender is a bot (`extra.author.bot`).
    pub fn is_from_bot(&self) -> bool {
        self.author.bot
    }

    /// True for a direct message.
    pub fn is_direct(&self) -> bool {
        self.channel_type == ChannelType::Person
    }

    /// Where a reply goes and what identifies the conversation: the channel
    /// id, or for a DM the sender's user id (README, "Agents": `chatId`).
    pub fn chat_id(&self) -> &str {
        if self.is_direct() {
            &self.author_id
        } else {
            &self.target_id
        }
    }

    /// True when `user_id` is mentioned, in `extra.mention` or as
    /// `(met)user_id(met)` in the content.
    pub fn mentions_user(&self, user_id: &str) -> bool {
        self.mentions.users.iter().any(|id| id == user_id)
            || met_mentions(self.content()).any(|id| id == user_id)
    }

    /// The content with every `(met)user_id(met)` removed, trimmed (the
    /// agent's input text when `user_id` is the bot).
    pub fn text_without_mention(&self, user_id: &str) -> String {
        strip_met_mention(self.content(), user_id)
    }
}

/// An emoji in a reaction. Unicode emoji come as `[#128226;]` in both fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Emoji {
    /// The emoji id.
    pub id: String,
    /// The emoji name.
    pub name: String,
}

/// A reaction added or removed (`added_reaction`, `deleted_reaction`,
/// `private_added_reaction`, `private_deleted_reaction`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reaction {
    /// The message reacted to.
    pub msg_id: String,
    /// Who reacted.
    pub user_id: String,
    /// The emoji.
    pub emoji: Emoji,
    /// The channel (guild reactions).
    pub channel_id: Option<String>,
    /// The DM chat code (private reactions).
    pub chat_code: Option<String>,
}

impl Reaction {
    fn parse(body: &Value) -> Self {
        let emoji = field(body, "emoji");
        Self {
            msg_id: text(field(body, "msg_id")),
            user_id: text(field(body, "user_id")),
            emoji: Emoji {
                id: text(field(emoji, "id")),
                name: text(field(emoji, "name")),
            },
            channel_id: non_empty(field(body, "channel_id")),
            chat_code: non_empty(field(body, "chat_code")),
        }
    }
}

/// A message edited (`updated_message`, `updated_private_message`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageUpdate {
    /// The edited message.
    pub msg_id: String,
    /// The new content.
    pub content: String,
    /// The channel (guild messages).
    pub channel_id: Option<String>,
    /// The DM chat code (private messages).
    pub chat_code: Option<String>,
    /// The author (private messages).
    pub author_id: Option<String>,
    /// The new mentions (guild messages).
    pub mentions: Mentions,
    /// When, in milliseconds since the epoch.
    pub updated_at: Option<i64>,
}

/// A message deleted (`deleted_message`, `deleted_private_message`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageDeletion {
    /// The deleted message.
    pub msg_id: String,
    /// The channel (guild messages).
    pub channel_id: Option<String>,
    /// The DM chat code (private messages).
    pub chat_code: Option<String>,
}

/// What a system event is, by `extra.type`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SystemEventKind {
    /// `added_reaction`.
    AddedReaction(Reaction),
    /// `deleted_reaction`.
    DeletedReaction(Reaction),
    /// `private_added_reaction`.
    PrivateAddedReaction(Reaction),
    /// `private_deleted_reaction`.
    PrivateDeletedReaction(Reaction),
    /// `updated_message`.
    UpdatedMessage(MessageUpdate),
    /// `updated_private_message`.
    UpdatedPrivateMessage(MessageUpdate),
    /// `deleted_message`.
    DeletedMessage(MessageDeletion),
    /// `deleted_private_message`.
    DeletedPrivateMessage(MessageDeletion),
    /// Any other name; the body is in [`SystemEvent::body`].
    Other(String),
}

impl SystemEventKind {
    fn parse(name: &str, body: &Value) -> Self {
        let update = || MessageUpdate {
            msg_id: text(field(body, "msg_id")),
            content: text(field(body, "content")),
            channel_id: non_empty(field(body, "channel_id")),
            chat_code: non_empty(field(body, "chat_code")),
            author_id: non_empty(field(body, "author_id")),
            mentions: Mentions::parse(body),
            updated_at: int(field(body, "updated_at")),
        };
        let deletion = || MessageDeletion {
            msg_id: text(field(body, "msg_id")),
            channel_id: non_empty(field(body, "channel_id")),
            chat_code: non_empty(field(body, "chat_code")),
        };
        match name {
            "added_reaction" => Self::AddedReaction(Reaction::parse(body)),
            "deleted_reaction" => Self::DeletedReaction(Reaction::parse(body)),
            "private_added_reaction" => Self::PrivateAddedReaction(Reaction::parse(body)),
            "private_deleted_reaction" => Self::PrivateDeletedReaction(Reaction::parse(body)),
            "updated_message" => Self::UpdatedMessage(update()),
            "updated_private_message" => Self::UpdatedPrivateMessage(update()),
            "deleted_message" => Self::DeletedMessage(deletion()),
            "deleted_private_message" => Self::DeletedPrivateMessage(deletion()),
            other => Self::Other(other.to_owned()),
        }
    }
}

/// A system event (s=0 with `type` 255).
#[derive(Debug, Clone, PartialEq)]
pub struct SystemEvent {
    /// GROUP, PERSON, BROADCAST.
    pub channel_type: ChannelType,
    /// `extra.type`: the event name, as sent.
    pub name: String,
    /// The typed event, when the name is known.
    pub kind: SystemEventKind,
    /// `extra.body`, raw (for names this build does not type).
    pub body: Value,
    /// The channel id, or for GROUP system events the guild id.
    pub target_id: String,
    /// `"1"` for the system.
    pub author_id: String,
    /// The event's own id.
    pub msg_id: String,
    /// Milliseconds since the epoch.
    pub msg_timestamp: Option<i64>,
}

/// A `d` this build cannot type: no `type`, or not an object. Kept raw.
#[derive(Debug, Clone, PartialEq)]
pub struct UnknownEvent {
    /// The `type` number, when there is one.
    pub type_code: Option<i64>,
    /// The whole `d`.
    pub data: Value,
}

/// The parsed `d` of an s=0 frame.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum EventBody {
    /// A chat message.
    Message(Box<Message>),
    /// A system event (type 255).
    System(Box<SystemEvent>),
    /// Something this build cannot type.
    Unknown(UnknownEvent),
}

impl EventBody {
    /// Types the `d` of an s=0 frame. Never fails.
    pub fn parse(data: Value) -> Self {
        let type_code = int(field(&data, "type"));
        match type_code {
            Some(255) => {
                let extra = field(&data, "extra");
                let name = text(field(extra, "type"));
                let body = field(extra, "body");
                let event = SystemEvent {
                    channel_type: ChannelType::parse(field(&data, "channel_type")),
                    kind: SystemEventKind::parse(&name, body),
                    name,
                    body: body.clone(),
                    target_id: text(field(&data, "target_id")),
                    author_id: text(field(&data, "author_id")),
                    msg_id: text(field(&data, "msg_id")),
                    msg_timestamp: int(field(&data, "msg_timestamp")),
                };
                Self::System(Box::new(event))
            }
            Some(code) if data.is_object() => Self::Message(Box::new(Message::parse(
                &data,
                MessageType::from_code(code),
            ))),
            _ => Self::Unknown(UnknownEvent { type_code, data }),
        }
    }
}

/// The user ids mentioned as `(met)<id>(met)` in KMarkdown, in order.
/// `(met)all(met)` and `(met)here(met)` come out as `all` and `here`.
pub fn met_mentions(kmarkdown: &str) -> impl Iterator<Item = &str> {
    let mut rest = kmarkdown;
    std::iter::from_fn(move || {
        let start = rest.find(MET)? + MET.len();
        let len = rest[start..].find(MET)?;
        let id = &rest[start..start + len];
        rest = &rest[start + len + MET.len()..];
        Some(id)
    })
}

/// `kmarkdown` with every `(met)<user_id>(met)` removed and the result
/// trimmed (runs of spaces left by the removal collapse to one).
pub fn strip_met_mention(kmarkdown: &str, user_id: &str) -> String {
    let token = format!("{MET}{user_id}{MET}");
    if !kmarkdown.contains(&token) {
        return kmarkdown.trim().to_owned();
    }
    let mut out = String::with_capacity(kmarkdown.len());
    for (i, piece) in kmarkdown.split(token.as_str()).enumerate() {
        if i > 0 && out.ends_with(' ') && piece.starts_with(' ') {
            out.push_str(&piece[1..]);
        } else {
            out.push_str(piece);
        }
    }
    out.trim().to_owned()
}

/// The KMarkdown mention delimiter.
const MET: &str = "(met)";

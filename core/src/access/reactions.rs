//! Reactions on Discord messages (the Discord channel doc, "Reaction
//! notifications" and "Reaction trigger"): which reaction becomes an agent
//! turn, which a system event for the session's next turn, and which
//! nothing. Pure: the driver remembers the bot's messages in a
//! [`BotMessages`] (ids it posted, with the `Instant` it posted them), builds
//! an [`InboundReaction`] per `MESSAGE_REACTION_ADD` and asks
//! [`AccessPolicy::decide_reaction`]:
//!
//! ```text
//! bot_messages.record(&posted.id, &posted.channel_id, now);          // per message the bot posts
//! let bot_message = bot_messages.lookup(&r.message_id, &r.channel_id,
//!     r.message_author_id.as_deref(), bot_id, now, unix_ms);
//! match policy.decide_reaction(&InboundReaction { .., bot_message }, &paired) {
//!     ReactionDecision::Trigger(t) => run the agent on t.allowed (a turn in the channel's session)
//!     ReactionDecision::Notify(e)  => system_events.push(&e.session_key, e.text)
//!     ReactionDecision::Ignore(why) => debug!(%why)
//! }
//! ```
//!
//! Rules, in order:
//! 1. the bot's own reactions are ignored (its ack reactions come back as
//!    events too);
//! 2. the reactor must pass the same access rules as the author of a message
//!    in that chat would (group policy, guild and channel entries, `users`
//!    allowlists, `allowBots`, DM policy and approved pairings), except the
//!    mention requirement: a reaction is not a message, and one on the bot's
//!    message is addressed to the bot anyway. A DM reactor who would get a
//!    pairing challenge is ignored;
//! 3. **trigger** (guild channels and threads, `reactionTrigger.enabled`):
//!    a reaction on the bot's own message, at most
//!    `reactionTrigger.windowSeconds` after the bot posted it, whose emoji
//!    is positive or negative ([`classify_emoji`]) becomes an agent turn in
//!    the channel's session, from the reactor, with the text of
//!    [`trigger_text`] and the bot's message as the turn's message id. No
//!    notification is emitted for it;
//! 4. **notification** otherwise, when
//!    [`AccessPolicy::reaction_notification`] says so
//!    (`reactionNotifications`: `off` | `own` (default) | `all` |
//!    `allowlist`): one line ([`notification_line`]) for the session of the
//!    chat (guild channel / thread / group DM: the channel's session; DM: the
//!    reactor's DM session under `session.dmScope`), shown to the agent at
//!    the start of that session's next turn
//!    ([`crate::agent::system_events`]).
//!
//! "The bot's own message": remembered in [`BotMessages`] (same channel), or
//! `message_author_id` (sent by Discord on adds) is the bot. Its age comes
//! from the remembered `Instant`; for a message posted before the process
//! started (not remembered) from the message id's snowflake timestamp
//! against the wall clock the driver passes in.
//!
//! Emoji ([`EmojiPattern`]): list entries may be unicode (`👍`), custom
//! emoji as `name:id`, `<:name:id>`, `<a:name:id>`, `:name:` or a bare id.
//! An entry with an id matches that custom emoji only; an entry without one
//! matches by name, compared without variation selectors (U+FE0E, U+FE0F)
//! and skin-tone modifiers (U+1F3FB..U+1F3FF), ASCII case-insensitively (so
//! `✔️` matches `✔`, `👍🏽` matches `👍`). An emoji in both lists is neutral.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;
use std::time::Instant;

use super::{AccessPolicy, Allowed, Author, ChatKind, DropReason, Gate, InboundMessage, Place};
use super::{PlatformPolicy, Sender};
use crate::config::{Platform, ReactionTrigger};
use crate::routing::{session_key, Conversation, Route};

/// The Discord epoch (2015-01-01T00:00:00Z) in Unix milliseconds; a
/// snowflake's top 42 bits count milliseconds since it.
pub const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

/// How many of the bot's messages a [`BotMessages`] remembers by default.
pub const BOT_MESSAGES_CAP: usize = 1000;

/// An emoji as a reaction carries it (`emoji {id?, name?, animated}`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReactionEmoji {
    /// The custom emoji's id; `None` for unicode emoji.
    pub id: Option<String>,
    /// The unicode emoji, or the custom emoji's name.
    pub name: Option<String>,
    /// An animated custom emoji.
    pub animated: bool,
}

impl ReactionEmoji {
    /// A unicode emoji.
    pub fn unicode(emoji: impl Into<String>) -> Self {
        Self {
            id: None,
            name: Some(emoji.into()),
            animated: false,
        }
    }

    /// A custom emoji.
    pub fn custom(name: impl Into<String>, id: impl Into<String>) -> Self {
        Self {
            id: Some(id.into()),
            name: Some(name.into()),
            animated: false,
        }
    }

    /// How the emoji is shown to the agent: a unicode emoji as is, a custom
    /// one as `<:name:id>` (`<a:name:id>` when animated, the form a message
    /// uses to show it), `?` when the payload had neither.
    pub fn label(&self) -> String {
        let name = self.name.as_deref().map(one_line).unwrap_or_default();
        match &self.id {
            Some(id) => {
                let a = if self.animated { "a" } else { "" };
                let name = if name.is_empty() { "_" } else { &name };
                format!("<{a}:{name}:{}>", one_line(id))
            }
            None if name.is_empty() => "?".to_owned(),
            None => name,
        }
    }
}

/// One entry of `positiveEmojis` / `negativeEmojis`, parsed (forms in the
/// module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmojiPattern {
    /// The normalised name ([`normalize_emoji_name`]), when the entry has one.
    pub name: Option<String>,
    /// The custom emoji id, when the entry has one.
    pub id: Option<String>,
}

impl EmojiPattern {
    /// Parses a list entry; `None` for a blank one.
    pub fn parse(entry: &str) -> Option<Self> {
        let entry = entry.trim();
        if entry.is_empty() {
            return None;
        }
        let is_id = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let pattern = |name: &str, id: Option<&str>| {
            let name = normalize_emoji_name(name);
            Self {
                name: (!name.is_empty()).then_some(name),
                id: id.map(str::to_owned),
            }
        };
        // <:name:id> / <a:name:id>
        if let Some(inner) = entry.strip_prefix('<').and_then(|e| e.strip_suffix('>')) {
            let inner = inner.strip_prefix("a:").unwrap_or(inner);
            let inner = inner.strip_prefix(':').unwrap_or(inner);
            if let Some((name, id)) = inner.rsplit_once(':') {
                if is_id(id) {
                    return Some(pattern(name, Some(id)));
                }
            }
        }
        // name:id
        if let Some((name, id)) = entry.rsplit_once(':') {
            if is_id(id) && !name.is_empty() && !name.ends_with(':') {
                return Some(pattern(name, Some(id)));
            }
        }
        if is_id(entry) {
            return Some(Self {
                name: None,
                id: Some(entry.to_owned()),
            });
        }
        // :name:
        let bare = entry
            .strip_prefix(':')
            .and_then(|e| e.strip_suffix(':'))
            .filter(|e| !e.is_empty())
            .unwrap_or(entry);
        Some(pattern(bare, None))
    }

    /// True when `emoji` is the one this entry names.
    pub fn matches(&self, emoji: &ReactionEmoji) -> bool {
        match (&self.id, &self.name) {
            (Some(id), _) => emoji.id.as_deref() == Some(id.as_str()),
            (None, Some(name)) => emoji
                .name
                .as_deref()
                .is_some_and(|n| normalize_emoji_name(n) == *name),
            (None, None) => false,
        }
    }
}

/// An emoji name as compared: without variation selectors (U+FE0E, U+FE0F)
/// and skin-tone modifiers (U+1F3FB..U+1F3FF), ASCII lowercase, trimmed.
pub fn normalize_emoji_name(name: &str) -> String {
    name.trim()
        .chars()
        .filter(|c| !matches!(c, '\u{FE0E}' | '\u{FE0F}' | '\u{1F3FB}'..='\u{1F3FF}'))
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// What a trigger reaction means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Polarity {
    /// Yes / confirm (`positiveEmojis`).
    Positive,
    /// No / cancel (`negativeEmojis`).
    Negative,
}

impl Polarity {
    /// `positive` / `negative`, as the agent reads it.
    pub fn as_str(self) -> &'static str {
        match self {
            Polarity::Positive => "positive",
            Polarity::Negative => "negative",
        }
    }
}

impl std::fmt::Display for Polarity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Classifies `emoji` against the lists: positive, negative, or `None`
/// (neutral: in neither list, or in both).
pub fn classify_emoji(
    emoji: &ReactionEmoji,
    positive: &[String],
    negative: &[String],
) -> Option<Polarity> {
    let listed = |list: &[String]| {
        list.iter()
            .filter_map(|entry| EmojiPattern::parse(entry))
            .any(|p| p.matches(emoji))
    };
    match (listed(positive), listed(negative)) {
        (true, false) => Some(Polarity::Positive),
        (false, true) => Some(Polarity::Negative),
        _ => None,
    }
}

/// [`classify_emoji`] with the trigger's lists in force (configured or
/// built-in).
pub fn classify_for(trigger: &ReactionTrigger, emoji: &ReactionEmoji) -> Option<Polarity> {
    classify_emoji(emoji, &trigger.positive(), &trigger.negative())
}

/// True when a bot message `age` old is still inside a `window_seconds`
/// trigger window (the bound included).
pub fn within_window(age: Duration, window_seconds: u32) -> bool {
    age <= Duration::from_secs(u64::from(window_seconds))
}

/// The Unix time (ms) a Discord snowflake was made, `None` when `id` is not
/// a snowflake.
pub fn snowflake_unix_ms(id: &str) -> Option<u64> {
    let n: u64 = id.trim().parse().ok()?;
    Some((n >> 22) + DISCORD_EPOCH_MS)
}

/// What the driver knows about the message a reaction is on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BotMessage {
    /// The bot posted it.
    pub on_bot_message: bool,
    /// How long ago the bot posted it, when known.
    pub age: Option<Duration>,
}

/// The bot's recent messages: id, channel and when it posted them, the
/// oldest forgotten first once `cap` are held.
#[derive(Debug, Clone)]
pub struct BotMessages {
    cap: usize,
    order: VecDeque<String>,
    sent: HashMap<String, (String, Instant)>,
}

impl Default for BotMessages {
    fn default() -> Self {
        Self::new(BOT_MESSAGES_CAP)
    }
}

impl BotMessages {
    /// Remembers at most `cap` messages (at least one).
    pub fn new(cap: usize) -> Self {
        Self {
            cap: cap.max(1),
            order: VecDeque::new(),
            sent: HashMap::new(),
        }
    }

    /// Remembers that the bot posted `message_id` in `channel_id` at `at`.
    /// A message already remembered keeps its first time (the REST answer
    /// and the bot's own MESSAGE_CREATE both report it).
    pub fn record(&mut self, message_id: &str, channel_id: &str, at: Instant) {
        if message_id.is_empty() || self.sent.contains_key(message_id) {
            return;
        }
        while self.order.len() >= self.cap {
            if let Some(old) = self.order.pop_front() {
                self.sent.remove(&old);
            }
        }
        self.order.push_back(message_id.to_owned());
        self.sent
            .insert(message_id.to_owned(), (channel_id.to_owned(), at));
    }

    /// The channel and time of a remembered message.
    pub fn sent(&self, message_id: &str) -> Option<(&str, Instant)> {
        self.sent.get(message_id).map(|(c, at)| (c.as_str(), *at))
    }

    /// How many messages are remembered.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Nothing remembered.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Whether `message_id` (in `channel_id`) is the bot's, and how old: a
    /// remembered message by its `Instant`; else, when `message_author_id`
    /// is the bot, by the id's snowflake time against `now_unix_ms`.
    pub fn lookup(
        &self,
        message_id: &str,
        channel_id: &str,
        message_author_id: Option<&str>,
        bot_user_id: &str,
        now: Instant,
        now_unix_ms: u64,
    ) -> BotMessage {
        if let Some((channel, at)) = self.sent(message_id) {
            if channel == channel_id {
                return BotMessage {
                    on_bot_message: true,
                    age: Some(now.saturating_duration_since(at)),
                };
            }
        }
        if !bot_user_id.is_empty() && message_author_id == Some(bot_user_id) {
            return BotMessage {
                on_bot_message: true,
                age: snowflake_unix_ms(message_id)
                    .map(|ms| Duration::from_millis(now_unix_ms.saturating_sub(ms))),
            };
        }
        BotMessage::default()
    }
}

/// A normalised reaction add, as the platform driver saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundReaction {
    /// Which platform.
    pub platform: Platform,
    /// Which bot account received it.
    pub account_id: String,
    /// DM, group DM, channel or thread.
    pub chat: ChatKind,
    /// The guild, for channels and threads.
    pub guild: Option<Place>,
    /// The chat the message is in.
    pub channel: Place,
    /// A thread's parent channel.
    pub parent: Option<Place>,
    /// Who reacted (username / tag when the payload or an earlier message
    /// told; else only the id).
    pub reactor: Author,
    /// The message reacted to.
    pub message_id: String,
    /// Its author, when the payload says (`message_author_id`).
    pub message_author_id: Option<String>,
    /// The emoji.
    pub emoji: ReactionEmoji,
    /// Whether the message is the bot's, and its age ([`BotMessages::lookup`]).
    pub bot_message: BotMessage,
    /// The bot's own user id.
    pub bot_user_id: String,
}

/// What to do with a reaction.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ReactionDecision {
    /// Run an agent turn (reaction trigger).
    Trigger(Box<TriggeredTurn>),
    /// Queue a system event for the session's next turn.
    Notify(SystemEvent),
    /// Nothing (log the reason at debug).
    Ignore(ReactionIgnored),
}

/// A reaction that triggers a turn.
#[derive(Debug, Clone)]
pub struct TriggeredTurn {
    /// Route, sender (the reactor), channel rule, and the turn's text
    /// ([`trigger_text`]), as for an allowed message.
    pub allowed: Allowed,
    /// Positive or negative.
    pub polarity: Polarity,
    /// The bot's message reacted to: the turn's message id (replies quote it).
    pub message_id: String,
}

/// A line for a session's next turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemEvent {
    /// The session it belongs to.
    pub session_key: String,
    /// The line ([`notification_line`]).
    pub text: String,
}

/// Why a reaction was ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReactionIgnored {
    /// The bot's own reaction (or its id is not known yet).
    OwnReaction,
    /// The reactor could not message the bot there.
    NotAllowed(DropReason),
    /// A DM reactor who has not paired.
    PairingRequired,
    /// `reactionNotifications` does not cover it (and it did not trigger).
    NotNotified,
}

impl std::fmt::Display for ReactionIgnored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::OwnReaction => f.write_str("own reaction"),
            Self::NotAllowed(reason) => write!(f, "reactor not allowed: {reason}"),
            Self::PairingRequired => f.write_str("reactor not paired"),
            Self::NotNotified => f.write_str("not covered by reactionNotifications"),
        }
    }
}

impl AccessPolicy {
    /// Decides one reaction add (rules in the module docs). `paired` holds
    /// the ids approved through pairing.
    pub fn decide_reaction(&self, r: &InboundReaction, paired: &[String]) -> ReactionDecision {
        if r.bot_user_id.is_empty() || r.reactor.id == r.bot_user_id {
            return ReactionDecision::Ignore(ReactionIgnored::OwnReaction);
        }
        let on_bot_message = r.bot_message.on_bot_message;
        let as_message = InboundMessage {
            platform: r.platform,
            account_id: r.account_id.clone(),
            chat: r.chat,
            guild: r.guild.clone(),
            channel: r.channel.clone(),
            parent: r.parent.clone(),
            author: r.reactor.clone(),
            text: String::new(),
            mentions: Vec::new(),
            reply_to_bot: on_bot_message,
            bot_user_id: r.bot_user_id.clone(),
            native_command: false,
        };
        let gate = match &self.platform {
            PlatformPolicy::Discord(d) => self.discord(d, &as_message, paired),
            PlatformPolicy::Kook(k) => self.kook(k, &as_message),
        };
        let (rule, guild_tools) = match gate {
            Err(reason) => return ReactionDecision::Ignore(ReactionIgnored::NotAllowed(reason)),
            Ok(Gate::Challenge) => {
                return ReactionDecision::Ignore(ReactionIgnored::PairingRequired)
            }
            Ok(Gate::Pass {
                rule, guild_tools, ..
            }) => (rule, guild_tools),
        };
        let sender = Sender {
            id: r.reactor.id.clone(),
            name: reactor_name(&r.reactor),
        };
        let conversation = match r.chat {
            ChatKind::Direct => Conversation::Direct {
                user_id: r.reactor.id.clone(),
            },
            _ => Conversation::Channel {
                channel_id: r.channel.id.clone(),
            },
        };
        let session = session_key(
            &self.agent_id,
            self.dm_scope,
            r.platform,
            &self.account_id,
            &conversation,
        );
        let in_guild = matches!(r.chat, ChatKind::Channel | ChatKind::Thread);
        if in_guild && on_bot_message {
            let trigger = r.guild.as_ref().and_then(|g| self.reaction_trigger(g));
            let polarity = trigger
                .filter(|t| {
                    r.bot_message
                        .age
                        .is_some_and(|age| within_window(age, t.window_seconds))
                })
                .and_then(|t| classify_for(t, &r.emoji));
            if let Some(polarity) = polarity {
                let text = trigger_text(&sender, &r.emoji, polarity, &r.message_id);
                return ReactionDecision::Trigger(Box::new(TriggeredTurn {
                    allowed: Allowed {
                        route: Route {
                            session_key: session,
                            agent_id: self.agent_id.clone(),
                            reply_to: self.reply_target(&as_message),
                        },
                        text,
                        mentioned: false,
                        sender,
                        tool_rules: super::tool_rules(guild_tools, rule.as_ref()),
                        channel_rule: rule,
                    },
                    polarity,
                    message_id: r.message_id.clone(),
                }));
            }
        }
        if self.reaction_notification(r.guild.as_ref(), &r.reactor, on_bot_message, &r.bot_user_id)
        {
            let text = notification_line(
                &sender,
                &r.emoji,
                &r.message_id,
                on_bot_message,
                r.message_author_id.as_deref(),
            );
            return ReactionDecision::Notify(SystemEvent {
                session_key: session.as_str().to_owned(),
                text,
            });
        }
        ReactionDecision::Ignore(ReactionIgnored::NotNotified)
    }
}

/// The reactor's name as the agent sees it: tag, else username, else id.
fn reactor_name(reactor: &Author) -> String {
    reactor
        .tag
        .clone()
        .filter(|t| !t.trim().is_empty())
        .or_else(|| Some(reactor.username.clone()).filter(|u| !u.trim().is_empty()))
        .unwrap_or_else(|| reactor.id.clone())
}

/// The agent input text of a triggered turn:
/// `[reaction] <name> reacted <emoji> (<polarity>) to your message <id>`.
pub fn trigger_text(
    reactor: &Sender,
    emoji: &ReactionEmoji,
    polarity: Polarity,
    message_id: &str,
) -> String {
    format!(
        "[reaction] {} reacted {} ({polarity}) to your message {}",
        one_line(&reactor.name),
        emoji.label(),
        one_line(message_id)
    )
}

/// A reaction notification line:
/// `[system] <name> (<id>) reacted <emoji> to your message <id>` on the
/// bot's messages; `... to message <id> (author <id>)` on others, the
/// author part left out when unknown.
pub fn notification_line(
    reactor: &Sender,
    emoji: &ReactionEmoji,
    message_id: &str,
    on_bot_message: bool,
    message_author_id: Option<&str>,
) -> String {
    let mut line = format!(
        "[system] {} ({}) reacted {} to ",
        one_line(&reactor.name),
        one_line(&reactor.id),
        emoji.label()
    );
    if on_bot_message {
        line.push_str(&format!("your message {}", one_line(message_id)));
    } else {
        line.push_str(&format!("message {}", one_line(message_id)));
        if let Some(author) = message_author_id.filter(|a| !a.is_empty()) {
            line.push_str(&format!(" (author {})", one_line(author)));
        }
    }
    line
}

/// Names and ids stay on one line.
fn one_line(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}

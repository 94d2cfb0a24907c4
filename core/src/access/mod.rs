//! Access policy: for each inbound message, allow (with its route and the
//! text the agent sees), drop (with a reason for the debug log), or answer
//! with a pairing challenge. Pure: the driver builds an [`AccessPolicy`] per
//! bot account at start-up (and again when the config or the name directory
//! changes) and calls [`AccessPolicy::decide`] per message with the current
//! approved-pairing ids.
//!
//! ```text
//! let (names, log) = access::resolve_names(account.discord().unwrap(), &directory);
//! let policy = AccessPolicy::new(&config, &account, names);
//! for w in policy.startup_warnings() { warn!("{w}") }
//! match policy.decide(&message, &paired_ids) {
//!     Decision::Allow(a)            => run the agent on a.text in a.route.session_key
//!     Decision::Drop(d)             => debug!(reason = %d.reason); if d.unknown_sender { info!(id = d.sender.id) }
//!     Decision::PairingChallenge(c) => pairing store challenge, reply with the code
//! }
//! ```
//!
//! Discord rules (the Discord channel doc), in order:
//! 1. the bot's own messages are dropped; other bots and webhooks unless
//!    `allowBots`;
//! 2. DMs: `dm.enabled`, then `dm.policy`: `disabled` drops, `open` allows,
//!    `allowlist` allows `dm.allowFrom` and approved pairings, `pairing`
//!    (default) the same and challenges everyone else;
//! 3. group DMs: only with `dm.enabled` and `dm.groupEnabled`, then
//!    `dm.groupChannels` when listed; no mention needed;
//! 4. guild channels and threads: `groupPolicy` `disabled` drops; the guild
//!    entry is found by id, then name (resolved or slug), then `"*"`;
//!    `allowlist` drops guilds without an entry. With `channels` listed, the
//!    channel entry is found by id, then name, then `"*"`, and unlisted
//!    channels are dropped (an explicit entry replaces the wildcard, it does
//!    not merge with it); `allow: false` / `enabled: false` drop. A thread
//!    uses its own entry only when listed explicitly, else its parent's.
//!    `users` (channel's, else guild's; absent or empty: anyone) must match.
//!    `requireMention` (channel's, else guild's, else true) needs a mention:
//!    `<@botId>`/`<@!botId>`, the bot in `mentions`, a reply to the bot, or a
//!    mention pattern of the agent.
//!
//! Allowlist names match usernames and tags, not display names or nicknames
//! (anyone can set those); names are turned into ids at start-up by
//! [`resolve_names`].
//!
//! Native commands (`native_command: true`) follow the same allowlists
//! without the mention rule; where a DM would get a pairing challenge, a
//! command is dropped as [`DropReason::NotAuthorized`] (the driver replies
//! "not authorized"). `commands.useAccessGroups: false` lets every command
//! through (the bot's own and, unless `allowBots`, bots' still dropped).
//!
//! KOOK (the KOOK channel doc): own and bot messages dropped; `allowedUserId`
//! (when set) is the only gate, for DMs and channels alike; without it
//! anyone may talk (see [`AccessPolicy::startup_warnings`]). Channel
//! messages need no mention unless `channels.kook.requireMention: true` (a
//! krill extension).
//!
//! Reactions (`reactionNotifications`, `reactionTrigger`):
//! [`AccessPolicy::decide_reaction`] in [`reactions`], the reactor held to
//! the rules above except the mention requirement.
//!
//! Agent text (README, "Agents"): the bot's own mention
//! (`<@id>`, `<@!id>`, KOOK `(met)id(met)`) removed and the rest trimmed;
//! one-to-one DM text is passed as sent.

mod allowlist;
mod decision;
mod member_search;
mod mention;
mod names;
mod owner;
pub mod reactions;
mod sender_notice;

use crate::tools::policy::PolicyLevel;
use crate::tools::ToolRules;

use regex::Regex;

pub use allowlist::{
    channel_entries, channel_entry, slug, user_entries, user_entry, ChannelEntry, UserEntry,
};
pub use decision::{Allowed, Challenge, Decision, DropReason, Dropped};
pub use member_search::{MemberSearch, SearchOutcome, MEMBER_SEARCH_LIMIT};
pub use mention::{mentions_bot, strip_bot_mention};
pub use names::{
    resolve_names, user_names, DirChannel, DirGuild, DirMember, Directory, ResolvedAllowlists,
};
pub use reactions::{
    BotMessage, BotMessages, InboundReaction, ReactionDecision, ReactionEmoji, ReactionIgnored,
    SystemEvent, TriggeredTurn,
};
pub use sender_notice::SenderNotice;

use crate::config::{
    AccountSettings, AckReactionScope, ChannelRule, Config, DmPolicy, DmScope, GroupPolicy,
    Platform, ReactionNotifications, ReactionTrigger, ResolvedAccount,
};
use crate::routing::{session_key, Conversation, ReplyTarget, Route};

/// What kind of chat a message arrived in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChatKind {
    /// A one-to-one DM (KOOK: a PERSON message).
    Direct,
    /// A Discord group DM.
    GroupDirect,
    /// A guild (server) text channel.
    Channel,
    /// A thread; `parent` names its channel.
    Thread,
}

/// A guild or channel: id and, when known, name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Place {
    /// Id.
    pub id: String,
    /// Name as shown on the platform.
    pub name: Option<String>,
}

impl Place {
    /// A place with a name.
    pub fn named(id: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            name: Some(name.into()),
        }
    }
}

/// Who sent a message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Author {
    /// User id.
    pub id: String,
    /// Username.
    pub username: String,
    /// Display name.
    pub global_name: Option<String>,
    /// Tag (`name#1234`), when the platform has one.
    pub tag: Option<String>,
    /// The author is a bot.
    pub is_bot: bool,
    /// The message came from a webhook (treated as a bot).
    pub is_webhook: bool,
}

/// A normalised inbound message, as the platform driver saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMessage {
    /// Which platform.
    pub platform: Platform,
    /// Which bot account received it.
    pub account_id: String,
    /// DM, group DM, channel or thread.
    pub chat: ChatKind,
    /// The guild (server), for channels and threads.
    pub guild: Option<Place>,
    /// The chat: Discord channel (DM channel for DMs); KOOK channel, or the
    /// sender for KOOK DMs.
    pub channel: Place,
    /// A thread's parent channel.
    pub parent: Option<Place>,
    /// The sender.
    pub author: Author,
    /// The message text as sent.
    pub text: String,
    /// User ids the message mentions.
    pub mentions: Vec<String>,
    /// The message replies to one of the bot's messages.
    pub reply_to_bot: bool,
    /// The bot's own user id.
    pub bot_user_id: String,
    /// A native (slash) command rather than a message.
    pub native_command: bool,
}

/// Who sent a message (the agent module's type: id and display name).
pub use crate::agent::Sender;

/// A guild key of `channels.discord.guilds`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum GuildKey {
    Any,
    Id(String),
    Slug(String),
}

#[derive(Debug, Clone)]
struct ChannelRules {
    key: ChannelEntry,
    rule: ChannelRule,
    users: Option<Vec<UserEntry>>,
}

#[derive(Debug, Clone)]
struct GuildRules {
    key: GuildKey,
    reaction_notifications: ReactionNotifications,
    reaction_trigger: Option<ReactionTrigger>,
    users: Option<Vec<UserEntry>>,
    require_mention: Option<bool>,
    channels: Option<Vec<ChannelRules>>,
    tools: PolicyLevel,
}

#[derive(Debug, Clone)]
struct DiscordPolicy {
    dm_enabled: bool,
    dm_policy: DmPolicy,
    allow_from: Vec<UserEntry>,
    group_enabled: bool,
    group_channels: Vec<ChannelEntry>,
    group_policy: GroupPolicy,
    allow_bots: bool,
    guilds: Vec<GuildRules>,
    section_present: bool,
}

#[derive(Debug, Clone)]
struct KookPolicy {
    allowed: Vec<String>,
    require_mention: bool,
}

#[derive(Debug, Clone)]
enum PlatformPolicy {
    Discord(Box<DiscordPolicy>),
    Kook(KookPolicy),
}

/// One bot account's access rules, normalised once.
#[derive(Debug, Clone)]
pub struct AccessPolicy {
    platform: PlatformPolicy,
    account_id: String,
    agent_id: String,
    dm_scope: DmScope,
    patterns: Vec<Regex>,
    use_access_groups: bool,
    names: ResolvedAllowlists,
}

fn users_of(list: Option<&Vec<crate::config::ListEntry>>) -> Option<Vec<UserEntry>> {
    let entries = user_entries(list?.iter().map(|e| e.as_str()));
    (!entries.is_empty()).then_some(entries)
}

impl AccessPolicy {
    /// Builds the policy for `account` (names resolved by [`resolve_names`];
    /// pass `ResolvedAllowlists::default()` before the directory is known).
    pub fn new(config: &Config, account: &ResolvedAccount, names: ResolvedAllowlists) -> Self {
        let platform = match &account.settings {
            AccountSettings::Discord(d) => PlatformPolicy::Discord(Box::new(DiscordPolicy {
                dm_enabled: d.dm.enabled,
                dm_policy: d.dm.policy,
                allow_from: user_entries(d.dm.allow_from.iter().map(|e| e.as_str())),
                group_enabled: d.dm.group_enabled,
                group_channels: channel_entries(d.dm.group_channels.iter().map(|e| e.as_str())),
                group_policy: d.group_policy,
                allow_bots: d.allow_bots,
                section_present: d.section_present,
                guilds: d
                    .guilds
                    .iter()
                    .map(|(key, g)| GuildRules {
                        key: match key.trim() {
                            "*" => GuildKey::Any,
                            k if !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()) => {
                                GuildKey::Id(k.to_owned())
                            }
                            k => GuildKey::Slug(slug(k)),
                        },
                        reaction_notifications: g.reaction_notifications.unwrap_or_default(),
                        reaction_trigger: g.reaction_trigger.clone().filter(|t| t.enabled),
                        users: users_of(g.users.as_ref()),
                        require_mention: g.require_mention,
                        tools: PolicyLevel {
                            tools: g.tools.clone(),
                            tools_by_sender: g.tools_by_sender.clone(),
                        },
                        channels: g.channels.as_ref().map(|chans| {
                            chans
                                .iter()
                                .filter_map(|(ck, rule)| {
                                    Some(ChannelRules {
                                        key: channel_entry(ck)?,
                                        users: users_of(rule.users.as_ref()),
                                        rule: rule.clone(),
                                    })
                                })
                                .collect()
                        }),
                    })
                    .collect(),
            })),
            AccountSettings::Kook(k) => PlatformPolicy::Kook(KookPolicy {
                allowed: k.allowed_user_ids.clone(),
                require_mention: k.require_mention,
            }),
        };
        let agent_id = config.default_agent_id().to_owned();
        Self {
            platform,
            account_id: account.account_id.clone(),
            patterns: config.mention_patterns(&agent_id).to_vec(),
            agent_id,
            dm_scope: config.session.dm_scope,
            use_access_groups: config.commands.use_access_groups,
            names,
        }
    }

    /// Warnings the gateway logs once at start-up (e.g. KOOK without
    /// `allowedUserId`: anyone can control the bot).
    pub fn startup_warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        match &self.platform {
            PlatformPolicy::Kook(k) if k.allowed.is_empty() => out.push(
                "channels.kook.allowedUserId is not set: anyone who can DM the bot or shares a channel with it can control it"
                    .to_owned(),
            ),
            PlatformPolicy::Kook(_) => {}
            PlatformPolicy::Discord(d) => {
                if d.dm_enabled && d.dm_policy == DmPolicy::Open {
                    out.push("channels.discord.dm.policy is \"open\": anyone can DM the bot".to_owned());
                }
                if d.group_policy == GroupPolicy::Open && !d.section_present {
                    out.push(
                        "no channels.discord section: groupPolicy defaults to \"open\", every guild channel the bot can read may talk to it (mentions still required); set channels.discord.groupPolicy or list guilds to lock it down"
                            .to_owned(),
                    );
                }
                if d.group_policy == GroupPolicy::Allowlist && d.guilds.is_empty() {
                    out.push(
                        "channels.discord.groupPolicy is \"allowlist\" and no guilds are listed: guild channels are ignored (add channels.discord.guilds or set groupPolicy to \"open\")"
                            .to_owned(),
                    );
                }
                if d.allow_bots {
                    out.push(
                        "channels.discord.allowBots is on: guard against bot-to-bot reply loops with requireMention and users allowlists"
                            .to_owned(),
                    );
                }
            }
        }
        out
    }

    /// Decides one message. `paired` holds the ids approved through pairing
    /// (`<channel>-allowFrom.json`).
    pub fn decide(&self, msg: &InboundMessage, paired: &[String]) -> Decision {
        let sender = Sender {
            id: msg.author.id.clone(),
            name: msg
                .author
                .tag
                .clone()
                .unwrap_or_else(|| msg.author.username.clone()),
        };
        let drop = |reason: DropReason| {
            Decision::Drop(Dropped {
                reason,
                sender: sender.clone(),
                unknown_sender: matches!(
                    reason,
                    DropReason::DmSenderNotAllowed
                        | DropReason::UserNotAllowed
                        | DropReason::NotAuthorized
                        | DropReason::KookUserNotAllowed
                ),
            })
        };
        if msg.author.id == msg.bot_user_id {
            return drop(DropReason::OwnMessage);
        }
        let outcome = match &self.platform {
            PlatformPolicy::Discord(d) => self.discord(d, msg, paired),
            PlatformPolicy::Kook(k) => self.kook(k, msg),
        };
        match outcome {
            Err(reason) => drop(reason),
            Ok(Gate::Challenge) if msg.native_command => drop(DropReason::NotAuthorized),
            Ok(Gate::Challenge) => Decision::PairingChallenge(Challenge {
                sender,
                reply_to: self.reply_target(msg),
            }),
            Ok(Gate::Pass {
                require_mention,
                rule,
                guild_tools,
            }) => {
                let mentioned = mentions_bot(msg, &self.patterns);
                if require_mention && !mentioned && !msg.native_command {
                    return drop(DropReason::MentionRequired);
                }
                let conversation = match (msg.native_command, msg.chat) {
                    (true, _) => Conversation::Slash {
                        user_id: msg.author.id.clone(),
                    },
                    (false, ChatKind::Direct) => Conversation::Direct {
                        user_id: msg.author.id.clone(),
                    },
                    (false, _) => Conversation::Channel {
                        channel_id: msg.channel.id.clone(),
                    },
                };
                let text = if msg.chat == ChatKind::Direct {
                    msg.text.clone()
                } else {
                    strip_bot_mention(msg.platform, &msg.text, &msg.bot_user_id)
                };
                let reply_to = self.reply_target(msg);
                Decision::Allow(Box::new(Allowed {
                    route: Route {
                        session_key: session_key(
                            &self.agent_id,
                            self.dm_scope,
                            msg.platform,
                            &self.account_id,
                            &conversation,
                        ),
                        agent_id: self.agent_id.clone(),
                        reply_to,
                    },
                    text,
                    mentioned,
                    sender,
                    tool_rules: tool_rules(guild_tools, rule.as_ref()),
                    channel_rule: rule,
                }))
            }
        }
    }

    /// Whether a reaction by `reactor` becomes a reaction notification for
    /// the session (`guilds.<id>.reactionNotifications`, default `own`):
    /// `off` never; `own` on the bot's own messages; `all` always;
    /// `allowlist` when the reactor is in the guild's `users` (none listed:
    /// never). Without a guild entry, and in DMs and on KOOK: `own`. The
    /// bot's own reactions never count.
    pub fn reaction_notification(
        &self,
        guild: Option<&Place>,
        reactor: &Author,
        on_bot_message: bool,
        bot_user_id: &str,
    ) -> bool {
        if reactor.id == bot_user_id {
            return false;
        }
        let rules = match (&self.platform, guild) {
            (PlatformPolicy::Discord(d), Some(_)) => find_guild(d, &self.names, guild),
            _ => None,
        };
        match rules.map_or(ReactionNotifications::Own, |g| g.reaction_notifications) {
            ReactionNotifications::Off => false,
            ReactionNotifications::All => true,
            ReactionNotifications::Allowlist => rules
                .and_then(|g| g.users.as_ref())
                .is_some_and(|users| self.user_allowed(users, reactor)),
            _ => on_bot_message,
        }
    }

    /// The guild's `reactionTrigger`, when enabled.
    pub fn reaction_trigger(&self, guild: &Place) -> Option<&ReactionTrigger> {
        match &self.platform {
            PlatformPolicy::Discord(d) => find_guild(d, &self.names, Some(guild))?
                .reaction_trigger
                .as_ref(),
            PlatformPolicy::Kook(_) => None,
        }
    }

    fn reply_target(&self, msg: &InboundMessage) -> ReplyTarget {
        ReplyTarget {
            platform: msg.platform,
            account_id: self.account_id.clone(),
            chat_id: msg.channel.id.clone(),
            direct: msg.chat == ChatKind::Direct,
        }
    }

    fn user_allowed(&self, entries: &[UserEntry], author: &Author) -> bool {
        let username = author.username.to_lowercase();
        let tag = author.tag.as_deref().map(str::to_lowercase);
        entries.iter().any(|e| match e {
            UserEntry::Any => true,
            UserEntry::Id(id) => *id == author.id,
            UserEntry::Name(n) => {
                self.names.user(n) == Some(author.id.as_str())
                    || *n == username
                    || tag.as_deref() == Some(n.as_str())
            }
        })
    }

    fn channel_matches(&self, entry: &ChannelEntry, guild_id: Option<&str>, ch: &Place) -> bool {
        match entry {
            ChannelEntry::Any => false,
            ChannelEntry::Id(id) => *id == ch.id,
            ChannelEntry::Slug(s) => {
                guild_id.is_some_and(|g| {
                    self.names.channels.get(&(g.to_owned(), s.clone())) == Some(&ch.id)
                }) || ch.name.as_deref().is_some_and(|n| slug(n) == *s)
            }
        }
    }

    fn discord(
        &self,
        d: &DiscordPolicy,
        msg: &InboundMessage,
        paired: &[String],
    ) -> Result<Gate, DropReason> {
        if (msg.author.is_bot || msg.author.is_webhook) && !d.allow_bots {
            return Err(DropReason::BotAuthor);
        }
        let bypass = msg.native_command && !self.use_access_groups;
        match msg.chat {
            ChatKind::Direct => {
                if bypass {
                    return Ok(Gate::pass(false));
                }
                if !d.dm_enabled {
                    return Err(DropReason::DmDisabled);
                }
                let listed = || {
                    self.user_allowed(&d.allow_from, &msg.author) || paired.contains(&msg.author.id)
                };
                match d.dm_policy {
                    DmPolicy::Disabled => Err(DropReason::DmPolicyDisabled),
                    DmPolicy::Open => Ok(Gate::pass(false)),
                    DmPolicy::Allowlist if listed() => Ok(Gate::pass(false)),
                    DmPolicy::Allowlist if msg.native_command => Err(DropReason::NotAuthorized),
                    DmPolicy::Allowlist => Err(DropReason::DmSenderNotAllowed),
                    _ if listed() => Ok(Gate::pass(false)),
                    _ => Ok(Gate::Challenge),
                }
            }
            ChatKind::GroupDirect => {
                if bypass {
                    return Ok(Gate::pass(false));
                }
                if !d.dm_enabled {
                    return Err(DropReason::DmDisabled);
                }
                if !d.group_enabled {
                    return Err(DropReason::GroupDmDisabled);
                }
                let ok = d.group_channels.is_empty()
                    || d.group_channels.iter().any(|e| {
                        *e == ChannelEntry::Any || self.channel_matches(e, None, &msg.channel)
                    });
                if ok {
                    Ok(Gate::pass(false))
                } else {
                    Err(DropReason::GroupDmChannelNotAllowed)
                }
            }
            _ => self.guild_channel(d, msg, bypass),
        }
    }

    fn guild_channel(
        &self,
        d: &DiscordPolicy,
        msg: &InboundMessage,
        bypass: bool,
    ) -> Result<Gate, DropReason> {
        if bypass {
            return Ok(Gate::pass(false));
        }
        if d.group_policy == GroupPolicy::Disabled {
            return Err(DropReason::GroupPolicyDisabled);
        }
        let guild_id = msg.guild.as_ref().map(|g| g.id.as_str());
        let guild = find_guild(d, &self.names, msg.guild.as_ref());
        let Some(guild) = guild else {
            return if d.group_policy == GroupPolicy::Allowlist {
                Err(DropReason::GuildNotAllowed)
            } else {
                Ok(Gate::pass(true))
            };
        };
        let rule = match &guild.channels {
            None => None,
            Some(channels) => {
                let explicit = |ch: &Place| {
                    channels
                        .iter()
                        .find(|c| self.channel_matches(&c.key, guild_id, ch))
                };
                let wildcard = || channels.iter().find(|c| c.key == ChannelEntry::Any);
                let found = match (msg.chat, &msg.parent) {
                    (ChatKind::Thread, Some(parent)) => explicit(&msg.channel)
                        .or_else(|| explicit(parent))
                        .or_else(wildcard),
                    _ => explicit(&msg.channel).or_else(wildcard),
                };
                match found {
                    None => return Err(DropReason::ChannelNotListed),
                    Some(c) => Some(c),
                }
            }
        };
        if let Some(c) = rule {
            if c.rule.enabled == Some(false) {
                return Err(DropReason::ChannelDisabled);
            }
            if c.rule.allow == Some(false) {
                return Err(DropReason::ChannelNotAllowed);
            }
        }
        let users = rule.and_then(|c| c.users.as_ref()).or(guild.users.as_ref());
        if let Some(users) = users {
            if !self.user_allowed(users, &msg.author) {
                return Err(if msg.native_command {
                    DropReason::NotAuthorized
                } else {
                    DropReason::UserNotAllowed
                });
            }
        }
        let require_mention = rule
            .and_then(|c| c.rule.require_mention)
            .or(guild.require_mention)
            .unwrap_or(true);
        Ok(Gate::Pass {
            require_mention,
            rule: rule.map(|c| c.rule.clone()),
            guild_tools: guild.tools.clone(),
        })
    }

    fn kook(&self, k: &KookPolicy, msg: &InboundMessage) -> Result<Gate, DropReason> {
        if msg.author.is_bot || msg.author.is_webhook {
            return Err(DropReason::BotAuthor);
        }
        if !k.allowed.is_empty() && !k.allowed.contains(&msg.author.id) {
            return Err(DropReason::KookUserNotAllowed);
        }
        Ok(Gate::pass(
            k.require_mention && msg.chat != ChatKind::Direct,
        ))
    }
}

/// The guild entry for `guild`: by id, then by name (resolved at start-up,
/// or slug of the guild's name), then `"*"`.
fn find_guild<'d>(
    d: &'d DiscordPolicy,
    names: &ResolvedAllowlists,
    guild: Option<&Place>,
) -> Option<&'d GuildRules> {
    let guild_id = guild.map(|g| g.id.as_str());
    let guild_slug = guild.and_then(|g| g.name.as_deref()).map(slug);
    d.guilds
        .iter()
        .find(|g| matches!(&g.key, GuildKey::Id(id) if Some(id.as_str()) == guild_id))
        .or_else(|| {
            d.guilds.iter().find(|g| match &g.key {
                GuildKey::Slug(s) => {
                    (guild_id.is_some() && names.guilds.get(s).map(String::as_str) == guild_id)
                        || guild_slug.as_deref() == Some(s.as_str())
                }
                _ => false,
            })
        })
        .or_else(|| d.guilds.iter().find(|g| g.key == GuildKey::Any))
}

/// What the platform rules let through, before the mention check.
#[allow(clippy::large_enum_variant)] // one short-lived value per message
enum Gate {
    Pass {
        require_mention: bool,
        rule: Option<ChannelRule>,
        /// The guild entry's tool policy (empty outside guilds).
        guild_tools: PolicyLevel,
    },
    Challenge,
}

impl Gate {
    fn pass(require_mention: bool) -> Self {
        Gate::Pass {
            require_mention,
            rule: None,
            guild_tools: PolicyLevel::default(),
        }
    }
}

/// The tool policies of a conversation: its guild entry's and its channel
/// entry's.
pub(crate) fn tool_rules(guild: PolicyLevel, rule: Option<&ChannelRule>) -> ToolRules {
    ToolRules {
        guild,
        channel: rule
            .map(|r| PolicyLevel {
                tools: r.tools.clone(),
                tools_by_sender: r.tools_by_sender.clone(),
            })
            .unwrap_or_default(),
    }
}

/// The ack reaction to put on an accepted message, per
/// `messages.ackReaction` / `ackReactionScope`: `group-mentions` (default)
/// for guild and group messages that mention the bot, `group-all` for every
/// accepted guild/group message, `direct` for DMs, `all`, or `off`.
pub fn ack_reaction<'c>(config: &'c Config, allowed: &Allowed) -> Option<&'c str> {
    let direct = allowed.route.reply_to.direct;
    let wanted = match config.messages.ack_reaction_scope {
        AckReactionScope::GroupMentions => !direct && allowed.mentioned,
        AckReactionScope::GroupAll => !direct,
        AckReactionScope::Direct => direct,
        AckReactionScope::All => true,
        _ => false,
    };
    wanted.then(|| config.messages.ack_reaction()).flatten()
}

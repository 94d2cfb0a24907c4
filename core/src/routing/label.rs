//! How logs and `krill channels status` name a chat (the Discord channel doc,
//! Goals: "display names use `discord:<guildSlug>#<channelSlug>`"):
//! `discord:<guildSlug>#<channelSlug>` for a guild channel or thread,
//! `discord:@<user>` for a DM, `discord:#<channel>` for a group DM,
//! `kook:#<channel>` / `kook:@<user>` on KOOK.
//!
//! A guild's slug is its `channels.discord.guilds.<id>.slug` when set, else
//! the key it is listed under when that key is a slug, else the slug of its
//! name, else its id; a channel's slug is the slug of its name, else its id
//! (the slug rule of [`crate::access::slug`]).

use std::collections::BTreeMap;

use super::display_name;
use crate::access::{slug, ChatKind, Place};
use crate::config::{GuildConfig, Platform};

/// The slug a Discord guild is shown by (see the module docs). `guilds` is
/// the account's `channels.discord.guilds`.
pub fn guild_slug(guilds: &BTreeMap<String, GuildConfig>, guild: &Place) -> String {
    let configured = guilds
        .get(&guild.id)
        .and_then(|g| g.slug.as_deref())
        .map(slug)
        .filter(|s| !s.is_empty());
    let named = guild.name.as_deref().map(slug).filter(|s| !s.is_empty());
    let listed_by_slug = || {
        let name = named.as_deref()?;
        guilds
            .keys()
            .map(|k| slug(k))
            .find(|k| k == name)
            .map(|_| name.to_owned())
    };
    configured
        .or_else(listed_by_slug)
        .or(named)
        .unwrap_or_else(|| guild.id.clone())
}

/// A channel's slug: of its name, else its id.
pub fn channel_slug(channel: &Place) -> String {
    channel
        .name
        .as_deref()
        .map(slug)
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| channel.id.clone())
}

/// The name of the chat a message came from, for logs and status.
/// `sender` names the other side of a DM; `guilds` is the account's
/// `channels.discord.guilds` (empty for KOOK).
pub fn chat_label(
    platform: Platform,
    guilds: &BTreeMap<String, GuildConfig>,
    chat: ChatKind,
    guild: Option<&Place>,
    channel: &Place,
    sender: &str,
) -> String {
    match chat {
        ChatKind::Direct => display_name(platform, None, None, Some(sender)),
        ChatKind::GroupDirect => display_name(platform, None, Some(&channel_slug(channel)), None),
        ChatKind::Channel | ChatKind::Thread => {
            let guild = match (platform, guild) {
                (Platform::Discord, Some(g)) => Some(guild_slug(guilds, g)),
                _ => None,
            };
            display_name(
                platform,
                guild.as_deref(),
                Some(&channel_slug(channel)),
                None,
            )
        }
    }
}

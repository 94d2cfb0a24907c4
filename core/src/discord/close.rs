//! What each gateway close code means for the shard: resume, identify afresh,
//! or stop with an actionable message (`developers/topics/opcodes-and-status-codes.md`
//! § Gateway Close Event Codes; the table is in `docs/protocol-discord.md`).
//!
//! A *remote* 1000/1001 is reconnectable (discord.js PR #8405); krill itself
//! never closes with 1000/1001 except on shutdown, because that invalidates
//! the session. Codes not in the table reconnect and try to resume (a stale
//! session then gets op 9 and the shard identifies).

/// The shard's reaction to a close code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseAction {
    /// Reconnect and resume the session.
    Resume,
    /// Reconnect and identify afresh (the session is gone).
    Identify,
    /// Stop the shard; the message says what to fix.
    Fatal(&'static str),
}

/// Classifies a close code received from Discord.
pub fn close_action(code: u16) -> CloseAction {
    match code {
        4001 | 4003 | 4005 | 4007 | 4009 => CloseAction::Identify,
        4004 => CloseAction::Fatal(
            "Discord rejected the bot token (close 4004 Authentication failed): \
             check DISCORD_BOT_TOKEN / channels.discord.token",
        ),
        4010 => CloseAction::Fatal(
            "Discord rejected the shard (close 4010 Invalid shard): the shard id \
             must be below the shard count; check channels.discord.shards",
        ),
        4011 => CloseAction::Fatal(
            "Discord requires sharding (close 4011 Sharding required): the bot is in \
             too many guilds for one shard; set channels.discord.shards",
        ),
        4012 => CloseAction::Fatal(
            "Discord rejected the gateway API version (close 4012 Invalid API version): \
             krill speaks gateway v10; update krill",
        ),
        4013 => CloseAction::Fatal(
            "Discord rejected the intents (close 4013 Invalid intent(s)): \
             check channels.discord.intents",
        ),
        4014 => CloseAction::Fatal(
            "Discord refused a privileged intent (close 4014 Disallowed intent(s)): \
             enable Message Content Intent (and Server Members Intent if requested) \
             in the Developer Portal under Bot > Privileged Gateway Intents, then restart",
        ),
        // 4000, 4002, 4008, remote 1000/1001, and anything unknown.
        _ => CloseAction::Resume,
    }
}

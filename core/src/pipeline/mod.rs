//! The inbound pipeline: what becomes of one platform message once access
//! control has decided on it. Both channel loops hand it the
//! [`Decision`] and the message's [`MessageFacts`]; it keeps guild context
//! (a message dropped only for want of a mention becomes a context line for
//! the channel's next turn), sorts text commands from agent text, and plans
//! the agent turn: the prompt with its context and quote, who takes part
//! (whom the reply may ping), what the journal records, the ack reaction and
//! the media the turn carries. The loop carries out the one
//! [`InboundAction`] it answers: journal and run the turn, execute the
//! command, or answer the pairing challenge. On the way back,
//! [`shape_agent_reply`] decides what the agent's reply becomes: the files
//! its `MEDIA:` lines name and the chunks of its text.
//!
//! | module | owns |
//! |---|---|
//! | this one | [`plan_inbound`]: decision + facts → [`InboundAction`]; [`plan_reaction_turn`]: a reaction trigger's turn |
//! | [`turn`] | [`build_turn`] and [`turn_participants`]: the turn a message becomes |
//! | [`reply`] | [`shape_agent_reply`]: what the agent's reply becomes (files, chunks); [`answer_chunks`] for a command's answer |

mod reply;
mod turn;

pub use reply::{
    answer_chunks, interaction_answer, shape_agent_reply, ReplyShape, ShapedReply, FILES_FOLLOW,
};
pub use turn::{build_turn, turn_participants, TurnSource};

use crate::access::{
    ack_reaction, Allowed, Challenge, ChatKind, Decision, DropReason, TriggeredTurn,
};
use crate::agent::{ChannelHistories, ChannelKind, ChatType, ContextMessage, TurnInput};
use crate::commands::{classify, Inbound, Invocation};
use crate::config::Config;
use crate::durable::JournaledTurn;
use crate::media::{text_or_placeholder, InboundMedia};

/// What a loop knows of one message besides the access decision.
#[derive(Debug, Clone)]
pub struct MessageFacts<'a> {
    /// The platform.
    pub channel: ChannelKind,
    /// The bot account the message came to.
    pub account_id: &'a str,
    /// The kind of chat it arrived in.
    pub chat: ChatKind,
    /// The chat (channel, thread or DM channel) it arrived in.
    pub chat_id: &'a str,
    /// The message's id.
    pub message_id: &'a str,
    /// The message as a guild context line would show it (copied only when
    /// it is kept as one).
    pub line: MessageLine<'a>,
    /// The users the message mentions.
    pub mentions: &'a [String],
    /// The message it quotes, if any.
    pub quoted: Option<ContextMessage>,
    /// Its attachments.
    pub media: Vec<InboundMedia>,
    /// Guild context lines a turn carries (`historyLimit`; 0: none, and
    /// none are kept).
    pub history_limit: u32,
    /// `dmHistoryLimit` / `dms.<id>.historyLimit` (Discord DMs).
    pub dm_history_limit: Option<u32>,
    /// The channel's topic (Discord), for the system prompt.
    pub topic: Option<String>,
}

/// Who wrote a message and what it says, as a context line shows it.
#[derive(Debug, Clone, Copy)]
pub struct MessageLine<'a> {
    /// The author's id.
    pub author_id: &'a str,
    /// The author's display name (`name#1234`, a tag).
    pub author_name: &'a str,
    /// The message text.
    pub text: &'a str,
}

/// What the loop does with one message.
#[derive(Debug)]
#[non_exhaustive]
pub enum InboundAction {
    /// Journal the turn (a message already journaled is not run again), add
    /// the ack reaction, and hand the turn to the agents.
    Turn(Box<PlannedTurn>),
    /// Execute a text command for an allowed sender.
    Command {
        /// The command line.
        invocation: Invocation,
        /// The access decision it runs under.
        allowed: Box<Allowed>,
    },
    /// Answer a stranger with a pairing code.
    PairingChallenge(Challenge),
    /// Nothing to send (dropped; kept as context when it qualified).
    Nothing,
}

/// An agent turn, planned.
#[derive(Debug)]
pub struct PlannedTurn {
    /// The access decision (route, reply target, tool rules).
    pub allowed: Allowed,
    /// The turn as the journal records it (the input, the reply's chat,
    /// the participants).
    pub journaled: JournaledTurn,
    /// The ack reaction to add to the message, if the config wants one.
    pub ack: Option<String>,
    /// The attachments to fetch for the agent.
    pub media: Vec<InboundMedia>,
}

/// The one action for a message given its access `decision`. Guild
/// context is taken from (and kept in) `histories`: an allowed guild
/// message's turn carries the channel's last `history_limit` lines and
/// clears them; a guild message dropped only because it did not mention
/// the bot, with text, becomes a line.
pub fn plan_inbound(
    config: &Config,
    decision: Decision,
    facts: MessageFacts<'_>,
    histories: &mut ChannelHistories,
) -> InboundAction {
    match decision {
        Decision::Allow(mut allowed) => {
            if let Inbound::Command(invocation) = classify(&allowed.text, config.commands.text) {
                return InboundAction::Command {
                    invocation,
                    allowed,
                };
            }
            allowed.text = text_or_placeholder(&allowed.text, &facts.media);
            let context =
                take_guild_context(histories, facts.chat, facts.chat_id, facts.history_limit);
            let chat_type = if facts.chat == ChatKind::Direct {
                ChatType::Direct
            } else {
                ChatType::Channel
            };
            let turn = build_turn(
                &allowed,
                &TurnSource {
                    channel: facts.channel,
                    account_id: facts.account_id,
                    chat_type,
                    chat_id: facts.chat_id,
                    message_id: facts.message_id,
                    context: &context,
                    reply_to: facts.quoted.as_ref(),
                    dm_history_limit: facts.dm_history_limit,
                    topic: facts.topic.as_deref(),
                    config,
                },
            );
            let participants = turn_participants(
                facts.line.author_id,
                facts.mentions,
                &context,
                facts.quoted.as_ref(),
            );
            let ack = ack_reaction(config, &allowed).map(str::to_owned);
            let journaled = JournaledTurn {
                turn,
                chat_id: allowed.route.reply_to.chat_id.clone(),
                direct: allowed.route.reply_to.direct,
                participants,
            };
            InboundAction::Turn(Box::new(PlannedTurn {
                allowed: *allowed,
                journaled,
                ack,
                media: facts.media,
            }))
        }
        Decision::Drop(dropped)
            if is_guild(facts.chat)
                && dropped.reason == DropReason::MentionRequired
                && facts.history_limit > 0
                && !facts.line.text.trim().is_empty() =>
        {
            histories.record(
                facts.chat_id,
                ContextMessage {
                    message_id: facts.message_id.to_owned(),
                    author_id: facts.line.author_id.to_owned(),
                    author_name: facts.line.author_name.to_owned(),
                    text: facts.line.text.to_owned(),
                },
            );
            InboundAction::Nothing
        }
        Decision::PairingChallenge(challenge) => InboundAction::PairingChallenge(challenge),
        _ => InboundAction::Nothing,
    }
}

/// Where a reaction that triggers a turn was made.
#[derive(Debug, Clone, Copy)]
pub struct ReactionFacts<'a> {
    /// The platform.
    pub channel: ChannelKind,
    /// The bot account.
    pub account_id: &'a str,
    /// The kind of chat.
    pub chat: ChatKind,
    /// The chat the reacted message is in.
    pub chat_id: &'a str,
    /// Guild context lines a turn carries (`historyLimit`).
    pub history_limit: u32,
}

/// The turn a reaction trigger runs, and who takes part in it.
#[derive(Debug)]
pub struct ReactionTurn {
    /// The agent's input.
    pub turn: TurnInput,
    /// The reactor and the context's authors (whom the reply may ping).
    pub participants: Vec<String>,
}

/// The turn for `triggered` (`reactionTrigger`): the channel's session,
/// the trigger text, the channel's guild context (taken, as a message's
/// turn takes it), answering the bot's message reacted to.
pub fn plan_reaction_turn(
    config: &Config,
    triggered: &TriggeredTurn,
    facts: ReactionFacts<'_>,
    histories: &mut ChannelHistories,
) -> ReactionTurn {
    let context = take_guild_context(histories, facts.chat, facts.chat_id, facts.history_limit);
    let turn = build_turn(
        &triggered.allowed,
        &TurnSource {
            channel: facts.channel,
            account_id: facts.account_id,
            chat_type: ChatType::Channel,
            chat_id: facts.chat_id,
            message_id: &triggered.message_id,
            context: &context,
            reply_to: None,
            dm_history_limit: None,
            topic: None,
            config,
        },
    );
    let participants = turn_participants(&triggered.allowed.sender.id, &[], &context, None);
    ReactionTurn { turn, participants }
}

/// A guild channel or thread (where context is kept), not a DM.
fn is_guild(chat: ChatKind) -> bool {
    matches!(chat, ChatKind::Channel | ChatKind::Thread)
}

/// The channel's last `history_limit` context lines for a turn in `chat`
/// (taken: they go with this turn), none outside guilds.
fn take_guild_context(
    histories: &mut ChannelHistories,
    chat: ChatKind,
    chat_id: &str,
    history_limit: u32,
) -> Vec<ContextMessage> {
    if is_guild(chat) && history_limit > 0 {
        histories.take_context(chat_id, history_limit as usize)
    } else {
        Vec::new()
    }
}

//! The agent turn an allowed message (or a command, or a reaction trigger)
//! becomes: the prompt rendered with its context, the channel's system prompt
//! and skills, the session history bound, and who takes part in it (whom its
//! reply may ping).

use crate::access::Allowed;
use crate::agent::{
    combine_system_prompt, render_prompt, ChannelKind, ChatType, ContextMessage, PromptInput,
    Sender, TurnInput,
};
use crate::config::Config;

/// The inputs of one agent turn besides the access decision.
#[derive(Debug, Clone, Copy)]
pub struct TurnSource<'a> {
    /// The platform.
    pub channel: ChannelKind,
    /// The bot account the message came to.
    pub account_id: &'a str,
    /// DM or channel.
    pub chat_type: ChatType,
    /// Where the reply goes.
    pub chat_id: &'a str,
    /// The message the turn answers.
    pub message_id: &'a str,
    /// Earlier messages of the channel, oldest first.
    pub context: &'a [ContextMessage],
    /// The message it quotes.
    pub reply_to: Option<&'a ContextMessage>,
    /// `dmHistoryLimit` / `dms.<id>.historyLimit` for a Discord DM.
    pub dm_history_limit: Option<u32>,
    /// The channel's topic (Discord), added to the system prompt.
    pub topic: Option<&'a str>,
    /// The config in force (the agent's session history bound).
    pub config: &'a Config,
}

/// The agent turn for an allowed message: the prompt rendered with its
/// context, the channel's system prompt and skills passed through.
pub fn build_turn(allowed: &Allowed, source: &TurnSource<'_>) -> TurnInput {
    let sender = Sender {
        id: allowed.sender.id.clone(),
        name: allowed.sender.name.clone(),
    };
    let prompt = render_prompt(&PromptInput {
        chat_type: source.chat_type,
        sender: &sender,
        text: &allowed.text,
        message_id: Some(source.message_id),
        context: source.context,
        reply_to: source.reply_to,
        discord_channel_id: (source.channel == ChannelKind::Discord).then_some(source.chat_id),
    });
    let rule = allowed.channel_rule.as_ref();
    TurnInput {
        agent_id: allowed.route.agent_id.clone(),
        session_key: allowed.route.session_key.as_str().to_owned(),
        channel: source.channel,
        account_id: source.account_id.to_owned(),
        chat_type: source.chat_type,
        chat_id: source.chat_id.to_owned(),
        sender,
        message_id: source.message_id.to_owned(),
        text: allowed.text.clone(),
        prompt,
        system_prompt: combine_system_prompt(
            rule.and_then(|r| r.system_prompt.as_deref()),
            source.topic,
        ),
        skills: rule.and_then(|r| r.skills.clone()),
        tools: Default::default(),
        history_limit: Some(
            source
                .config
                .turn_history_limit(&allowed.route.agent_id, source.dm_history_limit),
        ),
        media: Vec::new(),
    }
}

/// The users taking part in a turn, whom its reply may ping by default:
/// the author, the users the message mentions, the authors of the messages
/// in its context and of the message it quotes.
pub fn turn_participants(
    author_id: &str,
    mentions: &[String],
    context: &[ContextMessage],
    quoted: Option<&ContextMessage>,
) -> Vec<String> {
    std::iter::once(author_id)
        .chain(mentions.iter().map(String::as_str))
        .chain(context.iter().map(|m| m.author_id.as_str()))
        .chain(quoted.map(|m| m.author_id.as_str()))
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(author: &str) -> ContextMessage {
        ContextMessage {
            message_id: "m".into(),
            author_id: author.into(),
            author_name: "n".into(),
            text: "t".into(),
        }
    }

    #[test]
    fn participants_are_author_mentions_context_and_quote_in_order() {
        let mentions = vec!["m1".to_owned(), String::new()];
        let got = turn_participants("a", &mentions, &[line("c1"), line("")], Some(&line("q")));
        assert_eq!(got, vec!["a", "m1", "c1", "q"]);
    }
}

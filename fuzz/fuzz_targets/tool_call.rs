//! Fuzz target `tool_call`: what a model sends the `discord` tool (a
//! function name and argument text) and a model's chat completion body.
//! Nothing may panic; a call ends with a JSON result whatever Discord
//! answers.
#![no_main]

use krill_core::agent::openai::parse_chat_reply;
use krill_core::reply::MentionPolicy;
use krill_core::config::DiscordActions;
use krill_core::rest::{Response, RestError};
use krill_core::tools::{
    offered_actions, Action, ChannelFact, ChannelFacts, ToolRules, ToolRun, ToolStep, TurnScope,
};
use libfuzzer_sys::fuzz_target;

struct Facts;

impl ChannelFacts for Facts {
    fn channel(&self, id: &str) -> ChannelFact {
        if id.len() % 2 == 0 {
            ChannelFact::InGuild("1".into())
        } else {
            ChannelFact::Unknown
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = parse_chat_reply(data);
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let arguments = String::from_utf8_lossy(rest);
    let actions = DiscordActions {
        roles: true,
        moderation: true,
        ..DiscordActions::default()
    };
    let scope = TurnScope {
        guild_id: (selector & 0x80 == 0).then(|| "1".to_owned()),
        channel_id: "2".into(),
        message_id: "3".into(),
        sender_id: "4".into(),
        offered: offered_actions(&actions, &ToolRules::default(), "4", selector & 0x80 == 0),
        gates: actions,
        mentions: MentionPolicy::default(),
    };
    let action = Action::ALL[usize::from(selector) % Action::ALL.len()];
    let (mut run, mut step) =
        ToolRun::start(&action.function_name(), &arguments, &scope, &Facts, u64::MAX);
    for n in 0..8 {
        match step {
            ToolStep::Done(text) => {
                assert!(text.starts_with('{') && text.contains("\"ok\":"), "{text}");
                return;
            }
            ToolStep::Send(_) => {
                step = run.handle(if n % 2 == 0 {
                    Ok(Response::Empty)
                } else {
                    Err(RestError::Halted)
                });
            }
        }
    }
    panic!("a call did not end");
});

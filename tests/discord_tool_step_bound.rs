//! Scenario: the step bound. A model that keeps answering with tool calls
//! is stopped after `maxToolSteps` steps: krill carries out that many steps,
//! asks once more, does not carry out the looping answer, and posts the
//! "stopped" reply.

#[path = "support/discord_tool.rs"]
mod discord_tool;
#[path = "support/krill.rs"]
mod krill;

use discord_tool::{config, learn_guilds, message};
use krill::{Krill, WAIT};
use krill_core::agent::tool_loop::STEP_BOUND_REPLY;
use krill_testkit::openai::{FakeOpenAi, FakeReply};
use krill_testkit::{FakeDiscord, FakeDiscordOptions};
use serde_json::json;

#[test]
fn a_looping_model_is_stopped_by_max_tool_steps() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let openai = FakeOpenAi::start();
    let krill = Krill::start(
        &config(&fake, &openai, "", "maxToolSteps: 2,"),
        &["gateway"],
    );
    fake.wait_for_ready_client(WAIT).expect("krill identifies");
    learn_guilds(&fake);

    let (current, _) = message("loop forever");
    for n in 0..3 {
        openai.push_reply(FakeReply::tool_calls(&[(
            &format!("loop{n}"),
            "discord_react",
            json!({"emoji": "🔁"}),
        )]));
    }
    fake.dispatch("MESSAGE_CREATE", current);
    let posts = fake.wait_for_posts(1, WAIT).expect("the stopped reply");
    assert_eq!(posts[0].content, STEP_BOUND_REPLY);
    assert_eq!(
        openai.requests().len(),
        3,
        "two steps, then one answer not carried out"
    );
    let reactions: Vec<_> = fake
        .reactions()
        .into_iter()
        .filter(|r| r.emoji == "🔁")
        .collect();
    assert_eq!(reactions.len(), 2, "{reactions:?}");

    drop(krill);
}

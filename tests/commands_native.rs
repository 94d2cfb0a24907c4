//! Scenario: Discord slash commands, answered through the interaction
//! callback within Discord's 3-second deadline (the fake refuses later
//! callbacks): instant answers and refusals are ephemeral type 4; `/ask`
//! is deferred (type 5), runs in the slash session and its reply edits the
//! original response; `/new` acts on the chat's own session.

#[path = "support/krill.rs"]
mod krill;
#[path = "support/scenario.rs"]
mod scenario;

use krill::{tests_path, Krill, WAIT};
use krill_testkit::discord::{
    Author, InteractionRecord, SlashCaller, CALLBACK_DEADLINE, CHANNEL_ID, DM_CHANNEL_ID, GUILD_ID,
};
use krill_testkit::{FakeDiscord, FakeDiscordOptions};
use scenario::{alice, assert_no_secrets};
use serde_json::json;

fn instant(record: &InteractionRecord) -> &str {
    assert_eq!(record.callback_type(), Some(4), "{record:?}");
    assert_eq!(record.callback_flags(), Some(64), "ephemeral: {record:?}");
    assert!(record.callback_after.unwrap() < CALLBACK_DEADLINE);
    record.callback_content().unwrap_or_default()
}

#[test]
fn slash_commands_answer_within_the_deadline() {
    let discord = FakeDiscord::start(FakeDiscordOptions::default());
    let work = tempfile::tempdir().expect("temp dir");
    let command = json!([tests_path("agents/record.py"), work.path().join("dump")]);
    let token = discord.options().token.clone();
    let text = format!(
        r#"{{
  channels: {{ discord: {{
    token: "{token}", apiBaseUrl: "{base}",
    dm: {{ policy: "allowlist", allowFrom: ["{alice}"] }},
    groupPolicy: "open",
  }} }},
  commands: {{ config: true }},
  agents: {{ defaults: {{ backend: {{ type: "command", command: {command} }} }} }},
}}"#,
        base = discord.api_base_url(),
        alice = alice().id,
    );
    let krill = Krill::start(&text, &["gateway"]);
    discord.wait_for_ready_client(WAIT).expect("ready");
    let alice = alice();
    let in_dm = SlashCaller {
        user: &alice,
        channel_id: DM_CHANNEL_ID,
        guild_id: None,
    };
    let in_guild = SlashCaller {
        user: &alice,
        channel_id: CHANNEL_ID,
        guild_id: Some(GUILD_ID),
    };
    let answer = |id: &str| {
        discord
            .wait_for_callback(id, WAIT)
            .unwrap_or_else(|e| panic!("{e}\n{}", krill.log()))
    };

    let help = answer(&discord.dispatch_interaction(&in_dm, "help", &[]));
    let help = instant(&help).to_owned();
    assert!(
        help.starts_with("Commands:") && help.contains("/ask <text>"),
        "{help}"
    );

    let who = answer(&discord.dispatch_interaction(&in_guild, "whoami", &[]));
    let who = instant(&who).to_owned();
    assert!(who.contains(&format!("user id: {}", alice.id)), "{who}");
    assert!(who.contains(&format!("guild id: {GUILD_ID}")), "{who}");
    let id = answer(&discord.dispatch_interaction(&in_guild, "id", &[]));
    assert_eq!(instant(&id), who, "/id is /whoami");

    let status = answer(&discord.dispatch_interaction(&in_guild, "status", &[]));
    let status = instant(&status).to_owned();
    assert!(
        status.contains(&format!("session: agent:main:discord:channel:{CHANNEL_ID}")),
        "the chat's session: {status}"
    );

    // /ask: deferred, then the reply edits @original.
    let ask = discord.dispatch_interaction(&in_guild, "ask", &[("text", "hello there")]);
    let record = answer(&ask);
    assert_eq!(record.callback_type(), Some(5), "deferred: {record:?}");
    assert!(record.callback_after.unwrap() < CALLBACK_DEADLINE);
    let record = discord
        .wait_for_original_edits(&ask, 1, WAIT)
        .unwrap_or_else(|e| panic!("{e}\n{}", krill.log()));
    assert_eq!(
        record.original_edits[0],
        format!(
            "session=agent:main:discord:slash:{} text=hello there history=0",
            alice.id
        )
    );
    let ask2 = discord.dispatch_interaction(&in_dm, "ask", &[("text", "again")]);
    let record = discord.wait_for_original_edits(&ask2, 1, WAIT).unwrap();
    assert!(
        record.original_edits[0].ends_with("text=again history=2"),
        "{record:?}"
    );

    // /new in the guild channel: the channel's session, answered at once.
    let new = answer(&discord.dispatch_interaction(&in_guild, "new", &[]));
    assert!(instant(&new).starts_with("New session started."));
    let stop = answer(&discord.dispatch_interaction(&in_guild, "stop", &[]));
    assert!(instant(&stop).starts_with("Nothing to stop"));
    let reset = answer(&discord.dispatch_interaction(&in_dm, "reset", &[]));
    assert!(instant(&reset).starts_with("New session started."));

    // /config (alice is an owner: an explicit dm.allowFrom entry).
    let get = answer(&discord.dispatch_interaction(
        &in_dm,
        "config",
        &[("action", "get"), ("path", "channels.discord.dm.policy")],
    ));
    assert_eq!(instant(&get), "\"allowlist\"");
    let token_value = answer(&discord.dispatch_interaction(
        &in_dm,
        "config",
        &[("action", "get"), ("path", "channels.discord.token")],
    ));
    assert_eq!(instant(&token_value), "\"[redacted]\"");

    // A caller the DM allowlist refuses: told so, ephemerally.
    let bob = Author::user("333333333333333333", "bob");
    let refused = answer(&discord.dispatch_interaction(
        &SlashCaller {
            user: &bob,
            channel_id: "1302291126681731999",
            guild_id: None,
        },
        "ask",
        &[("text", "let me in")],
    ));
    assert_eq!(
        instant(&refused),
        "You are not authorized to use this command."
    );

    assert!(
        discord.posted_messages().is_empty(),
        "nothing went to channels"
    );
    assert_no_secrets(&krill, &[&token]);
}

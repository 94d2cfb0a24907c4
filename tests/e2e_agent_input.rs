//! Scenario: a `command` agent behind the gateway, on Discord and KOOK at
//! once, gets the documented JSON object (README, "Agents":
//! `text` with the bot's mention removed, `chatId`; routing: DMs in
//! `agent:main:main` on every platform, channels isolated per platform and
//! channel), and its stdout is the reply, sent where the message came from.
//!
//! `tests/agents/record.py` keeps each request and replies
//! `session=<sessionKey> text=<text> history=<n>`.

#[path = "support/krill.rs"]
mod krill;

use std::path::Path;

use krill::{tests_path, Krill, WAIT};
use krill_testkit::discord::{
    message_create_dm, message_create_guild, Author, CHANNEL_ID, DM_CHANNEL_ID, GUILD_ID,
};
use krill_testkit::{FakeDiscord, FakeDiscordOptions, FakeKook, FakeKookOptions};
use serde_json::{json, Value};

const KOOK_USER: &str = "2418200000";
const KOOK_CHANNEL: &str = "5555";
const KOOK_GUILD: &str = "6666";

fn config(discord: &FakeDiscord, kook: &FakeKook, dump: &Path) -> String {
    let command = json!([tests_path("agents/record.py"), dump]);
    format!(
        r#"{{
  channels: {{
    discord: {{
      token: "{dtoken}",
      apiBaseUrl: "{dbase}",
      dm: {{ policy: "open", allowFrom: ["*"] }},
      groupPolicy: "open",
    }},
    kook: {{
      token: "{ktoken}",
      apiBaseUrl: "{kbase}",
      allowedUserId: "{KOOK_USER}",
    }},
  }},
  agents: {{ defaults: {{ backend: {{ type: "command", command: {command}, timeoutMs: 20000 }} }} }},
}}"#,
        dtoken = discord.options().token,
        dbase = discord.api_base_url(),
        ktoken = kook.options().token,
        kbase = kook.api_base_url(),
    )
}

/// The `n`th request the agent got (1-based).
fn request(dump: &Path, n: usize) -> Value {
    let path = dump.join(format!("request-{n}.json"));
    let raw = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&raw).expect("the agent got JSON")
}

#[test]
fn the_command_agent_gets_the_documented_object_from_discord_and_kook() {
    let discord = FakeDiscord::start(FakeDiscordOptions::default());
    let kook = FakeKook::start(FakeKookOptions::default());
    let work = tempfile::tempdir().expect("temp dir");
    let dump = work.path().join("dump");
    let krill = Krill::start(&config(&discord, &kook, &dump), &["gateway"]);
    discord.wait_for_ready_client(WAIT).expect("Discord ready");
    kook.wait_for_ready_client(WAIT).expect("KOOK ready");
    let bot = discord.options().bot_user_id.clone();

    // 1. A Discord guild mention.
    let alice = Author::user("111111111111111111", "alice");
    let guild_msg = message_create_guild(
        CHANNEL_ID,
        GUILD_ID,
        &alice,
        &format!("{}   what now?  ", discord.bot_mention()),
        &[&bot],
    );
    let guild_msg_id = guild_msg["id"].as_str().unwrap().to_owned();
    discord.dispatch("MESSAGE_CREATE", guild_msg);
    let posts = discord.wait_for_posts(1, WAIT).expect("a channel reply");
    let channel_session = format!("agent:main:discord:channel:{CHANNEL_ID}");
    assert_eq!(posts[0].channel_id, CHANNEL_ID);
    assert_eq!(
        posts[0].content,
        format!("session={channel_session} text=what now? history=0")
    );
    let req = request(&dump, 1);
    assert_eq!(req["agentId"], "main");
    assert_eq!(req["channel"], "discord");
    assert_eq!(req["accountId"], "default");
    assert_eq!(req["chatType"], "channel");
    assert_eq!(req["chatId"], CHANNEL_ID);
    assert_eq!(
        req["sender"],
        json!({"id": "111111111111111111", "name": "alice"})
    );
    assert_eq!(req["messageId"], guild_msg_id.as_str());
    assert_eq!(req["text"], "what now?", "mention removed, trimmed");
    assert_eq!(req["sessionKey"], channel_session.as_str());
    assert_eq!(req["history"], json!([]));
    assert_eq!(
        req["prompt"],
        format!("[from: alice (111111111111111111)] what now?\n[message_id: {guild_msg_id}]\n[discord message id: {guild_msg_id} channel: {CHANNEL_ID}]")
    );

    // 2. A Discord DM.
    let dm = message_create_dm(DM_CHANNEL_ID, &alice, "hello from a DM");
    let dm_id = dm["id"].as_str().unwrap().to_owned();
    discord.dispatch("MESSAGE_CREATE", dm);
    let posts = discord.wait_for_posts(2, WAIT).expect("a DM reply");
    assert_eq!(posts[1].channel_id, DM_CHANNEL_ID);
    assert_eq!(
        posts[1].content,
        "session=agent:main:main text=hello from a DM history=0"
    );
    let req = request(&dump, 2);
    assert_eq!(req["chatType"], "direct");
    assert_eq!(req["chatId"], DM_CHANNEL_ID, "the DM channel's id");
    assert_eq!(req["sessionKey"], "agent:main:main");
    assert_eq!(req["messageId"], dm_id.as_str());
    assert_eq!(req["text"], "hello from a DM");
    assert_eq!(
        req["prompt"],
        format!("hello from a DM\n[message_id: {dm_id}]\n[discord message id: {dm_id} channel: {DM_CHANNEL_ID}]")
    );

    // 3. A KOOK private message: the same main session (its history holds
    //    the Discord DM's turn), chatId = the sender's user id.
    let person = kook.person_text(KOOK_USER, "hi from KOOK");
    let person_id = person["msg_id"].as_str().unwrap().to_owned();
    kook.event(person);
    let kposts = kook.wait_for_posts(1, WAIT).expect("a KOOK DM reply");
    assert!(kposts[0].direct);
    assert_eq!(kposts[0].target_id, KOOK_USER);
    assert_eq!(
        kposts[0].content,
        "session=agent:main:main text=hi from KOOK history=2"
    );
    let req = request(&dump, 3);
    assert_eq!(req["channel"], "kook");
    assert_eq!(req["chatType"], "direct");
    assert_eq!(req["chatId"], KOOK_USER);
    assert_eq!(req["sender"]["id"], KOOK_USER);
    assert_eq!(req["messageId"], person_id.as_str());
    assert_eq!(req["sessionKey"], "agent:main:main");
    assert_eq!(req["text"], "hi from KOOK");
    assert_eq!(req["history"][0]["role"], "user");
    assert_eq!(req["history"][1]["role"], "assistant");

    // 4. A KOOK channel mention: isolated per channel, mention removed.
    let group = kook.group_kmarkdown(
        KOOK_CHANNEL,
        KOOK_GUILD,
        KOOK_USER,
        &format!("{} ping", kook.bot_mention()),
        &[&kook.options().bot_user_id],
    );
    let group_id = group["msg_id"].as_str().unwrap().to_owned();
    kook.event(group);
    let kposts = kook.wait_for_posts(2, WAIT).expect("a KOOK channel reply");
    let kook_session = format!("agent:main:kook:channel:{KOOK_CHANNEL}");
    assert!(!kposts[1].direct);
    assert_eq!(kposts[1].target_id, KOOK_CHANNEL);
    assert_eq!(
        kposts[1].content,
        format!("session={kook_session} text=ping history=0")
    );
    let req = request(&dump, 4);
    assert_eq!(req["channel"], "kook");
    assert_eq!(req["chatType"], "channel");
    assert_eq!(req["chatId"], KOOK_CHANNEL);
    assert_eq!(req["messageId"], group_id.as_str());
    assert_eq!(req["sessionKey"], kook_session.as_str());
    assert_eq!(req["text"], "ping");

    // 5. The Discord channel again: its own history, untouched by the DMs.
    discord.dispatch(
        "MESSAGE_CREATE",
        message_create_guild(
            CHANNEL_ID,
            GUILD_ID,
            &alice,
            &format!("<@!{bot}> and again"),
            &[&bot],
        ),
    );
    let posts = discord
        .wait_for_posts(3, WAIT)
        .expect("a second channel reply");
    assert_eq!(
        posts[2].content,
        format!("session={channel_session} text=and again history=2"),
        "the nickname mention form is removed too"
    );

    let log = krill.log();
    assert!(
        !log.contains(&discord.options().token),
        "no Discord token in the log"
    );
    assert!(
        !log.contains(&kook.options().token),
        "no KOOK token in the log"
    );
}

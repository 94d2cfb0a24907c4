//! Scenario: `krill gateway` on a fake Discord starts up to READY: it fetches
//! `GET /gateway/bot` with its token, upgrades with krill's `User-Agent` on
//! `?v=10&encoding=json`, identifies with the token and intents 46593, and
//! then answers a DM. The token never reaches the log.

#[path = "support/krill.rs"]
mod krill;
#[path = "support/scenario.rs"]
mod scenario;

use krill::WAIT;
use krill_testkit::{FakeDiscord, FakeDiscordOptions};
use scenario::{assert_no_secrets, discord_answered_once, start_discord};

#[test]
fn startup_identifies_with_intents_and_token_then_answers() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let krill = start_discord(&fake, "");
    let token = fake.options().token.clone();

    let fetch = fake
        .wait_for_requests("GET /gateway/bot", 1, WAIT)
        .expect("GET /gateway/bot");
    assert_eq!(
        fetch[0].header("authorization"),
        Some(format!("Bot {token}").as_str())
    );

    let identify = fake.wait_for_identify(WAIT).expect("an Identify");
    assert_eq!(identify["token"], token.as_str());
    assert_eq!(identify["intents"], 46593);
    assert_eq!(identify["shard"], serde_json::json!([0, 1]));
    assert_eq!(fake.identify_count(), 1);
    assert_eq!(fake.resume_count(), 0);

    let connections = fake.connections();
    assert_eq!(connections.len(), 1);
    let upgrade = &connections[0];
    assert_eq!(upgrade.query_param("v"), Some("10"));
    assert_eq!(upgrade.query_param("encoding"), Some("json"));
    assert_eq!(upgrade.query_param("compress"), None);
    let agent = upgrade.header("user-agent").expect("a User-Agent");
    assert!(
        agent.starts_with("DiscordBot (") && agent.contains("krill"),
        "User-Agent {agent:?}"
    );

    krill
        .wait_for_log("ready as krill", WAIT)
        .expect("READY is logged");
    discord_answered_once(&fake, &[], "hello after READY");
    assert_no_secrets(&krill, &[&token]);
}

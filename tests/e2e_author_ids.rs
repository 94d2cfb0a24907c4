//! Scenario: users find their ids in the gateway log (the KOOK channel doc: "send
//! a message to the bot and check the gateway logs for `authorId`"):
//! - KOOK with no `allowedUserId`: every inbound message, DM or channel,
//!   logs `authorId=<id>` and `channelId=<id>` at info (and is answered);
//! - Discord: a DM from a sender not allowed yet (pairing or allowlist)
//!   logs the same at info; an allowed sender's DM does not.

#[path = "support/krill.rs"]
mod krill;
#[path = "support/scenario.rs"]
mod scenario;

use krill::{Krill, WAIT};
use krill_testkit::discord::{message_create_dm, Author, DM_CHANNEL_ID};
use krill_testkit::{FakeDiscord, FakeDiscordOptions, FakeKook, FakeKookOptions};
use scenario::config;

/// The INFO lines of `log` naming `author` and `channel`.
fn info_lines<'a>(log: &'a str, author: &str, channel: &str) -> Vec<&'a str> {
    log.lines()
        .filter(|l| {
            l.contains(" INFO ")
                && l.contains(&format!("authorId={author}"))
                && l.contains(&format!("channelId={channel}"))
        })
        .collect()
}

#[test]
fn kook_without_allowed_user_id_logs_every_author_at_info() {
    let fake = FakeKook::start(FakeKookOptions::default());
    let section = format!(
        r#"kook: {{ token: "{}", apiBaseUrl: "{}" }},"#,
        fake.options().token,
        fake.api_base_url()
    );
    let krill = Krill::start(&config(&[section]), &["gateway"]);
    fake.wait_for_ready_client(WAIT).expect("krill connects");

    fake.event(fake.person_text("3301700000", "who am I?"));
    let mention = format!("(met){}(met) and here?", fake.options().bot_user_id);
    fake.event(fake.group_kmarkdown(
        "48818200000000000",
        "6016389914000000",
        "3301700000",
        &mention,
        &[&fake.options().bot_user_id],
    ));
    fake.wait_for_posts(2, WAIT)
        .expect("both are answered: anyone may talk");

    krill
        .wait_for_log("channelId=48818200000000000", WAIT)
        .expect("the channel message is logged");
    let log = krill.log();
    // A KOOK DM's chat is its sender.
    assert_eq!(
        info_lines(&log, "3301700000", "3301700000").len(),
        1,
        "{log}"
    );
    assert_eq!(
        info_lines(&log, "3301700000", "48818200000000000").len(),
        1,
        "{log}"
    );
    assert!(log.contains("allowedUserId is not set"), "{log}");
}

#[test]
fn kook_with_allowed_user_id_keeps_allowed_authors_out_of_the_info_log() {
    let fake = FakeKook::start(FakeKookOptions::default());
    let section = format!(
        r#"kook: {{ token: "{}", apiBaseUrl: "{}", allowedUserId: "2418200000" }},"#,
        fake.options().token,
        fake.api_base_url()
    );
    let krill = Krill::start(&config(&[section]), &["gateway"]);
    fake.wait_for_ready_client(WAIT).expect("krill connects");
    fake.event(fake.person_text("2418200000", "it is me"));
    fake.event(fake.person_text("3301700000", "let me in"));
    fake.wait_for_posts(1, WAIT).expect("the owner is answered");
    krill
        .wait_for_log("authorId=3301700000", WAIT)
        .expect("the stranger is logged");
    let log = krill.log();
    assert_eq!(
        info_lines(&log, "3301700000", "3301700000").len(),
        1,
        "{log}"
    );
    assert!(
        info_lines(&log, "2418200000", "2418200000").is_empty(),
        "{log}"
    );
}

#[test]
fn discord_dms_from_senders_not_allowed_yet_log_their_ids_at_info() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let section = format!(
        r#"discord: {{ token: "{}", apiBaseUrl: "{}", dm: {{ policy: "pairing", allowFrom: ["222222222222222222"] }} }},"#,
        fake.options().token,
        fake.api_base_url()
    );
    let krill = Krill::start(&config(&[section]), &["gateway"]);
    fake.wait_for_ready_client(WAIT).expect("READY");

    let friend = Author::user("222222222222222222", "friend");
    let stranger = Author::user("333333333333333333", "stranger");
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_dm(DM_CHANNEL_ID, &friend, "hi, it is me"),
    );
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_dm(DM_CHANNEL_ID, &stranger, "hello?"),
    );
    fake.wait_for_posts(2, WAIT)
        .expect("an answer and a pairing code");
    krill
        .wait_for_log("authorId=333333333333333333", WAIT)
        .expect("the stranger is logged");
    let log = krill.log();
    assert_eq!(
        info_lines(&log, "333333333333333333", DM_CHANNEL_ID).len(),
        1,
        "{log}"
    );
    assert!(
        info_lines(&log, "222222222222222222", DM_CHANNEL_ID).is_empty(),
        "an allowed sender is not announced: {log}"
    );
}

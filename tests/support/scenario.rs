//! What the gateway scenarios share on top of `support/krill.rs`: config
//! files pointing the channels at the fakes (`apiBaseUrl`), message helpers,
//! and the checks every scenario ends with (each reply exactly once; the bot
//! token never in the log). Included with
//! `#[path = "support/scenario.rs"] mod scenario;` next to `mod krill;`.
#![allow(dead_code)]

use std::collections::BTreeMap;

use krill_testkit::discord::{message_create_dm, Author, DM_CHANNEL_ID};
use krill_testkit::{FakeDiscord, FakeKook};

use crate::krill::{Krill, WAIT};

/// The KOOK user every scenario talks as (the only one allowed).
pub const KOOK_USER: &str = "2418200000";

/// The Discord user every scenario talks as.
pub fn alice() -> Author {
    Author::user("111111111111111111", "alice")
}

/// `channels.discord` for `fake`, open DMs and guilds, plus `extra` keys.
pub fn discord_section(fake: &FakeDiscord, token: &str, extra: &str) -> String {
    format!(
        r#"discord: {{
      token: "{token}",
      apiBaseUrl: "{base}",
      dm: {{ policy: "open", allowFrom: ["*"] }},
      groupPolicy: "open",
      {extra}
    }},"#,
        base = fake.api_base_url()
    )
}

/// `channels.kook` for `fake`, answering [`KOOK_USER`], plus `extra` keys.
pub fn kook_section(fake: &FakeKook, extra: &str) -> String {
    format!(
        r#"kook: {{
      token: "{token}",
      apiBaseUrl: "{base}",
      allowedUserId: "{KOOK_USER}",
      {extra}
    }},"#,
        token = fake.options().token,
        base = fake.api_base_url()
    )
}

/// A config with these channel sections.
pub fn config(sections: &[String]) -> String {
    format!(
        "{{\n  channels: {{\n    {}\n  }},\n}}\n",
        sections.join("\n    ")
    )
}

/// A config with only a Discord channel on `fake`.
pub fn discord_config(fake: &FakeDiscord, extra: &str) -> String {
    config(&[discord_section(fake, &fake.options().token, extra)])
}

/// A config with only a KOOK channel on `fake`.
pub fn kook_config(fake: &FakeKook, extra: &str) -> String {
    config(&[kook_section(fake, extra)])
}

/// Dispatches a DM from [`alice`] (the echo agent answers with `text`).
/// DMs share one agent session, so their replies are posted in order.
pub fn discord_dm(fake: &FakeDiscord, text: &str) {
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_dm(DM_CHANNEL_ID, &alice(), text),
    );
}

/// Sends a DM from [`KOOK_USER`] (the echo agent answers with `text`).
pub fn kook_dm(fake: &FakeKook, text: &str) -> Option<u64> {
    fake.event(fake.person_text(KOOK_USER, text))
}

/// Starts krill's gateway on a Discord fake and waits for READY.
pub fn start_discord(fake: &FakeDiscord, extra: &str) -> Krill {
    let krill = Krill::start(&discord_config(fake, extra), &["gateway"]);
    if let Err(timeout) = fake.wait_for_ready_client(WAIT) {
        panic!("krill never got READY: {timeout}\nlog:\n{}", krill.log());
    }
    krill
}

/// Starts krill's gateway on a KOOK fake and waits for HELLO.
pub fn start_kook(fake: &FakeKook, extra: &str) -> Krill {
    let krill = Krill::start(&kook_config(fake, extra), &["gateway"]);
    if let Err(timeout) = fake.wait_for_ready_client(WAIT) {
        panic!("krill never got HELLO: {timeout}\nlog:\n{}", krill.log());
    }
    krill
}

/// Discord: sends `sentinel` as a DM and asserts every posted reply is
/// exactly `expected` then the sentinel, each once.
pub fn discord_answered_once(fake: &FakeDiscord, expected: &[&str], sentinel: &str) {
    discord_dm(fake, sentinel);
    fake.wait_for_posts(expected.len() + 1, WAIT)
        .unwrap_or_else(|e| panic!("replies missing: {e}"));
    wait_until_posted(|| contents_discord(fake), sentinel);
    check_once(&contents_discord(fake), expected, sentinel);
    assert!(
        fake.duplicate_post_attempts().is_empty(),
        "no post was retried after it went through: {:?}",
        fake.duplicate_post_attempts()
    );
}

/// KOOK: sends `sentinel` as a DM and asserts every posted reply is exactly
/// `expected` then the sentinel, each once.
pub fn kook_answered_once(fake: &FakeKook, expected: &[&str], sentinel: &str) {
    kook_dm(fake, sentinel);
    fake.wait_for_posts(expected.len() + 1, WAIT)
        .unwrap_or_else(|e| panic!("replies missing: {e}"));
    wait_until_posted(|| contents_kook(fake), sentinel);
    check_once(&contents_kook(fake), expected, sentinel);
}

/// The contents Discord got posted, in order.
pub fn contents_discord(fake: &FakeDiscord) -> Vec<String> {
    fake.posted_messages()
        .into_iter()
        .map(|p| p.content)
        .collect()
}

/// The contents KOOK got posted, in order.
pub fn contents_kook(fake: &FakeKook) -> Vec<String> {
    fake.posted_messages()
        .into_iter()
        .map(|p| p.content)
        .collect()
}

fn wait_until_posted(posted: impl Fn() -> Vec<String>, text: &str) {
    let deadline = std::time::Instant::now() + WAIT;
    while std::time::Instant::now() < deadline {
        if posted().iter().any(|p| p == text) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("{text:?} was never answered; posted: {:?}", posted());
}

/// Every `expected` text and the sentinel posted exactly once, the sentinel
/// last (DM replies share one agent session and one REST queue, so a
/// duplicate of an earlier message would have been posted before it), and
/// nothing else.
fn check_once(posted: &[String], expected: &[&str], sentinel: &str) {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for p in posted {
        *counts.entry(p.as_str()).or_default() += 1;
    }
    for e in expected.iter().chain([&sentinel]) {
        assert_eq!(
            counts.get(e).copied().unwrap_or(0),
            1,
            "{e:?} must be answered exactly once; posted: {posted:?}"
        );
    }
    assert_eq!(
        posted.last().map(String::as_str),
        Some(sentinel),
        "the sentinel's reply comes last: {posted:?}"
    );
    assert_eq!(
        posted.len(),
        expected.len() + 1,
        "nothing but the expected replies was posted: {posted:?}"
    );
}

/// The bot token (and any other secret in `secrets`) never reached the log.
pub fn assert_no_secrets(krill: &Krill, secrets: &[&str]) {
    let log = krill.log();
    for secret in secrets {
        assert!(
            !secret.is_empty() && !log.contains(secret),
            "a secret ({} chars) leaked into the log:\n{log}",
            secret.len()
        );
    }
}

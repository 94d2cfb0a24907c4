//! Scenario: `krill channels status` counts outages, not connect attempts.
//! Two outages, the first of which takes two connections to recover (its
//! Resume is refused with op 9, so the shard identifies afresh on a new
//! connection), show as "2 reconnect(s)" although the fake saw 4 connections.

#[path = "support/krill.rs"]
mod krill;
#[path = "support/scenario.rs"]
mod scenario;

use std::time::{Duration, Instant};

use krill::WAIT;
use krill_testkit::{FakeDiscord, FakeDiscordOptions};
use scenario::start_discord;

#[test]
fn two_outages_are_two_reconnects_however_many_connections_they_took() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let krill = start_discord(&fake, "");

    // Outage 1: closed; the Resume is refused; a fresh Identify recovers.
    fake.reject_resume_next(1);
    assert!(fake.close(4000, "outage one"));
    fake.wait_for_identify_count(2, WAIT)
        .expect("a fresh Identify after the refused Resume");
    fake.wait_for_ready_client(WAIT).expect("READY again");

    // Outage 2: closed; resumed on the next connection.
    assert!(fake.close(4000, "outage two"));
    fake.wait_for_resumed(1, WAIT).expect("RESUMED");
    assert_eq!(fake.connection_count(), 4, "4 connections in all");

    // status.json is rewritten every 5 s.
    let deadline = Instant::now() + WAIT;
    let out = loop {
        let (_, out) = krill.run_cli(&["channels", "status"]);
        if (out.contains("ready") && out.contains("2 reconnect(s)")) || Instant::now() > deadline {
            break out;
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    assert!(out.contains("2 reconnect(s)"), "{out}");
}

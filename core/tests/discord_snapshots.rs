//! Whole scripted sessions as insta snapshots: what the shard sent and
//! decided, with times relative to the start, readable like the protocol
//! docs. `->` is the shard (driver) acting, `<-` the fake Discord, `**` an
//! event for the application.

mod discord_sim;

use std::time::Duration;

use discord_sim::{config, Sim, INTERVAL_MS};

fn interval() -> Duration {
    Duration::from_millis(INTERVAL_MS)
}

#[test]
fn hello_identify_ready_heartbeats_zombie_resume_resumed() {
    let mut sim = Sim::default_shard();
    sim.note("== start");
    sim.start();
    sim.message(1350037462692528128, "hello krill");
    sim.advance(interval() * 2);
    sim.note("== Discord stops acknowledging heartbeats");
    sim.peer.ack_heartbeats = false;
    sim.advance(interval() * 2);
    sim.note("== Discord is back");
    sim.peer.ack_heartbeats = true;
    sim.advance(Duration::from_secs(5));
    insta::assert_snapshot!(sim.snapshot());
}

#[test]
fn invalid_session_false_identifies_afresh() {
    let mut sim = Sim::default_shard();
    sim.start();
    sim.advance(Duration::from_secs(30));
    sim.server_text(r#"{"op":9,"d":false}"#);
    sim.advance(Duration::from_secs(10));
    insta::assert_snapshot!(sim.snapshot());
}

#[test]
fn fatal_4014_disallowed_intents() {
    let mut sim = Sim::default_shard();
    sim.peer.answer_identify = false;
    sim.start();
    sim.server_close(Some((4014, "Disallowed intent(s).")));
    sim.advance(Duration::from_secs(600));
    insta::assert_snapshot!(sim.snapshot());
}

#[test]
fn reconnect_request_with_missed_events_replayed() {
    let mut sim = Sim::default_shard();
    sim.start();
    sim.advance(Duration::from_secs(40));
    sim.server_text(r#"{"op":7,"d":null}"#);
    sim.advance(Duration::from_secs(1));
    sim.note("== the connection drops; two messages arrive meanwhile");
    sim.server_close(None);
    sim.message(1, "missed one");
    sim.message(2, "missed two");
    sim.advance(Duration::from_secs(3));
    insta::assert_snapshot!(sim.snapshot());
}

#[test]
fn resume_url_unreachable_falls_back_then_repeated_failures_identify() {
    let mut sim = Sim::default_shard();
    sim.start();
    sim.peer.fail_prefix = Some(discord_sim::RESUME_URL.to_owned());
    sim.peer.answer_resume = false;
    sim.server_close(Some((1006, "")));
    sim.advance(Duration::from_secs(40));
    sim.server_close(None);
    sim.advance(Duration::from_secs(40));
    sim.server_close(None);
    sim.advance(Duration::from_secs(40));
    sim.note("== three Resumes without RESUMED: the next connection identifies");
    sim.server_close(None);
    sim.advance(Duration::from_secs(30));
    insta::assert_snapshot!(sim.snapshot());
}

#[test]
fn compressed_session_with_zlib_stream() {
    let mut c = config();
    c.compress = true;
    let mut sim = Sim::new(c, 11);
    sim.peer.compress = true;
    sim.start();
    sim.message(7, "squeezed");
    sim.advance(interval());
    insta::assert_snapshot!(sim.snapshot());
}

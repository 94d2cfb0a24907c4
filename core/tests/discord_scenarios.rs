//! Scenario tests of the shard machine, one per protocol rule, against the
//! scripted fake gateway in `discord_sim`.

mod discord_sim;

use std::time::Duration;

use discord_sim::{config, Input, Sim, BOT_ID, INTERVAL_MS, MAIN_URL, RESUME_URL, TOKEN};
use krill_core::discord::{CloseCause, Event, OutgoingKind, ShardState};

#[test]
fn smoke_start_identify_ready() {
    let sim = Sim::ready();
    println!("{}", sim.snapshot());
    assert_eq!(sim.shard.session_id(), Some("session-1"));
    assert_eq!(sim.shard.bot_user_id(), Some(BOT_ID));
    let _ = (MAIN_URL, RESUME_URL, TOKEN, INTERVAL_MS, Input::Connected, CloseCause::Zombie);
    let _ = (Event::Resumed { replayed: 0 }, OutgoingKind::Heartbeat, config(), Duration::ZERO);
}

//! Scenario: with `KRILL_LOG=debug`, each HTTP call is logged with its route
//! path (`/channels/<id>/messages`), status and time; only secrets are
//! masked (the token never appears, and no path is hidden as `/******`).

#[path = "support/krill.rs"]
mod krill;
#[path = "support/scenario.rs"]
mod scenario;

use krill::{Krill, WAIT};
use krill_testkit::discord::DM_CHANNEL_ID;
use krill_testkit::{FakeDiscord, FakeDiscordOptions};
use scenario::{assert_no_secrets, discord_config, discord_dm};

#[test]
fn debug_logs_show_the_route_of_each_http_call() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let krill = Krill::start_with_env(
        &discord_config(&fake, ""),
        &["gateway"],
        &[("KRILL_LOG", "debug")],
    );
    fake.wait_for_ready_client(WAIT).expect("READY");
    discord_dm(&fake, "route please");
    fake.wait_for_posts(1, WAIT).expect("the reply");
    let route = format!("/api/v10/channels/{DM_CHANNEL_ID}/messages -> 200");
    krill
        .wait_for_log(&route, WAIT)
        .unwrap_or_else(|e| panic!("{e}\n{}", krill.log()));
    let log = krill.log();
    assert!(
        log.lines()
            .any(|l| l.contains("DEBUG")
                && l.contains(&format!("HTTP POST {}", fake.api_base_url()))),
        "{log}"
    );
    assert!(log.contains("/api/v10/gateway/bot -> 200"), "{log}");
    assert!(!log.contains("/******"), "no masked paths:\n{log}");
    assert_no_secrets(&krill, &[&fake.options().token]);
}

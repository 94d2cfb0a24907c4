//! Scenario: the KOOK token is wrong: the API answers 401 (`GET /user/me`,
//! and `GET /gateway/index` if it went out before the first 401 came
//! back). krill stops the channel without retrying anything, says the token
//! was rejected and where to fix it, exits 1, and never prints the token.

#[path = "support/krill.rs"]
mod krill;
#[path = "support/scenario.rs"]
mod scenario;

use krill::{Krill, WAIT};
use krill_testkit::{FakeKook, FakeKookOptions};
use scenario::{assert_no_secrets, kook_config};

#[test]
fn a_401_on_gateway_index_exits_1_with_token_rejected() {
    let fake = FakeKook::start(FakeKookOptions {
        token: "the-right-token".into(),
        ..FakeKookOptions::default()
    });
    // The config carries the fake's default token, which this fake refuses.
    let wrong = FakeKookOptions::default().token;
    let config = kook_config(&fake, "").replace("the-right-token", &wrong);
    let mut krill = Krill::start(&config, &["gateway"]);
    let status = krill
        .wait_exit(WAIT)
        .unwrap_or_else(|| panic!("krill keeps running:\n{}", krill.log()));
    let log = krill.log();
    assert_eq!(status.code(), Some(1), "log:\n{log}");
    let stop = log
        .lines()
        .find(|l| l.starts_with("krill gateway: kook:default stopped:"))
        .unwrap_or_else(|| panic!("no stop line; log:\n{log}"));
    // Whichever 401 came back first (`/user/me` or `/gateway/index`), the
    // stop says the token was rejected and where to set it.
    assert!(
        stop.contains("token rejected (HTTP 401): check KOOK_BOT_TOKEN / channels.kook.token"),
        "{stop}"
    );
    let requests = fake.requests();
    assert!(requests.iter().all(|r| r.status == 401), "{requests:?}");
    for path in ["/user/me", "/gateway/index"] {
        let n = requests.iter().filter(|r| r.path == path).count();
        assert!(n <= 1, "{path} is not retried after a 401: {requests:?}");
    }
    assert_eq!(fake.connection_count(), 0);
    assert_no_secrets(&krill, &[&wrong]);
}

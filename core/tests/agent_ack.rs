//! `messages.ackReactionScope`: which accepted messages get the ack
//! reaction.

use krill_core::agent::ack::{AckReactionScope, TYPING_RENEW_INTERVAL};

#[test]
fn scope_spellings_and_default() {
    let parse = |s: &str| serde_json::from_str::<AckReactionScope>(&format!("\"{s}\"")).unwrap();
    assert_eq!(parse("group-mentions"), AckReactionScope::GroupMentions);
    assert_eq!(parse("group-all"), AckReactionScope::GroupAll);
    assert_eq!(parse("direct"), AckReactionScope::Direct);
    assert_eq!(parse("all"), AckReactionScope::All);
    assert_eq!(parse("off"), AckReactionScope::Off);
    assert!(serde_json::from_str::<AckReactionScope>("\"sometimes\"").is_err());
    assert_eq!(AckReactionScope::default(), AckReactionScope::GroupMentions);
    assert!(
        TYPING_RENEW_INTERVAL.as_secs() < 10,
        "renewed before Discord's 10 s expire"
    );
}

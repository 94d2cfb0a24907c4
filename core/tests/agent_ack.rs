//! `messages.ackReactionScope`: which accepted messages get the ack
//! reaction.

use krill_core::agent::ack::{ack_applies, AckReactionScope, TYPING_RENEW_INTERVAL};
use krill_core::agent::ChatType;

#[test]
fn scopes_decide_by_chat_type_and_mention() {
    use AckReactionScope::{All, GroupAll, GroupMentions, Off};
    use ChatType::{Channel, Direct};
    let dm_scope = AckReactionScope::Direct;
    // (scope, chat type, mention required, mentioned) -> ack?
    let table = [
        (GroupMentions, Channel, true, true, true),
        (GroupMentions, Channel, true, false, false),
        (GroupMentions, Channel, false, true, false),
        (GroupMentions, Direct, false, false, false),
        (GroupAll, Channel, false, false, true),
        (GroupAll, Direct, false, false, false),
        (dm_scope, Direct, false, false, true),
        (dm_scope, Channel, true, true, false),
        (All, Direct, false, false, true),
        (All, Channel, false, false, true),
        (Off, Channel, true, true, false),
        (Off, Direct, false, false, false),
    ];
    for (scope, chat, required, mentioned, expected) in table {
        assert_eq!(
            ack_applies(scope, chat, required, mentioned),
            expected,
            "{scope:?} {chat:?} required={required} mentioned={mentioned}"
        );
    }
}

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

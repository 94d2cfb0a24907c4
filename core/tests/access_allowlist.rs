//! Allowlist entry normalisation: table of documented forms plus properties
//! (normalising is idempotent on its output, every documented decoration of
//! an id normalises to the id, and nothing panics).

use krill_core::access::{channel_entry, slug, user_entry, ChannelEntry, UserEntry};
use proptest::prelude::*;

#[test]
fn documented_user_forms() {
    let id = |s: &str| Some(UserEntry::Id(s.to_owned()));
    let name = |s: &str| Some(UserEntry::Name(s.to_owned()));
    let cases = [
        ("123456789012345678", id("123456789012345678")),
        ("<@123>", id("123")),
        ("<@!123>", id("123")),
        ("discord:123", id("123")),
        ("user:123", id("123")),
        ("Discord:User:<@!123>", id("123")),
        ("  123 ", id("123")),
        ("*", Some(UserEntry::Any)),
        ("user:*", Some(UserEntry::Any)),
        ("steipete", name("steipete")),
        ("@SteiPete", name("steipete")),
        ("name#1234", name("name#1234")),
        ("<@abc>", name("<@abc>")),
        ("", None),
        ("  ", None),
        ("user:", None),
        ("@*", Some(UserEntry::Any)),
    ];
    for (raw, want) in cases {
        assert_eq!(user_entry(raw), want, "{raw:?}");
    }
}

#[test]
fn documented_channel_forms() {
    let cases = [
        ("987", Some(ChannelEntry::Id("987".into()))),
        ("channel:987", Some(ChannelEntry::Id("987".into()))),
        ("<#987>", Some(ChannelEntry::Id("987".into()))),
        (
            "#General Chat",
            Some(ChannelEntry::Slug("general-chat".into())),
        ),
        ("clawd-dm", Some(ChannelEntry::Slug("clawd-dm".into()))),
        ("*", Some(ChannelEntry::Any)),
        ("channel:*", Some(ChannelEntry::Any)),
        ("#", None),
        ("#*", Some(ChannelEntry::Any)),
    ];
    for (raw, want) in cases {
        assert_eq!(channel_entry(raw), want, "{raw:?}");
    }
}

#[test]
fn slugs() {
    assert_eq!(slug("Friends of Clawd"), "friends-of-clawd");
    assert_eq!(slug("#help"), "help");
    assert_eq!(slug("  A   B "), "a-b");
    assert_eq!(slug("# #a"), "a");
}

/// An entry written back as a user would write it: a name with its `@`,
/// which keeps names that look like ids (`@123`) or carry a prefix
/// (`@user:x`) names.
fn render_user(e: &UserEntry) -> String {
    match e {
        UserEntry::Any => "*".to_owned(),
        UserEntry::Id(id) => id.clone(),
        UserEntry::Name(n) => format!("@{n}"),
    }
}

#[test]
fn an_at_sign_keeps_digit_and_prefixed_names_names() {
    // Found by the idempotence property: `@0` is the user named "0", and
    // written back it must stay a name, not become the id 0.
    for raw in ["@0", "@user:x", "@discord:123"] {
        let entry = user_entry(raw).expect("an entry");
        assert!(matches!(entry, UserEntry::Name(_)), "{raw}: {entry:?}");
        assert_eq!(user_entry(&render_user(&entry)), Some(entry));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn user_normalisation_is_idempotent(raw in "[#@ *<>!:a-zA-Z0-9_]{0,16}|\\PC{0,24}") {
        if let Some(e) = user_entry(&raw) {
            prop_assert_eq!(user_entry(&render_user(&e)), Some(e));
        }
    }

    #[test]
    fn decorated_ids_normalise_to_the_id(
        id in "[0-9]{1,20}",
        prefix in prop::sample::select(vec!["", "discord:", "user:", "DISCORD:", "discord:user:", "user: "]),
        form in 0..3u8,
        pad in "[ \t]{0,2}",
    ) {
        let body = match form { 0 => id.clone(), 1 => format!("<@{id}>"), _ => format!("<@!{id}>") };
        let raw = format!("{pad}{prefix}{body}{pad}");
        prop_assert_eq!(user_entry(&raw), Some(UserEntry::Id(id)));
    }

    #[test]
    fn names_are_case_insensitive(name in "[a-zA-Z_.][a-zA-Z0-9_.]{1,15}") {
        prop_assert_eq!(user_entry(&name.to_uppercase()), user_entry(&name.to_lowercase()));
    }

    #[test]
    fn channel_normalisation_is_idempotent(raw in "[#@ *<>!:a-zA-Z0-9_-]{0,16}|\\PC{0,24}") {
        if let Some(e) = channel_entry(&raw) {
            let again = match &e {
                ChannelEntry::Any => "*".to_owned(),
                ChannelEntry::Id(id) => id.clone(),
                ChannelEntry::Slug(s) => s.clone(),
            };
            prop_assert_eq!(channel_entry(&again), Some(e));
        }
    }

    #[test]
    fn slug_is_idempotent(name in "[# a-zA-Z-]{0,16}|\\PC{0,24}") {
        prop_assert_eq!(slug(&slug(&name)), slug(&name));
    }
}

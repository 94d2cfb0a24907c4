//! Reply tags and `replyToMode`: table-driven parsing cases, the plan per
//! mode, and the platform wire shapes.

use krill_core::reply::{
    discord_message_reference, extract_reply_tags, kook_quote, plan_reply, ChunkLimits, ChunkMode,
    ReplyTarget, ReplyToMode,
};
use serde_json::json;

fn current() -> Option<ReplyTarget> {
    Some(ReplyTarget::Current)
}

fn id(s: &str) -> Option<ReplyTarget> {
    Some(ReplyTarget::Message(s.to_owned()))
}

#[test]
fn parsing_table() {
    let cases: &[(&str, &str, Option<ReplyTarget>)] = &[
        ("no tags here", "no tags here", None),
        ("[[reply_to_current]] hi", "hi", current()),
        ("hi [[reply_to_current]]", "hi", current()),
        ("a [[reply_to_current]] b", "a b", current()),
        ("[[REPLY_TO_CURRENT]] hi", "hi", current()),
        ("[[ reply_to_current ]] hi", "hi", current()),
        ("[[reply_to:123]] hi", "hi", id("123")),
        ("[[ reply_to : 123 ]] hi", "hi", id("123")),
        ("[[Reply_To:abc-DEF_9]] hi", "hi", id("abc-DEF_9")),
        // the last explicit id wins; an explicit id beats current
        ("[[reply_to:1]] a [[reply_to:2]] b", "a b", id("2")),
        ("[[reply_to:1]] a [[reply_to_current]]", "a", id("1")),
        ("[[reply_to_current]] a [[reply_to:9]]", "a", id("9")),
        // a tag alone on a line disappears with its line, no blank line left
        ("[[reply_to_current]]\nhello", "hello", current()),
        ("[[reply_to_current]]\n\nhello", "hello", current()),
        ("one\n\n[[reply_to:5]]\n\ntwo", "one\n\ntwo", id("5")),
        ("one\n[[reply_to:5]]\ntwo", "one\ntwo", id("5")),
        ("hello\n[[reply_to:5]]", "hello", id("5")),
        ("  [[reply_to_current]]  \r\nhello", "hello", current()),
        // only tags → empty text
        ("[[reply_to_current]]", "", current()),
        // not tags: empty id, id with spaces, single brackets
        ("[[reply_to:]] x", "[[reply_to:]] x", None),
        ("[[reply_to: a b]] x", "[[reply_to: a b]] x", None),
        ("[reply_to_current] x", "[reply_to_current] x", None),
        // inside code: left alone and ignored
        (
            "use `[[reply_to_current]]` to reply",
            "use `[[reply_to_current]]` to reply",
            None,
        ),
        (
            "```\n[[reply_to:1]]\n```\n[[reply_to:2]] ok",
            "```\n[[reply_to:1]]\n```\nok",
            id("2"),
        ),
        (
            "~~~\n[[reply_to_current]]\n~~~",
            "~~~\n[[reply_to_current]]\n~~~",
            None,
        ),
        // indentation of untouched lines is kept
        (
            "[[reply_to_current]]\n    indented",
            "    indented",
            current(),
        ),
        // unicode around tags
        ("好的[[reply_to:42]]。", "好的。", id("42")),
    ];
    for (input, text, target) in cases {
        let got = extract_reply_tags(input);
        assert_eq!(&got.text, text, "text of {input:?}");
        assert_eq!(&got.target, target, "target of {input:?}");
    }
}

fn limits() -> ChunkLimits {
    ChunkLimits::new(40, None, ChunkMode::Length)
}

fn long_reply(tag: &str) -> String {
    format!("{tag} first sentence is here. second sentence is here. third one.")
}

#[test]
fn mode_off_strips_and_ignores() {
    let plan = plan_reply(
        &long_reply("[[reply_to_current]]"),
        Some("77"),
        &limits(),
        ReplyToMode::Off,
    );
    assert!(plan.len() >= 2);
    assert!(plan.iter().all(|c| c.reply_to.is_none()));
    assert!(plan.iter().all(|c| !c.text.contains("[[")));
}

#[test]
fn mode_first_marks_only_the_first_chunk() {
    let plan = plan_reply(
        &long_reply("[[reply_to_current]]"),
        Some("77"),
        &limits(),
        ReplyToMode::First,
    );
    assert!(plan.len() >= 2);
    assert_eq!(plan[0].reply_to.as_deref(), Some("77"));
    assert!(plan[1..].iter().all(|c| c.reply_to.is_none()));
}

#[test]
fn mode_all_marks_every_chunk() {
    let plan = plan_reply(
        &long_reply("[[reply_to:abc]]"),
        Some("77"),
        &limits(),
        ReplyToMode::All,
    );
    assert!(plan.len() >= 2);
    assert!(plan.iter().all(|c| c.reply_to.as_deref() == Some("abc")));
}

#[test]
fn modes_apply_only_when_a_tag_is_present() {
    for mode in [ReplyToMode::Off, ReplyToMode::First, ReplyToMode::All] {
        let plan = plan_reply(&long_reply(""), Some("77"), &limits(), mode);
        assert!(plan.iter().all(|c| c.reply_to.is_none()), "{mode:?}");
    }
}

#[test]
fn reply_to_current_without_a_current_id_is_dropped() {
    let plan = plan_reply("[[reply_to_current]] hi", None, &limits(), ReplyToMode::All);
    assert_eq!(plan.len(), 1);
    assert_eq!(plan[0].text, "hi");
    assert_eq!(plan[0].reply_to, None);
}

#[test]
fn tag_only_reply_sends_nothing() {
    assert!(plan_reply(
        "[[reply_to_current]]\n",
        Some("1"),
        &limits(),
        ReplyToMode::All
    )
    .is_empty());
    assert!(plan_reply("  \n\t", Some("1"), &limits(), ReplyToMode::All).is_empty());
}

#[test]
fn wire_shapes() {
    assert_eq!(
        discord_message_reference("111"),
        json!({"message_id": "111", "fail_if_not_exists": false})
    );
    assert_eq!(kook_quote("6f1e-uuid"), json!("6f1e-uuid"));
}

//! What an agent's reply becomes before it is sent
//! (`krill_core::pipeline::shape_agent_reply`): files taken out of the
//! text, the rest bounded, escaped on KOOK, tagged and chunked. Snapshots
//! show whole shaped replies; properties hold for any reply.

use krill_core::media::MediaRef;
use krill_core::pipeline::{
    answer_chunks, interaction_answer, shape_agent_reply, ReplyShape, ShapedReply, FILES_FOLLOW,
};
use krill_core::reply::{ChunkLimits, ChunkMode, MentionPolicy, MentionScope, ReplyToMode};
use proptest::prelude::*;

const TRIGGER: &str = "1100";

fn discord(limits: &ChunkLimits, mode: ReplyToMode, max_reply_chars: u32) -> ReplyShape<'_> {
    ReplyShape {
        limits,
        mode,
        max_reply_chars,
        kmarkdown: None,
    }
}

/// A shaped reply as a user would read it: each message with its quote,
/// then the files and the target they quote.
fn render(reply: &ShapedReply) -> String {
    let mut out = String::new();
    for (i, chunk) in reply.chunks.iter().enumerate() {
        let quote = chunk.reply_to.as_deref().unwrap_or("-");
        out.push_str(&format!(
            "=== message {} (reply to {quote}) ===\n{}\n",
            i + 1,
            chunk.text
        ));
    }
    for file in &reply.media {
        out.push_str(&format!("file: {file:?}\n"));
    }
    if let Some(target) = &reply.target {
        out.push_str(&format!("files quote: {target}\n"));
    }
    out
}

#[test]
fn a_reply_with_tags_and_files() {
    let limits = ChunkLimits::discord(None, None, ChunkMode::Length);
    let reply = shape_agent_reply(
        Some("[[reply_to_current]] Here is the chart:\nMEDIA: out/chart.png\nand the data\nMEDIA: https://example.com/data.csv\nMEDIA: http://example.com/x.png"),
        false,
        TRIGGER,
        &discord(&limits, ReplyToMode::First, 4000),
    );
    insta::assert_snapshot!("pipeline_reply_tags_and_files", render(&reply));
}

#[test]
fn a_failed_turn_sends_its_text_and_no_files() {
    let limits = ChunkLimits::discord(None, None, ChunkMode::Length);
    let reply = shape_agent_reply(
        Some("⚠️ The agent failed: MEDIA: out/chart.png"),
        true,
        TRIGGER,
        &discord(&limits, ReplyToMode::All, 4000),
    );
    assert!(reply.media.is_empty());
    assert_eq!(reply.target, None);
    assert_eq!(reply.chunks.len(), 1);
    assert!(reply.chunks[0].text.contains("MEDIA: out/chart.png"));
}

#[test]
fn no_reply_sends_nothing() {
    let limits = ChunkLimits::discord(None, None, ChunkMode::Length);
    let shape = discord(&limits, ReplyToMode::All, 4000);
    assert_eq!(
        shape_agent_reply(None, false, TRIGGER, &shape),
        ShapedReply::default()
    );
    assert_eq!(
        shape_agent_reply(Some("  \n "), false, TRIGGER, &shape),
        ShapedReply::default()
    );
}

#[test]
fn a_long_reply_is_cut_then_chunked() {
    let limits = ChunkLimits::discord(Some(100), None, ChunkMode::Length);
    let text = "word ".repeat(100);
    let reply = shape_agent_reply(
        Some(&text),
        false,
        TRIGGER,
        &discord(&limits, ReplyToMode::Off, 150),
    );
    insta::assert_snapshot!("pipeline_reply_cut", render(&reply));
}

#[test]
fn on_kook_mentions_that_may_not_ping_are_escaped() {
    let limits = ChunkLimits::kook(None, None, ChunkMode::Length);
    let policy = MentionPolicy::new(MentionScope::Participants, ["42"]);
    let shape = ReplyShape {
        limits: &limits,
        mode: ReplyToMode::Off,
        max_reply_chars: 4000,
        kmarkdown: Some(&policy),
    };
    let reply = shape_agent_reply(
        Some("(met)42(met) asked; (met)7(met) did not; (met)all(met)"),
        false,
        TRIGGER,
        &shape,
    );
    insta::assert_snapshot!("pipeline_reply_kook_mentions", render(&reply));
}

#[test]
fn a_command_answer_keeps_its_tags_as_written() {
    let limits = ChunkLimits::discord(None, None, ChunkMode::Length);
    let chunks = answer_chunks("Usage: [[reply_to_current]] is a reply tag.", &limits);
    assert_eq!(chunks.len(), 1);
    assert_eq!(chunks[0].reply_to, None);
}

/// A reply line: words, or a `MEDIA:` line naming a file.
fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-z ]{0,60}",
        1 => (0u32..1000).prop_map(|n| format!("MEDIA: out/f{n}.png")),
    ]
}

proptest! {
    #[test]
    fn files_leave_the_text_and_chunks_keep_the_limits(
        lines in prop::collection::vec(line(), 0..40),
        max_chars in 20usize..300,
        max_reply_chars in 1u32..3000,
        failed in any::<bool>(),
    ) {
        let text = lines.join("\n");
        let limits = ChunkLimits::discord(Some(max_chars), None, ChunkMode::Length);
        let reply = shape_agent_reply(
            Some(&text),
            failed,
            TRIGGER,
            &discord(&limits, ReplyToMode::First, max_reply_chars),
        );
        let named = lines.iter().filter(|l| l.starts_with("MEDIA:")).count();
        if failed {
            prop_assert!(reply.media.is_empty());
        } else {
            prop_assert_eq!(reply.media.len(), named);
            for (file, line) in reply.media.iter().zip(lines.iter().filter(|l| l.starts_with("MEDIA:"))) {
                prop_assert_eq!(file, &MediaRef::Local(line["MEDIA: ".len()..].to_owned()));
            }
            for chunk in &reply.chunks {
                prop_assert!(!chunk.text.contains("MEDIA:"), "{:?}", chunk.text);
            }
        }
        for chunk in &reply.chunks {
            prop_assert!(chunk.text.chars().count() <= limits.max_chars());
            prop_assert!(!chunk.text.trim().is_empty());
        }
    }
}

#[test]
fn a_slash_command_always_gets_an_answer() {
    let limits = ChunkLimits::discord(Some(20), None, ChunkMode::Length);
    let shape = discord(&limits, ReplyToMode::Off, 4000);
    let text = shape_agent_reply(Some("one two three four five six"), false, TRIGGER, &shape);
    assert_eq!(
        interaction_answer(&text, false),
        vec!["one two three four", "five six"]
    );
    let files = shape_agent_reply(Some("MEDIA: out/a.png"), false, TRIGGER, &shape);
    assert_eq!(interaction_answer(&files, false), vec![FILES_FOLLOW]);
    let stopped = shape_agent_reply(None, false, TRIGGER, &shape);
    assert_eq!(interaction_answer(&stopped, true), vec!["Stopped."]);
    assert_eq!(
        interaction_answer(&stopped, false),
        vec!["The agent did not reply."]
    );
}

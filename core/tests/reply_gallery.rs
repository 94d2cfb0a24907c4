//! A gallery of real-looking replies and how they are chunked, as insta
//! snapshots (review the `.snap` files: they read like the output users see).

use krill_core::reply::{chunk_text, plan_reply, ChunkLimits, ChunkMode, ReplyToMode};

/// Chunks with a header each: index, size in chars and lines.
fn gallery(text: &str, limits: &ChunkLimits) -> String {
    let chunks = chunk_text(text, limits);
    let mut out = format!(
        "limits: {} chars, {:?} lines, {:?}; input {} chars -> {} chunks\n",
        limits.max_chars(),
        limits.max_lines(),
        limits.mode(),
        text.chars().count(),
        chunks.len()
    );
    for (i, chunk) in chunks.iter().enumerate() {
        out.push_str(&format!(
            "=== chunk {} ({} chars, {} lines) ===\n{}\n",
            i + 1,
            chunk.chars().count(),
            chunk.split('\n').count(),
            chunk
        ));
    }
    out
}

fn code_review() -> String {
    let mut s = String::from(
        "Thanks for the PR! I went through the whole diff. Overall the direction is good, \
         but there are three places I'd like to see changed before we merge.\n\n\
         **1. The retry loop never gives up.** `send_with_retry` keeps retrying on every \
         error, including 401, which means a revoked token spins forever:\n\n```rust\n",
    );
    s.push_str(
        "pub fn send_with_retry(client: &Client, req: &Request) -> Result<Response, Error> {\n",
    );
    s.push_str("    let mut attempt = 0;\n    loop {\n");
    for i in 0..14 {
        s.push_str(&format!(
            "        // step {i}: inspect the response and decide what to do next\n"
        ));
    }
    s.push_str("        match client.execute(req) {\n            Ok(resp) => return Ok(resp),\n");
    s.push_str("            Err(e) => { attempt += 1; std::thread::sleep(backoff(attempt)); }\n");
    s.push_str("        }\n    }\n}\n```\n\n");
    s.push_str(
        "Suggestion: classify the error first and only retry what is retryable. Something like:\n\n\
         ~~~python\n",
    );
    for i in 0..25 {
        s.push_str(&format!(
            "def case_{i}(status):  return status in (429, 500, 502, 503, 504)\n"
        ));
    }
    s.push_str("~~~\n\n**2. Config parsing.** The new key is read twice; please read it once:\n\n");
    s.push_str("```toml\n[channels.discord]\ntextChunkLimit = 2000\nmaxLinesPerMessage = 17\nchunkMode = \"newline\"\n```\n\n");
    s.push_str(
        "**3. Tests.** Please add a property test for the backoff: it must never exceed the cap \
         and must be deterministic for a given seed. See [the style guide](https://example.com/style guide) \
         for what we expect. Happy to pair on it if you like!",
    );
    s
}

#[test]
fn code_review_with_three_fenced_blocks() {
    let limits = ChunkLimits::discord(None, None, ChunkMode::Length);
    insta::assert_snapshot!(gallery(&code_review(), &limits));
}

#[test]
fn code_review_at_a_small_limit_splits_inside_fences() {
    let limits = ChunkLimits::discord(Some(700), Some(40), ChunkMode::Length);
    insta::assert_snapshot!(gallery(&code_review(), &limits));
}

#[test]
fn cjk_paragraph_without_spaces() {
    let sentence = "今天我们讨论了消息分块的实现细节，包括代码块的处理和表情符号的边界问题。\
                    所有的测试都通过了！下一步要做什么呢？";
    let text = sentence.repeat(6);
    let limits = ChunkLimits::new(120, None, ChunkMode::Length);
    insta::assert_snapshot!(gallery(&text, &limits));
}

#[test]
fn single_word_of_5000_chars() {
    let word: String = ('a'..='z').cycle().take(5000).collect();
    let limits = ChunkLimits::discord(None, None, ChunkMode::Length);
    let chunks = chunk_text(&word, &limits);
    let summary: Vec<String> = chunks
        .iter()
        .map(|c| {
            let chars: Vec<char> = c.chars().collect();
            format!(
                "{} chars: {}…{}",
                chars.len(),
                chars[..10].iter().collect::<String>(),
                chars[chars.len() - 10..].iter().collect::<String>()
            )
        })
        .collect();
    assert_eq!(chunks.concat(), word, "nothing lost");
    insta::assert_snapshot!(summary.join("\n"));
}

#[test]
fn list_of_40_items_splits_by_line_count() {
    let text: String = (1..=40)
        .map(|i| format!("{i}. Item number {i}: short description\n"))
        .collect();
    let limits = ChunkLimits::discord(None, None, ChunkMode::Length);
    insta::assert_snapshot!(gallery(&text, &limits));
}

#[test]
fn emoji_sequences_at_the_boundary() {
    // Families (ZWJ), flags, skin tones: a cut at 24 chars falls inside them.
    let text = "Team: 👨‍👩‍👧‍👦👨‍👩‍👧‍👦👨‍👩‍👧‍👦 flags 🇯🇵🇫🇷🇩🇪🇧🇷 thumbs 👍🏽👍🏿👍🏻👍🏼 done";
    let text_no_spaces = "👨‍👩‍👧‍👦🇯🇵👍🏽👨‍👩‍👧‍👦🇫🇷👍🏿👨‍👩‍👧‍👦🇩🇪👍🏻";
    let limits = ChunkLimits::new(24, None, ChunkMode::Length);
    insta::assert_snapshot!(format!(
        "{}\n{}",
        gallery(text, &limits),
        gallery(
            text_no_spaces,
            &ChunkLimits::new(10, None, ChunkMode::Length)
        )
    ));
}

#[test]
fn newline_mode_sends_one_message_per_paragraph() {
    let text = "First paragraph, short.\n\nSecond paragraph\nspans two lines.\n\n\n\
                ```\ncode with a blank line\n\ninside stays together\n```\n\n\
                Last paragraph is longer than the limit so it is split by length as well, \
                at whitespace.";
    let newline = ChunkLimits::discord(Some(60), None, ChunkMode::Newline);
    let length = ChunkLimits::discord(Some(60), None, ChunkMode::Length);
    insta::assert_snapshot!(format!(
        "{}\n{}",
        gallery(text, &newline),
        gallery(text, &length)
    ));
}

#[test]
fn crlf_reply() {
    let text = "Line one\r\nLine two\r\n\r\n```sh\r\necho hi\r\necho there\r\n```\r\nbye\r\n";
    let limits = ChunkLimits::new(30, Some(4), ChunkMode::Length);
    insta::assert_snapshot!(gallery(text, &limits).replace('\r', "␍"));
}

#[test]
fn reply_tags_in_each_mode() {
    let text = "[[reply_to_current]] Here is the long answer. ".to_owned()
        + &"Lorem ipsum dolor sit amet. ".repeat(6)
        + "\n\n[[ Reply_To : 1234567890 ]]\n\nAnd the end.";
    let limits = ChunkLimits::new(100, None, ChunkMode::Length);
    let mut out = String::new();
    for mode in [ReplyToMode::Off, ReplyToMode::First, ReplyToMode::All] {
        out.push_str(&format!("--- replyToMode {mode:?}\n"));
        for chunk in plan_reply(&text, Some("555"), &limits, mode) {
            out.push_str(&format!("reply_to={:?}\n{}\n", chunk.reply_to, chunk.text));
        }
    }
    insta::assert_snapshot!(out);
}

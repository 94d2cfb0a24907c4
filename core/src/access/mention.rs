//! Whether a message mentions the bot (its mention in the text, the bot in
//! `mentions`, a reply to the bot, a configured mention pattern), and the
//! message text with the bot's own mentions taken out.

use super::*;

/// The bot's mention forms in message text on `platform`.
fn mention_forms(platform: Platform, bot_id: &str) -> Vec<String> {
    match platform {
        Platform::Kook => vec![format!("(met){bot_id}(met)")],
        _ => vec![format!("<@{bot_id}>"), format!("<@!{bot_id}>")],
    }
}

/// True when the message mentions the bot: its mention in the text, the bot
/// in `mentions`, a reply to the bot, or one of `patterns` matching the text.
pub fn mentions_bot(msg: &InboundMessage, patterns: &[Regex]) -> bool {
    let bot = msg.bot_user_id.as_str();
    (!bot.is_empty()
        && (msg.mentions.iter().any(|m| m == bot)
            || mention_forms(msg.platform, bot)
                .iter()
                .any(|f| msg.text.contains(f.as_str()))))
        || msg.reply_to_bot
        || patterns.iter().any(|p| p.is_match(&msg.text))
}

/// `text` without the bot's own mentions, trimmed.
pub fn strip_bot_mention(platform: Platform, text: &str, bot_id: &str) -> String {
    if bot_id.is_empty() {
        return text.trim().to_owned();
    }
    let mut out = text.to_owned();
    for form in mention_forms(platform, bot_id) {
        out = out.replace(&form, "");
    }
    out.trim().to_owned()
}

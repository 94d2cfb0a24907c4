//! Inbound media: the files attached to a message that passed access
//! control, what krill does with each (download, or skip and say why), the
//! name each gets under `<state>/media/inbound/`, and how the agent is told
//! (the `media` list of its input, a prompt line per file, a placeholder
//! for a message with no text).
//!
//! The driver downloads what [`plan_download`] allows, then reports each
//! file's result as a [`MediaItem`] and calls [`attach_media`].

use serde::{Deserialize, Serialize};

use super::{content_type_for, format_limit, format_size, is_image, safe_file_name};
use crate::agent::TurnInput;
use crate::kook::{Body, Message as KookMessage};

/// One file attached to an inbound message, as the platform describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMedia {
    /// Where to download it (Discord CDN, KOOK asset URL).
    pub url: String,
    /// The file name the platform gives (else the URL's last segment).
    pub filename: String,
    /// The MIME type (the platform's, else guessed from the name).
    pub content_type: String,
    /// The size in bytes, when the platform tells it.
    pub size: Option<u64>,
}

/// What to do with one [`InboundMedia`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownloadPlan {
    /// Download it into `<state>/media/inbound/<file_name>`, reading at most
    /// `max_bytes`.
    Download {
        /// The file's name in `media/inbound/` (never leaves the folder).
        file_name: String,
        /// The most bytes to read (`mediaMaxMb` × 1,048,576).
        max_bytes: u64,
    },
    /// Do not download; the agent is told why.
    Skip(SkipReason),
}

/// Why a file was not downloaded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SkipReason {
    /// Over `mediaMaxMb` (the announced size, or what arrived while reading).
    TooLarge {
        /// The limit in bytes.
        max_bytes: u64,
    },
    /// The URL is not `http(s)://`.
    BadUrl,
    /// The download failed (HTTP status, network, disk).
    Failed(String),
}

impl SkipReason {
    /// The `skipped` text the agent sees.
    pub fn describe(&self) -> String {
        match self {
            SkipReason::TooLarge { max_bytes } => {
                format!(
                    "larger than the {} limit (mediaMaxMb)",
                    format_limit(*max_bytes)
                )
            }
            SkipReason::BadUrl => "not an http(s) URL".to_owned(),
            SkipReason::Failed(why) => format!("download failed: {why}"),
        }
    }
}

/// One file as the agent sees it (`media[]` of its input).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaItem {
    /// Where the file was saved; absent when it was not downloaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Where it came from.
    pub url: String,
    /// The platform's file name.
    pub filename: String,
    /// The MIME type.
    pub content_type: String,
    /// Bytes: what was saved, else the platform's figure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Why it was not downloaded (present exactly when `path` is absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

impl MediaItem {
    /// A file saved at `path` with `size` bytes.
    pub fn saved(media: &InboundMedia, path: String, size: u64) -> Self {
        Self {
            path: Some(path),
            url: media.url.clone(),
            filename: media.filename.clone(),
            content_type: media.content_type.clone(),
            size: Some(size),
            skipped: None,
        }
    }

    /// A file not downloaded, and why.
    pub fn skipped(media: &InboundMedia, reason: &SkipReason) -> Self {
        Self {
            path: None,
            url: media.url.clone(),
            filename: media.filename.clone(),
            content_type: media.content_type.clone(),
            size: media.size,
            skipped: Some(reason.describe()),
        }
    }

    /// True for a downloaded image (what a vision backend gets as an image
    /// part).
    pub fn is_saved_image(&self) -> bool {
        self.path.is_some() && is_image(&self.content_type)
    }

    /// The prompt line: `[media: image/png photo.png 120 KB <path>]`, or
    /// `[media: … not downloaded: <why>]`.
    pub fn prompt_line(&self) -> String {
        let mut line = format!(
            "[media: {} {}",
            one_line(&self.content_type),
            one_line(&self.filename)
        );
        if let Some(size) = self.size {
            line.push(' ');
            line.push_str(&format_size(size));
        }
        match (&self.path, &self.skipped) {
            (Some(path), _) => {
                line.push(' ');
                line.push_str(&one_line(path));
            }
            (None, Some(why)) => {
                line.push_str(" not downloaded: ");
                line.push_str(&one_line(why));
            }
            (None, None) => {}
        }
        line.push(']');
        line
    }
}

/// Whether to download `media` and under which name. `message_id` and
/// `index` make the name unique; `max_bytes` is `mediaMaxMb` × 1,048,576. A
/// file whose announced size is over the limit is skipped (never fetched).
pub fn plan_download(
    platform: &str,
    message_id: &str,
    index: usize,
    media: &InboundMedia,
    max_bytes: u64,
) -> DownloadPlan {
    let lower = media.url.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return DownloadPlan::Skip(SkipReason::BadUrl);
    }
    if media.size.is_some_and(|size| size > max_bytes) {
        return DownloadPlan::Skip(SkipReason::TooLarge { max_bytes });
    }
    DownloadPlan::Download {
        file_name: inbound_file_name(platform, message_id, index, &media.filename),
        max_bytes,
    }
}

/// `<platform>-<message id>-<index>-<file name>`, every part reduced to
/// `A-Z a-z 0-9 . _ -` (see [`safe_file_name`]): no separator, no `..`, no
/// leading dot, so the name never leaves `media/inbound/`.
pub fn inbound_file_name(platform: &str, message_id: &str, index: usize, filename: &str) -> String {
    let id: String = message_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(40)
        .collect();
    let platform: String = platform
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(16)
        .collect();
    format!("{platform}-{id}-{index}-{}", safe_file_name(filename))
}

/// The text the agent gets for a message that has media but no text:
/// `<media:image>` when every file is an image, else `<media:file>`. Text
/// that is not blank is kept.
pub fn text_or_placeholder(text: &str, media: &[InboundMedia]) -> String {
    if !text.trim().is_empty() || media.is_empty() {
        return text.to_owned();
    }
    if media.iter().all(|m| is_image(&m.content_type)) {
        "<media:image>".to_owned()
    } else {
        "<media:file>".to_owned()
    }
}

/// Gives `turn` its media: the `media` list, and one prompt line per file
/// after the rendered prompt.
pub fn attach_media(turn: &mut TurnInput, items: Vec<MediaItem>) {
    if items.is_empty() {
        return;
    }
    for item in &items {
        if !turn.prompt.is_empty() {
            turn.prompt.push('\n');
        }
        turn.prompt.push_str(&item.prompt_line());
    }
    turn.media = items;
}

/// The files of a KOOK message: types 2, 3, 4 (and 8) carry one URL in
/// `content` (named by `extra.attachments` when present); KMarkdown
/// messages may carry `extra.attachments`; card messages (type 10) give
/// `image`, `file`, `video` and `audio` elements with a `src`.
pub fn kook_media(message: &KookMessage) -> Vec<InboundMedia> {
    let mut out: Vec<InboundMedia> = Vec::new();
    let mut push = |url: &str, name: Option<&str>, kind: Option<&str>, size: Option<i64>| {
        let url = url.trim();
        if url.is_empty() || out.iter().any(|m| m.url == url) {
            return;
        }
        let filename = name
            .map(str::to_owned)
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| url_file_name(url));
        let content_type = kind
            .filter(|k| k.contains('/'))
            .map(str::to_owned)
            .unwrap_or_else(|| match (kind, content_type_for(&filename)) {
                (_, guessed) if guessed != super::OCTET_STREAM => guessed.to_owned(),
                (Some("image"), _) => "image/*".to_owned(),
                (Some("video"), _) => "video/*".to_owned(),
                (Some("audio"), _) => "audio/*".to_owned(),
                _ => super::OCTET_STREAM.to_owned(),
            });
        out.push(InboundMedia {
            url: url.to_owned(),
            filename,
            content_type,
            size: size.and_then(|s| u64::try_from(s).ok()),
        });
    };
    match &message.body {
        Body::Media { url, kind } => {
            let attachment = message.attachments.iter().find(|a| a.url == *url);
            let kind_name = match kind {
                crate::kook::MediaKind::Image => "image",
                crate::kook::MediaKind::Video => "video",
                crate::kook::MediaKind::Audio => "audio",
                _ => "file",
            };
            let file_type = attachment.and_then(|a| a.file_type.as_deref());
            push(
                url,
                attachment.and_then(|a| a.name.as_deref()),
                Some(file_type.unwrap_or(kind_name)),
                attachment.and_then(|a| a.size),
            );
        }
        Body::Card(json) => {
            if let Ok(value) = serde_json::from_str::<serde_json::Value>(json) {
                let mut found = Vec::new();
                card_sources(&value, &mut found, 0);
                for (url, name, kind, size) in found {
                    push(&url, name.as_deref(), Some(&kind), size);
                }
            }
        }
        _ => {}
    }
    for a in &message.attachments {
        push(
            &a.url,
            a.name.as_deref(),
            a.file_type.as_deref().or(Some(a.kind.as_str())),
            a.size,
        );
    }
    out
}

/// The media of a Discord message's `attachments`.
pub fn discord_media(attachments: &[crate::discord::Attachment]) -> Vec<InboundMedia> {
    attachments
        .iter()
        .filter(|a| !a.url.is_empty())
        .map(|a| {
            let filename = if a.filename.trim().is_empty() {
                url_file_name(&a.url)
            } else {
                a.filename.clone()
            };
            let content_type = a
                .content_type
                .clone()
                .filter(|t| !t.trim().is_empty())
                .unwrap_or_else(|| content_type_for(&filename).to_owned());
            InboundMedia {
                url: a.url.clone(),
                filename,
                content_type,
                size: Some(a.size),
            }
        })
        .collect()
}

/// Card elements with a `src`: `(url, name, kind, size)`, depth-first,
/// bounded depth (cards nest modules → elements a few levels deep).
fn card_sources(
    value: &serde_json::Value,
    out: &mut Vec<(String, Option<String>, String, Option<i64>)>,
    depth: usize,
) {
    if depth > 16 || out.len() >= 32 {
        return;
    }
    match value {
        serde_json::Value::Array(items) => {
            for item in items {
                card_sources(item, out, depth + 1);
            }
        }
        serde_json::Value::Object(map) => {
            let kind = map.get("type").and_then(|t| t.as_str()).unwrap_or("");
            if matches!(kind, "image" | "file" | "video" | "audio") {
                if let Some(src) = map.get("src").and_then(|s| s.as_str()) {
                    let name = map
                        .get("title")
                        .or_else(|| map.get("alt"))
                        .and_then(|t| t.as_str())
                        .map(str::to_owned);
                    let size = map.get("size").and_then(serde_json::Value::as_i64);
                    out.push((src.to_owned(), name, kind.to_owned(), size));
                }
            }
            for child in map.values() {
                card_sources(child, out, depth + 1);
            }
        }
        _ => {}
    }
}

/// The last path segment of a URL (without query), else `file`.
pub fn url_file_name(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or("");
    let after_host = path.split_once("://").map_or(path, |(_, rest)| rest);
    let segment = after_host
        .split_once('/')
        .map_or("", |(_, p)| p)
        .rsplit('/')
        .next()
        .unwrap_or("");
    let decoded = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
    if decoded.trim().is_empty() {
        "file".to_owned()
    } else {
        decoded.into_owned()
    }
}

fn one_line(s: &str) -> String {
    s.replace(['\r', '\n', ']'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn media(name: &str, ct: &str, size: Option<u64>) -> InboundMedia {
        InboundMedia {
            url: format!("https://cdn.example/a/{name}"),
            filename: name.into(),
            content_type: ct.into(),
            size,
        }
    }

    #[test]
    fn oversized_files_are_skipped_before_download() {
        let m = media("big.png", "image/png", Some(9 * 1024 * 1024));
        assert_eq!(
            plan_download("discord", "1", 0, &m, 8 * 1024 * 1024),
            DownloadPlan::Skip(SkipReason::TooLarge {
                max_bytes: 8 * 1024 * 1024
            })
        );
        let small = media("../../etc/passwd", "text/plain", Some(10));
        match plan_download("discord", "12/../3", 1, &small, 100) {
            DownloadPlan::Download { file_name, .. } => {
                assert_eq!(file_name, "discord-123-1-passwd");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn prompt_lines_and_placeholders() {
        let m = media("photo.png", "image/png", Some(120 * 1024));
        let saved = MediaItem::saved(&m, "/s/media/inbound/x.png".into(), 120 * 1024);
        assert_eq!(
            saved.prompt_line(),
            "[media: image/png photo.png 120 KB /s/media/inbound/x.png]"
        );
        let skipped = MediaItem::skipped(
            &m,
            &SkipReason::TooLarge {
                max_bytes: 1024 * 1024,
            },
        );
        assert_eq!(
            skipped.prompt_line(),
            "[media: image/png photo.png 120 KB not downloaded: larger than the 1 MB limit (mediaMaxMb)]"
        );
        assert_eq!(
            text_or_placeholder("", std::slice::from_ref(&m)),
            "<media:image>"
        );
        let doc = media("a.pdf", "application/pdf", None);
        assert_eq!(text_or_placeholder(" ", &[m, doc]), "<media:file>");
        assert_eq!(text_or_placeholder("hi", &[]), "hi");
    }

    #[test]
    fn url_names() {
        assert_eq!(url_file_name("https://h/x/y/a%20b.png?ex=1"), "a b.png");
        assert_eq!(url_file_name("https://h/"), "file");
        assert_eq!(url_file_name("https://h"), "file");
    }
}

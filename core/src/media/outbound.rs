//! Sending files an agent named with `MEDIA:` lines: the size check against
//! `mediaMaxMb` and the platform's own limit, which messages carry the
//! files, and the short note the user sees for every file that cannot be
//! sent (never silence).
//!
//! **Which message carries the files.** On Discord the files ride on the
//! reply's **last** chunk (the text introduces them, as a person writes
//! "here is the chart:" and attaches it), at most
//! [`super::DISCORD_MAX_FILES_PER_MESSAGE`] per message; further files go in
//! messages of their own right after. A reply with no text sends the files
//! alone. On KOOK, which has no text-plus-file message, each file is its own
//! message (type 2 image, 4 file) after the text chunks. `replyToMode`
//! applies to these messages as to chunks: with `first` only the first
//! message of the reply quotes the original (a chunk, or the first file
//! message when there is no text); with `all` every one does.

use super::{content_type_for, format_limit, format_size, is_image, safe_file_name};
use crate::reply::{OutboundChunk, ReplyToMode};

/// A file read and checked, ready to upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundFile {
    /// The name it is uploaded under (already made safe).
    pub filename: String,
    /// Its MIME type.
    pub content_type: String,
    /// Its bytes.
    pub data: Vec<u8>,
    /// Where the driver read it from on disk (absolute), so a recorded
    /// upload can be read again after a restart; `None` when it is not on
    /// disk.
    pub source: Option<String>,
}

impl OutboundFile {
    /// A file named after `name` (reduced by [`safe_file_name`]), typed by
    /// `content_type` when given, else by its extension.
    pub fn new(name: &str, content_type: Option<&str>, data: Vec<u8>) -> Self {
        let filename = safe_file_name(name);
        let content_type = content_type
            .map(|t| t.split(';').next().unwrap_or("").trim().to_owned())
            .filter(|t| t.contains('/') && !t.contains(['\r', '\n', '"']))
            .unwrap_or_else(|| content_type_for(&filename).to_owned());
        Self {
            filename,
            content_type,
            data,
            source: None,
        }
    }

    /// The same file, recorded as read from `path`.
    pub fn with_source(mut self, path: &str) -> Self {
        self.source = Some(path.to_owned());
        self
    }

    /// True for `image/*`.
    pub fn is_image(&self) -> bool {
        is_image(&self.content_type)
    }
}

/// A file that will not be sent, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaFailure {
    /// The file's name as the user knows it (the last part of the path or
    /// URL; never the whole local path).
    pub name: String,
    /// Why.
    pub reason: FailureReason,
}

/// Why a file cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureReason {
    /// No such file (or it is not a regular file).
    NotFound,
    /// Outside `<state>/media/` and `media.localRoots`.
    NotAllowed,
    /// An `http://` or other URL krill does not fetch.
    UnsupportedUrl,
    /// A link whose host is internal (loopback, private, link-local...):
    /// see [`super::address_policy`].
    InternalAddress,
    /// Over the limit (`mediaMaxMb`, or the platform's own when lower).
    TooLarge {
        /// The file's size, when known.
        size: Option<u64>,
        /// The limit in bytes.
        limit: u64,
    },
    /// Reading the file or fetching the URL failed.
    Unreadable(String),
    /// The platform refused the upload or it failed after every retry.
    UploadFailed,
}

impl MediaFailure {
    /// A failure for `target` (a path or URL as the agent wrote it).
    pub fn new(target: &str, reason: FailureReason) -> Self {
        let trimmed = target.trim_end_matches(['/', '\\']);
        let last = trimmed
            .split(['?', '#'])
            .next()
            .unwrap_or("")
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or("");
        let name: String = last.chars().filter(|c| !c.is_control()).take(80).collect();
        Self {
            name: if name.is_empty() {
                "file".to_owned()
            } else {
                name
            },
            reason,
        }
    }

    /// One line of the note: `photo.png: larger than the 8 MB limit`.
    pub fn describe(&self) -> String {
        let why = match &self.reason {
            FailureReason::NotFound => "file not found".to_owned(),
            FailureReason::NotAllowed => "not in a folder krill may send from".to_owned(),
            FailureReason::UnsupportedUrl => "only https:// links can be sent".to_owned(),
            FailureReason::InternalAddress => {
                "links to internal addresses are not fetched".to_owned()
            }
            FailureReason::TooLarge {
                size: Some(size),
                limit,
            } => format!(
                "{} is larger than the {} limit",
                format_size(*size),
                format_limit(*limit)
            ),
            FailureReason::TooLarge { size: None, limit } => {
                format!("larger than the {} limit", format_limit(*limit))
            }
            FailureReason::Unreadable(why) => format!("could not be read ({why})"),
            FailureReason::UploadFailed => "the upload failed".to_owned(),
        };
        format!("`{}`: {why}", self.name.replace('`', "'"))
    }
}

/// Checks a file of `size` bytes against `max_bytes` (`mediaMaxMb`) and the
/// platform's `platform_limit`; the lower one wins.
pub fn check_size(size: u64, max_bytes: u64, platform_limit: u64) -> Result<(), FailureReason> {
    let limit = max_bytes.min(platform_limit);
    if size > limit {
        Err(FailureReason::TooLarge {
            size: Some(size),
            limit,
        })
    } else {
        Ok(())
    }
}

/// The note the user sees for files that could not be sent: one line per
/// file (at most 10, then a count), `None` when nothing failed.
pub fn delivery_notes(failures: &[MediaFailure]) -> Option<String> {
    const SHOWN: usize = 10;
    match failures {
        [] => None,
        [one] => Some(format!("⚠️ Could not send {}.", one.describe())),
        many => {
            let mut note = format!("⚠️ Could not send {} files:", many.len());
            for failure in many.iter().take(SHOWN) {
                note.push_str("\n- ");
                note.push_str(&failure.describe());
            }
            if many.len() > SHOWN {
                note.push_str(&format!("\n…and {} more.", many.len() - SHOWN));
            }
            Some(note)
        }
    }
}

/// One Discord message of a reply with files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiscordSend {
    /// A plain chunk.
    Text(OutboundChunk),
    /// A chunk (maybe empty text) with up to 10 files (multipart).
    Files {
        /// The text and reply target.
        chunk: OutboundChunk,
        /// The files.
        files: Vec<OutboundFile>,
    },
}

/// One KOOK message of a reply with files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KookSend {
    /// A plain chunk (KMarkdown).
    Text(OutboundChunk),
    /// A file: uploaded with `/asset/create`, then sent as a message of
    /// `message_type` (2 image, 4 file) quoting `reply_to`.
    File {
        /// The file.
        file: OutboundFile,
        /// The message to quote.
        reply_to: Option<String>,
        /// 2 for images, 4 for other files.
        message_type: u8,
    },
}

/// The messages of a reply, in sending order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendPlan<T> {
    /// The messages.
    pub sends: Vec<T>,
}

/// Whether message `index` of a reply quotes `target` under `mode`.
fn reply_for(index: usize, mode: ReplyToMode, target: Option<&String>) -> Option<String> {
    let reply = match mode {
        ReplyToMode::Off => false,
        ReplyToMode::First => index == 0,
        ReplyToMode::All => true,
    };
    if reply {
        target.cloned()
    } else {
        None
    }
}

/// The Discord messages for `chunks` and `files` (see the module docs).
/// `target` is the reply target the reply's tags chose (see
/// [`crate::reply::reply_target`]).
pub fn plan_discord_delivery(
    chunks: Vec<OutboundChunk>,
    files: Vec<OutboundFile>,
    target: Option<&String>,
    mode: ReplyToMode,
) -> SendPlan<DiscordSend> {
    let mut groups: Vec<Vec<OutboundFile>> = Vec::new();
    for file in files {
        match groups.last_mut() {
            Some(group) if group.len() < super::DISCORD_MAX_FILES_PER_MESSAGE => group.push(file),
            _ => groups.push(vec![file]),
        }
    }
    let mut groups = groups.into_iter();
    let count = chunks.len();
    let mut sends: Vec<DiscordSend> = Vec::with_capacity(count + groups.len());
    for (i, chunk) in chunks.into_iter().enumerate() {
        if i + 1 == count {
            if let Some(files) = groups.next() {
                sends.push(DiscordSend::Files { chunk, files });
                continue;
            }
        }
        sends.push(DiscordSend::Text(chunk));
    }
    for files in groups {
        let index = sends.len();
        sends.push(DiscordSend::Files {
            chunk: OutboundChunk {
                text: String::new(),
                reply_to: reply_for(index, mode, target),
            },
            files,
        });
    }
    SendPlan { sends }
}

/// The KOOK messages for `chunks` and `files` (see the module docs).
pub fn plan_kook_delivery(
    chunks: Vec<OutboundChunk>,
    files: Vec<OutboundFile>,
    target: Option<&String>,
    mode: ReplyToMode,
) -> SendPlan<KookSend> {
    let mut sends: Vec<KookSend> = chunks.into_iter().map(KookSend::Text).collect();
    for file in files {
        let index = sends.len();
        let message_type = if file.is_image() { 2 } else { 4 };
        sends.push(KookSend::File {
            file,
            reply_to: reply_for(index, mode, target),
            message_type,
        });
    }
    SendPlan { sends }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(text: &str, reply: Option<&str>) -> OutboundChunk {
        OutboundChunk {
            text: text.into(),
            reply_to: reply.map(str::to_owned),
        }
    }

    fn file(name: &str) -> OutboundFile {
        OutboundFile::new(name, None, vec![1, 2, 3])
    }

    #[test]
    fn files_ride_on_the_last_chunk_then_alone() {
        let files: Vec<OutboundFile> = (0..12).map(|i| file(&format!("f{i}.png"))).collect();
        let target = Some("9".to_owned());
        let plan = plan_discord_delivery(
            vec![chunk("a", Some("9")), chunk("b", None)],
            files,
            target.as_ref(),
            ReplyToMode::First,
        );
        assert_eq!(plan.sends.len(), 3);
        assert_eq!(plan.sends[0], DiscordSend::Text(chunk("a", Some("9"))));
        match &plan.sends[1] {
            DiscordSend::Files { chunk: c, files } => {
                assert_eq!(c.text, "b");
                assert_eq!(files.len(), 10);
            }
            other => panic!("{other:?}"),
        }
        match &plan.sends[2] {
            DiscordSend::Files { chunk: c, files } => {
                assert_eq!(c.reply_to, None);
                assert_eq!(files.len(), 2);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn files_alone_are_the_first_message() {
        let target = Some("9".to_owned());
        let plan = plan_discord_delivery(
            Vec::new(),
            vec![file("a.txt")],
            target.as_ref(),
            ReplyToMode::First,
        );
        match &plan.sends[0] {
            DiscordSend::Files { chunk: c, .. } => assert_eq!(c.reply_to.as_deref(), Some("9")),
            other => panic!("{other:?}"),
        }
        let kook = plan_kook_delivery(
            vec![chunk("hi", None)],
            vec![file("a.png"), file("b.pdf")],
            target.as_ref(),
            ReplyToMode::All,
        );
        assert!(matches!(
            &kook.sends[1],
            KookSend::File {
                message_type: 2,
                reply_to: Some(_),
                ..
            }
        ));
        assert!(matches!(
            &kook.sends[2],
            KookSend::File {
                message_type: 4,
                ..
            }
        ));
    }

    #[test]
    fn notes_name_the_file_not_the_path() {
        let refused = MediaFailure::new("/etc/passwd", FailureReason::NotAllowed);
        assert_eq!(
            delivery_notes(&[refused]).as_deref(),
            Some("⚠️ Could not send `passwd`: not in a folder krill may send from.")
        );
        assert_eq!(delivery_notes(&[]), None);
        let big = MediaFailure::new(
            "media/x.bin",
            check_size(9 * 1_048_576, 8 * 1_048_576, 10 * 1_048_576).expect_err("too big"),
        );
        assert_eq!(
            big.describe(),
            "`x.bin`: 9.0 MB is larger than the 8 MB limit"
        );
    }
}

//! How an upload is recorded in the outbox: the body of a row of kind
//! [`UPLOAD`], so a reply's files survive a restart like its text. The files
//! stay where they are on disk (a path under `<state>/media` or an allowed
//! root, read again after a restart and judged again by the path policy);
//! the row holds their paths, names and types, the text riding with them
//! (Discord) or the message type (KOOK) and, on KOOK, the asset URL once
//! `/asset/create` gave one.
//!
//! **KOOK after a restart.** KOOK does not deduplicate, and a file message
//! is sent in two steps (`/asset/create`, then a message whose content is
//! the URL). The URL is recorded before the message is sent, so a recovered
//! row without one was never posted (it is uploaded and sent without a
//! check) and a row with one is looked for in the chat like a text message
//! (by the URL) before it is sent again ([`UploadRecord::needs_check`]).

use serde::{Deserialize, Serialize};

/// The `kind` of an upload row.
pub const UPLOAD: &str = "upload";

/// One file of a recorded upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedFile {
    /// Where it is on disk (absolute, as the driver resolved it).
    pub path: String,
    /// The name it is uploaded under.
    pub name: String,
    /// Its MIME type.
    pub content_type: String,
}

/// The body of an upload row (see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadRecord {
    /// The text sent with the files (Discord; empty when none).
    #[serde(default)]
    pub text: String,
    /// The files, in order.
    pub files: Vec<RecordedFile>,
    /// KOOK: the message type (2 image, 4 file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_type: Option<u8>,
    /// KOOK: the asset URL `/asset/create` answered (the message's content).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl UploadRecord {
    /// The row body.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a row body back (`None`: not an upload record).
    pub fn from_json(json: &str) -> Option<Self> {
        serde_json::from_str(json).ok()
    }

    /// On a platform that does not deduplicate: whether a recovered upload
    /// may already show in the chat (its message could have been sent), so
    /// the chat is checked for [`UploadRecord::posted_content`] first.
    pub fn needs_check(&self) -> bool {
        self.url.is_some()
    }

    /// What the posted message's content is, once known (KOOK: the URL).
    pub fn posted_content(&self) -> Option<&str> {
        self.url.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(url: Option<&str>) -> UploadRecord {
        UploadRecord {
            text: "Here:".into(),
            files: vec![RecordedFile {
                path: "/state/media/out/chart.png".into(),
                name: "chart.png".into(),
                content_type: "image/png".into(),
            }],
            message_type: Some(2),
            url: url.map(str::to_owned),
        }
    }

    #[test]
    fn a_record_reads_back_as_written() {
        for r in [record(None), record(Some("https://img.kookapp.cn/a.png"))] {
            assert_eq!(UploadRecord::from_json(&r.to_json()), Some(r));
        }
        assert_eq!(UploadRecord::from_json("plain text"), None);
    }

    #[test]
    fn only_an_upload_whose_message_could_have_been_sent_is_checked() {
        assert!(!record(None).needs_check());
        assert_eq!(record(None).posted_content(), None);
        let sent = record(Some("https://img.kookapp.cn/a.png"));
        assert!(sent.needs_check());
        assert_eq!(sent.posted_content(), Some("https://img.kookapp.cn/a.png"));
    }
}

//! What the media scenarios share: known file bytes and their SHA-256, the
//! SHA-256 of a file on disk (`sha256sum`), and a Discord attachment object.
//! Included with `#[path = "support/media.rs"] mod media;`.
#![allow(dead_code)]

use std::path::Path;

use serde_json::{json, Value};

/// SHA-256 of [`png_bytes`] (computed once with `sha256sum`).
pub const PNG_SHA256: &str = "65c23cac92f7e4fb581cabf51990bf6da9e19bd34d143f9ecf7472816c28e399";

/// 10,248 bytes: a PNG signature, then every byte value 40 times (so any
/// text-mode mangling, truncation or re-encoding shows).
pub fn png_bytes() -> Vec<u8> {
    let mut data = b"\x89PNG\r\n\x1a\n".to_vec();
    for _ in 0..40 {
        data.extend(0..=255u8);
    }
    data
}

/// The SHA-256 of the file at `path`, as `sha256sum` prints it.
pub fn sha256_file(path: &Path) -> String {
    let out = std::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("run sha256sum");
    assert!(out.status.success(), "sha256sum {}", path.display());
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// A Discord attachment object (`message.mdx`, Attachment Object).
pub fn discord_attachment(
    id: &str,
    url: &str,
    filename: &str,
    size: u64,
    content_type: &str,
) -> Value {
    json!({
        "id": id,
        "filename": filename,
        "size": size,
        "url": url,
        "proxy_url": url,
        "content_type": content_type,
        "width": 64,
        "height": 40
    })
}

/// The files in `<state>/media/inbound/`, sorted.
pub fn inbound_files(state: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(state.join("media").join("inbound"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// A config with these channel sections and a command agent.
pub fn command_config(sections: &[String], command: &Value) -> String {
    format!(
        "{{\n  channels: {{\n    {}\n  }},\n  agents: {{ defaults: {{ backend: {{ type: \"command\", command: {command}, timeoutMs: 20000 }} }} }},\n}}\n",
        sections.join("\n    ")
    )
}

//! `multipart/form-data` bodies (RFC 7578) for the upload requests: Discord
//! `payload_json` + `files[n]`, KOOK `/asset/create`'s `file`. The boundary
//! is derived from the content (no randomness in the core) and never occurs
//! in any part.

use crate::media::OutboundFile;

/// One part of a form.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Part<'a> {
    /// A text field (`payload_json`), sent as `application/json`.
    Json {
        /// The field name.
        name: &'a str,
        /// The JSON text.
        value: &'a [u8],
    },
    /// A file field.
    File {
        /// The field name (`files[0]`, `file`).
        name: &'a str,
        /// The file.
        file: &'a OutboundFile,
    },
}

/// The body and its `Content-Type` (`multipart/form-data; boundary=…`).
pub(crate) fn encode(parts: &[Part<'_>]) -> (Vec<u8>, String) {
    let boundary = boundary_for(parts);
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(b"--");
        body.extend_from_slice(boundary.as_bytes());
        body.extend_from_slice(b"\r\n");
        match part {
            Part::Json { name, value } => {
                body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{}\"\r\nContent-Type: application/json\r\n\r\n",
                        quoted(name)
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(value);
            }
            Part::File { name, file } => {
                body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
                        quoted(name),
                        quoted(&file.filename),
                        header_value(&file.content_type)
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(&file.data);
            }
        }
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"--");
    body.extend_from_slice(boundary.as_bytes());
    body.extend_from_slice(b"--\r\n");
    (body, format!("multipart/form-data; boundary={boundary}"))
}

/// A boundary found in no part: `krill-` and a hash of the content, bumped
/// until it is absent.
fn boundary_for(parts: &[Part<'_>]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        // FNV-1a over a bounded prefix: enough to vary the boundary.
        for &b in bytes.iter().take(4096) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for part in parts {
        match part {
            Part::Json { value, .. } => feed(value),
            Part::File { file, .. } => feed(&file.data),
        }
    }
    let mut n = hash;
    loop {
        let boundary = format!("krill-{n:016x}{:08x}", parts.len());
        let needle = boundary.as_bytes();
        let clash = parts.iter().any(|part| {
            let data: &[u8] = match part {
                Part::Json { value, .. } => value,
                Part::File { file, .. } => &file.data,
            };
            data.windows(needle.len()).any(|w| w == needle)
        });
        if !clash {
            return boundary;
        }
        n = n.wrapping_add(0x9e37_79b9_7f4a_7c15);
    }
}

/// A value inside `"…"` of a Content-Disposition: quotes, backslashes and
/// line breaks replaced.
fn quoted(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '"' | '\\' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect()
}

/// A header value without line breaks.
fn header_value(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_framed_by_a_boundary_absent_from_the_data() {
        let file = OutboundFile::new("a.png", None, b"\x89PNG--krill-".to_vec());
        let (body, content_type) = encode(&[
            Part::Json {
                name: "payload_json",
                value: br#"{"content":"hi"}"#,
            },
            Part::File {
                name: "files[0]",
                file: &file,
            },
        ]);
        let boundary = content_type
            .strip_prefix("multipart/form-data; boundary=")
            .expect("multipart");
        let text = String::from_utf8_lossy(&body);
        assert!(text.starts_with(&format!("--{boundary}\r\n")));
        assert!(text.ends_with(&format!("--{boundary}--\r\n")));
        assert!(text.contains("name=\"files[0]\"; filename=\"a.png\"\r\nContent-Type: image/png"));
        assert_eq!(text.matches(boundary).count(), 3);
    }
}

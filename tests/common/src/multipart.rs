//! Reading `multipart/form-data` request bodies (RFC 7578), as Discord's
//! message create with files (`payload_json` + `files[n]`) and KOOK's
//! `/asset/create` (`file`) receive them.

/// One part of a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormPart {
    /// The field name (`payload_json`, `files[0]`, `file`).
    pub name: String,
    /// The file name, for file parts.
    pub filename: Option<String>,
    /// The part's `Content-Type`, when given.
    pub content_type: Option<String>,
    /// The part's bytes.
    pub data: Vec<u8>,
}

/// The boundary of a `multipart/form-data` `Content-Type`, else `None`.
pub fn boundary(content_type: &str) -> Option<String> {
    let (kind, params) = content_type.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// The parts of `body`; `None` when it is not a well-formed form.
pub fn parse(body: &[u8], boundary: &str) -> Option<Vec<FormPart>> {
    let delimiter = format!("--{boundary}").into_bytes();
    let mut parts = Vec::new();
    let mut rest = body.get(find(body, &delimiter)? + delimiter.len()..)?;
    loop {
        if rest.starts_with(b"--") {
            return Some(parts);
        }
        rest = rest.strip_prefix(b"\r\n")?;
        let header_end = find(rest, b"\r\n\r\n")?;
        let headers = std::str::from_utf8(&rest[..header_end]).ok()?;
        let content = &rest[header_end + 4..];
        let closing = format!("\r\n--{boundary}").into_bytes();
        let end = find(content, &closing)?;
        let mut part = FormPart {
            name: String::new(),
            filename: None,
            content_type: None,
            data: content[..end].to_vec(),
        };
        for line in headers.split("\r\n") {
            let (name, value) = line.split_once(':')?;
            if name.trim().eq_ignore_ascii_case("content-disposition") {
                part.name = param(value, "name")?;
                part.filename = param(value, "filename");
            } else if name.trim().eq_ignore_ascii_case("content-type") {
                part.content_type = Some(value.trim().to_owned());
            }
        }
        parts.push(part);
        rest = &content[end + closing.len()..];
    }
}

fn param(header: &str, key: &str) -> Option<String> {
    header.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k.trim() == key).then(|| v.trim().trim_matches('"').to_owned())
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_and_files() {
        let body = b"--b1\r\nContent-Disposition: form-data; name=\"payload_json\"\r\nContent-Type: application/json\r\n\r\n{\"a\":1}\r\n--b1\r\nContent-Disposition: form-data; name=\"files[0]\"; filename=\"x.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n\r\n--b1--\r\n";
        let parts = parse(body, "b1").expect("a form");
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "payload_json");
        assert_eq!(parts[0].data, b"{\"a\":1}");
        assert_eq!(parts[1].filename.as_deref(), Some("x.png"));
        assert_eq!(parts[1].data, b"\x89PNG\r\n");
        assert_eq!(
            boundary("multipart/form-data; boundary=b1").as_deref(),
            Some("b1")
        );
    }
}

/// A file a fake received in an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedFile {
    /// Discord: the channel; KOOK: empty (assets belong to no channel).
    pub channel_id: String,
    /// Discord: the message it was attached to; KOOK: the asset URL given.
    pub message_id: String,
    /// The form field (`files[0]`, `file`).
    pub field: String,
    /// The file name sent.
    pub filename: String,
    /// The part's `Content-Type`.
    pub content_type: Option<String>,
    /// The bytes.
    pub data: Vec<u8>,
}

/// A request body as JSON bytes plus its file parts: a multipart body
/// gives its `payload_json` part and the other parts; any other body is
/// itself, with no files. `Err` for a multipart body that does not parse
/// or has no `payload_json`.
pub(crate) fn json_and_files(
    content_type: Option<&str>,
    body: &[u8],
) -> Result<(Vec<u8>, Vec<FormPart>), &'static str> {
    let Some(boundary) = content_type.and_then(boundary) else {
        return Ok((body.to_vec(), Vec::new()));
    };
    let mut parts = parse(body, &boundary).ok_or("malformed multipart body")?;
    let json = parts
        .iter()
        .position(|p| p.name == "payload_json")
        .map(|i| parts.remove(i).data)
        .ok_or("no payload_json part")?;
    Ok((json, parts))
}

//! The frame inputs of `benches/benches/frames.rs`, built from the core's
//! test fixtures (`core/tests/fixtures/`, the same files the core's fixture
//! tests read): frames compacted the way servers send them (no whitespace),
//! the fixture Discord zlib-stream frames, and compressed frames made the
//! way each platform compresses.

use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::{Compress, Compression, FlushCompress};
use serde_json::{json, Value};

/// A fixture could not be read or is not what it should be.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FixtureError {
    /// The file could not be read.
    #[error("cannot read fixture {path}: {source}")]
    Read {
        /// Its path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not JSON.
    #[error("fixture {path} is not JSON: {source}")]
    Json {
        /// Its path.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
    /// A `.hex` file holds something else than hex digits.
    #[error("fixture {path} is not hex")]
    Hex {
        /// Its path.
        path: PathBuf,
    },
}

/// `core/tests/fixtures/` (beside this crate).
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/fixtures")
}

fn read(rel: &str) -> Result<String, FixtureError> {
    let path = fixtures_dir().join(rel);
    std::fs::read_to_string(&path).map_err(|source| FixtureError::Read { path, source })
}

fn read_json(rel: &str) -> Result<Value, FixtureError> {
    let text = read(rel)?;
    serde_json::from_str(&text).map_err(|source| FixtureError::Json {
        path: fixtures_dir().join(rel),
        source,
    })
}

fn read_hex(rel: &str) -> Result<Vec<u8>, FixtureError> {
    let text = read(rel)?;
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let hex_error = || FixtureError::Hex {
        path: fixtures_dir().join(rel),
    };
    if !digits.len().is_multiple_of(2) {
        return Err(hex_error());
    }
    digits
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|s| u8::from_str_radix(s, 16).ok())
                .ok_or_else(hex_error)
        })
        .collect()
}

/// `discord/gateway/message_create_guild.json` as one compact text frame.
pub fn discord_message_create() -> Result<String, FixtureError> {
    Ok(read_json("discord/gateway/message_create_guild.json")?.to_string())
}

/// The three fixture zlib-stream frames of one Discord connection (Hello,
/// READY, GUILD_CREATE), in order, and their inflated texts.
pub fn discord_zlib_stream_frames() -> Result<(Vec<Vec<u8>>, Vec<String>), FixtureError> {
    let names = ["seq_1_hello", "seq_2_ready", "seq_3_guild_create"];
    let mut frames = Vec::new();
    let mut texts = Vec::new();
    for name in names {
        frames.push(read_hex(&format!(
            "discord/gateway/zlib_stream_{name}.hex"
        ))?);
        texts.push(read(&format!("discord/gateway/zlib_stream_{name}.json"))?);
    }
    Ok((frames, texts))
}

/// `count` MESSAGE_CREATE dispatches (the guild fixture with its own `s`,
/// `id` and content each) compressed as Discord's `zlib-stream` does: one
/// compressor for the connection, each frame ending in a sync flush. Also
/// the total inflated length.
pub fn discord_message_create_stream(count: usize) -> Result<(Vec<Vec<u8>>, usize), FixtureError> {
    let base = read_json("discord/gateway/message_create_guild.json")?;
    let mut compressor = Compress::new(Compression::default(), true);
    let mut frames = Vec::with_capacity(count);
    let mut inflated = 0;
    for i in 0..count {
        let mut frame = base.clone();
        frame["s"] = json!(i + 2);
        frame["d"]["id"] = json!(format!("{}", 1_350_037_462_692_528_128u64 + i as u64));
        frame["d"]["content"] = json!(format!("message {i}: what's the weather like in Berlin?"));
        let text = frame.to_string();
        inflated += text.len();
        frames.push(deflate_sync(&mut compressor, text.as_bytes()));
    }
    Ok((frames, inflated))
}

/// Compresses `input` on `c` and sync-flushes (the frame ends `00 00 ff ff`).
fn deflate_sync(c: &mut Compress, input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() + 64);
    let mut rest = input;
    loop {
        if out.capacity() - out.len() < 64 {
            out.reserve(out.capacity().max(1024));
        }
        let before = c.total_in();
        // An in-memory compressor with room in its output cannot fail.
        if c.compress_vec(rest, &mut out, FlushCompress::Sync).is_err() {
            return Vec::new();
        }
        let used = usize::try_from(c.total_in() - before).unwrap_or(rest.len());
        rest = &rest[used.min(rest.len())..];
        if rest.is_empty() && out.len() < out.capacity() {
            return out;
        }
    }
}

/// `kook/gateway/event_group_kmarkdown_mention.json` as one compact text
/// frame.
pub fn kook_event() -> Result<String, FixtureError> {
    Ok(read_json("kook/gateway/event_group_kmarkdown_mention.json")?.to_string())
}

/// The fixture KOOK `compress=1` HELLO frame and its inflated text.
pub fn kook_hello_frame() -> Result<(Vec<u8>, String), FixtureError> {
    Ok((
        read_hex("kook/gateway/zlib_frame_hello_ok.hex")?,
        read("kook/gateway/zlib_frame_hello_ok.json")?,
    ))
}

/// `text` as a KOOK `compress=1` binary frame: one complete zlib stream.
pub fn kook_zlib_frame(text: &str) -> Vec<u8> {
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), Compression::default());
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(text.as_bytes());
    enc.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Decompress, FlushDecompress};

    #[test]
    fn discord_frames_are_compact_and_inflate_in_order() {
        let text = discord_message_create().expect("fixture");
        assert!(text.starts_with("{\"") && !text.contains("\n"));
        let (frames, texts) = discord_zlib_stream_frames().expect("fixtures");
        assert_eq!(frames.len(), 3);
        let mut d = Decompress::new(true);
        for (frame, expected) in frames.iter().zip(&texts) {
            let mut out = Vec::with_capacity(64 * 1024);
            d.decompress_vec(frame, &mut out, FlushDecompress::Sync)
                .expect("inflates on the shared context");
            assert_eq!(String::from_utf8(out).expect("utf-8"), *expected);
        }
    }

    #[test]
    fn generated_stream_frames_end_in_the_sync_marker() {
        let (frames, total) = discord_message_create_stream(3).expect("fixture");
        assert!(frames.iter().all(|f| f.ends_with(&[0, 0, 0xff, 0xff])));
        let mut d = Decompress::new(true);
        let mut all = Vec::with_capacity(total + 1024);
        for f in &frames {
            d.decompress_vec(f, &mut all, FlushDecompress::Sync)
                .expect("inflates");
        }
        assert_eq!(all.len(), total);
    }

    #[test]
    fn kook_frames_round_trip() {
        let text = kook_event().expect("fixture");
        let frame = kook_zlib_frame(&text);
        let mut out = String::new();
        std::io::Read::read_to_string(&mut flate2::read::ZlibDecoder::new(&frame[..]), &mut out)
            .expect("one complete stream");
        assert_eq!(out, text);
        let (hello, hello_text) = kook_hello_frame().expect("fixture");
        assert!(!hello.is_empty());
        assert!(hello_text.contains("\"code\":0"));
    }
}

//! zlib inflate for KOOK `compress=1` frames.
//!
//! With `compress=1` every server frame is a binary WebSocket frame holding
//! one complete zlib stream, inflated on its own (no shared context, unlike
//! Discord's `zlib-stream`; KOOK `websocket.md` § 消息压缩). The inflated
//! size is bounded: a frame that would inflate past the limit is an error,
//! never an allocation of whatever the peer claims.

use flate2::{Decompress, FlushDecompress, Status};

/// The default bound on one inflated frame: 16 MiB.
pub const DEFAULT_MAX_INFLATED_BYTES: usize = 16 * 1024 * 1024;

/// Why a compressed frame could not be inflated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InflateError {
    /// Not a complete, valid zlib stream (bad header, bad data, truncated).
    #[error("binary frame is not a complete zlib stream: {reason}")]
    Corrupt {
        /// What the decoder reported.
        reason: String,
    },
    /// The frame inflates to more than `limit` bytes.
    #[error("binary frame inflates past the {limit}-byte limit")]
    TooLarge {
        /// The bound that was hit.
        limit: usize,
    },
    /// The inflated bytes are not UTF-8 text.
    #[error("binary frame does not inflate to UTF-8 text")]
    NotUtf8,
}

/// Inflates one KOOK binary frame (a complete zlib stream) into its JSON
/// text, refusing to produce more than `max_inflated` bytes. A stream that
/// stops before its end marker is [`InflateError::Corrupt`]; bytes after the
/// end marker are ignored.
pub fn inflate_frame(compressed: &[u8], max_inflated: usize) -> Result<String, InflateError> {
    let mut decoder = Decompress::new(true);
    let mut inflated: Vec<u8> = Vec::new();
    loop {
        if inflated.len() > max_inflated {
            return Err(InflateError::TooLarge {
                limit: max_inflated,
            });
        }
        if inflated.len() == inflated.capacity() {
            // Grow by doubling, never past one byte over the limit.
            let room = (max_inflated - inflated.len()).saturating_add(1);
            inflated.reserve(room.min(inflated.len().max(GROWTH_STEP)));
        }
        let consumed = usize::try_from(decoder.total_in()).unwrap_or(compressed.len());
        let produced = decoder.total_out();
        let rest = compressed.get(consumed..).unwrap_or(&[]);
        let status = decoder
            .decompress_vec(rest, &mut inflated, FlushDecompress::None)
            .map_err(|e| InflateError::Corrupt {
                reason: e.to_string(),
            })?;
        if status == Status::StreamEnd {
            break;
        }
        let stalled = decoder.total_in() == consumed as u64 && decoder.total_out() == produced;
        if stalled {
            return Err(InflateError::Corrupt {
                reason: "the stream ends before its end marker".to_owned(),
            });
        }
    }
    if inflated.len() > max_inflated {
        return Err(InflateError::TooLarge {
            limit: max_inflated,
        });
    }
    String::from_utf8(inflated).map_err(|_| InflateError::NotUtf8)
}

/// The first allocation for an inflated frame, and the smallest growth step.
const GROWTH_STEP: usize = 4 * 1024;

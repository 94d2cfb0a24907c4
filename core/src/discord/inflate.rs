//! [`ZlibStream`]: the inflater for Discord's `compress=zlib-stream` transport
//! compression.
//!
//! One zlib context spans the whole connection: every binary frame is fed in
//! order into the same [`flate2::Decompress`], and a message is complete when
//! the buffered compressed bytes end with the sync-flush marker `00 00 ff ff`
//! (discord-api-docs `developers/events/gateway.mdx` § Transport Compression).
//! A new connection needs a new `ZlibStream`. The buffer of compressed bytes
//! and each inflated message are bounded ([`DEFAULT_LIMIT`]); going over, or a
//! corrupt stream, is an [`InflateError`] after which the stream is unusable
//! and the connection must be dropped.

use flate2::{Decompress, FlushDecompress, Status};

/// The sync-flush marker that ends every zlib-stream message.
pub const ZLIB_SUFFIX: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// Default bound on buffered compressed bytes and on one inflated message.
pub const DEFAULT_LIMIT: usize = 16 * 1024 * 1024;

/// Output space added per inflate call.
const CHUNK: usize = 32 * 1024;

/// Why a zlib-stream message could not be inflated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InflateError {
    /// The compressed buffer or the inflated message exceeded the limit.
    #[error("zlib-stream message larger than {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The bytes are not a valid continuation of the stream.
    #[error("corrupt zlib stream: {message}")]
    Corrupt {
        /// flate2's description.
        message: String,
    },
    /// The inflated message is not UTF-8.
    #[error("inflated message is not UTF-8")]
    NotUtf8,
}

/// A per-connection zlib-stream inflater.
#[derive(Debug)]
pub struct ZlibStream {
    inflater: Decompress,
    compressed: Vec<u8>,
    limit: usize,
}

impl Default for ZlibStream {
    fn default() -> Self {
        Self::new()
    }
}

impl ZlibStream {
    /// A fresh context (for a new connection) with [`DEFAULT_LIMIT`].
    pub fn new() -> Self {
        Self::with_limit(DEFAULT_LIMIT)
    }

    /// A fresh context bounding buffered and inflated sizes to `limit` bytes.
    pub fn with_limit(limit: usize) -> Self {
        Self {
            inflater: Decompress::new(true),
            compressed: Vec::new(),
            limit,
        }
    }

    /// Feeds one binary frame. Returns the inflated message once the buffered
    /// bytes end with [`ZLIB_SUFFIX`], `None` while a message is incomplete.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Option<String>, InflateError> {
        if self.compressed.len().saturating_add(chunk.len()) > self.limit {
            self.compressed = Vec::new();
            return Err(InflateError::TooLarge { limit: self.limit });
        }
        self.compressed.extend_from_slice(chunk);
        if !self.compressed.ends_with(&ZLIB_SUFFIX) {
            return Ok(None);
        }
        let compressed = std::mem::take(&mut self.compressed);
        let inflated = self.inflate(&compressed);
        // Keep the buffer's allocation for the next message.
        self.compressed = compressed;
        self.compressed.clear();
        let inflated = inflated?;
        String::from_utf8(inflated)
            .map(Some)
            .map_err(|_| InflateError::NotUtf8)
    }

    /// Compressed bytes buffered for an incomplete message.
    pub fn buffered(&self) -> usize {
        self.compressed.len()
    }

    fn inflate(&mut self, mut input: &[u8]) -> Result<Vec<u8>, InflateError> {
        let mut out = Vec::with_capacity(input.len().saturating_mul(4).min(self.limit));
        loop {
            out.reserve(CHUNK);
            let spare = out.capacity() - out.len();
            let (in_before, out_before) = (self.inflater.total_in(), self.inflater.total_out());
            let status = self
                .inflater
                .decompress_vec(input, &mut out, FlushDecompress::Sync)
                .map_err(|e| InflateError::Corrupt {
                    message: e.to_string(),
                })?;
            let consumed =
                usize::try_from(self.inflater.total_in() - in_before).unwrap_or(usize::MAX);
            let produced =
                usize::try_from(self.inflater.total_out() - out_before).unwrap_or(usize::MAX);
            input = input.get(consumed..).unwrap_or_default();
            if out.len() > self.limit {
                return Err(InflateError::TooLarge { limit: self.limit });
            }
            if status == Status::StreamEnd || (input.is_empty() && produced < spare) {
                return Ok(out);
            }
            if consumed == 0 && produced == 0 {
                return Err(InflateError::Corrupt {
                    message: "inflate made no progress".to_owned(),
                });
            }
        }
    }
}

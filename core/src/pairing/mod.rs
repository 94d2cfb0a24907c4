//! Pairing: how an unknown DM sender gets approved under
//! `dm.policy: "pairing"`. Pure book-keeping; the driver
//! (`krill_drivers::pairing_store`) keeps the two files and passes wall-clock
//! time in as unix milliseconds (the files outlive the process, so a
//! monotonic `Instant` would not do).
//!
//! - A sender gets an 8-character code from [`CODE_ALPHABET`] (no `0`, `O`,
//!   `1`, `I`), drawn from a seed the driver passes in, valid for one hour.
//! - While their code is pending, the same sender gets the same code
//!   ([`PairingOutcome::Pending`]); the driver replies only when a code is
//!   [`PairingOutcome::Created`], so a chatty stranger cannot make the bot
//!   spam.
//! - At most [`MAX_PENDING`] codes are pending per channel. A further
//!   stranger gets [`PairingOutcome::Full`]: no code and no reply (silence;
//!   the driver logs the sender's id at info). Codes expire after an hour,
//!   which frees the slots.
//! - The operator runs `krill pairing approve <channel> <CODE>`;
//!   [`PairingBook::approve`] removes the request and the driver adds the id
//!   to `<channel>-allowFrom.json` ([`AllowFromFile`]).

use serde::{Deserialize, Serialize};

use crate::backoff::Jitter;
use crate::config::Platform;

/// Characters of a pairing code: A–Z and 2–9 without `0`, `O`, `1`, `I`.
pub const CODE_ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
/// Length of a pairing code.
pub const CODE_LEN: usize = 8;
/// How long a code stays valid (one hour).
pub const CODE_TTL_MS: u64 = 60 * 60 * 1000;
/// Most codes pending at once per channel.
pub const MAX_PENDING: usize = 3;
/// File format version of both files.
pub const FORMAT_VERSION: u32 = 1;

/// One pending pairing request (an entry of `<channel>-pairing.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingRequest {
    /// The code the sender was given.
    pub code: String,
    /// The sender's user id.
    pub sender_id: String,
    /// The sender's name, for `krill pairing list`.
    #[serde(default)]
    pub sender_name: Option<String>,
    /// Which bot account the sender wrote to.
    #[serde(default)]
    pub account_id: String,
    /// The DM chat id (for `--notify`).
    #[serde(default)]
    pub chat_id: Option<String>,
    /// When the code was issued (unix ms).
    pub created_at_ms: u64,
    /// When it stops being valid (unix ms).
    pub expires_at_ms: u64,
}

/// Who asks to pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requester {
    /// User id.
    pub id: String,
    /// Name, if known.
    pub name: Option<String>,
    /// Bot account id.
    pub account_id: String,
    /// DM chat id, if known.
    pub chat_id: Option<String>,
}

/// What [`PairingBook::challenge`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PairingOutcome {
    /// A new code: reply with [`challenge_text`].
    Created {
        /// The code.
        code: String,
        /// Expiry (unix ms).
        expires_at_ms: u64,
    },
    /// The sender already has this code pending: no reply needed.
    Pending {
        /// The code.
        code: String,
        /// Expiry (unix ms).
        expires_at_ms: u64,
    },
    /// Too many codes pending: no code, no reply.
    Full,
}

/// Why a code could not be approved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApproveError {
    /// No pending request has this code.
    #[error("no pending pairing request has code {0}")]
    Unknown(String),
    /// The code expired (it was valid for an hour).
    #[error("pairing code {0} has expired; ask the sender to DM the bot again for a new one")]
    Expired(String),
}

/// The pending requests of one channel (`<channel>-pairing.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PairingBook {
    /// File format version.
    #[serde(default = "format_version")]
    pub version: u32,
    /// Pending requests, oldest first.
    #[serde(default)]
    pub requests: Vec<PendingRequest>,
}

fn format_version() -> u32 {
    FORMAT_VERSION
}

impl Default for PairingBook {
    fn default() -> Self {
        Self {
            version: FORMAT_VERSION,
            requests: Vec::new(),
        }
    }
}

impl PairingBook {
    /// Drops expired requests; returns how many.
    pub fn expire(&mut self, now_ms: u64) -> usize {
        let before = self.requests.len();
        self.requests.retain(|r| r.expires_at_ms > now_ms);
        before - self.requests.len()
    }

    /// The requests still valid at `now_ms`.
    pub fn pending(&self, now_ms: u64) -> impl Iterator<Item = &PendingRequest> {
        self.requests
            .iter()
            .filter(move |r| r.expires_at_ms > now_ms)
    }

    /// An unknown sender DMs the bot: issue a code, repeat theirs, or refuse
    /// when [`MAX_PENDING`] are pending. `seed` drives the code's randomness.
    pub fn challenge(&mut self, now_ms: u64, who: &Requester, seed: u64) -> PairingOutcome {
        self.expire(now_ms);
        if let Some(r) = self.requests.iter().find(|r| r.sender_id == who.id) {
            return PairingOutcome::Pending {
                code: r.code.clone(),
                expires_at_ms: r.expires_at_ms,
            };
        }
        if self.requests.len() >= MAX_PENDING {
            return PairingOutcome::Full;
        }
        let mut rng = Jitter::new(seed);
        let code = loop {
            let c = new_code(&mut rng);
            if !self.requests.iter().any(|r| r.code == c) {
                break c;
            }
        };
        let expires_at_ms = now_ms.saturating_add(CODE_TTL_MS);
        self.requests.push(PendingRequest {
            code: code.clone(),
            sender_id: who.id.clone(),
            sender_name: who.name.clone(),
            account_id: who.account_id.clone(),
            chat_id: who.chat_id.clone(),
            created_at_ms: now_ms,
            expires_at_ms,
        });
        PairingOutcome::Created {
            code,
            expires_at_ms,
        }
    }

    /// Approves a code (case and spaces/dashes ignored): removes and returns
    /// the request.
    pub fn approve(&mut self, now_ms: u64, code: &str) -> Result<PendingRequest, ApproveError> {
        let code = normalize_code(code);
        let Some(i) = self.requests.iter().position(|r| r.code == code) else {
            return Err(ApproveError::Unknown(code));
        };
        let r = self.requests.remove(i);
        if r.expires_at_ms <= now_ms {
            return Err(ApproveError::Expired(code));
        }
        Ok(r)
    }
}

/// The ids approved through pairing (`<channel>-allowFrom.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AllowFromFile {
    /// File format version.
    #[serde(default = "format_version")]
    pub version: u32,
    /// Approved user ids.
    #[serde(default)]
    pub allow_from: Vec<String>,
}

impl Default for AllowFromFile {
    fn default() -> Self {
        Self {
            version: FORMAT_VERSION,
            allow_from: Vec::new(),
        }
    }
}

impl AllowFromFile {
    /// Adds an id; false when it was already there.
    pub fn add(&mut self, id: &str) -> bool {
        if self.allow_from.iter().any(|x| x == id) {
            return false;
        }
        self.allow_from.push(id.to_owned());
        true
    }
}

/// A code as the operator typed it: trimmed, uppercase, without spaces or
/// dashes.
pub fn normalize_code(input: &str) -> String {
    input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

/// True when `code` looks like a pairing code (length and alphabet).
pub fn is_valid_code(code: &str) -> bool {
    code.len() == CODE_LEN && code.bytes().all(|b| CODE_ALPHABET.contains(&b))
}

fn new_code(rng: &mut Jitter) -> String {
    (0..CODE_LEN)
        .map(|_| {
            let i = usize::try_from(rng.next_u64() % 32).unwrap_or(0);
            char::from(CODE_ALPHABET[i])
        })
        .collect()
}

/// The reply to a new pairing request.
pub fn challenge_text(platform: Platform, code: &str) -> String {
    format!(
        "Hi! I don't know you yet, so I can't answer your messages.\n\
         Your pairing code is **{code}** (valid for 1 hour).\n\
         Ask the operator of this bot to approve it by running:\n\
         `krill pairing approve {platform} {code}`"
    )
}

/// The DM sent on `krill pairing approve --notify`.
pub fn approved_text() -> &'static str {
    "You're approved: you can talk to me here now."
}

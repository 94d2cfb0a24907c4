//! krill-testkit: fake Discord and KOOK servers (real HTTP and WebSocket
//! servers bound to 127.0.0.1, scriptable per test, bounded in time) shared by
//! the end-to-end scenarios in `tests/` and the benchmarks in `benches/`.
//!
//! | module | owns |
//! |---|---|
//! | [`discord`] | [`FakeDiscord`]: REST (`/api/v10`) + gateway (op codes, sessions, resume replay, zlib-stream) |
//! | [`kook`] | [`FakeKook`]: REST (`/api/v3`) + gateway (signals s=0..6, `sn`, resume, per-frame zlib) |
//! | [`openai`] | [`openai::FakeOpenAi`]: an OpenAI-compatible `/chat/completions` server for agent tests |
//! | [`cdn`] | [`cdn::FakeCdn`]: a file server for attachment and asset URLs |
//! | [`multipart`] | reading `multipart/form-data` upload bodies |
//! | [`http`] | what both fakes share on the HTTP side: [`RecordedRequest`], [`Route`], [`ScriptedResponse`] |
//! | `gateway_book` | what both fakes share on the gateway side: live connections, accepted ones ([`discord::GatewayConnection`]), client frames, sessions and the current one |
//!
//! Bounds (every fake obeys them):
//! - sockets bind `127.0.0.1:0` only;
//! - every `wait_for_*` takes a timeout and returns [`Timeout`] when it expires;
//! - the servers stop when their handle is dropped (the drop joins their
//!   threads within ~100 ms) and by themselves after [`HARD_LIFETIME`].
#![forbid(unsafe_code)]

pub mod cdn;
pub mod discord;
mod gateway_book;
pub mod http;
pub mod kook;
pub mod multipart;
pub mod openai;
mod server;
mod ws;

use std::fmt;
use std::time::Duration;

pub use discord::{FakeDiscord, FakeDiscordOptions};
pub use http::{RecordedRequest, Route, ScriptedResponse};
pub use kook::{FakeKook, FakeKookOptions};

/// Every fake server stops by itself after this long, whatever the test does.
pub const HARD_LIFETIME: Duration = Duration::from_secs(300);

/// A `wait_for_*` call ran out of time. `what` says what was awaited and what
/// was seen instead, for the test's failure message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeout {
    /// What the test waited for, and the state when the time ran out.
    pub what: String,
    /// How long it waited.
    pub waited: Duration,
}

impl fmt::Display for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "timed out after {:?} waiting for {}",
            self.waited, self.what
        )
    }
}

impl std::error::Error for Timeout {}

//! The KOOK gateway: typed signalling frames, typed event payloads, the
//! `sn` reorder buffer and the sans-IO [`Session`] machine that drives a
//! KOOK WebSocket connection (fetch gateway, connect, HELLO, PING/PONG,
//! resume, RECONNECT).
//!
//! | module | owns |
//! |---|---|
//! | [`session`] | [`Session`]: the connection lifecycle and its driving contract |
//! | [`frame`] | `{"s","d","sn"}` frames: [`Signal`] parsing, PING/RESUME writing |
//! | [`payload`] | typed s=0 payloads: [`Message`], [`SystemEvent`], mentions |
//! | [`reorder`] | [`ReorderBuffer`]: in-order delivery by `sn`, bounded |
//! | [`inflate`] | zlib inflate of `compress=1` binary frames, bounded |
//! | [`gateway`] | the `GET /gateway/index` request and its answer |
//!
//! The facts these follow are in `docs/protocol-kook.md` (from KOOK's
//! websocket page, <https://developer.kookapp.cn/doc/websocket>, and the
//! official reference bots); the decisions where those are loose are listed
//! in [`session`]'s docs.
//!
//! Driving it, in short (see [`session`] for the whole contract):
//! ```
//! use std::time::Instant;
//! use krill_core::kook::{Output, Session, SessionConfig};
//! use krill_core::secret::Secret;
//!
//! fn first_steps(now: Instant) {
//!     let mut session = Session::new(SessionConfig::default(), 7);
//!     session.start(now);
//!     assert_eq!(session.poll_output(), Some(Output::FetchGateway { compress: false }));
//!     let url = Secret::new("wss://kook.test/gateway?compress=0&token=t");
//!     session.handle_gateway_fetched(now, Ok(url));
//!     assert!(matches!(session.poll_output(), Some(Output::Connect { .. })));
//!     session.handle_connected(now);
//!     session.handle_text_frame(now, r#"{"s":1,"d":{"code":0,"session_id":"abc"}}"#);
//!     assert_eq!(session.session_id(), Some("abc"));
//! }
//! ```

pub mod frame;
pub mod gateway;
pub mod inflate;
mod lenient;
pub mod payload;
pub mod reorder;
pub mod session;

pub use frame::{parse_binary, parse_text, ping_frame, resume_frame, FrameError, Signal};
pub use gateway::{gateway_index_path, parse_gateway_index, GatewayFetchError};
pub use inflate::{inflate_frame, InflateError, DEFAULT_MAX_INFLATED_BYTES};
pub use payload::{
    met_mentions, strip_met_mention, Attachment, Author, Body, ChannelType, Emoji, EventBody,
    KMarkdownInfo, MediaKind, MentionPart, Mentions, Message, MessageDeletion, MessageType,
    MessageUpdate, Quote, Reaction, SystemEvent, SystemEventKind, UnknownEvent,
};
pub use reorder::{Offer, Release, ReorderBuffer, ReorderLimits};
pub use session::{
    resume_url, Event, FatalReason, HelloError, Output, Session, SessionConfig, State,
};

//! What survives a restart, decided here and stored by the drivers
//! (`<state>/krill.db`): which gateway session to resume, which turns to run
//! again, which reply messages to send again and in what order.
//!
//! - [`journal`]: the turn journal's rules: a journaled message is never run
//!   twice; accepted, unanswered turns run again once, in journal order
//!   (so in arrival order per session).
//! - [`outbox`]: the [`Outbox`] machine: the chunks of one reply go out in
//!   order, one at a time per chat; a chunk that cannot be delivered holds
//!   the ones after it until the API answers again, for at most
//!   [`DELIVERY_GIVE_UP`], after which the rest of the reply is dropped and
//!   the user gets [`CUT_REPLY_NOTE`].
//! - [`kook_check`]: before sending a recovered KOOK message again (KOOK
//!   does not deduplicate by nonce), whether the chat's recent messages
//!   already show it.
//! - [`upload`]: how an upload (a reply's files) is recorded in the outbox
//!   and when a recovered one is checked for before it is sent again.

pub mod journal;
pub mod kook_check;
pub mod outbox;
pub mod upload;

pub use journal::{recovery_order, Admission, JournaledTurn};
pub use kook_check::{find_posted, ListedMessage};
pub use outbox::{
    Failure, Outbox, OutboxEffect, OutboxItem, SendKind, CUT_REPLY_NOTE, DELIVERY_GIVE_UP,
};
pub use upload::{RecordedFile, UploadRecord, UPLOAD};

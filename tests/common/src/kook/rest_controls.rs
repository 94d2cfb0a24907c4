//! What a test scripts on [`FakeKook`]'s REST side and reads back from it:
//! queued [`ScriptedResponse`]s and late answers; the requests, the sent
//! messages ([`KookPost`]), uploaded assets, reactions ([`KookReaction`]),
//! the gateway tokens `GET /gateway/index` issued (and their expiry), and
//! the waits on them.

use std::time::Duration;

use serde_json::Value;

use super::FakeKook;
use crate::http::{RecordedRequest, Route, ScriptedResponse};
use crate::Timeout;

/// A message the bot sent (`/message/create` or `/direct-message/create`,
/// answered `code: 0`).
#[derive(Debug, Clone, PartialEq)]
pub struct KookPost {
    /// True for `/direct-message/create`.
    pub direct: bool,
    /// `target_id` (channel id, or user id for DMs); empty when absent.
    pub target_id: String,
    /// `chat_code` (DMs), if given.
    pub chat_code: Option<String>,
    /// `type` (9 KMarkdown, 1 text...); 0 when absent.
    pub msg_type: u64,
    /// `content`.
    pub content: String,
    /// `quote`, if given.
    pub quote: Option<String>,
    /// The `msg_id` the fake gave it.
    pub msg_id: String,
    /// When the fake created it (Unix ms), as `create_at` in the lists.
    pub created_ms: u64,
    /// The whole JSON body.
    pub body: Value,
    /// Request headers.
    pub headers: Vec<(String, String)>,
}

/// A reaction the bot added or removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KookReaction {
    /// True for the `/direct-message/...` routes.
    pub direct: bool,
    /// `msg_id`.
    pub msg_id: String,
    /// `emoji`.
    pub emoji: String,
    /// True for add, false for delete.
    pub added: bool,
}

impl FakeKook {
    /// The next request `route` matches is handled as usual (a message is
    /// posted, an asset stored) but answered only after `delay`: the client
    /// can die between the server acting and the answer.
    pub fn delay_http_answer(&self, route: impl Into<Route>, delay: Duration) {
        let route = route.into();
        self.core
            .shared
            .update(|s| s.rest.delayed.push_back((route, delay)));
    }

    /// Queues `response` for the next request `route` matches (path below
    /// `/api/v3`, e.g. `"POST /message/create"`), ahead of normal handling
    /// and of the token check.
    pub fn push_http_response(&self, route: impl Into<Route>, response: ScriptedResponse) {
        let route = route.into();
        self.core
            .shared
            .update(|s| s.rest.scripted.push_back((route, response)));
    }

    /// Every HTTP request so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.core.shared.lock().rest.requests.clone()
    }

    /// Files uploaded with `POST /asset/create`, in order (`message_id`
    /// holds the asset URL the fake answered).
    pub fn uploaded_assets(&self) -> Vec<crate::multipart::UploadedFile> {
        self.core.shared.lock().assets.clone()
    }

    /// Messages sent (channel and direct), in order.
    pub fn posted_messages(&self) -> Vec<KookPost> {
        self.core.shared.lock().posts.clone()
    }

    /// Waits until at least `n` messages were sent; returns all of them.
    pub fn wait_for_posts(&self, n: usize, timeout: Duration) -> Result<Vec<KookPost>, Timeout> {
        self.core.shared.wait_until(
            timeout,
            |s| {
                let c: Vec<&str> = s.posts.iter().map(|p| p.content.as_str()).collect();
                format!("{n} posted messages (got {}: {c:?})", s.posts.len())
            },
            |s| (s.posts.len() >= n).then(|| s.posts.clone()),
        )
    }

    /// Reactions added or removed, in order.
    pub fn reactions(&self) -> Vec<KookReaction> {
        self.core.shared.lock().reactions.clone()
    }

    /// How often `GET /gateway/index` was answered.
    pub fn gateway_fetch_count(&self) -> usize {
        self.core.shared.lock().gateway_tokens.len()
    }

    /// The gateway token of the last `GET /gateway/index` (to check it never
    /// shows up in a log).
    pub fn last_gateway_token(&self) -> Option<String> {
        self.core.shared.lock().last_token.clone()
    }

    /// Every gateway token issued so far now gets HELLO 40103.
    pub fn expire_gateway_tokens(&self) {
        self.core
            .shared
            .update(|s| s.gateway_tokens.values_mut().for_each(|e| *e = true));
    }
}

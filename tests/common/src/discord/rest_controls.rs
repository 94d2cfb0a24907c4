//! What a test scripts on [`FakeDiscord`]'s REST side and reads back from
//! it: queued [`ScriptedResponse`]s and late answers; the requests, the
//! posted messages ([`PostedMessage`], and the repeated-nonce attempts),
//! uploads, reactions ([`RecordedReaction`]) and `GET /gateway/bot` fetches,
//! and the waits on them.

use std::time::Duration;

use serde_json::Value;

use super::FakeDiscord;
use crate::http::{self, RecordedRequest, Route, ScriptedResponse};
use crate::Timeout;

/// A message the bot posted (`POST /channels/{id}/messages`, answered 200).
#[derive(Debug, Clone, PartialEq)]
pub struct PostedMessage {
    /// Channel id from the path.
    pub channel_id: String,
    /// The id the fake gave the message.
    pub message_id: String,
    /// `content` (empty when absent).
    pub content: String,
    /// The whole JSON body.
    pub body: Value,
    /// Request headers.
    pub headers: Vec<(String, String)>,
}

impl PostedMessage {
    /// The first header named `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        http::header(&self.headers, name)
    }
}

/// A reaction the bot added (`PUT`) or removed (`DELETE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedReaction {
    /// Channel id.
    pub channel_id: String,
    /// Message id.
    pub message_id: String,
    /// The emoji, percent-decoded (`🔥`, `name:id`).
    pub emoji: String,
    /// True for `PUT` (add), false for `DELETE`.
    pub added: bool,
}

impl FakeDiscord {
    /// Queues `response` for the next request `route` matches (path below
    /// `/api/v10`, e.g. `"POST /channels/*/messages"`), ahead of normal
    /// handling and of the token check.
    pub fn push_http_response(&self, route: impl Into<Route>, response: ScriptedResponse) {
        let route = route.into();
        self.core
            .shared
            .update(|s| s.rest.scripted.push_back((route, response)));
    }

    /// The next request `route` matches is handled as usual (a message is
    /// posted, an upload recorded) but answered only after `delay`: the
    /// client can die between the server acting and the answer.
    pub fn delay_http_answer(&self, route: impl Into<Route>, delay: Duration) {
        let route = route.into();
        self.core
            .shared
            .update(|s| s.rest.delayed.push_back((route, delay)));
    }

    /// Every HTTP request so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.core.shared.lock().rest.requests.clone()
    }

    /// Files uploaded with messages (multipart `files[n]`), in order.
    pub fn uploaded_files(&self) -> Vec<crate::multipart::UploadedFile> {
        self.core.shared.lock().uploads.clone()
    }

    /// Messages posted (each nonce once), in order.
    pub fn posted_messages(&self) -> Vec<PostedMessage> {
        self.core.shared.lock().posts.clone()
    }

    /// Repeated posts with an already used `nonce` + `enforce_nonce`, which
    /// were answered with the original message and not posted again.
    pub fn duplicate_post_attempts(&self) -> Vec<PostedMessage> {
        self.core.shared.lock().duplicate_posts.clone()
    }

    /// Waits until at least `n` messages were posted; returns all of them.
    pub fn wait_for_posts(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<PostedMessage>, Timeout> {
        self.core.shared.wait_until(
            timeout,
            |s| {
                format!(
                    "{n} posted messages (got {}: {:?})",
                    s.posts.len(),
                    contents(&s.posts)
                )
            },
            |s| (s.posts.len() >= n).then(|| s.posts.clone()),
        )
    }

    /// Waits until at least `n` HTTP requests matching `route` arrived.
    pub fn wait_for_requests(
        &self,
        route: impl Into<Route>,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<RecordedRequest>, Timeout> {
        let route = route.into();
        self.core.shared.wait_until(
            timeout,
            |s| {
                format!(
                    "{n} requests matching {route:?} (got {})",
                    s.rest.requests.len()
                )
            },
            |s| {
                let m: Vec<_> = s
                    .rest
                    .requests
                    .iter()
                    .filter(|r| route.matches(&r.method, &r.path))
                    .cloned()
                    .collect();
                (m.len() >= n).then_some(m)
            },
        )
    }

    /// Reactions added or removed, in order.
    pub fn reactions(&self) -> Vec<RecordedReaction> {
        self.core.shared.lock().reactions.clone()
    }

    /// How often `GET /gateway/bot` was answered.
    pub fn gateway_bot_fetch_count(&self) -> usize {
        self.core.shared.lock().gateway_bot_fetches
    }
}

fn contents(posts: &[PostedMessage]) -> Vec<&str> {
    posts.iter().map(|p| p.content.as_str()).collect()
}

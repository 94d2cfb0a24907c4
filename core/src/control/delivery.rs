//! [`Delivery`]: one message sent to a [`Target`] through the account's
//! REST planner, chunked to the platform's limits like a reply. A Discord DM
//! first opens (or finds) the DM channel (`POST /users/@me/channels`); a
//! KOOK DM goes to `/direct-message/create` with the user id. Chunks go out
//! one at a time, in order; the first failure ends the delivery with the
//! platform's error and sends nothing more.
//!
//! The driver submits what [`Delivery::poll_request`] gives, and feeds the
//! planner's answer for it back with [`Delivery::handle_response`] or
//! [`Delivery::handle_failure`], until [`Delivery::outcome`] is set.

use std::collections::VecDeque;

use crate::platform::Platform;
use crate::reply::{chunk_text, neutralize_kmarkdown, ChunkLimits, MentionPolicy};
use crate::rest::discord::{CreateMessage, Request as DiscordRequest};
use crate::rest::kook::{DirectMessageCreate, DmTarget, MessageCreate, Request as KookRequest};
use crate::rest::{Request, Response};

use super::Target;

/// How a delivery ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// Every chunk was sent: their message ids, in order.
    Sent(Vec<String>),
    /// It failed: the error (the platform's, as the planner reported it),
    /// and the ids of the chunks sent before.
    Failed {
        /// Why.
        error: String,
        /// Chunks already sent.
        sent: Vec<String>,
    },
}

/// See the module docs.
#[derive(Debug, Clone)]
pub struct Delivery {
    platform: Platform,
    target: Target,
    chunks: VecDeque<String>,
    mentions: MentionPolicy,
    /// The Discord DM channel, once opened.
    dm_channel: Option<String>,
    in_flight: bool,
    sent: Vec<String>,
    outcome: Option<DeliveryOutcome>,
}

impl Delivery {
    /// A delivery of `text` to `target`; `mentions` says who may be pinged
    /// (KOOK mentions outside it are neutralized in the text). Empty text
    /// is refused.
    pub fn new(
        platform: Platform,
        target: Target,
        text: &str,
        limits: &ChunkLimits,
        mentions: MentionPolicy,
    ) -> Result<Self, String> {
        if text.trim().is_empty() {
            return Err("the message is empty".to_owned());
        }
        let text = match platform {
            Platform::Kook => neutralize_kmarkdown(text, &mentions).into_owned(),
            _ => text.to_owned(),
        };
        let chunks: VecDeque<String> = chunk_text(&text, limits)
            .into_iter()
            .filter(|c| !c.trim().is_empty())
            .collect();
        if chunks.is_empty() {
            return Err("the message is empty".to_owned());
        }
        Ok(Self {
            platform,
            target,
            chunks,
            mentions,
            dm_channel: None,
            in_flight: false,
            sent: Vec::new(),
            outcome: None,
        })
    }

    /// Where it goes.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The next request to submit, when none is in flight.
    pub fn poll_request(&mut self) -> Option<Request> {
        if self.in_flight || self.outcome.is_some() {
            return None;
        }
        let request = match (self.platform, &self.target) {
            (Platform::Discord, Target::User(user)) if self.dm_channel.is_none() => {
                Request::Discord(DiscordRequest::OpenDm {
                    recipient_id: user.clone(),
                })
            }
            (Platform::Discord, target) => {
                let channel_id = match target {
                    Target::Channel(id) => id.clone(),
                    Target::User(_) => self.dm_channel.clone().unwrap_or_default(),
                };
                let content = self.chunks.front()?.clone();
                Request::Discord(DiscordRequest::CreateMessage(CreateMessage {
                    channel_id,
                    content,
                    reply_to: None,
                    nonce: None,
                    mentions: self.mentions.clone(),
                }))
            }
            (Platform::Kook, Target::User(user)) => {
                Request::Kook(KookRequest::DirectMessageCreate(DirectMessageCreate {
                    target: DmTarget::User(user.clone()),
                    content: self.chunks.front()?.clone(),
                    quote: None,
                    nonce: None,
                }))
            }
            (Platform::Kook, Target::Channel(channel)) => {
                Request::Kook(KookRequest::MessageCreate(MessageCreate {
                    target_id: channel.clone(),
                    content: self.chunks.front()?.clone(),
                    quote: None,
                    nonce: None,
                }))
            }
        };
        self.in_flight = true;
        Some(request)
    }

    /// The request in flight succeeded with `response`.
    pub fn handle_response(&mut self, response: &Response) {
        if !self.in_flight || self.outcome.is_some() {
            return;
        }
        self.in_flight = false;
        match response {
            Response::DiscordDmChannel(dm) if self.dm_channel.is_none() => {
                self.dm_channel = Some(dm.id.clone());
                return;
            }
            Response::DiscordMessage(message) => self.sent.push(message.id.clone()),
            Response::KookMessage(message) => self.sent.push(message.msg_id.clone()),
            other => {
                self.outcome = Some(DeliveryOutcome::Failed {
                    error: format!("unexpected answer from the platform: {other:?}"),
                    sent: std::mem::take(&mut self.sent),
                });
                return;
            }
        }
        self.chunks.pop_front();
        if self.chunks.is_empty() {
            self.outcome = Some(DeliveryOutcome::Sent(std::mem::take(&mut self.sent)));
        }
    }

    /// The request in flight failed (or the planner refused it) with `error`.
    pub fn handle_failure(&mut self, error: &str) {
        if self.outcome.is_some() {
            return;
        }
        self.in_flight = false;
        self.outcome = Some(DeliveryOutcome::Failed {
            error: format!("{} to {}: {error}", self.platform, self.target),
            sent: std::mem::take(&mut self.sent),
        });
    }

    /// How it ended, once it has.
    pub fn outcome(&self) -> Option<&DeliveryOutcome> {
        self.outcome.as_ref()
    }
}

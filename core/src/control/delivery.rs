//! [`Delivery`]: one message (text, files or both) sent to a [`Target`]
//! through the account's REST planner, chunked to the platform's limits like
//! a reply. A Discord DM first opens (or finds) the DM channel (`POST
//! /users/@me/channels`); a KOOK DM goes to `/direct-message/create` with the
//! user id. Files go as replies' files do
//! ([`crate::media::plan_discord_delivery`]: on the last text chunk, up to 10
//! a message; [`crate::media::plan_kook_delivery`]: `/asset/create`, then a
//! message of type 2 or 4 with the asset URL), after a size check against
//! `mediaMaxMb` and the platform's limit that refuses the whole delivery,
//! naming the file, before anything is sent. Messages go out one at a time,
//! in order; the first failure ends the delivery with the platform's error
//! and sends nothing more.
//!
//! The driver submits what [`Delivery::poll_request`] gives, and feeds the
//! planner's answer for it back with [`Delivery::handle_response`] or
//! [`Delivery::handle_failure`], until [`Delivery::outcome`] is set.

use std::collections::VecDeque;

use crate::media::{
    check_size, plan_discord_delivery, plan_kook_delivery, DiscordSend, KookSend, MediaFailure,
    OutboundFile,
};
use crate::platform::Platform;
use crate::reply::ReplyToMode;
use crate::reply::{chunk_text, neutralize_kmarkdown, ChunkLimits, MentionPolicy, OutboundChunk};
use crate::rest::discord::{CreateMessage, CreateMessageWithFiles, Request as DiscordRequest};
use crate::rest::kook::{
    DirectMessageCreate, DmTarget, MediaMessageCreate, MediaTarget, MessageCreate,
    Request as KookRequest,
};
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

/// One message of a delivery.
#[derive(Debug, Clone)]
enum Step {
    /// A text chunk.
    Text(String),
    /// Discord: a message with files (its text may be empty).
    DiscordFiles {
        content: String,
        files: Vec<OutboundFile>,
    },
    /// KOOK: a file to upload with `/asset/create`.
    KookAsset {
        file: OutboundFile,
        message_type: u8,
    },
    /// KOOK: the uploaded file's message.
    KookMedia { url: String, message_type: u8 },
}

/// The size limits files are held to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileLimits {
    /// `mediaMaxMb` in bytes.
    pub max_bytes: u64,
    /// The platform's own upload limit in bytes.
    pub platform_limit: u64,
}

/// See the module docs.
#[derive(Debug, Clone)]
pub struct Delivery {
    platform: Platform,
    target: Target,
    chunks: VecDeque<Step>,
    mentions: MentionPolicy,
    /// The Discord DM channel, once opened.
    dm_channel: Option<String>,
    in_flight: bool,
    sent: Vec<String>,
    outcome: Option<DeliveryOutcome>,
}

impl Delivery {
    /// A delivery of `text` and `files` to `target`; `mentions` says who
    /// may be pinged (KOOK mentions outside it are neutralized in the text).
    /// Nothing to send is refused, and so is a file over `file_limits` (the
    /// error names it).
    pub fn new(
        platform: Platform,
        target: Target,
        text: &str,
        files: Vec<OutboundFile>,
        limits: &ChunkLimits,
        file_limits: FileLimits,
        mentions: MentionPolicy,
    ) -> Result<Self, String> {
        for file in &files {
            let size = file.data.len() as u64;
            if let Err(reason) = check_size(size, file_limits.max_bytes, file_limits.platform_limit)
            {
                return Err(MediaFailure::new(&file.filename, reason).describe());
            }
        }
        let text = match platform {
            Platform::Kook => neutralize_kmarkdown(text, &mentions).into_owned(),
            _ => text.to_owned(),
        };
        let chunks: Vec<OutboundChunk> = chunk_text(&text, limits)
            .into_iter()
            .filter(|c| !c.trim().is_empty())
            .map(|text| OutboundChunk {
                text,
                reply_to: None,
            })
            .collect();
        if chunks.is_empty() && files.is_empty() {
            return Err("the message is empty".to_owned());
        }
        let chunks: VecDeque<Step> = match platform {
            Platform::Kook => plan_kook_delivery(chunks, files, None, ReplyToMode::Off)
                .sends
                .into_iter()
                .map(|send| match send {
                    KookSend::Text(chunk) => Step::Text(chunk.text),
                    KookSend::File {
                        file, message_type, ..
                    } => Step::KookAsset { file, message_type },
                })
                .collect(),
            _ => plan_discord_delivery(chunks, files, None, ReplyToMode::Off)
                .sends
                .into_iter()
                .map(|send| match send {
                    DiscordSend::Text(chunk) => Step::Text(chunk.text),
                    DiscordSend::Files { chunk, files } => Step::DiscordFiles {
                        content: chunk.text,
                        files,
                    },
                })
                .collect(),
        };
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
                let message = |content: &str| CreateMessage {
                    channel_id: channel_id.clone(),
                    content: content.to_owned(),
                    reply_to: None,
                    nonce: None,
                    mentions: self.mentions.clone(),
                };
                match self.chunks.front()? {
                    Step::DiscordFiles { content, files } => Request::Discord(
                        DiscordRequest::CreateMessageWithFiles(CreateMessageWithFiles {
                            message: message(content),
                            files: files.clone(),
                        }),
                    ),
                    Step::Text(content) => {
                        Request::Discord(DiscordRequest::CreateMessage(message(content)))
                    }
                    Step::KookAsset { .. } | Step::KookMedia { .. } => return None,
                }
            }
            (Platform::Kook, target) => match self.chunks.front()? {
                Step::KookAsset { file, .. } => {
                    Request::Kook(KookRequest::AssetCreate(file.clone()))
                }
                Step::KookMedia { url, message_type } => {
                    let target = match target {
                        Target::User(user) => MediaTarget::Direct(DmTarget::User(user.clone())),
                        Target::Channel(channel) => MediaTarget::Channel(channel.clone()),
                    };
                    Request::Kook(KookRequest::MediaMessageCreate(MediaMessageCreate {
                        target,
                        message_type: *message_type,
                        url: url.clone(),
                        quote: None,
                    }))
                }
                Step::Text(content) => match target {
                    Target::User(user) => {
                        Request::Kook(KookRequest::DirectMessageCreate(DirectMessageCreate {
                            target: DmTarget::User(user.clone()),
                            content: content.clone(),
                            quote: None,
                            nonce: None,
                        }))
                    }
                    Target::Channel(channel) => {
                        Request::Kook(KookRequest::MessageCreate(MessageCreate {
                            target_id: channel.clone(),
                            content: content.clone(),
                            quote: None,
                            nonce: None,
                        }))
                    }
                },
                Step::DiscordFiles { .. } => return None,
            },
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
            Response::KookAsset(asset) => {
                if let Some(step) = self.chunks.front_mut() {
                    if let Step::KookAsset { message_type, .. } = *step {
                        *step = Step::KookMedia {
                            url: asset.url.clone(),
                            message_type,
                        };
                        return;
                    }
                }
                self.outcome = Some(DeliveryOutcome::Failed {
                    error: "unexpected answer from the platform: an asset".to_owned(),
                    sent: std::mem::take(&mut self.sent),
                });
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

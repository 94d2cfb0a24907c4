//! The deliveries a channel loop runs for the control socket
//! (`krill message send`): each is a core [`Delivery`] whose requests go
//! through the account's REST link; this module only submits what the
//! delivery asks for, feeds it the planner's answers and sends the outcome
//! back to the socket client that asked.

use std::collections::HashMap;
use std::time::Instant;

use krill_core::control::{ControlReply, Delivery, DeliveryOutcome, FileLimits, Target};
use krill_core::media::OutboundFile;
use krill_core::platform::Platform;
use krill_core::reply::{ChunkLimits, MentionPolicy, MentionScope};
use krill_core::rest::{RequestId, RestEvent};
use smol::channel::Sender;

use super::link::RestLink;

/// A delivery and the client waiting for its outcome.
type Waiting = (Delivery, Sender<ControlReply>);

/// The loop's running deliveries, by the request each waits on.
#[derive(Default)]
pub(crate) struct Deliveries {
    waiting: HashMap<RequestId, Waiting>,
}

/// One `send` of the control socket, as the loop gets it.
#[derive(Debug)]
pub(crate) struct DeliverRequest {
    /// Where.
    pub(crate) target: Target,
    /// The text.
    pub(crate) text: String,
    /// The files (read by the socket's server, not checked yet).
    pub(crate) files: Vec<OutboundFile>,
    /// Where the outcome goes.
    pub(crate) reply: Sender<ControlReply>,
}

/// How a loop shapes its deliveries.
pub(crate) struct DeliveryShape<'a> {
    /// The platform.
    pub(crate) platform: Platform,
    /// The chunk limits of its replies.
    pub(crate) limits: &'a ChunkLimits,
    /// `mediaMaxMb` and the platform's upload limit.
    pub(crate) file_limits: FileLimits,
    /// `allowedMentions`.
    pub(crate) mentions: MentionScope,
}

impl Deliveries {
    /// Starts delivering `request` (a DM may ping its recipient, nobody
    /// else), or answers at once why it cannot be sent.
    pub(crate) fn deliver(
        &mut self,
        now: Instant,
        link: &mut RestLink,
        shape: &DeliveryShape<'_>,
        request: DeliverRequest,
    ) {
        let DeliverRequest {
            target,
            text,
            files,
            reply,
        } = request;
        let recipient = match &target {
            Target::User(id) => Some(id.clone()),
            _ => None,
        };
        let mentions = MentionPolicy::new(shape.mentions, recipient.as_deref());
        match Delivery::new(
            shape.platform,
            target,
            &text,
            files,
            shape.limits,
            shape.file_limits,
            mentions,
        ) {
            Ok(delivery) => self.start(now, link, delivery, reply),
            Err(error) => {
                let _ = reply.try_send(ControlReply::failed(error));
            }
        }
    }

    /// Starts `delivery`; its outcome goes to `reply`.
    pub(crate) fn start(
        &mut self,
        now: Instant,
        link: &mut RestLink,
        delivery: Delivery,
        reply: Sender<ControlReply>,
    ) {
        self.advance(now, link, (delivery, reply));
    }

    /// Takes `event` when it answers one of the deliveries' requests (then
    /// `None`); any other event is handed back.
    pub(crate) fn handle(
        &mut self,
        now: Instant,
        link: &mut RestLink,
        event: RestEvent,
    ) -> Option<RestEvent> {
        match &event {
            RestEvent::Completed { id, response } => {
                let Some((mut delivery, reply)) = self.waiting.remove(id) else {
                    return Some(event);
                };
                delivery.handle_response(response);
                self.advance(now, link, (delivery, reply));
                None
            }
            RestEvent::Failed { id, error } => {
                let Some((mut delivery, reply)) = self.waiting.remove(id) else {
                    return Some(event);
                };
                delivery.handle_failure(&error.to_string());
                self.advance(now, link, (delivery, reply));
                None
            }
            _ => Some(event),
        }
    }

    /// Submits the delivery's next request, or answers the client when it
    /// has ended.
    fn advance(&mut self, now: Instant, link: &mut RestLink, (mut delivery, reply): Waiting) {
        loop {
            if let Some(outcome) = delivery.outcome() {
                let answer = match outcome {
                    DeliveryOutcome::Sent(ids) => ControlReply::sent(ids.clone()),
                    DeliveryOutcome::Failed { error, sent } if sent.is_empty() => {
                        ControlReply::failed(error.clone())
                    }
                    DeliveryOutcome::Failed { error, sent } => ControlReply::failed(format!(
                        "{error} ({} chunk(s) were sent before)",
                        sent.len()
                    )),
                };
                let _ = reply.try_send(answer);
                return;
            }
            let Some(request) = delivery.poll_request() else {
                return;
            };
            match link.try_submit(now, request) {
                Ok(id) => {
                    self.waiting.insert(id, (delivery, reply));
                    return;
                }
                Err(error) => delivery.handle_failure(&error.to_string()),
            }
        }
    }
}

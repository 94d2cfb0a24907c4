//! The REST link of one bot account: the core's [`Planner`] decides what may
//! go out and what a response means; this module only performs the HTTP
//! requests it hands out (each a task on the gateway's runtime,
//! [`crate::http`]) and
//! reports each response back to the channel loop's inbox.

use std::time::Instant;

use krill_core::rest::{Planner, Request, RequestId, RestEvent};
use smol::channel::Sender;
use tracing::warn;

use super::Input;
use crate::http::HttpClient;

/// A planner plus the executor that carries out its requests.
pub(crate) struct RestLink {
    planner: Planner,
    http: &'static HttpClient,
    inbox: Sender<Input>,
}

impl RestLink {
    /// A link whose responses arrive in `inbox` as [`Input::Http`].
    pub(crate) fn new(planner: Planner, inbox: Sender<Input>) -> Self {
        Self {
            planner,
            http: HttpClient::shared(),
            inbox,
        }
    }

    /// Paces the account to `per_second` requests (Discord's global limit,
    /// `channels.discord.globalRateLimit`).
    pub(crate) fn set_global_rate_limit(&mut self, per_second: usize) {
        self.planner.set_global_rate_limit(per_second);
    }

    /// Queues a request; `None` (logged) when the planner refuses it.
    pub(crate) fn submit(
        &mut self,
        now: Instant,
        request: impl Into<Request>,
    ) -> Option<RequestId> {
        match self.try_submit(now, request) {
            Ok(id) => Some(id),
            Err(error) => {
                warn!(platform = ?self.planner.platform(), %error, "REST request refused");
                None
            }
        }
    }

    /// Queues a request; the planner's refusal is returned, not logged.
    pub(crate) fn try_submit(
        &mut self,
        now: Instant,
        request: impl Into<Request>,
    ) -> Result<RequestId, krill_core::rest::SubmitError> {
        self.planner.submit(now, request.into())
    }

    /// Starts every request the planner lets out now.
    pub(crate) fn pump(&mut self, now: Instant) {
        while let Some((id, request)) = self.planner.poll_transmit(now) {
            let http = self.http;
            let inbox = self.inbox.clone();
            crate::runtime::spawn(async move {
                let result = http.execute(request).await;
                let _ = inbox.send(Input::Http { id, result }).await;
            })
            .detach();
        }
    }

    /// Reports a response (or transport failure) for request `id`.
    pub(crate) fn handle(
        &mut self,
        now: Instant,
        id: RequestId,
        result: Result<krill_core::rest::http::HttpResponse, crate::http::TransportError>,
    ) {
        let reported = match result {
            Ok(response) => self.planner.handle_response(now, id, response),
            Err(error) => self
                .planner
                .handle_transport_error(now, id, &error.to_string()),
        };
        if reported.is_err() {
            warn!(?id, "response for a request that is not in flight");
        }
    }

    /// The next outcome of a request.
    pub(crate) fn poll_event(&mut self) -> Option<RestEvent> {
        self.planner.poll_event()
    }

    /// When the planner next wants to be pumped.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.planner.poll_timeout()
    }

    /// True after a 401: the token is dead and nothing more is sent.
    pub(crate) fn is_halted(&self) -> bool {
        self.planner.is_halted()
    }
}

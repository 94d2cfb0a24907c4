//! The `discord` tool at run time: the path between an agent turn (running
//! on its own task) and the Discord channel loop that owns the account's
//! REST planner.
//!
//! ```text
//!  agent task ── LoopTools::call ──> Input::Tool ──> channel loop
//!       ^                                              │ ToolCalls::start: core ToolRun
//!       │                                              │ plans requests -> RestLink (planner)
//!       └──────── JSON result (oneshot) <── ToolCalls::on_rest_event ◄── responses
//! ```
//!
//! Every decision (what a call may do, which requests, what the result
//! says) is the core's `krill_core::tools::ToolRun`; this module only moves
//! requests and outcomes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use futures_lite::future::Boxed;
use krill_core::rest::{RequestId, Response, RestError};
use krill_core::tools::run::error_result;
use krill_core::tools::{ChannelFacts, ToolRun, ToolStep, TurnScope};
use smol::channel::Sender;
use tracing::debug;

use super::link::RestLink;
use super::Input;
use crate::agent::ToolHandler;

/// One tool call on its way to the channel loop.
#[derive(Debug)]
pub(crate) struct ToolCall {
    /// What the turn may do.
    pub(crate) scope: Arc<TurnScope>,
    /// `discord_<action>`.
    pub(crate) name: String,
    /// JSON object as text.
    pub(crate) arguments: String,
    /// Where the JSON result goes.
    pub(crate) reply: Sender<String>,
}

/// The [`ToolHandler`] of one Discord turn: sends each call to the loop.
pub(crate) struct LoopTools {
    pub(crate) inbox: Sender<Input>,
    pub(crate) scope: Arc<TurnScope>,
}

impl ToolHandler for LoopTools {
    fn call(&self, name: String, arguments: String) -> Boxed<String> {
        let inbox = self.inbox.clone();
        let scope = self.scope.clone();
        Box::pin(async move {
            let (reply, result) = smol::channel::bounded(1);
            let call = ToolCall {
                scope,
                name,
                arguments,
                reply,
            };
            if inbox.send(Input::Tool(call)).await.is_err() {
                return error_result("the Discord connection has stopped; the call was not made");
            }
            result.recv().await.unwrap_or_else(|_| {
                error_result("the Discord connection stopped before the call finished")
            })
        })
    }
}

/// The tool calls a channel loop is carrying out, by the request each
/// waits for.
#[derive(Debug, Default)]
pub(crate) struct ToolCalls {
    waiting: HashMap<RequestId, (ToolRun, Sender<String>)>,
}

impl ToolCalls {
    /// Starts `call`.
    pub(crate) fn start(
        &mut self,
        now: Instant,
        link: &mut RestLink,
        facts: &dyn ChannelFacts,
        call: ToolCall,
    ) {
        debug!(tool = %call.name, channel = %call.scope.channel_id, "tool call");
        let (run, step) = ToolRun::start(
            &call.name,
            &call.arguments,
            &call.scope,
            facts,
            super::unix_ms(),
        );
        self.advance(now, link, run, step, call.reply);
    }

    /// Feeds the outcome of request `id`; false when no tool call waits for
    /// it.
    pub(crate) fn on_outcome(
        &mut self,
        now: Instant,
        link: &mut RestLink,
        id: RequestId,
        outcome: Result<Response, RestError>,
    ) -> bool {
        let Some((mut run, reply)) = self.waiting.remove(&id) else {
            return false;
        };
        let step = run.handle(outcome);
        self.advance(now, link, run, step, reply);
        true
    }

    fn advance(
        &mut self,
        now: Instant,
        link: &mut RestLink,
        mut run: ToolRun,
        mut step: ToolStep,
        reply: Sender<String>,
    ) {
        loop {
            match step {
                ToolStep::Send(request) => match link.submit(now, request) {
                    Some(id) => {
                        self.waiting.insert(id, (run, reply));
                        return;
                    }
                    None => {
                        step = run.handle(Err(RestError::Rejected {
                            status: 0,
                            code: None,
                            message: "krill could not queue the request".to_owned(),
                        }));
                    }
                },
                ToolStep::Done(result) => {
                    debug!(action = ?run.action(), "tool call done");
                    let _ = reply.try_send(result);
                    return;
                }
            }
        }
    }
}

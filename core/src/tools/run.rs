//! [`ToolRun`]: one call of the `discord` tool, as a sans-IO machine.
//!
//! [`ToolRun::start`] reads the function name and JSON arguments the model
//! sent, refuses what the turn may not do (an action it was not offered,
//! bad arguments, a channel or user outside the turn's guild or DM) and
//! plans the REST requests; the caller submits each [`ToolStep::Send`] to
//! the account's planner and hands its outcome to [`ToolRun::handle`],
//! until [`ToolStep::Done`] gives the JSON result for the model:
//! `{"ok":true,"action":…,…}` or `{"ok":false,"error":"…"}` with a message
//! the model can act on.
//!
//! **Scope.** A call acts within the turn's own guild, or in a DM turn within
//! that DM channel. Channel ids the call names are checked against what the
//! gateway knows ([`ChannelFacts`]: GUILD_CREATE, CHANNEL_CREATE,
//! THREAD_CREATE); a channel it has not seen is looked up first (`GET
//! /channels/{id}`) and refused unless its `guild_id` is the turn's. Users
//! are reached through the turn's guild (`/guilds/{turn guild}/members/…`),
//! and a DM to a user (`sendMessage` to `user:<id>`) is sent only when that
//! user is a member of the turn's guild (checked with `GET
//! /guilds/{id}/members/{user}`), or in a DM turn only to that DM's user.

use std::collections::VecDeque;
use std::fmt;

use serde_json::{json, Map, Value};

use super::plan::{plan, Finish, Planned};
use super::Action;
use crate::config::DiscordActions;
use crate::reply::MentionPolicy;
use crate::rest::discord::{ApiCall, CreateMessage, Request};
use crate::rest::{path_segment, Method, Response, RestError};

/// What the turn lets its tool calls do.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnScope {
    /// The turn's guild; `None` in a DM (or group DM).
    pub guild_id: Option<String>,
    /// The turn's channel (the DM channel in a DM).
    pub channel_id: String,
    /// The message the turn answers (default target of `react`, `pinMessage`).
    pub message_id: String,
    /// Who wrote it.
    pub sender_id: String,
    /// The actions the turn was offered ([`super::offered_actions`]).
    pub offered: Vec<Action>,
    /// The account's `actions.*`, to say why an action is not offered.
    pub gates: DiscordActions,
    /// Who messages the tool sends may ping (the turn's participants under
    /// `allowedMentions`, as for replies).
    pub mentions: MentionPolicy,
}

/// What the gateway knows about a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelFact {
    /// A channel or thread of this guild.
    InGuild(String),
    /// A DM or group DM channel.
    Direct,
    /// Never seen.
    Unknown,
}

/// The gateway's channel → guild knowledge.
pub trait ChannelFacts {
    /// Where channel `channel_id` is.
    fn channel(&self, channel_id: &str) -> ChannelFact;
}

/// What the caller does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolStep {
    /// Submit this request and hand its outcome to [`ToolRun::handle`].
    Send(Request),
    /// The call is over: the JSON result for the model.
    Done(String),
}

/// One step of a run.
#[derive(Debug, Clone)]
pub(crate) enum Step {
    /// `GET /channels/{id}`: its `guild_id` must be the turn's.
    CheckChannel(String),
    /// `GET /guilds/{guild}/members/{user}`: the user must be a member.
    CheckMember {
        /// The turn's guild.
        guild_id: String,
        /// The user.
        user_id: String,
    },
    /// A request whose response the result is made of.
    Call(Request),
    /// `POST /users/@me/channels` for `user_id`, then the message.
    DirectMessage {
        /// The recipient.
        user_id: String,
        /// The text.
        content: String,
    },
}

/// One call of the tool (see the module docs).
pub struct ToolRun {
    action: Option<Action>,
    steps: VecDeque<Step>,
    current: Option<Step>,
    responses: Vec<Value>,
    finish: Option<Finish>,
    guild_id: Option<String>,
    mentions: MentionPolicy,
    done: bool,
}

impl fmt::Debug for ToolRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ToolRun")
            .field("action", &self.action)
            .field("steps", &self.steps)
            .field("current", &self.current)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

/// `{"ok":false,"error":…}`.
pub fn error_result(message: &str) -> String {
    json!({"ok": false, "error": message}).to_string()
}

impl ToolRun {
    /// Starts call `function` (`discord_react`) with `arguments` (a JSON
    /// object as text). `now_unix_ms` dates `timeout`s.
    pub fn start(
        function: &str,
        arguments: &str,
        scope: &TurnScope,
        facts: &dyn ChannelFacts,
        now_unix_ms: u64,
    ) -> (ToolRun, ToolStep) {
        let mut run = ToolRun {
            action: Action::from_name(function),
            steps: VecDeque::new(),
            current: None,
            responses: Vec::new(),
            finish: None,
            guild_id: scope.guild_id.clone(),
            mentions: scope.mentions.clone(),
            done: false,
        };
        let planned = run.offered(function, scope).and_then(|action| {
            let args = parse_arguments(arguments)?;
            plan(action, &args, scope, facts, now_unix_ms)
        });
        match planned {
            Ok(Planned { steps, finish }) => {
                run.steps = steps.into();
                run.finish = Some(finish);
                let step = run.next();
                (run, step)
            }
            Err(message) => {
                run.done = true;
                (run, ToolStep::Done(error_result(&message)))
            }
        }
    }

    /// The action called, if the name was one.
    pub fn action(&self) -> Option<Action> {
        self.action
    }

    /// True once [`ToolStep::Done`] was returned.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The outcome of the request last returned in [`ToolStep::Send`].
    pub fn handle(&mut self, outcome: Result<Response, RestError>) -> ToolStep {
        let Some(step) = self.current.take() else {
            return self.fail("internal error: no request was pending");
        };
        match (step, outcome) {
            (Step::CheckChannel(id), Ok(Response::DiscordJson(channel))) => {
                let guild = channel.get("guild_id").and_then(Value::as_str);
                match (&self.guild_id, guild) {
                    (Some(turn), Some(g)) if turn == g => self.next(),
                    (Some(turn), Some(_)) => self.fail(&format!(
                        "channel {id} belongs to another server; this conversation can only act in server {turn}"
                    )),
                    (Some(turn), None) => self.fail(&format!(
                        "channel {id} is not a channel of server {turn}"
                    )),
                    (None, _) => self.fail(&format!(
                        "this conversation is a DM: it can only act in its own channel, not {id}"
                    )),
                }
            }
            (Step::CheckChannel(id), Err(error)) => self.fail(&format!(
                "channel {id} is not visible to the bot ({error})"
            )),
            (Step::CheckMember { .. }, Ok(_)) => self.next(),
            (Step::CheckMember { guild_id, user_id }, Err(error)) => self.fail(&format!(
                "user {user_id} is not a member of server {guild_id} ({error}); the bot only messages members of this server"
            )),
            (Step::DirectMessage { content, .. }, Ok(Response::DiscordDmChannel(dm))) => {
                self.steps.push_front(Step::Call(Request::CreateMessage(CreateMessage {
                    channel_id: dm.id,
                    content,
                    reply_to: None,
                    nonce: None,
                    mentions: self.mentions.clone(),
                })));
                self.next()
            }
            (Step::DirectMessage { user_id, .. }, Err(error)) => {
                self.fail(&format!("cannot open a DM with user {user_id}: {error}"))
            }
            (Step::Call(_), Ok(response)) => {
                self.responses.push(response_value(response));
                self.next()
            }
            (Step::Call(request), Err(error)) => self.fail(&failure_text(&request, &error)),
            (_, Ok(_)) => self.fail("unexpected response from Discord"),
        }
    }

    /// The action if the turn was offered it, else why not.
    fn offered(&self, function: &str, scope: &TurnScope) -> Result<Action, String> {
        let Some(action) = self.action else {
            let names: Vec<String> = scope.offered.iter().map(|a| a.function_name()).collect();
            return Err(format!(
                "unknown tool `{function}`; the tools you can call here are: {}",
                if names.is_empty() {
                    "none".to_owned()
                } else {
                    names.join(", ")
                }
            ));
        };
        if scope.offered.contains(&action) {
            return Ok(action);
        }
        let name = action.function_name();
        let group = action.group();
        Err(if !group.enabled(&scope.gates) {
            format!(
                "{name} is turned off for this bot (channels.discord.actions.{} is false); do not retry, tell the user instead",
                group.key()
            )
        } else if action.needs_guild() && scope.guild_id.is_none() {
            format!("{name} needs a server; this conversation is a DM")
        } else {
            format!("{name} is not allowed in this channel (tools policy); do not retry")
        })
    }

    fn fail(&mut self, message: &str) -> ToolStep {
        self.done = true;
        self.steps.clear();
        ToolStep::Done(error_result(message))
    }

    /// Sends the next step, or finishes.
    fn next(&mut self) -> ToolStep {
        let Some(step) = self.steps.pop_front() else {
            self.done = true;
            let payload = match &self.finish {
                Some(finish) => finish(&self.responses),
                None => Value::Object(Map::new()),
            };
            let mut out = Map::new();
            out.insert("ok".into(), Value::Bool(true));
            if let Some(action) = self.action {
                out.insert("action".into(), Value::String(action.name().to_owned()));
            }
            if let Value::Object(fields) = payload {
                out.extend(fields);
            }
            return ToolStep::Done(Value::Object(out).to_string());
        };
        let request = match &step {
            Step::CheckChannel(id) => get(
                "GET /channels/{channel_id}",
                format!("/channels/{}", path_segment(id)),
                id,
            ),
            Step::CheckMember { guild_id, user_id } => get(
                "GET /guilds/{guild_id}/members/{user_id}",
                format!(
                    "/guilds/{}/members/{}",
                    path_segment(guild_id),
                    path_segment(user_id)
                ),
                guild_id,
            ),
            Step::Call(request) => request.clone(),
            Step::DirectMessage { user_id, .. } => Request::OpenDm {
                recipient_id: user_id.clone(),
            },
        };
        self.current = Some(step);
        ToolStep::Send(request)
    }
}

/// A `GET` of the tool.
fn get(route: &'static str, path: String, major: &str) -> Request {
    Request::Api(ApiCall {
        method: Method::Get,
        route,
        path,
        major: major.to_owned(),
        body: None,
        audit_reason: None,
    })
}

/// The arguments object (empty text: `{}`).
fn parse_arguments(arguments: &str) -> Result<Map<String, Value>, String> {
    if arguments.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(arguments) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(Value::Null) => Ok(Map::new()),
        Ok(_) => Err("the arguments must be a JSON object".to_owned()),
        Err(e) => Err(format!("the arguments are not valid JSON ({e})")),
    }
}

/// A response as JSON for the result.
fn response_value(response: Response) -> Value {
    match response {
        Response::DiscordJson(v) => v,
        Response::DiscordMessage(m) => json!({"id": m.id, "channel_id": m.channel_id}),
        Response::DiscordDmChannel(c) => json!({"id": c.id}),
        _ => Value::Null,
    }
}

/// What the model reads when Discord refused a request.
fn failure_text(request: &Request, error: &RestError) -> String {
    let hint = match error {
        RestError::Forbidden { .. } => " (the bot lacks a permission for this)",
        RestError::Rejected { status: 404, .. } => " (check the ids)",
        RestError::Halted | RestError::Unauthorized { .. } => " (the bot's token is not working)",
        _ => "",
    };
    let what = match request {
        Request::Api(call) => format!("{} {}", call.method.as_str(), call.route),
        Request::CreateMessage(_) => "POST /channels/{channel_id}/messages".to_owned(),
        Request::CreateReaction { .. } => "adding the reaction".to_owned(),
        Request::DeleteOwnReaction { .. } => "removing the reaction".to_owned(),
        _ => "the request".to_owned(),
    };
    format!("Discord refused {what}: {error}{hint}")
}

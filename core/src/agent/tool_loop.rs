//! The function-calling loop of the OpenAI backend, sans-IO: the driver
//! POSTs [`ToolConversation::request`], hands the answer to
//! [`ToolConversation::handle_reply`], carries out the calls it returns
//! (through the channel loop's REST planner), reports each result with
//! [`ToolConversation::tool_result`] and asks again, until the model answers
//! with text or the step bound stops it.
//!
//! **Step bound.** One step is one model answer that asks for tools. After
//! `maxToolSteps` steps (default [`DEFAULT_MAX_TOOL_STEPS`]) an answer that
//! still asks for tools is not carried out: the turn ends with that
//! answer's text, or [`STEP_BOUND_REPLY`] when it has none.
//!
//! [`ToolConversation::trace`] is what the turn did (each step's calls and
//! their results, then the reply) for the session transcript.

use super::openai::{chat_completion_request, ChatCompletionRequest, ChatMessage, ChatReply};
use super::turn::{reply_from_output, HistoryEntry, Role, ToolCallRecord, TurnRequest};

/// `maxToolSteps` when the backend does not set it.
pub const DEFAULT_MAX_TOOL_STEPS: u32 = 8;

/// The reply when the step bound stops a model that gave no text.
pub const STEP_BOUND_REPLY: &str =
    "⚠️ The agent kept calling tools without answering, so krill stopped it. Try again or rephrase.";

/// What to do after an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Carry out these calls (in order), report each result, ask again.
    CallTools(Vec<ToolCallRecord>),
    /// The turn is over: the reply (`None`: no reply).
    Answer(Option<String>),
    /// The step bound stopped the model: this reply ends the turn.
    Stopped(String),
}

/// One turn's conversation with the model (see the module docs).
#[derive(Debug, Clone)]
pub struct ToolConversation {
    request: ChatCompletionRequest,
    steps: u32,
    max_steps: u32,
    trace: Vec<HistoryEntry>,
    next_call: u32,
}

impl ToolConversation {
    /// The conversation for `turn` (its `tools` are offered).
    pub fn new(
        model: &str,
        backend_system_prompt: Option<&str>,
        max_tokens: Option<u32>,
        turn: &TurnRequest,
        max_steps: u32,
    ) -> Self {
        Self {
            request: chat_completion_request(model, backend_system_prompt, max_tokens, turn),
            steps: 0,
            max_steps,
            trace: Vec::new(),
            next_call: 0,
        }
    }

    /// The body of the next `POST /chat/completions`.
    pub fn request(&self) -> &ChatCompletionRequest {
        &self.request
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u32 {
        self.steps
    }

    /// Reads the model's answer.
    pub fn handle_reply(&mut self, reply: ChatReply) -> Next {
        let text = reply
            .content
            .as_deref()
            .and_then(|c| reply_from_output(c.as_bytes()));
        if reply.tool_calls.is_empty() {
            if let Some(text) = &text {
                self.trace
                    .push(HistoryEntry::new(Role::Assistant, text.clone()));
            }
            return Next::Answer(text);
        }
        if self.steps >= self.max_steps {
            let reply = text.unwrap_or_else(|| STEP_BOUND_REPLY.to_owned());
            self.trace
                .push(HistoryEntry::new(Role::Assistant, reply.clone()));
            return Next::Stopped(reply);
        }
        self.steps += 1;
        let calls: Vec<ToolCallRecord> = reply
            .tool_calls
            .into_iter()
            .map(|call| {
                self.next_call += 1;
                ToolCallRecord {
                    id: if call.id.trim().is_empty() {
                        format!("call_{}", self.next_call)
                    } else {
                        call.id
                    },
                    name: call.function.name,
                    arguments: call.function.arguments,
                }
            })
            .collect();
        let step = HistoryEntry {
            role: Role::Assistant,
            text: reply.content.unwrap_or_default(),
            tool_calls: calls.clone(),
            tool_call_id: None,
        };
        self.request.messages.push(ChatMessage::from_history(&step));
        self.trace.push(step);
        Next::CallTools(calls)
    }

    /// The result (JSON text) of call `call_id`.
    pub fn tool_result(&mut self, call_id: &str, result: String) {
        let entry = HistoryEntry {
            role: Role::Tool,
            text: result,
            tool_calls: Vec::new(),
            tool_call_id: Some(call_id.to_owned()),
        };
        self.request
            .messages
            .push(ChatMessage::from_history(&entry));
        self.trace.push(entry);
    }

    /// What the turn did after its prompt: tool steps, results, the reply.
    pub fn trace(&self) -> &[HistoryEntry] {
        &self.trace
    }
}

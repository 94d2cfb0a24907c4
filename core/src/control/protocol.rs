//! The control socket's protocol: a client writes one JSON object on one
//! line, the gateway answers with one JSON object on one line. Requests are
//! tagged by `op`:
//!
//! ```text
//! {"op":"send","channel":"discord","account":null,"to":"user:1","text":"hi"}
//! {"op":"send","channel":"kook","to":"channel:5","text":"","media":["/home/me/report.pdf"]}
//! {"ok":true,"messageIds":["9"]}
//! {"ok":false,"error":"missing permission (HTTP 403) for channel 5: ..."}
//! {"op":"toolsList","token":"<KRILL_TURN_TOKEN>"}
//! {"ok":true,"tools":[{"name":"discord_react","description":"...","parameters":{...}}]}
//! {"op":"toolsCall","token":"...","name":"discord_react","arguments":{"emoji":"👍"}}
//! {"ok":true,"result":"{\"ok\":true,\"action\":\"react\"}"}
//! ```
//!
//! `toolsList` / `toolsCall` act only within the turn the token was granted
//! to ([`super::grants`]); `ok:false` there means the call was refused
//! before it reached the tool (a bad token), while a tool's own failure is
//! `ok:true` with the tool's `{"ok":false,...}` result.

use serde::{Deserialize, Serialize};

use crate::platform::Platform;

/// The longest request line the gateway reads (bytes); longer lines are
/// refused without being parsed.
pub const MAX_REQUEST_BYTES: usize = 1 << 20;

/// `send`: deliver a message (`krill message send`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SendRequest {
    /// `discord` or `kook`.
    pub channel: String,
    /// The account id; `None` = the only (or `default`) running account.
    #[serde(default)]
    pub account: Option<String>,
    /// The target as the user wrote it (see [`super::parse_target`]).
    pub to: String,
    /// The text (chunked to the platform's limits); may be empty when
    /// `media` is not.
    #[serde(default)]
    pub text: String,
    /// Files to send, as absolute paths the gateway reads (`--media`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<String>,
}

/// One request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase")]
#[non_exhaustive]
pub enum ControlRequest {
    /// Deliver a message.
    Send(SendRequest),
    /// Is the gateway there? (answered `ok`).
    Ping,
    /// The tools the token's turn may call.
    ToolsList {
        /// `KRILL_TURN_TOKEN`.
        #[serde(default)]
        token: Option<String>,
    },
    /// Call a tool within the token's turn.
    ToolsCall {
        /// `KRILL_TURN_TOKEN`.
        #[serde(default)]
        token: Option<String>,
        /// `discord_<action>`.
        name: String,
        /// The arguments (a JSON object).
        #[serde(default)]
        arguments: serde_json::Value,
    },
}

impl SendRequest {
    /// The platform named by `channel`.
    pub fn platform(&self) -> Result<Platform, String> {
        self.channel.parse::<Platform>().map_err(|e| e.to_string())
    }
}

/// One answer.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ControlReply {
    /// True when the request was carried out.
    pub ok: bool,
    /// Why not, in words a user (or a model) can act on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The ids of the messages sent (`send`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub message_ids: Vec<String>,
    /// `toolsList`: each tool's `{name, description, parameters}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<serde_json::Value>>,
    /// `toolsCall`: the tool's JSON result, as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
}

impl ControlReply {
    /// A success with the messages sent.
    pub fn sent(message_ids: Vec<String>) -> Self {
        Self {
            ok: true,
            message_ids,
            ..Self::default()
        }
    }

    /// A `toolsList` answer.
    pub fn tools(tools: Vec<serde_json::Value>) -> Self {
        Self {
            ok: true,
            tools: Some(tools),
            ..Self::default()
        }
    }

    /// A `toolsCall` answer: the tool's JSON result.
    pub fn tool_result(result: String) -> Self {
        Self {
            ok: true,
            result: Some(result),
            ..Self::default()
        }
    }

    /// A refusal or failure.
    pub fn failed(error: impl Into<String>) -> Self {
        Self {
            ok: false,
            error: Some(error.into()),
            ..Self::default()
        }
    }

    /// The reply as one line (no trailing newline).
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| r#"{"ok":false}"#.to_owned())
    }
}

/// Parses one request line.
pub fn parse_request(line: &str) -> Result<ControlRequest, String> {
    if line.len() > MAX_REQUEST_BYTES {
        return Err(format!(
            "request too long ({} bytes, at most {MAX_REQUEST_BYTES})",
            line.len()
        ));
    }
    serde_json::from_str(line).map_err(|e| format!("bad request: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_round_trip() {
        let line = r#"{"op":"send","channel":"kook","to":"channel:5","text":"hi"}"#;
        let request = parse_request(line).unwrap();
        assert_eq!(
            request,
            ControlRequest::Send(SendRequest {
                channel: "kook".into(),
                account: None,
                to: "channel:5".into(),
                text: "hi".into(),
                media: Vec::new(),
            })
        );
        let again = serde_json::to_string(&request).unwrap();
        assert_eq!(parse_request(&again).unwrap(), request);
    }

    #[test]
    fn bad_lines_are_errors() {
        assert!(parse_request("").is_err());
        assert!(parse_request("{\"op\":\"nope\"}").is_err());
        assert!(parse_request("{\"op\":\"send\",\"channel\":\"x\"}").is_err());
    }

    #[test]
    fn replies() {
        assert_eq!(
            ControlReply::sent(vec!["1".into()]).to_line(),
            r#"{"ok":true,"messageIds":["1"]}"#
        );
        assert_eq!(
            ControlReply::failed("no").to_line(),
            r#"{"ok":false,"error":"no"}"#
        );
    }
}

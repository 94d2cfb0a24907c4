//! The Model Context Protocol server `krill mcp` speaks on stdio (revision
//! 2025-06-18), as a sans-IO machine: JSON-RPC 2.0 messages, one per line.
//! [`McpServer::handle_line`] reads one line and says what to do: answer
//! at once ([`Step::Reply`]: `ping`, unknown methods, malformed messages),
//! nothing (notifications such as `notifications/initialized`), or ask the
//! gateway first (`initialize`, `tools/list`, `tools/call`); the driver then
//! builds the answer with [`initialize_result`], [`tools_list_result`],
//! [`tool_call_result`] or [`error_response`].
//!
//! Tool failures are results with `isError: true` and the tool's message
//! (the model can act on it); protocol failures are JSON-RPC errors.

use serde_json::{json, Map, Value};

/// The revision krill implements.
pub const PROTOCOL_VERSION: &str = "2025-06-18";
/// Revisions krill also answers in when a client asks for them.
pub const SUPPORTED_VERSIONS: [&str; 3] = ["2025-06-18", "2025-03-26", "2024-11-05"];

/// JSON-RPC: the line is not JSON.
pub const PARSE_ERROR: i64 = -32700;
/// JSON-RPC: not a valid request object.
pub const INVALID_REQUEST: i64 = -32600;
/// JSON-RPC: no such method.
pub const METHOD_NOT_FOUND: i64 = -32601;
/// JSON-RPC: bad parameters.
pub const INVALID_PARAMS: i64 = -32602;
/// JSON-RPC: the server could not do it (the gateway is unreachable, the
/// token refused).
pub const INTERNAL_ERROR: i64 = -32603;

/// What the driver does with one line.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Write this message.
    Reply(Value),
    /// Nothing to answer (a notification, or a response from the client).
    Nothing,
    /// `initialize`: check the gateway and the turn token, then answer
    /// with [`initialize_result`] in `version` (or an error).
    Initialize {
        /// The request id.
        id: Value,
        /// The revision to answer in.
        version: String,
    },
    /// `tools/list`: ask the gateway, answer with [`tools_list_result`].
    ListTools {
        /// The request id.
        id: Value,
    },
    /// `tools/call`: ask the gateway, answer with [`tool_call_result`].
    CallTool {
        /// The request id.
        id: Value,
        /// The tool.
        name: String,
        /// Its arguments (an object).
        arguments: Value,
    },
}

/// One stdio session (see the module docs).
#[derive(Debug, Default, Clone)]
pub struct McpServer {
    initialized: bool,
}

impl McpServer {
    /// A session before `initialize`.
    pub fn new() -> Self {
        Self::default()
    }

    /// True once the client sent `notifications/initialized`.
    pub fn is_initialized(&self) -> bool {
        self.initialized
    }

    /// Reads one line from the client.
    pub fn handle_line(&mut self, line: &str) -> Step {
        let line = line.trim();
        if line.is_empty() {
            return Step::Nothing;
        }
        let message: Value = match serde_json::from_str(line) {
            Ok(message) => message,
            Err(e) => {
                return Step::Reply(error_response(
                    &Value::Null,
                    PARSE_ERROR,
                    &format!("not JSON: {e}"),
                ))
            }
        };
        let Some(object) = message.as_object() else {
            return Step::Reply(error_response(
                &Value::Null,
                INVALID_REQUEST,
                "a message is one JSON-RPC object (batches are not part of 2025-06-18)",
            ));
        };
        let id = object.get("id").cloned();
        let Some(method) = object.get("method").and_then(Value::as_str) else {
            // A response to a request krill never sends, or garbage.
            return match (
                id,
                object.contains_key("result") || object.contains_key("error"),
            ) {
                (_, true) => Step::Nothing,
                (id, false) => Step::Reply(error_response(
                    &id.unwrap_or(Value::Null),
                    INVALID_REQUEST,
                    "a request needs a \"method\"",
                )),
            };
        };
        let params = object.get("params").cloned().unwrap_or(Value::Null);
        let Some(id) = id.filter(|id| id.is_string() || id.is_number()) else {
            if method == "notifications/initialized" {
                self.initialized = true;
            }
            return Step::Nothing;
        };
        match method {
            "initialize" => {
                let asked = params.get("protocolVersion").and_then(Value::as_str);
                let version = asked
                    .filter(|v| SUPPORTED_VERSIONS.contains(v))
                    .unwrap_or(PROTOCOL_VERSION)
                    .to_owned();
                Step::Initialize { id, version }
            }
            "ping" => Step::Reply(result_response(&id, json!({}))),
            "tools/list" => Step::ListTools { id },
            "tools/call" => {
                let Some(name) = params.get("name").and_then(Value::as_str) else {
                    return Step::Reply(error_response(
                        &id,
                        INVALID_PARAMS,
                        "tools/call needs params.name",
                    ));
                };
                let arguments = match params.get("arguments") {
                    None | Some(Value::Null) => Value::Object(Map::new()),
                    Some(Value::Object(a)) => Value::Object(a.clone()),
                    Some(_) => {
                        return Step::Reply(error_response(
                            &id,
                            INVALID_PARAMS,
                            "tools/call params.arguments must be an object",
                        ))
                    }
                };
                Step::CallTool {
                    id,
                    name: name.to_owned(),
                    arguments,
                }
            }
            other => Step::Reply(error_response(
                &id,
                METHOD_NOT_FOUND,
                &format!("method {other:?} is not supported by krill mcp"),
            )),
        }
    }
}

/// `{"jsonrpc":"2.0","id":…,"result":…}`.
pub fn result_response(id: &Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

/// `{"jsonrpc":"2.0","id":…,"error":{"code":…,"message":…}}`.
pub fn error_response(id: &Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

/// The `initialize` answer: krill's tools capability and name.
pub fn initialize_result(id: &Value, version: &str, server_version: &str) -> Value {
    result_response(
        id,
        json!({
            "protocolVersion": version,
            "capabilities": {"tools": {"listChanged": false}},
            "serverInfo": {"name": "krill", "title": "krill gateway tools", "version": server_version},
            "instructions": "Tools of the current krill turn: they act in the chat the turn answers, \
                             and stop working when the turn ends.",
        }),
    )
}

/// The `tools/list` answer from the gateway's `{name, description,
/// parameters}` specs (the openai backend's function definitions).
pub fn tools_list_result(id: &Value, specs: &[Value]) -> Value {
    let tools: Vec<Value> = specs
        .iter()
        .map(|spec| {
            let schema = spec
                .get("parameters")
                .filter(|p| p.is_object())
                .cloned()
                .unwrap_or_else(|| json!({"type": "object", "properties": {}}));
            json!({
                "name": spec.get("name").cloned().unwrap_or(Value::Null),
                "description": spec.get("description").cloned().unwrap_or(Value::Null),
                "inputSchema": schema,
            })
        })
        .collect();
    result_response(id, json!({"tools": tools}))
}

/// The `tools/call` answer for the tool's JSON result text (`{"ok":…}`):
/// `isError` when the result says `ok: false`, or when `refused` (the call
/// never reached the tool: the message says why).
pub fn tool_call_result(id: &Value, result_text: &str, refused: bool) -> Value {
    let parsed: Option<Value> = serde_json::from_str(result_text).ok();
    let failed = refused
        || parsed
            .as_ref()
            .and_then(|v| v.get("ok"))
            .and_then(Value::as_bool)
            == Some(false);
    result_response(
        id,
        json!({
            "content": [{"type": "text", "text": result_text}],
            "isError": failed,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle() {
        let mut server = McpServer::new();
        let step = server.handle_line(
            r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#,
        );
        assert_eq!(
            step,
            Step::Initialize {
                id: json!(1),
                version: "2025-06-18".into()
            }
        );
        assert!(!server.is_initialized());
        assert_eq!(
            server.handle_line(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#),
            Step::Nothing
        );
        assert!(server.is_initialized());
        assert_eq!(
            server.handle_line(r#"{"jsonrpc":"2.0","id":"p","method":"ping"}"#),
            Step::Reply(json!({"jsonrpc":"2.0","id":"p","result":{}}))
        );
        assert_eq!(
            server.handle_line(r#"{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}"#),
            Step::ListTools { id: json!(2) }
        );
        assert_eq!(
            server.handle_line(
                r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"discord_react","arguments":{"emoji":"x"}}}"#
            ),
            Step::CallTool {
                id: json!(3),
                name: "discord_react".into(),
                arguments: json!({"emoji":"x"})
            }
        );
    }

    #[test]
    fn unknown_versions_get_ours() {
        let mut server = McpServer::new();
        let step = server.handle_line(
            r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"1999-01-01"}}"#,
        );
        assert_eq!(
            step,
            Step::Initialize {
                id: json!(1),
                version: PROTOCOL_VERSION.into()
            }
        );
    }

    #[test]
    fn malformed_messages_get_errors() {
        let mut server = McpServer::new();
        let code = |step: Step| match step {
            Step::Reply(v) => v["error"]["code"].as_i64(),
            _ => None,
        };
        assert_eq!(code(server.handle_line("{nope")), Some(PARSE_ERROR));
        assert_eq!(code(server.handle_line("[1]")), Some(INVALID_REQUEST));
        assert_eq!(
            code(server.handle_line(r#"{"jsonrpc":"2.0","id":1,"method":"resources/list"}"#)),
            Some(METHOD_NOT_FOUND)
        );
        assert_eq!(
            code(
                server.handle_line(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{}}"#)
            ),
            Some(INVALID_PARAMS)
        );
        assert_eq!(
            server.handle_line(r#"{"jsonrpc":"2.0","id":9,"result":{}}"#),
            Step::Nothing
        );
        assert_eq!(server.handle_line("   "), Step::Nothing);
    }

    #[test]
    fn tool_results() {
        let ok = tool_call_result(&json!(1), r#"{"ok":true}"#, false);
        assert_eq!(ok["result"]["isError"], json!(false));
        let failed = tool_call_result(&json!(1), r#"{"ok":false,"error":"no"}"#, false);
        assert_eq!(failed["result"]["isError"], json!(true));
        let refused = tool_call_result(&json!(1), "refused: bad token", true);
        assert_eq!(refused["result"]["isError"], json!(true));
        assert_eq!(
            refused["result"]["content"][0]["text"],
            json!("refused: bad token")
        );
        let list = tools_list_result(
            &json!(2),
            &[json!({"name":"discord_react","description":"d","parameters":{"type":"object"}})],
        );
        assert_eq!(
            list["result"]["tools"][0]["inputSchema"],
            json!({"type":"object"})
        );
    }
}

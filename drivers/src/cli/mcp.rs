//! `krill mcp`: a Model Context Protocol server on stdio (revision
//! 2025-06-18) for a command agent's turn. The protocol is the core's
//! [`McpServer`]; this module reads stdin line by line, asks the running
//! gateway over its control socket (`$KRILL_SOCKET`, else
//! `<state>/gateway.sock`) with the turn's `$KRILL_TURN_TOKEN`, and writes
//! each answer to stdout. Logs go to stderr only: stdout is the protocol.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use krill_core::control::{ControlReply, ControlRequest};
use krill_core::mcp::{
    error_response, initialize_result, tool_call_result, tools_list_result, McpServer, Step,
    INTERNAL_ERROR,
};
use serde_json::Value;

use super::{EXIT_FAILURE, EXIT_OK};
use crate::control_client::{ClientError, ControlClient};

/// Flags of `krill mcp` (none: the turn's environment says everything).
#[derive(Debug, clap::Args)]
pub struct McpArgs {}

/// Serves stdin/stdout until stdin ends.
pub fn run(_config: Option<&Path>, _args: McpArgs) -> i32 {
    let socket = std::env::var_os("KRILL_SOCKET")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::paths::control_socket(&crate::paths::state_dir()));
    let token = std::env::var("KRILL_TURN_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty());
    let gateway = Gateway { socket, token };
    let mut server = McpServer::new();
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout();
    for line in stdin.lock().lines() {
        let Ok(line) = line else {
            return EXIT_FAILURE;
        };
        let answer = match server.handle_line(&line) {
            Step::Nothing => continue,
            Step::Reply(message) => message,
            Step::Initialize { id, version } => gateway.initialize(&id, &version),
            Step::ListTools { id } => gateway.list_tools(&id),
            Step::CallTool {
                id,
                name,
                arguments,
            } => gateway.call_tool(&id, name, arguments),
        };
        let mut text = answer.to_string();
        text.push('\n');
        if stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush())
            .is_err()
        {
            return EXIT_FAILURE;
        }
    }
    EXIT_OK
}

/// The running gateway as this turn reaches it.
struct Gateway {
    socket: PathBuf,
    token: Option<String>,
}

impl Gateway {
    fn ask(&self, request: &ControlRequest) -> Result<ControlReply, ClientError> {
        ControlClient::connect(&self.socket)?.call(request)
    }

    fn initialize(&self, id: &Value, version: &str) -> Value {
        if self.token.is_none() {
            return error_response(
                id,
                INTERNAL_ERROR,
                "KRILL_TURN_TOKEN is not set: krill mcp serves the tools of a krill \
                 command-agent turn, and must be started by the agent program during its turn",
            );
        }
        match self.ask(&ControlRequest::Ping) {
            Ok(reply) if reply.ok => initialize_result(id, version, env!("CARGO_PKG_VERSION")),
            Ok(reply) => error_response(
                id,
                INTERNAL_ERROR,
                reply.error.as_deref().unwrap_or("the gateway refused"),
            ),
            Err(error) => error_response(id, INTERNAL_ERROR, &error.to_string()),
        }
    }

    fn list_tools(&self, id: &Value) -> Value {
        let request = ControlRequest::ToolsList {
            token: self.token.clone(),
        };
        match self.ask(&request) {
            Ok(reply) if reply.ok => tools_list_result(id, &reply.tools.unwrap_or_default()),
            Ok(reply) => error_response(
                id,
                INTERNAL_ERROR,
                reply.error.as_deref().unwrap_or("the gateway refused"),
            ),
            Err(error) => error_response(id, INTERNAL_ERROR, &error.to_string()),
        }
    }

    fn call_tool(&self, id: &Value, name: String, arguments: Value) -> Value {
        let request = ControlRequest::ToolsCall {
            token: self.token.clone(),
            name,
            arguments,
        };
        match self.ask(&request) {
            Ok(ControlReply {
                ok: true,
                result: Some(result),
                ..
            }) => tool_call_result(id, &result, false),
            Ok(reply) => tool_call_result(
                id,
                reply
                    .error
                    .as_deref()
                    .unwrap_or("the gateway refused the call"),
                true,
            ),
            Err(error) => tool_call_result(id, &error.to_string(), true),
        }
    }
}

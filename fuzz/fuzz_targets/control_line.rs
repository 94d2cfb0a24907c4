//! Fuzz target `control_line`: arbitrary bytes → lossy UTF-8 lines fed to
//! the two line parsers a local client reaches: the control socket's
//! `parse_request` (+ `parse_target` of a `send`) and the MCP server's
//! `McpServer::handle_line`. Invariants: no panic; every reply the MCP
//! server writes at once is a JSON-RPC 2.0 object with an `id` and exactly
//! one of `result` / `error`.
#![no_main]

use krill_core::control::{parse_request, parse_target, ControlRequest};
use krill_core::mcp::{McpServer, Step};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut server = McpServer::new();
    for line in text.lines() {
        if let Ok(ControlRequest::Send(send)) = parse_request(line) {
            let _ = parse_target(&send.to);
            let _ = send.platform();
        }
        if let Step::Reply(reply) = server.handle_line(line) {
            assert_eq!(reply["jsonrpc"], "2.0");
            assert!(reply.get("id").is_some());
            assert!(reply.get("result").is_some() != reply.get("error").is_some());
        }
    }
});

//! `krill mcp`'s protocol machine and the control socket's request parser on
//! any input: no panic, and every immediate answer is one JSON-RPC 2.0
//! response with an `id` and exactly one of `result` / `error`.

use krill_core::control::parse_request;
use krill_core::mcp::{McpServer, Step};
use proptest::prelude::*;
use serde_json::json;

fn check(step: &Step) {
    if let Step::Reply(reply) = step {
        assert_eq!(reply["jsonrpc"], "2.0");
        assert!(reply.get("id").is_some());
        assert!(reply.get("result").is_some() != reply.get("error").is_some());
    }
}

proptest! {
    #[test]
    fn any_text(line in ".{0,200}") {
        let mut server = McpServer::new();
        check(&server.handle_line(&line));
        let _ = parse_request(&line);
    }

    #[test]
    fn any_method_and_params(
        method in "[a-z/]{0,20}",
        id in prop_oneof![Just(json!(1)), Just(json!("a")), Just(json!(null))],
        params in prop_oneof![Just(json!({})), Just(json!([1])), Just(json!({"name": 5})), Just(json!({"name": "x", "arguments": 3}))],
    ) {
        let mut server = McpServer::new();
        let line = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string();
        check(&server.handle_line(&line));
    }
}

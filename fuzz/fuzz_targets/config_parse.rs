//! Fuzz target `config_parse`: arbitrary bytes through the JSON5 tree parser
//! and the whole config pipeline (parse, check, accounts, access policy).
//! Nothing may panic; every error must name a line and column inside the
//! text.
#![no_main]

use krill_core::access::{AccessPolicy, ResolvedAllowlists};
use krill_core::config::{parse, resolve_accounts, tree};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(doc) = tree::parse(text) {
        assert!(doc.root.span.end <= text.len());
    }
    match parse(text) {
        Ok((config, warnings)) => {
            for w in &warnings {
                assert!(w.line >= 1 && w.column >= 1);
            }
            let env = |_: &str| Some("token".to_owned());
            for account in resolve_accounts(&config, &env) {
                let policy = AccessPolicy::new(&config, &account, ResolvedAllowlists::default());
                let _ = policy.startup_warnings();
            }
        }
        Err(e) => {
            assert!(!e.problems.is_empty());
            let lines = text.split(['\n', '\r', '\u{2028}', '\u{2029}']).count();
            for p in &e.problems {
                assert!(p.line >= 1 && p.line <= lines.max(1), "line {} of {lines}", p.line);
            }
        }
    }
});

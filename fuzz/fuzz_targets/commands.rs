//! Fuzz target `commands`: arbitrary text through the command parsers
//! (text commands, `/config` arguments, key paths, slash interactions) and
//! the `/config` editor. Nothing may panic; an edit that succeeds on a
//! parsable file leaves a parsable file.
#![no_main]

use krill_core::commands::{parse_config_args, parse_interaction, parse_text_command, ConfigOp};
use krill_core::config::edit::{redacted_view, set_value, unset_value};
use krill_core::config::{tree, KeyPath};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse_text_command(text);
    let _ = text.parse::<KeyPath>();
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
        let _ = parse_interaction(&value);
    }
    // `<file>\0<config arguments>`: the arguments edit the file.
    let (file, args) = text.split_once('\0').unwrap_or((text, "set a.b 1"));
    let edited = match parse_config_args(args) {
        Ok(ConfigOp::Set(path, value)) => set_value(file, &path, &value).ok(),
        Ok(ConfigOp::Unset(path)) => unset_value(file, &path).ok(),
        Ok(ConfigOp::Get(path)) => {
            let _ = redacted_view(file, &path);
            None
        }
        _ => None,
    };
    if let Some(edited) = edited {
        if tree::parse(file).is_ok() || tree::is_blank(file) {
            assert!(tree::parse(&edited).is_ok(), "an edit broke the file: {edited:?}");
        }
    }
});

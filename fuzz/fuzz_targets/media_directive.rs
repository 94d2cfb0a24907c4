//! Fuzz target `media_directive`: arbitrary bytes → lossy UTF-8 reply →
//! `extract_media`, then the invariants:
//! - no panic; the text never grows;
//! - without directives the text is the reply unchanged;
//! - no line of the remaining text outside a code fence is a directive
//!   (checked again: extracting twice finds nothing more);
//! - every target is non-empty and has no line break.
#![no_main]

use krill_core::media::extract_media;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let reply = String::from_utf8_lossy(data);
    let out = extract_media(&reply);
    assert!(out.text.len() <= reply.len());
    if out.media.is_empty() {
        assert_eq!(out.text, reply);
    } else {
        assert!(extract_media(&out.text).media.is_empty());
    }
    for target in &out.media {
        let t = target.as_str();
        assert!(!t.is_empty());
        assert!(!t.contains(['\n', '\r']));
    }
});

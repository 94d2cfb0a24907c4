//! Fuzz target `discord_frame`: bytes from the network never panic the
//! Discord frame parser or the zlib-stream inflater.
//!
//! The input is parsed as one text frame (lossy UTF-8), then split into
//! chunks (the first byte picks the chunk size) and fed in order into one
//! `ZlibStream` with a small limit, each inflated message being parsed too.
#![no_main]

use krill_core::discord::{GatewayFrame, OutgoingFrame, ZlibStream};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(frame) = GatewayFrame::parse(&text) {
        // Client frames re-serialise without panicking.
        match frame {
            GatewayFrame::Identify(identify) => {
                let _ = OutgoingFrame::identify(&identify);
            }
            GatewayFrame::Resume(resume) => {
                let _ = OutgoingFrame::resume(&resume);
            }
            _ => {}
        }
    }

    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(split).max(1);
    let mut stream = ZlibStream::with_limit(64 * 1024);
    for piece in rest.chunks(chunk) {
        match stream.push(piece) {
            Ok(Some(message)) => {
                let _ = GatewayFrame::parse(&message);
            }
            Ok(None) => {}
            // A broken stream ends the connection; start a new one.
            Err(_) => stream = ZlibStream::with_limit(64 * 1024),
        }
    }
});

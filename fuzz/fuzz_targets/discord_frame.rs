//! Fuzz target `discord_frame` (to be filled in by the issue that owns the parser).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = data;
});

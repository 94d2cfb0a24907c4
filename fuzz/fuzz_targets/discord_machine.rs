//! Fuzz target `discord_machine`: an arbitrary sequence of driver inputs
//! (frames, closes, connect results, timeouts, time jumps, commands),
//! decoded from the bytes, never panics a `Shard`, and the shard never
//! wedges (a timer is pending whenever it is connected or backing off).
#![no_main]

use std::time::{Duration, Instant};

use krill_core::discord::{
    GatewayBot, GatewayCommand, GatewayFetchError, PresenceUpdate, SessionStartLimit, Shard,
    ShardConfig, ShardState,
};
use libfuzzer_sys::fuzz_target;

const FRAMES: &[&str] = &[
    r#"{"op":10,"d":{"heartbeat_interval":41250}}"#,
    r#"{"op":10,"d":{"heartbeat_interval":0}}"#,
    r#"{"op":11}"#,
    r#"{"op":11,"d":null,"s":null,"t":null}"#,
    r#"{"op":1,"d":null}"#,
    r#"{"op":7,"d":null}"#,
    r#"{"op":9,"d":true}"#,
    r#"{"op":9,"d":false}"#,
    r#"{"op":0,"s":1,"t":"READY","d":{"user":{"id":"1"},"session_id":"s","resume_gateway_url":"wss://r"}}"#,
    r#"{"op":0,"s":2,"t":"RESUMED","d":{}}"#,
    r#"{"op":0,"s":3,"t":"MESSAGE_CREATE","d":{"id":"1","channel_id":"2","author":{"id":"3"}}}"#,
    r#"{"op":0,"s":4,"t":"NEW_THING","d":{}}"#,
];

/// Reads the input a byte (or a few) at a time.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    fn take(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        head
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Bytes(data);
    let Some(flags) = input.byte() else {
        return;
    };
    let mut config = ShardConfig::new("token");
    config.compress = flags & 1 == 1;
    let mut shard = Shard::new(config, u64::from(flags));
    let mut now = Instant::now();
    shard.start(now);
    let mut steps = 0;
    while let Some(op) = input.byte() {
        steps += 1;
        if steps > 2000 {
            break;
        }
        match op % 12 {
            0 => {
                let ok = input.byte().unwrap_or(0);
                let result = match ok % 4 {
                    0 | 1 => Ok(GatewayBot {
                        url: "wss://g".to_owned(),
                        shards: 1,
                        session_start_limit: Some(SessionStartLimit {
                            total: 1000,
                            remaining: u32::from(ok / 4),
                            reset_after: u64::from(ok) * 1000,
                            max_concurrency: u32::from(ok % 16),
                        }),
                    }),
                    2 => Err(GatewayFetchError::Unauthorized),
                    _ => Err(GatewayFetchError::Transient { retry_after: None }),
                };
                shard.handle_gateway_fetched(now, result);
            }
            1 => shard.handle_connected(now),
            2 => shard.handle_connect_failed(now),
            3 => {
                let i = usize::from(input.byte().unwrap_or(0)) % FRAMES.len();
                shard.handle_text_frame(now, FRAMES[i]);
            }
            4 => {
                let n = usize::from(input.byte().unwrap_or(0));
                let text = String::from_utf8_lossy(input.take(n)).into_owned();
                shard.handle_text_frame(now, &text);
            }
            5 => {
                let n = usize::from(input.byte().unwrap_or(0));
                let bytes = input.take(n).to_vec();
                shard.handle_binary_frame(now, &bytes);
            }
            6 => {
                let hi = input.byte().unwrap_or(0);
                let lo = input.byte().unwrap_or(0);
                let close = (hi != 0).then(|| (u16::from_be_bytes([hi, lo]), String::new()));
                shard.handle_closed(now, close);
            }
            7 => {
                if let Some(at) = shard.poll_timeout() {
                    now = now.max(at);
                }
                shard.handle_timeout(now);
            }
            8 => {
                let secs = u64::from(input.byte().unwrap_or(0));
                now += Duration::from_millis(secs * 250);
                shard.handle_timeout(now);
            }
            9 => {
                let n = usize::from(input.byte().unwrap_or(0)) * 20;
                let _ = shard.send_command(
                    now,
                    GatewayCommand::PresenceUpdate(PresenceUpdate {
                        since: None,
                        activities: vec![],
                        status: "x".repeat(n),
                        afk: false,
                    }),
                );
            }
            10 => {
                let secs = u64::from(input.byte().unwrap_or(0));
                shard.hold_identify_until(now + Duration::from_secs(secs));
            }
            _ => {
                if op == 255 {
                    shard.shutdown(now);
                }
            }
        }
        let mut outputs = 0;
        while shard.poll_output().is_some() {
            outputs += 1;
            assert!(outputs < 1000, "busy loop of outputs");
        }
        let state = shard.state();
        if state.is_connected() || matches!(state, ShardState::BackingOff { .. }) {
            assert!(shard.poll_timeout().is_some(), "wedged in {state:?}");
        }
    }
});

//! The e2e bench's floor: the smallest Discord echo bot we could write in
//! Rust, one thread, blocking `tungstenite` + `ureq` on a kept-alive
//! connection, no store, access control, routing or agent. It answers
//! every MESSAGE_CREATE not by a bot with its content, like the discord.py
//! baseline. It is started as `floor_echo gateway --config <krill.json5>`
//! (the bench's krill command line) and reads `token` and `apiBaseUrl`
//! from that file. What krill costs above this is what its features and
//! its runtime cost; what this costs is what any Rust bot pays on the
//! machine.

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::Message;

type Error = Box<dyn std::error::Error>;

fn main() {
    if let Err(error) = run() {
        eprintln!("floor_echo: {error}");
        std::process::exit(1);
    }
}

/// The string value of `key: "..."` in the bench's config file.
fn config_value(config: &str, key: &str) -> Result<String, Error> {
    let marker = format!("{key}: \"");
    let start = config
        .find(&marker)
        .ok_or(format!("no {key} in the config"))?
        + marker.len();
    let len = config[start..]
        .find('"')
        .ok_or(format!("{key} is not closed"))?;
    Ok(config[start..start + len].to_owned())
}

fn run() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .iter()
        .position(|a| a == "--config")
        .and_then(|i| args.get(i + 1))
        .ok_or("usage: floor_echo gateway --config <file>")?;
    let config = std::fs::read_to_string(path)?;
    let token = config_value(&config, "token")?;
    let api = config_value(&config, "apiBaseUrl")?;
    let auth = format!("Bot {token}");
    let http: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let gateway: Value = http
        .get(&format!("{api}/gateway/bot"))
        .header("Authorization", &auth)
        .call()?
        .body_mut()
        .read_json()?;
    let url = gateway["url"].as_str().ok_or("no gateway url")?;
    let (mut ws, _) = tungstenite::connect(format!("{url}/?v=10&encoding=json"))?;
    let mut seq: Option<u64> = None;
    let mut interval = Duration::from_secs(40);
    let mut next_beat = Instant::now() + interval;
    let mut me = String::new();
    loop {
        let now = Instant::now();
        if now >= next_beat {
            ws.send(Message::text(json!({"op": 1, "d": seq}).to_string()))?;
            next_beat = now + interval;
        }
        if let MaybeTlsStream::Plain(socket) = ws.get_mut() {
            let wait = next_beat.saturating_duration_since(now);
            socket.set_read_timeout(Some(wait.max(Duration::from_millis(1))))?;
        }
        let text = match ws.read() {
            Ok(Message::Text(text)) => text,
            Ok(_) => continue,
            Err(tungstenite::Error::Io(e))
                if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
            {
                continue
            }
            Err(e) => return Err(e.into()),
        };
        let frame: Value = serde_json::from_str(&text)?;
        if let Some(s) = frame["s"].as_u64() {
            seq = Some(s);
        }
        match (frame["op"].as_u64(), frame["t"].as_str()) {
            (Some(10), _) => {
                let ms = frame["d"]["heartbeat_interval"].as_u64().unwrap_or(40_000);
                interval = Duration::from_millis(ms);
                next_beat = Instant::now() + interval;
                let identify = json!({"op": 2, "d": {
                    "token": token,
                    "intents": 37377,
                    "properties": {"os": "linux", "browser": "floor_echo", "device": "floor_echo"},
                }});
                ws.send(Message::text(identify.to_string()))?;
            }
            (Some(1), _) => ws.send(Message::text(json!({"op": 1, "d": seq}).to_string()))?,
            (Some(0), Some("READY")) => {
                me = frame["d"]["user"]["id"].as_str().unwrap_or("").to_owned();
            }
            (Some(0), Some("MESSAGE_CREATE")) => {
                let message = &frame["d"];
                let author = &message["author"];
                if author["bot"] == true || author["id"].as_str() == Some(me.as_str()) {
                    continue;
                }
                let Some(channel) = message["channel_id"].as_str() else {
                    continue;
                };
                let mut answer = http
                    .post(&format!("{api}/channels/{channel}/messages"))
                    .header("Authorization", &auth)
                    .send_json(json!({"content": message["content"]}))?;
                answer.body_mut().read_to_vec()?;
            }
            _ => {}
        }
    }
}

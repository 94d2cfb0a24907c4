//! Fuzz target `rest_response`: arbitrary bytes become an HTTP status,
//! headers and body, fed to every REST decoder and to a Discord and a KOOK
//! planner's `handle_response`. Nothing may panic.
//!
//! Layout: byte 0 picks the request kind, bytes 1..3 the status (big
//! endian), then `name:value` header lines up to the first empty line, then
//! the body.
#![no_main]

use std::time::{Duration, Instant};

use krill_core::rest::{
    discord, kook, Api, HttpResponse, Planner, Platform, Request, RetryPolicy,
};
use krill_core::secret::Secret;
use libfuzzer_sys::fuzz_target;

fn split(data: &[u8]) -> Option<(u8, HttpResponse)> {
    let (&pick, rest) = data.split_first()?;
    let (status, rest) = rest.split_at_checked(2)?;
    let status = u16::from_be_bytes([status[0], status[1]]);
    let (head, body) = match rest.windows(2).position(|w| w == b"\n\n") {
        Some(i) => (&rest[..i], &rest[i + 2..]),
        None => (rest, &[][..]),
    };
    let headers = String::from_utf8_lossy(head)
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    Some((
        pick,
        HttpResponse {
            status,
            headers,
            body: body.to_vec(),
        },
    ))
}

fn discord_request(pick: u8) -> discord::Request {
    match pick % 7 {
        0 => discord::Request::GatewayBot,
        1 => discord::Request::CurrentUser,
        2 => discord::Request::CreateMessage(discord::CreateMessage {
            channel_id: "1".into(),
            content: "x".into(),
            reply_to: Some("2".into()),
            nonce: None,
            mentions: krill_core::reply::mentions::MentionPolicy::default(),
        }),
        3 => discord::Request::OpenDm {
            recipient_id: "3".into(),
        },
        4 => discord::Request::TriggerTyping {
            channel_id: "1".into(),
        },
        5 => discord::Request::SearchGuildMembers {
            guild_id: "5".into(),
            query: "alice".into(),
            limit: 10,
        },
        _ => discord::Request::CreateReaction {
            channel_id: "1".into(),
            message_id: "2".into(),
            emoji: "<:k:4>".into(),
        },
    }
}

fn kook_request(pick: u8) -> kook::Request {
    match pick % 5 {
        0 => kook::Request::GatewayIndex { compress: false },
        1 => kook::Request::UserMe,
        2 => kook::Request::MessageCreate(kook::MessageCreate {
            target_id: "1".into(),
            content: "x".into(),
            quote: None,
            nonce: None,
        }),
        3 => kook::Request::DirectMessageCreate(kook::DirectMessageCreate {
            target: kook::DmTarget::ChatCode("c".into()),
            content: "x".into(),
            quote: None,
            nonce: None,
        }),
        _ => kook::Request::DeleteReaction {
            direct: pick & 0x80 != 0,
            msg_id: "m".into(),
            emoji: "e".into(),
            user_id: None,
        },
    }
}

fn drive(platform: Platform, request: Request, response: &HttpResponse) {
    let t0 = Instant::now();
    let api = Api::with_default_base(platform, Secret::new("token"));
    let mut planner = Planner::new(api, RetryPolicy::default(), 1);
    let Ok(id) = planner.submit(t0, request.clone()) else {
        return;
    };
    let _ = planner.submit(t0, request);
    let mut now = t0;
    // The same answer a few times: retries, holds, final outcomes.
    for _ in 0..4 {
        while let Some((sent, _)) = planner.poll_transmit(now) {
            let _ = planner.handle_response(now, sent, response.clone());
        }
        while planner.poll_event().is_some() {}
        now = planner
            .poll_timeout()
            .map_or(now, |t| t.max(now))
            .checked_add(Duration::from_millis(1))
            .unwrap_or(now);
    }
    let _ = planner.handle_response(now, id, response.clone());
    let _ = planner.handle_transport_error(now, id, "x");
}

fuzz_target!(|data: &[u8]| {
    let Some((pick, response)) = split(data) else {
        return;
    };
    let _ = discord::RateLimitHeaders::parse(&response);
    let _ = discord::RateLimitBody::parse(&response.body);
    let _ = discord::ErrorBody::parse(&response.body);
    let _ = kook::RateLimitHeaders::parse(&response);
    if let Ok(envelope) = kook::Envelope::parse(&response.body) {
        let _ = kook::classify_code(envelope.code);
        let _ = kook_request(pick).decode_data(envelope.data);
    }
    let _ = discord_request(pick).decode_success(&response.body);
    if let Ok(text) = std::str::from_utf8(&response.body) {
        let _ = discord::allowed_mentions(text, pick & 1 == 1);
        let _ = discord::reaction_emoji(text);
    }
    drive(Platform::Discord, discord_request(pick).into(), &response);
    drive(Platform::Kook, kook_request(pick).into(), &response);
});

//! Quick checks of the fakes with raw clients (sync tungstenite, HTTP/1.1 by
//! hand): they speak the protocol the way the docs say.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use async_tungstenite::tungstenite::{self, Message, WebSocket};
use flate2::{Decompress, FlushDecompress};
use krill_testkit::discord::{self, Author};
use krill_testkit::kook::{FakeKook, FakeKookOptions, KookHello};
use krill_testkit::{FakeDiscord, FakeDiscordOptions, ScriptedResponse};
use serde_json::{json, Value};

const T: Duration = Duration::from_secs(5);

type Ws = WebSocket<TcpStream>;

fn ws_connect(url: &str) -> Ws {
    let rest = url.trim_start_matches("ws://");
    let hostport = rest.split(['/', '?']).next().expect("host");
    let tcp = TcpStream::connect(hostport).expect("tcp connect");
    tcp.set_read_timeout(Some(T)).expect("timeout");
    let (ws, _) = tungstenite::client(url, tcp).expect("upgrade");
    ws
}

fn recv_json(ws: &mut Ws) -> Value {
    loop {
        match ws.read().expect("frame") {
            Message::Text(t) => return serde_json::from_str(t.as_str()).expect("json"),
            Message::Binary(b) => {
                let mut d = flate2::read::ZlibDecoder::new(&b[..]);
                let mut s = String::new();
                d.read_to_string(&mut s).expect("one zlib stream per frame");
                return serde_json::from_str(&s).expect("json");
            }
            _ => {}
        }
    }
}

fn send_json(ws: &mut Ws, v: Value) {
    ws.send(Message::Text(v.to_string().into())).expect("send");
}

/// A minimal HTTP/1.1 client: (status, headers, body).
fn http(method: &str, url: &str, auth: &str, body: Option<Value>) -> (u16, String, Value) {
    let rest = url.trim_start_matches("http://");
    let (hostport, path) = rest.split_at(rest.find('/').expect("path"));
    let mut tcp = TcpStream::connect(hostport).expect("connect");
    tcp.set_read_timeout(Some(T)).expect("timeout");
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        tcp,
        "{method} {path} HTTP/1.1\r\nHost: {hostport}\r\nAuthorization: {auth}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut resp = String::new();
    tcp.read_to_string(&mut resp).expect("read");
    let (head, body) = resp.split_once("\r\n\r\n").expect("head");
    let status = head[9..12].parse().expect("status");
    (
        status,
        head.to_owned(),
        serde_json::from_str(body).unwrap_or(Value::Null),
    )
}

fn identify(ws: &mut Ws, token: &str) -> Value {
    send_json(
        ws,
        json!({"op": 2, "d": {"token": token, "intents": 46593,
        "properties": {"os": "linux", "browser": "krill", "device": "krill"}}}),
    );
    recv_json(ws)
}

#[test]
fn discord_gateway_hello_identify_ready_heartbeat_dispatch() {
    let fake = FakeDiscord::start(FakeDiscordOptions {
        heartbeat_interval_ms: 1234,
        ..Default::default()
    });
    let mut ws = ws_connect(&format!("{}/?v=10&encoding=json", fake.gateway_url()));
    let hello = recv_json(&mut ws);
    assert_eq!(hello["op"], 10);
    assert_eq!(hello["d"]["heartbeat_interval"], 1234);

    let ready = identify(&mut ws, &fake.options().token);
    assert_eq!(
        (ready["op"].clone(), ready["t"].clone(), ready["s"].clone()),
        (json!(0), json!("READY"), json!(1))
    );
    assert_eq!(ready["d"]["user"]["id"], discord::BOT_USER_ID);
    assert_eq!(ready["d"]["resume_gateway_url"], fake.gateway_url());
    assert_eq!(
        fake.wait_for_identify(T).expect("identify")["intents"],
        46593
    );
    fake.wait_for_ready_client(T).expect("ready");
    assert_eq!(fake.connections()[0].query_param("encoding"), Some("json"));

    send_json(&mut ws, json!({"op": 1, "d": 1}));
    assert_eq!(recv_json(&mut ws)["op"], 11);
    assert_eq!(fake.heartbeats(), vec![Some(1)]);

    let d = discord::message_create_dm(discord::DM_CHANNEL_ID, &Author::nelly(), "hi");
    fake.dispatch("MESSAGE_CREATE", d);
    let m = recv_json(&mut ws);
    assert_eq!(
        (m["s"].clone(), m["t"].clone()),
        (json!(2), json!("MESSAGE_CREATE"))
    );
    assert_eq!(m["d"]["content"], "hi");
    assert!(m["d"].get("guild_id").is_none());

    // A second identify on the same connection is 4005.
    send_json(
        &mut ws,
        json!({"op": 2, "d": {"token": fake.options().token}}),
    );
    match ws.read().expect("close") {
        Message::Close(Some(f)) => assert_eq!(u16::from(f.code), 4005),
        other => panic!("expected close 4005, got {other:?}"),
    }
}

#[test]
fn discord_resume_replays_missed_dispatches_then_resumed() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let token = fake.options().token.clone();
    let mut ws = ws_connect(&fake.gateway_url());
    recv_json(&mut ws);
    let ready = identify(&mut ws, &token);
    let sid = ready["d"]["session_id"].as_str().expect("sid").to_owned();
    fake.dispatch("TYPING_START", json!({"n": 2}));
    assert_eq!(recv_json(&mut ws)["s"], 2);
    drop(ws);
    fake.wait_for_disconnect(T).expect("gone");
    fake.dispatch("MESSAGE_CREATE", json!({"n": 3}));
    fake.dispatch("MESSAGE_CREATE", json!({"n": 4}));

    let mut ws = ws_connect(&fake.gateway_url());
    recv_json(&mut ws);
    send_json(
        &mut ws,
        json!({"op": 6, "d": {"token": token, "session_id": sid, "seq": 2}}),
    );
    let got: Vec<(Value, Value)> = (0..3)
        .map(|_| {
            let f = recv_json(&mut ws);
            (f["s"].clone(), f["t"].clone())
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (json!(3), json!("MESSAGE_CREATE")),
            (json!(4), json!("MESSAGE_CREATE")),
            (json!(5), json!("RESUMED"))
        ]
    );
    fake.wait_for_resumed(1, T).expect("resumed");

    // An unknown session gets op 9 d=false.
    let mut ws2 = ws_connect(&fake.gateway_url());
    recv_json(&mut ws2);
    send_json(
        &mut ws2,
        json!({"op": 6, "d": {"token": token, "session_id": "nope", "seq": 1}}),
    );
    let inv = recv_json(&mut ws2);
    assert_eq!(
        (inv["op"].clone(), inv["d"].clone()),
        (json!(9), json!(false))
    );
}

#[test]
fn discord_queued_dispatches_reach_a_fresh_session_after_ready() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    fake.dispatch("MESSAGE_CREATE", json!({"early": true}));
    let mut ws = ws_connect(&fake.gateway_url());
    recv_json(&mut ws);
    identify(&mut ws, &fake.options().token);
    let m = recv_json(&mut ws);
    assert_eq!(
        (m["s"].clone(), m["d"]["early"].clone()),
        (json!(2), json!(true))
    );
}

#[test]
fn discord_zlib_stream_frames_share_one_inflate_context() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let mut ws = ws_connect(&format!(
        "{}/?v=10&encoding=json&compress=zlib-stream",
        fake.gateway_url()
    ));
    let mut inflate = Decompress::new(true);
    let mut frames = Vec::new();
    send_json(
        &mut ws,
        json!({"op": 2, "d": {"token": fake.options().token}}),
    );
    while frames.len() < 2 {
        if let Message::Binary(b) = ws.read().expect("frame") {
            assert!(b.ends_with(&[0, 0, 0xff, 0xff]));
            let mut out = Vec::with_capacity(64 * 1024);
            inflate
                .decompress_vec(&b, &mut out, FlushDecompress::Sync)
                .expect("inflate");
            frames.push(serde_json::from_slice::<Value>(&out).expect("json"));
        }
    }
    assert_eq!(frames[0]["op"], 10);
    assert_eq!(frames[1]["t"], "READY");
}

#[test]
fn discord_rest_auth_scripted_429_and_nonce_dedup() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let base = fake.api_base_url();
    let auth = format!("Bot {}", fake.options().token);
    let (st, _, body) = http("GET", &format!("{base}/gateway/bot"), &auth, None);
    assert_eq!(st, 200);
    assert_eq!(body["url"], fake.gateway_url());
    assert_eq!(body["session_start_limit"]["max_concurrency"], 1);
    let (st, _, body) = http("GET", &format!("{base}/users/@me"), "Bot wrong", None);
    assert_eq!(
        (st, body),
        (401, json!({"message": "401: Unauthorized", "code": 0}))
    );

    let fixture = json!({"status": 429, "headers": {"Retry-After": "65", "X-RateLimit-Scope": "user"},
        "body": {"message": "You are being rate limited.", "retry_after": 64.57, "global": false}});
    fake.push_http_response(
        "POST /channels/*/messages",
        ScriptedResponse::from_fixture(&fixture).expect("fixture"),
    );
    let url = format!("{base}/channels/{}/messages", discord::CHANNEL_ID);
    let msg = json!({"content": "hello", "nonce": "n-1", "enforce_nonce": true});
    let (st, head, body) = http("POST", &url, &auth, Some(msg.clone()));
    assert_eq!(st, 429);
    assert!(head.contains("Retry-After: 65"), "{head}");
    assert_eq!(body["retry_after"], 64.57);
    assert!(fake.posted_messages().is_empty());

    let (st, _, first) = http("POST", &url, &auth, Some(msg.clone()));
    assert_eq!(st, 200);
    let (st, _, again) = http("POST", &url, &auth, Some(msg));
    assert_eq!(st, 200);
    assert_eq!(first["id"], again["id"]);
    let posts = fake.wait_for_posts(1, T).expect("post");
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].content, "hello");
    assert_eq!(posts[0].header("authorization"), Some(auth.as_str()));
    assert_eq!(fake.duplicate_post_attempts().len(), 1);
    assert_eq!(fake.requests().len(), 5);
    assert!(fake.requests()[2].scripted);

    let (st, _, body) = http("GET", &format!("{base}/nope"), &auth, None);
    assert_eq!(
        (st, body["message"].clone()),
        (404, json!("404: Not Found"))
    );
    let react = format!("{base}/channels/1/messages/2/reactions/%F0%9F%94%A5/@me");
    assert_eq!(http("PUT", &react, &auth, None).0, 204);
    assert_eq!(fake.reactions()[0].emoji, "🔥");
}

#[test]
fn kook_gateway_hello_ping_events_resume() {
    let fake = FakeKook::start(FakeKookOptions::default());
    let auth = format!("Bot {}", fake.options().token);
    let (st, _, body) = http(
        "GET",
        &format!("{}/gateway/index?compress=0", fake.api_base_url()),
        &auth,
        None,
    );
    assert_eq!((st, body["code"].clone()), (200, json!(0)));
    let url = body["data"]["url"].as_str().expect("url").to_owned();
    assert!(url.contains("compress=0&token=fake-gw-token-"), "{url}");
    assert_eq!(fake.gateway_fetch_count(), 1);

    let mut ws = ws_connect(&url);
    let hello = recv_json(&mut ws);
    assert_eq!(
        (hello["s"].clone(), hello["d"]["code"].clone()),
        (json!(1), json!(0))
    );
    let sid = hello["d"]["session_id"].as_str().expect("sid").to_owned();
    send_json(&mut ws, json!({"s": 2, "sn": 0}));
    assert_eq!(recv_json(&mut ws), json!({"s": 3}));
    assert_eq!(fake.pings(), vec![0]);

    assert_eq!(fake.event(fake.person_text("2418200000", "你好")), Some(1));
    let e = recv_json(&mut ws);
    assert_eq!((e["s"].clone(), e["sn"].clone()), (json!(0), json!(1)));
    assert_eq!(e["d"]["channel_type"], "PERSON");
    drop(ws);
    fake.wait_for_disconnect(T).expect("gone");
    fake.event(json!({"n": 2}));
    fake.event(json!({"n": 3}));

    let mut ws = ws_connect(&format!("{url}&resume=1&sn=1&sessionId={sid}"));
    assert_eq!(recv_json(&mut ws)["s"], 1);
    assert_eq!(recv_json(&mut ws)["sn"], 2);
    assert_eq!(recv_json(&mut ws)["sn"], 3);
    assert_eq!(
        recv_json(&mut ws),
        json!({"s": 6, "d": {"session_id": sid}})
    );
    assert_eq!(fake.resume_count(), 1);

    // s=5 invalidates: resuming that session now gets 40107.
    assert!(fake.send_reconnect(40108));
    assert_eq!(recv_json(&mut ws)["s"], 5);
    let mut ws = ws_connect(&format!("{url}&resume=1&sn=3&session_id={sid}"));
    assert_eq!(recv_json(&mut ws)["d"]["code"], 40107);
}

#[test]
fn kook_compressed_frames_tokens_and_rest() {
    let fake = FakeKook::start(FakeKookOptions {
        compress: true,
        ..Default::default()
    });
    let auth = format!("Bot {}", fake.options().token);
    let base = fake.api_base_url();
    let (_, _, body) = http("GET", &format!("{base}/gateway/index"), &auth, None);
    let url = body["data"]["url"].as_str().expect("url").to_owned();
    assert!(url.contains("compress=1"));
    let mut ws = ws_connect(&url);
    match ws.read().expect("frame") {
        Message::Binary(_) => {}
        other => panic!("expected a binary frame, got {other:?}"),
    }
    fake.expire_gateway_tokens();
    let mut ws = ws_connect(&url);
    assert_eq!(recv_json(&mut ws), json!({"s": 1, "d": {"code": 40103}}));
    fake.set_hello(KookHello::Error(40101));

    assert_eq!(
        http("GET", &format!("{base}/user/me"), "Bot nope", None).0,
        401
    );
    fake.push_http_response(
        "POST /message/create",
        ScriptedResponse::json(
            200,
            &[],
            &json!({"code": 40000, "message": "x", "data": []}),
        ),
    );
    let msg = json!({"type": 9, "target_id": "c1", "content": "hi"});
    let (st, _, body) = http(
        "POST",
        &format!("{base}/message/create"),
        &auth,
        Some(msg.clone()),
    );
    assert_eq!((st, body["code"].clone()), (200, json!(40000)));
    let (_, _, body) = http("POST", &format!("{base}/message/create"), &auth, Some(msg));
    assert_eq!(body["code"], 0);
    assert!(body["data"]["msg_id"].is_string());
    let posts = fake.wait_for_posts(1, T).expect("post");
    assert_eq!(
        (
            posts[0].target_id.as_str(),
            posts[0].msg_type,
            posts[0].direct
        ),
        ("c1", 9, false)
    );
}

fn close_code(ws: &mut Ws) -> u16 {
    loop {
        match ws.read().expect("frame") {
            Message::Close(Some(f)) => return u16::from(f.code),
            Message::Close(None) => return 0,
            _ => {}
        }
    }
}

#[test]
fn discord_controls_op7_op9_zombie_rejects_and_close_codes() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let token = fake.options().token.clone();
    let mut ws = ws_connect(&fake.gateway_url());
    recv_json(&mut ws);
    let sid = identify(&mut ws, &token)["d"]["session_id"].clone();
    assert!(fake.send_op7_reconnect());
    assert_eq!(recv_json(&mut ws)["op"], 7);
    fake.set_heartbeat_ack(false);
    send_json(&mut ws, json!({"op": 1, "d": 1}));
    assert!(fake.send_op9(true));
    // No ACK came before the op 9.
    assert_eq!(
        recv_json(&mut ws),
        json!({"op": 9, "d": true, "s": null, "t": null})
    );
    assert!(fake.send_raw_text("{not json"));
    match ws.read().expect("raw") {
        Message::Text(t) => assert_eq!(t.as_str(), "{not json"),
        other => panic!("{other:?}"),
    }
    // A client close with 1000 invalidates the session.
    ws.close(Some(tungstenite::protocol::CloseFrame {
        code: 1000.into(),
        reason: "".into(),
    }))
    .expect("close");
    while ws.read().is_ok() {}
    fake.wait_for_disconnect(T).expect("gone");
    let mut ws = ws_connect(&fake.gateway_url());
    recv_json(&mut ws);
    send_json(
        &mut ws,
        json!({"op": 6, "d": {"token": token, "session_id": sid, "seq": 1}}),
    );
    assert_eq!(recv_json(&mut ws)["d"], false);

    // Fatal identify scripted; bad JSON is 4002; a wrong token 4004.
    fake.close_on_next_identify(4014, "Disallowed intent(s).");
    send_json(&mut ws, json!({"op": 2, "d": {"token": token}}));
    assert_eq!(close_code(&mut ws), 4014);
    let mut ws = ws_connect(&fake.gateway_url());
    recv_json(&mut ws);
    ws.send(Message::Text("{oops".into())).expect("send");
    assert_eq!(close_code(&mut ws), 4002);
    let mut ws = ws_connect(&fake.gateway_url());
    recv_json(&mut ws);
    send_json(&mut ws, json!({"op": 2, "d": {"token": "wrong"}}));
    assert_eq!(close_code(&mut ws), 4004);

    // reject_resume_next: a valid session is refused once.
    let mut ws = ws_connect(&fake.gateway_url());
    recv_json(&mut ws);
    let sid = identify(&mut ws, &token)["d"]["session_id"].clone();
    drop(ws);
    fake.reject_resume_next(1);
    let mut ws = ws_connect(&fake.gateway_url());
    recv_json(&mut ws);
    send_json(
        &mut ws,
        json!({"op": 6, "d": {"token": token, "session_id": sid, "seq": 1}}),
    );
    assert_eq!(recv_json(&mut ws)["op"], 9);
    assert_eq!(fake.client_close_codes(), vec![Some(1000)]);
}

#[test]
fn kook_out_of_order_duplicates_pong_off_and_hello_modes() {
    let fake = FakeKook::start(FakeKookOptions::default());
    let auth = format!("Bot {}", fake.options().token);
    let index = format!("{}/gateway/index?compress=0", fake.api_base_url());
    let url = http("GET", &index, &auth, None).2["data"]["url"]
        .as_str()
        .expect("url")
        .to_owned();
    let mut ws = ws_connect(&url);
    recv_json(&mut ws);
    fake.event_with_sn(2, json!({"n": 2}));
    fake.event_with_sn(1, json!({"n": 1}));
    fake.event_with_sn(1, json!({"n": "dup"}));
    let sns: Vec<Value> = (0..3).map(|_| recv_json(&mut ws)["sn"].clone()).collect();
    assert_eq!(sns, vec![json!(2), json!(1), json!(1)]);
    assert_eq!(fake.event(json!({"n": 3})), Some(3));
    assert_eq!(recv_json(&mut ws)["sn"], 3);
    fake.set_pong(false);
    send_json(&mut ws, json!({"s": 2, "sn": 3}));
    fake.wait_for_pings(1, T).expect("ping");
    fake.event(json!({"n": 4}));
    // The next frame is the event, not a PONG.
    assert_eq!(recv_json(&mut ws)["sn"], 4);

    fake.set_hello(KookHello::Error(40103));
    let mut ws = ws_connect(&url);
    assert_eq!(recv_json(&mut ws)["d"]["code"], 40103);
    fake.set_hello(KookHello::After(Duration::from_millis(200)));
    let mut ws = ws_connect(&url);
    assert_eq!(recv_json(&mut ws)["d"]["code"], 0);
    let no_token = url.split("&token").next().expect("url").to_owned();
    let mut ws = ws_connect(&no_token);
    assert_eq!(recv_json(&mut ws)["d"]["code"], 40100);
}

#[test]
fn dropping_a_fake_stops_its_servers() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let http = fake.api_base_url();
    let ws = fake.gateway_url();
    drop(fake);
    let port = |u: &str| {
        u.rsplit(':')
            .next()
            .and_then(|p| p.split('/').next())
            .map(str::to_owned)
    };
    for u in [http, ws] {
        let addr = format!("127.0.0.1:{}", port(&u).expect("port"));
        // tiny_http's accept thread lets go of its socket just after the
        // drop; give it a bounded moment.
        let closed = (0..100).any(|_| {
            let refused = TcpStream::connect(&addr).is_err();
            if !refused {
                std::thread::sleep(Duration::from_millis(20));
            }
            refused
        });
        assert!(closed, "{u} still listening");
    }
}

#[test]
fn discord_member_search_matches_username_or_nick_prefix_and_honours_the_intent() {
    use krill_testkit::discord::{GuildMember, GUILD_ID};
    let members = vec![
        GuildMember::new(Author::user("1", "alice")),
        GuildMember::new(Author::user("2", "alina")),
        GuildMember {
            user: Author::user("3", "bob"),
            nick: Some("Alfred".into()),
        },
    ];
    let fake = FakeDiscord::start(FakeDiscordOptions {
        guild_members: members.clone(),
        ..Default::default()
    });
    let base = fake.api_base_url();
    let auth = format!("Bot {}", fake.options().token);
    let search = |query: &str| {
        http(
            "GET",
            &format!("{base}/guilds/{GUILD_ID}/members/search?{query}"),
            &auth,
            None,
        )
    };
    let ids = |v: &Value| -> Vec<String> {
        v.as_array()
            .expect("a list")
            .iter()
            .map(|m| m["user"]["id"].as_str().expect("id").to_owned())
            .collect()
    };
    let (st, _, body) = search("query=AL&limit=10");
    assert_eq!(st, 200);
    assert_eq!(ids(&body), ["1", "2", "3"], "username or nickname prefix");
    let (_, _, body) = search("query=ali");
    assert_eq!(ids(&body), ["1"], "limit defaults to 1");
    assert_eq!(search("limit=5").0, 400, "query is required");
    assert_eq!(search("query=a&limit=0").0, 400);
    let (st, _, _) = http(
        "GET",
        &format!("{base}/guilds/1/members/search?query=a"),
        &auth,
        None,
    );
    assert_eq!(st, 404, "unknown guild");

    let refused = FakeDiscord::start(FakeDiscordOptions {
        guild_members: members,
        members_intent: false,
        ..Default::default()
    });
    let (st, _, body) = http(
        "GET",
        &format!(
            "{}/guilds/{GUILD_ID}/members/search?query=alice",
            refused.api_base_url()
        ),
        &format!("Bot {}", refused.options().token),
        None,
    );
    assert_eq!((st, body["code"].as_i64()), (403, Some(50001)));
}

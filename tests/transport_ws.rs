//! The WebSocket transport (`krill_drivers::ws`) against the fake Discord
//! gateway and a few hostile listeners.

use std::time::Duration;

use krill_drivers::ws::{self, WsError, WsMessage};
use krill_testkit::{FakeDiscord, FakeDiscordOptions};
use serde_json::{json, Value};

const T: Duration = Duration::from_secs(5);
const UA: &str = "DiscordBot (https://github.com/krill, 0.1.0)";

fn text_json(m: Option<Result<WsMessage, WsError>>) -> Value {
    match m {
        Some(Ok(WsMessage::Text(t))) => serde_json::from_str(&t).expect("json frame"),
        other => panic!("expected a text frame, got {other:?}"),
    }
}

fn url(fake: &FakeDiscord) -> String {
    format!("{}/?v=10&encoding=json", fake.gateway_url())
}

#[test]
fn connects_receives_hello_and_heartbeat_ack_with_user_agent() {
    let fake = FakeDiscord::start(FakeDiscordOptions {
        heartbeat_interval_ms: 777,
        ..Default::default()
    });
    smol::block_on(async {
        let mut conn = ws::connect(&url(&fake), UA, T).await.expect("connect");
        let hello = text_json(conn.recv().await);
        assert_eq!(hello["op"], 10);
        assert_eq!(hello["d"]["heartbeat_interval"], 777);
        conn.send_text(json!({"op": 1, "d": null}).to_string())
            .await
            .expect("send");
        assert_eq!(text_json(conn.recv().await)["op"], 11);
        conn.close(4000).await;
    });
    assert_eq!(fake.heartbeats(), vec![None]);
    let c = &fake.connections()[0];
    assert_eq!(c.header("user-agent"), Some(UA));
    assert_eq!(c.query_param("v"), Some("10"));
    assert_eq!(
        fake.wait_for_client_close(T).expect("close frame"),
        Some(4000)
    );
}

#[test]
fn split_halves_send_and_receive() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let token = fake.options().token.clone();
    smol::block_on(async {
        let conn = ws::connect(&url(&fake), UA, T).await.expect("connect");
        let (mut tx, mut rx) = conn.split();
        assert_eq!(text_json(rx.recv().await)["op"], 10);
        tx.send_text(json!({"op": 2, "d": {"token": token, "intents": 46593}}).to_string())
            .await
            .expect("identify");
        assert_eq!(text_json(rx.recv().await)["t"], "READY");
        tx.close(4000).await;
        // The peer answers the close; the stream then ends.
        loop {
            match rx.recv().await {
                Some(Ok(WsMessage::Close(c))) => {
                    assert_eq!(c.map(|c| c.0), Some(4000));
                }
                None | Some(Err(_)) => break,
                Some(Ok(other)) => panic!("unexpected frame {other:?}"),
            }
        }
    });
    assert_eq!(fake.identify_count(), 1);
}

#[test]
fn server_close_frame_surfaces_with_code_and_reason() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    smol::block_on(async {
        let mut conn = ws::connect(&url(&fake), UA, T).await.expect("connect");
        text_json(conn.recv().await);
        assert!(fake.close(4014, "Disallowed intent(s)."));
        match conn.recv().await {
            Some(Ok(WsMessage::Close(Some((code, reason))))) => {
                assert_eq!((code, reason.as_str()), (4014, "Disallowed intent(s)."));
            }
            other => panic!("expected close 4014, got {other:?}"),
        }
    });
}

#[test]
fn dropped_tcp_surfaces_as_reset_or_end() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    smol::block_on(async {
        let mut conn = ws::connect(&url(&fake), UA, T).await.expect("connect");
        text_json(conn.recv().await);
        assert!(fake.drop_tcp());
        match conn.recv().await {
            None | Some(Err(WsError::Reset)) => {}
            other => panic!("expected reset or end, got {other:?}"),
        }
    });
}

#[test]
fn zlib_stream_frames_arrive_as_binary() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    smol::block_on(async {
        let u = format!("{}&compress=zlib-stream", url(&fake));
        let mut conn = ws::connect(&u, UA, T).await.expect("connect");
        match conn.recv().await {
            Some(Ok(WsMessage::Binary(b))) => assert!(b.ends_with(&[0, 0, 0xff, 0xff])),
            other => panic!("expected a binary frame, got {other:?}"),
        }
    });
}

#[test]
fn a_listener_that_never_answers_the_upgrade_times_out() {
    // The kernel completes the TCP handshake from the backlog; nobody ever
    // reads the upgrade request.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let err = smol::block_on(ws::connect(
        &format!("ws://127.0.0.1:{port}/gateway?token=SECRET-TOKEN"),
        UA,
        Duration::from_millis(300),
    ))
    .expect_err("must time out");
    assert!(err.is_timeout(), "{err:?}");
    let shown = err.to_string();
    assert!(!shown.contains("SECRET-TOKEN"), "{shown}");
    assert!(shown.contains("token=<redacted>"), "{shown}");
    drop(listener);
}

#[test]
fn refused_and_rejected_connections_are_typed_errors_without_tokens() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let err = smol::block_on(ws::connect(
        &format!("ws://127.0.0.1:{port}/?token=SECRET-TOKEN"),
        UA,
        T,
    ))
    .expect_err("refused");
    assert!(matches!(err, WsError::Connect { .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("SECRET-TOKEN"));

    // The REST port is no WebSocket endpoint: the upgrade (no token) gets
    // HTTP 401.
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let http_url = fake.api_base_url().replace("http://", "ws://");
    let err = smol::block_on(ws::connect(&http_url, UA, T)).expect_err("rejected");
    assert!(
        matches!(err, WsError::UpgradeRejected { status: 401, .. }),
        "{err:?}"
    );

    let err = smol::block_on(ws::connect("not a url", UA, T)).expect_err("invalid");
    assert!(matches!(err, WsError::InvalidUrl { .. }), "{err:?}");
}

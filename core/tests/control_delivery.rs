//! [`Delivery`]: a Discord DM opens the DM channel first, chunks go out one
//! at a time in order, the first failure ends it; KOOK DMs and channels use
//! their own endpoints; every delivery ends for any sequence of answers.

use krill_core::control::{Delivery, DeliveryOutcome, FileLimits, Target};
use krill_core::media::OutboundFile;
use krill_core::platform::Platform;
use krill_core::reply::{ChunkLimits, ChunkMode, MentionPolicy};
use krill_core::rest::discord::{DmChannel, Message, Request as DiscordRequest};
use krill_core::rest::kook::{Asset, MediaTarget, MessageCreated, Request as KookRequest};
use krill_core::rest::{Request, Response};
use proptest::prelude::*;

const FILE_LIMITS: FileLimits = FileLimits {
    max_bytes: 8 * 1_048_576,
    platform_limit: 10 * 1_048_576,
};

fn limits() -> ChunkLimits {
    ChunkLimits::new(10, None, ChunkMode::Length)
}

fn posted(id: &str) -> Response {
    Response::DiscordMessage(Message {
        id: id.to_owned(),
        channel_id: "c".to_owned(),
    })
}

#[test]
fn discord_dm_opens_the_channel_then_posts_each_chunk() {
    let target = Target::User("7".into());
    let mut delivery = Delivery::new(
        Platform::Discord,
        target,
        "aaaa bbbb cccc",
        Vec::new(),
        &limits(),
        FILE_LIMITS,
        MentionPolicy::default(),
    )
    .unwrap();
    let Some(Request::Discord(DiscordRequest::OpenDm { recipient_id })) = delivery.poll_request()
    else {
        panic!("opens the DM first");
    };
    assert_eq!(recipient_id, "7");
    assert!(delivery.poll_request().is_none(), "one request at a time");
    delivery.handle_response(&Response::DiscordDmChannel(DmChannel { id: "99".into() }));
    let mut ids = Vec::new();
    let mut n = 0;
    while let Some(request) = delivery.poll_request() {
        let Request::Discord(DiscordRequest::CreateMessage(create)) = request else {
            panic!("posts");
        };
        assert_eq!(create.channel_id, "99");
        assert!(create.content.chars().count() <= 10);
        n += 1;
        ids.push(n.to_string());
        delivery.handle_response(&posted(&n.to_string()));
    }
    assert!(n >= 2);
    assert_eq!(delivery.outcome(), Some(&DeliveryOutcome::Sent(ids)));
}

#[test]
fn the_first_failure_ends_the_delivery() {
    let mut delivery = Delivery::new(
        Platform::Discord,
        Target::Channel("5".into()),
        "aaaa bbbb cccc",
        Vec::new(),
        &limits(),
        FILE_LIMITS,
        MentionPolicy::default(),
    )
    .unwrap();
    assert!(delivery.poll_request().is_some());
    delivery.handle_response(&posted("1"));
    assert!(delivery.poll_request().is_some());
    delivery.handle_failure("missing permission (HTTP 403)");
    assert!(delivery.poll_request().is_none());
    let Some(DeliveryOutcome::Failed { error, sent }) = delivery.outcome() else {
        panic!("failed");
    };
    assert!(error.contains("channel:5") && error.contains("HTTP 403"));
    assert_eq!(sent, &vec!["1".to_owned()]);
}

#[test]
fn kook_targets_use_their_endpoints() {
    for (target, direct) in [
        (Target::User("1".into()), true),
        (Target::Channel("2".into()), false),
    ] {
        let mut delivery = Delivery::new(
            Platform::Kook,
            target,
            "hi",
            Vec::new(),
            &limits(),
            FILE_LIMITS,
            MentionPolicy::default(),
        )
        .unwrap();
        match delivery.poll_request() {
            Some(Request::Kook(KookRequest::DirectMessageCreate(_))) => assert!(direct),
            Some(Request::Kook(KookRequest::MessageCreate(_))) => assert!(!direct),
            other => panic!("unexpected {other:?}"),
        }
        delivery.handle_response(&Response::KookMessage(MessageCreated {
            msg_id: "m".into(),
            msg_timestamp: 0,
            nonce: String::new(),
        }));
        assert_eq!(
            delivery.outcome(),
            Some(&DeliveryOutcome::Sent(vec!["m".into()]))
        );
    }
}

#[test]
fn empty_text_is_refused() {
    assert!(Delivery::new(
        Platform::Discord,
        Target::Channel("5".into()),
        "  \n ",
        Vec::new(),
        &limits(),
        FILE_LIMITS,
        MentionPolicy::default()
    )
    .is_err());
}

fn kook_posted(id: &str) -> Response {
    Response::KookMessage(MessageCreated {
        msg_id: id.into(),
        msg_timestamp: 0,
        nonce: String::new(),
    })
}

#[test]
fn discord_files_ride_on_the_last_chunk_in_one_multipart_post() {
    let files = vec![
        OutboundFile::new("a.png", None, vec![1, 2, 3]),
        OutboundFile::new("b.pdf", None, vec![4]),
    ];
    let mut delivery = Delivery::new(
        Platform::Discord,
        Target::Channel("5".into()),
        "see attached",
        files,
        &limits(),
        FILE_LIMITS,
        MentionPolicy::default(),
    )
    .unwrap();
    let Some(Request::Discord(DiscordRequest::CreateMessage(first))) = delivery.poll_request()
    else {
        panic!("the first chunk is text");
    };
    assert_eq!(first.content, "see");
    delivery.handle_response(&posted("1"));
    let Some(Request::Discord(DiscordRequest::CreateMessageWithFiles(upload))) =
        delivery.poll_request()
    else {
        panic!("the last chunk carries the files");
    };
    assert_eq!(upload.message.channel_id, "5");
    assert_eq!(upload.message.content, "attached");
    let names: Vec<&str> = upload.files.iter().map(|f| f.filename.as_str()).collect();
    assert_eq!(names, ["a.png", "b.pdf"]);
    delivery.handle_response(&posted("2"));
    assert_eq!(
        delivery.outcome(),
        Some(&DeliveryOutcome::Sent(vec!["1".into(), "2".into()]))
    );
}

#[test]
fn kook_files_are_uploaded_as_assets_then_sent_as_image_or_file_messages() {
    let files = vec![
        OutboundFile::new("a.png", None, vec![1]),
        OutboundFile::new("b.pdf", None, vec![2]),
    ];
    let mut delivery = Delivery::new(
        Platform::Kook,
        Target::User("9".into()),
        "",
        files,
        &limits(),
        FILE_LIMITS,
        MentionPolicy::default(),
    )
    .unwrap();
    let mut ids = Vec::new();
    for (name, kind) in [("a.png", 2), ("b.pdf", 4)] {
        let Some(Request::Kook(KookRequest::AssetCreate(file))) = delivery.poll_request() else {
            panic!("uploads the file first");
        };
        assert_eq!(file.filename, name);
        let url = format!("https://img.kookapp.cn/{name}");
        delivery.handle_response(&Response::KookAsset(Asset { url: url.clone() }));
        let Some(Request::Kook(KookRequest::MediaMessageCreate(message))) = delivery.poll_request()
        else {
            panic!("then sends its message");
        };
        assert_eq!(message.url, url);
        assert_eq!(message.message_type, kind);
        assert!(matches!(message.target, MediaTarget::Direct(_)));
        ids.push(format!("m-{name}"));
        delivery.handle_response(&kook_posted(&format!("m-{name}")));
    }
    assert_eq!(delivery.outcome(), Some(&DeliveryOutcome::Sent(ids)));
}

#[test]
fn a_file_over_the_limit_refuses_the_delivery_by_name_before_sending() {
    let limits_small = FileLimits {
        max_bytes: 2,
        platform_limit: 10,
    };
    let error = Delivery::new(
        Platform::Discord,
        Target::Channel("5".into()),
        "text",
        vec![OutboundFile::new("big.bin", None, vec![0; 3])],
        &limits(),
        limits_small,
        MentionPolicy::default(),
    )
    .unwrap_err();
    assert!(error.contains("big.bin"), "{error}");
}

proptest! {
    /// Whatever the platform answers, the delivery ends within a bounded
    /// number of requests.
    #[test]
    fn every_delivery_ends(text in "[a-z ]{1,60}", answers in prop::collection::vec(0u8..3, 0..40)) {
        prop_assume!(!text.trim().is_empty());
        let mut delivery = Delivery::new(
            Platform::Discord, Target::User("7".into()), &text, Vec::new(), &limits(), FILE_LIMITS, MentionPolicy::default(),
        ).unwrap();
        let mut answers = answers.into_iter();
        for _ in 0..100 {
            if delivery.outcome().is_some() { break; }
            let Some(request) = delivery.poll_request() else { break };
            match (request, answers.next().unwrap_or(0)) {
                (_, 2) => delivery.handle_failure("boom"),
                (Request::Discord(DiscordRequest::OpenDm { .. }), _) => {
                    delivery.handle_response(&Response::DiscordDmChannel(DmChannel { id: "9".into() }))
                }
                (_, 1) => delivery.handle_response(&Response::Empty),
                _ => delivery.handle_response(&posted("x")),
            }
        }
        prop_assert!(delivery.outcome().is_some());
    }
}

//! Scenario: nothing is lost when krill is killed. During a stream of DMs
//! on Discord and KOOK, `krill gateway` gets SIGKILL at random moments
//! (turns and reply messages in flight), messages keep coming while it is
//! down, and it is started again within a second, three times in a row.
//! Every message is answered exactly once on both platforms (the KOOK
//! messages are all different, so the documented undetectable duplicate
//! cannot occur), and each restart resumes the saved gateway sessions
//! instead of identifying afresh, so what arrived while krill was down is
//! replayed and answered.

#[path = "support/krill.rs"]
mod krill;

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use krill::{Krill, WAIT};
use krill_testkit::discord::{message_create_dm, Author, DM_CHANNEL_ID};
use krill_testkit::{FakeDiscord, FakeDiscordOptions, FakeKook, FakeKookOptions};

const KOOK_USER: &str = "2418200000";

fn config(discord: &FakeDiscord, kook: &FakeKook) -> String {
    format!(
        r#"{{
  channels: {{
    discord: {{ token: "{dt}", apiBaseUrl: "{db}", dm: {{ policy: "open", allowFrom: ["*"] }} }},
    kook: {{ token: "{kt}", apiBaseUrl: "{kb}", allowedUserId: "{KOOK_USER}" }},
  }},
}}"#,
        dt = discord.options().token,
        db = discord.api_base_url(),
        kt = kook.options().token,
        kb = kook.api_base_url()
    )
}

/// A small deterministic generator (the seed is printed on failure).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

struct Stream<'a> {
    discord: &'a FakeDiscord,
    kook: &'a FakeKook,
    alice: Author,
    sent: Vec<String>,
}

impl Stream<'_> {
    fn send(&mut self) {
        let n = self.sent.len();
        let d = format!("discord message {n}");
        let k = format!("kook message {n}");
        self.discord.dispatch(
            "MESSAGE_CREATE",
            message_create_dm(DM_CHANNEL_ID, &self.alice, &d),
        );
        self.kook.event(self.kook.person_text(KOOK_USER, &k));
        self.sent.push(format!("{n}"));
    }
}

fn counts<'a>(texts: impl Iterator<Item = &'a str>) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for text in texts {
        *counts.entry(text.to_owned()).or_insert(0) += 1;
    }
    counts
}

#[test]
fn killed_three_times_every_message_is_answered_once_and_sessions_resume() {
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1;
    eprintln!("seed {seed}");
    let mut rng = Rng(seed);
    let discord = FakeDiscord::start(FakeDiscordOptions::default());
    let kook = FakeKook::start(FakeKookOptions::default());
    let config = config(&discord, &kook);
    let mut krill = Krill::start(&config, &["gateway"]);
    discord.wait_for_ready_client(WAIT).expect("Discord ready");
    kook.wait_for_ready_client(WAIT).expect("KOOK ready");
    let kook_session = kook.session_id();
    let mut stream = Stream {
        discord: &discord,
        kook: &kook,
        alice: Author::user("111111111111111111", "alice"),
        sent: Vec::new(),
    };

    for round in 1..=3 {
        // A stream, killed at a random moment.
        for _ in 0..3 + rng.below(8) {
            stream.send();
            std::thread::sleep(Duration::from_millis(rng.below(25)));
        }
        let state = krill.stop();
        // Messages sent while krill is down.
        stream.send();
        stream.send();
        std::thread::sleep(Duration::from_millis(rng.below(800)));
        krill = Krill::start_in(state, &config, &["gateway"], &[]);
        discord.wait_for_resumed(round, WAIT).unwrap_or_else(|e| {
            panic!(
                "seed {seed}: Discord resume {round}: {e:?}\n{}",
                krill.log()
            )
        });
        kook.wait_for_resumed(round, WAIT)
            .unwrap_or_else(|e| panic!("seed {seed}: KOOK resume {round}: {e:?}\n{}", krill.log()));
    }
    stream.send();

    let total = stream.sent.len();
    let deadline = Instant::now() + WAIT;
    loop {
        let d = discord.posted_messages().len();
        let k = kook.posted_messages().len();
        if (d >= total && k >= total) || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // Give late duplicates a chance to show.
    std::thread::sleep(Duration::from_millis(500));

    let d_posts = discord.posted_messages();
    let k_posts = kook.posted_messages();
    let d_counts = counts(d_posts.iter().map(|p| p.content.as_str()));
    let k_counts = counts(k_posts.iter().map(|p| p.content.as_str()));
    for n in &stream.sent {
        let d = format!("discord message {n}");
        let k = format!("kook message {n}");
        assert_eq!(
            d_counts.get(&d),
            Some(&1),
            "seed {seed}: Discord answers {d:?} exactly once\n{}",
            krill.log()
        );
        assert_eq!(
            k_counts.get(&k),
            Some(&1),
            "seed {seed}: KOOK answers {k:?} exactly once\n{}",
            krill.log()
        );
    }
    assert_eq!(d_posts.len(), total, "seed {seed}: no other Discord post");
    assert_eq!(k_posts.len(), total, "seed {seed}: no other KOOK post");
    assert_eq!(
        discord.identify_count(),
        1,
        "seed {seed}: every restart resumed the Discord session"
    );
    assert_eq!(
        kook.session_id(),
        kook_session,
        "seed {seed}: every restart resumed the KOOK session"
    );
    assert!(krill.state_dir().join("krill.db").exists());
}

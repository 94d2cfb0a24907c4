//! The two fake platforms a soak bench runs krill between (the fake Discord
//! and fake KOOK of `krill-testkit`, loopback only): starting them for the
//! whole run, krill's config and state dir for them, waiting for krill to
//! be ready on both, and the stream of DMs at a steady rate on both while
//! the bench does its damage; then the replies the fakes were posted.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use krill_testkit::discord::{message_create_dm, Author, DM_CHANNEL_ID};
use krill_testkit::{FakeDiscord, FakeDiscordOptions, FakeKook, FakeKookOptions};

use crate::soak::{fresh_dir, KrillProcess};

/// The KOOK user the stream talks as (the only one krill answers).
pub const KOOK_USER: &str = "2418200000";

/// One of the two platforms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Platform {
    /// The fake Discord.
    Discord,
    /// The fake KOOK.
    Kook,
}

impl Platform {
    /// Both, Discord first.
    pub const BOTH: [Self; 2] = [Self::Discord, Self::Kook];

    /// `discord` or `kook`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Discord => "discord",
            Self::Kook => "kook",
        }
    }

    /// Message `n`'s tag on this platform: `{prefix}-d-{n}` or `{prefix}-k-{n}`.
    pub fn tag(self, prefix: &str, n: u64) -> String {
        match self {
            Self::Discord => format!("{prefix}-d-{n}"),
            Self::Kook => format!("{prefix}-k-{n}"),
        }
    }
}

/// The fake Discord and fake KOOK of one run.
#[derive(Clone)]
pub struct Fakes {
    /// The fake Discord.
    pub discord: Arc<FakeDiscord>,
    /// The fake KOOK.
    pub kook: Arc<FakeKook>,
}

impl Fakes {
    /// Starts both, living `lifetime` (see [`crate::soak::Knobs::lifetime`]);
    /// Discord with `discord`'s other options.
    pub fn start(lifetime: Duration, discord: FakeDiscordOptions) -> Self {
        Self {
            discord: Arc::new(FakeDiscord::start(FakeDiscordOptions {
                lifetime,
                ..discord
            })),
            kook: Arc::new(FakeKook::start(FakeKookOptions {
                lifetime,
                ..FakeKookOptions::default()
            })),
        }
    }

    /// A fresh state dir `<tmp>/<prefix>-<pid>` holding krill's config for
    /// both fakes (Discord DMs open to all, KOOK to [`KOOK_USER`]); returns
    /// the dir and the config file.
    ///
    /// # Panics
    /// When the dir or the file cannot be written.
    pub fn state_dir(&self, prefix: &str) -> (PathBuf, PathBuf) {
        let state = fresh_dir(prefix).expect("create the state dir");
        let config = format!(
            r#"{{
  channels: {{
    discord: {{ token: "{dt}", apiBaseUrl: "{da}", dm: {{ policy: "open", allowFrom: ["*"] }} }},
    kook: {{ token: "{kt}", apiBaseUrl: "{ka}", allowedUserId: "{KOOK_USER}" }},
  }},
}}
"#,
            dt = self.discord.options().token,
            da = self.discord.api_base_url(),
            kt = self.kook.options().token,
            ka = self.kook.api_base_url(),
        );
        let config_path = state.join("krill.json5");
        std::fs::write(&config_path, config).expect("write the config");
        (state, config_path)
    }

    /// Waits up to 30 s for krill to be ready on both; else exits with 1,
    /// saying so as `bench` with krill's last log lines.
    pub fn wait_ready(&self, bench: &str, krill: &KrillProcess) {
        let ready = Duration::from_secs(30);
        if self.discord.wait_for_ready_client(ready).is_err()
            || self.kook.wait_for_ready_client(ready).is_err()
        {
            eprintln!("{bench}: krill never got ready\n{}", krill.tail());
            std::process::exit(1);
        }
    }

    /// Whether krill has no live gateway connection on `platform`.
    pub fn disconnected(&self, platform: Platform) -> bool {
        match platform {
            Platform::Discord => self.discord.live_connection_count() == 0,
            Platform::Kook => self.kook.live_connection_count() == 0,
        }
    }

    /// Sends `text` to krill as a DM on `platform` (alice's on Discord,
    /// [`KOOK_USER`]'s on KOOK).
    pub fn send_dm(&self, platform: Platform, text: &str) {
        match platform {
            Platform::Discord => self.discord.dispatch(
                "MESSAGE_CREATE",
                message_create_dm(
                    DM_CHANNEL_ID,
                    &Author::user("111111111111111111", "alice"),
                    text,
                ),
            ),
            Platform::Kook => {
                self.kook.event(self.kook.person_text(KOOK_USER, text));
            }
        }
    }

    /// The texts krill has posted on `platform`, in posting order.
    pub fn posts(&self, platform: Platform) -> Vec<String> {
        match platform {
            Platform::Discord => self
                .discord
                .posted_messages()
                .into_iter()
                .map(|p| p.content)
                .collect(),
            Platform::Kook => self
                .kook
                .posted_messages()
                .into_iter()
                .map(|p| p.content)
                .collect(),
        }
    }
}

/// DMs to krill on both platforms, each from a thread of its own, until
/// [`Stream::stop`].
pub struct Stream {
    sending: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Stream {
    /// Starts sending `rate` DMs a second on each platform, whether or not
    /// krill is connected (the fakes keep what they could not deliver for a
    /// resume): message `n` on a platform is `message(platform, n)`, called
    /// right before it is sent (to record it).
    pub fn start(
        fakes: &Fakes,
        rate: u64,
        message: impl Fn(Platform, u64) -> String + Send + Sync + 'static,
    ) -> Self {
        let sending = Arc::new(AtomicBool::new(true));
        let message = Arc::new(message);
        let gap = Duration::from_secs(1) / u32::try_from(rate).unwrap_or(u32::MAX);
        let threads = Platform::BOTH
            .into_iter()
            .map(|platform| {
                let (fakes, sending, message) = (fakes.clone(), sending.clone(), message.clone());
                std::thread::spawn(move || {
                    let start = Instant::now();
                    let mut n: u64 = 0;
                    while sending.load(Ordering::SeqCst) {
                        fakes.send_dm(platform, &message(platform, n));
                        n += 1;
                        let next = start + gap * u32::try_from(n).unwrap_or(u32::MAX);
                        std::thread::sleep(next.saturating_duration_since(Instant::now()));
                    }
                })
            })
            .collect();
        Self { sending, threads }
    }

    /// Stops sending (after the messages being sent).
    pub fn stop(self) {
        self.sending.store(false, Ordering::SeqCst);
        for t in self.threads {
            let _ = t.join();
        }
    }
}

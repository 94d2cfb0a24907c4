//! [`Platform`]: which chat platform an account, a message or a request
//! belongs to, and the facts krill keeps per platform (config and CLI name,
//! token variable, default API base URL, `User-Agent`).

use std::fmt;
use std::str::FromStr;

/// A chat platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Platform {
    /// Discord.
    Discord,
    /// KOOK.
    Kook,
}

impl Platform {
    /// Every platform, in a stable order.
    pub const ALL: [Platform; 2] = [Platform::Discord, Platform::Kook];

    /// `discord` / `kook`: the name in config keys, session keys, file names
    /// and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Discord => "discord",
            Self::Kook => "kook",
        }
    }

    /// The default `apiBaseUrl`.
    pub fn default_api_base_url(self) -> &'static str {
        match self {
            Platform::Discord => "https://discord.com/api/v10",
            Platform::Kook => "https://www.kookapp.cn/api/v3",
        }
    }

    /// Where the token comes from, for error messages.
    pub fn token_hint(self) -> &'static str {
        match self {
            Platform::Discord => "DISCORD_BOT_TOKEN / channels.discord.token",
            Platform::Kook => "KOOK_BOT_TOKEN / channels.kook.token",
        }
    }

    /// The `User-Agent` krill sends. Discord requires the
    /// `DiscordBot (url, version)` form.
    pub fn user_agent(self) -> String {
        let version = env!("CARGO_PKG_VERSION");
        match self {
            Platform::Discord => {
                format!("DiscordBot (https://github.com/krill-bot/krill, {version})")
            }
            Platform::Kook => format!("krill/{version} (+https://github.com/krill-bot/krill)"),
        }
    }

    /// The environment variable holding the default account's token.
    pub fn token_env(self) -> &'static str {
        match self {
            Self::Discord => "DISCORD_BOT_TOKEN",
            Self::Kook => "KOOK_BOT_TOKEN",
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not `discord` or `kook`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown channel {0:?}: expected \"discord\" or \"kook\"")]
pub struct UnknownPlatform(pub String);

impl FromStr for Platform {
    type Err = UnknownPlatform;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "discord" => Ok(Self::Discord),
            "kook" => Ok(Self::Kook),
            _ => Err(UnknownPlatform(s.to_owned())),
        }
    }
}

//! Finding, reading and parsing the config file (the only file I/O of
//! config; the parsing and checking is `krill_core::config::parse`).
//!
//! Location: `--config PATH`, else `$KRILL_CONFIG`, else
//! `~/.krill/krill.json5` ([`crate::paths::config_location`]). A missing
//! default file means the default config (echo agent; channels start only
//! from `DISCORD_BOT_TOKEN` / `KOOK_BOT_TOKEN`) plus a one-line hint; a
//! missing file the user named is an error. Every subcommand that needs the
//! config calls [`load_or_exit`] and returns its exit code (2) on failure.

use std::fmt;
use std::path::{Path, PathBuf};

use krill_core::config::{self, Config, ConfigError, Warning};

use crate::paths::{config_location, ConfigLocation};

/// A config ready to use.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// The parsed config.
    pub config: Config,
    /// Warnings to log (already logged by [`load_or_exit`]).
    pub warnings: Vec<Warning>,
    /// Keys the file sets that have no effect yet
    /// ([`config::keys_without_effect`]): `krill gateway` logs them at
    /// start-up and `krill doctor` prints them.
    pub no_effect: Vec<Warning>,
    /// Where it was looked for.
    pub location: ConfigLocation,
    /// False when the default file does not exist and defaults are used.
    pub from_file: bool,
}

/// Why the config could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigFileError {
    /// A file the user named (flag or `$KRILL_CONFIG`) does not exist.
    #[error("{}: config file not found", .path.display())]
    NotFound {
        /// The path.
        path: PathBuf,
    },
    /// The file could not be read (permissions, not UTF-8, ...).
    #[error("{}: cannot read the config file: {source}", .path.display())]
    Read {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file's content is not a valid config.
    #[error("{}", InvalidDisplay(.path, .error))]
    Invalid {
        /// The path.
        path: PathBuf,
        /// Every problem, each with key path, line and column.
        error: ConfigError,
    },
}

struct InvalidDisplay<'a>(&'a Path, &'a ConfigError);

impl fmt::Display for InvalidDisplay<'_> {
    /// One line per problem: `path:line:column: key.path: message`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.1.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{}:{}:{}: ", self.0.display(), p.line, p.column)?;
            if p.path.is_root() {
                f.write_str(&p.message)?;
            } else {
                write!(f, "{}: {}", p.path, p.message)?;
            }
        }
        if self.1.more > 0 {
            write!(f, "\n{}: {}", self.0.display(), self.1.more_line())?;
        }
        Ok(())
    }
}

/// Finds, reads and parses the config.
pub fn load(flag: Option<&Path>) -> Result<LoadedConfig, ConfigFileError> {
    let location = config_location(flag);
    let text = match std::fs::read(&location.path) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|e| ConfigFileError::Read {
            path: location.path.clone(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && location.is_default => {
            return Ok(LoadedConfig {
                config: Config::default(),
                warnings: Vec::new(),
                no_effect: Vec::new(),
                location,
                from_file: false,
            });
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ConfigFileError::NotFound {
                path: location.path,
            })
        }
        Err(source) => {
            return Err(ConfigFileError::Read {
                path: location.path,
                source,
            })
        }
    };
    match config::parse(&text) {
        Ok((config, warnings)) => Ok(LoadedConfig {
            no_effect: config::keys_without_effect(&text, &config),
            config,
            warnings,
            location,
            from_file: true,
        }),
        Err(error) => Err(ConfigFileError::Invalid {
            path: location.path,
            error,
        }),
    }
}

impl LoadedConfig {
    /// Logs one warning per key the file sets that has no effect yet,
    /// naming the file, line and key path.
    pub fn log_keys_without_effect(&self) {
        for w in &self.no_effect {
            tracing::warn!(
                "{}:{}:{}: {}: {}",
                self.location.path.display(),
                w.line,
                w.column,
                w.path,
                w.message
            );
        }
    }
}

/// [`load`], printing what went wrong: errors on stderr (`Err(2)`, the exit
/// code to return), warnings and the "no config file" hint to the log.
pub fn load_or_exit(flag: Option<&Path>) -> Result<LoadedConfig, i32> {
    match load(flag) {
        Ok(loaded) => {
            if !loaded.from_file {
                tracing::info!(
                    "no config file at {}: using defaults (echo agent; channels start from DISCORD_BOT_TOKEN / KOOK_BOT_TOKEN)",
                    loaded.location.path.display()
                );
            }
            for w in &loaded.warnings {
                tracing::warn!(
                    "{}:{}:{}: {}: {}",
                    loaded.location.path.display(),
                    w.line,
                    w.column,
                    w.path,
                    w.message
                );
            }
            Ok(loaded)
        }
        Err(e) => {
            for line in e.to_string().lines() {
                errln!("error: {line}");
            }
            Err(crate::cli::EXIT_USAGE)
        }
    }
}

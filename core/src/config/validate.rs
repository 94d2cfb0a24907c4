//! Checks that need more than a type: ranges, combinations (`dm.policy`
//! `open` without `"*"`), regexes (compiled once here), ids, and the
//! warnings (ignored keys, duplicate keys).

use std::collections::BTreeMap;

use regex::{Regex, RegexBuilder};

use super::de::Issue;
use super::path::{KeyPath, Seg};
use super::schema::{
    Config, DiscordConfig, DmConfig, DmPolicy, GroupChatConfig, KookConfig, MediaConfig,
    DISCORD_TEXT_CHUNK_LIMIT, KOOK_TEXT_CHUNK_LIMIT_MAX,
};
use super::tree::{line_col, Document, Node, Span, Value};
use crate::agent::BackendSpec;
use crate::rest::RetryPolicy;

/// Largest `historyLimit` accepted (messages kept in memory per channel).
pub const HISTORY_LIMIT_MAX: u32 = 1000;
/// The smallest `textChunkLimit` (either platform): room for a code
/// block's closing and reopening lines around some text.
pub const MIN_TEXT_CHUNK_LIMIT: u32 = 20;
/// The largest `maxReplyChars`.
pub const MAX_REPLY_CHARS_MAX: u32 = 1_000_000;
/// Largest compiled size of one mention pattern.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Mention patterns compiled at load (case-insensitive).
#[derive(Debug, Clone, Default)]
pub(crate) struct Compiled {
    /// `messages.groupChat.mentionPatterns`
    pub messages: Vec<Regex>,
    /// `agents.defaults.groupChat.mentionPatterns`, when set.
    pub agent_defaults: Option<Vec<Regex>>,
    /// `agents.list[].groupChat.mentionPatterns`, by agent id, when set.
    pub per_agent: BTreeMap<String, Vec<Regex>>,
}

/// What [`check`] found.
pub(crate) struct Checked {
    pub errors: Vec<Issue>,
    pub warnings: Vec<Issue>,
    pub compiled: Compiled,
}

struct Checker<'d> {
    doc: &'d Document,
    errors: Vec<Issue>,
    warnings: Vec<Issue>,
}

/// Runs every check on a config that deserialized cleanly.
pub(crate) fn check(config: &Config, doc: &Document, text: &str) -> Checked {
    let mut c = Checker {
        doc,
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    for d in &doc.duplicates {
        let what = if d.merged {
            "the two objects were merged"
        } else {
            "the later value wins"
        };
        c.warnings.push(Issue {
            path: d.path.clone(),
            span: d.again,
            message: format!(
                "key written twice in one object (first on line {}); {what}",
                line_col(text, d.first.start).0
            ),
        });
    }
    let channels = KeyPath::dotted("channels");
    if let Some(discord) = &config.channels.discord {
        let base = channels.key("discord");
        c.discord(discord, &base, true);
        for (name, account) in &discord.accounts {
            c.discord(account, &base.key("accounts").key(name), false);
        }
    }
    if let Some(kook) = &config.channels.kook {
        let base = channels.key("kook");
        c.kook(kook, &base, true);
        for (name, account) in &kook.accounts {
            c.kook(account, &base.key("accounts").key(name), false);
        }
    }
    c.history(
        config.messages.group_chat.history_limit,
        &KeyPath::dotted("messages.groupChat.historyLimit"),
    );
    c.media(&config.media);
    let compiled = c.agents(config);
    Checked {
        errors: c.errors,
        warnings: c.warnings,
        compiled,
    }
}

impl Checker<'_> {
    fn error(&mut self, path: KeyPath, message: impl Into<String>) {
        let span = locate(self.doc, &path);
        self.errors.push(Issue {
            path,
            span,
            message: message.into(),
        });
    }

    fn warn(&mut self, path: KeyPath, message: impl Into<String>) {
        let span = locate_key(self.doc, &path);
        self.warnings.push(Issue {
            path,
            span,
            message: message.into(),
        });
    }

    fn range(&mut self, value: Option<u32>, path: &KeyPath, lo: u32, hi: u32) {
        if let Some(v) = value {
            if !(lo..=hi).contains(&v) {
                self.error(
                    path.clone(),
                    format!("must be from {lo} to {hi}, found {v}"),
                );
            }
        }
    }

    /// `textChunkLimit` must leave room for a chunk (a code block's closing
    /// and reopening lines around some text); `maxReplyChars` must hold at
    /// least one chunk.
    fn chunk_limits(
        &mut self,
        chunk: Option<u32>,
        reply: Option<u32>,
        path: &KeyPath,
        max_chunk: u32,
    ) {
        if let Some(v) = chunk {
            if !(MIN_TEXT_CHUNK_LIMIT..=max_chunk).contains(&v) {
                let why = if v < MIN_TEXT_CHUNK_LIMIT {
                    " (a chunk needs room for a code block's closing and reopening lines)"
                } else {
                    ""
                };
                self.error(
                    path.key("textChunkLimit"),
                    format!("must be from {MIN_TEXT_CHUNK_LIMIT} to {max_chunk}, found {v}{why}"),
                );
            }
        }
        self.range(
            reply,
            &path.key("maxReplyChars"),
            MIN_TEXT_CHUNK_LIMIT,
            MAX_REPLY_CHARS_MAX,
        );
    }

    fn history(&mut self, value: Option<u32>, path: &KeyPath) {
        self.range(value, path, 0, HISTORY_LIMIT_MAX);
    }

    fn url(&mut self, value: Option<&str>, path: &KeyPath) {
        if let Some(u) = value {
            if !(u.starts_with("https://") || u.starts_with("http://")) {
                self.error(
                    path.clone(),
                    format!("must start with https:// or http://, found {u:?}"),
                );
            }
        }
    }

    fn retry(&mut self, retry: Option<&RetryPolicy>, path: &KeyPath) {
        let Some(r) = retry else { return };
        self.range(Some(r.attempts), &path.key("attempts"), 1, 100);
        if r.min_delay_ms > r.max_delay_ms {
            self.error(
                path.key("minDelayMs"),
                format!(
                    "must not exceed maxDelayMs ({} > {})",
                    r.min_delay_ms, r.max_delay_ms
                ),
            );
        }
        if !(0.0..=1.0).contains(&r.jitter) {
            self.error(
                path.key("jitter"),
                format!("must be from 0 to 1, found {}", r.jitter),
            );
        }
    }

    fn no_nested_accounts(&mut self, nested: bool, top: bool, path: &KeyPath) {
        if nested && !top {
            self.error(
                path.key("accounts"),
                "accounts cannot be nested inside an account",
            );
        }
    }

    fn discord(&mut self, d: &DiscordConfig, path: &KeyPath, top: bool) {
        self.no_nested_accounts(!d.accounts.is_empty(), top, path);
        if d.require_mention.is_some() {
            self.warn(
                path.key("requireMention"),
                "ignored here: set requireMention under channels.discord.guilds.<id> or one of its channels",
            );
        }
        if let Some(dm) = &d.dm {
            self.dm(dm, &path.key("dm"));
        }
        if let Some(guilds) = &d.guilds {
            for (gid, g) in guilds {
                let gp = path.key("guilds").key(gid);
                if gid.trim().is_empty() {
                    self.error(gp.clone(), "guild keys must be an id, a slug or \"*\"");
                }
                if let Some(t) = &g.reaction_trigger {
                    self.range(
                        Some(t.window_seconds),
                        &gp.key("reactionTrigger").key("windowSeconds"),
                        1,
                        86_400,
                    );
                }
                for cid in g.channels.iter().flat_map(|c| c.keys()) {
                    if cid.trim().trim_start_matches('#').is_empty() {
                        self.error(
                            gp.key("channels").key(cid),
                            "channel keys must be an id, a slug or \"*\"",
                        );
                    }
                }
            }
        }
        self.history(d.history_limit, &path.key("historyLimit"));
        self.history(d.dm_history_limit, &path.key("dmHistoryLimit"));
        for (uid, u) in &d.dms {
            self.history(
                u.history_limit,
                &path.key("dms").key(uid).key("historyLimit"),
            );
        }
        self.chunk_limits(
            d.text_chunk_limit,
            d.max_reply_chars,
            path,
            DISCORD_TEXT_CHUNK_LIMIT,
        );
        self.range(
            d.max_lines_per_message,
            &path.key("maxLinesPerMessage"),
            1,
            10_000,
        );
        self.media_max_mb(d.media_max_mb, &path.key("mediaMaxMb"));
        self.retry(d.retry.as_ref(), &path.key("retry"));
        if let Some(s) = &d.shards {
            let sp = path.key("shards");
            if s.total == 0 {
                self.error(sp.key("total"), "must be at least 1");
            } else {
                let to = s.to.unwrap_or(s.total - 1);
                if to >= s.total {
                    self.error(sp.key("to"), format!("must be below total ({})", s.total));
                } else if s.from > to {
                    self.error(sp.key("from"), format!("must not exceed to ({to})"));
                }
            }
        }
        self.url(d.api_base_url.as_deref(), &path.key("apiBaseUrl"));
        if d.global_rate_limit == Some(0) {
            self.error(
                path.key("globalRateLimit"),
                "must be at least 1 (requests per second)",
            );
        }
    }

    fn dm(&mut self, dm: &DmConfig, path: &KeyPath) {
        let star = dm.allow_from.iter().any(|e| e.as_str().trim() == "*");
        match dm.policy {
            Some(DmPolicy::Open) if !star => self.error(
                path.key("policy"),
                "\"open\" requires dm.allowFrom to contain \"*\" (allowFrom: [\"*\"]); or use \"pairing\"",
            ),
            Some(DmPolicy::Allowlist) if dm.allow_from.is_empty() => self.warn(
                path.key("policy"),
                "\"allowlist\" with an empty dm.allowFrom: nobody can DM the bot",
            ),
            _ => {}
        }
    }

    fn media_max_mb(&mut self, mb: Option<f64>, path: &KeyPath) {
        if let Some(mb) = mb {
            if !(mb > 0.0 && mb <= 500.0) {
                self.error(
                    path.clone(),
                    format!("must be above 0 and at most 500, found {mb}"),
                );
            }
        }
    }

    fn media(&mut self, media: &MediaConfig) {
        let path = KeyPath::dotted("media.localRoots");
        for (i, root) in media.local_roots.iter().enumerate() {
            let absolute = root.starts_with('/') || root.starts_with("~/");
            if !absolute {
                self.error(
                    path.index(i),
                    format!("must be an absolute folder (or start with ~/), found {root:?}"),
                );
            } else if root.trim_end_matches('/').is_empty() {
                self.error(
                    path.index(i),
                    "`/` would let an agent send any file on the machine",
                );
            }
        }
    }

    fn kook(&mut self, k: &KookConfig, path: &KeyPath, top: bool) {
        self.no_nested_accounts(!k.accounts.is_empty(), top, path);
        self.chunk_limits(
            k.text_chunk_limit,
            k.max_reply_chars,
            path,
            KOOK_TEXT_CHUNK_LIMIT_MAX,
        );
        self.range(
            k.max_lines_per_message,
            &path.key("maxLinesPerMessage"),
            1,
            10_000,
        );
        self.history(k.history_limit, &path.key("historyLimit"));
        self.media_max_mb(k.media_max_mb, &path.key("mediaMaxMb"));
        self.retry(k.retry.as_ref(), &path.key("retry"));
        self.url(k.api_base_url.as_deref(), &path.key("apiBaseUrl"));
    }

    fn patterns(&mut self, gc: Option<&GroupChatConfig>, path: &KeyPath) -> Option<Vec<Regex>> {
        let list = gc?.mention_patterns.as_ref()?;
        let base = path.key("groupChat").key("mentionPatterns");
        let mut out = Vec::new();
        for (i, p) in list.iter().enumerate() {
            match RegexBuilder::new(p)
                .case_insensitive(true)
                .size_limit(REGEX_SIZE_LIMIT)
                .build()
            {
                Ok(r) => out.push(r),
                Err(e) => {
                    let detail = e.to_string();
                    let last = detail.lines().last().unwrap_or("invalid regex").trim();
                    let last = last.strip_prefix("error: ").unwrap_or(last);
                    self.error(base.index(i), format!("invalid regex {p:?}: {last}"));
                }
            }
        }
        Some(out)
    }

    fn backend(&mut self, b: Option<&BackendSpec>, path: &KeyPath) {
        let path = path.key("backend");
        match b {
            Some(BackendSpec::Command { command, .. })
                if command.first().is_none_or(|c| c.trim().is_empty()) =>
            {
                self.error(
                    path.key("command"),
                    "must name a program: [\"prog\", \"arg\", ...]",
                );
            }
            Some(BackendSpec::OpenAi { base_url, .. }) => {
                self.url(Some(base_url), &path.key("baseUrl"))
            }
            _ => {}
        }
    }

    fn agents(&mut self, config: &Config) -> Compiled {
        let agents = &config.agents;
        let mut compiled = Compiled {
            messages: self
                .patterns(
                    Some(&config.messages.group_chat),
                    &KeyPath::dotted("messages"),
                )
                .unwrap_or_default(),
            agent_defaults: self.patterns(
                agents.defaults.group_chat.as_ref(),
                &KeyPath::dotted("agents.defaults"),
            ),
            per_agent: BTreeMap::new(),
        };
        self.backend(
            agents.defaults.backend.as_ref(),
            &KeyPath::dotted("agents.defaults"),
        );
        let mut seen_default = false;
        for (i, a) in agents.list.iter().enumerate() {
            let path = KeyPath::dotted("agents.list").index(i);
            let id_ok = !a.id.is_empty()
                && a.id.len() <= 64
                && a.id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !id_ok {
                self.error(
                    path.key("id"),
                    format!(
                        "must be 1 to 64 letters, digits, `-` or `_`, found {:?}",
                        a.id
                    ),
                );
            } else if agents.list[..i].iter().any(|b| b.id == a.id) {
                self.error(path.key("id"), format!("agent id {:?} is used twice", a.id));
            }
            if a.default {
                if seen_default {
                    self.error(path.key("default"), "only one agent may be the default");
                }
                seen_default = true;
            }
            self.backend(a.backend.as_ref(), &path);
            if let Some(p) = self.patterns(a.group_chat.as_ref(), &path) {
                compiled.per_agent.insert(a.id.clone(), p);
            }
        }
        compiled
    }
}

/// The node at `path`, if the file has it.
fn find<'d>(doc: &'d Document, path: &KeyPath) -> Option<(&'d Node, Option<Span>)> {
    let mut node = &doc.root;
    let mut key_span = None;
    for seg in &path.0 {
        match (seg, &node.value) {
            (Seg::Key(k), Value::Object(_)) => {
                let m = node.member(k)?;
                key_span = Some(m.key_span);
                node = &m.value;
            }
            (Seg::Index(i), Value::Array(items)) => {
                node = items.get(*i)?;
                key_span = None;
            }
            _ => return None,
        }
    }
    Some((node, key_span))
}

/// Where the value at `path` is written; else the nearest written ancestor.
pub(crate) fn locate(doc: &Document, path: &KeyPath) -> Span {
    let mut p = path.clone();
    loop {
        if let Some((node, _)) = find(doc, &p) {
            return node.span;
        }
        if p.0.pop().is_none() {
            return doc.root.span;
        }
    }
}

/// Where the key of `path` is written (else as [`locate`]).
fn locate_key(doc: &Document, path: &KeyPath) -> Span {
    match find(doc, path) {
        Some((_, Some(key))) => key,
        _ => locate(doc, path),
    }
}

//! The Discord loop's name directory: the guilds it has seen plus the
//! members that member search found, allowlist names resolved against it
//! (each new mapping logged once), and the searches for names still
//! unresolved when a guild becomes available. What to search and what a
//! refusal means is the core's [`MemberSearch`]; this module carries the
//! requests out and keeps the answers.

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use krill_core::access::{
    resolve_names, user_names, DirChannel, DirGuild, DirMember, Directory, MemberSearch,
    ResolvedAllowlists, SearchOutcome,
};
use krill_core::config::DiscordSettings;
use krill_core::discord::Guild;
use krill_core::rest::{RequestId, Response, RestError};
use tracing::{info, warn};

use super::link::RestLink;

/// See the module docs.
#[derive(Debug, Default)]
pub(crate) struct NameLookup {
    search: MemberSearch,
    /// Search request → its guild.
    pending: HashMap<RequestId, String>,
    /// Guild id → members found by search.
    found: HashMap<String, Vec<DirMember>>,
    logged: BTreeSet<(String, String)>,
}

impl NameLookup {
    /// Resolves `settings`' allowlist names against `guilds` and the
    /// members found so far, logging each new mapping at info. Returns the
    /// resolutions and the names still unresolved.
    pub(crate) fn resolve(
        &mut self,
        channel: &str,
        settings: &DiscordSettings,
        guilds: &HashMap<String, Guild>,
    ) -> (ResolvedAllowlists, Vec<String>) {
        let directory = self.directory(guilds);
        let (names, log) = resolve_names(settings, &directory);
        for (typed, id) in log {
            if self.logged.insert((typed.clone(), id.clone())) {
                info!("{channel}: allowlist entry {typed:?} resolved to {id}");
            }
        }
        let mut unresolved: Vec<String> = user_names(settings)
            .into_iter()
            .map(|(_, name)| name)
            .filter(|name| names.user(name).is_none())
            .collect();
        unresolved.sort();
        unresolved.dedup();
        (names, unresolved)
    }

    /// Searches `guild_id` for the names still `unresolved` (each name once
    /// per guild, none after a refusal), through the planner.
    pub(crate) fn search(
        &mut self,
        now: Instant,
        link: &mut RestLink,
        guild_id: &str,
        unresolved: &[String],
    ) {
        for request in self.search.queries(guild_id, unresolved) {
            if let Some(id) = link.submit(now, request) {
                self.pending.insert(id, guild_id.to_owned());
            }
        }
    }

    /// Takes the answer to request `id` when it is a search: `Some(true)`
    /// when members were added (resolve again), `Some(false)` when nothing
    /// was, `None` when `id` is not a search.
    pub(crate) fn answered(
        &mut self,
        channel: &str,
        id: RequestId,
        result: Result<&Response, &RestError>,
    ) -> Option<bool> {
        let guild_id = self.pending.remove(&id)?;
        let members = match result {
            Ok(Response::DiscordMembers(members)) => Ok(members.clone()),
            Ok(_) => Ok(Vec::new()),
            Err(error) => Err(error),
        };
        match self.search.answered(members) {
            SearchOutcome::Found(members) if !members.is_empty() => {
                self.found.entry(guild_id).or_default().extend(members);
                Some(true)
            }
            SearchOutcome::RefusedFirst(notice) => {
                warn!("{channel}: {notice}");
                Some(false)
            }
            _ => Some(false),
        }
    }

    /// The refusal notice, once Discord refused a member search (for the
    /// status file: `krill doctor` and `channels status` repeat it).
    pub(crate) fn refusal(&self) -> Option<&str> {
        self.search.refusal()
    }

    fn directory(&self, guilds: &HashMap<String, Guild>) -> Directory {
        Directory {
            guilds: guilds
                .values()
                .map(|g| {
                    let mut members: Vec<DirMember> = g
                        .members
                        .iter()
                        .filter_map(|m| {
                            let user = m.user.as_ref()?;
                            Some(DirMember {
                                id: user.id.to_string(),
                                username: user.username.clone(),
                                global_name: user.global_name.clone(),
                                nick: m.nick.clone(),
                            })
                        })
                        .collect();
                    if let Some(found) = self.found.get(g.id.as_str()) {
                        members.extend(found.iter().cloned());
                    }
                    DirGuild {
                        id: g.id.to_string(),
                        name: g.name.clone(),
                        channels: g
                            .channels
                            .iter()
                            .chain(g.threads.iter())
                            .map(|c| DirChannel {
                                id: c.id.to_string(),
                                name: c.name.clone().unwrap_or_default(),
                                parent: c.parent_id.as_ref().map(ToString::to_string),
                            })
                            .collect(),
                        members,
                    }
                })
                .collect(),
        }
    }
}

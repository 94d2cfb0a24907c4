//! Looking up allowlist names that `GUILD_CREATE` did not resolve (without
//! the privileged Server Members Intent it lists little more than the bot):
//! when a guild becomes available, each name entry still unresolved is
//! searched once in that guild with `GET /guilds/{guild.id}/members/search`
//! (through the REST planner, so rate limits hold). The members found join
//! the name directory ([`super::resolve_names`]). A refusal (HTTP 403: the
//! intent is off) stops every further search and is reported once; the
//! entries stay as typed and still match by username at message time.

use std::collections::BTreeSet;

use crate::discord::Member;
use crate::rest::discord::Request;
use crate::rest::RestError;

use super::names::DirMember;

/// `limit` of each search: enough to find the exact name among the members
/// whose names start with it.
pub const MEMBER_SEARCH_LIMIT: u16 = 10;

/// Which searches one Discord account has made, and whether Discord refused
/// them.
#[derive(Debug, Clone, Default)]
pub struct MemberSearch {
    asked: BTreeSet<(String, String)>,
    refused: Option<String>,
}

/// What an answer to a search means.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SearchOutcome {
    /// Members found (possibly none): add them to the directory.
    Found(Vec<DirMember>),
    /// Refused for the first time: say so (the text) once.
    RefusedFirst(String),
    /// Refused again, or failed otherwise: nothing to add; the error was
    /// already reported.
    Nothing,
}

impl MemberSearch {
    /// The searches to send for `guild_id` now that it is available:
    /// one per name of `unresolved` (lowercased allowlist names) not asked
    /// there yet. None once Discord refused.
    pub fn queries(&mut self, guild_id: &str, unresolved: &[String]) -> Vec<Request> {
        if self.refused.is_some() {
            return Vec::new();
        }
        let mut out = Vec::new();
        for name in unresolved {
            // A tag (`name#1234`) is searched by its name part.
            let query = name.split('#').next().unwrap_or(name).trim();
            if query.is_empty() {
                continue;
            }
            if self.asked.insert((guild_id.to_owned(), query.to_owned())) {
                out.push(Request::SearchGuildMembers {
                    guild_id: guild_id.to_owned(),
                    query: query.to_owned(),
                    limit: MEMBER_SEARCH_LIMIT,
                });
            }
        }
        out
    }

    /// The answer to a search: its members, or what a failure means.
    pub fn answered(&mut self, result: Result<Vec<Member>, &RestError>) -> SearchOutcome {
        match result {
            Ok(members) => SearchOutcome::Found(
                members
                    .into_iter()
                    .filter_map(|m| {
                        let user = m.user?;
                        Some(DirMember {
                            id: user.id.to_string(),
                            username: user.username,
                            global_name: user.global_name,
                            nick: m.nick,
                        })
                    })
                    .collect(),
            ),
            Err(RestError::Forbidden { .. }) if self.refused.is_none() => {
                let notice = "member search refused (HTTP 403): the Server Members Intent is off; allowlist names that are not resolved stay as typed and match by username only (enable Server Members Intent in the Developer Portal, or use ids / <@id> mentions)".to_owned();
                self.refused = Some(notice.clone());
                SearchOutcome::RefusedFirst(notice)
            }
            Err(_) => SearchOutcome::Nothing,
        }
    }

    /// The refusal notice, once Discord refused a search.
    pub fn refusal(&self) -> Option<&str> {
        self.refused.as_deref()
    }
}

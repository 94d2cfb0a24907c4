//! Turn tokens for command agents: before a command agent's turn starts,
//! the runner asks the gateway's [`TokenIssuer`] for a [`TurnToken`] (32
//! bytes of OS randomness, granted the turn's [`TurnAccess`] in the core's
//! [`TurnGrants`]) and gives the program `KRILL_TURN_TOKEN` and
//! `KRILL_SOCKET`; dropping the [`TurnToken`] (the turn ended, failed or was
//! stopped) revokes it. The control socket authorizes every tool call with
//! the same table.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use krill_core::control::{TurnGrants, TOKEN_BYTES};
use krill_core::tools::ToolSpecs;

use super::tools::ToolHandler;

/// What a token's turn may do through the control socket.
#[derive(Clone, Default)]
pub struct TurnAccess {
    /// The tools the turn was offered (its `TurnRequest::tools`).
    pub tools: ToolSpecs,
    /// Who carries out its calls (the channel loop, within the turn's
    /// scope); `None` when the turn has no tools.
    pub handler: Option<Arc<dyn ToolHandler>>,
}

/// The tokens granted now (shared by the runner and the control socket).
pub type TurnTokens = Arc<Mutex<TurnGrants<TurnAccess>>>;

/// Issues tokens for turns (set on the runner by the gateway).
#[derive(Clone)]
pub struct TokenIssuer {
    tokens: TurnTokens,
    socket: PathBuf,
}

impl std::fmt::Debug for TokenIssuer {
    /// The socket only: tokens are secrets and never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("socket", &self.socket)
            .finish_non_exhaustive()
    }
}

impl TokenIssuer {
    /// An issuer granting in `tokens`, telling programs the socket `socket`.
    pub fn new(tokens: TurnTokens, socket: PathBuf) -> Self {
        Self { tokens, socket }
    }

    /// A token for a turn that may do `access`; `None` (logged) when the
    /// OS gives no randomness.
    pub fn issue(&self, access: TurnAccess) -> Option<TurnToken> {
        let mut random = [0u8; TOKEN_BYTES];
        if let Err(e) = getrandom::fill(&mut random) {
            tracing::warn!(target: "krill::agent", "no OS randomness for a turn token: {e}");
            return None;
        }
        let token = self
            .tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .grant(random, access);
        Some(TurnToken {
            tokens: self.tokens.clone(),
            token,
            socket: self.socket.clone(),
        })
    }
}

/// A granted token; revoked when dropped.
pub struct TurnToken {
    tokens: TurnTokens,
    token: String,
    socket: PathBuf,
}

impl TurnToken {
    /// The environment the turn's program gets.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("KRILL_TURN_TOKEN".to_owned(), self.token.clone()),
            (
                "KRILL_SOCKET".to_owned(),
                self.socket.to_string_lossy().into_owned(),
            ),
        ]
    }
}

impl Drop for TurnToken {
    fn drop(&mut self) {
        self.tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .revoke(&self.token);
    }
}

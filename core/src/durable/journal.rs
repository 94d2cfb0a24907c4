//! The turn journal's rules. Every message accepted for an agent turn is
//! journaled before the turn runs; a message whose id is already journaled
//! (an event the gateway replays after a resume) is not run again. Turns
//! that were accepted but never answered (the process died while the agent
//! ran) run again, once, in journal order; the runner keeps one session's
//! turns in submission order, so they keep arrival order per session and
//! come before anything that arrives after the restart.

use serde::{Deserialize, Serialize};

use crate::agent::TurnInput;

/// What the journal keeps of a turn: the agent's input and where the reply
/// goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournaledTurn {
    /// The agent's input.
    pub turn: TurnInput,
    /// The chat the reply goes to.
    pub chat_id: String,
    /// A one-to-one DM.
    pub direct: bool,
    /// User ids taking part in the turn (who the reply may ping).
    #[serde(default)]
    pub participants: Vec<String>,
}

impl JournaledTurn {
    /// The JSON kept in the journal.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a journal row back; `None` when it is not a turn.
    pub fn from_json(json: &str) -> Option<Self> {
        serde_json::from_str(json).ok()
    }
}

/// Whether to run a turn for an accepted message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// New: run it (journal row `id`).
    Run {
        /// The journal row.
        id: i64,
    },
    /// Already journaled (a replayed event): do nothing.
    AlreadyJournaled,
    /// The journal could not record it: run it anyway (answering matters
    /// more than exactly-once), unjournaled.
    Unjournaled,
}

impl Admission {
    /// From the store's answer to "journal this message": the new row's id,
    /// `None` when the message was already there, or an error.
    pub fn from_insert<E>(inserted: Result<Option<i64>, E>) -> Self {
        match inserted {
            Ok(Some(id)) => Admission::Run { id },
            Ok(None) => Admission::AlreadyJournaled,
            Err(_) => Admission::Unjournaled,
        }
    }
}

/// The open turns to run again, in the order to submit them: journal order
/// (ids ascending), unreadable rows left out (they are returned apart so
/// the driver can log and close them).
pub fn recovery_order(open: Vec<(i64, String)>) -> (Vec<(i64, JournaledTurn)>, Vec<i64>) {
    let mut open = open;
    open.sort_by_key(|(id, _)| *id);
    let mut runs = Vec::new();
    let mut unreadable = Vec::new();
    for (id, json) in open {
        match JournaledTurn::from_json(&json) {
            Some(turn) => runs.push((id, turn)),
            None => unreadable.push(id),
        }
    }
    (runs, unreadable)
}

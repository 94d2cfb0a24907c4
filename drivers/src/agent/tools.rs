//! How an agent backend reaches the tools of its turn. The gateway gives a
//! Discord turn a [`TurnTools`]: a handle whose [`ToolHandler::call`] sends
//! one call to the channel loop that owns the account's REST planner and
//! waits for the JSON result. Which functions the turn may call is already
//! in its `TurnRequest::tools`; the handler refuses anything else (the
//! core's `krill_core::tools::ToolRun` decides).

use std::fmt;
use std::sync::Arc;

use futures_lite::future::Boxed;

/// Carries out one tool call of a turn.
pub trait ToolHandler: Send + Sync {
    /// Calls function `name` with `arguments` (a JSON object as text);
    /// resolves to the JSON result for the model (`{"ok":…}`), never fails.
    fn call(&self, name: String, arguments: String) -> Boxed<String>;
}

/// The tools of one turn.
#[derive(Clone)]
pub struct TurnTools {
    /// Who carries the calls out.
    pub handler: Arc<dyn ToolHandler>,
}

impl fmt::Debug for TurnTools {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TurnTools")
    }
}

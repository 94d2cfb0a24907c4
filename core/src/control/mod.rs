//! The gateway's local control socket, decided here and carried out by the
//! drivers: the request protocol (one JSON object per line each way,
//! [`protocol`]), delivery targets as users write them ([`target`]), which
//! running account a request goes to ([`choose_account`]) and the delivery
//! of one message through the REST planner ([`delivery`]), and the turn
//! tokens that scope tool calls ([`grants`]).

pub mod delivery;
pub mod grants;
pub mod protocol;
pub mod target;

pub use delivery::{Delivery, DeliveryOutcome, FileLimits};
pub use grants::{Refusal, TurnGrants, TOKEN_BYTES};
pub use protocol::{parse_request, ControlReply, ControlRequest, SendRequest};
pub use target::{parse_target, Target, TargetError};

/// Picks the running account a request for `platform` goes to: the one
/// named (`--account`), else the only one running, else `default`.
/// `running` lists the account ids of that platform's running loops.
pub fn choose_account(
    platform: crate::platform::Platform,
    requested: Option<&str>,
    running: &[String],
) -> Result<String, String> {
    let mut ids: Vec<&str> = running.iter().map(String::as_str).collect();
    ids.sort_unstable();
    let list = ids.join(", ");
    match requested {
        Some(id) if ids.contains(&id) => Ok(id.to_owned()),
        Some(id) if ids.is_empty() => Err(format!(
            "no {platform} account is running in the gateway (asked for account {id:?})"
        )),
        Some(id) => Err(format!(
            "{platform} account {id:?} is not running in the gateway (running: {list})"
        )),
        None => match ids.as_slice() {
            [] => Err(format!("no {platform} account is running in the gateway")),
            [only] => Ok((*only).to_owned()),
            _ if ids.contains(&"default") => Ok("default".to_owned()),
            _ => Err(format!(
                "several {platform} accounts are running ({list}): choose one with --account"
            )),
        },
    }
}

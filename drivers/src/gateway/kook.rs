//! placeholder
use super::{ChannelEnd, Input, Shared};
use krill_core::config::ResolvedAccount;
use smol::channel::{Receiver, Sender};
pub(crate) async fn run(
    _i: usize,
    a: ResolvedAccount,
    _s: Shared,
    _t: Sender<Input>,
    _r: Receiver<Input>,
) -> ChannelEnd {
    ChannelEnd {
        name: a.account_id,
        reason: "todo".into(),
    }
}

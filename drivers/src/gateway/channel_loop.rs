//! [`run_loop`]: the loop every platform's channel loop runs in, and
//! [`ChannelLoop`], what it asks of the platform's side: feed an input or a
//! timeout to the machines, drain what they decided, commit the store
//! writes, sleep until the next input or deadline ([`Wakeup`]).

use std::sync::Arc;
use std::time::Instant;

use krill_core::config::{Config, ResolvedAccount};
use krill_core::rest::RestEvent;
use smol::channel::Receiver;
use tracing::info;

use super::account::AccountLoop;
use super::link::RestLink;
use super::status::Health;
use super::{ChannelEnd, Input};

/// One channel loop: the machines of one bot account, driven by
/// [`run_loop`]. Implementors only map inputs to the core and the core's
/// outputs to actions; the loop shape is the same for every platform.
pub(crate) trait ChannelLoop {
    /// What the loop holds for its account on every platform.
    fn base(&self) -> &AccountLoop;
    /// [`ChannelLoop::base`], to change.
    fn base_mut(&mut self) -> &mut AccountLoop;
    /// Starts the machines.
    fn start(&mut self, now: Instant);
    /// Handles one output of the gateway machine; false when it had none.
    fn step_machine(&mut self, now: Instant) -> bool;
    /// Handles one outcome of a REST request that is not a `krill message
    /// send` delivery's.
    fn on_rest_event(&mut self, now: Instant, event: RestEvent);
    /// Ends the session properly before the loop returns.
    fn shut_down(&mut self, now: Instant);
    /// The earliest deadline of every machine the loop drives.
    fn deadline(&self) -> Option<Instant>;
    /// Handles one input.
    fn handle_input(&mut self, now: Instant, input: Input);
    /// Lets every machine act on its expired timers (harmless when none).
    fn handle_timeout(&mut self, now: Instant);
    /// Fills in the channel's health for `status.json`.
    fn report(&self, now: Instant, health: &mut Health);
    /// Hands the outbox's ready messages to the REST link.
    fn pump_outbox(&mut self, now: Instant);
    /// Saves the gateway sessions to the store when they moved.
    fn save_sessions(&mut self);
    /// Graceful stop: closes the gateway sockets without ending the
    /// sessions and takes no more events.
    fn suspend(&mut self, now: Instant);
    /// Takes a reloaded config for this account (same connection).
    fn reload(&mut self, now: Instant, config: Arc<Config>, account: ResolvedAccount);

    /// `discord:<account>` / `kook:<account>`, for logs.
    fn name(&self) -> &str {
        &self.base().name
    }

    /// The account's REST link.
    fn link(&mut self) -> &mut RestLink {
        &mut self.base_mut().link
    }

    /// Handles one outcome of a REST request: a delivery's goes to the
    /// deliveries, any other to [`ChannelLoop::on_rest_event`].
    fn handle_rest_event(&mut self, now: Instant, event: RestEvent) {
        if let Some(event) = self.base_mut().rest_event(now, event) {
            self.on_rest_event(now, event);
        }
    }

    /// The reason to stop, once the channel must stop for good.
    fn take_stop(&mut self) -> Option<String> {
        self.base_mut().stopped.take()
    }

    /// Stops the loop at the next turn (config reload).
    fn request_stop(&mut self, reason: String) {
        self.base_mut().stopped = Some(reason);
    }

    /// No turn running and no reply message waiting.
    fn idle(&self) -> bool {
        self.base().durable.idle()
    }

    /// Drains the gateway machine's outputs and the planner's transmits and
    /// events until both are idle.
    fn drive(&mut self, now: Instant) {
        loop {
            let mut busy = false;
            while self.step_machine(now) {
                busy = true;
            }
            self.pump_outbox(now);
            self.link().pump(now);
            while let Some(event) = self.link().poll_event() {
                busy = true;
                self.handle_rest_event(now, event);
            }
            if !busy {
                return;
            }
        }
    }
}

/// Inputs handled under one store transaction, at most: enough that a
/// burst shares its commits, few enough that the first reply of a burst is
/// not held back long.
const INPUTS_PER_COMMIT: usize = 32;

/// Runs a channel loop until it stops: feed an input or a timeout, drain
/// what the machines decided, sleep until the next input or deadline.
///
/// The store writes of an iteration, and of the iterations for inputs that
/// were already waiting when it ended (at most [`INPUTS_PER_COMMIT`] in
/// all), share one transaction (a [`Batch`](crate::store::Batch)),
/// committed before the loop waits: the requests and turns they queued only
/// start once the loop waits (they are tasks of this thread's executor), so
/// none goes out before what it depends on is on disk. Lazy writes wait for
/// a later commit; the loop wakes up for them at the latest.
pub(crate) async fn run_loop(mut channel: impl ChannelLoop, input: Receiver<Input>) -> ChannelEnd {
    let index = channel.base().index;
    let board = channel.base().shared.board.clone();
    let store = channel.base().shared.store.clone();
    let mut now = Instant::now();
    let mut draining = false;
    let mut wakeup = Wakeup::new();
    let mut batch = store.batch();
    let mut inputs_in_batch = 0;
    channel.start(now);
    loop {
        channel.drive(now);
        channel.save_sessions();
        board.update(index, |health| channel.report(now, health));
        if draining && channel.idle() {
            info!("{}: stopped; nothing left to send", channel.name());
            return ChannelEnd {
                index,
                name: channel.name().to_owned(),
                reason: "stopped by a signal".to_owned(),
            };
        }
        if let Some(reason) = channel.take_stop() {
            channel.shut_down(now);
            board.update(index, |health| {
                health.state = "stopped".to_owned();
                health.connected = false;
                health.last_error = Some(reason.clone());
            });
            return ChannelEnd {
                index,
                name: channel.name().to_owned(),
                reason,
            };
        }
        // Inputs already waiting join this iteration's transaction (a few
        // at a time): under load, one commit covers many messages.
        let waiting = if inputs_in_batch < INPUTS_PER_COMMIT {
            input.try_recv().ok()
        } else {
            None
        };
        let next = match waiting {
            Some(next) => {
                inputs_in_batch += 1;
                Some(next)
            }
            None => {
                drop(batch);
                let deadline = match (channel.deadline(), store.commit_due()) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                let next = wakeup.next_input(&input, deadline).await;
                batch = store.batch();
                inputs_in_batch = 1;
                next
            }
        };
        now = Instant::now();
        match next {
            Some(Input::Drain) => {
                draining = true;
                channel.suspend(now);
            }
            Some(Input::Reload { config, account }) => channel.reload(now, config, *account),
            Some(Input::Stop { reason }) => channel.request_stop(reason),
            Some(next) => channel.handle_input(now, next),
            None => {}
        }
        channel.handle_timeout(now);
    }
}

/// A channel loop's wait for its next input or deadline. The timer is
/// re-armed only when the deadline moves earlier than it (or it fired):
/// every new async-io timer wakes the reactor, which made each input cost a
/// second wake-up.
pub(crate) struct Wakeup {
    timer: smol::Timer,
    /// The deadline the timer is set to (`None`: not set, or it fired).
    armed: Option<Instant>,
}

impl Wakeup {
    pub(crate) fn new() -> Self {
        Self {
            timer: smol::Timer::never(),
            armed: None,
        }
    }

    /// The next input, or `None` once `deadline` has passed (or the inbox
    /// closed). An input already waiting is taken without touching the
    /// timer.
    pub(crate) async fn next_input(
        &mut self,
        inbox: &Receiver<Input>,
        deadline: Option<Instant>,
    ) -> Option<Input> {
        use futures_lite::FutureExt;
        if let Ok(input) = inbox.try_recv() {
            return Some(input);
        }
        // An armed timer earlier than the deadline stays: it wakes the loop
        // a little early once (harmless: `handle_timeout` does nothing
        // then), which costs less than re-arming it whenever the deadline
        // moves later (every message moves the lazy-commit deadline).
        let early_enough = self
            .armed
            .is_some_and(|armed| deadline.is_none_or(|at| armed <= at));
        if deadline != self.armed && !early_enough {
            match deadline {
                Some(at) => self.timer.set_at(at),
                None => self.timer = smol::Timer::never(),
            }
            self.armed = deadline;
        }
        let timer = &mut self.timer;
        let fired = async {
            timer.await;
            None
        };
        let next = async { inbox.recv().await.ok() }.or(fired).await;
        if next.is_none() {
            // Fired (or closed): the same deadline must be armed again.
            self.armed = None;
        }
        next
    }
}

//! One WebSocket connection as the channel loops see it: a task that dials,
//! then forwards every inbound frame to the loop's inbox and writes what the
//! loop tells it to. Each connection has a number; the loop ignores events
//! from a connection it has already dropped, so a late frame from an old
//! socket can never reach a machine that moved on.

use std::time::Instant;

use futures_lite::FutureExt;
use smol::channel::{Receiver, Sender};
use tracing::{debug, warn};

use super::Input;
use crate::ws::{self, WsError, WsMessage};

/// What happened on connection `conn`.
#[derive(Debug)]
pub(crate) enum SocketEvent {
    /// The upgrade succeeded.
    Opened,
    /// Dial, TLS, upgrade or the connect timeout failed.
    OpenFailed(WsError),
    /// A frame arrived.
    Message(WsMessage),
    /// The stream ended: `None` for a clean end, else the transport error.
    Ended(Option<WsError>),
}

/// What the loop asks the connection task to do.
#[derive(Debug)]
enum Command {
    Text(String),
    Close(u16),
}

/// The loop's handle on its current connection. Dropping it drops the
/// socket (TCP, no close frame).
#[derive(Debug)]
pub(crate) struct Socket {
    conn: u64,
    commands: Sender<Command>,
}

impl Socket {
    /// Starts dialling `url` as connection number `conn`; events arrive in
    /// `inbox` as [`Input::Socket`].
    pub(crate) fn open(url: String, user_agent: String, conn: u64, inbox: Sender<Input>) -> Self {
        let (commands, rx) = smol::channel::unbounded();
        crate::runtime::spawn(run(url, user_agent, conn, inbox, rx)).detach();
        Self { conn, commands }
    }

    /// This connection's number.
    pub(crate) fn conn(&self) -> u64 {
        self.conn
    }

    /// Queues a text frame.
    pub(crate) fn send_text(&self, text: String) {
        let _ = self.commands.try_send(Command::Text(text));
    }

    /// Sends a close frame with `code` and drops the socket.
    pub(crate) fn close(self, code: u16) {
        let _ = self.commands.try_send(Command::Close(code));
    }
}

async fn run(
    url: String,
    user_agent: String,
    conn: u64,
    inbox: Sender<Input>,
    commands: Receiver<Command>,
) {
    let connection = match ws::connect(&url, &user_agent, ws::CONNECT_TIMEOUT).await {
        Ok(connection) => connection,
        Err(error) => {
            let _ = inbox
                .send(Input::Socket {
                    conn,
                    event: SocketEvent::OpenFailed(error),
                })
                .await;
            return;
        }
    };
    if inbox
        .send(Input::Socket {
            conn,
            event: SocketEvent::Opened,
        })
        .await
        .is_err()
    {
        return;
    }
    let (mut sender, mut receiver) = connection.split();
    let reader = {
        let inbox = inbox.clone();
        async move {
            loop {
                let event = match receiver.recv().await {
                    Some(Ok(message)) => SocketEvent::Message(message),
                    Some(Err(error)) => SocketEvent::Ended(Some(error)),
                    None => SocketEvent::Ended(None),
                };
                let ended = matches!(event, SocketEvent::Ended(_));
                if inbox.send(Input::Socket { conn, event }).await.is_err() || ended {
                    return;
                }
            }
        }
    };
    let writer = async move {
        while let Ok(command) = commands.recv().await {
            match command {
                Command::Text(text) => {
                    if let Err(error) = sender.send_text(text).await {
                        debug!(conn, %error, "websocket send failed");
                        // The reader sees the same failure and reports it.
                    }
                }
                Command::Close(code) => {
                    sender.close(code).await;
                    return;
                }
            }
        }
        // The loop dropped its handle: drop TCP without a close frame.
    };
    reader.or(writer).await;
}

/// The socket-facing inputs every gateway machine takes (the Discord shard
/// and the KOOK session share this shape).
pub(crate) trait SocketMachine {
    fn handle_connected(&mut self, now: Instant);
    fn handle_connect_failed(&mut self, now: Instant);
    fn handle_text_frame(&mut self, now: Instant, text: &str);
    fn handle_binary_frame(&mut self, now: Instant, bytes: &[u8]);
    fn handle_closed(&mut self, now: Instant, close: Option<(u16, String)>);
}

impl SocketMachine for krill_core::discord::Shard {
    fn handle_connected(&mut self, now: Instant) {
        self.handle_connected(now)
    }
    fn handle_connect_failed(&mut self, now: Instant) {
        self.handle_connect_failed(now)
    }
    fn handle_text_frame(&mut self, now: Instant, text: &str) {
        self.handle_text_frame(now, text)
    }
    fn handle_binary_frame(&mut self, now: Instant, bytes: &[u8]) {
        self.handle_binary_frame(now, bytes)
    }
    fn handle_closed(&mut self, now: Instant, close: Option<(u16, String)>) {
        self.handle_closed(now, close)
    }
}

impl SocketMachine for krill_core::kook::Session {
    fn handle_connected(&mut self, now: Instant) {
        self.handle_connected(now)
    }
    fn handle_connect_failed(&mut self, now: Instant) {
        self.handle_connect_failed(now)
    }
    fn handle_text_frame(&mut self, now: Instant, text: &str) {
        self.handle_text_frame(now, text)
    }
    fn handle_binary_frame(&mut self, now: Instant, bytes: &[u8]) {
        self.handle_binary_frame(now, bytes)
    }
    fn handle_closed(&mut self, now: Instant, close: Option<(u16, String)>) {
        self.handle_closed(now, close)
    }
}

/// Hands an event of connection `conn` to `machine`, if `conn` is still the
/// loop's current connection (`slot`); forgets the connection once it is
/// gone. Events of an older connection are dropped: the machine has moved on.
pub(crate) fn feed(
    machine: &mut impl SocketMachine,
    slot: &mut Option<Socket>,
    channel: &str,
    now: Instant,
    conn: u64,
    event: SocketEvent,
) {
    if slot.as_ref().map(Socket::conn) != Some(conn) {
        return;
    }
    match event {
        SocketEvent::Opened => machine.handle_connected(now),
        SocketEvent::OpenFailed(error) => {
            warn!("{channel}: gateway connect failed: {error}");
            *slot = None;
            machine.handle_connect_failed(now);
        }
        SocketEvent::Message(WsMessage::Text(text)) => machine.handle_text_frame(now, &text),
        SocketEvent::Message(WsMessage::Binary(bytes)) => machine.handle_binary_frame(now, &bytes),
        SocketEvent::Message(WsMessage::Close(close)) => {
            *slot = None;
            machine.handle_closed(now, close);
        }
        SocketEvent::Ended(error) => {
            if let Some(error) = error {
                debug!("{channel}: gateway connection lost: {error}");
            }
            *slot = None;
            machine.handle_closed(now, None);
        }
    }
}

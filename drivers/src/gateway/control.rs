//! The gateway's control socket, `<state>/gateway.sock` (see
//! [`krill_core::control`] for the protocol): a Unix socket only the owning
//! user can open (mode 0600, set before the socket gets its public name; a
//! stale socket from a dead gateway is replaced). Each client connection
//! sends request lines; each request is routed to the channel loop of its
//! account as an [`Input`], and the loop's answer is written back.

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_lite::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, FutureExt};
use krill_core::control::protocol::MAX_REQUEST_BYTES;
use krill_core::control::{
    choose_account, parse_request, parse_target, ControlReply, ControlRequest, SendRequest,
};
use smol::net::unix::{UnixListener, UnixStream};
use tracing::{debug, warn};

use super::deliveries::DeliverRequest;
use super::supervisor::{Accounts, Inboxes};
use super::Input;
use crate::agent::turn_token::{TurnAccess, TurnTokens};
use crate::media::outbound::read_bounded;
use krill_core::media::{MediaFailure, OutboundFile};
use krill_core::tools::run::error_result;

/// The most a `--media` file may weigh when read (the loop then holds it
/// to `mediaMaxMb` and the platform's limit, and says which file is over).
const MAX_MEDIA_READ_BYTES: u64 = 100 * 1_048_576;

/// How long a client waits for a delivery (the planner's retries included).
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(120);

/// Where requests go: the running loops' inboxes and accounts.
#[derive(Clone)]
pub(crate) struct Router {
    pub(crate) inboxes: Inboxes,
    pub(crate) accounts: Accounts,
    /// The turn tokens granted now.
    pub(crate) tokens: TurnTokens,
}

/// The bound socket; removes its file when dropped.
pub(crate) struct ControlSocket {
    listener: UnixListener,
    path: PathBuf,
}

impl Drop for ControlSocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Binds `path` with mode 0600: the socket is bound under a temporary name
/// in the same dir, restricted, then renamed over `path` (replacing a stale
/// socket).
pub(crate) fn bind(path: &Path) -> io::Result<ControlSocket> {
    let temp = path.with_extension(format!("sock.{}", std::process::id()));
    let _ = std::fs::remove_file(&temp);
    let listener = std::os::unix::net::UnixListener::bind(&temp)?;
    let placed = std::fs::set_permissions(&temp, std::fs::Permissions::from_mode(0o600))
        .and_then(|()| std::fs::rename(&temp, path));
    if let Err(e) = placed {
        let _ = std::fs::remove_file(&temp);
        return Err(e);
    }
    listener.set_nonblocking(true)?;
    Ok(ControlSocket {
        listener: UnixListener::try_from(listener)?,
        path: path.to_path_buf(),
    })
}

/// Serves clients until the gateway stops.
pub(crate) async fn serve(socket: ControlSocket, router: Router) {
    loop {
        match socket.listener.accept().await {
            Ok((stream, _)) => {
                crate::runtime::spawn(client(stream, router.clone())).detach();
            }
            Err(e) => {
                warn!(
                    "control socket {}: accept failed: {e}",
                    socket.path.display()
                );
                smol::Timer::after(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Answers one client's request lines until it hangs up.
async fn client(stream: UnixStream, router: Router) {
    let mut reader = futures_lite::io::BufReader::new(stream.clone());
    let mut writer = stream;
    loop {
        let mut line = String::new();
        let limit = (MAX_REQUEST_BYTES + 1) as u64;
        match (&mut reader).take(limit).read_line(&mut line).await {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) => {
                debug!("control socket client: {e}");
                return;
            }
        }
        let too_long = !line.ends_with('\n') && line.len() > MAX_REQUEST_BYTES;
        let reply = if too_long {
            ControlReply::failed(format!("request longer than {MAX_REQUEST_BYTES} bytes"))
        } else {
            answer(line.trim_end(), &router).await
        };
        let mut out = reply.to_line();
        out.push('\n');
        if writer.write_all(out.as_bytes()).await.is_err() || too_long {
            return;
        }
    }
}

/// The answer to one request line.
async fn answer(line: &str, router: &Router) -> ControlReply {
    match parse_request(line) {
        Ok(ControlRequest::Send(send)) => deliver(send, router).await,
        Ok(ControlRequest::Ping) => ControlReply::sent(Vec::new()),
        Ok(ControlRequest::ToolsList { token }) => match authorize(router, token.as_deref()) {
            Ok(access) => ControlReply::tools(
                access
                    .tools
                    .iter()
                    .filter_map(|spec| serde_json::to_value(spec).ok())
                    .collect(),
            ),
            Err(refusal) => ControlReply::failed(refusal),
        },
        Ok(ControlRequest::ToolsCall {
            token,
            name,
            arguments,
        }) => match authorize(router, token.as_deref()) {
            // The turn's handler acts only within the turn's scope (the
            // core's ToolRun refuses actions it was not offered and chats
            // outside its guild or DM).
            Ok(TurnAccess {
                handler: Some(handler),
                ..
            }) => ControlReply::tool_result(handler.call(name, arguments.to_string()).await),
            Ok(_) => ControlReply::tool_result(error_result(&format!(
                "{name} is not a tool of this turn: this turn has no tools"
            ))),
            Err(refusal) => ControlReply::failed(refusal),
        },
        Ok(_) => ControlReply::failed("this gateway does not know that request"),
        Err(error) => ControlReply::failed(error),
    }
}

/// The access of the turn `token` was granted to (a copy: the call runs
/// without holding the table), or why the call is refused.
fn authorize(router: &Router, token: Option<&str>) -> Result<TurnAccess, String> {
    let grants = router
        .tokens
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    grants
        .authorize(token)
        .cloned()
        .map_err(|refusal| refusal.to_string())
}

/// Routes a `send` to its account's loop and waits for the outcome.
async fn deliver(send: SendRequest, router: &Router) -> ControlReply {
    let platform = match send.platform() {
        Ok(platform) => platform,
        Err(error) => return ControlReply::failed(error),
    };
    let target = match parse_target(&send.to) {
        Ok(target) => target,
        Err(error) => return ControlReply::failed(error.to_string()),
    };
    let running = router.accounts.running(platform);
    let account = match choose_account(platform, send.account.as_deref(), &running) {
        Ok(account) => account,
        Err(error) => return ControlReply::failed(error),
    };
    let Some(inbox) = router
        .accounts
        .index_of(platform, &account)
        .and_then(|index| {
            router
                .inboxes
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(&index)
                .cloned()
        })
    else {
        return ControlReply::failed(format!("{platform} account {account:?} is not running"));
    };
    let files = match read_media(send.media).await {
        Ok(files) => files,
        Err(error) => return ControlReply::failed(error),
    };
    let (reply, outcome) = smol::channel::bounded(1);
    let input = Input::Deliver(DeliverRequest {
        target,
        text: send.text,
        files,
        reply,
    });
    if inbox.send(input).await.is_err() {
        return ControlReply::failed(format!("{platform} account {account:?} stopped"));
    }
    let wait = async {
        outcome.recv().await.unwrap_or_else(|_| {
            ControlReply::failed(format!(
                "{platform} account {account:?} stopped before the message was delivered"
            ))
        })
    };
    let timeout = async {
        smol::Timer::after(DELIVERY_TIMEOUT).await;
        ControlReply::failed(format!(
            "the gateway did not deliver the message within {}s",
            DELIVERY_TIMEOUT.as_secs()
        ))
    };
    wait.or(timeout).await
}

/// Reads the `--media` files of a `send` off the executor: each must be an
/// absolute path to a regular file (the client, the owner of the state
/// dir, names them). The first that cannot be read refuses the send, named.
async fn read_media(paths: Vec<String>) -> Result<Vec<OutboundFile>, String> {
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    smol::unblock(move || paths.iter().map(|path| read_one_media(path)).collect()).await
}

fn read_one_media(path: &str) -> Result<OutboundFile, String> {
    let file_path = Path::new(path);
    if !file_path.is_absolute() {
        return Err(format!("media file {path}: not an absolute path"));
    }
    let data = read_bounded(file_path, MAX_MEDIA_READ_BYTES, MAX_MEDIA_READ_BYTES)
        .map_err(|reason| MediaFailure::new(path, reason).describe())?;
    let name = file_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(OutboundFile::new(&name, None, data).with_source(path))
}

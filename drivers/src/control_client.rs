//! The client side of the gateway's control socket (`<state>/gateway.sock`,
//! protocol in [`krill_core::control`]): one blocking connection that sends
//! request lines and reads the answers. `krill message send` and `krill mcp`
//! use it.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use krill_core::control::{ControlReply, ControlRequest};

/// Why the gateway could not be asked.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No gateway listens on the socket.
    #[error(
        "no krill gateway is running for the state dir (no socket at {}): start `krill gateway` first",
        .0.display()
    )]
    NotRunning(PathBuf),
    /// Any other I/O failure.
    #[error("control socket {}: {}", .0.display(), .1)]
    Io(PathBuf, std::io::Error),
    /// The gateway answered something that is not a reply.
    #[error("the gateway answered something unexpected: {0}")]
    BadReply(String),
}

/// A connection to the running gateway.
pub struct ControlClient {
    path: PathBuf,
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl ControlClient {
    /// Connects to the socket at `path`.
    pub fn connect(path: &Path) -> Result<Self, ClientError> {
        let stream = UnixStream::connect(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => {
                ClientError::NotRunning(path.to_path_buf())
            }
            _ => ClientError::Io(path.to_path_buf(), e),
        })?;
        let writer = stream
            .try_clone()
            .map_err(|e| ClientError::Io(path.to_path_buf(), e))?;
        Ok(Self {
            path: path.to_path_buf(),
            reader: BufReader::new(stream),
            writer,
        })
    }

    /// Sends `request` and waits for its answer.
    pub fn call(&mut self, request: &ControlRequest) -> Result<ControlReply, ClientError> {
        let io = |e| ClientError::Io(self.path.clone(), e);
        let mut line =
            serde_json::to_string(request).map_err(|e| ClientError::BadReply(e.to_string()))?;
        line.push('\n');
        self.writer.write_all(line.as_bytes()).map_err(io)?;
        let mut answer = String::new();
        let read = self
            .reader
            .read_line(&mut answer)
            .map_err(|e| ClientError::Io(self.path.clone(), e))?;
        if read == 0 {
            return Err(ClientError::BadReply(
                "the gateway closed the connection (did it stop?)".to_owned(),
            ));
        }
        serde_json::from_str(answer.trim_end()).map_err(|e| ClientError::BadReply(e.to_string()))
    }
}

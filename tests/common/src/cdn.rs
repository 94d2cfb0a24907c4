//! [`FakeCdn`]: a file server on 127.0.0.1 standing in for Discord's CDN
//! (`cdn.discordapp.com/attachments/...`) and KOOK's asset host: `GET` of a
//! path put with [`FakeCdn::put`] answers its bytes with `Content-Type` and
//! `Content-Length`, like the real hosts (no token needed); a path set with
//! [`FakeCdn::redirect`] answers `302 Found` to another; anything else is
//! 404. Every request is recorded (headers included, so a test can check
//! no `Authorization` ever reaches a CDN).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Instant;

use crate::http::{self, Incoming, RecordedRequest, ScriptedResponse};
use crate::HARD_LIFETIME;

/// The running server (see the module docs).
pub struct FakeCdn {
    port: u16,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct State {
    files: HashMap<String, (Vec<u8>, String)>,
    redirects: HashMap<String, String>,
    requests: Vec<RecordedRequest>,
}

impl FakeCdn {
    /// Starts the server.
    ///
    /// # Panics
    /// When 127.0.0.1 cannot be bound (the test cannot run then).
    pub fn start() -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let s = state.clone();
        let handler: http::Handler = Arc::new(move |inc: Incoming| serve(&s, inc));
        let (port, thread) = http::spawn(
            "fake-cdn",
            handler,
            stop.clone(),
            Instant::now() + HARD_LIFETIME,
        )
        .expect("bind 127.0.0.1:0 for the fake CDN");
        Self {
            port,
            state,
            stop,
            thread: Some(thread),
        }
    }

    /// Serves `bytes` at `path` (e.g. `/attachments/1/2/photo.png`) with
    /// `content_type`; returns its full URL.
    pub fn put(&self, path: &str, bytes: &[u8], content_type: &str) -> String {
        self.lock()
            .files
            .insert(path.to_owned(), (bytes.to_vec(), content_type.to_owned()));
        self.url(path)
    }

    /// Answers `302` at `from`, pointing to `to` (a path of this server);
    /// returns the URL of `from`.
    pub fn redirect(&self, from: &str, to: &str) -> String {
        let target = self.url(to);
        self.lock().redirects.insert(from.to_owned(), target);
        self.url(from)
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for FakeCdn {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(state: &Mutex<State>, inc: Incoming) -> ScriptedResponse {
    let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
    let response = if inc.method != "GET" {
        ScriptedResponse::empty(405)
    } else if let Some(target) = state.redirects.get(&inc.path) {
        ScriptedResponse {
            status: 302,
            headers: vec![("Location".into(), target.clone())],
            body: Vec::new(),
            delay: None,
        }
    } else if let Some((bytes, content_type)) = state.files.get(&inc.path) {
        ScriptedResponse {
            status: 200,
            headers: vec![("Content-Type".into(), content_type.clone())],
            body: bytes.clone(),
            delay: None,
        }
    } else {
        ScriptedResponse::empty(404)
    };
    let path = inc.path.clone();
    state
        .requests
        .push(inc.record(path, response.status, false));
    response
}

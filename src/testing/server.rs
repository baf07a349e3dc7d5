//! A real JWKS HTTP server for tests.
//!
//! [`JwksServer`] is a small HTTP/1.1 server written directly on tokio's
//! `TcpListener` and bound to `127.0.0.1` on a free port. It serves a JWK
//! Set at [`JwksServer::url`] (`/jwks.json`) plus any extra documents you
//! register (an OpenID discovery document, say), counts the requests it
//! receives, and misbehaves on demand (see [`Behavior`]), so key-fetching
//! code can be tested against slow, broken, hostile or absent servers over a
//! real socket.
//!
//! Every setter takes `&self` and applies to the next request, so a test can
//! change the server while a client holds on to it. Each connection runs in
//! its own task and is kept alive across requests unless the client sends
//! `Connection: close`. Only `GET` is served (other methods get 405);
//! request heads are limited to 16 KiB (431 beyond) and request bodies are
//! not read (a request that announces one is answered, then its connection
//! is closed).
//!
//! The server stops when it is dropped, or with [`JwksServer::shutdown`],
//! which also waits until the port is released.
//!
//! See [`JwksServer`] for an example.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc, oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};

use super::behavior::{self, Behavior};
use super::http1::{
    HeadError, Next, Request, Response, header_value, linger_close, parse_request, read_head,
    refuse, write_response,
};

/// A JWKS HTTP server on `127.0.0.1` for tests.
///
/// It serves:
///
/// - `GET /jwks.json` ([`JWKS_PATH`](Self::JWKS_PATH)): the document given to
///   [`set_jwks`](Self::set_jwks) (initially `{"keys":[]}`), as
///   `application/json`, with the optional [`Cache-Control`] and [`Age`]
///   headers;
/// - the documents registered with [`set_document`](Self::set_document);
/// - a certificate map instead of the JWK Set, with
///   [`set_certificate_map`](Self::set_certificate_map);
/// - 401 to requests without the bearer token set with
///   [`require_bearer`](Self::require_bearer);
/// - 404 for any other path, 405 for any other method.
///
/// Dropping the server aborts its accept task and every connection task;
/// the listening socket is closed as soon as the runtime processes the
/// abort. [`shutdown`](Self::shutdown) does the same and waits for it.
///
/// # Example
///
/// ```
/// use jwt_layer::testing::{Behavior, JwksServer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = JwksServer::start().await?;
/// server.set_jwks(r#"{"keys":[]}"#);
/// server.set_cache_control(Some("max-age=300"));
///
/// let client = reqwest::Client::builder().no_proxy().build()?;
/// let res = client.get(server.url()).send().await?;
/// assert_eq!(res.status(), 200);
/// assert_eq!(res.headers()["content-type"], "application/json");
/// assert_eq!(res.headers()["cache-control"], "max-age=300");
/// assert_eq!(res.text().await?, r#"{"keys":[]}"#);
/// assert_eq!(server.request_count(), 1);
///
/// // Now the identity provider has an outage.
/// server.set_behavior(Behavior::Status(503));
/// let res = client.get(server.url()).send().await?;
/// assert_eq!(res.status(), 503);
/// assert_eq!(server.request_count(), 2);
/// # Ok(()) }
/// ```
///
/// [`Cache-Control`]: Self::set_cache_control
/// [`Age`]: Self::set_age
pub struct JwksServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    control: mpsc::UnboundedSender<Control>,
    task: JoinHandle<()>,
}

impl fmt::Debug for JwksServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwksServer")
            .field("addr", &self.addr)
            .field("request_count", &self.request_count())
            .field("total_requests", &self.total_requests())
            .finish_non_exhaustive()
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        // Aborting the accept task drops its `JoinSet`, which aborts every
        // connection task.
        self.task.abort();
    }
}

impl JwksServer {
    /// The path at which the JWK Set is served.
    pub const JWKS_PATH: &'static str = "/jwks.json";

    /// Binds `127.0.0.1:0` and starts serving in a background task of the
    /// current tokio runtime.
    ///
    /// # Errors
    ///
    /// The socket could not be bound.
    pub async fn start() -> io::Result<JwksServer> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let (gate, _) = watch::channel(false);
        let shared = Arc::new(Shared {
            config: Mutex::new(Config {
                jwks: Bytes::from_static(br#"{"keys":[]}"#),
                cache_control: None,
                age: None,
                behaviors: HashMap::new(),
                documents: HashMap::new(),
                bearer: None,
            }),
            gate,
            jwks_requests: AtomicUsize::new(0),
            total_requests: AtomicUsize::new(0),
            held: AtomicUsize::new(0),
            arrived: Notify::new(),
        });
        let (control, commands) = mpsc::unbounded_channel();
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&shared), commands));
        Ok(JwksServer {
            addr,
            shared,
            control,
            task,
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The JWKS URL: `http://127.0.0.1:PORT/jwks.json`.
    pub fn url(&self) -> String {
        self.url_for(Self::JWKS_PATH)
    }

    /// The URL of `path` on this server (a `/` is added in front if
    /// missing), e.g. for a document registered with
    /// [`set_document`](Self::set_document).
    pub fn url_for(&self, path: &str) -> String {
        format!("{}{}", self.base_url(), normalize_path(path))
    }

    /// Sets the JWK Set document served at [`JWKS_PATH`](Self::JWKS_PATH).
    /// It is served as is; it need not be valid JSON.
    pub fn set_jwks(&self, json: impl Into<String>) {
        self.shared.config().jwks = Bytes::from(json.into());
    }

    /// Serves a certificate map at [`JWKS_PATH`](Self::JWKS_PATH), the key
    /// set form of Google's `oauth2/v1/certs` and Firebase: a JSON object
    /// from each `kid` to its PEM certificate.
    pub fn set_certificate_map<'a>(&self, entries: impl IntoIterator<Item = (&'a str, &'a str)>) {
        let map: serde_json::Map<String, serde_json::Value> = entries
            .into_iter()
            .map(|(kid, pem)| (kid.to_owned(), serde_json::Value::from(pem)))
            .collect();
        self.set_jwks(serde_json::Value::Object(map).to_string());
    }

    /// From now on, answers every request that lacks `Authorization: Bearer
    /// <token>` (exactly) with 401, as Kubernetes does for its key set;
    /// `None` serves everyone again. Refused requests are counted.
    pub fn require_bearer(&self, token: Option<&str>) {
        self.shared.config().bearer = token.map(|t| format!("Bearer {t}"));
    }

    /// Sets (or with `None`, removes) the `Cache-Control` header of normal
    /// JWKS answers. Line breaks in the value are dropped.
    pub fn set_cache_control(&self, value: Option<&str>) {
        self.shared.config().cache_control = value.map(header_value);
    }

    /// Sets (or with `None`, removes) the `Age` header (in seconds) of
    /// normal JWKS answers.
    pub fn set_age(&self, age: Option<u64>) {
        self.shared.config().age = age;
    }

    /// Serves `body` with `Content-Type: content_type` at `path` (e.g.
    /// `/.well-known/openid-configuration`; a `/` is added in front if
    /// missing), replacing any document already there.
    ///
    /// A document registered at [`JWKS_PATH`](Self::JWKS_PATH) replaces the
    /// JWK Set (and its `Cache-Control`/`Age` headers) until it is removed,
    /// which lets a test serve the keys with another content type.
    pub fn set_document(&self, path: &str, content_type: &str, body: impl Into<String>) {
        let document = Document {
            content_type: header_value(content_type),
            body: Bytes::from(body.into()),
        };
        self.shared
            .config()
            .documents
            .insert(normalize_path(path), document);
    }

    /// Stops serving the document registered at `path`, if any.
    pub fn remove_document(&self, path: &str) {
        self.shared.config().documents.remove(&normalize_path(path));
    }

    /// Sets how requests to [`JWKS_PATH`](Self::JWKS_PATH) are answered.
    pub fn set_behavior(&self, behavior: Behavior) {
        self.set_behavior_at(Self::JWKS_PATH, behavior);
    }

    /// Sets how requests to `path` are answered (a `/` is added in front if
    /// missing). With [`Behavior::Normal`], a path with no document is
    /// answered 404.
    pub fn set_behavior_at(&self, path: &str, behavior: Behavior) {
        let path = normalize_path(path);
        let mut config = self.shared.config();
        if behavior == Behavior::Normal {
            config.behaviors.remove(&path);
        } else {
            config.behaviors.insert(path, behavior);
        }
    }

    /// Closes the gate: from now on, `GET` requests to
    /// [`JWKS_PATH`](Self::JWKS_PATH) are counted, then held before being
    /// answered until [`release`](Self::release) is called. Other paths are
    /// not held, and neither is the rest of the server.
    pub fn stall_until_released(&self) {
        self.shared.gate.send_replace(true);
    }

    /// Opens the gate: every held request goes on (with the current
    /// [`Behavior`]), and later requests are no longer held.
    pub fn release(&self) {
        self.shared.gate.send_replace(false);
    }

    /// How many requests are waiting at the gate right now.
    pub fn held_requests(&self) -> usize {
        self.shared.held.load(Ordering::SeqCst)
    }

    /// Requests received for [`JWKS_PATH`](Self::JWKS_PATH) since the start
    /// or the last [`reset_counts`](Self::reset_counts).
    pub fn request_count(&self) -> usize {
        self.shared.jwks_requests.load(Ordering::SeqCst)
    }

    /// Requests received for any path since the start or the last
    /// [`reset_counts`](Self::reset_counts).
    pub fn total_requests(&self) -> usize {
        self.shared.total_requests.load(Ordering::SeqCst)
    }

    /// Sets both request counters back to zero.
    pub fn reset_counts(&self) {
        self.shared.jwks_requests.store(0, Ordering::SeqCst);
        self.shared.total_requests.store(0, Ordering::SeqCst);
    }

    /// Waits until [`request_count`](Self::request_count) is at least `n`.
    ///
    /// This waits for as long as it takes; wrap it in
    /// `tokio::time::timeout` in tests.
    pub async fn wait_for_requests(&self, n: usize) {
        loop {
            let mut arrived = pin!(self.shared.arrived.notified());
            arrived.as_mut().enable();
            if self.request_count() >= n {
                return;
            }
            arrived.await;
        }
    }

    /// Closes the listening socket, so that new connections are refused, and
    /// closes every open connection (including idle keep-alive ones a
    /// client may want to reuse). Returns once that is done. There is no
    /// way back: start a new server instead.
    pub async fn stop_listening(&self) {
        let (done, stopped) = oneshot::channel();
        if self.control.send(Control::StopListening(done)).is_ok() {
            // An error means the accept task is gone: nothing listens.
            let _ = stopped.await;
        }
    }

    /// Stops the server and waits until its socket and connections are
    /// closed.
    pub async fn shutdown(mut self) {
        let _ = self.control.send(Control::Shutdown);
        // Cancelled or finished: either way the listener is dropped.
        let _ = (&mut self.task).await;
    }
}

/// Commands from [`JwksServer`] to its accept task.
enum Control {
    /// Close the listener and every connection, then say so.
    StopListening(oneshot::Sender<()>),
    /// Close everything and end the accept task.
    Shutdown,
}

/// State shared by the handle and the server tasks.
struct Shared {
    /// What the server serves, and how.
    config: Mutex<Config>,
    /// `true` while JWKS requests are held.
    gate: watch::Sender<bool>,
    /// Requests for [`JwksServer::JWKS_PATH`].
    jwks_requests: AtomicUsize,
    /// Requests for any path.
    total_requests: AtomicUsize,
    /// Requests waiting at the gate.
    held: AtomicUsize,
    /// Notified after each request is counted.
    arrived: Notify,
}

/// The settings of [`JwksServer`], changed by its setters.
struct Config {
    /// The JWK Set served at [`JwksServer::JWKS_PATH`].
    jwks: Bytes,
    /// The `Cache-Control` header of normal JWKS answers.
    cache_control: Option<String>,
    /// The `Age` header of normal JWKS answers.
    age: Option<u64>,
    /// Behaviors other than [`Behavior::Normal`], by path.
    behaviors: HashMap<String, Behavior>,
    /// Documents registered with [`JwksServer::set_document`], by path.
    documents: HashMap<String, Document>,
    /// The bearer token every request must carry, if any.
    bearer: Option<String>,
}

/// A document registered with [`JwksServer::set_document`].
struct Document {
    /// Its `Content-Type`, without line breaks.
    content_type: String,
    /// Its body, served as is.
    body: Bytes,
}

impl Shared {
    /// Locks the settings.
    fn config(&self) -> MutexGuard<'_, Config> {
        // No code panics while holding the lock; if one did, the data is
        // still usable.
        self.config.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts a request for `path` and wakes those waiting for requests.
    fn count(&self, path: &str) {
        self.total_requests.fetch_add(1, Ordering::SeqCst);
        if path == JwksServer::JWKS_PATH {
            self.jwks_requests.fetch_add(1, Ordering::SeqCst);
        }
        self.arrived.notify_waiters();
    }

    /// Waits while the gate is closed.
    async fn pass_gate(&self) {
        let mut gate = self.gate.subscribe();
        if !*gate.borrow_and_update() {
            return;
        }
        self.held.fetch_add(1, Ordering::SeqCst);
        let _held = Held(&self.held);
        // Fails only if the sender is gone, which cannot happen while
        // `self` lives.
        let _ = gate.wait_for(|closed| !*closed).await;
    }

    /// The behavior set for `path`.
    fn behavior(&self, path: &str) -> Behavior {
        self.config()
            .behaviors
            .get(path)
            .cloned()
            .unwrap_or_default()
    }

    /// The normal answer for `path`.
    fn route(&self, path: &str) -> Response {
        let config = self.config();
        if let Some(document) = config.documents.get(path) {
            return Response::new(200, document.body.clone())
                .header("Content-Type", document.content_type.clone());
        }
        if path == JwksServer::JWKS_PATH {
            let mut response = Response::new(200, config.jwks.clone())
                .header("Content-Type", "application/json".to_owned());
            if let Some(cache_control) = &config.cache_control {
                response = response.header("Cache-Control", cache_control.clone());
            }
            if let Some(age) = config.age {
                response = response.header("Age", age.to_string());
            }
            return response;
        }
        Response::text(404, "not found\n")
    }
}

/// Decrements the held-requests counter when dropped (also on abort).
struct Held<'a>(&'a AtomicUsize);

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Accepts connections, each served in a task of its own, and obeys the
/// handle's commands.
async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut commands: mpsc::UnboundedReceiver<Control>,
) {
    let mut listener = Some(listener);
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            command = commands.recv() => match command {
                Some(Control::StopListening(done)) => {
                    listener = None;
                    connections.shutdown().await;
                    let _ = done.send(());
                }
                Some(Control::Shutdown) | None => {
                    drop(listener);
                    connections.shutdown().await;
                    return;
                }
            },
            accepted = accept(listener.as_ref()) => match accepted {
                Ok(stream) => {
                    connections.spawn(serve_connection(stream, Arc::clone(&shared)));
                }
                // Out of file descriptors or the like: try again shortly.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// Accepts a connection, or waits forever once the listener is closed.
async fn accept(listener: Option<&TcpListener>) -> io::Result<TcpStream> {
    match listener {
        Some(listener) => listener.accept().await.map(|(stream, _)| stream),
        None => std::future::pending().await,
    }
}

/// Reads and answers requests on one connection until it is closed.
async fn serve_connection(mut stream: TcpStream, shared: Arc<Shared>) {
    // Slowloris writes single bytes; send them as they come.
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::new();
    loop {
        let head = match read_head(&mut stream, &mut buf).await {
            Ok(Some(head)) => head,
            Ok(None) | Err(HeadError::Io) => return,
            Err(HeadError::TooLarge) => {
                refuse(stream, &Response::text(431, "request head too large\n")).await;
                return;
            }
        };
        let Some(request) = parse_request(&head) else {
            refuse(stream, &Response::text(400, "bad request\n")).await;
            return;
        };
        match answer(&mut stream, &shared, &request).await {
            Ok(Next::KeepAlive) => {}
            Ok(Next::Close) => {
                linger_close(stream).await;
                return;
            }
            Ok(Next::Abort) | Err(_) => return,
        }
    }
}

/// Counts a request, then answers it: 405 unless it is a `GET`, else
/// (past the gate, for the JWKS path) according to its path's behavior.
async fn answer(stream: &mut TcpStream, shared: &Shared, request: &Request) -> io::Result<Next> {
    shared.count(&request.path);
    if request.method != "GET" {
        let response =
            Response::text(405, "method not allowed\n").header("Allow", "GET".to_owned());
        write_response(stream, &response, request.close).await?;
        return Ok(Next::after(request.close));
    }
    let required = shared.config().bearer.clone();
    if required.is_some() && request.authorization != required {
        let response =
            Response::text(401, "unauthorized\n").header("WWW-Authenticate", "Bearer".to_owned());
        write_response(stream, &response, request.close).await?;
        return Ok(Next::after(request.close));
    }
    if request.path == JwksServer::JWKS_PATH {
        shared.pass_gate().await;
    }
    // A clone, taken before any `.await` so that no lock is held across one.
    let behavior = shared.behavior(&request.path);
    behavior::answer(stream, &behavior, request.close, || {
        shared.route(&request.path)
    })
    .await
}

/// `path` with a `/` in front.
fn normalize_path(path: &str) -> String {
    if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    }
}

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
use http::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc, oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};

/// The largest request head (request line and headers) the server reads.
const MAX_HEAD: usize = 16 * 1024;
/// Size of the chunks in which `Huge` and `Endless` bodies are written.
const CHUNK: usize = 16 * 1024;
/// Pause between two bytes of a `Slowloris` answer.
const SLOWLORIS_INTERVAL: Duration = Duration::from_millis(50);
/// How long a closing connection waits for the client to hang up.
const LINGER: Duration = Duration::from_secs(1);
/// The start of `Huge` and `Endless` bodies: it looks like a JWK Set.
const JSON_PREFIX: &[u8] = br#"{"keys":[{"kty":"RSA","kid":"huge","e":"AQAB","n":""#;
/// The body of `Garbage` answers.
const GARBAGE: &[u8] = b"\x00\xff<html><body>502 Bad Gateway, not JSON</body></html>\r\n\xfe{{{";
/// What `Slowloris` sends first, one byte at a time.
const SLOWLORIS_HEAD: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n";
/// What `Slowloris` then sends forever, one byte at a time.
const SLOWLORIS_PAD: &[u8] = b"X-Slow: a\r\n";

/// How the server answers requests to a path; set with
/// [`JwksServer::set_behavior`] (the JWKS path) or
/// [`JwksServer::set_behavior_at`] (any path).
///
/// Request counting happens before the behavior, so every request that
/// reaches the server is counted, whatever its answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Behavior {
    /// Serve the document normally (the default).
    #[default]
    Normal,
    /// Answer with this status code and a short `text/plain` body (no body
    /// for 1xx, 204 and 304). Codes outside `100..=999` are sent as 500.
    Status(u16),
    /// Answer 200 with `Content-Type: application/json` and a body that is
    /// not JSON (nor UTF-8).
    Garbage,
    /// Answer 200 with a `Content-Length` of this many bytes and a body that
    /// starts like a JWK Set, written in 16 KiB chunks. Writing stops if the
    /// client hangs up.
    Huge(usize),
    /// Answer 200 without `Content-Length` (a close-delimited body) and
    /// write a JSON-looking body forever, until the client hangs up.
    Endless,
    /// Wait this long, then answer normally.
    Delay(Duration),
    /// Read the request and never answer; the socket is held open until the
    /// client hangs up or the server stops.
    Stall,
    /// Send the status line and headers one byte every 50 ms, never ending
    /// the head, until the client hangs up.
    Slowloris,
    /// Answer `302 Found` with this `Location`.
    Redirect(String),
    /// Close the connection as soon as the request has arrived, without
    /// answering. To refuse connections altogether, see
    /// [`JwksServer::stop_listening`].
    Down,
}

/// A JWKS HTTP server on `127.0.0.1` for tests.
///
/// It serves:
///
/// - `GET /jwks.json` ([`JWKS_PATH`](Self::JWKS_PATH)): the document given to
///   [`set_jwks`](Self::set_jwks) (initially `{"keys":[]}`), as
///   `application/json`, with the optional [`Cache-Control`] and [`Age`]
///   headers;
/// - the documents registered with [`set_document`](Self::set_document);
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
    StopListening(oneshot::Sender<()>),
    Shutdown,
}

/// State shared by the handle and the server tasks.
struct Shared {
    config: Mutex<Config>,
    /// `true` while JWKS requests are held.
    gate: watch::Sender<bool>,
    jwks_requests: AtomicUsize,
    total_requests: AtomicUsize,
    held: AtomicUsize,
    /// Notified after each request is counted.
    arrived: Notify,
}

struct Config {
    jwks: Bytes,
    cache_control: Option<String>,
    age: Option<u64>,
    behaviors: HashMap<String, Behavior>,
    documents: HashMap<String, Document>,
}

struct Document {
    content_type: String,
    body: Bytes,
}

impl Shared {
    fn config(&self) -> MutexGuard<'_, Config> {
        // No code panics while holding the lock; if one did, the data is
        // still usable.
        self.config.lock().unwrap_or_else(PoisonError::into_inner)
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

/// What to do with a connection after an answer.
enum Next {
    /// Read the next request.
    KeepAlive,
    /// Close it politely (the answer said `Connection: close`).
    Close,
    /// Drop it at once.
    Abort,
}

async fn serve_connection(mut stream: TcpStream, shared: Arc<Shared>) {
    // Slowloris writes single bytes; send them as they come.
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::new();
    loop {
        let head = match read_head(&mut stream, &mut buf).await {
            Ok(Some(head)) => head,
            Ok(None) | Err(HeadError::Io) => return,
            Err(HeadError::TooLarge) => {
                let response = Response::text(431, "request head too large\n");
                if write_response(&mut stream, &response, true).await.is_ok() {
                    linger_close(stream).await;
                }
                return;
            }
        };
        let Some(request) = parse_request(&head) else {
            let response = Response::text(400, "bad request\n");
            if write_response(&mut stream, &response, true).await.is_ok() {
                linger_close(stream).await;
            }
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

async fn answer(stream: &mut TcpStream, shared: &Shared, request: &Request) -> io::Result<Next> {
    let is_jwks = request.path == JwksServer::JWKS_PATH;
    shared.total_requests.fetch_add(1, Ordering::SeqCst);
    if is_jwks {
        shared.jwks_requests.fetch_add(1, Ordering::SeqCst);
    }
    shared.arrived.notify_waiters();

    let close = request.close;
    let done = if close { Next::Close } else { Next::KeepAlive };
    if request.method != "GET" {
        let response =
            Response::text(405, "method not allowed\n").header("Allow", "GET".to_owned());
        write_response(stream, &response, close).await?;
        return Ok(done);
    }
    if is_jwks {
        shared.pass_gate().await;
    }

    // A `let`, so that the lock is released before any `.await`.
    let behavior = shared
        .config()
        .behaviors
        .get(&request.path)
        .cloned()
        .unwrap_or_default();
    match behavior {
        Behavior::Normal => {}
        Behavior::Delay(delay) => tokio::time::sleep(delay).await,
        Behavior::Status(code) => {
            let code = if (100..=999).contains(&code) {
                code
            } else {
                500
            };
            let body = format!("{code} {}\n", reason(code));
            write_response(stream, &Response::text(code, &body), close).await?;
            return Ok(done);
        }
        Behavior::Garbage => {
            let response = Response::new(200, Bytes::from_static(GARBAGE))
                .header("Content-Type", "application/json".to_owned());
            write_response(stream, &response, close).await?;
            return Ok(done);
        }
        Behavior::Huge(len) => {
            write_huge(stream, len, close).await?;
            return Ok(done);
        }
        Behavior::Endless => {
            write_endless(stream).await?;
            return Ok(Next::Abort);
        }
        Behavior::Stall => {
            hold_until_hangup(stream).await;
            return Ok(Next::Abort);
        }
        Behavior::Slowloris => {
            write_slowloris(stream).await?;
            return Ok(Next::Abort);
        }
        Behavior::Redirect(location) => {
            let response =
                Response::new(302, Bytes::new()).header("Location", header_value(&location));
            write_response(stream, &response, close).await?;
            return Ok(done);
        }
        Behavior::Down => return Ok(Next::Abort),
    }
    let response = shared.route(&request.path);
    write_response(stream, &response, close).await?;
    Ok(done)
}

/// An answer with a complete body.
struct Response {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Bytes,
}

impl Response {
    fn new(status: u16, body: Bytes) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body,
        }
    }

    fn text(status: u16, body: &str) -> Response {
        Response::new(status, Bytes::copy_from_slice(body.as_bytes()))
            .header("Content-Type", "text/plain; charset=utf-8".to_owned())
    }

    fn header(mut self, name: &'static str, value: String) -> Response {
        self.headers.push((name, value));
        self
    }
}

fn reason(status: u16) -> &'static str {
    StatusCode::from_u16(status)
        .ok()
        .and_then(|status| status.canonical_reason())
        .unwrap_or("Unknown")
}

/// 1xx, 204 and 304 answers have no body and no `Content-Length`.
fn has_body(status: u16) -> bool {
    !(status < 200 || status == 204 || status == 304)
}

/// The status line and headers, ending with the empty line.
fn head(
    status: u16,
    headers: &[(&'static str, String)],
    content_length: Option<usize>,
    close: bool,
) -> Vec<u8> {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (name, value) in headers {
        head.push_str(name);
        head.push_str(": ");
        head.push_str(value);
        head.push_str("\r\n");
    }
    if let Some(len) = content_length {
        head.push_str(&format!("Content-Length: {len}\r\n"));
    }
    if close {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    head.into_bytes()
}

async fn write_response(
    stream: &mut TcpStream,
    response: &Response,
    close: bool,
) -> io::Result<()> {
    let with_body = has_body(response.status);
    let content_length = with_body.then_some(response.body.len());
    let mut bytes = head(response.status, &response.headers, content_length, close);
    if with_body {
        bytes.extend_from_slice(&response.body);
    }
    stream.write_all(&bytes).await?;
    stream.flush().await
}

async fn write_huge(stream: &mut TcpStream, len: usize, close: bool) -> io::Result<()> {
    let headers = [("Content-Type", "application/json".to_owned())];
    stream
        .write_all(&head(200, &headers, Some(len), close))
        .await?;
    let prefix = JSON_PREFIX.get(..len).unwrap_or(JSON_PREFIX);
    stream.write_all(prefix).await?;
    let filler = [b'A'; CHUNK];
    let mut remaining = len.saturating_sub(prefix.len());
    while remaining > 0 {
        let chunk = filler.get(..remaining).unwrap_or(&filler);
        stream.write_all(chunk).await?;
        remaining = remaining.saturating_sub(chunk.len());
    }
    stream.flush().await
}

/// Writes forever; returns only with the error of a failed write.
async fn write_endless(stream: &mut TcpStream) -> io::Result<()> {
    let headers = [("Content-Type", "application/json".to_owned())];
    stream.write_all(&head(200, &headers, None, true)).await?;
    stream.write_all(JSON_PREFIX).await?;
    let filler = [b'A'; CHUNK];
    loop {
        stream.write_all(&filler).await?;
    }
}

/// Writes one byte at a time forever; returns only with the error of a
/// failed write.
async fn write_slowloris(stream: &mut TcpStream) -> io::Result<()> {
    for byte in SLOWLORIS_HEAD.iter().chain(SLOWLORIS_PAD.iter().cycle()) {
        stream.write_all(std::slice::from_ref(byte)).await?;
        stream.flush().await?;
        tokio::time::sleep(SLOWLORIS_INTERVAL).await;
    }
    Ok(())
}

/// Reads and discards until the client hangs up.
async fn hold_until_hangup(stream: &mut TcpStream) {
    let mut scratch = [0u8; 1024];
    while let Ok(1..) = stream.read(&mut scratch).await {}
}

/// Sends FIN, then waits a little for the client to hang up, so that unread
/// request bytes do not turn the close into a reset that could cut the
/// answer short.
async fn linger_close(mut stream: TcpStream) {
    if stream.shutdown().await.is_err() {
        return;
    }
    let _ = tokio::time::timeout(LINGER, hold_until_hangup(&mut stream)).await;
}

enum HeadError {
    /// The connection failed or ended in the middle of a head.
    Io,
    /// The head is larger than [`MAX_HEAD`].
    TooLarge,
}

/// Reads the next request head (through its empty line) into a buffer of
/// its own, keeping any bytes after it in `buf`. `Ok(None)`: the client
/// closed the connection between requests.
async fn read_head(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> Result<Option<Vec<u8>>, HeadError> {
    let mut scratch = [0u8; 4096];
    loop {
        // Empty lines before a request line are ignored (RFC 9112 §2.2).
        let blank = buf
            .iter()
            .take_while(|b| matches!(b, b'\r' | b'\n'))
            .count();
        buf.drain(..blank);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4) {
            if end > MAX_HEAD {
                return Err(HeadError::TooLarge);
            }
            let rest = buf.split_off(end);
            return Ok(Some(std::mem::replace(buf, rest)));
        }
        if buf.len() >= MAX_HEAD {
            return Err(HeadError::TooLarge);
        }
        let n = stream.read(&mut scratch).await.map_err(|_| HeadError::Io)?;
        if n == 0 {
            return if buf.is_empty() {
                Ok(None)
            } else {
                Err(HeadError::Io)
            };
        }
        buf.extend_from_slice(scratch.get(..n).unwrap_or_default());
    }
}

/// The parts of a request the server looks at.
struct Request {
    method: String,
    path: String,
    /// Close the connection after answering: asked for by the client, or
    /// the request has a body, which the server does not read.
    close: bool,
}

/// Parses a request head; `None` if it is malformed.
fn parse_request(head: &[u8]) -> Option<Request> {
    let text = std::str::from_utf8(head).ok()?;
    let mut lines = text.split("\r\n");
    let mut parts = lines.next()?.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some()
        || method.is_empty()
        || !method.bytes().all(|b| b.is_ascii_alphabetic())
    {
        return None;
    }
    let http10 = match version {
        "HTTP/1.1" => false,
        "HTTP/1.0" => true,
        _ => return None,
    };
    let (mut close_token, mut keep_alive_token, mut has_body) = (false, false, false);
    for line in lines.filter(|line| !line.is_empty()) {
        let (name, value) = line.split_once(':')?;
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("connection") {
            for token in value.split(',').map(str::trim) {
                close_token |= token.eq_ignore_ascii_case("close");
                keep_alive_token |= token.eq_ignore_ascii_case("keep-alive");
            }
        } else if name.eq_ignore_ascii_case("content-length") {
            has_body |= value.parse::<u64>().ok()? > 0;
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            has_body = true;
        }
    }
    let close = has_body || close_token || (http10 && !keep_alive_token);
    Some(Request {
        method: method.to_owned(),
        path: request_path(target),
        close,
    })
}

/// The path of a request target, without query or fragment; the
/// absolute form (`http://host/path`) is accepted too.
fn request_path(target: &str) -> String {
    let path = match target.split_once("://") {
        Some((_, rest)) if !target.starts_with('/') => {
            rest.find('/').and_then(|i| rest.get(i..)).unwrap_or("/")
        }
        _ => target,
    };
    path.split(['?', '#']).next().unwrap_or(path).to_owned()
}

fn normalize_path(path: &str) -> String {
    if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    }
}

/// A header value without the line breaks that would end it early.
fn header_value(value: &str) -> String {
    value
        .chars()
        .filter(|c| !matches!(c, '\r' | '\n'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_request_line_and_connection_headers() {
        let r = parse_request(b"GET /jwks.json?x=1 HTTP/1.1\r\nHost: a\r\n\r\n").unwrap();
        assert_eq!(
            (r.method.as_str(), r.path.as_str(), r.close),
            ("GET", "/jwks.json", false)
        );
        let r = parse_request(b"GET / HTTP/1.1\r\nConnection: Keep-Alive, CLOSE\r\n\r\n").unwrap();
        assert!(r.close);
        let r = parse_request(b"GET / HTTP/1.0\r\n\r\n").unwrap();
        assert!(r.close);
        let r = parse_request(b"GET / HTTP/1.0\r\nconnection: keep-alive\r\n\r\n").unwrap();
        assert!(!r.close);
        let r = parse_request(b"POST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\n").unwrap();
        assert!(r.close);
        let r = parse_request(b"GET http://h:1/a/b?q HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(r.path, "/a/b");
        let r = parse_request(b"GET /r?u=http://x/y HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(r.path, "/r");
    }

    #[test]
    fn rejects_malformed_heads() {
        for head in [
            &b"GET /\r\n\r\n"[..],
            b"GET / HTTP/2\r\n\r\n",
            b"GET  / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nno colon\r\n\r\n",
            b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
            b"G\xffT / HTTP/1.1\r\n\r\n",
        ] {
            assert!(parse_request(head).is_none(), "{head:?}");
        }
    }

    #[test]
    fn bodiless_statuses_have_no_content_length() {
        let head = String::from_utf8(head(204, &[], has_body(204).then_some(0), true)).unwrap();
        assert_eq!(head, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
        assert!(has_body(500) && has_body(302) && !has_body(304) && !has_body(101));
    }

    #[test]
    fn header_values_lose_line_breaks() {
        assert_eq!(header_value("max-age=1\r\nX-Evil: 1"), "max-age=1X-Evil: 1");
    }
}

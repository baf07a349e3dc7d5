//! The ways the test server can answer a request: [`Behavior`], and the
//! code that answers according to one, from a plain error status to a body
//! that never ends or a head sent one byte at a time.

use std::io;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::http1::{Next, Response, head, header_value, hold_until_hangup, reason, write_response};

/// Size of the chunks in which `Huge` and `Endless` bodies are written.
const CHUNK: usize = 16 * 1024;
/// Pause between two bytes of a `Slowloris` answer.
const SLOWLORIS_INTERVAL: Duration = Duration::from_millis(50);
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
///
/// [`JwksServer::set_behavior`]: super::JwksServer::set_behavior
/// [`JwksServer::set_behavior_at`]: super::JwksServer::set_behavior_at
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
    ///
    /// [`JwksServer::stop_listening`]: super::JwksServer::stop_listening
    Down,
}

/// Answers a request according to `behavior`; `normal` makes the answer of
/// `Normal` and `Delay` (after the delay).
pub(super) async fn answer(
    stream: &mut TcpStream,
    behavior: &Behavior,
    close: bool,
    normal: impl FnOnce() -> Response,
) -> io::Result<Next> {
    let response = match behavior {
        Behavior::Normal => normal(),
        Behavior::Delay(delay) => {
            tokio::time::sleep(*delay).await;
            normal()
        }
        Behavior::Status(code) => status(*code),
        Behavior::Garbage => garbage(),
        Behavior::Redirect(location) => redirect(location),
        Behavior::Huge(len) => {
            write_huge(stream, *len, close).await?;
            return Ok(Next::after(close));
        }
        // These never give a complete answer; the connection is dropped.
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
        Behavior::Down => return Ok(Next::Abort),
    };
    write_response(stream, &response, close).await?;
    Ok(Next::after(close))
}

/// The answer of `Status(code)`.
fn status(code: u16) -> Response {
    let code = if (100..=999).contains(&code) {
        code
    } else {
        500
    };
    let body = format!("{code} {}\n", reason(code));
    Response::text(code, &body)
}

/// The answer of `Garbage`.
fn garbage() -> Response {
    Response::new(200, Bytes::from_static(GARBAGE))
        .header("Content-Type", "application/json".to_owned())
}

/// The answer of `Redirect(location)`.
fn redirect(location: &str) -> Response {
    Response::new(302, Bytes::new()).header("Location", header_value(location))
}

/// Writes the answer of `Huge(len)`: a `len`-byte body in [`CHUNK`]s.
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

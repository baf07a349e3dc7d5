//! The HTTP/1.1 wire format the test server speaks, and nothing more.
//!
//! Reading a request head (at most [`MAX_HEAD`] bytes), parsing the few
//! parts of it the server looks at ([`Request`]), writing a response
//! (status line, headers, body) and closing a connection politely. Nothing
//! here knows about JWKS.

use std::io;
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The largest request head (request line and headers) the server reads.
const MAX_HEAD: usize = 16 * 1024;
/// How long a closing connection waits for the client to hang up.
const LINGER: Duration = Duration::from_secs(1);

/// What to do with a connection after an answer.
pub(super) enum Next {
    /// Read the next request.
    KeepAlive,
    /// Close it politely (the answer said `Connection: close`).
    Close,
    /// Drop it at once.
    Abort,
}

impl Next {
    /// After a complete answer: `Close` if it said `Connection: close`.
    pub(super) fn after(close: bool) -> Next {
        if close { Next::Close } else { Next::KeepAlive }
    }
}

/// An answer with a complete body.
pub(super) struct Response {
    /// The status code, `100..=999`.
    status: u16,
    /// Headers other than `Content-Length` and `Connection`.
    headers: Vec<(&'static str, String)>,
    /// The body; not sent for statuses that have none (see [`has_body`]).
    body: Bytes,
}

impl Response {
    /// An answer with this status and body, without headers.
    pub(super) fn new(status: u16, body: Bytes) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body,
        }
    }

    /// An answer with this status and a `text/plain` body.
    pub(super) fn text(status: u16, body: &str) -> Response {
        Response::new(status, Bytes::copy_from_slice(body.as_bytes()))
            .header("Content-Type", "text/plain; charset=utf-8".to_owned())
    }

    /// Adds a header; `value` must hold no line break (see [`header_value`]).
    pub(super) fn header(mut self, name: &'static str, value: String) -> Response {
        self.headers.push((name, value));
        self
    }
}

/// The reason phrase of a status code, `Unknown` for unregistered ones.
pub(super) fn reason(status: u16) -> &'static str {
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
pub(super) fn head(
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

/// Writes a complete answer, with `Connection: close` if `close`.
pub(super) async fn write_response(
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

/// Answers with `Connection: close`, then closes the connection politely.
pub(super) async fn refuse(mut stream: TcpStream, response: &Response) {
    if write_response(&mut stream, response, true).await.is_ok() {
        linger_close(stream).await;
    }
}

/// Reads and discards until the client hangs up.
pub(super) async fn hold_until_hangup(stream: &mut TcpStream) {
    let mut scratch = [0u8; 1024];
    while let Ok(1..) = stream.read(&mut scratch).await {}
}

/// Sends FIN, then waits a little for the client to hang up, so that unread
/// request bytes do not turn the close into a reset that could cut the
/// answer short.
pub(super) async fn linger_close(mut stream: TcpStream) {
    if stream.shutdown().await.is_err() {
        return;
    }
    let _ = tokio::time::timeout(LINGER, hold_until_hangup(&mut stream)).await;
}

/// Why no request head could be read.
pub(super) enum HeadError {
    /// The connection failed or ended in the middle of a head.
    Io,
    /// The head is larger than [`MAX_HEAD`].
    TooLarge,
}

/// Reads the next request head (through its empty line) into a buffer of
/// its own, keeping any bytes after it in `buf`. `Ok(None)`: the client
/// closed the connection between requests.
pub(super) async fn read_head(
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
pub(super) struct Request {
    /// The method, ASCII letters only.
    pub(super) method: String,
    /// The path of the target, without query or fragment.
    pub(super) path: String,
    /// Close the connection after answering: asked for by the client, or
    /// the request has a body, which the server does not read.
    pub(super) close: bool,
    /// The `Authorization` header, if the request has one.
    pub(super) authorization: Option<String>,
}

/// Parses a request head; `None` if it is malformed.
pub(super) fn parse_request(head: &[u8]) -> Option<Request> {
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
    let mut authorization = None;
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
        } else if name.eq_ignore_ascii_case("authorization") {
            authorization = Some(value.to_owned());
        }
    }
    let close = has_body || close_token || (http10 && !keep_alive_token);
    Some(Request {
        method: method.to_owned(),
        path: request_path(target),
        close,
        authorization,
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

/// A header value without the line breaks that would end it early.
pub(super) fn header_value(value: &str) -> String {
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

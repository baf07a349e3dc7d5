//! Compact JWS parsing (RFC 7515 §7.1): the three segments, their base64url
//! decoding into stack buffers, and the JOSE header, read with strict
//! types. Nothing here is trusted until the signature verifies.

use std::borrow::Cow;
use std::mem::MaybeUninit;

use jsonwebtoken::Algorithm;

use super::known_headers::{self, KnownHeader};
use super::rules::TokenLimits;
use super::wire::{RawHeader, Str};
use crate::error::{AuthError, AuthErrorKind};
use crate::keys;

/// Longest `kid` we look up; longer ones cannot name a key.
const MAX_KID_LEN: usize = 256;
/// Decoded headers up to this size stay on the stack (typical: 60–120 B).
pub(crate) const HEADER_BUF: usize = 512;
/// Decoded payloads up to this size stay on the stack.
pub(crate) const PAYLOAD_BUF: usize = 2048;
/// Decoded signatures up to this size stay on the stack (RSA-8192: 1024 B).
pub(crate) const SIGNATURE_BUF: usize = 1024;

/// A token split and its header read; the payload decoded but not read.
pub(crate) struct Jws<'b, 't> {
    pub(crate) alg: Algorithm,
    pub(crate) kid: Option<Str<'b>>,
    pub(crate) header: &'t str,
    /// The header was found among the known ones (not parsed).
    pub(crate) header_known: bool,
    pub(crate) payload: &'b [u8],
    pub(crate) signature: &'t str,
    pub(crate) signing_input: &'t str,
}

/// The buffers one parse decodes into (on the caller's stack).
pub(crate) struct Buffers {
    header: Decoded<HEADER_BUF>,
    payload: Decoded<PAYLOAD_BUF>,
}

impl Buffers {
    pub(crate) fn new() -> Self {
        Self {
            header: Decoded::new(),
            payload: Decoded::new(),
        }
    }
}

/// Splits `token`, reads its header (or finds it among `known`) and decodes
/// its payload, which must be a JSON object in valid UTF-8.
pub(crate) fn parse<'b, 't: 'b>(
    token: &'t str,
    limits: &TokenLimits,
    known: &'b [KnownHeader],
    buffers: &'b mut Buffers,
) -> Result<Jws<'b, 't>, AuthError> {
    if token.len() > limits.max_size {
        return Err(AuthErrorKind::TokenTooLarge.into());
    }
    let segments = split(token)?;
    let (alg, kid, header_known) = match known_headers::find(known, segments.header) {
        // The same bytes as a header that verified: the same answer.
        Some(header) => {
            let kid = header.kid.as_deref().map(|k| Str(Cow::Borrowed(k)));
            (header.alg, kid, true)
        }
        None => {
            let read = buffers
                .header
                .decode(segments.header)
                .and_then(|json| read_header(limits, json));
            match read {
                Ok((alg, kid)) => (alg, kid, false),
                Err(_) if segments.payload.contains('.') => {
                    return Err(AuthErrorKind::MalformedToken.into());
                }
                Err(e) => return Err(e),
            }
        }
    };
    let payload = buffers.payload.decode(segments.payload)?;
    // Read with serde_json's byte reader, which checks each string's UTF-8
    // again: its text reader (`from_str`) makes an invalid `&str` out of a
    // `bool` map key starting with a multi-byte character (1.0.154).
    if !is_object(payload) || simdutf8::basic::from_utf8(payload).is_err() {
        return Err(AuthErrorKind::MalformedToken.into());
    }
    Ok(Jws {
        alg,
        kid,
        header: segments.header,
        header_known,
        payload,
        signature: segments.signature,
        signing_input: segments.signing_input,
    })
}

/// Decodes the signature segment (empty is malformed).
pub(crate) fn decode_signature<'b>(
    signature: &str,
    buf: &'b mut Decoded<SIGNATURE_BUF>,
) -> Result<&'b [u8], AuthError> {
    if signature.is_empty() {
        return Err(AuthErrorKind::MalformedToken.into());
    }
    buf.decode(signature)
}

/// Base64url decoding into a stack buffer of `N` bytes, or the heap when
/// the decoded bytes would not fit.
pub(crate) struct Decoded<const N: usize> {
    /// Left uninitialized: the decoder writes before anything is read, so
    /// the hot path does not clear kilobytes of stack per request.
    stack: [MaybeUninit<u8>; N],
    heap: Vec<u8>,
}

impl<const N: usize> Decoded<N> {
    pub(crate) fn new() -> Self {
        Self {
            stack: [const { MaybeUninit::uninit() }; N],
            heap: Vec::new(),
        }
    }

    fn decode(&mut self, input: &str) -> Result<&[u8], AuthError> {
        let malformed = |_| AuthError::new(AuthErrorKind::MalformedToken);
        let engine = base64_simd::URL_SAFE_NO_PAD;
        // The exact decoded length (from the input's length and padding),
        // so the stack buffer is used whenever the bytes fit and is always
        // large enough when chosen (the decoder asserts it).
        let len = engine.decoded_length(input.as_bytes()).map_err(malformed)?;
        if len <= N {
            let out = base64_simd::Out::from_uninit_slice(&mut self.stack);
            Ok(engine.decode(input.as_bytes(), out).map_err(malformed)?)
        } else {
            self.heap = engine.decode_to_vec(input).map_err(malformed)?;
            Ok(&self.heap)
        }
    }
}

/// A JSON text whose first non-blank byte is `{`: serde would otherwise
/// read a JSON array into a struct.
fn is_object(json: &[u8]) -> bool {
    json.iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'{')
}

/// `text` before and after the `.` at `dot`.
fn split_at_dot(text: &str, dot: Option<usize>) -> Option<(&str, &str)> {
    let (before, rest) = text.split_at_checked(dot?)?;
    Some((before, rest.get(1..)?))
}

/// The three segments of a compact JWS.
struct Segments<'t> {
    header: &'t str,
    payload: &'t str,
    signature: &'t str,
    signing_input: &'t str,
}

fn split(token: &str) -> Result<Segments<'_>, AuthError> {
    let malformed = || AuthError::new(AuthErrorKind::MalformedToken);
    // memchr's vectorized searches: the signature is a third of the token.
    let (signing_input, signature) =
        split_at_dot(token, memchr::memrchr(b'.', token.as_bytes())).ok_or_else(malformed)?;
    let (header, payload) = split_at_dot(
        signing_input,
        memchr::memchr(b'.', signing_input.as_bytes()),
    )
    .ok_or_else(malformed)?;
    // An empty signature is refused after the header is read, so `alg: none`
    // is reported as such. More than three segments (a `.` in `payload`)
    // fail the payload's base64; `parse` also reports them as malformed
    // when the header fails first, without scanning every payload for dots.
    if header.is_empty() || payload.is_empty() {
        return Err(malformed());
    }
    Ok(Segments {
        header,
        payload,
        signature,
        signing_input,
    })
}

/// Reads a decoded JOSE header: its algorithm (allowed by `limits`)
/// and `kid`.
fn read_header<'b>(
    limits: &TokenLimits,
    json: &'b [u8],
) -> Result<(Algorithm, Option<Str<'b>>), AuthError> {
    // serde_json skips ignored strings without checking their UTF-8;
    // the whole header and payload must be valid UTF-8 (RFC 7515 §5.2).
    if !is_object(json) || simdutf8::basic::from_utf8(json).is_err() {
        return Err(AuthErrorKind::MalformedToken.into());
    }
    let header: RawHeader<'_> = serde_json::from_slice(json)
        .map_err(|e| AuthError::with_source(AuthErrorKind::MalformedToken, e))?;
    if header.crit || header.enc || header.b64 || header.zip {
        return Err(AuthErrorKind::UnsupportedHeader.into());
    }
    if !limits.accepts_typ(header.typ.as_deref()) {
        return Err(AuthErrorKind::InvalidTokenType.into());
    }
    let alg = keys::parse_alg(&header.alg)
        .filter(|a| limits.algorithms.contains(*a))
        .ok_or(AuthErrorKind::AlgorithmNotAllowed)?;
    match header.kid {
        Some(kid) if kid.len() > MAX_KID_LEN => Err(AuthErrorKind::UnknownKey.into()),
        kid => Ok((alg, kid)),
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    /// Around the stack buffer's size, on the stack and on the heap, the
    /// decoded bytes are exactly those of the input; bad input is refused.
    #[test]
    fn decoding_around_the_stack_buffer_size() {
        for len in [0, 1, 2, 3, 1021, 1022, 1023, 1024, 1025, 1026, 1027, 4096] {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let text = URL_SAFE_NO_PAD.encode(&bytes);
            let mut buf = Decoded::<SIGNATURE_BUF>::new();
            assert_eq!(buf.decode(&text).unwrap(), &bytes[..], "{len} bytes");
        }
        for bad in ["A", "AB=", "A.B", "AB C", "QR", "QUG"] {
            let mut buf = Decoded::<SIGNATURE_BUF>::new();
            let err = buf.decode(bad).unwrap_err();
            assert_eq!(err.kind(), AuthErrorKind::MalformedToken, "{bad:?}");
        }
    }
}

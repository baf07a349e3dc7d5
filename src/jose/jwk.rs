//! The JWK model (RFC 7517) read in both directions: public keys in (to
//! verify with) and private keys in (to sign with). One set of members and
//! one set of checks; the [`Direction`] decides what `key_ops` must allow.
//! Public keys out are written by `published.rs`.

use std::borrow::Cow;

use jsonwebtoken::Algorithm;
use serde::Deserialize;

use serde_json::value::RawValue;

use super::{b64, x509};

/// The longest `x5c` chain accepted (real ones hold 1 to 4 certificates).
pub(crate) const MAX_X5C: usize = 10;
use crate::keys::parse_alg;
use crate::log::untrusted;

/// What a JWK is read for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    /// A public key (or a local HMAC secret) to verify with.
    Verify,
    /// A private key (or an HMAC secret) to sign with.
    #[cfg(feature = "issue")]
    Sign,
}

impl Direction {
    fn operation(self) -> &'static str {
        match self {
            Self::Verify => "verify",
            #[cfg(feature = "issue")]
            Self::Sign => "sign",
        }
    }
}

/// Every JWK member we read; strings borrow from the JSON text.
#[derive(Deserialize)]
pub(crate) struct Jwk<'a> {
    #[serde(borrow)]
    pub(crate) kty: Cow<'a, str>,
    #[serde(default, borrow, rename = "use")]
    use_: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    key_ops: Option<Vec<Cow<'a, str>>>,
    #[serde(default, borrow)]
    alg: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub(crate) kid: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub(crate) crv: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    n: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    e: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    x: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    y: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    k: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    d: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    p: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    q: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    dp: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    dq: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    qi: Option<Cow<'a, str>>,
    /// The certificate chain (RFC 7517 §4.7): standard base64 DER, the
    /// key's own certificate first.
    #[serde(default, borrow)]
    x5c: Option<Vec<Cow<'a, str>>>,
    /// Other primes of a multi-prime RSA key (never supported).
    #[cfg(feature = "issue")]
    #[serde(default)]
    pub(crate) oth: Option<serde::de::IgnoredAny>,
}

impl<'a> Jwk<'a> {
    /// Reads one JWK (a JSON object) for `direction`: `use` must be `sig`
    /// and `key_ops`, when present, must allow the direction's operation.
    /// Errors name the place in the text, never the key.
    pub(crate) fn read(json: &'a str, direction: Direction) -> Result<Self, String> {
        if !json.trim_start().starts_with('{') {
            return Err("a JWK must be a JSON object".into());
        }
        let jwk: Self = serde_json::from_str(json)
            .map_err(|e| format!("malformed JWK (line {}, column {})", e.line(), e.column()))?;
        if let Some(u) = &jwk.use_
            && u != "sig"
        {
            return Err(format!(
                "the JWK's `use` is `{}`, not `sig`",
                untrusted(u, 32)
            ));
        }
        let op = direction.operation();
        if let Some(ops) = &jwk.key_ops
            && !ops.iter().any(|o| o == op)
        {
            return Err(format!("the JWK's `key_ops` does not allow `{op}`"));
        }
        Ok(jwk)
    }

    /// The JWK's `alg`, if it names one we support.
    pub(crate) fn alg(&self) -> Result<Option<Algorithm>, String> {
        match &self.alg {
            None => Ok(None),
            Some(name) => parse_alg(name).map(Some).ok_or_else(|| {
                format!("the JWK's `alg` `{}` is not supported", untrusted(name, 32))
            }),
        }
    }

    fn text(&self, name: &str) -> Option<&str> {
        let value = match name {
            "n" => &self.n,
            "e" => &self.e,
            "x" => &self.x,
            "y" => &self.y,
            "k" => &self.k,
            "d" => &self.d,
            "p" => &self.p,
            "q" => &self.q,
            "dp" => &self.dp,
            "dq" => &self.dq,
            "qi" => &self.qi,
            _ => return None,
        };
        value.as_deref()
    }

    /// Whether the base64url member `name` is present.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.text(name).is_some()
    }

    /// The base64url member `name`, decoded.
    pub(crate) fn bytes(&self, name: &str) -> Result<Vec<u8>, String> {
        b64::member(name, self.text(name))
    }

    /// The DER of the first certificate of `x5c`, if the JWK has one.
    /// Chains longer than [`MAX_X5C`] are refused (only the first entry is
    /// ever read).
    pub(crate) fn first_certificate(&self) -> Result<Option<Vec<u8>>, String> {
        let Some(chain) = &self.x5c else {
            return Ok(None);
        };
        if chain.len() > MAX_X5C {
            return Err(format!(
                "the JWK's `x5c` has {} certificates, more than {MAX_X5C}",
                chain.len()
            ));
        }
        let first = chain.first().ok_or("the JWK's `x5c` is empty")?;
        if first.len() > x509::MAX_CERT_PEM {
            return Err("the JWK's first `x5c` certificate is too large".into());
        }
        b64::standard(first)
            .map(Some)
            .map_err(|()| "the JWK's `x5c` is not base64".into())
    }

    /// `kty` and `crv` for messages about unsupported keys.
    pub(crate) fn describe(&self) -> String {
        let crv = self
            .crv
            .as_deref()
            .map(|c| format!(" curve `{}`", untrusted(c, 32)));
        format!(
            "key type `{}`{}",
            untrusted(&self.kty, 32),
            crv.unwrap_or_default()
        )
    }
}

/// The entries of a JWK Set document (`{"keys":[…]}`), each still JSON
/// text, at most `max_keys` of them.
pub(crate) fn set_entries(json: &str, max_keys: usize) -> Result<Vec<&RawValue>, String> {
    #[derive(Deserialize)]
    struct Set<'a> {
        #[serde(borrow)]
        keys: Vec<&'a RawValue>,
    }
    if !json.trim_start().starts_with('{') {
        return Err("a JWK Set must be a JSON object".into());
    }
    let set: Set<'_> = serde_json::from_str(json).map_err(|e| {
        format!(
            "malformed JWK Set (line {}, column {})",
            e.line(),
            e.column()
        )
    })?;
    if set.keys.len() > max_keys {
        return Err(format!(
            "the JWK Set has {} keys, more than the limit of {max_keys}",
            set.keys.len()
        ));
    }
    Ok(set.keys)
}

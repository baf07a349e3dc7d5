//! The public keys we publish: [`PublicJwk`] and [`JwkSet`] (RFC 7517).
//! They hold public members only; there is no way to put a private one in.

use jsonwebtoken::Algorithm;
use serde::Serialize;

use super::b64;
use super::thumbprint::thumbprint;

/// The public half of an asymmetric signing key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PublicParts {
    Rsa {
        n: String,
        e: String,
    },
    Ec {
        crv: &'static str,
        x: String,
        y: String,
    },
    Ed25519 {
        x: String,
    },
}

impl PublicParts {
    pub(crate) fn rsa(n: &[u8], e: &[u8]) -> Self {
        Self::Rsa {
            n: b64::encode(n),
            e: b64::encode(e),
        }
    }

    pub(crate) fn ec(crv: &'static str, x: &[u8], y: &[u8]) -> Self {
        Self::Ec {
            crv,
            x: b64::encode(x),
            y: b64::encode(y),
        }
    }

    pub(crate) fn ed25519(x: &[u8]) -> Self {
        Self::Ed25519 { x: b64::encode(x) }
    }

    /// The RFC 7638 thumbprint of this key.
    pub(crate) fn thumbprint(&self) -> String {
        match self {
            Self::Rsa { n, e } => {
                thumbprint(&[("e", e.as_str()), ("kty", "RSA"), ("n", n.as_str())])
            }
            Self::Ec { crv, x, y } => thumbprint(&[
                ("crv", *crv),
                ("kty", "EC"),
                ("x", x.as_str()),
                ("y", y.as_str()),
            ]),
            Self::Ed25519 { x } => {
                thumbprint(&[("crv", "Ed25519"), ("kty", "OKP"), ("x", x.as_str())])
            }
        }
    }

    /// The JWK to publish, with `use: sig` and the given `kid` and `alg`
    /// (`alg` absent only for the check of the key's algorithm family).
    pub(crate) fn jwk(&self, kid: Option<&str>, alg: Option<Algorithm>) -> PublicJwk {
        let mut jwk = PublicJwk {
            kty: "",
            use_: "sig",
            alg,
            kid: kid.map(str::to_owned),
            crv: None,
            n: None,
            e: None,
            x: None,
            y: None,
        };
        match self {
            Self::Rsa { n, e } => {
                jwk.kty = "RSA";
                jwk.n = Some(n.clone());
                jwk.e = Some(e.clone());
            }
            Self::Ec { crv, x, y } => {
                jwk.kty = "EC";
                jwk.crv = Some(crv);
                jwk.x = Some(x.clone());
                jwk.y = Some(y.clone());
            }
            Self::Ed25519 { x } => {
                jwk.kty = "OKP";
                jwk.crv = Some("Ed25519");
                jwk.x = Some(x.clone());
            }
        }
        jwk
    }
}

/// A public signing key as a JWK (RFC 7517): `kty`, its public members,
/// `use: "sig"`, `alg` and `kid`. It never holds a private member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PublicJwk {
    kty: &'static str,
    #[serde(rename = "use")]
    use_: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    alg: Option<Algorithm>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    crv: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    n: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    e: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    x: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    y: Option<String>,
}

impl PublicJwk {
    /// The key id.
    pub fn kid(&self) -> &str {
        self.kid.as_deref().unwrap_or_default()
    }

    /// The algorithm the key signs with.
    pub fn algorithm(&self) -> Option<Algorithm> {
        self.alg
    }

    /// The key type: `RSA`, `EC` or `OKP`.
    pub fn key_type(&self) -> &'static str {
        self.kty
    }

    /// The JWK as compact JSON.
    pub fn to_json(&self) -> String {
        to_json(self)
    }
}

/// A JWK Set (RFC 7517 §5) of public signing keys, as
/// `/.well-known/jwks.json` serves it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct JwkSet {
    keys: Vec<PublicJwk>,
}

impl JwkSet {
    pub(crate) fn new(keys: Vec<PublicJwk>) -> Self {
        Self { keys }
    }

    /// The keys, the signing key first.
    pub fn keys(&self) -> &[PublicJwk] {
        &self.keys
    }

    /// The key with this `kid`.
    pub fn get(&self, kid: &str) -> Option<&PublicJwk> {
        self.keys.iter().find(|k| k.kid() == kid)
    }

    /// Whether a key with this `kid` is in the set.
    pub fn contains(&self, kid: &str) -> bool {
        self.get(kid).is_some()
    }

    /// The set as compact JSON: `{"keys":[…]}`.
    pub fn to_json(&self) -> String {
        to_json(self)
    }
}

fn to_json(value: &impl Serialize) -> String {
    // Only strings and an enum with string names: serializing cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

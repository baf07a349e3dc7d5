//! DPoP proofs for tests (RFC 9449 §4.2): good ones for a request and a
//! token, and any header or claims for broken ones.

use serde_json::{Value, json};

use super::TestKey;
use crate::error::BoxError;

/// A client's DPoP key, minting proofs.
///
/// ```
/// use jwt_layer::issue::SigningKey;
/// use jwt_layer::testing::{DpopClient, TestKey};
///
/// // RFC 8037's example Ed25519 key: public, never use it for real.
/// let key = SigningKey::from_jwk(r#"{"kty":"OKP","crv":"Ed25519",
///     "d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
///     "x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#)?;
/// let client = DpopClient::new(TestKey::new(key));
/// let proof = client.proof("GET", "https://api.example.com/orders", "the.access.token")?;
/// assert_eq!(proof.split('.').count(), 3);
/// assert_eq!(client.jkt(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"); // RFC 8037 §A.3
/// # Ok::<(), jwt_layer::BoxError>(())
/// ```
#[derive(Clone, Debug)]
pub struct DpopClient {
    key: TestKey,
}

impl DpopClient {
    /// Proofs signed by `key` (an asymmetric key).
    pub fn new(key: TestKey) -> Self {
        Self { key }
    }

    /// The RFC 7638 thumbprint of the public key: the `cnf.jkt` of tokens
    /// bound to this client.
    pub fn jkt(&self) -> String {
        let jwk = self.key.jwk().unwrap_or_default();
        crate::jose::thumbprint::jwk_thumbprint(&jwk).unwrap_or_default()
    }

    /// The proof header: `typ` `dpop+jwt`, the key's `alg` and public `jwk`.
    pub fn header(&self) -> Value {
        let jwk: Value = self
            .key
            .jwk()
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or(Value::Null);
        json!({
            "typ": "dpop+jwt",
            "alg": format!("{:?}", self.key.signing_key().algorithm()),
            "jwk": jwk,
        })
    }

    /// The proof claims for a `method` request to `url` with `token`:
    /// `htm`, `htu`, `iat` now, a random `jti`, `ath`.
    pub fn claims(&self, method: &str, url: &str, token: &str) -> Value {
        let mut id = [0u8; 16];
        let _ = getrandom::fill(&mut id);
        json!({
            "htm": method,
            "htu": url,
            "iat": super::now(),
            "jti": crate::jose::b64::encode(id),
            "ath": crate::dpop::token_hash(token),
        })
    }

    /// A good proof for a `method` request to `url` with `token`.
    ///
    /// # Errors
    ///
    /// Signing failed.
    pub fn proof(&self, method: &str, url: &str, token: &str) -> Result<String, BoxError> {
        self.proof_with(&self.header(), &self.claims(method, url, token))
    }

    /// A proof with this header and these claims, signed by the key
    /// whatever they say (for broken proofs).
    ///
    /// # Errors
    ///
    /// Signing failed.
    pub fn proof_with(&self, header: &Value, claims: &Value) -> Result<String, BoxError> {
        self.key.mint_raw(&header.to_string(), &claims.to_string())
    }
}

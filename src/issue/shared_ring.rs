//! [`SharedKeyRing`]: one [`KeyRing`] for every replica of an issuer, in
//! Redis.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use redis::aio::MultiplexedConnection;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::ring::RingKeys;
use super::{HmacSecret, KeyKind, KeyRing, SigningKey};
use crate::error::{BoxError, BuildError, BuildErrorKind};
use crate::redis_client::connect;

/// How often each replica reads the stored ring.
const POLL: Duration = Duration::from_millis(250);
/// How long the rotation lock is held at most.
const LOCK: Duration = Duration::from_secs(10);
/// The largest stored value read.
const MAX_VALUE: usize = 1 << 20;

/// The key that encrypts the ring's private keys at rest: 32 random bytes.
/// `Debug` never shows it; it is wiped when dropped.
#[derive(Clone)]
pub struct KeyEncryptionKey(Zeroizing<[u8; 32]>);

impl fmt::Debug for KeyEncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyEncryptionKey([redacted])")
    }
}

impl KeyEncryptionKey {
    /// Reads a key given as 64 hexadecimal characters or 43 base64url
    /// characters (32 bytes), surrounding blanks ignored.
    ///
    /// # Errors
    ///
    /// Any other length or alphabet: a shorter key is refused.
    pub fn parse(text: &str) -> std::result::Result<Self, BuildError> {
        let text = text.trim();
        let secret = match text.len() {
            64 => HmacSecret::from_hex(text).ok(),
            43 => HmacSecret::from_base64url(text).ok(),
            _ => None,
        };
        // Copied straight into zeroizing storage (no loose stack copy).
        let mut key = Zeroizing::new([0u8; 32]);
        match secret {
            Some(s) if s.as_bytes().len() == 32 => key.copy_from_slice(s.as_bytes()),
            _ => {
                return Err(BuildError::new(
                    BuildErrorKind::InvalidKey,
                    "a key-encryption key is 32 bytes: 64 hex or 43 base64url characters",
                ));
            }
        }
        Ok(Self(key))
    }

    fn aead(&self) -> Result<LessSafeKey> {
        let key = UnboundKey::new(&AES_256_GCM, &self.0[..]).map_err(|_| platform("AES key"))?;
        Ok(LessSafeKey::new(key))
    }
}

/// Why a [`SharedKeyRing`] could not join or keep in step.
#[derive(Debug)]
pub struct SharedRingError {
    kind: SharedRingErrorKind,
    source: BoxError,
}

/// The classes of [`SharedRingError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SharedRingErrorKind {
    /// Redis could not be reached, or refused a command.
    Redis,
    /// The stored ring does not decrypt under this key-encryption key.
    Undecryptable,
    /// The stored ring decrypts but does not hold usable keys.
    InvalidRing,
    /// The ring signs with an HMAC secret, which is not shared this way
    /// (give every replica the secret instead).
    Symmetric,
    /// The platform failed: randomness, encryption, key generation.
    Platform,
}

impl SharedRingError {
    fn new(kind: SharedRingErrorKind, source: impl Into<BoxError>) -> Self {
        Self {
            kind,
            source: source.into(),
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> SharedRingErrorKind {
        self.kind
    }
}

impl fmt::Display for SharedRingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.kind {
            SharedRingErrorKind::Redis => "shared key ring: Redis failed",
            SharedRingErrorKind::Undecryptable => {
                "shared key ring: the stored ring does not decrypt under this key-encryption key"
            }
            SharedRingErrorKind::InvalidRing => {
                "shared key ring: the stored ring holds no usable keys"
            }
            SharedRingErrorKind::Symmetric => {
                "shared key ring: an HMAC secret is not shared this way"
            }
            SharedRingErrorKind::Platform => "shared key ring: the platform failed",
        })
    }
}

impl std::error::Error for SharedRingError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}

impl From<redis::RedisError> for SharedRingError {
    fn from(e: redis::RedisError) -> Self {
        Self::new(SharedRingErrorKind::Redis, e)
    }
}

type Result<T> = std::result::Result<T, SharedRingError>;

fn platform(e: impl Into<BoxError>) -> SharedRingError {
    SharedRingError::new(SharedRingErrorKind::Platform, e)
}

fn invalid(e: impl Into<BoxError>) -> SharedRingError {
    SharedRingError::new(SharedRingErrorKind::InvalidRing, e)
}

fn undecryptable(e: impl Into<BoxError>) -> SharedRingError {
    SharedRingError::new(SharedRingErrorKind::Undecryptable, e)
}

/// The stored ring, before encryption.
#[derive(Serialize, Deserialize)]
struct Stored {
    version: u64,
    rotated_at: u64,
    active: StoredKey,
    next: Option<(StoredKey, u64)>,
    retiring: Vec<(StoredKey, u64)>,
}

/// A key as stored: its PKCS#8 PEM (wiped when dropped), `kid` and `alg`.
#[derive(Serialize, Deserialize)]
struct StoredKey {
    kid: String,
    alg: Algorithm,
    pem: String,
}

impl Drop for StoredKey {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.pem);
    }
}

impl StoredKey {
    fn of(key: &SigningKey) -> Result<Self> {
        let pem = key.private_key_pem().ok_or_else(|| {
            SharedRingError::new(SharedRingErrorKind::Symmetric, "an HMAC secret")
        })?;
        Ok(Self {
            kid: key.kid().to_owned(),
            alg: key.algorithm(),
            pem,
        })
    }

    fn key(&self) -> Result<SigningKey> {
        Ok(SigningKey::from_pem(self.pem.as_bytes())
            .and_then(|key| key.with_algorithm(self.alg))
            .map_err(invalid)?
            .with_kid(self.kid.clone()))
    }
}

impl Stored {
    fn of(keys: &RingKeys, version: u64, rotated_at: u64) -> Result<Self> {
        Ok(Self {
            version,
            rotated_at,
            active: StoredKey::of(&keys.active)?,
            next: match &keys.next {
                Some((key, at)) => Some((StoredKey::of(key)?, *at)),
                None => None,
            },
            retiring: keys
                .retiring
                .iter()
                .map(|(key, since)| Ok((StoredKey::of(key)?, *since)))
                .collect::<Result<_>>()?,
        })
    }

    fn keys(&self) -> Result<RingKeys> {
        Ok(RingKeys {
            active: self.active.key()?,
            next: match &self.next {
                Some((key, at)) => Some((key.key()?, *at)),
                None => None,
            },
            retiring: self
                .retiring
                .iter()
                .map(|(key, since)| Ok((key.key()?, *since)))
                .collect::<Result<_>>()?,
        })
    }
}

/// Configures a [`SharedKeyRing`].
pub struct SharedKeyRingBuilder {
    url: String,
    kek: KeyEncryptionKey,
    prefix: String,
    rotation: Option<Duration>,
}

impl fmt::Debug for SharedKeyRingBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may hold a password; the key-encryption key is redacted.
        f.debug_struct("SharedKeyRingBuilder")
            .field("prefix", &self.prefix)
            .field("rotation", &self.rotation)
            .finish_non_exhaustive()
    }
}

impl SharedKeyRingBuilder {
    /// The prefix of the Redis keys (default `jwt-layer:keyring`).
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Rotates the signing key every `period` (default: never; at least
    /// one second).
    #[must_use]
    pub fn rotate_every(mut self, period: Duration) -> Self {
        self.rotation = Some(period.max(Duration::from_secs(1)));
        self
    }

    /// Connects, stores `local`'s keys if Redis holds no ring yet (else
    /// `local` adopts the stored ring), and keeps `local` in step from then
    /// on (a background task, while the returned handle lives).
    ///
    /// # Errors
    ///
    /// Redis is unreachable, the URL is not one, `local` signs with an HMAC
    /// secret, or the stored ring does not decrypt under this key.
    pub async fn join(self, local: KeyRing) -> Result<SharedKeyRing> {
        let client = redis::Client::open(self.url.as_str())?;
        let conn = connect(&client).await?;
        let link = Arc::new(RingLink {
            client: client.clone(),
            key: format!("{}:ring", self.prefix),
            lock: format!("{}:rotating", self.prefix),
            aead: self.kek.aead()?,
            rotation: self.rotation,
            rotated_at: std::sync::atomic::AtomicU64::new(local.now()),
            ring: local,
            version: std::sync::atomic::AtomicU64::new(0),
        });
        let mut conn = conn;
        let first = Stored::of(&link.ring.keys(), 1, link.ring.now())?;
        let stored: bool = redis::cmd("SET")
            .arg(&link.key)
            .arg(link.seal(&first)?)
            .arg("NX")
            .query_async::<Option<String>>(&mut conn)
            .await?
            .is_some();
        if stored {
            link.version.store(1, std::sync::atomic::Ordering::Release);
        } else {
            link.sync(&mut conn).await?;
        }
        let task = tokio::spawn(keep_in_step(Arc::clone(&link), conn));
        Ok(SharedKeyRing {
            link,
            task: task.abort_handle(),
        })
    }
}

/// One [`KeyRing`] for every replica of an issuer,
/// stored in Redis (features `redis` and `aws-lc-rs`).
///
/// The ring (signing key, scheduled key, retiring keys, when the last
/// rotation happened) is one Redis value, `<prefix>:ring`, encrypted with
/// AES-256-GCM under a [`KeyEncryptionKey`] the replicas get from their
/// environment; the key name is the associated data, so a value cannot be
/// moved to another prefix. The first replica stores its ring; the others
/// adopt the stored one. Each replica reads the value every 250 ms and
/// adopts a newer version, so a rotation made by one is signed with and
/// published by all within a second. With a rotation period, the replica
/// that takes a short lock (`SET NX PX`) when the period is over generates
/// a key of the same kind, makes it the signing key and stores the new
/// version (a `WATCH`ed transaction: two writers cannot both win).
///
/// ```no_run
/// use jwt_layer::issue::{KeyEncryptionKey, KeyKind, KeyRing, SharedKeyRing, SigningKey};
/// use std::time::Duration;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let kek = KeyEncryptionKey::parse(&std::env::var("KEYRING_KEK")?)?;
/// let local = KeyRing::new(SigningKey::generate(KeyKind::Es256)?);
/// let shared = SharedKeyRing::builder("redis://127.0.0.1:6379/", kek)
///     .rotate_every(Duration::from_secs(24 * 3600))
///     .join(local)
///     .await?;
/// let ring = shared.ring(); // sign with it, serve `ring.jwks_service()`
/// # let _ = ring; Ok(()) }
/// ```
pub struct SharedKeyRing {
    link: Arc<RingLink>,
    task: tokio::task::AbortHandle,
}

impl fmt::Debug for SharedKeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedKeyRing")
            .field("key", &self.link.key)
            .field("version", &self.version())
            .finish_non_exhaustive()
    }
}

impl Drop for SharedKeyRing {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SharedKeyRing {
    /// Starts configuring: Redis at `url`, private keys encrypted with
    /// `kek`.
    pub fn builder(url: impl Into<String>, kek: KeyEncryptionKey) -> SharedKeyRingBuilder {
        SharedKeyRingBuilder {
            url: url.into(),
            kek,
            prefix: "jwt-layer:keyring".to_owned(),
            rotation: None,
        }
    }

    /// The ring, kept in step with the stored one.
    pub fn ring(&self) -> KeyRing {
        self.link.ring.clone()
    }

    /// The version of the stored ring this replica holds.
    pub fn version(&self) -> u64 {
        self.link.version.load(std::sync::atomic::Ordering::Acquire)
    }
}

/// What the background task and the handle share.
struct RingLink {
    client: redis::Client,
    key: String,
    lock: String,
    aead: LessSafeKey,
    rotation: Option<Duration>,
    ring: KeyRing,
    version: std::sync::atomic::AtomicU64,
    /// When the ring held last rotated (seconds since the epoch).
    rotated_at: std::sync::atomic::AtomicU64,
}

impl RingLink {
    /// Encrypts `stored`: base64url(nonce ‖ ciphertext ‖ tag).
    fn seal(&self, stored: &Stored) -> Result<String> {
        let mut data = Zeroizing::new(serde_json::to_vec(stored).map_err(platform)?);
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| platform(e.to_string()))?;
        let aad = Aad::from(self.key.as_bytes());
        // Room for the tag up front: the plaintext is never left behind in
        // a reallocated buffer.
        let mut sealed = Zeroizing::new(Vec::with_capacity(data.len() + AES_256_GCM.tag_len()));
        sealed.extend_from_slice(&data);
        data.clear();
        self.aead
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), aad, &mut *sealed)
            .map_err(|_| platform("encryption failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(URL_SAFE_NO_PAD.encode(out))
    }

    /// Decrypts a stored value.
    fn open(&self, value: &str) -> Result<Stored> {
        if value.len() > MAX_VALUE {
            return Err(invalid("the stored ring is too large"));
        }
        let bytes = URL_SAFE_NO_PAD.decode(value).map_err(undecryptable)?;
        let (nonce, sealed) = bytes
            .split_at_checked(NONCE_LEN)
            .ok_or_else(|| undecryptable("truncated"))?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| undecryptable("nonce"))?;
        let mut sealed = Zeroizing::new(sealed.to_vec());
        let plain = self
            .aead
            .open_in_place(nonce, Aad::from(self.key.as_bytes()), &mut sealed)
            .map_err(|_| undecryptable("authentication failed"))?;
        serde_json::from_slice(plain).map_err(invalid)
    }

    /// Reads the stored ring and adopts it if it is newer; the rotation
    /// time of the stored ring.
    async fn sync(&self, conn: &mut MultiplexedConnection) -> Result<Option<Stored>> {
        let value: Option<String> = redis::cmd("GET").arg(&self.key).query_async(conn).await?;
        let Some(value) = value else {
            return Ok(None);
        };
        let stored = self.open(&value)?;
        let held = self.version.load(std::sync::atomic::Ordering::Acquire);
        if stored.version > held {
            self.ring.adopt(stored.keys()?);
            self.version
                .store(stored.version, std::sync::atomic::Ordering::Release);
            self.rotated_at
                .store(stored.rotated_at, std::sync::atomic::Ordering::Release);
        } else if stored.version < held {
            // Redis went back (restarted empty and refilled by a replica
            // that lagged, or an old value put back): the newer ring this
            // replica holds wins, or the fleet would sign with two keys.
            self.store_if_older(conn, held).await?;
            return Ok(None);
        }
        Ok(Some(stored))
    }

    /// Stores this replica's ring (version `held`) unless Redis meanwhile
    /// holds that version or a later one.
    async fn store_if_older(&self, conn: &mut MultiplexedConnection, held: u64) -> Result<()> {
        let rotated_at = self.rotated_at.load(std::sync::atomic::Ordering::Acquire);
        let ours = self.seal(&Stored::of(&self.ring.keys(), held, rotated_at)?)?;
        let older = |current: Option<Result<Stored>>| match current {
            None => true,
            Some(Ok(s)) => s.version < held,
            Some(Err(_)) => false,
        };
        self.store_if(conn, ours, older).await?;
        Ok(())
    }

    /// Stores `sealed` if the stored ring (`None`: absent) passes `still`, in a transaction `WATCH`ing the key, so a write by
    /// another replica in between wins; whether `sealed` was stored.
    async fn store_if(
        &self,
        conn: &mut MultiplexedConnection,
        sealed: String,
        still: impl FnOnce(Option<Result<Stored>>) -> bool,
    ) -> Result<bool> {
        redis::cmd("WATCH")
            .arg(&self.key)
            .query_async::<()>(conn)
            .await?;
        let current: Option<String> = redis::cmd("GET").arg(&self.key).query_async(conn).await?;
        if !still(current.map(|v| self.open(&v))) {
            redis::cmd("UNWATCH").query_async::<()>(conn).await?;
            return Ok(false);
        }
        let done: Option<()> = redis::pipe()
            .atomic()
            .cmd("SET")
            .arg(&self.key)
            .arg(sealed)
            .ignore()
            .query_async(conn)
            .await?;
        Ok(done.is_some())
    }

    /// Stores this replica's ring again when Redis lost it (restarted
    /// empty): the replicas hold it.
    async fn restore(&self, conn: &mut MultiplexedConnection) -> Result<()> {
        let version = self.version.load(std::sync::atomic::Ordering::Acquire);
        let rotated_at = self.rotated_at.load(std::sync::atomic::Ordering::Acquire);
        let stored = Stored::of(&self.ring.keys(), version.max(1), rotated_at)?;
        redis::cmd("SET")
            .arg(&self.key)
            .arg(self.seal(&stored)?)
            .arg("NX")
            .query_async::<Option<String>>(conn)
            .await?;
        Ok(())
    }

    /// Rotates if the period is over and this replica gets the lock.
    async fn rotate_if_due(&self, conn: &mut MultiplexedConnection, stored: &Stored) -> Result<()> {
        let Some(period) = self.rotation else {
            return Ok(());
        };
        let now = self.ring.now();
        if now < stored.rotated_at.saturating_add(period.as_secs()) {
            return Ok(());
        }
        let locked: Option<String> = redis::cmd("SET")
            .arg(&self.lock)
            .arg("1")
            .arg("NX")
            .arg("PX")
            .arg(u64::try_from(LOCK.as_millis()).unwrap_or(u64::MAX))
            .query_async(conn)
            .await?;
        if locked.is_none() {
            return Ok(());
        }
        let result = self.rotate(conn, stored, now).await;
        let _: redis::RedisResult<()> = redis::cmd("DEL").arg(&self.lock).query_async(conn).await;
        result
    }

    /// Makes a new key of the signing key's kind the signing key and
    /// stores the next version, unless another version was stored since.
    async fn rotate(
        &self,
        conn: &mut MultiplexedConnection,
        stored: &Stored,
        now: u64,
    ) -> Result<()> {
        let kind = match stored.active.alg {
            Algorithm::ES384 => KeyKind::Es384,
            Algorithm::EdDSA => KeyKind::EdDsa,
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => KeyKind::Rsa2048,
            _ => KeyKind::Es256,
        };
        let alg = stored.active.alg;
        let key = tokio::task::spawn_blocking(move || SigningKey::generate(kind))
            .await
            .map_err(platform)?
            .and_then(|key| key.with_algorithm(alg))
            .map_err(platform)?;
        let candidate = KeyRing::new(stored.active.key()?);
        candidate.adopt(stored.keys()?);
        candidate.rotate(key).map_err(platform)?;
        let next = Stored::of(&candidate.keys(), stored.version + 1, now)?;
        let sealed = self.seal(&next)?;
        let unchanged = |current: Option<Result<Stored>>| matches!(current, Some(Ok(s)) if s.version == stored.version);
        if self.store_if(conn, sealed, unchanged).await? {
            self.ring.adopt(next.keys()?);
            self.version
                .store(next.version, std::sync::atomic::Ordering::Release);
            self.rotated_at
                .store(now, std::sync::atomic::Ordering::Release);
        }
        Ok(())
    }
}

/// Reads the stored ring every [`POLL`], adopting newer versions and
/// rotating when due; reconnects after errors. The ring keeps signing with
/// the keys it holds meanwhile.
async fn keep_in_step(link: Arc<RingLink>, conn: MultiplexedConnection) {
    let mut tick = tokio::time::interval(POLL);
    let mut conn = Some(conn);
    loop {
        tick.tick().await;
        let mut current = match conn.take() {
            Some(c) => c,
            None => match connect(&link.client).await {
                Ok(c) => c,
                Err(e) => {
                    crate::log::shared_ring_failed(&e);
                    continue;
                }
            },
        };
        let result = match link.sync(&mut current).await {
            Ok(Some(stored)) => link.rotate_if_due(&mut current, &stored).await,
            Ok(None) => link.restore(&mut current).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => conn = Some(current),
            // Reconnect on the next tick.
            Err(e) => crate::log::shared_ring_failed(&e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_encryption_key_is_32_bytes_in_hex_or_base64url() {
        let hex = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";
        let b64 = URL_SAFE_NO_PAD.encode(HmacSecret::from_hex(hex).unwrap().as_bytes());
        let (a, b) = (
            KeyEncryptionKey::parse(hex).unwrap(),
            KeyEncryptionKey::parse(&b64).unwrap(),
        );
        assert_eq!(a.0[..], b.0[..]);
        assert_eq!(a.0[1], 0x11);
        assert!(
            KeyEncryptionKey::parse(&format!("  {hex}\n")).is_ok(),
            "blanks around"
        );
        for bad in [
            &hex[..62],                   // 31 bytes
            &b64[..42],                   // short base64url
            &format!("{}+f", &hex[..62]), // a sign is no digit
            &format!("{}zz", &hex[..62]), // not hex
            &format!("{}=", &b64[..42]),  // not base64url
            "",
        ] {
            let err = KeyEncryptionKey::parse(bad).expect_err(bad);
            assert_eq!(err.kind(), BuildErrorKind::InvalidKey, "{bad}");
        }
    }
}

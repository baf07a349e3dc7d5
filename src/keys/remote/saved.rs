//! Saved key sets: a remote source can start from a key set fetched earlier
//! (a cold start, or a restart while the provider is down) and can save
//! every good fetch to a file, atomically (a temporary file, then a rename).
//!
//! A saved set carries the time it was fetched and the lifetime it was
//! given; its age counts toward the maximum staleness, so a saved set never
//! extends trust beyond what a live cache would.

use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::{JwksError, JwksErrorKind};

/// What the file envelope says it is.
const FORMAT: &str = "jwt-layer saved key set";

/// A key set document with the time it was fetched: what
/// [`RemoteJwksBuilder::seed`](super::RemoteJwksBuilder::seed) starts from
/// and what [`persist_to`](super::RemoteJwksBuilder::persist_to) writes.
#[derive(Clone, PartialEq, Eq)]
pub struct SavedKeySet {
    document: String,
    fetched_at: SystemTime,
    lifetime: Option<Duration>,
}

impl fmt::Debug for SavedKeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SavedKeySet")
            .field("document_bytes", &self.document.len())
            .field("fetched_at", &self.fetched_at)
            .field("lifetime", &self.lifetime)
            .finish()
    }
}

/// The file's JSON form.
#[derive(Serialize, Deserialize)]
struct Envelope<'a> {
    format: &'a str,
    fetched_at_unix: u64,
    #[serde(default)]
    lifetime_secs: Option<u64>,
    document: String,
}

impl SavedKeySet {
    /// A key set document (a JWK Set or a certificate map, as the key
    /// server sent it) fetched at `fetched_at`. Its lifetime is the
    /// source's default TTL unless [`with_lifetime`](Self::with_lifetime)
    /// says otherwise.
    pub fn new(document: impl Into<String>, fetched_at: SystemTime) -> Self {
        Self {
            document: document.into(),
            fetched_at,
            lifetime: None,
        }
    }

    /// The lifetime the key server gave the document (its `Cache-Control`).
    #[must_use]
    pub fn with_lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = Some(lifetime);
        self
    }

    /// The document.
    pub fn document(&self) -> &str {
        &self.document
    }

    /// When the document was fetched.
    pub fn fetched_at(&self) -> SystemTime {
        self.fetched_at
    }

    /// The lifetime it was given, if known.
    pub fn lifetime(&self) -> Option<Duration> {
        self.lifetime
    }

    /// The file form written by [`persist_to`](super::RemoteJwksBuilder::persist_to):
    /// a JSON object holding the document, its fetch time and lifetime.
    pub fn to_json(&self) -> String {
        let envelope = Envelope {
            format: FORMAT,
            fetched_at_unix: self
                .fetched_at
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            lifetime_secs: self.lifetime.map(|l| l.as_secs()),
            document: self.document.clone(),
        };
        // A struct of strings and integers always serializes.
        serde_json::to_string(&envelope).unwrap_or_default()
    }

    /// Reads the file form.
    ///
    /// # Errors
    ///
    /// Not the JSON written by [`to_json`](Self::to_json) (kind
    /// [`Malformed`](JwksErrorKind::Malformed)).
    pub fn from_json(text: &str) -> Result<Self, JwksError> {
        let malformed = || JwksError::new(JwksErrorKind::Malformed, "not a saved key set file");
        let envelope: Envelope<'_> = serde_json::from_str(text).map_err(|_| malformed())?;
        if envelope.format != FORMAT {
            return Err(malformed());
        }
        let fetched_at = SystemTime::UNIX_EPOCH
            .checked_add(Duration::from_secs(envelope.fetched_at_unix))
            .ok_or_else(malformed)?;
        Ok(Self {
            document: envelope.document,
            fetched_at,
            lifetime: envelope.lifetime_secs.map(Duration::from_secs),
        })
    }
}

/// Where a source's first key set may come from.
#[derive(Debug)]
pub(crate) enum Seed {
    File(PathBuf),
    Saved(SavedKeySet),
}

/// A source's seed (used once, lazily: no I/O when the source is built)
/// and the file every good fetch is saved to.
#[derive(Debug, Default)]
pub(crate) struct Persistence {
    seed: Mutex<Option<Seed>>,
    seed_pending: AtomicBool,
    save_to: Option<PathBuf>,
    /// The fleet's shared snapshot.
    shared: Option<std::sync::Arc<dyn super::shared::SharedSnapshot>>,
    /// The largest file read.
    max_file: u64,
}

impl Persistence {
    pub(crate) fn new(seed: Option<Seed>, save_to: Option<PathBuf>, max_body: usize) -> Self {
        Self {
            seed_pending: AtomicBool::new(seed.is_some()),
            seed: Mutex::new(seed),
            save_to,
            shared: None,
            // JSON escaping (a PEM's newlines) can double a document.
            max_file: (max_body as u64).saturating_mul(2).saturating_add(4096),
        }
    }

    /// The seed, the first time it is asked for; `None` without one.
    /// Reading a file is a small blocking read, done once.
    pub(crate) fn take_seed(&self) -> Option<Result<SavedKeySet, String>> {
        if !self.seed_pending.swap(false, Ordering::AcqRel) {
            return None;
        }
        let seed = self.seed.lock().unwrap_or_else(|e| e.into_inner()).take()?;
        Some(match seed {
            Seed::Saved(saved) => Ok(saved),
            Seed::File(path) => read_file(&path, self.max_file),
        })
    }

    /// Whether good fetches are saved.
    /// With the fleet's shared snapshot too.
    pub(crate) fn with_shared(
        mut self,
        shared: Option<std::sync::Arc<dyn super::shared::SharedSnapshot>>,
    ) -> Self {
        self.shared = shared;
        self
    }

    /// The fleet's shared snapshot, if configured.
    pub(crate) fn shared(&self) -> Option<&dyn super::shared::SharedSnapshot> {
        self.shared.as_deref()
    }

    pub(crate) fn saves(&self) -> bool {
        self.save_to.is_some() || self.shared.is_some()
    }

    /// Saves a good fetch, when configured; failures are returned for the
    /// log and never affect the cache.
    pub(crate) async fn save(&self, saved: SavedKeySet) -> Option<Result<(), String>> {
        let shared = match &self.shared {
            Some(shared) => {
                let stored = shared.save(&saved).await;
                let _ = shared.unlock().await;
                Some(stored.map_err(|e| format!("the shared snapshot was not stored: {e}")))
            }
            None => None,
        };
        let file = match self.save_to.clone() {
            Some(path) => Some(
                tokio::task::spawn_blocking(move || write_atomically(&path, &saved.to_json()))
                    .await
                    .unwrap_or_else(|_| Err("the writing task failed".into())),
            ),
            None => None,
        };
        match (shared, file) {
            (Some(Err(e)), _) | (_, Some(Err(e))) => Some(Err(e)),
            (None, None) => None,
            _ => Some(Ok(())),
        }
    }
}

fn read_file(path: &Path, max: u64) -> Result<SavedKeySet, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot open: {}", e.kind()))?;
    let mut text = String::new();
    file.take(max.saturating_add(1))
        .read_to_string(&mut text)
        .map_err(|e| format!("cannot read: {}", e.kind()))?;
    if text.len() as u64 > max {
        return Err(format!("larger than {max} bytes"));
    }
    SavedKeySet::from_json(&text).map_err(|e| e.to_string())
}

/// Writes `text` to a new temporary file beside `path` (a fresh name,
/// created only if absent: never through a planted file or link), flushes
/// it to disk and renames it over `path`: a reader sees the old file or the
/// new one, never a part.
fn write_atomically(path: &Path, text: &str) -> Result<(), String> {
    let name = path.file_name().ok_or("the path names no file")?;
    let mut suffix = [0u8; 8];
    getrandom::fill(&mut suffix).map_err(|_| "no randomness for a temporary name")?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{:016x}.tmp", u64::from_le_bytes(suffix)));
    let tmp = path.with_file_name(tmp_name);
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write: {}", e.kind())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_form_round_trips_and_refuses_other_json() {
        let saved = SavedKeySet::new(
            "{\"keys\":[]}\n",
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        )
        .with_lifetime(Duration::from_secs(300));
        assert_eq!(SavedKeySet::from_json(&saved.to_json()).unwrap(), saved);
        for bad in [
            "",
            "{}",
            "{\"keys\":[]}",
            "[1]",
            &saved.to_json().replace("jwt-layer", "other"),
        ] {
            let err = SavedKeySet::from_json(bad).unwrap_err();
            assert_eq!(err.kind(), JwksErrorKind::Malformed);
        }
    }

    #[test]
    fn atomic_write_replaces_the_file_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("jl-saved-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("keys.json");
        write_atomically(&path, "one").unwrap();
        write_atomically(&path, "two").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        assert!(write_atomically(&dir.join("missing/keys.json"), "x").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_seed_is_read_once_and_a_large_file_refused() {
        let dir = std::env::temp_dir().join(format!("jl-seed-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("big.json");
        std::fs::write(&path, "x".repeat(5000)).unwrap();
        let p = Persistence::new(Some(Seed::File(path)), None, 100);
        assert!(p.take_seed().unwrap().unwrap_err().contains("larger"));
        assert!(p.take_seed().is_none());
        let p = Persistence::new(Some(Seed::File(dir.join("absent"))), None, 100);
        assert!(p.take_seed().unwrap().unwrap_err().contains("cannot open"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

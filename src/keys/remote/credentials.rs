//! Headers sent with each key set fetch (and discovery fetch), for key
//! servers that answer only authenticated callers: Kubernetes serves its
//! service-account key set to a bearer token the kubelet rotates in a file.
//!
//! The values are marked sensitive and never reach a log or an error.

use std::fmt;
use std::io::Read;
use std::path::PathBuf;

use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderValue};

/// The largest token file read.
const MAX_TOKEN_FILE: u64 = 64 * 1024;

/// Supplies the headers of each fetch. Called on the fetch task before
/// every request (so a rotated credential is picked up); keep it quick.
///
/// An error fails that fetch with
/// [`JwksErrorKind::Credentials`](super::JwksErrorKind::Credentials), which
/// the cache handles like any failed fetch (the last good set is served,
/// the fetch retried with backoff). Its text is logged: never put the
/// credential in it.
pub trait FetchHeaders: Send + Sync + 'static {
    /// The headers to add to the next fetch.
    ///
    /// # Errors
    ///
    /// The credential cannot be had now; a short reason without it.
    fn headers(&self) -> Result<HeaderMap, String>;
}

impl<F> FetchHeaders for F
where
    F: Fn() -> Result<HeaderMap, String> + Send + Sync + 'static,
{
    fn headers(&self) -> Result<HeaderMap, String> {
        self()
    }
}

/// `Authorization: Bearer <token>`, the token re-read from a file on every
/// fetch and trimmed of surrounding whitespace: a Kubernetes projected
/// service-account token, which the kubelet rotates in place.
#[derive(Clone)]
pub struct BearerTokenFile {
    path: PathBuf,
}

impl fmt::Debug for BearerTokenFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerTokenFile")
            .field("path", &self.path)
            .finish()
    }
}

impl BearerTokenFile {
    /// Sends the token in the file at `path` (read on each fetch, not now).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }
}

impl FetchHeaders for BearerTokenFile {
    fn headers(&self) -> Result<HeaderMap, String> {
        let file = std::fs::File::open(&self.path)
            .map_err(|e| format!("cannot open the bearer token file: {}", e.kind()))?;
        let mut text = String::new();
        file.take(MAX_TOKEN_FILE + 1)
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read the bearer token file: {}", e.kind()))?;
        if text.len() as u64 > MAX_TOKEN_FILE {
            return Err(format!(
                "the bearer token file is larger than {MAX_TOKEN_FILE} bytes"
            ));
        }
        let token = text.trim();
        if token.is_empty() {
            return Err("the bearer token file is empty".into());
        }
        let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| "the bearer token file holds characters a header cannot carry")?;
        value.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, value);
        Ok(headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_trims_and_rereads_the_file() {
        let path = std::env::temp_dir().join(format!("jl-bearer-{}", std::process::id()));
        let source = BearerTokenFile::new(&path);
        assert!(source.headers().unwrap_err().contains("cannot open"));
        std::fs::write(&path, "  \n").unwrap();
        assert!(source.headers().unwrap_err().contains("empty"));
        std::fs::write(&path, "abc.def\n").unwrap();
        let value = source.headers().unwrap().remove(AUTHORIZATION).unwrap();
        assert_eq!(value, "Bearer abc.def");
        assert!(value.is_sensitive());
        std::fs::write(&path, "new\r\n").unwrap();
        assert_eq!(source.headers().unwrap()[AUTHORIZATION], "Bearer new");
        std::fs::write(&path, "a\nb").unwrap();
        let err = source.headers().unwrap_err();
        assert!(!err.contains("a\nb"), "the token never reaches the error");
        std::fs::remove_file(&path).unwrap();
    }
}

//! [`KeySources`]: several key sources for one issuer, such as a static
//! HS256 secret beside a remote ES256 key set while a provider migrates
//! (Supabase), with the rules of a single set kept across them.

use std::sync::Arc;

use jsonwebtoken::Algorithm;

use super::{AlgSet, IntoKeySource, Key, KeySource, Lookup};
use crate::error::{AuthError, AuthErrorKind, BuildError, BuildErrorKind};

/// Several [`KeySource`]s answering as one. A
/// [`VerifierBuilder`](crate::VerifierBuilder) makes one for you when an
/// issuer gets static keys and a key source, or
/// [`issuer_keys`](crate::VerifierBuilder::issuer_keys) twice.
///
/// For a token with algorithm `alg` and key id `kid`:
///
/// - only the sources whose keys could verify `alg` are asked (a remote key
///   set never holds an HMAC secret, so an HS256 token goes to the static
///   keys alone, costing no fetch);
/// - a `kid` that one source holds, while every other source knows it
///   does not, is looked up there alone; a `kid` that two sources hold is
///   refused (never resolved to the first);
/// - otherwise (no `kid`, one no source holds, or a source that cannot tell
///   yet, such as a remote set not fetched) every such source is asked, a
///   remote one fetching if it must; exactly one key must answer, two
///   candidates are refused.
///
/// The algorithm still comes from the key that answers. When no key
/// answers, a source without keys (503) wins over "algorithm not allowed",
/// which wins over "unknown key".
///
/// ```
/// use jwt_layer::keys::{Key, KeySource, KeySources, StaticKeys};
/// use jsonwebtoken::Algorithm;
///
/// let hs = StaticKeys::new([Key::hmac([7u8; 32])?])?;
/// let ed = StaticKeys::new([Key::from_jwk(
///     r#"{"kty":"OKP","crv":"Ed25519","kid":"ed","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
/// )?])?;
/// let both = KeySources::new([hs, ed])?;
/// assert!(both.algorithms().contains(Algorithm::HS256));
/// assert!(both.algorithms().contains(Algorithm::EdDSA));
/// # Ok::<(), jwt_layer::BuildError>(())
/// ```
#[derive(Clone)]
pub struct KeySources {
    sources: Arc<[Entry]>,
    algorithms: AlgSet,
}

#[derive(Clone)]
struct Entry {
    algorithms: AlgSet,
    source: Arc<dyn KeySource>,
}

impl std::fmt::Debug for KeySources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySources")
            .field("sources", &self.sources.len())
            .field("algorithms", &self.algorithms)
            .finish()
    }
}

impl KeySources {
    /// One source over `sources` (key sources, or builders of them).
    ///
    /// # Errors
    ///
    /// No source, or a source's own build error.
    pub fn new<S: IntoKeySource>(sources: impl IntoIterator<Item = S>) -> Result<Self, BuildError> {
        let sources = sources
            .into_iter()
            .map(IntoKeySource::into_key_source)
            .collect::<Result<Vec<_>, _>>()?;
        Self::from_shared(sources)
    }

    /// Like [`new`](Self::new), for sources already shared.
    pub(crate) fn from_shared(sources: Vec<Arc<dyn KeySource>>) -> Result<Self, BuildError> {
        if sources.is_empty() {
            return Err(BuildError::new(
                BuildErrorKind::NoKey,
                "no key source given",
            ));
        }
        let entries: Vec<Entry> = sources
            .into_iter()
            .map(|source| Entry {
                algorithms: source.algorithms(),
                source,
            })
            .collect();
        let algorithms = entries
            .iter()
            .fold(AlgSet::EMPTY, |acc, e| acc.union(e.algorithms));
        Ok(Self {
            sources: entries.into(),
            algorithms,
        })
    }

    fn eligible(&self, alg: Algorithm) -> impl Iterator<Item = &Entry> {
        self.sources
            .iter()
            .filter(move |e| e.algorithms.contains(alg))
    }

    /// Which eligible source holds `kid`, as far as they can tell now.
    fn holder(&self, kid: &str, alg: Algorithm) -> Holder<'_> {
        let (mut one, mut unsure) = (None, false);
        for entry in self.eligible(alg) {
            match entry.source.holds_kid(kid) {
                Some(true) if one.is_some() => return Holder::Several,
                Some(true) => one = Some(&*entry.source),
                Some(false) => {}
                None => unsure = true,
            }
        }
        match one {
            Some(source) if !unsure => Holder::One(source),
            _ => Holder::AskAll,
        }
    }
}

/// The answer of [`KeySources::holder`].
enum Holder<'a> {
    One(&'a dyn KeySource),
    Several,
    AskAll,
}

impl KeySource for KeySources {
    fn lookup(&self, kid: Option<&str>, alg: Algorithm) -> Lookup {
        let mut eligible = self.eligible(alg);
        let (Some(first), second) = (eligible.next(), eligible.next()) else {
            return Lookup::Ready(Err(AuthErrorKind::AlgorithmNotAllowed.into()));
        };
        if second.is_none() {
            return first.source.lookup(kid, alg);
        }
        if let Some(kid) = kid {
            match self.holder(kid, alg) {
                Holder::One(source) => return source.lookup(Some(kid), alg),
                Holder::Several => {
                    crate::log::kid_in_two_sources(kid);
                    return Lookup::Ready(Err(AuthErrorKind::UnknownKey.into()));
                }
                Holder::AskAll => {}
            }
        }
        let answers: Vec<Lookup> = self
            .eligible(alg)
            .map(|e| e.source.lookup(kid, alg))
            .collect();
        if answers.iter().all(|a| matches!(a, Lookup::Ready(_))) {
            let ready = answers.into_iter().filter_map(|a| match a {
                Lookup::Ready(r) => Some(r),
                Lookup::Pending(_) => None,
            });
            return Lookup::Ready(exactly_one(ready));
        }
        Lookup::Pending(Box::pin(async move {
            let mut results = Vec::with_capacity(answers.len());
            for answer in answers {
                results.push(match answer {
                    Lookup::Ready(r) => r,
                    Lookup::Pending(future) => future.await,
                });
            }
            exactly_one(results)
        }))
    }

    fn algorithms(&self) -> AlgSet {
        self.algorithms
    }

    fn holds_kid(&self, kid: &str) -> Option<bool> {
        let mut answer = Some(false);
        for entry in self.sources.iter() {
            match entry.source.holds_kid(kid) {
                Some(true) => return Some(true),
                Some(false) => {}
                None => answer = None,
            }
        }
        answer
    }
}

/// The one key among the answers; two are ambiguous; none gives the most
/// telling error.
fn exactly_one(
    results: impl IntoIterator<Item = Result<Arc<Key>, AuthError>>,
) -> Result<Arc<Key>, AuthError> {
    let mut found = None;
    let mut error: Option<AuthError> = None;
    for result in results {
        match result {
            Ok(_) if found.is_some() => return Err(AuthErrorKind::UnknownKey.into()),
            Ok(key) => found = Some(key),
            Err(e) => {
                if error.as_ref().is_none_or(|old| rank(&e) > rank(old)) {
                    error = Some(e);
                }
            }
        }
    }
    found.ok_or_else(|| error.unwrap_or_else(|| AuthErrorKind::UnknownKey.into()))
}

fn rank(e: &AuthError) -> u8 {
    match e.kind() {
        AuthErrorKind::KeysUnavailable => 3,
        AuthErrorKind::AlgorithmNotAllowed => 2,
        AuthErrorKind::UnknownKey => 1,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::StaticKeys;

    fn hmac(kid: Option<&str>, fill: u8) -> StaticKeys {
        let key = Key::hmac([fill; 64]).unwrap();
        StaticKeys::new([match kid {
            Some(id) => key.with_kid(id),
            None => key,
        }])
        .unwrap()
    }

    fn ready(lookup: Lookup) -> Result<Arc<Key>, AuthErrorKind> {
        match lookup {
            Lookup::Ready(r) => r.map_err(|e| e.kind()),
            Lookup::Pending(_) => panic!("static sources answer at once"),
        }
    }

    #[test]
    fn a_kid_goes_to_its_one_holder_and_a_shared_kid_is_refused() {
        let sources = KeySources::new([hmac(Some("a"), 1), hmac(Some("b"), 2)]).unwrap();
        let a = ready(sources.lookup(Some("a"), Algorithm::HS256)).unwrap();
        assert_eq!(a.kid(), Some("a"));
        let shared = KeySources::new([hmac(Some("a"), 1), hmac(Some("a"), 2)]).unwrap();
        assert_eq!(
            ready(shared.lookup(Some("a"), Algorithm::HS256)).unwrap_err(),
            AuthErrorKind::UnknownKey
        );
    }

    #[test]
    fn without_a_kid_exactly_one_candidate() {
        let two = KeySources::new([hmac(Some("a"), 1), hmac(Some("b"), 2)]).unwrap();
        assert_eq!(
            ready(two.lookup(None, Algorithm::HS256)).unwrap_err(),
            AuthErrorKind::UnknownKey
        );
        assert_eq!(
            ready(two.lookup(None, Algorithm::RS256)).unwrap_err(),
            AuthErrorKind::AlgorithmNotAllowed
        );
        let one = KeySources::new([hmac(None, 1)]).unwrap();
        assert!(ready(one.lookup(None, Algorithm::HS256)).is_ok());
        assert!(KeySources::new(Vec::<StaticKeys>::new()).is_err());
    }
}

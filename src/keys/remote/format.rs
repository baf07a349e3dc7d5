//! The documents a remote key set may be: a JWK Set (`{"keys":[…]}`) or a
//! certificate map (`{"<kid>":"-----BEGIN CERTIFICATE-----…"}`, Google's
//! `oauth2/v1/certs` and Firebase's key URLs), detected from the document
//! or forced.

use std::borrow::Cow;
use std::fmt;
use std::time::SystemTime;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::jose::x509;
use crate::keys::Key;
use crate::keys::jwk::{JwkPolicy, ParsedKeySet, parse_jwks};
use crate::keys::key::from_spki;
use crate::log::untrusted;

/// The format of a remote key set document.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeySetFormat {
    /// Decided from each document: an object with a `keys` array is a JWK
    /// Set; an object whose members are all strings is a certificate map.
    #[default]
    Auto,
    /// A JWK Set (RFC 7517 §5).
    Jwks,
    /// A JSON object mapping each `kid` to a PEM X.509 certificate, as
    /// Google and Firebase publish. Certificate validity dates are logged
    /// when out of range, not enforced: these providers rotate by key set.
    PemCertificates,
}

/// Parses a fetched document in `format`, at most `max_keys` keys.
pub(crate) fn parse_key_set(
    body: &str,
    format: KeySetFormat,
    policy: JwkPolicy,
    max_keys: usize,
) -> Result<ParsedKeySet, String> {
    match format {
        KeySetFormat::Auto => {
            // A JWK Set may carry other members beside `keys`; allow a few.
            let members = members(body, max_keys.saturating_add(8))?;
            match detect(&members)? {
                KeySetFormat::PemCertificates => parse_certificate_map(members, max_keys),
                _ => parse_jwks(body, policy, max_keys),
            }
        }
        KeySetFormat::PemCertificates => parse_certificate_map(members(body, max_keys)?, max_keys),
        KeySetFormat::Jwks => parse_jwks(body, policy, max_keys),
    }
}

/// A document's members, in order, duplicates kept (a `kid` given twice
/// must be seen twice, so it is refused rather than resolved to one).
#[derive(Debug)]
struct Members<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

/// Reads the top-level object's members, at most `max` of them.
fn members(body: &str, max: usize) -> Result<Members<'_>, String> {
    if !body.trim_start().starts_with('{') {
        return Err("a key set must be a JSON object".into());
    }
    let mut de = serde_json::Deserializer::from_str(body);
    let members = de
        .deserialize_map(MembersVisitor(max))
        .and_then(|m| de.end().map(|()| m))
        .map_err(|e| {
            if e.is_data() {
                format!("the key set has more than {max} members")
            } else {
                format!(
                    "malformed key set (line {}, column {})",
                    e.line(),
                    e.column()
                )
            }
        })?;
    Ok(members)
}

struct MembersVisitor(usize);

impl<'de> Visitor<'de> for MembersVisitor {
    type Value = Members<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = Vec::new();
        while let Some(entry) = map.next_entry::<Cow<'de, str>, &'de RawValue>()? {
            if members.len() == self.0 {
                return Err(serde::de::Error::custom("too many members"));
            }
            members.push(entry);
        }
        Ok(Members(members))
    }
}

/// Which format `body` is in.
fn detect(members: &Members<'_>) -> Result<KeySetFormat, String> {
    let is_jwks = members
        .0
        .iter()
        .any(|(name, value)| name == "keys" && value.get().starts_with('['));
    // A `keys` member that is not an array is a broken JWK Set, not a kid.
    let is_map = !members.0.is_empty()
        && members
            .0
            .iter()
            .all(|(name, v)| name != "keys" && v.get().starts_with('"'));
    match (is_jwks, is_map) {
        (true, _) => Ok(KeySetFormat::Jwks),
        (false, true) => Ok(KeySetFormat::PemCertificates),
        (false, false) => Err(
            "the document is neither a JWK Set (`keys` array) nor a map of kid to PEM certificate"
                .into(),
        ),
    }
}

/// Parses a certificate map: each member's name is the `kid`, its value a
/// PEM certificate whose public key verifies that `kid`'s tokens.
fn parse_certificate_map(members: Members<'_>, max_keys: usize) -> Result<ParsedKeySet, String> {
    if members.0.len() > max_keys {
        return Err(format!("the key set has more than {max_keys} members"));
    }
    let now = SystemTime::now();
    let mut parsed = ParsedKeySet::default();
    for (kid, value) in members.0 {
        let kid_text = untrusted(&kid, 64);
        match certificate_key(value, now) {
            Ok((key, outside)) => {
                if let Some(period) = outside {
                    parsed.notes.push(format!(
                        "certificate of kid `{kid_text}` is outside its validity period ({period}); \
                         used anyway: the provider rotates by key set"
                    ));
                }
                parsed.keys.push(key.with_kid(kid.into_owned()));
            }
            Err(why) => parsed.skipped.push(format!("kid `{kid_text}`: {why}")),
        }
    }
    Ok(parsed)
}

/// The key of one map entry, and its validity period if `now` is outside.
fn certificate_key(value: &RawValue, now: SystemTime) -> Result<(Key, Option<String>), String> {
    let pem: Cow<'_, str> =
        serde_json::from_str(value.get()).map_err(|_| "the value is not a string".to_string())?;
    let cert = x509::from_pem(&pem)?;
    let (_, key) = from_spki(&cert.spki)?;
    Ok((key, cert.outside_validity(now)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: JwkPolicy = JwkPolicy {
        allow_symmetric: false,
    };

    #[test]
    fn detection() {
        let detect = |body| members(body, 10).and_then(|m| detect(&m));
        let jwks = r#"{"keys":[],"other":1}"#;
        assert_eq!(detect(jwks).unwrap(), KeySetFormat::Jwks);
        let map = r#"{"a":"-----BEGIN CERTIFICATE-----","b":"x"}"#;
        assert_eq!(detect(map).unwrap(), KeySetFormat::PemCertificates);
        for bad in [
            r#"{}"#,
            r#"{"a":1}"#,
            r#"{"keys":{}}"#,
            r#"{"keys":"x"}"#,
            "[]",
            "\"x\"",
            "{",
            "",
        ] {
            assert!(detect(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn member_count_is_bounded_and_trailing_text_refused() {
        let many = format!(
            "{{{}}}",
            (0..20)
                .map(|i| format!("\"k{i}\":\"v\""))
                .collect::<Vec<_>>()
                .join(",")
        );
        assert!(members(&many, 10).unwrap_err().contains("more than 10"));
        assert_eq!(members(&many, 20).unwrap().0.len(), 20);
        assert!(members(r#"{"a":"b"} x"#, 10).is_err());
    }

    #[test]
    fn bad_map_entries_are_skipped_with_a_reason() {
        let doc = r#"{"a":"not pem","b":"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----","a":"dup"}"#;
        let parsed = parse_key_set(doc, KeySetFormat::PemCertificates, STRICT, 10).unwrap();
        assert!(parsed.keys.is_empty());
        assert_eq!(parsed.skipped.len(), 3);
        assert!(parsed.skipped.iter().all(|s| !s.contains("AAAA")));
        let forced = parse_key_set(r#"{"keys":[]}"#, KeySetFormat::PemCertificates, STRICT, 10);
        assert_eq!(
            forced.unwrap().skipped,
            vec!["kid `keys`: the value is not a string"]
        );
    }
}

//! The top-level payload members that claim rules read beyond the
//! registered claims (`azp`, `token_use`, `realm_access` …): named when the
//! verifier is built ([`Wanted`]), captured as raw JSON during the one pass
//! over a verified payload ([`Members`]), parsed only when a rule looks.
//! With no such rule, nothing is captured and nothing allocated.

use std::borrow::Cow;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;
use std::fmt;

use super::claim_path::ClaimPath;
use super::wire::Str;
pub(crate) use super::wire::Strings;
use crate::error::{AuthError, AuthErrorKind, BuildError, BuildErrorKind};

/// The most distinct top-level members the rules of one verifier may read
/// (their values sit in a fixed array: no allocation per request).
pub(crate) const MAX_MEMBERS: usize = 16;

/// The member names the rules read, each once.
#[derive(Clone, Debug, Default)]
pub(crate) struct Wanted {
    names: Vec<Box<str>>,
    /// Bit `len % 64` set for the length of each name: most of a payload's
    /// members are passed over on their length alone.
    lengths: u64,
}

/// A claim path bound to its slot in [`Members`].
#[derive(Clone, Debug)]
pub(crate) struct Bound {
    slot: usize,
    path: ClaimPath,
}

impl Wanted {
    /// Binds `path`, adding its top-level member to the wanted names.
    pub(crate) fn bind(&mut self, path: ClaimPath) -> Result<Bound, BuildError> {
        let slot = match self.position(path.root()) {
            Some(slot) => slot,
            None if self.names.len() < MAX_MEMBERS => {
                self.names.push(path.root().into());
                self.lengths |= length_bit(path.root());
                self.names.len() - 1
            }
            None => {
                return Err(BuildError::new(
                    BuildErrorKind::InvalidValidation,
                    format!("claim rules may read at most {MAX_MEMBERS} distinct top-level claims"),
                ));
            }
        };
        Ok(Bound { slot, path })
    }

    /// The slot of a member name.
    pub(crate) fn position(&self, name: &str) -> Option<usize> {
        if self.lengths & length_bit(name) == 0 {
            return None;
        }
        self.names.iter().position(|n| **n == *name)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// Whether `text` holds one of `bytes` (one pass without an early exit,
/// which the compiler vectorizes: claims are short).
fn has_any<const N: usize>(text: &str, bytes: [u8; N]) -> bool {
    text.bytes()
        .fold(false, |found, b| found | bytes.contains(&b))
}

/// The bit of [`Wanted::lengths`] for `name`.
fn length_bit(name: &str) -> u64 {
    1 << (name.len() % 64)
}

/// The raw values of the wanted members of one payload.
#[derive(Debug, Default)]
pub(crate) struct Members<'p> {
    values: [Option<&'p RawValue>; MAX_MEMBERS],
}

impl<'p> Members<'p> {
    /// Records the value of the member in `slot`; a member given twice is
    /// refused (which of two `token_use` would a rule believe?).
    pub(crate) fn set(&mut self, slot: usize, value: &'p RawValue) -> Result<(), &'static str> {
        match self.values.get_mut(slot) {
            Some(entry @ None) => {
                *entry = Some(value);
                Ok(())
            }
            _ => Err("a claim that a rule reads is given twice"),
        }
    }

    /// The value at `bound`'s path, parsed.
    pub(crate) fn value(&self, bound: &Bound) -> Option<Value> {
        let raw = self.values.get(bound.slot).copied().flatten()?;
        let root: Value = serde_json::from_str(raw.get()).ok()?;
        bound.path.find(&root).cloned()
    }

    /// The string at `bound`'s path, or the strings of an array there
    /// (other values hold none). A top-level claim is read straight from
    /// its JSON text, borrowing its strings: no `Value` is built.
    pub(crate) fn strings(&self, bound: &Bound) -> Strings<'p> {
        let Some(raw) = self.values.get(bound.slot).copied().flatten() else {
            return Strings::None;
        };
        if bound.path.is_root() {
            // A plain string (no escapes) is its text between the quotes:
            // the capture already checked it is valid JSON.
            let text = raw.get();
            let plain = text.strip_prefix('"').and_then(|t| t.strip_suffix('"'));
            if let Some(inner) = plain.filter(|t| !has_any(t, [b'\\', b'"'])) {
                return Strings::One(Cow::Borrowed(inner));
            }
            return serde_json::from_str(text).unwrap_or(Strings::None);
        }
        match self.value(bound) {
            Some(Value::String(s)) => Strings::One(Cow::Owned(s)),
            Some(Value::Array(items)) => Strings::Many(
                items
                    .into_iter()
                    .filter_map(|v| match v {
                        Value::String(s) => Some(Cow::Owned(s)),
                        _ => None,
                    })
                    .collect(),
            ),
            _ => Strings::None,
        }
    }
}

/// Reads only the wanted members of a payload (the path taken when the
/// single pass cannot be used).
pub(crate) fn read<'p>(payload: &'p [u8], wanted: &Wanted) -> Result<Members<'p>, AuthError> {
    let mut de = serde_json::Deserializer::from_slice(payload);
    let members = de
        .deserialize_map(Collect { wanted })
        .map_err(|e| AuthError::with_source(AuthErrorKind::InvalidClaims, e))?;
    Ok(members)
}

struct Collect<'w> {
    wanted: &'w Wanted,
}

impl<'de> Visitor<'de> for Collect<'_> {
    type Value = Members<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members<'de>, A::Error> {
        let mut members = Members::default();
        while let Some(key) = map.next_key::<Str<'de>>()? {
            match self.wanted.position(&key) {
                Some(slot) => {
                    let raw: &'de RawValue = map.next_value()?;
                    members.set(slot, raw).map_err(de::Error::custom)?;
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(members)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_strings(payload: &str, path: &str) -> Vec<String> {
        let mut wanted = Wanted::default();
        let bound = wanted.bind(ClaimPath::parse(path).unwrap()).unwrap();
        let members = read(payload.as_bytes(), &wanted).unwrap();
        members.strings(&bound).iter().map(str::to_owned).collect()
    }

    #[test]
    fn strings_read_the_same_with_or_without_escapes() {
        assert_eq!(read_strings(r#"{"a":"x y"}"#, "a"), ["x y"]);
        assert_eq!(read_strings(r#"{"a":"\u0078\"q"}"#, "a"), ["x\"q"]);
        assert_eq!(
            read_strings(r#"{"a":["x",5,"\u0079",{"z":1}]}"#, "a"),
            ["x", "y"]
        );
        assert!(read_strings(r#"{"a":{"x":1}}"#, "a").is_empty());
        assert!(read_strings(r#"{"a":true}"#, "a").is_empty());
        assert!(read_strings(r#"{"b":"x"}"#, "a").is_empty());
        assert_eq!(read_strings(r#"{"a":{"b":["r"]}}"#, "/a/b"), ["r"]);
    }

    #[test]
    fn a_member_a_rule_reads_given_twice_is_refused() {
        let mut wanted = Wanted::default();
        wanted.bind(ClaimPath::parse("a").unwrap()).unwrap();
        assert!(read(br#"{"a":"x","a":"y"}"#, &wanted).is_err());
    }
}

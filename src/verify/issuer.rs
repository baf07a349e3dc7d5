//! Issuer templates: one `{name}` placeholder in an issuer URL, bound to
//! the token's claim of that name (`https://login.microsoftonline.com/{tid}/v2.0`
//! with `tid`), with an allow-list of values or, explicitly, any value.
//! Also the hint for the most frequent misconfiguration: an `iss` that
//! differs from a configured issuer only by a trailing slash, the scheme or
//! the host's case.

use std::collections::HashSet;
use std::sync::Mutex;

use serde_json::Value;

use super::members::{Bound, Members};
use crate::error::{BuildError, BuildErrorKind};

/// Distinct near-miss issuers hinted at, at most.
const MAX_HINTS: usize = 64;

/// An issuer with one placeholder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Template {
    prefix: Box<str>,
    name: Box<str>,
    suffix: Box<str>,
}

impl Template {
    /// Parses `text`; `None` when it holds no `{`…`}`; an error when it
    /// holds more than one placeholder or an empty one.
    pub(crate) fn parse(text: &str) -> Result<Option<Self>, BuildError> {
        let Some((prefix, rest)) = text.split_once('{') else {
            return Ok(None);
        };
        let bad = |why: &str| {
            BuildError::new(
                BuildErrorKind::InvalidValidation,
                format!("issuer template `{text}`: {why}"),
            )
        };
        let (name, suffix) = rest.split_once('}').ok_or_else(|| bad("unclosed `{`"))?;
        if suffix.contains(['{', '}']) || prefix.contains('}') {
            return Err(bad("one placeholder at most"));
        }
        let ok_name = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !ok_name || prefix.is_empty() {
            return Err(bad("the placeholder names a claim, after a fixed start"));
        }
        Ok(Some(Self {
            prefix: prefix.into(),
            name: name.into(),
            suffix: suffix.into(),
        }))
    }

    /// The fixed text before the placeholder.
    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The claim the placeholder names.
    pub(crate) fn claim(&self) -> &str {
        &self.name
    }

    /// The value `iss` holds in the placeholder, if `iss` has this shape.
    fn value_in<'i>(&self, iss: &'i str) -> Option<&'i str> {
        let value = iss
            .strip_prefix(&*self.prefix)?
            .strip_suffix(&*self.suffix)?;
        let plain = !value.is_empty() && !value.contains(['/', '?', '#', '{', '}']);
        plain.then_some(value)
    }

    /// Whether `iss` has this template's shape (the route to try).
    pub(crate) fn fits(&self, iss: &str) -> bool {
        self.value_in(iss).is_some()
    }

    /// Whether `other` has the same shape: the same text around one
    /// placeholder, whatever its name (a discovery document's
    /// `{tenantid}` against a configured `{tid}`).
    #[cfg(feature = "remote-jwks")]
    pub(crate) fn same_shape(&self, other: &Template) -> bool {
        self.prefix == other.prefix && self.suffix == other.suffix
    }
}

/// A template and the values its placeholder may take.
#[derive(Clone, Debug)]
pub(crate) struct TemplateRule {
    pub(crate) template: Template,
    /// `None`: any value (configured explicitly).
    pub(crate) values: Option<HashSet<Box<str>>>,
    /// The claim the placeholder is bound to.
    pub(crate) claim: Bound,
}

impl TemplateRule {
    /// Whether `iss` fits the template, its placeholder value is allowed,
    /// and the token's bound claim holds that same value.
    pub(crate) fn accepts(&self, iss: &str, members: &Members<'_>) -> bool {
        let Some(value) = self.template.value_in(iss) else {
            return false;
        };
        let allowed = self.values.as_ref().is_none_or(|v| v.contains(value));
        allowed && matches!(members.value(&self.claim), Some(Value::String(s)) if s == value)
    }
}

/// Hints, once per distinct value, at an `iss` that misses a configured
/// issuer only by a trailing slash, the scheme or the host's case.
#[derive(Debug, Default)]
pub(crate) struct NearMisses {
    seen: Mutex<HashSet<Box<str>>>,
}

impl NearMisses {
    /// Called for a refused `iss` (a cold path).
    pub(crate) fn check(&self, iss: &str, configured: &[Box<str>]) {
        let Some(close) = configured.iter().find(|c| near(c, iss)) else {
            return;
        };
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() < MAX_HINTS && seen.insert(iss.into()) {
            crate::log::issuer_near_miss(close, iss);
        }
    }
}

/// The same issuer up to a trailing slash, the scheme and ASCII case.
fn near(configured: &str, iss: &str) -> bool {
    let norm = |s: &str| {
        let s = s.trim_end_matches('/');
        let s = s.split_once("://").map_or(s, |(_, rest)| rest);
        s.to_ascii_lowercase()
    };
    configured != iss && norm(configured) == norm(iss)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_parse_and_match_one_placeholder() {
        let t = Template::parse("https://login.microsoftonline.com/{tid}/v2.0")
            .unwrap()
            .unwrap();
        assert_eq!(t.claim(), "tid");
        assert_eq!(
            t.value_in("https://login.microsoftonline.com/abc/v2.0"),
            Some("abc")
        );
        for miss in [
            "https://login.microsoftonline.com//v2.0",
            "https://login.microsoftonline.com/a/b/v2.0",
            "https://login.microsoftonline.com/abc/v2.0/",
            "https://evil.example/abc/v2.0",
        ] {
            assert_eq!(t.value_in(miss), None, "{miss}");
        }
        let discovered = Template::parse("https://login.microsoftonline.com/{tenantid}/v2.0")
            .unwrap()
            .unwrap();
        assert!(t.same_shape(&discovered));
        assert_eq!(Template::parse("https://plain.example").unwrap(), None);
        for bad in [
            "https://x/{a}/{b}",
            "https://x/{}",
            "https://x/{a",
            "{a}/x",
            "https://x/{a b}",
        ] {
            assert!(Template::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn near_misses() {
        assert!(near("https://idp.example/", "https://idp.example"));
        assert!(near("https://IdP.example", "http://idp.example/"));
        assert!(!near("https://idp.example", "https://idp.example"));
        assert!(!near("https://idp.example", "https://other.example"));
    }
}

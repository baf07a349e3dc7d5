//! Claims named by RFC 6901 JSON Pointers (`/realm_access/roles`,
//! `/https:~1~1example.com~1roles`), or by a bare top-level name (`roles`).
//! Parsed when a verifier is built; read from a verified payload.

use serde_json::Value;

use crate::error::{BuildError, BuildErrorKind};

/// The most segments a path may have.
const MAX_SEGMENTS: usize = 8;
/// The longest segment.
const MAX_SEGMENT_LEN: usize = 256;

/// A path to a claim: the top-level member, then the keys (or array
/// indexes) below it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ClaimPath {
    root: Box<str>,
    rest: Box<[Box<str>]>,
}

impl ClaimPath {
    /// Parses a JSON Pointer (starting with `/`) or a bare claim name.
    pub(crate) fn parse(text: &str) -> Result<Self, BuildError> {
        let bad = |why: &str| {
            BuildError::new(
                BuildErrorKind::InvalidValidation,
                format!("claim path `{text}`: {why}"),
            )
        };
        let segments: Vec<Box<str>> = match text.strip_prefix('/') {
            None if text.is_empty() => return Err(bad("empty")),
            None => vec![text.into()],
            Some(pointer) => pointer
                .split('/')
                .map(unescape)
                .collect::<Option<_>>()
                .ok_or_else(|| bad("`~` must be followed by 0 or 1 (RFC 6901)"))?,
        };
        if segments.len() > MAX_SEGMENTS || segments.iter().any(|s| s.len() > MAX_SEGMENT_LEN) {
            return Err(bad("too long"));
        }
        let mut segments = segments.into_iter();
        let root = segments
            .next()
            .filter(|r| !r.is_empty())
            .ok_or_else(|| bad("names no claim"))?;
        Ok(Self {
            root,
            rest: segments.collect(),
        })
    }

    /// The top-level claim the path starts at.
    pub(crate) fn root(&self) -> &str {
        &self.root
    }

    /// Whether the path is the top-level claim itself.
    pub(crate) fn is_root(&self) -> bool {
        self.rest.is_empty()
    }

    /// The value at this path, given the root claim's value.
    pub(crate) fn find<'v>(&self, root: &'v Value) -> Option<&'v Value> {
        self.rest.iter().try_fold(root, |value, key| match value {
            Value::Object(map) => map.get(&**key),
            Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        })
    }
}

/// One pointer segment with `~1` → `/` and `~0` → `~`; `None` for another
/// `~` escape.
fn unescape(segment: &str) -> Option<Box<str>> {
    let mut out = String::with_capacity(segment.len());
    let mut chars = segment.chars();
    while let Some(c) = chars.next() {
        if c != '~' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('0') => out.push('~'),
            Some('1') => out.push('/'),
            _ => return None,
        }
    }
    Some(out.into_boxed_str())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn pointers_and_bare_names() {
        let p = ClaimPath::parse("/realm_access/roles").unwrap();
        assert_eq!(p.root(), "realm_access");
        let v = json!({"roles": ["a"]});
        assert_eq!(p.find(&v), Some(&json!(["a"])));
        let p = ClaimPath::parse("/https:~1~1example.com~1roles").unwrap();
        assert_eq!(p.root(), "https://example.com/roles");
        let p = ClaimPath::parse("cognito:groups").unwrap();
        assert_eq!(p.root(), "cognito:groups");
        let p = ClaimPath::parse("/a~0b/0").unwrap();
        assert_eq!(p.root(), "a~b");
        assert_eq!(p.find(&json!(["x", "y"])), Some(&json!("x")));
        assert_eq!(p.find(&json!({"0": 5})), Some(&json!(5)));
        assert_eq!(p.find(&json!("scalar")), None);
    }

    #[test]
    fn bad_paths_are_build_errors() {
        for bad in [
            "",
            "/",
            "/~2",
            "/a~",
            "//x",
            &"/a".repeat(9),
            &format!("/{}", "a".repeat(257)),
        ] {
            let err = ClaimPath::parse(bad).unwrap_err();
            assert_eq!(err.kind(), BuildErrorKind::InvalidValidation, "{bad:?}");
        }
    }
}

//! The JSON wire types of a token's header and payload, read with strict
//! types: a member of the wrong JSON type (`null` included) fails the whole
//! read. Strings borrow from the decoded bytes when they have no escapes.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Dates past 9999-12-31 are refused as malformed.
const MAX_DATE: f64 = 253_402_300_799.0;

#[derive(Deserialize)]
pub(crate) struct RawHeader<'a> {
    #[serde(borrow)]
    pub(crate) alg: Cow<'a, str>,
    /// A string when present (RFC 7515 §4.1.4): `null` is malformed.
    #[serde(default, borrow, deserialize_with = "some")]
    pub(crate) kid: Option<Str<'a>>,
    /// The media type of the token (`JWT`, `at+jwt` …), when it is a
    /// string (a `typ` of another type is as good as none: it matches no
    /// required type, and without a requirement it is not read).
    #[serde(default, borrow, deserialize_with = "string_or_none")]
    pub(crate) typ: Option<Str<'a>>,
    /// Header members we refuse in any form, `null` included.
    #[serde(default, deserialize_with = "present")]
    pub(crate) crit: bool,
    #[serde(default, deserialize_with = "present")]
    pub(crate) enc: bool,
    #[serde(default, deserialize_with = "present")]
    pub(crate) b64: bool,
    #[serde(default, deserialize_with = "present")]
    pub(crate) zip: bool,
}

/// `true` whenever the member is there, whatever its value.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    IgnoredAny::deserialize(d).map(|_| true)
}

/// The `iss` member alone, for routing by issuer (strict type, like
/// [`RawClaims`]).
#[derive(Deserialize)]
pub(crate) struct IssuerOnly<'a> {
    #[serde(default, borrow, deserialize_with = "some")]
    pub(crate) iss: Option<Str<'a>>,
}

/// A JSON number read as a NumericDate: finite, not negative, before 10000.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct NumericDate(pub(crate) f64);

impl<'de> Deserialize<'de> for NumericDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = NumericDate;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a NumericDate")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<NumericDate, E> {
                self.visit_f64(v as f64)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<NumericDate, E> {
                self.visit_f64(v as f64)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<NumericDate, E> {
                if v.is_finite() && (0.0..=MAX_DATE).contains(&v) {
                    Ok(NumericDate(v))
                } else {
                    Err(E::custom("date out of range"))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// A string borrowed from the JSON text when it has no escapes (serde's
/// own `Cow` support borrows only at the top level of a field, not inside
/// an `Option` or a sequence).
#[derive(Debug)]
pub(crate) struct Str<'a>(pub(crate) Cow<'a, str>);

impl std::ops::Deref for Str<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Str<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Str<'a>, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Str<'a>, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

/// `aud`: a string or an array of strings.
#[derive(Debug)]
pub(crate) enum Audience<'a> {
    One(Cow<'a, str>),
    Many(Vec<Cow<'a, str>>),
}

impl Audience<'_> {
    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> {
        let (one, many) = match self {
            Self::One(s) => (Some(&**s), &[][..]),
            Self::Many(v) => (None, &v[..]),
        };
        one.into_iter().chain(many.iter().map(|s| &**s))
    }
}

/// A string, or an array of strings (for `aud` and `scp`).
struct StrOrSeq<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for StrOrSeq<'a> {
    type Value = Audience<'a>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or an array of strings")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Audience::One(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Audience::One(Cow::Owned(v.to_owned())))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(s) = seq.next_element::<Str<'a>>()? {
            if out.len() >= 64 {
                return Err(de::Error::custom("too many values"));
            }
            out.push(s.0);
        }
        Ok(Audience::Many(out))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Audience<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrOrSeq(std::marker::PhantomData))
    }
}

/// The registered claims as read (borrowed) from the payload, with strict
/// types: a claim of the wrong JSON type (`null` included) fails the whole
/// parse.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawClaims<'a> {
    #[serde(default, borrow, deserialize_with = "some")]
    pub(crate) iss: Option<Str<'a>>,
    #[serde(default, borrow, deserialize_with = "some")]
    pub(crate) aud: Option<Audience<'a>>,
    #[serde(default, deserialize_with = "some")]
    pub(crate) exp: Option<NumericDate>,
    #[serde(default, deserialize_with = "some")]
    pub(crate) nbf: Option<NumericDate>,
    #[serde(default, deserialize_with = "some")]
    pub(crate) iat: Option<NumericDate>,
    #[serde(default, borrow, deserialize_with = "some")]
    pub(crate) scope: Option<Str<'a>>,
    #[serde(default, borrow, deserialize_with = "some")]
    pub(crate) scp: Option<Audience<'a>>,
    /// The confirmation (RFC 7800): `jkt` binds the token to a DPoP key.
    #[serde(default, borrow, deserialize_with = "some")]
    pub(crate) cnf: Option<Confirmation<'a>>,
    /// A string (a handler keyed by `sub` never sees `42` beside `"42"`),
    /// borrowed from the payload; kept only for revocation.
    #[serde(default, borrow, deserialize_with = "some")]
    pub(crate) sub: Option<Str<'a>>,
    /// A string; kept only for revocation.
    #[serde(default, borrow, deserialize_with = "some")]
    pub(crate) jti: Option<Str<'a>>,
}

/// A token's `cnf` claim (RFC 7800); of its members only `jkt` (RFC 9449
/// §6.1, the SHA-256 thumbprint of a DPoP key) is read.
#[derive(Debug, Deserialize)]
pub(crate) struct Confirmation<'a> {
    #[serde(default, borrow, deserialize_with = "some")]
    pub(crate) jkt: Option<Str<'a>>,
}

impl RawClaims<'_> {
    /// What a revocation list looks the token up by.
    pub(crate) fn revocation_ids(&self) -> crate::claims::RevocationIds {
        crate::claims::RevocationIds::new(
            self.jti.as_deref(),
            self.sub.as_deref(),
            self.iat.map(|d| d.0),
        )
    }

    /// The DPoP key thumbprint the token is bound to, if any.
    pub(crate) fn jkt(&self) -> Option<Box<str>> {
        self.cnf
            .as_ref()
            .and_then(|c| c.jkt.as_deref())
            .map(Box::from)
    }
}

/// A string, or `None` for a value of any other type.
fn string_or_none<'de: 'a, 'a, D: Deserializer<'de>>(d: D) -> Result<Option<Str<'a>>, D::Error> {
    Ok(match Strings::deserialize(d)? {
        Strings::One(s) => Some(Str(s)),
        Strings::None | Strings::Many(_) => None,
    })
}

/// A claim read as strings: one, several (an array's strings), or none.
#[derive(Debug)]
pub(crate) enum Strings<'a> {
    None,
    One(Cow<'a, str>),
    Many(Vec<Cow<'a, str>>),
}

impl Strings<'_> {
    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> {
        let (one, many) = match self {
            Self::None => (None, &[][..]),
            Self::One(s) => (Some(&**s), &[][..]),
            Self::Many(v) => (None, &v[..]),
        };
        one.into_iter().chain(many.iter().map(|s| &**s))
    }
}

impl<'de> Deserialize<'de> for Strings<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StringsVisitor)
    }
}

struct StringsVisitor;

impl<'de> Visitor<'de> for StringsVisitor {
    type Value = Strings<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Strings::One(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Strings::One(Cow::Owned(v.to_owned())))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(item) = seq.next_element::<Strings<'de>>()? {
            if let Strings::One(s) = item {
                out.push(s);
            }
        }
        Ok(Strings::Many(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Strings::None)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Strings::None)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Strings::None)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Strings::None)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Strings::None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Strings::None)
    }
}

/// A present claim must have its type: `null` is not "absent".
pub(crate) fn some<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

impl RawClaims<'_> {
    /// The token's scopes as one space-separated string (`scope` and `scp`).
    pub(crate) fn scopes(&self) -> Box<str> {
        let mut out = String::new();
        if let Some(s) = &self.scope {
            out.push_str(s);
        }
        if let Some(scp) = &self.scp {
            // Each array element is one scope token; one holding a space is
            // not a valid scope (RFC 6749 §3.3) and grants nothing.
            for s in scp.iter().filter(|s| !s.is_empty() && !s.contains(' ')) {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(s);
            }
        }
        out.into_boxed_str()
    }
}

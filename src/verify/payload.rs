//! One pass over a verified payload: the caller's claims type `C` is
//! deserialized while the registered claims we check are captured on the
//! way, instead of reading the JSON twice.
//!
//! `C` drives a [`Tee`] deserializer. Every member goes to `C` untouched,
//! except the registered ones ([`REGISTERED`]): their value is first taken
//! as raw JSON, kept for [`RawClaims`], then handed to `C` from that text,
//! so `C` sees exactly what it would have seen in a direct parse. Anything
//! the tee does not model — a `C` that is not read as a JSON object
//! (`Box<RawValue>`, newtypes, enums …) or any error — sends the verifier
//! to the two separate reads, whose answer is then the answer: the single
//! pass is an optimisation that never changes a result.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::value::BorrowedStrDeserializer;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, Visitor,
};
use serde_json::value::RawValue;

use super::members::{Members, Wanted};
use super::wire::{RawClaims, Str};

/// The members [`RawClaims`] reads, in the order of [`Captured::values`].
const REGISTERED: [&str; 10] = [
    "iss", "aud", "exp", "nbf", "iat", "scope", "scp", "cnf", "sub", "jti",
];

/// Reads `payload` (a JSON object, checked by the caller) into the
/// registered claims and `C` in one pass; `None` when the caller must do
/// the two plain reads instead (an error anywhere, or a shape the tee does
/// not model), which then decide the answer and the error.
pub(crate) fn single_pass<'p, C: DeserializeOwned>(
    payload: &'p [u8],
    wanted: &Wanted,
) -> Option<(RawClaims<'p>, C, Members<'p>)> {
    let mut captured = Captured {
        values: [None; REGISTERED.len()],
        members: Members::default(),
        wanted,
    };
    let mut de = serde_json::Deserializer::from_slice(payload);
    let claims = C::deserialize(Tee {
        de: &mut de,
        captured: &mut captured,
    })
    .ok()?;
    de.end().ok()?;
    let members = std::mem::take(&mut captured.members);
    let raw = captured.into_raw_claims().ok()?;
    Some((raw, claims, members))
}

/// The raw JSON of each registered member met so far, and of the members
/// claim rules read.
struct Captured<'w, 'p> {
    values: [Option<&'p RawValue>; REGISTERED.len()],
    members: Members<'p>,
    wanted: &'w Wanted,
}

impl<'p> Captured<'_, 'p> {
    fn set<E: de::Error>(&mut self, index: usize, value: &'p RawValue) -> Result<(), E> {
        match self.values.get_mut(index) {
            Some(slot @ None) => {
                *slot = Some(value);
                Ok(())
            }
            // The same registered member twice: refused, as in the plain
            // read (`duplicate field`).
            _ => Err(E::custom("duplicate registered claim")),
        }
    }

    /// Runs the derived [`RawClaims`] deserializer over the captured
    /// members, so its rules (types, `null`, ranges) apply unchanged.
    fn into_raw_claims(self) -> Result<RawClaims<'p>, serde_json::Error> {
        let members = REGISTERED
            .iter()
            .zip(self.values)
            .filter_map(|(name, value)| value.map(|v| (*name, v)));
        let mut map = de::value::MapDeserializer::<_, serde_json::Error>::new(members);
        let raw = RawClaims::deserialize(de::value::MapAccessDeserializer::new(&mut map))?;
        map.end()?;
        Ok(raw)
    }
}

/// The deserializer `C` sees: serde_json's, with the object's members
/// passed through [`TeeMap`].
struct Tee<'a, 'w, 'p> {
    de: &'a mut serde_json::Deserializer<serde_json::de::SliceRead<'p>>,
    captured: &'a mut Captured<'w, 'p>,
}

/// The error that sends a shape the tee does not model to the fallback.
fn unsupported() -> serde_json::Error {
    de::Error::custom("not read as a JSON object")
}

/// `Deserializer` methods for shapes other than an object: all go to the
/// fallback.
macro_rules! refuse_shapes {
    ($($method:ident)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
                Err(unsupported())
            }
        )*
    };
}

impl<'de> Deserializer<'de> for Tee<'_, '_, 'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.deserialize_map(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.de.deserialize_map(TeeVisitor {
            inner: visitor,
            captured: self.captured,
        })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_map(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _: V,
    ) -> Result<V::Value, Self::Error> {
        // `Box<RawValue>` and user newtypes: the plain read.
        Err(unsupported())
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        Err(unsupported())
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _: V,
    ) -> Result<V::Value, Self::Error> {
        Err(unsupported())
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, _: V) -> Result<V::Value, Self::Error> {
        Err(unsupported())
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _: usize,
        _: V,
    ) -> Result<V::Value, Self::Error> {
        Err(unsupported())
    }

    refuse_shapes! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char deserialize_str
        deserialize_string deserialize_bytes deserialize_byte_buf deserialize_option
        deserialize_unit deserialize_seq deserialize_identifier deserialize_ignored_any
    }
}

/// Wraps `C`'s visitor so its `visit_map` reads through [`TeeMap`].
struct TeeVisitor<'a, 'w, 'p, V> {
    inner: V,
    captured: &'a mut Captured<'w, 'p>,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for TeeVisitor<'_, '_, 'de, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_map(TeeMap {
            map,
            captured: self.captured,
            pending: None,
            pending_member: None,
        })
    }
}

/// The object's members: keys and unregistered values pass straight
/// through; a registered value is captured, then replayed to `C`.
struct TeeMap<'a, 'w, 'p, A> {
    map: A,
    captured: &'a mut Captured<'w, 'p>,
    /// The registered member whose value comes next.
    pending: Option<usize>,
    /// The slot of the wanted member whose value comes next.
    pending_member: Option<usize>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for TeeMap<'_, '_, 'de, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        let Some(key) = self.map.next_key::<Str<'de>>()? else {
            return Ok(None);
        };
        self.pending = REGISTERED.iter().position(|name| *name == &*key);
        if !self.captured.wanted.is_empty() {
            self.pending_member = self.captured.wanted.position(&key);
        }
        let value = match key.0 {
            Cow::Borrowed(s) => seed.deserialize(BorrowedStrDeserializer::<A::Error>::new(s))?,
            Cow::Owned(s) => seed.deserialize(s.into_deserializer())?,
        };
        Ok(Some(value))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        let (index, member) = (self.pending.take(), self.pending_member.take());
        if index.is_none() && member.is_none() {
            return self.map.next_value_seed(seed);
        }
        let raw: &'de RawValue = self.map.next_value()?;
        if let Some(index) = index {
            self.captured.set(index, raw)?;
        }
        if let Some(slot) = member {
            self.captured
                .members
                .set(slot, raw)
                .map_err(de::Error::custom)?;
        }
        seed.deserialize(raw).map_err(de::Error::custom)
    }

    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint()
    }
}

#[cfg(test)]
#[path = "payload_tests.rs"]
mod tests;

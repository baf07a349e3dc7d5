//! The contract of [`single_pass`]: an answer equals the two plain reads
//! (`RawClaims` and `C`, each by `serde_json::from_slice`); no answer
//! whenever one of them fails.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;

use proptest::prelude::*;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;

use super::super::members::Wanted;
use super::super::wire::{NumericDate, RawClaims};
use super::{REGISTERED, single_pass};
use crate::claims::{OneOrMany, RegisteredClaims};

/// Whether the single pass must answer when both plain reads succeed.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Shape {
    /// Read as a JSON object through the tee: must answer.
    Modelled,
    /// Not modelled (newtype, enum, raw value, non-string keys …): may
    /// decline, but an answer must still be right.
    Unmodelled,
}

/// What one (payload, `C`) pair gave.
#[derive(Clone, Copy, Debug, Default)]
struct Tally {
    /// Both plain reads succeeded and the single pass answered.
    answered: usize,
    /// Both plain reads succeeded and the single pass declined.
    declined: usize,
    /// A plain read failed (and the single pass declined).
    refused: usize,
}

impl std::ops::AddAssign for Tally {
    fn add_assign(&mut self, other: Self) {
        self.answered += other.answered;
        self.declined += other.declined;
        self.refused += other.refused;
    }
}

/// The caller's precondition (`verifier::is_object`).
fn is_object(payload: &str) -> bool {
    payload
        .bytes()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| b == b'{')
}

/// Checks the contract for one payload and one `C`, comparing `C`s with
/// `same`.
fn check_by<C: DeserializeOwned + Debug>(
    payload: &str,
    shape: Shape,
    same: impl Fn(&C, &C) -> bool,
) -> Tally {
    let ty = std::any::type_name::<C>();
    let bytes = payload.as_bytes();
    let plain_raw = serde_json::from_slice::<RawClaims<'_>>(bytes);
    let plain_c = serde_json::from_slice::<C>(bytes);
    let single = single_pass::<C>(bytes, &Wanted::default());
    match (plain_raw, plain_c, single) {
        (Ok(raw), Ok(c), Some((one_raw, one_c, _))) => {
            assert_eq!(
                format!("{one_raw:?}"),
                format!("{raw:?}"),
                "RawClaims differ, C = {ty}, payload {payload:?}"
            );
            assert!(
                same(&one_c, &c),
                "C differs, C = {ty}, payload {payload:?}:\n single pass {one_c:?}\n plain read  {c:?}"
            );
            Tally {
                answered: 1,
                ..Tally::default()
            }
        }
        (Ok(_), Ok(_), None) => {
            assert!(
                shape == Shape::Unmodelled || !is_object(payload),
                "declined though both plain reads succeed, C = {ty}, payload {payload:?}"
            );
            Tally {
                declined: 1,
                ..Tally::default()
            }
        }
        (raw, c, Some((one_raw, one_c, _))) => panic!(
            "answered though a plain read fails, C = {ty}, payload {payload:?}:\n \
             RawClaims: {:?}\n C: {:?}\n answer: {one_raw:?} / {one_c:?}",
            raw.err(),
            c.err()
        ),
        (_, _, None) => Tally {
            refused: 1,
            ..Tally::default()
        },
    }
}

fn check<C: DeserializeOwned + Debug + PartialEq>(payload: &str, shape: Shape) -> Tally {
    check_by::<C>(payload, shape, |a, b| a == b)
}

// ---- claims types ---------------------------------------------------

/// Typed registered claims, some required, plus extra fields.
#[derive(Debug, PartialEq, Deserialize)]
struct Typed {
    sub: String,
    exp: u64,
    aud: Value,
    iss: Option<String>,
    nbf: Option<f64>,
    iat: Option<i64>,
    scope: Option<String>,
    scp: Option<Vec<String>>,
    name: Option<String>,
    nested: Option<Value>,
}

/// Everything optional; `null` accepted where the registered read
/// refuses it.
#[derive(Debug, PartialEq, Deserialize)]
struct Loose {
    iss: Option<String>,
    aud: Option<Value>,
    exp: Option<f64>,
    nbf: Option<Value>,
    iat: Option<serde_json::Number>,
    scope: Option<Value>,
    sub: Option<String>,
    name: Option<String>,
}

/// Unknown members collected by `flatten` (serde buffers them).
#[derive(Debug, PartialEq, Deserialize)]
struct Flattened {
    exp: Option<Value>,
    sub: Option<String>,
    #[serde(flatten)]
    extra: HashMap<String, Value>,
}

/// Refuses any member it does not name.
#[derive(Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct Strict {
    iss: Option<String>,
    aud: Option<Value>,
    exp: Option<f64>,
    nbf: Option<f64>,
    iat: Option<f64>,
    scope: Option<String>,
    scp: Option<Value>,
    sub: Option<String>,
    name: Option<String>,
    typ: Option<String>,
}

/// Missing members take their defaults.
#[derive(Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
struct Defaults {
    exp: f64,
    iss: String,
    aud: Vec<String>,
    scope: String,
    name: String,
    count: u32,
}

/// Registered members kept as raw JSON text.
#[derive(Debug, Deserialize)]
struct WithRaw {
    aud: Option<Box<RawValue>>,
    exp: Option<Box<RawValue>>,
    nested: Option<Box<RawValue>>,
}

fn same_with_raw(a: &WithRaw, b: &WithRaw) -> bool {
    let text = |v: &Option<Box<RawValue>>| v.as_ref().map(|r| r.get().to_owned());
    text(&a.aud) == text(&b.aud)
        && text(&a.exp) == text(&b.exp)
        && text(&a.nested) == text(&b.nested)
}

fn same_raw_map(a: &HashMap<String, Box<RawValue>>, b: &HashMap<String, Box<RawValue>>) -> bool {
    let text = |m: &HashMap<String, Box<RawValue>>| {
        m.iter()
            .map(|(k, v)| (k.clone(), v.get().to_owned()))
            .collect::<BTreeMap<_, _>>()
    };
    text(a) == text(b)
}

/// Untagged: serde buffers the whole object, then tries each variant.
#[derive(Debug, PartialEq, Deserialize)]
#[serde(untagged)]
enum Untagged {
    Access { sub: String, exp: f64 },
    Other(BTreeMap<String, Value>),
}

/// Internally tagged on `typ`.
#[derive(Debug, PartialEq, Deserialize)]
#[serde(tag = "typ")]
enum Tagged {
    Access { sub: String, exp: Option<f64> },
    Id { aud: Value },
}

/// Externally tagged: `{"Access":{…}}`; not modelled.
#[derive(Debug, PartialEq, Deserialize)]
enum External {
    Access { exp: f64 },
}

/// A newtype struct: not modelled.
#[derive(Debug, PartialEq, Deserialize)]
struct Newtype(HashMap<String, Value>);

/// A transparent wrapper: read as its field, so modelled.
#[derive(Debug, PartialEq, Deserialize)]
#[serde(transparent)]
struct Transparent(BTreeMap<String, Value>);

/// Every `C` on one payload.
fn check_all_types(payload: &str) -> Tally {
    use Shape::{Modelled, Unmodelled};
    let mut t = Tally::default();
    t += check::<Typed>(payload, Modelled);
    t += check::<Loose>(payload, Modelled);
    t += check::<Value>(payload, Modelled);
    t += check::<HashMap<String, Value>>(payload, Modelled);
    t += check::<BTreeMap<String, Value>>(payload, Modelled);
    t += check::<serde_json::Map<String, Value>>(payload, Modelled);
    t += check::<Box<Value>>(payload, Modelled);
    t += check::<Flattened>(payload, Modelled);
    t += check::<Strict>(payload, Modelled);
    t += check::<Defaults>(payload, Modelled);
    t += check::<RegisteredClaims>(payload, Modelled);
    t += check::<Untagged>(payload, Modelled);
    t += check::<Tagged>(payload, Modelled);
    t += check::<Transparent>(payload, Modelled);
    t += check_by::<WithRaw>(payload, Modelled, same_with_raw);
    t += check_by::<HashMap<String, Box<RawValue>>>(payload, Modelled, same_raw_map);
    t += check_by::<Box<RawValue>>(payload, Unmodelled, |a, b| a.get() == b.get());
    t += check::<Newtype>(payload, Unmodelled);
    t += check::<External>(payload, Unmodelled);
    t += check::<Option<Value>>(payload, Unmodelled);
    // Non-string keys: serde_json parses `"1"` as a `u64` key, the tee
    // hands the key over as a string.
    t += check::<HashMap<u64, Value>>(payload, Unmodelled);
    t += check::<HashMap<bool, Value>>(payload, Unmodelled);
    t
}

// ---- payload table --------------------------------------------------

const FIXED: &[&str] = &[
    // empty and whitespace
    r#"{}"#,
    " \n\t{ } \r\n",
    // well formed
    r#"{"sub":"u","exp":1700000000,"aud":"api"}"#,
    r#"{"sub":"u","exp":1700000000,"aud":["a","b"],"iss":"https://issuer.example","nbf":1600000000,"iat":1600000000,"scope":"read write","scp":["x","y"],"name":"N","nested":{"k":[1,2.5,null,true,"s"]}}"#,
    r#"{ "aud" : [ "a" , "b" ] , "exp" : 1.50 , "sub" : "u" , "nested" : { "x" : [ ] } }"#,
    r#"{"typ":"Access","sub":"u","exp":1700000000}"#,
    r#"{"typ":"Access","sub":"u","exp":1.5,"aud":"a"}"#,
    r#"{"typ":"Id","aud":["a"]}"#,
    r#"{"typ":"Id","aud":"a","exp":3}"#,
    r#"{"typ":"Other","aud":"a"}"#,
    r#"{"Access":{"exp":1}}"#,
    r#"{"1":2,"0":{"exp":"x"}}"#,
    r#"{"true":1,"false":2}"#,
    // escaped keys
    r#"{"sub":"u","\u0065xp":1700000000,"aud":"api"}"#,
    r#"{"\u0069ss":"x","\u0061\u0075\u0064":["a"],"sub":"u","exp":5}"#,
    r#"{"s\u0075b":"u","exp":5,"aud":"a","\u0073cope":"s","sc\u0070":["p"]}"#,
    r#"{"\u006e\u0062\u0066":1,"\u0069\u0061\u0074":2}"#,
    r#"{"\u0031":1}"#,
    // escaped and unicode values
    r#"{"iss":"a\"b\\c\u00e9\ud83d\ude00\/","sub":"\u0075","exp":1,"aud":"\/x"}"#,
    r#"{"iss":"日本語","sub":"😀","exp":1,"aud":["ü","\u65e5"],"name":"\u0000","scope":"é è"}"#,
    r#"{"ключ":"значение","exp":2,"aud":"a","sub":"u"}"#,
    r#"{"iss":"a\u0000b","scope":"\t"}"#,
    // lone surrogates: accepted when skipped, refused when read as a string
    r#"{"iss":"\ud800"}"#,
    r#"{"aud":["a","\udc00"]}"#,
    r#"{"x":"\ud800","exp":1}"#,
    r#"{"name":"\udc00","sub":"u","exp":1,"aud":"a"}"#,
    r#"{"nested":"\ud800","sub":"u","exp":1,"aud":"a"}"#,
    r#"{"\ud800":1}"#,
    r#"{"iss":"a
b"}"#,
    r#"{"iss":"\x"}"#,
    // duplicate registered members
    r#"{"exp":1,"exp":2}"#,
    r#"{"exp":1,"exp":1}"#,
    r#"{"exp":1,"\u0065xp":1}"#,
    r#"{"aud":"a","sub":"u","exp":1,"aud":"a"}"#,
    r#"{"scp":["a"],"scp":["a"]}"#,
    r#"{"iss":"a","iss":"b","sub":"u","exp":1,"aud":"a"}"#,
    r#"{"scope":"a","x":1,"scope":"a"}"#,
    r#"{"nbf":1,"iat":2,"nbf":1}"#,
    // duplicate unregistered members
    r#"{"sub":"u","exp":1,"aud":"x","sub":"v"}"#,
    r#"{"x":1,"x":2}"#,
    r#"{"x":1,"\u0078":{"y":2}}"#,
    r#"{"name":"a","name":"b","exp":3}"#,
    r#"{"typ":"Access","sub":"u","typ":"Access"}"#,
    r#"{"count":1,"count":2}"#,
    // near misses of registered names
    r#"{"EXP":"x","exp ":null,"ex":[],"expp":{},"exp\u0000":1,"Aud":5}"#,
    // registered members inside nested values are not registered
    r#"{"sub":"u","exp":1,"aud":"a","nested":{"exp":"no","aud":null,"iss":{"x":[1,2,{"y":null}]}}}"#,
    r#"{"x":[{"exp":null},{"exp":1,"exp":2}],"exp":2}"#,
    // wrong types and null for registered members
    r#"{"exp":"1"}"#,
    r#"{"exp":null}"#,
    r#"{"exp":true}"#,
    r#"{"exp":[1]}"#,
    r#"{"exp":{}}"#,
    r#"{"iss":1}"#,
    r#"{"iss":null}"#,
    r#"{"iss":["a"]}"#,
    r#"{"aud":1}"#,
    r#"{"aud":null}"#,
    r#"{"aud":[1]}"#,
    r#"{"aud":["a",null]}"#,
    r#"{"aud":[["a"]]}"#,
    r#"{"aud":{"a":1}}"#,
    r#"{"scope":["a"]}"#,
    r#"{"scope":null}"#,
    r#"{"scope":1}"#,
    r#"{"scp":[1]}"#,
    r#"{"scp":null}"#,
    r#"{"scp":{}}"#,
    r#"{"nbf":-1}"#,
    r#"{"iat":"x"}"#,
    r#"{"iat":false}"#,
    r#"{"sub":"u","exp":null,"aud":"a"}"#,
    r#"{"sub":"u","exp":1,"aud":null}"#,
    r#"{"sub":"u","exp":1,"aud":"a","iss":null}"#,
    r#"{"sub":"u","exp":1,"aud":"a","nbf":null}"#,
    r#"{"sub":"u","exp":1,"aud":"a","scope":["s"]}"#,
    // aud / scp shapes
    r#"{"aud":"a"}"#,
    r#"{"aud":""}"#,
    r#"{"aud":[]}"#,
    r#"{"aud":["a"]}"#,
    r#"{"aud":[ "a" ,"b"] }"#,
    r#"{"scope":""}"#,
    r#"{"scope":"a b","scp":["c","d e",""]}"#,
    r#"{"scp":"x"}"#,
    r#"{"scp":[]}"#,
    r#"{"scp":["a","b"],"scope":"c","sub":"u","exp":1,"aud":"x"}"#,
    // syntax errors and trailing input
    r#"{"exp":1} x"#,
    r#"{"exp":1}}"#,
    r#"{"exp":1} {}"#,
    "{\"exp\":1}\n\t \r",
    r#"{"exp":1},"#,
    r#"{"sub":"u","exp":1,"aud":"a"} 1"#,
    r#"{"exp":1"#,
    r#"{"exp":}"#,
    r#"{"exp":1,}"#,
    r#"{,}"#,
    r#"{"exp" 1}"#,
    r#"{"exp":1 "iss":"a"}"#,
    r#"{exp:1}"#,
    r#"{'exp':1}"#,
    r#"{"x":1,"exp":1e}"#,
    r#"{"x":tru}"#,
    r#"{"x":[1,]}"#,
    r#"{1:2}"#,
    "{\u{feff}}",
    "\u{c}{}",
    // not objects: outside the caller's precondition, still no wrong answer
    "[]",
    r#"["u",1]"#,
    "null",
    "1",
    r#""exp""#,
    "",
];

/// Number texts for `exp`, `nbf` and `iat`.
const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "-0.0",
    "0.0",
    "1",
    "-1",
    "1.5",
    "0.1e1",
    "1e9",
    "1E+9",
    "1e-9",
    "1e-400",
    "1e400",
    "-1e400",
    "1700000000",
    "1700000000.000000000000001",
    "1700000000.25",
    "253402300799",
    "253402300799.0001",
    "253402300800",
    "9007199254740993",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775808",
    "-9223372036854775809",
    "17000000000000000000000000000",
    "123456789012345678901234567890e-20",
    "01",
    "1.",
    ".5",
    "+1",
    "-",
    "NaN",
    "Infinity",
    "0x10",
];

/// All table payloads: the fixed ones, each number in each date claim
/// (alone and beside the members `Typed` requires), and deep nesting.
fn table() -> Vec<String> {
    let mut out: Vec<String> = FIXED.iter().map(|s| (*s).to_owned()).collect();
    for n in NUMBERS {
        for claim in ["exp", "nbf", "iat"] {
            out.push(format!(r#"{{"{claim}":{n}}}"#));
        }
        out.push(format!(r#"{{"sub":"u","aud":"a","exp":{n}}}"#));
        out.push(format!(
            r#"{{"sub":"u","aud":"a","exp":1,"nbf":{n},"iat":{n}}}"#
        ));
        out.push(format!(r#"{{"sub":"u","aud":"a","exp":1,"count":{n}}}"#));
    }
    // aud at and past the 64-value limit
    for len in [63, 64, 65] {
        let aud = vec![r#""a""#; len].join(",");
        out.push(format!(r#"{{"sub":"u","exp":1,"aud":[{aud}]}}"#));
        out.push(format!(r#"{{"scp":[{aud}]}}"#));
    }
    // around serde_json's recursion limit (128), in an unregistered and
    // in a registered member
    for depth in [1, 126, 127, 128, 129] {
        let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        out.push(format!(
            r#"{{"sub":"u","exp":1,"aud":"a","nested":{deep}}}"#
        ));
        out.push(format!(r#"{{"sub":"u","exp":1,"aud":{deep}}}"#));
        out.push(format!(r#"{{"sub":"u","exp":1,"aud":"a","x":{deep}}}"#));
    }
    out
}

#[test]
fn table_matches_the_plain_reads() {
    let mut total = Tally::default();
    for payload in table() {
        total += check_all_types(&payload);
    }
    // Not vacuous: many pairs answered, many refused.
    assert!(total.answered > 300, "{total:?}");
    assert!(total.refused > 1000, "{total:?}");
}

#[test]
fn value_and_typed_answer_on_well_formed_payloads() {
    let payload = br#"{"sub":"u","exp":1700000000,"aud":["a","b"],"iss":"i","nbf":1.5,"iat":3,"scope":"r w","scp":["x"],"name":"\u004e"}"#;
    let (raw, value, _) = single_pass::<Value>(payload, &Wanted::default()).unwrap();
    assert_eq!(value, serde_json::from_slice::<Value>(payload).unwrap());
    assert_eq!(raw.exp.map(|d| d.0), Some(1_700_000_000.0));
    assert_eq!(raw.nbf.map(|d| d.0), Some(1.5));
    assert_eq!(raw.iat.map(|d| d.0), Some(3.0));
    assert_eq!(raw.iss.as_deref(), Some("i"));
    assert_eq!(raw.scope.as_deref(), Some("r w"));
    assert_eq!(&*raw.scopes(), "r w x");
    let (_, typed, _) = single_pass::<Typed>(payload, &Wanted::default()).unwrap();
    assert_eq!(typed.exp, 1_700_000_000);
    assert_eq!(typed.name.as_deref(), Some("N"));
    assert_eq!(typed.aud, serde_json::json!(["a", "b"]));
}

#[test]
fn escaped_registered_key_is_captured() {
    let payload = br#"{"\u0065xp":1700000000,"\u0061ud":"a"}"#;
    let (raw, value, _) = single_pass::<Value>(payload, &Wanted::default()).unwrap();
    assert_eq!(raw.exp.map(|d| d.0), Some(1_700_000_000.0));
    assert_eq!(format!("{:?}", raw.aud), r#"Some(One("a"))"#);
    assert_eq!(value, serde_json::json!({"exp": 1_700_000_000, "aud": "a"}));
    // Escaped twin of a present member: a duplicate, as in the plain read.
    assert!(single_pass::<Value>(br#"{"exp":1,"\u0065xp":1}"#, &Wanted::default()).is_none());
    assert!(serde_json::from_slice::<RawClaims<'_>>(br#"{"exp":1,"\u0065xp":1}"#).is_err());
}

#[test]
fn nested_registered_names_are_not_captured() {
    let payload = br#"{"x":{"exp":"no","aud":null},"y":[{"iss":1}]}"#;
    let (raw, _, _) = single_pass::<Value>(payload, &Wanted::default()).unwrap();
    assert_eq!(format!("{raw:?}"), format!("{:?}", RawClaims::default()));
}

#[test]
fn registered_claim_the_claims_type_ignores_is_still_checked() {
    // `Defaults` and `Flattened` accept these; the registered read does not.
    for payload in [
        &br#"{"iat":"x"}"#[..],
        br#"{"scp":[1]}"#,
        br#"{"iss":"\ud800"}"#,
        br#"{"nbf":1e400}"#,
        br#"{"aud":["a"],"aud":["a"]}"#,
    ] {
        assert!(single_pass::<Defaults>(payload, &Wanted::default()).is_none());
        assert!(
            single_pass::<HashMap<String, Box<RawValue>>>(payload, &Wanted::default()).is_none()
        );
        assert!(single_pass::<Flattened>(payload, &Wanted::default()).is_none());
    }
}

#[test]
fn raw_value_fields_see_the_exact_text() {
    let payload = br#"{ "aud" : [ "a" , "b" ] , "exp" : 1.50 , "nested" : { "x" : [ ] } }"#;
    let (raw, c, _) = single_pass::<WithRaw>(payload, &Wanted::default()).unwrap();
    assert_eq!(c.aud.unwrap().get(), r#"[ "a" , "b" ]"#);
    assert_eq!(c.exp.unwrap().get(), "1.50");
    assert_eq!(c.nested.unwrap().get(), r#"{ "x" : [ ] }"#);
    assert_eq!(raw.exp.map(|d| d.0), Some(1.5));
}

#[test]
fn registered_claims_type_reads_aud_both_ways() {
    let (_, one, _) =
        single_pass::<RegisteredClaims>(br#"{"aud":"a","exp":1.5}"#, &Wanted::default()).unwrap();
    assert_eq!(one.aud, Some(OneOrMany::One("a".to_owned())));
    assert_eq!(one.exp, Some(1.5));
    let (_, many, _) =
        single_pass::<RegisteredClaims>(br#"{"aud":["a","b"]}"#, &Wanted::default()).unwrap();
    assert_eq!(
        many.aud,
        Some(OneOrMany::Many(vec!["a".to_owned(), "b".to_owned()]))
    );
}

#[test]
fn numeric_date_range_is_the_plain_one() {
    let date = |text: &str| {
        let payload = format!(r#"{{"exp":{text}}}"#);
        let one = single_pass::<Value>(payload.as_bytes(), &Wanted::default())
            .map(|(raw, _, _)| raw.exp.map(|d| d.0));
        let plain = serde_json::from_slice::<RawClaims<'_>>(payload.as_bytes())
            .ok()
            .map(|raw| raw.exp.map(|d: NumericDate| d.0));
        assert_eq!(one, plain, "exp {text}");
        one
    };
    assert_eq!(date("253402300799"), Some(Some(253_402_300_799.0)));
    assert_eq!(date("253402300800"), None);
    assert_eq!(date("-1"), None);
    assert_eq!(date("1e400"), None);
    // serde_json reads `-0` as the float -0.0, in both reads.
    assert_eq!(
        date("-0").flatten().map(f64::to_bits),
        Some((-0.0f64).to_bits())
    );
}

// ---- property test --------------------------------------------------

/// Claims type for the property test.
#[derive(Debug, PartialEq, Deserialize)]
struct PropTyped {
    iss: Option<String>,
    aud: Option<Value>,
    exp: Option<f64>,
    nbf: Option<u64>,
    scp: Option<Vec<String>>,
    sub: Option<String>,
    x: Option<Value>,
}

const STRINGS: &[&str] = &[
    r#""""#,
    r#""a""#,
    r#""read write""#,
    r#""\u0061""#,
    r#""é😀""#,
    r#""\ud83d\ude00""#,
    r#""\ud800""#,
    r#""a\"b\\""#,
    r#""\n\t""#,
    r#""\u0000""#,
];

const NUMBER_TEXTS: &[&str] = &[
    "0",
    "-0",
    "1.5",
    "1e3",
    "1.0E+2",
    "1e400",
    "253402300799",
    "253402300800",
    "18446744073709551616",
    "-9223372036854775809",
    "1700000000.25",
];

const OTHER_KEYS: &[&str] = &["sub", "x", "name", "typ", "EXP", "exp ", "ü", "a\"b"];

fn string_text() -> impl Strategy<Value = String> + Clone {
    prop::sample::select(STRINGS).prop_map(str::to_owned)
}

fn number_text() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        2 => prop::sample::select(NUMBER_TEXTS).prop_map(str::to_owned),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => any::<u64>().prop_map(|n| n.to_string()),
        3 => (0u64..300_000_000_000).prop_map(|n| n.to_string()),
        2 => (0.0f64..300_000_000_000.0).prop_map(|v| format!("{v:?}")),
        1 => any::<f64>()
            .prop_filter("finite", |v| v.is_finite())
            .prop_map(|v| format!("{v:?}")),
    ]
}

fn string_array_text() -> impl Strategy<Value = String> + Clone {
    prop::collection::vec(string_text(), 0..4).prop_map(|v| format!("[{}]", v.join(",")))
}

/// A key's JSON text: `name`, one ASCII alphanumeric char of it
/// possibly written as a `\u` escape.
fn key_text(name: &str, escape: Option<prop::sample::Index>) -> String {
    let quoted = serde_json::to_string(name).unwrap();
    let Some(at) = escape else {
        return quoted;
    };
    let chars: Vec<char> = name.chars().collect();
    let i = at.index(chars.len().max(1));
    match chars.get(i) {
        Some(c) if c.is_ascii_alphanumeric() => {
            let mut out = String::from("\"");
            for (j, c) in chars.iter().enumerate() {
                if j == i {
                    out.push_str(&format!("\\u{:04x}", u32::from(*c)));
                } else {
                    out.push(*c);
                }
            }
            out.push('"');
            out
        }
        _ => quoted,
    }
}

/// Any JSON value text (valid or not at the edges: `1e400`, lone
/// surrogates).
fn value_text() -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("false".to_owned()),
        number_text(),
        string_text(),
        string_array_text(),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec(
                (prop::sample::select(&["exp", "aud", "x", "iss"][..]), inner),
                0..3
            )
            .prop_map(|v| {
                let members: Vec<String> = v
                    .into_iter()
                    .map(|(k, val)| format!(r#""{k}":{val}"#))
                    .collect();
                format!("{{{}}}", members.join(","))
            }),
        ]
    })
    .boxed()
}

/// A value of the type the registered member `name` must have.
fn typed_value_text(name: &str) -> BoxedStrategy<String> {
    match name {
        "iss" | "scope" => string_text().boxed(),
        "aud" | "scp" => prop_oneof![string_text(), string_array_text()].boxed(),
        _ => number_text().boxed(),
    }
}

/// One member's text (`"key":value`), with optional whitespace.
fn member_text() -> impl Strategy<Value = String> {
    let registered = (
        prop::sample::select(&super::REGISTERED[..]),
        prop::option::weighted(0.3, any::<prop::sample::Index>()),
        prop::bool::weighted(0.85),
    )
        .prop_flat_map(|(name, escape, well_typed)| {
            let value = if well_typed {
                typed_value_text(name)
            } else {
                value_text()
            };
            (Just(key_text(name, escape)), value)
        });
    let other = (
        prop::sample::select(OTHER_KEYS),
        prop::option::weighted(0.3, any::<prop::sample::Index>()),
        value_text(),
    )
        .prop_map(|(name, escape, value)| (key_text(name, escape), value));
    let space = prop::sample::select(&["", "", " ", "\n\t"][..]);
    (
        prop_oneof![3 => registered, 2 => other],
        space.clone(),
        space,
    )
        .prop_map(|((key, value), s1, s2)| format!("{s1}{key}{s2}:{s1}{value}{s2}"))
}

/// An object's text, members possibly repeated, input possibly trailing.
fn object_text() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(member_text(), 0..7),
        prop_oneof![
            8 => Just(""),
            2 => prop::sample::select(&[" \n", " x", "}", "{}", ",", "1"][..]),
        ],
    )
        .prop_map(|(members, trailing)| format!("{{{}}}{trailing}", members.join(",")))
}

proptest! {
    #[test]
    fn random_objects_match_the_plain_reads(payload in object_text()) {
        check::<Value>(&payload, Shape::Modelled);
        check::<PropTyped>(&payload, Shape::Modelled);
        check::<HashMap<String, Value>>(&payload, Shape::Modelled);
        check::<Flattened>(&payload, Shape::Modelled);
        check::<RegisteredClaims>(&payload, Shape::Modelled);
    }
}

/// [`REGISTERED`] names exactly the members [`RawClaims`] reads: a claim
/// added to one and not the other would make the single pass skip it.
#[test]
fn registered_names_are_exactly_the_fields_of_raw_claims() {
    use serde::de::{self, Visitor};

    /// Records the field list a derived `Deserialize` asks for.
    struct Recorder<'a>(&'a mut Vec<&'static str>);

    impl<'de> serde::Deserializer<'de> for Recorder<'_> {
        type Error = de::value::Error;

        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("only struct fields are recorded"))
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            self.0.extend_from_slice(fields);
            Err(de::Error::custom("recorded"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map enum identifier ignored_any
        }
    }

    let mut fields = Vec::new();
    assert!(RawClaims::deserialize(Recorder(&mut fields)).is_err());
    let mut registered = REGISTERED.to_vec();
    registered.sort_unstable();
    fields.sort_unstable();
    assert_eq!(fields, registered);
}

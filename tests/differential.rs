//! Differential tests: our [`Verifier`] against `jsonwebtoken::decode`.
//!
//! With the `aws-lc-rs` backend the verifier bypasses jsonwebtoken (keys
//! parsed once into aws-lc-rs objects, our own header and claims parsing);
//! with `rust-crypto` only it calls jsonwebtoken's provider. Either way it
//! must accept exactly the tokens `jsonwebtoken::decode::<Value>` accepts
//! under the same settings: the key's algorithms, `exp` required and
//! checked, `nbf` checked when present, the same leeway, any issuer and
//! audience.
//!
//! - For each of the twelve algorithms, a pool of tokens over random claims
//!   is signed once (RSA signing is slow in debug builds) and proptest
//!   corrupts them: flipped signature bits, replaced or truncated signature
//!   characters, a signature from another key, an edited payload, a swapped
//!   `alg` header, the HMAC-with-the-public-key confusion, extra or missing
//!   segments.
//! - HS256 tokens over fresh random claims cover the claim rules widely.
//! - Fixed vectors cover hand-written payloads and headers; the few inputs
//!   on which the two answer differently on purpose (our stricter policy,
//!   see the crate docs' "Secure defaults") are listed, with why, in
//!   [`known_divergences`], and kept out of the generators.
//!
//! Every comparison also runs through a verifier with the token cache on,
//! twice (a cached answer must be the same answer), and compares the claims
//! of accepted tokens.

mod common;

use std::sync::LazyLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use jwt_layer::{JwtAuth, Key, Verifier};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::strategy::ValueTree as _;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Map, Value, json};

use common::{
    EC256_PRIVATE_PEM, EC256_PUBLIC_PEM, EC384_PRIVATE_PEM, EC384_PUBLIC_PEM, ED_PRIVATE_PEM,
    ED_PUBLIC_PEM, OTHER_SECRET, RSA_PRIVATE_PEM, RSA_PUBLIC_PEM, SECRET, init_crypto, now,
};

/// The leeway both sides use.
const LEEWAY: u64 = 60;
/// Generated times stay at least this far from every accept/reject
/// boundary: the two sides read the clock at slightly different moments,
/// and jsonwebtoken rounds fractional dates where we do not.
const MARGIN: u64 = 30;

// Other keys of the same types, for "signed by the wrong key". Generated
// with openssl for these tests only; public, never use them elsewhere.
const WRONG_RSA_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQCeHq7E6+0rr3ev
xNXv3kFqrLK+scu1gFa57sSotxnw5ebsMBstPZ1tZ/klWldJSwGc8wTj3XZv3CiX
lo4BXYANqt135UpucQfMop2Psz5puXaRdbLbcgpXg8wmTKAsmc3fXdtzaQm1ozLY
pW7X6A/JRqzL10Yeuk+D71avLL65e55ozaKW2N8jO0Dw6asVtQvMz1Mv/BQ0SSBR
Kgp4wg7XLurrAkdkKf5a1jIwxestrof7xYemHSHH4v0nOhWak6Ncthk/HA8i6N6G
84ZaNcCNAYhwechREVzxc+ok8q/d2OnRl67me1wbo4h6Na1qadYi2K98WyeIbTtK
ybf8ZUYXAgMBAAECggEAGYEjeZoAgHpmGNDsHSvBa359umqdTCJuWsFbsUcPhR7g
N5qu14ZHvVz3AAJpb+YMVY+Ra1vOfc6KMaFUOH4naIz1+h/e+J98vZJBTeuAlrcW
m/HbLrBfYKxeopLbhzYr0eqmuh/oNAcl7XIJxgOlgDbJKnwH0G8G4mYZmlniTbKU
9c44pOzblknHESaz9VByO4dXMCuTnokjftkeKZobgV0d9XV1xhCgTd2KyCXG1284
STTCOEMPzUKoF6DHt8owwhBxpX9sTbDrROYF6PXVIsg5p3TXg8uvqTRMSTD13qU8
77QpQh1DKv4Uzbvyta4k8pNPP021Dn3IilozDYrwCQKBgQDOtfnUEXviN8mA9kxx
YJz1zsnPyQbpWI5ta9KlJPLmuua6Sl6irOFASJJhHgZs0/oY/8r9BjyxxCy7NwIt
81Wy5WqXO3f2lPJxUexz6jRhjmmoxwnfTpYZYbwxAtgKGzvudNYLttCCYIcXKVz0
KWEABfjk8yQ8JKEwHq3jlNLcUwKBgQDD0p7CmkAiBFSuQPJMO674U6n0dbxiGFOa
/mphwAFO0oaKmsrxOsYbIEpW9BNVcUREKHC8PrwWA/3Pk+4ChUR29k8r8p1YGQMq
cdqpjaEUxzMkz0bQdlTqwnQlM+XUDH9NPflWggR4tewuxXuMoXiPL/mvAqo1dyaE
sN+qFEPWrQKBgQCXAy6+lP9SJrtZMZZrBc/la+rXl98qvf1fRvQenb2ufkBtPEOi
yHXOxrXZqVu8SahedxDOhK32mICtTOSUuT6UcTHLxjA/vlTYIKeDj0gxNR9PpAk8
UGcrp9EaZR97UqYX8Ncmu6ncdbR7YUZ9QXWR1MseR9ri7Uespd0Xc/QP7QKBgHOB
i/XbyJKIHW7/jixbVBTUPL6ep/Twxnf5M8Te3aah1YxyS9zIv0wG2vK5W6Idgpf1
hrHzCzytNAw6BL1l4IGPPhn9LMRnVI+3wrQaf3ZjHY7L2Mhj1Cj5dErxdtKCYKCu
OqHFZV/SZzMbd4n3QMatFMkfeEi7NHQ2ZGfNNkqtAoGBAM0h3cnHJypmG2SZj6yT
QIv/2tMzW0pQvEnFnO4RhqhzrPf7ilMHneLoo53+tKOWA6sRDgKM3yJ68ODDIsR6
4ICHJp+7KRyUu7acbekYR+AO+JbsGTaEeAQny4WSxOwJ6XJDSGW552EepWZh5wSY
p+yluxOAseUFS/k779MudQX0
-----END PRIVATE KEY-----
";
const WRONG_EC256_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgK+z3T0f1Xlnpy0Dn
xRxbWabkrd4l9FYzlS+7QVaIr8ChRANCAATotZOwvk0KiZfGBIiUTzPXG2Ih/+ov
rUSWhianhMOKsC8Ugug7r0PYMZzm3mCUG+gzBHPUnYzAvuty9lIEirW3
-----END PRIVATE KEY-----
";
const WRONG_EC384_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDCW77OjZvtZXwAwOrc9
9X5p4Swsd8PfothhdqlQZbTE8BrIa3idR8UN8XV2XKAsaBOhZANiAATgG5J4g8P2
M5MtFFfJxPKp/iy41zWJ7O7CyisQt1414uoFcebAoNJNuLPJBBs1wJGdUrn4+Pel
OvU66865M7EWBrM/gUMtjHEzbPz1CNX6BjCUcRCPCfJ/pKemsWtQh1k=
-----END PRIVATE KEY-----
";
const WRONG_ED_PEM: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIOPfYieLR63d2wYIvVlZRpLx2+urnEr5v2DeDfliy5TR
-----END PRIVATE KEY-----
";

const ALL_ALGS: [Algorithm; 12] = [
    Algorithm::HS256,
    Algorithm::HS384,
    Algorithm::HS512,
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

// ---------------------------------------------------------------------------
// The two sides

/// One key type: our verifiers for it and jsonwebtoken's settings.
struct Family {
    /// What the key may verify: our key's set, and jsonwebtoken's
    /// `Validation::algorithms`.
    algs: &'static [Algorithm],
    signer: EncodingKey,
    wrong_signer: EncodingKey,
    /// The public key text (the "HMAC with the public key" confusion).
    public_text: &'static [u8],
    decoding: DecodingKey,
    validation: Validation,
    uncached: Verifier<Value>,
    cached: Verifier<Value>,
}

fn verifier(key: Key, cache: bool) -> Verifier<Value> {
    JwtAuth::<Value>::builder()
        .key(key)
        .allow_any_issuer_and_audience()
        .leeway(Duration::from_secs(LEEWAY))
        .token_cache(cache)
        .build()
        .expect("verifier")
        .verifier()
        .clone()
}

fn family(
    algs: &'static [Algorithm],
    key: impl Fn() -> Key,
    signer: EncodingKey,
    wrong_signer: EncodingKey,
    public_text: &'static [u8],
    decoding: DecodingKey,
) -> Family {
    init_crypto();
    // jsonwebtoken's settings matched to ours.
    let mut validation = Validation::new(algs[0]);
    validation.algorithms = algs.to_vec();
    validation.leeway = LEEWAY;
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp"]);
    Family {
        algs,
        signer,
        wrong_signer,
        public_text,
        decoding,
        validation,
        uncached: verifier(key(), false),
        cached: verifier(key(), true),
    }
}

static HMAC: LazyLock<Family> = LazyLock::new(|| {
    family(
        &[Algorithm::HS256, Algorithm::HS384, Algorithm::HS512],
        || Key::hmac(SECRET).expect("secret"),
        EncodingKey::from_secret(SECRET),
        EncodingKey::from_secret(OTHER_SECRET),
        OTHER_SECRET,
        DecodingKey::from_secret(SECRET),
    )
});

static RSA: LazyLock<Family> = LazyLock::new(|| {
    family(
        &[
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
            Algorithm::PS512,
        ],
        || Key::rsa_pem(RSA_PUBLIC_PEM).expect("RSA key"),
        EncodingKey::from_rsa_pem(RSA_PRIVATE_PEM).expect("RSA private key"),
        EncodingKey::from_rsa_pem(WRONG_RSA_PEM.as_bytes()).expect("wrong RSA key"),
        RSA_PUBLIC_PEM.as_bytes(),
        DecodingKey::from_rsa_pem(RSA_PUBLIC_PEM.as_bytes()).expect("RSA public key"),
    )
});

static EC256: LazyLock<Family> = LazyLock::new(|| {
    family(
        &[Algorithm::ES256],
        || Key::ec_pem(EC256_PUBLIC_PEM).expect("P-256 key"),
        EncodingKey::from_ec_pem(EC256_PRIVATE_PEM).expect("P-256 private key"),
        EncodingKey::from_ec_pem(WRONG_EC256_PEM.as_bytes()).expect("wrong P-256 key"),
        EC256_PUBLIC_PEM.as_bytes(),
        DecodingKey::from_ec_pem(EC256_PUBLIC_PEM.as_bytes()).expect("P-256 public key"),
    )
});

static EC384: LazyLock<Family> = LazyLock::new(|| {
    family(
        &[Algorithm::ES384],
        || Key::ec_pem(EC384_PUBLIC_PEM).expect("P-384 key"),
        EncodingKey::from_ec_pem(EC384_PRIVATE_PEM).expect("P-384 private key"),
        EncodingKey::from_ec_pem(WRONG_EC384_PEM.as_bytes()).expect("wrong P-384 key"),
        EC384_PUBLIC_PEM.as_bytes(),
        DecodingKey::from_ec_pem(EC384_PUBLIC_PEM.as_bytes()).expect("P-384 public key"),
    )
});

static ED: LazyLock<Family> = LazyLock::new(|| {
    family(
        &[Algorithm::EdDSA],
        || Key::ed_pem(ED_PUBLIC_PEM).expect("Ed25519 key"),
        EncodingKey::from_ed_pem(ED_PRIVATE_PEM).expect("Ed25519 private key"),
        EncodingKey::from_ed_pem(WRONG_ED_PEM.as_bytes()).expect("wrong Ed25519 key"),
        ED_PUBLIC_PEM.as_bytes(),
        DecodingKey::from_ed_pem(ED_PUBLIC_PEM.as_bytes()).expect("Ed25519 public key"),
    )
});

fn family_of(alg: Algorithm) -> &'static Family {
    match alg {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => &HMAC,
        Algorithm::ES256 => &EC256,
        Algorithm::ES384 => &EC384,
        Algorithm::EdDSA => &ED,
        _ => &RSA,
    }
}

/// Polls a verification once: with static keys it never waits.
fn now_or_never<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("verification with static keys waited"),
    }
}

/// jsonwebtoken's answer: the claims, or why not.
fn theirs(f: &Family, token: &str) -> Result<Value, String> {
    jsonwebtoken::decode::<Value>(token, &f.decoding, &f.validation)
        .map(|data| data.claims)
        .map_err(|e| format!("{:?}", e.kind()))
}

/// Our answer through `verifier`.
fn ours(v: &Verifier<Value>, token: &str) -> Result<Value, String> {
    now_or_never(v.verify(token))
        .map(|c| c.claims().clone())
        .map_err(|e| format!("{:?}", e.kind()))
}

/// Whether the payload sets a registered claim we read to `null`: we refuse
/// that as a wrong type; jsonwebtoken takes it as absent (a known
/// divergence, pinned in `known_divergences`).
fn null_registered_claim(token: &str) -> bool {
    let Some(payload) = token.split('.').nth(1) else {
        return false;
    };
    let Ok(bytes) =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
    else {
        return false;
    };
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(&bytes) else {
        return false;
    };
    ["iss", "aud", "exp", "nbf", "iat", "scope", "scp"]
        .iter()
        .any(|c| map.get(*c).is_some_and(Value::is_null))
}

/// Both sides agree on `token`; returns whether it was accepted.
fn agree(f: &Family, token: &str) -> Result<bool, TestCaseError> {
    if null_registered_claim(token) {
        prop_assert!(
            ours(&f.uncached, token).is_err(),
            "null claim accepted: {}",
            token
        );
        prop_assert!(
            ours(&f.cached, token).is_err(),
            "null claim accepted: {}",
            token
        );
        return Ok(false);
    }
    let expected = theirs(f, token);
    let uncached = ours(&f.uncached, token);
    prop_assert_eq!(
        uncached.is_ok(),
        expected.is_ok(),
        "token {}: ours {:?}, jsonwebtoken {:?}",
        token,
        uncached,
        expected
    );
    if let (Ok(a), Ok(b)) = (&uncached, &expected) {
        prop_assert_eq!(a, b, "claims differ for {}", token);
    }
    for round in ["first", "second"] {
        let cached = ours(&f.cached, token);
        prop_assert_eq!(
            cached.is_ok(),
            expected.is_ok(),
            "token {} ({} call, cache on): ours {:?}, jsonwebtoken {:?}",
            token,
            round,
            cached,
            expected
        );
    }
    Ok(expected.is_ok())
}

// ---------------------------------------------------------------------------
// Generated claims and headers

fn ago(secs: u64) -> u64 {
    now().saturating_sub(secs)
}

/// A number of seconds, spread over several orders of magnitude.
fn offset() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..120, 0u64..86_400, 0u64..400_000_000]
}

/// A fractional second to add, or none.
fn fraction() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![3 => Just(None), 1 => prop::sample::select(vec![0.25, 0.5, 0.75]).prop_map(Some)]
}

fn date(secs: u64, frac: Option<f64>) -> Value {
    match frac {
        None => json!(secs),
        Some(f) => json!(secs as f64 + f),
    }
}

/// Values neither side takes as a NumericDate.
fn bad_date() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!("1999999999")),
        Just(json!(-5)),
        Just(json!(-1.5)),
        Just(json!(true)),
        Just(json!([1_999_999_999u64])),
        Just(json!({})),
    ]
}

/// `exp`: valid, expired, absent or of a wrong type (`null` is a known
/// divergence, see [`known_divergences`]).
fn exp() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        5 => (offset(), fraction()).prop_map(|(d, f)| Some(date(ago(LEEWAY) + MARGIN + d, f))),
        2 => (offset(), fraction())
            .prop_map(|(d, f)| Some(date(ago(LEEWAY + MARGIN).saturating_sub(d), f))),
        1 => Just(None),
        1 => bad_date().prop_map(Some),
    ]
}

/// `nbf`: absent, passed, not yet, or of a wrong type (`null` is a known
/// divergence, see [`known_divergences`]).
fn nbf() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        3 => Just(None),
        3 => (offset(), fraction())
            .prop_map(|(d, f)| Some(date((now() + LEEWAY - MARGIN).saturating_sub(d), f))),
        2 => (offset(), fraction()).prop_map(|(d, f)| Some(date(now() + LEEWAY + MARGIN + d, f))),
        1 => bad_date().prop_map(Some),
    ]
}

/// `iat`: absent or in the past (jsonwebtoken does not read `iat`; we
/// refuse one in the future or `null`, known divergences).
fn iat() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        2 => Just(None),
        3 => (offset(), fraction()).prop_map(|(d, f)| Some(date(ago(d), f))),
    ]
}

fn text() -> impl Strategy<Value = String> {
    "\\PC{0,16}"
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        prop::num::f64::NORMAL.prop_map(Value::from),
        text().prop_map(Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
            prop::collection::btree_map("[a-z]{1,4}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A string or an array of strings (`aud`, `scp`), or absent.
fn str_or_array() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        2 => Just(None),
        2 => text().prop_map(|s| Some(Value::from(s))),
        2 => prop::collection::vec(text(), 0..4).prop_map(|v| Some(Value::from(v))),
    ]
}

/// `iss`: a string or absent (`null` is a known divergence).
fn optional_text() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        2 => Just(None),
        3 => text().prop_map(|s| Some(Value::from(s))),
    ]
}

/// A claims set, mostly valid, within the domain where both sides apply
/// the same rules.
fn claims() -> impl Strategy<Value = Value> {
    (
        (exp(), nbf(), iat()),
        (optional_text(), str_or_array()),
        (
            // `sub` a string when present (another type is a known
            // divergence).
            optional_text(),
            prop_oneof![Just(None), text().prop_map(|s| Some(Value::from(s)))],
            str_or_array(),
        ),
        prop::collection::btree_map("x_[a-z]{1,6}", json_value(), 0..4),
    )
        .prop_map(|((exp, nbf, iat), (iss, aud), (sub, scope, scp), extra)| {
            let mut m = Map::new();
            for (name, value) in [
                ("exp", exp),
                ("nbf", nbf),
                ("iat", iat),
                ("iss", iss),
                ("aud", aud),
                ("sub", sub),
                ("scope", scope),
                ("scp", scp),
            ] {
                if let Some(v) = value {
                    m.insert(name.to_owned(), v);
                }
            }
            m.extend(extra);
            Value::Object(m)
        })
}

/// Header fields besides `alg`.
#[derive(Clone, Debug)]
struct HeaderSpec {
    kid: Option<String>,
    typ: Option<String>,
}

fn header_spec() -> impl Strategy<Value = HeaderSpec> {
    (
        prop::option::of("\\PC{0,24}"),
        prop::option::of(prop_oneof![Just("JWT".to_owned()), "\\PC{0,8}"]),
    )
        .prop_map(|(kid, typ)| HeaderSpec { kid, typ })
}

fn sign(alg: Algorithm, spec: &HeaderSpec, claims: &Value, key: &EncodingKey) -> String {
    let mut header = Header::new(alg);
    header.kid.clone_from(&spec.kid);
    header.typ.clone_from(&spec.typ);
    jsonwebtoken::encode(&header, claims, key).expect("jsonwebtoken::encode")
}

// ---------------------------------------------------------------------------
// Corruptions

const B64_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn token_char() -> impl Strategy<Value = char> {
    prop_oneof![
        8 => prop::sample::select(B64_CHARS).prop_map(char::from),
        1 => prop::sample::select(vec!['=', '+', '/', '.', ' ', '~', 'é']),
    ]
}

const ALG_NAMES: [&str; 15] = [
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256",
    "ES384", "EdDSA", "none", "ES512", "hs256",
];

#[derive(Clone, Debug)]
enum Mutation {
    None,
    FlipSignatureBit(Index),
    SignatureChar(Index, char),
    SignatureLastChar(char),
    TruncateSignature(Index),
    ExtendSignature(Vec<u8>),
    EmptySignature,
    WrongKey,
    EditPayload(Value),
    PayloadChar(Index, char),
    SwapAlg(&'static str),
    /// `alg: HS256` over an HMAC whose secret is the public key's text.
    HmacWithPublicKey,
    ExtraSegment,
    TwoSegments,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => Just(Mutation::None),
        2 => any::<Index>().prop_map(Mutation::FlipSignatureBit),
        1 => (any::<Index>(), token_char()).prop_map(|(i, c)| Mutation::SignatureChar(i, c)),
        1 => token_char().prop_map(Mutation::SignatureLastChar),
        1 => any::<Index>().prop_map(Mutation::TruncateSignature),
        1 => prop::collection::vec(any::<u8>(), 1..4).prop_map(Mutation::ExtendSignature),
        1 => Just(Mutation::EmptySignature),
        2 => Just(Mutation::WrongKey),
        1 => claims().prop_map(Mutation::EditPayload),
        1 => (any::<Index>(), token_char()).prop_map(|(i, c)| Mutation::PayloadChar(i, c)),
        2 => prop::sample::select(&ALG_NAMES[..]).prop_map(Mutation::SwapAlg),
        1 => Just(Mutation::HmacWithPublicKey),
        1 => Just(Mutation::ExtraSegment),
        1 => Just(Mutation::TwoSegments),
    ]
}

fn replace_char(s: &str, i: &Index, c: char) -> String {
    if s.is_empty() {
        return c.to_string();
    }
    let at = i.index(s.len());
    let mut out: Vec<char> = s.chars().collect();
    out[at] = c;
    out.into_iter().collect()
}

/// A signed token, and the same claims signed by the wrong key.
#[derive(Clone, Debug)]
struct Signed {
    token: String,
    wrong_key: String,
}

fn corrupt(f: &Family, signed: &Signed, m: &Mutation) -> String {
    let token = &signed.token;
    let mut parts = token.splitn(3, '.');
    let header = parts.next().unwrap_or_default();
    let payload = parts.next().unwrap_or_default();
    let signature = parts.next().unwrap_or_default();
    let signature_bytes = URL_SAFE_NO_PAD.decode(signature).expect("signature");
    let with_signature = |sig: &[u8]| format!("{header}.{payload}.{}", URL_SAFE_NO_PAD.encode(sig));
    match m {
        Mutation::None => token.clone(),
        Mutation::FlipSignatureBit(i) => {
            let mut sig = signature_bytes;
            let bit = i.index(sig.len() * 8);
            sig[bit / 8] ^= 1 << (bit % 8);
            with_signature(&sig)
        }
        Mutation::SignatureChar(i, c) => {
            format!("{header}.{payload}.{}", replace_char(signature, i, *c))
        }
        Mutation::SignatureLastChar(c) => {
            let mut s = signature.to_owned();
            s.pop();
            s.push(*c);
            format!("{header}.{payload}.{s}")
        }
        Mutation::TruncateSignature(i) => {
            format!(
                "{header}.{payload}.{}",
                &signature[..i.index(signature.len())]
            )
        }
        Mutation::ExtendSignature(extra) => {
            let mut sig = signature_bytes;
            sig.extend_from_slice(extra);
            with_signature(&sig)
        }
        Mutation::EmptySignature => format!("{header}.{payload}."),
        Mutation::WrongKey => signed.wrong_key.clone(),
        Mutation::EditPayload(claims) => {
            let edited = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("json"));
            format!("{header}.{edited}.{signature}")
        }
        Mutation::PayloadChar(i, c) => {
            format!("{header}.{}.{signature}", replace_char(payload, i, *c))
        }
        Mutation::SwapAlg(alg) => {
            let mut h: Value =
                serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).expect("header"))
                    .expect("header JSON");
            h["alg"] = Value::from(*alg);
            let h = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&h).expect("json"));
            format!("{h}.{payload}.{signature}")
        }
        Mutation::HmacWithPublicKey => {
            let mut h: Value =
                serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).expect("header"))
                    .expect("header JSON");
            h["alg"] = Value::from("HS256");
            let h = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&h).expect("json"));
            let input = format!("{h}.{payload}");
            let key = EncodingKey::from_secret(f.public_text);
            let sig =
                jsonwebtoken::crypto::sign(input.as_bytes(), &key, Algorithm::HS256).expect("HMAC");
            format!("{input}.{sig}")
        }
        Mutation::ExtraSegment => format!("{token}.{signature}"),
        Mutation::TwoSegments => format!("{header}.{payload}"),
    }
}

// ---------------------------------------------------------------------------
// Properties

/// Pool size and case count for `alg`: RSA signing (and, on the rust-crypto
/// backend in a debug build, every public-key operation) is slow.
fn budget(alg: Algorithm) -> (usize, u32) {
    let public_key = !matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512);
    let rsa = family_of(alg).algs.len() == 6;
    match (cfg!(feature = "aws-lc-rs"), rsa, public_key) {
        (_, false, false) => (32, 512),
        (true, false, true) => (16, 256),
        (true, true, _) => (8, 160),
        (false, false, true) => (6, 48),
        (false, true, _) => (4, 24),
    }
}

/// Signs a pool of tokens over random claims (a deterministic runner, so
/// a failure reproduces).
fn pool(alg: Algorithm, size: usize) -> Vec<Signed> {
    let f = family_of(alg);
    let mut runner = TestRunner::deterministic();
    let strategy = (header_spec(), claims());
    (0..size)
        .map(|i| {
            let (spec, mut claims) = strategy
                .new_tree(&mut runner)
                .expect("value tree")
                .current();
            // Half the pool is valid by construction, so acceptance is
            // exercised for every algorithm.
            if i % 2 == 0 {
                let obj = claims.as_object_mut().expect("object");
                obj.insert("exp".to_owned(), json!(now() + 3600));
                obj.remove("nbf");
            }
            Signed {
                token: sign(alg, &spec, &claims, &f.signer),
                wrong_key: sign(alg, &spec, &claims, &f.wrong_signer),
            }
        })
        .collect()
}

fn run_algorithm(alg: Algorithm) {
    let f = family_of(alg);
    assert!(f.algs.contains(&alg));
    let (size, cases) = budget(alg);
    let pool = pool(alg, size);
    let accepted = AtomicUsize::new(0);
    let rejected = AtomicUsize::new(0);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&(any::<Index>(), mutation()), |(i, m)| {
            let signed = i.get(&pool);
            let token = corrupt(f, signed, &m);
            let counter = if agree(f, &token)? {
                &accepted
            } else {
                &rejected
            };
            counter.fetch_add(1, Ordering::Relaxed);
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{alg:?}: {e}"));
    // Every pool token, untouched, too.
    for signed in &pool {
        let counter = if agree(f, &signed.token).unwrap_or_else(|e| panic!("{alg:?}: {e}")) {
            &accepted
        } else {
            &rejected
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
    let (a, r) = (accepted.into_inner(), rejected.into_inner());
    assert!(a > 0 && r > 0, "{alg:?}: {a} accepted, {r} rejected");
}

macro_rules! per_algorithm {
    ($($name:ident => $alg:ident),* $(,)?) => {$(
        #[test]
        fn $name() {
            run_algorithm(Algorithm::$alg);
        }
    )*};
}

per_algorithm! {
    hs256_same_answers => HS256,
    hs384_same_answers => HS384,
    hs512_same_answers => HS512,
    rs256_same_answers => RS256,
    rs384_same_answers => RS384,
    rs512_same_answers => RS512,
    ps256_same_answers => PS256,
    ps384_same_answers => PS384,
    ps512_same_answers => PS512,
    es256_same_answers => ES256,
    es384_same_answers => ES384,
    eddsa_same_answers => EdDSA,
}

/// HS256 over fresh random claims and headers, each token also signed by
/// the wrong key: the claim rules, widely.
#[test]
fn random_claims_same_answers() {
    let f = &*HMAC;
    let accepted = AtomicUsize::new(0);
    let mut runner = TestRunner::new(Config {
        cases: 512,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(
            &(
                prop::sample::select(f.algs),
                header_spec(),
                claims(),
                prop_oneof![3 => Just(Mutation::None), 2 => mutation()],
            ),
            |(alg, spec, claims, m)| {
                let signed = Signed {
                    token: sign(alg, &spec, &claims, &f.signer),
                    wrong_key: sign(alg, &spec, &claims, &f.wrong_signer),
                };
                if agree(f, &corrupt(f, &signed, &m))? {
                    accepted.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(accepted.into_inner() > 50, "too few valid tokens generated");
}

// ---------------------------------------------------------------------------
// Fixed vectors

/// An HS256 token over raw header and payload texts, correctly signed.
fn raw(header: &str, payload: &str) -> String {
    common::craft(header, payload)
}

/// Hand-written payloads (`FUT` is a valid `exp`, `NOW` the current time)
/// on which both sides must agree.
const AGREED_PAYLOADS: &[&str] = &[
    r#"{"exp":FUT}"#,
    r#"  {"exp":FUT}  "#,
    "\n{\"exp\":FUT}\n",
    r#"{"exp":FUT} x"#,
    r#"{"exp":FUT,"exp":FUT}"#,
    r#"{"exp":FUT.0}"#,
    r#"{"exp":FUT.9}"#,
    r#"{"exp":1e10}"#,
    r#"{"exp":-0}"#,
    r#"{"exp":0}"#,
    r#"{"exp":"FUT"}"#,
    r#"{"exp":null}"#,
    r#"{"exp":FUT,"nbf":"NOW"}"#,
    r#"{"exp":FUT,"nbf":NOW}"#,
    r#"{"exp":FUT,"nbf":-1}"#,
    r#"{"exp":FUT,"aud":[]}"#,
    r#"{"exp":FUT,"iss":""}"#,
    r#"{"exp":FUT,"iss":null,"aud":null}"#,
    r#"{"exp":FUT,"iss":"\u0061"}"#,
    r#"{"exp":FUT,"x_deep":{"a":[1,2,{"b":null}]}}"#,
    r#"{"exp":FUT,"x":1e400}"#,
    r#"{"exp":FUT"#,
    r#"{}"#,
    r#"null"#,
    r#"[]"#,
    r#""exp""#,
    "\u{feff}{\"exp\":FUT}",
];

fn fill(text: &str) -> String {
    let now = now();
    text.replace("FUT", &(now + 3600).to_string())
        .replace("NOW", &now.to_string())
}

#[test]
fn hand_written_payloads_same_answers() {
    let f = &*HMAC;
    let header = r#"{"alg":"HS256","typ":"JWT"}"#;
    for payload in AGREED_PAYLOADS {
        let token = raw(header, &fill(payload));
        agree(f, &token).unwrap_or_else(|e| panic!("payload {payload}: {e}"));
    }
}

/// Hand-written headers on which both sides must agree.
const AGREED_HEADERS: &[&str] = &[
    r#"{"alg":"HS256"}"#,
    r#"{"alg":"HS256","kid":"k","typ":"JWT","cty":"x"}"#,
    r#"{"alg":"HS256","unknown":{"deep":[1,2,3]}}"#,
    r#"{"alg":"HS256","alg":"HS256"}"#,
    r#"{"alg":"hs256"}"#,
    r#"{"alg":"none"}"#,
    r#"{"alg":null}"#,
    r#"{"typ":"JWT"}"#,
    r#"{"alg":"HS256","kid":5}"#,
    r#"["HS256"]"#,
    r#"{"alg":"HS256""#,
];

#[test]
fn hand_written_headers_same_answers() {
    let f = &*HMAC;
    let payload = fill(r#"{"exp":FUT}"#);
    for header in AGREED_HEADERS {
        let token = raw(header, &payload);
        agree(f, &token).unwrap_or_else(|e| panic!("header {header}: {e}"));
    }
    // Tokens that do not split into three base64url segments.
    let good = raw(AGREED_HEADERS[0], &payload);
    for token in [
        String::new(),
        ".".to_owned(),
        "..".to_owned(),
        "a.b.c".to_owned(),
        format!(" {good}"),
        format!("{good} "),
        format!("{good}="),
        good.replacen('.', "..", 1),
        good.replace('.', ""),
    ] {
        agree(f, &token).unwrap_or_else(|e| panic!("token {token:?}: {e}"));
    }
}

/// Where the answers differ on purpose: our policy is stricter than
/// jsonwebtoken's (see "Secure defaults" in the crate docs), or reads a
/// claim jsonwebtoken ignores. Each entry: header, payload, whether we
/// accept, whether jsonwebtoken accepts, and why. Kept out of the
/// generators above; this test pins them so any change is noticed.
const DIVERGENCES: &[(&str, &str, bool, bool, &str)] = &[
    (
        r#"{"alg":"HS256","crit":["exp"]}"#,
        r#"{"exp":FUT}"#,
        false,
        true,
        "crit headers are refused (RFC 7515 §4.1.11: we understand no extension)",
    ),
    (
        r#"{"alg":"HS256","b64":false}"#,
        r#"{"exp":FUT}"#,
        false,
        true,
        "b64 (RFC 7797) is refused",
    ),
    (
        r#"{"alg":"HS256","zip":"DEF"}"#,
        r#"{"exp":FUT}"#,
        false,
        true,
        "zip (a JWE header) is refused",
    ),
    (
        r#"{"alg":"HS256","typ":5}"#,
        r#"{"exp":FUT}"#,
        true,
        false,
        "we do not read typ; jsonwebtoken types it as a string",
    ),
    (
        r#"{"alg":"HS256","jwk":"x"}"#,
        r#"{"exp":FUT}"#,
        true,
        false,
        "embedded jwk is ignored by us, parsed (and refused) by jsonwebtoken",
    ),
    (
        r#"{"alg":"HS256"}"#,
        r#"[FUT,0,"s","i","a"]"#,
        false,
        true,
        "a claims set must be a JSON object (RFC 7519 §7.2); jsonwebtoken reads an array positionally",
    ),
    (
        r#"{"alg":"HS256"}"#,
        r#"{"exp":FUT,"iat":FAR}"#,
        false,
        true,
        "iat in the future (beyond the leeway) is refused",
    ),
    (
        r#"{"alg":"HS256"}"#,
        r#"{"exp":FUT,"iat":"x"}"#,
        false,
        true,
        "iat must be a NumericDate when present",
    ),
    (
        r#"{"alg":"HS256"}"#,
        r#"{"exp":FUT,"iss":5}"#,
        false,
        true,
        "iss must be a string when present",
    ),
    (
        r#"{"alg":"HS256"}"#,
        r#"{"exp":FUT,"iss":["a"]}"#,
        false,
        true,
        "iss must be a string when present",
    ),
    (
        r#"{"alg":"HS256"}"#,
        r#"{"exp":FUT,"aud":5}"#,
        false,
        true,
        "aud must be a string or an array of strings",
    ),
    (
        r#"{"alg":"HS256"}"#,
        r#"{"exp":FUT,"scope":5}"#,
        false,
        true,
        "scope must be a string (read for authorization)",
    ),
    (
        r#"{"alg":"HS256"}"#,
        r#"{"exp":1e12}"#,
        false,
        true,
        "dates after year 9999 are refused",
    ),
    (
        r#"{"alg":"HS256"}"#,
        r#"{"exp":FUT,"sub":"a","sub":"b"}"#,
        false,
        false,
        "duplicate sub: both refuse it",
    ),
    (
        r#"{"alg":"HS256"}"#,
        r#"{"exp":FUT,"sub":{"a":1}}"#,
        false,
        false,
        "sub an object or array: both refuse it (jsonwebtoken's claim parser loses its place)",
    ),
    (
        r#"{"alg":"HS256"}"#,
        r#"{"exp":FUT,"sub":5}"#,
        false,
        true,
        "sub must be a string (type-checked like the other registered claims)",
    ),
    (
        r#"{"alg":"HS256"}"#,
        r#"{"exp":FUT,"jti":null}"#,
        false,
        true,
        "jti must be a string; jsonwebtoken does not read it",
    ),
    (
        r#"{"alg":"HS256"}"#,
        r#"{"exp":FUT,"nbf":null}"#,
        false,
        false,
        "nbf null: a wrong type for us, a malformed date for jsonwebtoken",
    ),
    (
        r#"{"alg":"HS256"}"#,
        r#"{"exp":FUT,"iat":null,"iss":null,"aud":null}"#,
        false,
        true,
        "null registered claims: a wrong type for us; jsonwebtoken, which does not check them \
         here, takes them as absent",
    ),
];

#[test]
fn known_divergences() {
    let f = &*HMAC;
    let far = (now() + 3600).to_string();
    let mut unexpected = Vec::new();
    for (header, payload, we_accept, they_accept, why) in DIVERGENCES {
        let payload = fill(payload).replace("FAR", &far);
        let token = raw(header, &payload);
        let (o, t) = (ours(&f.uncached, &token), theirs(f, &token));
        if o.is_ok() != *we_accept || t.is_ok() != *they_accept {
            unexpected.push(format!(
                "{header} {payload}: ours {o:?}, jsonwebtoken {t:?} (listed: {we_accept}/{they_accept}, {why})"
            ));
        }
    }
    assert!(unexpected.is_empty(), "{unexpected:#?}");
    // A kid longer than we look up.
    let long_kid = format!(r#"{{"alg":"HS256","kid":"{}"}}"#, "k".repeat(300));
    let token = raw(&long_kid, &fill(r#"{"exp":FUT}"#));
    assert!(ours(&f.uncached, &token).is_err() && theirs(f, &token).is_ok());
}

#[test]
fn every_algorithm_has_a_family() {
    for alg in ALL_ALGS {
        assert!(family_of(alg).algs.contains(&alg), "{alg:?}");
    }
}

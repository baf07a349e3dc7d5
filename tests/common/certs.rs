//! X.509 certificates for the key-source tests, made with `rcgen` for a
//! fresh key pair whose private half signs the test tokens.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use jsonwebtoken::{Algorithm, EncodingKey};
use rcgen::{CertificateParams, KeyPair, RsaKeySize};

/// A key pair with a self-signed certificate of its public key.
pub struct Certified {
    pub alg: Algorithm,
    pub signer: EncodingKey,
    pub pem: String,
    pub der: Vec<u8>,
}

impl Certified {
    /// A fresh key for `alg` (RS256, ES256 or EdDSA), its certificate valid
    /// from 1975 to 4096.
    pub fn new(alg: Algorithm) -> Self {
        Self::valid_until(alg, 4096)
    }

    /// Like [`new`](Self::new), the certificate's `notAfter` on 1 January
    /// of `year` (a past year gives an expired certificate).
    pub fn valid_until(alg: Algorithm, year: i32) -> Self {
        let key = match alg {
            Algorithm::RS256 => {
                KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, RsaKeySize::_2048)
            }
            Algorithm::ES256 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256),
            Algorithm::EdDSA => KeyPair::generate_for(&rcgen::PKCS_ED25519),
            other => panic!("no certificate kind for {other:?}"),
        }
        .expect("key generation");
        Self::of(alg, &key, year)
    }

    /// A certificate for the RS256 key in the PKCS#8 PEM `private`.
    pub fn rsa_from(private: &[u8]) -> Self {
        let text = std::str::from_utf8(private).expect("PEM text");
        let key = KeyPair::from_pem_and_sign_algo(text, &rcgen::PKCS_RSA_SHA256)
            .expect("an RSA PKCS#8 key");
        Self::of(Algorithm::RS256, &key, 4096)
    }

    fn of(alg: Algorithm, key: &KeyPair, year: i32) -> Self {
        let private = key.serialize_pem();
        let signer = match alg {
            Algorithm::RS256 => EncodingKey::from_rsa_pem(private.as_bytes()),
            Algorithm::ES256 => EncodingKey::from_ec_pem(private.as_bytes()),
            _ => EncodingKey::from_ed_pem(private.as_bytes()),
        }
        .expect("the private key loads");
        let mut params = CertificateParams::new(vec!["jwt-layer.test".to_owned()]).unwrap();
        params.not_before = rcgen::date_time_ymd(2000, 1, 1);
        params.not_after = rcgen::date_time_ymd(year, 1, 1);
        let cert = params.self_signed(key).expect("self-signed certificate");
        Self {
            alg,
            signer,
            pem: cert.pem(),
            der: cert.der().to_vec(),
        }
    }

    /// The certificate as an `x5c` entry (standard base64 DER).
    pub fn x5c(&self) -> String {
        STANDARD.encode(&self.der)
    }
}

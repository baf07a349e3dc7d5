//! The public key and validity dates of an X.509 certificate (RFC 5280),
//! read with the `x509-cert` crate: the certificates of Google's and
//! Firebase's key maps, and the first entry of a JWK's `x5c`.
//!
//! Only the subject public key and the validity are read. The certificate's
//! own signature and its chain are not checked: trust in these keys comes
//! from the HTTPS fetch of the set that carries them, as for a JWK Set.

#[cfg(feature = "remote-jwks")]
use std::time::SystemTime;

use x509_cert::Certificate;
use x509_cert::der::{Decode, DecodePem, Encode};

use crate::log::untrusted;

/// The largest certificate read, DER (real ones are 1–2 KiB).
pub(crate) const MAX_CERT_DER: usize = 16 * 1024;
/// The largest PEM text read (base64 of the DER plus lines and armour).
pub(crate) const MAX_CERT_PEM: usize = MAX_CERT_DER * 4 / 3 + 1024;

/// What a key set needs from a certificate.
#[derive(Debug)]
pub(crate) struct CertKey {
    /// The DER SubjectPublicKeyInfo.
    pub(crate) spki: Vec<u8>,
    /// Read only for certificate maps, which log dates out of range.
    #[cfg(feature = "remote-jwks")]
    pub(crate) not_before: SystemTime,
    #[cfg(feature = "remote-jwks")]
    pub(crate) not_after: SystemTime,
}

#[cfg(feature = "remote-jwks")]
impl CertKey {
    /// The validity period, when `now` lies outside it: for a log line
    /// (validity is reported, never enforced).
    pub(crate) fn outside_validity(&self, now: SystemTime) -> Option<String> {
        let unix = |t: SystemTime| {
            t.duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        };
        (now < self.not_before || now > self.not_after).then(|| {
            format!(
                "valid from {} to {} (unix seconds), now {}",
                unix(self.not_before),
                unix(self.not_after),
                unix(now)
            )
        })
    }
}

/// Reads a DER certificate.
pub(crate) fn from_der(der: &[u8]) -> Result<CertKey, String> {
    if der.len() > MAX_CERT_DER {
        return Err(format!("certificate larger than {MAX_CERT_DER} bytes"));
    }
    let cert = Certificate::from_der(der).map_err(|e| malformed(&e))?;
    read(&cert)
}

/// Reads one PEM `CERTIFICATE` block (surrounding whitespace allowed).
pub(crate) fn from_pem(pem: &str) -> Result<CertKey, String> {
    let pem = pem.trim();
    if pem.len() > MAX_CERT_PEM {
        return Err(format!("certificate larger than {MAX_CERT_PEM} bytes"));
    }
    if !pem.starts_with("-----BEGIN CERTIFICATE-----") {
        return Err("not a PEM certificate".into());
    }
    let cert = Certificate::from_pem(pem.as_bytes()).map_err(|e| malformed(&e))?;
    let der_len = cert.encoded_len().map_err(|e| malformed(&e))?;
    if usize::try_from(der_len).map_or(true, |n| n > MAX_CERT_DER) {
        return Err(format!("certificate larger than {MAX_CERT_DER} bytes"));
    }
    read(&cert)
}

fn read(cert: &Certificate) -> Result<CertKey, String> {
    let tbs = cert.tbs_certificate();
    let spki = tbs
        .subject_public_key_info()
        .to_der()
        .map_err(|e| malformed(&e))?;
    #[cfg(feature = "remote-jwks")]
    let validity = tbs.validity();
    Ok(CertKey {
        spki,
        #[cfg(feature = "remote-jwks")]
        not_before: validity.not_before.to_system_time(),
        #[cfg(feature = "remote-jwks")]
        not_after: validity.not_after.to_system_time(),
    })
}

/// A parse error, without any of the input.
fn malformed(e: &x509_cert::der::Error) -> String {
    format!(
        "malformed certificate ({})",
        untrusted(&e.kind().to_string(), 80)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_an_error_never_a_panic() {
        for der in [&b""[..], b"\x30", b"\x30\x82\xff\xff", &[0x30; 64]] {
            assert!(from_der(der).is_err());
        }
        assert!(from_der(&vec![0x30; MAX_CERT_DER + 1]).is_err());
        for pem in [
            "",
            "hello",
            "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----",
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
            "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----",
        ] {
            assert!(from_pem(pem).is_err(), "{pem}");
        }
        let huge = format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----",
            "A".repeat(MAX_CERT_PEM)
        );
        assert!(from_pem(&huge).unwrap_err().contains("larger"));
    }
}

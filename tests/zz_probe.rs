mod common;
use common::*;
#[test]
fn probe() {
    let bom = format!("\u{feff}{RSA_PUBLIC_PEM}");
    println!(
        "rsa_pem(bom) ok? {:?}",
        jwt_layer::Key::rsa_pem(&bom).map(|_| ())
    );
    let lead = format!("junk\n{RSA_PUBLIC_PEM}");
    println!(
        "rsa_pem(junk) ok? {:?}",
        jwt_layer::Key::rsa_pem(&lead).map(|_| ())
    );
    println!(
        "hmac(junk) ok? {:?}",
        jwt_layer::Key::hmac(&lead).map(|_| ())
    );
    let pkcs1pem = format!(
        "-----BEGIN RSA PUBLIC KEY-----\n{}\n-----END RSA PUBLIC KEY-----\n",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            &RSA_PUBLIC_DER[24..]
        )
    );
    println!(
        "rsa_pem(pkcs1) ok? {:?}",
        jwt_layer::Key::rsa_pem(&pkcs1pem).map(|_| ())
    );
}

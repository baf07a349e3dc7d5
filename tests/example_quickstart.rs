//! `cargo run --example quickstart` walks the whole flow on 127.0.0.1 and
//! exits 0 only if every step answered as expected.
#![cfg(all(
    feature = "axum",
    feature = "issue",
    feature = "remote-jwks",
    feature = "aws-lc-rs"
))]

mod common;

use common::process::example;

#[test]
fn quickstart_walks_every_step_and_exits_0() {
    let out = std::process::Command::new(example("quickstart"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("every step answered as expected"),
        "{stdout}"
    );
    for step in [
        "GET /me with the token",
        "GET /me, tampered signature",
        r#"error_description="token expired""#,
        "GET /admin without scope admin",
        "key set fetches: 1",
    ] {
        assert!(stdout.contains(step), "missing {step:?} in\n{stdout}");
    }
    assert!(!stdout.contains(" NO "), "{stdout}");
}

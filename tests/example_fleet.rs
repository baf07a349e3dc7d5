//! Many replicas, as processes: one `redis-server`, one `login` (REDIS_URL)
//! and two `resource_server` replicas (JWT_REDIS_URL) verifying `login`'s
//! published keys. A token revoked through `login` is refused by both
//! replicas within a second; `/logout-all` refuses every earlier token of
//! the user and a new login passes.
#![cfg(all(
    feature = "axum",
    feature = "issue",
    feature = "tracing",
    feature = "redis",
    feature = "test-util"
))]

mod common;

use std::time::{Duration, Instant};

use common::process::{Server, get};
use common::redis::RedisServer;
use common::*;
use serde_json::{Value, json};

const PASSWORD: &str = "a fleet of replicas, one password";
/// 32 bytes as 64 hex characters.
const KEK: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

struct Fleet {
    _dir: TempDir,
    _redis: RedisServer,
    login: Server,
    replicas: [Server; 2],
    client: reqwest::Client,
}

fn start() -> Fleet {
    let redis = RedisServer::start();
    let dir = TempDir::new("fleet");
    let key_file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/ec256-private.pk8.pem"
    );
    let login = Server::start(
        "login",
        &[
            (
                "DATABASE_PATH",
                dir.path("users.sqlite3").display().to_string(),
            ),
            ("DEMO_PASSWORD", PASSWORD.to_owned()),
            ("JWT_PRIVATE_KEY_FILE", key_file.to_owned()),
            ("REDIS_URL", redis.url()),
            ("KEYRING_KEK", KEK.to_owned()),
        ],
    );
    let replica = || {
        Server::start(
            "resource_server",
            &[
                (
                    "JWT_JWKS_URL",
                    format!("{}/.well-known/jwks.json", login.base),
                ),
                ("JWT_ISSUER", "jwt-layer-login-demo".to_owned()),
                ("JWT_AUDIENCE", "jwt-layer-login-demo".to_owned()),
                ("JWT_REDIS_URL", redis.url()),
            ],
        )
    };
    let replicas = [replica(), replica()];
    Fleet {
        _dir: dir,
        _redis: redis,
        login,
        replicas,
        client: reqwest::Client::new(),
    }
}

impl Fleet {
    async fn log_in(&self) -> String {
        log_in_at(&self.client, &self.login).await
    }

    async fn post(&self, path: &str, token: &str) -> u16 {
        self.client
            .post(format!("{}{path}", self.login.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    /// `/me` on replica `i`.
    async fn me(&self, i: usize, token: &str) -> (u16, Option<String>) {
        let (status, challenge, _) = get(
            &self.client,
            format!("{}/me", self.replicas[i].base),
            Some(token),
        )
        .await;
        (status, challenge)
    }

    /// Polls both replicas until each answers 401 for `token`; the time
    /// until the slower one did.
    async fn until_refused_everywhere(&self, token: &str) -> Duration {
        let start = Instant::now();
        for i in 0..2 {
            loop {
                let (status, challenge) = self.me(i, token).await;
                if status == 401 {
                    assert_eq!(challenge.unwrap(), invalid_token("token revoked"));
                    break;
                }
                assert_eq!(status, 200);
                assert!(
                    start.elapsed() < Duration::from_secs(1),
                    "replica {i} still accepts"
                );
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        start.elapsed()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_reaches_both_replicas_within_a_second_and_logout_all_refuses_earlier_tokens() {
    let fleet = start();
    let mut delays = Vec::new();
    for _ in 0..100 {
        let token = fleet.log_in().await;
        assert_eq!(fleet.me(0, &token).await.0, 200);
        assert_eq!(fleet.me(1, &token).await.0, 200);
        let start = Instant::now();
        assert_eq!(fleet.post("/logout", &token).await, 204);
        fleet.until_refused_everywhere(&token).await;
        delays.push(start.elapsed());
        // login's own routes refuse it too.
        assert_eq!(fleet.post("/logout", &token).await, 401);
    }
    delays.sort();
    eprintln!(
        "logout → refused by both replicas, over 100 revocations: p50 {:?}, p99 {:?}, max {:?}",
        delays[49], delays[98], delays[99]
    );

    let earlier = [fleet.log_in().await, fleet.log_in().await];
    for token in &earlier {
        assert_eq!(fleet.me(0, token).await.0, 200);
    }
    assert_eq!(fleet.post("/logout-all", &earlier[1]).await, 204);
    for token in &earlier {
        fleet.until_refused_everywhere(token).await;
    }
    // A login in a later second passes everywhere.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let fresh = fleet.log_in().await;
    assert_eq!(fleet.me(0, &fresh).await.0, 200);
    assert_eq!(fleet.me(1, &fresh).await.0, 200);
    // Without a valid token: 401.
    let client = &fleet.client;
    let res = client
        .post(format!("{}/logout-all", fleet.login.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

/// A `login` replica on `redis` with the shared ring, plus `extra`.
fn login_replica(redis: &RedisServer, dir: &TempDir, tag: &str, extra: &[(&str, &str)]) -> Server {
    let mut envs = vec![
        (
            "DATABASE_PATH",
            dir.path(&format!("{tag}.sqlite3")).display().to_string(),
        ),
        ("DEMO_PASSWORD", PASSWORD.to_owned()),
        ("REDIS_URL", redis.url()),
        ("KEYRING_KEK", KEK.to_owned()),
    ];
    envs.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    Server::start("login", &envs)
}

async fn jwks(client: &reqwest::Client, server: &Server) -> Value {
    client
        .get(format!("{}/.well-known/jwks.json", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn log_in_at(client: &reqwest::Client, server: &Server) -> String {
    let res = client
        .post(format!("{}/login", server.base))
        .json(&json!({"email": "demo@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn profile_status(client: &reqwest::Client, server: &Server, token: &str) -> u16 {
    get(client, format!("{}/profile", server.base), Some(token))
        .await
        .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_login_replicas_share_one_ring_and_a_rotation_reaches_both_within_a_second() {
    let redis = RedisServer::start();
    let dir = TempDir::new("shared-ring");
    let client = reqwest::Client::new();
    // A rotates every 3 s; B never does on its own.
    let a = login_replica(&redis, &dir, "a", &[("KEY_ROTATION_SECS", "3")]);
    let b = login_replica(&redis, &dir, "b", &[]);
    let first = jwks(&client, &a).await;
    assert_eq!(first, jwks(&client, &b).await, "B adopted A's ring");
    assert_eq!(first["keys"].as_array().unwrap().len(), 1);
    // Tokens from either verify at either.
    let (from_a, from_b) = (log_in_at(&client, &a).await, log_in_at(&client, &b).await);
    for server in [&a, &b] {
        assert_eq!(profile_status(&client, server, &from_a).await, 200);
        assert_eq!(profile_status(&client, server, &from_b).await, 200);
    }

    // A rotates; B publishes the same set and signs with the new key
    // within a second.
    let deadline = Instant::now() + Duration::from_secs(10);
    let rotated = loop {
        let now = jwks(&client, &a).await;
        if now != first {
            break now;
        }
        assert!(Instant::now() < deadline, "A did not rotate");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let seen_at = Instant::now();
    let new_kid = payload_kid(&log_in_at(&client, &a).await);
    loop {
        if jwks(&client, &b).await == rotated
            && payload_kid(&log_in_at(&client, &b).await) == new_kid
        {
            break;
        }
        assert!(
            seen_at.elapsed() < Duration::from_secs(1),
            "B lags A's rotation"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!("B followed A's rotation within {:?}", seen_at.elapsed());
    assert_eq!(
        rotated["keys"].as_array().unwrap().len(),
        2,
        "the old key retires, still published"
    );
    // Tokens signed before the rotation still verify at both.
    assert_eq!(profile_status(&client, &b, &from_a).await, 200);
    let fresh = log_in_at(&client, &b).await;
    assert_eq!(profile_status(&client, &a, &fresh).await, 200);
}

/// The `kid` of a token's header.
fn payload_kid(token: &str) -> String {
    use base64::Engine as _;
    let header = token.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .unwrap(),
    )
    .unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

#[test]
fn login_refuses_a_missing_short_or_wrong_key_encryption_key() {
    let redis = RedisServer::start();
    let dir = TempDir::new("kek");
    let run = |kek: Option<&str>| {
        let mut cmd = std::process::Command::new(common::process::example("login"));
        cmd.env_clear()
            .env("BIND", "127.0.0.1:0")
            .env("DATABASE_PATH", dir.path("kek.sqlite3"))
            .env("REDIS_URL", redis.url());
        if let Some(kek) = kek {
            cmd.env("KEYRING_KEK", kek);
        }
        let out = cmd.output().unwrap();
        assert!(!out.status.success(), "started with KEYRING_KEK {kek:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert!(run(None).contains("KEYRING_KEK"));
    assert!(run(Some(&KEK[..32])).contains("KEYRING_KEK"));
    // A ring stored under KEK does not open under another key.
    let _first = login_replica(&redis, &dir, "first", &[]);
    let other = "ff".repeat(32);
    assert!(run(Some(&other)).contains("decrypt"));
}

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
        let res = self
            .client
            .post(format!("{}/login", self.login.base))
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

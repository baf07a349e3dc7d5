//! A gRPC server behind `JwtAuth`: the standard health service
//! (`grpc.health.v1.Health`, from tonic-health, so no `protoc` is needed)
//! over HTTP/2 cleartext.
//!
//! - `Check` needs a valid token; the handler reads the verified claims
//!   from the request's extensions and answers with the subject in the
//!   `x-subject` metadata.
//! - `Watch` also needs scope `admin` (an `Authorize` layer on that path).
//!
//! A refused call gets a gRPC status, not an HTTP one: `UNAUTHENTICATED`
//! (no, bad or expired token), `PERMISSION_DENIED` (scope missing),
//! `UNAVAILABLE` (no key to be had), with `grpc-message` the same fixed
//! text `error_description` would carry.
//!
//! ```sh
//! JWT_JWKS_URL=https://issuer.example/jwks.json JWT_ISSUER=https://issuer.example \
//! JWT_AUDIENCE=my-api BIND=127.0.0.1:50051 cargo run --example grpc
//! grpcurl -plaintext -H "authorization: Bearer $TOKEN" \
//!   127.0.0.1:50051 grpc.health.v1.Health/Check
//! ```
//!
//! | variable | meaning |
//! |---|---|
//! | `JWT_JWKS_URL` | the key set URL (https; plain http only for loopback hosts) |
//! | `JWT_OIDC_ISSUER` | or: an issuer whose key set is found by OpenID discovery |
//! | `JWT_ISSUER` | accepted issuers, comma-separated (default: `JWT_OIDC_ISSUER`) |
//! | `JWT_AUDIENCE` | accepted audiences, comma-separated |
//! | `JWT_LEEWAY_SECS` | clock skew tolerance (default 60) |
//! | `BIND` | address to listen on (default `127.0.0.1:3000`; port 0 picks one) |
//!
//! When ready it prints one line, `listening on http://<addr>`; it stops
//! on SIGINT or SIGTERM.

#[path = "support/key_env.rs"]
mod key_env;
#[path = "support/listen.rs"]
mod listen;
#[path = "support/serve.rs"]
mod serve;

use clap::Parser;
use jwt_layer::{Authorize, VerifiedClaims};
use serde::Deserialize;
use tonic::service::Routes;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status};
use tonic_health::pb::health_server::{Health, HealthServer};
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};
use tonic_health::server::{HealthReporter, HealthService};
use tower::Layer as _;

/// The claims the handler reads.
#[derive(Debug, Deserialize)]
struct Claims {
    sub: Option<String>,
}

/// The configuration, from the environment (or flags).
#[derive(Debug, Parser)]
#[command(about = "gRPC health service behind JwtAuth", version)]
struct Args {
    #[command(flatten)]
    keys: key_env::KeyEnv,
}

/// The health service, answering `Check` with the caller's subject.
struct Checked {
    inner: HealthService,
}

#[tonic::async_trait]
impl Health for Checked {
    async fn check(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        // The layer put the verified claims in the request's extensions.
        let subject = request
            .extensions()
            .get::<VerifiedClaims<Claims>>()
            .and_then(|claims| claims.sub.clone())
            .ok_or_else(|| Status::internal("no verified claims"))?;
        let mut response = self.inner.check(request).await?;
        // A subject that is not valid metadata text is not echoed.
        if let Ok(value) = subject.parse() {
            response.metadata_mut().insert("x-subject", value);
        }
        Ok(response)
    }

    type WatchStream = <HealthService as Health>::WatchStream;

    async fn watch(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        self.inner.watch(request).await
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    serve::exit_code("grpc", run().await)
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    // gRPC answers are on by default for `application/grpc` requests.
    let auth = args.keys.builder::<Claims>()?.build()?;
    let admin = Authorize::<Claims>::builder().scope("admin").build()?;

    let health = HealthServer::new(Checked {
        inner: HealthService::from_health_reporter(HealthReporter::new()),
    });
    let watch = admin.layer(Routes::new(health.clone()).into_axum_router());
    let routes = Routes::new(health)
        .into_axum_router()
        .route_service("/grpc.health.v1.Health/Watch", watch);

    let listener = listen::listen(&args.keys.bind).await?;
    let addr = listener.local_addr()?;
    serve::announce(addr)?;
    Server::builder()
        .layer(auth)
        .add_routes(Routes::from(routes))
        .serve_with_incoming_shutdown(TcpIncoming::from(listener), serve::signal())
        .await?;
    Ok(())
}

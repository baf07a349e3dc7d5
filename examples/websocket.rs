//! WebSocket authentication that works from a browser: a page's
//! `new WebSocket(url, ["jwt", token])` offers the marker protocol `jwt`
//! and the token as a second protocol entry (a browser cannot set
//! `Authorization` on a WebSocket). The layer reads the token there, takes
//! it out of the request, and the `101` selects `jwt`, without which the
//! browser would close the socket.
//!
//! Routes: `GET /`, a small HTML page whose script opens the socket with
//! the token from the page's fragment (`/#token=<jwt>`, never sent to the
//! server); `GET /ws`, the socket: it sends `hello <sub>`, then echoes
//! every text message, and closes (code 1008) when the token expires. A
//! missing or bad token is refused before the upgrade with the usual 401
//! and challenge. Non-browser clients may send `Authorization: Bearer`
//! instead.
//!
//! ```sh
//! JWT_JWKS_URL=https://issuer.example/jwks.json JWT_ISSUER=https://issuer.example \
//! JWT_AUDIENCE=my-api cargo run --example websocket
//! # then open http://127.0.0.1:3000/#token=<a token>
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
//! | `JWT_WEBSOCKET_ECHO` | `off` to leave the `101` without the subprotocol, to see a browser refuse the socket (default `on`) |
//!
//! When ready it prints one line, `listening on http://<addr>`; it stops
//! on SIGINT or SIGTERM.

#[path = "support/key_env.rs"]
mod key_env;
#[path = "support/listen.rs"]
mod listen;
#[path = "support/serve.rs"]
mod serve;
#[path = "support/serve_axum.rs"]
mod serve_axum;

use axum::Router;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::response::{Html, Response};
use axum::routing::get;
use clap::Parser;
use jwt_layer::VerifiedClaims;
use jwt_layer::token::{BearerHeader, SubprotocolToken, TokenSource as _};
use serde::Deserialize;

/// The claims the socket reads.
#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
}

/// The configuration, from the environment (or flags).
#[derive(Debug, Parser)]
#[command(about = "A WebSocket behind JwtAuth, usable from browsers", version)]
struct Args {
    #[command(flatten)]
    keys: key_env::KeyEnv,
    /// `off` to leave the 101 without the subprotocol (browsers then
    /// refuse the socket).
    #[arg(long, env = "JWT_WEBSOCKET_ECHO", default_value = "on",
          value_parser = ["on", "off"])]
    websocket_echo: String,
}

/// The page: opens the socket with the token from the fragment, shows what
/// happens, and round-trips one message.
const PAGE: &str = r#"<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>jwt-layer WebSocket</title>
<style>body{font:16px system-ui;margin:2em} #status{font-weight:bold}</style>
<h1>jwt-layer WebSocket</h1>
<p>Status: <span id="status">connecting</span></p>
<p>Subprotocol: <span id="protocol">-</span></p>
<ol id="log"></ol>
<script>
const show = (id, text) => { document.getElementById(id).textContent = text; };
const log = (text) => {
  const li = document.createElement("li");
  li.textContent = text;
  document.getElementById("log").append(li);
};
const token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
const scheme = location.protocol === "https:" ? "wss" : "ws";
const socket = new WebSocket(`${scheme}://${location.host}/ws`, ["jwt", token]);
socket.onopen = () => { show("status", "open"); show("protocol", socket.protocol); };
socket.onmessage = (event) => {
  log(`received: ${event.data}`);
  if (event.data.startsWith("hello ")) socket.send("ping from the browser");
  if (event.data === "ping from the browser") show("status", "round trip ok");
};
socket.onerror = () => log("error");
socket.onclose = (event) => {
  log(`closed: ${event.code}`);
  if (document.getElementById("status").textContent !== "round trip ok") show("status", `closed ${event.code}`);
};
</script>
</html>
"#;

async fn upgrade(ws: WebSocketUpgrade, claims: VerifiedClaims<Claims>) -> Response {
    ws.on_upgrade(move |socket| session(socket, claims))
}

/// Greets, echoes text, and closes when the token expires.
async fn session(mut socket: WebSocket, claims: VerifiedClaims<Claims>) {
    let hello = format!("hello {}", claims.sub);
    if socket.send(Message::Text(hello.into())).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            () = claims.expired() => {
                let frame = CloseFrame { code: close_code::POLICY, reason: "token expired".into() };
                let _ = socket.send(Message::Close(Some(frame))).await;
                return;
            }
            message = socket.recv() => match message {
                Some(Ok(Message::Text(text))) => {
                    if socket.send(Message::Text(text)).await.is_err() {
                        return;
                    }
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
        }
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    serve::exit_code("websocket", run().await)
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let protocol = SubprotocolToken::new("jwt")?.echo_marker(args.websocket_echo == "on");
    let auth = args
        .keys
        .builder::<Claims>()?
        .token_source(BearerHeader::new().or(protocol))
        .build()?;
    let app = Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route("/ws", get(upgrade).route_layer(auth));

    serve_axum::serve(listen::listen(&args.keys.bind).await?, app).await?;
    Ok(())
}

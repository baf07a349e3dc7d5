//! Listening with a backlog that absorbs bursts: tokio's
//! `TcpListener::bind` listens with 128, so a burst of 1,000 connections
//! overflows the accept queue and some clients wait for the 1 s SYN
//! retransmit.

use tokio::net::{TcpListener, TcpSocket};

/// The accept queue's length (the kernel caps it at `net.core.somaxconn`).
pub(crate) const BACKLOG: u32 = 1024;

/// Binds `addr` (`host:port`, port 0 allowed) and listens with [`BACKLOG`].
pub(crate) async fn listen(addr: &str) -> std::io::Result<TcpListener> {
    let mut last = None;
    for addr in tokio::net::lookup_host(addr).await? {
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        match socket.bind(addr) {
            Ok(()) => return socket.listen(BACKLOG),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other(format!("`{addr}` resolves to no address"))))
}

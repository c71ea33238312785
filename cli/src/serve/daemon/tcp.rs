//! Listeners and connectors: the TCP connections that become sessions.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tracing::{debug, warn};

use super::connection::connection;
use super::shared::Shared;
use crate::serve::config::PeerSpec;
use crate::serve::sock;

/// Pending connections the kernel queues for a listener (capped by
/// net.core.somaxconn): a thousand clients reconnecting at once are accepted,
/// not dropped and retried after SYN back-off.
const LISTEN_BACKLOG: u32 = 4096;

pub(super) fn listen(a: SocketAddr, peers: &[PeerSpec]) -> std::io::Result<TcpListener> {
    let sock = if a.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    sock.set_reuseaddr(true)?;
    sock.bind(a)?;
    sock::listener(&sock, a, peers)?;
    sock.listen(LISTEN_BACKLOG)
}

pub(super) async fn accept_loop(sh: Arc<Shared>, l: Arc<TcpListener>) {
    let mut shutdown = sh.shutdown.clone();
    loop {
        tokio::select! {
            r = l.accept() => match r {
                Ok((stream, addr)) => match sh.peer_by_addr(addr.ip()) {
                    Some(i) if sh.status.get(i).is_disabled() => {
                        debug!(remote = %addr, "connection refused: the peer is disabled (reflector ctl disable)");
                        drop(stream);
                    }
                    Some(i) if sh.hold_off.holds(i) => {
                        debug!(remote = %addr, "connection refused: the peer is held off after its prefix limit");
                        drop(stream);
                    }
                    Some(i) => match sh.spec(i).map(|p| sock::accepted(&stream, &p)) {
                        Some(Err(e)) => warn!(remote = %addr, error = %e, "connection closed"),
                        _ => {
                            tokio::spawn(connection(sh.clone(), stream, i, false));
                        }
                    },
                    None => sock::unknown_connection(addr),
                },
                Err(e) => {
                    warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            _ = shutdown.changed() => return,
        }
    }
}

pub(super) async fn connect_loop(sh: Arc<Shared>, peer: usize) {
    let mut shutdown = sh.shutdown.clone();
    let retry = Duration::from_secs(u64::from(sh.cfg.connect_retry));
    loop {
        if *shutdown.borrow() {
            return;
        }
        // A reload may have removed the peer.
        let Some(spec) = sh.spec(peer) else {
            return;
        };
        let idle = sh.conns().get(peer).is_none_or(Vec::is_empty)
            && !sh.hold_off.holds(peer)
            && !sh.status.get(peer).is_disabled();
        if idle {
            let remote = SocketAddr::new(spec.address, spec.port);
            match tokio::time::timeout(Duration::from_secs(5), connect(remote, &spec)).await {
                Ok(Ok(stream)) => {
                    let h = tokio::spawn(connection(sh.clone(), stream, peer, true));
                    let _ = h.await;
                }
                Ok(Err(e)) => {
                    debug!(peer = %spec.name, remote = %remote, error = %e, "connect failed")
                }
                Err(_) => debug!(peer = %spec.name, remote = %remote, "connect timed out"),
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(retry) => {}
            _ = shutdown.changed() => return,
        }
    }
}

async fn connect(remote: SocketAddr, spec: &PeerSpec) -> std::io::Result<TcpStream> {
    let sock = if remote.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    if let Some(l) = spec.local_address {
        sock.bind(SocketAddr::new(l, 0))?;
    }
    sock::outgoing(&sock, spec)?;
    sock.connect(remote).await
}

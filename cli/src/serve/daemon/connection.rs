//! One task per TCP connection: it drives a [`Session`], hands received
//! messages to the engine task and acts on the engine's control requests.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reflector_core::engine;
use reflector_core::session::{
    collision_survivor, shutdown_text, Session, SessionEvent, StopReason, Survivor,
};
use reflector_core::wire::notification::NotificationRepr;
use reflector_core::wire::AfiSafiSet;
use tokio::net::TcpStream;
use tracing::{debug, info, warn};

use super::link::{Ctl, Link};
use super::shared::{ConnEntry, Shared};
use super::writer::writer;
use super::{session_config, ToEngine, ENGINE_INPUT};
use crate::serve::bmp;
use crate::serve::status::{PeerStatus, Scan, SessionInfo};

/// NOTIFICATION code of Hold Timer Expired (RFC 4271 §4.5): the session may restart gracefully.
const HOLD_TIMER_EXPIRED: u8 = 4;
/// Text of the Cease sent to every peer on SIGTERM/SIGINT.
const SHUTDOWN_TEXT: &str = "Reflector is shutting down";
/// Read size: each worker thread has one buffer of this size, shared by every
/// connection it serves (a connection keeps only the partial message it has).
const READ_BUF: usize = 64 * 1024;

/// Register a connection's OPEN and resolve collisions (RFC 4271 §6.8). Returns whether it may go on.
fn open_received(sh: &Shared, peer: usize, id: u64, outbound: bool, remote_id: u32) -> bool {
    let mut conns = sh.conns();
    let Some(list) = conns.get_mut(peer) else {
        return false;
    };
    for other in list.iter() {
        if other.id == id || other.remote_id.is_none() {
            continue;
        }
        if other.established {
            return false;
        }
        let keep_outbound =
            collision_survivor(sh.cfg.router_id, std::net::Ipv4Addr::from_bits(remote_id))
                == Survivor::Outbound;
        if outbound == keep_outbound && other.outbound != outbound {
            other.link.control(Ctl::Stop(StopReason::Collision));
        } else {
            return false;
        }
    }
    if let Some(me) = list.iter_mut().find(|c| c.id == id) {
        me.remote_id = Some(remote_id);
    }
    true
}

fn log_notification(peer: &str, sent: bool, n: &NotificationRepr) {
    let text = shutdown_text(n).unwrap_or_default();
    let dir = if sent { "sent" } else { "received" };
    warn!(peer, direction = dir, code = n.code, subcode = n.subcode, shutdown = %text, "NOTIFICATION");
}

pub(super) async fn connection(sh: Arc<Shared>, stream: TcpStream, peer: usize, outbound: bool) {
    let Some(spec) = sh.spec(peer) else {
        return;
    };
    let id = sh.next_conn.fetch_add(1, Ordering::Relaxed);
    let remote = stream.peer_addr().ok();
    let local = stream.local_addr().ok();
    // BMP: both OPENs for the Peer Up, and why the session ended for the Peer Down.
    let mut opens = bmp::OpenCapture::new(sh.bmp.is_some());
    let mut bmp_down: Option<bmp::DownReason> = None;
    let _ = stream.set_nodelay(true);
    let (rd, wr) = stream.into_split();
    let status = sh.status.get(peer);
    let mut scan_in = Scan::default();
    let link = Arc::new(Link {
        stats: Some(status.clone()),
        ..Link::default()
    });
    let writer = tokio::spawn(writer(
        wr,
        link.clone(),
        Some((sh.engine.clone(), peer, id)),
        sh.bmp
            .clone()
            .filter(bmp::Bmp::wants_adj_rib_out)
            .map(|b| (b, peer)),
    ));
    if let Some(list) = sh.conns().get_mut(peer) {
        list.push(ConnEntry {
            id,
            outbound,
            remote_id: None,
            established: false,
            link: link.clone(),
        });
    }
    debug!(peer = %spec.name, remote = ?remote, outbound, conn = id, "TCP connected");
    let mut sc = session_config(&sh.cfg, &spec);
    sc.graceful_restart_restarting &= sh.restarting.load(Ordering::Acquire);
    let mut s = Session::new(sc);
    let mut last_state = s.state();
    s.start(sh.now());
    s.tcp_connected(sh.now());
    let mut shutdown = sh.shutdown.clone();
    let mut stopping = false;
    let mut up = false;
    // RFC 4724 §4.2: what the peer's graceful restart capability asks us to keep.
    let mut restart: Option<(u16, AfiSafiSet)> = None;
    // A NOTIFICATION ended the session (a Hold Timer Expired we send does not count).
    let mut notified = false;
    let mut batch: Vec<Bytes> = Vec::new();
    loop {
        let mut closed = false;
        while let Some(ev) = s.poll_event() {
            match ev {
                SessionEvent::OpenReceived(a) => {
                    if !open_received(&sh, peer, id, outbound, a.bgp_id) {
                        info!(peer = %spec.name, conn = id, "connection collision: closing this connection");
                        s.stop(StopReason::Collision);
                    }
                }
                SessionEvent::Established(n) => {
                    up = true;
                    status.on_established(
                        id,
                        SessionInfo {
                            remote,
                            local,
                            outbound,
                            router_id: std::net::Ipv4Addr::from_bits(n.peer_bgp_id),
                            negotiated: n,
                        },
                    );
                    if let Some(c) = sh
                        .conns()
                        .get_mut(peer)
                        .and_then(|l| l.iter_mut().find(|c| c.id == id))
                    {
                        c.established = true;
                    }
                    info!(
                        peer = %spec.name,
                        remote = ?remote,
                        router_id = %std::net::Ipv4Addr::from_bits(n.peer_bgp_id),
                        hold_time = n.hold_time,
                        four_octet_as = n.four_octet_as,
                        extended_message = n.extended_message,
                        families = ?n.families.as_slice(),
                        "session established"
                    );
                    if let (Some(b), Some(o), Some(l), Some(r)) =
                        (&sh.bmp, opens.opens(), local, remote)
                    {
                        let id = std::net::Ipv4Addr::from_bits(n.peer_bgp_id);
                        let h = bmp::PeerHeader::global(
                            r.ip().to_canonical(),
                            spec.asn,
                            id,
                            n.four_octet_as,
                        );
                        b.peer_up(
                            peer,
                            h,
                            SocketAddr::new(l.ip().to_canonical(), l.port()),
                            r,
                            o,
                        );
                    }
                    restart = n
                        .graceful_restart
                        .map(|t| {
                            let listed = s
                                .peer()
                                .map_or(AfiSafiSet::EMPTY, |a| a.graceful_restart_families);
                            let mut keep = AfiSafiSet::EMPTY;
                            for f in n.families.as_slice() {
                                if listed.contains(*f) {
                                    keep.insert(*f);
                                }
                            }
                            (t, keep)
                        })
                        .filter(|(_, keep)| !keep.is_empty());
                    let msg = ToEngine::Up {
                        peer,
                        conn: id,
                        neg: engine::Negotiated::from(&n),
                        graceful: n.graceful_restart.map(|_| n.graceful_restart_preserved),
                        route_refresh: n.route_refresh,
                        link: link.clone(),
                    };
                    if sh.engine.send(msg).await.is_err() {
                        closed = true;
                    }
                }
                SessionEvent::Message(b) => {
                    if let Some(x) = sh.bmp.as_ref().filter(|_| b.get(18) == Some(&2)) {
                        x.route_monitoring(peer, &b);
                    }
                    batch.push(b)
                }
                SessionEvent::NotificationSent(n) => {
                    status.on_notification(true, &n);
                    notified |= n.code != HOLD_TIMER_EXPIRED;
                    bmp_down = Some(bmp::DownReason::LocalNotification(
                        bmp::notification_message(n.code, n.subcode, &n.data),
                    ));
                    log_notification(&spec.name, true, &n)
                }
                SessionEvent::NotificationReceived(n) => {
                    status.on_notification(false, &n);
                    notified = true;
                    bmp_down = Some(bmp::DownReason::RemoteNotification(
                        bmp::notification_message(n.code, n.subcode, &n.data),
                    ));
                    log_notification(&spec.name, false, &n)
                }
                SessionEvent::Closed(r) => {
                    debug!(peer = %spec.name, conn = id, reason = ?r, "session closed");
                    closed = true;
                }
                SessionEvent::Connect => {}
            }
        }
        if s.state() != last_state {
            last_state = s.state();
            status.on_state(id, last_state);
        }
        if let Some(b) = s.poll_transmit() {
            opens.on_sent(&b);
            link.send(Bytes::from(b));
        }
        if !batch.is_empty() {
            let msgs = std::mem::take(&mut batch);
            let size = msgs.iter().map(Bytes::len).sum::<usize>().min(ENGINE_INPUT);
            let budget = u32::try_from(size).unwrap_or(u32::MAX);
            match sh.input.acquire_many(budget).await {
                Ok(p) => p.forget(),
                Err(_) => break,
            }
            if sh
                .engine
                .send(ToEngine::Msgs {
                    peer,
                    conn: id,
                    msgs,
                    budget,
                })
                .await
                .is_err()
            {
                break;
            }
        }
        if closed {
            break;
        }
        let deadline = s.poll_timeout();
        let sleep_for = deadline.map(|d| Duration::from_millis(d.saturating_sub(sh.now())));
        tokio::select! {
            r = rd.readable() => match r {
                Ok(()) => match read_into_session(&rd, &mut s, sh.now(), &mut opens, &mut scan_in, &status) {
                    Ok(true) => {}
                    Ok(false) => {
                        bmp_down.get_or_insert(bmp::DownReason::RemoteNoData);
                        s.tcp_closed(sh.now())
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(_) => s.tcp_closed(sh.now()),
                },
                Err(_) => s.tcp_closed(sh.now()),
            },
            _ = tokio::time::sleep(sleep_for.unwrap_or(Duration::ZERO)), if sleep_for.is_some() => {
                s.handle_timeout(sh.now());
            }
            _ = link.ctl_ready.notified() => {
                for c in link.take_control() {
                    match c {
                        Ctl::Fail(e, m) => {
                            warn!(peer = %spec.name, error = %e, "UPDATE error: resetting the session");
                            s.fail(&e, &m);
                        }
                        Ctl::Stop(r) => s.stop(r),
                        Ctl::Notify(n) => s.notify_and_close(n),
                    }
                }
            },
            _ = shutdown.changed(), if !stopping => {
                stopping = true;
                s.stop(StopReason::Shutdown(SHUTDOWN_TEXT.into()));
            }
        }
    }
    if let Some(list) = sh.conns().get_mut(peer) {
        list.retain(|c| c.id != id);
    }
    if let (true, Some(b)) = (up, &sh.bmp) {
        // Closed on our side without a NOTIFICATION: FSM event 2 (ManualStop) stands for it.
        b.peer_down(
            peer,
            &bmp_down.unwrap_or(bmp::DownReason::LocalNoNotification(2)),
        );
    }
    status.on_closed(id);
    if up {
        let graceful = restart.filter(|_| !notified);
        let _ = sh
            .engine
            .send(ToEngine::Down {
                peer,
                conn: id,
                graceful,
            })
            .await;
        if let Some((t, _)) = graceful {
            info!(peer = %spec.name, conn = id, restart_time = t, "session down: graceful restart, routes kept as stale");
        } else {
            info!(peer = %spec.name, conn = id, "session down");
        }
    }
    link.close();
    let abort = writer.abort_handle();
    if tokio::time::timeout(Duration::from_secs(3), writer)
        .await
        .is_err()
    {
        // The peer stopped reading: drop what it did not take.
        abort.abort();
    }
}

thread_local! {
    /// The read buffer of the connections this worker thread serves.
    static READ_SCRATCH: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0u8; READ_BUF]);
}

/// Read what the socket has into the session, through this thread's buffer.
/// `Ok(false)`: the peer closed the connection.
fn read_into_session(
    rd: &tokio::net::tcp::OwnedReadHalf,
    s: &mut Session,
    now: u64,
    opens: &mut bmp::OpenCapture,
    scan: &mut Scan,
    status: &PeerStatus,
) -> std::io::Result<bool> {
    READ_SCRATCH.with(|b| {
        let mut b = b.borrow_mut();
        let n = rd.try_read(&mut b)?;
        if n == 0 {
            return Ok(false);
        }
        let got = b.get(..n).unwrap_or(&[]);
        opens.on_received(got);
        scan.feed(got, &status.rx);
        s.handle_bytes(now, got);
        Ok(true)
    })
}

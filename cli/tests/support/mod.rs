//! What the daemon tests share: a BGP peer on a blocking socket, the daemon
//! process, temporary folders and bounded accepts.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::Child;
use std::time::{Duration, Instant};

use reflector_core::session::{shutdown_text, Session, SessionConfig, SessionEvent};
use reflector_core::wire::update_repr::{AttributeValue, MpNlri};
use reflector_core::wire::{Prefix, UpdatePacket, UpdateRepr};

/// A BGP peer on a blocking socket, driven by a Session.
pub struct Peer {
    pub name: &'static str,
    pub sock: TcpStream,
    pub s: Session,
    pub start: Instant,
    pub updates: Vec<UpdateRepr>,
    pub notifications: Vec<(u8, u8, Option<String>)>,
    /// ROUTE-REFRESH messages received: (AFI, SAFI).
    pub refreshes: Vec<(u16, u8)>,
}

impl Peer {
    pub fn new(name: &'static str, sock: TcpStream, asn: u32, router_id: Ipv4Addr) -> Peer {
        Peer::with_config(name, sock, SessionConfig::new(asn, router_id, Some(asn)))
    }

    pub fn with_config(name: &'static str, sock: TcpStream, mut cfg: SessionConfig) -> Peer {
        sock.set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        cfg.passive = true;
        let mut s = Session::new(cfg);
        s.start(0);
        s.tcp_connected(0);
        let mut p = Peer {
            name,
            sock,
            s,
            start: Instant::now(),
            updates: Vec::new(),
            notifications: Vec::new(),
            refreshes: Vec::new(),
        };
        p.flush();
        p
    }

    pub fn now(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    pub fn flush(&mut self) {
        if let Some(b) = self.s.poll_transmit() {
            let _ = self.sock.write_all(&b);
        }
    }

    /// Read and handle what arrives for up to 50 ms.
    pub fn step(&mut self) {
        let mut buf = [0u8; 65536];
        match self.sock.read(&mut buf) {
            Ok(0) => self.s.tcp_closed(self.now()),
            Ok(n) => {
                let now = self.now();
                self.s.handle_bytes(now, &buf[..n]);
            }
            Err(_) => {}
        }
        let now = self.now();
        self.s.handle_timeout(now);
        let ctx = self.s.receive_context();
        while let Some(ev) = self.s.poll_event() {
            match ev {
                SessionEvent::Message(m) if m[18] == 2 => {
                    let p = UpdatePacket::new_checked(&m[..], &ctx).unwrap();
                    self.updates.push(UpdateRepr::parse(&p));
                }
                SessionEvent::Message(m) if m[18] == 5 && m.len() >= 23 => {
                    self.refreshes
                        .push((u16::from_be_bytes([m[19], m[20]]), m[22]));
                }
                SessionEvent::NotificationReceived(n) => {
                    let t = shutdown_text(&n);
                    self.notifications.push((n.code, n.subcode, t));
                }
                _ => {}
            }
        }
        self.flush();
    }

    pub fn until(&mut self, what: &str, mut f: impl FnMut(&Peer) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !f(self) {
            assert!(
                Instant::now() < deadline,
                "{}: timed out waiting for {what}; state {:?}, {} updates, notifications {:?}",
                self.name,
                self.s.state(),
                self.updates.len(),
                self.notifications
            );
            self.step();
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.sock.write_all(bytes).unwrap();
    }

    /// Prefixes currently announced to us (announcements minus later withdrawals), with the last UPDATE for each.
    pub fn rib(&self) -> Vec<(Prefix, UpdateRepr)> {
        let mut rib: Vec<(Prefix, UpdateRepr)> = Vec::new();
        for u in &self.updates {
            let mut gone: Vec<Prefix> = u.withdrawn.iter().map(|n| n.prefix).collect();
            let mut new: Vec<Prefix> = u.nlri.iter().map(|n| n.prefix).collect();
            for a in &u.attributes {
                match &a.value {
                    AttributeValue::MpReach(m) => {
                        if let MpNlri::Prefixes(p) = &m.nlri {
                            new.extend(p.iter().map(|n| n.prefix));
                        }
                    }
                    AttributeValue::MpUnreach(m) => {
                        if let MpNlri::Prefixes(p) = &m.nlri {
                            gone.extend(p.iter().map(|n| n.prefix));
                        }
                    }
                    _ => {}
                }
            }
            rib.retain(|(p, _)| !gone.contains(p) && !new.contains(p));
            rib.extend(new.into_iter().map(|p| (p, u.clone())));
        }
        rib
    }

    pub fn has(&self, prefix: &str) -> Option<UpdateRepr> {
        let p: Prefix = prefix.parse().unwrap();
        self.rib()
            .into_iter()
            .find(|(q, _)| *q == p)
            .map(|(_, u)| u)
    }
}

/// The daemon under test, killed if still running when dropped.
pub struct Daemon(pub Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn tempdir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("reflector-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Accept the daemon's connection (bounded wait).
pub fn accept(l: &TcpListener) -> TcpStream {
    l.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match l.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false).unwrap();
                return s;
            }
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("the daemon did not connect: {e}"),
        }
    }
}

/// A VPN-IPv4 UPDATE: RD 65000:1, `label`, `prefix`/16, next hop `nh` (with its RD of zeros), LOCAL_PREF `lp`.
pub fn vpn_update(label: u32, prefix: [u8; 2], nh: Ipv4Addr, lp: u32) -> Vec<u8> {
    use reflector_core::wire::attribute::Origin;
    use reflector_core::wire::update_repr::{AsPath, AttributeRepr, MpReachRepr};
    use reflector_core::wire::vpn::{Label, RouteDistinguisher};
    use reflector_core::wire::{AfiSafi, Context};
    let mut nlri = vec![24 + 64 + 16];
    nlri.extend_from_slice(&Label::new(label, true).to_bytes());
    nlri.extend_from_slice(&RouteDistinguisher::as2(65000, 1).0);
    nlri.extend_from_slice(&prefix);
    let mut next_hop = vec![0u8; 8];
    next_hop.extend_from_slice(&nh.octets());
    UpdateRepr {
        withdrawn: vec![],
        attributes: vec![
            AttributeRepr::new(AttributeValue::Origin(Origin::Igp)),
            AttributeRepr::new(AttributeValue::AsPath(AsPath::sequence(&[]))),
            AttributeRepr::new(AttributeValue::LocalPref(lp)),
            AttributeRepr::new(AttributeValue::MpReach(MpReachRepr {
                afi_safi: AfiSafi::VPNV4,
                next_hop,
                reserved: 0,
                nlri: MpNlri::Opaque(nlri),
            })),
        ],
        nlri: vec![],
    }
    .to_vec(&Context::MODERN)
    .unwrap()
}

/// The MP_UNREACH_NLRI UPDATE withdrawing the VPN-IPv4 route of [`vpn_update`] (`label`, `prefix`/16).
pub fn vpn_withdraw(label: u32, prefix: [u8; 2]) -> Vec<u8> {
    use reflector_core::wire::update_repr::{AttributeRepr, MpUnreachRepr};
    use reflector_core::wire::vpn::{Label, RouteDistinguisher};
    use reflector_core::wire::{AfiSafi, Context};
    let mut nlri = vec![24 + 64 + 16];
    nlri.extend_from_slice(&Label::new(label, true).to_bytes());
    nlri.extend_from_slice(&RouteDistinguisher::as2(65000, 1).0);
    nlri.extend_from_slice(&prefix);
    UpdateRepr {
        withdrawn: vec![],
        attributes: vec![AttributeRepr::new(AttributeValue::MpUnreach(
            MpUnreachRepr {
                afi_safi: AfiSafi::VPNV4,
                nlri: MpNlri::Opaque(nlri),
            },
        ))],
        nlri: vec![],
    }
    .to_vec(&Context::MODERN)
    .unwrap()
}

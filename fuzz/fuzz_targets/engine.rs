//! Arbitrary bytes cut into messages (UPDATEs and ROUTE-REFRESHes) and fed to
//! an engine from several peers, two of them with enhanced route refresh: the
//! engine must never panic, a reset must only take down the peer that sent
//! the bad message, and output for other peers must always decode.
#![no_main]

use std::net::{IpAddr, Ipv4Addr};

use libfuzzer_sys::fuzz_target;
use reflector_core::engine::{Engine, EngineConfig, Negotiated, Outcome, PeerConfig};
use reflector_core::reflect::Role;
use reflector_core::wire::route_refresh::RouteRefreshPacket;
use reflector_core::wire::{Context, UpdatePacket};

fuzz_target!(|data: &[u8]| {
    let mut e = Engine::new(EngineConfig::new(63400, Ipv4Addr::new(10, 0, 0, 254)));
    let roles = [Role::Client, Role::Client, Role::NonClient, Role::Ebgp];
    let peers: Vec<_> = roles
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let n = i as u8 + 1;
            let asn = if *r == Role::Ebgp { 65001 } else { 63400 };
            let id = e.add_peer(PeerConfig::new(
                *r,
                IpAddr::V4(Ipv4Addr::new(10, 0, 0, n)),
                asn,
            ));
            e.peer_up(id, negotiated(n));
            id
        })
        .collect();
    // Format: [peer selector, high bit: ROUTE-REFRESH][u16 length][bytes]...
    // each chunk prefixed with a header.
    let mut rest = data;
    while rest.len() >= 3 {
        let sel = rest[0];
        let who = peers[usize::from(sel & 0x7f) % peers.len()];
        let len = usize::from(u16::from_be_bytes([rest[1], rest[2]]))
            .min(rest.len() - 3)
            .min(4096 - 19);
        let body = &rest[3..3 + len];
        rest = &rest[3 + len..];
        let mut msg = vec![0xff; 16];
        msg.extend(((19 + body.len()) as u16).to_be_bytes());
        msg.push(if sel & 0x80 != 0 { 5 } else { 2 });
        msg.extend_from_slice(body);
        let up_before: Vec<bool> = peers.iter().map(|&p| e.is_up(p)).collect();
        let outcome = e.handle_message(who, &msg);
        for (i, &p) in peers.iter().enumerate() {
            if p != who {
                assert_eq!(e.is_up(p), up_before[i], "other sessions are not disturbed");
            }
        }
        if let Outcome::Reset { .. } = outcome {
            assert!(!e.is_up(who));
            e.peer_up(who, negotiated(9));
        }
        for &p in &peers {
            let out = e.take_transmit(p);
            let mut pos = 0;
            while pos + 19 <= out.len() {
                let l = usize::from(u16::from_be_bytes([out[pos + 16], out[pos + 17]]));
                let m = &out[pos..pos + l];
                if m[18] == 5 {
                    RouteRefreshPacket::new_checked(m).expect("engine output decodes");
                } else {
                    UpdatePacket::new_checked(m, &Context::MODERN).expect("engine output decodes");
                }
                pos += l;
            }
            assert_eq!(pos, out.len());
        }
    }
});

/// Odd-numbered peers negotiated enhanced route refresh (RFC 7313).
fn negotiated(n: u8) -> Negotiated {
    let mut neg = Negotiated::unicast(Ipv4Addr::new(10, 0, 0, n));
    neg.enhanced_route_refresh = n % 2 == 1;
    neg
}

//! The engine fuzz target's harness, shared by `fuzz/fuzz_targets/engine.rs`
//! and the regression test of its findings (`core/tests/fuzz_regressions.rs`).
//!
//! Arbitrary bytes cut into messages (UPDATEs and ROUTE-REFRESHes) and fed to
//! an engine from several peers, two of them with enhanced route refresh and
//! two with prefix limits; chunks can also pause or resume a peer's output.
//! The engine must never panic, a reset must only take down the peer that
//! sent the bad message (or crossed its limit); one peer has an import
//! policy and one an export policy, nothing is encoded for a
//! paused peer, and output for every peer must always decode.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::{IpAddr, Ipv4Addr};

use reflector_core::engine::{Engine, EngineConfig, Negotiated, Outcome, PeerConfig, PrefixLimit};
use reflector_core::policy::{CommunityEdit, Condition, Modify, Policy, Statement, Verdict};
use reflector_core::reflect::Role;
use reflector_core::wire::route_refresh::RouteRefreshPacket;
use reflector_core::wire::{Context, UpdatePacket};

/// Reject 10.0.0.0/8 and longer; on routes with 65000:* set LOCAL_PREF 200,
/// prepend twice, add a community and a large community, remove MED.
fn policy() -> Policy {
    let mut pol = Policy::new("fuzz", Verdict::Accept);
    pol.push(
        Statement::new("reject", Verdict::Reject)
            .when(Condition::Prefix(vec!["10.0.0.0/8+".parse().unwrap()])),
    );
    pol.push(
        Statement::new("rewrite", Verdict::Next)
            .when(Condition::Community(vec!["65000:*".parse().unwrap()]))
            .then(Modify::SetLocalPref(200))
            .then(Modify::Prepend {
                asn: None,
                count: 2,
            })
            .then(Modify::RemoveMed)
            .then(Modify::Communities(CommunityEdit::Add(vec![0xfde8_0063])))
            .then(Modify::LargeCommunities(CommunityEdit::Add(vec![[
                1, 2, 3,
            ]]))),
    );
    pol
}

/// Runs one input (the format is described in the body).
pub fn run(data: &[u8]) {
    let mut cfg = EngineConfig::new(63400, Ipv4Addr::new(10, 0, 0, 254));
    // RFC 8212 off, so that eBGP paths reach the decision and export code.
    cfg.ebgp_requires_policy = false;
    let mut e = Engine::new(cfg);
    let roles = [Role::Client, Role::Client, Role::NonClient, Role::Ebgp];
    let peers: Vec<_> = roles
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let n = i as u8 + 1;
            let asn = if *r == Role::Ebgp { 65001 } else { 63400 };
            let mut cfg = PeerConfig::new(*r, IpAddr::V4(Ipv4Addr::new(10, 0, 0, n)), asn);
            match i {
                0 => cfg.max_prefixes_ipv4 = Some(PrefixLimit::cease(40)),
                1 => cfg.max_prefixes_ipv6 = Some(PrefixLimit::warning(10)),
                _ => {}
            }
            let id = e.add_peer(cfg);
            e.peer_up(id, negotiated(n));
            id
        })
        .collect();
    // Peer 2 (a client) has an import policy, the non-client an export
    // policy: both rewrite attributes and reject some prefixes.
    let _ = e.set_import_policy(peers[1], Some(policy()));
    e.set_export_policy(peers[2], Some(policy()));
    // Format: [peer selector, high bit: ROUTE-REFRESH, bit 6: pause/resume
    // instead][u16 length][bytes]... each chunk prefixed with a header.
    let mut paused = vec![false; peers.len()];
    let mut rest = data;
    while rest.len() >= 3 {
        let sel = rest[0];
        let wi = usize::from(sel & 0x3f) % peers.len();
        let who = peers[wi];
        if sel & 0x40 != 0 {
            rest = &rest[3..];
            if paused[wi] {
                let _more = e.resume_transmit(who);
            } else {
                e.pause_transmit(who);
                check_output(&e.take_transmit(who));
            }
            paused[wi] = !paused[wi] && e.is_paused(who);
            continue;
        }
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
            paused[wi] = false;
        }
        for (i, &p) in peers.iter().enumerate() {
            let out = e.take_transmit(p);
            // A ROUTE-REFRESH from the paused peer itself is answered at once.
            if paused[i] && !(p == who && sel & 0x80 != 0) {
                assert!(out.is_empty(), "nothing is encoded for a paused peer");
            }
            check_output(&out);
        }
    }
    for (i, &p) in peers.iter().enumerate() {
        if paused[i] {
            let _more = e.resume_transmit(p);
            check_output(&e.take_transmit(p));
            assert!(!e.is_catching_up(p));
        }
    }
}

/// Every message the engine wrote decodes.
fn check_output(out: &[u8]) {
    let mut pos = 0;
    while pos + 19 <= out.len() {
        let l = usize::from(u16::from_be_bytes([out[pos + 16], out[pos + 17]]));
        let m = &out[pos..pos + l];
        let ok = if m[18] == 5 {
            RouteRefreshPacket::new_checked(m)
                .map(|_| ())
                .map_err(|e| format!("{e:?}"))
        } else {
            UpdatePacket::new_checked(m, &Context::MODERN)
                .map(|_| ())
                .map_err(|e| format!("{e:?}"))
        };
        if let Err(e) = ok {
            let hex: String = m.iter().map(|b| format!("{b:02x}")).collect();
            panic!("engine output does not decode: {e}\nmessage: {hex}");
        }
        pos += l;
    }
    assert_eq!(pos, out.len());
}

/// Odd-numbered peers negotiated enhanced route refresh (RFC 7313).
/// Peers 2 and up also carry every other family Reflector keeps (VPN, EVPN,
/// flowspec, RT membership, labeled, multicast).
fn negotiated(n: u8) -> Negotiated {
    let mut neg = Negotiated::unicast(Ipv4Addr::new(10, 0, 0, n));
    neg.enhanced_route_refresh = n % 2 == 1;
    if n >= 2 {
        for f in reflector_core::wire::family::KNOWN {
            neg.families.insert(f);
        }
    }
    neg
}

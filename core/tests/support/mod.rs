//! What the engine tests share: an engine with recording on, UPDATEs to feed
//! it, draining a peer's output and reading the prefixes it announced or
//! withdrew, classic fields and MP attributes alike.
#![allow(dead_code, clippy::unwrap_used, clippy::indexing_slicing)]

use std::net::Ipv4Addr;

use std::net::IpAddr;

use reflector_core::engine::{AddPathSend, Engine, EngineConfig, Negotiated, PeerConfig};
use reflector_core::reflect::Role;
use reflector_core::rib::PeerId;
use reflector_core::wire::attribute::type_code;
use reflector_core::wire::update_repr::{AttributeRepr, AttributeValue, MpNlri};
use reflector_core::wire::{AfiSafi, AfiSafiSet, Context, Nlri, Prefix, UpdatePacket, UpdateRepr};

/// The AS of the engine under test and of its iBGP peers.
pub const AS: u32 = 63400;

/// 10.0.0.n: peer n's address and router ID (254 is the engine's).
pub fn rid(n: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, 0, n)
}

/// An engine in [`AS`] with router ID 10.0.0.254, recording events.
pub fn engine() -> Engine {
    let mut cfg = EngineConfig::new(AS, rid(254));
    cfg.record_events = true;
    // RFC 8212 off: these tests are about the reflection and eBGP rules (policy.rs tests it).
    cfg.ebgp_requires_policy = false;
    Engine::new(cfg)
}

/// An UPDATE announcing IPv4 `prefixes` with `attributes`.
pub fn announce(prefixes: &[&str], attributes: Vec<AttributeRepr>) -> Vec<u8> {
    UpdateRepr {
        withdrawn: vec![],
        attributes,
        nlri: prefixes
            .iter()
            .map(|p| Nlri::new(p.parse().unwrap()))
            .collect(),
    }
    .to_vec(&Context::MODERN)
    .unwrap()
}

/// An UPDATE of `attributes` alone: no withdrawn routes and no classic NLRI
/// (an MP_REACH_NLRI or MP_UNREACH_NLRI among them carries the routes).
pub fn update_of(attributes: Vec<AttributeRepr>) -> Vec<u8> {
    UpdateRepr {
        withdrawn: vec![],
        attributes,
        nlri: vec![],
    }
    .to_vec(&Context::MODERN)
    .unwrap()
}

/// Every message queued for a peer, as sent.
pub fn transmit(e: &mut Engine, p: PeerId) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 65535];
    while let Some(n) = e.poll_transmit(p, &mut buf) {
        out.push(buf[..n].to_vec());
    }
    out
}

/// Everything queued for a peer, decoded with the peer's context.
pub fn drain(e: &mut Engine, p: PeerId, ctx: &Context) -> Vec<UpdateRepr> {
    transmit(e, p)
        .iter()
        .map(|m| UpdateRepr::parse(&UpdatePacket::new_checked(&m[..], ctx).unwrap()))
        .collect()
}

/// Prefixes announced by `u`, in order (classic NLRI, then MP_REACH_NLRI, per message).
pub fn announced(u: &[UpdateRepr]) -> Vec<Prefix> {
    let mut v: Vec<Prefix> = u
        .iter()
        .flat_map(|u| u.nlri.iter().map(|n| n.prefix))
        .collect();
    for x in u {
        if let Some(AttributeValue::MpReach(m)) = x.attribute(type_code::MP_REACH_NLRI) {
            if let MpNlri::Prefixes(p) = &m.nlri {
                v.extend(p.iter().map(|n| n.prefix));
            }
        }
    }
    v
}

/// Prefixes withdrawn by `u`, in order (classic field, then MP_UNREACH_NLRI, per message).
pub fn withdrawn(u: &[UpdateRepr]) -> Vec<Prefix> {
    let mut v: Vec<Prefix> = u
        .iter()
        .flat_map(|u| u.withdrawn.iter().map(|n| n.prefix))
        .collect();
    for x in u {
        if let Some(AttributeValue::MpUnreach(m)) = x.attribute(type_code::MP_UNREACH_NLRI) {
            if let MpNlri::Prefixes(p) = &m.nlri {
                v.extend(p.iter().map(|n| n.prefix));
            }
        }
    }
    v
}

/// MP_REACH_NLRI for IPv6 unicast `prefixes` with next hop 2001:db8::1.
pub fn mp_reach_v6(prefixes: &[Prefix]) -> AttributeRepr {
    use reflector_core::wire::update_repr::MpReachRepr;
    use reflector_core::wire::AfiSafi;
    AttributeRepr::new(AttributeValue::MpReach(MpReachRepr {
        afi_safi: AfiSafi::IPV6_UNICAST,
        next_hop: "2001:db8::1"
            .parse::<std::net::Ipv6Addr>()
            .unwrap()
            .octets()
            .to_vec(),
        reserved: 0,
        nlri: MpNlri::Prefixes(prefixes.iter().map(|p| Nlri::new(*p)).collect()),
    }))
}

/// A prefix from its text.
pub fn p(s: &str) -> Prefix {
    s.parse().unwrap()
}

/// The receive context of a peer with ADD-PATH for IPv4 unicast.
pub fn add_path_ctx() -> Context {
    Context {
        add_path: AfiSafiSet::EMPTY.with(AfiSafi::IPV4_UNICAST),
        ..Context::MODERN
    }
}

/// Client n, up, sent every path of IPv4 unicast with ADD-PATH; its End-of-RIB drained.
pub fn add_path_client(e: &mut Engine, n: u8) -> PeerId {
    let mut cfg = PeerConfig::new(Role::Client, IpAddr::V4(rid(n)), AS);
    cfg.add_path_send = AddPathSend::All;
    let id = e.add_peer(cfg);
    let mut neg = Negotiated::unicast(rid(n));
    neg.add_path_send = AfiSafiSet::EMPTY.with(AfiSafi::IPV4_UNICAST);
    e.peer_up(id, neg);
    drain(e, id, &add_path_ctx());
    id
}

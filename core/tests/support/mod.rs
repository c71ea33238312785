//! What the engine tests share: draining a peer's output and reading the
//! prefixes it announced or withdrew, classic fields and MP attributes alike.
#![allow(dead_code, clippy::unwrap_used, clippy::indexing_slicing)]

use reflector_core::engine::Engine;
use reflector_core::rib::PeerId;
use reflector_core::wire::attribute::type_code;
use reflector_core::wire::update_repr::{AttributeValue, MpNlri};
use reflector_core::wire::{Context, Prefix, UpdatePacket, UpdateRepr};

/// Everything queued for a peer, decoded with the peer's context.
pub fn drain(e: &mut Engine, p: PeerId, ctx: &Context) -> Vec<UpdateRepr> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 65535];
    while let Some(n) = e.poll_transmit(p, &mut buf) {
        let pkt = UpdatePacket::new_checked(&buf[..n], ctx).unwrap();
        out.push(UpdateRepr::parse(&pkt));
    }
    out
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

/// A prefix from its text.
pub fn p(s: &str) -> Prefix {
    s.parse().unwrap()
}

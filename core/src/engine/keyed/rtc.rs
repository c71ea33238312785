//! RT membership (RFC 4684): what each peer asked for, and the default membership sent to clients.

use alloc::sync::Arc;
use alloc::vec::Vec;

use hashbrown::HashSet;
use smallvec::SmallVec;

use super::export::Batch;
use super::wire::{pack, with_path_id};
use super::{keyed_index, Nb};
use crate::engine::Engine;
use crate::reflect::{self, OutBlock};
use crate::rib::PeerId;
use crate::wire::attribute::{flags, type_code};
use crate::wire::rtc::RtcNlri;
use crate::wire::AfiSafi;

/// A peer's RT memberships (RFC 4684): the RT membership routes it sent.
#[derive(Debug, Default, Clone)]
pub(in crate::engine) struct Membership {
    default: bool,
    exact: HashSet<[u8; 8]>,
    partial: Vec<RtcNlri>,
}

impl Membership {
    pub(super) fn covers(&self, rts: &[[u8; 8]]) -> bool {
        self.default
            || rts
                .iter()
                .any(|rt| self.exact.contains(rt) || self.partial.iter().any(|m| m.covers(rt)))
    }
}

/// The route targets among a canonical block's extended communities
/// (transitive two-octet-AS, IPv4 and four-octet-AS types, sub-type 2).
pub(super) fn route_targets(block: &[u8]) -> SmallVec<[[u8; 8]; 4]> {
    let mut out = SmallVec::new();
    let mut rest = block;
    while let Some((_, t, start, end)) = crate::wire::attribute::tlv(rest, 0) {
        if t == type_code::EXTENDED_COMMUNITIES {
            for c in rest.get(start..end).unwrap_or(&[]).chunks_exact(8) {
                if matches!(c, [0x00..=0x02, 0x02, ..]) {
                    if let Ok(a) = <[u8; 8]>::try_from(c) {
                        out.push(a);
                    }
                }
            }
        }
        rest = rest.get(end..).unwrap_or(&[]);
    }
    out
}

impl Engine {
    /// The peer's RT memberships, from the RT membership routes it sent.
    pub(super) fn membership_of(&self, peer: PeerId) -> Membership {
        let mut m = Membership::default();
        let Some(fi) = keyed_index(AfiSafi::RT_CONSTRAINT) else {
            return m;
        };
        let Some(rib) = self.rib.keyed.0.get(fi) else {
            return m;
        };
        for e in &rib.entries {
            if !e.paths.iter().any(|kp| kp.path.peer == peer) {
                continue;
            }
            let k = e.key.as_slice();
            let len = k.first().copied().unwrap_or(0);
            if len == 0 {
                m.default = true;
                continue;
            }
            let mut rt = [0u8; 8];
            for (d, s) in rt.iter_mut().zip(k.iter().skip(5)) {
                *d = *s;
            }
            if len == 96 {
                m.exact.insert(rt);
            } else {
                let origin_as = k
                    .get(1..5)
                    .and_then(|b| <[u8; 4]>::try_from(b).ok())
                    .map_or(0, u32::from_be_bytes);
                m.partial.push(RtcNlri {
                    path_id: None,
                    len,
                    origin_as,
                    route_target: rt,
                });
            }
        }
        m
    }

    /// Announce the default RT membership to a client (RFC 4684 §3.2).
    pub(super) fn send_default_membership(&mut self, peer: PeerId) {
        let Some(p) = self.peers.get_mut(peer.index()) else {
            return;
        };
        let nh: Option<Nb> = match (p.cfg.local_v4, p.cfg.local_v6) {
            (Some(a), _) => Some(Nb::from_slice(&a.octets())),
            (None, Some(a)) => Some(Nb::from_slice(&a.octets())),
            _ => None,
        };
        let Some(nh) = nh else {
            return;
        };
        let mut attrs: Vec<u8> = Vec::new();
        reflect::push_attr(&mut attrs, flags::TRANSITIVE, type_code::ORIGIN, &[0]);
        reflect::push_attr(&mut attrs, flags::TRANSITIVE, type_code::AS_PATH, &[]);
        reflect::push_attr(
            &mut attrs,
            flags::TRANSITIVE,
            type_code::LOCAL_PREF,
            &self.me.default_local_pref.to_be_bytes(),
        );
        let blk = Arc::new(OutBlock {
            attrs: attrs.into_boxed_slice(),
            mp_next_hop: Some(alloc::boxed::Box::from(&nh[..])),
        });
        let mut b = Batch::default();
        let add_path = p.tx_ctx.add_path(AfiSafi::RT_CONSTRAINT);
        b.announce(blk, with_path_id(add_path, 0, &[0]));
        let max = p.tx_ctx.max_message_len();
        let (msgs, ann, _, _) = pack(&mut p.tx.out, max, AfiSafi::RT_CONSTRAINT, &b);
        p.counters.updates_sent += msgs;
        p.counters.prefixes_sent += ann;
    }
}

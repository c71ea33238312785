//! Reflection of the keyed families on real encoded bytes: VPN-IPv4 and
//! VPN-IPv6 (RFC 4364, RFC 4659), labeled unicast (RFC 8277), EVPN (RFC
//! 7432, RFC 9136), flow specification (RFC 8955) and RT membership (RFC
//! 4684) routes go from one client to the others with ORIGINATOR_ID and
//! CLUSTER_LIST added and their RD, labels, next hop and route targets as
//! sent; withdrawals, ADD-PATH, route refresh, graceful restart and
//! RT-Constraint filtering hold; a family the engine does not know is counted.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};

use reflector_core::engine::{AddPathSend, Engine, Negotiated, Outcome, PeerConfig, Reimport};
use reflector_core::policy::{
    Condition, Decision, ExtCommunityMatch, Modify, NextHop, Policy, PrefixRange, Route, Statement,
    Verdict,
};
use reflector_core::reflect::Role;
use reflector_core::rib::PeerId;
use reflector_core::wire::attribute::{type_code, Origin};
use reflector_core::wire::evpn::{EvpnIter, EvpnRoute};
use reflector_core::wire::flowspec::FlowIter;
use reflector_core::wire::rtc::RtcIter;
use reflector_core::wire::update_repr::{
    AsPath, AttributeRepr, AttributeValue, MpNlri, MpReachRepr, MpUnreachRepr,
};
use reflector_core::wire::vpn::{Label, LabeledIter, LabeledNlri, RouteDistinguisher};
use reflector_core::wire::{Afi, AfiSafi, AfiSafiSet, Context, UpdatePacket, UpdateRepr};
use reflector_core::Action;

#[path = "../support/mod.rs"]
mod support;
use support::{engine, rid, transmit, update_of, AS};

mod others;
mod policy;
mod rtc;
mod table;
mod vpn;

const RT100: [u8; 8] = [0x00, 0x02, 0xfd, 0xe8, 0, 0, 0, 100];
const RT200: [u8; 8] = [0x00, 0x02, 0xfd, 0xe8, 0, 0, 0, 200];

fn families(extra: &[AfiSafi]) -> Negotiated {
    let mut n = Negotiated::unicast(Ipv4Addr::UNSPECIFIED);
    for f in extra {
        n.families.insert(*f);
    }
    n
}

fn client_with(e: &mut Engine, n: u8, neg: Negotiated, add_path: bool) -> PeerId {
    let mut cfg = PeerConfig::new(Role::Client, IpAddr::V4(rid(n)), AS);
    cfg.local_v4 = Some(rid(254));
    if add_path {
        cfg.add_path_send = AddPathSend::All;
    }
    let id = e.add_peer(cfg);
    e.peer_up(
        id,
        Negotiated {
            router_id: rid(n),
            ..neg
        },
    );
    transmit(e, id);
    id
}

/// An eBGP peer 10.0.0.`n` in AS 65010, our address 192.0.2.10 (and our AS
/// `local_as` when set) on the session, up with `neg`.
fn ebgp_with(e: &mut Engine, n: u8, local_as: Option<u32>, neg: Negotiated) -> PeerId {
    let mut cfg = PeerConfig::new(Role::Ebgp, IpAddr::V4(rid(n)), 65010);
    cfg.local_v4 = Some(Ipv4Addr::new(192, 0, 2, 10));
    cfg.local_as = local_as;
    let x = e.add_peer(cfg);
    e.peer_up(
        x,
        Negotiated {
            router_id: rid(n),
            ..neg
        },
    );
    transmit(e, x);
    x
}

/// VPN next hop: an RD of zeros and the IPv4 address.
fn vpn_nh(a: Ipv4Addr) -> Vec<u8> {
    let mut v = vec![0u8; 8];
    v.extend_from_slice(&a.octets());
    v
}

fn vpn4(rd: RouteDistinguisher, label: u32, prefix: [u8; 3], len: u8) -> Vec<u8> {
    let mut v = vec![24 + 64 + len];
    v.extend_from_slice(&Label::new(label, true).to_bytes());
    v.extend_from_slice(&rd.0);
    v.extend_from_slice(&prefix[..usize::from(len).div_ceil(8)]);
    v
}

fn reach(f: AfiSafi, nh: Vec<u8>, nlri: Vec<u8>, rts: &[[u8; 8]]) -> Vec<u8> {
    reach_lp(f, nh, nlri, rts, 100)
}

/// Like `reach`, with a LOCAL_PREF of `lp`.
fn reach_lp(f: AfiSafi, nh: Vec<u8>, nlri: Vec<u8>, rts: &[[u8; 8]], lp: u32) -> Vec<u8> {
    reach_with(f, nh, nlri, rts, lp, vec![])
}

/// Like `reach_lp`, with the attributes `extra` last.
fn reach_with(
    f: AfiSafi,
    nh: Vec<u8>,
    nlri: Vec<u8>,
    rts: &[[u8; 8]],
    lp: u32,
    extra: Vec<AttributeRepr>,
) -> Vec<u8> {
    let mut attributes = vec![
        AttributeRepr::new(AttributeValue::Origin(Origin::Igp)),
        AttributeRepr::new(AttributeValue::AsPath(AsPath::sequence(&[]))),
        AttributeRepr::new(AttributeValue::LocalPref(lp)),
        AttributeRepr::new(AttributeValue::MpReach(MpReachRepr {
            afi_safi: f,
            next_hop: nh,
            reserved: 0,
            nlri: MpNlri::Opaque(nlri),
        })),
    ];
    if !rts.is_empty() {
        attributes.push(AttributeRepr::new(AttributeValue::ExtendedCommunities(
            rts.to_vec(),
        )));
    }
    attributes.extend(extra);
    update_of(attributes)
}

fn unreach(f: AfiSafi, nlri: Vec<u8>) -> Vec<u8> {
    update_of(vec![AttributeRepr::new(AttributeValue::MpUnreach(
        MpUnreachRepr {
            afi_safi: f,
            nlri: MpNlri::Opaque(nlri),
        },
    ))])
}

/// The VPN-IPv4 route `nlri` with route target `rt` from `peer` (router ID
/// 10.0.0.1, its next hop), accepted: (announced, withdrawn).
fn vpn_from_1(e: &mut Engine, peer: PeerId, nlri: Vec<u8>, rt: [u8; 8]) -> (u32, u32) {
    accept(e, peer, &reach(AfiSafi::VPNV4, vpn_nh(rid(1)), nlri, &[rt]))
}

/// The VPN-IPv4 entries of an NLRI field as received (`add_path`: with path
/// identifiers; `withdraw`: an MP_UNREACH field, one label entry each).
fn vpn4_entries(field: &[u8], add_path: bool, withdraw: bool) -> Vec<LabeledNlri<'_>> {
    LabeledIter::new_checked(
        field,
        Afi::IPV4,
        true,
        add_path,
        withdraw,
        0,
        Action::SessionReset,
    )
    .unwrap()
    .collect()
}

fn accept(e: &mut Engine, peer: PeerId, msg: &[u8]) -> (u32, u32) {
    match e.handle_message(peer, msg) {
        Outcome::Accepted {
            announced,
            withdrawn,
            rejected: 0,
        } => (announced, withdrawn),
        o => panic!("{o:?}"),
    }
}

/// What one peer received: per message, the MP_REACH family, next hop, NLRI
/// and attributes; and the MP_UNREACH NLRI.
#[derive(Debug, Default)]
struct Got {
    reach: Vec<(AfiSafi, Vec<u8>, Vec<u8>, UpdateRepr)>,
    unreach: Vec<(AfiSafi, Vec<u8>)>,
}

fn got(e: &mut Engine, peer: PeerId, ctx: &Context) -> Got {
    let mut g = Got::default();
    for m in transmit(e, peer) {
        let pkt = UpdatePacket::new_checked(&m[..], ctx).unwrap();
        let repr = UpdateRepr::parse(&pkt);
        if let Some(r) = pkt.mp_reach() {
            g.reach
                .push((r.afi_safi, r.next_hop.to_vec(), r.nlri_bytes.to_vec(), repr));
        } else if let Some(u) = pkt.mp_unreach() {
            if !u.nlri_bytes.is_empty() {
                g.unreach.push((u.afi_safi, u.nlri_bytes.to_vec()));
            }
        }
    }
    g
}

fn attr(u: &UpdateRepr, t: u8) -> Option<AttributeValue> {
    u.attribute(t).cloned()
}

/// The LOCAL_PREF of a received UPDATE.
fn local_pref(u: &UpdateRepr) -> Option<u32> {
    match attr(u, type_code::LOCAL_PREF) {
        Some(AttributeValue::LocalPref(v)) => Some(v),
        _ => None,
    }
}

/// The prefixes of the VPN-IPv4 entries of NLRI `fields`, in order (as
/// [`vpn4_entries`] reads them).
fn vpn4_prefixes<'a>(
    fields: impl IntoIterator<Item = &'a [u8]>,
    add_path: bool,
    withdraw: bool,
) -> Vec<String> {
    fields
        .into_iter()
        .flat_map(|nl| {
            vpn4_entries(nl, add_path, withdraw)
                .into_iter()
                .map(|n| n.prefix.to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The prefixes of the VPN-IPv4 routes announced in `g`, sorted.
fn vpn_prefixes(g: &Got) -> Vec<String> {
    let mut v = vpn4_prefixes(g.reach.iter().map(|r| r.2.as_slice()), false, false);
    v.sort();
    v
}

/// A statement: when `c` holds, apply `actions`, then `verdict`.
fn stmt(c: Vec<Condition>, actions: Vec<Modify>, verdict: Verdict) -> Statement {
    Statement {
        name: String::new(),
        conditions: c,
        actions,
        verdict,
    }
}

/// The NLRI announced in `g`, each family's field split into its routes
/// (VPN-IPv4 and IPv4 multicast), with their LOCAL_PREF, sorted.
fn routes_lp(g: &Got) -> Vec<(String, Option<u32>)> {
    let mut v = Vec::new();
    for (f, _, nl, u) in &g.reach {
        let lp = local_pref(u);
        if *f == AfiSafi::VPNV4 {
            for n in vpn4_entries(nl, false, false) {
                v.push((format!("vpn {}", n.prefix), lp));
            }
        } else {
            let mut i = 0;
            while i < nl.len() {
                let len = usize::from(nl[i]).div_ceil(8);
                v.push((format!("mc {:?}", &nl[i..=i + len]), lp));
                i += 1 + len;
            }
        }
    }
    v.sort();
    v
}

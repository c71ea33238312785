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
use reflector_core::wire::vpn::{Label, LabeledIter, RouteDistinguisher};
use reflector_core::wire::{Afi, AfiSafi, AfiSafiSet, Context, UpdatePacket, UpdateRepr};
use reflector_core::Action;

mod support;
use support::{engine, rid, transmit, AS};

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
    UpdateRepr {
        withdrawn: vec![],
        attributes,
        nlri: vec![],
    }
    .to_vec(&Context::MODERN)
    .unwrap()
}

fn unreach(f: AfiSafi, nlri: Vec<u8>) -> Vec<u8> {
    UpdateRepr {
        withdrawn: vec![],
        attributes: vec![AttributeRepr::new(AttributeValue::MpUnreach(
            MpUnreachRepr {
                afi_safi: f,
                nlri: MpNlri::Opaque(nlri),
            },
        ))],
        nlri: vec![],
    }
    .to_vec(&Context::MODERN)
    .unwrap()
}

/// The VPN-IPv4 route `nlri` with route target `rt` from `peer` (router ID
/// 10.0.0.1, its next hop), accepted: (announced, withdrawn).
fn vpn_from_1(e: &mut Engine, peer: PeerId, nlri: Vec<u8>, rt: [u8; 8]) -> (u32, u32) {
    accept(e, peer, &reach(AfiSafi::VPNV4, vpn_nh(rid(1)), nlri, &[rt]))
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

#[test]
fn rfc4364_vpnv4_route_reflected_with_rd_label_next_hop_and_targets() {
    let mut e = engine();
    let neg = families(&[AfiSafi::VPNV4]);
    let a = client_with(&mut e, 1, neg, false);
    let b = client_with(&mut e, 2, neg, false);
    let c = client_with(&mut e, 3, neg, false);
    // A plain unicast client does not get VPN routes.
    let u = client_with(&mut e, 4, families(&[]), false);
    let rd = RouteDistinguisher::as2(65000, 1);
    let nlri = vpn4(rd, 1001, [10, 1, 0], 16);
    let msg = reach(AfiSafi::VPNV4, vpn_nh(rid(1)), nlri.clone(), &[RT100]);
    assert_eq!(accept(&mut e, a, &msg), (1, 0));
    assert_eq!(e.keyed_routes(AfiSafi::VPNV4), Some(1));
    assert_eq!(e.accepted_paths(a, AfiSafi::VPNV4), 1);
    for peer in [b, c] {
        let g = got(&mut e, peer, &Context::MODERN);
        assert_eq!(g.reach.len(), 1);
        let (f, nh, got_nlri, repr) = &g.reach[0];
        assert_eq!(*f, AfiSafi::VPNV4);
        assert_eq!(nh, &vpn_nh(rid(1)), "the next hop travels unchanged");
        assert_eq!(got_nlri, &nlri, "RD and label as sent");
        let n: Vec<_> = LabeledIter::new_checked(
            got_nlri,
            Afi::IPV4,
            true,
            false,
            false,
            0,
            Action::SessionReset,
        )
        .unwrap()
        .collect();
        assert_eq!(n[0].rd, Some(rd));
        assert_eq!(n[0].labels.first().unwrap().value(), 1001);
        assert_eq!(
            attr(repr, type_code::ORIGINATOR_ID),
            Some(AttributeValue::OriginatorId(rid(1)))
        );
        assert_eq!(
            attr(repr, type_code::CLUSTER_LIST),
            Some(AttributeValue::ClusterList(vec![rid(254).to_bits()]))
        );
        assert_eq!(
            attr(repr, type_code::EXTENDED_COMMUNITIES),
            Some(AttributeValue::ExtendedCommunities(vec![RT100]))
        );
    }
    assert!(
        got(&mut e, a, &Context::MODERN).reach.is_empty(),
        "not back to its sender"
    );
    assert!(got(&mut e, u, &Context::MODERN).reach.is_empty());
    // A new label for the same RD and prefix replaces the route.
    let relabeled = vpn4(rd, 2002, [10, 1, 0], 16);
    let msg = reach(AfiSafi::VPNV4, vpn_nh(rid(1)), relabeled.clone(), &[RT100]);
    assert_eq!(accept(&mut e, a, &msg), (1, 0));
    assert_eq!(e.keyed_routes(AfiSafi::VPNV4), Some(1));
    assert_eq!(got(&mut e, b, &Context::MODERN).reach[0].2, relabeled);
    // The same prefix under another RD is another route.
    let other = vpn4(RouteDistinguisher::as2(65000, 2), 3003, [10, 1, 0], 16);
    vpn_from_1(&mut e, a, other, RT100);
    assert_eq!(e.keyed_routes(AfiSafi::VPNV4), Some(2));
    got(&mut e, b, &Context::MODERN);
    got(&mut e, c, &Context::MODERN);
    // Withdrawal (one label entry, 0x800000) reaches the others.
    let mut wd = vec![24 + 64 + 16, 0x80, 0, 0];
    wd.extend_from_slice(&rd.0);
    wd.extend_from_slice(&[10, 1]);
    assert_eq!(accept(&mut e, a, &unreach(AfiSafi::VPNV4, wd)), (0, 1));
    for peer in [b, c] {
        let g = got(&mut e, peer, &Context::MODERN);
        assert_eq!(g.unreach.len(), 1);
        let w: Vec<_> = LabeledIter::new_checked(
            &g.unreach[0].1,
            Afi::IPV4,
            true,
            false,
            true,
            0,
            Action::SessionReset,
        )
        .unwrap()
        .collect();
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].rd, Some(rd));
        assert_eq!(w[0].prefix.to_string(), "10.1.0.0/16");
        assert_eq!(w[0].labels.first(), Some(Label::WITHDRAW));
    }
    assert_eq!(e.keyed_routes(AfiSafi::VPNV4), Some(1));
    // The session goes down: its remaining route is withdrawn everywhere.
    e.peer_down(a);
    assert_eq!(got(&mut e, b, &Context::MODERN).unreach.len(), 1);
    assert_eq!(e.keyed_routes(AfiSafi::VPNV4), Some(0));
}

#[test]
fn rfc4684_rt_constraint_sends_vpn_routes_only_where_asked() {
    let mut e = engine();
    let neg = families(&[AfiSafi::VPNV4, AfiSafi::RT_CONSTRAINT]);
    let pe1 = client_with(&mut e, 1, neg, false);
    let pe2 = client_with(&mut e, 2, neg, false);
    let pe3 = client_with(&mut e, 3, neg, false);
    // A client without RT-Constraint gets every VPN route.
    let pe4 = client_with(&mut e, 4, families(&[AfiSafi::VPNV4]), false);
    // Memberships: PE2 imports RT 65000:100, PE3 imports 65000:200.
    let member = |rt: [u8; 8]| {
        let mut n = vec![96, 0, 0, 0xfd, 0xe8];
        n.extend_from_slice(&rt);
        n
    };
    accept(
        &mut e,
        pe2,
        &reach(
            AfiSafi::RT_CONSTRAINT,
            rid(2).octets().to_vec(),
            member(RT100),
            &[],
        ),
    );
    accept(
        &mut e,
        pe3,
        &reach(
            AfiSafi::RT_CONSTRAINT,
            rid(3).octets().to_vec(),
            member(RT200),
            &[],
        ),
    );
    for p in [pe1, pe2, pe3, pe4] {
        got(&mut e, p, &Context::MODERN);
    }
    let rd = RouteDistinguisher::as2(65000, 1);
    let r100 = vpn4(rd, 16, [10, 1, 0], 24);
    let r200 = vpn4(rd, 17, [10, 2, 0], 24);
    vpn_from_1(&mut e, pe1, r100.clone(), RT100);
    vpn_from_1(&mut e, pe1, r200.clone(), RT200);
    let vpn_of = |g: &Got| -> BTreeSet<Vec<u8>> {
        g.reach
            .iter()
            .filter(|r| r.0 == AfiSafi::VPNV4)
            .map(|r| r.2.clone())
            .collect()
    };
    assert_eq!(
        vpn_of(&got(&mut e, pe2, &Context::MODERN)),
        BTreeSet::from([r100.clone()])
    );
    assert_eq!(
        vpn_of(&got(&mut e, pe3, &Context::MODERN)),
        BTreeSet::from([r200.clone()])
    );
    let all = got(&mut e, pe4, &Context::MODERN);
    let v: Vec<u8> = all.reach.iter().flat_map(|r| r.2.clone()).collect();
    assert_eq!(v.len(), r100.len() + r200.len());
    // The Adj-RIB-Out view agrees with what each was sent, rewritten for it.
    let adj_out = |e: &Engine, p| -> BTreeSet<Vec<u8>> {
        e.keyed_adj_rib_out(p, AfiSafi::VPNV4)
            .into_iter()
            .map(|(n, b)| {
                let repr = reflector_core::engine::decode_block(&b.attrs);
                assert!(
                    repr.iter()
                        .any(|a| a.value == AttributeValue::OriginatorId(rid(1))),
                    "ORIGINATOR_ID added for the reflected route"
                );
                n
            })
            .collect()
    };
    assert_eq!(adj_out(&e, pe2), BTreeSet::from([r100.clone()]));
    assert_eq!(adj_out(&e, pe3), BTreeSet::from([r200.clone()]));
    assert_eq!(
        adj_out(&e, pe4),
        BTreeSet::from([r100.clone(), r200.clone()])
    );
    assert_eq!(
        adj_out(&e, pe1),
        BTreeSet::new(),
        "its own routes are not sent back"
    );
    assert!(e.keyed_adj_rib_out(pe2, AfiSafi::EVPN).is_empty());
    // PE3 starts importing 65000:100 as well: it is sent that route now.
    accept(
        &mut e,
        pe3,
        &reach(
            AfiSafi::RT_CONSTRAINT,
            rid(3).octets().to_vec(),
            member(RT100),
            &[],
        ),
    );
    assert_eq!(
        vpn_of(&got(&mut e, pe3, &Context::MODERN)),
        BTreeSet::from([r100.clone()])
    );
    // PE2 stops importing 65000:100: the route is withdrawn from it.
    accept(&mut e, pe2, &unreach(AfiSafi::RT_CONSTRAINT, member(RT100)));
    let g = got(&mut e, pe2, &Context::MODERN);
    assert!(g.unreach.iter().any(|(f, _)| *f == AfiSafi::VPNV4));
    // A default membership (length 0) asks for everything.
    accept(
        &mut e,
        pe2,
        &reach(
            AfiSafi::RT_CONSTRAINT,
            rid(2).octets().to_vec(),
            vec![0],
            &[],
        ),
    );
    assert_eq!(
        vpn_of(&got(&mut e, pe2, &Context::MODERN)),
        BTreeSet::from([r100, r200])
    );
}

#[test]
fn rfc4684_3_2_clients_are_sent_the_default_membership() {
    let mut e = engine();
    let mut cfg = PeerConfig::new(Role::Client, IpAddr::V4(rid(1)), AS);
    cfg.local_v4 = Some(rid(254));
    let a = e.add_peer(cfg);
    e.peer_up(
        a,
        Negotiated {
            router_id: rid(1),
            ..families(&[AfiSafi::VPNV4, AfiSafi::RT_CONSTRAINT])
        },
    );
    let g = got(&mut e, a, &Context::MODERN);
    let rtc: Vec<_> = g
        .reach
        .iter()
        .filter(|r| r.0 == AfiSafi::RT_CONSTRAINT)
        .collect();
    assert_eq!(rtc.len(), 1);
    let n: Vec<_> = RtcIter::new_checked(&rtc[0].2, false, 0, Action::SessionReset)
        .unwrap()
        .collect();
    assert_eq!(n.len(), 1);
    assert_eq!(n[0].len, 0, "the default membership");
    assert_eq!(rtc[0].1, rid(254).octets().to_vec());
    // A client reached over IPv6 only: our IPv6 address as the next hop; one
    // with no address of ours configured is sent none.
    for (v6, want) in [(true, true), (false, false)] {
        let n = if v6 { 2 } else { 3 };
        let mut cfg = PeerConfig::new(Role::Client, IpAddr::V4(rid(n)), AS);
        if v6 {
            cfg.local_v6 = Some("2001:db8::fe".parse().unwrap());
        }
        let c = e.add_peer(cfg);
        e.peer_up(
            c,
            Negotiated {
                router_id: rid(n),
                ..families(&[AfiSafi::VPNV4, AfiSafi::RT_CONSTRAINT])
            },
        );
        let g = got(&mut e, c, &Context::MODERN);
        let nhs: Vec<&Vec<u8>> = g
            .reach
            .iter()
            .filter(|r| r.0 == AfiSafi::RT_CONSTRAINT)
            .map(|r| &r.1)
            .collect();
        if want {
            let v6: std::net::Ipv6Addr = "2001:db8::fe".parse().unwrap();
            assert_eq!(nhs, [&v6.octets().to_vec()]);
        } else {
            assert!(nhs.is_empty(), "{nhs:?}");
        }
    }
}

#[test]
fn rfc7432_evpn_mac_ip_key_and_add_path_to_a_receiver() {
    let mut e = engine();
    let neg = families(&[AfiSafi::EVPN]);
    let a = client_with(&mut e, 1, neg, false);
    let b = client_with(&mut e, 2, neg, false);
    let mut neg_ap = neg;
    neg_ap.add_path_send = AfiSafiSet::EMPTY.with(AfiSafi::EVPN);
    let c = client_with(&mut e, 3, neg_ap, true);
    let mac_ip = |esi: u8, label: u32| {
        let mut v = RouteDistinguisher::as2(65000, 10).0.to_vec();
        v.extend_from_slice(&[esi; 10]);
        v.extend_from_slice(&0u32.to_be_bytes());
        v.push(48);
        v.extend_from_slice(&[2, 0, 0, 0, 0, 1]);
        v.push(32);
        v.extend_from_slice(&[10, 0, 0, 1]);
        v.extend_from_slice(&Label::new(label, true).to_bytes());
        let mut n = vec![2, v.len() as u8];
        n.extend_from_slice(&v);
        n
    };
    let rt = [0x00, 0x02, 0xfd, 0xe8, 0, 0, 0, 10];
    accept(
        &mut e,
        a,
        &reach(
            AfiSafi::EVPN,
            rid(1).octets().to_vec(),
            mac_ip(0, 100),
            &[rt],
        ),
    );
    // The same MAC/IP with another label and ESI from B: the same route, a second path.
    accept(
        &mut e,
        b,
        &reach(
            AfiSafi::EVPN,
            rid(2).octets().to_vec(),
            mac_ip(5, 200),
            &[rt],
        ),
    );
    assert_eq!(e.keyed_routes(AfiSafi::EVPN), Some(1));
    let ctx_ap = Context {
        add_path: AfiSafiSet::EMPTY.with(AfiSafi::EVPN),
        ..Context::MODERN
    };
    let g = got(&mut e, c, &ctx_ap);
    let mut ids = BTreeSet::new();
    let mut labels = BTreeSet::new();
    for (f, _, nlri, repr) in &g.reach {
        assert_eq!(*f, AfiSafi::EVPN);
        assert!(attr(repr, type_code::ORIGINATOR_ID).is_some());
        for n in EvpnIter::new_checked(nlri, true, 0, Action::SessionReset).unwrap() {
            ids.insert(n.path_id.unwrap());
            match n.route().unwrap() {
                EvpnRoute::MacIp { label1, .. } => labels.insert(label1.value()),
                r => panic!("{r:?}"),
            };
        }
    }
    assert_eq!(ids.len(), 2, "both paths, with their own identifiers");
    assert_eq!(labels, BTreeSet::from([100, 200]));
    // A (lower router ID, same attributes) is best: B gets A's path, A gets B's.
    let gb = got(&mut e, b, &Context::MODERN);
    assert_eq!(gb.reach.len(), 1);
    assert_eq!(gb.reach[0].2, mac_ip(0, 100));
    let ga = got(&mut e, a, &Context::MODERN);
    assert!(ga.reach.is_empty(), "A's own path is best: nothing for A");
    // A withdraws: B's path is best now; A is sent it, C loses one path.
    let mut wd = mac_ip(0, 0);
    wd.truncate(wd.len());
    accept(&mut e, a, &unreach(AfiSafi::EVPN, wd));
    assert_eq!(got(&mut e, a, &Context::MODERN).reach[0].2, mac_ip(5, 200));
    let gc = got(&mut e, c, &ctx_ap);
    assert_eq!(gc.unreach.len(), 1);
}

#[test]
fn rfc8955_flowspec_and_rfc8277_labeled_unicast_reflected() {
    let mut e = engine();
    let neg = families(&[AfiSafi::IPV4_FLOWSPEC, AfiSafi::IPV4_LABELED]);
    let a = client_with(&mut e, 1, neg, false);
    let b = client_with(&mut e, 2, neg, false);
    // Traffic to 192.0.2.0/24, TCP port 25: discard (traffic-rate 0).
    let flow = vec![
        0x0b, 0x01, 0x18, 0xc0, 0x00, 0x02, 0x03, 0x81, 0x06, 0x04, 0x81, 0x19,
    ];
    let rate0 = [0x80, 0x06, 0, 0, 0, 0, 0, 0];
    accept(
        &mut e,
        a,
        &reach(AfiSafi::IPV4_FLOWSPEC, vec![], flow.clone(), &[rate0]),
    );
    let mut labeled = vec![24 + 24];
    labeled.extend_from_slice(&Label::new(3, true).to_bytes());
    labeled.extend_from_slice(&[198, 51, 100]);
    accept(
        &mut e,
        a,
        &reach(
            AfiSafi::IPV4_LABELED,
            rid(1).octets().to_vec(),
            labeled.clone(),
            &[],
        ),
    );
    let g = got(&mut e, b, &Context::MODERN);
    let fs: Vec<_> = g
        .reach
        .iter()
        .filter(|r| r.0 == AfiSafi::IPV4_FLOWSPEC)
        .collect();
    assert_eq!(fs.len(), 1);
    assert!(fs[0].1.is_empty(), "no next hop for flow specification");
    assert_eq!(fs[0].2, flow);
    let n: Vec<_> = FlowIter::new_checked(&fs[0].2, Afi::IPV4, false, 0, Action::SessionReset)
        .unwrap()
        .collect();
    assert_eq!(n[0].iter().count(), 3);
    assert_eq!(
        attr(&fs[0].3, type_code::EXTENDED_COMMUNITIES),
        Some(AttributeValue::ExtendedCommunities(vec![rate0]))
    );
    let lu: Vec<_> = g
        .reach
        .iter()
        .filter(|r| r.0 == AfiSafi::IPV4_LABELED)
        .collect();
    assert_eq!(lu[0].2, labeled);
    assert_eq!(lu[0].1, rid(1).octets().to_vec());
    // Flow withdrawal.
    accept(&mut e, a, &unreach(AfiSafi::IPV4_FLOWSPEC, flow.clone()));
    let g = got(&mut e, b, &Context::MODERN);
    assert_eq!(g.unreach, vec![(AfiSafi::IPV4_FLOWSPEC, flow)]);
}

#[test]
fn rfc2918_route_refresh_and_rfc4724_graceful_restart_for_vpn() {
    let mut e = engine();
    let neg = families(&[AfiSafi::VPNV4]);
    let a = client_with(&mut e, 1, neg, false);
    let b = client_with(&mut e, 2, neg, false);
    let rd = RouteDistinguisher::as2(65000, 1);
    let r1 = vpn4(rd, 16, [10, 1, 0], 24);
    let r2 = vpn4(rd, 17, [10, 2, 0], 24);
    vpn_from_1(&mut e, a, r1.clone(), RT100);
    vpn_from_1(&mut e, a, r2.clone(), RT100);
    got(&mut e, b, &Context::MODERN);
    // Route refresh from B for VPN-IPv4: both routes again, then nothing else.
    let rr = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0, 23, 5, 0, 1, 0, 128,
    ];
    assert_eq!(
        e.handle_message(b, &rr),
        Outcome::RouteRefresh(AfiSafi::VPNV4)
    );
    let g = got(&mut e, b, &Context::MODERN);
    let again: BTreeSet<Vec<u8>> = g.reach.iter().map(|r| r.2.clone()).collect();
    assert_eq!(
        again.len(),
        1,
        "one message with both routes (same attributes)"
    );
    assert_eq!(g.reach[0].2.len(), r1.len() + r2.len());
    // A restarts gracefully: its routes stay, nothing is withdrawn.
    e.peer_down_graceful(a, AfiSafiSet::EMPTY.with(AfiSafi::VPNV4));
    assert!(got(&mut e, b, &Context::MODERN).unreach.is_empty());
    assert_eq!(e.keyed_routes(AfiSafi::VPNV4), Some(2));
    e.peer_up_graceful(
        a,
        Negotiated {
            router_id: rid(1),
            ..neg
        },
        AfiSafiSet::EMPTY.with(AfiSafi::VPNV4),
    );
    transmit(&mut e, a);
    // It announces r1 again, then End-of-RIB: r2 is removed.
    vpn_from_1(&mut e, a, r1.clone(), RT100);
    let eor = unreach(AfiSafi::VPNV4, vec![]);
    assert!(matches!(
        e.handle_message(a, &eor),
        Outcome::Accepted { .. }
    ));
    assert_eq!(e.keyed_routes(AfiSafi::VPNV4), Some(1));
    assert_eq!(
        e.accepted_paths(a, AfiSafi::VPNV4),
        1,
        "the swept path leaves the count its prefix limit reads"
    );
    let g = got(&mut e, b, &Context::MODERN);
    assert_eq!(g.unreach.len(), 1);
    let w: Vec<_> = LabeledIter::new_checked(
        &g.unreach[0].1,
        Afi::IPV4,
        true,
        false,
        true,
        0,
        Action::SessionReset,
    )
    .unwrap()
    .collect();
    assert_eq!(w[0].prefix.to_string(), "10.2.0.0/24");
}

#[test]
fn unknown_and_unnegotiated_families_are_counted_not_silently_dropped() {
    let mut e = engine();
    let a = client_with(&mut e, 1, families(&[]), false);
    // VPN-IPv4 is known but not negotiated: its NLRI are counted.
    let rd = RouteDistinguisher::as2(65000, 1);
    let msg = reach(
        AfiSafi::VPNV4,
        vpn_nh(rid(1)),
        vpn4(rd, 1, [10, 0, 0], 8),
        &[],
    );
    assert_eq!(accept(&mut e, a, &msg), (0, 0));
    assert_eq!(e.counters(a).unwrap().unnegotiated_prefixes, 1);
    // SAFI 73 (SR TE policy) is not known at all: the attribute is counted.
    let msg = reach(
        AfiSafi::new(Afi::IPV4, reflector_core::wire::Safi(73)),
        rid(1).octets().to_vec(),
        vec![1, 2, 3],
        &[],
    );
    assert_eq!(accept(&mut e, a, &msg), (0, 0));
    assert_eq!(e.counters(a).unwrap().unknown_family_attrs, 1);
    assert_eq!(e.keyed_routes(AfiSafi::VPNV4), Some(0));
    let events: Vec<_> = std::iter::from_fn(|| e.poll_event())
        .filter_map(|ev| match ev {
            reflector_core::engine::Event::UnknownFamily { peer, family, nlri } => {
                Some((peer, family, nlri))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        events,
        vec![
            (a, AfiSafi::VPNV4, 1),
            (
                a,
                AfiSafi::new(Afi::IPV4, reflector_core::wire::Safi(73)),
                0
            )
        ]
    );
}

#[test]
fn rfc8950_vpnv4_route_with_an_ipv6_next_hop_goes_only_where_negotiated() {
    let mut e = engine();
    let neg = families(&[AfiSafi::VPNV4]);
    let a = client_with(&mut e, 1, neg, false);
    let plain = client_with(&mut e, 2, neg, false);
    let mut with_enh = neg;
    with_enh.extended_next_hop = AfiSafiSet::EMPTY.with(AfiSafi::VPNV4);
    let enh = client_with(&mut e, 3, with_enh, false);
    // RFC 8950 §3: VPN-IPv4 with a 24-byte next hop (RD of zeros, then IPv6).
    let mut nh = vec![0u8; 8];
    nh.extend_from_slice(
        &"2001:db8::1"
            .parse::<std::net::Ipv6Addr>()
            .unwrap()
            .octets(),
    );
    let nlri = vpn4(RouteDistinguisher::as2(65000, 1), 16, [10, 9, 0], 24);
    accept(
        &mut e,
        a,
        &reach(AfiSafi::VPNV4, nh.clone(), nlri.clone(), &[RT100]),
    );
    assert!(got(&mut e, plain, &Context::MODERN).reach.is_empty());
    let g = got(&mut e, enh, &Context::MODERN);
    assert_eq!(g.reach.len(), 1);
    assert_eq!(g.reach[0].1, nh);
    assert_eq!(g.reach[0].2, nlri);
}

/// Toward eBGP a VPN route keeps its next hop (the labels are the next hop's:
/// a reflector allocates none), whatever the session's local address, and
/// gets our AS prepended.
#[test]
fn vpnv4_to_ebgp_keeps_the_next_hop_and_prepends_our_as() {
    let mut e = engine();
    let neg = families(&[AfiSafi::VPNV4]);
    let a = client_with(&mut e, 1, neg, false);
    let x = ebgp_with(&mut e, 10, None, neg);
    let rd = RouteDistinguisher::as2(65000, 1);
    let msg = reach(
        AfiSafi::VPNV4,
        vpn_nh(rid(1)),
        vpn4(rd, 1001, [10, 1, 0], 16),
        &[RT100],
    );
    assert_eq!(accept(&mut e, a, &msg), (1, 0));
    let g = got(&mut e, x, &Context::MODERN);
    assert_eq!(g.reach.len(), 1);
    assert_eq!(g.reach[0].1, vpn_nh(rid(1)));
    match attr(&g.reach[0].3, type_code::AS_PATH) {
        Some(AttributeValue::AsPath(p)) => assert_eq!(p, AsPath::sequence(&[AS])),
        other => panic!("{other:?}"),
    }
    assert!(attr(&g.reach[0].3, type_code::NEXT_HOP).is_none());
}

/// eBGP peers of one class share one encoding of the keyed routes they get
/// (the same bytes, written once); a per-session local AS is part of the
/// class: toward those peers the VPN route carries that AS, in an encoding of
/// its own.
#[test]
fn vpnv4_to_ebgp_classes_share_an_encoding_per_local_as() {
    let mut e = engine();
    let neg = families(&[AfiSafi::VPNV4]);
    let a = client_with(&mut e, 1, neg, false);
    let ebgp = |e: &mut Engine, n: u8, local_as: Option<u32>| ebgp_with(e, n, local_as, neg);
    let (x1, x2) = (ebgp(&mut e, 10, None), ebgp(&mut e, 11, None));
    let (y1, y2) = (ebgp(&mut e, 12, Some(64999)), ebgp(&mut e, 13, Some(64999)));
    let rd = RouteDistinguisher::as2(65000, 1);
    let msg = reach(
        AfiSafi::VPNV4,
        vpn_nh(rid(1)),
        vpn4(rd, 1001, [10, 1, 0], 16),
        &[RT100],
    );
    assert_eq!(accept(&mut e, a, &msg), (1, 0));
    let chunks = |e: &mut Engine, p: PeerId| -> Vec<bytes::Bytes> {
        let c = e.take_transmit_chunks(p);
        assert!(!c.is_empty(), "{p:?}");
        c
    };
    let (cx1, cx2, cy1, cy2) = (
        chunks(&mut e, x1),
        chunks(&mut e, x2),
        chunks(&mut e, y1),
        chunks(&mut e, y2),
    );
    let ptrs = |c: &[bytes::Bytes]| -> Vec<*const u8> { c.iter().map(|b| b.as_ptr()).collect() };
    assert_eq!(ptrs(&cx1), ptrs(&cx2), "one encoding for the class");
    assert_eq!(
        ptrs(&cy1),
        ptrs(&cy2),
        "one encoding for the local-AS class"
    );
    assert_ne!(ptrs(&cx1), ptrs(&cy1));
    for (c, asn) in [(&cx1, AS), (&cy1, 64999)] {
        let bytes: Vec<u8> = c.iter().flat_map(|b| b.iter().copied()).collect();
        let pkt = UpdatePacket::new_checked(&bytes[..], &Context::MODERN).unwrap();
        let repr = UpdateRepr::parse(&pkt);
        match attr(&repr, type_code::AS_PATH) {
            Some(AttributeValue::AsPath(p)) => assert_eq!(p, AsPath::sequence(&[asn])),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn keyed_table_lists_each_route_with_its_candidates_best_first() {
    use reflector_core::decision::Step;
    use reflector_core::wire::family::NlriText;
    let mut e = engine();
    let neg = families(&[AfiSafi::VPNV4]);
    let a = client_with(&mut e, 1, neg, false);
    let b = client_with(&mut e, 2, neg, false);
    let rd = RouteDistinguisher::as2(65000, 1);
    // One route (same RD and prefix) from both, each with its own label:
    // b's LOCAL_PREF wins. A second route from a alone.
    let from_a = vpn4(rd, 1001, [10, 1, 0], 16);
    let from_b = vpn4(rd, 2002, [10, 1, 0], 16);
    let other = vpn4(rd, 1001, [10, 2, 0], 24);
    let msg = reach_lp(
        AfiSafi::VPNV4,
        vpn_nh(rid(1)),
        from_a.clone(),
        &[RT100],
        100,
    );
    assert_eq!(accept(&mut e, a, &msg), (1, 0));
    let msg = reach_lp(
        AfiSafi::VPNV4,
        vpn_nh(rid(2)),
        from_b.clone(),
        &[RT100],
        200,
    );
    assert_eq!(accept(&mut e, b, &msg), (1, 0));
    let msg = reach_lp(AfiSafi::VPNV4, vpn_nh(rid(1)), other.clone(), &[RT100], 100);
    assert_eq!(accept(&mut e, a, &msg), (1, 0));
    transmit(&mut e, a);

    let mut table = e.keyed_table(AfiSafi::VPNV4);
    table.sort_by_key(|r| r.paths.len());
    assert_eq!(table.len(), 2);
    assert!(table.iter().all(|r| r.family == AfiSafi::VPNV4));
    let (lone, both) = (&table[0], &table[1]);
    assert_eq!(lone.paths.len(), 1);
    assert_eq!(lone.paths[0].0, other);
    assert_eq!(lone.paths[0].1.peer, a);
    assert_eq!(lone.paths[0].2, None);
    // Best first, each path with the NLRI (label) it came with, the loser
    // with the step at which it lost.
    assert_eq!(both.paths.len(), 2);
    assert_eq!((both.paths[0].1.peer, &both.paths[0].0), (b, &from_b));
    assert_eq!(both.paths[0].2, None);
    assert_eq!((both.paths[1].1.peer, &both.paths[1].0), (a, &from_a));
    assert_eq!(both.paths[1].2, Some(Step::LocalPref));
    let text = |n: &[u8]| {
        NlriText {
            family: AfiSafi::VPNV4,
            nlri: n,
        }
        .to_string()
    };
    assert_eq!(text(&both.paths[0].0), "65000:1:10.1.0.0/16 label 2002");
    assert_eq!(text(&lone.paths[0].0), "65000:1:10.2.0.0/24 label 1001");
    // A family the engine keeps but holds nothing of, and one it does not keep.
    assert!(e.keyed_table(AfiSafi::EVPN).is_empty());
    assert!(e.keyed_table(AfiSafi::IPV4_UNICAST).is_empty());
}

#[test]
fn keyed_best_changed_events_follow_the_best_path() {
    use reflector_core::engine::Event;
    let mut e = engine();
    let neg = families(&[AfiSafi::VPNV4]);
    let a = client_with(&mut e, 1, neg, false);
    let b = client_with(&mut e, 2, neg, false);
    let c = client_with(&mut e, 3, neg, false);
    while e.poll_event().is_some() {}
    let rd = RouteDistinguisher::as2(65000, 1);
    let from_a = vpn4(rd, 1001, [10, 1, 0], 16);
    let from_b = vpn4(rd, 2002, [10, 1, 0], 16);
    // The events of the changes since the last call: (key, best).
    let changes = |e: &mut Engine| {
        e.flush();
        let mut v = Vec::new();
        while let Some(ev) = e.poll_event() {
            if let Event::KeyedBestChanged { family, key, best } = ev {
                assert_eq!(family, AfiSafi::VPNV4);
                v.push((key, best));
            }
        }
        v
    };
    let lp = |nlri: &[u8], n: u8, lp| {
        reach_lp(AfiSafi::VPNV4, vpn_nh(rid(n)), nlri.to_vec(), &[RT100], lp)
    };
    assert_eq!(accept(&mut e, a, &lp(&from_a, 1, 100)), (1, 0));
    let ch = changes(&mut e);
    assert_eq!(ch.len(), 1, "{ch:?}");
    let key = ch[0].0.clone();
    assert_eq!(ch[0].1, Some(a));
    let r = e.keyed_route(AfiSafi::VPNV4, &key).unwrap();
    assert_eq!((r.family, &r.key, r.paths.len()), (AfiSafi::VPNV4, &key, 1));
    assert_eq!(r.paths[0].0, from_a);
    // A worse path from C changes the route but not its best path: no event.
    let from_c = vpn4(rd, 3003, [10, 1, 0], 16);
    assert_eq!(accept(&mut e, c, &lp(&from_c, 3, 50)), (1, 0));
    assert_eq!(
        changes(&mut e),
        vec![],
        "a worse path is no best-path change"
    );
    assert_eq!(e.keyed_route(AfiSafi::VPNV4, &key).unwrap().paths.len(), 2);
    // B's better path; then the same again (no change, no event).
    assert_eq!(accept(&mut e, b, &lp(&from_b, 2, 200)), (1, 0));
    assert_eq!(changes(&mut e), vec![(key.clone(), Some(b))]);
    assert_eq!(
        accept(&mut e, b, &lp(&from_b, 2, 200)),
        (0, 0),
        "nothing new"
    );
    assert_eq!(changes(&mut e), vec![]);
    let r = e.keyed_route(AfiSafi::VPNV4, &key).unwrap();
    assert_eq!(r.paths.len(), 3);
    assert_eq!((r.paths[0].1.peer, &r.paths[0].0), (b, &from_b));
    // A change of attributes of the best path is a change too.
    assert_eq!(accept(&mut e, b, &lp(&from_b, 2, 300)), (1, 0));
    assert_eq!(changes(&mut e), vec![(key.clone(), Some(b))]);
    // Withdrawals: A's path is best again, then nothing is left.
    assert_eq!(accept(&mut e, b, &unreach(AfiSafi::VPNV4, from_b)), (0, 1));
    assert_eq!(changes(&mut e), vec![(key.clone(), Some(a))]);
    assert_eq!(accept(&mut e, a, &unreach(AfiSafi::VPNV4, from_a)), (0, 1));
    assert_eq!(changes(&mut e), vec![(key.clone(), Some(c))]);
    assert_eq!(accept(&mut e, c, &unreach(AfiSafi::VPNV4, from_c)), (0, 1));
    assert_eq!(changes(&mut e), vec![(key.clone(), None)]);
    assert!(e.keyed_route(AfiSafi::VPNV4, &key).is_none());
    assert!(e.keyed_route(AfiSafi::IPV4_UNICAST, &key).is_none());
}

#[test]
fn keyed_table_gives_each_add_path_path_its_own_nlri() {
    let mut e = engine();
    let mut neg = families(&[AfiSafi::VPNV4]);
    neg.add_path_receive.insert(AfiSafi::VPNV4);
    let a = client_with(&mut e, 1, neg, false);
    let rd = RouteDistinguisher::as2(65000, 1);
    // Two paths of one route from one peer (path identifiers 1 and 2), each with its label.
    let one = vpn4(rd, 1001, [10, 1, 0], 16);
    let two = vpn4(rd, 1002, [10, 1, 0], 16);
    let with_id = |id: u32, n: &[u8]| [&id.to_be_bytes()[..], n].concat();
    let msg = reach_lp(
        AfiSafi::VPNV4,
        vpn_nh(rid(1)),
        with_id(1, &one),
        &[RT100],
        100,
    );
    assert_eq!(accept(&mut e, a, &msg), (1, 0));
    let msg = reach_lp(
        AfiSafi::VPNV4,
        vpn_nh(rid(1)),
        with_id(2, &two),
        &[RT100],
        200,
    );
    assert_eq!(accept(&mut e, a, &msg), (1, 0));
    transmit(&mut e, a);
    let table = e.keyed_table(AfiSafi::VPNV4);
    assert_eq!(table.len(), 1);
    let p = &table[0].paths;
    assert_eq!(p.len(), 2);
    assert_eq!((p[0].1.peer, p[0].1.remote_id, &p[0].0), (a, 2, &two));
    assert_eq!((p[1].1.peer, p[1].1.remote_id, &p[1].0), (a, 1, &one));
}

/// The LOCAL_PREF of a received UPDATE.
fn local_pref(u: &UpdateRepr) -> Option<u32> {
    match attr(u, type_code::LOCAL_PREF) {
        Some(AttributeValue::LocalPref(v)) => Some(v),
        _ => None,
    }
}

/// The prefixes of the VPN-IPv4 routes announced in `g`, sorted.
fn vpn_prefixes(g: &Got) -> Vec<String> {
    let mut v: Vec<String> = g
        .reach
        .iter()
        .flat_map(|(_, _, nl, _)| {
            LabeledIter::new_checked(nl, Afi::IPV4, true, false, false, 0, Action::SessionReset)
                .unwrap()
                .map(|n| n.prefix.to_string())
                .collect::<Vec<_>>()
        })
        .collect();
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

#[test]
fn keyed_import_policy_matches_route_targets_and_the_vpn_prefix() {
    let mut e = engine();
    let neg = families(&[AfiSafi::VPNV4]);
    let a = client_with(&mut e, 1, neg, false);
    let b = client_with(&mut e, 2, neg, false);
    let mut pol = Policy::new("in", Verdict::Accept);
    // Routes with route target 65000:200 are refused; 10.2.0.0/16 and
    // longer (the prefix inside the VPN route, whatever its RD) get LOCAL_PREF 300.
    pol.push(stmt(
        vec![Condition::ExtCommunity(vec!["rt:65000:200"
            .parse::<ExtCommunityMatch>()
            .unwrap()])],
        vec![],
        Verdict::Reject,
    ));
    pol.push(stmt(
        vec![
            Condition::Family(vec![AfiSafi::VPNV4]),
            Condition::Prefix(vec![PrefixRange::or_longer("10.2.0.0/16".parse().unwrap())]),
        ],
        vec![Modify::SetLocalPref(300)],
        Verdict::Accept,
    ));
    assert_eq!(e.set_import_policy(a, Some(pol)), Reimport::Refresh);
    let rd = RouteDistinguisher::as2(65000, 1);
    let n1 = vpn4(rd, 1001, [10, 1, 0], 16);
    let n2 = vpn4(rd, 1002, [10, 2, 7], 24);
    let n3 = vpn4(rd, 1003, [10, 3, 0], 16);
    assert_eq!(vpn_from_1(&mut e, a, n1.clone(), RT100), (1, 0));
    assert_eq!(vpn_from_1(&mut e, a, n2.clone(), RT100), (1, 0));
    assert_eq!(vpn_from_1(&mut e, a, n3, RT200), (0, 0));
    assert_eq!(e.keyed_routes(AfiSafi::VPNV4), Some(2));
    let c = e.counters(a).unwrap();
    assert_eq!((c.policy_rejected_in, c.policy_modified_in), (1, 1));
    let g = got(&mut e, b, &Context::MODERN);
    let mut seen: Vec<(Vec<u8>, Option<u32>)> = g
        .reach
        .iter()
        .map(|(_, _, n, r)| (n.clone(), local_pref(r)))
        .collect();
    seen.sort();
    let mut want = vec![(n1.clone(), Some(100)), (n2, Some(300))];
    want.sort();
    assert_eq!(seen, want);
    // A route accepted before is withdrawn when it comes again with the refused target.
    assert_eq!(vpn_from_1(&mut e, a, n1, RT200), (0, 1));
    assert_eq!(got(&mut e, b, &Context::MODERN).unreach.len(), 1);
    assert_eq!(e.keyed_routes(AfiSafi::VPNV4), Some(1));
}

#[test]
fn keyed_export_policy_per_peer_and_its_change_on_a_live_session() {
    let mut e = engine();
    let neg = families(&[AfiSafi::VPNV4]);
    let a = client_with(&mut e, 1, neg, false);
    let b = client_with(&mut e, 2, neg, false);
    let c = client_with(&mut e, 3, neg, false);
    let d = client_with(&mut e, 4, neg, false);
    // b: next hop self (an RD of zeros before our address); c: not 10.1.0.0/16.
    let mut nhs = Policy::new("nhs", Verdict::Accept);
    nhs.push(stmt(
        vec![],
        vec![Modify::SetNextHop(NextHop::Local)],
        Verdict::Accept,
    ));
    e.set_export_policy(b, Some(nhs));
    let mut deny = Policy::new("deny", Verdict::Accept);
    deny.push(stmt(
        vec![Condition::Prefix(vec![PrefixRange::exact(
            "10.1.0.0/16".parse().unwrap(),
        )])],
        vec![],
        Verdict::Reject,
    ));
    e.set_export_policy(c, Some(deny));
    let rd = RouteDistinguisher::as2(65000, 1);
    let n1 = vpn4(rd, 1001, [10, 1, 0], 16);
    let n2 = vpn4(rd, 1002, [10, 2, 0], 16);
    for n in [&n1, &n2] {
        vpn_from_1(&mut e, a, n.clone(), RT100);
    }
    let gb = got(&mut e, b, &Context::MODERN);
    assert_eq!(gb.reach.len(), 1, "one message, both routes");
    assert_eq!(
        gb.reach[0].1,
        vpn_nh(rid(254)),
        "next hop self, RD of zeros"
    );
    let gc = got(&mut e, c, &Context::MODERN);
    assert_eq!(vpn_prefixes(&gc), ["10.2.0.0/16"]);
    assert_eq!(e.counters(c).unwrap().policy_rejected_out, 1);
    let gd = got(&mut e, d, &Context::MODERN);
    assert_eq!(gd.reach[0].1, vpn_nh(rid(1)), "no policy: unchanged");
    // The listing of what each is sent agrees.
    let out_b = e.keyed_adj_rib_out(b, AfiSafi::VPNV4);
    assert_eq!(out_b.len(), 2);
    assert!(out_b
        .iter()
        .all(|(_, blk)| blk.mp_next_hop.as_deref() == Some(&vpn_nh(rid(254))[..])));
    assert_eq!(e.keyed_adj_rib_out(c, AfiSafi::VPNV4).len(), 1);
    // c's policy goes: it is sent the route it was refused (and the other
    // again, as its policy changed), nothing withdrawn.
    e.set_export_policy(c, None);
    let gc = got(&mut e, c, &Context::MODERN);
    assert_eq!(vpn_prefixes(&gc), ["10.1.0.0/16", "10.2.0.0/16"]);
    assert!(gc.unreach.is_empty());
    // b's policy goes: both routes again, with the next hop as sent.
    e.set_export_policy(b, None);
    let gb = got(&mut e, b, &Context::MODERN);
    assert!(!gb.reach.is_empty());
    assert!(gb.reach.iter().all(|(_, nh, _, _)| *nh == vpn_nh(rid(1))));
    assert_eq!(vpn_prefixes(&gb), ["10.1.0.0/16", "10.2.0.0/16"]);
    // A policy refusing everything withdraws both from d.
    e.set_export_policy(d, Some(Policy::reject_all()));
    let gd = got(&mut e, d, &Context::MODERN);
    let w: usize = gd
        .unreach
        .iter()
        .map(|(_, nl)| {
            LabeledIter::new_checked(nl, Afi::IPV4, true, false, true, 0, Action::SessionReset)
                .unwrap()
                .count()
        })
        .sum();
    assert_eq!(w, 2);
}

#[test]
fn rfc8212_an_ebgp_peer_with_an_export_policy_gets_keyed_routes() {
    let mut e = engine();
    e.set_ebgp_requires_policy(true);
    let neg = families(&[AfiSafi::VPNV4]);
    let a = client_with(&mut e, 1, neg, false);
    let x = ebgp_with(&mut e, 9, None, neg);
    let rd = RouteDistinguisher::as2(65000, 1);
    vpn_from_1(&mut e, a, vpn4(rd, 7, [10, 1, 0], 16), RT100);
    assert!(
        got(&mut e, x, &Context::MODERN).reach.is_empty(),
        "RFC 8212"
    );
    let mut only = Policy::new("rt100", Verdict::Reject);
    only.push(stmt(
        vec![Condition::ExtCommunity(vec!["rt:65000:100"
            .parse::<ExtCommunityMatch>()
            .unwrap()])],
        vec![],
        Verdict::Accept,
    ));
    e.set_export_policy(x, Some(only));
    let g = got(&mut e, x, &Context::MODERN);
    assert_eq!(g.reach.len(), 1);
    match attr(&g.reach[0].3, type_code::AS_PATH) {
        Some(AttributeValue::AsPath(p)) => assert_eq!(p, AsPath::sequence(&[AS])),
        o => panic!("{o:?}"),
    }
}

#[test]
fn keyed_hooks_see_the_family_the_nlri_and_the_prefix_inside() {
    use std::sync::{Arc, Mutex};
    let mut e = engine();
    let neg = families(&[AfiSafi::VPNV4, AfiSafi::IPV4_FLOWSPEC]);
    let a = client_with(&mut e, 1, neg, false);
    let b = client_with(&mut e, 2, neg, false);
    type Seen = Vec<(AfiSafi, Option<String>, Vec<u8>)>;
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let s = seen.clone();
    let _ = e.set_import_hook(
        a,
        Some(Arc::new(move |_, _, r: &Route<'_>| {
            s.lock()
                .unwrap()
                .push((r.family, r.prefix.map(|p| p.to_string()), r.nlri.to_vec()));
            Decision::Accept
        })),
    );
    let rd = RouteDistinguisher::as2(65000, 1);
    let vpn = vpn4(rd, 5, [10, 9, 0], 16);
    vpn_from_1(&mut e, a, vpn.clone(), RT100);
    // dst 10.0.0.0/24, proto =6.
    let flow = vec![8, 1, 24, 10, 0, 0, 3, 0x81, 6];
    accept(
        &mut e,
        a,
        &reach(AfiSafi::IPV4_FLOWSPEC, vec![], flow.clone(), &[]),
    );
    assert_eq!(
        *seen.lock().unwrap(),
        vec![
            (AfiSafi::VPNV4, Some("10.9.0.0/16".into()), vpn),
            (AfiSafi::IPV4_FLOWSPEC, None, flow),
        ]
    );
    assert_eq!(got(&mut e, b, &Context::MODERN).reach.len(), 2);
}

#[test]
fn a_paused_peer_gets_a_keyed_routes_new_best_path_on_resume() {
    let mut e = engine();
    let neg = families(&[AfiSafi::VPNV4]);
    let a = client_with(&mut e, 1, neg, false);
    let b = client_with(&mut e, 2, neg, false);
    let rd = RouteDistinguisher::as2(65000, 1);
    let n = vpn4(rd, 1001, [10, 1, 0], 16);
    accept(
        &mut e,
        a,
        &reach_lp(AfiSafi::VPNV4, vpn_nh(rid(1)), n.clone(), &[RT100], 100),
    );
    assert_eq!(
        local_pref(&got(&mut e, b, &Context::MODERN).reach[0].3),
        Some(100)
    );
    e.pause_transmit(b);
    // While b is paused the route changes twice; it gets the last state.
    for lp in [150, 200] {
        accept(
            &mut e,
            a,
            &reach_lp(AfiSafi::VPNV4, vpn_nh(rid(1)), n.clone(), &[RT100], lp),
        );
        e.flush();
    }
    e.resume_transmit(b);
    let g = got(&mut e, b, &Context::MODERN);
    assert_eq!(g.reach.len(), 1, "{g:?}");
    assert_eq!(local_pref(&g.reach[0].3), Some(200));
    // Paused again, with nothing changed: nothing is sent on resume.
    e.pause_transmit(b);
    e.flush();
    e.resume_transmit(b);
    let g = got(&mut e, b, &Context::MODERN);
    assert!(g.reach.is_empty() && g.unreach.is_empty(), "{g:?}");
}

/// Keyed routes refused before the table are counted by why: a loop
/// (RFC 4456 §8: our cluster ID in CLUSTER_LIST) as rejected, RFC 8212 (an
/// eBGP peer without an import policy) as refused by policy, and a held
/// route whose new attribute set the peer's memory limit refuses as withdrawn.
#[test]
fn refused_keyed_routes_are_counted_by_why() {
    let mut e = engine();
    let neg = families(&[AfiSafi::VPNV4]);
    let a = client_with(&mut e, 1, neg, false);
    let rd = RouteDistinguisher::as2(65000, 1);
    let n1 = vpn4(rd, 1001, [10, 1, 0], 16);
    // A loop: our cluster ID in CLUSTER_LIST.
    let mut looped = UpdateRepr::parse(
        &UpdatePacket::new_checked(
            &reach(AfiSafi::VPNV4, vpn_nh(rid(1)), n1.clone(), &[RT100])[..],
            &Context::MODERN,
        )
        .unwrap(),
    );
    looped
        .attributes
        .push(AttributeRepr::new(AttributeValue::ClusterList(vec![rid(
            254,
        )
        .to_bits()])));
    let msg = looped.to_vec(&Context::MODERN).unwrap();
    assert!(matches!(
        e.handle_message(a, &msg),
        Outcome::Accepted {
            announced: 0,
            withdrawn: 0,
            rejected: 1
        }
    ));
    assert_eq!(e.counters(a).unwrap().rejected_loop, 1);
    assert_eq!(e.keyed_routes(AfiSafi::VPNV4), Some(0));
    // RFC 8212: an eBGP peer without an import policy.
    e.set_ebgp_requires_policy(true);
    let x = ebgp_with(&mut e, 9, None, neg);
    let mut from_x = UpdateRepr::parse(
        &UpdatePacket::new_checked(
            &reach(AfiSafi::VPNV4, vpn_nh(rid(9)), n1.clone(), &[RT100])[..],
            &Context::MODERN,
        )
        .unwrap(),
    );
    for at in &mut from_x.attributes {
        if let AttributeValue::AsPath(_) = at.value {
            at.value = AttributeValue::AsPath(AsPath::sequence(&[65010]));
        }
    }
    from_x
        .attributes
        .retain(|at| !matches!(at.value, AttributeValue::LocalPref(_)));
    let o = e.handle_message(x, &from_x.to_vec(&Context::MODERN).unwrap());
    assert!(
        matches!(
            o,
            Outcome::Accepted {
                announced: 0,
                withdrawn: 0,
                rejected: 0
            }
        ),
        "{o:?}"
    );
    assert_eq!(e.counters(x).unwrap().policy_rejected_in, 1);
    assert_eq!(e.keyed_routes(AfiSafi::VPNV4), Some(0));
    // A memory limit of one set: the route is held, then its new set is refused.
    let mut cfg = PeerConfig::new(Role::Client, IpAddr::V4(rid(5)), AS);
    cfg.local_v4 = Some(rid(254));
    let c = e.add_peer(cfg);
    e.peer_up(
        c,
        Negotiated {
            router_id: rid(5),
            ..neg
        },
    );
    transmit(&mut e, c);
    assert_eq!(
        accept(
            &mut e,
            c,
            &reach_lp(AfiSafi::VPNV4, vpn_nh(rid(5)), n1.clone(), &[RT100], 100)
        ),
        (1, 0)
    );
    let one = e.attr_bytes(c);
    let mut cfg = PeerConfig::new(Role::Client, IpAddr::V4(rid(6)), AS);
    cfg.max_attr_bytes = Some(one);
    let d = e.add_peer(cfg);
    e.peer_up(
        d,
        Negotiated {
            router_id: rid(6),
            ..neg
        },
    );
    transmit(&mut e, d);
    let n2 = vpn4(rd, 1002, [10, 2, 0], 16);
    assert_eq!(
        accept(
            &mut e,
            d,
            &reach_lp(AfiSafi::VPNV4, vpn_nh(rid(6)), n2.clone(), &[RT100], 100)
        ),
        (1, 0)
    );
    assert_eq!(
        accept(
            &mut e,
            d,
            &reach_lp(AfiSafi::VPNV4, vpn_nh(rid(6)), n2, &[RT100], 300)
        ),
        (0, 1),
        "the new set is refused: the held route goes"
    );
    assert_eq!(e.counters(d).unwrap().attr_limit_refused, 1);
    assert_eq!(e.counters(d).unwrap().policy_rejected_in, 0);
}

/// One attribute set can carry routes of two families (the same attributes
/// and a 4-byte next hop: an IPv4 multicast route and an IPv4 flow rule);
/// an export policy setting the next hop gives each family its own answer:
/// the multicast route the new next hop, the flow rule (which has no next
/// hop to set, RFC 8955 §4) the one it came with.
#[test]
fn an_export_policy_answers_each_family_of_a_shared_set() {
    let mut e = engine();
    let neg = families(&[AfiSafi::IPV4_MULTICAST, AfiSafi::IPV4_FLOWSPEC]);
    let a = client_with(&mut e, 1, neg, false);
    let b = client_with(&mut e, 2, neg, false);
    let mut nh = Policy::new("nh", Verdict::Accept);
    nh.push(stmt(
        vec![],
        vec![Modify::SetNextHop(NextHop::Address(IpAddr::V4(
            Ipv4Addr::new(192, 0, 2, 99),
        )))],
        Verdict::Accept,
    ));
    e.set_export_policy(b, Some(nh));
    let flow = vec![8, 1, 24, 10, 0, 0, 3, 0x81, 6];
    let nh_a = rid(1).octets().to_vec();
    accept(
        &mut e,
        a,
        &reach(AfiSafi::IPV4_FLOWSPEC, nh_a.clone(), flow, &[]),
    );
    accept(
        &mut e,
        a,
        &reach(
            AfiSafi::IPV4_MULTICAST,
            nh_a.clone(),
            vec![24, 10, 0, 0],
            &[],
        ),
    );
    assert_eq!(e.memory().attr_sets, 1, "one set for both routes");
    let mut got_nh: Vec<(AfiSafi, Vec<u8>)> = got(&mut e, b, &Context::MODERN)
        .reach
        .into_iter()
        .map(|(f, nh, _, _)| (f, nh))
        .collect();
    got_nh.sort();
    let mut want = vec![
        (AfiSafi::IPV4_MULTICAST, vec![192, 0, 2, 99]),
        (AfiSafi::IPV4_FLOWSPEC, nh_a),
    ];
    want.sort();
    assert_eq!(got_nh, want);
}

/// The NLRI announced in `g`, each family's field split into its routes
/// (VPN-IPv4 and IPv4 multicast), with their LOCAL_PREF, sorted.
fn routes_lp(g: &Got) -> Vec<(String, Option<u32>)> {
    let mut v = Vec::new();
    for (f, _, nl, u) in &g.reach {
        let lp = local_pref(u);
        if *f == AfiSafi::VPNV4 {
            for n in
                LabeledIter::new_checked(nl, Afi::IPV4, true, false, false, 0, Action::SessionReset)
                    .unwrap()
            {
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

/// A paused peer is sent, on resume, the routes whose best path changed
/// meanwhile in each keyed family (and only those), and after an export
/// policy change while paused, every route again with what it gets now.
#[test]
fn a_paused_peer_gets_what_changed_per_family_and_all_after_a_policy_change() {
    let mut e = engine();
    let neg = families(&[AfiSafi::VPNV4, AfiSafi::IPV4_MULTICAST]);
    let a = client_with(&mut e, 1, neg, false);
    let b = client_with(&mut e, 2, neg, false);
    let rd = RouteDistinguisher::as2(65000, 1);
    let (n1, n2) = (vpn4(rd, 1, [10, 1, 0], 16), vpn4(rd, 2, [10, 2, 0], 16));
    let (m1, m2) = (vec![24, 10, 8, 1], vec![24, 10, 8, 2]);
    let send = |e: &mut Engine, vpn: &[u8], mc: &[u8], lp: u32| {
        if !vpn.is_empty() {
            accept(
                e,
                a,
                &reach_lp(AfiSafi::VPNV4, vpn_nh(rid(1)), vpn.to_vec(), &[RT100], lp),
            );
        }
        if !mc.is_empty() {
            let nh = rid(1).octets().to_vec();
            accept(
                e,
                a,
                &reach_lp(AfiSafi::IPV4_MULTICAST, nh, mc.to_vec(), &[], lp),
            );
        }
    };
    send(&mut e, &n1, &m1, 100);
    send(&mut e, &n2, &m2, 100);
    assert_eq!(routes_lp(&got(&mut e, b, &Context::MODERN)).len(), 4);
    // One route of each family changes while b is paused: those two, once each.
    e.pause_transmit(b);
    send(&mut e, &n1, &m1, 150);
    e.flush();
    e.resume_transmit(b);
    assert!(!e.is_catching_up(b), "one step: nothing left");
    assert_eq!(
        routes_lp(&got(&mut e, b, &Context::MODERN)),
        [
            ("mc [24, 10, 8, 1]".to_string(), Some(150)),
            ("vpn 10.1.0.0/16".to_string(), Some(150)),
        ]
    );
    // b's export policy changes while it is paused: everything, as it now is.
    e.pause_transmit(b);
    let mut lp = Policy::new("lp", Verdict::Accept);
    lp.push(stmt(
        vec![],
        vec![Modify::SetLocalPref(300)],
        Verdict::Accept,
    ));
    e.set_export_policy(b, Some(lp));
    assert!(got(&mut e, b, &Context::MODERN).reach.is_empty(), "paused");
    e.resume_transmit(b);
    assert!(!e.is_catching_up(b));
    let all = routes_lp(&got(&mut e, b, &Context::MODERN));
    assert_eq!(all.len(), 4, "{all:?}");
    assert!(all.iter().all(|(_, lp)| *lp == Some(300)));
    // And after that, only what changes again.
    e.pause_transmit(b);
    send(&mut e, &n2, &[], 170);
    e.flush();
    e.resume_transmit(b);
    assert_eq!(
        routes_lp(&got(&mut e, b, &Context::MODERN)),
        [("vpn 10.2.0.0/16".to_string(), Some(300))]
    );
}

/// RT membership routes that pass an import policy change what the peer is
/// sent (RFC 4684) as they do without one.
#[test]
fn rfc4684_memberships_through_an_import_policy_still_filter() {
    let mut e = engine();
    let neg = families(&[AfiSafi::VPNV4, AfiSafi::RT_CONSTRAINT]);
    let a = client_with(&mut e, 1, families(&[AfiSafi::VPNV4]), false);
    let c = client_with(&mut e, 3, neg, false);
    let _ = e.set_import_policy(c, Some(Policy::accept_all()));
    let rd = RouteDistinguisher::as2(65000, 1);
    vpn_from_1(&mut e, a, vpn4(rd, 1, [10, 1, 0], 16), RT100);
    vpn_from_1(&mut e, a, vpn4(rd, 2, [10, 2, 0], 16), RT200);
    assert!(
        got(&mut e, c, &Context::MODERN).reach.is_empty(),
        "no membership yet"
    );
    let mut member = vec![96, 0, 0, 0xfd, 0xe8];
    member.extend_from_slice(&RT100);
    accept(
        &mut e,
        c,
        &reach(
            AfiSafi::RT_CONSTRAINT,
            rid(3).octets().to_vec(),
            member,
            &[],
        ),
    );
    e.flush();
    let g = got(&mut e, c, &Context::MODERN);
    assert_eq!(vpn_prefixes(&g), ["10.1.0.0/16"]);
}

/// An export hook's answer is its route's own: two VPN routes on one set,
/// the hook raising LOCAL_PREF on one of them only.
#[test]
fn keyed_export_hook_answers_per_route() {
    use std::sync::Arc;
    let mut e = engine();
    let neg = families(&[AfiSafi::VPNV4]);
    let a = client_with(&mut e, 1, neg, false);
    let b = client_with(&mut e, 2, neg, false);
    e.set_export_hook(
        b,
        Some(Arc::new(|_, _, r: &Route<'_>| {
            if r.prefix != Some("10.1.0.0/16".parse().unwrap()) {
                return Decision::Accept;
            }
            let mut p = Policy::new("lp", Verdict::Accept);
            p.push(stmt(
                vec![],
                vec![Modify::SetLocalPref(300)],
                Verdict::Accept,
            ));
            p.evaluate(r, &Default::default()).0
        })),
    );
    let rd = RouteDistinguisher::as2(65000, 1);
    let mut both = vpn4(rd, 1, [10, 1, 0], 16);
    both.extend_from_slice(&vpn4(rd, 2, [10, 2, 0], 16));
    vpn_from_1(&mut e, a, both, RT100);
    assert_eq!(
        routes_lp(&got(&mut e, b, &Context::MODERN)),
        [
            ("vpn 10.1.0.0/16".to_string(), Some(300)),
            ("vpn 10.2.0.0/16".to_string(), Some(100)),
        ]
    );
}

/// An ADD-PATH receiver's record of what it holds is per route: of two
/// VPN routes, withdrawing one withdraws exactly that one from it.
#[test]
fn rfc7911_add_path_receiver_loses_exactly_the_withdrawn_keyed_route() {
    let mut e = engine();
    let neg = families(&[AfiSafi::VPNV4]);
    let a = client_with(&mut e, 1, neg, false);
    let mut neg_ap = neg;
    neg_ap.add_path_send = AfiSafiSet::EMPTY.with(AfiSafi::VPNV4);
    let c = client_with(&mut e, 3, neg_ap, true);
    let rd = RouteDistinguisher::as2(65000, 1);
    let (n1, n2) = (vpn4(rd, 1, [10, 1, 0], 16), vpn4(rd, 2, [10, 2, 0], 16));
    for n in [&n1, &n2] {
        vpn_from_1(&mut e, a, n.clone(), RT100);
    }
    let ctx = Context {
        add_path: AfiSafiSet::EMPTY.with(AfiSafi::VPNV4),
        ..Context::MODERN
    };
    let g = got(&mut e, c, &ctx);
    let sent: usize = g
        .reach
        .iter()
        .map(|(_, _, nl, _)| {
            LabeledIter::new_checked(nl, Afi::IPV4, true, true, false, 0, Action::SessionReset)
                .unwrap()
                .count()
        })
        .sum();
    assert_eq!(sent, 2);
    assert!(g.unreach.is_empty(), "nothing withdrawn: {g:?}");
    let mut wd = vec![24 + 64 + 16, 0x80, 0, 0];
    wd.extend_from_slice(&rd.0);
    wd.extend_from_slice(&[10, 2]);
    assert_eq!(accept(&mut e, a, &unreach(AfiSafi::VPNV4, wd)), (0, 1));
    let g = got(&mut e, c, &ctx);
    assert!(g.reach.is_empty(), "{g:?}");
    let gone: Vec<String> = g
        .unreach
        .iter()
        .flat_map(|(_, nl)| {
            LabeledIter::new_checked(nl, Afi::IPV4, true, true, true, 0, Action::SessionReset)
                .unwrap()
                .map(|n| n.prefix.to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(gone, ["10.2.0.0/16"]);
    // A route refresh (RFC 2918) from it: the route it holds, sent again.
    let mut rr = vec![0xff; 16];
    rr.extend_from_slice(&[0, 23, 5, 0, 1, 0, 128]);
    assert_eq!(
        e.handle_message(c, &rr),
        Outcome::RouteRefresh(AfiSafi::VPNV4)
    );
    let g = got(&mut e, c, &ctx);
    let again: Vec<String> = g
        .reach
        .iter()
        .flat_map(|(_, _, nl, _)| {
            LabeledIter::new_checked(nl, Afi::IPV4, true, true, false, 0, Action::SessionReset)
                .unwrap()
                .map(|n| n.prefix.to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(again, ["10.1.0.0/16"]);
}

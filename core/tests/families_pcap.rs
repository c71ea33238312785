//! The family codecs on bytes real daemons produced: GoBGP 3.10, FRR 8.4.4
//! and BIRD 2.0.12 UPDATEs for VPN-IPv4/IPv6, EVPN, flow specification and
//! RT membership, and Reflector's reflected copies, captured during interop
//! phase 7 (`tests/data/README.md`). Every UPDATE validates, every NLRI
//! decodes to what the daemon was told to announce and encodes back to the
//! same bytes, and the engine fed the clients' UPDATEs reflects them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use reflector_core::engine::{Engine, EngineConfig, Negotiated, Outcome, PeerConfig};
use reflector_core::reflect::Role;
use reflector_core::rib::PeerId;
use reflector_core::wire::evpn::{EvpnIter, EvpnRoute};
use reflector_core::wire::family::{check_nlri, name, NlriFormat};
use reflector_core::wire::flowspec::{component, Component, FlowIter};
use reflector_core::wire::rtc::RtcIter;
use reflector_core::wire::vpn::{LabeledIter, RouteDistinguisher};
use reflector_core::wire::{AfiSafi, AfiSafiSet, Context, UpdatePacket, Writer};
use reflector_core::Action;
use reflector_testdata::pcap::{bgp_messages, CapturedMessage};

fn capture() -> Vec<CapturedMessage> {
    bgp_messages(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/families-interop.pcapng"
    ))
    .unwrap()
}

fn ip(a: [u8; 4]) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(a))
}

fn updates(from: [u8; 4]) -> Vec<Vec<u8>> {
    capture()
        .into_iter()
        .filter(|m| m.msg_type() == 2 && m.stream.0 == ip(from) && m.stream.3 == 11870)
        .map(|m| m.bytes)
        .collect()
}

/// (family, NLRI field, withdrawal) of every MP attribute in `msgs`.
fn mp_fields(msgs: &[Vec<u8>]) -> Vec<(AfiSafi, Vec<u8>, bool)> {
    let mut v = Vec::new();
    for m in msgs {
        let p = UpdatePacket::new_checked(&m[..], &Context::MODERN)
            .unwrap_or_else(|e| panic!("{e}: {m:02x?}"));
        if let Some(r) = p.mp_reach() {
            v.push((r.afi_safi, r.nlri_bytes.to_vec(), false));
        }
        if let Some(u) = p.mp_unreach() {
            v.push((u.afi_safi, u.nlri_bytes.to_vec(), true));
        }
    }
    v
}

#[test]
fn every_captured_update_validates_and_every_nlri_round_trips() {
    let mut per_family: BTreeMap<&str, usize> = BTreeMap::new();
    for m in capture().into_iter().filter(|m| m.msg_type() == 2) {
        let p = UpdatePacket::new_checked(&m.bytes[..], &Context::MODERN)
            .unwrap_or_else(|e| panic!("{:?}: {e}", m.stream));
        for (f, field, wd) in p
            .mp_reach()
            .map(|r| (r.afi_safi, r.nlri_bytes, false))
            .into_iter()
            .chain(p.mp_unreach().map(|u| (u.afi_safi, u.nlri_bytes, true)))
        {
            let n = check_nlri(f, field, false, wd, 0, Action::AfiSafiDisable)
                .expect("a family Reflector knows")
                .unwrap();
            *per_family.entry(name(f).unwrap()).or_default() += n;
            // Re-encode entry by entry: the same bytes.
            let mut out = vec![0u8; field.len() + 16];
            let mut w = Writer::new(&mut out);
            match NlriFormat::of(f).unwrap() {
                fmt @ (NlriFormat::Vpn | NlriFormat::Labeled) => {
                    for e in LabeledIter::new_checked(
                        field,
                        f.afi,
                        fmt == NlriFormat::Vpn,
                        false,
                        wd,
                        0,
                        Action::SessionReset,
                    )
                    .unwrap()
                    {
                        e.emit(&mut w).unwrap();
                    }
                }
                NlriFormat::Evpn => {
                    for e in EvpnIter::new_checked(field, false, 0, Action::SessionReset).unwrap() {
                        e.emit(&mut w).unwrap();
                    }
                }
                NlriFormat::Flowspec => {
                    for e in
                        FlowIter::new_checked(field, f.afi, false, 0, Action::SessionReset).unwrap()
                    {
                        e.emit(&mut w).unwrap();
                    }
                }
                NlriFormat::Rtc => {
                    for e in RtcIter::new_checked(field, false, 0, Action::SessionReset).unwrap() {
                        e.emit(&mut w).unwrap();
                    }
                }
                NlriFormat::Ip => continue,
            }
            assert_eq!(w.written(), field, "{f:?} from {:?}", m.stream);
        }
    }
    for f in [
        "ipv4-vpn",
        "ipv6-vpn",
        "l2vpn-evpn",
        "ipv4-flowspec",
        "rt-constraint",
    ] {
        assert!(
            per_family.get(f).is_some_and(|n| *n > 0),
            "{f}: {per_family:?}"
        );
    }
}

#[test]
fn gobgp_vpn_evpn_and_flowspec_routes_decode_to_what_it_was_told() {
    let fields = mp_fields(&updates([127, 0, 9, 2]));
    let mut vpn4 = Vec::new();
    let mut evpn = Vec::new();
    let mut flows = Vec::new();
    for (f, field, wd) in &fields {
        if *wd {
            continue;
        }
        if *f == AfiSafi::VPNV4 {
            vpn4.extend(
                LabeledIter::new_checked(field, f.afi, true, false, false, 0, Action::SessionReset)
                    .unwrap()
                    .map(|n| {
                        (
                            n.rd.unwrap(),
                            n.prefix.to_string(),
                            n.labels.first().unwrap().value(),
                        )
                    }),
            );
        } else if *f == AfiSafi::EVPN {
            evpn.extend(
                EvpnIter::new_checked(field, false, 0, Action::SessionReset)
                    .unwrap()
                    .map(|n| n.route().unwrap().to_string()),
            );
            for n in EvpnIter::new_checked(field, false, 0, Action::SessionReset).unwrap() {
                match n.route().unwrap() {
                    // VXLAN (RFC 8365 §5.1.3): the 24 bits are the VNI.
                    EvpnRoute::MacIp { label1, .. } => assert_eq!(label1.raw(), 200),
                    EvpnRoute::IpPrefix { label, .. } => assert_eq!(label.raw(), 300),
                    r => panic!("{r:?}"),
                }
            }
        } else if *f == AfiSafi::IPV4_FLOWSPEC {
            for n in FlowIter::new_checked(field, f.afi, false, 0, Action::SessionReset).unwrap() {
                flows.push(n.iter().map(|c| c.kind()).collect::<Vec<_>>());
                let c: Vec<_> = n.iter().collect();
                assert_eq!(
                    c[0],
                    Component::Prefix {
                        kind: component::DESTINATION,
                        len: 24,
                        offset: 0,
                        pattern: &[10, 72, 0]
                    }
                );
            }
        }
    }
    vpn4.sort();
    let rd = RouteDistinguisher::as2(65000, 100);
    assert_eq!(
        vpn4,
        vec![
            (rd, "10.70.1.0/24".to_string(), 100),
            (rd, "10.70.2.0/24".to_string(), 102)
        ]
    );
    evpn.sort();
    assert_eq!(
        evpn,
        vec![
            "[2]:[65000:10]:[0]:[48]:[aa:bb:cc:dd:ee:01]:[32]:[10.70.9.1]".to_string(),
            "[5]:[65000:10]:[0]:[24]:[10.71.0.0]".to_string(),
        ]
    );
    // destination, protocol, destination port, in that order.
    assert_eq!(flows, vec![vec![1, 3, 5]]);
}

#[test]
fn gobgp_rt_memberships_and_bird_routes_decode() {
    for (addr, rt) in [([127, 0, 9, 3], 100u8), ([127, 0, 9, 4], 200)] {
        let rtc: Vec<_> = mp_fields(&updates(addr))
            .into_iter()
            .filter(|(f, _, wd)| *f == AfiSafi::RT_CONSTRAINT && !wd)
            .flat_map(|(_, field, _)| {
                RtcIter::new_checked(&field, false, 0, Action::SessionReset)
                    .unwrap()
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(rtc.len(), 1, "{addr:?}");
        assert_eq!(rtc[0].len, 96);
        assert_eq!(rtc[0].origin_as, 64512);
        assert_eq!(rtc[0].route_target, [0, 2, 0xfd, 0xe8, 0, 0, 0, rt]);
    }
    let bird = mp_fields(&updates([127, 0, 9, 6]));
    let vpn: Vec<_> = bird
        .iter()
        .filter(|(f, _, wd)| *f == AfiSafi::VPNV4 && !wd)
        .flat_map(|(f, field, _)| {
            LabeledIter::new_checked(field, f.afi, true, false, false, 0, Action::SessionReset)
                .unwrap()
                .map(|n| (n.rd.unwrap().to_string(), n.prefix.to_string()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(
        vpn,
        vec![("65000:300".to_string(), "10.80.1.0/24".to_string())]
    );
    let flows: Vec<_> = bird
        .iter()
        .filter(|(f, _, wd)| *f == AfiSafi::IPV4_FLOWSPEC && !wd)
        .flat_map(|(f, field, _)| {
            FlowIter::new_checked(field, f.afi, false, 0, Action::SessionReset)
                .unwrap()
                .map(|n| n.iter().map(|c| c.kind()).collect::<Vec<_>>())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(flows, vec![vec![1, 3, 5]]);
}

#[test]
fn the_engine_reflects_the_captured_client_updates() {
    let mut cfg = EngineConfig::new(64512, Ipv4Addr::new(10, 9, 0, 1));
    cfg.ebgp_requires_policy = false;
    let mut e = Engine::new(cfg);
    let fams = [
        AfiSafi::VPNV4,
        AfiSafi::VPNV6,
        AfiSafi::EVPN,
        AfiSafi::IPV4_FLOWSPEC,
        AfiSafi::RT_CONSTRAINT,
    ];
    let mut neg = Negotiated::unicast(Ipv4Addr::UNSPECIFIED);
    for f in fams {
        neg.families.insert(f);
    }
    let mut peers: Vec<(PeerId, [u8; 4])> = Vec::new();
    for n in 2u8..=6 {
        let a = Ipv4Addr::new(127, 0, 9, n);
        let id = e.add_peer(PeerConfig::new(Role::Client, IpAddr::V4(a), 64512));
        e.peer_up(
            id,
            Negotiated {
                router_id: Ipv4Addr::new(10, 9, 0, n),
                ..neg
            },
        );
        peers.push((id, a.octets()));
    }
    for (id, addr) in &peers {
        for m in updates(*addr) {
            match e.handle_message(*id, &m) {
                Outcome::Accepted { rejected: 0, .. } => {}
                o => panic!("{addr:?}: {o:?}"),
            }
        }
    }
    // A withdrew 10.70.1.0/24 at the end: one VPN-IPv4 route of A's left, and BIRD's.
    assert_eq!(e.keyed_routes(AfiSafi::VPNV4), Some(2));
    assert_eq!(e.keyed_routes(AfiSafi::VPNV6), Some(1));
    assert_eq!(e.keyed_routes(AfiSafi::EVPN), Some(2));
    assert_eq!(e.keyed_routes(AfiSafi::IPV4_FLOWSPEC), Some(2));
    assert_eq!(e.keyed_routes(AfiSafi::RT_CONSTRAINT), Some(2));
    let _ = AfiSafiSet::EMPTY;
}

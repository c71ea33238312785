//! Every OPEN, NOTIFICATION, KEEPALIVE and ROUTE-REFRESH in the shared
//! captures parses and re-encodes byte for byte; capability sets agree with
//! SOURCES.md; UPDATEs decode with the context negotiated from their session's OPENs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

use reflector_core::wire::capability::Capability;
use reflector_core::wire::message::{Message, MessageRepr};
use reflector_core::wire::notification::NotificationPacket;
use reflector_core::wire::open::{Negotiated, OpenPacket};
use reflector_core::wire::route_refresh::Subtype;
use reflector_core::wire::{AfiSafi, Context, MessageType};
use reflector_testdata::pcap::{bgp_messages, CapturedMessage, StreamId};

fn dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/pcap"
    ))
}

fn load(name: &str) -> Vec<CapturedMessage> {
    bgp_messages(dir().join(name)).unwrap()
}

fn all_files() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    assert!(v.len() >= 40, "shared captures missing: {}", v.len());
    v
}

/// Generous context for non-UPDATE messages: their decoding does not depend on it.
const CTX: Context = Context {
    extended_message: true,
    ..Context::MODERN
};

#[test]
fn every_non_update_message_parses_and_round_trips() {
    let mut per_type = [0usize; 6];
    for path in all_files() {
        for m in bgp_messages(&path).unwrap() {
            if m.msg_type() == 2 {
                continue;
            }
            let name = path.file_name().unwrap().to_string_lossy();
            let parsed = Message::parse(&m.bytes, &CTX)
                .unwrap_or_else(|e| panic!("{name}: {e} in {:02x?}", m.bytes));
            let repr = MessageRepr::parse(&parsed);
            assert_eq!(repr.buffer_len(&CTX), m.bytes.len(), "{name}");
            assert_eq!(repr.to_vec(&CTX).unwrap(), m.bytes, "{name}: round trip");
            per_type[usize::from(m.msg_type())] += 1;
        }
    }
    // ROUTE-REFRESH: bgp-add-path 2, BGP_soft_reset 1, enhanced subtypes 3,
    // bgp-orf 2, ORF prefix advertisement 1 (SOURCES.md).
    assert_eq!(per_type[5], 9, "{per_type:?}");
    assert_eq!(per_type[1], 74, "{per_type:?}");
    assert_eq!(per_type[3], 12, "{per_type:?}");
    assert_eq!(per_type[4], 317, "{per_type:?}");
}

fn opens(name: &str) -> Vec<(StreamId, Vec<u8>)> {
    load(name)
        .into_iter()
        .filter(|m| m.msg_type() == 1)
        .map(|m| (m.stream, m.bytes))
        .collect()
}

fn cap_codes(open: &[u8]) -> Vec<u8> {
    let o = OpenPacket::new_checked(open).unwrap();
    o.capabilities().map(|c| c.code()).collect()
}

#[test]
fn capability_sets_match_sources() {
    let cases: &[(&str, &[u8])] = &[
        ("BGP_MP_NLRI.cap", &[1, 2, 128]),
        ("bgp-add-path.cap", &[1, 2, 65, 69, 70, 128]),
        ("bgplu.cap", &[1, 2, 64, 65, 69]),
        ("bgp-4byte-asn.pcap", &[1, 2, 64, 65, 69]),
        (
            "bgp-enhanced-route-refresh.pcapng",
            &[1, 2, 6, 64, 65, 69, 70, 73, 128],
        ),
        (
            "bgp-extended-msg.pcapng",
            &[1, 2, 6, 64, 65, 69, 70, 73, 128],
        ),
        ("bgp-lu-multiple-labels.pcap", &[1, 2, 8, 64, 65, 69]),
        (
            "bgp_orf_capabilty_negotitation.pcapng.cap",
            &[1, 2, 128, 130],
        ),
        (
            "netgauze_bgp_multiple-sessions_traffic.pcap",
            &[1, 2, 64, 65, 128],
        ),
        (
            "pmacct-305_bgp-multi-sources-open.pcap",
            &[1, 2, 5, 64, 65, 128],
        ),
        (
            "pmacct-300_BGP-IPv6-CISCO-extNH_enc.pcap",
            &[1, 2, 5, 64, 65, 128],
        ),
    ];
    for (file, want) in cases {
        let os = opens(file);
        assert!(!os.is_empty(), "{file}: no OPEN");
        let seen: BTreeSet<u8> = os.iter().flat_map(|(_, b)| cap_codes(b)).collect();
        let want: BTreeSet<u8> = want.iter().copied().collect();
        assert_eq!(seen, want, "{file}");
    }
    // Exact multisets where SOURCES.md lists repetitions ("1 ×2").
    let mut evpn = cap_codes(&opens("bgp-evpn.pcap")[0].1);
    evpn.sort();
    assert_eq!(evpn, [1, 1, 2, 64, 65, 71, 128]);
    for (_, o) in opens("pmacct-305_bgp-multi-sources-open.pcap") {
        let mut c = cap_codes(&o);
        c.sort();
        assert_eq!(c, [1, 1, 2, 5, 64, 65, 128]);
    }
    // BGP role, ADD-PATH and long-lived GR are present in bgp-role.pcapng.
    let role = cap_codes(&opens("bgp-role.pcapng")[0].1);
    for c in [9, 69, 71] {
        assert!(role.contains(&c), "{role:?}");
    }
    // BGPsec (7) is carried as an unknown capability.
    let o = &opens("bgp-bgpsec.pcap")[0].1;
    let o = OpenPacket::new_checked(&o[..]).unwrap();
    assert!(o
        .capabilities()
        .any(|c| matches!(c, Capability::Unknown { code: 7, .. })));
}

#[test]
fn decoded_capability_contents() {
    // Extended next hop: VPNv4/VPNv6 over IPv6 next hops in the pmacct captures.
    let o = &opens("pmacct-300_BGP-IPv6-CISCO-extNH_enc.pcap")[0].1;
    let o = OpenPacket::new_checked(&o[..]).unwrap();
    let enh: Vec<_> = o
        .capabilities()
        .filter_map(|c| match c {
            Capability::ExtendedNextHop(it) => Some(it.collect::<Vec<_>>()),
            _ => None,
        })
        .flatten()
        .collect();
    assert!(!enh.is_empty());
    assert!(enh.iter().all(|e| e.next_hop_afi.0 == 2));

    // FQDN host name is readable text.
    let o = &opens("bgp-enhanced-route-refresh.pcapng")[0].1;
    let o = OpenPacket::new_checked(&o[..]).unwrap();
    let host = o
        .capabilities()
        .find_map(|c| match c {
            Capability::Fqdn { hostname, .. } => Some(hostname.to_vec()),
            _ => None,
        })
        .unwrap();
    assert!(!host.is_empty() && host.iter().all(|b| b.is_ascii_graphic()));

    // 4-byte ASNs: AS_TRANS in My AS, the real AS in capability 65 (values
    // cross-checked with tshark's bgp.open.myas / bgp.cap.4as); speakers
    // without capability 65 keep their 2-byte AS.
    let mut asns: Vec<(u16, u32)> = opens("bgp-4byte-asn.pcap")
        .iter()
        .map(|(_, b)| OpenPacket::new_checked(&b[..]).unwrap())
        .map(|o| (o.my_as(), o.asn()))
        .collect();
    asns.sort();
    assert_eq!(
        asns,
        [
            (1, 1),
            (200, 200),
            (300, 300),
            (400, 400),
            (23456, 2764334674),
            (23456, 2764334674),
            (23456, 2764334674),
            (23456, 2764334674)
        ]
    );
}

#[test]
fn rfc9072_extended_optional_parameters_capture() {
    let os = opens("bgp-extended-optional-parameters-length.pcapng");
    assert_eq!(os.len(), 1);
    let o = OpenPacket::new_checked(&os[0].1[..]).unwrap();
    assert!(o.extended_params());
    assert!(o.capabilities().count() > 0);
}

#[test]
fn add_path_is_negotiated_from_the_captured_opens() {
    let os = opens("bgp-add-path.cap");
    assert_eq!(os.len(), 2);
    let a = OpenPacket::new_checked(&os[0].1[..]).unwrap();
    let b = OpenPacket::new_checked(&os[1].1[..]).unwrap();
    let n = Negotiated::new(&a, &b);
    let m = Negotiated::new(&b, &a);
    assert!(n.enhanced_route_refresh && n.route_refresh && n.four_octet_as);
    // At least one direction carries path identifiers for IPv4 unicast.
    assert!(
        n.add_path_receive.contains(AfiSafi::IPV4_UNICAST)
            || m.add_path_receive.contains(AfiSafi::IPV4_UNICAST)
    );
    // What one side receives is what the other sends.
    assert_eq!(n.add_path_receive, m.add_path_send);
    assert_eq!(n.hold_time, m.hold_time);
}

/// Decode context of each direction, negotiated from the two OPENs of its session.
fn contexts(msgs: &[CapturedMessage]) -> HashMap<StreamId, Context> {
    let open_of: HashMap<StreamId, &[u8]> = msgs
        .iter()
        .filter(|m| m.msg_type() == 1)
        .map(|m| (m.stream, &m.bytes[..]))
        .collect();
    let mut out = HashMap::new();
    for (&id, theirs) in &open_of {
        let reverse = (id.2, id.3, id.0, id.1);
        if let Some(ours) = open_of.get(&reverse) {
            let ours = OpenPacket::new_checked(*ours).unwrap();
            let theirs = OpenPacket::new_checked(*theirs).unwrap();
            out.insert(id, Negotiated::new(&ours, &theirs).receive_context());
        }
    }
    out
}

#[test]
fn updates_decode_with_the_negotiated_context() {
    // Captures holding both OPENs of every session that sends UPDATEs.
    for file in [
        "bgp-add-path.cap",
        "BGP_MP_NLRI.cap",
        "bgplu.cap",
        "bgp-4byte-asn.pcap",
        "EBGP_adjacency.cap",
        "IBGP_adjacency.cap",
        "netgauze_bgp_multiple-sessions_traffic.pcap",
    ] {
        let msgs = load(file);
        let ctxs = contexts(&msgs);
        let mut n = 0;
        for m in msgs.iter().filter(|m| m.msg_type() == 2) {
            let ctx = ctxs
                .get(&m.stream)
                .unwrap_or_else(|| panic!("{file}: UPDATE on a stream without OPENs"));
            match Message::parse(&m.bytes, ctx) {
                Ok(msg) => {
                    assert_eq!(msg.message_type(), MessageType::Update);
                    let r = MessageRepr::parse(&msg);
                    assert_eq!(r.to_vec(ctx).unwrap(), m.bytes, "{file}: UPDATE round trip");
                }
                Err(e) => panic!("{file}: {e}"),
            }
            n += 1;
        }
        assert!(n > 0, "{file}");
    }
    // bgp-add-path.cap only decodes with ADD-PATH: without it the same UPDATEs are rejected.
    let msgs = load("bgp-add-path.cap");
    let bad = msgs
        .iter()
        .filter(|m| m.msg_type() == 2)
        .filter(|m| Message::parse(&m.bytes, &Context::MODERN).is_err())
        .count();
    assert!(bad > 0);
}

fn notifications(name: &str) -> Vec<Vec<u8>> {
    load(name)
        .into_iter()
        .filter(|m| m.msg_type() == 3)
        .map(|m| m.bytes)
        .collect()
}

#[test]
fn rfc9003_shutdown_communications_in_captures() {
    let n = notifications("bgp-shutdown-communication.pcapng");
    let p = NotificationPacket::new_checked(&n[0][..]).unwrap();
    assert_eq!((p.code(), p.subcode()), (6, 2));
    let text = p.shutdown_communication().unwrap().unwrap();
    assert_eq!(text.len(), 52);
    assert!(text.starts_with("This is a test"));

    let n = notifications("bgp-extended-shutdown-msg.pcapng");
    let p = NotificationPacket::new_checked(&n[0][..]).unwrap();
    assert_eq!((p.code(), p.subcode()), (6, 2));
    assert_eq!(p.shutdown_communication().unwrap().unwrap().len(), 210);

    // Administrative Reset variations: a good one with trailing data, an empty
    // one, and one whose length overruns the data (reported, message still valid).
    let n = notifications("bgp-shutdown-msg-variations.pcap");
    assert_eq!(n.len(), 3);
    let results: Vec<_> = n
        .iter()
        .map(|b| {
            let p = NotificationPacket::new_checked(&b[..]).unwrap();
            assert_eq!((p.code(), p.subcode()), (6, 4));
            p.shutdown_communication().map(|r| r.map(str::to_owned))
        })
        .collect();
    assert_eq!(results[0], Some(Ok("0123456789".to_owned())));
    assert_eq!(results[1], Some(Ok(String::new())));
    assert!(matches!(results[2], Some(Err(_))));
}

#[test]
fn notification_codes_in_captures() {
    let cases = [
        ("bgp-cease-hard-reset.pcap", 6, 9, "Hard Reset"),
        ("bgp-bfd-cease.pcap", 6, 10, "BFD Down"),
        (
            "bgp_notification_rr_msg_error.pcap",
            7,
            1,
            "Invalid Message Length",
        ),
    ];
    for (file, c, s, name) in cases {
        let n = notifications(file);
        assert_eq!(n.len(), 1, "{file}");
        let p = NotificationPacket::new_checked(&n[0][..]).unwrap();
        assert_eq!(
            (p.code(), p.subcode(), p.subcode_name()),
            (c, s, name),
            "{file}"
        );
    }
    let n = notifications("BGP_notification.cap");
    let p = NotificationPacket::new_checked(&n[0][..]).unwrap();
    assert_eq!(p.code_name(), "OPEN Message Error");
}

#[test]
fn rfc7313_route_refresh_subtypes_and_rfc5291_orf_in_captures() {
    let subtypes: Vec<Subtype> = load("bgp-enhanced-route-refresh-subtype.pcapng")
        .iter()
        .filter_map(|m| match Message::parse(&m.bytes, &CTX).unwrap() {
            Message::RouteRefresh(r) => Some(r.subtype()),
            _ => None,
        })
        .collect();
    assert_eq!(
        subtypes,
        [
            Subtype::Normal,
            Subtype::BeginOfRefresh,
            Subtype::EndOfRefresh
        ]
    );
    let orfs: Vec<usize> = load("bgp-orf.pcapng")
        .iter()
        .filter_map(|m| match Message::parse(&m.bytes, &CTX).unwrap() {
            Message::RouteRefresh(r) => Some(r.orf().len()),
            _ => None,
        })
        .collect();
    assert_eq!(orfs.len(), 2);
    assert!(orfs.iter().all(|&n| n > 0));
}

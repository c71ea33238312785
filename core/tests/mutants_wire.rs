//! Tests written for mutants that the engine/wire/session mutation samples
//! (RELIABILITY.md) left alive in `core::wire`: the NOTIFICATION subcode
//! names (RFC 4271 §4.5, RFC 4486), an EVPN ESI as text, the default
//! route's emptiness, the writer's room, the ADD-PATH send/receive bits,
//! capability names, the family of a truncated MP attribute, End-of-RIB.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::Ipv4Addr;

use reflector_core::wire::evpn::Esi;
use reflector_core::wire::notification::subcode_name;
use reflector_core::wire::{Ipv4Prefix, Writer};

#[test]
fn rfc4271_6_3_update_message_error_subcodes_by_name() {
    // RFC 4271 §4.5: UPDATE Message Error subcodes 1-11 (7 deprecated).
    let want = [
        "Malformed Attribute List",
        "Unrecognized Well-known Attribute",
        "Missing Well-known Attribute",
        "Attribute Flags Error",
        "Attribute Length Error",
        "Invalid ORIGIN Attribute",
        "AS Routing Loop (deprecated)",
        "Invalid NEXT_HOP Attribute",
        "Optional Attribute Error",
        "Invalid Network Field",
        "Malformed AS_PATH",
    ];
    for (s, name) in (1u8..).zip(want) {
        assert_eq!(subcode_name(3, s), name, "3/{s}");
    }
}

#[test]
fn rfc4486_cease_subcodes_by_name() {
    // RFC 4486 §4 (1-8), RFC 8538 (9), RFC 9384 (10).
    let want = [
        "Maximum Number of Prefixes Reached",
        "Administrative Shutdown",
        "Peer De-configured",
        "Administrative Reset",
        "Connection Rejected",
        "Other Configuration Change",
        "Connection Collision Resolution",
        "Out of Resources",
        "Hard Reset",
        "BFD Down",
    ];
    for (s, name) in (1u8..).zip(want) {
        assert_eq!(subcode_name(6, s), name, "6/{s}");
    }
    assert_eq!(subcode_name(6, 11), "Unknown subcode");
}

#[test]
fn esi_is_ten_octets_in_hex_joined_by_colons() {
    let esi = Esi([0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99]);
    assert_eq!(esi.to_string(), "00:11:22:33:44:55:66:77:88:99");
}

#[test]
fn only_the_default_route_is_empty() {
    assert!(Ipv4Prefix::new(Ipv4Addr::UNSPECIFIED, 0)
        .unwrap()
        .is_empty());
    assert!(!Ipv4Prefix::new(Ipv4Addr::new(10, 0, 0, 0), 8)
        .unwrap()
        .is_empty());
}

#[test]
fn a_writer_is_empty_until_it_writes() {
    let mut buf = [0u8; 4];
    let mut w = Writer::new(&mut buf);
    assert!(w.is_empty());
    w.u8(7).unwrap();
    assert!(!w.is_empty());
    assert_eq!(w.len(), 1);
    assert_eq!(w.remaining(), 3);
    w.put(&[1, 2, 3]).unwrap();
    assert_eq!(w.remaining(), 0);
    assert!(w.put(&[4]).is_err(), "no room left");
}

#[test]
fn rfc7911_add_path_send_receive_field() {
    use reflector_core::wire::capability::AddPathFamily;
    use reflector_core::wire::AfiSafi;
    let f = |send_receive| AddPathFamily {
        afi_safi: AfiSafi::IPV4_UNICAST,
        send_receive,
    };
    assert!(f(1).can_receive() && !f(1).can_send());
    assert!(!f(2).can_receive() && f(2).can_send());
    assert!(f(3).can_receive() && f(3).can_send());
}

#[test]
fn capability_names_by_code() {
    use reflector_core::wire::capability::name;
    for (code, n) in [
        (2, "route-refresh"),
        (69, "add-path"),
        (70, "enhanced-route-refresh"),
        (71, "long-lived-graceful-restart"),
        (131, "cisco-multisession"),
        (200, "unknown"),
    ] {
        assert_eq!(name(code), n, "{code}");
    }
}

/// An UPDATE with `withdrawn` (classic withdrawn routes field) and the
/// attribute block `attrs`, no classic NLRI.
fn update(withdrawn: &[u8], attrs: &[u8]) -> Vec<u8> {
    let mut m = vec![0xff; 16];
    m.extend_from_slice(&[0, 0, 2]);
    m.extend_from_slice(&(withdrawn.len() as u16).to_be_bytes());
    m.extend_from_slice(withdrawn);
    m.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
    m.extend_from_slice(attrs);
    let len = m.len() as u16;
    m[16..18].copy_from_slice(&len.to_be_bytes());
    m
}

/// The family of a malformed MP_REACH_NLRI (only its AFI/SAFI, 3 octets) as
/// the last attribute is still found: RFC 7606 AFI/SAFI disable needs it.
#[test]
fn mp_family_reads_a_truncated_last_mp_attribute() {
    use reflector_core::wire::update::mp_family;
    use reflector_core::wire::AfiSafi;
    let attrs = [0x40, 1, 1, 0, 0x80, 14, 3, 0, 2, 1];
    let m = update(&[], &attrs);
    assert_eq!(mp_family(&m, 14), Some(AfiSafi::IPV6_UNICAST));
    assert_eq!(mp_family(&m, 15), None);
    // After a withdrawn-routes field too.
    let m = update(&[24, 192, 0, 2, 16, 10, 1], &attrs);
    assert_eq!(mp_family(&m, 14), Some(AfiSafi::IPV6_UNICAST));
}

/// `mp_family` looks only inside the path attributes: NLRI bytes after them
/// that happen to read as an MP_REACH_NLRI header are not an attribute.
#[test]
fn mp_family_stops_at_the_end_of_the_path_attributes() {
    use reflector_core::wire::update::mp_family;
    use reflector_core::wire::AfiSafi;
    let attrs = [0x40, 1, 1, 0];
    let mut m = update(&[], &attrs);
    // NLRI that looks like "0x80 14 3 | AFI 1 SAFI 1".
    m.extend_from_slice(&[0x80, 14, 3, 0, 1, 1]);
    let len = m.len() as u16;
    m[16..18].copy_from_slice(&len.to_be_bytes());
    assert_eq!(mp_family(&m, 14), None);
    // The same bytes inside the attributes are found.
    let m = update(&[], &[0x40, 1, 1, 0, 0x80, 14, 3, 0, 1, 1]);
    assert_eq!(mp_family(&m, 14), Some(AfiSafi::IPV4_UNICAST));
}

/// RFC 4724 §2: End-of-RIB is an UPDATE with nothing but an empty
/// MP_UNREACH_NLRI (or nothing at all for IPv4); one that also withdraws
/// routes is not one.
#[test]
fn rfc4724_2_end_of_rib_has_nothing_else() {
    use reflector_core::wire::{AfiSafi, Context, UpdatePacket};
    let unreach_v6 = [0x80, 15, 3, 0, 2, 1];
    let eor = update(&[], &unreach_v6);
    let p = UpdatePacket::new_checked(&eor[..], &Context::MODERN).unwrap();
    assert_eq!(p.end_of_rib(), Some(AfiSafi::IPV6_UNICAST));
    assert_eq!(
        p.attribute_offset(),
        23,
        "after the header and both lengths"
    );
    let not = update(&[24, 192, 0, 2], &unreach_v6);
    let p = UpdatePacket::new_checked(&not[..], &Context::MODERN).unwrap();
    assert_eq!(p.end_of_rib(), None);
    assert_eq!(p.attribute_offset(), 27);
}

#[test]
fn a_label_stack_is_empty_without_an_entry() {
    use reflector_core::wire::vpn::LabeledIter;
    use reflector_core::wire::Afi;
    use reflector_core::Action;
    // Labeled unicast, 10.0.0.0/8: label 100 (bottom of stack); labels 100
    // then 200 (bottom of stack).
    let one: &[u8] = &[32, 0, 0x06, 0x41, 10];
    let two: &[u8] = &[56, 0, 0x06, 0x40, 0, 0x0c, 0x81, 10];
    for (nlri, entries) in [(one, 1), (two, 2)] {
        let n = LabeledIter::new_checked(
            nlri,
            Afi::IPV4,
            false,
            false,
            false,
            0,
            Action::SessionReset,
        )
        .unwrap()
        .next()
        .unwrap();
        assert!(!n.labels.is_empty());
        assert_eq!(n.labels.len(), entries);
        assert_eq!(n.labels.first().unwrap().value(), 100);
    }
}

#[test]
fn only_the_ipv6_default_route_is_empty() {
    use reflector_core::wire::Ipv6Prefix;
    assert!(Ipv6Prefix::new(std::net::Ipv6Addr::UNSPECIFIED, 0)
        .unwrap()
        .is_empty());
    assert!(!Ipv6Prefix::new("2001:db8::".parse().unwrap(), 32)
        .unwrap()
        .is_empty());
}

#[test]
fn open_message_error_subcodes_by_name() {
    assert_eq!(subcode_name(2, 1), "Unsupported Version Number");
    assert_eq!(subcode_name(2, 2), "Bad Peer AS");
}

/// A flow specification NLRI's length is one octet below 240 bytes of
/// components and two from 240 on (RFC 8955 §4.1): `buffer_len` is what
/// `emit` writes on both sides of the boundary.
#[test]
fn rfc8955_4_1_flow_nlri_length_field_is_one_or_two_octets() {
    use reflector_core::wire::flowspec::FlowNlri;
    use reflector_core::wire::Afi;
    for (n, lf) in [
        (1usize, 1usize),
        (10, 1),
        (239, 1),
        (240, 2),
        (241, 2),
        (1000, 2),
    ] {
        let components = vec![0x01; n];
        for path_id in [None, Some(9)] {
            let f = FlowNlri {
                path_id,
                afi: Afi::IPV4,
                components: &components,
            };
            let mut buf = vec![0u8; 1100];
            let mut w = Writer::new(&mut buf);
            f.emit(&mut w).unwrap();
            let written = w.len();
            let ap = if path_id.is_some() { 4 } else { 0 };
            assert_eq!(written, ap + lf + n, "{n} bytes of components");
            assert_eq!(f.buffer_len(), written, "{n} bytes of components");
        }
    }
}

/// The error for a malformed prefix points at that prefix in the message,
/// not at the start of its field (withdrawn routes, then the classic NLRI).
#[test]
fn a_malformed_prefix_error_points_at_the_prefix() {
    use reflector_core::wire::{Context, UpdatePacket};
    // Withdrawn routes at offset 21: 192.0.2.0/24 (4 octets), then a /33.
    let m = update(&[24, 192, 0, 2, 33, 1, 2, 3, 4, 5], &[]);
    let e = UpdatePacket::new_checked(&m[..], &Context::MODERN).unwrap_err();
    assert_eq!(e.offset, 21 + 4);
    // The classic NLRI after 4 octets of attributes (offset 27): the same.
    let mut m = update(&[], &[0x40, 1, 1, 0]);
    m.extend_from_slice(&[24, 192, 0, 2, 33, 1, 2, 3, 4, 5]);
    let len = m.len() as u16;
    m[16..18].copy_from_slice(&len.to_be_bytes());
    let e = UpdatePacket::new_checked(&m[..], &Context::MODERN).unwrap_err();
    assert_eq!(e.offset, 27 + 4);
}

/// `Families` counts each AFI/SAFI once.
#[test]
fn families_count_each_family_once() {
    use reflector_core::wire::open::Families;
    use reflector_core::wire::AfiSafi;
    let mut f = Families::default();
    assert_eq!(f.len(), 0);
    assert!(f.is_empty());
    f.insert(AfiSafi::IPV4_UNICAST);
    f.insert(AfiSafi::VPNV4);
    f.insert(AfiSafi::IPV4_UNICAST);
    assert_eq!(f.len(), 2);
    assert_eq!(f.as_slice(), &[AfiSafi::IPV4_UNICAST, AfiSafi::VPNV4]);
}

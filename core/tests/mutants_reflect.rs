//! Tests written against mutants of `reflector_core::reflect` that the rest
//! of the suite let survive (see RELIABILITY.md). They check exact bytes
//! (RFC 4271 §4.1 header and §4.3 UPDATE layout, RFC 4760 MP_(UN)REACH_NLRI,
//! RFC 7911 ADD-PATH NLRI, RFC 4724 End-of-RIB) and the boundaries where a
//! comparison decides: a message filled to exactly its maximum length, an
//! attribute of exactly 255 octets.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use reflector_core::reflect::{message, next_hop_addr, push_attr, OutBlock, Packer};
use reflector_core::wire::{AfiSafi, Context, MessageType, Nlri, Prefix, UpdatePacket};

const MARKER: [u8; 16] = [0xff; 16];

/// ORIGIN IGP, empty AS_PATH, NEXT_HOP 10.0.0.1: 14 octets.
fn classic_block() -> OutBlock {
    OutBlock {
        attrs: vec![0x40, 1, 1, 0, 0x40, 2, 0, 0x40, 3, 4, 10, 0, 0, 1].into_boxed_slice(),
        mp_next_hop: None,
    }
}

fn v4(n: u32) -> Nlri {
    let p: Prefix = format!("10.{}.{}.0/24", n / 256, n % 256).parse().unwrap();
    Nlri::new(p)
}

/// Split a byte stream of messages at their header lengths.
fn split(mut out: &[u8]) -> Vec<&[u8]> {
    let mut v = Vec::new();
    while !out.is_empty() {
        assert_eq!(out[..16], MARKER);
        let len = usize::from(u16::from_be_bytes([out[16], out[17]]));
        assert!(len >= 19 && len <= out.len(), "bad length {len}");
        v.push(&out[..len]);
        out = &out[len..];
    }
    v
}

/// The exact bytes of one classic IPv4 UPDATE (RFC 4271 §4.3).
#[test]
fn announce_writes_the_rfc4271_update_layout() {
    let mut out = Vec::new();
    let mut pk = Packer::new(&mut out, 4096, false);
    let p: Prefix = "192.0.2.0/24".parse().unwrap();
    let q: Prefix = "10.0.0.0/8".parse().unwrap();
    let done = pk
        .announce(
            AfiSafi::IPV4_UNICAST,
            &classic_block(),
            &[Nlri::new(p), Nlri::new(q)],
        )
        .unwrap();
    assert_eq!((done.messages, done.prefixes), (1, 2));
    let mut want = MARKER.to_vec();
    // 19 header + 2 + 2 + 14 attrs + 4 + 2 NLRI = 43
    want.extend_from_slice(&[0, 43, 2, 0, 0, 0, 14]);
    want.extend_from_slice(&classic_block().attrs);
    want.extend_from_slice(&[24, 192, 0, 2, 8, 10]);
    assert_eq!(out, want);
}

/// RFC 7911 §3: with ADD-PATH each NLRI is preceded by its 4-octet path
/// identifier, and counts 4 octets more against the message size.
#[test]
fn announce_and_withdraw_with_add_path_carry_path_ids() {
    let mut out = Vec::new();
    let mut pk = Packer::new(&mut out, 4096, true);
    let p: Prefix = "192.0.2.0/24".parse().unwrap();
    let n = Nlri {
        prefix: p,
        path_id: Some(0x0102_0304),
    };
    pk.announce(AfiSafi::IPV4_UNICAST, &classic_block(), &[n])
        .unwrap();
    pk.withdraw(AfiSafi::IPV4_UNICAST, &[n]);
    let msgs = split(&out);
    assert_eq!(msgs.len(), 2);
    let a = msgs[0];
    assert_eq!(&a[a.len() - 8..], &[1, 2, 3, 4, 24, 192, 0, 2]);
    // Withdrawn routes length 8, the NLRI with its path id, no attributes.
    assert_eq!(
        msgs[1],
        [
            &MARKER[..],
            &[0, 31, 2, 0, 8, 1, 2, 3, 4, 24, 192, 0, 2, 0, 0]
        ]
        .concat()
    );

    // Room for exactly two ADD-PATH /24s (8 octets each) after the fixed part.
    let fixed = 19 + 4 + 14;
    let mut out = Vec::new();
    let mut pk = Packer::new(&mut out, fixed + 16, true);
    let nl: Vec<Nlri> = (0..4)
        .map(|i| Nlri {
            prefix: v4(i).prefix,
            path_id: Some(i + 1),
        })
        .collect();
    let done = pk
        .announce(AfiSafi::IPV4_UNICAST, &classic_block(), &nl)
        .unwrap();
    assert_eq!((done.messages, done.prefixes), (2, 4));
    for m in split(&out) {
        assert_eq!(m.len(), fixed + 16);
    }
}

/// A message filled to exactly `max_len` is allowed (RFC 4271 §4.1: the
/// length may equal the maximum), so N prefixes that fit exactly go in one
/// message, and a lone prefix that fits exactly is not an overflow.
#[test]
fn announce_fills_messages_to_exactly_the_maximum() {
    let fixed = 19 + 4 + 14;
    // Three /24s (4 octets each) per message.
    let mut out = Vec::new();
    let mut pk = Packer::new(&mut out, fixed + 12, false);
    let nl: Vec<Nlri> = (0..7).map(v4).collect();
    let done = pk
        .announce(AfiSafi::IPV4_UNICAST, &classic_block(), &nl)
        .unwrap();
    assert_eq!((done.messages, done.prefixes), (3, 7));
    let msgs = split(&out);
    let lens: Vec<usize> = msgs.iter().map(|m| m.len()).collect();
    assert_eq!(lens, [fixed + 12, fixed + 12, fixed + 4]);
    let mut seen = 0;
    for m in &msgs {
        let p = UpdatePacket::new_checked(m, &Context::MODERN).unwrap();
        seen += p.announced_count();
    }
    assert_eq!(seen, 7);

    // One prefix that fits exactly.
    let mut out = Vec::new();
    let mut pk = Packer::new(&mut out, fixed + 4, false);
    let done = pk
        .announce(AfiSafi::IPV4_UNICAST, &classic_block(), &[v4(1)])
        .unwrap();
    assert_eq!((done.messages, done.prefixes), (1, 1));
    assert_eq!(out.len(), fixed + 4);
    // One octet less: an overflow, and nothing written.
    let mut out = Vec::new();
    let mut pk = Packer::new(&mut out, fixed + 3, false);
    assert!(pk
        .announce(AfiSafi::IPV4_UNICAST, &classic_block(), &[v4(1)])
        .is_err());
    assert!(out.is_empty());
}

/// Through MP_REACH_NLRI (RFC 4760 §3): the exact attribute, placed first,
/// and the same exact-fit boundary.
#[test]
fn announce_ipv6_writes_mp_reach_first_and_fills_exactly() {
    let nh: Ipv6Addr = "2001:db8::1".parse().unwrap();
    let blk = OutBlock {
        attrs: vec![0x40, 1, 1, 0, 0x40, 2, 0].into_boxed_slice(),
        mp_next_hop: Some(nh.octets().to_vec().into_boxed_slice()),
    };
    let p: Prefix = "2001:db8:1::/48".parse().unwrap();
    let mut out = Vec::new();
    let mut pk = Packer::new(&mut out, 4096, false);
    pk.announce(AfiSafi::IPV6_UNICAST, &blk, &[Nlri::new(p)])
        .unwrap();
    // MP_REACH value: AFI 2, SAFI 1, NH len 16, NH, reserved 0, 48 + 6 octets = 5+16+7 = 28.
    let mut mp = vec![0x90, 14, 0, 28, 0, 2, 1, 16];
    mp.extend_from_slice(&nh.octets());
    mp.extend_from_slice(&[0, 48, 0x20, 0x01, 0x0d, 0xb8, 0, 1]);
    let attrs_len = mp.len() + 7;
    let mut want = MARKER.to_vec();
    want.extend_from_slice(&((19 + 4 + attrs_len) as u16).to_be_bytes());
    want.extend_from_slice(&[2, 0, 0]);
    want.extend_from_slice(&(attrs_len as u16).to_be_bytes());
    want.extend_from_slice(&mp);
    want.extend_from_slice(&blk.attrs);
    assert_eq!(out, want);

    // fixed = header 19 + 4 + attrs 7 + MP_REACH header 4 + 5 + 16.
    let fixed = 19 + 4 + 7 + 4 + 5 + 16;
    let nl: Vec<Nlri> = (0..5u16)
        .map(|i| Nlri::new(format!("2001:db8:{i:x}::/48").parse().unwrap()))
        .collect();
    let mut out = Vec::new();
    let mut pk = Packer::new(&mut out, fixed + 14, false);
    let done = pk.announce(AfiSafi::IPV6_UNICAST, &blk, &nl).unwrap();
    assert_eq!((done.messages, done.prefixes), (3, 5));
    let lens: Vec<usize> = split(&out).iter().map(|m| m.len()).collect();
    assert_eq!(lens, [fixed + 14, fixed + 14, fixed + 7]);
    let mut out = Vec::new();
    let mut pk = Packer::new(&mut out, fixed + 7, false);
    assert!(pk.announce(AfiSafi::IPV6_UNICAST, &blk, &nl[..1]).is_ok());
    let mut out = Vec::new();
    let mut pk = Packer::new(&mut out, fixed + 6, false);
    assert!(pk.announce(AfiSafi::IPV6_UNICAST, &blk, &nl[..1]).is_err());
}

/// Withdrawals (RFC 4271 §4.3 classic, RFC 4760 §4 MP_UNREACH_NLRI): exact
/// bytes and messages filled to exactly the maximum.
#[test]
fn withdraw_layout_and_exact_fill() {
    let mut out = Vec::new();
    let mut pk = Packer::new(&mut out, 4096, false);
    let done = pk.withdraw(AfiSafi::IPV4_UNICAST, &[v4(1), v4(2)]);
    assert_eq!((done.messages, done.prefixes), (1, 2));
    assert_eq!(
        out,
        [
            &MARKER[..],
            &[0, 31, 2, 0, 8, 24, 10, 0, 1, 24, 10, 0, 2, 0, 0]
        ]
        .concat()
    );

    let p: Prefix = "2001:db8:1::/48".parse().unwrap();
    let mut out = Vec::new();
    let mut pk = Packer::new(&mut out, 4096, false);
    pk.withdraw(AfiSafi::IPV6_UNICAST, &[Nlri::new(p)]);
    assert_eq!(
        out,
        [
            &MARKER[..],
            &[0, 37, 2, 0, 0, 0, 14, 0x90, 15, 0, 10, 0, 2, 1, 48, 0x20, 0x01, 0x0d, 0xb8, 0, 1]
        ]
        .concat()
    );

    // Classic: fixed 23, three /24s exactly.
    let nl: Vec<Nlri> = (0..7).map(v4).collect();
    let mut out = Vec::new();
    let mut pk = Packer::new(&mut out, 23 + 12, false);
    let done = pk.withdraw(AfiSafi::IPV4_UNICAST, &nl);
    assert_eq!((done.messages, done.prefixes), (3, 7));
    let lens: Vec<usize> = split(&out).iter().map(|m| m.len()).collect();
    assert_eq!(lens, [35, 35, 27]);
    // MP: fixed 30, two /48s (7 octets) exactly.
    let nl: Vec<Nlri> = (0..3u16)
        .map(|i| Nlri::new(format!("2001:db8:{i:x}::/48").parse().unwrap()))
        .collect();
    let mut out = Vec::new();
    let mut pk = Packer::new(&mut out, 30 + 14, false);
    let done = pk.withdraw(AfiSafi::IPV6_UNICAST, &nl);
    assert_eq!((done.messages, done.prefixes), (2, 3));
    let lens: Vec<usize> = split(&out).iter().map(|m| m.len()).collect();
    assert_eq!(lens, [44, 37]);
    // No room for even one: nothing written.
    let mut out = Vec::new();
    let mut pk = Packer::new(&mut out, 23 + 3, false);
    let done = pk.withdraw(AfiSafi::IPV4_UNICAST, &[v4(1)]);
    assert_eq!((done.messages, done.prefixes), (0, 0));
    assert!(out.is_empty());
}

/// RFC 4724 §2: End-of-RIB is an empty UPDATE for IPv4 unicast and an
/// UPDATE with an empty MP_UNREACH_NLRI otherwise.
#[test]
fn end_of_rib_markers_are_exact() {
    let mut out = Vec::new();
    let mut pk = Packer::new(&mut out, 4096, false);
    pk.end_of_rib(AfiSafi::IPV4_UNICAST);
    pk.end_of_rib(AfiSafi::IPV6_UNICAST);
    let want = [
        &MARKER[..],
        &[0, 23, 2, 0, 0, 0, 0],
        &MARKER[..],
        &[0, 29, 2, 0, 0, 0, 6, 0x80, 15, 3, 0, 2, 1],
    ]
    .concat();
    assert_eq!(out, want);
}

/// RFC 4271 §4.3: the Extended Length bit is needed above 255 octets only.
#[test]
fn push_attr_uses_extended_length_above_255_octets() {
    let mut out = Vec::new();
    push_attr(&mut out, 0xc0, 99, &[7; 255]);
    assert_eq!(out[..3], [0xc0, 99, 255]);
    assert_eq!(out.len(), 3 + 255);
    let mut out = Vec::new();
    push_attr(&mut out, 0xc0, 99, &[7; 256]);
    assert_eq!(out[..4], [0xd0, 99, 1, 0]);
    assert_eq!(out.len(), 4 + 256);
    // The flag given is normalised: Extended Length only when needed.
    let mut out = Vec::new();
    push_attr(&mut out, 0xd0, 99, &[1, 2]);
    assert_eq!(out, [0xc0, 99, 2, 1, 2]);
}

/// MP next hop fields of 4, 16 and 32 (global + link-local, RFC 2545 §3) octets.
#[test]
fn next_hop_addr_reads_4_16_and_32_octet_fields() {
    assert_eq!(
        next_hop_addr(&[192, 0, 2, 1]),
        Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)))
    );
    let g: Ipv6Addr = "2001:db8::1".parse().unwrap();
    let ll: Ipv6Addr = "fe80::1".parse().unwrap();
    assert_eq!(next_hop_addr(&g.octets()), Some(IpAddr::V6(g)));
    let both = [g.octets(), ll.octets()].concat();
    assert_eq!(next_hop_addr(&both), Some(IpAddr::V6(g)));
    assert_eq!(next_hop_addr(&[1, 2, 3]), None);
    assert_eq!(next_hop_addr(&[0; 24]), None);
    assert_eq!(next_hop_addr(&[]), None);
}

/// RFC 4271 §4.1: marker, total length, type, body; more than 65535 octets
/// cannot be written.
#[test]
fn message_header_is_exact() {
    let m = message(MessageType::Keepalive, &[]).unwrap();
    assert_eq!(m, [&MARKER[..], &[0, 19, 4]].concat());
    let m = message(MessageType::Notification, &[6, 2]).unwrap();
    assert_eq!(m, [&MARKER[..], &[0, 21, 3, 6, 2]].concat());
    assert!(message(MessageType::Update, &vec![0; 65535 - 19]).is_ok());
    assert!(message(MessageType::Update, &vec![0; 65535 - 18]).is_err());
}

use reflector_core::reflect::{
    canonicalize, rewrite, ExportClass, ImportContext, LocalIdentity, Role,
};
use reflector_core::wire::attribute::AttrIter;

const ME: LocalIdentity = LocalIdentity {
    asn: 63400,
    cluster_id: 0x0a00_00fe,
    default_local_pref: 100,
};

fn canon_from(attrs: &[u8], role: Role, four_octet: bool) -> Vec<u8> {
    canon_with(attrs, ictx(role, four_octet), true)
}

/// RFC 4271 §4.3: the low four bits of the flags are unused (zero when
/// sent); an unknown optional transitive attribute keeps Optional and
/// Transitive and gets Partial (§5), nothing else.
#[test]
fn unknown_transitive_attribute_flags_drop_unused_bits() {
    let c = canon_from(&[0x40, 1, 1, 0, 0xc3, 99, 1, 5], Role::Client, true);
    assert_eq!(c, [0x40, 1, 1, 0, 0xe0, 99, 1, 5]);
}

/// RFC 6793 §4.2.3: from a 2-octet speaker, AGGREGATOR (2-octet AS) is
/// stored with a 4-octet AS, AS4_AGGREGATOR's AS replacing AS_TRANS.
#[test]
fn two_octet_aggregator_is_widened_on_import() {
    let attrs = [0x40, 1, 1, 0, 0xc0, 7, 6, 0xfd, 0xe9, 10, 0, 0, 1];
    let c = canon_from(&attrs, Role::Client, false);
    assert_eq!(
        c,
        [0x40, 1, 1, 0, 0xc0, 7, 8, 0, 0, 0xfd, 0xe9, 10, 0, 0, 1]
    );
    // AS_TRANS (23456 = 0x5ba0) with AS4_AGGREGATOR 4200000000 (0xfa56ea00).
    let attrs = [
        0x40, 1, 1, 0, 0xc0, 7, 6, 0x5b, 0xa0, 10, 0, 0, 1, 0xc0, 18, 8, 0xfa, 0x56, 0xea, 0, 10,
        0, 0, 1,
    ];
    let c = canon_from(&attrs, Role::Client, false);
    assert_eq!(
        c,
        [0x40, 1, 1, 0, 0xc0, 7, 8, 0xfa, 0x56, 0xea, 0, 10, 0, 0, 1]
    );
}

/// RFC 6793 §4.2.2: to a 2-octet speaker an AGGREGATOR with a 4-octet-only
/// AS goes as AS_TRANS, with AS4_AGGREGATOR carrying the AS and the address.
#[test]
fn aggregator_to_a_two_octet_speaker_gets_as4_aggregator() {
    let block = [
        0x40, 1, 1, 0, 0x40, 2, 0, 0x40, 3, 4, 10, 0, 0, 1, 0xc0, 7, 8, 0xfa, 0x56, 0xea, 0, 192,
        0, 2, 9,
    ];
    let out = rewrite(
        &block,
        None,
        &ExportClass::Internal { four_octet: false },
        &ME,
    );
    let attrs: Vec<(u8, Vec<u8>)> = AttrIter::new_checked(&out.attrs, 0)
        .unwrap()
        .map(|a| (a.type_code, a.value.to_vec()))
        .collect();
    let get = |t: u8| attrs.iter().find(|a| a.0 == t).map(|a| a.1.clone());
    assert_eq!(get(7), Some(vec![0x5b, 0xa0, 192, 0, 2, 9]));
    assert_eq!(get(18), Some(vec![0xfa, 0x56, 0xea, 0, 192, 0, 2, 9]));
}

/// RFC 4271 §5.1.3 / RFC 2545 §3: to an eBGP peer the MP next hop is ours,
/// for a 16-octet (global) and a 32-octet (global + link-local) next hop;
/// a 4-octet one becomes our IPv4 address.
#[test]
fn ebgp_export_sets_our_mp_next_hop() {
    let v6: Ipv6Addr = "2001:db8::fe".parse().unwrap();
    let v4 = Ipv4Addr::new(192, 0, 2, 254);
    let class = ExportClass::External {
        next_hop_v4: Some(v4),
        next_hop_v6: Some(v6),
        keep_med: false,
        four_octet: true,
        add_otc: false,
        local_as: None,
    };
    let block = [0x40, 1, 1, 0, 0x40, 2, 0];
    let theirs: Ipv6Addr = "2001:db8::1".parse().unwrap();
    let ll: Ipv6Addr = "fe80::1".parse().unwrap();
    let out = rewrite(&block, Some(&theirs.octets()), &class, &ME);
    assert_eq!(out.mp_next_hop.as_deref(), Some(&v6.octets()[..]));
    let both = [theirs.octets(), ll.octets()].concat();
    let out = rewrite(&block, Some(&both), &class, &ME);
    assert_eq!(out.mp_next_hop.as_deref(), Some(&v6.octets()[..]));
    let out = rewrite(&block, Some(&[10, 0, 0, 1]), &class, &ME);
    assert_eq!(out.mp_next_hop.as_deref(), Some(&v4.octets()[..]));
    // To iBGP the next hop is left alone.
    let out = rewrite(
        &block,
        Some(&theirs.octets()),
        &ExportClass::Internal { four_octet: true },
        &ME,
    );
    assert_eq!(out.mp_next_hop.as_deref(), Some(&theirs.octets()[..]));
}

/// The role and loop-reason names are the daemon's output format (`show
/// peers`, events, the JSON control interface): fixed and distinct.
#[test]
fn role_and_loop_reason_names_are_the_documented_ones() {
    use reflector_core::reflect::LoopReason;
    let roles: Vec<&str> = [Role::Client, Role::NonClient, Role::Ebgp]
        .iter()
        .map(|r| r.as_str())
        .collect();
    assert_eq!(roles, ["client", "non-client", "ebgp"]);
    let reasons: Vec<&str> = [
        LoopReason::ClusterList,
        LoopReason::OriginatorId,
        LoopReason::AsPath,
        LoopReason::RouteLeak,
    ]
    .iter()
    .map(|r| r.as_str())
    .collect();
    assert_eq!(
        reasons,
        ["cluster-list", "originator-id", "as-path", "route-leak"]
    );
}

fn canon_with(attrs: &[u8], ictx: ImportContext, with_next_hop: bool) -> Vec<u8> {
    let mut out = Vec::new();
    canonicalize(
        AttrIter::new_checked(attrs, 0).unwrap(),
        &ictx,
        with_next_hop,
        &mut out,
    );
    out
}

fn ictx(role: Role, four_octet: bool) -> ImportContext {
    ImportContext {
        role,
        four_octet,
        bgp_role: None,
        peer_as: 65001,
    }
}

/// What the canonical set keeps on import (RFC 4271 §5.1.3, §5.1.5, RFC
/// 4456 §8, RFC 6793 §4.2.3, §5): NEXT_HOP only when the route uses it; from
/// eBGP no LOCAL_PREF, ORIGINATOR_ID or CLUSTER_LIST; AS4_PATH never (merged
/// into AS_PATH on a 2-octet session, dropped on a 4-octet one); unknown
/// optional non-transitive attributes dropped.
#[test]
fn canonical_set_keeps_what_the_rfcs_keep() {
    // ORIGIN, AS_PATH [65001] (4-octet), NEXT_HOP, LOCAL_PREF 200,
    // ORIGINATOR_ID, CLUSTER_LIST, AS4_PATH [65001], unknown non-transitive 99.
    let attrs = [
        0x40, 1, 1, 0, // ORIGIN
        0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe9, // AS_PATH
        0x40, 3, 4, 10, 0, 0, 1, // NEXT_HOP
        0x40, 5, 4, 0, 0, 0, 200, // LOCAL_PREF
        0x80, 9, 4, 10, 0, 0, 9, // ORIGINATOR_ID
        0x80, 10, 4, 10, 0, 0, 7, // CLUSTER_LIST
        0xc0, 17, 6, 2, 1, 0, 0, 0xfd, 0xe9, // AS4_PATH
        0x80, 99, 1, 5, // unknown optional non-transitive
    ];
    let types = |c: &[u8]| -> Vec<u8> {
        AttrIter::new_checked(c, 0)
            .unwrap()
            .map(|a| a.type_code)
            .collect()
    };
    let ibgp = canon_with(&attrs, ictx(Role::Client, true), true);
    assert_eq!(types(&ibgp), [1, 2, 3, 5, 9, 10]);
    let no_nh = canon_with(&attrs, ictx(Role::Client, true), false);
    assert_eq!(types(&no_nh), [1, 2, 5, 9, 10]);
    let ebgp = canon_with(&attrs, ictx(Role::Ebgp, true), true);
    assert_eq!(types(&ebgp), [1, 2, 3]);
}

/// The Partial bit of an optional transitive attribute survives import (RFC
/// 4271 §5: once set it stays set); a well-known attribute gets its standard
/// flags whatever it arrived with.
#[test]
fn partial_bit_kept_on_optional_transitive_attributes_only() {
    // ORIGIN with Partial set (0x60), COMMUNITIES with Partial (0xe0).
    let attrs = [0x60, 1, 1, 0, 0xe0, 8, 4, 0xfd, 0xe9, 0, 1];
    let c = canon_with(&attrs, ictx(Role::Client, true), true);
    assert_eq!(c, [0x40, 1, 1, 0, 0xe0, 8, 4, 0xfd, 0xe9, 0, 1]);
    // Without Partial, COMMUNITIES stays as it was.
    let attrs = [0x40, 1, 1, 0, 0xc0, 8, 4, 0xfd, 0xe9, 0, 1];
    let c = canon_with(&attrs, ictx(Role::Client, true), true);
    assert_eq!(c, attrs);
}

/// RFC 6793 §4.2.3: on a 2-octet session AS_PATH is widened to 4 octets
/// (AS4_PATH merged in); on a 4-octet session it is kept as it came, and an
/// 8-octet AGGREGATOR passes unchanged.
#[test]
fn as_path_widened_only_on_two_octet_sessions() {
    // AS_PATH [65001] in 2-octet form.
    let two = [0x40, 1, 1, 0, 0x40, 2, 4, 2, 1, 0xfd, 0xe9];
    let c = canon_with(&two, ictx(Role::Client, false), true);
    assert_eq!(c, [0x40, 1, 1, 0, 0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe9]);
    // The same bytes on a 4-octet session are kept (they are 4-octet there).
    let four = [0x40, 1, 1, 0, 0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe9];
    let c = canon_with(&four, ictx(Role::Client, true), true);
    assert_eq!(c, four);
    // AGGREGATOR with a 4-octet AS on a 4-octet session.
    let aggr = [0x40, 1, 1, 0, 0xc0, 7, 8, 0xfa, 0x56, 0xea, 0, 10, 0, 0, 1];
    let c = canon_with(&aggr, ictx(Role::Client, true), true);
    assert_eq!(c, aggr);
}

/// RFC 9234 §5 ingress: from a Provider the OTC added when absent goes in
/// type order, before an attribute with a higher type code.
#[test]
fn otc_added_in_type_order() {
    use reflector_core::wire::capability::BgpRole;
    // ORIGIN, then an unknown optional transitive attribute of type 40 (> OTC = 35).
    let attrs = [0x40, 1, 1, 0, 0xc0, 40, 1, 7];
    let c = canon_with(
        &attrs,
        ImportContext {
            role: Role::Ebgp,
            four_octet: true,
            bgp_role: Some(BgpRole::PROVIDER),
            peer_as: 65001,
        },
        true,
    );
    let types: Vec<u8> = AttrIter::new_checked(&c, 0)
        .unwrap()
        .map(|a| a.type_code)
        .collect();
    assert_eq!(types, [1, 35, 40]);
}

/// RFC 4271 §9.1.2 checks our AS in the AS_PATH of routes from eBGP only; RFC
/// 4456 §8 checks ORIGINATOR_ID and CLUSTER_LIST for every route.
#[test]
fn loop_check_applies_the_as_path_rule_to_ebgp_only() {
    use reflector_core::reflect::{loop_check, LoopReason};
    // AS_PATH [63400] (ME's AS, 4-octet).
    let own_path = [0x40, 1, 1, 0, 0x40, 2, 6, 2, 1, 0, 0, 0xf7, 0xa8];
    assert_eq!(
        loop_check(&own_path, Role::Ebgp, &ME, 7),
        Some(LoopReason::AsPath)
    );
    assert_eq!(loop_check(&own_path, Role::Client, &ME, 7), None);
    assert_eq!(loop_check(&own_path, Role::NonClient, &ME, 7), None);
    // ORIGINATOR_ID = our router ID, from a client.
    let own_orig = [0x40, 1, 1, 0, 0x80, 9, 4, 0, 0, 0, 7];
    assert_eq!(
        loop_check(&own_orig, Role::Client, &ME, 7),
        Some(LoopReason::OriginatorId)
    );
    assert_eq!(loop_check(&own_orig, Role::Client, &ME, 8), None);
}

/// Toward eBGP exactly one AS_PATH leaves, our AS first (RFC 4271 §5.1.2),
/// whether the set had one or not; to a 4-octet receiver an 8-octet
/// AGGREGATOR passes unchanged (RFC 6793 §4.1), to a 2-octet one it is cut.
#[test]
fn rewrite_emits_one_as_path_and_keeps_a_four_octet_aggregator() {
    let external = ExportClass::External {
        next_hop_v4: Some(Ipv4Addr::new(192, 0, 2, 254)),
        next_hop_v6: None,
        keep_med: false,
        four_octet: true,
        add_otc: false,
        local_as: None,
    };
    let attrs_of = |out: &OutBlock| -> Vec<(u8, Vec<u8>)> {
        AttrIter::new_checked(&out.attrs, 0)
            .unwrap()
            .map(|a| (a.type_code, a.value.to_vec()))
            .collect()
    };
    // ORIGIN, AS_PATH [65001], NEXT_HOP.
    let with_path = [
        0x40, 1, 1, 0, 0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe9, 0x40, 3, 4, 10, 0, 0, 1,
    ];
    let got = attrs_of(&rewrite(&with_path, None, &external, &ME));
    assert_eq!(
        got,
        vec![
            (1, vec![0]),
            (2, vec![2, 2, 0, 0, 0xf7, 0xa8, 0, 0, 0xfd, 0xe9]),
            (3, vec![192, 0, 2, 254]),
        ]
    );
    // No AS_PATH in the set (a local route): ours alone.
    let without = [0x40, 1, 1, 0, 0x40, 3, 4, 10, 0, 0, 1];
    let got = attrs_of(&rewrite(&without, None, &external, &ME));
    assert_eq!(
        got,
        vec![
            (1, vec![0]),
            (2, vec![2, 1, 0, 0, 0xf7, 0xa8]),
            (3, vec![192, 0, 2, 254]),
        ]
    );
    let aggr = [
        0x40, 1, 1, 0, 0x40, 2, 0, 0x40, 3, 4, 10, 0, 0, 1, 0xc0, 7, 8, 0, 0, 0xfd, 0xe9, 192, 0,
        2, 9,
    ];
    let four = attrs_of(&rewrite(
        &aggr,
        None,
        &ExportClass::Internal { four_octet: true },
        &ME,
    ));
    assert!(
        four.contains(&(7, vec![0, 0, 0xfd, 0xe9, 192, 0, 2, 9])),
        "{four:?}"
    );
    let two = attrs_of(&rewrite(
        &aggr,
        None,
        &ExportClass::Internal { four_octet: false },
        &ME,
    ));
    assert!(
        two.contains(&(7, vec![0xfd, 0xe9, 192, 0, 2, 9])),
        "{two:?}"
    );
}

/// RFC 6793 §4.2.2: a path with a 4-octet-only AS goes to a 2-octet receiver
/// as AS_TRANS with AS4_PATH beside it; a 4-octet receiver never gets
/// AS4_PATH, and a path of 2-octet ASes needs none.
#[test]
fn as4_path_only_to_two_octet_receivers_and_only_when_needed() {
    let types = |out: &OutBlock| -> Vec<u8> {
        AttrIter::new_checked(&out.attrs, 0)
            .unwrap()
            .map(|a| a.type_code)
            .collect()
    };
    // AS_PATH [4200000000] (4-octet form), ORIGIN, NEXT_HOP.
    let wide = [
        0x40, 1, 1, 0, 0x40, 2, 6, 2, 1, 0xfa, 0x56, 0xea, 0, 0x40, 3, 4, 10, 0, 0, 1,
    ];
    let narrow = [
        0x40, 1, 1, 0, 0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe9, 0x40, 3, 4, 10, 0, 0, 1,
    ];
    let to = |four_octet| ExportClass::Internal { four_octet };
    assert_eq!(
        types(&rewrite(&wide, None, &to(false), &ME)),
        [1, 2, 3, 5, 17]
    );
    assert_eq!(types(&rewrite(&wide, None, &to(true), &ME)), [1, 2, 3, 5]);
    assert_eq!(
        types(&rewrite(&narrow, None, &to(false), &ME)),
        [1, 2, 3, 5]
    );
}

/// RFC 4271 §5 (attributes in ascending type order, as sent): attributes a
/// reflection adds (ORIGINATOR_ID 9, CLUSTER_LIST 10) go before those of a
/// higher type already in the set (LARGE_COMMUNITY 32).
#[test]
fn reflected_attributes_stay_in_type_order() {
    let block = [
        0x40, 1, 1, 0, 0x40, 2, 0, 0x40, 3, 4, 10, 0, 0, 1, 0x40, 5, 4, 0, 0, 0, 100, 0xc0, 32, 12,
        0, 0, 0xfd, 0xe9, 0, 0, 0, 1, 0, 0, 0, 2,
    ];
    let out = rewrite(
        &block,
        None,
        &ExportClass::Reflect {
            originator: 0x0a00_0001,
            four_octet: false,
        },
        &ME,
    );
    let types: Vec<u8> = AttrIter::new_checked(&out.attrs, 0)
        .unwrap()
        .map(|a| a.type_code)
        .collect();
    assert_eq!(types, [1, 2, 3, 5, 9, 10, 32]);
}

/// AS4_PATH and AS4_AGGREGATOR, added for a 2-octet receiver, are optional
/// transitive (RFC 6793 §3); toward eBGP without an IPv6 address of ours a
/// 16-octet MP next hop is passed on as it is, not replaced by our IPv4 one.
#[test]
fn as4_attributes_are_optional_transitive_and_a_v6_next_hop_stays_without_our_v6() {
    let block = [
        0x40, 1, 1, 0, 0x40, 2, 6, 2, 1, 0xfa, 0x56, 0xea, 0, 0x40, 3, 4, 10, 0, 0, 1, 0xc0, 7, 8,
        0xfa, 0x56, 0xea, 0, 192, 0, 2, 9,
    ];
    let out = rewrite(
        &block,
        None,
        &ExportClass::Internal { four_octet: false },
        &ME,
    );
    let flags: Vec<(u8, u8)> = AttrIter::new_checked(&out.attrs, 0)
        .unwrap()
        .map(|a| (a.type_code, a.flags))
        .filter(|(t, _)| *t == 17 || *t == 18)
        .collect();
    assert_eq!(flags, [(17, 0xc0), (18, 0xc0)]);
    let v6: Ipv6Addr = "2001:db8::1".parse().unwrap();
    let class = ExportClass::External {
        next_hop_v4: Some(Ipv4Addr::new(192, 0, 2, 254)),
        next_hop_v6: None,
        keep_med: false,
        four_octet: true,
        add_otc: false,
        local_as: None,
    };
    let out = rewrite(
        &[0x40, 1, 1, 0, 0x40, 2, 0],
        Some(&v6.octets()),
        &class,
        &ME,
    );
    assert_eq!(out.mp_next_hop.as_deref(), Some(&v6.octets()[..]));
}

/// RFC 6793 §4.2.2: AS4_AGGREGATOR goes to a 2-octet speaker only when the
/// aggregator's AS does not fit in two octets: AS 65535 fits (reserved by RFC
/// 7300, but 16 bits), 65536 does not.
#[test]
fn as4_aggregator_only_for_an_as_above_65535() {
    let with_as = |asn: u32| -> Vec<u8> {
        let mut b = vec![
            0x40, 1, 1, 0, 0x40, 2, 0, 0x40, 3, 4, 10, 0, 0, 1, 0xc0, 7, 8,
        ];
        b.extend_from_slice(&asn.to_be_bytes());
        b.extend_from_slice(&[192, 0, 2, 9]);
        b
    };
    let types = |asn: u32| -> Vec<u8> {
        let out = rewrite(
            &with_as(asn),
            None,
            &ExportClass::Internal { four_octet: false },
            &ME,
        );
        AttrIter::new_checked(&out.attrs, 0)
            .unwrap()
            .map(|a| a.type_code)
            .collect()
    };
    assert_eq!(types(65535), [1, 2, 3, 5, 7]);
    assert_eq!(types(65536), [1, 2, 3, 5, 7, 18]);
}

//! Round trips of the family NLRI codecs on generated routes: labeled and
//! VPN NLRI with label stacks and RDs of every type, EVPN routes of types
//! 1–5 (and the key left unchanged by the fields the RFCs keep out of it),
//! flow specification rules (valid in type order, refused out of it) and RT
//! memberships.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::{Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;
use reflector_core::wire::evpn::EvpnIter;
use reflector_core::wire::flowspec::FlowIter;
use reflector_core::wire::rtc::{RtcIter, RtcNlri};
use reflector_core::wire::vpn::{emit_labeled, Label, LabeledIter, RouteDistinguisher};
use reflector_core::wire::{Afi, Ipv4Prefix, Ipv6Prefix, Prefix, Writer};
use reflector_core::Action;

fn prefix() -> impl Strategy<Value = Prefix> {
    prop_oneof![
        (any::<u32>(), 0u8..=32)
            .prop_map(|(a, l)| Prefix::V4(Ipv4Prefix::new(Ipv4Addr::from(a), l).unwrap())),
        (any::<u128>(), 0u8..=128)
            .prop_map(|(a, l)| Prefix::V6(Ipv6Prefix::new(Ipv6Addr::from(a), l).unwrap())),
    ]
}

fn rd() -> impl Strategy<Value = RouteDistinguisher> {
    prop_oneof![
        (any::<u16>(), any::<u32>()).prop_map(|(a, n)| RouteDistinguisher::as2(a, n)),
        (any::<u32>(), any::<u16>())
            .prop_map(|(a, n)| RouteDistinguisher::ipv4(Ipv4Addr::from(a), n)),
        (any::<u32>(), any::<u16>()).prop_map(|(a, n)| RouteDistinguisher::as4(a, n)),
    ]
}

fn labels() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(0u32..(1 << 20), 1..4).prop_map(|v| {
        let n = v.len();
        v.iter()
            .enumerate()
            .flat_map(|(i, l)| Label::new(*l, i + 1 == n).to_bytes())
            .collect()
    })
}

fn evpn_value() -> impl Strategy<Value = (u8, Vec<u8>)> {
    let rd = any::<[u8; 8]>();
    let esi = any::<[u8; 10]>();
    let ip = prop_oneof![
        Just(Vec::new()),
        any::<[u8; 4]>().prop_map(|a| a.to_vec()),
        any::<[u8; 16]>().prop_map(|a| a.to_vec())
    ];
    let label = any::<[u8; 3]>();
    prop_oneof![
        (rd, esi, any::<u32>(), label)
            .prop_map(|(r, e, t, l)| { (1u8, [&r[..], &e, &t.to_be_bytes(), &l].concat()) }),
        (
            rd,
            esi,
            any::<u32>(),
            any::<[u8; 6]>(),
            ip.clone(),
            label,
            prop::option::of(label)
        )
            .prop_map(|(r, e, t, m, ip, l1, l2)| {
                let mut v = [&r[..], &e, &t.to_be_bytes(), &[48], &m].concat();
                v.push((ip.len() * 8) as u8);
                v.extend_from_slice(&ip);
                v.extend_from_slice(&l1);
                if let Some(l2) = l2 {
                    v.extend_from_slice(&l2);
                }
                (2u8, v)
            }),
        (rd, any::<u32>(), any::<bool>(), any::<[u8; 16]>()).prop_map(|(r, t, v6, a)| {
            let n = if v6 { 16 } else { 4 };
            (
                3u8,
                [&r[..], &t.to_be_bytes(), &[(n * 8) as u8], &a[..n]].concat(),
            )
        }),
        (rd, esi, any::<bool>(), any::<[u8; 16]>()).prop_map(|(r, e, v6, a)| {
            let n = if v6 { 16 } else { 4 };
            (4u8, [&r[..], &e, &[(n * 8) as u8], &a[..n]].concat())
        }),
        (
            rd,
            esi,
            any::<u32>(),
            any::<bool>(),
            any::<[u8; 16]>(),
            any::<[u8; 16]>(),
            label,
            any::<u8>()
        )
            .prop_map(|(r, e, t, v6, p, g, l, len)| {
                let n = if v6 { 16 } else { 4 };
                let plen = len % (n as u8 * 8 + 1);
                (
                    5u8,
                    [&r[..], &e, &t.to_be_bytes(), &[plen], &p[..n], &g[..n], &l].concat(),
                )
            }),
    ]
}

/// One flow component of type `t` with a valid body.
fn component(t: u8, v6: bool, seed: u64) -> Vec<u8> {
    let mut v = vec![t];
    if t <= 2 {
        let max = if v6 { 128 } else { 32 };
        let len = (seed % (max + 1)) as u8;
        v.push(len);
        if v6 {
            let off = if len == 0 { 0 } else { (seed >> 8) as u8 % len };
            v.push(off);
            v.extend(std::iter::repeat_n(
                0xa5,
                usize::from(len - off).div_ceil(8),
            ));
        } else {
            v.extend(std::iter::repeat_n(0x5a, usize::from(len).div_ceil(8)));
        }
    } else {
        let ops = 1 + (seed % 3) as usize;
        for i in 0..ops {
            let lenbits = ((seed >> (4 + i)) % 3) as u8;
            let end = if i + 1 == ops { 0x80 } else { 0 };
            let and = if i > 0 && (seed >> (10 + i)) & 1 == 1 {
                0x40
            } else {
                0
            };
            v.push(end | and | (lenbits << 4) | 0x01);
            v.extend(std::iter::repeat_n(7u8, 1 << lenbits));
        }
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn labeled_and_vpn_nlri_round_trip(p in prefix(), stack in labels(), rd in prop::option::of(rd()), path_id in prop::option::of(any::<u32>())) {
        // The length octet counts bits: what does not fit is refused by the encoder.
        let bits = stack.len() * 8 + if rd.is_some() { 64 } else { 0 } + usize::from(p.len());
        prop_assume!(bits <= 255);
        let mut buf = vec![0u8; 64];
        let mut w = Writer::new(&mut buf);
        emit_labeled(&mut w, path_id, &stack, rd, &p).unwrap();
        let bytes = w.written().to_vec();
        let afi = match p { Prefix::V4(_) => Afi::IPV4, Prefix::V6(_) => Afi::IPV6 };
        let v: Vec<_> = LabeledIter::new_checked(&bytes, afi, rd.is_some(), path_id.is_some(), false, 0, Action::AfiSafiDisable)
            .unwrap()
            .collect();
        prop_assert_eq!(v.len(), 1);
        prop_assert_eq!(v[0].prefix, p);
        prop_assert_eq!(v[0].rd, rd);
        prop_assert_eq!(v[0].path_id, path_id);
        prop_assert_eq!(v[0].labels.as_bytes(), &stack[..]);
        if let Some(rd) = rd {
            // The text form of every RD type parses back.
            prop_assert_eq!(rd.to_string().parse::<RouteDistinguisher>().unwrap().to_string(), rd.to_string());
        }
        let mut again = vec![0u8; 64];
        let mut w2 = Writer::new(&mut again);
        v[0].emit(&mut w2).unwrap();
        prop_assert_eq!(w2.written(), &bytes[..]);
    }

    #[test]
    fn evpn_routes_round_trip_and_keys_ignore_what_the_rfcs_leave_out((t, value) in evpn_value(), esi2 in any::<[u8; 10]>(), label2 in any::<[u8; 3]>()) {
        let mut nlri = vec![t, value.len() as u8];
        nlri.extend_from_slice(&value);
        let v: Vec<_> = EvpnIter::new_checked(&nlri, false, 0, Action::AfiSafiDisable).unwrap().collect();
        prop_assert_eq!(v.len(), 1);
        prop_assert!(v[0].route().is_some());
        let mut buf = vec![0u8; 300];
        let mut w = Writer::new(&mut buf);
        v[0].emit(&mut w).unwrap();
        prop_assert_eq!(w.written(), &nlri[..]);
        // Types 2 and 5: another ESI and another label, the same route (RFC 7432 §7.2, RFC 9136 §3.1).
        if t == 2 || t == 5 {
            let mut other = nlri.clone();
            other[2 + 8..2 + 18].copy_from_slice(&esi2);
            let l = other.len();
            let at = if t == 2 && (value.len() == 36 || value.len() == 40 || value.len() == 52) { l - 6 } else { l - 3 };
            other[at..at + 3].copy_from_slice(&label2);
            let o: Vec<_> = EvpnIter::new_checked(&other, false, 0, Action::AfiSafiDisable).unwrap().collect();
            prop_assert_eq!(o[0].key(), v[0].key());
        }
    }

    #[test]
    fn flow_rules_in_type_order_round_trip_and_out_of_order_are_refused(v6 in any::<bool>(), types in prop::collection::btree_set(1u8..=12, 1..6), seed in any::<u64>()) {
        let afi = if v6 { Afi::IPV6 } else { Afi::IPV4 };
        let comps: Vec<Vec<u8>> = types.iter().enumerate().map(|(i, t)| component(*t, v6, seed.rotate_left(i as u32 * 7))).collect();
        let body: Vec<u8> = comps.concat();
        let mut nlri = if body.len() < 240 { vec![body.len() as u8] } else { (0xf000u16 | body.len() as u16).to_be_bytes().to_vec() };
        nlri.extend_from_slice(&body);
        let v: Vec<_> = FlowIter::new_checked(&nlri, afi, false, 0, Action::AfiSafiDisable).unwrap().collect();
        prop_assert_eq!(v.len(), 1);
        prop_assert_eq!(v[0].iter().map(|c| c.kind()).collect::<Vec<_>>(), types.iter().copied().collect::<Vec<_>>());
        let mut buf = vec![0u8; nlri.len() + 4];
        let mut w = Writer::new(&mut buf);
        v[0].emit(&mut w).unwrap();
        prop_assert_eq!(w.written(), &nlri[..]);
        prop_assert_eq!(v[0].precedence(&v[0]), core::cmp::Ordering::Equal);
        if comps.len() >= 2 {
            let mut rev = comps.clone();
            rev.reverse();
            let body: Vec<u8> = rev.concat();
            let mut bad = if body.len() < 240 { vec![body.len() as u8] } else { (0xf000u16 | body.len() as u16).to_be_bytes().to_vec() };
            bad.extend_from_slice(&body);
            prop_assert!(FlowIter::new_checked(&bad, afi, false, 0, Action::AfiSafiDisable).is_err());
        }
    }

    #[test]
    fn rt_memberships_round_trip_and_cover_their_own_target(len in prop_oneof![Just(0u8), 32u8..=96], origin in any::<u32>(), rt in any::<[u8; 8]>()) {
        let mut m = RtcNlri::new(origin, rt);
        m.len = len;
        if len == 0 { m = RtcNlri::DEFAULT; }
        let mut buf = vec![0u8; 16];
        let mut w = Writer::new(&mut buf);
        m.emit(&mut w).unwrap();
        let bytes = w.written().to_vec();
        let v: Vec<_> = RtcIter::new_checked(&bytes, false, 0, Action::AfiSafiDisable).unwrap().collect();
        prop_assert_eq!(v.len(), 1);
        prop_assert!(v[0].covers(&rt));
        prop_assert_eq!(v[0].len, len);
        let mut again = vec![0u8; 16];
        let mut w2 = Writer::new(&mut again);
        v[0].emit(&mut w2).unwrap();
        prop_assert_eq!(w2.written(), &bytes[..]);
    }
}

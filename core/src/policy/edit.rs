//! Policy actions on canonical attribute blocks.

use alloc::vec::Vec;
use core::net::IpAddr;

use super::{Attributes, CommunityEdit, Modify, NextHop, Session};
use crate::reflect::push_attr;
use crate::wire::attribute::{
    expected_flags, flags, type_code, u32s, AsPathView, AttrIter, SegmentType,
};
use crate::wire::family::NlriFormat;
use crate::wire::{Afi, AfiSafi};

/// Replace (or with `None` remove) the attribute `t` of a canonical block,
/// keeping the block in type-code order.
pub(super) fn set_attr(block: &mut Vec<u8>, t: u8, value: Option<&[u8]>) {
    let mut out = Vec::with_capacity(block.len() + value.map_or(0, |v| v.len() + 4));
    let mut done = value.is_none();
    let fl = expected_flags(t).unwrap_or(flags::OPTIONAL | flags::TRANSITIVE);
    for a in AttrIter::unchecked(block, 0) {
        if a.type_code == t {
            continue;
        }
        if !done && a.type_code > t {
            if let Some(v) = value {
                push_attr(&mut out, fl, t, v);
            }
            done = true;
        }
        push_attr(&mut out, a.flags, a.type_code, a.value);
    }
    if !done {
        if let Some(v) = value {
            push_attr(&mut out, fl, t, v);
        }
    }
    *block = out;
}

/// The value of attribute `t` in a canonical block.
fn get(block: &[u8], t: u8) -> Option<&[u8]> {
    AttrIter::unchecked(block, 0)
        .find(|a| a.type_code == t)
        .map(|a| a.value)
}

/// Apply one action.
pub(super) fn apply(m: &Modify, a: &mut Attributes, family: AfiSafi, s: &Session) {
    match m {
        Modify::SetLocalPref(v) => {
            set_attr(&mut a.block, type_code::LOCAL_PREF, Some(&v.to_be_bytes()))
        }
        Modify::SetMed(v) => set_attr(&mut a.block, type_code::MED, Some(&v.to_be_bytes())),
        Modify::RemoveMed => set_attr(&mut a.block, type_code::MED, None),
        Modify::SetNextHop(nh) => {
            let addr = match *nh {
                NextHop::Address(x) => Some(x),
                NextHop::Local => match family.afi {
                    Afi::IPV6 => s.local_v6.map(IpAddr::V6),
                    _ => s.local_v4.map(IpAddr::V4).or(s.local_v6.map(IpAddr::V6)),
                },
            };
            if let Some(x) = addr {
                set_next_hop(a, family, x);
            }
        }
        Modify::Prepend { asn, count } => {
            prepend(&mut a.block, asn.unwrap_or(s.local_as), *count);
        }
        Modify::Communities(CommunityEdit::Add(add)) => {
            // The common case, without decoding the list: append what is missing.
            let cur = get(&a.block, type_code::COMMUNITIES).unwrap_or(&[]);
            let mut v = Vec::with_capacity(cur.len() + 4 * add.len());
            v.extend_from_slice(cur);
            for c in add {
                if !u32s(&v).any(|x| x == *c) {
                    v.extend_from_slice(&c.to_be_bytes());
                }
            }
            if v.len() != cur.len() {
                set_attr(&mut a.block, type_code::COMMUNITIES, Some(&v));
            }
        }
        Modify::Communities(e) => {
            let cur: Vec<u32> = get(&a.block, type_code::COMMUNITIES)
                .map(|v| u32s(v).collect())
                .unwrap_or_default();
            let new = edit_list(cur, e, |m, c| m.matches(*c));
            let bytes: Vec<u8> = new.iter().flat_map(|c| c.to_be_bytes()).collect();
            set_attr(
                &mut a.block,
                type_code::COMMUNITIES,
                (!bytes.is_empty()).then_some(&bytes[..]),
            );
        }
        Modify::ExtCommunities(e) => {
            let cur: Vec<[u8; 8]> = get(&a.block, type_code::EXTENDED_COMMUNITIES)
                .map(|v| {
                    v.chunks_exact(8)
                        .map(|c| c.try_into().unwrap_or([0; 8]))
                        .collect()
                })
                .unwrap_or_default();
            let new = edit_list(cur, e, |m, c| m.matches(c));
            let bytes: Vec<u8> = new.iter().flatten().copied().collect();
            set_attr(
                &mut a.block,
                type_code::EXTENDED_COMMUNITIES,
                (!bytes.is_empty()).then_some(&bytes[..]),
            );
        }
        Modify::LargeCommunities(e) => {
            let cur: Vec<[u32; 3]> = get(&a.block, type_code::LARGE_COMMUNITY)
                .map(|v| {
                    v.chunks_exact(12)
                        .map(|c| {
                            let mut it = u32s(c);
                            [
                                it.next().unwrap_or(0),
                                it.next().unwrap_or(0),
                                it.next().unwrap_or(0),
                            ]
                        })
                        .collect()
                })
                .unwrap_or_default();
            let new = edit_list(cur, e, |m, c| m.matches(c));
            let bytes: Vec<u8> = new.iter().flatten().flat_map(|x| x.to_be_bytes()).collect();
            set_attr(
                &mut a.block,
                type_code::LARGE_COMMUNITY,
                (!bytes.is_empty()).then_some(&bytes[..]),
            );
        }
    }
}

/// Apply a community edit to a list.
fn edit_list<V: PartialEq + Clone, M>(
    mut cur: Vec<V>,
    e: &CommunityEdit<V, M>,
    matches: impl Fn(&M, &V) -> bool,
) -> Vec<V> {
    match e {
        CommunityEdit::Add(add) => {
            for v in add {
                if !cur.contains(v) {
                    cur.push(v.clone());
                }
            }
            cur
        }
        CommunityEdit::Remove(ms) => {
            cur.retain(|c| !ms.iter().any(|m| matches(m, c)));
            cur
        }
        CommunityEdit::Replace(list) => {
            let mut out: Vec<V> = Vec::with_capacity(list.len());
            for v in list {
                if !out.contains(v) {
                    out.push(v.clone());
                }
            }
            out
        }
    }
}

/// Set the next hop of a route of `family` to `x`.
///
/// IPv4 unicast: NEXT_HOP for an IPv4 address, the MP next hop for an IPv6
/// one (RFC 8950). Every other family: the MP next hop, an IPv4 address on
/// an IPv6 family as IPv4-mapped; with an RD of zeros before the address for
/// VPN families (RFC 4364 §4.3.2, RFC 4659 §3.2.1). Flow rules have no
/// next hop to set (RFC 8955 §4): unchanged.
fn set_next_hop(a: &mut Attributes, family: AfiSafi, x: IpAddr) {
    if family == AfiSafi::IPV4_UNICAST {
        match x {
            IpAddr::V4(v4) => {
                a.mp_next_hop = None;
                set_attr(&mut a.block, type_code::NEXT_HOP, Some(&v4.octets()));
            }
            IpAddr::V6(v6) => {
                set_attr(&mut a.block, type_code::NEXT_HOP, None);
                a.mp_next_hop = Some(v6.octets().to_vec());
            }
        }
        return;
    }
    let format = NlriFormat::of(family);
    if format == Some(NlriFormat::Flowspec) {
        return;
    }
    let addr: Vec<u8> = match (family.afi, x) {
        (Afi::IPV6, IpAddr::V4(v4)) => v4.to_ipv6_mapped().octets().to_vec(),
        (_, IpAddr::V4(v4)) => v4.octets().to_vec(),
        (_, IpAddr::V6(v6)) => v6.octets().to_vec(),
    };
    let mut nh = Vec::with_capacity(8 + addr.len());
    if format == Some(NlriFormat::Vpn) {
        nh.extend_from_slice(&[0; 8]);
    }
    nh.extend_from_slice(&addr);
    a.mp_next_hop = Some(nh);
}

/// Prepend `asn` `count` times to the AS_PATH (4-octet) of a canonical block,
/// after any leading confederation segments.
fn prepend(block: &mut Vec<u8>, asn: u32, count: u8) {
    if count == 0 {
        return;
    }
    let old = get(block, type_code::AS_PATH).unwrap_or(&[]);
    let mut out: Vec<u8> = Vec::with_capacity(old.len() + 2 + 4 * usize::from(count));
    let Some(view) = AsPathView::new_checked(old, true) else {
        return;
    };
    let mut left = usize::from(count);
    let mut placed = false;
    for seg in view.segments() {
        let confed = matches!(
            seg.kind,
            SegmentType::ConfedSequence | SegmentType::ConfedSet
        );
        if !placed && !confed {
            placed = true;
            if seg.kind == SegmentType::Sequence {
                let n = seg.asns().count();
                let take = left.min(255 - n.min(255));
                // Fill the head segment; what does not fit goes in segments before it.
                emit_runs(&mut out, asn, left - take);
                out.push(2);
                out.push((n + take) as u8);
                for _ in 0..take {
                    out.extend_from_slice(&asn.to_be_bytes());
                }
                for a in seg.asns() {
                    out.extend_from_slice(&a.to_be_bytes());
                }
                left = 0;
                continue;
            }
            emit_runs(&mut out, asn, left);
            left = 0;
        }
        out.push(seg.kind.to_u8());
        out.push(seg.asns().count() as u8);
        for a in seg.asns() {
            out.extend_from_slice(&a.to_be_bytes());
        }
    }
    if left > 0 {
        emit_runs(&mut out, asn, left);
    }
    set_attr(block, type_code::AS_PATH, Some(&out));
}

/// AS_SEQUENCE segments holding `asn` `n` times (255 per segment).
fn emit_runs(out: &mut Vec<u8>, asn: u32, mut n: usize) {
    while n > 0 {
        let k = n.min(255);
        out.push(2);
        out.push(k as u8);
        for _ in 0..k {
            out.extend_from_slice(&asn.to_be_bytes());
        }
        n -= k;
    }
}

//! Keyed NLRI on the wire: parsing a field into keys and NLRI, withdrawals, packing UPDATEs.

use alloc::vec::Vec;

use smallvec::SmallVec;

use super::export::Batch;
use super::Nb;
use crate::reflect;
use crate::wire::attribute::type_code;
use crate::wire::evpn::EvpnIter;
use crate::wire::family::NlriFormat;
use crate::wire::flowspec::FlowIter;
use crate::wire::rtc::{RtcIter, RtcNlri};
use crate::wire::vpn::LabeledIter;
use crate::wire::{AfiSafi, NlriIter, Prefix, Writer};

/// One NLRI of a keyed family: path identifier, key, NLRI bytes.
pub(in crate::engine) type Parsed = (u32, Nb, Nb);

/// The entries of a validated NLRI field of keyed family `f`.
pub(in crate::engine) fn parse_field(
    f: AfiSafi,
    field: &[u8],
    add_path: bool,
    withdraw: bool,
) -> Vec<Parsed> {
    let act = crate::Action::AfiSafiDisable;
    let mut out = Vec::new();
    let afi = f.afi;
    let emit = |len: usize, g: &dyn Fn(&mut Writer<'_>) -> crate::Result<()>| -> Nb {
        let mut b: Nb = SmallVec::from_elem(0, len);
        let mut w = Writer::new(&mut b);
        let n = if g(&mut w).is_ok() { w.len() } else { 0 };
        b.truncate(n);
        b
    };
    match NlriFormat::of(f) {
        Some(NlriFormat::Ip) => {
            if let Ok(it) = NlriIter::new_checked(field, afi, add_path, 0, act) {
                for n in it {
                    let b = emit(1 + usize::from(n.prefix.len()).div_ceil(8), &|w| {
                        n.prefix.emit(w)
                    });
                    out.push((n.path_id.unwrap_or(0), b.clone(), b));
                }
            }
        }
        Some(fmt @ (NlriFormat::Labeled | NlriFormat::Vpn)) => {
            let vpn = fmt == NlriFormat::Vpn;
            // One pass: an entry that does not decode drops the whole field,
            // as a check of it first would.
            let mut it = LabeledIter::unchecked(field, afi, vpn, add_path, withdraw);
            for n in it.by_ref() {
                // The key: RD, prefix length and bytes; the NLRI: its length,
                // the labels, RD and prefix bytes (as `emit_labeled` writes
                // them, host bits cleared).
                let octets = match n.prefix {
                    Prefix::V4(p) => {
                        let [a, b, c, d] = p.addr().octets();
                        [a, b, c, d, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
                    }
                    Prefix::V6(p) => p.addr().octets(),
                };
                let pb = octets
                    .get(..usize::from(n.prefix.len()).div_ceil(8))
                    .unwrap_or(&[]);
                let rd: &[u8] = n.rd.as_ref().map_or(&[], |r| &r.0);
                let labels = n.labels.as_bytes();
                let Ok(len) =
                    u8::try_from((labels.len() + rd.len()) * 8 + usize::from(n.prefix.len()))
                else {
                    continue;
                };
                // Byte by byte: these copies are too short for a call to memcpy.
                let mut key = Nb::new();
                key.extend(rd.iter().copied());
                key.push(n.prefix.len());
                key.extend(pb.iter().copied());
                let mut nlri = Nb::new();
                nlri.push(len);
                nlri.extend(labels.iter().chain(rd).chain(pb).copied());
                out.push((n.path_id.unwrap_or(0), key, nlri));
            }
            if it.ended_early() {
                out.clear();
            }
        }
        Some(NlriFormat::Evpn) => {
            if let Ok(it) = EvpnIter::new_checked(field, add_path, 0, act) {
                for n in it {
                    let key = Nb::from_slice(n.key().as_bytes());
                    let plain = crate::wire::evpn::EvpnNlri { path_id: None, ..n };
                    let nlri = emit(plain.buffer_len(), &|w| plain.emit(w));
                    out.push((n.path_id.unwrap_or(0), key, nlri));
                }
            }
        }
        Some(NlriFormat::Flowspec) => {
            if let Ok(it) = FlowIter::new_checked(field, afi, add_path, 0, act) {
                for n in it {
                    let plain = crate::wire::flowspec::FlowNlri { path_id: None, ..n };
                    let nlri = emit(plain.buffer_len(), &|w| plain.emit(w));
                    out.push((n.path_id.unwrap_or(0), Nb::from_slice(n.components), nlri));
                }
            }
        }
        Some(NlriFormat::Rtc) => {
            if let Ok(it) = RtcIter::new_checked(field, add_path, 0, act) {
                for n in it {
                    let plain = RtcNlri { path_id: None, ..n };
                    let nlri = emit(plain.buffer_len(), &|w| plain.emit(w));
                    out.push((n.path_id.unwrap_or(0), Nb::from_slice(&n.key()), nlri));
                }
            }
        }
        None => {}
    }
    out
}

/// An NLRI that withdraws the route with `key` (labeled and VPN withdrawals
/// carry the compatibility label 0x800000, RFC 8277 §2.4; an EVPN withdrawal
/// carries the key fields with the others zero).
pub(super) fn withdraw_nlri(f: AfiSafi, key: &[u8]) -> Nb {
    let mut b = Nb::new();
    match NlriFormat::of(f) {
        Some(NlriFormat::Ip) => b.extend_from_slice(key),
        Some(NlriFormat::Labeled) => {
            if let Some((len, rest)) = key.split_first() {
                b.push(len.saturating_add(24));
                b.extend_from_slice(&[0x80, 0, 0]);
                b.extend_from_slice(rest);
            }
        }
        Some(NlriFormat::Vpn) => {
            if let (Some(rd), Some((len, rest))) =
                (key.get(..8), key.get(8..).and_then(|k| k.split_first()))
            {
                b.push(len.saturating_add(88));
                b.extend_from_slice(&[0x80, 0, 0]);
                b.extend_from_slice(rd);
                b.extend_from_slice(rest);
            }
        }
        Some(NlriFormat::Evpn) => {
            let Some((&t, k)) = key.split_first() else {
                return b;
            };
            let mut v: Nb = Nb::new();
            let rd = k.get(..8).unwrap_or(&[]);
            match t {
                1 => {
                    v.extend_from_slice(k);
                    v.extend_from_slice(&[0; 3]);
                }
                2 => {
                    v.extend_from_slice(rd);
                    v.extend_from_slice(&[0; 10]);
                    v.extend_from_slice(k.get(8..).unwrap_or(&[]));
                    v.extend_from_slice(&[0; 3]);
                }
                5 => {
                    let n = if k.len() == 8 + 4 + 1 + 4 { 4 } else { 16 };
                    v.extend_from_slice(rd);
                    v.extend_from_slice(&[0; 10]);
                    v.extend_from_slice(k.get(8..).unwrap_or(&[]));
                    v.extend(core::iter::repeat_n(0, n + 3));
                }
                _ => v.extend_from_slice(k),
            }
            b.push(t);
            b.push(v.len() as u8);
            b.extend_from_slice(&v);
        }
        Some(NlriFormat::Flowspec) => {
            if key.len() < 240 {
                b.push(key.len() as u8);
            } else {
                b.extend_from_slice(&(0xf000 | key.len() as u16).to_be_bytes());
            }
            b.extend_from_slice(key);
        }
        Some(NlriFormat::Rtc) => {
            if let Some((&len, rest)) = key.split_first() {
                b.push(len);
                if len > 0 {
                    let n = 4 + usize::from(len - 32).div_ceil(8);
                    b.extend_from_slice(rest.get(..n).unwrap_or(&[]));
                }
            }
        }
        None => {}
    }
    b
}

/// `nlri` with the path identifier `id` in front when `add_path`.
pub(super) fn with_path_id(add_path: bool, id: u32, nlri: &[u8]) -> Nb {
    let mut b = Nb::new();
    if add_path {
        b.extend_from_slice(&id.to_be_bytes());
    }
    b.extend_from_slice(nlri);
    b
}

/// Write `b`'s withdrawals and announcements for family `f` as UPDATEs into
/// `out`; returns (messages, announced, withdrawn, overflowed). A route
/// longer than a message holds overflows, with the routes after it in its group.
pub(super) fn pack(
    out: &mut Vec<u8>,
    max_len: usize,
    f: AfiSafi,
    b: &Batch,
) -> (u64, u64, u64, u64) {
    let mut pk = reflect::Packer::new(out, max_len, false);
    let wd = pk.withdraw(f, &b.withdrawals);
    let mut counts = (
        wd.messages,
        0u64,
        wd.prefixes,
        (b.withdrawals.len() as u64).saturating_sub(wd.prefixes),
    );
    for (blk, nlri) in &b.groups {
        let room = pk.room(f, blk);
        let fit = nlri.iter().take_while(|n| n.len() <= room).count();
        let done = pk
            .announce(f, blk, nlri.get(..fit).unwrap_or(&[]))
            .unwrap_or_default();
        counts.0 += done.messages;
        counts.1 += done.prefixes;
        counts.3 += (nlri.len() as u64).saturating_sub(done.prefixes);
    }
    counts
}

pub(super) fn strip_next_hop(block: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(block.len());
    let mut rest = block;
    while let Some((_, t, _, end)) = crate::wire::attribute::tlv(rest, 0) {
        if t != type_code::NEXT_HOP {
            out.extend_from_slice(rest.get(..end).unwrap_or(&[]));
        }
        rest = rest.get(end..).unwrap_or(&[]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn withdraw_nlri_parses_as_a_withdrawal_of_the_same_key() {
        use crate::wire::family::check_nlri;
        let cases: [(AfiSafi, &[u8]); 4] = [
            // VPN-IPv4 65000:1:10.1.0.0/16, label 100.
            (
                AfiSafi::VPNV4,
                &[
                    24 + 64 + 16,
                    0,
                    6,
                    0x41,
                    0,
                    0,
                    0xfd,
                    0xe8,
                    0,
                    0,
                    0,
                    1,
                    10,
                    1,
                ],
            ),
            (AfiSafi::IPV4_LABELED, &[24 + 24, 0, 6, 0x41, 192, 0, 2]),
            (
                AfiSafi::IPV4_FLOWSPEC,
                &[0x07, 0x01, 0x10, 0x0a, 0x01, 0x03, 0x81, 0x06],
            ),
            (AfiSafi::RT_CONSTRAINT, &[48, 0, 0, 0xfd, 0xe8, 0x00, 0x02]),
        ];
        for (f, nlri) in cases {
            let parsed = parse_field(f, nlri, false, false);
            assert_eq!(parsed.len(), 1, "{f:?}");
            let (_, key, n) = &parsed[0];
            let wd = withdraw_nlri(f, key);
            assert!(
                check_nlri(f, &wd, false, true, 0, crate::Action::AfiSafiDisable)
                    .unwrap()
                    .is_ok(),
                "{f:?} {wd:?}"
            );
            let again = parse_field(f, &wd, false, true);
            assert_eq!(&again[0].1, key, "{f:?}");
            assert!(!n.is_empty());
        }
    }

    /// A labeled or VPN field is taken whole or not at all: entries before
    /// one that does not decode are dropped with it, as a check of the field
    /// first drops them; each prefix length and label stack is read as sent.
    #[test]
    fn labeled_fields_parse_whole_or_not_at_all() {
        // 65000:1 10.1.0.0/16 label 100, then 65000:2 192.0.2.128/25 label 7.
        let good: [&[u8]; 2] = [
            &[104, 0, 6, 0x41, 0, 0, 0xfd, 0xe8, 0, 0, 0, 1, 10, 1],
            &[
                113, 0, 0, 0x71, 0, 0, 0xfd, 0xe8, 0, 0, 0, 2, 192, 0, 2, 128,
            ],
        ];
        let field = good.concat();
        let parsed = parse_field(AfiSafi::VPNV4, &field, false, false);
        let keys: Vec<&[u8]> = parsed.iter().map(|p| p.1.as_slice()).collect();
        assert_eq!(
            keys,
            [
                &[0, 0, 0xfd, 0xe8, 0, 0, 0, 1, 16, 10, 1][..],
                &[0, 0, 0xfd, 0xe8, 0, 0, 0, 2, 25, 192, 0, 2, 128][..]
            ]
        );
        assert_eq!(parsed[1].2.as_slice(), good[1]);
        for cut in 1..good[1].len() {
            let broken = &field[..good[0].len() + cut];
            assert!(
                parse_field(AfiSafi::VPNV4, broken, false, false).is_empty(),
                "{cut}"
            );
        }
        // A prefix longer than 32 bits after the RD and label.
        let mut long = good[0].to_vec();
        long[0] = 24 + 64 + 33;
        long.extend_from_slice(&[0, 0, 0]);
        assert!(parse_field(AfiSafi::VPNV4, &[good[0], &long].concat(), false, false).is_empty());
    }
}

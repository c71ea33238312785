//! The packer fills UPDATEs up to the peer's maximum message size and never
//! past it, for IPv4 sent with an RFC 8950 IPv6 next hop in MP_REACH_NLRI as
//! for classic IPv4: every message parses, none is longer than the limit, and
//! each but the last is full to within one prefix.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::Ipv4Addr;

use reflector_core::reflect::{OutBlock, Packer};
use reflector_core::wire::{AfiSafi, Context, Ipv4Prefix, Nlri, Prefix, UpdatePacket};

/// ORIGIN IGP, empty AS_PATH, LOCAL_PREF 100; NEXT_HOP only when `classic`.
fn block(classic: bool) -> OutBlock {
    let mut attrs = vec![0x40, 1, 1, 0, 0x40, 2, 0, 0x40, 5, 4, 0, 0, 0, 100];
    if classic {
        attrs.extend_from_slice(&[0x40, 3, 4, 192, 0, 2, 1]);
    }
    OutBlock {
        attrs: attrs.into_boxed_slice(),
        mp_next_hop: (!classic).then(|| {
            "2001:db8::1"
                .parse::<std::net::Ipv6Addr>()
                .unwrap()
                .octets()
                .to_vec()
                .into_boxed_slice()
        }),
    }
}

fn host_routes(n: u32) -> Vec<Nlri> {
    (0..n)
        .map(|i| {
            Nlri::new(Prefix::V4(
                Ipv4Prefix::new(Ipv4Addr::from(0x0a00_0000 + i), 32).unwrap(),
            ))
        })
        .collect()
}

/// The message lengths `announce` writes for `nlri` under `max_len`.
fn lengths(blk: &OutBlock, nlri: &[Nlri], max_len: usize) -> Vec<usize> {
    let mut out = Vec::new();
    Packer::new(&mut out, max_len, false)
        .announce(AfiSafi::IPV4_UNICAST, blk, nlri)
        .unwrap();
    let ctx = Context {
        extended_message: max_len > 4096,
        ..Context::MODERN
    };
    let mut lens = Vec::new();
    let mut rest = &out[..];
    let mut prefixes = 0;
    while !rest.is_empty() {
        let len = usize::from(u16::from_be_bytes([rest[16], rest[17]]));
        let pkt = UpdatePacket::new_checked(&rest[..len], &ctx).unwrap();
        prefixes += pkt.announced_count();
        lens.push(len);
        rest = &rest[len..];
    }
    assert_eq!(prefixes, nlri.len(), "every prefix announced once");
    lens
}

#[test]
fn ipv4_with_an_ipv6_next_hop_fills_messages_to_the_limit_and_not_past_it() {
    for classic in [true, false] {
        let blk = block(classic);
        let nlri = host_routes(2000); // 5 bytes each on the wire
        for max_len in [4096usize, 1000, 65535] {
            let lens = lengths(&blk, &nlri, max_len);
            assert!(lens.len() > 1 || max_len == 65535, "{lens:?}");
            for (i, &l) in lens.iter().enumerate() {
                assert!(
                    l <= max_len,
                    "classic {classic}, limit {max_len}: message {i} is {l}"
                );
                if i + 1 < lens.len() {
                    assert!(
                        l + 5 > max_len,
                        "classic {classic}, limit {max_len}: message {i} is {l}, not full"
                    );
                }
            }
        }
    }
}

/// Withdrawals fill messages to the limit and not past it too: IPv6 in
/// MP_UNREACH_NLRI (RFC 4760 §4) and classic IPv4; every prefix once.
#[test]
fn withdrawals_fill_messages_to_the_limit_and_not_past_it() {
    for (family, nlri) in [
        (AfiSafi::IPV4_UNICAST, host_routes(3000)),
        (
            AfiSafi::IPV6_UNICAST,
            (0..3000u32)
                .map(|i| {
                    // /64s: 9 octets each, so a few octets of slack in the
                    // size estimate are enough for one prefix more.
                    let a = std::net::Ipv6Addr::from(
                        0x2001_0db8_0000_0000_0000_0000_0000_0000u128 + (u128::from(i) << 64),
                    );
                    Nlri::new(Prefix::V6(
                        reflector_core::wire::Ipv6Prefix::new(a, 64).unwrap(),
                    ))
                })
                .collect(),
        ),
    ] {
        let mut out = Vec::new();
        Packer::new(&mut out, 4096, false).withdraw(family, &nlri);
        let mut rest = &out[..];
        let mut lens = Vec::new();
        let mut count = 0;
        while !rest.is_empty() {
            let len = usize::from(u16::from_be_bytes([rest[16], rest[17]]));
            let pkt = UpdatePacket::new_checked(&rest[..len], &Context::MODERN).unwrap();
            count += pkt.withdrawn_count();
            lens.push(len);
            rest = &rest[len..];
        }
        assert_eq!(count, nlri.len(), "{family:?}");
        let prefix = if family == AfiSafi::IPV4_UNICAST {
            5
        } else {
            9
        };
        assert!(lens.iter().all(|&l| l <= 4096), "{family:?} {lens:?}");
        assert!(
            lens[..lens.len() - 1].iter().all(|&l| l + prefix > 4096),
            "{family:?}: each but the last full to within one prefix: {lens:?}"
        );
    }
}

//! Which NLRI format each AFI/SAFI uses, and the checks MP_REACH_NLRI and
//! MP_UNREACH_NLRI apply per family (RFC 4760 §3–4, RFC 7606 §7.11).

use super::evpn::EvpnIter;
use super::flowspec::FlowIter;
use super::rtc::RtcIter;
use super::vpn::LabeledIter;
use super::{Afi, AfiSafi, NlriIter, Prefix, Safi};
use crate::error::{Action, Result};

/// How a family's NLRI are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NlriFormat {
    /// Length and prefix (RFC 4271 §4.3): IPv4/IPv6 unicast and multicast.
    Ip,
    /// Length, label stack, prefix (RFC 8277): labeled unicast.
    Labeled,
    /// Length, label stack, RD, prefix (RFC 4364 §4.3.4): VPN-IPv4/IPv6.
    Vpn,
    /// Route type, length, value (RFC 7432 §7): EVPN.
    Evpn,
    /// Length and ordered components (RFC 8955 §4): flow specification.
    Flowspec,
    /// Length, origin AS, route target prefix (RFC 4684 §4).
    Rtc,
}

impl NlriFormat {
    /// The format of `f`'s NLRI, if Reflector knows the family.
    pub const fn of(f: AfiSafi) -> Option<NlriFormat> {
        match (f.afi, f.safi) {
            (Afi::IPV4 | Afi::IPV6, Safi::UNICAST | Safi::MULTICAST) => Some(NlriFormat::Ip),
            (Afi::IPV4 | Afi::IPV6, Safi::LABELED_UNICAST) => Some(NlriFormat::Labeled),
            (Afi::IPV4 | Afi::IPV6, Safi::MPLS_VPN) => Some(NlriFormat::Vpn),
            (Afi::L2VPN, Safi::EVPN) => Some(NlriFormat::Evpn),
            (Afi::IPV4 | Afi::IPV6, Safi::FLOWSPEC) => Some(NlriFormat::Flowspec),
            (Afi::IPV4, Safi::RT_CONSTRAINT) => Some(NlriFormat::Rtc),
            _ => None,
        }
    }
}

/// Every family Reflector decodes, in a fixed order.
pub const KNOWN: [AfiSafi; 12] = [
    AfiSafi::IPV4_UNICAST,
    AfiSafi::IPV6_UNICAST,
    AfiSafi::IPV4_MULTICAST,
    AfiSafi::IPV6_MULTICAST,
    AfiSafi::IPV4_LABELED,
    AfiSafi::IPV6_LABELED,
    AfiSafi::VPNV4,
    AfiSafi::VPNV6,
    AfiSafi::EVPN,
    AfiSafi::RT_CONSTRAINT,
    AfiSafi::IPV4_FLOWSPEC,
    AfiSafi::IPV6_FLOWSPEC,
];

/// A short name for a family, as `reflector mrt` and the logs print it.
pub const fn name(f: AfiSafi) -> Option<&'static str> {
    Some(match (f.afi.0, f.safi.0) {
        (1, 1) => "ipv4-unicast",
        (2, 1) => "ipv6-unicast",
        (1, 2) => "ipv4-multicast",
        (2, 2) => "ipv6-multicast",
        (1, 4) => "ipv4-labeled-unicast",
        (2, 4) => "ipv6-labeled-unicast",
        (1, 128) => "ipv4-vpn",
        (2, 128) => "ipv6-vpn",
        (25, 70) => "l2vpn-evpn",
        (1, 132) => "rt-constraint",
        (1, 133) => "ipv4-flowspec",
        (2, 133) => "ipv6-flowspec",
        _ => return None,
    })
}

/// Whether `nh` is a next hop field the family allows in MP_REACH_NLRI.
///
/// IPv4 families also take an IPv6 next hop (RFC 8950); VPN next hops carry
/// an RD of zeros (RFC 4364 §4.3.2, RFC 4659 §3.2.1); flow specification
/// routes have none (RFC 8955 §4), though an address is tolerated.
pub const fn next_hop_ok(f: AfiSafi, nh_len: usize) -> bool {
    match NlriFormat::of(f) {
        Some(NlriFormat::Ip | NlriFormat::Labeled) => match f.afi {
            Afi::IPV4 => matches!(nh_len, 4 | 16 | 32),
            _ => matches!(nh_len, 16 | 32),
        },
        Some(NlriFormat::Vpn) => match f.afi {
            Afi::IPV4 => matches!(nh_len, 12 | 24 | 48),
            _ => matches!(nh_len, 24 | 48),
        },
        Some(NlriFormat::Evpn | NlriFormat::Rtc) => matches!(nh_len, 4 | 16 | 32),
        Some(NlriFormat::Flowspec) => matches!(nh_len, 0 | 4 | 16 | 32),
        None => false,
    }
}

/// Validate an NLRI field of a known family and count its entries; `None`
/// for a family Reflector does not decode.
///
/// `withdraw` says whether the field is MP_UNREACH_NLRI's (labeled and VPN
/// withdrawals carry one label entry, RFC 8277 §2.4); `base` is the field's
/// offset in the message, `action` what a malformed field calls for.
pub fn check_nlri(
    f: AfiSafi,
    field: &[u8],
    add_path: bool,
    withdraw: bool,
    base: usize,
    action: Action,
) -> Option<Result<usize>> {
    let afi = f.afi;
    Some(match NlriFormat::of(f)? {
        NlriFormat::Ip => {
            NlriIter::new_checked(field, afi, add_path, base, action).map(Iterator::count)
        }
        NlriFormat::Labeled => {
            LabeledIter::new_checked(field, afi, false, add_path, withdraw, base, action)
                .map(Iterator::count)
        }
        NlriFormat::Vpn => {
            LabeledIter::new_checked(field, afi, true, add_path, withdraw, base, action)
                .map(Iterator::count)
        }
        NlriFormat::Evpn => {
            EvpnIter::new_checked(field, add_path, base, action).map(Iterator::count)
        }
        NlriFormat::Flowspec => {
            FlowIter::new_checked(field, afi, add_path, base, action).map(Iterator::count)
        }
        NlriFormat::Rtc => RtcIter::new_checked(field, add_path, base, action).map(Iterator::count),
    })
}

/// The IP prefix one NLRI of a known family (without path identifier) names:
/// the prefix of an IP, labeled or VPN route (without its labels and RD), an
/// EVPN IP Prefix route's prefix (RFC 9136); `None` for the other EVPN route
/// types, flow rules and RT membership, and for bytes that do not parse.
pub fn nlri_prefix(family: AfiSafi, nlri: &[u8]) -> Option<Prefix> {
    let (afi, act) = (family.afi, Action::AfiSafiDisable);
    match NlriFormat::of(family)? {
        NlriFormat::Ip => NlriIter::new_checked(nlri, afi, false, 0, act)
            .ok()?
            .next()
            .map(|n| n.prefix),
        f @ (NlriFormat::Labeled | NlriFormat::Vpn) => {
            LabeledIter::new_checked(nlri, afi, f == NlriFormat::Vpn, false, false, 0, act)
                .ok()?
                .next()
                .map(|n| n.prefix)
        }
        NlriFormat::Evpn => match EvpnIter::new_checked(nlri, false, 0, act)
            .ok()?
            .next()?
            .route()?
        {
            super::evpn::EvpnRoute::IpPrefix {
                prefix_len, prefix, ..
            } => match prefix {
                core::net::IpAddr::V4(a) => super::Ipv4Prefix::new(a, prefix_len).map(Prefix::V4),
                core::net::IpAddr::V6(a) => super::Ipv6Prefix::new(a, prefix_len).map(Prefix::V6),
            },
            _ => None,
        },
        NlriFormat::Flowspec | NlriFormat::Rtc => None,
    }
}

/// One NLRI of a known family (without path identifier), shown as text:
/// `10.0.0.0/24`, `65000:1:10.0.0.0/24 label 100`, FRR's bracketed EVPN
/// form, flow rule components in brackets; hex for what does not parse.
#[derive(Debug, Clone, Copy)]
pub struct NlriText<'a> {
    /// The family.
    pub family: AfiSafi,
    /// The NLRI bytes, from the length (or the route type) on.
    pub nlri: &'a [u8],
}

impl core::fmt::Display for NlriText<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let (afi, b) = (self.family.afi, self.nlri);
        let act = Action::AfiSafiDisable;
        let shown = match NlriFormat::of(self.family) {
            Some(NlriFormat::Ip) => NlriIter::new_checked(b, afi, false, 0, act)
                .ok()
                .and_then(|mut i| i.next())
                .map(|n| write!(f, "{}", n.prefix)),
            Some(NlriFormat::Labeled | NlriFormat::Vpn) => {
                let vpn = NlriFormat::of(self.family) == Some(NlriFormat::Vpn);
                LabeledIter::new_checked(b, afi, vpn, false, false, 0, act)
                    .ok()
                    .and_then(|mut i| i.next())
                    .map(|n| write!(f, "{n}"))
            }
            Some(NlriFormat::Evpn) => EvpnIter::new_checked(b, false, 0, act)
                .ok()
                .and_then(|mut i| i.next())
                .and_then(|n| n.route())
                .map(|r| write!(f, "{r}")),
            Some(NlriFormat::Flowspec) => FlowIter::new_checked(b, afi, false, 0, act)
                .ok()
                .and_then(|mut i| i.next())
                .map(|n| write!(f, "{n}")),
            Some(NlriFormat::Rtc) => RtcIter::new_checked(b, false, 0, act)
                .ok()
                .and_then(|mut i| i.next())
                .map(|n| write!(f, "{n}")),
            None => None,
        };
        match shown {
            Some(r) => r,
            None => {
                f.write_str("0x")?;
                for x in b {
                    write!(f, "{x:02x}")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_family_has_a_format_a_name_and_a_set_slot() {
        let mut set = super::super::AfiSafiSet::EMPTY;
        for f in KNOWN {
            assert!(NlriFormat::of(f).is_some(), "{f:?}");
            assert!(name(f).is_some(), "{f:?}");
            assert!(!set.contains(f));
            set.insert(f);
            assert!(set.contains(f), "{f:?} has no AfiSafiSet slot");
        }
        assert!(NlriFormat::of(AfiSafi::new(Afi(1), Safi(5))).is_none());
        assert!(check_nlri(
            AfiSafi::new(Afi(3), Safi(1)),
            &[],
            false,
            false,
            0,
            Action::AfiSafiDisable
        )
        .is_none());
    }

    #[test]
    fn nlri_text_per_family() {
        let t = |f, b: &[u8]| NlriText { family: f, nlri: b }.to_string();
        assert_eq!(t(AfiSafi::IPV4_MULTICAST, &[24, 10, 0, 0]), "10.0.0.0/24");
        // Label 1 with bottom of stack, RD 65000:1 (type 0), 10.0.0.0/8.
        let vpn = [96, 0, 0, 0x11, 0, 0, 0xfd, 0xe8, 0, 0, 0, 1, 10];
        assert_eq!(t(AfiSafi::VPNV4, &vpn), "65000:1:10.0.0.0/8 label 1");
        assert_eq!(
            t(AfiSafi::IPV4_LABELED, &[32, 0, 0, 0x61, 192]),
            "192.0.0.0/8 label 6"
        );
        // Inclusive multicast (type 3): RD 65000:1, tag 0, originator 10.0.0.1.
        let evpn = [
            3, 17, 0, 0, 0xfd, 0xe8, 0, 0, 0, 1, 0, 0, 0, 0, 32, 10, 0, 0, 1,
        ];
        assert_eq!(t(AfiSafi::EVPN, &evpn), "[3]:[65000:1]:[0]:[32]:[10.0.0.1]");
        // dst 10.0.0.0/24, proto =6, dport >=1024 AND <=2048, SYN exactly.
        let flow = [
            18, 1, 24, 10, 0, 0, 3, 0x81, 6, 5, 0x13, 0x04, 0x00, 0xd5, 0x08, 0x00, 9, 0x81, 0x02,
        ];
        assert_eq!(
            t(AfiSafi::IPV4_FLOWSPEC, &flow),
            "[dst 10.0.0.0/24][proto =6][dport >=1024&<=2048][tcp-flags =0x02]"
        );
        // Two ORed values (no AND bit), then a NOT-any bitmask.
        let flow = [8, 4, 0x01, 80, 0x81, 0xbb, 12, 0x82, 0x01];
        assert_eq!(
            t(AfiSafi::IPV4_FLOWSPEC, &flow),
            "[port =80 =187][frag !&0x01]"
        );
        let rtc = [96, 0, 0, 0xfd, 0xe8, 0, 2, 0xfd, 0xe8, 0, 0, 0, 100];
        assert_eq!(t(AfiSafi::RT_CONSTRAINT, &rtc), "65000:0002fde800000064/96");
        // What does not parse is shown in hex.
        assert_eq!(t(AfiSafi::VPNV4, &vpn[..5]), "0x6000001100");
        assert_eq!(t(AfiSafi::new(Afi(3), Safi(1)), &[1, 2]), "0x0102");
    }

    #[test]
    fn next_hop_lengths_per_family() {
        assert!(next_hop_ok(AfiSafi::VPNV4, 12));
        assert!(!next_hop_ok(AfiSafi::VPNV4, 4));
        assert!(next_hop_ok(AfiSafi::VPNV4, 24));
        assert!(!next_hop_ok(AfiSafi::VPNV6, 12));
        assert!(next_hop_ok(AfiSafi::IPV4_FLOWSPEC, 0));
        assert!(!next_hop_ok(AfiSafi::IPV4_UNICAST, 0));
        assert!(next_hop_ok(AfiSafi::IPV4_LABELED, 4));
        assert!(next_hop_ok(AfiSafi::EVPN, 16));
    }

    #[test]
    fn check_counts_entries() {
        let vpn = [96, 0, 0, 0x11, 0, 0, 0xfd, 0xe8, 0, 0, 0, 1, 10];
        assert_eq!(
            check_nlri(
                AfiSafi::VPNV4,
                &vpn,
                false,
                false,
                0,
                Action::AfiSafiDisable
            )
            .unwrap()
            .unwrap(),
            1
        );
        assert!(check_nlri(
            AfiSafi::VPNV4,
            &vpn[..5],
            false,
            false,
            0,
            Action::AfiSafiDisable
        )
        .unwrap()
        .is_err());
    }
}

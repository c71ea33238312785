//! The text forms of policy terms, as the daemon's configuration and the C ABI write them.
//!
//! | term | forms |
//! |---|---|
//! | [`PrefixRange`] | `10.0.0.0/8` (exact), `10.0.0.0/8+` (and longer), `10.0.0.0/8{16,24}` |
//! | [`CommunityMatch`] | `65000:100`, `65000:*`, `*:100`, or a name: `no-export`, `no-advertise`, `no-export-subconfed`, `no-peer`, `graceful-shutdown`, `blackhole` |
//! | [`LargeCommunityMatch`] | `65000:1:2`, any part `*` |
//! | [`ExtCommunityMatch`] | `rt:65000:100`, `soo:192.0.2.1:7`, `rt:65000:*`, `rt:*:*` |
//! | [`AsPathPattern`] | ASes, `lo..hi` ranges, `?` (one AS), `*` (any ASes), space-separated, matched against the whole path: `* 65001 ?` |
//! | [`Verdict`] | `accept`, `reject`, `next` |

use alloc::vec::Vec;
use core::fmt;
use core::net::Ipv4Addr;
use core::str::FromStr;

use super::{
    AsPathPattern, CommunityMatch, ExtCommunityMatch, ExtKind, LargeCommunityMatch, PathToken,
    PrefixRange, Verdict,
};
use crate::wire::attribute::community;
use crate::wire::{AfiSafi, Prefix};

/// A policy term that could not be read; says what was expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseError(pub &'static str);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ParseError {}

type R<T> = core::result::Result<T, ParseError>;

impl FromStr for PrefixRange {
    type Err = ParseError;

    fn from_str(s: &str) -> R<Self> {
        const E: ParseError =
            ParseError("expected a prefix range: 10.0.0.0/8, 10.0.0.0/8+ or 10.0.0.0/8{16,24}");
        let s = s.trim();
        let (p, tail) = match s.find(['+', '{']) {
            Some(i) => (s.get(..i).ok_or(E)?, s.get(i..).ok_or(E)?),
            None => (s, ""),
        };
        let prefix: Prefix = p.parse().map_err(|_| E)?;
        let full = if matches!(prefix, Prefix::V4(_)) {
            32
        } else {
            128
        };
        let (min_len, max_len) = match tail {
            "" => (prefix.len(), prefix.len()),
            "+" => (prefix.len(), full),
            t => {
                let inner = t
                    .strip_prefix('{')
                    .and_then(|t| t.strip_suffix('}'))
                    .ok_or(E)?;
                let (a, b) = inner.split_once(',').ok_or(E)?;
                let a: u8 = a.trim().parse().map_err(|_| E)?;
                let b: u8 = b.trim().parse().map_err(|_| E)?;
                (a, b)
            }
        };
        if min_len > max_len || max_len > full || min_len < prefix.len() {
            return Err(ParseError(
                "prefix range lengths must satisfy prefix length <= min <= max <= address bits",
            ));
        }
        Ok(PrefixRange {
            prefix,
            min_len,
            max_len,
        })
    }
}

impl fmt::Display for PrefixRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let full = if matches!(self.prefix, Prefix::V4(_)) {
            32
        } else {
            128
        };
        write!(f, "{}", self.prefix)?;
        if self.min_len == self.prefix.len() && self.max_len == self.prefix.len() {
            Ok(())
        } else if self.min_len == self.prefix.len() && self.max_len == full {
            f.write_str("+")
        } else {
            write!(f, "{{{},{}}}", self.min_len, self.max_len)
        }
    }
}

/// The well-known communities by name.
const NAMES: [(&str, u32); 6] = [
    ("no-export", community::NO_EXPORT),
    ("no-advertise", community::NO_ADVERTISE),
    ("no-export-subconfed", community::NO_EXPORT_SUBCONFED),
    ("no-peer", community::NO_PEER),
    ("graceful-shutdown", community::GRACEFUL_SHUTDOWN),
    ("blackhole", community::BLACKHOLE),
];

/// A field: a number or `*`.
fn field<T: FromStr>(s: &str, e: ParseError) -> R<Option<T>> {
    match s.trim() {
        "*" => Ok(None),
        t => t.parse().map(Some).map_err(|_| e),
    }
}

impl FromStr for CommunityMatch {
    type Err = ParseError;

    fn from_str(s: &str) -> R<Self> {
        const E: ParseError = ParseError(
            "expected a community: ASN:VALUE (16 bits each, either may be *) or a well-known name",
        );
        if let Some(&(_, c)) = NAMES.iter().find(|(n, _)| n.eq_ignore_ascii_case(s.trim())) {
            return Ok(CommunityMatch {
                asn: Some((c >> 16) as u16),
                value: Some(c as u16),
            });
        }
        let (a, v) = s.split_once(':').ok_or(E)?;
        Ok(CommunityMatch {
            asn: field(a, E)?,
            value: field(v, E)?,
        })
    }
}

/// A standard community value: `ASN:VALUE` or a well-known name.
pub fn parse_community(s: &str) -> R<u32> {
    let m: CommunityMatch = s.parse()?;
    match (m.asn, m.value) {
        (Some(a), Some(v)) => Ok(u32::from(a) << 16 | u32::from(v)),
        _ => Err(ParseError("a community to set cannot hold *")),
    }
}

impl FromStr for LargeCommunityMatch {
    type Err = ParseError;

    fn from_str(s: &str) -> R<Self> {
        const E: ParseError = ParseError(
            "expected a large community: GLOBAL:DATA1:DATA2 (32 bits each, any may be *)",
        );
        let mut it = s.split(':');
        let (Some(g), Some(a), Some(b), None) = (it.next(), it.next(), it.next(), it.next()) else {
            return Err(E);
        };
        Ok(LargeCommunityMatch {
            global: field(g, E)?,
            data1: field(a, E)?,
            data2: field(b, E)?,
        })
    }
}

/// A large community value: `GLOBAL:DATA1:DATA2`.
pub fn parse_large_community(s: &str) -> R<[u32; 3]> {
    let m: LargeCommunityMatch = s.parse()?;
    match (m.global, m.data1, m.data2) {
        (Some(g), Some(a), Some(b)) => Ok([g, a, b]),
        _ => Err(ParseError("a large community to set cannot hold *")),
    }
}

/// A global administrator: an AS number or an IPv4 address; whether it was an address.
fn global(s: &str, e: ParseError) -> R<Option<(u32, bool)>> {
    let s = s.trim();
    if s == "*" {
        return Ok(None);
    }
    if let Ok(a) = s.parse::<Ipv4Addr>() {
        return Ok(Some((a.to_bits(), true)));
    }
    s.parse::<u32>().map(|v| Some((v, false))).map_err(|_| e)
}

impl FromStr for ExtCommunityMatch {
    type Err = ParseError;

    fn from_str(s: &str) -> R<Self> {
        const E: ParseError = ParseError(
            "expected an extended community: rt:GLOBAL:LOCAL or soo:GLOBAL:LOCAL (GLOBAL an AS or IPv4 address; * for any)",
        );
        let (kind, rest) = s.split_once(':').ok_or(E)?;
        let kind = match kind.trim().to_ascii_lowercase().as_str() {
            "rt" => ExtKind::RouteTarget,
            "soo" | "ro" => ExtKind::RouteOrigin,
            _ => return Err(E),
        };
        let (g, l) = rest.rsplit_once(':').ok_or(E)?;
        Ok(ExtCommunityMatch {
            kind,
            global: global(g, E)?.map(|(v, _)| v),
            local: field(l, E)?,
        })
    }
}

/// An extended community value: `rt:GLOBAL:LOCAL` or `soo:GLOBAL:LOCAL` in
/// the encoding its parts fit (two-octet AS, IPv4 address or four-octet AS; RFC 4360, RFC 5668).
pub fn parse_ext_community(s: &str) -> R<[u8; 8]> {
    const E: ParseError =
        ParseError("expected an extended community: rt:GLOBAL:LOCAL or soo:GLOBAL:LOCAL");
    let (kind, rest) = s.split_once(':').ok_or(E)?;
    let subtype = match kind.trim().to_ascii_lowercase().as_str() {
        "rt" => 0x02,
        "soo" | "ro" => 0x03,
        _ => return Err(E),
    };
    let (g, l) = rest.rsplit_once(':').ok_or(E)?;
    let (g, is_ip) =
        global(g, E)?.ok_or(ParseError("an extended community to set cannot hold *"))?;
    let l: u32 = l.trim().parse().map_err(|_| E)?;
    let mut out = [0u8; 8];
    out[1] = subtype;
    if !is_ip && g <= 0xffff {
        out[0] = 0x00;
        out[2..4].copy_from_slice(&(g as u16).to_be_bytes());
        out[4..8].copy_from_slice(&l.to_be_bytes());
    } else {
        out[0] = if is_ip { 0x01 } else { 0x02 };
        let l: u16 = l.try_into().map_err(|_| {
            ParseError("the local part after an IPv4 address or a 4-octet AS has 16 bits")
        })?;
        out[2..6].copy_from_slice(&g.to_be_bytes());
        out[6..8].copy_from_slice(&l.to_be_bytes());
    }
    Ok(out)
}

/// An AS number or range: `65000` or `64512..65534`.
pub fn parse_asn_range(s: &str) -> R<(u32, u32)> {
    const E: ParseError = ParseError("expected an AS number or a range LO..HI");
    match s.trim().split_once("..") {
        Some((a, b)) => {
            let (a, b): (u32, u32) = (
                a.trim().parse().map_err(|_| E)?,
                b.trim().parse().map_err(|_| E)?,
            );
            if a > b {
                return Err(E);
            }
            Ok((a, b))
        }
        None => {
            let a: u32 = s.trim().parse().map_err(|_| E)?;
            Ok((a, a))
        }
    }
}

impl FromStr for AsPathPattern {
    type Err = ParseError;

    fn from_str(s: &str) -> R<Self> {
        let mut out = Vec::new();
        for t in s.split_whitespace() {
            out.push(match t {
                "*" => PathToken::Many,
                "?" => PathToken::Any,
                t => match parse_asn_range(t)? {
                    (a, b) if a == b => PathToken::Asn(a),
                    (a, b) => PathToken::Range(a, b),
                },
            });
        }
        Ok(AsPathPattern(out))
    }
}

impl fmt::Display for AsPathPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, t) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            match t {
                PathToken::Many => f.write_str("*")?,
                PathToken::Any => f.write_str("?")?,
                PathToken::Asn(a) => write!(f, "{a}")?,
                PathToken::Range(a, b) => write!(f, "{a}..{b}")?,
            }
        }
        Ok(())
    }
}

impl FromStr for Verdict {
    type Err = ParseError;

    fn from_str(s: &str) -> R<Self> {
        match s.trim() {
            "accept" => Ok(Verdict::Accept),
            "reject" => Ok(Verdict::Reject),
            "next" => Ok(Verdict::Next),
            _ => Err(ParseError("expected accept, reject or next")),
        }
    }
}

/// A family by its name (`ipv4-unicast`, `ipv4-vpn`, `l2vpn-evpn`, ...) or its
/// short alias (`ipv4`, `vpnv4`, `evpn`, `flow4`, `rtc`, ...).
pub fn parse_family(s: &str) -> R<AfiSafi> {
    use crate::wire::family::{name, KNOWN};
    let alias = match s.trim() {
        "ipv4" => "ipv4-unicast",
        "ipv6" => "ipv6-unicast",
        "vpnv4" => "ipv4-vpn",
        "vpnv6" => "ipv6-vpn",
        "evpn" => "l2vpn-evpn",
        "flow4" => "ipv4-flowspec",
        "flow6" => "ipv6-flowspec",
        "rtc" => "rt-constraint",
        other => other,
    };
    KNOWN
        .into_iter()
        .find(|f| name(*f) == Some(alias))
        .ok_or(ParseError(
            "expected a family: ipv4-unicast, ipv6-unicast, ipv4-multicast, ipv6-multicast, \
             ipv4-labeled-unicast, ipv6-labeled-unicast, ipv4-vpn, ipv6-vpn, l2vpn-evpn, \
             rt-constraint, ipv4-flowspec or ipv6-flowspec (or ipv4, ipv6, vpnv4, vpnv6, \
             evpn, rtc, flow4, flow6)",
        ))
}

//! Element filters of `reflector mrt --elements`. All given filters must match (AND).
//!
//! A filter on a field an element does not have excludes the element: a
//! prefix filter drops state changes, an AS path, origin or community filter
//! drops withdrawals and state changes.

use std::net::IpAddr;

use reflector_core::mrt::HEADER_LEN;
use reflector_core::wire::Prefix;

use super::elements::{Element, Kind};

/// The filter flags.
#[derive(Debug, Default, clap::Args)]
pub struct FilterArgs {
    /// Only this prefix (exact match, e.g. 192.0.2.0/24).
    #[arg(long, value_name = "PREFIX", requires = "elements")]
    pub prefix: Option<String>,
    /// With --prefix: also the prefixes inside it (more specifics).
    #[arg(long, requires = "prefix")]
    pub include_more_specific: bool,
    /// With --prefix: also the prefixes that cover it (less specifics).
    #[arg(long, requires = "prefix")]
    pub include_less_specific: bool,
    /// Only routes whose origin AS is this (last AS of the path; any member of a final AS_SET).
    #[arg(long, value_name = "ASN", requires = "elements")]
    pub origin_asn: Option<u32>,
    /// Only routes whose AS path holds this AS anywhere (sets and confederation segments included).
    #[arg(long, value_name = "ASN", requires = "elements")]
    pub as_path_contains: Option<u32>,
    /// Only elements from this peer address.
    #[arg(long, value_name = "IP", requires = "elements")]
    pub peer_ip: Option<IpAddr>,
    /// Only elements from this peer AS.
    #[arg(long, value_name = "ASN", requires = "elements")]
    pub peer_asn: Option<u32>,
    /// Only routes carrying this community: `ASN:VALUE`, `no-export`,
    /// `no-advertise`, `local-AS`, or a large community `GLOBAL:LOCAL1:LOCAL2`.
    #[arg(long, value_name = "COMMUNITY", requires = "elements")]
    pub community: Option<String>,
    /// Only elements of this kind.
    #[arg(long = "type", value_enum, value_name = "TYPE", requires = "elements")]
    pub kind: Option<Kind>,
    /// Only records stamped at or after this time (Unix seconds).
    #[arg(long, value_name = "UNIX_TIME", requires = "elements")]
    pub start: Option<u32>,
    /// Only records stamped at or before this time (Unix seconds).
    #[arg(long, value_name = "UNIX_TIME", requires = "elements")]
    pub end: Option<u32>,
}

impl FilterArgs {
    /// Whether any filter was given.
    pub fn any(&self) -> bool {
        self.prefix.is_some()
            || self.origin_asn.is_some()
            || self.as_path_contains.is_some()
            || self.peer_ip.is_some()
            || self.peer_asn.is_some()
            || self.community.is_some()
            || self.kind.is_some()
            || self.start.is_some()
            || self.end.is_some()
    }

    /// Parse the values into a [`Filter`].
    pub fn build(&self) -> Result<Filter, String> {
        let prefix = match &self.prefix {
            Some(s) => Some(
                s.parse::<Prefix>()
                    .map_err(|e| format!("--prefix {s}: {e}"))?,
            ),
            None => None,
        };
        let community = match &self.community {
            Some(s) => Some(Community::parse(s).ok_or_else(|| {
                format!("--community {s}: expected ASN:VALUE, GLOBAL:LOCAL1:LOCAL2, no-export, no-advertise or local-AS")
            })?),
            None => None,
        };
        Ok(Filter {
            prefix,
            more_specific: self.include_more_specific,
            less_specific: self.include_less_specific,
            origin_asn: self.origin_asn,
            as_path_contains: self.as_path_contains,
            peer_ip: self.peer_ip,
            peer_asn: self.peer_asn,
            community,
            kind: self.kind,
            start: self.start,
            end: self.end,
        })
    }
}

/// A community to look for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Community {
    /// A standard community (RFC 1997).
    Standard(u32),
    /// A large community (RFC 8092).
    Large([u32; 3]),
}

impl Community {
    /// `ASN:VALUE`, a well-known name, or `GLOBAL:LOCAL1:LOCAL2`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "no-export" => return Some(Community::Standard(0xFFFF_FF01)),
            "no-advertise" => return Some(Community::Standard(0xFFFF_FF02)),
            "local-AS" | "no-export-subconfed" => return Some(Community::Standard(0xFFFF_FF03)),
            _ => {}
        }
        let parts: Vec<&str> = s.split(':').collect();
        match parts[..] {
            [a, b] => {
                let a: u16 = a.parse().ok()?;
                let b: u16 = b.parse().ok()?;
                Some(Community::Standard((u32::from(a) << 16) | u32::from(b)))
            }
            [g, l1, l2] => Some(Community::Large([
                g.parse().ok()?,
                l1.parse().ok()?,
                l2.parse().ok()?,
            ])),
            _ => None,
        }
    }
}

/// Parsed filters.
#[derive(Debug, Default)]
pub struct Filter {
    prefix: Option<Prefix>,
    more_specific: bool,
    less_specific: bool,
    origin_asn: Option<u32>,
    as_path_contains: Option<u32>,
    peer_ip: Option<IpAddr>,
    peer_asn: Option<u32>,
    community: Option<Community>,
    kind: Option<Kind>,
    start: Option<u32>,
    end: Option<u32>,
}

impl Filter {
    /// Whether a record (header included) can hold wanted elements; checks the timestamp only.
    pub fn wants_record(&self, record: &[u8]) -> bool {
        if self.start.is_none() && self.end.is_none() {
            return true;
        }
        let Some(ts) = record
            .get(..4)
            .filter(|_| record.len() >= HEADER_LEN)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        else {
            return true;
        };
        self.start.is_none_or(|s| ts >= s) && self.end.is_none_or(|e| ts <= e)
    }

    /// Whether `e` passes every filter.
    pub fn matches(&self, e: &Element<'_>) -> bool {
        if self.kind.is_some_and(|k| k != e.kind)
            || self.start.is_some_and(|s| e.timestamp < s)
            || self.end.is_some_and(|t| e.timestamp > t)
            || self.peer_ip.is_some_and(|ip| ip != e.peer_ip)
            || self.peer_asn.is_some_and(|a| a != e.peer_asn)
        {
            return false;
        }
        if let Some(want) = self.prefix {
            let Some(p) = e.prefix else {
                return false;
            };
            let ok = p == want
                || (self.more_specific && covers(&want, &p))
                || (self.less_specific && covers(&p, &want));
            if !ok {
                return false;
            }
        }
        if self.origin_asn.is_none() && self.as_path_contains.is_none() && self.community.is_none()
        {
            return true;
        }
        let Some(a) = e.attrs else {
            return false;
        };
        if let Some(o) = self.origin_asn {
            if !a.origin_asns().contains(&o) {
                return false;
            }
        }
        if let Some(x) = self.as_path_contains {
            if !a.path_asns().contains(&x) {
                return false;
            }
        }
        match self.community {
            None => true,
            Some(Community::Standard(c)) => a.communities.contains(&c),
            Some(Community::Large(c)) => a.large_communities.contains(&c),
        }
    }
}

/// Whether `outer` covers `inner` (same family, `outer` no longer, and `inner` inside it).
pub fn covers(outer: &Prefix, inner: &Prefix) -> bool {
    match (outer, inner) {
        (Prefix::V4(o), Prefix::V4(i)) => {
            o.len() <= i.len() && {
                let mask = u32::MAX.checked_shl(32 - u32::from(o.len())).unwrap_or(0);
                i.addr().to_bits() & mask == o.addr().to_bits()
            }
        }
        (Prefix::V6(o), Prefix::V6(i)) => {
            o.len() <= i.len() && {
                let mask = u128::MAX.checked_shl(128 - u32::from(o.len())).unwrap_or(0);
                i.addr().to_bits() & mask == o.addr().to_bits()
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Prefix {
        s.parse().unwrap()
    }

    #[test]
    fn covers_is_inclusive_and_per_family() {
        assert!(covers(&p("10.0.0.0/8"), &p("10.1.0.0/16")));
        assert!(covers(&p("10.0.0.0/8"), &p("10.0.0.0/8")));
        assert!(!covers(&p("10.1.0.0/16"), &p("10.0.0.0/8")));
        assert!(!covers(&p("10.0.0.0/8"), &p("11.0.0.0/16")));
        assert!(covers(&p("0.0.0.0/0"), &p("192.0.2.0/24")));
        assert!(covers(&p("::/0"), &p("2001:db8::/32")));
        assert!(covers(&p("2001:db8::/32"), &p("2001:db8:1::/48")));
        assert!(!covers(&p("2001:db8::/32"), &p("2001:db9::/48")));
        assert!(!covers(&p("0.0.0.0/0"), &p("::/0")));
    }

    #[test]
    fn communities_parse() {
        assert_eq!(
            Community::parse("65000:100"),
            Some(Community::Standard(0xFDE8_0064))
        );
        assert_eq!(
            Community::parse("no-export"),
            Some(Community::Standard(0xFFFF_FF01))
        );
        assert_eq!(
            Community::parse("4200000000:1:2"),
            Some(Community::Large([4_200_000_000, 1, 2]))
        );
        assert_eq!(Community::parse("70000:1"), None);
        assert_eq!(Community::parse("1"), None);
    }
}

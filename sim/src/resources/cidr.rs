//! Addresses with a prefix length, as Calico writes them, and their parsers.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Serialize;

use super::yaml::Ctx;
use crate::error::Error;

/// An address with its prefix length, as Calico writes node addresses (`10.0.0.1/24`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Cidr<A> {
    /// The address.
    pub addr: A,
    /// The prefix length.
    pub len: u8,
}

impl<A: std::fmt::Display> std::fmt::Display for Cidr<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// Parses `addr[/len]`; a bare address gets the host length `max`.
pub(super) fn parse_cidr<A: std::str::FromStr>(s: &str, max: u8) -> Option<Cidr<A>> {
    let (a, l) = match s.split_once('/') {
        Some((a, l)) => (a, l.parse::<u8>().ok().filter(|l| *l <= max)?),
        None => (s, max),
    };
    Some(Cidr {
        addr: a.trim().parse().ok()?,
        len: l,
    })
}

pub(super) fn parse_ipv4_cidr(ctx: &Ctx<'_>, s: &str, path: &str) -> Result<Cidr<Ipv4Addr>, Error> {
    parse_cidr(s, 32).ok_or_else(|| {
        ctx.err(
            path,
            format!("expected an IPv4 address or CIDR (10.0.0.1/24), found {s:?}"),
        )
    })
}

pub(super) fn parse_ipv6_cidr(ctx: &Ctx<'_>, s: &str, path: &str) -> Result<Cidr<Ipv6Addr>, Error> {
    parse_cidr(s, 128).ok_or_else(|| {
        ctx.err(
            path,
            format!("expected an IPv6 address or CIDR, found {s:?}"),
        )
    })
}

/// Parses an IPv4 or IPv6 CIDR; the address is masked to the length.
pub(super) fn parse_any_cidr(ctx: &Ctx<'_>, s: &str, path: &str) -> Result<Cidr<IpAddr>, Error> {
    let c: Cidr<IpAddr> = parse_cidr(s, 128)
        .filter(|c: &Cidr<IpAddr>| c.addr.is_ipv6() || c.len <= 32)
        .ok_or_else(|| ctx.err(path, format!("expected a CIDR (10.96.0.0/12), found {s:?}")))?;
    Ok(mask_cidr(c))
}

/// The network address of a CIDR (host bits cleared).
pub fn mask_cidr(c: Cidr<IpAddr>) -> Cidr<IpAddr> {
    let addr = match c.addr {
        IpAddr::V4(a) => {
            let m = if c.len == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(c.len.min(32)))
            };
            IpAddr::V4(Ipv4Addr::from(u32::from(a) & m))
        }
        IpAddr::V6(a) => {
            let m = if c.len == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(c.len.min(128)))
            };
            IpAddr::V6(Ipv6Addr::from(u128::from(a) & m))
        }
    };
    Cidr { addr, len: c.len }
}

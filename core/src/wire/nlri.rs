//! Prefixes and NLRI fields (RFC 4271 §4.3, RFC 4760 §5, RFC 7911 §3).

use core::fmt;
use core::net::{Ipv4Addr, Ipv6Addr};
use core::str::FromStr;

use super::{Afi, Writer};
use crate::error::{code, subcode, Action, Error, ErrorKind, Result};

/// An IPv4 prefix; host bits are always zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ipv4Prefix {
    addr: u32,
    len: u8,
}

/// An IPv6 prefix; host bits are always zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ipv6Prefix {
    /// Network-order bytes (byte order sorts like the address).
    addr: [u8; 16],
    len: u8,
}

impl Ipv4Prefix {
    /// A prefix; `None` if `len > 32`. Host bits are cleared.
    #[inline]
    pub const fn new(addr: Ipv4Addr, len: u8) -> Option<Self> {
        if len > 32 {
            return None;
        }
        let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
        Some(Ipv4Prefix {
            addr: addr.to_bits() & mask,
            len,
        })
    }

    /// The network address.
    pub const fn addr(&self) -> Ipv4Addr {
        Ipv4Addr::from_bits(self.addr)
    }

    /// The prefix length.
    pub const fn len(&self) -> u8 {
        self.len
    }

    /// Whether this is the default route 0.0.0.0/0.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// A compact integer key: address in the high 32 bits, length in the low 8.
    pub const fn key(&self) -> u64 {
        ((self.addr as u64) << 8) | self.len as u64
    }

    /// The prefix back from [`Ipv4Prefix::key`].
    pub const fn from_key(key: u64) -> Option<Self> {
        let len = (key & 0xff) as u8;
        Ipv4Prefix::new(Ipv4Addr::from_bits((key >> 8) as u32), len)
    }
}

impl Ipv6Prefix {
    /// A prefix; `None` if `len > 128`. Host bits are cleared.
    #[inline]
    pub const fn new(addr: Ipv6Addr, len: u8) -> Option<Self> {
        if len > 128 {
            return None;
        }
        let mask = if len == 0 {
            0
        } else {
            u128::MAX << (128 - len)
        };
        Some(Ipv6Prefix {
            addr: (addr.to_bits() & mask).to_be_bytes(),
            len,
        })
    }

    /// The network address.
    pub const fn addr(&self) -> Ipv6Addr {
        Ipv6Addr::from_bits(u128::from_be_bytes(self.addr))
    }

    /// The prefix length.
    pub const fn len(&self) -> u8 {
        self.len
    }

    /// Whether this is the default route ::/0.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// An IPv4 or IPv6 prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Prefix {
    /// IPv4.
    V4(Ipv4Prefix),
    /// IPv6.
    V6(Ipv6Prefix),
}

impl Prefix {
    /// The address family.
    pub const fn afi(&self) -> Afi {
        match self {
            Prefix::V4(_) => Afi::IPV4,
            Prefix::V6(_) => Afi::IPV6,
        }
    }

    /// The prefix length in bits.
    pub const fn len(&self) -> u8 {
        match self {
            Prefix::V4(p) => p.len,
            Prefix::V6(p) => p.len,
        }
    }

    /// Whether this is a default route.
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Encoded size in an NLRI field, without a path identifier.
    pub const fn wire_len(&self) -> usize {
        1 + (self.len() as usize).div_ceil(8)
    }

    /// Append the length octet and the significant address octets.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        let n = (self.len() as usize).div_ceil(8);
        w.u8(self.len())?;
        match self {
            Prefix::V4(p) => w.put(p.addr.to_be_bytes().get(..n).unwrap_or(&[])),
            Prefix::V6(p) => w.put(p.addr.get(..n).unwrap_or(&[])),
        }
    }
}

impl fmt::Display for Ipv4Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr(), self.len)
    }
}

impl fmt::Display for Ipv6Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr(), self.len)
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Prefix::V4(p) => p.fmt(f),
            Prefix::V6(p) => p.fmt(f),
        }
    }
}

/// Why a prefix string did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrefixParseError;

impl fmt::Display for PrefixParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid prefix (expected ADDRESS/LENGTH)")
    }
}

impl FromStr for Prefix {
    type Err = PrefixParseError;

    fn from_str(s: &str) -> core::result::Result<Self, Self::Err> {
        let (a, l) = s.split_once('/').ok_or(PrefixParseError)?;
        let len: u8 = l.parse().map_err(|_| PrefixParseError)?;
        if let Ok(v4) = a.parse::<Ipv4Addr>() {
            return Ipv4Prefix::new(v4, len)
                .map(Prefix::V4)
                .ok_or(PrefixParseError);
        }
        let v6: Ipv6Addr = a.parse().map_err(|_| PrefixParseError)?;
        Ipv6Prefix::new(v6, len)
            .map(Prefix::V6)
            .ok_or(PrefixParseError)
    }
}

impl From<Ipv4Prefix> for Prefix {
    fn from(p: Ipv4Prefix) -> Self {
        Prefix::V4(p)
    }
}

impl From<Ipv6Prefix> for Prefix {
    fn from(p: Ipv6Prefix) -> Self {
        Prefix::V6(p)
    }
}

/// One NLRI entry: a prefix and, under ADD-PATH, its path identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Nlri {
    /// The ADD-PATH path identifier (RFC 7911), when the family negotiated it.
    pub path_id: Option<u32>,
    /// The prefix.
    pub prefix: Prefix,
}

impl Nlri {
    /// A prefix without a path identifier.
    pub const fn new(prefix: Prefix) -> Self {
        Nlri {
            path_id: None,
            prefix,
        }
    }

    /// Encoded size.
    pub const fn wire_len(&self) -> usize {
        self.prefix.wire_len() + if self.path_id.is_some() { 4 } else { 0 }
    }

    /// Append the entry (path identifier first when present).
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        if let Some(id) = self.path_id {
            w.u32(id)?;
        }
        self.prefix.emit(w)
    }
}

/// An iterator over a validated IPv4 or IPv6 NLRI field.
///
/// Built by [`NlriIter::new_checked`], which walks the whole field once; after
/// that the iterator cannot fail and yields every entry in order.
#[derive(Debug, Clone)]
pub struct NlriIter<'a> {
    buf: &'a [u8],
    pos: usize,
    afi: Afi,
    add_path: bool,
}

impl<'a> NlriIter<'a> {
    /// Validate `field` (prefix lengths in range, nothing overruns) and return an iterator.
    ///
    /// `base` is the field's offset in the message, for error offsets; `action`
    /// is what a malformed field calls for where it sits (session reset for the
    /// classic fields, AFI/SAFI disable inside MP_REACH/MP_UNREACH).
    pub fn new_checked(
        field: &'a [u8],
        afi: Afi,
        add_path: bool,
        base: usize,
        action: Action,
    ) -> Result<Self> {
        let max = if afi == Afi::IPV6 { 128 } else { 32 };
        let mut pos = 0usize;
        while pos < field.len() {
            let start = pos;
            if add_path {
                pos += 4;
            }
            let bad = || {
                Error::new(
                    ErrorKind::InvalidNetworkField,
                    code::UPDATE_MESSAGE,
                    subcode::INVALID_NETWORK_FIELD,
                    action,
                    base + start,
                )
            };
            let len = *field.get(pos).ok_or_else(bad)?;
            if len > max {
                return Err(bad());
            }
            pos += 1 + usize::from(len).div_ceil(8);
            if pos > field.len() {
                return Err(bad());
            }
        }
        Ok(NlriIter {
            buf: field,
            pos: 0,
            afi,
            add_path,
        })
    }

    /// An iterator over a field already validated with the same parameters.
    pub(crate) const fn validated(field: &'a [u8], afi: Afi, add_path: bool) -> Self {
        NlriIter {
            buf: field,
            pos: 0,
            afi,
            add_path,
        }
    }

    /// An iterator over nothing.
    pub const fn empty(afi: Afi) -> Self {
        NlriIter {
            buf: &[],
            pos: 0,
            afi,
            add_path: false,
        }
    }

    /// The raw field bytes.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }

    /// Whether the field carries path identifiers.
    pub const fn add_path(&self) -> bool {
        self.add_path
    }

    /// The address family.
    pub const fn afi(&self) -> Afi {
        self.afi
    }

    #[inline]
    fn decode(&mut self) -> Option<Nlri> {
        let buf = self.buf;
        let mut pos = self.pos;
        let path_id = if self.add_path {
            let b = buf.get(pos..pos + 4)?;
            pos += 4;
            Some(u32::from_be_bytes([
                *b.first()?,
                *b.get(1)?,
                *b.get(2)?,
                *b.get(3)?,
            ]))
        } else {
            None
        };
        let len = *buf.get(pos)?;
        let n = usize::from(len).div_ceil(8);
        let bytes = buf.get(pos + 1..pos + 1 + n)?;
        self.pos = pos + 1 + n;
        let prefix = if self.afi == Afi::IPV6 {
            let mut a = [0u8; 16];
            a.get_mut(..n)?.copy_from_slice(bytes);
            Prefix::V6(Ipv6Prefix::new(Ipv6Addr::from(a), len)?)
        } else {
            let v = match *bytes {
                [] => 0,
                [a] => u32::from(a) << 24,
                [a, b] => u32::from(u16::from_be_bytes([a, b])) << 16,
                [a, b, c] => u32::from_be_bytes([a, b, c, 0]),
                [a, b, c, d, ..] => u32::from_be_bytes([a, b, c, d]),
            };
            Prefix::V4(Ipv4Prefix::new(Ipv4Addr::from_bits(v), len)?)
        };
        Some(Nlri { path_id, prefix })
    }
}

impl Iterator for NlriIter<'_> {
    type Item = Nlri;

    #[inline]
    fn next(&mut self) -> Option<Nlri> {
        if self.pos >= self.buf.len() {
            return None;
        }
        let item = self.decode();
        if item.is_none() {
            // Only reachable for an iterator not built by new_checked; stop cleanly.
            self.pos = self.buf.len();
        }
        item
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4271_4_3_prefix_encoding_and_masking() {
        let field = [24, 10, 1, 2, 0, 8, 10, 32, 192, 0, 2, 1];
        let v: std::vec::Vec<_> =
            NlriIter::new_checked(&field, Afi::IPV4, false, 0, Action::SessionReset)
                .unwrap()
                .collect();
        assert_eq!(v.len(), 4);
        assert_eq!(v[0].prefix.to_string(), "10.1.2.0/24");
        assert_eq!(v[1].prefix.to_string(), "0.0.0.0/0");
        assert_eq!(v[2].prefix.to_string(), "10.0.0.0/8");
        assert_eq!(v[3].prefix.to_string(), "192.0.2.1/32");
    }

    #[test]
    fn rfc7606_5_3_prefix_length_over_32_is_malformed() {
        let e = NlriIter::new_checked(
            &[33, 1, 2, 3, 4, 5],
            Afi::IPV4,
            false,
            23,
            Action::SessionReset,
        )
        .unwrap_err();
        assert_eq!((e.code, e.subcode), (3, 10));
        assert_eq!(e.offset, 23);
        assert_eq!(e.action, Action::SessionReset);
    }

    #[test]
    fn rfc7606_5_3_prefix_overrunning_field_is_malformed() {
        let e = NlriIter::new_checked(&[24, 10, 1], Afi::IPV4, false, 0, Action::AfiSafiDisable)
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidNetworkField);
        assert_eq!(e.action, Action::AfiSafiDisable);
    }

    #[test]
    fn rfc7911_3_path_identifiers() {
        let field4 = [0, 0, 0, 7, 16, 10, 1];
        let field6 = [0, 0, 0, 9, 64, 0x20, 1, 0xd, 0xb8, 0, 0, 0, 1];
        let it = NlriIter::new_checked(&field4, Afi::IPV4, true, 0, Action::SessionReset).unwrap();
        let v: std::vec::Vec<_> = it.collect();
        assert_eq!(v[0].path_id, Some(7));
        assert_eq!(v[0].prefix.to_string(), "10.1.0.0/16");
        let v6: std::vec::Vec<_> =
            NlriIter::new_checked(&field6, Afi::IPV6, true, 0, Action::SessionReset)
                .unwrap()
                .collect();
        assert_eq!(v6[0].path_id, Some(9));
        assert_eq!(v6[0].prefix.to_string(), "2001:db8:0:1::/64");
    }

    #[test]
    fn prefix_emit_round_trip_and_key() {
        let p: Prefix = "192.168.128.0/17".parse().unwrap();
        let mut buf = [0u8; 8];
        let mut w = Writer::new(&mut buf);
        p.emit(&mut w).unwrap();
        assert_eq!(w.written(), &[17, 192, 168, 128]);
        if let Prefix::V4(v4) = p {
            assert_eq!(Ipv4Prefix::from_key(v4.key()), Some(v4));
        }
    }
}

//! Labeled NLRI: labeled unicast (RFC 8277, SAFI 4) and BGP/MPLS IP VPN
//! (RFC 4364 §4.3.4, RFC 4659 §3.2, SAFI 128), with MPLS label stacks and
//! route distinguishers (RFC 4364 §4.2).
//!
//! An NLRI is `[path id (ADD-PATH)] length(bits) labels [RD] prefix`. In an
//! announcement the label stack runs to the entry with the bottom-of-stack
//! bit; in a withdrawal the label field is one entry whose value the receiver
//! ignores (RFC 8277 §2.4, usually `0x800000`, or `0x000000` from RFC 3107
//! speakers).

use core::fmt;
use core::net::{Ipv4Addr, Ipv6Addr};
use core::str::FromStr;

use super::{Afi, Ipv4Prefix, Ipv6Prefix, Prefix, Writer};
use crate::error::{Action, Error, Result};

/// One MPLS label stack entry as carried in NLRI: 20-bit label, 3-bit traffic
/// class, bottom-of-stack bit (RFC 3032 §2.1, RFC 8277 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label(u32);

impl Label {
    /// The withdrawal compatibility value (RFC 8277 §2.4).
    pub const WITHDRAW: Label = Label(0x80_0000);

    /// An entry from its 24 bits (the high 8 bits of `raw` are ignored).
    pub const fn from_raw(raw: u32) -> Self {
        Label(raw & 0x00ff_ffff)
    }

    /// An entry with label `value` (20 bits), traffic class 0 and the bottom-of-stack bit `bos`.
    pub const fn new(value: u32, bos: bool) -> Self {
        Label(((value & 0x000f_ffff) << 4) | bos as u32)
    }

    /// The 24 bits as sent.
    pub const fn raw(self) -> u32 {
        self.0
    }

    /// The 20-bit label value.
    pub const fn value(self) -> u32 {
        self.0 >> 4
    }

    /// Whether the bottom-of-stack bit is set.
    pub const fn is_bottom(self) -> bool {
        self.0 & 1 == 1
    }

    /// The three bytes as sent.
    pub const fn to_bytes(self) -> [u8; 3] {
        let b = self.0.to_be_bytes();
        [b[1], b[2], b[3]]
    }

    fn from_slice(b: &[u8]) -> Option<Self> {
        match *b {
            [a, b, c, ..] => Some(Label(u32::from_be_bytes([0, a, b, c]))),
            _ => None,
        }
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.value())
    }
}

/// A borrowed label stack: whole 3-byte entries, the last with bottom-of-stack
/// set in an announcement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Labels<'a>(&'a [u8]);

impl<'a> Labels<'a> {
    /// A stack over `bytes` (a multiple of 3; trailing bytes are not read).
    pub const fn new(bytes: &'a [u8]) -> Self {
        Labels(bytes)
    }

    /// The bytes as sent.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.0
    }

    /// How many entries.
    pub const fn len(&self) -> usize {
        self.0.len() / 3
    }

    /// Whether the stack has no entry.
    pub const fn is_empty(&self) -> bool {
        self.0.len() < 3
    }

    /// The entries, outermost first.
    pub fn iter(&self) -> impl Iterator<Item = Label> + 'a {
        self.0.chunks_exact(3).filter_map(Label::from_slice)
    }

    /// The first (outermost) entry.
    pub fn first(&self) -> Option<Label> {
        Label::from_slice(self.0)
    }
}

impl fmt::Display for Labels<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, l) in self.iter().enumerate() {
            if i > 0 {
                f.write_str("/")?;
            }
            write!(f, "{l}")?;
        }
        Ok(())
    }
}

/// A route distinguisher (RFC 4364 §4.2): 2-byte type and 6-byte value, kept as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct RouteDistinguisher(pub [u8; 8]);

impl RouteDistinguisher {
    /// The all-zero RD carried before a VPN next hop (RFC 4364 §4.3.2).
    pub const ZERO: RouteDistinguisher = RouteDistinguisher([0; 8]);

    /// Type 0: 2-byte AS number administrator, 4-byte assigned number.
    pub const fn as2(asn: u16, n: u32) -> Self {
        let a = asn.to_be_bytes();
        let v = n.to_be_bytes();
        RouteDistinguisher([0, 0, a[0], a[1], v[0], v[1], v[2], v[3]])
    }

    /// Type 1: IPv4 address administrator, 2-byte assigned number.
    pub const fn ipv4(addr: Ipv4Addr, n: u16) -> Self {
        let a = addr.octets();
        let v = n.to_be_bytes();
        RouteDistinguisher([0, 1, a[0], a[1], a[2], a[3], v[0], v[1]])
    }

    /// Type 2: 4-byte AS number administrator, 2-byte assigned number.
    pub const fn as4(asn: u32, n: u16) -> Self {
        let a = asn.to_be_bytes();
        let v = n.to_be_bytes();
        RouteDistinguisher([0, 2, a[0], a[1], a[2], a[3], v[0], v[1]])
    }

    /// The type field.
    pub const fn rd_type(&self) -> u16 {
        u16::from_be_bytes([self.0[0], self.0[1]])
    }

    /// The eight bytes as one integer (the RIB key form).
    pub const fn to_u64(self) -> u64 {
        u64::from_be_bytes(self.0)
    }

    /// The RD back from [`RouteDistinguisher::to_u64`].
    pub const fn from_u64(v: u64) -> Self {
        RouteDistinguisher(v.to_be_bytes())
    }
}

impl fmt::Display for RouteDistinguisher {
    /// `asn:n` for types 0 and 2, `a.b.c.d:n` for type 1, `type:hex` otherwise.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        match self.rd_type() {
            0 => write!(
                f,
                "{}:{}",
                u16::from_be_bytes([b[2], b[3]]),
                u32::from_be_bytes([b[4], b[5], b[6], b[7]])
            ),
            1 => write!(
                f,
                "{}:{}",
                Ipv4Addr::new(b[2], b[3], b[4], b[5]),
                u16::from_be_bytes([b[6], b[7]])
            ),
            2 => write!(
                f,
                "{}:{}",
                u32::from_be_bytes([b[2], b[3], b[4], b[5]]),
                u16::from_be_bytes([b[6], b[7]])
            ),
            t => {
                write!(f, "{t}:")?;
                for x in b.iter().skip(2) {
                    write!(f, "{x:02x}")?;
                }
                Ok(())
            }
        }
    }
}

/// Why an RD text form was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RdParseError;

impl fmt::Display for RdParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("route distinguisher: expected ASN:n or IPv4:n")
    }
}

impl FromStr for RouteDistinguisher {
    type Err = RdParseError;

    /// `65000:100` (type 0, or type 2 when the AS needs 4 bytes), `4200000000:1`
    /// (type 2), `192.0.2.1:7` (type 1).
    fn from_str(s: &str) -> core::result::Result<Self, Self::Err> {
        let (admin, n) = s.rsplit_once(':').ok_or(RdParseError)?;
        if let Ok(ip) = admin.parse::<Ipv4Addr>() {
            let n: u16 = n.parse().map_err(|_| RdParseError)?;
            return Ok(RouteDistinguisher::ipv4(ip, n));
        }
        let asn: u32 = admin.parse().map_err(|_| RdParseError)?;
        match u16::try_from(asn) {
            Ok(a2) => Ok(RouteDistinguisher::as2(
                a2,
                n.parse().map_err(|_| RdParseError)?,
            )),
            Err(_) => Ok(RouteDistinguisher::as4(
                asn,
                n.parse().map_err(|_| RdParseError)?,
            )),
        }
    }
}

/// One labeled-unicast or VPN NLRI, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LabeledNlri<'a> {
    /// The ADD-PATH path identifier, when the session carries them.
    pub path_id: Option<u32>,
    /// The label stack (one ignored entry in a withdrawal).
    pub labels: Labels<'a>,
    /// The route distinguisher (VPN families only).
    pub rd: Option<RouteDistinguisher>,
    /// The prefix.
    pub prefix: Prefix,
}

impl LabeledNlri<'_> {
    /// Bytes [`LabeledNlri::emit`] writes.
    pub fn buffer_len(&self) -> usize {
        let rd = if self.rd.is_some() { 8 } else { 0 };
        let ap = if self.path_id.is_some() { 4 } else { 0 };
        ap + 1 + self.labels.as_bytes().len() + rd + usize::from(self.prefix.len()).div_ceil(8)
    }

    /// Write the NLRI (path identifier included when present).
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        emit_labeled(
            w,
            self.path_id,
            self.labels.as_bytes(),
            self.rd,
            &self.prefix,
        )
    }
}

impl fmt::Display for LabeledNlri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(rd) = self.rd {
            write!(f, "{rd}:")?;
        }
        write!(f, "{} label {}", self.prefix, self.labels)?;
        if let Some(id) = self.path_id {
            write!(f, " path-id {id}")?;
        }
        Ok(())
    }
}

/// Write one labeled or VPN NLRI: `labels` is the whole stack as bytes.
pub fn emit_labeled(
    w: &mut Writer<'_>,
    path_id: Option<u32>,
    labels: &[u8],
    rd: Option<RouteDistinguisher>,
    prefix: &Prefix,
) -> Result<()> {
    let rd_bits = if rd.is_some() { 64 } else { 0 };
    let bits = labels.len() * 8 + rd_bits + usize::from(prefix.len());
    let len = u8::try_from(bits).map_err(|_| Error::overflow(w.len()))?;
    if let Some(id) = path_id {
        w.u32(id)?;
    }
    w.u8(len)?;
    w.put(labels)?;
    if let Some(rd) = rd {
        w.put(&rd.0)?;
    }
    let n = usize::from(prefix.len()).div_ceil(8);
    match prefix {
        Prefix::V4(p) => w.put(p.addr().octets().get(..n).unwrap_or(&[])),
        Prefix::V6(p) => w.put(p.addr().octets().get(..n).unwrap_or(&[])),
    }
}

/// An iterator over a validated labeled-unicast or VPN NLRI field.
#[derive(Debug, Clone)]
pub struct LabeledIter<'a> {
    buf: &'a [u8],
    pos: usize,
    afi: Afi,
    vpn: bool,
    add_path: bool,
    withdraw: bool,
    /// An entry did not decode (only an unchecked iterator meets one).
    failed: bool,
}

impl<'a> LabeledIter<'a> {
    /// Validate `field` and return an iterator over it.
    ///
    /// `vpn` says whether each NLRI carries an RD (SAFI 128); `withdraw`
    /// whether the field is an MP_UNREACH one (one label entry, ignored).
    /// `base` is the field's offset in the message; `action` what a
    /// malformed field calls for (AFI/SAFI disable inside MP attributes).
    pub fn new_checked(
        field: &'a [u8],
        afi: Afi,
        vpn: bool,
        add_path: bool,
        withdraw: bool,
        base: usize,
        action: Action,
    ) -> Result<Self> {
        let it = LabeledIter::unchecked(field, afi, vpn, add_path, withdraw);
        super::check_entries(field.len(), base, action, |pos| {
            it.decode_at(pos).map(|(_, next)| next)
        })?;
        Ok(it)
    }

    /// An iterator over `field` that checks each entry as it reads it: the
    /// first entry that does not decode ends it, and
    /// [`LabeledIter::ended_early`] then says so.
    pub(crate) const fn unchecked(
        field: &'a [u8],
        afi: Afi,
        vpn: bool,
        add_path: bool,
        withdraw: bool,
    ) -> Self {
        LabeledIter {
            buf: field,
            pos: 0,
            afi,
            vpn,
            add_path,
            withdraw,
            failed: false,
        }
    }

    /// Whether the iteration ended at an entry that did not decode.
    pub(crate) const fn ended_early(&self) -> bool {
        self.failed
    }

    /// The raw field bytes.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }

    fn decode_at(&self, mut pos: usize) -> Option<(LabeledNlri<'a>, usize)> {
        let buf = self.buf;
        let path_id = if self.add_path {
            let b = buf.get(pos..pos + 4)?;
            pos += 4;
            Some(u32::from_be_bytes(b.try_into().ok()?))
        } else {
            None
        };
        let bits = usize::from(*buf.get(pos)?);
        pos += 1;
        let bytes = buf.get(pos..pos + bits.div_ceil(8))?;
        // The label stack: one entry in a withdrawal, else up to bottom of stack.
        let mut n = 0usize;
        loop {
            let l = Label::from_slice(bytes.get(n..)?)?;
            n += 3;
            if self.withdraw || l.is_bottom() {
                break;
            }
        }
        let rd_len = if self.vpn { 8 } else { 0 };
        let fixed_bits = (n + rd_len) * 8;
        let plen = bits.checked_sub(fixed_bits)?;
        let rd = if self.vpn {
            Some(RouteDistinguisher(bytes.get(n..n + 8)?.try_into().ok()?))
        } else {
            None
        };
        let pbytes = bytes.get(n + rd_len..)?;
        let plen = u8::try_from(plen).ok()?;
        let prefix = match self.afi {
            Afi::IPV4 => {
                // By length: a copy of 0 to 4 bytes would be a call to memcpy.
                let a = match *pbytes {
                    [] => [0; 4],
                    [a] => [a, 0, 0, 0],
                    [a, b] => [a, b, 0, 0],
                    [a, b, c] => [a, b, c, 0],
                    [a, b, c, d] => [a, b, c, d],
                    _ => return None,
                };
                Prefix::V4(Ipv4Prefix::new(Ipv4Addr::from(a), plen)?)
            }
            Afi::IPV6 => {
                let mut a = [0u8; 16];
                a.get_mut(..pbytes.len())?.copy_from_slice(pbytes);
                Prefix::V6(Ipv6Prefix::new(Ipv6Addr::from(a), plen)?)
            }
            _ => return None,
        };
        let labels = Labels(bytes.get(..n)?);
        Some((
            LabeledNlri {
                path_id,
                labels,
                rd,
                prefix,
            },
            pos + bits.div_ceil(8),
        ))
    }
}

impl<'a> Iterator for LabeledIter<'a> {
    type Item = LabeledNlri<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.buf.len() {
            return None;
        }
        match self.decode_at(self.pos) {
            Some((n, next)) => {
                self.pos = next;
                Some(n)
            }
            None => {
                self.pos = self.buf.len();
                self.failed = true;
                None
            }
        }
    }
}

/// The address in a VPN next hop (RFC 4364 §4.3.2, RFC 4659 §3.2.1): an RD of
/// zeros before an IPv4 or IPv6 address (and, for 48 bytes, a second RD and
/// link-local address). `None` if the length is not one of 12, 24 or 48, or
/// an RD is not zero.
pub fn vpn_next_hop(nh: &[u8]) -> Option<core::net::IpAddr> {
    let zero = |r: &[u8]| r.iter().all(|b| *b == 0);
    match nh.len() {
        12 if zero(nh.get(..8)?) => {
            let a: [u8; 4] = nh.get(8..12)?.try_into().ok()?;
            Some(Ipv4Addr::from(a).into())
        }
        24 if zero(nh.get(..8)?) => {
            let a: [u8; 16] = nh.get(8..24)?.try_into().ok()?;
            Some(Ipv6Addr::from(a).into())
        }
        48 if zero(nh.get(..8)?) && zero(nh.get(24..32)?) => {
            let a: [u8; 16] = nh.get(8..24)?.try_into().ok()?;
            Some(Ipv6Addr::from(a).into())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;
    use std::vec::Vec;

    fn collect(
        field: &[u8],
        afi: Afi,
        vpn: bool,
        ap: bool,
        wd: bool,
    ) -> Result<Vec<LabeledNlri<'_>>> {
        Ok(LabeledIter::new_checked(field, afi, vpn, ap, wd, 0, Action::AfiSafiDisable)?.collect())
    }

    #[test]
    fn rfc8277_one_label_ipv4() {
        // 10.1.0.0/16, label 16001 with bottom of stack: length 24 + 16 = 40.
        let l = Label::new(16001, true).to_bytes();
        let field = [40, l[0], l[1], l[2], 10, 1];
        let v = collect(&field, Afi::IPV4, false, false, false).unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].prefix.to_string(), "10.1.0.0/16");
        assert_eq!(v[0].labels.len(), 1);
        assert_eq!(v[0].labels.first().unwrap().value(), 16001);
        assert!(v[0].rd.is_none());
        let mut out = [0u8; 16];
        let mut w = Writer::new(&mut out);
        v[0].emit(&mut w).unwrap();
        assert_eq!(w.written(), &field);
        assert_eq!(v[0].buffer_len(), field.len());
    }

    #[test]
    fn rfc8277_2_2_label_stack_runs_to_bottom_of_stack() {
        let a = Label::new(100, false).to_bytes();
        let b = Label::new(200, true).to_bytes();
        let field = [72, a[0], a[1], a[2], b[0], b[1], b[2], 192, 0, 2];
        let v = collect(&field, Afi::IPV4, false, false, false).unwrap();
        assert_eq!(v[0].labels.len(), 2);
        assert_eq!(v[0].labels.to_string(), "100/200");
        assert_eq!(v[0].prefix.to_string(), "192.0.2.0/24");
    }

    #[test]
    fn rfc8277_2_4_withdrawal_reads_one_label_whatever_its_bits() {
        // 0x800000 has no bottom-of-stack bit; a withdrawal still reads one entry.
        let field = [40, 0x80, 0, 0, 10, 1];
        let v = collect(&field, Afi::IPV4, false, false, true).unwrap();
        assert_eq!(v[0].labels.first(), Some(Label::WITHDRAW));
        assert_eq!(v[0].prefix.to_string(), "10.1.0.0/16");
        // As an announcement the same bytes run past the stack: malformed.
        let e = collect(&field, Afi::IPV4, false, false, false).unwrap_err();
        assert_eq!((e.code, e.subcode), (3, 10));
        assert_eq!(e.action, Action::AfiSafiDisable);
    }

    #[test]
    fn rfc4364_4_3_4_vpnv4_rd_types() {
        for (rd, text) in [
            (RouteDistinguisher::as2(65000, 100), "65000:100"),
            (
                RouteDistinguisher::ipv4(Ipv4Addr::new(192, 0, 2, 1), 7),
                "192.0.2.1:7",
            ),
            (RouteDistinguisher::as4(4_200_000_000, 9), "4200000000:9"),
        ] {
            assert_eq!(rd.to_string(), text);
            assert_eq!(text.parse::<RouteDistinguisher>().unwrap(), rd);
            let mut field = Vec::new();
            let l = Label::new(299_776, true).to_bytes();
            field.push(24 + 64 + 24);
            field.extend_from_slice(&l);
            field.extend_from_slice(&rd.0);
            field.extend_from_slice(&[10, 2, 3]);
            let v = collect(&field, Afi::IPV4, true, false, false).unwrap();
            assert_eq!(v[0].rd, Some(rd));
            assert_eq!(v[0].prefix.to_string(), "10.2.3.0/24");
            assert_eq!(v[0].to_string(), format!("{text}:10.2.3.0/24 label 299776"));
            let mut out = [0u8; 32];
            let mut w = Writer::new(&mut out);
            v[0].emit(&mut w).unwrap();
            assert_eq!(w.written(), &field[..]);
        }
    }

    #[test]
    fn rfc4659_vpnv6_with_path_id() {
        let rd = RouteDistinguisher::as2(65000, 1);
        let l = Label::new(42, true).to_bytes();
        let mut field = std::vec![0, 0, 0, 3, 24 + 64 + 48];
        field.extend_from_slice(&l);
        field.extend_from_slice(&rd.0);
        field.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 1]);
        let v = collect(&field, Afi::IPV6, true, true, false).unwrap();
        assert_eq!(v[0].path_id, Some(3));
        assert_eq!(v[0].prefix.to_string(), "2001:db8:1::/48");
    }

    #[test]
    fn malformed_lengths_are_refused() {
        // Prefix length left after label + RD exceeds 32.
        let l = Label::new(1, true).to_bytes();
        let mut f = std::vec![24 + 64 + 40];
        f.extend_from_slice(&l);
        f.extend_from_slice(&[0; 8]);
        f.extend_from_slice(&[1, 2, 3, 4, 5]);
        assert!(collect(&f, Afi::IPV4, true, false, false).is_err());
        // Length shorter than label + RD.
        let f = [24 + 32, l[0], l[1], l[2], 0, 0, 0, 0];
        assert!(collect(&f, Afi::IPV4, true, false, false).is_err());
        // Overruns the field.
        let f = [40, l[0], l[1], l[2], 10];
        assert!(collect(&f, Afi::IPV4, false, false, false).is_err());
        // Empty field is fine.
        assert!(collect(&[], Afi::IPV4, true, false, false)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn vpn_next_hops() {
        let mut nh = [0u8; 12];
        nh[8..].copy_from_slice(&[192, 0, 2, 1]);
        assert_eq!(vpn_next_hop(&nh), Some("192.0.2.1".parse().unwrap()));
        nh[0] = 1;
        assert_eq!(vpn_next_hop(&nh), None);
        let mut nh6 = [0u8; 24];
        nh6[8] = 0x20;
        nh6[9] = 0x01;
        assert_eq!(vpn_next_hop(&nh6), Some("2001::".parse().unwrap()));
        assert_eq!(vpn_next_hop(&[0; 4]), None);
    }
}

//! Flow specification NLRI (RFC 8955 for IPv4, RFC 8956 for IPv6; SAFI 133).
//!
//! An NLRI is a length (one octet below 240, else two octets `0xFnnn`) and a
//! list of components in strictly increasing type order (RFC 8955 §4.2):
//! destination and source prefixes (IPv6 ones with a bit offset, RFC 8956
//! §3.1), then operator lists, numeric (`e a len 0 lt gt eq`) or bitmask
//! (`e a len 0 0 not m`). Validation walks every component; a component out
//! of order, of an unknown type, or running past the NLRI makes the field
//! malformed.
//!
//! The RIB key is the component bytes: two NLRI that differ only in how their
//! length was written (one or two octets) are one route, and an NLRI is always
//! sent with the shortest length form.

use core::cmp::Ordering;
use core::fmt;

use super::{Afi, Writer};
use crate::error::{Action, Error, Result};

/// Component types (RFC 8955 §4.2.2, RFC 8956 §3).
pub mod component {
    /// Destination prefix.
    pub const DESTINATION: u8 = 1;
    /// Source prefix.
    pub const SOURCE: u8 = 2;
    /// IP protocol (IPv4) or upper-layer protocol (IPv6).
    pub const PROTOCOL: u8 = 3;
    /// Source or destination port.
    pub const PORT: u8 = 4;
    /// Destination port.
    pub const DESTINATION_PORT: u8 = 5;
    /// Source port.
    pub const SOURCE_PORT: u8 = 6;
    /// ICMP type.
    pub const ICMP_TYPE: u8 = 7;
    /// ICMP code.
    pub const ICMP_CODE: u8 = 8;
    /// TCP flags (bitmask).
    pub const TCP_FLAGS: u8 = 9;
    /// Packet length.
    pub const PACKET_LENGTH: u8 = 10;
    /// DSCP.
    pub const DSCP: u8 = 11;
    /// Fragment (bitmask).
    pub const FRAGMENT: u8 = 12;
    /// IPv6 flow label (RFC 8956 §3.7).
    pub const FLOW_LABEL: u8 = 13;

    /// Whether a component type takes bitmask operators (TCP flags, fragment)
    /// rather than numeric ones.
    pub const fn is_bitmask(t: u8) -> bool {
        matches!(t, TCP_FLAGS | FRAGMENT)
    }
}

/// The longest NLRI the two-octet length can state.
pub const MAX_NLRI_LEN: usize = 0x0fff;

/// One component, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Component<'a> {
    /// A destination or source prefix: type, length in bits, offset in bits
    /// (always 0 for IPv4), and the pattern bytes.
    Prefix {
        /// [`component::DESTINATION`] or [`component::SOURCE`].
        kind: u8,
        /// Prefix length in bits.
        len: u8,
        /// Bits skipped before the pattern (RFC 8956).
        offset: u8,
        /// The pattern bytes.
        pattern: &'a [u8],
    },
    /// An operator list: the type and its `(operator, value)` pairs as bytes.
    Operators {
        /// The component type.
        kind: u8,
        /// The operator/value bytes.
        bytes: &'a [u8],
    },
}

impl Component<'_> {
    /// The component type.
    pub const fn kind(&self) -> u8 {
        match self {
            Component::Prefix { kind, .. } | Component::Operators { kind, .. } => *kind,
        }
    }
}

/// Walk one component at the start of `b`; returns it and its byte length.
fn component_at(b: &[u8], afi: Afi) -> Option<(Component<'_>, usize)> {
    let kind = *b.first()?;
    let last = if afi == Afi::IPV6 {
        component::FLOW_LABEL
    } else {
        component::FRAGMENT
    };
    if kind == 0 || kind > last {
        return None;
    }
    if kind == component::DESTINATION || kind == component::SOURCE {
        let len = *b.get(1)?;
        if afi == Afi::IPV6 {
            let offset = *b.get(2)?;
            if len > 128 || offset > len {
                return None;
            }
            let n = usize::from(len - offset).div_ceil(8);
            let pattern = b.get(3..3 + n)?;
            return Some((
                Component::Prefix {
                    kind,
                    len,
                    offset,
                    pattern,
                },
                3 + n,
            ));
        }
        if len > 32 {
            return None;
        }
        let n = usize::from(len).div_ceil(8);
        let pattern = b.get(2..2 + n)?;
        return Some((
            Component::Prefix {
                kind,
                len,
                offset: 0,
                pattern,
            },
            2 + n,
        ));
    }
    // Operator list: (op, value) pairs up to the one with the end-of-list bit.
    let mut pos = 1usize;
    loop {
        let op = *b.get(pos)?;
        let vlen = 1usize << ((op >> 4) & 0x3);
        b.get(pos + 1..pos + 1 + vlen)?;
        pos += 1 + vlen;
        if op & 0x80 != 0 {
            break;
        }
    }
    Some((
        Component::Operators {
            kind,
            bytes: b.get(1..pos)?,
        },
        pos,
    ))
}

/// One flow specification NLRI, borrowed and validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlowNlri<'a> {
    /// The ADD-PATH path identifier, when the session carries them.
    pub path_id: Option<u32>,
    /// IPv4 or IPv6 rules.
    pub afi: Afi,
    /// The component bytes (the RIB key).
    pub components: &'a [u8],
}

impl<'a> FlowNlri<'a> {
    /// The components in order.
    pub fn iter(&self) -> ComponentIter<'a> {
        ComponentIter {
            buf: self.components,
            afi: self.afi,
        }
    }

    /// Bytes [`FlowNlri::emit`] writes.
    pub fn buffer_len(&self) -> usize {
        let ap = if self.path_id.is_some() { 4 } else { 0 };
        let lf = if self.components.len() < 240 { 1 } else { 2 };
        ap + lf + self.components.len()
    }

    /// Write the NLRI with the shortest length form.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        if let Some(id) = self.path_id {
            w.u32(id)?;
        }
        let n = self.components.len();
        if n < 240 {
            w.u8(n as u8)?;
        } else if n <= MAX_NLRI_LEN {
            w.u16(0xf000 | n as u16)?;
        } else {
            return Err(Error::overflow(w.len()));
        }
        w.put(self.components)
    }

    /// The order of precedence between two rules (RFC 8955 §5.1):
    /// `Less` means `self` is applied before `other`.
    pub fn precedence(&self, other: &FlowNlri<'_>) -> Ordering {
        let (mut a, mut b) = (self.iter(), other.iter());
        loop {
            let (ca, cb) = (a.next(), b.next());
            let ta = ca.map_or(u16::MAX, |c| u16::from(c.kind()));
            let tb = cb.map_or(u16::MAX, |c| u16::from(c.kind()));
            match ta.cmp(&tb) {
                Ordering::Equal => {}
                o => return o,
            }
            let (Some(ca), Some(cb)) = (ca, cb) else {
                return Ordering::Equal;
            };
            let o = match (ca, cb) {
                (
                    Component::Prefix {
                        len: la,
                        offset: oa,
                        pattern: pa,
                        ..
                    },
                    Component::Prefix {
                        len: lb,
                        offset: ob,
                        pattern: pb,
                        ..
                    },
                ) => {
                    // Lower offset first (RFC 8956 §3.8), then the common
                    // prefix: lower value first; equal, longer prefix first.
                    oa.cmp(&ob)
                        .then_with(|| prefix_cmp(pa, pb, la.min(lb).saturating_sub(oa)))
                        .then_with(|| lb.cmp(&la))
                }
                (Component::Operators { bytes: x, .. }, Component::Operators { bytes: y, .. }) => {
                    // Lower value first; equal, the longer string first.
                    let n = x.len().min(y.len());
                    x.get(..n)
                        .cmp(&y.get(..n))
                        .then_with(|| y.len().cmp(&x.len()))
                }
                _ => Ordering::Equal,
            };
            if o != Ordering::Equal {
                return o;
            }
        }
    }
}

/// Compare the first `bits` bits of two patterns.
fn prefix_cmp(a: &[u8], b: &[u8], bits: u8) -> Ordering {
    let full = usize::from(bits / 8);
    let o = a.get(..full).cmp(&b.get(..full));
    if o != Ordering::Equal || bits % 8 == 0 {
        return o;
    }
    let mask = 0xffu8 << (8 - bits % 8);
    let x = a.get(full).map_or(0, |v| v & mask);
    let y = b.get(full).map_or(0, |v| v & mask);
    x.cmp(&y)
}

/// The components of one NLRI.
#[derive(Debug, Clone)]
pub struct ComponentIter<'a> {
    buf: &'a [u8],
    afi: Afi,
}

impl<'a> Iterator for ComponentIter<'a> {
    type Item = Component<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        let (c, n) = component_at(self.buf, self.afi)?;
        self.buf = self.buf.get(n..).unwrap_or(&[]);
        Some(c)
    }
}

/// Check one NLRI's components: each well formed, types strictly increasing,
/// at least one.
fn check_components(b: &[u8], afi: Afi) -> bool {
    let mut pos = 0usize;
    let mut last = 0u8;
    while pos < b.len() {
        let Some((c, n)) = b.get(pos..).and_then(|r| component_at(r, afi)) else {
            return false;
        };
        if c.kind() <= last {
            return false;
        }
        last = c.kind();
        pos += n;
    }
    last != 0
}

/// A component type's short name, as `reflector show` prints it.
pub const fn component_name(kind: u8) -> &'static str {
    match kind {
        component::DESTINATION => "dst",
        component::SOURCE => "src",
        component::PROTOCOL => "proto",
        component::PORT => "port",
        component::DESTINATION_PORT => "dport",
        component::SOURCE_PORT => "sport",
        component::ICMP_TYPE => "icmp-type",
        component::ICMP_CODE => "icmp-code",
        component::TCP_FLAGS => "tcp-flags",
        component::PACKET_LENGTH => "pkt-len",
        component::DSCP => "dscp",
        component::FRAGMENT => "frag",
        component::FLOW_LABEL => "flow-label",
        _ => "unknown",
    }
}

/// Write component `c` of an `afi` rule: `dst 10.0.0.0/24`, `dport >=1024&<=2048 =8080`,
/// `tcp-flags =0x02 !&0x04`; values joined by a space are ORed, by `&` ANDed (RFC 8955 §4.2.1).
fn write_component(f: &mut fmt::Formatter<'_>, c: &Component<'_>, afi: Afi) -> fmt::Result {
    f.write_str(component_name(c.kind()))?;
    match *c {
        Component::Prefix {
            len,
            offset,
            pattern,
            ..
        } => {
            if afi == Afi::IPV4 {
                let mut a = [0u8; 4];
                for (d, s) in a.iter_mut().zip(pattern) {
                    *d = *s;
                }
                return write!(f, " {}/{len}", core::net::Ipv4Addr::from(a));
            }
            if offset == 0 {
                let mut a = [0u8; 16];
                for (d, s) in a.iter_mut().zip(pattern) {
                    *d = *s;
                }
                return write!(f, " {}/{len}", core::net::Ipv6Addr::from(a));
            }
            f.write_str(" 0x")?;
            for b in pattern {
                write!(f, "{b:02x}")?;
            }
            write!(f, "/{len} offset {offset}")
        }
        Component::Operators { kind, bytes } => {
            let mut pos = 0usize;
            let mut first = true;
            while let Some(&op) = bytes.get(pos) {
                let vlen = 1usize << ((op >> 4) & 0x3);
                let value = bytes
                    .get(pos + 1..pos + 1 + vlen)
                    .unwrap_or(&[])
                    .iter()
                    .fold(0u64, |v, b| (v << 8) | u64::from(*b));
                pos += 1 + vlen;
                f.write_str(if first || op & 0x40 == 0 { " " } else { "&" })?;
                first = false;
                if component::is_bitmask(kind) {
                    let not = if op & 0x02 != 0 { "!" } else { "" };
                    let how = if op & 0x01 != 0 { "=" } else { "&" };
                    write!(f, "{not}{how}{value:#04x}")?;
                } else {
                    let cmp = match op & 0x07 {
                        0 => "false",
                        0x01 => "=",
                        0x02 => ">",
                        0x03 => ">=",
                        0x04 => "<",
                        0x05 => "<=",
                        0x06 => "!=",
                        _ => "true",
                    };
                    if op & 0x07 == 0 || op & 0x07 == 0x07 {
                        f.write_str(cmp)?;
                    } else {
                        write!(f, "{cmp}{value}")?;
                    }
                }
                if op & 0x80 != 0 {
                    break;
                }
            }
            Ok(())
        }
    }
}

impl fmt::Display for FlowNlri<'_> {
    /// Its components in order, each in brackets: `[dst 10.0.0.0/24][proto =6]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.iter() {
            f.write_str("[")?;
            write_component(f, &c, self.afi)?;
            f.write_str("]")?;
        }
        if let Some(id) = self.path_id {
            write!(f, " path-id {id}")?;
        }
        Ok(())
    }
}

/// An iterator over a validated flow specification NLRI field.
#[derive(Debug, Clone)]
pub struct FlowIter<'a> {
    buf: &'a [u8],
    pos: usize,
    afi: Afi,
    add_path: bool,
}

impl<'a> FlowIter<'a> {
    /// Validate `field` and return an iterator over it; `base` is the
    /// field's offset in the message, `action` what a malformed field calls for.
    pub fn new_checked(
        field: &'a [u8],
        afi: Afi,
        add_path: bool,
        base: usize,
        action: Action,
    ) -> Result<Self> {
        let it = FlowIter {
            buf: field,
            pos: 0,
            afi,
            add_path,
        };
        super::check_entries(field.len(), base, action, |pos| {
            it.decode_at(pos)
                .filter(|(n, _)| check_components(n.components, afi))
                .map(|(_, next)| next)
        })?;
        Ok(it)
    }

    fn decode_at(&self, mut pos: usize) -> Option<(FlowNlri<'a>, usize)> {
        let path_id = if self.add_path {
            let b = self.buf.get(pos..pos + 4)?;
            pos += 4;
            Some(u32::from_be_bytes(b.try_into().ok()?))
        } else {
            None
        };
        let first = *self.buf.get(pos)?;
        let (len, hdr) = if first >= 0xf0 {
            let second = *self.buf.get(pos + 1)?;
            (usize::from(u16::from_be_bytes([first & 0x0f, second])), 2)
        } else {
            (usize::from(first), 1)
        };
        let components = self.buf.get(pos + hdr..pos + hdr + len)?;
        Some((
            FlowNlri {
                path_id,
                afi: self.afi,
                components,
            },
            pos + hdr + len,
        ))
    }
}

impl<'a> Iterator for FlowIter<'a> {
    type Item = FlowNlri<'a>;

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
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn collect(f: &[u8], afi: Afi) -> Result<Vec<FlowNlri<'_>>> {
        Ok(FlowIter::new_checked(f, afi, false, 0, Action::AfiSafiDisable)?.collect())
    }

    #[test]
    fn rfc8955_example_1_dest_prefix_protocol_port() {
        // RFC 8955 §4.2.2 example: packets to 192.0.2.0/24 and TCP port 25
        // (protocol == 6, destination port == 25):
        // 0x0b 01 18 c0 00 02 03 81 06 04 81 19.
        let f = [
            0x0b, 0x01, 0x18, 0xc0, 0x00, 0x02, 0x03, 0x81, 0x06, 0x04, 0x81, 0x19,
        ];
        let v = collect(&f, Afi::IPV4).unwrap();
        assert_eq!(v.len(), 1);
        let comps: Vec<_> = v[0].iter().collect();
        assert_eq!(comps.len(), 3);
        assert_eq!(
            comps[0],
            Component::Prefix {
                kind: 1,
                len: 24,
                offset: 0,
                pattern: &[0xc0, 0, 2]
            }
        );
        assert_eq!(comps[2].kind(), component::PORT);
        let mut out = [0u8; 32];
        let mut w = Writer::new(&mut out);
        v[0].emit(&mut w).unwrap();
        assert_eq!(w.written(), &f);
    }

    #[test]
    fn rfc8955_4_2_components_out_of_order_are_malformed() {
        // Port (4) before protocol (3).
        let f = [0x06, 0x04, 0x81, 0x19, 0x03, 0x81, 0x06];
        let e = collect(&f, Afi::IPV4).unwrap_err();
        assert_eq!((e.code, e.subcode), (3, 10));
        // The same type twice.
        let f = [0x06, 0x03, 0x81, 0x06, 0x03, 0x81, 0x11];
        assert!(collect(&f, Afi::IPV4).is_err());
        // Flow label (13) is IPv6 only.
        let f = [0x03, 0x0d, 0x81, 0x01];
        assert!(collect(&f, Afi::IPV4).is_err());
        assert!(collect(&f, Afi::IPV6).is_ok());
        // An operator list with no end-of-list bit runs off the NLRI.
        let f = [0x03, 0x03, 0x01, 0x06];
        assert!(collect(&f, Afi::IPV4).is_err());
        // No components at all.
        assert!(collect(&[0x00], Afi::IPV4).is_err());
    }

    #[test]
    fn two_octet_length_and_canonical_key() {
        // The example NLRI written with the two-octet length 0xf00b.
        let comps = [
            0x01, 0x18, 0xc0, 0x00, 0x02, 0x03, 0x81, 0x06, 0x04, 0x81, 0x19,
        ];
        let mut f = std::vec![0xf0, 0x0b];
        f.extend_from_slice(&comps);
        let v = collect(&f, Afi::IPV4).unwrap();
        assert_eq!(v[0].components, &comps);
        // Written back in the short form.
        let mut out = [0u8; 32];
        let mut w = Writer::new(&mut out);
        v[0].emit(&mut w).unwrap();
        assert_eq!(w.written()[0], 0x0b);
        // A 300-byte NLRI needs the long form.
        let mut long = Vec::new();
        long.extend_from_slice(&[0x01, 0x18, 0xc0, 0x00, 0x02]);
        long.push(0x0a);
        for _ in 0..147 {
            long.extend_from_slice(&[0x01, 0x40]);
        }
        long.extend_from_slice(&[0x81, 0x40]);
        let mut f = std::vec![0xf0 | (long.len() >> 8) as u8, long.len() as u8];
        f.extend_from_slice(&long);
        let v = collect(&f, Afi::IPV4).unwrap();
        let mut out = std::vec![0u8; 400];
        let mut w = Writer::new(&mut out);
        v[0].emit(&mut w).unwrap();
        assert_eq!(w.written(), &f[..]);
    }

    #[test]
    fn rfc8956_ipv6_prefix_with_offset() {
        // Destination 2001:db8::/32 with offset 0, then next header == 17.
        let f = [
            0x0a, 0x01, 0x20, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0x03, 0x81, 0x11,
        ];
        let v = collect(&f, Afi::IPV6).unwrap();
        let c: Vec<_> = v[0].iter().collect();
        assert_eq!(
            c[0],
            Component::Prefix {
                kind: 1,
                len: 32,
                offset: 0,
                pattern: &[0x20, 0x01, 0x0d, 0xb8]
            }
        );
        // Offset above length is malformed.
        let f = [0x04, 0x01, 0x08, 0x10, 0x00];
        assert!(collect(&f, Afi::IPV6).is_err());
    }

    #[test]
    fn shown_as_text() {
        let text = |b: &[u8], afi| {
            FlowNlri {
                path_id: None,
                afi,
                components: b,
            }
            .to_string()
        };
        // IPv6: a 32-bit destination is an IPv6 prefix; a source with an offset is its pattern in hex.
        let v6 = [
            0x01, 0x20, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0x02, 0x10, 0x08, 0xab,
        ];
        assert_eq!(
            text(&v6, Afi::IPV6),
            "[dst 2001:db8::/32][src 0xab/16 offset 8]"
        );
        assert_eq!(text(&[0x01, 0x00], Afi::IPV4), "[dst 0.0.0.0/0]");
        // Every comparison, a two-octet value, and AND against OR.
        let ops = [
            0x0a, 0x00, 1, 0x01, 2, 0x02, 3, 0x43, 4, 0x04, 5, 0x05, 6, 0x06, 7, 0x47, 8, 0x91,
            0x05, 0xdc,
        ];
        assert_eq!(
            text(&ops, Afi::IPV4),
            "[pkt-len false =2 >3&>=4 <5 <=6 !=7&true =1500]"
        );
        // Bitmasks: any of, exactly, not any, not exactly.
        let bits = [0x09, 0x00, 0x02, 0x01, 0x04, 0x02, 0x08, 0x83, 0x10];
        assert_eq!(
            text(&bits, Afi::IPV4),
            "[tcp-flags &0x02 =0x04 !&0x08 !=0x10]"
        );
        let id = FlowNlri {
            path_id: Some(7),
            afi: Afi::IPV4,
            components: &[0x03, 0x81, 0x06],
        };
        assert_eq!(id.to_string(), "[proto =6] path-id 7");
        for (k, n) in [
            (2, "src"),
            (4, "port"),
            (6, "sport"),
            (7, "icmp-type"),
            (8, "icmp-code"),
            (11, "dscp"),
            (12, "frag"),
            (13, "flow-label"),
            (14, "unknown"),
        ] {
            assert_eq!(component_name(k), n);
        }
    }

    #[test]
    fn rfc8955_5_1_order_of_precedence() {
        let a = FlowNlri {
            path_id: None,
            afi: Afi::IPV4,
            components: &[0x01, 0x18, 0xc0, 0x00, 0x02],
        };
        // A longer destination prefix inside the same range goes first.
        let b = FlowNlri {
            path_id: None,
            afi: Afi::IPV4,
            components: &[0x01, 0x20, 0xc0, 0x00, 0x02, 0x01],
        };
        assert_eq!(b.precedence(&a), Ordering::Less);
        assert_eq!(a.precedence(&b), Ordering::Greater);
        // A rule with a destination beats one that starts with a source.
        let c = FlowNlri {
            path_id: None,
            afi: Afi::IPV4,
            components: &[0x02, 0x08, 0x0a],
        };
        assert_eq!(a.precedence(&c), Ordering::Less);
        // Lower value first among operator lists.
        let p6 = FlowNlri {
            path_id: None,
            afi: Afi::IPV4,
            components: &[0x03, 0x81, 0x06],
        };
        let p17 = FlowNlri {
            path_id: None,
            afi: Afi::IPV4,
            components: &[0x03, 0x81, 0x11],
        };
        assert_eq!(p6.precedence(&p17), Ordering::Less);
        assert_eq!(p6.precedence(&p6), Ordering::Equal);
    }
}

//! EVPN NLRI (AFI 25, SAFI 70): RFC 7432 §7 route types 1–4 and RFC 9136
//! §3.1 route type 5.
//!
//! Each NLRI is `[path id] route-type length value`. Route types this module
//! does not know are carried whole, their whole value being their key. For the
//! known types the RIB key is what the RFCs say identifies the route, not the
//! whole NLRI: the ESI and labels of a MAC/IP route, for example, are not part
//! of it (RFC 7432 §7.2), so a route whose label changes replaces the old one.

use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::vpn::{Label, RouteDistinguisher};
use super::Writer;
use crate::error::{Action, Error, Result};

/// An Ethernet Segment Identifier (RFC 7432 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Esi(pub [u8; 10]);

impl fmt::Display for Esi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// A MAC address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Mac(pub [u8; 6]);

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// One EVPN route, its fields decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EvpnRoute<'a> {
    /// Type 1, Ethernet Auto-Discovery (RFC 7432 §7.1).
    EthernetAd {
        /// Route distinguisher.
        rd: RouteDistinguisher,
        /// Ethernet segment.
        esi: Esi,
        /// Ethernet tag (`0xFFFFFFFF` for the per-ES route).
        tag: u32,
        /// MPLS label (or VNI).
        label: Label,
    },
    /// Type 2, MAC/IP Advertisement (RFC 7432 §7.2).
    MacIp {
        /// Route distinguisher.
        rd: RouteDistinguisher,
        /// Ethernet segment.
        esi: Esi,
        /// Ethernet tag.
        tag: u32,
        /// MAC address.
        mac: Mac,
        /// IP address, if any.
        ip: Option<IpAddr>,
        /// MPLS label 1.
        label1: Label,
        /// MPLS label 2, if present.
        label2: Option<Label>,
    },
    /// Type 3, Inclusive Multicast Ethernet Tag (RFC 7432 §7.3).
    InclusiveMulticast {
        /// Route distinguisher.
        rd: RouteDistinguisher,
        /// Ethernet tag.
        tag: u32,
        /// Originating router's IP address.
        originator: IpAddr,
    },
    /// Type 4, Ethernet Segment (RFC 7432 §7.4).
    EthernetSegment {
        /// Route distinguisher.
        rd: RouteDistinguisher,
        /// Ethernet segment.
        esi: Esi,
        /// Originating router's IP address.
        originator: IpAddr,
    },
    /// Type 5, IP Prefix (RFC 9136 §3.1).
    IpPrefix {
        /// Route distinguisher.
        rd: RouteDistinguisher,
        /// Ethernet segment.
        esi: Esi,
        /// Ethernet tag.
        tag: u32,
        /// Prefix length.
        prefix_len: u8,
        /// Prefix address (host bits as sent).
        prefix: IpAddr,
        /// Gateway IP address.
        gateway: IpAddr,
        /// MPLS label (or VNI).
        label: Label,
    },
    /// A route type this module does not decode, carried whole.
    Other {
        /// Route type.
        route_type: u8,
        /// The value bytes.
        value: &'a [u8],
    },
}

/// The most bytes a key holds (a route type byte and a value of up to 255 bytes).
pub const KEY_MAX: usize = 256;

/// What identifies an EVPN route in a RIB: its route type and the fields the
/// RFCs make part of the key, in NLRI order.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EvpnKey {
    len: u16,
    bytes: [u8; KEY_MAX],
}

impl EvpnKey {
    /// The key bytes (route type first).
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }

    fn push(&mut self, b: &[u8]) {
        let at = usize::from(self.len);
        if let Some(dst) = self.bytes.get_mut(at..at + b.len()) {
            dst.copy_from_slice(b);
            self.len += b.len() as u16;
        }
    }
}

impl fmt::Debug for EvpnKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EvpnKey(")?;
        for b in self.as_bytes() {
            write!(f, "{b:02x}")?;
        }
        write!(f, ")")
    }
}

/// One EVPN NLRI, borrowed and validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EvpnNlri<'a> {
    /// The ADD-PATH path identifier, when the session carries them.
    pub path_id: Option<u32>,
    /// The route type.
    pub route_type: u8,
    /// The route-type-specific value.
    pub value: &'a [u8],
}

fn ip_of(b: &[u8]) -> Option<IpAddr> {
    match b.len() {
        4 => Some(IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(b).ok()?))),
        16 => Some(IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(b).ok()?))),
        _ => None,
    }
}

fn u32_at(v: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(v.get(at..at + 4)?.try_into().ok()?))
}

fn label_at(v: &[u8], at: usize) -> Option<Label> {
    let b = v.get(at..at + 3)?;
    Some(Label::from_raw(u32::from_be_bytes([
        0,
        *b.first()?,
        *b.get(1)?,
        *b.get(2)?,
    ])))
}

fn rd_at(v: &[u8]) -> Option<RouteDistinguisher> {
    Some(RouteDistinguisher(v.get(..8)?.try_into().ok()?))
}

fn esi_at(v: &[u8], at: usize) -> Option<Esi> {
    Some(Esi(v.get(at..at + 10)?.try_into().ok()?))
}

/// An IP length field in bits (0, 32 or 128) and its address, at `at`;
/// returns the address and the offset after it.
fn ip_field(v: &[u8], at: usize, allow_none: bool) -> Option<(Option<IpAddr>, usize)> {
    let bits = *v.get(at)?;
    let n = match bits {
        0 if allow_none => 0,
        32 => 4,
        128 => 16,
        _ => return None,
    };
    if n == 0 {
        return Some((None, at + 1));
    }
    Some((Some(ip_of(v.get(at + 1..at + 1 + n)?)?), at + 1 + n))
}

impl<'a> EvpnNlri<'a> {
    /// The decoded route; `None` only for a value that [`EvpnIter::new_checked`] would refuse.
    pub fn route(&self) -> Option<EvpnRoute<'a>> {
        let v = self.value;
        match self.route_type {
            1 => (v.len() == 25).then_some(())?,
            2 => {}
            3 => (v.len() == 17 || v.len() == 29).then_some(())?,
            4 => (v.len() == 23 || v.len() == 35).then_some(())?,
            5 => (v.len() == 34 || v.len() == 58).then_some(())?,
            _ => {
                return Some(EvpnRoute::Other {
                    route_type: self.route_type,
                    value: v,
                })
            }
        }
        let rd = rd_at(v)?;
        Some(match self.route_type {
            1 => EvpnRoute::EthernetAd {
                rd,
                esi: esi_at(v, 8)?,
                tag: u32_at(v, 18)?,
                label: label_at(v, 22)?,
            },
            2 => {
                if *v.get(22)? != 48 {
                    return None;
                }
                let mac = Mac(v.get(23..29)?.try_into().ok()?);
                let (ip, at) = ip_field(v, 29, true)?;
                let label1 = label_at(v, at)?;
                let label2 = match v.len() - at {
                    3 => None,
                    6 => Some(label_at(v, at + 3)?),
                    _ => return None,
                };
                EvpnRoute::MacIp {
                    rd,
                    esi: esi_at(v, 8)?,
                    tag: u32_at(v, 18)?,
                    mac,
                    ip,
                    label1,
                    label2,
                }
            }
            3 => {
                let (ip, end) = ip_field(v, 12, false)?;
                (end == v.len()).then_some(())?;
                EvpnRoute::InclusiveMulticast {
                    rd,
                    tag: u32_at(v, 8)?,
                    originator: ip?,
                }
            }
            4 => {
                let (ip, end) = ip_field(v, 18, false)?;
                (end == v.len()).then_some(())?;
                EvpnRoute::EthernetSegment {
                    rd,
                    esi: esi_at(v, 8)?,
                    originator: ip?,
                }
            }
            _ => {
                let n = if v.len() == 34 { 4 } else { 16 };
                let prefix_len = *v.get(22)?;
                if usize::from(prefix_len) > n * 8 {
                    return None;
                }
                EvpnRoute::IpPrefix {
                    rd,
                    esi: esi_at(v, 8)?,
                    tag: u32_at(v, 18)?,
                    prefix_len,
                    prefix: ip_of(v.get(23..23 + n)?)?,
                    gateway: ip_of(v.get(23 + n..23 + 2 * n)?)?,
                    label: label_at(v, 23 + 2 * n)?,
                }
            }
        })
    }

    /// The RIB key: route type, RD and the identifying fields of the type.
    pub fn key(&self) -> EvpnKey {
        let mut k = EvpnKey {
            len: 0,
            bytes: [0; KEY_MAX],
        };
        k.push(&[self.route_type]);
        let v = self.value;
        let part = |a: usize, b: usize| v.get(a..b).unwrap_or(&[]);
        match self.route() {
            // RD, ESI, Ethernet tag.
            Some(EvpnRoute::EthernetAd { .. }) => k.push(part(0, 22)),
            // RD, Ethernet tag, MAC length, MAC, IP length, IP (RFC 7432 §7.2).
            Some(EvpnRoute::MacIp { ip, .. }) => {
                let ip_len = match ip {
                    None => 0,
                    Some(IpAddr::V4(_)) => 4,
                    Some(IpAddr::V6(_)) => 16,
                };
                k.push(part(0, 8));
                k.push(part(18, 30 + ip_len));
            }
            // RD, Ethernet tag, IP length, originating router (RFC 7432 §7.3).
            Some(EvpnRoute::InclusiveMulticast { .. }) => k.push(v),
            // RD, ESI, IP length, originating router (RFC 7432 §7.4).
            Some(EvpnRoute::EthernetSegment { .. }) => k.push(v),
            // RD, Ethernet tag, prefix length, prefix (RFC 9136 §3.1).
            Some(EvpnRoute::IpPrefix { .. }) => {
                let n = if v.len() == 34 { 4 } else { 16 };
                k.push(part(0, 8));
                k.push(part(18, 23 + n));
            }
            Some(EvpnRoute::Other { .. }) | None => k.push(v),
        }
        k
    }

    /// Bytes [`EvpnNlri::emit`] writes.
    pub fn buffer_len(&self) -> usize {
        let ap = if self.path_id.is_some() { 4 } else { 0 };
        ap + 2 + self.value.len()
    }

    /// Write the NLRI as sent.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        if let Some(id) = self.path_id {
            w.u32(id)?;
        }
        let len = u8::try_from(self.value.len()).map_err(|_| Error::overflow(w.len()))?;
        w.u8(self.route_type)?;
        w.u8(len)?;
        w.put(self.value)
    }
}

impl fmt::Display for EvpnRoute<'_> {
    /// FRR's bracketed form, e.g. `[2]:[65000:1]:[0]:[48]:[aa:bb:cc:dd:ee:ff]:[32]:[10.0.0.1]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ip_bits = |ip: &IpAddr| if ip.is_ipv4() { 32 } else { 128 };
        match self {
            EvpnRoute::EthernetAd { rd, esi, tag, .. } => write!(f, "[1]:[{rd}]:[{esi}]:[{tag}]"),
            EvpnRoute::MacIp {
                rd, tag, mac, ip, ..
            } => {
                write!(f, "[2]:[{rd}]:[{tag}]:[48]:[{mac}]")?;
                match ip {
                    Some(ip) => write!(f, ":[{}]:[{ip}]", ip_bits(ip)),
                    None => Ok(()),
                }
            }
            EvpnRoute::InclusiveMulticast {
                rd,
                tag,
                originator,
            } => write!(
                f,
                "[3]:[{rd}]:[{tag}]:[{}]:[{originator}]",
                ip_bits(originator)
            ),
            EvpnRoute::EthernetSegment {
                rd,
                esi,
                originator,
            } => write!(
                f,
                "[4]:[{rd}]:[{esi}]:[{}]:[{originator}]",
                ip_bits(originator)
            ),
            EvpnRoute::IpPrefix {
                rd,
                tag,
                prefix_len,
                prefix,
                ..
            } => write!(f, "[5]:[{rd}]:[{tag}]:[{prefix_len}]:[{prefix}]"),
            EvpnRoute::Other { route_type, value } => {
                write!(f, "[{route_type}]:[")?;
                for b in *value {
                    write!(f, "{b:02x}")?;
                }
                f.write_str("]")
            }
        }
    }
}

/// An iterator over a validated EVPN NLRI field.
#[derive(Debug, Clone)]
pub struct EvpnIter<'a> {
    buf: &'a [u8],
    pos: usize,
    add_path: bool,
}

impl<'a> EvpnIter<'a> {
    /// Validate `field` (lengths, and the layout of route types 1–5) and
    /// return an iterator; `base` is the field's offset in the message,
    /// `action` what a malformed field calls for.
    pub fn new_checked(
        field: &'a [u8],
        add_path: bool,
        base: usize,
        action: Action,
    ) -> Result<Self> {
        let it = EvpnIter {
            buf: field,
            pos: 0,
            add_path,
        };
        super::check_entries(field.len(), base, action, |pos| {
            it.decode_at(pos)
                .filter(|(n, _)| n.route().is_some())
                .map(|(_, next)| next)
        })?;
        Ok(it)
    }

    fn decode_at(&self, mut pos: usize) -> Option<(EvpnNlri<'a>, usize)> {
        let path_id = if self.add_path {
            let b = self.buf.get(pos..pos + 4)?;
            pos += 4;
            Some(u32::from_be_bytes(b.try_into().ok()?))
        } else {
            None
        };
        let route_type = *self.buf.get(pos)?;
        let len = usize::from(*self.buf.get(pos + 1)?);
        let value = self.buf.get(pos + 2..pos + 2 + len)?;
        Some((
            EvpnNlri {
                path_id,
                route_type,
                value,
            },
            pos + 2 + len,
        ))
    }
}

impl<'a> Iterator for EvpnIter<'a> {
    type Item = EvpnNlri<'a>;

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
    use std::string::ToString;
    use std::vec::Vec;

    fn rd() -> [u8; 8] {
        RouteDistinguisher::as2(65000, 1).0
    }

    fn mac_ip(esi: u8, label: u32, ip: Option<[u8; 4]>) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&rd());
        v.extend_from_slice(&[esi; 10]);
        v.extend_from_slice(&100u32.to_be_bytes());
        v.push(48);
        v.extend_from_slice(&[0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]);
        match ip {
            Some(a) => {
                v.push(32);
                v.extend_from_slice(&a);
            }
            None => v.push(0),
        }
        v.extend_from_slice(&Label::new(label, true).to_bytes());
        v
    }

    fn field(t: u8, v: &[u8]) -> Vec<u8> {
        let mut f = std::vec![t, v.len() as u8];
        f.extend_from_slice(v);
        f
    }

    fn one(f: &[u8]) -> EvpnNlri<'_> {
        let v: Vec<_> = EvpnIter::new_checked(f, false, 0, Action::AfiSafiDisable)
            .unwrap()
            .collect();
        assert_eq!(v.len(), 1);
        v[0]
    }

    #[test]
    fn rfc7432_7_2_mac_ip_key_leaves_out_esi_and_labels() {
        let a = field(2, &mac_ip(1, 10, Some([10, 0, 0, 1])));
        let b = field(2, &mac_ip(2, 20, Some([10, 0, 0, 1])));
        let c = field(2, &mac_ip(1, 10, Some([10, 0, 0, 2])));
        let (na, nb, nc) = (one(&a), one(&b), one(&c));
        assert_eq!(na.key(), nb.key());
        assert_ne!(na.key(), nc.key());
        assert_eq!(
            na.route().unwrap().to_string(),
            "[2]:[65000:1]:[100]:[48]:[aa:bb:cc:dd:ee:ff]:[32]:[10.0.0.1]"
        );
        // MAC only: length 33; with IPv4 37.
        let m = field(2, &mac_ip(0, 5, None));
        assert_eq!(m.len(), 2 + 33);
        match one(&m).route().unwrap() {
            EvpnRoute::MacIp { ip, label1, .. } => {
                assert_eq!(ip, None);
                assert_eq!(label1.value(), 5);
            }
            r => panic!("{r:?}"),
        }
        let mut out = [0u8; 64];
        let mut w = Writer::new(&mut out);
        na.emit(&mut w).unwrap();
        assert_eq!(w.written(), &a[..]);
    }

    #[test]
    fn rfc7432_route_types_1_3_4_and_rfc9136_type_5() {
        let mut t1 = rd().to_vec();
        t1.extend_from_slice(&[7; 10]);
        t1.extend_from_slice(&u32::MAX.to_be_bytes());
        t1.extend_from_slice(&Label::new(0, true).to_bytes());
        let n1 = field(1, &t1);
        assert!(matches!(
            one(&n1).route(),
            Some(EvpnRoute::EthernetAd { tag: u32::MAX, .. })
        ));
        let mut t3 = rd().to_vec();
        t3.extend_from_slice(&0u32.to_be_bytes());
        t3.push(32);
        t3.extend_from_slice(&[192, 0, 2, 9]);
        let n3 = field(3, &t3);
        assert_eq!(
            one(&n3).route().unwrap().to_string(),
            "[3]:[65000:1]:[0]:[32]:[192.0.2.9]"
        );
        let mut t4 = rd().to_vec();
        t4.extend_from_slice(&[1; 10]);
        t4.push(32);
        t4.extend_from_slice(&[192, 0, 2, 9]);
        assert!(matches!(
            one(&field(4, &t4)).route(),
            Some(EvpnRoute::EthernetSegment { .. })
        ));
        let mut t5 = rd().to_vec();
        t5.extend_from_slice(&[3; 10]);
        t5.extend_from_slice(&0u32.to_be_bytes());
        t5.push(24);
        t5.extend_from_slice(&[10, 9, 8, 0]);
        t5.extend_from_slice(&[0, 0, 0, 0]);
        t5.extend_from_slice(&Label::new(5000, true).to_bytes());
        let n5 = field(5, &t5);
        assert_eq!(n5.len(), 2 + 34);
        let r = one(&n5);
        assert_eq!(
            r.route().unwrap().to_string(),
            "[5]:[65000:1]:[0]:[24]:[10.9.8.0]"
        );
        // Another ESI and label: the same key (RFC 9136 §3.1).
        let mut t5b = t5.clone();
        t5b[8] = 9;
        t5b[33] = 0x51;
        assert_eq!(one(&field(5, &t5b)).key(), r.key());
        t5b[22] = 25;
        assert_ne!(one(&field(5, &t5b)).key(), r.key());
    }

    #[test]
    fn malformed_evpn_is_refused_and_unknown_types_carried() {
        // Type 2 with a MAC length of 40.
        let mut bad = mac_ip(0, 1, None);
        bad[22] = 40;
        assert!(EvpnIter::new_checked(&field(2, &bad), false, 0, Action::AfiSafiDisable).is_err());
        // Type 2 with IP length 24.
        let mut bad = mac_ip(0, 1, Some([1, 2, 3, 4]));
        bad[29] = 24;
        assert!(EvpnIter::new_checked(&field(2, &bad), false, 0, Action::AfiSafiDisable).is_err());
        // Type 1 one byte short.
        let e = EvpnIter::new_checked(&field(1, &[0; 24]), false, 9, Action::AfiSafiDisable)
            .unwrap_err();
        assert_eq!((e.code, e.subcode, e.offset), (3, 10, 9));
        // Length overruns.
        assert!(EvpnIter::new_checked(&[2, 40, 0], false, 0, Action::AfiSafiDisable).is_err());
        // Type 9 is carried whole; its value is its key.
        let n = one(&[9, 3, 1, 2, 3]);
        assert_eq!(n.key().as_bytes(), &[9, 1, 2, 3]);
        assert_eq!(n.route().unwrap().to_string(), "[9]:[010203]");
    }

    #[test]
    fn add_path_identifiers() {
        let mut f = std::vec![0, 0, 0, 42];
        f.extend_from_slice(&field(2, &mac_ip(0, 1, None)));
        let v: Vec<_> = EvpnIter::new_checked(&f, true, 0, Action::AfiSafiDisable)
            .unwrap()
            .collect();
        assert_eq!(v[0].path_id, Some(42));
        assert_eq!(v[0].buffer_len(), f.len());
    }
}

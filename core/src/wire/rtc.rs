//! Route Target membership NLRI (RFC 4684 §4; AFI 1, SAFI 132).
//!
//! An NLRI is `[path id] length(bits) [origin AS (4)] [route target prefix]`:
//! length 0 is the default membership (every route target), otherwise the
//! origin AS is whole and the route target may be a prefix (lengths 32 to 96).

use core::fmt;

use super::Writer;
use crate::error::{Action, Result};

/// One route target membership NLRI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RtcNlri {
    /// The ADD-PATH path identifier, when the session carries them.
    pub path_id: Option<u32>,
    /// The prefix length in bits: 0, or 32 to 96.
    pub len: u8,
    /// The origin AS (0 for the default membership).
    pub origin_as: u32,
    /// The route target, bits past the prefix length zero.
    pub route_target: [u8; 8],
}

impl RtcNlri {
    /// The default membership: every route target (RFC 4684 §4).
    pub const DEFAULT: RtcNlri = RtcNlri {
        path_id: None,
        len: 0,
        origin_as: 0,
        route_target: [0; 8],
    };

    /// A membership for one whole route target.
    pub const fn new(origin_as: u32, route_target: [u8; 8]) -> Self {
        RtcNlri {
            path_id: None,
            len: 96,
            origin_as,
            route_target,
        }
    }

    /// The RIB key: length, origin AS and route target in 13 bytes.
    pub fn key(&self) -> [u8; 13] {
        let mut k = [0u8; 13];
        let src = core::iter::once(self.len)
            .chain(self.origin_as.to_be_bytes())
            .chain(self.route_target);
        for (d, s) in k.iter_mut().zip(src) {
            *d = s;
        }
        k
    }

    /// Whether this membership covers the route target extended community `rt`.
    pub fn covers(&self, rt: &[u8; 8]) -> bool {
        if self.len == 0 {
            return true;
        }
        let bits = usize::from(self.len - 32);
        let full = bits / 8;
        if rt.get(..full) != self.route_target.get(..full) {
            return false;
        }
        if bits % 8 == 0 {
            return true;
        }
        let mask = 0xffu8 << (8 - bits % 8);
        let a = rt.get(full).map_or(0, |v| v & mask);
        let b = self.route_target.get(full).map_or(0, |v| v & mask);
        a == b
    }

    /// Bytes [`RtcNlri::emit`] writes.
    pub fn buffer_len(&self) -> usize {
        let ap = if self.path_id.is_some() { 4 } else { 0 };
        ap + 1 + usize::from(self.len).div_ceil(8)
    }

    /// Write the NLRI.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        if let Some(id) = self.path_id {
            w.u32(id)?;
        }
        w.u8(self.len)?;
        if self.len == 0 {
            return Ok(());
        }
        w.u32(self.origin_as)?;
        let bits = usize::from(self.len.saturating_sub(32));
        let n = bits.div_ceil(8);
        let mut rt = [0u8; 8];
        for (i, (d, s)) in rt.iter_mut().zip(self.route_target).enumerate().take(n) {
            // Bits past the prefix length go out as zero.
            let keep = (bits - 8 * i).min(8);
            *d = s & (0xffu8 << (8 - keep));
        }
        w.put(rt.get(..n).unwrap_or(&[]))
    }
}

impl fmt::Display for RtcNlri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.len == 0 {
            return f.write_str("default");
        }
        write!(f, "{}:", self.origin_as)?;
        for b in self.route_target {
            write!(f, "{b:02x}")?;
        }
        write!(f, "/{}", self.len)
    }
}

fn decode_at(buf: &[u8], mut pos: usize, add_path: bool) -> Option<(RtcNlri, usize)> {
    let path_id = if add_path {
        let b = buf.get(pos..pos + 4)?;
        pos += 4;
        Some(u32::from_be_bytes(b.try_into().ok()?))
    } else {
        None
    };
    let len = *buf.get(pos)?;
    pos += 1;
    if len == 0 {
        return Some((
            RtcNlri {
                path_id,
                ..RtcNlri::DEFAULT
            },
            pos,
        ));
    }
    if !(32..=96).contains(&len) {
        return None;
    }
    let origin_as = u32::from_be_bytes(buf.get(pos..pos + 4)?.try_into().ok()?);
    pos += 4;
    let bits = usize::from(len - 32);
    let n = bits.div_ceil(8);
    let mut route_target = [0u8; 8];
    route_target
        .get_mut(..n)?
        .copy_from_slice(buf.get(pos..pos + n)?);
    if bits % 8 != 0 {
        if let Some(last) = route_target.get_mut(n - 1) {
            *last &= 0xffu8 << (8 - bits % 8);
        }
    }
    Some((
        RtcNlri {
            path_id,
            len,
            origin_as,
            route_target,
        },
        pos + n,
    ))
}

/// An iterator over a validated route target membership NLRI field.
#[derive(Debug, Clone)]
pub struct RtcIter<'a> {
    buf: &'a [u8],
    pos: usize,
    add_path: bool,
}

impl<'a> RtcIter<'a> {
    /// Validate `field` and return an iterator; `base` is the field's offset
    /// in the message, `action` what a malformed field calls for.
    pub fn new_checked(
        field: &'a [u8],
        add_path: bool,
        base: usize,
        action: Action,
    ) -> Result<Self> {
        super::check_entries(field.len(), base, action, |pos| {
            decode_at(field, pos, add_path).map(|(_, next)| next)
        })?;
        Ok(RtcIter {
            buf: field,
            pos: 0,
            add_path,
        })
    }
}

impl Iterator for RtcIter<'_> {
    type Item = RtcNlri;

    fn next(&mut self) -> Option<RtcNlri> {
        if self.pos >= self.buf.len() {
            return None;
        }
        match decode_at(self.buf, self.pos, self.add_path) {
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

    fn collect(f: &[u8], ap: bool) -> Result<Vec<RtcNlri>> {
        Ok(RtcIter::new_checked(f, ap, 0, Action::AfiSafiDisable)?.collect())
    }

    // Route target 65000:100 as a 2-octet-AS extended community (type 0x00, sub-type 0x02).
    const RT: [u8; 8] = [0x00, 0x02, 0xfd, 0xe8, 0, 0, 0, 100];

    #[test]
    fn rfc4684_4_whole_and_default_memberships() {
        let mut f = std::vec![96, 0, 0, 0xfd, 0xe8];
        f.extend_from_slice(&RT);
        f.push(0);
        let v = collect(&f, false).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0], RtcNlri::new(65000, RT));
        assert!(v[0].covers(&RT));
        assert!(!v[0].covers(&[0x00, 0x02, 0xfd, 0xe8, 0, 0, 0, 101]));
        assert_eq!(v[1].len, 0);
        assert!(v[1].covers(&[0xff; 8]));
        assert_eq!(v[1].to_string(), "default");
        let mut out = [0u8; 32];
        let mut w = Writer::new(&mut out);
        for n in &v {
            n.emit(&mut w).unwrap();
        }
        assert_eq!(w.written(), &f[..]);
    }

    #[test]
    fn rfc4684_prefix_memberships_cover_by_prefix() {
        // 48 bits: origin AS + the type and sub-type of the route target.
        let f = [48, 0, 0, 0xfd, 0xe8, 0x00, 0x02];
        let v = collect(&f, false).unwrap();
        assert!(v[0].covers(&RT));
        assert!(!v[0].covers(&[0x01, 0x02, 0, 0, 0, 0, 0, 0]));
        assert_eq!(v[0].key()[0], 48);
        // A length that cuts a byte masks the rest of it.
        let f = [44, 0, 0, 0, 1, 0x00, 0x0f];
        let v = collect(&f, false).unwrap();
        assert_eq!(v[0].route_target[1], 0x00);
    }

    #[test]
    fn rfc4684_lengths_1_to_31_and_over_96_are_malformed() {
        for len in [1u8, 16, 31, 97, 200] {
            let mut f = std::vec![len];
            f.extend_from_slice(&[0; 16]);
            let e = collect(&f, false).unwrap_err();
            assert_eq!((e.code, e.subcode), (3, 10), "len {len}");
        }
        assert!(collect(&[96, 0, 0], false).is_err());
        let v = collect(&[0, 0, 0, 5, 0], true).unwrap();
        assert_eq!(v[0].path_id, Some(5));
    }
}

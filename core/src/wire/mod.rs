//! BGP-4 messages on the wire.
//!
//! Every message and attribute family has two layers, in the manner of
//! smoltcp's `wire` module:
//!
//! - a **view** over borrowed bytes (`T: AsRef<[u8]>`) whose `new_checked`
//!   validates every length once; after that no accessor panics and
//!   iterators over variable fields cannot run past their field;
//! - under the `alloc` feature, an owned **`Repr`** holding the meaning, with
//!   `parse` (from a view) and `emit` (into a caller buffer of at least
//!   `buffer_len()` bytes, never panicking).
//!
//! Decoding an UPDATE needs the per-session [`Context`]: whether 4-octet AS
//! numbers were negotiated, which AFI/SAFIs receive ADD-PATH identifiers and
//! whether extended messages are allowed. Every failure is an
//! [`Error`] carrying the NOTIFICATION to send and the
//! RFC 7606 action to take.

pub mod attribute;
pub mod capability;
pub mod evpn;
pub mod family;
pub mod flowspec;
pub mod header;
pub mod message;
pub mod nlri;
pub mod notification;
pub mod open;
pub mod route_refresh;
pub mod rtc;
pub mod update;
#[cfg(feature = "alloc")]
pub mod update_repr;
pub mod vpn;

pub use header::{Header, MessageType, HEADER_LEN, MARKER, MAX_EXTENDED_LEN, MAX_LEN};
pub use nlri::{Ipv4Prefix, Ipv6Prefix, Nlri, NlriIter, Prefix};
pub use update::UpdatePacket;
#[cfg(feature = "alloc")]
pub use update_repr::{AsPath, AttributeRepr, AttributeValue, UpdateRepr};

use crate::error::{Error, Result};

/// Walk an NLRI field entry by entry: `end_of` gives the end of the entry
/// starting at a position (`None` when it breaks). The error for the first
/// entry that breaks is an invalid network field (3/10) at its offset
/// (`base` is the field's offset in the message) with `action`.
pub(crate) fn check_entries(
    len: usize,
    base: usize,
    action: crate::error::Action,
    mut end_of: impl FnMut(usize) -> Option<usize>,
) -> Result<()> {
    let mut pos = 0usize;
    while pos < len {
        pos = end_of(pos).ok_or_else(|| {
            Error::new(
                crate::error::ErrorKind::InvalidNetworkField,
                crate::error::code::UPDATE_MESSAGE,
                crate::error::subcode::INVALID_NETWORK_FIELD,
                action,
                base + pos,
            )
        })?;
    }
    Ok(())
}

/// Address Family Identifier (IANA).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Afi(pub u16);

impl Afi {
    /// IPv4.
    pub const IPV4: Afi = Afi(1);
    /// IPv6.
    pub const IPV6: Afi = Afi(2);
    /// Layer-2 VPN (EVPN).
    pub const L2VPN: Afi = Afi(25);
}

/// Subsequent Address Family Identifier (IANA).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Safi(pub u8);

impl Safi {
    /// Unicast forwarding.
    pub const UNICAST: Safi = Safi(1);
    /// Multicast forwarding.
    pub const MULTICAST: Safi = Safi(2);
    /// Labeled unicast (RFC 8277).
    pub const LABELED_UNICAST: Safi = Safi(4);
    /// EVPN (RFC 7432).
    pub const EVPN: Safi = Safi(70);
    /// MPLS-labeled VPN (RFC 4364).
    pub const MPLS_VPN: Safi = Safi(128);
    /// Route Target constraint (RFC 4684).
    pub const RT_CONSTRAINT: Safi = Safi(132);
    /// Flow specification (RFC 8955).
    pub const FLOWSPEC: Safi = Safi(133);
}

/// An AFI/SAFI pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AfiSafi {
    /// Address family.
    pub afi: Afi,
    /// Subsequent address family.
    pub safi: Safi,
}

impl AfiSafi {
    /// IPv4 unicast.
    pub const IPV4_UNICAST: AfiSafi = AfiSafi::new(Afi::IPV4, Safi::UNICAST);
    /// IPv4 multicast.
    pub const IPV4_MULTICAST: AfiSafi = AfiSafi::new(Afi::IPV4, Safi::MULTICAST);
    /// IPv6 unicast.
    pub const IPV6_UNICAST: AfiSafi = AfiSafi::new(Afi::IPV6, Safi::UNICAST);
    /// IPv6 multicast.
    pub const IPV6_MULTICAST: AfiSafi = AfiSafi::new(Afi::IPV6, Safi::MULTICAST);
    /// IPv4 labeled unicast (RFC 8277).
    pub const IPV4_LABELED: AfiSafi = AfiSafi::new(Afi::IPV4, Safi::LABELED_UNICAST);
    /// IPv6 labeled unicast (RFC 8277).
    pub const IPV6_LABELED: AfiSafi = AfiSafi::new(Afi::IPV6, Safi::LABELED_UNICAST);
    /// VPN-IPv4 (RFC 4364).
    pub const VPNV4: AfiSafi = AfiSafi::new(Afi::IPV4, Safi::MPLS_VPN);
    /// VPN-IPv6 (RFC 4659).
    pub const VPNV6: AfiSafi = AfiSafi::new(Afi::IPV6, Safi::MPLS_VPN);
    /// L2VPN EVPN (RFC 7432).
    pub const EVPN: AfiSafi = AfiSafi::new(Afi::L2VPN, Safi::EVPN);
    /// Route Target constraint (RFC 4684).
    pub const RT_CONSTRAINT: AfiSafi = AfiSafi::new(Afi::IPV4, Safi::RT_CONSTRAINT);
    /// IPv4 flow specification (RFC 8955).
    pub const IPV4_FLOWSPEC: AfiSafi = AfiSafi::new(Afi::IPV4, Safi::FLOWSPEC);
    /// IPv6 flow specification (RFC 8956).
    pub const IPV6_FLOWSPEC: AfiSafi = AfiSafi::new(Afi::IPV6, Safi::FLOWSPEC);

    /// A pair from its parts.
    pub const fn new(afi: Afi, safi: Safi) -> Self {
        AfiSafi { afi, safi }
    }

    /// Whether Reflector decodes this family's NLRI into prefixes (IPv4/IPv6 unicast and multicast).
    /// Other families are carried as opaque NLRI bytes.
    pub const fn is_ip(self) -> bool {
        matches!((self.afi.0, self.safi.0), (1 | 2, 1 | 2))
    }

    const fn slot(self) -> Option<u8> {
        match (self.afi.0, self.safi.0) {
            (1, 1) => Some(0),
            (1, 2) => Some(1),
            (2, 1) => Some(2),
            (2, 2) => Some(3),
            (1, 4) => Some(4),
            (2, 4) => Some(5),
            (1, 128) => Some(6),
            (2, 128) => Some(7),
            (25, 70) => Some(8),
            (1, 132) => Some(9),
            (1, 133) => Some(10),
            (2, 133) => Some(11),
            _ => None,
        }
    }
}

/// A small set of AFI/SAFIs (the families [`family::NlriFormat::of`] knows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct AfiSafiSet(u16);

impl AfiSafiSet {
    /// The empty set.
    pub const EMPTY: AfiSafiSet = AfiSafiSet(0);

    /// Whether `f` is in the set.
    #[inline]
    pub const fn contains(self, f: AfiSafi) -> bool {
        match f.slot() {
            Some(s) => self.0 & (1 << s) != 0,
            None => false,
        }
    }

    /// The set with `f` added (families outside the known ones are ignored).
    #[must_use]
    pub const fn with(self, f: AfiSafi) -> Self {
        match f.slot() {
            Some(s) => AfiSafiSet(self.0 | (1 << s)),
            None => self,
        }
    }

    /// Add `f` in place.
    pub fn insert(&mut self, f: AfiSafi) {
        *self = self.with(f);
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The families in both sets.
    #[must_use]
    pub const fn intersection(self, other: AfiSafiSet) -> Self {
        AfiSafiSet(self.0 & other.0)
    }
}

/// What a session negotiated, needed to decode and encode UPDATEs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Context {
    /// Both sides advertised the 4-octet AS capability (RFC 6793): AS_PATH carries 4-byte ASNs.
    pub four_octet_as: bool,
    /// Extended messages (RFC 8654): up to 65,535 bytes instead of 4,096.
    pub extended_message: bool,
    /// Families whose NLRI carry ADD-PATH path identifiers in the direction being decoded (RFC 7911).
    pub add_path: AfiSafiSet,
}

impl Default for Context {
    fn default() -> Self {
        Context::MODERN
    }
}

impl Context {
    /// A 2-octet-AS session with no ADD-PATH and 4,096-byte messages (plain RFC 4271).
    pub const LEGACY: Context = Context {
        four_octet_as: false,
        extended_message: false,
        add_path: AfiSafiSet::EMPTY,
    };

    /// A 4-octet-AS session with no ADD-PATH and 4,096-byte messages (what most peers negotiate).
    pub const MODERN: Context = Context {
        four_octet_as: true,
        extended_message: false,
        add_path: AfiSafiSet::EMPTY,
    };

    /// Whether `f` carries ADD-PATH identifiers.
    #[inline]
    pub const fn add_path(&self, f: AfiSafi) -> bool {
        self.add_path.contains(f)
    }

    /// The largest message allowed on this session.
    pub const fn max_message_len(&self) -> usize {
        if self.extended_message {
            MAX_EXTENDED_LEN
        } else {
            MAX_LEN
        }
    }
}

/// A bounds-checked reading cursor over borrowed bytes.
///
/// Every read either returns the bytes or a [`Error::truncated`] carrying the
/// absolute offset (`base` + position), so callers can map it to the right
/// NOTIFICATION.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    /// A cursor over `buf`, whose first byte is at offset `base` of the enclosing unit.
    pub const fn new(buf: &'a [u8], base: usize) -> Self {
        Reader { buf, pos: 0, base }
    }

    /// Absolute offset of the next byte.
    pub const fn offset(&self) -> usize {
        self.base + self.pos
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// Whether everything was read.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The unread bytes.
    pub fn rest(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or(&[])
    }

    /// Take `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or(Error::truncated(self.offset()))?;
        let s = self
            .buf
            .get(self.pos..end)
            .ok_or(Error::truncated(self.offset()))?;
        self.pos = end;
        Ok(s)
    }

    /// Take a fixed-size array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let s = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(s);
        Ok(out)
    }

    /// Read one byte.
    pub fn u8(&mut self) -> Result<u8> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or(Error::truncated(self.offset()))?;
        self.pos += 1;
        Ok(b)
    }

    /// Read a big-endian u16.
    pub fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    /// Read a big-endian u32.
    pub fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    /// Read a big-endian u64.
    pub fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_be_bytes(self.array()?))
    }
}

/// A bounds-checked writing cursor over a caller buffer.
///
/// Running out of room is an [`Error::overflow`], never a panic.
#[derive(Debug)]
pub struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> Writer<'a> {
    /// A cursor at the start of `buf`.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Writer { buf, pos: 0 }
    }

    /// Bytes written so far.
    pub const fn len(&self) -> usize {
        self.pos
    }

    /// Whether nothing was written yet.
    pub const fn is_empty(&self) -> bool {
        self.pos == 0
    }

    /// Room left.
    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// Append bytes.
    pub fn put(&mut self, data: &[u8]) -> Result<()> {
        let end = self
            .pos
            .checked_add(data.len())
            .ok_or(Error::overflow(self.pos))?;
        let dst = self
            .buf
            .get_mut(self.pos..end)
            .ok_or(Error::overflow(self.pos))?;
        dst.copy_from_slice(data);
        self.pos = end;
        Ok(())
    }

    /// Append one byte.
    pub fn u8(&mut self, v: u8) -> Result<()> {
        self.put(&[v])
    }

    /// Append a big-endian u16.
    pub fn u16(&mut self, v: u16) -> Result<()> {
        self.put(&v.to_be_bytes())
    }

    /// Append a big-endian u32.
    pub fn u32(&mut self, v: u32) -> Result<()> {
        self.put(&v.to_be_bytes())
    }

    /// Overwrite a big-endian u16 at an earlier position (length fields filled in last).
    pub fn patch_u16(&mut self, at: usize, v: u16) -> Result<()> {
        let dst = self
            .buf
            .get_mut(at..at.saturating_add(2))
            .ok_or(Error::overflow(at))?;
        dst.copy_from_slice(&v.to_be_bytes());
        Ok(())
    }

    /// Overwrite one byte at an earlier position.
    pub fn patch_u8(&mut self, at: usize, v: u8) -> Result<()> {
        let dst = self.buf.get_mut(at).ok_or(Error::overflow(at))?;
        *dst = v;
        Ok(())
    }

    /// The written bytes.
    pub fn written(&self) -> &[u8] {
        self.buf.get(..self.pos).unwrap_or(&[])
    }
}

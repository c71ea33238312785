//! Path attributes (RFC 4271 §4.3, §5) and their RFC 7606 validation.
//!
//! [`AttrIter`] walks the TLVs of a validated attribute block;
//! [`RawAttribute::decode`] turns one into a typed, borrowed [`Attribute`].
//! [`validate`] checks a whole block once and reports, for every malformed
//! attribute, the NOTIFICATION it would warrant and the RFC 7606 action that
//! replaces it.

use core::net::Ipv4Addr;

use super::{Afi, AfiSafi, Context, NlriIter, Reader, Safi, Writer};
use crate::error::{code, subcode, Action, Error, ErrorKind, NotifyData, Result};

/// Attribute flag bits (RFC 4271 §4.3).
pub mod flags {
    /// Optional (set) or well-known (clear).
    pub const OPTIONAL: u8 = 0x80;
    /// Transitive.
    pub const TRANSITIVE: u8 = 0x40;
    /// Partial: an optional transitive attribute some speaker did not recognise.
    pub const PARTIAL: u8 = 0x20;
    /// The length field is two octets.
    pub const EXTENDED_LENGTH: u8 = 0x10;
}

/// Attribute type codes (IANA "BGP Path Attributes").
pub mod type_code {
    /// ORIGIN (RFC 4271).
    pub const ORIGIN: u8 = 1;
    /// AS_PATH (RFC 4271).
    pub const AS_PATH: u8 = 2;
    /// NEXT_HOP (RFC 4271).
    pub const NEXT_HOP: u8 = 3;
    /// MULTI_EXIT_DISC (RFC 4271).
    pub const MED: u8 = 4;
    /// LOCAL_PREF (RFC 4271).
    pub const LOCAL_PREF: u8 = 5;
    /// ATOMIC_AGGREGATE (RFC 4271).
    pub const ATOMIC_AGGREGATE: u8 = 6;
    /// AGGREGATOR (RFC 4271).
    pub const AGGREGATOR: u8 = 7;
    /// COMMUNITIES (RFC 1997).
    pub const COMMUNITIES: u8 = 8;
    /// ORIGINATOR_ID (RFC 4456).
    pub const ORIGINATOR_ID: u8 = 9;
    /// CLUSTER_LIST (RFC 4456).
    pub const CLUSTER_LIST: u8 = 10;
    /// MP_REACH_NLRI (RFC 4760).
    pub const MP_REACH_NLRI: u8 = 14;
    /// MP_UNREACH_NLRI (RFC 4760).
    pub const MP_UNREACH_NLRI: u8 = 15;
    /// EXTENDED COMMUNITIES (RFC 4360).
    pub const EXTENDED_COMMUNITIES: u8 = 16;
    /// AS4_PATH (RFC 6793).
    pub const AS4_PATH: u8 = 17;
    /// AS4_AGGREGATOR (RFC 6793).
    pub const AS4_AGGREGATOR: u8 = 18;
    /// LARGE_COMMUNITY (RFC 8092).
    pub const LARGE_COMMUNITY: u8 = 32;
    /// Only to Customer (RFC 9234).
    pub const OTC: u8 = 35;
}

/// Well-known COMMUNITIES values.
pub mod community {
    /// NO_EXPORT (RFC 1997): not advertised to eBGP peers.
    pub const NO_EXPORT: u32 = 0xFFFF_FF01;
    /// NO_ADVERTISE (RFC 1997): advertised to no peer.
    pub const NO_ADVERTISE: u32 = 0xFFFF_FF02;
    /// NO_EXPORT_SUBCONFED (RFC 1997): not advertised to eBGP peers, nor to
    /// other member ASes of a confederation (without confederations: NO_EXPORT).
    pub const NO_EXPORT_SUBCONFED: u32 = 0xFFFF_FF03;
    /// GRACEFUL_SHUTDOWN (RFC 8326): the path is about to go away; receivers set its LOCAL_PREF to 0.
    pub const GRACEFUL_SHUTDOWN: u32 = 0xFFFF_0000;
    /// NOPEER (RFC 3765): not advertised to bilateral peers.
    pub const NO_PEER: u32 = 0xFFFF_FF04;
    /// BLACKHOLE (RFC 7999): carried like any other community.
    pub const BLACKHOLE: u32 = 0xFFFF_029A;
}

/// The AS number that stands in for a 4-octet one on a 2-octet session (RFC 6793).
pub const AS_TRANS: u32 = 23456;

/// A set of attribute type codes (256 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TypeSet([u64; 4]);

impl TypeSet {
    /// The empty set.
    pub const EMPTY: TypeSet = TypeSet([0; 4]);

    /// Whether `t` is in the set.
    #[inline]
    pub fn contains(&self, t: u8) -> bool {
        let (w, b) = (usize::from(t >> 6), t & 63);
        self.0.get(w).is_some_and(|x| x & (1u64 << b) != 0)
    }

    /// Add `t`; returns whether it was new.
    #[inline]
    pub fn insert(&mut self, t: u8) -> bool {
        let (w, b) = (usize::from(t >> 6), t & 63);
        match self.0.get_mut(w) {
            Some(x) => {
                let new = *x & (1u64 << b) == 0;
                *x |= 1u64 << b;
                new
            }
            None => false,
        }
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0 == [0; 4]
    }
}

/// ORIGIN values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Origin {
    /// Learned by an interior protocol (0).
    Igp,
    /// Learned by EGP (1).
    Egp,
    /// Learned some other way (2).
    Incomplete,
}

impl Origin {
    /// From the attribute octet.
    pub const fn from_u8(v: u8) -> Option<Self> {
        match v {
            0 => Some(Origin::Igp),
            1 => Some(Origin::Egp),
            2 => Some(Origin::Incomplete),
            _ => None,
        }
    }

    /// The attribute octet.
    pub const fn to_u8(self) -> u8 {
        match self {
            Origin::Igp => 0,
            Origin::Egp => 1,
            Origin::Incomplete => 2,
        }
    }

    /// The letter routers print: i, e or ?.
    pub const fn as_str(self) -> &'static str {
        match self {
            Origin::Igp => "IGP",
            Origin::Egp => "EGP",
            Origin::Incomplete => "INCOMPLETE",
        }
    }
}

/// AS_PATH segment types (RFC 4271, RFC 5065).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SegmentType {
    /// AS_SET (1).
    Set,
    /// AS_SEQUENCE (2).
    Sequence,
    /// AS_CONFED_SEQUENCE (3).
    ConfedSequence,
    /// AS_CONFED_SET (4).
    ConfedSet,
}

impl SegmentType {
    /// From the segment type octet.
    pub const fn from_u8(v: u8) -> Option<Self> {
        match v {
            1 => Some(SegmentType::Set),
            2 => Some(SegmentType::Sequence),
            3 => Some(SegmentType::ConfedSequence),
            4 => Some(SegmentType::ConfedSet),
            _ => None,
        }
    }

    /// The segment type octet.
    pub const fn to_u8(self) -> u8 {
        match self {
            SegmentType::Set => 1,
            SegmentType::Sequence => 2,
            SegmentType::ConfedSequence => 3,
            SegmentType::ConfedSet => 4,
        }
    }

    /// How many hops a segment of `n` ASes counts for in the decision process
    /// (RFC 4271 §9.1.2.2: a set counts one; RFC 5065: confederation segments none).
    pub const fn hop_count(self, n: usize) -> usize {
        match self {
            SegmentType::Sequence => n,
            SegmentType::Set => 1,
            SegmentType::ConfedSequence | SegmentType::ConfedSet => 0,
        }
    }
}

/// A borrowed, validated AS_PATH or AS4_PATH.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AsPathView<'a> {
    bytes: &'a [u8],
    four_octet: bool,
}

/// One segment of an [`AsPathView`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SegmentView<'a> {
    /// Segment type.
    pub kind: SegmentType,
    asns: &'a [u8],
    width: usize,
}

impl<'a> SegmentView<'a> {
    /// Number of ASes in the segment.
    pub fn len(&self) -> usize {
        self.asns.len() / self.width
    }

    /// Whether the segment holds no AS (never true after validation).
    pub fn is_empty(&self) -> bool {
        self.asns.is_empty()
    }

    /// The ASes, in order.
    pub fn asns(&self) -> AsnIter<'a> {
        AsnIter {
            bytes: self.asns,
            four_octet: self.width == 4,
        }
    }
}

/// The AS numbers of one segment.
#[derive(Debug, Clone)]
pub struct AsnIter<'a> {
    bytes: &'a [u8],
    four_octet: bool,
}

impl Iterator for AsnIter<'_> {
    type Item = u32;

    #[inline]
    fn next(&mut self) -> Option<u32> {
        if self.four_octet {
            let (c, rest) = self.bytes.split_first_chunk::<4>()?;
            self.bytes = rest;
            Some(u32::from_be_bytes(*c))
        } else {
            let (c, rest) = self.bytes.split_first_chunk::<2>()?;
            self.bytes = rest;
            Some(u32::from(u16::from_be_bytes(*c)))
        }
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.bytes.len() / if self.four_octet { 4 } else { 2 };
        (n, Some(n))
    }
}

impl ExactSizeIterator for AsnIter<'_> {}

impl<'a> AsPathView<'a> {
    /// Validate an AS_PATH value (RFC 4271 §6.3, RFC 7606 §7.2): known segment
    /// types, non-empty segments, segments that exactly fill the value.
    pub fn new_checked(bytes: &'a [u8], four_octet: bool) -> Option<Self> {
        let width = if four_octet { 4 } else { 2 };
        let mut pos = 0usize;
        while pos < bytes.len() {
            let ty = *bytes.get(pos)?;
            let n = usize::from(*bytes.get(pos + 1)?);
            if SegmentType::from_u8(ty).is_none() || n == 0 {
                return None;
            }
            pos += 2 + n * width;
        }
        if pos != bytes.len() {
            return None;
        }
        Some(AsPathView { bytes, four_octet })
    }

    /// The raw value.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Whether ASNs are four octets wide.
    pub const fn four_octet(&self) -> bool {
        self.four_octet
    }

    /// The segments, in order.
    pub fn segments(&self) -> SegmentIter<'a> {
        SegmentIter {
            bytes: self.bytes,
            width: if self.four_octet { 4 } else { 2 },
        }
    }

    /// Every AS number in order, across segments.
    pub fn asns(&self) -> impl Iterator<Item = u32> + 'a {
        self.segments().flat_map(|s| s.asns())
    }

    /// Path length for the decision process.
    pub fn hop_count(&self) -> usize {
        self.segments().map(|s| s.kind.hop_count(s.len())).sum()
    }

    /// The first AS of the leading AS_SEQUENCE: the neighbouring AS.
    pub fn first_asn(&self) -> Option<u32> {
        let s = self.segments().next()?;
        if s.kind == SegmentType::Sequence {
            s.asns().next()
        } else {
            None
        }
    }
}

/// Iterator over the segments of an [`AsPathView`].
#[derive(Debug, Clone)]
pub struct SegmentIter<'a> {
    bytes: &'a [u8],
    width: usize,
}

impl<'a> Iterator for SegmentIter<'a> {
    type Item = SegmentView<'a>;

    fn next(&mut self) -> Option<SegmentView<'a>> {
        let (&ty, rest) = self.bytes.split_first()?;
        let (&n, rest) = rest.split_first()?;
        let kind = SegmentType::from_u8(ty)?;
        let len = usize::from(n) * self.width;
        if rest.len() < len {
            self.bytes = &[];
            return None;
        }
        let (asns, tail) = rest.split_at(len);
        self.bytes = tail;
        Some(SegmentView {
            kind,
            asns,
            width: self.width,
        })
    }
}

/// A borrowed MP_REACH_NLRI value (RFC 4760 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MpReach<'a> {
    /// The family.
    pub afi_safi: AfiSafi,
    /// The next hop field as sent (4, 16 or 32 bytes for IP families; RD-prefixed for VPN).
    pub next_hop: &'a [u8],
    /// The reserved octet (formerly the SNPA count); 0 in practice.
    pub reserved: u8,
    /// The NLRI bytes.
    pub nlri_bytes: &'a [u8],
    /// Whether the NLRI carry ADD-PATH identifiers.
    pub add_path: bool,
    /// Offset of the NLRI bytes in the message.
    pub nlri_offset: usize,
}

impl<'a> MpReach<'a> {
    /// The prefixes, for IPv4/IPv6 unicast and multicast; `None` for opaque families.
    pub fn prefixes(&self) -> Option<NlriIter<'a>> {
        if !self.afi_safi.is_ip() {
            return None;
        }
        NlriIter::new_checked(
            self.nlri_bytes,
            self.afi_safi.afi,
            self.add_path,
            self.nlri_offset,
            Action::AfiSafiDisable,
        )
        .ok()
    }
}

/// A borrowed MP_UNREACH_NLRI value (RFC 4760 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MpUnreach<'a> {
    /// The family.
    pub afi_safi: AfiSafi,
    /// The withdrawn NLRI bytes.
    pub nlri_bytes: &'a [u8],
    /// Whether the NLRI carry ADD-PATH identifiers.
    pub add_path: bool,
    /// Offset of the NLRI bytes in the message.
    pub nlri_offset: usize,
}

impl<'a> MpUnreach<'a> {
    /// The withdrawn prefixes, for IPv4/IPv6 unicast and multicast; `None` for opaque families.
    pub fn prefixes(&self) -> Option<NlriIter<'a>> {
        if !self.afi_safi.is_ip() {
            return None;
        }
        NlriIter::new_checked(
            self.nlri_bytes,
            self.afi_safi.afi,
            self.add_path,
            self.nlri_offset,
            Action::AfiSafiDisable,
        )
        .ok()
    }
}

/// A path attribute TLV as it stands in the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RawAttribute<'a> {
    /// Flags octet, exactly as received.
    pub flags: u8,
    /// Type code.
    pub type_code: u8,
    /// The value.
    pub value: &'a [u8],
    /// Offset of the flags octet in the enclosing message.
    pub offset: usize,
}

impl<'a> RawAttribute<'a> {
    /// Length of flags + type + length field.
    pub const fn header_len(&self) -> usize {
        if self.flags & flags::EXTENDED_LENGTH != 0 {
            4
        } else {
            3
        }
    }

    /// Total encoded length.
    pub const fn wire_len(&self) -> usize {
        self.header_len() + self.value.len()
    }

    /// Whether the optional bit is set.
    pub const fn is_optional(&self) -> bool {
        self.flags & flags::OPTIONAL != 0
    }

    /// Whether the transitive bit is set.
    pub const fn is_transitive(&self) -> bool {
        self.flags & flags::TRANSITIVE != 0
    }

    /// Decode the value into a typed attribute. Meant for attributes that passed
    /// [`validate`]; a value that does not fit its type comes back as `Unknown`.
    #[inline(always)]
    pub fn decode(&self, ctx: &Context) -> Attribute<'a> {
        decode_value(self, ctx).unwrap_or(Attribute::Unknown(*self))
    }
}

/// A typed, borrowed path attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Attribute<'a> {
    /// ORIGIN.
    Origin(Origin),
    /// AS_PATH.
    AsPath(AsPathView<'a>),
    /// NEXT_HOP.
    NextHop(Ipv4Addr),
    /// MULTI_EXIT_DISC.
    Med(u32),
    /// LOCAL_PREF.
    LocalPref(u32),
    /// ATOMIC_AGGREGATE.
    AtomicAggregate,
    /// AGGREGATOR (AS width per session).
    Aggregator {
        /// Aggregating AS.
        asn: u32,
        /// Aggregating router.
        address: Ipv4Addr,
    },
    /// COMMUNITIES: 4-byte values.
    Communities(&'a [u8]),
    /// ORIGINATOR_ID.
    OriginatorId(Ipv4Addr),
    /// CLUSTER_LIST: 4-byte cluster IDs.
    ClusterList(&'a [u8]),
    /// MP_REACH_NLRI.
    MpReach(MpReach<'a>),
    /// MP_UNREACH_NLRI.
    MpUnreach(MpUnreach<'a>),
    /// EXTENDED COMMUNITIES: 8-byte values.
    ExtendedCommunities(&'a [u8]),
    /// AS4_PATH.
    As4Path(AsPathView<'a>),
    /// AS4_AGGREGATOR.
    As4Aggregator {
        /// Aggregating AS.
        asn: u32,
        /// Aggregating router.
        address: Ipv4Addr,
    },
    /// LARGE_COMMUNITY: 12-byte values.
    LargeCommunities(&'a [u8]),
    /// Only to Customer.
    Otc(u32),
    /// Anything else, carried as is.
    Unknown(RawAttribute<'a>),
}

/// Iterate a slice of big-endian u32 values (communities, cluster IDs).
pub fn u32s(bytes: &[u8]) -> impl Iterator<Item = u32> + '_ {
    bytes
        .chunks_exact(4)
        .map(|c| c.iter().fold(0u32, |a, &b| (a << 8) | u32::from(b)))
}

#[inline]
fn be32(v: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(v.try_into().ok()?))
}

fn mp_reach<'a>(raw: &RawAttribute<'a>, ctx: &Context) -> Option<MpReach<'a>> {
    let mut r = Reader::new(raw.value, raw.offset + raw.header_len());
    let afi = Afi(r.u16().ok()?);
    let safi = Safi(r.u8().ok()?);
    let nhl = usize::from(r.u8().ok()?);
    let next_hop = r.take(nhl).ok()?;
    let reserved = r.u8().ok()?;
    let afi_safi = AfiSafi::new(afi, safi);
    Some(MpReach {
        afi_safi,
        next_hop,
        reserved,
        nlri_offset: r.offset(),
        nlri_bytes: r.rest(),
        add_path: ctx.add_path(afi_safi),
    })
}

fn mp_unreach<'a>(raw: &RawAttribute<'a>, ctx: &Context) -> Option<MpUnreach<'a>> {
    let mut r = Reader::new(raw.value, raw.offset + raw.header_len());
    let afi = Afi(r.u16().ok()?);
    let safi = Safi(r.u8().ok()?);
    let afi_safi = AfiSafi::new(afi, safi);
    Some(MpUnreach {
        afi_safi,
        nlri_offset: r.offset(),
        nlri_bytes: r.rest(),
        add_path: ctx.add_path(afi_safi),
    })
}

#[inline(always)]
fn decode_value<'a>(raw: &RawAttribute<'a>, ctx: &Context) -> Option<Attribute<'a>> {
    let v = raw.value;
    Some(match raw.type_code {
        type_code::ORIGIN => Attribute::Origin(Origin::from_u8(*v.first()?)?),
        type_code::AS_PATH => Attribute::AsPath(AsPathView {
            bytes: v,
            four_octet: ctx.four_octet_as,
        }),
        type_code::NEXT_HOP => Attribute::NextHop(Ipv4Addr::from_bits(be32(v)?)),
        type_code::MED => Attribute::Med(be32(v)?),
        type_code::LOCAL_PREF => Attribute::LocalPref(be32(v)?),
        type_code::ATOMIC_AGGREGATE => Attribute::AtomicAggregate,
        type_code::AGGREGATOR => {
            let (asn, addr) = match v.len() {
                6 => (
                    u32::from(u16::from_be_bytes(v.get(..2)?.try_into().ok()?)),
                    v.get(2..)?,
                ),
                8 => (be32(v.get(..4)?)?, v.get(4..)?),
                _ => return None,
            };
            Attribute::Aggregator {
                asn,
                address: Ipv4Addr::from_bits(be32(addr)?),
            }
        }
        type_code::COMMUNITIES => Attribute::Communities(v),
        type_code::ORIGINATOR_ID => Attribute::OriginatorId(Ipv4Addr::from_bits(be32(v)?)),
        type_code::CLUSTER_LIST => Attribute::ClusterList(v),
        type_code::MP_REACH_NLRI => Attribute::MpReach(mp_reach(raw, ctx)?),
        type_code::MP_UNREACH_NLRI => Attribute::MpUnreach(mp_unreach(raw, ctx)?),
        type_code::EXTENDED_COMMUNITIES => Attribute::ExtendedCommunities(v),
        type_code::AS4_PATH => Attribute::As4Path(AsPathView {
            bytes: v,
            four_octet: true,
        }),
        type_code::AS4_AGGREGATOR => Attribute::As4Aggregator {
            asn: be32(v.get(..4)?)?,
            address: Ipv4Addr::from_bits(be32(v.get(4..8)?)?),
        },
        type_code::LARGE_COMMUNITY => Attribute::LargeCommunities(v),
        type_code::OTC => Attribute::Otc(be32(v)?),
        _ => return None,
    })
}

/// An iterator over the TLVs of an attribute block whose framing was checked.
#[derive(Debug, Clone)]
pub struct AttrIter<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> AttrIter<'a> {
    /// Check the TLV framing of `block` (each header complete, each value within
    /// the block) and return an iterator. `base` is the block's offset in its
    /// message. Values are not checked; see [`validate`].
    pub fn new_checked(block: &'a [u8], base: usize) -> Result<Self> {
        let mut pos = 0usize;
        while pos < block.len() {
            pos = next_tlv_end(block, pos)
                .map_err(|at| malformed_list(base + at).with_action(Action::TreatAsWithdraw))?;
        }
        Ok(AttrIter::unchecked(block, base))
    }

    /// An iterator over a block whose framing is known to be good; a bad TLV ends iteration.
    pub(crate) const fn unchecked(block: &'a [u8], base: usize) -> Self {
        AttrIter {
            buf: block,
            pos: 0,
            base,
        }
    }

    /// The raw block.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }
}

/// The TLV starting at `pos`: flags, type code, value range. `None` if it breaks.
#[inline(always)]
pub(crate) fn tlv(block: &[u8], pos: usize) -> Option<(u8, u8, usize, usize)> {
    let (fl, t, start, len) = match *block.get(pos..)? {
        [fl, t, hi, lo, ..] if fl & flags::EXTENDED_LENGTH != 0 => {
            (fl, t, pos + 4, usize::from(u16::from_be_bytes([hi, lo])))
        }
        [fl, t, l, ..] if fl & flags::EXTENDED_LENGTH == 0 => (fl, t, pos + 3, usize::from(l)),
        _ => return None,
    };
    let end = start + len;
    if end > block.len() {
        return None;
    }
    Some((fl, t, start, end))
}

/// End of the TLV starting at `pos`, or the offset where it breaks.
#[inline]
fn next_tlv_end(block: &[u8], pos: usize) -> core::result::Result<usize, usize> {
    tlv(block, pos).map(|(_, _, _, end)| end).ok_or(pos)
}

impl<'a> Iterator for AttrIter<'a> {
    type Item = RawAttribute<'a>;

    #[inline]
    fn next(&mut self) -> Option<RawAttribute<'a>> {
        if self.pos >= self.buf.len() {
            return None;
        }
        let start = self.pos;
        let Some((fl, type_code, v, end)) = tlv(self.buf, start) else {
            self.pos = self.buf.len();
            return None;
        };
        self.pos = end;
        Some(RawAttribute {
            flags: fl,
            type_code,
            value: self.buf.get(v..end)?,
            offset: self.base + start,
        })
    }
}

#[cold]
fn malformed_list(offset: usize) -> Error {
    Error::new(
        ErrorKind::MalformedAttributeList,
        code::UPDATE_MESSAGE,
        subcode::MALFORMED_ATTRIBUTE_LIST,
        Action::SessionReset,
        offset,
    )
}

/// The expected Optional/Transitive bits of a known attribute, or `None` for unknown types.
pub const fn expected_flags(t: u8) -> Option<u8> {
    use type_code::*;
    Some(match t {
        ORIGIN | AS_PATH | NEXT_HOP | LOCAL_PREF | ATOMIC_AGGREGATE => flags::TRANSITIVE,
        MED | ORIGINATOR_ID | CLUSTER_LIST | MP_REACH_NLRI | MP_UNREACH_NLRI => flags::OPTIONAL,
        AGGREGATOR | COMMUNITIES | EXTENDED_COMMUNITIES | AS4_PATH | AS4_AGGREGATOR
        | LARGE_COMMUNITY | OTC => flags::OPTIONAL | flags::TRANSITIVE,
        _ => return None,
    })
}

/// What [`validate`] learned about an attribute block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    /// Types present (first occurrences).
    pub present: TypeSet,
    /// Types to drop under RFC 7606 attribute-discard.
    pub discard: TypeSet,
    /// Whether some occurrence was a duplicate (discarded per RFC 7606 §3 (g)).
    pub has_duplicates: bool,
    /// Offset (in the message) and length of the MP_REACH_NLRI TLV.
    pub mp_reach: Option<(usize, usize)>,
    /// Offset (in the message) and length of the MP_UNREACH_NLRI TLV.
    pub mp_unreach: Option<(usize, usize)>,
    /// The NEXT_HOP value and the offset of its attribute in the message.
    pub next_hop: Option<(u32, usize)>,
    /// The most severe non-fatal error (treat-as-withdraw or attribute-discard), if any.
    pub error: Option<Error>,
}

impl Summary {
    fn note(&mut self, e: Error) {
        match self.error {
            // A malformed NEXT_HOP is downgraded to attribute-discard when the
            // UPDATE has no classic NLRI (RFC 4760 §3, see `UpdatePacket`), so
            // at equal severity another attribute's error takes its place:
            // the downgrade must not hide it.
            Some(prev)
                if prev.action == e.action
                    && prev.attr_type == Some(type_code::NEXT_HOP)
                    && e.attr_type != Some(type_code::NEXT_HOP) =>
            {
                self.error = Some(e)
            }
            Some(prev) if prev.action.max(e.action) == prev.action => {}
            _ => self.error = Some(e),
        }
    }
}

#[cold]
fn attr_error(raw: &RawAttribute<'_>, kind: ErrorKind, sub: u8, action: Action) -> Error {
    Error::new(kind, code::UPDATE_MESSAGE, sub, action, raw.offset)
        .with_range(raw.offset, raw.offset + raw.wire_len())
        .with_attr(raw.type_code)
}

/// Validate an attribute block per RFC 4271 §6.3 and RFC 7606.
///
/// `block` sits at offset `base` of the message. Returns `Err` for errors that
/// reset the session or disable the AFI/SAFI; milder errors are recorded in
/// [`Summary::error`] (treat-as-withdraw) or [`Summary::discard`]
/// (attribute-discard). Mandatory-attribute checks need the NLRI and are done
/// by the UPDATE view.
#[inline(always)]
pub fn validate(block: &[u8], base: usize, ctx: &Context) -> Result<Summary> {
    let mut s = Summary::default();
    // Types below 64 (every type Reflector knows) are tracked in one word.
    let mut seen_lo = 0u64;
    let mut pos = 0usize;
    while pos < block.len() {
        let Some((fl, t, v, end)) = tlv(block, pos) else {
            // RFC 7606 §4: an attribute overrunning the block, or fewer than
            // three octets left: the NLRI field can still be located.
            s.note(malformed_list(base + pos).with_action(Action::TreatAsWithdraw));
            break;
        };
        let at = pos;
        pos = end;
        let value = block.get(v..end).unwrap_or(&[]);
        let raw = || RawAttribute {
            flags: fl,
            type_code: t,
            value,
            offset: base + at,
        };
        let first = if t < 64 {
            let bit = 1u64 << t;
            let new = seen_lo & bit == 0;
            seen_lo |= bit;
            new
        } else {
            s.present.insert(t)
        };
        if !first {
            if t == type_code::MP_REACH_NLRI || t == type_code::MP_UNREACH_NLRI {
                // RFC 7606 §3 (g): a second MP attribute resets the session.
                return Err(attr_error(
                    &raw(),
                    ErrorKind::DuplicateMpAttribute,
                    subcode::MALFORMED_ATTRIBUTE_LIST,
                    Action::SessionReset,
                ));
            }
            // RFC 7606 §3 (g): later occurrences are discarded.
            s.has_duplicates = true;
            continue;
        }
        if t == type_code::NEXT_HOP {
            if let Some(&nh) = value.first_chunk::<4>() {
                s.next_hop = Some((u32::from_be_bytes(nh), base + at));
            }
        }
        if !quick_ok(fl, t, value, ctx) {
            check_one(&raw(), ctx, &mut s)?;
        }
    }
    s.present.0[0] |= seen_lo;
    Ok(s)
}

/// Whether an AS_PATH value is well formed (the hot-path twin of [`AsPathView::new_checked`]).
#[inline(always)]
fn as_path_ok(v: &[u8], four_octet: bool) -> bool {
    let shift = if four_octet { 2 } else { 1 };
    let mut rest = v;
    while let [ty, n, tail @ ..] = rest {
        let len = usize::from(*n) << shift;
        if !(1..=4).contains(ty) || *n == 0 || tail.len() < len {
            return false;
        }
        rest = tail.get(len..).unwrap_or(&[]);
    }
    true
}

/// The common case of [`check_one`]: a well-formed attribute that needs no
/// bookkeeping. `false` sends the attribute through the full check, which
/// records MP attributes and works out the exact error.
#[inline(always)]
fn quick_ok(fl: u8, t: u8, v: &[u8], ctx: &Context) -> bool {
    use type_code::*;
    const WK: u8 = flags::TRANSITIVE;
    const ON: u8 = flags::OPTIONAL;
    const OT: u8 = flags::OPTIONAL | flags::TRANSITIVE;
    let f = fl & OT;
    let n = v.len();
    match t {
        ORIGIN => f == WK && matches!(v, [0..=2]),
        AS_PATH => f == WK && as_path_ok(v, ctx.four_octet_as),
        NEXT_HOP => f == WK && n == 4,
        MED | ORIGINATOR_ID => f == ON && n == 4,
        LOCAL_PREF => f == WK && n == 4,
        ATOMIC_AGGREGATE => f == WK && n == 0,
        AGGREGATOR => f == OT && n == if ctx.four_octet_as { 8 } else { 6 },
        COMMUNITIES => f == OT && n != 0 && n % 4 == 0,
        CLUSTER_LIST => f == ON && n != 0 && n % 4 == 0,
        EXTENDED_COMMUNITIES => f == OT && n != 0 && n % 8 == 0,
        LARGE_COMMUNITY => f == OT && n != 0 && n % 12 == 0,
        AS4_PATH => f == OT && as_path_ok(v, true),
        AS4_AGGREGATOR => f == OT && n == 8,
        OTC => f == OT && n == 4,
        MP_REACH_NLRI | MP_UNREACH_NLRI => false,
        _ => expected_flags(t).is_none() && fl & flags::OPTIONAL != 0,
    }
}

#[cold]
#[inline(never)]
fn check_one(raw: &RawAttribute<'_>, ctx: &Context, s: &mut Summary) -> Result<()> {
    use type_code::*;
    let t = raw.type_code;
    let v = raw.value;
    let Some(want) = expected_flags(t) else {
        if !raw.is_optional() {
            // RFC 4271 §6.3: an unrecognised well-known attribute.
            return Err(attr_error(
                raw,
                ErrorKind::AttributeFlags,
                subcode::UNRECOGNIZED_WELL_KNOWN,
                Action::SessionReset,
            ));
        }
        return Ok(());
    };
    let twa = Action::TreatAsWithdraw;
    let discard = Action::AttributeDiscard;
    // RFC 7606 §3 (c): Optional/Transitive bits in conflict → treat-as-withdraw,
    // except where the attribute's own rules say discard.
    if raw.flags & (flags::OPTIONAL | flags::TRANSITIVE) != want {
        let action = match t {
            ATOMIC_AGGREGATE | AGGREGATOR | AS4_PATH | AS4_AGGREGATOR => discard,
            MP_REACH_NLRI | MP_UNREACH_NLRI => Action::SessionReset,
            _ => twa,
        };
        let e = attr_error(
            raw,
            ErrorKind::AttributeFlags,
            subcode::ATTRIBUTE_FLAGS,
            action,
        );
        return record(e, t, s);
    }
    let len_err = |action| {
        attr_error(
            raw,
            ErrorKind::AttributeLength,
            subcode::ATTRIBUTE_LENGTH,
            action,
        )
    };
    let e = match t {
        // RFC 7606 §7.1
        ORIGIN => {
            if v.len() != 1 {
                Some(len_err(twa))
            } else if v.first().and_then(|&o| Origin::from_u8(o)).is_none() {
                Some(attr_error(
                    raw,
                    ErrorKind::InvalidOrigin,
                    subcode::INVALID_ORIGIN,
                    twa,
                ))
            } else {
                None
            }
        }
        // RFC 7606 §7.2
        AS_PATH => AsPathView::new_checked(v, ctx.four_octet_as)
            .is_none()
            .then(|| {
                attr_error(
                    raw,
                    ErrorKind::MalformedAsPath,
                    subcode::MALFORMED_AS_PATH,
                    twa,
                )
            }),
        // RFC 7606 §7.3. The semantic check (0.0.0.0, class D/E) needs to know
        // whether the UPDATE has classic NLRI: the UPDATE view does it.
        NEXT_HOP => (v.len() != 4).then(|| len_err(twa)),
        // RFC 7606 §7.4, §7.5, §7.9; RFC 9234 §5
        MED | LOCAL_PREF | ORIGINATOR_ID | OTC => (v.len() != 4).then(|| len_err(twa)),
        // RFC 7606 §7.6
        ATOMIC_AGGREGATE => (!v.is_empty()).then(|| len_err(discard)),
        // RFC 7606 §7.7
        AGGREGATOR => {
            let want = if ctx.four_octet_as { 8 } else { 6 };
            (v.len() != want).then(|| len_err(discard))
        }
        // RFC 7606 §7.8, §7.10, §7.14; RFC 8092 §6
        COMMUNITIES | CLUSTER_LIST => (v.is_empty() || v.len() % 4 != 0).then(|| len_err(twa)),
        EXTENDED_COMMUNITIES => (v.is_empty() || v.len() % 8 != 0).then(|| len_err(twa)),
        LARGE_COMMUNITY => (v.is_empty() || v.len() % 12 != 0).then(|| len_err(twa)),
        // RFC 6793 §6: malformed AS4 attributes are discarded.
        AS4_PATH => AsPathView::new_checked(v, true).is_none().then(|| {
            attr_error(
                raw,
                ErrorKind::MalformedAsPath,
                subcode::MALFORMED_AS_PATH,
                discard,
            )
        }),
        AS4_AGGREGATOR => (v.len() != 8).then(|| len_err(discard)),
        // RFC 7606 §7.11, RFC 4760 §7
        MP_REACH_NLRI => {
            check_mp_reach(raw, ctx)?;
            s.mp_reach = Some((raw.offset, raw.wire_len()));
            None
        }
        MP_UNREACH_NLRI => {
            check_mp_unreach(raw, ctx)?;
            s.mp_unreach = Some((raw.offset, raw.wire_len()));
            None
        }
        _ => None,
    };
    match e {
        Some(e) => record(e, t, s),
        None => Ok(()),
    }
}

fn record(e: Error, t: u8, s: &mut Summary) -> Result<()> {
    match e.action {
        Action::SessionReset | Action::AfiSafiDisable => Err(e),
        Action::AttributeDiscard => {
            s.discard.insert(t);
            s.note(e);
            Ok(())
        }
        Action::TreatAsWithdraw => {
            s.note(e);
            Ok(())
        }
    }
}

fn mp_error(raw: &RawAttribute<'_>, family_known: bool) -> Error {
    let action = if family_known {
        Action::AfiSafiDisable
    } else {
        Action::SessionReset
    };
    attr_error(
        raw,
        ErrorKind::MalformedMpNlri,
        subcode::OPTIONAL_ATTRIBUTE,
        action,
    )
}

fn check_mp_reach(raw: &RawAttribute<'_>, ctx: &Context) -> Result<()> {
    let Some(mp) = mp_reach(raw, ctx) else {
        // RFC 7606 §7.11: AFI/SAFI or next-hop length cannot be read.
        let known = raw.value.len() >= 3;
        return Err(mp_error(raw, known));
    };
    if super::family::NlriFormat::of(mp.afi_safi).is_none() {
        return Ok(());
    }
    // RFC 8950: IPv6 next hop for IPv4 NLRI; VPN next hops carry an RD.
    if !super::family::next_hop_ok(mp.afi_safi, mp.next_hop.len()) {
        return Err(mp_error(raw, true));
    }
    if let Some(r) = super::family::check_nlri(
        mp.afi_safi,
        mp.nlri_bytes,
        mp.add_path,
        false,
        mp.nlri_offset,
        Action::AfiSafiDisable,
    ) {
        r.map_err(|e| e.with_attr(type_code::MP_REACH_NLRI))?;
    }
    Ok(())
}

fn check_mp_unreach(raw: &RawAttribute<'_>, ctx: &Context) -> Result<()> {
    let Some(mp) = mp_unreach(raw, ctx) else {
        return Err(mp_error(raw, false));
    };
    if let Some(r) = super::family::check_nlri(
        mp.afi_safi,
        mp.nlri_bytes,
        mp.add_path,
        true,
        mp.nlri_offset,
        Action::AfiSafiDisable,
    ) {
        r.map_err(|e| e.with_attr(type_code::MP_UNREACH_NLRI))?;
    }
    Ok(())
}

/// The error for a missing well-known mandatory attribute (RFC 7606 §3 (d): treat-as-withdraw).
pub fn missing(t: u8, offset: usize) -> Error {
    Error::new(
        ErrorKind::MissingWellKnown,
        code::UPDATE_MESSAGE,
        subcode::MISSING_WELL_KNOWN,
        Action::TreatAsWithdraw,
        offset,
    )
    .with_data(NotifyData::Inline {
        bytes: [t, 0, 0, 0, 0, 0, 0, 0],
        len: 1,
    })
    .with_attr(t)
}

/// Write an attribute header (flags, type, length) choosing the length width.
///
/// The extended-length bit is kept as given when the value fits in one octet
/// (so received attributes re-encode byte for byte) and forced when it does not.
pub fn emit_header(w: &mut Writer<'_>, fl: u8, t: u8, len: usize) -> Result<()> {
    let len16 = u16::try_from(len).map_err(|_| Error::overflow(w.len()))?;
    if fl & flags::EXTENDED_LENGTH != 0 || len > 255 {
        w.u8(fl | flags::EXTENDED_LENGTH)?;
        w.u8(t)?;
        w.u16(len16)
    } else {
        w.u8(fl)?;
        w.u8(t)?;
        w.u8(len16 as u8)
    }
}

/// Encoded length of an attribute with flags `fl` and a value of `len` bytes.
pub const fn wire_len(fl: u8, len: usize) -> usize {
    if fl & flags::EXTENDED_LENGTH != 0 || len > 255 {
        4 + len
    } else {
        3 + len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(fl: u8, t: u8, v: &[u8]) -> std::vec::Vec<u8> {
        let mut out = std::vec![fl, t, v.len() as u8];
        out.extend_from_slice(v);
        out
    }

    fn check(block: &[u8]) -> Result<Summary> {
        validate(block, 0, &Context::MODERN)
    }

    #[test]
    fn rfc7606_7_1_origin_invalid_value_is_treat_as_withdraw() {
        let s = check(&attr(0x40, 1, &[3])).unwrap();
        let e = s.error.unwrap();
        assert_eq!(
            (e.code, e.subcode, e.action),
            (3, 6, Action::TreatAsWithdraw)
        );
    }

    #[test]
    fn rfc7606_7_1_origin_bad_length_is_treat_as_withdraw() {
        let e = check(&attr(0x40, 1, &[0, 0])).unwrap().error.unwrap();
        assert_eq!((e.subcode, e.action), (5, Action::TreatAsWithdraw));
        assert_eq!(e.data.resolve(&attr(0x40, 1, &[0, 0])), &[0x40, 1, 2, 0, 0]);
    }

    #[test]
    fn rfc7606_7_2_as_path_zero_length_segment() {
        let e = check(&attr(0x40, 2, &[2, 0])).unwrap().error.unwrap();
        assert_eq!((e.subcode, e.action), (11, Action::TreatAsWithdraw));
        let e = check(&attr(0x40, 2, &[7, 1, 0, 0, 0, 1]))
            .unwrap()
            .error
            .unwrap();
        assert_eq!(e.kind, ErrorKind::MalformedAsPath);
        let e = check(&attr(0x40, 2, &[2, 2, 0, 0, 0, 1]))
            .unwrap()
            .error
            .unwrap();
        assert_eq!(e.kind, ErrorKind::MalformedAsPath);
    }

    #[test]
    fn rfc7606_7_3_next_hop_length() {
        let e = check(&attr(0x40, 3, &[10, 0, 0])).unwrap().error.unwrap();
        assert_eq!((e.subcode, e.action), (5, Action::TreatAsWithdraw));
        let s = check(&attr(0x40, 3, &[10, 0, 0, 1])).unwrap();
        assert!(s.error.is_none());
        assert_eq!(s.next_hop, Some((0x0a00_0001, 0)));
    }

    #[test]
    fn rfc7606_7_4_7_5_med_and_local_pref_length() {
        for t in [4u8, 5] {
            let fl = if t == 4 { 0x80 } else { 0x40 };
            let e = check(&attr(fl, t, &[0, 0, 1])).unwrap().error.unwrap();
            assert_eq!(
                (e.subcode, e.action),
                (5, Action::TreatAsWithdraw),
                "type {t}"
            );
        }
    }

    #[test]
    fn rfc7606_7_6_atomic_aggregate_with_value_is_discarded() {
        let s = check(&attr(0x40, 6, &[1])).unwrap();
        assert!(s.discard.contains(6));
        assert_eq!(s.error.unwrap().action, Action::AttributeDiscard);
    }

    #[test]
    fn rfc7606_7_7_aggregator_bad_length_is_discarded() {
        let s = check(&attr(0xc0, 7, &[0, 1, 10, 0, 0, 1])).unwrap();
        assert!(s.discard.contains(7));
        let s = validate(&attr(0xc0, 7, &[0, 1, 10, 0, 0, 1]), 0, &Context::LEGACY).unwrap();
        assert!(s.error.is_none());
    }

    #[test]
    fn rfc7606_7_8_communities_length_not_multiple_of_four() {
        let e = check(&attr(0xc0, 8, &[0, 1, 0])).unwrap().error.unwrap();
        assert_eq!((e.subcode, e.action), (5, Action::TreatAsWithdraw));
    }

    #[test]
    fn rfc7606_7_9_7_10_originator_and_cluster_list_lengths() {
        let e = check(&attr(0x80, 9, &[1, 2, 3])).unwrap().error.unwrap();
        assert_eq!(e.action, Action::TreatAsWithdraw);
        let e = check(&attr(0x80, 10, &[1, 2, 3, 4, 5]))
            .unwrap()
            .error
            .unwrap();
        assert_eq!(e.action, Action::TreatAsWithdraw);
    }

    #[test]
    fn rfc7606_7_14_extended_communities_length() {
        let e = check(&attr(0xc0, 16, &[0; 7])).unwrap().error.unwrap();
        assert_eq!(e.action, Action::TreatAsWithdraw);
    }

    #[test]
    fn rfc8092_6_large_community_length() {
        let e = check(&attr(0xc0, 32, &[0; 11])).unwrap().error.unwrap();
        assert_eq!(e.action, Action::TreatAsWithdraw);
        assert!(check(&attr(0xc0, 32, &[0; 24])).unwrap().error.is_none());
    }

    #[test]
    fn rfc6793_6_malformed_as4_path_is_discarded() {
        let s = check(&attr(0xc0, 17, &[2, 1, 0, 0])).unwrap();
        assert!(s.discard.contains(17));
    }

    #[test]
    fn rfc7606_3_c_flags_conflict_is_treat_as_withdraw() {
        // ORIGIN marked optional.
        let e = check(&attr(0xc0, 1, &[0])).unwrap().error.unwrap();
        assert_eq!((e.subcode, e.action), (4, Action::TreatAsWithdraw));
        // Partial and extended-length bits do not count as conflicts.
        assert!(check(&attr(0x60, 1, &[0])).unwrap().error.is_none());
    }

    #[test]
    fn rfc7606_3_g_duplicate_attribute_keeps_first() {
        let mut b = attr(0x40, 1, &[0]);
        b.extend(attr(0x40, 1, &[9]));
        let s = check(&b).unwrap();
        assert!(s.has_duplicates);
        assert!(
            s.error.is_none(),
            "the second, invalid ORIGIN is never examined"
        );
    }

    #[test]
    fn rfc7606_3_g_duplicate_mp_reach_resets_session() {
        let mp = [
            0, 2, 1, 16, 0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0,
        ];
        let mut b = attr(0x80, 14, &mp);
        b.extend(attr(0x80, 14, &mp));
        let e = check(&b).unwrap_err();
        assert_eq!((e.code, e.subcode, e.action), (3, 1, Action::SessionReset));
    }

    #[test]
    fn rfc7606_7_11_mp_reach_bad_next_hop_length_disables_family() {
        let mp = [0, 2, 1, 4, 10, 0, 0, 1, 0];
        let e = check(&attr(0x80, 14, &mp)).unwrap_err();
        assert_eq!(e.action, Action::AfiSafiDisable);
        let e = check(&attr(0x80, 14, &[0, 2])).unwrap_err();
        assert_eq!(e.action, Action::SessionReset);
    }

    #[test]
    fn rfc7606_7_11_mp_reach_bad_prefix_disables_family() {
        let mp = [0, 1, 1, 4, 10, 0, 0, 1, 0, 33, 1, 2, 3, 4, 5];
        let e = check(&attr(0x80, 14, &mp)).unwrap_err();
        assert_eq!((e.subcode, e.action), (10, Action::AfiSafiDisable));
    }

    #[test]
    fn rfc7606_4_attribute_overrunning_block_is_treat_as_withdraw() {
        let mut b = attr(0x40, 1, &[0]);
        b.extend([0x40, 2, 9, 2, 1]);
        let e = check(&b).unwrap().error.unwrap();
        assert_eq!((e.subcode, e.action), (1, Action::TreatAsWithdraw));
    }

    #[test]
    fn rfc4271_6_3_unrecognized_well_known_resets_session() {
        let e = check(&attr(0x40, 99, &[1])).unwrap_err();
        assert_eq!((e.code, e.subcode), (3, 2));
        // Unknown optional attributes pass.
        assert!(check(&attr(0xc0, 99, &[1])).unwrap().error.is_none());
    }

    #[test]
    fn as_path_view_hop_count_and_neighbour() {
        // SEQUENCE [65001 65002], SET {1 2 3}, CONFED_SEQUENCE [7]
        let v = [
            2, 2, 0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea, 1, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 3,
            1, 0, 0, 0, 7,
        ];
        let p = AsPathView::new_checked(&v, true).unwrap();
        assert_eq!(p.hop_count(), 3);
        assert_eq!(p.first_asn(), Some(65001));
        assert_eq!(p.asns().count(), 6);
    }
}

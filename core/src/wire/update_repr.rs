//! Owned UPDATE and path attribute representations (feature `alloc`).
//!
//! `UpdateRepr::parse(view)` then `emit` reproduces a well-formed message byte
//! for byte: attribute order and flags (extended-length bit included) are kept.

use alloc::vec::Vec;
use core::net::Ipv4Addr;

use super::attribute::{
    self, flags, type_code, AsPathView, Attribute, RawAttribute, SegmentType, AS_TRANS,
};
use super::update::UpdatePacket;
use super::{AfiSafi, Context, Header, MessageType, Nlri, Writer, HEADER_LEN};
use crate::error::{Error, Result};

/// One AS_PATH segment.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Segment {
    /// Segment type.
    pub kind: SegmentType,
    /// The ASes, in order.
    pub asns: Vec<u32>,
}

/// An owned AS_PATH (or AS4_PATH).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AsPath {
    /// The segments, in order.
    pub segments: Vec<Segment>,
}

impl AsPath {
    /// A path of one AS_SEQUENCE.
    pub fn sequence(asns: &[u32]) -> Self {
        if asns.is_empty() {
            return AsPath::default();
        }
        AsPath {
            segments: alloc::vec![Segment {
                kind: SegmentType::Sequence,
                asns: asns.to_vec(),
            }],
        }
    }

    /// From a validated view.
    pub fn from_view(v: &AsPathView<'_>) -> Self {
        AsPath {
            segments: v
                .segments()
                .map(|s| Segment {
                    kind: s.kind,
                    asns: s.asns().collect(),
                })
                .collect(),
        }
    }

    /// Path length for the decision process (sets count 1, confederation segments 0).
    pub fn hop_count(&self) -> usize {
        self.segments
            .iter()
            .map(|s| s.kind.hop_count(s.asns.len()))
            .sum()
    }

    /// Prepend `asn` to the leading AS_SEQUENCE (RFC 4271 §5.1.2), starting a new
    /// segment when the first is not a sequence or is full.
    pub fn prepend(&mut self, asn: u32) {
        match self.segments.first_mut() {
            Some(s) if s.kind == SegmentType::Sequence && s.asns.len() < 255 => {
                s.asns.insert(0, asn)
            }
            _ => self.segments.insert(
                0,
                Segment {
                    kind: SegmentType::Sequence,
                    asns: alloc::vec![asn],
                },
            ),
        }
    }

    /// Whether any AS of the path equals `asn`.
    pub fn contains(&self, asn: u32) -> bool {
        self.segments.iter().any(|s| s.asns.contains(&asn))
    }

    /// Whether some AS does not fit in two octets.
    pub fn needs_four_octets(&self) -> bool {
        self.segments
            .iter()
            .any(|s| s.asns.iter().any(|&a| a > 0xffff))
    }

    /// Encoded value length with 2- or 4-octet ASNs.
    pub fn value_len(&self, four_octet: bool) -> usize {
        let w = if four_octet { 4 } else { 2 };
        self.segments.iter().map(|s| 2 + w * s.asns.len()).sum()
    }

    /// Encode the value; with 2-octet ASNs, larger ones become AS_TRANS (RFC 6793 §4.2.2).
    pub fn emit_value(&self, w: &mut Writer<'_>, four_octet: bool) -> Result<()> {
        for s in &self.segments {
            let n = u8::try_from(s.asns.len()).map_err(|_| Error::overflow(w.len()))?;
            w.u8(s.kind.to_u8())?;
            w.u8(n)?;
            for &a in &s.asns {
                if four_octet {
                    w.u32(a)?;
                } else {
                    w.u16(u16::try_from(a).unwrap_or(AS_TRANS as u16))?;
                }
            }
        }
        Ok(())
    }

    /// RFC 6793 §4.2.3: rebuild the true path from a 2-octet AS_PATH and an AS4_PATH.
    ///
    /// When the AS4_PATH is longer than the AS_PATH it is ignored; otherwise the
    /// leading ASes of the AS_PATH that the AS4_PATH does not cover are kept and
    /// the AS4_PATH follows them.
    pub fn merge_as4(&self, as4: &AsPath) -> AsPath {
        let n2 = self.hop_count();
        let n4 = as4.hop_count();
        if n4 > n2 {
            return self.clone();
        }
        let mut keep = n2 - n4;
        let mut out = AsPath::default();
        for s in &self.segments {
            if keep == 0 {
                break;
            }
            match s.kind {
                SegmentType::Sequence => {
                    let take = keep.min(s.asns.len());
                    out.segments.push(Segment {
                        kind: s.kind,
                        asns: s.asns.iter().take(take).copied().collect(),
                    });
                    keep -= take;
                }
                SegmentType::Set => {
                    out.segments.push(s.clone());
                    keep -= 1;
                }
                _ => out.segments.push(s.clone()),
            }
        }
        for seg in &as4.segments {
            match out.segments.last_mut() {
                Some(last)
                    if last.kind == SegmentType::Sequence
                        && seg.kind == SegmentType::Sequence
                        && last.asns.len() + seg.asns.len() <= 255 =>
                {
                    last.asns.extend_from_slice(&seg.asns)
                }
                _ => out.segments.push(seg.clone()),
            }
        }
        out
    }
}

/// AGGREGATOR / AS4_AGGREGATOR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Aggregator {
    /// Aggregating AS.
    pub asn: u32,
    /// Aggregating router.
    pub address: Ipv4Addr,
}

/// A large community (RFC 8092).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LargeCommunity {
    /// Global administrator.
    pub global: u32,
    /// First local data part.
    pub local1: u32,
    /// Second local data part.
    pub local2: u32,
}

/// The NLRI of an MP attribute.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MpNlri {
    /// IPv4/IPv6 unicast or multicast prefixes.
    Prefixes(Vec<Nlri>),
    /// Any other family, carried as is.
    Opaque(Vec<u8>),
}

impl MpNlri {
    fn len(&self) -> usize {
        match self {
            MpNlri::Prefixes(v) => v.iter().map(Nlri::wire_len).sum(),
            MpNlri::Opaque(b) => b.len(),
        }
    }

    fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        match self {
            MpNlri::Prefixes(v) => v.iter().try_for_each(|n| n.emit(w)),
            MpNlri::Opaque(b) => w.put(b),
        }
    }

    fn from_parts(afi_safi: AfiSafi, prefixes: Option<super::NlriIter<'_>>, raw: &[u8]) -> Self {
        match prefixes {
            Some(it) if afi_safi.is_ip() => MpNlri::Prefixes(it.collect()),
            _ => MpNlri::Opaque(raw.to_vec()),
        }
    }
}

/// MP_REACH_NLRI, owned.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MpReachRepr {
    /// The family.
    pub afi_safi: AfiSafi,
    /// The next hop field.
    pub next_hop: Vec<u8>,
    /// The reserved octet.
    pub reserved: u8,
    /// The NLRI.
    pub nlri: MpNlri,
}

/// MP_UNREACH_NLRI, owned.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MpUnreachRepr {
    /// The family.
    pub afi_safi: AfiSafi,
    /// The withdrawn NLRI.
    pub nlri: MpNlri,
}

/// The meaning of a path attribute.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AttributeValue {
    /// ORIGIN.
    Origin(attribute::Origin),
    /// AS_PATH.
    AsPath(AsPath),
    /// NEXT_HOP.
    NextHop(Ipv4Addr),
    /// MULTI_EXIT_DISC.
    Med(u32),
    /// LOCAL_PREF.
    LocalPref(u32),
    /// ATOMIC_AGGREGATE.
    AtomicAggregate,
    /// AGGREGATOR.
    Aggregator(Aggregator),
    /// COMMUNITIES.
    Communities(Vec<u32>),
    /// ORIGINATOR_ID.
    OriginatorId(Ipv4Addr),
    /// CLUSTER_LIST.
    ClusterList(Vec<u32>),
    /// MP_REACH_NLRI.
    MpReach(MpReachRepr),
    /// MP_UNREACH_NLRI.
    MpUnreach(MpUnreachRepr),
    /// EXTENDED COMMUNITIES.
    ExtendedCommunities(Vec<[u8; 8]>),
    /// AS4_PATH.
    As4Path(AsPath),
    /// AS4_AGGREGATOR.
    As4Aggregator(Aggregator),
    /// LARGE_COMMUNITY.
    LargeCommunities(Vec<LargeCommunity>),
    /// Only to Customer.
    Otc(u32),
    /// An attribute Reflector does not interpret, carried as is.
    Unknown {
        /// Type code.
        type_code: u8,
        /// Value bytes.
        value: Vec<u8>,
    },
}

impl AttributeValue {
    /// The type code.
    pub fn type_code(&self) -> u8 {
        use type_code::*;
        match self {
            AttributeValue::Origin(_) => ORIGIN,
            AttributeValue::AsPath(_) => AS_PATH,
            AttributeValue::NextHop(_) => NEXT_HOP,
            AttributeValue::Med(_) => MED,
            AttributeValue::LocalPref(_) => LOCAL_PREF,
            AttributeValue::AtomicAggregate => ATOMIC_AGGREGATE,
            AttributeValue::Aggregator(_) => AGGREGATOR,
            AttributeValue::Communities(_) => COMMUNITIES,
            AttributeValue::OriginatorId(_) => ORIGINATOR_ID,
            AttributeValue::ClusterList(_) => CLUSTER_LIST,
            AttributeValue::MpReach(_) => MP_REACH_NLRI,
            AttributeValue::MpUnreach(_) => MP_UNREACH_NLRI,
            AttributeValue::ExtendedCommunities(_) => EXTENDED_COMMUNITIES,
            AttributeValue::As4Path(_) => AS4_PATH,
            AttributeValue::As4Aggregator(_) => AS4_AGGREGATOR,
            AttributeValue::LargeCommunities(_) => LARGE_COMMUNITY,
            AttributeValue::Otc(_) => OTC,
            AttributeValue::Unknown { type_code, .. } => *type_code,
        }
    }

    /// The standard flags for this attribute (Partial and Extended Length clear).
    pub fn default_flags(&self) -> u8 {
        attribute::expected_flags(self.type_code()).unwrap_or(flags::OPTIONAL | flags::TRANSITIVE)
    }

    /// Encoded value length.
    pub fn value_len(&self, ctx: &Context) -> usize {
        match self {
            AttributeValue::Origin(_) => 1,
            AttributeValue::AsPath(p) => p.value_len(ctx.four_octet_as),
            AttributeValue::As4Path(p) => p.value_len(true),
            AttributeValue::NextHop(_)
            | AttributeValue::Med(_)
            | AttributeValue::LocalPref(_)
            | AttributeValue::OriginatorId(_)
            | AttributeValue::Otc(_) => 4,
            AttributeValue::AtomicAggregate => 0,
            AttributeValue::Aggregator(_) => {
                if ctx.four_octet_as {
                    8
                } else {
                    6
                }
            }
            AttributeValue::As4Aggregator(_) => 8,
            AttributeValue::Communities(v) | AttributeValue::ClusterList(v) => 4 * v.len(),
            AttributeValue::ExtendedCommunities(v) => 8 * v.len(),
            AttributeValue::LargeCommunities(v) => 12 * v.len(),
            AttributeValue::MpReach(m) => 5 + m.next_hop.len() + m.nlri.len(),
            AttributeValue::MpUnreach(m) => 3 + m.nlri.len(),
            AttributeValue::Unknown { value, .. } => value.len(),
        }
    }

    /// Encode the value.
    pub fn emit_value(&self, w: &mut Writer<'_>, ctx: &Context) -> Result<()> {
        match self {
            AttributeValue::Origin(o) => w.u8(o.to_u8()),
            AttributeValue::AsPath(p) => p.emit_value(w, ctx.four_octet_as),
            AttributeValue::As4Path(p) => p.emit_value(w, true),
            AttributeValue::NextHop(a) | AttributeValue::OriginatorId(a) => w.put(&a.octets()),
            AttributeValue::Med(v) | AttributeValue::LocalPref(v) | AttributeValue::Otc(v) => {
                w.u32(*v)
            }
            AttributeValue::AtomicAggregate => Ok(()),
            AttributeValue::Aggregator(a) => {
                if ctx.four_octet_as {
                    w.u32(a.asn)?;
                } else {
                    w.u16(u16::try_from(a.asn).unwrap_or(AS_TRANS as u16))?;
                }
                w.put(&a.address.octets())
            }
            AttributeValue::As4Aggregator(a) => {
                w.u32(a.asn)?;
                w.put(&a.address.octets())
            }
            AttributeValue::Communities(v) | AttributeValue::ClusterList(v) => {
                v.iter().try_for_each(|&x| w.u32(x))
            }
            AttributeValue::ExtendedCommunities(v) => v.iter().try_for_each(|x| w.put(x)),
            AttributeValue::LargeCommunities(v) => v.iter().try_for_each(|c| {
                w.u32(c.global)?;
                w.u32(c.local1)?;
                w.u32(c.local2)
            }),
            AttributeValue::MpReach(m) => {
                w.u16(m.afi_safi.afi.0)?;
                w.u8(m.afi_safi.safi.0)?;
                let nhl = u8::try_from(m.next_hop.len()).map_err(|_| Error::overflow(w.len()))?;
                w.u8(nhl)?;
                w.put(&m.next_hop)?;
                w.u8(m.reserved)?;
                m.nlri.emit(w)
            }
            AttributeValue::MpUnreach(m) => {
                w.u16(m.afi_safi.afi.0)?;
                w.u8(m.afi_safi.safi.0)?;
                m.nlri.emit(w)
            }
            AttributeValue::Unknown { value, .. } => w.put(value),
        }
    }
}

/// A path attribute: flags as received (or standard ones) and its value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttributeRepr {
    /// Flags octet.
    pub flags: u8,
    /// The value.
    pub value: AttributeValue,
}

impl AttributeRepr {
    /// An attribute with its standard flags.
    pub fn new(value: AttributeValue) -> Self {
        AttributeRepr {
            flags: value.default_flags(),
            value,
        }
    }

    /// From a raw TLV that passed validation.
    pub fn parse(raw: &RawAttribute<'_>, ctx: &Context) -> Self {
        let s = |b: &[u8]| attribute::u32s(b).collect::<Vec<_>>();
        let decoded = match raw.decode(ctx) {
            // `decode` does not re-check AS paths; a malformed one is carried raw.
            Attribute::AsPath(p) | Attribute::As4Path(p)
                if AsPathView::new_checked(p.as_bytes(), p.four_octet()).is_none() =>
            {
                Attribute::Unknown(*raw)
            }
            d => d,
        };
        let value = match decoded {
            Attribute::Origin(o) => AttributeValue::Origin(o),
            Attribute::AsPath(p) => AttributeValue::AsPath(AsPath::from_view(&p)),
            Attribute::NextHop(a) => AttributeValue::NextHop(a),
            Attribute::Med(v) => AttributeValue::Med(v),
            Attribute::LocalPref(v) => AttributeValue::LocalPref(v),
            Attribute::AtomicAggregate => AttributeValue::AtomicAggregate,
            Attribute::Aggregator { asn, address } => {
                AttributeValue::Aggregator(Aggregator { asn, address })
            }
            Attribute::Communities(b) => AttributeValue::Communities(s(b)),
            Attribute::OriginatorId(a) => AttributeValue::OriginatorId(a),
            Attribute::ClusterList(b) => AttributeValue::ClusterList(s(b)),
            Attribute::MpReach(m) => AttributeValue::MpReach(MpReachRepr {
                afi_safi: m.afi_safi,
                next_hop: m.next_hop.to_vec(),
                reserved: m.reserved,
                nlri: MpNlri::from_parts(m.afi_safi, m.prefixes(), m.nlri_bytes),
            }),
            Attribute::MpUnreach(m) => AttributeValue::MpUnreach(MpUnreachRepr {
                afi_safi: m.afi_safi,
                nlri: MpNlri::from_parts(m.afi_safi, m.prefixes(), m.nlri_bytes),
            }),
            Attribute::ExtendedCommunities(b) => AttributeValue::ExtendedCommunities(
                b.chunks_exact(8)
                    .map(|c| {
                        let mut a = [0u8; 8];
                        a.copy_from_slice(c);
                        a
                    })
                    .collect(),
            ),
            Attribute::As4Path(p) => AttributeValue::As4Path(AsPath::from_view(&p)),
            Attribute::As4Aggregator { asn, address } => {
                AttributeValue::As4Aggregator(Aggregator { asn, address })
            }
            Attribute::LargeCommunities(b) => AttributeValue::LargeCommunities(
                s(b).chunks_exact(3)
                    .map(|c| LargeCommunity {
                        global: c.first().copied().unwrap_or(0),
                        local1: c.get(1).copied().unwrap_or(0),
                        local2: c.get(2).copied().unwrap_or(0),
                    })
                    .collect(),
            ),
            Attribute::Otc(v) => AttributeValue::Otc(v),
            Attribute::Unknown(r) => AttributeValue::Unknown {
                type_code: r.type_code,
                value: r.value.to_vec(),
            },
        };
        AttributeRepr {
            flags: raw.flags,
            value,
        }
    }

    /// Encoded length, header included.
    pub fn buffer_len(&self, ctx: &Context) -> usize {
        attribute::wire_len(self.flags, self.value.value_len(ctx))
    }

    /// Encode header and value.
    pub fn emit(&self, w: &mut Writer<'_>, ctx: &Context) -> Result<()> {
        attribute::emit_header(
            w,
            self.flags,
            self.value.type_code(),
            self.value.value_len(ctx),
        )?;
        self.value.emit_value(w, ctx)
    }
}

/// An UPDATE message, owned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct UpdateRepr {
    /// Withdrawn routes (classic IPv4 field).
    pub withdrawn: Vec<Nlri>,
    /// Path attributes, in wire order.
    pub attributes: Vec<AttributeRepr>,
    /// Announced routes (classic IPv4 field).
    pub nlri: Vec<Nlri>,
}

impl UpdateRepr {
    /// From a validated view (the attributes in effect).
    pub fn parse<T: AsRef<[u8]>>(p: &UpdatePacket<T>) -> Self {
        let ctx = p.context();
        UpdateRepr {
            withdrawn: p.withdrawn().collect(),
            attributes: p
                .attributes()
                .map(|a| AttributeRepr::parse(&a, ctx))
                .collect(),
            nlri: p.nlri().collect(),
        }
    }

    /// The attribute of type `t`.
    pub fn attribute(&self, t: u8) -> Option<&AttributeValue> {
        self.attributes
            .iter()
            .map(|a| &a.value)
            .find(|v| v.type_code() == t)
    }

    /// Encoded length of the attribute block.
    pub fn attributes_len(&self, ctx: &Context) -> usize {
        self.attributes.iter().map(|a| a.buffer_len(ctx)).sum()
    }

    /// Encoded message length, header included.
    pub fn buffer_len(&self, ctx: &Context) -> usize {
        HEADER_LEN
            + 4
            + self.withdrawn.iter().map(Nlri::wire_len).sum::<usize>()
            + self.attributes_len(ctx)
            + self.nlri.iter().map(Nlri::wire_len).sum::<usize>()
    }

    /// Encode into `buf`; returns the length. Fails with an overflow error when
    /// the buffer is too small or the message exceeds the session's maximum size.
    pub fn emit(&self, buf: &mut [u8], ctx: &Context) -> Result<usize> {
        let len = self.buffer_len(ctx);
        if len > ctx.max_message_len() {
            return Err(Error::overflow(ctx.max_message_len()));
        }
        let mut w = Writer::new(buf);
        Header {
            length: len as u16,
            msg_type: MessageType::Update,
        }
        .emit(&mut w)?;
        let wl: usize = self.withdrawn.iter().map(Nlri::wire_len).sum();
        w.u16(wl as u16)?;
        self.withdrawn.iter().try_for_each(|n| n.emit(&mut w))?;
        w.u16(self.attributes_len(ctx) as u16)?;
        self.attributes
            .iter()
            .try_for_each(|a| a.emit(&mut w, ctx))?;
        self.nlri.iter().try_for_each(|n| n.emit(&mut w))?;
        Ok(w.len())
    }

    /// Encode into a new vector.
    pub fn to_vec(&self, ctx: &Context) -> Result<Vec<u8>> {
        let mut v = alloc::vec![0u8; self.buffer_len(ctx)];
        let n = self.emit(&mut v, ctx)?;
        v.truncate(n);
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Prefix;

    fn sample() -> UpdateRepr {
        UpdateRepr {
            withdrawn: alloc::vec![Nlri::new("10.9.0.0/16".parse::<Prefix>().unwrap())],
            attributes: alloc::vec![
                AttributeRepr::new(AttributeValue::Origin(attribute::Origin::Igp)),
                AttributeRepr::new(AttributeValue::AsPath(AsPath::sequence(&[
                    65001, 4200000000
                ]))),
                AttributeRepr::new(AttributeValue::NextHop(Ipv4Addr::new(10, 0, 0, 1))),
                AttributeRepr::new(AttributeValue::LocalPref(200)),
                AttributeRepr::new(AttributeValue::Communities(alloc::vec![0xfde9_0001])),
                AttributeRepr::new(AttributeValue::ClusterList(alloc::vec![1, 2])),
                AttributeRepr::new(AttributeValue::LargeCommunities(alloc::vec![
                    LargeCommunity {
                        global: 4200000000,
                        local1: 1,
                        local2: 2
                    }
                ])),
                AttributeRepr {
                    flags: 0xe0,
                    value: AttributeValue::Unknown {
                        type_code: 99,
                        value: alloc::vec![1, 2, 3]
                    }
                },
            ],
            nlri: alloc::vec![Nlri::new("192.0.2.0/24".parse::<Prefix>().unwrap())],
        }
    }

    #[test]
    fn emit_parse_round_trip() {
        let ctx = Context::MODERN;
        let r = sample();
        let bytes = r.to_vec(&ctx).unwrap();
        let p = UpdatePacket::new_checked(&bytes[..], &ctx).unwrap();
        assert_eq!(UpdateRepr::parse(&p), r);
        assert_eq!(UpdateRepr::parse(&p).to_vec(&ctx).unwrap(), bytes);
    }

    #[test]
    fn rfc6793_4_2_2_two_octet_session_uses_as_trans() {
        let ctx = Context::LEGACY;
        let bytes = sample().to_vec(&ctx).unwrap();
        let p = UpdatePacket::new_checked(&bytes[..], &ctx).unwrap();
        let asns: Vec<u32> = p.as_path().unwrap().asns().collect();
        assert_eq!(asns, alloc::vec![65001, AS_TRANS]);
    }

    #[test]
    fn rfc6793_4_2_3_as4_path_merge() {
        let two = AsPath::sequence(&[65001, AS_TRANS, AS_TRANS, 3]);
        let four = AsPath::sequence(&[4200000000, 4200000001, 3]);
        assert_eq!(
            two.merge_as4(&four),
            AsPath::sequence(&[65001, 4200000000, 4200000001, 3])
        );
        // A longer AS4_PATH is ignored.
        let longer = AsPath::sequence(&[1, 2, 3, 4, 5]);
        assert_eq!(two.merge_as4(&longer), two);
    }

    #[test]
    fn emit_reports_overflow_as_a_value() {
        let ctx = Context::MODERN;
        let mut r = sample();
        r.attributes
            .push(AttributeRepr::new(AttributeValue::Unknown {
                type_code: 200,
                value: alloc::vec![0; 5000],
            }));
        let e = r.to_vec(&ctx).unwrap_err();
        assert_eq!(e.kind, crate::ErrorKind::Overflow);
        let big = Context {
            extended_message: true,
            ..ctx
        };
        assert!(r.to_vec(&big).is_ok());
        let mut small = [0u8; 10];
        assert!(sample().emit(&mut small, &ctx).is_err());
    }

    #[test]
    fn prepend_starts_new_segment_after_set() {
        let mut p = AsPath {
            segments: alloc::vec![Segment {
                kind: SegmentType::Set,
                asns: alloc::vec![1, 2]
            }],
        };
        p.prepend(7);
        assert_eq!(p.segments[0].asns, alloc::vec![7]);
        assert_eq!(p.hop_count(), 2);
    }
}

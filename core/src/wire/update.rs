//! UPDATE messages (RFC 4271 §4.3) as a validated view over borrowed bytes.
//!
//! ```text
//! +-----------------------------------------------------+
//! |   Header (19 octets, type 2)                        |
//! +-----------------------------------------------------+
//! |   Withdrawn Routes Length (2 octets)                |
//! +-----------------------------------------------------+
//! |   Withdrawn Routes (variable)                       |
//! +-----------------------------------------------------+
//! |   Total Path Attribute Length (2 octets)            |
//! +-----------------------------------------------------+
//! |   Path Attributes (variable)                        |
//! +-----------------------------------------------------+
//! |   Network Layer Reachability Information (variable) |
//! +-----------------------------------------------------+
//! ```
//!
//! [`UpdatePacket::new_checked`] validates everything once (framing, every
//! attribute, every prefix, mandatory attributes) and fails on any error;
//! [`UpdatePacket::parse_revised`] applies RFC 7606: it fails only when the
//! session must reset (or the family be disabled) and otherwise hands back the
//! view together with the treat-as-withdraw or attribute-discard error.

use super::attribute::{
    self, type_code, AsPathView, AttrIter, MpReach, MpUnreach, RawAttribute, Summary, TypeSet,
};
use super::{Afi, AfiSafi, Context, Header, MessageType, NlriIter, Safi, HEADER_LEN};
use crate::error::{code, subcode, Action, Error, ErrorKind, NotifyData, Result};

mod field {
    pub const WITHDRAWN_LEN: usize = 19;
    pub const WITHDRAWN: usize = 21;
}

/// A validated UPDATE message.
#[derive(Debug, Clone)]
pub struct UpdatePacket<T: AsRef<[u8]>> {
    buf: T,
    withdrawn: (usize, usize),
    attrs: (usize, usize),
    nlri: (usize, usize),
    summary: Summary,
    ctx: Context,
}

fn bad_length(offset: usize) -> Error {
    Error::new(
        ErrorKind::MalformedAttributeList,
        code::UPDATE_MESSAGE,
        subcode::MALFORMED_ATTRIBUTE_LIST,
        Action::SessionReset,
        offset,
    )
}

/// The AFI/SAFI named by the first attribute of type `type_code`
/// (MP_REACH_NLRI or MP_UNREACH_NLRI) of an UPDATE, read leniently: what an
/// RFC 7606 AFI/SAFI-disable error concerns, even when the attribute is
/// malformed past its first three bytes. `None` when the attribute or its
/// AFI/SAFI cannot be found.
pub fn mp_family(msg: &[u8], type_code: u8) -> Option<AfiSafi> {
    let be16 = |at: usize| -> Option<usize> {
        let b = msg.get(at..at + 2)?;
        Some(usize::from(u16::from_be_bytes([*b.first()?, *b.get(1)?])))
    };
    let withdrawn = be16(HEADER_LEN)?;
    let al_at = HEADER_LEN + 2 + withdrawn;
    let end = (al_at + 2 + be16(al_at)?).min(msg.len());
    let mut at = al_at + 2;
    while at + 3 <= end {
        let flags = *msg.get(at)?;
        let t = *msg.get(at + 1)?;
        let (len, hdr) = if flags & 0x10 != 0 {
            (be16(at + 2)?, 4)
        } else {
            (usize::from(*msg.get(at + 2)?), 3)
        };
        if t == type_code {
            let v = msg.get(at + hdr..at + hdr + 3)?;
            let afi = u16::from_be_bytes([*v.first()?, *v.get(1)?]);
            return Some(AfiSafi::new(Afi(afi), Safi(*v.get(2)?)));
        }
        at += hdr + len;
    }
    None
}

impl<T: AsRef<[u8]>> UpdatePacket<T> {
    /// Validate `buf` (one whole message, header included) strictly: any error,
    /// even one RFC 7606 would let the session survive, is returned.
    #[inline]
    pub fn new_checked(buf: T, ctx: &Context) -> Result<Self> {
        let p = Self::structure(buf, ctx)?;
        match p.summary.error {
            Some(e) => Err(e),
            None => Ok(p),
        }
    }

    /// Validate `buf` per RFC 7606: `Err` only for errors that reset the session
    /// or disable a family; otherwise the view and, if the message was
    /// malformed in a survivable way, the most severe error (treat-as-withdraw
    /// or attribute-discard) to log and act on.
    #[inline]
    pub fn parse_revised(buf: T, ctx: &Context) -> Result<(Self, Option<Error>)> {
        let p = Self::structure(buf, ctx)?;
        let e = p.summary.error;
        Ok((p, e))
    }

    #[cold]
    fn header_error(bytes: &[u8], ctx: &Context) -> Error {
        let h = match Header::parse(bytes, ctx.max_message_len()) {
            Ok(h) => h,
            Err(e) => return e,
        };
        if h.msg_type != MessageType::Update {
            return super::header::bad_type();
        }
        Error::new(
            ErrorKind::BadMessageLength,
            code::MESSAGE_HEADER,
            subcode::BAD_MESSAGE_LENGTH,
            Action::SessionReset,
            16,
        )
        .with_data(NotifyData::u16(h.length))
    }

    #[inline(always)]
    fn structure(buf: T, ctx: &Context) -> Result<Self> {
        let bytes = buf.as_ref();
        let len = bytes.len();
        // Fast path over the fixed part; the exact header error is worked out only on failure.
        let Some(&[.., l0, l1, ty, w0, w1]) = bytes.first_chunk::<21>() else {
            return Err(Self::header_error(bytes, ctx));
        };
        if bytes.first_chunk::<16>() != Some(&super::MARKER)
            || ty != 2
            || usize::from(u16::from_be_bytes([l0, l1])) != len
            || len > ctx.max_message_len()
        {
            return Err(Self::header_error(bytes, ctx));
        }
        let wl = usize::from(u16::from_be_bytes([w0, w1]));
        let withdrawn = (field::WITHDRAWN, field::WITHDRAWN + wl);
        // RFC 7606 §4: lengths inconsistent with the message: session reset.
        let al_at = withdrawn.1;
        let Some(&[a0, a1]) = bytes
            .get(al_at..al_at + 2)
            .and_then(|s| s.first_chunk::<2>())
        else {
            return Err(bad_length(field::WITHDRAWN_LEN));
        };
        let attrs_start = al_at + 2;
        let attrs = (
            attrs_start,
            attrs_start + usize::from(u16::from_be_bytes([a0, a1])),
        );
        if attrs.1 > len {
            return Err(bad_length(al_at));
        }
        let nlri = (attrs.1, len);

        let v4_add_path = ctx.add_path(AfiSafi::IPV4_UNICAST);
        let field_of = |(a, b): (usize, usize)| bytes.get(a..b).unwrap_or(&[]);
        if withdrawn.1 > withdrawn.0 {
            NlriIter::new_checked(
                field_of(withdrawn),
                Afi::IPV4,
                v4_add_path,
                withdrawn.0,
                Action::SessionReset,
            )?;
        }
        let mut summary = attribute::validate(field_of(attrs), attrs.0, ctx)?;
        let has_nlri = nlri.1 > nlri.0;
        if has_nlri {
            NlriIter::new_checked(
                field_of(nlri),
                Afi::IPV4,
                v4_add_path,
                nlri.0,
                Action::SessionReset,
            )?;
        }

        // RFC 4271 §6.3: a NEXT_HOP of 0.0.0.0 or class D/E makes the classic
        // NLRI unusable (RFC 7606 §7.3: treat-as-withdraw). Without classic NLRI
        // the attribute is ignored (RFC 4760 §3).
        if has_nlri {
            if let Some((a, at)) = summary.next_hop {
                if a == 0 || a >= 0xe000_0000 {
                    let e = Error::new(
                        ErrorKind::InvalidNextHop,
                        code::UPDATE_MESSAGE,
                        subcode::INVALID_NEXT_HOP,
                        Action::TreatAsWithdraw,
                        at,
                    )
                    .with_range(at, at + 7)
                    .with_attr(type_code::NEXT_HOP);
                    if summary
                        .error
                        .is_none_or(|p| p.action.max(e.action) != p.action)
                    {
                        summary.error = Some(e);
                    }
                }
            }
        }

        // RFC 4760 §3: without classic NLRI the NEXT_HOP attribute is ignored,
        // so a malformed one costs the UPDATE nothing: attribute-discard.
        if !has_nlri {
            if let Some(e) = summary.error.filter(|e| {
                e.attr_type == Some(type_code::NEXT_HOP) && e.action == Action::TreatAsWithdraw
            }) {
                summary.error = Some(e.with_action(Action::AttributeDiscard));
                summary.discard.insert(type_code::NEXT_HOP);
            }
        }

        // RFC 7606 §3 (d): mandatory attributes, only when there is something to announce.
        let has_mp = summary.mp_reach.is_some();
        if has_nlri || has_mp {
            let mut need: &[u8] = &[type_code::ORIGIN, type_code::AS_PATH];
            if has_nlri {
                need = &[type_code::ORIGIN, type_code::AS_PATH, type_code::NEXT_HOP];
            }
            for &t in need {
                if !summary.present.contains(t) {
                    let e = attribute::missing(t, attrs.0);
                    if summary
                        .error
                        .is_none_or(|p| p.action.max(e.action) != p.action)
                    {
                        summary.error = Some(e);
                    }
                    break;
                }
            }
        }
        Ok(UpdatePacket {
            buf,
            withdrawn,
            attrs,
            nlri,
            summary,
            ctx: *ctx,
        })
    }

    fn slice(&self, (a, b): (usize, usize)) -> &[u8] {
        self.buf.as_ref().get(a..b).unwrap_or(&[])
    }

    /// The whole message.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.as_ref()
    }

    /// Give back the underlying buffer.
    pub fn into_inner(self) -> T {
        self.buf
    }

    /// The context the message was decoded with.
    pub const fn context(&self) -> &Context {
        &self.ctx
    }

    /// What validation found.
    pub const fn summary(&self) -> &Summary {
        &self.summary
    }

    /// Whether RFC 7606 says to treat every prefix of this UPDATE as withdrawn.
    pub fn is_treat_as_withdraw(&self) -> bool {
        self.summary
            .error
            .is_some_and(|e| e.action == Action::TreatAsWithdraw)
    }

    /// The withdrawn routes field (classic IPv4 unicast).
    pub fn withdrawn(&self) -> NlriIter<'_> {
        NlriIter::validated(
            self.slice(self.withdrawn),
            Afi::IPV4,
            self.ctx.add_path(AfiSafi::IPV4_UNICAST),
        )
    }

    /// The NLRI field (classic IPv4 unicast).
    pub fn nlri(&self) -> NlriIter<'_> {
        NlriIter::validated(
            self.slice(self.nlri),
            Afi::IPV4,
            self.ctx.add_path(AfiSafi::IPV4_UNICAST),
        )
    }

    /// The raw path attribute block.
    pub fn attribute_bytes(&self) -> &[u8] {
        self.slice(self.attrs)
    }

    /// Offset of the attribute block in the message.
    pub const fn attribute_offset(&self) -> usize {
        self.attrs.0
    }

    /// Every attribute TLV as on the wire, duplicates and discarded ones included.
    pub fn raw_attributes(&self) -> AttrIter<'_> {
        AttrIter::unchecked(self.slice(self.attrs), self.attrs.0)
    }

    /// The attributes in effect: first occurrences only, without the ones RFC 7606 discards.
    pub fn attributes(&self) -> Effective<'_> {
        Effective {
            inner: self.raw_attributes(),
            seen: TypeSet::EMPTY,
            discard: self.summary.discard,
            dedup: self.summary.has_duplicates,
        }
    }

    /// The attribute of type `t` in effect, if any.
    pub fn attribute(&self, t: u8) -> Option<RawAttribute<'_>> {
        if !self.summary.present.contains(t) || self.summary.discard.contains(t) {
            return None;
        }
        self.raw_attributes().find(|a| a.type_code == t)
    }

    fn at(&self, (off, len): (usize, usize)) -> Option<RawAttribute<'_>> {
        AttrIter::unchecked(self.slice((off, off + len)), off).next()
    }

    /// The MP_REACH_NLRI attribute, if present.
    pub fn mp_reach(&self) -> Option<MpReach<'_>> {
        match self.at(self.summary.mp_reach?)?.decode(&self.ctx) {
            attribute::Attribute::MpReach(m) => Some(m),
            _ => None,
        }
    }

    /// The MP_UNREACH_NLRI attribute, if present.
    pub fn mp_unreach(&self) -> Option<MpUnreach<'_>> {
        match self.at(self.summary.mp_unreach?)?.decode(&self.ctx) {
            attribute::Attribute::MpUnreach(m) => Some(m),
            _ => None,
        }
    }

    /// The AS_PATH, if present and well formed.
    pub fn as_path(&self) -> Option<AsPathView<'_>> {
        let a = self.attribute(type_code::AS_PATH)?;
        AsPathView::new_checked(a.value, self.ctx.four_octet_as)
    }

    /// If this UPDATE is an End-of-RIB marker (RFC 4724 §2), its family.
    pub fn end_of_rib(&self) -> Option<AfiSafi> {
        let len = self.as_bytes().len();
        if len == 23 {
            return Some(AfiSafi::IPV4_UNICAST);
        }
        if self.withdrawn.1 > self.withdrawn.0 || self.nlri.1 > self.nlri.0 {
            return None;
        }
        let mut it = self.raw_attributes();
        let only = it.next()?;
        if it.next().is_some() || only.type_code != type_code::MP_UNREACH_NLRI {
            return None;
        }
        let m = self.mp_unreach()?;
        m.nlri_bytes.is_empty().then_some(m.afi_safi)
    }

    /// Number of announced prefixes (classic and MP_REACH, IP families).
    pub fn announced_count(&self) -> usize {
        self.nlri().count()
            + self
                .mp_reach()
                .and_then(|m| m.prefixes())
                .map_or(0, |p| p.count())
    }

    /// Number of withdrawn prefixes (classic and MP_UNREACH, IP families).
    pub fn withdrawn_count(&self) -> usize {
        self.withdrawn().count()
            + self
                .mp_unreach()
                .and_then(|m| m.prefixes())
                .map_or(0, |p| p.count())
    }
}

/// The attributes in effect (see [`UpdatePacket::attributes`]).
#[derive(Debug, Clone)]
pub struct Effective<'a> {
    inner: AttrIter<'a>,
    seen: TypeSet,
    discard: TypeSet,
    dedup: bool,
}

impl<'a> Iterator for Effective<'a> {
    type Item = RawAttribute<'a>;

    #[inline]
    fn next(&mut self) -> Option<RawAttribute<'a>> {
        loop {
            let a = self.inner.next()?;
            if !self.dedup && self.discard.is_empty() {
                return Some(a);
            }
            if self.dedup && !self.seen.insert(a.type_code) {
                continue;
            }
            if self.discard.contains(a.type_code) {
                continue;
            }
            return Some(a);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn update(withdrawn: &[u8], attrs: &[u8], nlri: &[u8]) -> Vec<u8> {
        let len = 23 + withdrawn.len() + attrs.len() + nlri.len();
        let mut m = std::vec![0xff; 16];
        m.extend((len as u16).to_be_bytes());
        m.push(2);
        m.extend((withdrawn.len() as u16).to_be_bytes());
        m.extend(withdrawn);
        m.extend((attrs.len() as u16).to_be_bytes());
        m.extend(attrs);
        m.extend(nlri);
        m
    }

    const GOOD_ATTRS: &[u8] = &[
        0x40, 1, 1, 0, // ORIGIN IGP
        0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe9, // AS_PATH [65001]
        0x40, 3, 4, 10, 0, 0, 1, // NEXT_HOP
        0x80, 4, 4, 0, 0, 0, 5, // MED 5
    ];

    #[test]
    fn rfc4271_4_3_well_formed_update() {
        let m = update(&[8, 10], GOOD_ATTRS, &[24, 192, 0, 2]);
        let p = UpdatePacket::new_checked(&m[..], &Context::MODERN).unwrap();
        assert_eq!(p.withdrawn().count(), 1);
        assert_eq!(p.nlri().next().unwrap().prefix.to_string(), "192.0.2.0/24");
        assert_eq!(p.as_path().unwrap().first_asn(), Some(65001));
        assert_eq!(p.attributes().count(), 4);
        assert_eq!(p.announced_count(), 1);
        assert_eq!(p.withdrawn_count(), 1);
        assert!(p.end_of_rib().is_none());
    }

    #[test]
    fn rfc4271_6_3_martian_next_hop_is_treat_as_withdraw_only_with_classic_nlri() {
        let mut attrs = GOOD_ATTRS.to_vec();
        attrs[16..20].copy_from_slice(&[0, 0, 0, 0]);
        let m = update(&[], &attrs, &[24, 192, 0, 2]);
        let (_, e) = UpdatePacket::parse_revised(&m[..], &Context::MODERN).unwrap();
        let e = e.unwrap();
        assert_eq!(
            (e.code, e.subcode, e.action),
            (3, 8, Action::TreatAsWithdraw)
        );
        assert_eq!(e.data.resolve(&m), &[0x40, 3, 4, 0, 0, 0, 0]);
        attrs[16..20].copy_from_slice(&[224, 0, 0, 1]);
        let m = update(&[], &attrs, &[24, 192, 0, 2]);
        assert!(UpdatePacket::new_checked(&m[..], &Context::MODERN).is_err());
        // RFC 4760 §3: with no classic NLRI the attribute is ignored.
        let m = update(&[], &attrs, &[]);
        assert!(UpdatePacket::new_checked(&m[..], &Context::MODERN).is_ok());
    }

    #[test]
    fn rfc4724_2_end_of_rib_markers() {
        let m = update(&[], &[], &[]);
        let p = UpdatePacket::new_checked(&m[..], &Context::MODERN).unwrap();
        assert_eq!(p.end_of_rib(), Some(AfiSafi::IPV4_UNICAST));
        let m = update(&[], &[0x80, 15, 3, 0, 2, 1], &[]);
        let p = UpdatePacket::new_checked(&m[..], &Context::MODERN).unwrap();
        assert_eq!(p.end_of_rib(), Some(AfiSafi::IPV6_UNICAST));
    }

    #[test]
    fn rfc7606_4_withdrawn_length_overrun_resets_session() {
        let mut m = update(&[8, 10], &[], &[]);
        m[20] = 9;
        let e = UpdatePacket::new_checked(&m[..], &Context::MODERN).unwrap_err();
        assert_eq!((e.code, e.subcode, e.action), (3, 1, Action::SessionReset));
    }

    #[test]
    fn rfc7606_4_attribute_length_overrun_resets_session() {
        let mut m = update(&[], GOOD_ATTRS, &[]);
        m[22] = 200;
        let e = UpdatePacket::parse_revised(&m[..], &Context::MODERN).unwrap_err();
        assert_eq!((e.code, e.subcode, e.action), (3, 1, Action::SessionReset));
    }

    #[test]
    fn rfc7606_3_d_missing_well_known_is_treat_as_withdraw() {
        let m = update(&[], &GOOD_ATTRS[4..], &[24, 192, 0, 2]);
        let (p, e) = UpdatePacket::parse_revised(&m[..], &Context::MODERN).unwrap();
        let e = e.unwrap();
        assert_eq!(
            (e.code, e.subcode, e.action),
            (3, 3, Action::TreatAsWithdraw)
        );
        assert_eq!(e.data.resolve(&m), &[1]);
        assert!(p.is_treat_as_withdraw());
        assert_eq!(
            p.nlri().count(),
            1,
            "the prefixes are still there to withdraw"
        );
        assert!(UpdatePacket::new_checked(&m[..], &Context::MODERN).is_err());
    }

    #[test]
    fn rfc7606_3_d_no_nlri_needs_no_mandatory_attributes() {
        let m = update(&[8, 10], &GOOD_ATTRS[20..], &[]);
        assert!(UpdatePacket::new_checked(&m[..], &Context::MODERN).is_ok());
    }

    #[test]
    fn rfc7606_5_3_bad_nlri_prefix_resets_session() {
        let m = update(&[], GOOD_ATTRS, &[40, 1, 2, 3, 4, 5]);
        let e = UpdatePacket::parse_revised(&m[..], &Context::MODERN).unwrap_err();
        assert_eq!((e.code, e.subcode, e.action), (3, 10, Action::SessionReset));
        assert_eq!(e.offset, 23 + GOOD_ATTRS.len());
    }

    #[test]
    fn rfc7606_2_attribute_discard_keeps_routes() {
        let mut attrs = GOOD_ATTRS.to_vec();
        attrs.extend([0x40, 6, 1, 0]); // ATOMIC_AGGREGATE with a value
        let m = update(&[], &attrs, &[24, 192, 0, 2]);
        let (p, e) = UpdatePacket::parse_revised(&m[..], &Context::MODERN).unwrap();
        assert_eq!(e.unwrap().action, Action::AttributeDiscard);
        assert!(!p.is_treat_as_withdraw());
        assert!(p.attribute(type_code::ATOMIC_AGGREGATE).is_none());
        assert_eq!(p.attributes().count(), 4);
    }

    #[test]
    fn rfc7606_3_g_duplicates_are_skipped_by_attributes() {
        let mut attrs = GOOD_ATTRS.to_vec();
        attrs.extend([0x80, 4, 4, 0, 0, 0, 9]);
        let m = update(&[], &attrs, &[24, 192, 0, 2]);
        let p = UpdatePacket::new_checked(&m[..], &Context::MODERN).unwrap();
        assert_eq!(p.raw_attributes().count(), 5);
        assert_eq!(p.attributes().count(), 4);
        assert_eq!(p.attribute(type_code::MED).unwrap().value, &[0, 0, 0, 5]);
    }

    #[test]
    fn rfc4760_3_mp_reach_ipv6() {
        let mut attrs = std::vec![0x40, 1, 1, 0, 0x40, 2, 0];
        let mp = [
            0u8, 2, 1, 16, 0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 32, 0x20, 1,
            0xd, 0xb8,
        ];
        attrs.extend([0x90, 14, 0, mp.len() as u8]);
        attrs.extend(mp);
        let m = update(&[], &attrs, &[]);
        let p = UpdatePacket::new_checked(&m[..], &Context::MODERN).unwrap();
        let r = p.mp_reach().unwrap();
        assert_eq!(r.afi_safi, AfiSafi::IPV6_UNICAST);
        assert_eq!(r.next_hop.len(), 16);
        let v: Vec<_> = r.prefixes().unwrap().collect();
        assert_eq!(v[0].prefix.to_string(), "2001:db8::/32");
        assert_eq!(p.announced_count(), 1);
    }

    /// Found by the `engine` fuzz campaign: an MP_REACH-only UPDATE with a
    /// malformed NEXT_HOP (attribute-discard there, RFC 4760 §3) and a
    /// malformed COMMUNITIES (treat-as-withdraw, RFC 7606 §7.8) is
    /// treat-as-withdraw, in either order; the NEXT_HOP downgrade alone made
    /// it attribute-discard, and the empty COMMUNITIES went on into the RIB.
    #[test]
    fn rfc7606_malformed_next_hop_does_not_hide_another_treat_as_withdraw() {
        let mp = [
            0u8, 2, 1, 16, 0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 32, 0x20, 1,
            0xd, 0xb8,
        ];
        let bad_next_hop: &[u8] = &[0x40, 3, 5, 10, 0, 0, 1, 2];
        let bad_communities: &[u8] = &[0xc0, 8, 0];
        for order in [
            [bad_next_hop, bad_communities],
            [bad_communities, bad_next_hop],
        ] {
            let mut attrs = std::vec![0x90, 14, 0, mp.len() as u8];
            attrs.extend(mp);
            attrs.extend([0x40, 1, 1, 0, 0x40, 2, 0]);
            for a in order {
                attrs.extend_from_slice(a);
            }
            let m = update(&[], &attrs, &[]);
            let (p, e) = UpdatePacket::parse_revised(&m[..], &Context::MODERN).unwrap();
            let e = e.unwrap();
            assert_eq!(e.action, Action::TreatAsWithdraw);
            assert_eq!(e.attr_type, Some(type_code::COMMUNITIES));
            assert!(p.is_treat_as_withdraw());
        }
        // The malformed NEXT_HOP alone costs the MP routes nothing.
        let mut attrs = std::vec![0x90, 14, 0, mp.len() as u8];
        attrs.extend(mp);
        attrs.extend([0x40, 1, 1, 0, 0x40, 2, 0]);
        attrs.extend_from_slice(bad_next_hop);
        let m = update(&[], &attrs, &[]);
        let (p, e) = UpdatePacket::parse_revised(&m[..], &Context::MODERN).unwrap();
        assert_eq!(e.unwrap().action, Action::AttributeDiscard);
        assert!(!p.is_treat_as_withdraw());
    }

    /// RFC 7606 §3: with several malformed attributes the most severe action
    /// is taken, whatever the order; at equal severity the first is reported.
    #[test]
    fn rfc7606_3_most_severe_action_first_reported() {
        let bad_atomic: &[u8] = &[0x40, 6, 1, 0]; // attribute-discard
        let bad_communities: &[u8] = &[0xc0, 8, 3, 1, 2, 3]; // treat-as-withdraw
        let bad_med: &[u8] = &[0x80, 4, 3, 0, 0, 5]; // treat-as-withdraw
        for order in [[bad_atomic, bad_communities], [bad_communities, bad_atomic]] {
            let mut attrs = GOOD_ATTRS[..20].to_vec();
            for a in order {
                attrs.extend_from_slice(a);
            }
            let m = update(&[], &attrs, &[24, 192, 0, 2]);
            let (p, e) = UpdatePacket::parse_revised(&m[..], &Context::MODERN).unwrap();
            let e = e.unwrap();
            assert_eq!(e.action, Action::TreatAsWithdraw);
            assert_eq!(e.attr_type, Some(type_code::COMMUNITIES));
            assert!(p.is_treat_as_withdraw());
        }
        let mut attrs = GOOD_ATTRS[..20].to_vec();
        attrs.extend_from_slice(bad_med);
        attrs.extend_from_slice(bad_communities);
        let m = update(&[], &attrs, &[24, 192, 0, 2]);
        let (_, e) = UpdatePacket::parse_revised(&m[..], &Context::MODERN).unwrap();
        let e = e.unwrap();
        assert_eq!(e.attr_type, Some(type_code::MED));
        assert_eq!(e.offset, 23 + 20);
    }

    #[test]
    fn rfc4271_6_1_wrong_type_and_length() {
        let mut m = update(&[], &[], &[]);
        m[18] = 4;
        assert!(UpdatePacket::new_checked(&m[..], &Context::MODERN).is_err());
        let mut m = update(&[], &[], &[]);
        m.push(0);
        let e = UpdatePacket::new_checked(&m[..], &Context::MODERN).unwrap_err();
        assert_eq!((e.code, e.subcode), (1, 2));
    }

    #[test]
    fn never_panics_on_prefixes_of_a_message() {
        let m = update(&[8, 10], GOOD_ATTRS, &[24, 192, 0, 2]);
        for cut in 0..m.len() {
            let mut b = m[..cut].to_vec();
            if b.len() >= 18 {
                b[16..18].copy_from_slice(&(cut as u16).to_be_bytes());
            }
            let _ = UpdatePacket::parse_revised(&b[..], &Context::MODERN);
        }
    }
}

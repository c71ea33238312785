//! Routes out of MRT records: one [`Element`] per announcement, withdrawal,
//! RIB entry or state change, streamed record by record.
//!
//! Attributes are read the way `bgpdump -m` reads them, so that the
//! [`bgpdump`](super::bgpdump) lines match it field for field: first
//! occurrence of each attribute type, AS4_PATH merged into a 2-octet AS_PATH
//! (RFC 6793 §4.2.3, bgpdump's variant), the next hop taken from
//! MP_REACH_NLRI for MP prefixes, and the RFC 6396 §4.3.4 short
//! MP_REACH_NLRI of RIB entries.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use reflector_core::mrt::{Bgp4mpMessage, Body, Peer, Record, ADD_PATH_ALL};
use reflector_core::wire::attribute::{type_code, AttrIter, RawAttribute, SegmentType, TypeSet};
use reflector_core::wire::message::Message;
use reflector_core::wire::update::UpdatePacket;
use reflector_core::wire::{Afi, Context, Prefix};
use reflector_core::Error;

/// What an element is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// A prefix announced in an UPDATE (bgpdump `A`).
    Announce,
    /// A prefix withdrawn in an UPDATE (bgpdump `W`).
    Withdraw,
    /// A RIB entry of a table dump (bgpdump `B`).
    Rib,
    /// A BGP session state change (bgpdump `STATE`).
    State,
}

impl Kind {
    /// The lowercase name used in JSON and on the command line.
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Announce => "announce",
            Kind::Withdraw => "withdraw",
            Kind::Rib => "rib",
            Kind::State => "state",
        }
    }
}

/// The kind of record an element came from, as bgpdump names it in its first field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Legacy TABLE_DUMP (`TABLE_DUMP`).
    TableDump,
    /// TABLE_DUMP_V2 (`TABLE_DUMP2`, `TABLE_DUMP2_AP` for the ADD-PATH subtypes).
    TableDump2 {
        /// RFC 8050 ADD-PATH subtype.
        add_path: bool,
    },
    /// BGP4MP or BGP4MP_ET (`BGP4MP[_ET][_LOCAL][_AP]`).
    Bgp4mp {
        /// Extended-timestamp record.
        et: bool,
        /// Message sent by the collector (`_LOCAL` subtypes).
        local: bool,
        /// RFC 8050 ADD-PATH subtype.
        add_path: bool,
    },
}

impl Source {
    /// bgpdump's name for the record kind.
    pub const fn name(self) -> &'static str {
        match self {
            Source::TableDump => "TABLE_DUMP",
            Source::TableDump2 { add_path: false } => "TABLE_DUMP2",
            Source::TableDump2 { add_path: true } => "TABLE_DUMP2_AP",
            Source::Bgp4mp {
                et,
                local,
                add_path,
            } => match (et, local, add_path) {
                (false, false, false) => "BGP4MP",
                (false, false, true) => "BGP4MP_AP",
                (false, true, false) => "BGP4MP_LOCAL",
                (false, true, true) => "BGP4MP_LOCAL_AP",
                (true, false, false) => "BGP4MP_ET",
                (true, false, true) => "BGP4MP_ET_AP",
                (true, true, false) => "BGP4MP_ET_LOCAL",
                (true, true, true) => "BGP4MP_ET_LOCAL_AP",
            },
        }
    }

    /// Whether bgpdump prints a path identifier column for this record kind.
    pub const fn add_path(self) -> bool {
        match self {
            Source::TableDump => false,
            Source::TableDump2 { add_path } | Source::Bgp4mp { add_path, .. } => add_path,
        }
    }
}

/// One route event.
#[derive(Debug, Clone, Copy)]
pub struct Element<'a> {
    /// What it is.
    pub kind: Kind,
    /// Record timestamp, seconds since the Unix epoch.
    pub timestamp: u32,
    /// Microseconds (BGP4MP_ET records only).
    pub microseconds: Option<u32>,
    /// The record kind it came from.
    pub source: Source,
    /// The peer's address.
    pub peer_ip: IpAddr,
    /// The peer's AS.
    pub peer_asn: u32,
    /// The prefix (not for state changes).
    pub prefix: Option<Prefix>,
    /// ADD-PATH path identifier.
    pub path_id: Option<u32>,
    /// Next hop (announcements and RIB entries).
    pub next_hop: Option<IpAddr>,
    /// Path attributes (announcements and RIB entries).
    pub attrs: Option<&'a Attrs>,
    /// Old and new FSM state (state changes).
    pub state: Option<(u16, u16)>,
}

/// The path attributes of one UPDATE or RIB entry.
#[derive(Debug, Default)]
pub struct Attrs {
    /// ORIGIN value (0 IGP, 1 EGP, 2 INCOMPLETE), if present.
    pub origin: Option<u8>,
    /// AS_PATH present.
    has_as_path: bool,
    /// AS_PATH malformed.
    as_path_error: bool,
    /// Segments of the effective AS path: type and range into `asns`.
    segments: Vec<(SegmentType, usize, usize)>,
    asns: Vec<u32>,
    /// bgpdump's rendering of the AS path.
    as_path_text: String,
    /// NEXT_HOP attribute.
    pub next_hop: Option<Ipv4Addr>,
    /// MULTI_EXIT_DISC.
    pub med: Option<u32>,
    /// LOCAL_PREF.
    pub local_pref: Option<u32>,
    /// ATOMIC_AGGREGATE present.
    pub atomic_aggregate: bool,
    /// AGGREGATOR (AS4_AGGREGATOR substituted for AS_TRANS).
    pub aggregator: Option<(u32, Ipv4Addr)>,
    /// COMMUNITIES present.
    pub has_communities: bool,
    /// Standard communities.
    pub communities: Vec<u32>,
    /// bgpdump's rendering of the communities.
    communities_text: String,
    /// Large communities (global, local 1, local 2).
    pub large_communities: Vec<[u32; 3]>,
    /// Extended communities, 8 octets each.
    pub extended_communities: Vec<[u8; 8]>,
}

/// bgpdump stops rendering an AS path near this many characters.
const MAX_AS_PATH_TEXT: usize = 8000;

impl Attrs {
    fn clear(&mut self) {
        self.origin = None;
        self.has_as_path = false;
        self.as_path_error = false;
        self.segments.clear();
        self.asns.clear();
        self.as_path_text.clear();
        self.next_hop = None;
        self.med = None;
        self.local_pref = None;
        self.atomic_aggregate = false;
        self.aggregator = None;
        self.has_communities = false;
        self.communities.clear();
        self.communities_text.clear();
        self.large_communities.clear();
        self.extended_communities.clear();
    }

    /// The AS path as bgpdump prints it (`""` when absent, `! Error !` when malformed).
    pub fn as_path_text(&self) -> &str {
        &self.as_path_text
    }

    /// Whether an AS_PATH attribute was present.
    pub fn has_as_path(&self) -> bool {
        self.has_as_path
    }

    /// The communities as bgpdump prints them (well-known ones by name).
    pub fn communities_text(&self) -> &str {
        &self.communities_text
    }

    /// Every AS number of the path, in order, across segments.
    pub fn path_asns(&self) -> &[u32] {
        &self.asns
    }

    /// The origin AS(es): the last AS of a final AS_SEQUENCE, or every member of a final AS_SET.
    pub fn origin_asns(&self) -> &[u32] {
        match self.segments.last() {
            Some(&(SegmentType::Sequence, s, e)) if e > s => &self.asns[e - 1..e],
            Some(&(SegmentType::Set, s, e)) => &self.asns[s..e],
            _ => &[],
        }
    }

    /// Read an attribute block: first occurrence of each type, AS4 attributes merged when `!four_octet`.
    fn read<'a>(&mut self, attrs: impl Iterator<Item = RawAttribute<'a>>, four_octet: bool) {
        self.clear();
        let mut seen = TypeSet::EMPTY;
        let mut as_path: Option<&[u8]> = None;
        let mut as4_path: Option<&[u8]> = None;
        let mut as4_aggregator: Option<(u32, Ipv4Addr)> = None;
        for a in attrs {
            if !seen.insert(a.type_code) {
                continue;
            }
            let v = a.value;
            match a.type_code {
                type_code::ORIGIN => self.origin = v.first().copied(),
                type_code::AS_PATH => as_path = Some(v),
                type_code::NEXT_HOP => self.next_hop = ipv4(v),
                type_code::MED => self.med = be32(v),
                type_code::LOCAL_PREF => self.local_pref = be32(v),
                type_code::ATOMIC_AGGREGATE => self.atomic_aggregate = true,
                type_code::AGGREGATOR => {
                    self.aggregator = match v.len() {
                        6 => {
                            ipv4(&v[2..]).map(|a| (u32::from(u16::from_be_bytes([v[0], v[1]])), a))
                        }
                        8 => be32(v).zip(ipv4(&v[4..])),
                        _ => None,
                    }
                }
                type_code::COMMUNITIES => {
                    self.has_communities = true;
                    self.communities.extend(
                        v.chunks_exact(4)
                            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]])),
                    );
                }
                type_code::EXTENDED_COMMUNITIES => self
                    .extended_communities
                    .extend(v.chunks_exact(8).map(|c| c.try_into().unwrap_or([0; 8]))),
                type_code::LARGE_COMMUNITY => {
                    self.large_communities.extend(v.chunks_exact(12).map(|c| {
                        [
                            u32::from_be_bytes([c[0], c[1], c[2], c[3]]),
                            u32::from_be_bytes([c[4], c[5], c[6], c[7]]),
                            u32::from_be_bytes([c[8], c[9], c[10], c[11]]),
                        ]
                    }))
                }
                type_code::AS4_PATH => as4_path = Some(v),
                type_code::AS4_AGGREGATOR if v.len() == 8 => {
                    as4_aggregator = be32(v).zip(ipv4(&v[4..]))
                }
                _ => {}
            }
        }
        self.render_communities();
        let Some(path) = as_path else {
            return;
        };
        self.has_as_path = true;
        let Some(count) = self.push_path(path, if four_octet { 4 } else { 2 }) else {
            self.as_path_error = true;
            self.segments.clear();
            self.asns.clear();
            self.as_path_text.push_str("! Error !");
            return;
        };
        if !four_octet {
            self.merge_as4(count, as4_path, as4_aggregator);
        }
        self.render_as_path();
    }

    /// Append the segments of `bytes`; returns bgpdump's path count (sets count one), or `None` if malformed.
    fn push_path(&mut self, bytes: &[u8], width: usize) -> Option<usize> {
        let mut count = 0;
        let mut rest = bytes;
        while let [ty, n, tail @ ..] = rest {
            let kind = SegmentType::from_u8(*ty)?;
            let n = usize::from(*n);
            let body = tail.get(..n * width)?;
            let start = self.asns.len();
            if width == 4 {
                self.asns.extend(
                    body.chunks_exact(4)
                        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]])),
                );
            } else {
                self.asns.extend(
                    body.chunks_exact(2)
                        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]]))),
                );
            }
            self.segments.push((kind, start, self.asns.len()));
            count += match kind {
                SegmentType::Set | SegmentType::ConfedSet => 1,
                SegmentType::Sequence | SegmentType::ConfedSequence => n,
            };
            rest = &tail[n * width..];
        }
        if !rest.is_empty() {
            return None;
        }
        Some(count)
    }

    /// RFC 6793 §4.2.3 as bgpdump does it: keep the leading `count(AS_PATH) - count(AS4_PATH)`
    /// hops of AS_PATH and append AS4_PATH; skipped when AS4_PATH is longer, or when an
    /// AGGREGATOR other than AS_TRANS comes with an AS4_AGGREGATOR.
    fn merge_as4(
        &mut self,
        count: usize,
        as4_path: Option<&[u8]>,
        as4_aggregator: Option<(u32, Ipv4Addr)>,
    ) {
        if let (Some(agg), Some(agg4)) = (self.aggregator, as4_aggregator) {
            if agg.0 != reflector_core::wire::attribute::AS_TRANS {
                return;
            }
            self.aggregator = Some(agg4);
        }
        let Some(p4) = as4_path else {
            return;
        };
        let (segs, asns) = (self.segments.len(), self.asns.len());
        let Some(count4) = self.push_path(p4, 4) else {
            // A malformed AS4_PATH is ignored.
            self.segments.truncate(segs);
            self.asns.truncate(asns);
            return;
        };
        if count < count4 {
            self.segments.truncate(segs);
            self.asns.truncate(asns);
            return;
        }
        let keep = count - count4;
        let mut merged: Vec<(SegmentType, usize, usize)> = Vec::with_capacity(self.segments.len());
        let mut have = 0;
        for &(kind, s, e) in &self.segments[..segs] {
            if have >= keep {
                break;
            }
            match kind {
                SegmentType::Set | SegmentType::ConfedSet => {
                    have += 1;
                    merged.push((kind, s, e));
                }
                SegmentType::Sequence | SegmentType::ConfedSequence => {
                    let take = (e - s).min(keep - have);
                    have += take;
                    merged.push((kind, s, s + take));
                }
            }
        }
        merged.extend_from_slice(&self.segments[segs..]);
        self.segments = merged;
    }

    fn render_as_path(&mut self) {
        use std::fmt::Write as _;
        let t = &mut self.as_path_text;
        let mut prev: Option<SegmentType> = None;
        for &(kind, s, e) in &self.segments {
            if let Some(p) = prev {
                if let Some(close) = delimiters(p).1 {
                    t.push(close);
                }
                t.push(' ');
            }
            if let Some(open) = delimiters(kind).0 {
                t.push(open);
            }
            let sep = if matches!(kind, SegmentType::Set | SegmentType::ConfedSet) {
                ','
            } else {
                ' '
            };
            for (i, asn) in self.asns[s..e].iter().enumerate() {
                if i > 0 {
                    t.push(sep);
                }
                let _ = write!(t, "{asn}");
                if t.len() > MAX_AS_PATH_TEXT - 100 {
                    t.push_str("...");
                    return;
                }
            }
            prev = Some(kind);
        }
        if let Some(close) = prev.and_then(|p| delimiters(p).1) {
            t.push(close);
        }
    }

    fn render_communities(&mut self) {
        use std::fmt::Write as _;
        let t = &mut self.communities_text;
        for (i, &c) in self.communities.iter().enumerate() {
            if i > 0 {
                t.push(' ');
            }
            match c {
                0xFFFF_FF01 => t.push_str("no-export"),
                0xFFFF_FF02 => t.push_str("no-advertise"),
                0xFFFF_FF03 => t.push_str("local-AS"),
                _ => {
                    let _ = write!(t, "{}:{}", c >> 16, c & 0xFFFF);
                }
            }
        }
    }
}

/// Opening and closing characters of a segment type, as bgpdump prints them.
const fn delimiters(kind: SegmentType) -> (Option<char>, Option<char>) {
    match kind {
        SegmentType::Sequence => (None, None),
        SegmentType::Set => (Some('{'), Some('}')),
        SegmentType::ConfedSet => (Some('['), Some(']')),
        SegmentType::ConfedSequence => (Some('('), Some(')')),
    }
}

fn be32(v: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(v.get(..4)?.try_into().ok()?))
}

fn ipv4(v: &[u8]) -> Option<Ipv4Addr> {
    be32(v).map(Ipv4Addr::from_bits)
}

/// An MP next-hop field: IPv4 for 4 octets, the global IPv6 address for 16 or 32.
fn mp_next_hop(nh: &[u8]) -> Option<IpAddr> {
    match nh.len() {
        4 => ipv4(nh).map(IpAddr::V4),
        16 | 32 => {
            let a: [u8; 16] = nh[..16].try_into().ok()?;
            Some(IpAddr::V6(Ipv6Addr::from(a)))
        }
        _ => None,
    }
}

/// Decode the BGP message of a BGP4MP record.
///
/// When it does not decode cleanly under its subtype's context and the
/// subtype is not an ADD-PATH one, the ADD-PATH reading is taken if it alone
/// decodes cleanly (BIRD records ADD-PATH sessions under plain subtypes).
/// Returns the result and whether ADD-PATH was inferred.
pub fn decode_message<'a>(
    m: &Bgp4mpMessage<'a>,
) -> (reflector_core::Result<(Message<'a>, Option<Error>)>, bool) {
    let ctx = m.context();
    let res = Message::parse_revised(m.message, &ctx);
    let clean =
        |r: &reflector_core::Result<(Message<'_>, Option<Error>)>| matches!(r, Ok((_, None)));
    if !clean(&res) && !m.add_path {
        let ap = Context {
            add_path: ADD_PATH_ALL,
            ..ctx
        };
        let retry = Message::parse_revised(m.message, &ap);
        if clean(&retry) && matches!(retry, Ok((Message::Update(_), _))) {
            return (retry, true);
        }
    }
    (res, false)
}

/// A record or message that could not be decoded.
#[derive(Debug)]
pub struct Skipped {
    /// What failed: `record`, `message`, `attributes`, `peer index`.
    pub context: &'static str,
    /// Offset of the failing byte within the record.
    pub offset: usize,
    /// The error in words.
    pub message: String,
}

/// Turns records into elements; keeps the current PEER_INDEX_TABLE.
#[derive(Debug, Default)]
pub struct Extractor {
    peers: Vec<Peer>,
    attrs: Attrs,
}

impl Extractor {
    /// A fresh extractor (no peer table yet).
    pub fn new() -> Self {
        Self::default()
    }

    /// Call `f` for each element of the record `bytes` (header included), in bgpdump's order.
    ///
    /// Stops at the first error `f` returns. Undecodable parts are reported through `skipped`.
    pub fn record<E>(
        &mut self,
        bytes: &[u8],
        skipped: &mut dyn FnMut(Skipped),
        f: &mut dyn FnMut(&Element<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let rec = match Record::parse(bytes, 0) {
            Ok((rec, _)) => rec,
            Err(e) => {
                skipped(Skipped {
                    context: "record",
                    offset: e.offset,
                    message: e.to_string(),
                });
                return Ok(());
            }
        };
        match rec.body {
            Body::PeerIndexTable(t) => {
                self.peers.clear();
                self.peers.extend(t.peers());
                Ok(())
            }
            Body::TableDump(e) => {
                let Ok(it) = AttrIter::new_checked(e.attributes, 0) else {
                    skipped(Skipped {
                        context: "attributes",
                        offset: e.attributes_offset,
                        message: "malformed attribute block".into(),
                    });
                    return Ok(());
                };
                self.attrs.read(it.clone(), false);
                let next_hop = rib_next_hop(it, &self.attrs);
                f(&Element {
                    kind: Kind::Rib,
                    timestamp: rec.timestamp,
                    microseconds: None,
                    source: Source::TableDump,
                    peer_ip: e.peer_addr,
                    peer_asn: e.peer_as,
                    prefix: Some(e.prefix),
                    path_id: None,
                    next_hop,
                    attrs: Some(&self.attrs),
                    state: None,
                })
            }
            Body::Rib(rib) => {
                let Some(prefix) = rib.prefix() else {
                    return Ok(());
                };
                let source = Source::TableDump2 {
                    add_path: rib.add_path,
                };
                for e in rib.entries() {
                    let Some(peer) = self.peers.get(usize::from(e.peer_index)).copied() else {
                        skipped(Skipped {
                            context: "peer index",
                            offset: e.attributes_offset,
                            message: format!(
                                "RIB entry names peer {} of a peer table of {}",
                                e.peer_index,
                                self.peers.len()
                            ),
                        });
                        continue;
                    };
                    let Ok(it) = AttrIter::new_checked(e.attributes, 0) else {
                        skipped(Skipped {
                            context: "attributes",
                            offset: e.attributes_offset,
                            message: "malformed attribute block".into(),
                        });
                        continue;
                    };
                    self.attrs.read(it.clone(), true);
                    let next_hop = rib_next_hop(it, &self.attrs);
                    f(&Element {
                        kind: Kind::Rib,
                        timestamp: rec.timestamp,
                        microseconds: None,
                        source,
                        peer_ip: peer.addr,
                        peer_asn: peer.asn,
                        prefix: Some(prefix),
                        path_id: e.path_id.or(rib.nlri_path_id),
                        next_hop,
                        attrs: Some(&self.attrs),
                        state: None,
                    })?;
                }
                Ok(())
            }
            Body::Bgp4mpStateChange(s) => f(&Element {
                kind: Kind::State,
                timestamp: rec.timestamp,
                microseconds: rec.microseconds,
                source: Source::Bgp4mp {
                    et: rec.microseconds.is_some(),
                    local: false,
                    add_path: false,
                },
                peer_ip: s.peer.peer_addr,
                peer_asn: s.peer.peer_as,
                prefix: None,
                path_id: None,
                next_hop: None,
                attrs: None,
                state: Some((s.old_state, s.new_state)),
            }),
            Body::Bgp4mpMessage(m) => {
                let (res, _) = decode_message(&m);
                let msg = match res {
                    Ok((msg, _)) => msg,
                    Err(e) => {
                        skipped(Skipped {
                            context: "message",
                            offset: m.message_offset + e.offset,
                            message: e.to_string(),
                        });
                        return Ok(());
                    }
                };
                let Message::Update(u) = msg else {
                    return Ok(());
                };
                let base = Element {
                    kind: Kind::Withdraw,
                    timestamp: rec.timestamp,
                    microseconds: rec.microseconds,
                    source: Source::Bgp4mp {
                        et: rec.microseconds.is_some(),
                        local: m.local,
                        add_path: m.add_path,
                    },
                    peer_ip: m.peer.peer_addr,
                    peer_asn: m.peer.peer_as,
                    prefix: None,
                    path_id: None,
                    next_hop: None,
                    attrs: None,
                    state: None,
                };
                self.update(&u, m.four_octet_as, base, f)
            }
            Body::Unknown(_) => Ok(()),
        }
    }

    /// Withdrawals (classic, then MP_UNREACH_NLRI), then announcements (classic, then MP_REACH_NLRI).
    fn update<E>(
        &mut self,
        u: &UpdatePacket<&[u8]>,
        four_octet: bool,
        base: Element<'_>,
        f: &mut dyn FnMut(&Element<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        for n in u.withdrawn() {
            f(&Element {
                prefix: Some(n.prefix),
                path_id: n.path_id,
                ..base
            })?;
        }
        if let Some(it) = u.mp_unreach().and_then(|m| m.prefixes()) {
            for n in it {
                f(&Element {
                    prefix: Some(n.prefix),
                    path_id: n.path_id,
                    ..base
                })?;
            }
        }
        let mp = u.mp_reach();
        let mp_prefixes = mp.and_then(|m| m.prefixes());
        let classic = u.nlri();
        if classic.as_bytes().is_empty() && mp_prefixes.is_none() {
            return Ok(());
        }
        self.attrs.read(u.raw_attributes(), four_octet);
        let attrs = &self.attrs;
        let announce = Element {
            kind: Kind::Announce,
            attrs: Some(attrs),
            ..base
        };
        let nh = attrs.next_hop.map(IpAddr::V4);
        for n in classic {
            f(&Element {
                prefix: Some(n.prefix),
                path_id: n.path_id,
                next_hop: nh,
                ..announce
            })?;
        }
        if let (Some(m), Some(it)) = (mp, mp_prefixes) {
            let nh = mp_next_hop(m.next_hop);
            for n in it {
                f(&Element {
                    prefix: Some(n.prefix),
                    path_id: n.path_id,
                    next_hop: nh,
                    ..announce
                })?;
            }
        }
        Ok(())
    }
}

/// The next hop bgpdump prints for a RIB entry: MP_REACH_NLRI's (short or full form)
/// for IPv6 or IPv4 unicast, else NEXT_HOP.
fn rib_next_hop<'a>(attrs: impl Iterator<Item = RawAttribute<'a>>, a: &Attrs) -> Option<IpAddr> {
    let fallback = a.next_hop.map(IpAddr::V4);
    let Some(mp) = attrs
        .into_iter()
        .find(|r| r.type_code == type_code::MP_REACH_NLRI)
    else {
        return fallback;
    };
    let v = mp.value;
    let nh = match v.first() {
        // RFC 6396 §4.3.4 short form: next-hop length, next hop.
        Some(&len) if len != 0 => v.get(1..1 + usize::from(len)),
        Some(_) => {
            let afi = Afi(u16::from_be_bytes([v[0], *v.get(1)?]));
            let safi = *v.get(2)?;
            let len = usize::from(*v.get(3)?);
            if !(afi == Afi::IPV4 || afi == Afi::IPV6) || safi != 1 {
                return fallback;
            }
            v.get(4..4 + len)
        }
        None => None,
    };
    nh.and_then(mp_next_hop).or(fallback)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An attribute TLV (non-extended length).
    fn attr(flags: u8, t: u8, v: &[u8]) -> Vec<u8> {
        let mut b = vec![flags, t, v.len() as u8];
        b.extend_from_slice(v);
        b
    }

    /// An AS_PATH/AS4_PATH value from (segment type, ASNs).
    fn path(segs: &[(u8, &[u32])], width: usize) -> Vec<u8> {
        let mut b = Vec::new();
        for (t, asns) in segs {
            b.push(*t);
            b.push(asns.len() as u8);
            for a in *asns {
                if width == 4 {
                    b.extend_from_slice(&a.to_be_bytes());
                } else {
                    b.extend_from_slice(&(*a as u16).to_be_bytes());
                }
            }
        }
        b
    }

    fn read(block: &[u8], four_octet: bool) -> Attrs {
        let mut a = Attrs::default();
        a.read(AttrIter::new_checked(block, 0).unwrap(), four_octet);
        a
    }

    #[test]
    fn as_path_segments_render_as_bgpdump_does() {
        let p = path(
            &[
                (3, &[65001, 65002]),
                (4, &[65003, 65004]),
                (2, &[1, 2]),
                (1, &[3, 4, 5]),
            ],
            4,
        );
        let a = read(&attr(0x40, 2, &p), true);
        assert_eq!(a.as_path_text(), "(65001 65002) [65003,65004] 1 2 {3,4,5}");
        assert_eq!(a.origin_asns(), &[3, 4, 5]);
        assert_eq!(a.path_asns(), &[65001, 65002, 65003, 65004, 1, 2, 3, 4, 5]);
        let p = path(&[(1, &[7, 8]), (2, &[9])], 4);
        let a = read(&attr(0x40, 2, &p), true);
        assert_eq!(a.as_path_text(), "{7,8} 9");
        assert_eq!(a.origin_asns(), &[9]);
    }

    #[test]
    fn malformed_and_absent_as_paths() {
        let a = read(&attr(0x40, 2, &[2, 3, 0, 1]), true);
        assert_eq!(a.as_path_text(), "! Error !");
        assert!(a.origin_asns().is_empty());
        let a = read(&attr(0x40, 1, &[0]), true);
        assert!(!a.has_as_path());
        assert_eq!(a.as_path_text(), "");
    }

    #[test]
    fn rfc6793_as4_path_merge() {
        // AS_PATH 10 23456 {20,23456} 30 (count 4), AS4_PATH 131072 {20,196608} 30 (count 3).
        let mut b = attr(
            0x40,
            2,
            &path(&[(2, &[10, 23456]), (1, &[20, 23456]), (2, &[30])], 2),
        );
        b.extend(attr(
            0xc0,
            17,
            &path(&[(2, &[131072]), (1, &[20, 196608]), (2, &[30])], 4),
        ));
        let a = read(&b, false);
        assert_eq!(a.as_path_text(), "10 131072 {20,196608} 30");
        // An AS4_PATH longer than AS_PATH is ignored.
        let mut b = attr(0x40, 2, &path(&[(2, &[23456])], 2));
        b.extend(attr(0xc0, 17, &path(&[(2, &[131072, 131073])], 4)));
        assert_eq!(read(&b, false).as_path_text(), "23456");
        // The hops kept from AS_PATH run across segments. bgpdump 1.6.2 copies
        // the first segment again and again instead (its merge loop never
        // advances), which would print "1 1 1 1 131072" here.
        let mut b = attr(
            0x40,
            2,
            &path(&[(2, &[1]), (1, &[2, 3]), (2, &[4, 5, 23456])], 2),
        );
        b.extend(attr(0xc0, 17, &path(&[(2, &[131072])], 4)));
        assert_eq!(read(&b, false).as_path_text(), "1 {2,3} 4 5 131072");
        // 4-octet sessions ignore AS4_PATH.
        let mut b = attr(0x40, 2, &path(&[(2, &[23456])], 4));
        b.extend(attr(0xc0, 17, &path(&[(2, &[131072])], 4)));
        assert_eq!(read(&b, true).as_path_text(), "23456");
    }

    #[test]
    fn as4_aggregator_replaces_as_trans_and_otherwise_stops_the_merge() {
        let agg = |asn: u16| {
            let mut v = asn.to_be_bytes().to_vec();
            v.extend_from_slice(&[192, 0, 2, 1]);
            attr(0xc0, 7, &v)
        };
        let agg4 = attr(0xc0, 18, &[0, 2, 0, 0, 198, 51, 100, 1]);
        let as_path = attr(0x40, 2, &path(&[(2, &[10, 23456])], 2));
        let as4_path = attr(0xc0, 17, &path(&[(2, &[131072])], 4));
        let a = read(
            &[as_path.clone(), as4_path.clone(), agg(23456), agg4.clone()].concat(),
            false,
        );
        assert_eq!(
            a.aggregator,
            Some((131072, "198.51.100.1".parse().unwrap()))
        );
        assert_eq!(a.as_path_text(), "10 131072");
        // bgpdump's rule: an AGGREGATOR that is not AS_TRANS next to an AS4_AGGREGATOR
        // means an old speaker in between; neither AS4 attribute is used.
        let a = read(&[as_path, as4_path, agg(64500), agg4].concat(), false);
        assert_eq!(a.aggregator, Some((64500, "192.0.2.1".parse().unwrap())));
        assert_eq!(a.as_path_text(), "10 23456");
    }

    #[test]
    fn communities_and_the_rest() {
        let mut b = attr(
            0xc0,
            8,
            &[
                0xff, 0xff, 0xff, 0x01, 0xfd, 0xe8, 0, 100, 0xff, 0xff, 0xff, 3,
            ],
        );
        b.extend(attr(0x40, 6, &[]));
        b.extend(attr(0xc0, 7, &[0, 0, 0xfd, 0xe8, 10, 0, 0, 1]));
        b.extend(attr(0xc0, 32, &[0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]));
        b.extend(attr(0xc0, 16, &[0, 2, 0, 1, 0, 0, 0, 9]));
        b.extend(attr(0x40, 5, &[0, 0, 0, 200]));
        b.extend(attr(0x80, 4, &[0, 0, 0, 5]));
        let a = read(&b, true);
        assert_eq!(a.communities_text(), "no-export 65000:100 local-AS");
        assert!(a.atomic_aggregate);
        assert_eq!(a.aggregator, Some((65000, "10.0.0.1".parse().unwrap())));
        assert_eq!(a.large_communities, vec![[1, 2, 3]]);
        assert_eq!(a.extended_communities, vec![[0, 2, 0, 1, 0, 0, 0, 9]]);
        assert_eq!((a.local_pref, a.med), (Some(200), Some(5)));
    }
}

//! What `reflector mrt` counts, record by record.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashSet};
use std::hash::{Hash, Hasher};
use std::net::IpAddr;

use reflector_core::mrt::{Bgp4mpMessage, Body, Record, RibMpReach};
use reflector_core::wire::attribute::{type_code, AsPathView, AttrIter, TypeSet};
use reflector_core::wire::message::Message;
use reflector_core::wire::update::UpdatePacket;
use reflector_core::wire::{AfiSafi, Context, NlriIter, Prefix};
use reflector_core::Error;
use serde::Serialize;

/// How many decode errors are listed one by one (all are counted).
const MAX_LISTED_ERRORS: usize = 1000;

/// Per-family prefix counts.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct ByFamily {
    /// IPv4 (unicast and multicast).
    pub ipv4: u64,
    /// IPv6 (unicast and multicast).
    pub ipv6: u64,
}

impl ByFamily {
    fn add(&mut self, p: &Prefix) {
        match p {
            Prefix::V4(_) => self.ipv4 += 1,
            Prefix::V6(_) => self.ipv6 += 1,
        }
    }
}

/// RIB entries (TABLE_DUMP and TABLE_DUMP_V2), by family.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct RibEntries {
    /// All entries.
    pub total: u64,
    /// Entries for IPv4 prefixes.
    pub ipv4: u64,
    /// Entries for IPv6 prefixes.
    pub ipv6: u64,
    /// Entries of RIB_GENERIC records for other families (VPN, flow spec...).
    pub other: u64,
}

/// MP_REACH_NLRI / MP_UNREACH_NLRI attributes of one AFI/SAFI.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct MpCounts {
    /// The family's name, when Reflector decodes it (`ipv4-vpn`, `l2vpn-evpn`, ...).
    pub name: Option<&'static str>,
    /// UPDATEs carrying MP_REACH_NLRI for the family.
    pub reach: u64,
    /// UPDATEs carrying MP_UNREACH_NLRI for the family.
    pub unreach: u64,
    /// NLRI announced (families Reflector decodes; ADD-PATH identifiers as the message says).
    pub announced: u64,
    /// NLRI withdrawn (families Reflector decodes).
    pub withdrawn: u64,
}

/// Distinct peers.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct PeerCounts {
    /// Distinct peer addresses.
    pub addresses: usize,
    /// Distinct peer AS numbers.
    pub asns: usize,
}

/// One decode error.
#[derive(Debug, Clone, Serialize)]
pub struct DecodeError {
    /// Offset of the failing byte in the decompressed stream.
    pub offset: u64,
    /// Offset of the MRT record holding it.
    pub record_offset: u64,
    /// What was being decoded: `record`, `message`, `attributes`, `input`.
    pub context: &'static str,
    /// The error in words.
    pub message: String,
}

/// How the input ended, when it ended early.
#[derive(Debug, Clone, Serialize)]
pub struct Incomplete {
    /// Offset of the incomplete last record.
    pub offset: u64,
    /// Bytes of it present.
    pub bytes_present: usize,
    /// Bytes it announced (header included), if its header was complete.
    pub bytes_expected: Option<usize>,
    /// The read error that ended the stream, if any (a cut compressed file).
    pub io_error: Option<String>,
}

/// The report of `reflector mrt`.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// The file read.
    pub file: String,
    /// `none`, `gzip` or `bzip2`.
    pub compression: String,
    /// Decompressed bytes read as complete records.
    pub bytes: u64,
    /// Whether the file ended cleanly after a complete record.
    pub complete: bool,
    /// Why it did not, if it did not.
    pub incomplete: Option<Incomplete>,
    /// Complete MRT records read.
    pub records: u64,
    /// Records by `TYPE/SUBTYPE` name (numbers for types Reflector does not read).
    pub record_types: BTreeMap<String, u64>,
    /// BGP4MP state change records.
    pub state_changes: u64,
    /// BGP messages in BGP4MP records, by type (`invalid` for those that did not decode).
    pub bgp_messages: BTreeMap<String, u64>,
    /// Announced prefixes (classic NLRI plus MP_REACH_NLRI of IP families).
    pub announced: ByFamily,
    /// Withdrawn prefixes (classic withdrawn routes plus MP_UNREACH_NLRI of IP families).
    pub withdrawn: ByFamily,
    /// Distinct prefixes among announced, withdrawn and RIB entry prefixes.
    pub distinct_prefixes: ByFamily,
    /// End-of-RIB markers (RFC 4724).
    pub end_of_rib: u64,
    /// MP_REACH/MP_UNREACH attributes by `AFI/SAFI`.
    pub mp_families: BTreeMap<String, MpCounts>,
    /// RIB entries.
    pub rib_entries: RibEntries,
    /// UPDATEs and RIB entries carrying each path attribute type code.
    pub attributes: BTreeMap<u8, u64>,
    /// Distinct AS_PATHs (as sequences of segments and AS numbers) in UPDATEs and RIB entries.
    pub distinct_as_paths: usize,
    /// Peers of BGP4MP messages, TABLE_DUMP entries and PEER_INDEX_TABLEs.
    pub peers: PeerCounts,
    /// UPDATEs of plain (non-ADDPATH) subtypes that only decode with ADD-PATH path identifiers.
    pub add_path_inferred: u64,
    /// Decode errors (records, BGP messages, attribute blocks).
    pub error_count: u64,
    /// The first decode errors, with their offsets.
    pub errors: Vec<DecodeError>,
}

/// Running counters; [`Stats::finish`] turns them into a [`Report`].
#[derive(Default)]
pub struct Stats {
    report: Report,
    prefixes: HashSet<Prefix>,
    as_paths: HashSet<u64>,
    peer_addrs: HashSet<IpAddr>,
    peer_asns: HashSet<u32>,
}

impl Stats {
    /// Counters for `file`, compressed as `compression`.
    pub fn new(file: String, compression: &str) -> Self {
        Stats {
            report: Report {
                file,
                compression: compression.to_owned(),
                complete: true,
                ..Report::default()
            },
            ..Stats::default()
        }
    }

    /// Records read so far.
    pub fn records(&self) -> u64 {
        self.report.records
    }

    /// Note a decode error.
    pub fn error(
        &mut self,
        context: &'static str,
        record_offset: u64,
        offset: u64,
        e: &dyn std::fmt::Display,
    ) {
        self.report.error_count += 1;
        if self.report.errors.len() < MAX_LISTED_ERRORS {
            self.report.errors.push(DecodeError {
                offset,
                record_offset,
                context,
                message: e.to_string(),
            });
        }
    }

    /// Note that the input ended inside a record.
    pub fn incomplete(&mut self, inc: Incomplete) {
        self.report.complete = false;
        self.error(
            "input",
            inc.offset,
            inc.offset + inc.bytes_present as u64,
            &format_args!(
                "input ends inside a record ({} of {} bytes){}",
                inc.bytes_present,
                inc.bytes_expected
                    .map_or_else(|| "at least 12".to_owned(), |n| n.to_string()),
                inc.io_error
                    .as_deref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            ),
        );
        self.report.incomplete = Some(inc);
    }

    /// Count one record whose bytes (header included) start at `offset` of the stream.
    pub fn record(&mut self, offset: u64, bytes: &[u8]) {
        let rec = match Record::parse(bytes, 0) {
            Ok((rec, _)) => rec,
            Err(e) => {
                self.report.records += 1;
                self.report.bytes += bytes.len() as u64;
                self.error("record", offset, offset, &e);
                return;
            }
        };
        self.report.records += 1;
        self.report.bytes += rec.bytes.len() as u64;
        let name = rec
            .name()
            .map(str::to_owned)
            .unwrap_or_else(|| format!("{}/{}", rec.mrt_type, rec.subtype));
        *self.report.record_types.entry(name).or_default() += 1;
        match rec.body {
            Body::TableDump(e) => {
                self.peer(e.peer_addr, e.peer_as);
                self.rib_entry(Some(e.prefix));
                self.attribute_block(offset, e.attributes, e.attributes_offset, &e.context());
            }
            Body::PeerIndexTable(t) => {
                for p in t.peers() {
                    self.peer(p.addr, p.asn);
                }
            }
            Body::Rib(rib) => {
                let ctx = rib.context();
                for e in rib.entries() {
                    self.rib_entry(rib.prefix());
                    self.attribute_block(offset, e.attributes, e.attributes_offset, &ctx);
                }
            }
            Body::Bgp4mpMessage(m) => {
                self.peer(m.peer.peer_addr, m.peer.peer_as);
                self.message(offset, &m);
            }
            Body::Bgp4mpStateChange(_) => self.report.state_changes += 1,
            Body::Unknown(_) => {}
        }
    }

    fn peer(&mut self, addr: IpAddr, asn: u32) {
        self.peer_addrs.insert(addr);
        self.peer_asns.insert(asn);
    }

    fn rib_entry(&mut self, prefix: Option<Prefix>) {
        let r = &mut self.report.rib_entries;
        r.total += 1;
        match prefix {
            Some(Prefix::V4(_)) => r.ipv4 += 1,
            Some(Prefix::V6(_)) => r.ipv6 += 1,
            None => r.other += 1,
        }
        if let Some(p) = prefix {
            self.prefixes.insert(p);
        }
    }

    /// Attributes of a RIB entry (TABLE_DUMP / TABLE_DUMP_V2).
    fn attribute_block(
        &mut self,
        record_offset: u64,
        block: &[u8],
        block_offset: usize,
        ctx: &Context,
    ) {
        let at = |e: &Error| record_offset + (block_offset + e.offset) as u64;
        let attrs = match AttrIter::new_checked(block, 0) {
            Ok(a) => a,
            Err(e) => {
                self.error("attributes", record_offset, at(&e), &e);
                return;
            }
        };
        let mut seen = TypeSet::EMPTY;
        for a in attrs {
            if !seen.insert(a.type_code) {
                continue;
            }
            *self.report.attributes.entry(a.type_code).or_default() += 1;
            match a.type_code {
                type_code::AS_PATH => match AsPathView::new_checked(a.value, ctx.four_octet_as) {
                    Some(p) => self.as_path(&p),
                    None => {
                        let off = record_offset + (block_offset + a.offset) as u64;
                        self.error("attributes", record_offset, off, &"malformed AS_PATH");
                    }
                },
                type_code::MP_REACH_NLRI => {
                    if let Err(e) = RibMpReach::parse(a.value) {
                        let off = record_offset + (block_offset + a.offset) as u64;
                        self.error("attributes", record_offset, off, &e);
                    }
                }
                _ => {}
            }
        }
    }

    fn as_path(&mut self, p: &AsPathView<'_>) {
        let mut h = DefaultHasher::new();
        for s in p.segments() {
            s.kind.to_u8().hash(&mut h);
            s.len().hash(&mut h);
            for a in s.asns() {
                a.hash(&mut h);
            }
        }
        self.as_paths.insert(h.finish());
    }

    fn message(&mut self, record_offset: u64, m: &Bgp4mpMessage<'_>) {
        let base = record_offset + m.message_offset as u64;
        let (res, inferred) = super::elements::decode_message(m);
        if inferred {
            self.report.add_path_inferred += 1;
        }
        let (msg, err) = match res {
            Ok(x) => x,
            Err(e) => {
                *self
                    .report
                    .bgp_messages
                    .entry("invalid".into())
                    .or_default() += 1;
                self.error("message", record_offset, base + e.offset as u64, &e);
                return;
            }
        };
        *self
            .report
            .bgp_messages
            .entry(msg.message_type().as_str().into())
            .or_default() += 1;
        if let Some(e) = err {
            self.error("message", record_offset, base + e.offset as u64, &e);
        }
        if let Message::Update(u) = msg {
            self.update(&u);
        }
    }

    fn update(&mut self, u: &UpdatePacket<&[u8]>) {
        let r = &mut self.report;
        let count = |it: NlriIter<'_>, fam: &mut ByFamily, set: &mut HashSet<Prefix>| {
            for n in it {
                fam.add(&n.prefix);
                set.insert(n.prefix);
            }
        };
        count(u.nlri(), &mut r.announced, &mut self.prefixes);
        count(u.withdrawn(), &mut r.withdrawn, &mut self.prefixes);
        let nlri = |f: AfiSafi, field: &[u8], add_path: bool, withdraw: bool| {
            reflector_core::wire::family::check_nlri(
                f,
                field,
                add_path,
                withdraw,
                0,
                reflector_core::Action::AfiSafiDisable,
            )
            .and_then(|r| r.ok())
            .unwrap_or(0) as u64
        };
        if let Some(m) = u.mp_reach() {
            let c = r.mp_families.entry(family(m.afi_safi)).or_default();
            c.name = reflector_core::wire::family::name(m.afi_safi);
            c.reach += 1;
            c.announced += nlri(m.afi_safi, m.nlri_bytes, m.add_path, false);
            if let Some(it) = m.prefixes() {
                count(it, &mut r.announced, &mut self.prefixes);
            }
        }
        if let Some(m) = u.mp_unreach() {
            let c = r.mp_families.entry(family(m.afi_safi)).or_default();
            c.name = reflector_core::wire::family::name(m.afi_safi);
            c.unreach += 1;
            c.withdrawn += nlri(m.afi_safi, m.nlri_bytes, m.add_path, true);
            if let Some(it) = m.prefixes() {
                count(it, &mut r.withdrawn, &mut self.prefixes);
            }
        }
        if u.end_of_rib().is_some() {
            r.end_of_rib += 1;
        }
        let mut seen = TypeSet::EMPTY;
        for a in u.raw_attributes() {
            if seen.insert(a.type_code) {
                *r.attributes.entry(a.type_code).or_default() += 1;
            }
        }
        if let Some(p) = u.as_path() {
            self.as_path(&p);
        }
    }

    /// The report.
    pub fn finish(mut self) -> Report {
        let mut d = ByFamily::default();
        for p in &self.prefixes {
            d.add(p);
        }
        self.report.distinct_prefixes = d;
        self.report.distinct_as_paths = self.as_paths.len();
        self.report.peers = PeerCounts {
            addresses: self.peer_addrs.len(),
            asns: self.peer_asns.len(),
        };
        self.report
    }
}

fn family(f: AfiSafi) -> String {
    format!("{}/{}", f.afi.0, f.safi.0)
}

//! BGP messages out of packet captures (pcap and pcapng).
//!
//! Frames are decoded down to TCP through the link types found in the shared
//! captures (Ethernet with VLAN/MPLS, Linux cooked v1/v2, raw IP, PPP, BSD
//! loopback, Cisco HDLC, Frame Relay, Juniper Ethernet). Each TCP direction is
//! reassembled by sequence number (retransmissions and overlaps dropped,
//! out-of-order segments put back in order, gaps skipped), and each contiguous
//! run of stream bytes is split into BGP messages by marker and length.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use pcap_parser::pcapng::Block;
use pcap_parser::{create_reader, PcapBlockOwned, PcapError};

/// One direction of a TCP connection: (source address, source port, destination address, destination port).
pub type StreamId = (IpAddr, u16, IpAddr, u16);

/// A BGP message found in a capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedMessage {
    /// The TCP direction it was sent on.
    pub stream: StreamId,
    /// The message, header included (as many bytes as its length field says;
    /// 19 when that field is below the minimum).
    pub bytes: Vec<u8>,
}

impl CapturedMessage {
    /// The message type octet.
    pub fn msg_type(&self) -> u8 {
        self.bytes.get(18).copied().unwrap_or(0)
    }
}

/// Every BGP message in the capture at `path`, stream by stream in order of first appearance.
pub fn bgp_messages(path: impl AsRef<Path>) -> Result<Vec<CapturedMessage>, String> {
    let path = path.as_ref();
    let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    bgp_messages_from_bytes(&data).map_err(|e| format!("{}: {e}", path.display()))
}

/// Every BGP message in a capture held in memory.
pub fn bgp_messages_from_bytes(capture: &[u8]) -> Result<Vec<CapturedMessage>, String> {
    let mut streams = Streams::default();
    for_each_frame(capture, |linktype, frame| {
        if let Some(seg) = link_to_ip(linktype, frame).and_then(ip_to_tcp) {
            streams.add(seg);
        }
    })?;
    Ok(streams.into_messages())
}

/// Number of messages of each type (index = type octet, 0..=5; 0 collects other types).
pub fn count_by_type(msgs: &[CapturedMessage]) -> [usize; 6] {
    let mut n = [0usize; 6];
    for m in msgs {
        let t = usize::from(m.msg_type());
        let slot = if t < n.len() { t } else { 0 };
        if let Some(c) = n.get_mut(slot) {
            *c += 1;
        }
    }
    n
}

/// Call `f(linktype, frame bytes)` for every captured frame.
fn for_each_frame(capture: &[u8], mut f: impl FnMut(i32, &[u8])) -> Result<(), String> {
    let cursor = std::io::Cursor::new(capture.to_vec());
    let mut reader = create_reader(capture.len() + 65536, cursor)
        .map_err(|e| format!("not a pcap or pcapng file: {e:?}"))?;
    let mut legacy_linktype = 1;
    let mut if_linktypes: Vec<i32> = Vec::new();
    let mut stalled = false;
    loop {
        match reader.next() {
            Ok((offset, block)) => {
                stalled = false;
                match block {
                    PcapBlockOwned::LegacyHeader(h) => legacy_linktype = h.network.0,
                    PcapBlockOwned::Legacy(b) => {
                        let n = (b.caplen as usize).min(b.data.len());
                        f(legacy_linktype, &b.data[..n]);
                    }
                    PcapBlockOwned::NG(Block::SectionHeader(_)) => if_linktypes.clear(),
                    PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                        if_linktypes.push(idb.linktype.0)
                    }
                    PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                        let lt = if_linktypes.get(epb.if_id as usize).copied().unwrap_or(1);
                        let n = (epb.caplen as usize).min(epb.data.len());
                        f(lt, &epb.data[..n]);
                    }
                    PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                        let lt = if_linktypes.first().copied().unwrap_or(1);
                        let n = (spb.origlen as usize).min(spb.data.len());
                        f(lt, &spb.data[..n]);
                    }
                    PcapBlockOwned::NG(_) => {}
                }
                reader.consume(offset);
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::Incomplete(_)) => {
                // The whole file is in the buffer: incomplete means it was cut short.
                if stalled {
                    break;
                }
                stalled = true;
                reader.refill().map_err(|e| format!("read error: {e:?}"))?;
            }
            Err(e) => return Err(format!("capture parse error: {e:?}")),
        }
    }
    Ok(())
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
        *b.get(at + 2)?,
        *b.get(at + 3)?,
    ]))
}

/// Strip the link-layer header of one frame, returning the IP packet.
fn link_to_ip(linktype: i32, frame: &[u8]) -> Option<&[u8]> {
    match linktype {
        // DLT_NULL (host byte order) and DLT_LOOP (network byte order): 4-byte address family.
        0 | 108 => frame.get(4..),
        1 => ethernet(frame),
        // PPP: optional address/control bytes, then the protocol.
        9 | 50 => {
            let b = if frame.starts_with(&[0xff, 0x03]) {
                frame.get(2..)?
            } else {
                frame
            };
            match be16(b, 0)? {
                0x0021 | 0x0057 => b.get(2..),
                0x0281 => mpls(b.get(2..)?),
                _ => None,
            }
        }
        // Raw IP.
        12 | 14 | 101 | 228 | 229 => Some(frame),
        // Cisco HDLC: address, control, protocol.
        104 => ethertype_payload(be16(frame, 2)?, frame.get(4..)?),
        // Frame Relay: Q.922 address, then either NLPID after a UI control byte or an ethertype.
        107 => {
            let rest = frame.get(2..)?;
            if rest.first() == Some(&0x03) {
                match rest.get(1)? {
                    0xcc | 0x8e => rest.get(2..),
                    0x80 => ethertype_payload(be16(rest, 6)?, rest.get(8..)?), // SNAP
                    _ => None,
                }
            } else {
                ethertype_payload(be16(rest, 0)?, rest.get(2..)?)
            }
        }
        // Linux cooked capture v1: 16-byte header, protocol last.
        113 => ethertype_payload(be16(frame, 14)?, frame.get(16..)?),
        // Juniper Ethernet: "MGC", flags, optional extension TLVs, then an Ethernet frame.
        178 => {
            if !frame.starts_with(b"MGC") {
                return None;
            }
            let flags = *frame.get(3)?;
            let skip = if flags & 0x80 != 0 {
                6 + usize::from(be16(frame, 4)?)
            } else {
                4
            };
            ethernet(frame.get(skip..)?)
        }
        // Linux cooked capture v2: protocol first, 20-byte header.
        276 => ethertype_payload(be16(frame, 0)?, frame.get(20..)?),
        _ => None,
    }
}

fn ethernet(frame: &[u8]) -> Option<&[u8]> {
    let mut at = 12;
    let mut ty = be16(frame, at)?;
    // 802.1Q / 802.1ad tags.
    while matches!(ty, 0x8100 | 0x88a8 | 0x9100) {
        at += 4;
        ty = be16(frame, at)?;
    }
    ethertype_payload(ty, frame.get(at + 2..)?)
}

fn ethertype_payload(ty: u16, rest: &[u8]) -> Option<&[u8]> {
    match ty {
        0x0800 | 0x86dd => Some(rest),
        0x8847 | 0x8848 => mpls(rest),
        _ => None,
    }
}

/// Pop an MPLS label stack.
fn mpls(mut b: &[u8]) -> Option<&[u8]> {
    loop {
        let entry = be32(b, 0)?;
        b = b.get(4..)?;
        if entry & 0x100 != 0 {
            return Some(b);
        }
    }
}

/// A TCP segment.
struct Segment {
    stream: StreamId,
    seq: u32,
    syn: bool,
    payload: Vec<u8>,
}

/// Decode IPv4/IPv6 and TCP; `None` for anything else (UDP, fragments, truncated headers).
fn ip_to_tcp(ip: &[u8]) -> Option<Segment> {
    let (src, dst, proto, l4): (IpAddr, IpAddr, u8, &[u8]) = match ip.first()? >> 4 {
        4 => {
            let ihl = usize::from(ip.first()? & 0x0f) * 4;
            let total = usize::from(be16(ip, 2)?);
            let frag = be16(ip, 6)?;
            if frag & 0x1fff != 0 || ihl < 20 || total < ihl {
                return None;
            }
            let end = total.min(ip.len());
            let src = Ipv4Addr::new(*ip.get(12)?, *ip.get(13)?, *ip.get(14)?, *ip.get(15)?);
            let dst = Ipv4Addr::new(*ip.get(16)?, *ip.get(17)?, *ip.get(18)?, *ip.get(19)?);
            (src.into(), dst.into(), *ip.get(9)?, ip.get(ihl..end)?)
        }
        6 => {
            let plen = usize::from(be16(ip, 4)?);
            let mut next = *ip.get(6)?;
            let src: [u8; 16] = ip.get(8..24)?.try_into().ok()?;
            let dst: [u8; 16] = ip.get(24..40)?.try_into().ok()?;
            let end = (40 + plen).min(ip.len());
            let mut at = 40;
            // Hop-by-hop, routing and destination options headers.
            while matches!(next, 0 | 43 | 60) {
                let h = ip.get(at..end)?;
                next = *h.first()?;
                at += (usize::from(*h.get(1)?) + 1) * 8;
            }
            (
                Ipv6Addr::from(src).into(),
                Ipv6Addr::from(dst).into(),
                next,
                ip.get(at..end)?,
            )
        }
        _ => return None,
    };
    if proto != 6 {
        return None;
    }
    let sport = be16(l4, 0)?;
    let dport = be16(l4, 2)?;
    let seq = be32(l4, 4)?;
    let off = usize::from(l4.get(12)? >> 4) * 4;
    let flags = *l4.get(13)?;
    if off < 20 {
        return None;
    }
    Some(Segment {
        stream: (src, sport, dst, dport),
        seq,
        syn: flags & 0x02 != 0,
        payload: l4.get(off..)?.to_vec(),
    })
}

/// One reassembled TCP direction.
#[derive(Default)]
struct Direction {
    /// Sequence number of stream offset 0.
    base: Option<u32>,
    /// Stream offset of the next expected byte.
    next: u64,
    /// Stream offset of the first byte of the current run.
    run_start: u64,
    /// Contiguous runs of stream bytes, split where a gap was skipped.
    runs: Vec<Vec<u8>>,
    /// Segments that arrived ahead of `next`, by stream offset.
    pending: BTreeMap<u64, Vec<u8>>,
}

impl Direction {
    fn add(&mut self, seg: Segment) {
        // A SYN consumes one sequence number; any data it carries starts after it.
        let seq = if seg.syn {
            let first = seg.seq.wrapping_add(1);
            if self.base.is_none() {
                self.base = Some(first);
            }
            first
        } else {
            seg.seq
        };
        if seg.payload.is_empty() {
            return;
        }
        let base = *self.base.get_or_insert(seq);
        let rel = seq.wrapping_sub(base) as i32;
        let (rel, payload) = if rel < 0 {
            // Starts before the first byte we track: keep only the part after it.
            let skip = rel.unsigned_abs() as usize;
            match seg.payload.get(skip..) {
                Some(p) if !p.is_empty() => (0u64, p.to_vec()),
                _ => return,
            }
        } else {
            (u64::from(rel.unsigned_abs()), seg.payload)
        };
        if rel < self.next {
            self.overlapping(rel, payload);
        } else {
            let keep = self
                .pending
                .get(&rel)
                .is_none_or(|old| old.len() < payload.len());
            if keep {
                self.pending.insert(rel, payload);
            }
        }
        self.drain(false);
    }

    /// A segment starting before `next`: a retransmission if its bytes agree
    /// with what we have (only its new tail is kept); if they differ, the
    /// sender reused sequence numbers (crafted captures do) and the segment
    /// starts a new run.
    fn overlapping(&mut self, at: u64, data: Vec<u8>) {
        let have_end = self.next.min(at + data.len() as u64);
        let agrees = match (
            self.runs.last(),
            at.checked_sub(self.run_start),
            have_end.checked_sub(self.run_start),
        ) {
            (Some(run), Some(a), Some(b)) => {
                let theirs = data.get(..(have_end - at) as usize);
                run.get(a as usize..b as usize) == theirs
            }
            _ => true,
        };
        if agrees {
            self.pending.insert(at, data);
        } else {
            self.next = at + data.len() as u64;
            self.run_start = at;
            self.runs.push(data);
        }
    }

    /// Move pending segments into the current run; with `skip_gaps`, jump over holes.
    fn drain(&mut self, skip_gaps: bool) {
        while let Some((&at, _)) = self.pending.first_key_value() {
            if at > self.next {
                if !skip_gaps {
                    return;
                }
                // A hole: start a new run at the next segment we have.
                self.runs.push(Vec::new());
                self.next = at;
                self.run_start = at;
            }
            let Some((at, data)) = self.pending.pop_first() else {
                return;
            };
            let overlap = (self.next - at) as usize;
            if let Some(fresh) = data.get(overlap..) {
                if !fresh.is_empty() {
                    if self.runs.is_empty() {
                        self.runs.push(Vec::new());
                        self.run_start = self.next;
                    }
                    if let Some(run) = self.runs.last_mut() {
                        run.extend_from_slice(fresh);
                    }
                    self.next += fresh.len() as u64;
                }
            }
        }
    }
}

#[derive(Default)]
struct Streams {
    order: Vec<StreamId>,
    dirs: HashMap<StreamId, Direction>,
}

impl Streams {
    fn add(&mut self, seg: Segment) {
        let id = seg.stream;
        let dir = self.dirs.entry(id).or_insert_with(|| {
            self.order.push(id);
            Direction::default()
        });
        dir.add(seg);
    }

    fn into_messages(mut self) -> Vec<CapturedMessage> {
        let mut out = Vec::new();
        for id in &self.order {
            let Some(dir) = self.dirs.get_mut(id) else {
                continue;
            };
            dir.drain(true);
            for run in &dir.runs {
                for bytes in split_messages(run) {
                    out.push(CapturedMessage {
                        stream: *id,
                        bytes: bytes.to_vec(),
                    });
                }
            }
        }
        out
    }
}

const MARKER: [u8; 16] = [0xff; 16];

/// Split a contiguous run of stream bytes into BGP messages, resynchronizing on the marker.
pub fn split_messages(run: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut i = 0;
    while i + 19 <= run.len() {
        if run.get(i..i + 16) != Some(&MARKER[..]) {
            match find_marker(run, i + 1) {
                Some(p) => {
                    i = p;
                    continue;
                }
                None => break,
            }
        }
        let len = usize::from(be16(run, i + 16).unwrap_or(0));
        if len < 19 {
            // A bogus length: hand out the header so a parser can reject it, then resynchronize.
            out.push(&run[i..i + 19]);
            i += 19;
            continue;
        }
        match run.get(i..i + len) {
            Some(m) => {
                out.push(m);
                i += len;
            }
            None => break,
        }
    }
    out
}

/// The next position at or after `from` where 16 bytes of 0xff end just before a non-0xff byte.
fn find_marker(run: &[u8], from: usize) -> Option<usize> {
    let mut ones = 0usize;
    for (k, &b) in run.iter().enumerate().skip(from) {
        if b == 0xff {
            ones += 1;
        } else {
            if ones >= 16 {
                return Some(k - 16);
            }
            ones = 0;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(name: &str) -> String {
        format!(
            "{}/../../shared/data/pcap/{name}",
            env!("CARGO_MANIFEST_DIR")
        )
    }

    #[test]
    fn split_resynchronizes_on_marker() {
        let mut run = vec![1, 2, 3];
        let ka = {
            let mut v = vec![0xff; 16];
            v.extend_from_slice(&[0, 19, 4]);
            v
        };
        run.extend_from_slice(&ka);
        run.extend_from_slice(&ka);
        run.extend_from_slice(&ka[..10]);
        let msgs = split_messages(&run);
        assert_eq!(msgs.len(), 2);
        assert!(msgs.iter().all(|m| *m == &ka[..]));
    }

    /// (file, link type, OPEN, UPDATE, NOTIFICATION, KEEPALIVE, ROUTE-REFRESH) as SOURCES.md gives them.
    const EXPECTED: &[(&str, &str, [usize; 5])] = &[
        (
            "netgauze_bgp_multiple-sessions_traffic.pcap",
            "ethernet, v4+v6",
            [20, 100, 0, 171, 0],
        ),
        (
            "pmacct-305_bgp-multi-sources-open.pcap",
            "ethernet, SYN with data",
            [8, 0, 0, 0, 0],
        ),
        (
            "pmacct-305_bgp-multi-sources-update-keepalive.pcap",
            "ethernet",
            [0, 416, 0, 32, 0],
        ),
        (
            "pmacct-300_BGP-IPv6-CISCO-extNH_enc.pcap",
            "ethernet, IPv6",
            [1, 45, 0, 1, 0],
        ),
        ("BGP_MP_NLRI.cap", "ethernet", [4, 4, 0, 16, 0]),
        ("IBGP_adjacency.cap", "ethernet", [2, 14, 0, 8, 0]),
        ("bgp-add-path.cap", "ethernet", [2, 4, 0, 4, 2]),
        ("bgp-4byte-asn.pcap", "ethernet", [8, 10, 1, 16, 0]),
        ("bgp-lu-multiple-labels.pcap", "ethernet", [4, 7, 1, 8, 0]),
        ("bgp-bgpsec.pcap", "ethernet", [4, 24, 0, 4, 0]),
        ("bgp-role.pcapng", "linux cooked", [1, 9, 0, 2, 0]),
        (
            "bgp-enhanced-route-refresh-subtype.pcapng",
            "linux cooked",
            [0, 5, 0, 0, 3],
        ),
        ("bgp-addpath.pcap", "raw IP", [0, 1, 0, 0, 0]),
        ("bgp_vpn_attrset.pcap", "PPP", [0, 1, 0, 0, 0]),
        ("BGP_redist.cap", "Cisco HDLC + MPLS", [0, 2, 0, 0, 0]),
        (
            "4-byte_AS_numbers_Mixed_Scenario.cap",
            "Cisco HDLC",
            [0, 2, 0, 2, 0],
        ),
        ("bgp_med.pcapng.cap", "Frame Relay", [0, 2, 0, 0, 0]),
        (
            "bgp_as_confed_sequence.pcapng.cap",
            "Frame Relay",
            [0, 3, 0, 0, 0],
        ),
        (
            "bgp-bfd-cease.pcap",
            "ethernet, SYN with data",
            [0, 0, 1, 0, 0],
        ),
        (
            "bgp_orf_prefix_advertisement.pcapng.cap",
            "ethernet",
            [0, 0, 0, 1, 1],
        ),
    ];

    #[test]
    fn message_counts_match_sources() {
        for (file, link, [o, u, n, k, r]) in EXPECTED {
            let msgs = bgp_messages(data(file)).unwrap();
            let c = count_by_type(&msgs);
            assert_eq!(
                [c[1], c[2], c[3], c[4], c[5]],
                [*o, *u, *n, *k, *r],
                "{file} ({link})"
            );
            assert_eq!(c[0], 0, "{file}: no message of another type");
            for m in &msgs {
                assert_eq!(
                    usize::from(u16::from_be_bytes([m.bytes[16], m.bytes[17]])),
                    m.bytes.len()
                );
            }
        }
    }

    #[test]
    fn netgauze_sessions_run_over_both_families() {
        let msgs = bgp_messages(data("netgauze_bgp_multiple-sessions_traffic.pcap")).unwrap();
        assert!(msgs.iter().any(|m| m.stream.0.is_ipv4()));
        assert!(msgs.iter().any(|m| m.stream.0.is_ipv6()));
        assert!(msgs.iter().all(|m| m.stream.1 == 179 || m.stream.3 == 179));
    }

    #[test]
    fn segments_reusing_a_sequence_number_with_other_bytes_are_kept_apart() {
        // Two frames share a sequence number: Cease/Administrative Shutdown, then the same text as Administrative Reset.
        let msgs = bgp_messages(data("bgp-shutdown-communication.pcapng")).unwrap();
        let subcodes: Vec<u8> = msgs.iter().map(|m| m.bytes[20]).collect();
        assert_eq!(subcodes, [2, 4]);
        assert!(msgs.iter().all(|m| m.bytes.len() == 74 && m.bytes[19] == 6));
    }

    #[test]
    fn reassembly_reorders_drops_retransmissions_and_skips_gaps() {
        let mut ka = vec![0xff; 16];
        ka.extend_from_slice(&[0, 19, 4]);
        let stream: Vec<u8> = ka.repeat(3);
        let id: StreamId = (
            Ipv4Addr::LOCALHOST.into(),
            1,
            Ipv4Addr::LOCALHOST.into(),
            179,
        );
        let seg = |seq: u32, syn: bool, range: std::ops::Range<usize>| Segment {
            stream: id,
            seq,
            syn,
            payload: stream[range].to_vec(),
        };
        let mut s = Streams::default();
        let isn = u32::MAX - 5; // sequence numbers wrap around
        s.add(seg(isn, true, 0..0));
        let at = |off: usize| isn.wrapping_add(1).wrapping_add(off as u32);
        s.add(seg(at(30), false, 30..57)); // ahead of time
        s.add(seg(at(0), false, 0..10));
        s.add(seg(at(0), false, 0..20)); // retransmission, longer
        s.add(seg(at(20), false, 20..30));
        s.add(seg(at(25), false, 25..40)); // overlapping retransmission
        let msgs = s.into_messages();
        assert_eq!(msgs.len(), 3);
        assert!(msgs.iter().all(|m| m.bytes == ka));

        // A hole of 5 bytes: the message straddling it is lost, the rest is found again.
        let mut s = Streams::default();
        s.add(seg(100, false, 0..19));
        s.add(seg(124, false, 24..57));
        let msgs = s.into_messages();
        assert_eq!(msgs.len(), 2);
    }

    #[test]
    fn not_a_capture_is_an_error() {
        assert!(bgp_messages_from_bytes(b"definitely not a capture file").is_err());
        assert!(bgp_messages("/nonexistent/file.pcap").is_err());
    }
}

//! Every shared MRT dump read with `reflector_core::mrt`: records by type and
//! subtype, RIB entries, distinct RIB prefixes and peers, against the counts
//! written in `shared/data/SOURCES.md`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;

use reflector_core::mrt::{Body, Records};
use reflector_core::wire::Prefix;
use reflector_core::ErrorKind;
use reflector_testdata::mrt::{load_mrt, read_mrt, MRT_FILES};

/// What one pass over a file found.
#[derive(Default, Debug)]
struct Tally {
    records: BTreeMap<String, u64>,
    rib_entries_v4: u64,
    rib_entries_v6: u64,
    rib_entries_other: u64,
    rib_prefixes: HashSet<Prefix>,
    /// Peers of PEER_INDEX_TABLEs, of TABLE_DUMP entries and of BGP4MP messages
    /// (SOURCES.md counts the peers that sent messages, not those only seen in state changes).
    peer_addrs: HashSet<IpAddr>,
    peer_asns: HashSet<u32>,
    peer_table_sizes: Vec<u16>,
    largest_record: usize,
    error: Option<(ErrorKind, usize)>,
    end: usize,
}

fn tally(bytes: &[u8]) -> Tally {
    let mut t = Tally::default();
    let mut it = Records::new(bytes);
    for rec in it.by_ref() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                t.error = Some((e.kind, e.offset));
                break;
            }
        };
        let name = rec
            .name()
            .map(str::to_owned)
            .unwrap_or_else(|| format!("{}/{}", rec.mrt_type, rec.subtype));
        *t.records.entry(name).or_default() += 1;
        t.largest_record = t.largest_record.max(rec.bytes.len());
        match rec.body {
            Body::TableDump(e) => {
                match e.prefix {
                    Prefix::V4(_) => t.rib_entries_v4 += 1,
                    Prefix::V6(_) => t.rib_entries_v6 += 1,
                }
                t.rib_prefixes.insert(e.prefix);
                t.peer_addrs.insert(e.peer_addr);
                t.peer_asns.insert(e.peer_as);
            }
            Body::PeerIndexTable(p) => {
                t.peer_table_sizes.push(p.peer_count);
                assert_eq!(p.peers().count(), usize::from(p.peer_count));
                for peer in p.peers() {
                    t.peer_addrs.insert(peer.addr);
                    t.peer_asns.insert(peer.asn);
                }
            }
            Body::Rib(rib) => {
                let n = rib.entries().count() as u64;
                assert_eq!(n, u64::from(rib.entry_count));
                for e in rib.entries() {
                    assert_eq!(e.path_id.is_some(), rib.add_path, "{rib:?}");
                }
                match rib.prefix() {
                    Some(p @ Prefix::V4(_)) => {
                        t.rib_entries_v4 += n;
                        t.rib_prefixes.insert(p);
                    }
                    Some(p @ Prefix::V6(_)) => {
                        t.rib_entries_v6 += n;
                        t.rib_prefixes.insert(p);
                    }
                    None => t.rib_entries_other += n,
                }
            }
            Body::Bgp4mpMessage(m) => {
                t.peer_addrs.insert(m.peer.peer_addr);
                t.peer_asns.insert(m.peer.peer_as);
            }
            Body::Bgp4mpStateChange(_) | Body::Unknown(_) => {}
        }
    }
    t.end = it.offset();
    t
}

fn records(t: &Tally) -> Vec<(&str, u64)> {
    t.records.iter().map(|(k, v)| (k.as_str(), *v)).collect()
}

fn distinct(t: &Tally) -> (usize, usize) {
    let v4 = t
        .rib_prefixes
        .iter()
        .filter(|p| matches!(p, Prefix::V4(_)))
        .count();
    (v4, t.rib_prefixes.len() - v4)
}

fn file(name: &str) -> Tally {
    let t = tally(&load_mrt(name));
    assert_eq!(t.error, None, "{name}");
    t
}

// --- BGP4MP update dumps (SOURCES.md "Collector update dumps") ---

#[test]
fn updates_20190101_0000() {
    // 54,514 records: MESSAGE_AS4 54,471, STATE_CHANGE_AS4 43; 69 peer addresses, 38 peer ASNs.
    let t = file("updates.20190101.0000.gz");
    assert_eq!(
        records(&t),
        [
            ("BGP4MP/MESSAGE_AS4", 54_471),
            ("BGP4MP/STATE_CHANGE_AS4", 43)
        ]
    );
    assert_eq!((t.peer_addrs.len(), t.peer_asns.len()), (69, 38));
}

#[test]
fn updates_20160811_1600() {
    // 17,406 records: MESSAGE_AS4 17,384, STATE_CHANGE_AS4 22; 40 peer addresses, 20 peer ASNs.
    let t = file("updates.20160811.1600.gz");
    assert_eq!(
        records(&t),
        [
            ("BGP4MP/MESSAGE_AS4", 17_384),
            ("BGP4MP/STATE_CHANGE_AS4", 22)
        ]
    );
    assert_eq!((t.peer_addrs.len(), t.peer_asns.len()), (40, 20));
}

#[test]
fn updates_20100722_2015() {
    // 2,193 records: MESSAGE_AS4 1,364, MESSAGE 789, STATE_CHANGE_AS4 40; 56 addresses, 48 ASNs.
    let t = file("updates.20100722.2015.gz");
    assert_eq!(
        records(&t),
        [
            ("BGP4MP/MESSAGE", 789),
            ("BGP4MP/MESSAGE_AS4", 1_364),
            ("BGP4MP/STATE_CHANGE_AS4", 40)
        ]
    );
    assert_eq!((t.peer_addrs.len(), t.peer_asns.len()), (56, 48));
}

#[test]
fn updates_20070211_0141() {
    // 23,394 records, all BGP4MP/MESSAGE; 31 peer addresses, 16 peer ASNs.
    let t = file("updates.20070211.0141.gz");
    assert_eq!(records(&t), [("BGP4MP/MESSAGE", 23_394)]);
    assert_eq!((t.peer_addrs.len(), t.peer_asns.len()), (31, 16));
}

#[test]
fn updates_et_header_2015() {
    // 89,686 records: BGP4MP_ET/MESSAGE_AS4 89,681, BGP4MP_ET/MESSAGE 1, BGP4MP_ET/STATE_CHANGE_AS4 4.
    let bytes = load_mrt("updates.et-header.2015.gz");
    let t = tally(&bytes);
    assert_eq!(t.error, None);
    assert_eq!(
        records(&t),
        [
            ("BGP4MP_ET/MESSAGE", 1),
            ("BGP4MP_ET/MESSAGE_AS4", 89_681),
            ("BGP4MP_ET/STATE_CHANGE_AS4", 4)
        ]
    );
    // The extended timestamp is read: records of the 2015-10-23 02:01:18–02:01:55 window.
    let ts: Vec<_> = Records::new(&bytes)
        .map(|r| r.unwrap())
        .map(|r| (r.timestamp, r.microseconds.unwrap()))
        .collect();
    assert!(ts
        .iter()
        .all(|(s, us)| (1_445_565_678..=1_445_565_715).contains(s) && *us < 1_000_000));
    assert!(ts.iter().any(|(_, us)| *us != 0));
}

#[test]
fn updates_long_withdrawal() {
    // One BGP4MP/MESSAGE_AS4 record holding a single 36,894-byte UPDATE.
    let bytes = load_mrt("updates.long_withdrawal.gz");
    let recs: Vec<_> = Records::new(&bytes).map(|r| r.unwrap()).collect();
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].name(), Some("BGP4MP/MESSAGE_AS4"));
    let Body::Bgp4mpMessage(m) = recs[0].body else {
        panic!("{:?}", recs[0].body)
    };
    assert_eq!(m.message.len(), 36_894);
    assert_eq!(u16::from_be_bytes([m.message[16], m.message[17]]), 36_894);
    assert!(m.context().extended_message);
}

// --- Table dumps (SOURCES.md "Table dumps") ---

#[test]
fn bview_20020722_2337() {
    // TABLE_DUMP/AFI_IPv4: 115,521 records = entries; 112,988 distinct IPv4 prefixes;
    // 36 peer addresses, 32 peer ASNs.
    let t = file("bview.20020722.2337.gz");
    assert_eq!(records(&t), [("TABLE_DUMP/AFI_IPv4", 115_521)]);
    assert_eq!(t.rib_entries_v4, 115_521);
    assert_eq!(distinct(&t), (112_988, 0));
    assert_eq!((t.peer_addrs.len(), t.peer_asns.len()), (36, 32));
}

#[test]
fn bview_64k_stream_overflow() {
    // PEER_INDEX_TABLE with 54 peers, one RIB_IPV6_UNICAST record of 69,700 bytes, 23 entries.
    let t = file("bview.64k_stream_overflow.gz");
    assert_eq!(
        records(&t),
        [
            ("TABLE_DUMP_V2/PEER_INDEX_TABLE", 1),
            ("TABLE_DUMP_V2/RIB_IPV6_UNICAST", 1)
        ]
    );
    assert_eq!(t.peer_table_sizes, [54]);
    assert_eq!(t.largest_record - reflector_core::mrt::HEADER_LEN, 69_700);
    assert_eq!(t.rib_entries_v6, 23);
    assert_eq!(distinct(&t), (0, 1));
}

#[test]
fn bview_add_path_v4_and_v6() {
    // PEER_INDEX_TABLE (3 peers) and 31 RIB_IPV{4,6}_UNICAST_ADDPATH records; 62 entries, 31 prefixes.
    let t = file("bview.ipv4_unicast_add_path.gz");
    assert_eq!(
        records(&t),
        [
            ("TABLE_DUMP_V2/PEER_INDEX_TABLE", 1),
            ("TABLE_DUMP_V2/RIB_IPV4_UNICAST_ADDPATH", 31)
        ]
    );
    assert_eq!(t.peer_table_sizes, [3]);
    assert_eq!(t.rib_entries_v4, 62);
    assert_eq!(distinct(&t), (31, 0));

    let t = file("bview.ipv6_unicast_add_path.gz");
    assert_eq!(
        records(&t),
        [
            ("TABLE_DUMP_V2/PEER_INDEX_TABLE", 1),
            ("TABLE_DUMP_V2/RIB_IPV6_UNICAST_ADDPATH", 31)
        ]
    );
    assert_eq!(t.peer_table_sizes, [3]);
    assert_eq!(t.rib_entries_v6, 62);
    assert_eq!(distinct(&t), (0, 31));
}

#[test]
fn rib_20140523_cut_bzip2() {
    // The bzip2 stream is cut: 9,073 complete records (PEER_INDEX_TABLE with 47 peers,
    // 9,072 RIB_IPV4_UNICAST) holding 270,005 entries for 9,072 distinct prefixes, then
    // 1,267 bytes of a partial record out of 15,274,550 decompressed bytes.
    let loaded = read_mrt("rib.20140523.0600_firstMB.bz2").unwrap();
    assert!(loaded.error.is_some());
    assert_eq!(loaded.bytes.len(), 15_274_550);
    let t = tally(&loaded.bytes);
    assert_eq!(
        records(&t),
        [
            ("TABLE_DUMP_V2/PEER_INDEX_TABLE", 1),
            ("TABLE_DUMP_V2/RIB_IPV4_UNICAST", 9_072)
        ]
    );
    assert_eq!(t.peer_table_sizes, [47]);
    assert_eq!(t.rib_entries_v4, 270_005);
    assert_eq!(distinct(&t), (9_072, 0));
    assert_eq!(t.error, Some((ErrorKind::Truncated, 15_274_550 - 1_267)));
    assert_eq!(t.end, 15_274_550 - 1_267);
}

// --- Small lab dumps (SOURCES.md "Small dumps written by BGP daemons") ---

#[test]
fn bird_mrtdump_bgp() {
    // 27 records: STATE_CHANGE_AS4 12, MESSAGE 1, MESSAGE_AS4_ADDPATH 14.
    let t = file("bird-mrtdump_bgp.mrt");
    assert_eq!(
        records(&t),
        [
            ("BGP4MP/MESSAGE", 1),
            ("BGP4MP/MESSAGE_AS4_ADDPATH", 14),
            ("BGP4MP/STATE_CHANGE_AS4", 12)
        ]
    );
}

#[test]
fn bird6_mrtdump_bgp() {
    // The IPv6 twin: same record mix.
    let t = file("bird6-mrtdump_bgp.mrt");
    assert_eq!(
        records(&t),
        [
            ("BGP4MP/MESSAGE", 1),
            ("BGP4MP/MESSAGE_AS4_ADDPATH", 14),
            ("BGP4MP/STATE_CHANGE_AS4", 12)
        ]
    );
}

#[test]
fn bird_mrtdump_rib() {
    // 2 PEER_INDEX_TABLE, 4 RIB_IPV4_UNICAST, 8 RIB_IPV4_UNICAST_ADDPATH; 18 entries, 6 prefixes.
    let t = file("bird-mrtdump_rib.mrt");
    assert_eq!(
        records(&t),
        [
            ("TABLE_DUMP_V2/PEER_INDEX_TABLE", 2),
            ("TABLE_DUMP_V2/RIB_IPV4_UNICAST", 4),
            ("TABLE_DUMP_V2/RIB_IPV4_UNICAST_ADDPATH", 8)
        ]
    );
    assert_eq!(t.rib_entries_v4, 18);
    assert_eq!(distinct(&t), (6, 0));
}

#[test]
fn bird6_mrtdump_rib() {
    // 2 PEER_INDEX_TABLE, 2 RIB_IPV6_UNICAST, 5 RIB_IPV6_UNICAST_ADDPATH; 10 entries, 5 prefixes.
    let t = file("bird6-mrtdump_rib.mrt");
    assert_eq!(
        records(&t),
        [
            ("TABLE_DUMP_V2/PEER_INDEX_TABLE", 2),
            ("TABLE_DUMP_V2/RIB_IPV6_UNICAST", 2),
            ("TABLE_DUMP_V2/RIB_IPV6_UNICAST_ADDPATH", 5)
        ]
    );
    assert_eq!(t.rib_entries_v6, 10);
    assert_eq!(distinct(&t), (0, 5));
}

#[test]
fn bird_bgp() {
    // 29 records: STATE_CHANGE_AS4 12, MESSAGE 1, MESSAGE_AS4 16 (ADD-PATH payloads
    // under a plain subtype: the record layer cannot know, see mrt_updates.rs).
    let t = file("bird_bgp.mrt");
    assert_eq!(
        records(&t),
        [
            ("BGP4MP/MESSAGE", 1),
            ("BGP4MP/MESSAGE_AS4", 16),
            ("BGP4MP/STATE_CHANGE_AS4", 12)
        ]
    );
}

#[test]
fn quagga_bgp() {
    // 67 records: STATE_CHANGE_AS4 20, MESSAGE 4, MESSAGE_AS4 43.
    let t = file("quagga_bgp.mrt");
    assert_eq!(
        records(&t),
        [
            ("BGP4MP/MESSAGE", 4),
            ("BGP4MP/MESSAGE_AS4", 43),
            ("BGP4MP/STATE_CHANGE_AS4", 20)
        ]
    );
}

#[test]
fn quagga_rib() {
    // PEER_INDEX_TABLE (2 peers), 3 RIB_IPV4_UNICAST, 3 RIB_IPV6_UNICAST; 9 entries.
    let t = file("quagga_rib.mrt");
    assert_eq!(
        records(&t),
        [
            ("TABLE_DUMP_V2/PEER_INDEX_TABLE", 1),
            ("TABLE_DUMP_V2/RIB_IPV4_UNICAST", 3),
            ("TABLE_DUMP_V2/RIB_IPV6_UNICAST", 3)
        ]
    );
    assert_eq!(t.peer_table_sizes, [2]);
    assert_eq!(t.rib_entries_v4 + t.rib_entries_v6, 9);
    assert_eq!(distinct(&t), (3, 3));
}

#[test]
fn openbgpd_bgp() {
    // 87 records: STATE_CHANGE 8, MESSAGE 4, STATE_CHANGE_AS4 8, MESSAGE_AS4 67.
    let t = file("openbgpd_bgp.mrt");
    assert_eq!(
        records(&t),
        [
            ("BGP4MP/MESSAGE", 4),
            ("BGP4MP/MESSAGE_AS4", 67),
            ("BGP4MP/STATE_CHANGE", 8),
            ("BGP4MP/STATE_CHANGE_AS4", 8)
        ]
    );
}

#[test]
fn openbgpd_rib_table() {
    // Legacy TABLE_DUMP: 11 AFI_IPv4 and 20 AFI_IPv6 records (11 / 10 distinct prefixes).
    let t = file("openbgpd_rib_table.mrt");
    assert_eq!(
        records(&t),
        [("TABLE_DUMP/AFI_IPv4", 11), ("TABLE_DUMP/AFI_IPv6", 20)]
    );
    assert_eq!((t.rib_entries_v4, t.rib_entries_v6), (11, 20));
    assert_eq!(distinct(&t), (11, 10));
}

#[test]
fn openbgpd_rib_table_v2() {
    // PEER_INDEX_TABLE (3 peers), 11 RIB_IPV4_UNICAST, 10 RIB_IPV6_UNICAST (20 entries),
    // 2 RIB_GENERIC (VPNv4 here, one entry each: not IP entries).
    let t = file("openbgpd_rib_table-v2.mrt");
    assert_eq!(
        records(&t),
        [
            ("TABLE_DUMP_V2/PEER_INDEX_TABLE", 1),
            ("TABLE_DUMP_V2/RIB_GENERIC", 2),
            ("TABLE_DUMP_V2/RIB_IPV4_UNICAST", 11),
            ("TABLE_DUMP_V2/RIB_IPV6_UNICAST", 10)
        ]
    );
    assert_eq!(t.peer_table_sizes, [3]);
    assert_eq!(t.rib_entries_v6, 20);
    assert_eq!(t.rib_entries_other, 2);
    assert_eq!(distinct(&t), (11, 10));
}

#[test]
fn every_file_reads_to_its_end() {
    for name in MRT_FILES {
        let loaded = read_mrt(name).unwrap();
        let t = tally(&loaded.bytes);
        if loaded.error.is_none() {
            assert_eq!(t.error, None, "{name}");
            assert_eq!(t.end, loaded.bytes.len(), "{name}");
        }
        assert!(!t.records.is_empty(), "{name}");
    }
}

#[test]
fn every_prefix_of_every_file_cut_short_is_an_error_not_a_panic() {
    // Cut the small files at every length: complete records are returned,
    // the cut one is a Truncated error at its own offset.
    for name in MRT_FILES.iter().filter(|n| n.ends_with(".mrt")) {
        let bytes = load_mrt(name);
        let full: Vec<usize> = Records::new(&bytes).map(|r| r.unwrap().offset).collect();
        for cut in 0..bytes.len() {
            let mut it = Records::new(&bytes[..cut]);
            let mut n = 0;
            for r in it.by_ref() {
                match r {
                    Ok(rec) => {
                        assert_eq!(rec.offset, full[n]);
                        n += 1;
                    }
                    Err(e) => {
                        assert_eq!(e.kind, ErrorKind::Truncated, "{name} cut at {cut}");
                        assert_eq!(e.offset, full[n], "{name} cut at {cut}");
                    }
                }
            }
            assert!(it.next().is_none());
        }
    }
}

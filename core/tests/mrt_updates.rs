//! The BGP messages inside every shared BGP4MP dump, decoded with the context
//! each MRT record gives: message types, announced / withdrawn / distinct
//! prefixes and attribute counts against `shared/data/SOURCES.md`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, HashSet};

use reflector_core::mrt::{Body, Records, ADD_PATH_ALL};
use reflector_core::wire::attribute::TypeSet;
use reflector_core::wire::message::Message;
use reflector_core::wire::{Context, Prefix};
use reflector_testdata::mrt::load_mrt;

#[derive(Default, Debug)]
struct Tally {
    messages: BTreeMap<&'static str, u64>,
    announced: (u64, u64),
    withdrawn: (u64, u64),
    prefixes: HashSet<Prefix>,
    /// UPDATEs carrying each attribute type.
    attrs: BTreeMap<u8, u64>,
    /// UPDATEs carrying MP_REACH (.0) / MP_UNREACH (.1) per "AFI/SAFI".
    mp: BTreeMap<String, (u64, u64)>,
    /// MP_UNREACH attributes with at least one prefix.
    mp_unreach_with_prefixes: u64,
    end_of_rib: u64,
    /// UPDATEs that decode only with path identifiers their subtype did not announce.
    add_path_inferred: u64,
    errors: u64,
}

fn v4v6(p: &Prefix, c: &mut (u64, u64)) {
    match p {
        Prefix::V4(_) => c.0 += 1,
        Prefix::V6(_) => c.1 += 1,
    }
}

fn tally(name: &str) -> Tally {
    let bytes = load_mrt(name);
    let mut t = Tally::default();
    for rec in Records::new(&bytes) {
        let rec = rec.unwrap();
        let Body::Bgp4mpMessage(m) = rec.body else {
            continue;
        };
        let ctx = m.context();
        let mut res = Message::parse_revised(m.message, &ctx);
        if !matches!(res, Ok((_, None))) && !m.add_path {
            let ap = Context {
                add_path: ADD_PATH_ALL,
                ..ctx
            };
            let retry = Message::parse_revised(m.message, &ap);
            if matches!(retry, Ok((Message::Update(_), None))) {
                t.add_path_inferred += 1;
                res = retry;
            }
        }
        let (msg, err) = match res {
            Ok(x) => x,
            Err(e) => panic!("{name}: record at {}: {e}", rec.offset),
        };
        if err.is_some() {
            t.errors += 1;
        }
        *t.messages.entry(msg.message_type().as_str()).or_default() += 1;
        let Message::Update(u) = msg else { continue };
        for n in u.nlri() {
            v4v6(&n.prefix, &mut t.announced);
            t.prefixes.insert(n.prefix);
        }
        for n in u.withdrawn() {
            v4v6(&n.prefix, &mut t.withdrawn);
            t.prefixes.insert(n.prefix);
        }
        if let Some(r) = u.mp_reach() {
            let k = format!("{}/{}", r.afi_safi.afi.0, r.afi_safi.safi.0);
            t.mp.entry(k).or_default().0 += 1;
            for n in r.prefixes().into_iter().flatten() {
                v4v6(&n.prefix, &mut t.announced);
                t.prefixes.insert(n.prefix);
            }
        }
        if let Some(r) = u.mp_unreach() {
            let k = format!("{}/{}", r.afi_safi.afi.0, r.afi_safi.safi.0);
            t.mp.entry(k).or_default().1 += 1;
            if !r.nlri_bytes.is_empty() {
                t.mp_unreach_with_prefixes += 1;
            }
            for n in r.prefixes().into_iter().flatten() {
                v4v6(&n.prefix, &mut t.withdrawn);
                t.prefixes.insert(n.prefix);
            }
        }
        if u.end_of_rib().is_some() {
            t.end_of_rib += 1;
        }
        let mut seen = TypeSet::EMPTY;
        for a in u.raw_attributes() {
            if seen.insert(a.type_code) {
                *t.attrs.entry(a.type_code).or_default() += 1;
            }
        }
    }
    t
}

fn distinct(t: &Tally) -> (usize, usize) {
    let v4 = t
        .prefixes
        .iter()
        .filter(|p| matches!(p, Prefix::V4(_)))
        .count();
    (v4, t.prefixes.len() - v4)
}

fn attr(t: &Tally, code: u8) -> u64 {
    t.attrs.get(&code).copied().unwrap_or(0)
}

fn msgs(t: &Tally) -> Vec<(&'static str, u64)> {
    t.messages.iter().map(|(k, v)| (*k, *v)).collect()
}

#[test]
fn updates_20190101_0000() {
    // UPDATE 54,107, KEEPALIVE 364. Announced IPv4 150,389 / IPv6 9,559; withdrawn 2,173 / 453;
    // distinct 18,251 / 249. Communities in 33,369 UPDATEs, extended 780, large 7,546.
    // MP_REACH 7,942 / MP_UNREACH 347 (IPv6 unicast).
    let t = tally("updates.20190101.0000.gz");
    assert_eq!(msgs(&t), [("KEEPALIVE", 364), ("UPDATE", 54_107)]);
    assert_eq!(t.announced, (150_389, 9_559));
    assert_eq!(t.withdrawn, (2_173, 453));
    assert_eq!(distinct(&t), (18_251, 249));
    assert_eq!(
        (attr(&t, 8), attr(&t, 16), attr(&t, 32)),
        (33_369, 780, 7_546)
    );
    assert_eq!(t.mp.keys().collect::<Vec<_>>(), ["2/1"]);
    assert_eq!(t.mp["2/1"], (7_942, 347));
    assert_eq!(t.add_path_inferred, 0);
}

#[test]
fn updates_20160811_1600() {
    // UPDATE 17,216, KEEPALIVE 168. Announced 32,710 / 6,546; withdrawn 1,616 / 340;
    // distinct 1,623 / 94. Communities 13,267, extended 504. MP_REACH 4,487 / MP_UNREACH 271.
    let t = tally("updates.20160811.1600.gz");
    assert_eq!(msgs(&t), [("KEEPALIVE", 168), ("UPDATE", 17_216)]);
    assert_eq!(t.announced, (32_710, 6_546));
    assert_eq!(t.withdrawn, (1_616, 340));
    assert_eq!(distinct(&t), (1_623, 94));
    assert_eq!((attr(&t, 8), attr(&t, 16)), (13_267, 504));
    assert_eq!((attr(&t, 14), attr(&t, 15)), (4_487, 271));
}

#[test]
fn updates_20100722_2015() {
    // UPDATE 1,822, KEEPALIVE 331 (2-byte and 4-byte subtypes mixed). Announced 5,037 / 30;
    // withdrawn 539 / 8; distinct 744 / 7. 10 UPDATEs carry AS4_PATH. Communities in 1,120.
    let t = tally("updates.20100722.2015.gz");
    assert_eq!(msgs(&t), [("KEEPALIVE", 331), ("UPDATE", 1_822)]);
    assert_eq!(t.announced, (5_037, 30));
    assert_eq!(t.withdrawn, (539, 8));
    assert_eq!(distinct(&t), (744, 7));
    assert_eq!(attr(&t, 17), 10);
    assert_eq!(attr(&t, 8), 1_120);
}

#[test]
fn updates_20070211_0141() {
    // All UPDATE (2-byte AS). Announced 46,909 / 4,420; withdrawn 1,978 / 350; distinct
    // 2,185 / 293. MP attributes by AFI/SAFI: 2/1 4,104, 1/2 151. Communities in 9,938.
    let t = tally("updates.20070211.0141.gz");
    assert_eq!(msgs(&t), [("UPDATE", 23_394)]);
    assert_eq!(t.announced, (46_909, 4_420));
    assert_eq!(t.withdrawn, (1_978, 350));
    assert_eq!(distinct(&t), (2_185, 293));
    let (r, u) = t.mp["2/1"];
    assert_eq!(r + u, 4_104);
    let (r, u) = t.mp["1/2"];
    assert_eq!(r + u, 151);
    assert_eq!(attr(&t, 8), 9_938);
}

#[test]
fn updates_et_header_2015() {
    // OPEN 1, KEEPALIVE 2, UPDATE 89,679. 577,737 IPv4 announcements, 577,706 distinct,
    // 3 withdrawals, no IPv6. Communities in 89,674, extended 1,896.
    // Attribute types seen: 1–10, 16, 20 and 21.
    let t = tally("updates.et-header.2015.gz");
    assert_eq!(
        msgs(&t),
        [("KEEPALIVE", 2), ("OPEN", 1), ("UPDATE", 89_679)]
    );
    assert_eq!(t.announced, (577_737, 0));
    assert_eq!(t.withdrawn, (3, 0));
    assert_eq!(distinct(&t), (577_706, 0));
    assert_eq!((attr(&t, 8), attr(&t, 16)), (89_674, 1_896));
    let types: Vec<u8> = t.attrs.keys().copied().collect();
    assert_eq!(types, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 16, 20, 21]);
}

#[test]
fn updates_long_withdrawal() {
    // One 36,894-byte UPDATE whose MP_UNREACH_NLRI withdraws 4,096 distinct IPv6 prefixes;
    // no other attributes.
    let t = tally("updates.long_withdrawal.gz");
    assert_eq!(msgs(&t), [("UPDATE", 1)]);
    assert_eq!(t.withdrawn, (0, 4_096));
    assert_eq!(distinct(&t), (0, 4_096));
    assert_eq!(t.attrs.keys().copied().collect::<Vec<_>>(), [15]);
}

#[test]
fn bird_mrtdump_bgp() {
    // OPEN 2, KEEPALIVE 5, UPDATE 6, ROUTE-REFRESH 1, NOTIFICATION 1. 12 IPv4 announcements
    // with path identifiers (3 distinct prefixes). Communities in 4 UPDATEs.
    let t = tally("bird-mrtdump_bgp.mrt");
    assert_eq!(
        msgs(&t),
        [
            ("KEEPALIVE", 5),
            ("NOTIFICATION", 1),
            ("OPEN", 2),
            ("ROUTE-REFRESH", 1),
            ("UPDATE", 6)
        ]
    );
    assert_eq!(t.announced, (12, 0));
    assert_eq!(distinct(&t), (3, 0));
    assert_eq!(attr(&t, 8), 4);
    assert_eq!(t.add_path_inferred, 0);
}

#[test]
fn bird6_mrtdump_bgp() {
    // Same message mix; 12 IPv6 announcements via MP_REACH (3 distinct), MP_UNREACH 2.
    let t = tally("bird6-mrtdump_bgp.mrt");
    assert_eq!(t.messages["UPDATE"], 6);
    assert_eq!(t.announced, (0, 12));
    assert_eq!(distinct(&t), (0, 3));
    assert_eq!(attr(&t, 15), 2);
}

#[test]
fn bird_bgp_add_path_under_a_plain_subtype() {
    // ADD-PATH was negotiated but records use MESSAGE_AS4: the 6 non-empty UPDATEs carry
    // path identifiers (the other 2 are End-of-RIB). Decoded with path identifiers:
    // 14 IPv4 announcements, 4 distinct. OPEN 2, KEEPALIVE 5, UPDATE 8, ROUTE-REFRESH 1,
    // NOTIFICATION 1. Large communities in 2 UPDATEs.
    let t = tally("bird_bgp.mrt");
    assert_eq!(
        msgs(&t),
        [
            ("KEEPALIVE", 5),
            ("NOTIFICATION", 1),
            ("OPEN", 2),
            ("ROUTE-REFRESH", 1),
            ("UPDATE", 8)
        ]
    );
    assert_eq!(t.add_path_inferred, 6);
    assert_eq!(t.end_of_rib, 2);
    assert_eq!(t.announced, (14, 0));
    assert_eq!(distinct(&t), (4, 0));
    assert_eq!(attr(&t, 32), 2);
}

#[test]
fn quagga_bgp() {
    // OPEN 4, KEEPALIVE 10, UPDATE 24, ROUTE-REFRESH 7, NOTIFICATION 2. MP AFI/SAFI 2/1, 1/2,
    // 2/2, 1/128. Announced IPv4 6 / IPv6 12; 12 MP_UNREACH, none with prefixes.
    // Communities 10, extended communities 4, ATTR_SET (128) present.
    let t = tally("quagga_bgp.mrt");
    assert_eq!(
        msgs(&t),
        [
            ("KEEPALIVE", 10),
            ("NOTIFICATION", 2),
            ("OPEN", 4),
            ("ROUTE-REFRESH", 7),
            ("UPDATE", 24)
        ]
    );
    assert_eq!(
        t.mp.keys().collect::<Vec<_>>(),
        ["1/128", "1/2", "2/1", "2/2"]
    );
    assert_eq!(t.announced, (6, 12));
    assert_eq!(attr(&t, 15), 12);
    assert_eq!(t.mp_unreach_with_prefixes, 0);
    assert_eq!(t.withdrawn, (0, 0));
    assert_eq!((attr(&t, 8), attr(&t, 16)), (10, 4));
    assert!(attr(&t, 128) > 0);
}

#[test]
fn openbgpd_bgp() {
    // OPEN 4, KEEPALIVE 13, UPDATE 48, ROUTE-REFRESH 4, NOTIFICATION 2. Announced IPv4 33 /
    // IPv6 60 (11 / 10 distinct); VPNv4 (1/128) MP_REACH in 6 UPDATEs; extended communities in 6.
    let t = tally("openbgpd_bgp.mrt");
    assert_eq!(
        msgs(&t),
        [
            ("KEEPALIVE", 13),
            ("NOTIFICATION", 2),
            ("OPEN", 4),
            ("ROUTE-REFRESH", 4),
            ("UPDATE", 48)
        ]
    );
    assert_eq!(t.announced, (33, 60));
    assert_eq!(distinct(&t), (11, 10));
    assert_eq!(t.mp["1/128"].0, 6);
    assert_eq!(attr(&t, 16), 6);
}

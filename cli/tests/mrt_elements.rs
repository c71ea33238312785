//! `reflector mrt --elements` against `bgpdump -m` (RIPE NCC bgpdump 1.6.2,
//! Debian package `bgpdump`), line for line, on every shared MRT dump; the
//! element filters; the JSON lines schema.
//!
//! Two differences are known and checked as such (see the README):
//!
//! - `openbgpd_rib_table.mrt`: OpenBGPD writes a 4-octet AGGREGATOR (8 bytes)
//!   into a legacy TABLE_DUMP entry. bgpdump reads it with 2-octet width and
//!   prints `0 253.232.192.168`; Reflector reads the attribute by its length
//!   and prints `65000 192.168.0.15` (what the TABLE_DUMP_V2 dump of the same
//!   RIB, `openbgpd_rib_table-v2.mrt`, says through bgpdump too).
//! - `bird_bgp.mrt`: BIRD recorded ADD-PATH UPDATEs under the plain
//!   MESSAGE_AS4 subtype. bgpdump decodes them without path identifiers and
//!   prints 24 garbage announcements (`0.0.0.0/0`, `24.0.0.0/2`, ...);
//!   Reflector recognises the path identifiers and prints the 14 real ones.
//!
//! Tests that need bgpdump skip, saying so on stderr, when it is not installed.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::Path;
use std::process::{Command, Output};

use reflector_core::wire::Prefix;
use reflector_testdata::mrt::{mrt_path, MRT_FILES};
use serde_json::Value;

fn reflector(args: &[&str], path: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reflector"))
        .arg("mrt")
        .args(args)
        .arg(path)
        .output()
        .expect("run reflector")
}

/// `reflector mrt --elements ARGS FILE`, as lines.
fn elements(args: &[&str], name: &str) -> Vec<String> {
    let mut all = vec!["--elements"];
    all.extend_from_slice(args);
    let out = reflector(&all, &mrt_path(name));
    assert!(out.status.success(), "{name} {args:?}: {out:?}");
    String::from_utf8(out.stdout)
        .expect("UTF-8")
        .lines()
        .map(str::to_owned)
        .collect()
}

/// `bgpdump -m FILE` as lines, or `None` when bgpdump is not installed.
fn bgpdump(name: &str) -> Option<Vec<String>> {
    let out = match Command::new("bgpdump")
        .args(["-q", "-v", "-m"])
        .arg(mrt_path(name))
        .output()
    {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => panic!("cannot run bgpdump: {e}"),
    };
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect(),
    )
}

fn bgpdump_or_skip(name: &str, test: &str) -> Option<Vec<String>> {
    let lines = bgpdump(name);
    if lines.is_none() {
        eprintln!("{test}: SKIPPED, bgpdump is not installed (Debian: apt-get install bgpdump)");
    }
    lines
}

fn field(line: &str, i: usize) -> &str {
    line.split('|').nth(i).unwrap_or("")
}

#[test]
fn every_shared_dump_matches_bgpdump_line_for_line() {
    if bgpdump_or_skip(
        "quagga_rib.mrt",
        "every_shared_dump_matches_bgpdump_line_for_line",
    )
    .is_none()
    {
        return;
    }
    let mut compared = 0usize;
    for name in MRT_FILES {
        let theirs = bgpdump(name).unwrap();
        let ours = elements(&[], name);
        if *name == "bird_bgp.mrt" {
            bird_bgp(&theirs, &ours);
            continue;
        }
        assert_eq!(theirs.len(), ours.len(), "{name}: line count");
        for (i, (t, o)) in theirs.iter().zip(&ours).enumerate() {
            if t == o {
                compared += 1;
                continue;
            }
            let known = *name == "openbgpd_rib_table.mrt"
                && t.ends_with("|NAG|0 253.232.192.168|")
                && o.ends_with("|NAG|65000 192.168.0.15|")
                && t[..t.len() - 18] == o[..o.len() - 19];
            assert!(
                known,
                "{name} line {}:\n bgpdump:   {t}\n reflector: {o}",
                i + 1
            );
        }
    }
    assert!(compared > 1_200_000, "{compared} lines compared");
}

/// bird_bgp.mrt: the non-announcement lines agree; the announcements are the
/// 14 that the path identifiers reveal, of the 4 prefixes BIRD exported.
fn bird_bgp(theirs: &[String], ours: &[String]) {
    let not_a = |v: &[String]| -> Vec<String> {
        v.iter().filter(|l| field(l, 2) != "A").cloned().collect()
    };
    assert_eq!(not_a(theirs), not_a(ours));
    let a: Vec<&String> = ours.iter().filter(|l| field(l, 2) == "A").collect();
    assert_eq!(a.len(), 14);
    let prefixes: BTreeSet<&str> = a.iter().map(|l| field(l, 5)).collect();
    assert_eq!(
        prefixes,
        BTreeSet::from([
            "172.17.0.0/24",
            "172.17.1.0/24",
            "172.17.2.0/24",
            "192.168.16.0/24"
        ])
    );
    assert!(theirs.iter().any(|l| field(l, 5) == "24.0.0.0/2"));
}

/// What the filters are checked against: bgpdump's own lines, filtered here field by field.
struct Oracle {
    lines: Vec<String>,
}

impl Oracle {
    fn select(&self, keep: impl Fn(&str) -> bool) -> Vec<String> {
        self.lines.iter().filter(|l| keep(l)).cloned().collect()
    }
}

/// The AS numbers of a bgpdump AS path field.
fn path_asns(path: &str) -> Vec<u32> {
    path.split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect()
}

fn origin_asns(path: &str) -> Vec<u32> {
    match path.rsplit_once(' ').map_or(path, |(_, last)| last) {
        set if set.starts_with('{') => path_asns(set),
        last => last.parse().into_iter().collect(),
    }
}

fn prefix_of(line: &str) -> Option<Prefix> {
    field(line, 5).parse().ok()
}

fn covers(outer: &Prefix, inner: &Prefix) -> bool {
    match (outer, inner) {
        (Prefix::V4(o), Prefix::V4(i)) => {
            o.len() <= i.len()
                && (o.is_empty()
                    || i.addr().to_bits() >> (32 - o.len()) == o.addr().to_bits() >> (32 - o.len()))
        }
        (Prefix::V6(o), Prefix::V6(i)) => {
            o.len() <= i.len()
                && (o.is_empty()
                    || i.addr().to_bits() >> (128 - o.len())
                        == o.addr().to_bits() >> (128 - o.len()))
        }
        _ => false,
    }
}

/// Run one filter on `name` and compare with the oracle's selection; returns the count.
fn check(name: &str, oracle: &Oracle, args: &[&str], keep: impl Fn(&str) -> bool) -> usize {
    let want = oracle.select(keep);
    let got = elements(args, name);
    assert_eq!(got, want, "{name} {args:?}");
    want.len()
}

#[test]
fn filters_select_what_bgpdump_lines_say() {
    let name = "updates.20100722.2015.gz";
    let Some(lines) = bgpdump_or_skip(name, "filters_select_what_bgpdump_lines_say") else {
        return;
    };
    let o = Oracle { lines };
    let kind = |k: &'static str| move |l: &str| field(l, 2) == k;
    assert_eq!(check(name, &o, &["--type", "announce"], kind("A")), 5067);
    assert_eq!(check(name, &o, &["--type", "withdraw"], kind("W")), 547);
    assert_eq!(check(name, &o, &["--type", "state"], kind("STATE")), 40);
    assert_eq!(check(name, &o, &["--type", "rib"], kind("B")), 0);

    let n = check(name, &o, &["--peer-asn", "13030"], |l| {
        field(l, 4) == "13030"
    });
    assert_eq!(n, 12);
    let n = check(name, &o, &["--peer-ip", "193.203.0.97"], |l| {
        field(l, 3) == "193.203.0.97"
    });
    assert!(n > 10, "{n}");
    let n = check(name, &o, &["--peer-ip", "2001:7f8:30:0:2:1:0:8447"], |l| {
        field(l, 3) == "2001:7f8:30::2:1:0:8447"
    });
    assert!(n > 0, "{n}");

    let n = check(name, &o, &["--origin-asn", "30798"], |l| {
        field(l, 2) == "A" && origin_asns(field(l, 6)).contains(&30798)
    });
    assert!(n > 0, "{n}");
    let n = check(name, &o, &["--as-path-contains", "3356"], |l| {
        field(l, 2) == "A" && path_asns(field(l, 6)).contains(&3356)
    });
    assert!(n > 100, "{n}");
    let n = check(name, &o, &["--community", "286:800"], |l| {
        field(l, 2) == "A" && field(l, 11).split(' ').any(|c| c == "286:800")
    });
    assert!(n > 10, "{n}");
    let n = check(name, &o, &["--community", "no-export"], |l| {
        field(l, 2) == "A" && field(l, 11).split(' ').any(|c| c == "no-export")
    });
    assert!(n > 0, "{n}");

    let ts = |l: &str| -> u32 { field(l, 1).parse().unwrap() };
    let n = check(name, &o, &["--start", "1279829800"], |l| {
        ts(l) >= 1_279_829_800
    });
    assert!(n > 0 && n < o.lines.len(), "{n}");
    let n = check(name, &o, &["--end", "1279829800"], |l| {
        ts(l) <= 1_279_829_800
    });
    assert!(n > 0 && n < o.lines.len(), "{n}");
    let n = check(
        name,
        &o,
        &["--start", "1279829750", "--end", "1279829800"],
        |l| (1_279_829_750..=1_279_829_800).contains(&ts(l)),
    );
    assert!(n > 0, "{n}");

    // Prefixes: exact, more specific, less specific, on a prefix seen with both.
    let p: Prefix = "2001:4018::/32".parse().unwrap();
    let n = check(name, &o, &["--prefix", "2001:4018::/32"], |l| {
        prefix_of(l) == Some(p)
    });
    assert!(n > 0, "{n}");
    let wide: Prefix = "41.0.0.0/8".parse().unwrap();
    let n = check(
        name,
        &o,
        &["--prefix", "41.0.0.0/8", "--include-more-specific"],
        |l| prefix_of(l).is_some_and(|q| covers(&wide, &q)),
    );
    assert!(n > 10, "{n}");
    let narrow: Prefix = "41.34.29.0/24".parse().unwrap();
    let n = check(
        name,
        &o,
        &["--prefix", "41.34.29.0/24", "--include-less-specific"],
        |l| prefix_of(l).is_some_and(|q| covers(&q, &narrow)),
    );
    assert!(n > 0, "{n}");

    // Filters combine with AND.
    let n = check(
        name,
        &o,
        &[
            "--type",
            "announce",
            "--peer-asn",
            "13030",
            "--as-path-contains",
            "1299",
        ],
        |l| field(l, 2) == "A" && field(l, 4) == "13030" && path_asns(field(l, 6)).contains(&1299),
    );
    assert!(n > 0, "{n}");
}

#[test]
fn rib_filters_on_a_table_dump() {
    let name = "bview.ipv6_unicast_add_path.gz";
    let Some(lines) = bgpdump_or_skip(name, "rib_filters_on_a_table_dump") else {
        return;
    };
    let o = Oracle { lines };
    assert_eq!(check(name, &o, &["--type", "rib"], |_| true), 62);
    let top: Prefix = "2001:db8::/32".parse().unwrap();
    let n = check(
        name,
        &o,
        &["--prefix", "2001:db8::/32", "--include-more-specific"],
        |l| prefix_of(l).is_some_and(|q| covers(&top, &q)),
    );
    assert_eq!(n, 62);
    let n = check(name, &o, &["--origin-asn", "65029"], |l| {
        origin_asns(field(l, 7)) == [65029]
    });
    assert!(n > 0, "{n}");
}

#[test]
fn community_filters_on_real_bytes() {
    let name = "bview.64k_stream_overflow.gz";
    let all = elements(&["--json"], name);
    let with = |key: &str, c: &str| -> Vec<String> {
        all.iter()
            .filter(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                v[key].as_array().unwrap().contains(&Value::from(c))
            })
            .cloned()
            .collect()
    };
    let large = with("large_communities", "202365:6939:202365");
    assert_eq!(large.len(), 1);
    assert_eq!(
        elements(&["--json", "--community", "202365:6939:202365"], name),
        large
    );
    let standard = with("communities", "2914:410");
    assert!(!standard.is_empty());
    assert_eq!(
        elements(&["--json", "--community", "2914:410"], name),
        standard
    );
    assert!(elements(&["--community", "2914:410:1"], name).is_empty());
}

#[test]
fn filters_need_elements_and_valid_values() {
    let path = mrt_path("quagga_rib.mrt");
    let out = reflector(&["--prefix", "10.0.0.0/8"], &path);
    assert!(!out.status.success());
    let out = reflector(&["--elements", "--prefix", "10.0.0.0/33"], &path);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--prefix"));
    let out = reflector(&["--elements", "--community", "1:2:3:4"], &path);
    assert!(!out.status.success());
    let out = reflector(&["--elements", "--include-more-specific"], &path);
    assert!(!out.status.success());
    let out = reflector(&["--elements", "--type", "update"], &path);
    assert!(!out.status.success());
}

const KEYS: [&str; 21] = [
    "type",
    "timestamp",
    "microseconds",
    "peer_ip",
    "peer_asn",
    "prefix",
    "path_id",
    "as_path",
    "origin_asns",
    "origin",
    "next_hop",
    "local_pref",
    "med",
    "communities",
    "large_communities",
    "extended_communities",
    "atomic_aggregate",
    "aggregator_asn",
    "aggregator_ip",
    "old_state",
    "new_state",
];

/// The bgpdump line an element's JSON stands for, field by field.
fn agrees(v: &Value, line: &str) {
    let f: Vec<&str> = line.split('|').collect();
    let letter = match v["type"].as_str().unwrap() {
        "announce" => "A",
        "withdraw" => "W",
        "rib" => "B",
        "state" => "STATE",
        t => panic!("type {t}"),
    };
    assert_eq!(f[2], letter, "{line}");
    let ts = match v["microseconds"].as_u64() {
        Some(us) => format!("{}.{us:06}", v["timestamp"]),
        None => v["timestamp"].to_string(),
    };
    assert_eq!(f[1], ts, "{line}");
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    assert_eq!(ip(f[3]), ip(v["peer_ip"].as_str().unwrap()), "{line}");
    assert_eq!(f[4], v["peer_asn"].to_string(), "{line}");
    if letter == "STATE" {
        assert_eq!(f[5], v["old_state"].to_string());
        assert_eq!(f[6], v["new_state"].to_string());
        assert!(v["prefix"].is_null());
        return;
    }
    assert!(v["old_state"].is_null() && v["new_state"].is_null());
    let p = |s: &str| s.parse::<Prefix>().unwrap();
    assert_eq!(p(f[5]), p(v["prefix"].as_str().unwrap()), "{line}");
    let ap = f[0].ends_with("_AP");
    if letter == "W" {
        if ap {
            assert_eq!(f[6], v["path_id"].to_string());
        }
        assert!(v["as_path"].is_null() && v["next_hop"].is_null());
        return;
    }
    let f = if ap {
        assert_eq!(f[6], v["path_id"].to_string());
        [&f[..6], &f[7..]].concat()
    } else {
        f
    };
    assert_eq!(f[6], v["as_path"].as_str().unwrap_or(""), "{line}");
    let origins: Vec<u32> = serde_json::from_value(v["origin_asns"].clone()).unwrap();
    assert_eq!(origin_asns(f[6]), origins, "{line}");
    assert_eq!(f[7], v["origin"].as_str().unwrap_or("INCOMPLETE"), "{line}");
    match v["next_hop"].as_str() {
        Some(nh) => assert_eq!(ip(f[8]), ip(nh), "{line}"),
        None => assert_eq!(f[8], "255.255.255.255"),
    }
    assert_eq!(f[9], v["local_pref"].as_u64().unwrap_or(0).to_string());
    assert_eq!(f[10], v["med"].as_u64().unwrap_or(0).to_string());
    let comms: Vec<String> = v["communities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| match c.as_str().unwrap() {
            "65535:65281" => "no-export".to_owned(),
            "65535:65282" => "no-advertise".to_owned(),
            "65535:65283" => "local-AS".to_owned(),
            c => c.to_owned(),
        })
        .collect();
    assert_eq!(f[11], comms.join(" "), "{line}");
    let ag = if v["atomic_aggregate"].as_bool().unwrap() {
        "AG"
    } else {
        "NAG"
    };
    assert_eq!(f[12], ag, "{line}");
    let aggr = match (v["aggregator_asn"].as_u64(), v["aggregator_ip"].as_str()) {
        (Some(a), Some(ip)) => format!("{a} {ip}"),
        _ => String::new(),
    };
    assert_eq!(f[13], aggr, "{line}");
}

#[test]
fn json_lines_follow_the_schema_and_agree_with_the_text_lines() {
    for name in [
        "updates.20100722.2015.gz",
        "bird6-mrtdump_bgp.mrt",
        "bird6-mrtdump_rib.mrt",
        "bview.ipv4_unicast_add_path.gz",
        "openbgpd_bgp.mrt",
        "openbgpd_rib_table-v2.mrt",
        "quagga_bgp.mrt",
        "updates.long_withdrawal.gz",
        "updates.20190101.0000.gz",
    ] {
        let text = elements(&[], name);
        let json = elements(&["--json"], name);
        assert_eq!(text.len(), json.len(), "{name}");
        for (t, j) in text.iter().zip(&json) {
            let v: Value = serde_json::from_str(j).unwrap_or_else(|e| panic!("{name}: {e}: {j}"));
            let obj = v.as_object().unwrap();
            let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
            let mut want = KEYS.to_vec();
            want.sort_unstable();
            let mut have = keys.clone();
            have.sort_unstable();
            assert_eq!(have, want, "{name}: {j}");
            for k in ["large_communities", "extended_communities", "communities"] {
                assert!(v[k].as_array().unwrap().iter().all(Value::is_string));
            }
            for c in v["extended_communities"].as_array().unwrap() {
                let c = c.as_str().unwrap();
                assert!(
                    c.len() == 16 && c.bytes().all(|b| b.is_ascii_hexdigit()),
                    "{c}"
                );
            }
            agrees(&v, t);
        }
    }
}

#[test]
fn json_carries_what_bgpdump_m_leaves_out() {
    // ADD-PATH identifiers BIRD recorded under a plain subtype.
    let bird = elements(&["--json", "--type", "announce"], "bird_bgp.mrt");
    assert_eq!(bird.len(), 14);
    let v: Value = serde_json::from_str(&bird[0]).unwrap();
    assert!(v["path_id"].as_u64().is_some(), "{v}");

    // Extended communities (bgpdump -m prints none).
    let ext = elements(
        &["--json", "--type", "announce", "--peer-asn", "49463"],
        "updates.20160811.1600.gz",
    );
    assert!(ext.iter().any(|l| {
        let v: Value = serde_json::from_str(l).unwrap();
        v["extended_communities"]
            .as_array()
            .unwrap()
            .contains(&Value::from("0002338900000001"))
    }));

    // Microseconds of BGP4MP_ET records, and an IPv6 next hop in RFC 5952 form.
    let et = elements(&["--json", "--type", "state"], "updates.et-header.2015.gz");
    assert_eq!(et.len(), 4);
    let v: Value = serde_json::from_str(&et[0]).unwrap();
    assert_eq!(v["microseconds"], 509_481);
    assert_eq!(v["timestamp"], 1_445_565_678u32);
    let v6 = elements(
        &[
            "--json",
            "--peer-ip",
            "2001:7f8:30:0:2:1:0:8447",
            "--type",
            "announce",
        ],
        "updates.20100722.2015.gz",
    );
    let v: Value = serde_json::from_str(&v6[0]).unwrap();
    assert_eq!(v["next_hop"], "2001:7f8:30:0:2:1:0:8447");
    assert_eq!(v["peer_ip"], "2001:7f8:30:0:2:1:0:8447");
}

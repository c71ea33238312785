//! `reflector mrt`: JSON shape, compressed and plain input, truncated input, bad input.

use std::path::Path;
use std::process::{Command, Output};

use reflector_testdata::mrt::{load_mrt, mrt_path};
use serde_json::Value;

fn run(args: &[&str], path: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reflector"))
        .arg("mrt")
        .args(args)
        .arg(path)
        .output()
        .expect("run reflector")
}

fn json(path: &Path) -> Value {
    let out = run(&["--json"], path);
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("mrt_cli");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn json_has_the_documented_keys() {
    let v = json(&mrt_path("quagga_bgp.mrt"));
    for key in [
        "file",
        "compression",
        "bytes",
        "complete",
        "incomplete",
        "records",
        "record_types",
        "state_changes",
        "bgp_messages",
        "announced",
        "withdrawn",
        "distinct_prefixes",
        "end_of_rib",
        "mp_families",
        "rib_entries",
        "attributes",
        "distinct_as_paths",
        "peers",
        "add_path_inferred",
        "error_count",
        "errors",
    ] {
        assert!(v.get(key).is_some(), "missing key {key}: {v:#}");
    }
    // SOURCES.md, quagga_bgp.mrt: 67 records (STATE_CHANGE_AS4 20, MESSAGE 4, MESSAGE_AS4 43),
    // OPEN 4, KEEPALIVE 10, UPDATE 24, ROUTE-REFRESH 7, NOTIFICATION 2.
    assert_eq!(v["records"], 67);
    assert_eq!(v["record_types"]["BGP4MP/STATE_CHANGE_AS4"], 20);
    assert_eq!(v["record_types"]["BGP4MP/MESSAGE"], 4);
    assert_eq!(v["record_types"]["BGP4MP/MESSAGE_AS4"], 43);
    assert_eq!(v["bgp_messages"]["UPDATE"], 24);
    assert_eq!(v["bgp_messages"]["ROUTE-REFRESH"], 7);
    assert_eq!(v["bgp_messages"]["NOTIFICATION"], 2);
    assert_eq!(v["compression"], "none");
    assert_eq!(v["complete"], true);
    assert_eq!(v["error_count"], 0);
    assert_eq!(v["bytes"], 5_629);
}

#[test]
fn gzip_update_dump() {
    // SOURCES.md, updates.20190101.0000.gz: 54,514 records; announced 150,389 / 9,559;
    // withdrawn 2,173 / 453; distinct 18,251 / 249; 69 peer addresses, 38 peer ASNs;
    // communities in 33,369 UPDATEs; MP_REACH 7,942 / MP_UNREACH 347 (IPv6 unicast).
    let v = json(&mrt_path("updates.20190101.0000.gz"));
    assert_eq!(v["compression"], "gzip");
    assert_eq!(v["complete"], true);
    assert_eq!(v["records"], 54_514);
    assert_eq!(v["announced"]["ipv4"], 150_389);
    assert_eq!(v["announced"]["ipv6"], 9_559);
    assert_eq!(v["withdrawn"]["ipv4"], 2_173);
    assert_eq!(v["withdrawn"]["ipv6"], 453);
    assert_eq!(v["distinct_prefixes"]["ipv4"], 18_251);
    assert_eq!(v["distinct_prefixes"]["ipv6"], 249);
    assert_eq!(v["peers"]["addresses"], 69);
    assert_eq!(v["peers"]["asns"], 38);
    assert_eq!(v["attributes"]["8"], 33_369);
    assert_eq!(v["mp_families"]["2/1"]["reach"], 7_942);
    assert_eq!(v["mp_families"]["2/1"]["unreach"], 347);
    assert!(v["distinct_as_paths"].as_u64().unwrap() > 0);
}

#[test]
fn plain_table_dump_v2() {
    // SOURCES.md, openbgpd_rib_table-v2.mrt: PEER_INDEX_TABLE (3 peers), 11 RIB_IPV4_UNICAST,
    // 10 RIB_IPV6_UNICAST (20 entries), 2 RIB_GENERIC; MP_REACH_NLRI in the short form.
    let v = json(&mrt_path("openbgpd_rib_table-v2.mrt"));
    assert_eq!(v["compression"], "none");
    assert_eq!(v["record_types"]["TABLE_DUMP_V2/RIB_GENERIC"], 2);
    assert_eq!(v["rib_entries"]["ipv6"], 20);
    assert_eq!(v["rib_entries"]["other"], 2);
    assert_eq!(v["peers"]["addresses"], 3);
    assert_eq!(v["error_count"], 0, "{v:#}");
}

#[test]
fn compression_is_recognised_by_magic_not_name() {
    let p = scratch("gzip-named.mrt");
    std::fs::copy(mrt_path("bview.ipv4_unicast_add_path.gz"), &p).unwrap();
    let v = json(&p);
    assert_eq!(v["compression"], "gzip");
    // SOURCES.md: 62 entries, 31 distinct IPv4 prefixes.
    assert_eq!(v["rib_entries"]["ipv4"], 62);
    assert_eq!(v["distinct_prefixes"]["ipv4"], 31);
}

#[test]
fn cut_bzip2_reports_what_it_read_and_the_error() {
    // SOURCES.md: the bzip2 stream is cut after 9,073 complete records (PEER_INDEX_TABLE
    // and 9,072 RIB_IPV4_UNICAST, 270,005 entries); 1,267 bytes of a partial record remain.
    let out = run(&["--json"], &mrt_path("rib.20140523.0600_firstMB.bz2"));
    assert!(
        out.status.success(),
        "incomplete input is reported, exit 0: {out:?}"
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["complete"], false);
    assert_eq!(v["records"], 9_073);
    assert_eq!(v["record_types"]["TABLE_DUMP_V2/RIB_IPV4_UNICAST"], 9_072);
    assert_eq!(v["rib_entries"]["ipv4"], 270_005);
    assert_eq!(v["incomplete"]["bytes_present"], 1_267);
    assert_eq!(v["incomplete"]["offset"], 15_274_550 - 1_267);
    assert!(v["incomplete"]["io_error"].is_string());
    assert_eq!(v["error_count"], 1);
    assert_eq!(v["errors"][0]["context"], "input");
    assert_eq!(v["errors"][0]["record_offset"], 15_274_550 - 1_267);

    let text = run(&[], &mrt_path("rib.20140523.0600_firstMB.bz2"));
    assert!(text.status.success());
    let s = String::from_utf8(text.stdout).unwrap();
    assert!(s.contains("INCOMPLETE"), "{s}");
    assert!(s.contains("records       9073"), "{s}");
}

#[test]
fn plain_file_cut_inside_a_record() {
    let bytes = load_mrt("bird_bgp.mrt");
    let p = scratch("bird_bgp-cut.mrt");
    std::fs::write(&p, &bytes[..bytes.len() - 5]).unwrap();
    let v = json(&p);
    // SOURCES.md: 29 records; the last one is now incomplete.
    assert_eq!(v["records"], 28);
    assert_eq!(v["complete"], false);
    assert!(v["incomplete"]["bytes_expected"].as_u64().unwrap() > 5);
    assert!(v["incomplete"]["io_error"].is_null());
}

#[test]
fn garbage_is_reported_not_a_crash() {
    // A valid record followed by records whose bodies contradict their lengths, then junk.
    let mut bytes = load_mrt("quagga_rib.mrt");
    // TABLE_DUMP_V2 RIB_IPV4_UNICAST claiming 3 entries with none present.
    bytes.extend_from_slice(&[0, 0, 0, 0, 0, 13, 0, 2, 0, 0, 0, 8]);
    bytes.extend_from_slice(&[0, 0, 0, 1, 8, 10, 0, 3]);
    // A BGP4MP MESSAGE_AS4 whose message is not BGP.
    bytes.extend_from_slice(&[0, 0, 0, 0, 0, 16, 0, 4, 0, 0, 0, 24]);
    bytes.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1, 10, 0, 0, 1, 10, 0, 0, 2]);
    bytes.extend_from_slice(&[1, 2, 3, 4]);
    bytes.extend_from_slice(&[0xde, 0xad]);
    let p = scratch("garbage.mrt");
    std::fs::write(&p, &bytes).unwrap();
    let v = json(&p);
    assert_eq!(v["complete"], false);
    assert_eq!(v["records"], 7 + 2);
    assert_eq!(v["bgp_messages"]["invalid"], 1);
    assert_eq!(v["error_count"], 3, "{v:#}");
    let contexts: Vec<&str> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["context"].as_str().unwrap())
        .collect();
    assert_eq!(contexts, ["record", "message", "input"]);
    assert_eq!(v["errors"][0]["offset"], 1_111);
}

#[test]
fn missing_file_fails_with_its_name() {
    let out = run(&[], Path::new("/nonexistent/dump.mrt"));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/dump.mrt"));
}

#[test]
fn progress_goes_to_stderr_only_when_asked() {
    let quiet = run(&[], &mrt_path("bird6-mrtdump_rib.mrt"));
    assert!(quiet.stderr.is_empty());
    let loud = run(&["--progress"], &mrt_path("bird6-mrtdump_rib.mrt"));
    let err = String::from_utf8(loud.stderr).unwrap();
    assert!(err.contains("9 records"), "{err}");
    assert_eq!(quiet.stdout, loud.stdout);
}

/// The clients' UPDATEs of interop phase 7 (GoBGP, BIRD; `core/tests/data`)
/// as BGP4MP_MESSAGE_AS4 records.
fn families_mrt() -> std::path::PathBuf {
    let cap = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../core/tests/data/families-interop.pcapng"
    );
    let mut out = Vec::new();
    for m in reflector_testdata::pcap::bgp_messages(cap).unwrap() {
        let (std::net::IpAddr::V4(src), _, std::net::IpAddr::V4(dst), 11870) = m.stream else {
            continue;
        };
        if m.msg_type() != 2 {
            continue;
        }
        let mut body = Vec::new();
        body.extend_from_slice(&64512u32.to_be_bytes());
        body.extend_from_slice(&64512u32.to_be_bytes());
        body.extend_from_slice(&0u16.to_be_bytes());
        body.extend_from_slice(&1u16.to_be_bytes());
        body.extend_from_slice(&src.octets());
        body.extend_from_slice(&dst.octets());
        body.extend_from_slice(&m.bytes);
        out.extend_from_slice(&1_796_000_000u32.to_be_bytes());
        out.extend_from_slice(&16u16.to_be_bytes());
        out.extend_from_slice(&4u16.to_be_bytes());
        out.extend_from_slice(&(body.len() as u32).to_be_bytes());
        out.extend_from_slice(&body);
    }
    let path = scratch("families.mrt");
    std::fs::write(&path, out).unwrap();
    path
}

#[test]
fn nlri_are_counted_per_family_for_every_family_reflector_decodes() {
    let v = json(&families_mrt());
    let f = &v["mp_families"];
    // GoBGP A: two VPN-IPv4 routes, one withdrawn again; BIRD: one more.
    assert_eq!(f["1/128"]["name"], "ipv4-vpn");
    assert_eq!(f["1/128"]["announced"], 3);
    assert_eq!(f["1/128"]["withdrawn"], 1);
    assert_eq!(f["2/128"]["announced"], 1);
    assert_eq!(f["25/70"]["name"], "l2vpn-evpn");
    assert_eq!(f["25/70"]["announced"], 2);
    // GoBGP A's rule and BIRD's.
    assert_eq!(f["1/133"]["announced"], 2);
    // One membership from each of GoBGP B and C.
    assert_eq!(f["1/132"]["name"], "rt-constraint");
    assert_eq!(f["1/132"]["announced"], 2);
    let text = run(&[], &families_mrt());
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.lines()
            .any(|l| l.contains("1/128 ipv4-vpn")
                && l.split_whitespace().rev().take(2).eq(["1", "3"])),
        "{text}"
    );
}

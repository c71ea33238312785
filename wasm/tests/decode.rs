#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The decoders behind `decodeUpdate`, `decodeMessage` and `MrtParser`, natively, on
//! hand-built UPDATEs and on the shared MRT dumps (counts from `shared/data/SOURCES.md`).

use reflector_testdata::mrt::load_mrt;
use reflector_wasm::decode::{decode_message, decode_update, parse_hex, DecodeOptions, MrtStream};
use serde_json::Value;

/// An UPDATE: ORIGIN IGP, AS_PATH 65001 65002, NEXT_HOP 10.0.0.1, ORIGINATOR_ID, CLUSTER_LIST, NLRI 10.1.0.0/16.
const REFLECTED: &str = "ffffffffffffffffffffffffffffffff 0040 02 0000 \
    0026 40010100 40020a02020000fde90000fdea 4003040a000001 8009040a000003 800a04e0000001 \
    100a01";

fn update(hex: &str) -> Value {
    decode_update(&parse_hex(hex).unwrap(), &DecodeOptions::default())
}

#[test]
fn a_reflected_update_decodes_to_camel_case_fields() {
    let u = update(REFLECTED);
    assert_eq!(u["type"], "UPDATE");
    assert_eq!(u["length"], 64);
    assert_eq!(u["errors"], serde_json::json!([]));
    assert_eq!(u["action"], Value::Null);
    assert_eq!(u["nlri"], serde_json::json!([{ "prefix": "10.1.0.0/16" }]));
    assert_eq!(u["origin"], "IGP");
    assert_eq!(u["asPath"], "65001 65002");
    assert_eq!(u["nextHop"], "10.0.0.1");
    assert_eq!(u["originatorId"], "10.0.0.3");
    assert_eq!(u["clusterList"], serde_json::json!(["224.0.0.1"]));
    let names: Vec<&str> = u["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "ORIGIN",
            "AS_PATH",
            "NEXT_HOP",
            "ORIGINATOR_ID",
            "CLUSTER_LIST"
        ]
    );
    assert_eq!(
        u["attributes"][1]["value"],
        serde_json::json!([{ "type": "AS_SEQUENCE", "asns": [65001, 65002] }])
    );
}

#[test]
fn rfc7606_errors_are_typed_with_action_and_notification() {
    // NEXT_HOP 0.0.0.0 with NLRI: treat-as-withdraw, UPDATE Message Error / Invalid NEXT_HOP.
    let u = update(&REFLECTED.replace("4003040a000001", "40030400000000"));
    let e = &u["errors"][0];
    assert_eq!(e["kind"], "InvalidNextHop");
    assert_eq!(e["action"], "treat-as-withdraw");
    assert_eq!(
        (e["code"].as_u64(), e["subcode"].as_u64()),
        (Some(3), Some(8))
    );
    assert_eq!(e["attributeType"], 3);
    assert_eq!(u["treatAsWithdraw"], true);
    assert_eq!(u["action"], "treat-as-withdraw");
    // A bad ORIGIN value (7).
    let u = update(&REFLECTED.replace("40010100", "40010107"));
    assert_eq!(u["errors"][0]["kind"], "InvalidOrigin");
    assert_eq!(u["errors"][0]["subcode"], 6);
    // Attribute lengths overrunning the message: session reset, nothing else decoded.
    let u = update(&REFLECTED.replace(" 0026 ", " 0046 "));
    assert_eq!(u["errors"][0]["action"], "session-reset");
    assert_eq!(u["errors"][0]["fatal"], true);
    assert_eq!(u["errors"][0]["codeName"], "UPDATE Message Error");
    assert_eq!(u["attributes"], serde_json::json!([]));
    // A KEEPALIVE is not an UPDATE.
    let u = update("ffffffffffffffffffffffffffffffff001304");
    assert_eq!(u["errors"][0]["kind"], "BadMessageType");
    assert_eq!(u["errors"][0]["code"], 1);
    assert_eq!(
        decode_message(
            &parse_hex("ffffffffffffffffffffffffffffffff001304").unwrap(),
            &DecodeOptions::default()
        )["type"],
        "KEEPALIVE"
    );
    // Cut short.
    assert_eq!(update("ffffffff")["errors"][0]["kind"], "Truncated");
}

#[test]
fn hex_parsing_accepts_separators_and_rejects_junk() {
    assert_eq!(parse_hex("0x0a:0B-ff 00").unwrap(), vec![10, 11, 255, 0]);
    assert!(parse_hex("abc").unwrap_err().contains("odd"));
    assert!(parse_hex("zz").unwrap_err().contains("not a hex digit"));
}

/// Records of `bytes` read through a stream fed `chunk` bytes at a time.
fn stream(bytes: &[u8], chunk: usize) -> (Vec<Value>, Value) {
    let mut s = MrtStream::new();
    let mut out = Vec::new();
    for c in bytes.chunks(chunk) {
        out.extend(s.push(c));
    }
    (out, s.finish())
}

fn count_messages(records: &[Value]) -> (usize, usize, usize, usize, usize) {
    let (mut updates, mut keepalives, mut v4, mut v6, mut withdrawn) = (0, 0, 0, 0, 0);
    for r in records {
        if r["kind"] != "bgp4mpMessage" {
            continue;
        }
        let m = &r["body"]["message"];
        match m["type"].as_str() {
            Some("UPDATE") => updates += 1,
            Some("KEEPALIVE") => keepalives += 1,
            _ => {}
        }
        if m["type"] == "UPDATE" {
            v4 += m["nlri"].as_array().unwrap().len();
            if let Some(n) = m["mpReach"]["nlri"].as_array() {
                v6 += n.len();
            }
            withdrawn += m["withdrawn"].as_array().unwrap().len();
            if let Some(n) = m["mpUnreach"]["withdrawn"].as_array() {
                withdrawn += n.len();
            }
        }
    }
    (updates, keepalives, v4, v6, withdrawn)
}

#[test]
fn mrt_stream_reads_an_update_dump_in_any_chunking() {
    // updates.20100722.2015: 2,193 records; UPDATE 1,822, KEEPALIVE 331; announced
    // IPv4 5,037 / IPv6 30; withdrawn IPv4 539 / IPv6 8.
    let bytes = load_mrt("updates.20100722.2015.gz");
    let (records, summary) = stream(&bytes, 4096);
    assert_eq!(records.len(), 2193);
    assert_eq!(summary["records"], 2193);
    assert_eq!(summary["errors"], serde_json::json!([]));
    assert_eq!(summary["bytes"].as_u64(), Some(bytes.len() as u64));
    assert_eq!(count_messages(&records), (1822, 331, 5037, 30, 539 + 8));
    // Odd chunk sizes give the same records.
    let (again, _) = stream(&bytes, 7777);
    assert_eq!(again, records);
    let (tiny, _) = stream(&bytes[..5000], 3);
    assert_eq!(tiny[..], records[..tiny.len()]);
}

#[test]
fn mrt_stream_reads_table_dumps_and_reports_truncation() {
    // bird-mrtdump_rib: 2 PEER_INDEX_TABLE, 4 RIB_IPV4_UNICAST, 8 RIB_IPV4_UNICAST_ADDPATH; 18 entries.
    let bytes = load_mrt("bird-mrtdump_rib.mrt");
    let (records, summary) = stream(&bytes, 100);
    assert_eq!(records.len(), 14);
    assert_eq!(
        records
            .iter()
            .filter(|r| r["kind"] == "peerIndexTable")
            .count(),
        2
    );
    let entries: usize = records
        .iter()
        .filter(|r| r["kind"] == "rib")
        .map(|r| r["body"]["entries"].as_array().unwrap().len())
        .sum();
    assert_eq!(entries, 18);
    assert_eq!(summary["leftoverBytes"], 0);
    // Cut inside the last record: the records before it, then a truncation error.
    let (cut, summary) = stream(&bytes[..bytes.len() - 5], 64);
    assert_eq!(cut.len(), 13);
    assert_eq!(summary["errors"][0]["kind"], "Truncated");
    assert!(summary["leftoverBytes"].as_u64().unwrap() > 0);
}

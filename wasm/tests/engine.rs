#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The DTOs of the JavaScript `Engine`, natively: the camelCase objects JavaScript passes
//! (defaults, validation), the outcomes, paths and events it gets back, on a real engine.

use std::net::Ipv4Addr;

use reflector_core::engine::Engine;
use reflector_core::reflect::Role;
use reflector_core::rib::PeerId;
use reflector_wasm::decode::{decode_update, parse_hex, DecodeOptions};
use reflector_wasm::engine::{
    split_messages, EngineEvent, EngineOptions, Negotiated, Outcome, Path, PeerOptions,
};
use serde_json::json;

/// ORIGIN IGP, empty AS_PATH, NEXT_HOP 10.0.0.1, LOCAL_PREF 100; NLRI 10.99.0.0/24.
const UPDATE: &str = "ffffffffffffffffffffffffffffffff 0030 02 0000 0015 40010100 400200 \
    4003040a000001 40050400000064 180a6300";

fn engine() -> (Engine, Vec<PeerId>) {
    let cfg: EngineOptions = serde_json::from_value(
        json!({ "localAs": 65000, "routerId": "192.0.2.1", "clusterId": "192.0.2.100" }),
    )
    .unwrap();
    let mut e = Engine::new(cfg.to_core().unwrap());
    let peers = (1..=3)
        .map(|i| {
            let p: PeerOptions = serde_json::from_value(
                json!({ "role": "client", "address": format!("10.0.0.{i}"), "asn": 65000 }),
            )
            .unwrap();
            let id = e.add_peer(p.to_core().unwrap());
            let n: Negotiated =
                serde_json::from_value(json!({ "routerId": format!("10.0.0.{i}") })).unwrap();
            e.peer_up(id, n.to_core().unwrap());
            id
        })
        .collect();
    (e, peers)
}

#[test]
fn options_take_camel_case_fields_with_the_engine_defaults() {
    let cfg: EngineOptions =
        serde_json::from_value(json!({ "localAs": 65000, "routerId": "192.0.2.1" })).unwrap();
    let c = cfg.to_core().unwrap();
    assert_eq!(c.router_id, Ipv4Addr::new(192, 0, 2, 1));
    assert_eq!(c.cluster_id, None);
    assert!(c.client_to_client && c.ebgp_requires_policy && c.record_events);
    let bad: EngineOptions =
        serde_json::from_value(json!({ "localAs": 1, "routerId": "192.0.2.300" })).unwrap();
    assert_eq!(
        bad.to_core().unwrap_err(),
        "routerId: expected an IPv4 address, found \"192.0.2.300\""
    );
    assert!(serde_json::from_value::<EngineOptions>(
        json!({ "local_as": 1, "routerId": "1.1.1.1" })
    )
    .is_err());

    let p: PeerOptions = serde_json::from_value(json!({
        "role": "nonClient", "address": "2001:db8::1", "asn": 65001, "localV6": "2001:db8::2",
        "addPathSend": { "best": 2 }, "maxPrefixesIpv4": { "max": 10 }
    }))
    .unwrap();
    let pc = p.to_core().unwrap();
    assert_eq!(pc.role, Role::NonClient);
    assert_eq!(
        pc.max_prefixes_ipv4.map(|l| (l.max, l.warning_only)),
        Some((10, false))
    );
    assert!(serde_json::from_value::<PeerOptions>(
        json!({ "role": "boss", "address": "10.0.0.1", "asn": 1 })
    )
    .is_err());

    let n: Negotiated = serde_json::from_value(json!({
        "routerId": "10.0.0.1", "families": ["ipv4-unicast", "l2vpn-evpn"], "addPathReceive": ["ipv4-unicast"]
    }))
    .unwrap();
    let nc = n.to_core().unwrap();
    assert!(nc.four_octet_as && !nc.extended_message);
    assert!(nc.families.contains(reflector_core::wire::AfiSafi::EVPN));
    assert!(!nc
        .families
        .contains(reflector_core::wire::AfiSafi::IPV6_UNICAST));
    assert!(serde_json::from_value::<Negotiated>(
        json!({ "routerId": "10.0.0.1", "families": ["ipv5"] })
    )
    .is_err());
}

#[test]
fn a_reflected_update_outcome_path_and_events_as_javascript_sees_them() {
    let (mut e, peers) = engine();
    let bytes = parse_hex(UPDATE).unwrap();
    let o = Outcome::from_core(e.handle_message(peers[0], &bytes), &bytes);
    assert_eq!(
        serde_json::to_value(&o).unwrap(),
        json!({ "kind": "accepted", "announced": 1, "withdrawn": 0, "rejected": 0 })
    );
    e.flush();
    let out = e.take_transmit(peers[1]);
    let msgs = split_messages(&out);
    assert_eq!(msgs.len(), 3, "two End-of-RIB markers and the UPDATE");
    let u = decode_update(msgs[2], &DecodeOptions::default());
    assert_eq!(u["originatorId"], "10.0.0.1");
    assert_eq!(u["clusterList"], json!(["192.0.2.100"]));

    let prefix = "10.99.0.0/24".parse().unwrap();
    let best = e.best(&prefix).unwrap();
    let p = serde_json::to_value(Path::from_view(&prefix, &best)).unwrap();
    assert_eq!(p["prefix"], "10.99.0.0/24");
    assert_eq!(p["peer"], json!(peers[0].0));
    assert_eq!(p["nextHop"], "10.0.0.1");
    assert_eq!(p["localPref"], 100);
    assert_eq!(p["origin"], "IGP");
    assert_eq!(p["asPath"], "");
    assert_eq!(p["originatorId"], json!(null));
    assert_eq!(p["attributes"][3]["name"], "LOCAL_PREF");

    let events: Vec<_> = std::iter::from_fn(|| e.poll_event())
        .map(|ev| serde_json::to_value(EngineEvent::from_core(ev)).unwrap())
        .collect();
    assert!(events.contains(&json!({ "kind": "peerUp", "peer": peers[2].0 })));
    assert!(events
        .contains(&json!({ "kind": "bestChanged", "prefix": "10.99.0.0/24", "best": peers[0].0 })));

    // A message of unknown type resets the session: the error and the NOTIFICATION come back.
    let bad = parse_hex("ffffffffffffffffffffffffffffffff 0013 09").unwrap();
    let o =
        serde_json::to_value(Outcome::from_core(e.handle_message(peers[0], &bad), &bad)).unwrap();
    assert_eq!(o["kind"], "reset");
    assert_eq!(o["error"]["action"], "session-reset");
    assert_eq!(o["error"]["code"], 1);
    assert_eq!(o["notification"][18], 3);
}

#[test]
fn split_messages_cuts_at_header_lengths_and_keeps_a_torn_tail() {
    let k = parse_hex("ffffffffffffffffffffffffffffffff 0013 04").unwrap();
    let mut two = k.clone();
    two.extend_from_slice(&k);
    assert_eq!(split_messages(&two), vec![&k[..], &k[..]]);
    two.extend_from_slice(&k[..5]);
    assert_eq!(split_messages(&two).len(), 3);
    assert!(split_messages(&[]).is_empty());
}

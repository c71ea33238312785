#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The network's message log: every delivered message, its link and ends, its real bytes.

use std::net::{IpAddr, Ipv4Addr};

use reflector_core::wire::message::Message;
use reflector_core::wire::update_repr::{AttributeValue, UpdateRepr};
use reflector_core::wire::{AfiSafi, AfiSafiSet, Context, Ipv4Prefix, Prefix};
use reflector_sim::{Cluster, Network};

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples");

fn rr_network() -> Network {
    let cluster = Cluster::load_path(format!("{EXAMPLES}/calico-rr")).unwrap();
    Network::from_cluster(&cluster).unwrap()
}

/// calico/node's sessions run ADD-PATH (`add paths on`) in both families.
fn update(bytes: &[u8]) -> UpdateRepr {
    let ctx = Context {
        add_path: AfiSafiSet::EMPTY
            .with(AfiSafi::IPV4_UNICAST)
            .with(AfiSafi::IPV6_UNICAST),
        ..Context::MODERN
    };
    match Message::parse(bytes, &ctx).unwrap() {
        Message::Update(u) => UpdateRepr::parse(&u),
        other => panic!("not an UPDATE: {other:?}"),
    }
}

#[test]
fn log_records_every_delivered_message_with_its_ends() {
    let mut net = rr_network();
    net.set_message_log(100_000);
    let report = net.run(1_000);
    assert!(report.converged);
    let log = net.message_log();
    assert_eq!(log.len() as u64, report.messages);
    assert_eq!(
        log.iter().map(|m| m.bytes.len() as u64).sum::<u64>(),
        report.bytes
    );
    assert_eq!(net.message_log_dropped(), 0);
    // Per link and direction, the log agrees with the link counters.
    for (li, l) in net.links().iter().enumerate() {
        let ab = log
            .iter()
            .filter(|m| m.link == li && m.from == l.a && m.to == l.b)
            .count() as u64;
        let ba = log
            .iter()
            .filter(|m| m.link == li && m.from == l.b && m.to == l.a)
            .count() as u64;
        assert_eq!(ab, l.counters.a_to_b_messages);
        assert_eq!(ba, l.counters.b_to_a_messages);
    }
    // Steps are non-decreasing and end at the number of steps run.
    assert!(log.windows(2).all(|w| w[0].step <= w[1].step));
    assert_eq!(log.last().unwrap().step, report.steps);
}

#[test]
fn reflected_update_carries_originator_and_cluster_list() {
    let mut net = rr_network();
    net.set_message_log(100_000);
    net.run(1_000);
    let plan = net.plan().clone();
    let idx = |name: &str| plan.node_index(name).unwrap();
    let (qtwtv, rxgks, uqwst) = (idx("qtwtv"), idx("rxgks"), idx("uqwst"));
    // qtwtv's own block, as qtwtv sent it to the reflector rxgks: no reflection attributes.
    let block = net.blocks()[qtwtv].ipv4[0];
    let prefix = Prefix::V4(Ipv4Prefix::new(block.addr, block.len).unwrap());
    let carries = |u: &UpdateRepr| u.nlri.iter().any(|n| n.prefix == prefix);
    let first = net
        .message_log()
        .iter()
        .find(|m| m.from == qtwtv && m.to == rxgks && carries(&update(&m.bytes)))
        .expect("qtwtv announced its block to rxgks");
    let u = update(&first.bytes);
    assert!(!u
        .attributes
        .iter()
        .any(|a| matches!(a.value, AttributeValue::OriginatorId(_))));
    // rxgks reflected it to uqwst one step later, with ORIGINATOR_ID and CLUSTER_LIST set.
    let reflected = net
        .message_log()
        .iter()
        .find(|m| m.from == rxgks && m.to == uqwst && carries(&update(&m.bytes)))
        .expect("rxgks reflected qtwtv's block to uqwst");
    assert_eq!(reflected.step, first.step + 1);
    let u = update(&reflected.bytes);
    let oid = u.attributes.iter().find_map(|a| match a.value {
        AttributeValue::OriginatorId(id) => Some(id),
        _ => None,
    });
    assert_eq!(oid, Some(Ipv4Addr::new(10, 0, 0, 1)));
    let cl = u.attributes.iter().find_map(|a| match &a.value {
        AttributeValue::ClusterList(l) => Some(l.clone()),
        _ => None,
    });
    assert_eq!(cl, Some(vec![u32::from(Ipv4Addr::new(224, 0, 0, 1))]));
}

#[test]
fn log_limit_counts_what_it_drops_and_originating_later_is_logged() {
    let mut net = rr_network();
    net.set_message_log(3);
    let report = net.run(1_000);
    assert_eq!(net.message_log().len(), 3);
    assert_eq!(net.message_log_dropped(), report.messages - 3);
    // A route originated after convergence (inside the IP pool, so Calico's export
    // filter passes it) travels through the reflectors alone.
    net.set_message_log(1_000);
    let qtwtv = net.plan().node_index("qtwtv").unwrap();
    let prefix = Prefix::V4(Ipv4Prefix::new(Ipv4Addr::new(192, 168, 99, 0), 24).unwrap());
    net.engine_mut(qtwtv)
        .unwrap()
        .originate(prefix, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), &[])
        .unwrap();
    let again = net.run(1_000);
    assert!(again.converged);
    let log = net.message_log();
    assert_eq!(log.len() as u64, again.messages);
    // qtwtv tells the 2 reflectors; each reflects to the 2 other clients and to the other
    // reflector (a non-client), which drops it: its cluster ID is already in CLUSTER_LIST.
    assert_eq!(log.iter().filter(|m| m.from == qtwtv).count(), 2);
    assert_eq!(log.len(), 2 + 2 * 3);
    for i in 0..net.plan().nodes.len() {
        assert!(net.routes(i).iter().any(|r| r.prefix == "192.168.99.0/24"));
    }
}

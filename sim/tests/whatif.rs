#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! What-if runs on the example clusters: failing reflectors and sessions, and migration orders.

use reflector_sim::whatif::{fail, migrate, FailureReport, MigrationReport};
use reflector_sim::{Cluster, Network};

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples");

fn load(dir: &str) -> Cluster {
    Cluster::load_path(format!("{EXAMPLES}/{dir}")).unwrap()
}

/// Fails the named nodes and sessions of a converged example cluster.
fn fail_in(example: &str, nodes: &[&str], sessions: &[(&str, &str)]) -> FailureReport {
    let mut net = Network::from_cluster(&load(example)).unwrap();
    assert!(net.run(1000).converged);
    let idx = |n: &str| net.plan().node_index(n).unwrap();
    let nodes: Vec<usize> = nodes.iter().map(|n| idx(n)).collect();
    let sessions: Vec<(usize, usize)> = sessions.iter().map(|(a, b)| (idx(a), idx(b))).collect();
    let r = fail(&mut net, &nodes, &sessions, 1000);
    assert!(r.run.converged);
    r
}

/// The step folders of `examples/calico-migration/ORDER`, in name order.
fn steps(order: &str) -> Vec<(String, Cluster)> {
    let dir = format!("{EXAMPLES}/calico-migration/{order}");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|d| (d.clone(), load(&format!("calico-migration/{order}/{d}"))))
        .collect()
}

fn migration(order: &str) -> MigrationReport {
    let r = migrate(&steps(order), 1000).unwrap();
    assert!(r.initial.converged && r.initial_missing.is_empty());
    assert!(r.transitions.iter().all(|t| t.run.converged));
    r
}

/// (node, block, owner, still missing) of a transition's losses.
fn losses(r: &MigrationReport, t: usize) -> Vec<(String, String, String, bool)> {
    r.transitions[t]
        .losses
        .iter()
        .map(|l| {
            (
                l.node.clone(),
                l.block.clone(),
                l.owner.clone(),
                l.still_missing,
            )
        })
        .collect()
}

#[test]
fn losing_one_reflector_keeps_every_pod_block() {
    for rr in ["rxgks", "zyisy"] {
        let r = fail_in("calico-rr", &[rr], &[]);
        assert!(r.every_block_kept, "{rr}: {r:?}");
        assert_eq!(r.failed_nodes, [rr]);
        // peer-to-rrs is a global peer in calico-rr: every other node peered with it.
        assert_eq!(r.sessions_down, 4);
        let gone = if rr == "rxgks" {
            "192.168.0.64/26"
        } else {
            "192.168.1.0/26"
        };
        assert_eq!(r.gone_blocks, [gone]);
        assert_eq!(r.nodes.len(), 4);
        for n in &r.nodes {
            assert_eq!(n.kept.len(), 4, "{n:?}");
            assert!(!n.kept.iter().any(|b| b == gone));
        }
        assert!(r.run.messages > 0);
    }
}

#[test]
fn losing_both_reflectors_cuts_the_ordinary_nodes_apart() {
    let r = fail_in("calico-rr", &["rxgks", "zyisy"], &[]);
    assert!(!r.every_block_kept);
    assert_eq!(r.nodes_losing, 3);
    let ordinary = [
        ("qtwtv", "192.168.0.0/26"),
        ("uqwst", "192.168.0.128/26"),
        ("volwl", "192.168.0.192/26"),
    ];
    for n in &r.nodes {
        let own = ordinary.iter().find(|(name, _)| *name == n.name).unwrap().1;
        assert_eq!(n.kept, [own], "{n:?}");
        let others: Vec<&str> = ordinary
            .iter()
            .map(|(_, b)| *b)
            .filter(|b| *b != own)
            .collect();
        assert_eq!(n.lost, others, "{n:?}");
    }
}

#[test]
fn losing_a_client_session_cuts_the_client_off_from_that_reflector_only() {
    let r = fail_in("calico-rr-quoted", &[], &[("qtwtv", "rxgks")]);
    assert_eq!(r.failed_sessions, ["qtwtv-rxgks"]);
    assert_eq!(r.sessions_down, 1);
    assert!(r.gone_blocks.is_empty());
    // The reflectors share cluster ID 224.0.0.1: rxgks refuses qtwtv's block
    // as zyisy reflects it (CLUSTER_LIST loop, RFC 4456 §8).
    assert_eq!(r.nodes_losing, 1);
    for n in &r.nodes {
        if n.name == "rxgks" {
            assert_eq!(n.lost, ["192.168.0.0/26"], "{n:?}");
        } else {
            assert!(n.lost.is_empty(), "{n:?}");
            assert_eq!(n.kept.len(), 5);
        }
    }
}

#[test]
fn safe_migration_loses_nothing() {
    let r = migration("safe");
    assert_eq!(r.transitions.len(), 3);
    assert!(r.safe, "{r:#?}");
    // Labels and BGPPeers while the mesh is on: the same sessions.
    assert_eq!(r.transitions[0].sessions.kept, 10);
    // Cluster IDs: the reflectors restart, their sessions restart gracefully.
    assert_eq!(r.transitions[1].sessions.restarted, ["rxgks", "zyisy"]);
    assert_eq!(r.transitions[1].sessions.reset, 7);
    // Mesh off: the three mesh sessions between ordinary nodes go.
    assert_eq!(r.transitions[2].sessions.removed, 3);
    assert_eq!(r.transitions[2].sessions.kept, 7);
}

#[test]
fn mesh_off_first_cuts_every_node_off() {
    let r = migration("unsafe");
    assert!(!r.safe);
    let t = &r.transitions[0];
    assert_eq!(t.sessions.removed, 10);
    assert_eq!(
        t.nodes_losing,
        ["qtwtv", "rxgks", "uqwst", "volwl", "zyisy"]
    );
    // Every node loses the four blocks of the others, until BGPPeers come.
    assert_eq!(t.losses.len(), 20);
    assert!(t
        .losses
        .iter()
        .all(|l| l.still_missing && l.node != l.owner));
    assert!(losses(&r, 0).contains(&(
        "qtwtv".into(),
        "192.168.0.128/26".into(),
        "uqwst".into(),
        true
    )));
    // Cluster IDs with no sessions: nothing more to lose; BGPPeers bring it all back.
    assert!(r.transitions[1].losses.is_empty());
    assert!(r.transitions[2].losses.is_empty());
    assert_eq!(r.transitions[2].sessions.added, 7);
}

#[test]
fn cluster_ids_before_bgppeers_cut_the_reflectors_off() {
    let r = migration("cluster-ids-first");
    assert!(!r.safe);
    let t = &r.transitions[0];
    // A node with a cluster ID leaves the mesh; no BGPPeer peers with it yet.
    assert_eq!(t.sessions.removed, 7);
    assert_eq!(t.sessions.restarted, ["rxgks", "zyisy"]);
    let l = losses(&r, 0);
    for node in ["qtwtv", "uqwst", "volwl"] {
        for (block, owner) in [("192.168.0.64/26", "rxgks"), ("192.168.1.0/26", "zyisy")] {
            assert!(
                l.contains(&(node.into(), block.into(), owner.into(), true)),
                "{node} {block}: {l:?}"
            );
        }
    }
    // The reflectors lose every other block.
    assert_eq!(l.iter().filter(|x| x.0 == "rxgks").count(), 4);
    assert_eq!(l.len(), 3 * 2 + 2 * 4);
    assert!(r.transitions[1].losses.is_empty() && r.transitions[2].losses.is_empty());
}

/// Both reflectors of the story fail, then come back: the ordinary nodes lose
/// the other nodes' blocks, and after `restore` every node reaches every
/// block again over the sessions brought back up.
#[test]
fn failed_reflectors_restored_bring_every_block_back() {
    let mut net = Network::from_cluster(&load("calico-rr")).unwrap();
    assert!(net.run(1000).converged);
    let blocks = net.block_list();
    let n = net.plan().nodes.len();
    let idx = |net: &Network, name: &str| net.plan().node_index(name).unwrap();
    let rrs = [idx(&net, "rxgks"), idx(&net, "zyisy")];
    let r = fail(&mut net, &rrs, &[], 1000);
    assert!(r.run.converged && !r.every_block_kept);
    let live: Vec<usize> = (0..n).filter(|i| !rrs.contains(i)).collect();
    for &i in &live {
        let reached = net.reaches(i, &blocks).iter().filter(|x| **x).count();
        // Its own block only (the reflectors' blocks went down with them).
        assert_eq!(reached, 1, "node {i} after the failure");
    }
    net.restore(&rrs).unwrap();
    assert!(net.run(1000).converged);
    for i in 0..n {
        assert!(
            net.reaches(i, &blocks).iter().all(|x| *x),
            "node {i} after restore"
        );
    }
}

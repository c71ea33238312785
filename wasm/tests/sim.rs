#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The simulator state behind the JavaScript API, natively: the story's cluster end to end.

use reflector_wasm::Sim;

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples");

fn story() -> String {
    ["bgpconfiguration.yaml", "bgppeers.yaml", "nodes.yaml"]
        .iter()
        .map(|f| std::fs::read_to_string(format!("{EXAMPLES}/calico-rr/{f}")).unwrap())
        .collect::<Vec<_>>()
        .join("\n---\n")
}

#[test]
fn story_cluster_sessions_routes_and_status() {
    let mut sim = Sim::from_yaml(&story()).unwrap();
    let g = sim.graph();
    assert_eq!(g.nodes.len(), 5);
    assert!(!g.mesh_enabled);
    // Unquoted `!has(route-reflector)`: peer-to-rrs is global, so every node peers with
    // both reflectors, and the reflectors with each other: 3*2 + 1 sessions.
    assert_eq!(g.sessions.len(), 7);
    let reflectors: Vec<&str> = g
        .nodes
        .iter()
        .filter(|n| n.reflector)
        .map(|n| n.name.as_str())
        .collect();
    assert_eq!(reflectors, ["rxgks", "zyisy"]);
    assert!(sim
        .notes()
        .iter()
        .any(|n| n.message.contains("YAML tag") && n.resource == "BGPPeer/peer-to-rrs"));

    let r = sim.run(1000).unwrap();
    assert!(r.converged);
    let routes = sim.routes("qtwtv").unwrap().routes;
    assert_eq!(routes.len(), 5);
    // A block of uqwst (10.0.0.3) reached qtwtv through a reflector of cluster 224.0.0.1.
    let from_uqwst = routes.iter().find(|r| r.next_hop == "10.0.0.3").unwrap();
    assert_eq!(from_uqwst.originator_id.as_deref(), Some("10.0.0.3"));
    assert_eq!(from_uqwst.cluster_list, ["224.0.0.1"]);
    let status = sim.node_status_text("qtwtv").unwrap();
    assert!(status.contains("| 10.0.0.2     | global    | up    | 00:00:00 | Established |"));
    assert!(status.contains("| 10.0.0.5     | global    | up    | 00:00:00 | Established |"));
    assert!(sim.routes("nosuch").unwrap_err().contains("no node named"));
}

#[test]
fn mesh_toggle_and_reflector_marking_change_the_plan() {
    let mut sim = Sim::from_yaml(&story()).unwrap();
    sim.set_reflector("rxgks", None).unwrap();
    sim.set_reflector("zyisy", None).unwrap();
    sim.set_mesh(true);
    let s = sim.summary();
    assert_eq!(
        (s.ipv4_sessions, s.mesh_sessions, s.reflectors),
        (10, 10, 0)
    );
    sim.set_mesh(false);
    assert_eq!(sim.summary().ipv4_sessions, 0);
    sim.set_reflector("volwl", Some("224.0.0.9")).unwrap();
    let g = sim.graph();
    // peer-to-rrs (global): the other 4 nodes each peer with volwl.
    assert_eq!(g.sessions.len(), 4);
    assert!(g.nodes.iter().any(|n| n.name == "volwl"
        && n.cluster_id.as_deref() == Some("224.0.0.9")
        && n.labels.get("route-reflector").map(String::as_str) == Some("true")));
    assert!(sim
        .set_cluster_id("qtwtv", "1.1.1.1")
        .unwrap_err()
        .contains("not a route reflector"));
    assert!(sim
        .set_reflector("volwl", Some("nonsense"))
        .unwrap_err()
        .contains("IPv4 address form"));
    // The YAML written back loads to the same cluster.
    let again = Sim::from_yaml(&sim.to_yaml()).unwrap();
    assert_eq!(again.cluster().nodes, sim.cluster().nodes);
    assert_eq!(again.cluster().bgp_peers, sim.cluster().bgp_peers);
    assert_eq!(again.graph(), sim.graph());
}

#[test]
fn nodes_and_peers_are_added_and_removed() {
    let mut sim = Sim::from_yaml(&story()).unwrap();
    sim.add_node("aaaaa", None).unwrap();
    let g = sim.graph();
    let a = g.nodes.iter().find(|n| n.name == "aaaaa").unwrap();
    assert_eq!(a.ipv4.as_deref(), Some("10.0.0.6"));
    assert_eq!(g.sessions.len(), 9);
    assert!(sim
        .add_node("bbbbb", Some("10.0.0.6/24"))
        .unwrap_err()
        .contains("already used"));
    assert!(sim
        .add_node("bbbbb", Some("300.1.1.1"))
        .unwrap_err()
        .contains("spec.bgp.ipv4Address"));
    sim.remove_bgp_peer("peer-to-rrs").unwrap();
    assert_eq!(sim.graph().sessions.len(), 1);
    sim.add_bgp_peer(&reflector_wasm::model::PeerSpec {
        name: "to-rrs".into(),
        node_selector: Some("!has(route-reflector)".into()),
        peer_selector: Some("has(route-reflector)".into()),
        ..Default::default()
    })
    .unwrap();
    let g = sim.graph();
    assert_eq!(g.sessions.len(), 1 + 4 * 2);
    assert!(g.sessions.iter().all(|s| s.peer_type == "node specific"));
    let bad = sim
        .add_bgp_peer(&reflector_wasm::model::PeerSpec {
            name: "bad".into(),
            peer_selector: Some("has(".into()),
            ..Default::default()
        })
        .unwrap_err();
    assert!(bad.contains("spec.peerSelector"), "{bad}");
    sim.remove_node("aaaaa").unwrap();
    assert_eq!(sim.graph().sessions.len(), 1 + 3 * 2);
    assert!(sim.remove_node("aaaaa").is_err());
}

#[test]
fn announced_prefix_travels_through_reflectors_and_loops_are_dropped() {
    let mut sim = Sim::from_yaml(&story()).unwrap();
    sim.run(1000).unwrap();
    sim.clear_messages().unwrap();
    sim.announce("qtwtv", "192.168.99.0/24").unwrap();
    let first = sim.step().unwrap();
    assert_eq!(first, 2);
    let page = sim.messages(0, 100).unwrap();
    for m in &page.messages {
        assert_eq!(m.from_name, "qtwtv");
        assert_eq!(m.kind, "UPDATE");
        assert_eq!(m.announced, ["192.168.99.0/24"]);
        assert_eq!(m.originator_id, None);
        assert!(m.cluster_list.is_empty());
        assert_eq!(m.next_hop.as_deref(), Some("10.0.0.1"));
        assert_eq!(m.accepted, Some(true));
    }
    sim.step().unwrap();
    let page = sim.messages(2, 100).unwrap();
    assert_eq!(page.messages.len(), 6);
    for m in &page.messages {
        assert_eq!(m.originator_id.as_deref(), Some("10.0.0.1"));
        assert_eq!(m.cluster_list, ["224.0.0.1"]);
        let to_reflector = m.to_name == "rxgks" || m.to_name == "zyisy";
        // A reflector drops the copy from the other: its own cluster ID is in CLUSTER_LIST.
        assert_eq!(m.accepted, Some(!to_reflector), "{m:?}");
    }
    assert_eq!(sim.step().unwrap(), 0);
    assert!(sim.withdraw("qtwtv", "192.168.99.0/24").unwrap());
    sim.run(100).unwrap();
    assert!(sim
        .routes("uqwst")
        .unwrap()
        .routes
        .iter()
        .all(|r| r.prefix != "192.168.99.0/24"));
    assert!(sim
        .announce("qtwtv", "192.168.99.0/33")
        .unwrap_err()
        .contains("invalid prefix"));
}

#[test]
fn generated_clusters_and_errors() {
    let mut sim = Sim::generate(50, 2, 7).unwrap();
    let s = sim.summary();
    assert_eq!(s.full_mesh_sessions, 50 * 49 / 2);
    assert_eq!(s.ipv4_sessions, 48 * 2 + 1);
    let r = sim.run(1000).unwrap();
    assert!(r.converged);
    for n in sim.graph().nodes {
        assert_eq!(sim.routes(&n.name).unwrap().routes.len(), 50);
    }
    assert!(Sim::generate(0, 0, 1).is_err());
    assert!(Sim::generate(5, 6, 1).is_err());
    let e = Sim::from_yaml(
        "apiVersion: projectcalico.org/v3\nkind: Node\nmetadata: {name: x}\nspec: {bgp: {asNumber: -1}}",
    )
        .err()
        .unwrap();
    assert!(e.contains("spec.bgp.asNumber"), "{e}");
}

/// The configurations of `examples/calico-migration/ORDER`, each folder as one YAML stream.
fn migration_steps(order: &str) -> Vec<reflector_wasm::model::StepYaml> {
    let dir = format!("{EXAMPLES}/calico-migration/{order}");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|d| {
            let mut files: Vec<_> = std::fs::read_dir(format!("{dir}/{d}"))
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            files.sort();
            let yaml = files
                .iter()
                .map(|f| std::fs::read_to_string(f).unwrap())
                .collect::<Vec<_>>()
                .join("\n---\n");
            reflector_wasm::model::StepYaml { name: d, yaml }
        })
        .collect()
}

/// (node, lost blocks) of a what-if report, only the nodes that lost something.
fn lost(r: &reflector_wasm::model::WhatIfReport) -> Vec<(String, Vec<String>)> {
    r.outcomes
        .iter()
        .filter(|o| !o.lost.is_empty())
        .map(|o| (o.name.clone(), o.lost.clone()))
        .collect()
}

#[test]
fn failing_one_reflector_keeps_every_block_both_lose_them_restoring_brings_them_back() {
    let mut sim = Sim::from_yaml(&story()).unwrap();
    let r = sim.fail_node("rxgks").unwrap();
    assert!(r.run.converged);
    assert_eq!(r.action, "fail");
    assert_eq!(r.nodes, ["rxgks"]);
    assert_eq!(r.failed_nodes, ["rxgks"]);
    assert_eq!(r.gone_blocks, ["192.168.0.64/26"]);
    assert_eq!(r.sessions_changed, 4);
    assert!(r.every_block_kept, "{r:?}");
    assert_eq!(r.outcomes.len(), 4);
    // Each survivor keeps the 4 blocks of the survivors.
    assert!(r
        .outcomes
        .iter()
        .all(|o| o.kept.len() == 4 && o.lost.is_empty()));
    let g = sim.graph();
    assert!(g.nodes.iter().any(|n| n.name == "rxgks" && n.failed));
    assert_eq!(g.sessions.iter().filter(|s| s.down).count(), 4);
    assert!(sim
        .fail_node("rxgks")
        .unwrap_err()
        .contains("already failed"));

    // The second reflector: the three clients lose each other's blocks, and zyisy's own.
    let r = sim.fail_node("zyisy").unwrap();
    assert!(!r.every_block_kept);
    assert_eq!(r.failed_nodes, ["rxgks", "zyisy"]);
    assert_eq!(r.gone_blocks, ["192.168.0.64/26", "192.168.1.0/26"]);
    let mut blocks = |owner: &str| {
        let routes = sim.routes(owner).unwrap().routes;
        routes
            .into_iter()
            .filter(|r| r.from == "local")
            .map(|r| r.prefix)
            .collect::<Vec<_>>()
    };
    let (q, u, v) = (blocks("qtwtv"), blocks("uqwst"), blocks("volwl"));
    assert_eq!((q.len(), u.len(), v.len()), (1, 1, 1));
    let others = |a: &[String], b: &[String]| {
        let mut x: Vec<String> = a.iter().chain(b).cloned().collect();
        x.sort();
        x
    };
    let mut got = lost(&r);
    for (_, l) in &mut got {
        l.sort();
    }
    assert_eq!(
        got,
        [
            ("qtwtv".to_string(), others(&u, &v)),
            ("uqwst".to_string(), others(&q, &v)),
            ("volwl".to_string(), others(&q, &u)),
        ]
    );
    assert!(r.outcomes.iter().all(|o| o.kept.len() == 1));
    // Messages: the clients heard their sessions to zyisy go, nothing more.
    assert_eq!(sim.routes("qtwtv").unwrap().routes.len(), 1);

    // zyisy comes back: every client gets the other clients' blocks and zyisy's again.
    let r = sim.restore_node("zyisy").unwrap();
    assert_eq!(r.action, "restore");
    assert_eq!(r.failed_nodes, ["rxgks"]);
    assert_eq!(r.sessions_changed, 3); // not to rxgks: still failed
    assert!(r.every_block_kept);
    let q = r.outcomes.iter().find(|o| o.name == "qtwtv").unwrap();
    assert_eq!(q.regained.len(), 3, "{q:?}");
    assert!(q.messages > 0);
    let z = r.outcomes.iter().find(|o| o.name == "zyisy").unwrap();
    // A failed node reached nothing, its own block included: all four come back.
    assert_eq!((z.kept.len(), z.regained.len()), (0, 4), "{z:?}");
    assert_eq!(sim.routes("qtwtv").unwrap().routes.len(), 4);
    assert!(sim
        .restore_node("zyisy")
        .unwrap_err()
        .contains("has not failed"));
    let r = sim.restore_node("rxgks").unwrap();
    assert!(r.failed_nodes.is_empty());
    assert_eq!(sim.routes("qtwtv").unwrap().routes.len(), 5);
    assert!(sim.graph().sessions.iter().all(|s| !s.down));
}

#[test]
fn failing_and_restoring_a_session() {
    let mut sim = Sim::from_yaml(&story()).unwrap();
    // qtwtv still reaches everything through zyisy, but rxgks loses qtwtv's block: zyisy's
    // copy carries their shared cluster ID (224.0.0.1) in CLUSTER_LIST and rxgks drops it.
    let r = sim.fail_session("qtwtv", "rxgks").unwrap();
    assert_eq!(r.sessions, ["qtwtv-rxgks"]);
    assert_eq!(r.sessions_changed, 1);
    assert_eq!(r.failed_sessions, ["qtwtv-rxgks"]);
    assert!(r.run.converged);
    let q_block = "192.168.0.0/26";
    assert_eq!(lost(&r), [("rxgks".to_string(), vec![q_block.to_string()])]);
    assert!(r
        .outcomes
        .iter()
        .find(|o| o.name == "qtwtv")
        .unwrap()
        .lost
        .is_empty());
    let r = sim.fail_session("qtwtv", "zyisy").unwrap();
    assert_eq!(r.failed_sessions, ["qtwtv-rxgks", "qtwtv-zyisy"]);
    // qtwtv is cut off: it loses the other four blocks, and the others (but rxgks, which
    // had lost it already) lose its block.
    let got = lost(&r);
    let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["qtwtv", "uqwst", "volwl", "zyisy"]);
    assert_eq!(got[0].1.len(), 4);
    assert!(!got[0].1.contains(&q_block.to_string()));
    assert!(got[1..].iter().all(|(_, l)| l == &[q_block.to_string()]));
    assert!(sim
        .fail_session("qtwtv", "zyisy")
        .unwrap_err()
        .contains("no BGP session"));
    // Back up one of the two: the other stays down.
    let r = sim.restore_session("zyisy", "qtwtv").unwrap();
    assert_eq!(r.failed_sessions, ["qtwtv-rxgks"]);
    assert_eq!(r.sessions_changed, 1);
    let q = r.outcomes.iter().find(|o| o.name == "qtwtv").unwrap();
    assert_eq!((q.kept.len(), q.regained.len()), (1, 4));
    let rx = r.outcomes.iter().find(|o| o.name == "rxgks").unwrap();
    assert_eq!(rx.missing, [q_block]);
    let z = r.outcomes.iter().find(|o| o.name == "zyisy").unwrap();
    assert_eq!(z.regained, [q_block]);
    assert_eq!(sim.graph().sessions.iter().filter(|s| s.down).count(), 1);
    // A change to the cluster rebuilds the network: nothing failed any more.
    sim.set_mesh(false);
    assert!(sim.graph().sessions.iter().all(|s| !s.down));
}

#[test]
fn safe_migration_loses_nothing_unsafe_loses_every_other_block() {
    let mut sim = Sim::from_yaml(&story()).unwrap();
    let steps = migration_steps("safe");
    let st = sim.start_migration(&steps).unwrap();
    assert_eq!(
        st.steps,
        ["1-mesh", "2-label-and-peer", "3-cluster-ids", "4-mesh-off"]
    );
    assert_eq!((st.current, st.has_next), (0, true));
    assert!(sim.mesh_enabled());
    let mut moves = Vec::new();
    while sim.migration_state().unwrap().has_next {
        let t = sim.migration_next().unwrap();
        assert!(t.run.converged);
        assert!(t.losses.is_empty(), "{t:?}");
        assert!(t.nodes_losing.is_empty());
        moves.push((t.index, t.from, t.to, t.kept, t.removed, t.added));
    }
    assert_eq!(moves.len(), 3);
    assert_eq!(moves[0].0, 1);
    assert_eq!(
        (moves[2].1.as_str(), moves[2].2.as_str()),
        ("3-cluster-ids", "4-mesh-off")
    );
    // Mesh off at the end: the mesh sessions between clients were torn down.
    assert!(moves[2].4 > 0);
    assert!(!sim.mesh_enabled());
    assert_eq!(sim.summary().reflectors, 2);
    assert!(sim.migration_next().unwrap_err().contains("complete"));

    // Mesh off first: every node loses every other node's block, for good.
    let mut sim = Sim::from_yaml(&story()).unwrap();
    sim.start_migration(&migration_steps("unsafe")).unwrap();
    let t = sim.migration_next().unwrap();
    assert_eq!((t.from.as_str(), t.to.as_str()), ("1-mesh", "2-mesh-off"));
    assert_eq!(
        t.nodes_losing,
        ["qtwtv", "rxgks", "uqwst", "volwl", "zyisy"]
    );
    assert_eq!(t.losses.len(), 20);
    for n in &t.nodes_losing {
        let mine: Vec<_> = t.losses.iter().filter(|l| &l.node == n).collect();
        assert_eq!(mine.len(), 4, "{n}");
        assert!(mine.iter().all(|l| &l.owner != n && l.still_missing));
    }
    assert_eq!(sim.summary().ipv4_sessions, 0);
    // Editing the cluster ends the migration.
    sim.set_mesh(true);
    assert!(sim.migration_state().is_none());
    assert!(sim.migration_next().unwrap_err().contains("no migration"));
    assert!(sim
        .start_migration(&migration_steps("safe")[..1])
        .unwrap_err()
        .contains("at least two"));
}

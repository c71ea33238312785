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

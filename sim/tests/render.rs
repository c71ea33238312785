#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Renderings in calicoctl's layout.

use reflector_sim::render::{
    render_node_status, render_routes, render_summary, RouteRow, SessionState,
};
use reflector_sim::Cluster;

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples");

#[test]
fn node_status_matches_calicoctl_layout() {
    let c = Cluster::load_dir(format!("{EXAMPLES}/calico-mesh")).unwrap();
    let plan = c.plan();
    let status = plan.node_status(plan.node_index("qtwtv").unwrap(), |_| {
        SessionState::established("09:26:31")
    });
    let expected = "\
Calico process is running.

IPv4 BGP status
+--------------+-------------------+-------+----------+-------------+
| PEER ADDRESS |     PEER TYPE     | STATE |  SINCE   |    INFO     |
+--------------+-------------------+-------+----------+-------------+
| 10.0.0.2     | node-to-node mesh | up    | 09:26:31 | Established |
| 10.0.0.3     | node-to-node mesh | up    | 09:26:31 | Established |
| 10.0.0.4     | node-to-node mesh | up    | 09:26:31 | Established |
| 10.0.0.5     | node-to-node mesh | up    | 09:26:31 | Established |
+--------------+-------------------+-------+----------+-------------+

IPv6 BGP status
No IPv6 peers found.

";
    assert_eq!(render_node_status(&status), expected);
    // JSON carries the same facts.
    let json = serde_json::to_value(&status).unwrap();
    assert_eq!(json["ipv4"][0]["peer_type"], "node-to-node mesh");
    assert_eq!(json["ipv4"].as_array().unwrap().len(), 4);
}

#[test]
fn column_widths_follow_content() {
    let c = Cluster::load_dir(format!("{EXAMPLES}/calico-rr")).unwrap();
    let plan = c.plan();
    let status = plan.node_status(plan.node_index("volwl").unwrap(), |_| SessionState {
        state: "start".into(),
        since: "09:26:31".into(),
        info: "Active Socket: Connection refused".into(),
    });
    let text = render_node_status(&status);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[3],
        "+--------------+-----------+-------+----------+-----------------------------------+"
    );
    assert_eq!(
        lines[4],
        "| PEER ADDRESS | PEER TYPE | STATE |  SINCE   |               INFO                |"
    );
    assert_eq!(
        lines[6],
        "| 10.0.0.2     | global    | start | 09:26:31 | Active Socket: Connection refused |"
    );
}

#[test]
fn routes_and_summary() {
    let rows = vec![RouteRow {
        prefix: "192.168.0.64/26".into(),
        next_hop: "10.0.0.2".into(),
        as_path: String::new(),
        originator_id: Some("10.0.0.2".into()),
        cluster_list: vec!["224.0.0.1".into()],
        from: "10.0.0.5".into(),
        next_hops: vec!["10.0.0.2".into()],
        paths: 1,
        communities: Vec::new(),
        local_pref: Some(100),
    }];
    let t = render_routes("qtwtv", &rows);
    assert!(
        t.contains(
            "| 192.168.0.64/26 | 10.0.0.2 | (local AS) | 10.0.0.2      | 224.0.0.1    | 10.0.0.5 |"
        ),
        "{t}"
    );

    let rr = Cluster::load_dir(format!("{EXAMPLES}/calico-rr"))
        .unwrap()
        .plan()
        .summary();
    assert_eq!(
        (
            rr.nodes,
            rr.reflectors,
            rr.ipv4_sessions,
            rr.full_mesh_sessions
        ),
        (5, 2, 7, 10)
    );
    assert_eq!(rr.global_sessions, 6);
    assert_eq!(rr.node_specific_sessions, 1);
    let text = render_summary(&rr);
    assert!(
        text.contains("7 IPv4 (70.0% of the full mesh's n(n-1)/2 = 10)"),
        "{text}"
    );
}

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Every pitfall the Calico docs warn about is a lint finding naming the resource and field.

use reflector_sim::{Cluster, Note, Severity};

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples");

fn nodes(extra: &str) -> Cluster {
    let mut y = String::new();
    for (i, n) in ["a", "b", "c"].iter().enumerate() {
        y.push_str(&format!(
            "---\napiVersion: projectcalico.org/v3\nkind: Node\nmetadata: {{name: {n}}}\nspec: {{bgp: {{ipv4Address: 10.0.0.{}/24}}}}\n",
            i + 1
        ));
    }
    y.push_str(extra);
    Cluster::from_yaml_str(&y).unwrap()
}

fn rrs(extra: &str) -> Cluster {
    nodes(&format!(
        "---
apiVersion: projectcalico.org/v3
kind: Node
metadata: {{name: r1, labels: {{rr: \"true\"}}}}
spec: {{bgp: {{ipv4Address: 10.0.0.8/24, routeReflectorClusterID: 224.0.0.1}}}}
---
apiVersion: projectcalico.org/v3
kind: Node
metadata: {{name: r2, labels: {{rr: \"true\"}}}}
spec: {{bgp: {{ipv4Address: 10.0.0.9/24, routeReflectorClusterID: 224.0.0.1}}}}
---
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {{name: default}}
spec: {{nodeToNodeMeshEnabled: false}}
{extra}"
    ))
}

const TO_RRS: &str = "---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: to-rrs}
spec: {nodeSelector: '!has(rr)', peerSelector: has(rr)}
";
const RR_MESH: &str = "---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: rr-mesh}
spec: {nodeSelector: has(rr), peerSelector: has(rr)}
";

fn warnings<'a>(notes: &'a [Note], needle: &str) -> Vec<&'a Note> {
    notes
        .iter()
        .filter(|n| n.severity == Severity::Warning && n.message.contains(needle))
        .collect()
}

#[test]
fn unquoted_has_tag_is_still_reported() {
    let c = Cluster::load_path(format!("{EXAMPLES}/calico-rr")).unwrap();
    let l = c.lint();
    assert!(!warnings(&l, "is a YAML tag").is_empty());
}

#[test]
fn a_clean_reflector_cluster_has_none_of_the_new_findings() {
    let l = rrs(&format!("{TO_RRS}{RR_MESH}")).lint();
    assert!(l.iter().all(|n| n.severity != Severity::Warning), "{l:#?}");
}

#[test]
fn mesh_disabled_leaves_nodes_without_peering() {
    let l = rrs(RR_MESH).lint();
    let w = warnings(&l, "no BGPPeer peers node");
    let named: Vec<&str> = ["a", "b", "c"]
        .into_iter()
        .filter(|n| w.iter().any(|x| x.message.contains(&format!("node {n} "))))
        .collect();
    assert_eq!(named, ["a", "b", "c"]);
    assert!(w.iter().all(
        |x| x.resource == "BGPConfiguration/default" && x.field == "spec.nodeToNodeMeshEnabled"
    ));
}

#[test]
fn reflector_without_clients() {
    let l = rrs(RR_MESH).lint();
    let w = warnings(&l, "no route reflector client");
    assert_eq!(w.len(), 2);
    assert_eq!(w[0].resource, "Node/r1");
    assert_eq!(w[0].field, "spec.bgp.routeReflectorClusterID");
}

#[test]
fn reflectors_of_one_cluster_id_not_peered() {
    let l = rrs(TO_RRS).lint();
    let w = warnings(&l, "do not peer with each other");
    assert_eq!(w.len(), 1);
    assert!(w[0].message.contains("r1 and r2"));
}

#[test]
fn selectors_that_match_nothing() {
    let l = nodes(
        "---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: nobody}
spec: {nodeSelector: has(nope), peerSelector: has(rr)}
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: lonely}
spec: {cidr: 10.50.0.0/16, nodeSelector: zone == 'mars'}
",
    )
    .lint();
    let w = warnings(&l, "selects no node");
    let fields: Vec<(&str, &str)> = w
        .iter()
        .map(|n| (n.resource.as_str(), n.field.as_str()))
        .collect();
    assert!(fields.contains(&("BGPPeer/nobody", "spec.nodeSelector")));
    assert!(fields.contains(&("BGPPeer/nobody", "spec.peerSelector")));
    assert!(fields.contains(&("IPPool/lonely", "spec.nodeSelector")));
}

#[test]
fn peer_ip_that_is_a_node_and_as_mismatch() {
    let l = nodes(
        "---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: by-ip}
spec: {node: a, peerIP: 10.0.0.2, asNumber: 65099}
",
    )
    .lint();
    let w = warnings(&l, "is the address of Calico node b");
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].field, "spec.peerIP");
    let m = warnings(&l, "is 65099 but node b is in AS 64512");
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].field, "spec.asNumber");
}

#[test]
fn peer_ip_on_a_node_with_the_wrong_as_never_comes_up() {
    let peer = |asn: u32| {
        format!(
            "---
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {{name: default}}
spec: {{nodeToNodeMeshEnabled: false}}
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {{name: by-ip}}
spec: {{node: a, peerIP: 10.0.0.2, asNumber: {asn}}}
"
        )
    };
    // Right AS: calico/node on b reverses the peering; a and b exchange blocks.
    let good = reflector_sim::Network::from_cluster(&nodes(&peer(64512)));
    let mut good = good.unwrap();
    good.run(1_000);
    assert_eq!(good.links().len(), 1);
    // Wrong AS: b configures nothing; the session is planned to an external address and stays down.
    let c = nodes(&peer(65099));
    let plan = c.plan();
    assert_eq!(plan.externals.len(), 1);
    let net = reflector_sim::Network::from_cluster(&c).unwrap();
    assert!(net.links().is_empty());
}

#[test]
fn reflector_client_in_another_as() {
    let l = rrs(&format!(
        "{TO_RRS}{RR_MESH}---
apiVersion: projectcalico.org/v3
kind: Node
metadata: {{name: d}}
spec: {{bgp: {{ipv4Address: 10.0.0.4/24, asNumber: 65010}}}}
"
    ))
    .lint();
    let w = warnings(&l, "is no route reflector client");
    assert_eq!(w.len(), 2, "{w:#?}");
    assert!(w.iter().all(|n| n.resource == "Node/d"));
}

#[test]
fn missing_filter_and_untestable_rules() {
    let l = rrs(&format!(
        "---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {{name: to-rrs}}
spec: {{nodeSelector: '!has(rr)', peerSelector: has(rr), filters: [nope, prio]}}
{RR_MESH}---
apiVersion: projectcalico.org/v3
kind: BGPFilter
metadata: {{name: prio}}
spec:
  importV4: [{{priority: 512, action: Reject}}]
"
    ))
    .lint();
    assert_eq!(warnings(&l, "no BGPFilter is named \"nope\"").len(), 1);
    // A priority rule is simulated (LOCAL_PREF 2147483647 - priority): no warning.
    assert_eq!(warnings(&l, "priority").len(), 0);
}

#[test]
fn manual_reverse_peering_needs_both_ends() {
    let peer = |rev: &str, back: &str| {
        format!(
            "---
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {{name: default}}
spec: {{nodeToNodeMeshEnabled: false}}
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {{name: a-to-b}}
spec: {{node: a, peerIP: 10.0.0.2, asNumber: 64512, reversePeering: {rev}}}
{back}"
        )
    };
    let links = |c: &Cluster| {
        let mut net = reflector_sim::Network::from_cluster(c).unwrap();
        net.run(1_000);
        net.links().len()
    };
    assert_eq!(links(&nodes(&peer("Auto", ""))), 1);
    // Manual: b is not configured by a's peer; the session stays down…
    let manual = nodes(&peer("Manual", ""));
    assert_eq!(links(&manual), 0);
    assert!(!manual.plan().sessions[0].b.configured);
    // …until b's own BGPPeer configures its end.
    let back = "---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: b-to-a}
spec: {node: b, peerIP: 10.0.0.1, asNumber: 64512, reversePeering: Manual}
";
    assert_eq!(links(&nodes(&peer("Manual", back))), 1);
}

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Loading Calico resources: accepted forms, and errors that name the resource and field.

use std::net::Ipv4Addr;

use reflector_sim::resources::{LogSeverity, SelectorField};
use reflector_sim::{Cluster, Error, Severity};

fn field_error(yaml: &str) -> (String, String, String, String) {
    match Cluster::from_yaml_str(yaml) {
        Err(Error::Resource {
            kind,
            name,
            field,
            message,
            ..
        }) => (kind, name, field, message),
        other => panic!("expected a resource error, got {other:?}"),
    }
}

#[test]
fn invalid_values_name_resource_and_field() {
    let cases: &[(&str, &str, &str, &str)] = &[
        ("kind: Node\napiVersion: projectcalico.org/v3\nmetadata: {name: n1}\nspec: {bgp: {asNumber: abc}}", "Node", "n1", "spec.bgp.asNumber"),
        ("kind: Node\napiVersion: projectcalico.org/v3\nmetadata: {name: n1}\nspec: {bgp: {asNumber: 4294967296}}", "Node", "n1", "spec.bgp.asNumber"),
        ("kind: Node\napiVersion: projectcalico.org/v3\nmetadata: {name: n2}\nspec: {bgp: {ipv4Address: 10.0.0.300/24}}", "Node", "n2", "spec.bgp.ipv4Address"),
        ("kind: Node\napiVersion: projectcalico.org/v3\nmetadata: {name: n2}\nspec: {bgp: {ipv4Address: 10.0.0.3/33}}", "Node", "n2", "spec.bgp.ipv4Address"),
        ("kind: Node\napiVersion: projectcalico.org/v3\nmetadata: {name: n3}\nspec: {bgp: {ipv6Address: 'fd00::zz'}}", "Node", "n3", "spec.bgp.ipv6Address"),
        ("kind: Node\napiVersion: projectcalico.org/v3\nmetadata: {name: n4}\nspec: {bgp: {routeReflectorClusterID: cluster-a}}", "Node", "n4", "spec.bgp.routeReflectorClusterID"),
        ("kind: Node\napiVersion: projectcalico.org/v3\nmetadata: {name: n5, labels: [a, b]}", "Node", "n5", "metadata.labels"),
        ("kind: BGPPeer\napiVersion: projectcalico.org/v3\nmetadata: {name: p1}\nspec: {peerSelector: \"has(a) && b = 'c'\"}", "BGPPeer", "p1", "spec.peerSelector"),
        ("kind: BGPPeer\napiVersion: projectcalico.org/v3\nmetadata: {name: p2}\nspec: {peerIP: 10.0.0.999, asNumber: 1}", "BGPPeer", "p2", "spec.peerIP"),
        ("kind: BGPPeer\napiVersion: projectcalico.org/v3\nmetadata: {name: p3}\nspec: {peerIP: 10.0.0.9}", "BGPPeer", "p3", "spec.asNumber"),
        ("kind: BGPPeer\napiVersion: projectcalico.org/v3\nmetadata: {name: p4}\nspec: {node: a, nodeSelector: all(), peerIP: 10.0.0.9, asNumber: 1}", "BGPPeer", "p4", "spec.nodeSelector"),
        ("kind: BGPPeer\napiVersion: projectcalico.org/v3\nmetadata: {name: p5}\nspec: {peerSelector: all(), keepOriginalNextHop: maybe}", "BGPPeer", "p5", "spec.keepOriginalNextHop"),
        ("kind: BGPConfiguration\napiVersion: projectcalico.org/v3\nmetadata: {name: default}\nspec: {nodeToNodeMeshEnabled: 'no'}", "BGPConfiguration", "default", "spec.nodeToNodeMeshEnabled"),
        ("kind: BGPConfiguration\napiVersion: projectcalico.org/v3\nmetadata: {name: default}\nspec: {listenPort: 70000}", "BGPConfiguration", "default", "spec.listenPort"),
        ("kind: BGPConfiguration\napiVersion: projectcalico.org/v3\nmetadata: {name: default}\nspec: {logSeverityScreen: Loud}", "BGPConfiguration", "default", "spec.logSeverityScreen"),
        ("kind: IPPool\napiVersion: projectcalico.org/v3\nmetadata: {name: pool}\nspec: {cidr: 10.0.0.0/16, blockSize: 8}", "IPPool", "pool", "spec.blockSize"),
        ("kind: BGPPeer\napiVersion: projectcalico.org/v2\nmetadata: {name: old}\nspec: {}", "BGPPeer", "old", "apiVersion"),
        ("kind: Node\napiVersion: projectcalico.org/v3\nspec: {}", "Node", "?", "metadata.name"),
    ];
    for (yaml, kind, name, field) in cases {
        let (k, n, f, msg) = field_error(yaml);
        assert_eq!(
            (k.as_str(), n.as_str(), f.as_str()),
            (*kind, *name, *field),
            "{yaml}: {msg}"
        );
        assert!(!msg.is_empty());
    }
    // The selector error carries the column.
    let (_, _, _, msg) = field_error(cases[7].0);
    assert!(msg.contains("column 13"), "{msg}");
    // Display puts it all on one line.
    let e = Cluster::from_yaml_str(cases[0].0).unwrap_err().to_string();
    assert!(e.contains("Node 'n1': spec.bgp.asNumber"), "{e}");
}

#[test]
fn yaml_syntax_errors_are_reported() {
    assert!(matches!(
        Cluster::from_yaml_str("kind: Node\nmetadata: [a\n"),
        Err(Error::Yaml { .. })
    ));
}

#[test]
fn unknown_fields_are_accepted_and_forms_are_read() {
    // calicoctl get -o yaml: a List with items, resourceVersion and other fields we don't use.
    let y = r#"
apiVersion: projectcalico.org/v3
kind: NodeList
metadata:
  resourceVersion: "1234"
items:
- apiVersion: projectcalico.org/v3
  kind: Node
  metadata:
    name: alpha
    uid: 7b0c1d6e
    creationTimestamp: "2024-01-01T00:00:00Z"
    labels:
      kubernetes.io/hostname: alpha
      route-reflector: true
  spec:
    bgp:
      ipv4Address: 10.9.0.1/16
      asNumber: "1.10"
      ipv4IPIPTunnelAddr: 192.168.12.0
    orchRefs:
    - nodeName: alpha
      orchestrator: k8s
- apiVersion: crd.projectcalico.org/v1
  kind: Node
  metadata: {name: beta}
  spec: {bgp: {ipv4Address: 10.9.0.2}}
---
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {name: default}
spec: {nodeToNodeMeshEnabled: false, asNumber: 63400, logSeverityScreen: info, listenPort: 1179, serviceClusterIPs: []}
---
apiVersion: projectcalico.org/v3
kind: FelixConfiguration
metadata: {name: default}
spec: {}
"#;
    let c = Cluster::from_yaml_str(y).unwrap();
    assert_eq!(c.nodes.len(), 2);
    let alpha = c.node("alpha").unwrap();
    assert_eq!(alpha.as_number, Some(65546)); // asdot 1.10
    assert_eq!(alpha.labels["route-reflector"], "true");
    assert_eq!(alpha.ipv4_address.unwrap().len, 16);
    let beta = c.node("beta").unwrap();
    assert_eq!(beta.ipv4_address.unwrap().addr, Ipv4Addr::new(10, 9, 0, 2));
    assert_eq!(c.node_as(beta), 63400);
    assert_eq!(
        c.bgp_configuration.log_severity_screen,
        Some(LogSeverity::Info)
    );
    assert_eq!(c.bgp_configuration.listen_port, Some(1179));
    // The unquoted boolean label is noted, the FelixConfiguration ignored with a note.
    assert!(c
        .notes
        .iter()
        .any(|n| n.field == "metadata.labels.route-reflector" && n.severity == Severity::Warning));
    assert!(c
        .notes
        .iter()
        .any(|n| n.resource == "FelixConfiguration/default"));
}

#[test]
fn kubectl_node_tables_and_kubernetes_nodes() {
    let table = "NAME    STATUS   ROLES           AGE   VERSION   INTERNAL-IP   EXTERNAL-IP\n\
                 qtwtv   Ready    control-plane   10d   v1.28.2   10.0.0.1      <none>\n\
                 rxgks   Ready    <none>          10d   v1.28.2   10.0.0.2      <none>\n";
    let c = Cluster::from_yaml_str(table).unwrap();
    assert_eq!(
        c.nodes.iter().map(|n| n.name.as_str()).collect::<Vec<_>>(),
        ["qtwtv", "rxgks"]
    );
    assert_eq!(
        c.node("rxgks").unwrap().ipv4_address.unwrap().addr,
        Ipv4Addr::new(10, 0, 0, 2)
    );
    assert_eq!(c.plan().sessions.len(), 1);

    // Plain `kubectl get no`: names only; addresses are filled in and noted.
    let plain = "NAME    STATUS   ROLES    AGE   VERSION\nuqwst   Ready    <none>   3d    v1.29.0\nvolwl   Ready    <none>   3d    v1.29.0\nzyisy   Ready    <none>   3d    v1.29.0\n";
    let c = Cluster::from_yaml_str(plain).unwrap();
    assert_eq!(c.nodes.len(), 3);
    assert!(c.nodes.iter().all(|n| n.ipv4_address.is_some()));
    assert_eq!(
        c.notes
            .iter()
            .filter(|n| n.field == "spec.bgp.ipv4Address")
            .count(),
        3
    );
    assert_eq!(c.plan().sessions.len(), 3);

    // kubectl get node -o yaml: Calico's annotations.
    let k8s = r#"
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Node
  metadata:
    name: zyisy
    labels: {route-reflector: "true"}
    annotations:
      projectcalico.org/IPv4Address: 10.0.0.5/24
      projectcalico.org/RouteReflectorClusterID: 224.0.0.1
  status:
    addresses: [{type: InternalIP, address: 10.0.0.55}]
- apiVersion: v1
  kind: Node
  metadata: {name: qtwtv}
  status:
    addresses: [{type: Hostname, address: qtwtv}, {type: InternalIP, address: 10.0.0.1}]
"#;
    let c = Cluster::from_yaml_str(k8s).unwrap();
    let z = c.node("zyisy").unwrap();
    assert_eq!(z.ipv4_address.unwrap().to_string(), "10.0.0.5/24");
    assert_eq!(
        z.route_reflector_cluster_id,
        Some(Ipv4Addr::new(224, 0, 0, 1))
    );
    assert_eq!(
        c.node("qtwtv").unwrap().ipv4_address.unwrap().addr,
        Ipv4Addr::new(10, 0, 0, 1)
    );
}

#[test]
fn unquoted_selector_is_a_yaml_tag() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/calico-rr");
    let c = Cluster::load_dir(dir).unwrap();
    let p = c
        .bgp_peers
        .iter()
        .find(|p| p.name == "peer-to-rrs")
        .unwrap();
    assert_eq!(
        p.node_selector,
        SelectorField::YamlTag("!has(route-reflector)".into())
    );
    assert!(p.is_global());
    let rr_mesh = c.bgp_peers.iter().find(|p| p.name == "rr-mesh").unwrap();
    assert!(!rr_mesh.is_global());
    // The file names appear in errors.
    let e = Cluster::load_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/no-such-folder"
    ))
    .unwrap_err();
    assert!(matches!(e, Error::Io { .. }));
}

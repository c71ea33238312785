#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The Calico model: fields that change routing, as calico/node's BIRD would behave.

use std::net::{IpAddr, Ipv4Addr};

use reflector_core::wire::{Ipv4Prefix, Prefix};
use reflector_sim::render::RouteRow;
use reflector_sim::{Cluster, Network, Severity};

/// Three nodes a, b, c (10.0.0.1-3) in AS 64512 plus `extra` resources.
fn cluster(extra: &str) -> Cluster {
    let mut y = String::new();
    for (i, n) in ["a", "b", "c"].iter().enumerate() {
        y.push_str(&format!(
            "---\napiVersion: projectcalico.org/v3\nkind: Node\nmetadata:\n  name: {n}\n  labels: {{zone: z{i}}}\nspec:\n  bgp:\n    ipv4Address: 10.0.0.{}/24\n",
            i + 1
        ));
    }
    y.push_str(extra);
    Cluster::from_yaml_str(&y).unwrap()
}

/// Three nodes where `r` (10.0.0.9) is a reflector and a, b its clients, mesh off.
fn rr_cluster(extra: &str) -> Cluster {
    cluster(&format!(
        "---
apiVersion: projectcalico.org/v3
kind: Node
metadata: {{name: r, labels: {{rr: \"true\"}}}}
spec: {{bgp: {{ipv4Address: 10.0.0.9/24, routeReflectorClusterID: 224.0.0.1}}}}
---
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {{name: default}}
spec:
  nodeToNodeMeshEnabled: false
  serviceLoadBalancerIPs: [{{cidr: 172.16.0.0/24}}]
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {{name: to-rr}}
spec:
  nodeSelector: \"!has(rr)\"
  peerSelector: has(rr)
{extra}"
    ))
}

fn run(c: &Cluster) -> Network {
    let mut net = Network::from_cluster(c).unwrap();
    assert!(net.run(10_000).converged);
    assert!(net.errors().is_empty(), "{:?}", net.errors());
    net
}

fn route(net: &Network, node: &str, prefix: &str) -> Option<RouteRow> {
    let i = net.plan().node_index(node).unwrap();
    net.routes(i).into_iter().find(|r| r.prefix == prefix)
}

fn block(net: &Network, node: &str) -> String {
    let i = net.plan().node_index(node).unwrap();
    net.blocks()[i].ipv4[0].to_string()
}

const LB_SERVICE: &str = "---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  type: LoadBalancer
  clusterIP: 10.96.0.10
  externalTrafficPolicy: Local
status:
  loadBalancer:
    ingress: [{ip: 172.16.0.7}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-1
  namespace: shop
  labels: {kubernetes.io/service-name: web}
endpoints:
- {addresses: [192.168.0.5], nodeName: a}
- {addresses: [192.168.0.70], nodeName: b}
- {addresses: [192.168.0.130], nodeName: c, conditions: {ready: false}}
";

#[test]
fn local_load_balancer_ip_comes_from_nodes_with_an_endpoint_as_several_paths() {
    let c = cluster(&format!(
        "---
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {{name: default}}
spec:
  serviceClusterIPs: [{{cidr: 10.96.0.0/12}}]
  serviceLoadBalancerIPs: [{{cidr: 172.16.0.0/24}}]
{LB_SERVICE}"
    ));
    let statics = c.service_routes();
    // a and b have a ready endpoint: the /32s; c's endpoint is not ready. All three the ranges.
    let s = |i: usize| {
        statics[i]
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        s(0),
        [
            "10.96.0.0/12",
            "10.96.0.10/32",
            "172.16.0.0/24",
            "172.16.0.7/32"
        ]
    );
    assert_eq!(s(2), ["10.96.0.0/12", "172.16.0.0/24"]);
    let net = run(&c);
    // c holds one path from a and one from b (add paths on): ECMP.
    let r = route(&net, "c", "172.16.0.7/32").expect("c learns the LoadBalancer IP");
    let mut hops = r.next_hops.clone();
    hops.sort();
    assert_eq!(hops, ["10.0.0.1", "10.0.0.2"]);
    // The range comes from every node: c holds its own path and a's and b's.
    let range = route(&net, "c", "172.16.0.0/24").unwrap();
    let mut hops = range.next_hops.clone();
    hops.sort();
    assert_eq!(hops, ["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
    let t = reflector_sim::render::render_routes("c", &net.routes(2));
    assert!(
        t.contains("10.0.0.1 10.0.0.2") || t.contains("10.0.0.2 10.0.0.1"),
        "{t}"
    );
}

#[test]
fn cluster_policy_with_aggregation_advertises_only_the_range() {
    let svc = LB_SERVICE.replace(
        "externalTrafficPolicy: Local",
        "externalTrafficPolicy: Cluster",
    );
    let c = cluster(&format!(
        "---
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {{name: default}}
spec:
  serviceLoadBalancerIPs: [{{cidr: 172.16.0.0/24}}]
{svc}"
    ));
    assert!(c.service_routes().iter().all(|r| r
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        == ["172.16.0.0/24"]));
    // Aggregation off: no range, the /32 from every node with any ready endpoint (all here).
    let c = cluster(&format!(
        "---
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {{name: default}}
spec:
  serviceLoadBalancerAggregation: Disabled
  serviceLoadBalancerIPs: [{{cidr: 172.16.0.0/24}}]
{svc}"
    ));
    assert!(c.service_routes().iter().all(|r| r
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        == ["172.16.0.7/32"]));
}

#[test]
fn reflector_passes_on_every_path_of_a_load_balancer_ip() {
    let c = rr_cluster(LB_SERVICE);
    let net = run(&c);
    // r reflects a's and b's /32 (inside serviceLoadBalancerIPs) to c: two paths.
    let r = route(&net, "c", "172.16.0.7/32").unwrap();
    let mut hops = r.next_hops.clone();
    hops.sort();
    assert_eq!(hops, ["10.0.0.1", "10.0.0.2"]);
    assert_eq!(r.paths, 2);
    assert_eq!(r.cluster_list, ["224.0.0.1"]);
}

#[test]
fn a_route_from_outside_the_pools_is_not_exported_unless_a_filter_allows_it() {
    let foreign = Prefix::V4(Ipv4Prefix::new(Ipv4Addr::new(10, 99, 0, 0), 24).unwrap());
    let originate = |net: &mut Network| {
        let a = net.plan().node_index("a").unwrap();
        net.engine_mut(a)
            .unwrap()
            .originate(foreign, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), &[])
            .unwrap();
        assert!(net.run(10_000).converged);
    };
    // No filter: a's export filter rejects it (not a block, not in a pool).
    let mut net = run(&rr_cluster(""));
    originate(&mut net);
    assert!(route(&net, "r", "10.99.0.0/24").is_none());

    // A BGPFilter on the peering accepts it: a exports it, r reflects it (its filter accepts too).
    let filter = "---
apiVersion: projectcalico.org/v3
kind: BGPFilter
metadata: {name: extra}
spec:
  exportV4:
  - {cidr: 10.99.0.0/16, matchOperator: In, action: Accept}
";
    let c = rr_cluster(&format!("  filters: [extra]\n{filter}"));
    let mut net = run(&c);
    originate(&mut net);
    assert!(route(&net, "r", "10.99.0.0/24").is_some());
    assert!(route(&net, "b", "10.99.0.0/24").is_some());

    // `source: RemotePeers` rejects what was learned over BGP: r keeps it, b does not get it.
    let filter2 = "---
apiVersion: projectcalico.org/v3
kind: BGPFilter
metadata: {name: extra}
spec:
  exportV4:
  - {cidr: 10.99.0.0/16, matchOperator: In, source: RemotePeers, action: Reject}
  - {cidr: 10.99.0.0/16, matchOperator: In, action: Accept}
";
    let c = rr_cluster(&format!("  filters: [extra]\n{filter2}"));
    let mut net = run(&c);
    originate(&mut net);
    assert!(route(&net, "r", "10.99.0.0/24").is_some());
    assert!(route(&net, "b", "10.99.0.0/24").is_none());
}

#[test]
fn filter_import_rules_operators_and_prefix_lengths() {
    // b and c refuse a's block on import (Equal); NotIn keeps everything outside 192.168.0.0/25.
    let c0 = cluster("");
    let net0 = run(&c0);
    let a_block = block(&net0, "a");
    let c_block = block(&net0, "c");
    let c = rr_cluster(&format!(
        "  filters: [imp]
---
apiVersion: projectcalico.org/v3
kind: BGPFilter
metadata: {{name: imp}}
spec:
  importV4:
  - {{cidr: {a_block}, matchOperator: Equal, action: Reject}}
  - {{cidr: 192.168.0.0/16, matchOperator: In, prefixLength: {{min: 27}}, action: Reject}}
"
    ));
    let net = run(&c);
    // r's peering to a and b is the same BGPPeer: r too refuses a's block.
    assert!(route(&net, "r", &a_block).is_none());
    assert!(route(&net, "b", &a_block).is_none());
    assert!(route(&net, "b", &c_block).is_some());
}

#[test]
fn filter_operations_add_community_prepend_and_priority() {
    let c = rr_cluster(
        "  filters: [ops]
---
apiVersion: projectcalico.org/v3
kind: BGPFilter
metadata: {name: ops}
spec:
  importV4:
  - cidr: 192.168.0.0/16
    matchOperator: In
    action: Accept
    operations:
    - addCommunity: {value: \"65000:7\"}
    - setPriority: {value: 512}
",
    );
    let net = run(&c);
    let a = route(&net, "r", &block(&net, "a")).unwrap();
    assert_eq!(a.communities, ["65000:7"]);
    assert_eq!(a.local_pref, Some(2_147_483_647 - 512));
}

#[test]
fn disable_bgp_export_and_pool_node_selector() {
    let c = cluster(
        "---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: p1-quiet}
spec: {cidr: 10.244.0.0/16, nodeSelector: zone == 'z0', disableBGPExport: true}
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: p2-main}
spec: {cidr: 10.245.0.0/16, blockSize: 24}
",
    );
    let net = run(&c);
    assert_eq!(block(&net, "a"), "10.244.0.0/26");
    assert_eq!(block(&net, "b"), "10.245.0.0/24");
    assert_eq!(block(&net, "c"), "10.245.1.0/24");
    // a's pool does not export: b and c have no route to a's pods; a has theirs.
    assert!(route(&net, "b", "10.244.0.0/26").is_none());
    assert!(route(&net, "a", "10.245.0.0/24").is_some());
    assert!(route(&net, "c", "10.245.0.0/24").is_some());
}

#[test]
fn prefix_advertisements_add_communities_and_a_node_configuration_replaces_them() {
    let c = cluster(
        "---
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {name: default}
spec:
  communities: [{name: pods, value: \"65001:100\"}]
  prefixAdvertisements:
  - {cidr: 192.168.0.0/16, communities: [pods, \"65001:200:300\"]}
---
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {name: node.c}
spec:
  prefixAdvertisements:
  - {cidr: 192.168.0.0/16, communities: [\"65001:999\"]}
",
    );
    let net = run(&c);
    let from_a = route(&net, "b", &block(&net, "a")).unwrap();
    assert_eq!(from_a.communities, ["65001:100", "65001:200:300"]);
    let from_c = route(&net, "b", &block(&net, "c")).unwrap();
    assert_eq!(from_c.communities, ["65001:999"]);
    let t = reflector_sim::render::render_routes("b", &net.routes(1));
    assert!(t.contains("COMMUNITIES"), "{t}");
}

#[test]
fn next_hop_self_on_the_reflector() {
    let plain = run(&rr_cluster(""));
    assert_eq!(
        route(&plain, "b", &block(&plain, "a")).unwrap().next_hop,
        "10.0.0.1"
    );
    let c = rr_cluster("  nextHopMode: Self\n");
    let net = run(&c);
    assert_eq!(
        route(&net, "b", &block(&net, "a")).unwrap().next_hop,
        "10.0.0.9"
    );
}

#[test]
fn dual_stack_blocks_and_service_ranges() {
    let mut y = String::new();
    for (i, n) in ["a", "b"].iter().enumerate() {
        y.push_str(&format!(
            "---\napiVersion: projectcalico.org/v3\nkind: Node\nmetadata: {{name: {n}}}\nspec:\n  bgp: {{ipv4Address: 10.0.0.{0}/24, ipv6Address: 'fd00::{0}/64'}}\n",
            i + 1
        ));
    }
    y.push_str(
        "---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: v4}
spec: {cidr: 192.168.0.0/16}
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: v6}
spec: {cidr: 'fd10::/48'}
---
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {name: default}
spec:
  serviceClusterIPs: [{cidr: 10.96.0.0/12}, {cidr: 'fd20::/108'}]
",
    );
    let c = Cluster::from_yaml_str(&y).unwrap();
    let net = run(&c);
    let b = net.plan().node_index("b").unwrap();
    let rows = net.routes(b);
    let v6_block = net.blocks()[0].ipv6[0].to_string();
    let a6 = rows
        .iter()
        .find(|r| r.prefix == v6_block)
        .expect("a's IPv6 block");
    assert_eq!(a6.next_hop, "fd00::1");
    let svc6 = rows.iter().find(|r| r.prefix == "fd20::/108").unwrap();
    assert_eq!(svc6.next_hops.len(), 2);
    assert!(rows.iter().any(|r| r.prefix == "10.96.0.0/12"));
}

#[test]
fn mesh_sessions_are_unidirectional_with_graceful_restart_times() {
    let c = cluster(
        "---
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {name: default}
spec: {nodeMeshMaxRestartTime: 90s}
",
    );
    let plan = c.plan();
    for s in &plan.sessions {
        // The end whose peer has the higher address waits.
        assert!(s.a.passive != s.b.passive);
        let lower_waits = s.a.address.to_string() < s.b.address.to_string();
        assert_eq!(s.a.passive, lower_waits);
        assert_eq!((s.a.restart_time, s.b.restart_time), (90, 90));
    }
    let rr = rr_cluster("  maxRestartTime: 5m\n");
    let plan = rr.plan();
    assert!(plan
        .sessions
        .iter()
        .all(|s| s.a.restart_time == 300 && !s.a.passive && !s.b.passive));
    let default = cluster("").plan();
    assert!(default.sessions.iter().all(|s| s.a.restart_time == 120));
}

#[test]
fn unknown_fields_are_warnings_not_silence() {
    let c = cluster(
        "---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: typo}
spec: {peerIP: 10.1.1.1, asNumber: 65001, nexthopMode: Self, keepaliveTime: 30s}
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: pool}
spec: {cidr: 192.168.0.0/16, natOutgoing: true}
",
    );
    let unknown: Vec<_> = c
        .notes
        .iter()
        .filter(|n| n.severity == Severity::Warning && n.message.contains("unknown field"))
        .collect();
    assert_eq!(unknown.len(), 1);
    assert_eq!(unknown[0].resource, "BGPPeer/typo");
    assert_eq!(unknown[0].field, "spec.nexthopMode");
    let nat = c
        .fields
        .iter()
        .find(|u| u.field == "spec.natOutgoing")
        .unwrap();
    assert_eq!(nat.effect, reflector_sim::fields::Effect::NotRouting);
    assert!(c.fields.iter().any(|u| u.resource == "BGPPeer/typo"
        && u.field == "spec.keepaliveTime"
        && u.effect == reflector_sim::fields::Effect::Session));
}

/// `numAllowedLocalASNumbers`: x and z in AS 64512 peer only with y (AS
/// 64600). x's block reaches z with AS_PATH `64600 64512`, z's own AS: a
/// loop (RFC 4271 §9.1.2), accepted only on z's side that allows it once.
#[test]
fn num_allowed_local_as_numbers_lets_the_own_as_through_that_many_times() {
    let text = include_str!("../../cli/tests/simulate_bird_allowas.yaml");
    let net = run(&Cluster::from_yaml_str(text).unwrap());
    let to_z = route(&net, "z", &block(&net, "x")).expect("x's block on z");
    assert_eq!(to_z.as_path, "64600 64512");
    // x's side allows nothing: z's block is a loop there.
    assert!(route(&net, "x", &block(&net, "z")).is_none());
    // Both have y's.
    assert!(route(&net, "x", &block(&net, "y")).is_some());
    assert!(route(&net, "z", &block(&net, "y")).is_some());
    // Without the field z drops x's block too.
    let plain = text.replace(", numAllowedLocalASNumbers: 1", "");
    assert_ne!(plain, text);
    let net = run(&Cluster::from_yaml_str(&plain).unwrap());
    assert!(route(&net, "z", &block(&net, "x")).is_none());
    // Out of range is an error naming the field.
    let bad = text.replace(
        "numAllowedLocalASNumbers: 1",
        "numAllowedLocalASNumbers: 300",
    );
    let e = Cluster::from_yaml_str(&bad).unwrap_err().to_string();
    assert!(e.contains("spec.numAllowedLocalASNumbers"), "{e}");
}

/// `keepOriginalNextHop` toward another AS (BIRD's `next hop keep`): y (AS
/// 64600) passes x's block on to z (AS 64700) with x's next hop, and z's
/// block on to x with its own address (no keep on that side).
#[test]
fn keep_original_next_hop_toward_ebgp() {
    let text = include_str!("../../cli/tests/simulate_bird_nexthop.yaml");
    let net = run(&Cluster::from_yaml_str(text).unwrap());
    let on_z = route(&net, "z", &block(&net, "x")).expect("x's block on z");
    assert_eq!(on_z.as_path, "64600 64512");
    assert_eq!(on_z.next_hops, vec!["10.0.0.1".to_string()]);
    let on_x = route(&net, "x", &block(&net, "z")).expect("z's block on x");
    assert_eq!(on_x.next_hops, vec!["10.0.0.2".to_string()]);
    // nextHopMode: Keep does the same.
    let keep = text.replace("keepOriginalNextHop: true", "nextHopMode: Keep");
    assert_ne!(keep, text);
    let net = run(&Cluster::from_yaml_str(&keep).unwrap());
    let on_z = route(&net, "z", &block(&net, "x")).expect("x's block on z");
    assert_eq!(on_z.next_hops, vec!["10.0.0.1".to_string()]);
    // Without either, y's own address.
    let plain = text.replace(", keepOriginalNextHop: true", "");
    let net = run(&Cluster::from_yaml_str(&plain).unwrap());
    let on_z = route(&net, "z", &block(&net, "x")).expect("x's block on z");
    assert_eq!(on_z.next_hops, vec!["10.0.0.2".to_string()]);
}

/// `localASNumber` (BIRD's `local as`): between nodes the other end expects
/// the node's own AS, so the session never comes up and a lint says why;
/// toward a peer outside the cluster it is the AS the node opens with, and
/// the session is iBGP exactly when it equals the peer's.
#[test]
fn local_as_number_between_nodes_and_toward_an_external_peer() {
    let direct = "---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: a-b}
spec: {node: a, peerIP: 10.0.0.2, asNumber: 64512, localASNumber: 64999}
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: out}
spec: {node: a, peerIP: 10.0.0.50, asNumber: 65100, localASNumber: 65001}
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: same}
spec: {node: b, peerIP: 10.0.0.51, asNumber: 65100, localASNumber: 65100}
";
    let c = rr_cluster(direct);
    let net = run(&c);
    let plan = net.plan();
    let (a, b) = (plan.node_index("a").unwrap(), plan.node_index("b").unwrap());
    let ab = plan
        .sessions
        .iter()
        .find(|s| {
            s.a.endpoint == reflector_sim::plan::Endpoint::Node(a)
                && s.b.endpoint == reflector_sim::plan::Endpoint::Node(b)
        })
        .expect("a-b planned");
    assert!(ab.a.configured && ab.b.configured);
    assert!(!ab.ases_agree() && !ab.comes_up());
    assert_eq!((ab.a.opens_as(), ab.b.opens_as()), (64999, 64999));
    // b's block reaches a through the reflector only: one path, with its CLUSTER_LIST.
    let on_a = route(&net, "a", &block(&net, "b")).expect("b's block on a");
    assert_eq!(on_a.paths, 1, "{on_a:?}");
    let notes = c.lint_plan(plan);
    assert!(
        notes.iter().any(|n| n.field == "spec.localASNumber"
            && n.resource == "BGPPeer/a-b"
            && n.message.contains("Bad Peer AS")),
        "{notes:?}"
    );
    let external = |addr: &str| {
        let ip: IpAddr = addr.parse().unwrap();
        plan.sessions
            .iter()
            .find(|s| {
                matches!(s.b.endpoint, reflector_sim::plan::Endpoint::External(i)
                    if plan.externals[i].address == ip)
            })
            .expect("external session")
    };
    let out = external("10.0.0.50");
    assert!(out.comes_up() && !out.ibgp);
    assert_eq!(out.a.opens_as(), 65001);
    assert_eq!(out.a.role, reflector_sim::plan::PeerRole::Ebgp);
    let same = external("10.0.0.51");
    assert!(same.comes_up() && same.ibgp);
    assert_eq!(same.a.role, reflector_sim::plan::PeerRole::NonClient);
    // Without the field the direct session comes up and a holds two paths.
    let plain = direct.replace(", localASNumber: 64999", "");
    let net = run(&rr_cluster(&plain));
    let on_a = route(&net, "a", &block(&net, "b")).expect("b's block on a");
    assert_eq!(on_a.paths, 2, "{on_a:?}");
}

/// Workloads a node peers with (`localWorkloadSelector`): one passive session
/// per family the workload and the node both have an address in, through the
/// first `BGPPeer` by name that applies to the node and selects it; host
/// network, finished and unselected pods get none.
const WORKLOADS: &str = "---
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {name: default}
spec: {localWorkloadPeeringIPV4: 169.254.0.179}
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: global-red}
spec: {localWorkloadSelector: \"color == 'red'\", asNumber: 65401}
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: node-blue}
spec: {node: b, localWorkloadSelector: \"color == 'blue'\", asNumber: 65401, localASNumber: 65002}
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: zz-red-too}
spec: {node: a, localWorkloadSelector: \"color == 'red'\", asNumber: 65402}
---
apiVersion: v1
kind: Pod
metadata: {name: red-0, namespace: child, labels: {color: red}}
spec: {nodeName: a}
status: {phase: Running, podIPs: [{ip: 10.65.0.2}, {ip: \"fd00:65::2\"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: red-1, namespace: child, labels: {color: red}}
spec: {nodeName: b}
status: {phase: Running, podIP: 10.65.1.2}
---
apiVersion: v1
kind: Pod
metadata: {name: blue-0, namespace: child, labels: {color: blue}}
spec: {nodeName: a}
status: {phase: Running, podIP: 10.65.0.3}
---
apiVersion: v1
kind: Pod
metadata: {name: blue-1, namespace: child, labels: {color: blue}}
spec: {nodeName: b}
status: {phase: Running, podIP: 10.65.1.3}
---
apiVersion: v1
kind: Pod
metadata: {name: green-0, namespace: child, labels: {color: green}}
spec: {nodeName: c}
status: {phase: Running, podIP: 10.65.2.2}
---
apiVersion: v1
kind: Pod
metadata: {name: red-host, namespace: child, labels: {color: red}}
spec: {nodeName: c, hostNetwork: true}
status: {phase: Running, podIP: 10.0.0.3}
---
apiVersion: v1
kind: Pod
metadata: {name: red-done, namespace: child, labels: {color: red}}
spec: {nodeName: c}
status: {phase: Succeeded, podIP: 10.65.2.9}
---
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata: {name: c-k8s-red--2-eth0, namespace: other, labels: {color: red}}
spec: {node: c, pod: red-2, ipNetworks: [10.65.2.3/32]}
";

#[test]
fn local_workload_selector_plans_passive_sessions_with_the_selected_workloads() {
    use reflector_sim::plan::{Endpoint, PeerType, Source};
    let c = cluster(WORKLOADS);
    let net = run(&c);
    let plan = net.plan();
    let mut got: Vec<(String, String, u32, Option<u32>, String, bool)> = plan
        .sessions
        .iter()
        .filter(|s| s.a.peer_type == PeerType::LocalWorkload)
        .map(|s| {
            let Endpoint::External(x) = s.b.endpoint else {
                panic!("{s:?}")
            };
            let Source::BgpPeer(k) = s.sources[0] else {
                panic!("{s:?}")
            };
            (
                plan.endpoint_name(s.a.endpoint),
                plan.externals[x].workload.clone().unwrap(),
                s.b.as_number,
                s.a.local_as,
                c.bgp_peers[k].name.clone(),
                s.a.passive,
            )
        })
        .collect();
    got.sort();
    let row = |n: &str, w: &str, asn: u32, local: Option<u32>, p: &str| {
        (
            n.to_string(),
            w.to_string(),
            asn,
            local,
            p.to_string(),
            true,
        )
    };
    assert_eq!(
        got,
        vec![
            row("a", "child/red-0", 65401, None, "global-red"),
            row("b", "child/blue-1", 65401, Some(65002), "node-blue"),
            row("b", "child/red-1", 65401, None, "global-red"),
            row("c", "other/red-2", 65401, None, "global-red"),
        ]
    );
    let summary = plan.summary();
    assert_eq!(
        (summary.local_workload_sessions, summary.mesh_sessions),
        (4, 3)
    );
    let text = reflector_sim::render::render_summary(&summary);
    assert!(
        text.contains("(100.0% of the full mesh") && text.contains("4 local workload (7 in all)"),
        "{text}"
    );
    // Workloads are peers outside the cluster: sessions to them are eBGP
    // here (65401 against the cluster's 64512) and never come up in the
    // simulation; every node still has the others' blocks.
    for n in ["a", "b", "c"] {
        for o in ["a", "b", "c"] {
            assert!(
                route(&net, n, &block(&net, o)).is_some(),
                "{o}'s block on {n}"
            );
        }
    }
    let notes = c.lint_plan(plan);
    assert!(
        notes.iter().any(|n| n.resource == "BGPPeer/global-red"
            && n.field == "spec.localWorkloadSelector"
            && n.message.contains("child/red-0")
            && n.message.contains("zz-red-too")),
        "{notes:?}"
    );
    assert!(
        !notes
            .iter()
            .any(|n| n.field == "spec.localWorkloadPeeringIPV4"),
        "{notes:?}"
    );
    // zz-red-too loses every workload to global-red: it configures nothing.
    assert!(
        notes
            .iter()
            .any(|n| n.resource == "BGPPeer/zz-red-too" && n.field == "spec.localWorkloadSelector"),
        "{notes:?}"
    );
    // Without the peering address, a lint says the workloads have none.
    let bare = WORKLOADS.replace(
        "spec: {localWorkloadPeeringIPV4: 169.254.0.179}",
        "spec: {}",
    );
    assert_ne!(bare, WORKLOADS);
    let c = cluster(&bare);
    let notes = c.lint_plan(&c.plan());
    assert!(
        notes
            .iter()
            .any(|n| n.field == "spec.localWorkloadPeeringIPV4"
                && n.message.starts_with("4 IPv4 workload peering")),
        "{notes:?}"
    );
    // Calico's validation: an AS is required, peerIP excluded.
    for (edit, field) in [
        ((", asNumber: 65402}", "}"), "spec.asNumber"),
        (
            (
                "spec: {node: a, localWorkloadSelector",
                "spec: {node: a, peerIP: 192.0.2.1, localWorkloadSelector",
            ),
            "spec.localWorkloadSelector",
        ),
    ] {
        let text = WORKLOADS.replace(edit.0, edit.1);
        assert_ne!(text, WORKLOADS);
        let y = format!(
            "---\napiVersion: projectcalico.org/v3\nkind: Node\nmetadata: {{name: a}}\nspec: {{bgp: {{ipv4Address: 10.0.0.1/24}}}}\n{text}"
        );
        let e = Cluster::from_yaml_str(&y).unwrap_err().to_string();
        assert!(e.contains(field), "{e}");
    }
}

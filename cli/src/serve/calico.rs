//! `reflector serve` from Calico resources: be one node of the cluster.
//!
//! The resources (`BGPConfiguration`, `Node`, `BGPPeer`, in a folder or a
//! `.yaml`/`.yml` file) are read by the simulator's loader
//! ([`Cluster::load_path`]) and planned by its calico/node-faithful planner
//! ([`Cluster::plan`]); the daemon's [`Config`] is the plan's view from the
//! node named by `--node`:
//!
//! - router ID: the node's IPv4 address (`spec.bgp.ipv4Address` without the
//!   prefix length), as calico/node uses it;
//! - AS: the node's `spec.bgp.asNumber`, else the default `BGPConfiguration`'s,
//!   else 64512;
//! - cluster ID: the node's `spec.bgp.routeReflectorClusterID` (a reflector),
//!   else none (the router ID);
//! - listen: the node's IPv4 and IPv6 addresses on the `BGPConfiguration`'s
//!   `listenPort` (default 179), unless `--listen` replaces them;
//! - one peer per planned session (one per address family): role as the
//!   planner gives it (client, non-client, eBGP), port 179 for peers outside
//!   the cluster and `listenPort` for other nodes, families the session's own.
//!
//! Every peer is active (the daemon also connects, as calico/node's BIRD
//! does); when both ends connect, RFC 4271 collision detection keeps one
//! connection. `--passive` makes every peer passive. Outgoing connections
//! come from the listen address of the peer's family.
//!
//! Not covered: a port written in a `BGPPeer`'s `peerIP` (`10.0.0.9:1179`) —
//! the loader keeps the address only, so external peers are reached on 179.

use std::net::SocketAddr;
use std::path::Path;

use reflector_core::engine::AddPathSend;
use reflector_core::reflect::Role;
use reflector_core::wire::AfiSafi;
use reflector_sim::plan::{Endpoint, Family, PeerRole, PeerType, Source};
use reflector_sim::{Cluster, Note, Severity};

use super::config::{Config, ConfigError, PeerLimits, PeerSecurity, PeerSpec};

/// Hold time proposed to every peer: BIRD's default, what calico/node proposes.
const HOLD_TIME: u16 = 240;

/// Node names listed in an error before "and N more".
const LISTED_NODES: usize = 20;

/// Command-line settings applied on top of the configuration file, whatever its format.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `--node`: the Calico node to be (required for Calico resources).
    pub node: Option<String>,
    /// `--listen`: replaces the configured or planned listen addresses when not empty.
    pub listen: Vec<SocketAddr>,
    /// `--passive`: only accept connections, never connect.
    pub passive: bool,
    /// `--secrets DIR`: Kubernetes Secrets mounted at `DIR/<name>/<key>` (see `secrets.rs`).
    pub secrets: Option<std::path::PathBuf>,
}

/// A configuration ready for the daemon, with remarks to log once logging is set up.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The daemon's configuration.
    pub config: Config,
    /// Load notes and lint findings of Calico resources (empty for other formats).
    pub notes: Vec<Note>,
}

fn err(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError {
        field: field.into(),
        message: message.into(),
    }
}

/// Whether `path` holds Calico resources: a folder, a `.yaml`/`.yml` file, or
/// (other extensions but `.toml` and `.json`) a file whose first line is
/// `apiVersion:`, `kind:` or `---`.
pub fn is_calico(path: &Path) -> bool {
    if path.is_dir() {
        return true;
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("yaml" | "yml") => true,
        Some("toml" | "json") => false,
        _ => std::fs::read_to_string(path).is_ok_and(|text| {
            text.lines()
                .map(str::trim)
                .find(|l| !l.is_empty() && !l.starts_with('#'))
                .is_some_and(|l| {
                    l.starts_with("apiVersion:") || l.starts_with("kind:") || l.starts_with("---")
                })
        }),
    }
}

/// Load any configuration `reflector serve` accepts and apply the command-line overrides.
pub fn load(path: &Path, o: &Overrides) -> Result<Loaded, ConfigError> {
    let (mut config, notes) = if is_calico(path) {
        let cluster = Cluster::load_path(path).map_err(|e| err("", e.to_string()))?;
        let node = o.node.as_deref().ok_or_else(|| {
            err(
                "node",
                format!(
                    "Calico resources describe a whole cluster: say which node to be with --node NAME ({})",
                    known_nodes(&cluster)
                ),
            )
        })?;
        let extras = super::secrets::scan(path);
        let security = |sources: &[Source]| {
            super::secrets::security(&cluster, &extras, sources, o.secrets.as_deref())
        };
        let (c, mut notes) = config_for_node_with(&cluster, node, &o.listen, &security)?;
        notes.extend(extras.notes.iter().cloned());
        (c, notes)
    } else {
        if o.node.is_some() {
            return Err(err(
                "node",
                "--node picks a node of Calico resources (a folder or a .yaml file); this is a Reflector TOML or rr-bench JSON file",
            ));
        }
        let mut c = Config::load(path)?;
        if !o.listen.is_empty() {
            c.listen.clone_from(&o.listen);
        }
        (c, Vec::new())
    };
    if o.passive {
        for p in &mut config.peers {
            p.passive = true;
        }
    }
    Ok(Loaded { config, notes })
}

fn known_nodes(cluster: &Cluster) -> String {
    if cluster.nodes.is_empty() {
        return "there is no Node resource".into();
    }
    let names: Vec<&str> = cluster
        .nodes
        .iter()
        .take(LISTED_NODES)
        .map(|n| n.name.as_str())
        .collect();
    let more = cluster.nodes.len().saturating_sub(LISTED_NODES);
    let mut s = format!("known nodes: {}", names.join(", "));
    if more > 0 {
        s.push_str(&format!(" and {more} more"));
    }
    s
}

/// Whether the loader made up the node's address (none was written): a note says so.
fn address_made_up(cluster: &Cluster, node: &str) -> bool {
    let resource = format!("Node/{node}");
    cluster.notes.iter().any(|n| {
        n.severity == Severity::Info && n.field == "spec.bgp.ipv4Address" && n.resource == resource
    })
}

fn role(r: PeerRole) -> Role {
    match r {
        PeerRole::Client => Role::Client,
        PeerRole::NonClient => Role::NonClient,
        PeerRole::Ebgp => Role::Ebgp,
    }
}

/// The configuration of node `node` of a cluster, from the planner's sessions;
/// `listen`, when not empty, replaces the node's addresses. Also returns the
/// cluster's load notes and lint findings.
#[cfg(test)]
pub fn config_for_node(
    cluster: &Cluster,
    node: &str,
    listen: &[SocketAddr],
) -> Result<(Config, Vec<Note>), ConfigError> {
    config_for_node_with(cluster, node, listen, &|_| Ok(PeerSecurity::default()))
}

/// The configuration of node `node` (as `config_for_node`, used by the tests),
/// with each session's TCP-MD5 and GTSM settings from the resources it comes from.
pub fn config_for_node_with(
    cluster: &Cluster,
    node: &str,
    listen: &[SocketAddr],
    security: &dyn Fn(&[Source]) -> Result<PeerSecurity, ConfigError>,
) -> Result<(Config, Vec<Note>), ConfigError> {
    let plan = cluster.plan();
    let idx = plan.node_index(node).ok_or_else(|| {
        err(
            "node",
            format!("no Node named `{node}` ({})", known_nodes(cluster)),
        )
    })?;
    let me = plan
        .nodes
        .get(idx)
        .ok_or_else(|| err("node", format!("no Node named `{node}`")))?;
    let address_field = format!("Node/{node}.spec.bgp.ipv4Address");
    if address_made_up(cluster, node) {
        return Err(err(
            address_field,
            "not set: calico/node autodetects it, reflector serve needs it written (the router ID and the address peers know)",
        ));
    }
    let router_id = me.router_id().ok_or_else(|| {
        err(
            &address_field,
            "not set: the router ID is the node's IPv4 address",
        )
    })?;
    let port = cluster.bgp_configuration.listen_port.unwrap_or(179);
    let listen: Vec<SocketAddr> = if listen.is_empty() {
        [me.address(Family::Ipv4), me.address(Family::Ipv6)]
            .into_iter()
            .flatten()
            .map(|a| SocketAddr::new(a, port))
            .collect()
    } else {
        listen.to_vec()
    };
    let local = |family: Family| {
        listen
            .iter()
            .map(SocketAddr::ip)
            .find(|a| !a.is_unspecified() && a.is_ipv4() == (family == Family::Ipv4))
    };

    let mut notes = cluster.lint_plan(&plan);
    let mut peers = Vec::new();
    for (mine, them, session) in plan.sessions_of(idx) {
        if !mine.configured {
            // `reversePeering: Manual` on the BGPPeer that plans it, and no
            // BGPPeer configures this end: calico/node opens nothing here.
            notes.push(Note {
                severity: Severity::Warning,
                resource: format!("Node/{node}"),
                field: String::new(),
                message: format!(
                    "no session to {}: only its end is configured (reversePeering: Manual) and no BGPPeer configures this node's end, so calico/node would not open it",
                    plan.endpoint_name(them.endpoint)
                ),
            });
            continue;
        }
        let (name, port) = match them.endpoint {
            Endpoint::Node(j) => {
                let name = plan.endpoint_name(Endpoint::Node(j));
                if address_made_up(cluster, &name) {
                    notes.push(Note {
                        severity: Severity::Warning,
                        resource: format!("Node/{name}"),
                        field: "spec.bgp.ipv4Address".into(),
                        message: format!(
                            "not set: no session to it from {node} (reflector serve needs real addresses)"
                        ),
                    });
                    continue;
                }
                (name, port)
            }
            Endpoint::External(x) => {
                let resource = session.sources.iter().find_map(|s| match s {
                    Source::BgpPeer(k) => cluster.bgp_peers.get(*k).map(|p| p.name.clone()),
                    Source::Mesh => None,
                });
                // A workload peer is named by its workload (one BGPPeer selects many).
                let workload = plan.externals.get(x).and_then(|e| e.workload.clone());
                (
                    workload
                        .or(resource)
                        .unwrap_or_else(|| plan.endpoint_name(them.endpoint)),
                    179,
                )
            }
        };
        let (name, families) = match session.family {
            Family::Ipv4 => (name, vec![AfiSafi::IPV4_UNICAST]),
            Family::Ipv6 => (format!("{name}/ipv6"), vec![AfiSafi::IPV6_UNICAST]),
        };
        peers.push(PeerSpec {
            name,
            address: them.address,
            asn: them.as_number,
            role: role(mine.role),
            // calico/node waits for its workload peers to connect.
            passive: mine.peer_type == PeerType::LocalWorkload,
            port,
            local_address: local(session.family),
            hold_time: HOLD_TIME,
            families,
            add_path_receive: false,
            add_path_send: AddPathSend::Off,
            local_role: None,
            strict_role: false,
            extended_next_hop: false,
            allow_own_as: if session.ibgp { 0 } else { mine.allow_local_as },
            next_hop_unchanged: mine.next_hop_keep && !session.ibgp,
            local_as: mine.local_as,
            limits: PeerLimits::default(),
            import: None,
            export: None,
            security: security(&session.sources)?,
        });
    }
    if peers.is_empty() {
        notes.push(Note {
            severity: Severity::Warning,
            resource: format!("Node/{node}"),
            field: String::new(),
            message: "no BGP session is planned for this node: the reflector will have no peers"
                .into(),
        });
    }
    let config = Config {
        router_id,
        asn: me.as_number,
        cluster_id: me.cluster_id,
        listen,
        client_to_client: true,
        connect_retry: 5,
        // calico/node's BIRD gives every session its own import and export
        // filters, so RFC 8212's default-deny does not arise there; the
        // sessions planned from the resources behave as calico/node's do.
        ebgp_requires_policy: false,
        rtc_default_to_clients: true,
        graceful_restart_deferral: None,
        peers,
        bmp: Vec::new(),
        ops: super::control::OpsConfig::default(),
    };
    config.validate()?;
    Ok((config, notes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};

    fn example(name: &str) -> Cluster {
        Cluster::load_path(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../examples/{name}")),
        )
        .unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// (name, address, asn, role) of every peer.
    fn peers(c: &Config) -> Vec<(&str, IpAddr, u32, Role)> {
        c.peers
            .iter()
            .map(|p| (p.name.as_str(), p.address, p.asn, p.role))
            .collect()
    }

    #[test]
    fn calico_rr_reflector_has_the_other_nodes_as_clients_and_the_other_reflector_as_non_client() {
        let (c, notes) = config_for_node(&example("calico-rr"), "rxgks", &[]).unwrap();
        assert_eq!(c.router_id, Ipv4Addr::new(10, 0, 0, 2));
        assert_eq!(c.asn, 63400);
        assert_eq!(c.cluster_id, Some(Ipv4Addr::new(224, 0, 0, 1)));
        assert_eq!(c.listen, vec!["10.0.0.2:179".parse().unwrap()]);
        assert!(c.client_to_client);
        assert_eq!(
            peers(&c),
            vec![
                ("qtwtv", ip("10.0.0.1"), 63400, Role::Client),
                ("uqwst", ip("10.0.0.3"), 63400, Role::Client),
                ("volwl", ip("10.0.0.4"), 63400, Role::Client),
                ("zyisy", ip("10.0.0.5"), 63400, Role::NonClient),
            ]
        );
        for p in &c.peers {
            assert!(!p.passive);
            assert_eq!(p.port, 179);
            assert_eq!(p.families, vec![AfiSafi::IPV4_UNICAST]);
            assert_eq!(p.local_address, Some(ip("10.0.0.2")));
            assert_eq!(p.hold_time, HOLD_TIME);
        }
        // The unquoted `!has(route-reflector)` of the example is reported.
        assert!(
            notes
                .iter()
                .any(|n| n.severity == Severity::Warning && n.resource == "BGPPeer/peer-to-rrs"),
            "{notes:?}"
        );
    }

    #[test]
    fn calico_rr_ordinary_node_peers_with_both_reflectors_as_non_clients() {
        let (c, _) = config_for_node(&example("calico-rr"), "qtwtv", &[]).unwrap();
        assert_eq!(c.router_id, Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(c.asn, 63400);
        assert_eq!(c.cluster_id, None);
        assert_eq!(
            peers(&c),
            vec![
                ("rxgks", ip("10.0.0.2"), 63400, Role::NonClient),
                ("zyisy", ip("10.0.0.5"), 63400, Role::NonClient),
            ]
        );
    }

    #[test]
    fn calico_mesh_node_peers_with_every_other_node() {
        let (c, _) = config_for_node(&example("calico-mesh"), "uqwst", &[]).unwrap();
        assert_eq!(c.router_id, Ipv4Addr::new(10, 0, 0, 3));
        assert_eq!(c.asn, 63400);
        assert_eq!(c.cluster_id, None);
        assert_eq!(
            peers(&c),
            vec![
                ("qtwtv", ip("10.0.0.1"), 63400, Role::NonClient),
                ("rxgks", ip("10.0.0.2"), 63400, Role::NonClient),
                ("volwl", ip("10.0.0.4"), 63400, Role::NonClient),
                ("zyisy", ip("10.0.0.5"), 63400, Role::NonClient),
            ]
        );
    }

    /// `reversePeering: Manual`: the BGPPeer configures only its own end; the
    /// remote node opens no session for it (calico/node writes nothing there)
    /// until another BGPPeer configures that end.
    #[test]
    fn manual_reverse_peering_opens_only_the_configured_end() {
        let text = |back: &str| {
            format!(
                "apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {{name: default}}
spec: {{nodeToNodeMeshEnabled: false, asNumber: 64512}}
---
apiVersion: projectcalico.org/v3
kind: Node
metadata: {{name: a}}
spec: {{bgp: {{ipv4Address: 10.0.0.1/24}}}}
---
apiVersion: projectcalico.org/v3
kind: Node
metadata: {{name: b}}
spec: {{bgp: {{ipv4Address: 10.0.0.2/24}}}}
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {{name: a-to-b}}
spec: {{node: a, peerIP: 10.0.0.2, asNumber: 64512, reversePeering: Manual}}
{back}"
            )
        };
        let one = Cluster::from_yaml_str(&text("")).unwrap();
        let (a, _) = config_for_node(&one, "a", &[]).unwrap();
        assert_eq!(
            peers(&a),
            vec![("b", ip("10.0.0.2"), 64512, Role::NonClient)]
        );
        let (b, notes) = config_for_node(&one, "b", &[]).unwrap();
        assert!(b.peers.is_empty(), "{:?}", peers(&b));
        assert!(
            notes
                .iter()
                .any(|n| n.resource == "Node/b" && n.message.contains("reversePeering: Manual")),
            "{notes:?}"
        );
        // With the other end configured too, b opens it.
        let both = Cluster::from_yaml_str(&text(
            "---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: b-to-a}
spec: {node: b, peerIP: 10.0.0.1, asNumber: 64512, reversePeering: Manual}
",
        ))
        .unwrap();
        let (b, _) = config_for_node(&both, "b", &[]).unwrap();
        assert_eq!(b.peers.len(), 1);
        assert_eq!(b.peers[0].address, ip("10.0.0.1"));
    }

    #[test]
    fn listen_override_also_sets_the_source_address() {
        let listen: Vec<SocketAddr> = vec!["127.0.0.7:1790".parse().unwrap()];
        let (c, _) = config_for_node(&example("calico-rr"), "zyisy", &listen).unwrap();
        assert_eq!(c.listen, listen);
        assert_eq!(c.router_id, Ipv4Addr::new(10, 0, 0, 5));
        assert!(c
            .peers
            .iter()
            .all(|p| p.local_address == Some(ip("127.0.0.7"))));
    }

    #[test]
    fn ebgp_peer_ipv6_sessions_default_as_and_listen_port() {
        let yaml = r#"
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {name: default}
spec: {nodeToNodeMeshEnabled: false, listenPort: 1179}
---
apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: rr, labels: {rr: "yes"}}
spec:
  bgp: {ipv4Address: 192.0.2.1/24, ipv6Address: "2001:db8::1/64", routeReflectorClusterID: 1.1.1.1}
---
apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: n1}
spec:
  bgp: {ipv4Address: 192.0.2.2/24, ipv6Address: "2001:db8::2/64", asNumber: 64512}
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: to-rr}
spec: {nodeSelector: "!has(rr)", peerSelector: "has(rr)"}
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: upstream}
spec: {node: rr, peerIP: 198.51.100.1, asNumber: 65001}
"#;
        let cluster = Cluster::from_yaml_str(yaml).unwrap();
        let (c, _) = config_for_node(&cluster, "rr", &[]).unwrap();
        assert_eq!(c.asn, 64512, "Calico's default AS");
        assert_eq!(c.cluster_id, Some(Ipv4Addr::new(1, 1, 1, 1)));
        assert_eq!(
            c.listen,
            vec![
                "192.0.2.1:1179".parse().unwrap(),
                "[2001:db8::1]:1179".parse().unwrap()
            ]
        );
        assert_eq!(
            peers(&c),
            vec![
                ("n1", ip("192.0.2.2"), 64512, Role::Client),
                ("upstream", ip("198.51.100.1"), 65001, Role::Ebgp),
                ("n1/ipv6", ip("2001:db8::2"), 64512, Role::Client),
            ]
        );
        let ports: Vec<u16> = c.peers.iter().map(|p| p.port).collect();
        assert_eq!(ports, vec![1179, 179, 1179]);
        assert_eq!(c.peers[2].families, vec![AfiSafi::IPV6_UNICAST]);
        assert_eq!(c.peers[2].local_address, Some(ip("2001:db8::1")));
    }

    /// `localASNumber` toward a peer outside the cluster: the node opens
    /// that session as the given AS (eBGP, as in calico/node's `local as`).
    #[test]
    fn local_as_number_toward_an_external_peer() {
        let yaml = r#"
apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: rr}
spec: {bgp: {ipv4Address: 192.0.2.1/24, asNumber: 64512}}
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: upstream}
spec: {node: rr, peerIP: 198.51.100.1, asNumber: 65001, localASNumber: 65002}
"#;
        let cluster = Cluster::from_yaml_str(yaml).unwrap();
        let (c, _) = config_for_node(&cluster, "rr", &[]).unwrap();
        c.validate().unwrap();
        assert_eq!(
            peers(&c),
            vec![("upstream", ip("198.51.100.1"), 65001, Role::Ebgp)]
        );
        assert_eq!(c.peers[0].local_as, Some(65002));
        let same = yaml.replace("localASNumber: 65002", "localASNumber: 65001");
        let (c, _) = config_for_node(&Cluster::from_yaml_str(&same).unwrap(), "rr", &[]).unwrap();
        c.validate().unwrap();
        assert_eq!(c.peers[0].local_as, Some(65001));
        assert_ne!(c.peers[0].role, Role::Ebgp, "same AS at both ends: iBGP");
    }

    /// Workload peers: passive, named by their workload, with the BGPPeer's
    /// AS and local AS.
    #[test]
    fn local_workload_peers_are_passive_and_named_by_workload() {
        let text = include_str!("../../tests/simulate_bird_workloads.yaml");
        let cluster = Cluster::from_yaml_str(text).unwrap();
        let (c, _) = config_for_node(&cluster, "b", &[]).unwrap();
        c.validate().unwrap();
        type Row<'a> = (&'a str, IpAddr, u32, Option<u32>, bool, Role);
        let workloads: Vec<Row<'_>> = c
            .peers
            .iter()
            .filter(|p| p.name.starts_with("child/"))
            .map(|p| {
                (
                    p.name.as_str(),
                    p.address,
                    p.asn,
                    p.local_as,
                    p.passive,
                    p.role,
                )
            })
            .collect();
        assert_eq!(
            workloads,
            vec![
                (
                    "child/red-1",
                    ip("10.65.1.2"),
                    65401,
                    None,
                    true,
                    Role::Ebgp
                ),
                (
                    "child/blue-1",
                    ip("10.65.1.3"),
                    65401,
                    Some(65002),
                    true,
                    Role::Ebgp
                ),
            ]
        );
        // The mesh peers are not passive.
        assert!(c
            .peers
            .iter()
            .filter(|p| !p.name.starts_with("child/"))
            .all(|p| !p.passive));
    }

    #[test]
    fn node_is_required_and_must_exist() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/calico-rr");
        let e = load(&dir, &Overrides::default()).unwrap_err();
        assert_eq!(e.field, "node");
        assert!(e.message.contains("--node"), "{e}");
        assert!(
            e.message.contains("qtwtv, rxgks, uqwst, volwl, zyisy"),
            "{e}"
        );
        let o = Overrides {
            node: Some("nope".into()),
            ..Overrides::default()
        };
        let e = load(&dir, &o).unwrap_err();
        assert_eq!(e.field, "node");
        assert!(e.to_string().contains("`nope`"), "{e}");
        assert!(e.message.contains("rxgks"), "{e}");
    }

    #[test]
    fn a_node_without_address_is_refused() {
        let yaml = "apiVersion: projectcalico.org/v3\nkind: Node\nmetadata: {name: a}\n";
        let e = config_for_node(&Cluster::from_yaml_str(yaml).unwrap(), "a", &[]).unwrap_err();
        assert_eq!(e.field, "Node/a.spec.bgp.ipv4Address");
    }

    #[test]
    fn detection_and_overrides() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        assert!(is_calico(&root.join("examples/calico-rr")));
        assert!(is_calico(&root.join("examples/calico-rr/nodes.yaml")));
        assert!(!is_calico(&root.join("examples/serve/reflector.toml")));

        let toml = root.join("examples/serve/reflector.toml");
        let o = Overrides {
            listen: vec!["127.0.0.9:1234".parse().unwrap()],
            passive: true,
            ..Overrides::default()
        };
        let l = load(&toml, &o).unwrap();
        assert_eq!(l.config.listen, o.listen);
        assert!(l.config.peers.iter().all(|p| p.passive));
        let o = Overrides {
            node: Some("x".into()),
            ..Overrides::default()
        };
        assert_eq!(load(&toml, &o).unwrap_err().field, "node");

        let o = Overrides {
            node: Some("rxgks".into()),
            passive: true,
            ..Overrides::default()
        };
        let l = load(&root.join("examples/calico-rr"), &o).unwrap();
        assert_eq!(l.config.peers.len(), 4);
        assert!(l.config.peers.iter().all(|p| p.passive));
    }
}

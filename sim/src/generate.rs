//! A cluster generator: N nodes, R route reflectors, the two usual `BGPPeer`s, mesh off.
//!
//! Node names look like the random five-letter names of the story's cluster
//! but come from a seeded generator, so the same options always give the
//! same cluster. The output is YAML that goes through the normal loader.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::error::Error;
use crate::resources::Cluster;

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenerateOptions {
    /// Number of nodes, reflectors included.
    pub nodes: usize,
    /// Number of route reflectors among them.
    pub reflectors: usize,
    /// Seed of the name generator.
    pub seed: u64,
    /// The cluster's AS (`BGPConfiguration default`).
    pub as_number: u32,
    /// The reflectors' shared cluster ID.
    pub cluster_id: Ipv4Addr,
    /// Dual stack: every node also gets an IPv6 address (`fd00:a::<n>/64`) and pods an IPv6 pool (`fd00:c0::/48`, /122 blocks).
    pub dual_stack: bool,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            nodes: 5,
            reflectors: 2,
            seed: 1,
            as_number: 63400,
            cluster_id: Ipv4Addr::new(224, 0, 0, 1),
            dual_stack: false,
        }
    }
}

/// SplitMix64: a small, well-mixed deterministic generator.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// `count` distinct five-letter lowercase names, deterministic from `seed`.
pub fn node_names(count: usize, seed: u64) -> Vec<String> {
    let mut rng = SplitMix64(seed);
    let mut seen = std::collections::BTreeSet::new();
    let mut names = Vec::with_capacity(count);
    while names.len() < count {
        let mut x = rng.next();
        let name: String = (0..5)
            .map(|_| {
                let c = char::from(b'a' + (x % 26) as u8);
                x /= 26;
                c
            })
            .collect();
        if seen.insert(name.clone()) {
            names.push(name);
        }
    }
    names
}

/// The generated cluster as YAML (selectors quoted, so the peers are "node specific").
pub fn generate_yaml(opts: &GenerateOptions) -> String {
    let names = node_names(opts.nodes, opts.seed);
    let mut y = String::new();
    let _ = write!(
        y,
        "# Generated: {} nodes, {} route reflectors, seed {}.\n\
         apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata:\n  name: default\n\
         spec:\n  nodeToNodeMeshEnabled: false\n  asNumber: {}\n  logSeverityScreen: Info\n",
        opts.nodes, opts.reflectors, opts.seed, opts.as_number
    );
    // Calico's default pool has 1024 /26 blocks; larger clusters get a larger pool.
    let pool = if opts.nodes <= 1024 {
        "192.168.0.0/16"
    } else {
        "10.128.0.0/9"
    };
    let _ = write!(
        y,
        "---\napiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: default-ipv4-ippool\n\
         spec:\n  cidr: {pool}\n  blockSize: 26\n"
    );
    if opts.dual_stack {
        // Calico's default IPv6 pool shape: a /48 of /122 blocks.
        y.push_str(
            "---\napiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: default-ipv6-ippool\n\
             spec:\n  cidr: fd00:c0::/48\n  blockSize: 122\n",
        );
    }
    for (i, name) in names.iter().enumerate() {
        let addr = Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 0, 0, 0)) + i as u32 + 1);
        let _ = write!(
            y,
            "---\napiVersion: projectcalico.org/v3\nkind: Node\nmetadata:\n  name: {name}\n"
        );
        if i < opts.reflectors {
            let _ = write!(y, "  labels:\n    route-reflector: \"true\"\n");
        }
        let _ = write!(y, "spec:\n  bgp:\n    ipv4Address: {addr}/16\n");
        if opts.dual_stack {
            let v6 = Ipv6Addr::from(0xfd00_000a_u128 << 96 | (i as u128 + 1));
            let _ = writeln!(y, "    ipv6Address: {v6}/64");
        }
        if i < opts.reflectors {
            let _ = writeln!(y, "    routeReflectorClusterID: {}", opts.cluster_id);
        }
    }
    y.push_str(
        "---\napiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata:\n  name: peer-to-rrs\n\
         spec:\n  nodeSelector: \"!has(route-reflector)\"\n  peerSelector: has(route-reflector)\n\
         ---\napiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata:\n  name: rr-mesh\n\
         spec:\n  nodeSelector: has(route-reflector)\n  peerSelector: has(route-reflector)\n",
    );
    y
}

/// Generates and loads the cluster.
pub fn generate(opts: &GenerateOptions) -> Result<Cluster, Error> {
    Cluster::from_yaml_str_named(&generate_yaml(opts), "<generated>")
}

//! Pod address blocks: Calico IPAM hands each node fixed-size blocks out of an IP pool.
//!
//! The simulator allocates deterministically: nodes in name order take the
//! pool's blocks in address order (`blocks_per_node` each), which is what a
//! fresh Calico cluster converges to when nodes start one after another.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Serialize;

use crate::error::Error;
use crate::resources::{Cidr, Cluster};

/// Where blocks come from and how many each node gets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PoolConfig {
    /// IPv4 pool (Calico's default `192.168.0.0/16`).
    pub ipv4_pool: Cidr<Ipv4Addr>,
    /// IPv4 block prefix length (Calico's default 26).
    pub ipv4_block: u8,
    /// Optional IPv6 pool and its block prefix length (Calico's default 122).
    pub ipv6_pool: Option<(Cidr<Ipv6Addr>, u8)>,
    /// Blocks each node originates per family.
    pub blocks_per_node: u32,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            ipv4_pool: Cidr {
                addr: Ipv4Addr::new(192, 168, 0, 0),
                len: 16,
            },
            ipv4_block: 26,
            ipv6_pool: None,
            blocks_per_node: 1,
        }
    }
}

impl PoolConfig {
    /// The pools a cluster's enabled `IPPool` resources give (first by name per family), else the defaults.
    pub fn from_cluster(cluster: &Cluster) -> PoolConfig {
        let mut cfg = PoolConfig::default();
        let enabled = || cluster.ip_pools.iter().filter(|p| !p.disabled);
        if let Some(p) = enabled().find(|p| p.cidr.addr.is_ipv4()) {
            if let IpAddr::V4(a) = p.cidr.addr {
                cfg.ipv4_pool = Cidr {
                    addr: a,
                    len: p.cidr.len,
                };
                cfg.ipv4_block = p.block_size;
            }
        }
        if let Some(p) = enabled().find(|p| p.cidr.addr.is_ipv6()) {
            if let IpAddr::V6(a) = p.cidr.addr {
                cfg.ipv6_pool = Some((
                    Cidr {
                        addr: a,
                        len: p.cidr.len,
                    },
                    p.block_size,
                ));
            }
        }
        cfg
    }
}

/// The blocks one node originates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NodeBlocks {
    /// Node name.
    pub node: String,
    /// IPv4 blocks.
    pub ipv4: Vec<Cidr<Ipv4Addr>>,
    /// IPv6 blocks.
    pub ipv6: Vec<Cidr<Ipv6Addr>>,
}

/// The `index`-th block of `block_len` inside the pool (network address masked), if it fits.
fn nth_block(pool_addr: u128, pool_len: u8, width: u8, block_len: u8, index: u64) -> Option<u128> {
    if block_len < pool_len || block_len > width {
        return None;
    }
    let bits = u32::from(block_len - pool_len);
    if bits < 64 && index >= (1u64 << bits) {
        return None;
    }
    let host_bits = u32::from(width - block_len);
    let mask: u128 = if pool_len == 0 {
        0
    } else {
        (u128::MAX << (128 - u32::from(pool_len))) >> (128 - u32::from(width))
    };
    let base = pool_addr & mask;
    let offset = u128::from(index).checked_shl(host_bits)?;
    Some(base | offset)
}

/// Allocates blocks to nodes given in order (use the sorted node names of a plan or cluster).
pub fn allocate<'a>(
    nodes: impl IntoIterator<Item = &'a str>,
    cfg: &PoolConfig,
) -> Result<Vec<NodeBlocks>, Error> {
    let mut out = Vec::new();
    let per = u64::from(cfg.blocks_per_node);
    for (i, name) in nodes.into_iter().enumerate() {
        let mut nb = NodeBlocks {
            node: name.to_string(),
            ipv4: Vec::new(),
            ipv6: Vec::new(),
        };
        for k in 0..per {
            let index = i as u64 * per + k;
            let p = cfg.ipv4_pool;
            let a = nth_block(u128::from(u32::from(p.addr)), p.len, 32, cfg.ipv4_block, index).ok_or_else(|| {
                Error::Ipam {
                    message: format!(
                        "IPv4 pool {p} has no block /{} number {index} for node {name}: use a larger pool",
                        cfg.ipv4_block
                    ),
                }
            })?;
            nb.ipv4.push(Cidr {
                addr: Ipv4Addr::from(u32::try_from(a).unwrap_or(0)),
                len: cfg.ipv4_block,
            });
            if let Some((p6, b6)) = cfg.ipv6_pool {
                let a =
                    nth_block(u128::from(p6.addr), p6.len, 128, b6, index).ok_or_else(|| {
                        Error::Ipam {
                            message: format!(
                                "IPv6 pool {p6} has no block /{b6} number {index} for node {name}"
                            ),
                        }
                    })?;
                nb.ipv6.push(Cidr {
                    addr: Ipv6Addr::from(a),
                    len: b6,
                });
            }
        }
        out.push(nb);
    }
    Ok(out)
}

impl Cluster {
    /// The pod blocks of every node (name order), from the cluster's pools or Calico's defaults.
    ///
    /// Without pool `nodeSelector`s, every node takes one block of the first
    /// enabled pool (by name) of each family. With them, a node takes its block
    /// from the first enabled pool whose selector matches it, and a node no pool
    /// selects has no block in that family (Calico's IPAM gives it no address).
    pub fn pod_blocks(&self) -> Result<Vec<NodeBlocks>, Error> {
        let selective = self
            .ip_pools
            .iter()
            .any(|p| !p.disabled && p.node_selector.selector().is_some());
        if !selective {
            return allocate(
                self.nodes.iter().map(|n| n.name.as_str()),
                &PoolConfig::from_cluster(self),
            );
        }
        let mut out: Vec<NodeBlocks> = self
            .nodes
            .iter()
            .map(|n| NodeBlocks {
                node: n.name.clone(),
                ipv4: Vec::new(),
                ipv6: Vec::new(),
            })
            .collect();
        let mut used: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
        let has_v4_pool = self
            .ip_pools
            .iter()
            .any(|p| !p.disabled && p.cidr.addr.is_ipv4());
        for (node, nb) in self.nodes.iter().zip(out.iter_mut()) {
            for v6 in [false, true] {
                let pool = self.ip_pools.iter().find(|p| {
                    !p.disabled
                        && p.cidr.addr.is_ipv6() == v6
                        && p.node_selector
                            .selector()
                            .is_none_or(|s| s.matches(&node.labels))
                });
                let (addr, len, block, name) = match pool {
                    Some(p) => (
                        match p.cidr.addr {
                            IpAddr::V4(a) => u128::from(u32::from(a)),
                            IpAddr::V6(a) => u128::from(a),
                        },
                        p.cidr.len,
                        p.block_size,
                        p.name.clone(),
                    ),
                    None if !v6 && !has_v4_pool => {
                        let d = PoolConfig::default();
                        (
                            u128::from(u32::from(d.ipv4_pool.addr)),
                            d.ipv4_pool.len,
                            d.ipv4_block,
                            String::new(),
                        )
                    }
                    None => continue,
                };
                let index = used.entry(name.clone()).or_insert(0);
                let width = if v6 { 128 } else { 32 };
                let a = nth_block(addr, len, width, block, *index).ok_or_else(|| Error::Ipam {
                    message: format!(
                        "IP pool {name} has no block /{block} number {index} for node {}: use a larger pool",
                        node.name
                    ),
                })?;
                *index += 1;
                if v6 {
                    nb.ipv6.push(Cidr {
                        addr: Ipv6Addr::from(a),
                        len: block,
                    });
                } else {
                    nb.ipv4.push(Cidr {
                        addr: Ipv4Addr::from(u32::try_from(a).unwrap_or(0)),
                        len: block,
                    });
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_pool_gives_consecutive_26s() {
        let b = allocate(["a", "b", "c"], &PoolConfig::default()).unwrap();
        let v: Vec<String> = b.iter().map(|n| n.ipv4[0].to_string()).collect();
        assert_eq!(v, ["192.168.0.0/26", "192.168.0.64/26", "192.168.0.128/26"]);
    }

    #[test]
    fn exhausted_pool_is_an_error() {
        let cfg = PoolConfig {
            ipv4_pool: Cidr {
                addr: Ipv4Addr::new(10, 1, 0, 0),
                len: 25,
            },
            ..PoolConfig::default()
        };
        assert!(allocate(["a", "b"], &cfg).is_ok());
        assert!(matches!(
            allocate(["a", "b", "c"], &cfg),
            Err(Error::Ipam { .. })
        ));
    }

    #[test]
    fn ipv6_blocks() {
        let cfg = PoolConfig {
            ipv6_pool: Some((
                Cidr {
                    addr: "fd00:1::".parse().unwrap(),
                    len: 48,
                },
                122,
            )),
            ..PoolConfig::default()
        };
        let b = allocate(["a", "b"], &cfg).unwrap();
        assert_eq!(b[1].ipv6[0].to_string(), "fd00:1::40/122");
    }
}

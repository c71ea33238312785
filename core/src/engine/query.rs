//! Inspection: candidates, best paths, the Loc-RIB and memory.

use alloc::vec::Vec;

use smallvec::SmallVec;

use super::decide::candidate;
use super::family::RouteKey;
use super::{Engine, MemoryStats, PathView};
use crate::decision::{self, Candidate};
use crate::rib::{AttrId, AttrSet, Path};
use crate::wire::Prefix;

impl Engine {
    /// Every candidate path for `prefix`, best first.
    pub fn candidates(&self, prefix: &Prefix) -> Vec<PathView<'_>> {
        let paths: SmallVec<[Path; 4]> = match prefix {
            Prefix::V4(p) => self
                .rib
                .v4
                .get(&p.key())
                .map(|e| e.paths.iter().copied().collect()),
            Prefix::V6(p) => self
                .rib
                .v6
                .get(p)
                .map(|e| e.paths.iter().copied().collect()),
        }
        .unwrap_or_default();
        let mut cands: SmallVec<[Candidate; 4]> = paths
            .iter()
            .filter_map(|p| {
                candidate(
                    p,
                    &self.attrs,
                    &self.peers,
                    &self.cfg,
                    self.resolver.as_ref(),
                )
            })
            .collect();
        decision::rank(&mut cands, &self.cfg.decision);
        cands
            .iter()
            .filter_map(|c| {
                let p = paths
                    .iter()
                    .find(|p| p.local_id == c.local_id && p.peer == c.peer)?;
                Some(PathView {
                    peer: p.peer,
                    remote_id: p.remote_id,
                    local_id: p.local_id,
                    attrs: p.attrs,
                    set: self.attrs.get(p.attrs)?,
                    reachable: c.reachable,
                })
            })
            .collect()
    }

    /// The best path for `prefix`, if it has an eligible one.
    pub fn best(&self, prefix: &Prefix) -> Option<PathView<'_>> {
        self.candidates(prefix)
            .into_iter()
            .next()
            .filter(|p| p.reachable)
    }

    /// Every prefix with its best path, IPv4 then IPv6, each in ascending prefix order.
    pub fn loc_rib(&self) -> Vec<(Prefix, PathView<'_>)> {
        let mut v4: Vec<Prefix> = self.rib.v4.iter().filter_map(|e| e.key.prefix()).collect();
        let mut v6: Vec<Prefix> = self.rib.v6.iter().filter_map(|e| e.key.prefix()).collect();
        v4.sort_unstable();
        v6.sort_unstable();
        v4.into_iter()
            .chain(v6)
            .filter_map(|p| Some((p, self.best(&p)?)))
            .collect()
    }

    /// Number of prefixes in the Loc-RIB (IPv4, IPv6).
    pub fn prefix_counts(&self) -> (usize, usize) {
        (self.rib.v4.len(), self.rib.v6.len())
    }

    /// The attribute set behind a handle.
    pub fn attr_set(&self, id: AttrId) -> Option<&AttrSet> {
        self.attrs.get(id)
    }

    /// Memory held by the RIB.
    pub fn memory(&self) -> MemoryStats {
        let paths = self.rib.v4.iter().map(|e| e.paths.len()).sum::<usize>()
            + self.rib.v6.iter().map(|e| e.paths.len()).sum::<usize>();
        let spill = self
            .rib
            .v4
            .iter()
            .map(|e| e.paths.heap_bytes())
            .sum::<usize>()
            + self
                .rib
                .v6
                .iter()
                .map(|e| e.paths.heap_bytes())
                .sum::<usize>();
        let keyed = &self.rib.keyed.0;
        let adj: usize = self
            .peers
            .iter()
            .map(|p| {
                super::keyed::adj_heap_bytes(&p.tx.adj_keyed)
                    + p.tx
                        .keyed_sent
                        .iter()
                        .map(|v| v.capacity() * 8)
                        .sum::<usize>()
            })
            .sum();
        MemoryStats {
            prefixes: self.rib.v4.len()
                + self.rib.v6.len()
                + keyed.iter().map(|r| r.len()).sum::<usize>(),
            paths: paths + keyed.iter().map(|r| r.paths()).sum::<usize>(),
            attr_sets: self.attrs.len(),
            table_bytes: self.rib.v4.heap_bytes()
                + self.rib.v6.heap_bytes()
                + spill
                + keyed.iter().map(|r| r.heap_bytes()).sum::<usize>()
                + adj,
            attr_bytes: self.attrs.heap_bytes(),
        }
    }
}

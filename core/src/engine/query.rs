//! Inspection: candidates, best paths, the Loc-RIB and memory.

use alloc::sync::Arc;
use alloc::vec::Vec;

use smallvec::SmallVec;

use super::decide::candidate;
use super::family::RouteKey;
use super::{Engine, MemoryStats, Negotiated, PathView};
use crate::decision::{self, Candidate, Step};
use crate::reflect::OutBlock;
use crate::rib::{AttrId, AttrSet, Path, PeerId, NO_NEIGHBOR_AS};
use crate::wire::{Ipv6Prefix, Prefix};

impl Engine {
    /// Every candidate path for `prefix`, best first.
    pub fn candidates(&self, prefix: &Prefix) -> Vec<PathView<'_>> {
        self.ranked(prefix).into_iter().map(|(v, _)| v).collect()
    }

    /// Every candidate path for `prefix`, best first, each but the first with
    /// the decision step at which the best path is preferred to it
    /// ([`decision::explain`]; a path that loses only to another path from
    /// its own neighbouring AS is labelled [`Step::Med`]).
    pub fn explain_candidates(&self, prefix: &Prefix) -> Vec<(PathView<'_>, Option<Step>)> {
        self.explain(&self.ranked(prefix))
    }

    /// Each path of `ranked` (in decision order) with the step at which the first one is preferred to it.
    pub(super) fn explain<'e>(
        &self,
        ranked: &[(PathView<'e>, Candidate)],
    ) -> Vec<(PathView<'e>, Option<Step>)> {
        let Some((_, best)) = ranked.first().copied() else {
            return Vec::new();
        };
        let cfg = &self.cfg.decision;
        ranked
            .iter()
            .enumerate()
            .map(|(i, (v, c))| {
                if i == 0 {
                    return (*v, None);
                }
                let same_as = best.info.neighbor_as == c.info.neighbor_as
                    && c.info.neighbor_as != NO_NEIGHBOR_AS;
                let with_med = cfg.always_compare_med || same_as;
                // Below the best without losing to it directly: its own
                // neighbouring AS's better path beat it on MED (RFC 4271 §9.1.2.2 c).
                let step = decision::explain(&best, c, cfg, with_med).unwrap_or(Step::Med);
                (*v, Some(step))
            })
            .collect()
    }

    /// The candidates for `prefix` in decision order, with what the decision process read of each.
    fn ranked(&self, prefix: &Prefix) -> Vec<(PathView<'_>, Candidate)> {
        self.rank_paths(&self.paths_of(prefix))
    }

    /// The paths the RIB holds for `prefix`.
    fn paths_of(&self, prefix: &Prefix) -> SmallVec<[Path; 4]> {
        match prefix {
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
        .unwrap_or_default()
    }

    /// `paths` in decision order, with what the decision process read of each.
    pub(super) fn rank_paths(&self, paths: &[Path]) -> Vec<(PathView<'_>, Candidate)> {
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
                Some((
                    PathView {
                        peer: p.peer,
                        remote_id: p.remote_id,
                        local_id: p.local_id,
                        attrs: p.attrs,
                        set: self.attrs.get(p.attrs)?,
                        reachable: c.reachable,
                    },
                    *c,
                ))
            })
            .collect()
    }

    /// The paths `peer` sent us that the RIB holds (after its import
    /// policy), IPv4 then IPv6, each in ascending prefix order.
    pub fn adj_rib_in(&self, peer: PeerId) -> Vec<(Prefix, PathView<'_>)> {
        let mut out = Vec::new();
        let v4 = self
            .rib
            .v4
            .iter()
            .filter_map(|e| Some((e.key.prefix()?, e)));
        let mut v4: Vec<_> = v4
            .flat_map(|(k, e)| e.paths.iter().map(move |p| (k, p)))
            .filter(|(_, p)| p.peer == peer)
            .collect();
        let v6 = self
            .rib
            .v6
            .iter()
            .filter_map(|e| Some((e.key.prefix()?, e)));
        let mut v6: Vec<_> = v6
            .flat_map(|(k, e)| e.paths.iter().map(move |p| (k, p)))
            .filter(|(_, p)| p.peer == peer)
            .collect();
        v4.sort_unstable_by_key(|(k, p)| (*k, p.remote_id));
        v6.sort_unstable_by_key(|(k, p)| (*k, p.remote_id));
        for (prefix, p) in v4.into_iter().chain(v6) {
            let Some(set) = self.attrs.get(p.attrs) else {
                continue;
            };
            out.push((
                prefix,
                PathView {
                    peer: p.peer,
                    remote_id: p.remote_id,
                    local_id: p.local_id,
                    attrs: p.attrs,
                    set,
                    reachable: super::decide::reachable(Some(set), p.peer, self.resolver.as_ref()),
                },
            ));
        }
        out
    }

    /// What `peer` is sent now: per prefix whose best path it may have, the
    /// attributes as rewritten for it (RFC 4456 rules, export policy), IPv4
    /// then IPv6, each in ascending prefix order. Best paths only, also for
    /// a peer that negotiated ADD-PATH sending; empty while the peer is down.
    pub fn adj_rib_out(&self, peer: PeerId) -> Vec<(Prefix, Arc<OutBlock>)> {
        let mut out = Vec::new();
        self.export_view::<u64>(peer, |p, b| out.push((p, b)));
        let v4 = out.len();
        self.export_view::<Ipv6Prefix>(peer, |p, b| out.push((p, b)));
        if let Some(a) = out.get_mut(..v4) {
            a.sort_unstable_by_key(|(p, _)| *p);
        }
        if let Some(b) = out.get_mut(v4..) {
            b.sort_unstable_by_key(|(p, _)| *p);
        }
        out
    }

    /// How many prefixes `peer` is sent now, (IPv4, IPv6): the lengths of
    /// [`Engine::adj_rib_out`]'s two parts, without building it.
    pub fn adj_rib_out_counts(&self, peer: PeerId) -> (usize, usize) {
        let (mut v4, mut v6) = (0, 0);
        self.export_view::<u64>(peer, |_, _| v4 += 1);
        self.export_view::<Ipv6Prefix>(peer, |_, _| v6 += 1);
        (v4, v6)
    }

    /// What the session with `peer` negotiated, while it is up.
    pub fn negotiated(&self, peer: PeerId) -> Option<Negotiated> {
        self.peers.get(peer.index()).and_then(|p| p.up)
    }

    /// Families turned off on `peer`'s session (RFC 7606 AFI/SAFI disable).
    pub fn disabled_families(&self, peer: PeerId) -> crate::wire::AfiSafiSet {
        self.peers
            .get(peer.index())
            .map_or(crate::wire::AfiSafiSet::EMPTY, |p| p.disabled)
    }

    /// Paths the engine holds per family, over every peer: (IPv4, IPv6).
    pub fn path_counts(&self) -> (usize, usize) {
        (
            self.rib.v4.iter().map(|e| e.paths.len()).sum(),
            self.rib.v6.iter().map(|e| e.paths.len()).sum(),
        )
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

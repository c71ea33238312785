//! Decision: which paths are eligible and in what order.

use smallvec::SmallVec;

use super::peer::PeerState;
use super::{EngineConfig, Resolver};
use crate::decision::{self, Candidate};
use crate::reflect::Role;
use crate::rib::{AttrSet, Entry, Interner, Path, PeerId};

/// Whether the path's next hop resolves (always, without a resolver or for our own routes).
pub(super) fn reachable(set: Option<&AttrSet>, peer: PeerId, resolver: Option<&Resolver>) -> bool {
    match (resolver, set) {
        (None, _) => true,
        _ if peer == PeerId::LOCAL => true,
        (Some(r), Some(s)) => s.info().next_hop.is_some_and(|nh| r(nh).is_some()),
        (Some(_), None) => false,
    }
}

/// The best path of `e`, if it is eligible (paths are kept ranked, best first).
pub(super) fn best_of<'e, K>(
    e: &'e Entry<K>,
    attrs: &Interner<()>,
    resolver: Option<&Resolver>,
) -> Option<&'e Path> {
    e.paths
        .first()
        .filter(|p| reachable(attrs.get(p.attrs), p.peer, resolver))
}

/// The path as the decision process sees it.
pub(super) fn candidate(
    p: &Path,
    attrs: &Interner<()>,
    peers: &[PeerState],
    cfg: &EngineConfig,
    resolver: Option<&Resolver>,
) -> Option<Candidate> {
    let set = attrs.get(p.attrs)?;
    let (ebgp, router_id, addr) = if p.peer == PeerId::LOCAL {
        (false, cfg.router_id.to_bits(), 0)
    } else {
        let ps = peers.get(p.peer.index())?;
        (
            ps.cfg.role == Role::Ebgp,
            ps.router_id,
            decision::addr_key(ps.cfg.address),
        )
    };
    let (reach, cost) = match resolver {
        _ if p.peer == PeerId::LOCAL => (true, 0),
        None => (true, 0),
        Some(r) => match set.info().next_hop.and_then(r) {
            Some(c) => (true, c),
            None => (false, u32::MAX),
        },
    };
    Some(Candidate {
        info: set.info(),
        ebgp,
        reachable: reach,
        igp_cost: cost,
        router_id,
        peer_addr: addr,
        peer: p.peer,
        remote_id: p.remote_id,
        local_id: p.local_id,
    })
}

/// Order the paths of `e` best first.
pub(super) fn rank_entry<K>(
    e: &mut Entry<K>,
    attrs: &Interner<()>,
    peers: &[PeerState],
    cfg: &EngineConfig,
    resolver: Option<&Resolver>,
) {
    if e.paths.len() < 2 {
        return;
    }
    let mut cands: SmallVec<[Candidate; 4]> = e
        .paths
        .iter()
        .filter_map(|p| candidate(p, attrs, peers, cfg, resolver))
        .collect();
    decision::rank(&mut cands, &cfg.decision);
    // Local identifiers are distinct within a prefix: look each ranked
    // candidate's path up by it (no scan per candidate).
    let mut by_id: SmallVec<[Path; 4]> = e.paths.iter().copied().collect();
    by_id.sort_unstable_by_key(|p| p.local_id);
    let mut ordered: SmallVec<[Path; 4]> = SmallVec::with_capacity(e.paths.len());
    for c in &cands {
        if let Ok(i) = by_id.binary_search_by_key(&c.local_id, |p| p.local_id) {
            if let Some(p) = by_id.get(i).filter(|p| p.peer == c.peer) {
                ordered.push(*p);
            }
        }
    }
    if ordered.len() == e.paths.len() {
        e.paths.copy_from_slice(&ordered);
    }
}

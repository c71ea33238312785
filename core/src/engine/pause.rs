//! Peers that stop reading: output paused, changes kept as pending prefixes.
//!
//! A peer whose socket takes nothing must cost no one else anything: the
//! embedder pauses it ([`Engine::pause_transmit`]) instead of queueing more
//! bytes for it. While it is paused the engine encodes nothing for it and
//! records only which prefixes changed (one key per change, compacted to at
//! most about two per prefix of the table). When it is resumed
//! ([`Engine::resume_transmit`]) it is sent the current state of exactly
//! those prefixes: the best path where it may have it, a withdrawal where it
//! may not. It gets the latest state, not a replay of every change.

use alloc::vec::Vec;

use super::family::{RouteKey, FAMILIES};
use super::rib::Dirty;
use super::Engine;
use crate::rib::PeerId;
use crate::wire::Ipv6Prefix;

/// The prefixes that changed, per family, since a peer was paused.
#[derive(Debug, Default)]
pub(super) struct Pending {
    pub(super) v4: Vec<u64>,
    pub(super) v6: Vec<Ipv6Prefix>,
}

/// Record the keys of `slots` as changed for every paused peer with the family.
pub(super) fn record<K: RouteKey>(engine: &mut Engine, slots: &[Dirty]) {
    let table = K::table(&engine.rib);
    let limit = 2 * table.len() + 1024;
    for p in engine.peers.iter_mut() {
        if !p.has_family(K::FAMILY) {
            continue;
        }
        let Some(pending) = p.paused.as_mut() else {
            continue;
        };
        let keys = K::pending(pending);
        keys.extend(
            slots
                .iter()
                .filter_map(|&(i, _)| table.at(i as usize).map(|e| e.key)),
        );
        if keys.len() > limit {
            keys.sort_unstable();
            keys.dedup();
        }
    }
}

/// Send a resumed peer the current state of the prefixes of family K that
/// changed while it was paused.
pub(super) fn resume_family<K: RouteKey>(engine: &mut Engine, peer: PeerId, pending: &mut Pending) {
    let mut keys = core::mem::take(K::pending(pending));
    if keys.is_empty() {
        return;
    }
    keys.sort_unstable();
    keys.dedup();
    engine.export_keys::<K>(peer, &keys);
}

impl Engine {
    /// Stop encoding output for `peer` (its socket takes nothing): changes
    /// are recorded as pending prefixes until [`Engine::resume_transmit`].
    /// What is already queued for it stays queued.
    pub fn pause_transmit(&mut self, peer: PeerId) {
        self.flush();
        if let Some(p) = self.peers.get_mut(peer.index()).filter(|p| p.up.is_some()) {
            if p.paused.is_none() {
                p.paused = Some(alloc::boxed::Box::default());
                p.counters.transmit_pauses += 1;
            }
        }
    }

    /// Send a paused peer the current state of every prefix that changed
    /// while it was paused, and encode its output as usual from now on.
    pub fn resume_transmit(&mut self, peer: PeerId) {
        self.flush();
        let Some(mut pending) = self
            .peers
            .get_mut(peer.index())
            .and_then(|p| p.paused.take())
        else {
            return;
        };
        for f in FAMILIES {
            (f.resume)(self, peer, &mut pending);
        }
        self.out_cache.clear();
    }

    /// Whether the peer's output is paused.
    pub fn is_paused(&self, peer: PeerId) -> bool {
        self.peers
            .get(peer.index())
            .is_some_and(|p| p.paused.is_some())
    }

    /// Prefixes recorded for a paused peer (keys, before compaction; 0 when not paused).
    pub fn pending_prefixes(&self, peer: PeerId) -> usize {
        self.peers
            .get(peer.index())
            .and_then(|p| p.paused.as_ref())
            .map_or(0, |q| q.v4.len() + q.v6.len())
    }
}

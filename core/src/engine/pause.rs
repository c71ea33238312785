//! Peers that stop reading: output paused, changes kept as pending prefixes,
//! and the catch-up encoded a step at a time.
//!
//! A peer whose socket takes nothing must cost no one else anything: the
//! embedder pauses it ([`Engine::pause_transmit`]) instead of queueing more
//! bytes for it. While it is paused the engine encodes nothing for it and
//! records only which prefixes changed (one key per change, compacted to at
//! most about two per prefix of the table). When it is resumed
//! ([`Engine::resume_transmit`]) it is sent the current state of exactly
//! those prefixes — the best path where it may have it, a withdrawal where
//! it may not — at most [`CATCH_UP_STEP`] prefixes per step, the next step
//! when its output queue is empty again (the next `poll_transmit`, or the
//! next `resume_transmit`). It gets the latest state, not a replay of every
//! change, and its catch-up costs one step of encoded bytes at a time.

use alloc::vec::Vec;

use super::family::{RouteKey, FAMILIES, FAMILY_COUNT};
use super::rib::Dirty;
use super::Engine;
use crate::rib::PeerId;
use crate::wire::Ipv6Prefix;

/// Prefixes encoded per catch-up step (about 2 MB of UPDATEs for IPv4 /24s).
pub const CATCH_UP_STEP: usize = 1 << 16;

/// The prefixes of one family still to be sent to a paused or catching-up peer.
#[derive(Debug)]
pub(super) struct PendingKeys<K> {
    /// Keys; the first `sorted` are sorted and distinct.
    pub(super) keys: Vec<K>,
    sorted: usize,
    /// The keys of a fresh session's table not sent yet, in table order:
    /// announced where the peer may have them, skipped where not (it was
    /// told nothing of them before).
    pub(super) fresh: Vec<K>,
}

impl<K> Default for PendingKeys<K> {
    fn default() -> Self {
        PendingKeys {
            keys: Vec::new(),
            sorted: 0,
            fresh: Vec::new(),
        }
    }
}

/// What a paused or catching-up peer still has to be sent, per family.
#[derive(Debug, Default)]
pub(super) struct Pending {
    pub(super) v4: PendingKeys<u64>,
    pub(super) v6: PendingKeys<Ipv6Prefix>,
    /// Paused by the embedder (its socket takes nothing): no catch-up step.
    pub(super) held: bool,
    /// Held by the route selection deferral of a restart (RFC 4724 §4.1).
    pub(super) deferred: bool,
    /// Per family, whether End-of-RIB follows the last fresh key.
    pub(super) eor: [bool; FAMILY_COUNT],
    /// Keyed families (bits by position) that changed while the peer was paused.
    pub(super) keyed_sync: u16,
    /// Keyed routes (family position, slot) whose best path changed while
    /// the peer was paused: re-announced to it if it holds them.
    pub(super) keyed_changed: hashbrown::HashSet<(u8, u32)>,
    /// Keyed families whose every route is to be re-announced (its export policy changed).
    pub(super) keyed_all: u16,
    /// Keyed families whose whole table a fresh session is still to be sent.
    pub(super) keyed_fresh: u16,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.v4.keys.is_empty()
            && self.v6.keys.is_empty()
            && self.v4.fresh.is_empty()
            && self.v6.fresh.is_empty()
            && !self.eor.contains(&true)
            && self.keyed_sync == 0
            && self.keyed_fresh == 0
    }
}

impl<K: Ord> PendingKeys<K> {
    fn compact(&mut self) {
        if self.sorted < self.keys.len() {
            self.keys.sort_unstable();
            self.keys.dedup();
            self.sorted = self.keys.len();
        }
    }
}

/// Record the keys of `slots` as changed for every paused or catching-up peer with the family.
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
        let pk = K::pending(pending);
        pk.keys.extend(
            slots
                .iter()
                .filter_map(|&(i, _)| table.at(i as usize).map(|e| e.key)),
        );
        if pk.keys.len() > limit {
            pk.compact();
        }
    }
}

/// Record every key of family K as pending for `peer` (paused), e.g. after its export policy changed.
pub(super) fn record_all<K: RouteKey>(engine: &mut Engine, peer: PeerId) {
    let table = K::table(&engine.rib);
    let Some(pending) = engine
        .peers
        .get_mut(peer.index())
        .and_then(|p| p.paused.as_mut())
    else {
        return;
    };
    let pk = K::pending(pending);
    pk.keys.extend(table.iter().map(|e| e.key));
    pk.compact();
}

/// Queue a fresh session's whole table of family K as fresh keys, End-of-RIB after them.
pub(super) fn start_fresh<K: RouteKey>(engine: &mut Engine, peer: PeerId, pending: &mut Pending) {
    let Some(p) = engine.peers.get_mut(peer.index()) else {
        return;
    };
    if !p.has_family(K::FAMILY) {
        return;
    }
    K::adj(&mut p.tx).clear();
    let table = K::table(&engine.rib);
    K::pending(pending).fresh = table.iter().map(|e| e.key).collect();
    if let Some(e) = pending.eor.get_mut(K::INDEX) {
        *e = true;
    }
}

/// One catch-up step in family K: send the current state of up to `budget`
/// pending prefixes (changed ones first, then a fresh session's table, then
/// its End-of-RIB); returns how many prefixes were sent.
pub(super) fn resume_family<K: RouteKey>(
    engine: &mut Engine,
    peer: PeerId,
    pending: &mut Pending,
    budget: usize,
) -> usize {
    let mut sent = 0;
    let pk = K::pending(pending);
    if !pk.keys.is_empty() && budget > 0 {
        pk.compact();
        let at = pk.keys.len().saturating_sub(budget);
        let step = pk.keys.split_off(at);
        pk.sorted = pk.keys.len();
        if pk.keys.is_empty() {
            pk.keys = Vec::new();
        }
        engine.export_keys::<K>(peer, &step);
        sent += step.len();
    }
    let pk = K::pending(pending);
    let room = budget - sent.min(budget);
    if !pk.fresh.is_empty() && room > 0 {
        let n = room.min(pk.fresh.len());
        let step: Vec<K> = pk.fresh.drain(..n).collect();
        if pk.fresh.is_empty() {
            pk.fresh = Vec::new();
        }
        engine.export_fresh::<K>(peer, &step);
        sent += n;
    }
    let done = K::pending(pending).fresh.is_empty();
    if let Some(eor) = pending.eor.get_mut(K::INDEX).filter(|e| **e && done) {
        *eor = false;
        if let Some(p) = engine.peers.get_mut(peer.index()) {
            let max = p.tx_ctx.max_message_len();
            crate::reflect::Packer::new(&mut p.tx.out, max, false).end_of_rib(K::FAMILY);
            p.counters.updates_sent += 1;
        }
    }
    sent
}

impl Engine {
    /// Stop encoding output for `peer` (its socket takes nothing): changes
    /// are recorded as pending prefixes until [`Engine::resume_transmit`].
    /// What is already queued for it stays queued.
    pub fn pause_transmit(&mut self, peer: PeerId) {
        self.flush();
        if let Some(p) = self.peers.get_mut(peer.index()).filter(|p| p.up.is_some()) {
            match p.paused.as_mut() {
                Some(q) => q.held = true,
                None => {
                    p.paused = Some(alloc::boxed::Box::new(Pending {
                        held: true,
                        ..Pending::default()
                    }));
                }
            }
            p.counters.transmit_pauses += 1;
        }
    }

    /// RFC 4724 §4.1, the restarting speaker: from now on, a session that
    /// comes up is sent nothing (neither its table nor End-of-RIB) until
    /// [`Engine::end_deferral`]; the routes it sends are taken in as usual.
    /// The embedder ends the deferral once every peer has sent End-of-RIB,
    /// or when its Selection_Deferral_Timer expires.
    pub fn defer_selection(&mut self) {
        self.deferring = true;
    }

    /// Whether sessions that come up are held by [`Engine::defer_selection`].
    pub fn is_deferring(&self) -> bool {
        self.deferring
    }

    /// End the route selection deferral: every session it held is sent the
    /// current table and End-of-RIB (a step at a time, as any catch-up).
    /// Returns how many sessions it held.
    pub fn end_deferral(&mut self) -> usize {
        self.deferring = false;
        self.flush();
        let held: alloc::vec::Vec<PeerId> = self
            .peers
            .iter()
            .enumerate()
            .filter(|(_, p)| p.paused.as_ref().is_some_and(|q| q.deferred))
            .map(|(i, _)| PeerId(i as u32))
            .collect();
        for &peer in &held {
            if let Some(q) = self
                .peers
                .get_mut(peer.index())
                .and_then(|p| p.paused.as_mut())
            {
                q.deferred = false;
            }
            self.catch_up_step(peer);
        }
        held.len()
    }

    /// Let a paused peer catch up: send it the current state of the next
    /// [`CATCH_UP_STEP`] prefixes that changed while it was paused. Returns
    /// whether more are pending; they follow one step at a time as its
    /// output is taken (`poll_transmit`, `take_transmit_chunks`) or at the
    /// next call. Once none is left its output is encoded as usual.
    pub fn resume_transmit(&mut self, peer: PeerId) -> bool {
        self.flush();
        match self
            .peers
            .get_mut(peer.index())
            .and_then(|p| p.paused.as_mut())
        {
            Some(q) => q.held = false,
            None => return false,
        }
        self.catch_up_step(peer)
    }

    /// Encode the next catch-up step of a resumed peer; returns whether more is pending.
    pub(super) fn catch_up_step(&mut self, peer: PeerId) -> bool {
        let Some(mut pending) = self
            .peers
            .get_mut(peer.index())
            .and_then(|p| p.paused.take())
        else {
            return false;
        };
        if pending.held || pending.deferred {
            if let Some(p) = self.peers.get_mut(peer.index()) {
                p.paused = Some(pending);
            }
            return true;
        }
        let mut budget = CATCH_UP_STEP;
        for f in FAMILIES {
            budget -= (f.resume)(self, peer, &mut pending, budget).min(budget);
        }
        self.out_cache.clear();
        let more = !pending.is_empty();
        if more {
            if let Some(p) = self.peers.get_mut(peer.index()) {
                p.paused = Some(pending);
            }
        }
        more
    }

    /// Whether the peer's output is paused by the embedder.
    pub fn is_paused(&self, peer: PeerId) -> bool {
        self.peers
            .get(peer.index())
            .and_then(|p| p.paused.as_ref())
            .is_some_and(|q| q.held)
    }

    /// Whether the peer has prefixes left to catch up on (paused or resumed).
    pub fn is_catching_up(&self, peer: PeerId) -> bool {
        self.peers
            .get(peer.index())
            .is_some_and(|p| p.paused.is_some())
    }

    /// Prefixes recorded for a paused or catching-up peer (keys, before compaction).
    pub fn pending_prefixes(&self, peer: PeerId) -> usize {
        self.peers
            .get(peer.index())
            .and_then(|p| p.paused.as_ref())
            .map_or(0, |q| {
                q.v4.keys.len() + q.v6.keys.len() + q.v4.fresh.len() + q.v6.fresh.len()
            })
    }
}

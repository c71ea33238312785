//! The keyed flush: paths ranked, changes sent, emptied routes dropped; dumps, syncs and resumes.

use alloc::vec::Vec;
use core::hash::BuildHasher;

use hashbrown::DefaultHashBuilder;
use smallvec::SmallVec;

use super::store::Kind;
use super::{keyed_index, KEntry, KPath, KeyedRib, PathList, KEYED, RTC_INDEX};
use crate::decision::{self, Candidate};
use crate::engine::decide;
use crate::engine::pause::Pending;
use crate::engine::peer::PeerState;
use crate::engine::{Engine, Event};
use crate::reflect::{self, Role};
use crate::rib::{AttrId, Interner, PeerId};
use crate::wire::AfiSafi;

impl Engine {
    /// Whether any peer still holds the route at `slot` of keyed family `fi`.
    pub(super) fn keyed_held(&self, fi: usize, slot: u32) -> bool {
        let (w, b) = (slot as usize / 64, 1u64 << (slot % 64));
        let tag = (fi as u32) << 27 | slot;
        self.peers.iter().any(|p| {
            p.tx.keyed_sent
                .get(fi)
                .and_then(|v| v.get(w))
                .is_some_and(|x| x & b != 0)
                || p.tx.adj_keyed.contains_key(&tag)
        })
    }

    /// Rank the changed routes of keyed family `fi` and send every peer the difference.
    pub(in crate::engine) fn keyed_flush(&mut self, fi: usize) {
        let Some(rib) = self.rib.keyed.0.get_mut(fi) else {
            return;
        };
        if rib.dirty.is_empty() && (fi != RTC_INDEX || self.rtc_changed.is_empty()) {
            return;
        }
        let f = rib.family;
        let dirty_slots = core::mem::take(&mut rib.dirty);
        let mut dirty: Vec<(u32, bool)> = Vec::with_capacity(dirty_slots.len());
        let mut events: Vec<Event> = Vec::new();
        let mut set_hash = None;
        for slot in dirty_slots {
            let hasher = &self.rib.keyed.1;
            let Some(rib) = self.rib.keyed.0.get_mut(fi) else {
                return;
            };
            let Some(e) = rib.entries.get_mut(slot as usize) else {
                continue;
            };
            e.set_dirty(false);
            rank(
                e,
                &self.attrs,
                &self.peers,
                &self.cfg,
                self.resolver.as_ref(),
            );
            let fp = best_fingerprint(
                hasher,
                rib,
                slot,
                &self.attrs,
                self.resolver.as_ref(),
                &mut set_hash,
            );
            if let Some(e) = rib.entries.get_mut(slot as usize) {
                let changed = fp & !1 != e.sent_fp();
                dirty.push((slot, changed));
                e.set_sent_fp(fp);
                if changed && self.cfg.record_events {
                    let best = e.paths.first().filter(|_| fp != 0).map(|kp| kp.path.peer);
                    events.push(Event::KeyedBestChanged {
                        family: f,
                        key: e.key.as_slice().to_vec(),
                        best,
                    });
                }
            }
        }
        for ev in events {
            self.push_event(ev);
        }
        let targets: Vec<PeerId> = self
            .peers
            .iter()
            .enumerate()
            .filter(|(_, p)| p.up.is_some() && p.has_family(f))
            .map(|(i, _)| PeerId(i as u32))
            .collect();
        let mut live = Vec::with_capacity(targets.len());
        for peer in targets {
            if let Some(q) = self
                .peers
                .get_mut(peer.index())
                .and_then(|p| p.paused.as_mut())
            {
                q.keyed_sync |= 1 << fi;
                q.keyed_changed.extend(
                    dirty
                        .iter()
                        .filter(|(_, changed)| *changed)
                        .map(|&(slot, _)| (fi as u8, slot)),
                );
                continue;
            }
            live.push(peer);
        }
        self.keyed_export_all(fi, &live, &dirty);
        self.out_cache.clear();
        // Emptied routes go once no peer holds them (a paused peer may).
        for &(slot, _) in &dirty {
            if !self.keyed_held(fi, slot) {
                if let Some(rib) = self.rib.keyed.0.get_mut(fi) {
                    rib.remove_if_empty(slot);
                }
            }
        }
        if fi == RTC_INDEX && !self.rtc_changed.is_empty() {
            // Memberships changed: those peers' VPN and EVPN routes are re-judged.
            let changed: Vec<PeerId> = self.rtc_changed.drain().collect();
            for peer in changed {
                for g in [AfiSafi::VPNV4, AfiSafi::VPNV6, AfiSafi::EVPN] {
                    if let Some(gi) = keyed_index(g) {
                        self.keyed_sync(gi, peer);
                    }
                }
            }
            self.out_cache.clear();
        }
    }

    /// Bring a peer's view of keyed family `fi` in line with the whole table.
    pub(in crate::engine) fn keyed_sync(&mut self, fi: usize, peer: PeerId) {
        let paused = self
            .peers
            .get_mut(peer.index())
            .and_then(|p| p.paused.as_mut())
            .map(|q| q.keyed_sync |= 1 << fi)
            .is_some();
        if !paused {
            self.keyed_export_to(fi, peer, None, &[]);
        }
    }

    /// Every slot of keyed family `fi`'s table, each with whether its route
    /// is to be sent again where held (`changed`).
    fn keyed_slots(&self, fi: usize, changed: impl Fn(u32) -> bool) -> Vec<(u32, bool)> {
        self.rib.keyed.0.get(fi).map_or_else(Vec::new, |r| {
            (0..r.entries.len() as u32)
                .map(|s| (s, changed(s)))
                .collect()
        })
    }

    /// Send `peer` every route of keyed family `fi` it may have again, with
    /// the attributes it gets now, and withdraw the others (its export
    /// policy changed: what it was sent may differ from what it gets).
    pub(in crate::engine) fn keyed_reexport(&mut self, fi: usize, peer: PeerId) {
        if let Some(q) = self
            .peers
            .get_mut(peer.index())
            .and_then(|p| p.paused.as_mut())
        {
            q.keyed_sync |= 1 << fi;
            q.keyed_all |= 1 << fi;
            return;
        }
        let slots = self.keyed_slots(fi, |_| true);
        self.keyed_export_to(fi, peer, Some(&slots), &[]);
        self.out_cache.clear();
    }

    /// Send the peer the whole table of keyed family `fi` afresh (a route
    /// refresh, or a new session), then End-of-RIB if asked.
    pub(in crate::engine) fn keyed_dump(&mut self, fi: usize, peer: PeerId, end_of_rib: bool) {
        self.flush();
        self.keyed_send_all(fi, peer, end_of_rib);
    }

    /// [`Engine::keyed_dump`] on a flushed engine.
    pub(super) fn keyed_send_all(&mut self, fi: usize, peer: PeerId, end_of_rib: bool) {
        let Some(f) = KEYED.get(fi).copied() else {
            return;
        };
        let Some(p) = self.peers.get_mut(peer.index()) else {
            return;
        };
        if !p.has_family(f) {
            return;
        }
        p.tx.adj_keyed.retain(|tag, _| (*tag >> 27) as usize != fi);
        if let Some(v) = p.tx.keyed_sent.get_mut(fi) {
            v.clear();
        }
        if f == AfiSafi::RT_CONSTRAINT
            && p.cfg.role == Role::Client
            && self.cfg.rtc_default_to_clients
        {
            // RFC 4684 §3.2: a client is asked for every route target.
            self.send_default_membership(peer);
        }
        self.keyed_export_to(fi, peer, None, &[]);
        self.out_cache.clear();
        if end_of_rib {
            if let Some(p) = self.peers.get_mut(peer.index()) {
                let max = p.tx_ctx.max_message_len();
                reflect::Packer::new(&mut p.tx.out, max, false).end_of_rib(f);
                p.counters.updates_sent += 1;
            }
        }
    }

    /// Queue a fresh session's table of keyed family `fi` (sent whole at its first catch-up step).
    pub(in crate::engine) fn keyed_start_fresh(
        &mut self,
        fi: usize,
        peer: PeerId,
        pending: &mut Pending,
    ) {
        let Some(f) = KEYED.get(fi).copied() else {
            return;
        };
        if let Some(p) = self.peers.get_mut(peer.index()).filter(|p| p.has_family(f)) {
            p.tx.adj_keyed.retain(|tag, _| (*tag >> 27) as usize != fi);
            if let Some(v) = p.tx.keyed_sent.get_mut(fi) {
                v.clear();
            }
            pending.keyed_fresh |= 1 << fi;
        }
    }

    /// A paused peer's keyed families that changed while it was paused are
    /// brought up to date in one step; returns how many families were synced.
    pub(in crate::engine) fn keyed_resume(
        &mut self,
        fi: usize,
        peer: PeerId,
        pending: &mut Pending,
    ) -> usize {
        let bit = 1u16 << fi;
        let mut n = 0;
        if pending.keyed_sync & bit != 0 {
            pending.keyed_sync &= !bit;
            // Every route, re-announced where its best path changed meanwhile
            // (or every one, after an export policy change) and the peer holds it.
            let all = pending.keyed_all & bit != 0;
            pending.keyed_all &= !bit;
            let changed = &pending.keyed_changed;
            let slots = self.keyed_slots(fi, |s| all || changed.contains(&(fi as u8, s)));
            pending.keyed_changed.retain(|(f, _)| usize::from(*f) != fi);
            self.keyed_export_to(fi, peer, Some(&slots), &[]);
            n += 1;
        }
        if pending.keyed_fresh & bit != 0 {
            pending.keyed_fresh &= !bit;
            self.keyed_send_all(fi, peer, true);
            n += 1;
        }
        n
    }
}

/// The fingerprint of an entry's best path as export sees it (0: none):
/// its attribute set's bytes, its NLRI and where it came from.
///
/// `set_hash` is the hash of the bytes of the last set seen, with its id:
/// routes come in runs of one set, whose bytes are hashed once per run. It
/// is valid while no set is freed (within one flush).
pub(super) fn best_fingerprint(
    h: &DefaultHashBuilder,
    rib: &KeyedRib,
    slot: u32,
    attrs: &Interner<()>,
    resolver: Option<&crate::engine::Resolver>,
    set_hash: &mut Option<(AttrId, u64)>,
) -> u64 {
    let Some(e) = rib.entries.get(slot as usize) else {
        return 0;
    };
    let Some(kp) = e.paths.first() else {
        return 0;
    };
    let set = attrs.get(kp.path.attrs);
    if !decide::reachable(set, kp.path.peer, resolver) {
        return 0;
    }
    // The NLRI follows from the entry's key and the path's label, or is
    // kept apart whole: the label or those bytes stand for it.
    let nlri = match kp.tail.kind() {
        Kind::Plain => (0u8, [0; 3], &[][..]),
        Kind::Label(l) => (1, l, &[][..]),
        Kind::Own(i) => (2, [0; 3], rib.own.get(i)),
    };
    let bytes = match *set_hash {
        Some((id, b)) if id == kp.path.attrs => b,
        _ => {
            let b = h.hash_one((set.map(|s| s.block()), set.and_then(|s| s.mp_next_hop())));
            *set_hash = Some((kp.path.attrs, b));
            b
        }
    };
    let fp = h.hash_one((bytes, nlri, kp.path.peer.0, kp.path.local_id));
    // Bit 0 is the entry's dirty flag: keep the fingerprint nonzero above it.
    (fp & !1).max(2)
}

/// Order a keyed route's paths best first.
pub(super) fn rank(
    e: &mut KEntry,
    attrs: &Interner<()>,
    peers: &[PeerState],
    cfg: &crate::engine::EngineConfig,
    resolver: Option<&crate::engine::Resolver>,
) {
    if e.paths.len() < 2 {
        return;
    }
    let mut cands: SmallVec<[Candidate; 4]> = e
        .paths
        .iter()
        .filter_map(|kp| decide::candidate(&kp.path, attrs, peers, cfg, resolver))
        .collect();
    if cands.len() != e.paths.len() {
        return;
    }
    decision::rank(&mut cands, &cfg.decision);
    let mut ordered: Vec<KPath> = Vec::with_capacity(e.paths.len());
    for c in &cands {
        if let Some(kp) = e
            .paths
            .iter()
            .find(|kp| kp.path.local_id == c.local_id && kp.path.peer == c.peer)
        {
            ordered.push(kp);
        }
    }
    if ordered.len() == e.paths.len() {
        match &mut e.paths {
            PathList::Many(v) => **v = ordered,
            p => *p = PathList::from_vec(ordered),
        }
    }
}

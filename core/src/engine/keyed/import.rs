//! Import of keyed routes: paths added, replaced, withdrawn and swept.

use alloc::vec::Vec;

use hashbrown::HashSet;

use super::store::{Kind, Tail};
use super::wire::{parse_field, Parsed};
use super::{keyed_index, KPath, Nb, KEYED};
use crate::engine::family::Rib;
use crate::engine::import::ImportMemo;
use crate::engine::policy::Installed;
use crate::engine::Engine;
use crate::policy::Route;
use crate::rib::{AttrId, Path, PeerId};
use crate::wire::attribute::MpReach;
use crate::wire::AfiSafi;

impl Engine {
    /// Import the NLRI of one MP_UNREACH_NLRI (`unreach`) or MP_REACH_NLRI
    /// field of keyed family `f`: announced with the interned set `attrs`
    /// (one reference per path taken here), or withdrawn when `attrs` is
    /// `None`. Returns (announced, withdrawn).
    pub(in crate::engine) fn import_keyed(
        &mut self,
        peer: PeerId,
        f: AfiSafi,
        field: &[u8],
        add_path: bool,
        unreach: bool,
        attrs: Option<AttrId>,
    ) -> (u32, u32) {
        let parsed = parse_field(f, field, add_path, unreach);
        self.import_keyed_parsed(peer, f, parsed, attrs)
    }

    /// Import the entries `parsed` of one NLRI field of keyed family `f`
    /// (from [`parse_field`]), as [`Engine::import_keyed`] does.
    pub(in crate::engine) fn import_keyed_parsed(
        &mut self,
        peer: PeerId,
        f: AfiSafi,
        parsed: Vec<Parsed>,
        attrs: Option<AttrId>,
    ) -> (u32, u32) {
        let Some(fi) = keyed_index(f) else {
            return (0, 0);
        };
        let mut counts = (0u32, 0u32);
        // The keys' hashes, their first index buckets read ahead.
        let hashes: Vec<u64> = match self.rib.keyed.0.get(fi) {
            Some(rib) => rib.warm(parsed.iter().map(|p| p.1.as_slice())),
            None => return counts,
        };
        for ((rid, key, nlri), h) in parsed.into_iter().zip(hashes) {
            match attrs {
                Some(id) => {
                    self.attrs.retain(id);
                    if self.keyed_insert(fi, peer, rid, (&key, h), nlri, id) {
                        counts.0 += 1;
                    }
                }
                None => counts.1 += self.keyed_withdraw(fi, peer, rid, (&key, h)) as u32,
            }
        }
        if f == AfiSafi::RT_CONSTRAINT {
            self.memberships_changed(peer);
        }
        counts
    }

    /// Import the entries `parsed` of one MP_REACH_NLRI field `m` of a keyed
    /// family through the peer's import policy, with the canonical set `block`: each route
    /// the policy rejects is withdrawn (counted in `counts.0`), each it
    /// changes is interned with its new attributes (counted in `counts.1`).
    /// Returns (announced, withdrawn).
    pub(in crate::engine) fn import_keyed_with_policy(
        &mut self,
        peer: PeerId,
        pol: &Installed,
        m: MpReach<'_>,
        parsed: Vec<Parsed>,
        block: &[u8],
        counts: &mut (u64, u64),
    ) -> (u32, u32) {
        let f = m.afi_safi;
        let Some(fi) = keyed_index(f) else {
            return (0, 0);
        };
        let (neighbor, session) = match self.peers.get(peer.index()) {
            Some(p) => (
                Some(p.cfg.address),
                crate::engine::policy::session_of(self.cfg.local_as, &p.cfg),
            ),
            None => return (0, 0),
        };
        let mp_nh = Some(m.next_hop);
        let (mut announced, mut withdrawn) = (0u32, 0u32);
        let mut memo = ImportMemo::default();
        for (rid, key, nlri) in parsed {
            let h = self.rib.keyed.0.get(fi).map_or(0, |r| r.hash(&key));
            let route = Route::keyed(f, &nlri, neighbor, block, mp_nh);
            let sig = pol.signature_of(f, route.prefix.as_ref());
            match memo.decide(self, peer, pol, sig, &route, &session) {
                None => {
                    counts.0 += 1;
                    withdrawn += u32::from(self.keyed_withdraw(fi, peer, rid, (&key, h)));
                }
                Some(id) => {
                    ImportMemo::take(self, id, block, mp_nh, counts);
                    if self.keyed_insert(fi, peer, rid, (&key, h), nlri, id) {
                        announced += 1;
                    }
                }
            }
        }
        memo.release(self);
        if f == AfiSafi::RT_CONSTRAINT {
            self.memberships_changed(peer);
        }
        (announced, withdrawn)
    }

    /// `peer`'s RT memberships changed: recomputed when next needed, and its
    /// VPN and EVPN routes judged again at the next flush.
    fn memberships_changed(&mut self, peer: PeerId) {
        self.rtc_changed.insert(peer);
        self.memberships.remove(&peer);
    }

    /// Add or replace a path (consuming one reference to `id`) for the key
    /// `key` with its index hash ([`KeyedRib::hash`](super::KeyedRib::hash));
    /// returns whether anything changed.
    pub(super) fn keyed_insert(
        &mut self,
        fi: usize,
        peer: PeerId,
        rid: u32,
        (key, h): (&[u8], u64),
        nlri: Nb,
        id: AttrId,
    ) -> bool {
        if let Some(r) = self
            .peers
            .get_mut(peer.index())
            .and_then(|p| p.restart.as_mut())
        {
            if r.stale
                .contains(KEYED.get(fi).copied().unwrap_or(AfiSafi::IPV4_UNICAST))
            {
                r.refreshed_keyed
                    .insert((fi as u8, Nb::from_slice(key), rid));
            }
        }
        let next = &mut self.next_local_id;
        let Some(rib) = self.rib.keyed.0.get_mut(fi) else {
            self.attrs.release(id);
            return false;
        };
        let slot = rib.find_or_insert(key, h);
        let Some(e) = rib.entries.get(slot as usize) else {
            self.attrs.release(id);
            return false;
        };
        if let Some(i) = e
            .paths
            .iter()
            .position(|kp| kp.path.peer == peer && kp.path.remote_id == rid)
        {
            let Some(mut kp) = e.paths.get(i) else {
                self.attrs.release(id);
                return false;
            };
            if kp.path.attrs == id && rib.nlri(&e.key, &kp) == nlri {
                self.attrs.release(id);
                return false;
            }
            let old = core::mem::replace(&mut kp.path.attrs, id);
            rib.set_nlri(&mut kp, key, &nlri);
            if let Some(e) = rib.entries.get_mut(slot as usize) {
                e.paths.set(i, kp);
            }
            self.attrs.release(old);
            rib.touch(slot);
            return true;
        }
        let mut local_id = *next;
        while e.paths.iter().any(|kp| kp.path.local_id == local_id) {
            local_id = local_id.wrapping_add(1).max(1);
        }
        *next = local_id.wrapping_add(1).max(1);
        if e.paths.is_empty() {
            rib.routes += 1;
        }
        let mut kp = KPath {
            path: Path {
                attrs: id,
                peer,
                remote_id: rid,
                local_id,
            },
            tail: Tail::PLAIN,
        };
        rib.set_nlri(&mut kp, key, &nlri);
        if let Some(e) = rib.entries.get_mut(slot as usize) {
            e.paths.push(kp);
        }
        rib.touch(slot);
        if let Some(h) = self
            .peers
            .get_mut(peer.index())
            .and_then(|p| p.held.get_mut(crate::engine::family::KEYED_BASE + fi))
        {
            *h += 1;
        }
        true
    }

    /// Withdraw the path `rid` of `peer` for the key `key` with its index
    /// hash; returns whether there was one.
    pub(super) fn keyed_withdraw(
        &mut self,
        fi: usize,
        peer: PeerId,
        rid: u32,
        (key, h): (&[u8], u64),
    ) -> bool {
        let Some(rib) = self.rib.keyed.0.get_mut(fi) else {
            return false;
        };
        let Some(slot) = rib.find_hashed(key, h) else {
            return false;
        };
        let Some(e) = rib.entries.get_mut(slot as usize) else {
            return false;
        };
        let Some(i) = e
            .paths
            .iter()
            .position(|kp| kp.path.peer == peer && kp.path.remote_id == rid)
        else {
            return false;
        };
        let Some(kp) = e.paths.remove(i) else {
            return false;
        };
        if e.paths.is_empty() {
            rib.routes -= 1;
        }
        rib.forget_nlri(&kp);
        self.attrs.release(kp.path.attrs);
        rib.touch(slot);
        if let Some(h) = self
            .peers
            .get_mut(peer.index())
            .and_then(|p| p.held.get_mut(crate::engine::family::KEYED_BASE + fi))
        {
            *h = h.saturating_sub(1);
        }
        true
    }

    /// Remove the peer's paths of keyed family `fi` (with `keep`, all but
    /// those announced again since they became stale); returns how many.
    pub(in crate::engine) fn keyed_sweep(&mut self, fi: usize, peer: PeerId, keep: bool) -> u64 {
        let kept: HashSet<(Nb, u32)> = if keep {
            self.peers
                .get_mut(peer.index())
                .and_then(|p| p.restart.as_mut())
                .map(|r| {
                    let mut s = HashSet::new();
                    r.refreshed_keyed.retain(|(f, k, rid)| {
                        if usize::from(*f) == fi {
                            s.insert((k.clone(), *rid));
                            false
                        } else {
                            true
                        }
                    });
                    s
                })
                .unwrap_or_default()
        } else {
            HashSet::new()
        };
        let Some(rib) = self.rib.keyed.0.get_mut(fi) else {
            return 0;
        };
        let mut removed = 0u64;
        let mut released: Vec<AttrId> = Vec::new();
        let mut touched: Vec<u32> = Vec::new();
        let mut emptied = 0usize;
        let mut own: Vec<KPath> = Vec::new();
        for (slot, e) in rib.entries.iter_mut().enumerate() {
            if !e.paths.iter().any(|kp| kp.path.peer == peer) {
                continue;
            }
            let before = e.paths.len();
            let key = Nb::from_slice(e.key.as_slice());
            e.paths.retain(|kp| {
                let goes = kp.path.peer == peer
                    && !(keep && kept.contains(&(key.clone(), kp.path.remote_id)));
                if goes {
                    released.push(kp.path.attrs);
                    if matches!(kp.tail.kind(), Kind::Own(_)) {
                        own.push(*kp);
                    }
                }
                !goes
            });
            if e.paths.len() != before {
                removed += (before - e.paths.len()) as u64;
                touched.push(slot as u32);
                if e.paths.is_empty() {
                    emptied += 1;
                }
            }
        }
        rib.routes -= emptied;
        for kp in own {
            rib.forget_nlri(&kp);
        }
        for s in touched {
            rib.touch(s);
        }
        for id in released {
            self.attrs.release(id);
        }
        if let Some(h) = self
            .peers
            .get_mut(peer.index())
            .and_then(|p| p.held.get_mut(crate::engine::family::KEYED_BASE + fi))
        {
            *h = h.saturating_sub(removed);
        }
        if KEYED.get(fi) == Some(&AfiSafi::RT_CONSTRAINT) && removed > 0 {
            self.memberships_changed(peer);
        }
        removed
    }

    /// Paths of the peer in keyed family `fi`.
    pub(in crate::engine) fn keyed_count(rib: &Rib, fi: usize, peer: PeerId) -> u64 {
        rib.keyed.0.get(fi).map_or(0, |r| {
            r.entries
                .iter()
                .map(|e| e.paths.iter().filter(|kp| kp.path.peer == peer).count() as u64)
                .sum()
        })
    }

    /// Mark every route of keyed family `fi` changed.
    pub(in crate::engine) fn keyed_mark_all(rib: &mut Rib, fi: usize) {
        if let Some(r) = rib.keyed.0.get_mut(fi) {
            for s in 0..r.entries.len() as u32 {
                if r.entries.get(s as usize).is_some_and(|e| !e.key.is_empty()) {
                    r.touch(s);
                }
            }
        }
    }
}

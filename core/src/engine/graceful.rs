//! Graceful restart (RFC 4724): stale paths kept across a session's down and
//! up; enhanced route refresh (RFC 7313) marks paths stale the same way.

use alloc::boxed::Box;

use hashbrown::HashSet;

use super::family::{Family, RouteKey, FAMILIES};
use super::tx::Tx;
use super::{Engine, Event};
use crate::rib::PeerId;
use crate::wire::{AfiSafi, AfiSafiSet, Ipv6Prefix};

/// Graceful restart state of a peer whose session went down gracefully (RFC 4724 §4.2).
#[derive(Debug, Default)]
pub(super) struct Restart {
    /// Families whose paths from the peer are stale.
    pub(super) stale: AfiSafiSet,
    /// IPv4 paths (prefix key, path identifier) the peer announced again since it went down.
    pub(super) refreshed_v4: HashSet<(u64, u32)>,
    /// IPv6 paths the peer announced again since it went down.
    pub(super) refreshed_v6: HashSet<(Ipv6Prefix, u32)>,
    /// Keyed paths (family position, key, path identifier) announced again.
    pub(super) refreshed_keyed: HashSet<(u8, super::keyed::Nb, u32)>,
}

impl Engine {
    /// The session went down without a NOTIFICATION, and the peer had
    /// advertised graceful restart (RFC 4724 §4.2): its paths in `families`
    /// stay candidates, marked stale, and nothing is withdrawn for them; its
    /// paths in other families are withdrawn as by [`Engine::peer_down`].
    ///
    /// The caller arms the restart timer (the peer's restart time) and calls
    /// [`Engine::restart_timer_expired`] if the session is not back in time.
    /// A peer that goes down gracefully again before its End-of-RIB keeps
    /// all of its paths in `families` stale, refreshed ones included.
    pub fn peer_down_graceful(&mut self, peer: PeerId, families: AfiSafiSet) {
        let Some(p) = self.peers.get_mut(peer.index()) else {
            return;
        };
        let was_up = p.up.take().is_some();
        let old = p.restart.take().map_or(AfiSafiSet::EMPTY, |r| r.stale);
        if !was_up && old.is_empty() {
            return;
        }
        p.tx = Tx::default();
        p.paused = None;
        let mut kept = AfiSafiSet::EMPTY;
        for f in FAMILIES.map(|f| f.afi_safi) {
            if families.contains(f) && (was_up || old.contains(f)) {
                kept.insert(f);
            }
        }
        let mut marked = 0u64;
        let mut removed = 0u64;
        for f in FAMILIES {
            if kept.contains(f.afi_safi) {
                marked += (f.count_peer_paths)(&self.rib, peer);
            } else {
                let n = (f.sweep)(self, peer);
                if old.contains(f.afi_safi) {
                    removed += n;
                }
            }
        }
        if let Some(p) = self.peers.get_mut(peer.index()) {
            p.counters.graceful_restarts += 1;
            p.counters.stale_marked += marked;
            p.counters.stale_removed += removed;
            if !kept.is_empty() {
                p.restart = Some(Box::new(Restart {
                    stale: kept,
                    ..Restart::default()
                }));
            }
        }
        self.push_event(Event::PeerRestarting {
            peer,
            families: kept,
            stale: marked,
        });
    }

    /// The peer's restart timer (or stale-path timer) expired: every path of
    /// the peer still stale is removed (RFC 4724 §4.2).
    pub fn restart_timer_expired(&mut self, peer: PeerId) {
        let stale = self
            .peers
            .get(peer.index())
            .and_then(|p| p.restart.as_ref())
            .map(|r| r.stale);
        let Some(stale) = stale else {
            return;
        };
        for f in FAMILIES.map(|f| f.afi_safi) {
            if stale.contains(f) {
                self.sweep_stale(peer, f, true);
            }
        }
    }

    /// The families in which the peer has stale paths: after a graceful down
    /// until End-of-RIB, or during an enhanced route refresh until EoRR.
    pub fn stale_families(&self, peer: PeerId) -> AfiSafiSet {
        self.peers
            .get(peer.index())
            .and_then(|p| p.restart.as_ref())
            .map_or(AfiSafiSet::EMPTY, |r| r.stale)
    }

    /// Remove the peer's still-stale paths in `family`; with `keep_refreshed`
    /// paths announced again since the graceful down stay. The family is no
    /// longer stale afterwards.
    pub(super) fn sweep_stale(&mut self, peer: PeerId, family: AfiSafi, keep_refreshed: bool) {
        let Some(r) = self
            .peers
            .get_mut(peer.index())
            .and_then(|p| p.restart.as_mut())
        else {
            return;
        };
        // Only families the engine keeps are ever stale.
        let Some(fam) = Family::of(family).filter(|_| r.stale.contains(family)) else {
            return;
        };
        let mut rest = AfiSafiSet::EMPTY;
        for f in FAMILIES.map(|f| f.afi_safi) {
            if f != family && r.stale.contains(f) {
                rest.insert(f);
            }
        }
        r.stale = rest;
        let n = (fam.sweep_stale)(self, peer, keep_refreshed);
        if let Some(p) = self.peers.get_mut(peer.index()) {
            p.counters.stale_removed += n;
            if rest.is_empty() {
                p.restart = None;
            }
        }
        self.push_event(Event::StaleRemoved {
            peer,
            family,
            paths: n,
        });
    }

    /// Mark the peer's paths of `family` stale (kept as candidates) and start
    /// recording which it announces again.
    pub(super) fn begin_stale(&mut self, peer: PeerId, family: Family) {
        let Some(p) = self.peers.get_mut(peer.index()) else {
            return;
        };
        let r = p.restart.get_or_insert_with(Box::default);
        r.stale.insert(family.afi_safi);
        (family.clear_refreshed)(r);
    }

    /// Remove the peer's paths of the family with key type `K`; with
    /// `keep_refreshed` those announced again since they became stale stay.
    pub(super) fn sweep_refreshed<K: RouteKey>(
        &mut self,
        peer: PeerId,
        keep_refreshed: bool,
    ) -> u64 {
        let set = self
            .peers
            .get_mut(peer.index())
            .and_then(|p| p.restart.as_mut())
            .map(|r| core::mem::take(K::refreshed(r)))
            .unwrap_or_default();
        self.sweep::<K>(peer, keep_refreshed.then_some(&set))
    }
}

/// Forget which paths of the family with key type `K` the peer announced again.
pub(super) fn clear_refreshed<K: RouteKey>(r: &mut Restart) {
    K::refreshed(r).clear();
}

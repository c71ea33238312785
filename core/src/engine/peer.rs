//! Peers: configuration, state, and sessions coming up and going down.

use alloc::boxed::Box;
use alloc::sync::Arc;

use super::family::{FAMILIES, FAMILY_COUNT};
use super::graceful::Restart;
use super::pause::Pending;
use super::policy::Installed;
use super::tx::Tx;
use super::{AddPathSend, Engine, Event, Negotiated, PeerConfig, PeerCounters};
use crate::reflect::{Role, Source};
use crate::rib::PeerId;
use crate::wire::capability::BgpRole;
use crate::wire::{AfiSafi, AfiSafiSet, Context};

/// A peer: its configuration, its session, and what is queued for it.
#[derive(Debug)]
pub(super) struct PeerState {
    pub(super) cfg: PeerConfig,
    pub(super) removed: bool,
    pub(super) up: Option<Negotiated>,
    /// Set while the peer has stale paths; `None` on the hot path.
    pub(super) restart: Option<Box<Restart>>,
    pub(super) router_id: u32,
    pub(super) rx_ctx: Context,
    pub(super) tx_ctx: Context,
    pub(super) tx: Tx,
    /// Set while the peer's output is paused (it stopped reading); `None` on the hot path.
    pub(super) paused: Option<Box<Pending>>,
    /// Families turned off on this session (RFC 7606 AFI/SAFI disable).
    pub(super) disabled: AfiSafiSet,
    /// Paths accepted from the peer, per family (stale ones included).
    pub(super) held: [u64; FAMILY_COUNT],
    /// Per family, whether the peer is above its prefix limit (and was told so once).
    pub(super) over_limit: [bool; FAMILY_COUNT],
    /// Whether the peer is at its attribute-set memory limit (and was told so once).
    pub(super) attr_over: bool,
    pub(super) counters: PeerCounters,
    /// The policy applied to routes the peer sends (`None`: accept all, but see RFC 8212).
    pub(super) import: Option<Arc<Installed>>,
    /// The policy applied to routes sent to the peer.
    pub(super) export: Option<Arc<Installed>>,
}

impl PeerState {
    pub(super) fn source(&self) -> Source {
        Source::Peer(self.cfg.role)
    }

    pub(super) fn add_path_tx(&self, f: AfiSafi) -> bool {
        self.cfg.add_path_send != AddPathSend::Off && self.tx_ctx.add_path(f)
    }

    /// The eBGP peer's BGP Role for the RFC 9234 OTC procedures (`None` on iBGP or without roles).
    pub(super) fn bgp_role(&self) -> Option<BgpRole> {
        self.up
            .and_then(|n| n.remote_role)
            .filter(|_| self.cfg.role == Role::Ebgp)
    }

    /// Whether the peer takes IPv4 unicast routes with an IPv6 next hop (RFC 8950).
    pub(super) fn v6_next_hop_for_v4(&self) -> bool {
        self.up
            .is_some_and(|n| n.extended_next_hop.contains(AfiSafi::IPV4_UNICAST))
    }

    /// Whether the session negotiated `f` and has not turned it off.
    pub(super) fn has_family(&self, f: AfiSafi) -> bool {
        self.up.is_some_and(|n| n.families.contains(f)) && !self.disabled.contains(f)
    }
}

impl Engine {
    /// Add a peer (down until [`Engine::peer_up`]).
    pub fn add_peer(&mut self, cfg: PeerConfig) -> PeerId {
        let id = PeerId(self.peers.len() as u32);
        self.peers.push(PeerState {
            cfg,
            removed: false,
            up: None,
            restart: None,
            router_id: 0,
            rx_ctx: Context::MODERN,
            tx_ctx: Context::MODERN,
            tx: Tx::default(),
            paused: None,
            disabled: AfiSafiSet::EMPTY,
            held: [0; FAMILY_COUNT],
            over_limit: [false; FAMILY_COUNT],
            attr_over: false,
            counters: PeerCounters::default(),
            import: None,
            export: None,
        });
        id
    }

    /// Set (or clear) the peer's prefix limit for `family` (IPv4 or IPv6
    /// unicast); it is checked at the peer's next UPDATE. Returns whether the
    /// peer and the family exist.
    pub fn set_prefix_limit(
        &mut self,
        peer: PeerId,
        family: AfiSafi,
        limit: Option<super::PrefixLimit>,
    ) -> bool {
        let Some(p) = self.peers.get_mut(peer.index()).filter(|p| !p.removed) else {
            return false;
        };
        if family == AfiSafi::IPV4_UNICAST {
            p.cfg.max_prefixes_ipv4 = limit;
        } else if family == AfiSafi::IPV6_UNICAST {
            p.cfg.max_prefixes_ipv6 = limit;
        } else {
            return false;
        }
        true
    }

    /// Set (or clear) the most bytes of attribute sets the peer's routes may create.
    pub fn set_attr_memory_limit(&mut self, peer: PeerId, max: Option<u64>) -> bool {
        let Some(p) = self.peers.get_mut(peer.index()).filter(|p| !p.removed) else {
            return false;
        };
        p.cfg.max_attr_bytes = max;
        true
    }

    /// Bytes of attribute sets charged to the peer (sets its routes created, still live).
    pub fn attr_bytes(&self, peer: PeerId) -> u64 {
        self.attrs.owned_bytes(peer.0.wrapping_add(1))
    }

    /// Set (or clear) the most paths per prefix the peer may send with ADD-PATH.
    pub fn set_max_paths_per_prefix(&mut self, peer: PeerId, max: Option<u16>) -> bool {
        let Some(p) = self.peers.get_mut(peer.index()).filter(|p| !p.removed) else {
            return false;
        };
        p.cfg.max_paths_per_prefix = max;
        true
    }

    /// Paths accepted from the peer in `family` (stale ones included).
    pub fn accepted_paths(&self, peer: PeerId, family: AfiSafi) -> u64 {
        let Some(f) = super::family::Family::of(family) else {
            return 0;
        };
        self.peers
            .get(peer.index())
            .and_then(|p| p.held.get(f.index))
            .copied()
            .unwrap_or(0)
    }

    /// Remove a peer; its routes are withdrawn everywhere.
    pub fn remove_peer(&mut self, peer: PeerId) {
        self.peer_down(peer);
        if let Some(p) = self.peers.get_mut(peer.index()) {
            p.removed = true;
        }
    }

    /// The peer's configuration, if it exists.
    pub fn peer_config(&self, peer: PeerId) -> Option<&PeerConfig> {
        self.peers
            .get(peer.index())
            .filter(|p| !p.removed)
            .map(|p| &p.cfg)
    }

    /// Whether the peer is up.
    pub fn is_up(&self, peer: PeerId) -> bool {
        self.peers.get(peer.index()).is_some_and(|p| p.up.is_some())
    }

    /// The peers that exist.
    pub fn peers(&self) -> impl Iterator<Item = PeerId> + '_ {
        self.peers
            .iter()
            .enumerate()
            .filter(|(_, p)| !p.removed)
            .map(|(i, _)| PeerId(i as u32))
    }

    /// The peer's counters.
    pub fn counters(&self, peer: PeerId) -> Option<PeerCounters> {
        self.peers.get(peer.index()).map(|p| p.counters)
    }

    /// The session came up: queue the whole table for the peer, then End-of-RIB per family.
    ///
    /// Stale paths left by a graceful down are removed: the peer did not
    /// advertise graceful restart on this session (see [`Engine::peer_up_graceful`]).
    pub fn peer_up(&mut self, peer: PeerId, neg: Negotiated) {
        self.peer_up_graceful(peer, neg, AfiSafiSet::EMPTY);
    }

    /// The session came up with a peer that advertised graceful restart (RFC 4724 §4.2).
    ///
    /// `preserved` holds the families the peer's capability lists with the
    /// Forwarding State bit set: stale paths in those families stay until the
    /// peer's End-of-RIB for the family (or [`Engine::restart_timer_expired`]);
    /// stale paths in every other family are removed now.
    pub fn peer_up_graceful(&mut self, peer: PeerId, neg: Negotiated, preserved: AfiSafiSet) {
        let Some(p) = self.peers.get(peer.index()) else {
            return;
        };
        if p.removed {
            return;
        }
        if p.up.is_some() {
            self.peer_down(peer);
        }
        let stale = self
            .peers
            .get(peer.index())
            .and_then(|p| p.restart.as_ref())
            .map(|r| r.stale);
        if let Some(stale) = stale {
            for f in FAMILIES.map(|f| f.afi_safi) {
                if stale.contains(f) && !(preserved.contains(f) && neg.families.contains(f)) {
                    self.sweep_stale(peer, f, false);
                }
            }
        }
        self.flush();
        let Some(p) = self.peers.get_mut(peer.index()) else {
            return;
        };
        p.up = Some(neg);
        p.router_id = neg.router_id.to_bits();
        p.rx_ctx = Context {
            four_octet_as: neg.four_octet_as,
            extended_message: neg.extended_message,
            add_path: neg.add_path_receive,
        };
        p.tx_ctx = Context {
            four_octet_as: neg.four_octet_as,
            extended_message: neg.extended_message,
            add_path: if p.cfg.add_path_send == AddPathSend::Off {
                AfiSafiSet::EMPTY
            } else {
                neg.add_path_send
            },
        };
        p.tx = Tx::default();
        p.paused = None;
        p.disabled = AfiSafiSet::EMPTY;
        self.push_event(Event::PeerUp(peer));
        // The table goes out as a catch-up: a step of encoded UPDATEs at a
        // time (End-of-RIB after each family), the next when the peer's
        // output has drained, so a peer that connects and stops reading
        // holds at most one step of bytes.
        let mut pending = Box::new(Pending {
            deferred: self.deferring,
            ..Pending::default()
        });
        for f in FAMILIES {
            (f.start_fresh)(self, peer, &mut pending);
        }
        if let Some(p) = self.peers.get_mut(peer.index()) {
            p.paused = Some(pending);
        }
        self.catch_up_step(peer);
    }

    /// The session went down: every path learned from the peer is withdrawn
    /// (stale paths from an earlier graceful down included).
    pub fn peer_down(&mut self, peer: PeerId) {
        let Some(p) = self.peers.get_mut(peer.index()) else {
            return;
        };
        let was_up = p.up.take().is_some();
        let stale = p.restart.take().map(|r| r.stale);
        if !was_up {
            if let Some(stale) = stale {
                // Down already: only stale paths are left to remove.
                let removed = FAMILIES.map(|f| (f.afi_safi, (f.sweep)(self, peer)));
                if let Some(p) = self.peers.get_mut(peer.index()) {
                    p.counters.stale_removed += removed.iter().map(|&(_, n)| n).sum::<u64>();
                }
                for (f, n) in removed {
                    if stale.contains(f) {
                        self.push_event(Event::StaleRemoved {
                            peer,
                            family: f,
                            paths: n,
                        });
                    }
                }
            }
            return;
        }
        p.tx = Tx::default();
        p.paused = None;
        p.disabled = AfiSafiSet::EMPTY;
        for f in FAMILIES {
            (f.sweep)(self, peer);
        }
        self.push_event(Event::PeerDown(peer));
    }
}

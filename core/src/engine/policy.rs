//! Per-peer import and export policies, RFC 8212 default-deny toward and
//! from eBGP, and policy changes on a live session.
//!
//! Changing an export policy re-evaluates every prefix for the peer and
//! sends only the difference: prefixes the new policy lets through with
//! other attributes (or newly lets through) are announced, prefixes it now
//! refuses are withdrawn. Changing an import policy needs the peer's routes
//! again (the engine keeps what it accepted, not what it was sent): it asks
//! the embedder to send ROUTE-REFRESH ([`Reimport::Refresh`], RFC 2918),
//! and the routes that come back are evaluated under the new policy.

use alloc::sync::Arc;

use super::family::{RouteKey, FAMILIES};
use super::Engine;
use crate::policy::{Decision, Direction, Hook, Policy, Route, Session, Trace};
use crate::rib::PeerId;
use crate::wire::route_refresh::{RouteRefreshRepr, Subtype, ROUTE_REFRESH_LEN};
use crate::wire::AfiSafi;

/// A policy installed on a peer: the policy and a number that tells
/// installations apart (rewritten attributes are cached per installation).
pub(super) struct Installed {
    pub(super) policy: Policy,
    /// Whether the policy was set (not the accept-all stand-in of a lone hook).
    pub(super) explicit: bool,
    pub(super) hook: Option<Hook>,
    pub(super) id: u32,
    /// Whether results differ per prefix of one attribute set (the policy
    /// reads the prefix, or a hook is set).
    pub(super) reads_prefix: bool,
    /// The policy's conditions on the prefix alone, in order (for signatures).
    pub(super) prefix_conds: alloc::vec::Vec<crate::policy::Condition>,
    /// The session it was installed for: an installation is shared only
    /// between peers with the same session, so a block rewritten under it
    /// (our address as next hop, our AS prepended) is cached per installation.
    session: Option<Session>,
}

impl core::fmt::Debug for Installed {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Installed")
            .field("policy", &self.policy.name)
            .field("hook", &self.hook.is_some())
            .field("id", &self.id)
            .finish()
    }
}

impl Installed {
    /// [`Policy::prefix_signature`] of a unicast prefix, or `None` with a
    /// hook (its answer may differ per prefix).
    pub(super) fn signature(&self, prefix: &crate::wire::Prefix) -> Option<u64> {
        self.signature_of(
            AfiSafi::new(prefix.afi(), crate::wire::Safi::UNICAST),
            Some(prefix),
        )
    }

    /// [`Policy::prefix_signature`], or `None` with a hook.
    pub(super) fn signature_of(
        &self,
        family: AfiSafi,
        prefix: Option<&crate::wire::Prefix>,
    ) -> Option<u64> {
        if self.hook.is_some() {
            return None;
        }
        crate::policy::signature(self.prefix_conds.iter(), family, prefix)
    }

    /// The policy, then the hook, on `route`; a trace that names the outcome only without a hook.
    pub(super) fn evaluate(
        &self,
        dir: Direction,
        peer: PeerId,
        route: &Route<'_>,
        session: &Session,
    ) -> (Decision, Trace) {
        let (d, trace) = self.policy.evaluate(route, session);
        let Some(hook) = &self.hook else {
            return (d, trace);
        };
        let inexact = Trace(trace.0 | 1 << 63);
        let after = match &d {
            Decision::Reject => return (d, inexact),
            Decision::Accept => hook(dir, peer, route),
            Decision::Modified(a) => hook(
                dir,
                peer,
                &Route {
                    block: &a.block,
                    mp_next_hop: a.mp_next_hop.as_deref(),
                    ..*route
                },
            ),
        };
        match after {
            Decision::Accept => (d, inexact),
            other => (other, inexact),
        }
    }
}

/// What the embedder should do after an import policy changed on a live session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Reimport {
    /// Nothing: the peer is down (its routes are evaluated when it comes back).
    Nothing,
    /// Ask the peer for its routes again: ROUTE-REFRESH for each family it
    /// negotiated ([`Engine::request_refresh`] queues one). A peer that did
    /// not negotiate route refresh has to be reset instead (Cease, Other
    /// Configuration Change).
    Refresh,
}

impl Engine {
    /// Install `policy` for a peer with `session`, sharing the installation of
    /// an equal policy already on a peer with the same session (peers with
    /// the same export policy then share one export pass).
    fn install(
        &mut self,
        policy: Option<Policy>,
        hook: Option<Hook>,
        session: Option<Session>,
    ) -> Option<Arc<Installed>> {
        let explicit = policy.is_some();
        let policy = match (policy, &hook) {
            (Some(p), _) => p,
            (None, Some(_)) => Policy::accept_all(),
            (None, None) => return None,
        };
        if hook.is_none() {
            let same = self
                .peers
                .iter()
                .flat_map(|p| [p.import.as_ref(), p.export.as_ref()])
                .flatten()
                .find(|i| {
                    i.hook.is_none() && i.explicit && i.session == session && i.policy == policy
                });
            if let Some(i) = same {
                return Some(i.clone());
            }
        }
        self.next_policy_id = self.next_policy_id.wrapping_add(1).max(1);
        Some(Arc::new(Installed {
            reads_prefix: hook.is_some() || policy.reads_prefix(),
            prefix_conds: policy.prefix_conditions(),
            policy,
            explicit,
            hook,
            id: self.next_policy_id,
            session,
        }))
    }

    /// The policy session of `peer`'s configuration.
    fn session_of_peer(&self, peer: PeerId) -> Option<Session> {
        self.peers
            .get(peer.index())
            .map(|p| session_of(self.cfg.local_as, &p.cfg))
    }

    /// The hook installed on a policy slot, if any.
    fn hook_of(slot: &Option<Arc<Installed>>) -> Option<Hook> {
        slot.as_ref().and_then(|i| i.hook.clone())
    }

    /// The policy installed on a policy slot, unless it is the stand-in for a lone hook.
    fn policy_of(slot: &Option<Arc<Installed>>) -> Option<Policy> {
        slot.as_ref()
            .filter(|i| i.explicit)
            .map(|i| i.policy.clone())
    }

    /// Set (or with `None` clear) a callback run on every route the peer
    /// sends us, after its import policy; see [`Reimport`].
    pub fn set_import_hook(&mut self, peer: PeerId, hook: Option<Hook>) -> Reimport {
        let Some(p) = self.peers.get(peer.index()).filter(|p| !p.removed) else {
            return Reimport::Nothing;
        };
        let policy = Self::policy_of(&p.import);
        self.replace_import(peer, policy, hook)
    }

    /// Set (or with `None` clear) a callback run on every route about to be
    /// sent to the peer, after its export policy. On a live session the
    /// peer is sent the difference now.
    pub fn set_export_hook(&mut self, peer: PeerId, hook: Option<Hook>) {
        let Some(p) = self.peers.get(peer.index()).filter(|p| !p.removed) else {
            return;
        };
        let policy = Self::policy_of(&p.export);
        self.replace_export(peer, policy, hook);
    }

    /// Set (or with `None` clear) the policy applied to routes the peer sends us.
    ///
    /// Routes already accepted stay as they are until the peer sends them
    /// again; see [`Reimport`].
    pub fn set_import_policy(&mut self, peer: PeerId, policy: Option<Policy>) -> Reimport {
        let hook = match self.peers.get(peer.index()) {
            Some(p) => Self::hook_of(&p.import),
            None => return Reimport::Nothing,
        };
        self.replace_import(peer, policy, hook)
    }

    fn replace_import(
        &mut self,
        peer: PeerId,
        policy: Option<Policy>,
        hook: Option<Hook>,
    ) -> Reimport {
        let installed = self.install(policy, hook, self.session_of_peer(peer));
        let Some(p) = self.peers.get_mut(peer.index()).filter(|p| !p.removed) else {
            return Reimport::Nothing;
        };
        p.import = installed;
        if p.up.is_some() {
            Reimport::Refresh
        } else {
            Reimport::Nothing
        }
    }

    /// Set (or with `None` clear) the policy applied to routes we send the
    /// peer. On a live session the peer is sent the difference now.
    pub fn set_export_policy(&mut self, peer: PeerId, policy: Option<Policy>) {
        let hook = match self.peers.get(peer.index()) {
            Some(p) => Self::hook_of(&p.export),
            None => return,
        };
        self.replace_export(peer, policy, hook);
    }

    fn replace_export(&mut self, peer: PeerId, policy: Option<Policy>, hook: Option<Hook>) {
        let installed = self.install(policy, hook, self.session_of_peer(peer));
        let Some(p) = self.peers.get_mut(peer.index()).filter(|p| !p.removed) else {
            return;
        };
        let old = core::mem::replace(&mut p.export, installed);
        if p.up.is_none() {
            return;
        }
        self.flush();
        for f in FAMILIES {
            (f.reexport)(self, peer, old.clone());
        }
    }

    /// Turn RFC 8212's default-deny for eBGP peers on or off
    /// ([`EngineConfig::ebgp_requires_policy`](super::EngineConfig::ebgp_requires_policy));
    /// live eBGP sessions without an export policy are sent the difference
    /// at once. Returns the live eBGP peers without an import policy: their
    /// routes are judged anew only when they send them again, so ask them
    /// with ROUTE-REFRESH ([`Engine::request_refresh`]) or reset them.
    pub fn set_ebgp_requires_policy(&mut self, on: bool) -> alloc::vec::Vec<PeerId> {
        if self.cfg.ebgp_requires_policy == on {
            return alloc::vec::Vec::new();
        }
        self.flush();
        let ebgp: alloc::vec::Vec<PeerId> = self
            .peers
            .iter()
            .enumerate()
            .filter(|(_, p)| {
                !p.removed && p.up.is_some() && p.cfg.role == crate::reflect::Role::Ebgp
            })
            .map(|(i, _)| PeerId(i as u32))
            .collect();
        self.cfg.ebgp_requires_policy = on;
        // What an eBGP peer without an export policy was sent before: everything
        // (as under accept-all) or nothing (as under reject-all); the re-export
        // sends the difference to what it gets now.
        let before = if on {
            Policy::accept_all()
        } else {
            Policy::reject_all()
        };
        let before = self.install(Some(before), None, None);
        let mut reimport = alloc::vec::Vec::new();
        for &peer in &ebgp {
            let Some(p) = self.peers.get(peer.index()) else {
                continue;
            };
            if p.import.is_none() {
                reimport.push(peer);
            }
            if p.export.is_some() {
                continue;
            }
            for f in FAMILIES {
                (f.reexport)(self, peer, before.clone());
            }
        }
        reimport
    }

    /// The peer's import and export policies, if set.
    pub fn policies(&self, peer: PeerId) -> (Option<&Policy>, Option<&Policy>) {
        match self.peers.get(peer.index()) {
            Some(p) => (
                p.import
                    .as_deref()
                    .filter(|i| i.explicit)
                    .map(|i| &i.policy),
                p.export
                    .as_deref()
                    .filter(|i| i.explicit)
                    .map(|i| &i.policy),
            ),
            None => (None, None),
        }
    }

    /// Queue a ROUTE-REFRESH request (RFC 2918) to the peer for `family`.
    /// Returns whether the peer is up with the family.
    pub fn request_refresh(&mut self, peer: PeerId, family: AfiSafi) -> bool {
        let Some(p) = self
            .peers
            .get_mut(peer.index())
            .filter(|p| p.has_family(family))
        else {
            return false;
        };
        let msg = RouteRefreshRepr {
            afi_safi: family,
            subtype: Subtype::Normal,
            orf: alloc::vec::Vec::new(),
        };
        let mut buf = [0u8; ROUTE_REFRESH_LEN];
        match msg.emit(&mut buf) {
            Ok(n) => {
                p.tx.out.extend_from_slice(buf.get(..n).unwrap_or(&[]));
                true
            }
            Err(_) => false,
        }
    }

    /// Re-export family K to `peer` after its export policy changed from `old`.
    pub(super) fn reexport<K: RouteKey>(&mut self, peer: PeerId, old: Option<Arc<Installed>>) {
        let Some(p) = self.peers.get_mut(peer.index()) else {
            return;
        };
        if !p.has_family(K::FAMILY) {
            return;
        }
        if p.paused.is_some() {
            // Paused: every prefix is pending; it gets the current state on resume.
            super::pause::record_all::<K>(self, peer);
            return;
        }
        self.export_reload::<K>(peer, old);
        self.out_cache.clear();
    }
}

/// The policy session for a peer's configuration.
pub(super) fn session_of(local_as: u32, cfg: &super::PeerConfig) -> Session {
    Session {
        local_as: cfg.local_as.unwrap_or(local_as),
        local_v4: cfg.local_v4,
        local_v6: cfg.local_v6,
    }
}

//! Export of keyed routes: the export rules per path, the diff per peer, and one encoding shared by a class of peers.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashMap, HashSet};
use smallvec::SmallVec;

use super::rtc::route_targets;
use super::wire::{pack, strip_next_hop, with_path_id, withdraw_nlri};
use super::{keyed_index, rt_filtered, KPath, Membership, Nb, KEYED, KEYED_COUNT};
use core::cell::{Cell, RefCell};

use crate::engine::decide;
use crate::engine::peer::PeerState;
use crate::engine::policy::Installed;
use crate::engine::Engine;
use crate::policy::{Decision, Direction, Route, Session};
use crate::reflect::{self, ExportClass, OutBlock, Role, Source};
use crate::rib::{AttrId, Interner, PeerId};
use crate::wire::family::NlriFormat;
use crate::wire::{Afi, AfiSafi};

/// The fingerprint of what a peer is sent for one path.
pub(super) fn fingerprint(h: &DefaultHashBuilder, blk: &OutBlock, nlri: &[u8]) -> u64 {
    h.hash_one((&blk.attrs[..], blk.mp_next_hop.as_deref(), nlri))
}

/// Announcements grouped by block, and withdrawals, for one peer.
#[derive(Default)]
pub(super) struct Batch {
    pub(super) groups: Vec<(Arc<OutBlock>, Vec<Nb>)>,
    group_of: HashMap<*const OutBlock, usize>,
    pub(super) withdrawals: Vec<Nb>,
}

impl Batch {
    pub(super) fn announce(&mut self, blk: Arc<OutBlock>, nlri: Nb) {
        let k = Arc::as_ptr(&blk);
        let i = *self.group_of.entry(k).or_insert_with(|| {
            self.groups.push((blk, Vec::new()));
            self.groups.len() - 1
        });
        if let Some((_, v)) = self.groups.get_mut(i) {
            v.push(nlri);
        }
    }
}

/// What a target peer is like, for the export rules.
pub(super) struct KTarget {
    id: PeerId,
    role: Role,
    rid: u32,
    four_octet: bool,
    add_path: bool,
    requires_policy: bool,
    v6_next_hop: bool,
    membership: Option<Arc<Membership>>,
    local_v4: Option<core::net::Ipv4Addr>,
    local_v6: Option<core::net::Ipv6Addr>,
    local_as: Option<u32>,
    /// The peer's export policy (and hook), if any.
    export: Option<Arc<Installed>>,
    /// The policy's view of the session.
    session: Session,
    /// Paths the export policy refused since the last [`KTarget::take_rejected`].
    rejected: Cell<u64>,
    /// Blocks rewritten under the export policy, by set, class and the
    /// statements that held (for this peer and family only).
    memo: RefCell<HashMap<(AttrId, ExportClass, u64), Arc<OutBlock>>>,
    /// The last block taken from the shared cache, with its set and class.
    last: RefCell<Option<(AttrId, ExportClass, Arc<OutBlock>)>>,
}

/// Where a keyed route's rewritten block is kept.
#[derive(Clone, Copy)]
enum Kept {
    /// The engine-wide cache (no export policy: the block depends on the set and class only).
    Shared,
    /// The target's memo, under the statements of its policy that held.
    Memo(u64),
    /// Nowhere: a hook's answer is its route's own.
    Nowhere,
}

/// The engine-wide rewrite cache's tag for keyed routes without an export
/// policy (unicast uses `(0, 0)` and `(installation, trace)`).
const KEYED_TAG: reflect::PolicyTag = (u32::MAX, 0);

impl KTarget {
    /// Paths the export policy refused since the last call.
    pub(super) fn take_rejected(&self) -> u64 {
        self.rejected.take()
    }
}

/// Whether `nh` is an IPv6 next hop on an IPv4 family (RFC 8950), which a
/// peer gets only where it negotiated extended next hop.
fn v6_next_hop_on_v4(family: AfiSafi, nh: Option<&[u8]>) -> bool {
    family.afi == Afi::IPV4
        && nh.is_some_and(|nh| {
            matches!(
                (NlriFormat::of(family), nh.len()),
                (Some(NlriFormat::Vpn), 24 | 48)
                    | (Some(NlriFormat::Ip | NlriFormat::Labeled), 16 | 32)
            )
        })
}

/// The export rules of [`crate::engine::export`] for one path, then the
/// target's export policy; `nlri` is the path's NLRI (read only by a policy).
#[allow(clippy::too_many_arguments)]
pub(super) fn out_block(
    t: &KTarget,
    kp: &KPath,
    nlri: &dyn Fn() -> Nb,
    peers: &[PeerState],
    attrs: &Interner<()>,
    cache: &mut reflect::OutCache,
    me: &reflect::LocalIdentity,
    c2c: bool,
    family: AfiSafi,
) -> Option<Arc<OutBlock>> {
    let p = &kp.path;
    if p.peer == t.id || t.requires_policy {
        return None;
    }
    let (source, src_rid) = if p.peer == PeerId::LOCAL {
        (Source::Local, 0)
    } else {
        let s = peers.get(p.peer.index())?;
        (s.source(), s.router_id)
    };
    if !reflect::may_export(source, t.role, c2c) {
        return None;
    }
    let set = attrs.get(p.attrs)?;
    if set.withheld_from(t.role == Role::Ebgp) {
        return None;
    }
    let originator = set.originator_id().unwrap_or(src_rid);
    let from_ibgp = matches!(source, Source::Peer(r) if r.is_ibgp());
    if t.role.is_ibgp() && from_ibgp && originator == t.rid {
        return None;
    }
    // The export policy, on the route as the RFC rules let it through.
    let mut modified: Option<crate::policy::Attributes> = None;
    // What the rewritten block is cached under: without a policy, the set and
    // class (shared by every keyed family: the block does not depend on it);
    // with one, also the statements that held, in this target's own memo.
    let trace = match &t.export {
        None => None,
        Some(pol) => {
            let n = nlri();
            let neighbor = peers.get(p.peer.index()).map(|s| s.cfg.address);
            let route = Route::keyed(family, &n, neighbor, set.block(), set.mp_next_hop());
            let (d, trace) = pol.evaluate(Direction::Export, t.id, &route, &t.session);
            match d {
                Decision::Reject => {
                    t.rejected.set(t.rejected.get() + 1);
                    return None;
                }
                Decision::Accept => {}
                Decision::Modified(a) => modified = Some(a),
            }
            Some(trace)
        }
    };
    let (block, mp_nh) = match &modified {
        Some(a) => (&a.block[..], a.mp_next_hop.as_deref()),
        None => (set.block(), set.mp_next_hop()),
    };
    // RFC 8950: an IPv6 next hop for IPv4 routes only where negotiated.
    if !t.v6_next_hop && v6_next_hop_on_v4(family, mp_nh) {
        return None;
    }
    if rt_filtered(family) {
        if let Some(m) = &t.membership {
            if !m.covers(&route_targets(block)) {
                return None;
            }
        }
    }
    let class = match (t.role, source) {
        (Role::Ebgp, _) => ExportClass::External {
            next_hop_v4: t.local_v4,
            next_hop_v6: t.local_v6,
            keep_med: source == Source::Local,
            four_octet: t.four_octet,
            add_otc: false,
            local_as: t.local_as,
        },
        (_, Source::Peer(Role::Client | Role::NonClient)) => ExportClass::Reflect {
            originator,
            four_octet: t.four_octet,
        },
        _ => ExportClass::Internal {
            four_octet: t.four_octet,
        },
    };
    // The reflected path keeps its next hop (and with it the labels' meaning).
    let kept = match trace {
        None => Kept::Shared,
        Some(tr) if tr.is_exact() => Kept::Memo(tr.0),
        Some(_) => Kept::Nowhere,
    };
    let cached = match kept {
        Kept::Shared => {
            // Routes come in runs of one set: the last block is tried first.
            let last = t
                .last
                .borrow()
                .as_ref()
                .and_then(|(a, c, blk)| (*a == p.attrs && *c == class).then(|| blk.clone()));
            last.or_else(|| {
                let hit = cache.get(&(p.attrs, class, KEYED_TAG)).cloned();
                if let Some(blk) = &hit {
                    *t.last.borrow_mut() = Some((p.attrs, class, blk.clone()));
                }
                hit
            })
        }
        Kept::Memo(tr) => t.memo.borrow().get(&(p.attrs, class, tr)).cloned(),
        Kept::Nowhere => None,
    };
    if cached.is_some() {
        return cached;
    }
    let mut blk = reflect::rewrite(block, None, &class, me);
    blk.mp_next_hop = mp_nh.map(alloc::boxed::Box::from);
    if matches!(class, ExportClass::External { .. }) {
        // NEXT_HOP is an IPv4 unicast attribute: the MP next hop stands.
        blk.attrs = strip_next_hop(&blk.attrs).into_boxed_slice();
    }
    let blk = Arc::new(blk);
    match kept {
        Kept::Shared => {
            cache.insert((p.attrs, class, KEYED_TAG), blk.clone());
            *t.last.borrow_mut() = Some((p.attrs, class, blk.clone()));
        }
        Kept::Memo(tr) => {
            t.memo
                .borrow_mut()
                .insert((p.attrs, class, tr), blk.clone());
        }
        Kept::Nowhere => {}
    }
    Some(blk)
}

/// A class of peers that get the same bytes for the same keyed routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ShareKey {
    role: Role,
    four_octet: bool,
    max_len: usize,
    v6_next_hop: bool,
    local: (
        Option<core::net::Ipv4Addr>,
        Option<core::net::Ipv6Addr>,
        Option<u32>,
    ),
    /// The export policy's installation (0: none).
    policy: u32,
}

impl Engine {
    /// What `peer` is sent of keyed family `f` now: for each route whose best
    /// path the export rules let reach it (RFC 4456, RT-Constraint, RFC 8212,
    /// RFC 8950), that path's NLRI and attributes as rewritten for it. Best
    /// paths only, also for a peer with ADD-PATH; empty while it is down or
    /// without the family.
    pub fn keyed_adj_rib_out(&self, peer: PeerId, f: AfiSafi) -> Vec<(Vec<u8>, Arc<OutBlock>)> {
        let Some(rib) = keyed_index(f).and_then(|i| self.rib.keyed.0.get(i)) else {
            return Vec::new();
        };
        if self.peers.get(peer.index()).is_none_or(|p| p.up.is_none()) {
            return Vec::new();
        }
        let membership = self.target_membership(peer, f).map(Arc::new);
        let Some(t) = self.target_of(peer, f, membership) else {
            return Vec::new();
        };
        let mut cache = reflect::OutCache::default();
        rib.entries
            .iter()
            .filter_map(|e| {
                let kp = e.paths.first()?;
                if !decide::reachable(
                    self.attrs.get(kp.path.attrs),
                    kp.path.peer,
                    self.resolver.as_ref(),
                ) {
                    return None;
                }
                let blk = out_block(
                    &t,
                    &kp,
                    &|| rib.nlri(&e.key, &kp),
                    &self.peers,
                    &self.attrs,
                    &mut cache,
                    &self.me,
                    self.cfg.client_to_client,
                    f,
                )?;
                Some((rib.nlri(&e.key, &kp).to_vec(), blk))
            })
            .collect()
    }

    /// `peer`'s RT memberships when they filter family `f` (computed afresh).
    fn target_membership(&self, peer: PeerId, f: AfiSafi) -> Option<Membership> {
        let tp = self.peers.get(peer.index())?;
        (rt_filtered(f) && tp.has_family(AfiSafi::RT_CONSTRAINT)).then(|| self.membership_of(peer))
    }

    pub(super) fn ktarget(&mut self, peer: PeerId, f: AfiSafi) -> Option<KTarget> {
        let tp = self.peers.get(peer.index())?;
        if tp.removed || !tp.has_family(f) {
            return None;
        }
        let membership = if rt_filtered(f) && tp.has_family(AfiSafi::RT_CONSTRAINT) {
            Some(match self.memberships.get(&peer) {
                Some(m) => m.clone(),
                None => {
                    let m = Arc::new(self.membership_of(peer));
                    self.memberships.insert(peer, m.clone());
                    m
                }
            })
        } else {
            None
        };
        self.target_of(peer, f, membership)
    }

    /// The export view of `peer` for family `f`, with its RT memberships.
    fn target_of(
        &self,
        peer: PeerId,
        f: AfiSafi,
        membership: Option<Arc<Membership>>,
    ) -> Option<KTarget> {
        let tp = self.peers.get(peer.index())?;
        if tp.removed || !tp.has_family(f) {
            return None;
        }
        let tp = self.peers.get(peer.index())?;
        Some(KTarget {
            id: peer,
            role: tp.cfg.role,
            rid: tp.router_id,
            four_octet: tp.tx_ctx.four_octet_as,
            add_path: tp.add_path_tx(f),
            requires_policy: self.cfg.ebgp_requires_policy
                && tp.cfg.role == Role::Ebgp
                && tp.export.is_none(),
            v6_next_hop: tp.up.is_some_and(|n| n.extended_next_hop.contains(f)),
            membership,
            local_v4: tp.cfg.local_v4,
            local_v6: tp.cfg.local_v6,
            local_as: tp.cfg.local_as,
            export: tp.export.clone(),
            session: crate::engine::policy::session_of(self.cfg.local_as, &tp.cfg),
            rejected: Cell::new(0),
            memo: RefCell::default(),
            last: RefCell::default(),
        })
    }

    /// Bring what `peer` was told of the routes at `slots` of keyed family
    /// `fi` (each with whether its best path changed at this flush; all
    /// routes when `None`) in line with the table, writing the difference
    /// into its queue.
    ///
    /// A peer without ADD-PATH has one bit per route: set while it holds the
    /// route, which is then the best path of the last flush. One with
    /// ADD-PATH has an explicit record of the path identifiers it holds.
    ///
    /// `followers` are peers of the same class as `peer` (same rewrite, none
    /// of them the source or originator of a route at `slots`) that hold
    /// exactly what it holds: they get the same bytes, encoded once.
    pub(super) fn keyed_export_to(
        &mut self,
        fi: usize,
        peer: PeerId,
        slots: Option<&[(u32, bool)]>,
        followers: &[PeerId],
    ) {
        let Some(f) = KEYED.get(fi).copied() else {
            return;
        };
        let Some(t) = self.ktarget(peer, f) else {
            return;
        };
        let Some(rib) = self.rib.keyed.0.get(fi) else {
            return;
        };
        let Some(p) = self.peers.get_mut(peer.index()) else {
            return;
        };
        let mut tx_adj = core::mem::take(&mut self.keyed_adj_scratch);
        core::mem::swap(&mut tx_adj, &mut p.tx.adj_keyed);
        if p.tx.keyed_sent.len() <= fi {
            p.tx.keyed_sent.resize_with(KEYED_COUNT, Vec::new);
        }
        let mut bits =
            p.tx.keyed_sent
                .get_mut(fi)
                .map(core::mem::take)
                .unwrap_or_default();
        if bits.len() < rib.entries.len().div_ceil(64) {
            bits.resize(rib.entries.len().div_ceil(64), 0);
        }
        let mut batch = Batch::default();
        let hasher = &self.rib.keyed.1;
        let all: Vec<(u32, bool)>;
        let slots = match slots {
            Some(s) => s,
            None => {
                all = rib
                    .entries
                    .iter()
                    .enumerate()
                    .map(|(i, e)| (i as u32, e.dirty()))
                    .collect();
                &all
            }
        };
        for &(slot, changed) in slots {
            let Some(e) = rib.entries.get(slot as usize) else {
                continue;
            };
            let best = e.paths.first().filter(|kp| {
                decide::reachable(
                    self.attrs.get(kp.path.attrs),
                    kp.path.peer,
                    self.resolver.as_ref(),
                )
            });
            let mut block = |kp: &KPath| {
                out_block(
                    &t,
                    kp,
                    &|| rib.nlri(&e.key, kp),
                    &self.peers,
                    &self.attrs,
                    &mut self.out_cache,
                    &self.me,
                    self.cfg.client_to_client,
                    f,
                )
            };
            if !t.add_path {
                let (w, b) = (slot as usize / 64, 1u64 << (slot % 64));
                let had = bits.get(w).is_some_and(|x| x & b != 0);
                match best.and_then(|kp| block(&kp).map(|blk| (kp, blk))) {
                    Some((kp, blk)) => {
                        if !had || changed {
                            batch.announce(blk, rib.nlri(&e.key, &kp));
                        }
                        if let Some(x) = bits.get_mut(w) {
                            *x |= b;
                        }
                    }
                    None if had => {
                        batch.withdrawals.push(withdraw_nlri(f, e.key.as_slice()));
                        if let Some(x) = bits.get_mut(w) {
                            *x &= !b;
                        }
                    }
                    None => {}
                }
                continue;
            }
            let tag = (fi as u32) << 27 | slot;
            // ADD-PATH: every path the peer may have, each under our identifier.
            let mut want: SmallVec<[(u32, Arc<OutBlock>, Nb); 2]> = SmallVec::new();
            if best.is_some() {
                for kp in e.paths.iter() {
                    if let Some(blk) = block(&kp) {
                        want.push((kp.path.local_id, blk, rib.nlri(&e.key, &kp)));
                    }
                }
            }
            let had: SmallVec<[u32; 2]> = match tx_adj.get(&tag) {
                Some(v) => v.iter().map(|(pid, _)| *pid).collect(),
                None => SmallVec::new(),
            };
            for pid in had {
                if !want.iter().any(|(w, _, _)| *w == pid) {
                    batch.withdrawals.push(with_path_id(
                        true,
                        pid,
                        &withdraw_nlri(f, e.key.as_slice()),
                    ));
                    if let Some(v) = tx_adj.get_mut(&tag) {
                        v.retain(|(p, _)| *p != pid);
                    }
                }
            }
            for (pid, blk, nlri) in want {
                let fp = fingerprint(hasher, &blk, &nlri);
                let v = tx_adj.entry(tag).or_default();
                match v.iter_mut().find(|(p, _)| *p == pid) {
                    Some((_, old)) if *old == fp => continue,
                    Some((_, old)) => *old = fp,
                    None => v.push((pid, fp)),
                }
                batch.announce(blk, with_path_id(true, pid, &nlri));
            }
            if tx_adj.get(&tag).is_some_and(|v| v.is_empty()) {
                tx_adj.remove(&tag);
            }
        }
        let rejected = t.take_rejected();
        let Some(p) = self.peers.get_mut(peer.index()) else {
            return;
        };
        p.counters.policy_rejected_out += rejected;
        core::mem::swap(&mut tx_adj, &mut p.tx.adj_keyed);
        self.keyed_adj_scratch = tx_adj;
        let max = p.tx_ctx.max_message_len();
        if followers.is_empty() {
            if let Some(v) = p.tx.keyed_sent.get_mut(fi) {
                *v = bits;
            }
            let (msgs, ann, wd, over) = pack(&mut p.tx.out, max, f, &batch);
            p.counters.updates_sent += msgs;
            p.counters.prefixes_sent += ann;
            p.counters.withdrawals_sent += wd;
            p.counters.encode_overflows += over;
            return;
        }
        let mut out = Vec::new();
        let (msgs, ann, wd, over) = pack(&mut out, max, f, &batch);
        let bytes = bytes::Bytes::from(out);
        for &m in core::iter::once(&peer).chain(followers) {
            let Some(p) = self.peers.get_mut(m.index()) else {
                continue;
            };
            if p.tx.keyed_sent.len() <= fi {
                p.tx.keyed_sent.resize_with(KEYED_COUNT, Vec::new);
            }
            if let Some(v) = p.tx.keyed_sent.get_mut(fi) {
                v.clone_from(&bits);
            }
            p.tx.push_shared(&bytes);
            p.counters.updates_sent += msgs;
            p.counters.prefixes_sent += ann;
            p.counters.withdrawals_sent += wd;
            p.counters.encode_overflows += over;
        }
    }

    /// What makes two peers get the same bytes for the same routes of
    /// family `f` (`None`: the peer is exported to alone — ADD-PATH, RT
    /// membership filtering).
    pub(super) fn share_key(&self, peer: PeerId, f: AfiSafi) -> Option<ShareKey> {
        let tp = self.peers.get(peer.index())?;
        if tp.add_path_tx(f)
            || (rt_filtered(f) && tp.has_family(AfiSafi::RT_CONSTRAINT))
            || tp.export.as_ref().is_some_and(|i| i.hook.is_some())
        {
            return None;
        }
        let ebgp = tp.cfg.role == Role::Ebgp;
        Some(ShareKey {
            role: tp.cfg.role,
            four_octet: tp.tx_ctx.four_octet_as,
            max_len: tp.tx_ctx.max_message_len(),
            v6_next_hop: tp.up.is_some_and(|n| n.extended_next_hop.contains(f)),
            local: if ebgp || tp.export.is_some() {
                (tp.cfg.local_v4, tp.cfg.local_v6, tp.cfg.local_as)
            } else {
                (None, None, None)
            },
            policy: tp.export.as_ref().map_or(0, |i| i.id),
        })
    }

    /// Export the routes at `slots` of keyed family `fi` to `targets`:
    /// peers of one class that hold the same routes, and are neither the
    /// source nor the originator of any of them, share one encoding.
    pub(super) fn keyed_export_all(
        &mut self,
        fi: usize,
        targets: &[PeerId],
        slots: &[(u32, bool)],
    ) {
        let Some(f) = KEYED.get(fi).copied() else {
            return;
        };
        // Sources and originators of the routes in this batch export alone.
        let mut near: HashSet<PeerId> = HashSet::new();
        let mut near_rids: HashSet<u32> = HashSet::new();
        if let Some(rib) = self.rib.keyed.0.get(fi) {
            // Routes come in runs of one peer and set: each run is looked at once.
            let mut last = None;
            for &(slot, _) in slots {
                if let Some(kp) = rib.entries.get(slot as usize).and_then(|e| e.paths.first()) {
                    if last.replace((kp.path.peer, kp.path.attrs))
                        == Some((kp.path.peer, kp.path.attrs))
                    {
                        continue;
                    }
                    near.insert(kp.path.peer);
                    if let Some(o) = self
                        .attrs
                        .get(kp.path.attrs)
                        .and_then(|s| s.originator_id())
                    {
                        near_rids.insert(o);
                    }
                    if let Some(src) = self.peers.get(kp.path.peer.index()) {
                        near_rids.insert(src.router_id);
                    }
                }
            }
        }
        fn bits_of(e: &Engine, p: PeerId, fi: usize) -> &[u64] {
            e.peers
                .get(p.index())
                .and_then(|p| p.tx.keyed_sent.get(fi))
                .map_or(&[][..], Vec::as_slice)
        }
        let same_bits = |a: &[u64], b: &[u64]| {
            let n = a.len().max(b.len());
            (0..n).all(|i| a.get(i).copied().unwrap_or(0) == b.get(i).copied().unwrap_or(0))
        };
        let mut groups: Vec<(ShareKey, Vec<PeerId>)> = Vec::new();
        let mut alone: Vec<PeerId> = Vec::new();
        for &peer in targets {
            let rid = self.peers.get(peer.index()).map_or(0, |p| p.router_id);
            let key = self
                .share_key(peer, f)
                .filter(|_| !near.contains(&peer) && !near_rids.contains(&rid));
            let Some(key) = key else {
                alone.push(peer);
                continue;
            };
            let found = groups.iter_mut().find(|(k, members)| {
                *k == key
                    && members
                        .first()
                        .is_some_and(|&m| same_bits(bits_of(self, m, fi), bits_of(self, peer, fi)))
            });
            match found {
                Some((_, members)) => members.push(peer),
                None => groups.push((key, alloc::vec![peer])),
            }
        }
        for peer in alone {
            self.keyed_export_to(fi, peer, Some(slots), &[]);
        }
        for (_, members) in groups {
            if let Some((&first, rest)) = members.split_first() {
                self.keyed_export_to(fi, first, Some(slots), rest);
            }
        }
    }
}

//! Export: ranking changed prefixes and writing each peer's UPDATEs (RFC 4456 rules).

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::net::{Ipv4Addr, Ipv6Addr};

use bytes::Bytes;
use hashbrown::HashMap;
use smallvec::SmallVec;

use super::decide::{best_of, rank_entry, reachable};
use super::family::{RouteKey, FAMILIES};
use super::peer::PeerState;
use super::policy::{session_of, Installed};
use super::rib::{Adv, Dirty};
use super::tx::{AdjOut, AdjPaths};
use super::{AddPathSend, Engine, EngineConfig, Event, PeerConfig, PeerCounters, Resolver};
use crate::policy::{Decision, Direction, Route, Session};
use crate::reflect::{self, ExportClass, LocalIdentity, OutBlock, OutCache, Packer, Role, Source};
use crate::rib::{AttrId, Entry, Interner, PeerId};
use crate::wire::capability::BgpRole;
use crate::wire::{AfiSafi, Nlri, Prefix};

/// Which prefixes an export pass for one peer visits.
#[derive(Clone, Copy)]
enum Scope<'a, K> {
    /// The changed entries of a flush, with what was advertised before.
    Changed(&'a [Dirty]),
    /// The whole table, as a fresh dump.
    All,
    /// These prefixes, whatever the peer was told of them.
    Keys(&'a [K]),
    /// These prefixes, of which the peer was told nothing (a fresh session).
    Fresh(&'a [K]),
    /// The whole table, told before under this other export policy.
    Reload(&'a Option<Arc<Installed>>),
}

/// (set, source, policy installation, prefix signature): one export-policy answer.
type MemoKey = (AttrId, PeerId, u32, u64);

/// Slots of an export pass's memo of export-policy answers.
const MEMO_SLOTS: usize = 1024;

/// The memo slot of a key.
fn memo_slot((a, src, id, sig): MemoKey) -> usize {
    let h =
        (u64::from(a.0) ^ u64::from(src.0).rotate_left(21) ^ u64::from(id).rotate_left(42) ^ sig)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (h >> 54) as usize % MEMO_SLOTS
}

/// (set, source, prefix signature): prefixes with the same key get the same export answer.
type ShareKey = (AttrId, PeerId, u64);

/// The prefixes of one attribute block in a batch (most blocks carry a few).
type Group = SmallVec<[Nlri; 4]>;

/// The peers of a class that must not get a path: its source, and (toward
/// iBGP peers) those whose router ID is its originator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Exclude {
    src: PeerId,
    originator: Option<u32>,
}

/// A path's block for a class and who of the class must not get it
/// (`None`: the class does not get the path).
type SharedOut = Option<(Arc<OutBlock>, Exclude)>;

/// One segment of a shared pass: what goes to every member its key does not exclude.
#[derive(Debug)]
struct Segment {
    key: Exclude,
    withdrawals: Vec<Nlri>,
    groups: Vec<(Arc<OutBlock>, Group)>,
    group_of: HashMap<usize, usize>,
}

impl Segment {
    fn announce(&mut self, blk: Arc<OutBlock>, n: Nlri) {
        add_to_group(&mut self.groups, &mut self.group_of, blk, n);
    }
}

/// Add `n` to the group of prefixes sent with `blk` (blocks are told apart by address).
fn add_to_group(
    groups: &mut Vec<(Arc<OutBlock>, Group)>,
    group_of: &mut HashMap<usize, usize>,
    blk: Arc<OutBlock>,
    n: Nlri,
) {
    let key = Arc::as_ptr(&blk) as usize;
    match group_of.get(&key) {
        Some(&i) => {
            if let Some(g) = groups.get_mut(i) {
                g.1.push(n);
            }
        }
        None => {
            group_of.insert(key, groups.len());
            groups.push((blk, smallvec::smallvec![n]));
        }
    }
}

/// The segments of a shared pass, in the order they were opened.
#[derive(Debug, Default)]
struct Segments {
    list: Vec<Segment>,
    index: HashMap<Exclude, usize>,
    /// The last segment asked for (consecutive prefixes usually share it).
    last: Option<(Exclude, usize)>,
}

impl Segments {
    fn get(&mut self, key: Exclude) -> Option<&mut Segment> {
        let i = match self.last {
            Some((k, i)) if k == key => i,
            _ => {
                let n = self.list.len();
                let i = *self.index.entry(key).or_insert(n);
                if i == n {
                    self.list.push(Segment {
                        key,
                        withdrawals: Vec::new(),
                        groups: Vec::new(),
                        group_of: HashMap::new(),
                    });
                }
                self.last = Some((key, i));
                i
            }
        };
        self.list.get_mut(i)
    }
}

/// Take out what a skipped segment would have sent.
fn sub_sent(from: &mut PeerCounters, c: &PeerCounters) {
    from.updates_sent -= c.updates_sent.min(from.updates_sent);
    from.withdrawals_sent -= c.withdrawals_sent.min(from.withdrawals_sent);
    from.prefixes_sent -= c.prefixes_sent.min(from.prefixes_sent);
    from.encode_overflows -= c.encode_overflows.min(from.encode_overflows);
}

/// Add what one write sent to a peer's counters.
fn add_sent(to: &mut PeerCounters, c: &PeerCounters) {
    to.updates_sent += c.updates_sent;
    to.withdrawals_sent += c.withdrawals_sent;
    to.prefixes_sent += c.prefixes_sent;
    to.encode_overflows += c.encode_overflows;
    to.policy_rejected_out += c.policy_rejected_out;
}

impl Engine {
    /// Rank every changed prefix and write every up peer's UPDATEs.
    pub fn flush(&mut self) {
        for f in FAMILIES {
            (f.flush)(self);
        }
        self.out_cache.clear();
    }

    /// Rank the changed prefixes of the family with key type `K` and write
    /// every up peer's UPDATEs for them.
    pub(super) fn flush_family<K: RouteKey>(&mut self) {
        let (_, dirty) = K::table_mut(&mut self.rib);
        if dirty.is_empty() {
            return;
        }
        let slots = core::mem::take(dirty);
        // Positions stay valid until the removals at the end of this flush.
        {
            let (table, _) = K::table_mut(&mut self.rib);
            for &(i, _) in &slots {
                if let Some(e) = table.at_mut(i as usize) {
                    rank_entry(
                        e,
                        &self.attrs,
                        &self.peers,
                        &self.cfg,
                        self.resolver.as_ref(),
                    );
                }
            }
        }
        // Peers that would get the same bytes (same role, AS width, local
        // addresses and AS, message size, BGP Role and IPv6 next hops for IPv4
        // (RFC 9234, 8950), no ADD-PATH) share one export pass.
        type ClassKey = (
            Role,
            bool,
            (Option<Ipv4Addr>, bool, Option<u32>),
            Option<Ipv6Addr>,
            usize,
            (bool, bool),
            bool,
            u32,
            u16,
        );
        let mut classes: Vec<(ClassKey, Vec<PeerId>)> = Vec::new();
        let mut singles: Vec<PeerId> = Vec::new();
        let mut paused = false;
        for (t, tp) in self.peers.iter().enumerate() {
            if !tp.has_family(K::FAMILY) {
                continue;
            }
            if tp.paused.is_some() {
                paused = true;
                continue;
            }
            let tid = PeerId(t as u32);
            let key = (
                tp.cfg.role,
                tp.tx_ctx.four_octet_as,
                (tp.cfg.local_v4, tp.cfg.next_hop_unchanged, tp.cfg.local_as),
                tp.cfg.local_v6,
                tp.tx_ctx.max_message_len(),
                (
                    reflect::adds_otc(tp.bgp_role()),
                    reflect::withholds_otc(tp.bgp_role()),
                ),
                tp.v6_next_hop_for_v4(),
                match (
                    &tp.export,
                    tp.cfg.role == Role::Ebgp && self.cfg.ebgp_requires_policy,
                ) {
                    (Some(i), _) => i.id,
                    (None, true) => u32::MAX,
                    (None, false) => 0,
                },
                // ADD-PATH: the number of paths sent (0: best path only).
                match (tp.add_path_tx(K::FAMILY), tp.cfg.add_path_send) {
                    (false, _) => 0,
                    (true, AddPathSend::Best(n)) => u16::from(n.max(1)),
                    (true, _) => u16::MAX,
                },
            );
            match classes.iter_mut().find(|(k, _)| *k == key) {
                Some((_, members)) => members.push(tid),
                None => classes.push((key, alloc::vec![tid])),
            }
        }
        for (key, members) in classes {
            if members.len() > 1 && key.8 != 0 {
                self.export_shared_add_path::<K>(&members, usize::from(key.8), &slots);
            } else if members.len() > 1 {
                self.export_shared::<K>(&members, &slots);
            } else {
                singles.extend(members);
            }
        }
        for tid in singles {
            self.export_to::<K>(tid, Some(&slots));
        }
        if paused {
            super::pause::record::<K>(self, &slots);
        }
        let record = self.cfg.record_events;
        let mut emptied: Vec<K> = Vec::new();
        for (i, old) in &slots {
            if let Some((a, _)) = old {
                self.attrs.release(*a);
            }
            let (table, _) = K::table_mut(&mut self.rib);
            let Some(e) = table.at_mut(*i as usize) else {
                continue;
            };
            let k = e.key;
            // The best, if any, is the first path: what `advertised` reads back.
            let new = best_of(e, &self.attrs, self.resolver.as_ref()).map(|p| (p.attrs, p.peer));
            e.set_advertised(new.is_some());
            if let Some(prefix) = k.prefix().filter(|_| record && new != *old) {
                let ev = Event::BestChanged {
                    prefix,
                    best: new.map(|(_, p)| p),
                };
                if self.events.len() >= self.cfg.max_events {
                    self.events.pop_front();
                    self.events_dropped += 1;
                }
                self.events.push_back(ev);
            }
            e.set_dirty(false);
            if e.paths.is_empty() {
                emptied.push(k);
            }
        }
        let (table, _) = K::table_mut(&mut self.rib);
        for k in &emptied {
            table.remove(k);
        }
    }

    /// Write the whole table of family K to `peer`, then End-of-RIB if `end_of_rib`.
    pub(super) fn dump<K: RouteKey>(&mut self, peer: PeerId, end_of_rib: bool) {
        let Some(p) = self.peers.get_mut(peer.index()) else {
            return;
        };
        if !p.has_family(K::FAMILY) {
            return;
        }
        K::adj(&mut p.tx).clear();
        self.export_to::<K>(peer, None);
        self.out_cache.clear();
        let Some(p) = self.peers.get_mut(peer.index()).filter(|_| end_of_rib) else {
            return;
        };
        let max = p.tx_ctx.max_message_len();
        let mut pk = Packer::new(&mut p.tx.out, max, false);
        pk.end_of_rib(K::FAMILY);
        p.counters.updates_sent += 1;
    }

    /// Export the entries at `slots` once for a class of peers and hand the
    /// bytes to each of them.
    ///
    /// A peer must never be sent its own routes (those it sent us, or whose
    /// ORIGINATOR_ID is its router ID), yet every peer of a Calico-shaped
    /// cluster is also a source. So the shared output is laid out in
    /// segments, one per [`Exclude`] (the source and originator of the
    /// paths in it), and each member gets the whole buffer but the segments
    /// that exclude it: a slice or two of the same bytes, never a pass of its
    /// own. Only a member whose answer cannot be read from the segments (the
    /// best path moved between a path it may get and one it may not) gets
    /// its own pass.
    fn export_shared<K: RouteKey>(&mut self, members: &[PeerId], slots: &[Dirty]) {
        let Some(first) = members.first().and_then(|m| self.peers.get(m.index())) else {
            return;
        };
        let tx_ctx = first.tx_ctx;
        let target = Target::of::<K>(first, None, &self.cfg);
        let ibgp = target.role.is_ibgp();
        let table = K::table(&self.rib);
        let mut ex = Exporter::new(
            &self.peers,
            &self.attrs,
            &mut self.out_cache,
            &self.me,
            self.resolver.as_ref(),
            self.cfg.client_to_client,
            target,
        );
        let mut segs = Segments::default();
        // Pairs (new, old) of exclusions whose members need their own pass.
        let mut mixed: Vec<(Exclude, Exclude)> = Vec::new();
        // The last (set, source) looked up: its block and exclusion.
        let mut last: Option<(ShareKey, SharedOut)> = None;
        for &(i, old) in slots {
            let Some(e) = table.at(i as usize) else {
                continue;
            };
            let Some(prefix) = e.key.prefix() else {
                continue;
            };
            let new = best_of(e, ex.attrs, ex.resolver).map(|p| (p.attrs, p.peer));
            if new == old {
                continue;
            }
            let share = new.and_then(|k| ex.share_key(k, &prefix));
            let new_out = match (new, &last) {
                (None, _) => None,
                (Some(_), Some((lk, v))) if share == Some(*lk) => v.clone(),
                (Some(k), _) => {
                    let v = ex
                        .out_block(k.0, k.1, prefix)
                        .map(|b| (b, ex.exclude(k.0, k.1, ibgp)));
                    if let Some(s) = share {
                        last = Some((s, v.clone()));
                    }
                    v
                }
            };
            let old_out = old.and_then(|(a, src)| {
                ex.out_block(a, src, prefix)
                    .map(|b| (b, ex.exclude(a, src, ibgp)))
            });
            match (new_out, old_out) {
                (Some((nb, xn)), old_out) => {
                    if let Some((ob, xo)) = old_out {
                        if xn != xo && !mixed.contains(&(xn, xo)) {
                            mixed.push((xn, xo));
                        }
                        // Same bytes as before (e.g. only the source changed
                        // within a class): nothing for those who had them.
                        if ob == nb {
                            continue;
                        }
                    }
                    if let Some(seg) = segs.get(xn) {
                        seg.announce(nb, Nlri::new(prefix));
                    }
                }
                (None, Some((_, xo))) => {
                    if let Some(seg) = segs.get(xo) {
                        seg.withdrawals.push(Nlri::new(prefix));
                    }
                }
                (None, None) => {}
            }
        }
        let rejected_out = ex.rejected_out;
        drop(ex);
        // Pack each segment after the last: its bytes are a range of one buffer.
        let mut shared: Vec<u8> = Vec::new();
        let mut packed: Vec<(Exclude, core::ops::Range<usize>, PeerCounters, Vec<Prefix>)> =
            Vec::with_capacity(segs.list.len());
        for seg in &segs.list {
            let begin = shared.len();
            let mut sent = PeerCounters::default();
            let overflowed = pack(
                K::FAMILY,
                &seg.groups,
                &seg.withdrawals,
                &mut Packer::new(&mut shared, tx_ctx.max_message_len(), false),
                &mut sent,
            );
            packed.push((seg.key, begin..shared.len(), sent, overflowed));
        }
        let shared = Bytes::from(shared);
        // Which members each exclusion names: by source, and by router ID.
        let rid_of = |m: PeerId| self.peers.get(m.index()).map(|p| p.router_id);
        let mut by_rid: HashMap<u32, SmallVec<[PeerId; 1]>> = HashMap::new();
        if packed.iter().any(|(x, ..)| x.originator.is_some())
            || mixed
                .iter()
                .any(|(a, b)| a.originator.is_some() || b.originator.is_some())
        {
            for &m in members {
                if let Some(r) = rid_of(m) {
                    by_rid.entry(r).or_default().push(m);
                }
            }
        }
        let mut member = alloc::vec![false; self.peers.len()];
        for m in members {
            if let Some(f) = member.get_mut(m.index()) {
                *f = true;
            }
        }
        let named = |x: &Exclude| -> SmallVec<[PeerId; 2]> {
            let mut v: SmallVec<[PeerId; 2]> = SmallVec::new();
            if member.get(x.src.index()).copied().unwrap_or(false) {
                v.push(x.src);
            }
            if let Some(list) = x.originator.and_then(|r| by_rid.get(&r)) {
                v.extend(list.iter().copied().filter(|m| *m != x.src));
            }
            v
        };
        let mut own: Vec<PeerId> = Vec::new();
        for (xn, xo) in &mixed {
            let (a, b) = (named(xn), named(xo));
            for m in a.iter().filter(|m| !b.contains(m)) {
                own.push(*m);
            }
            for m in b.iter().filter(|m| !a.contains(m)) {
                own.push(*m);
            }
        }
        let mut skip: HashMap<PeerId, SmallVec<[usize; 2]>> = HashMap::new();
        for (s, (x, ..)) in packed.iter().enumerate() {
            for m in named(x) {
                skip.entry(m).or_default().push(s);
            }
        }
        let any_overflow = packed.iter().any(|(.., o)| !o.is_empty());
        let mut total = PeerCounters::default();
        for (_, _, c, _) in &packed {
            add_sent(&mut total, c);
        }
        total.policy_rejected_out = rejected_out;
        for &m in members {
            if own.contains(&m) {
                self.export_to::<K>(m, Some(slots));
                continue;
            }
            let skipped = skip.get(&m);
            let Some(tp) = self.peers.get_mut(m.index()) else {
                continue;
            };
            match skipped {
                None => {
                    tp.tx.push_shared(&shared);
                    add_sent(&mut tp.counters, &total);
                }
                Some(segments) => {
                    // Segment indices were pushed in increasing order.
                    let mut at = 0;
                    let mut sent = total;
                    for (_, range, c, _) in segments.iter().filter_map(|&s| packed.get(s)) {
                        if range.start >= at {
                            tp.tx.push_shared(&shared.slice(at..range.start));
                            at = range.end;
                            sub_sent(&mut sent, c);
                        }
                    }
                    tp.tx.push_shared(&shared.slice(at..));
                    add_sent(&mut tp.counters, &sent);
                }
            }
            if !any_overflow {
                continue;
            }
            for (s, (_, _, _, overflowed)) in packed.iter().enumerate() {
                if skipped.is_some_and(|v| v.contains(&s)) {
                    continue;
                }
                for &prefix in overflowed {
                    self.push_event(Event::EncodeOverflow { peer: m, prefix });
                }
            }
        }
    }

    /// One export pass for a class of ADD-PATH peers: the paths each prefix
    /// may carry to the class are rewritten once; then each member gets those
    /// not excluded for it (its own, and toward iBGP its originator's), up to
    /// `limit`, diffed against its Adj-RIB-Out. A member with nothing
    /// advertised gets no pass at all when the class gets nothing.
    fn export_shared_add_path<K: RouteKey>(
        &mut self,
        members: &[PeerId],
        limit: usize,
        slots: &[Dirty],
    ) {
        type ClassPaths = SmallVec<[(u32, Arc<OutBlock>, Exclude); 2]>;
        let Some(first) = members.first().and_then(|m| self.peers.get(m.index())) else {
            return;
        };
        let tx_ctx = first.tx_ctx;
        let target = Target::of::<K>(first, None, &self.cfg);
        let ibgp = target.role.is_ibgp();
        let table = K::table(&self.rib);
        let mut ex = Exporter::new(
            &self.peers,
            &self.attrs,
            &mut self.out_cache,
            &self.me,
            self.resolver.as_ref(),
            self.cfg.client_to_client,
            target,
        );
        let mut view: Vec<(K, Prefix, ClassPaths)> = Vec::with_capacity(slots.len());
        let mut mark: Vec<u32> = Vec::new();
        let mut any = false;
        for &(i, _) in slots {
            let Some(e) = table.at(i as usize) else {
                continue;
            };
            let Some(prefix) = e.key.prefix() else {
                continue;
            };
            let mut paths = ClassPaths::new();
            for p in e.paths.iter() {
                if !reachable(ex.attrs.get(p.attrs), p.peer, ex.resolver) {
                    break;
                }
                if let Some(blk) = ex.out_block(p.attrs, p.peer, prefix) {
                    paths.push((p.local_id, blk, ex.exclude(p.attrs, p.peer, ibgp)));
                }
            }
            if paths.is_empty() && !e.paths_sent() {
                // The class does not get the prefix and no ADD-PATH peer ever did.
                continue;
            }
            if !paths.is_empty() && !e.paths_sent() {
                mark.push(i);
            }
            any |= !paths.is_empty();
            view.push((e.key, prefix, paths));
        }
        let rejected_out = ex.rejected_out;
        drop(ex);
        let (table, _) = K::table_mut(&mut self.rib);
        for i in mark {
            if let Some(e) = table.at_mut(i as usize) {
                e.set_paths_sent();
            }
        }
        let mut overflow_events: Vec<(PeerId, Prefix)> = Vec::new();
        for &m in members {
            let Some(tp) = self.peers.get_mut(m.index()) else {
                continue;
            };
            if tp.up.is_none() {
                continue;
            }
            tp.counters.policy_rejected_out += rejected_out;
            if view.is_empty() || (!any && K::adj(&mut tp.tx).is_empty()) {
                continue;
            }
            let rid = tp.router_id;
            let mut tx = core::mem::take(&mut tp.tx);
            let mut counters = tp.counters;
            let adj = K::adj(&mut tx);
            let mut groups: Vec<(Arc<OutBlock>, Group)> = Vec::new();
            let mut group_of: HashMap<usize, usize> = HashMap::new();
            let mut withdrawals: Vec<Nlri> = Vec::new();
            for (key, prefix, paths) in &view {
                let new: AdjPaths = paths
                    .iter()
                    .filter(|(_, _, x)| x.src != m && x.originator.is_none_or(|o| o != rid))
                    .take(limit)
                    .map(|(id, blk, _)| (*id, blk.clone()))
                    .collect();
                diff_add_path(adj, *key, *prefix, new, &mut withdrawals, |blk, n| {
                    add_to_group(&mut groups, &mut group_of, blk, n)
                });
            }
            let overflowed = pack(
                K::FAMILY,
                &groups,
                &withdrawals,
                &mut Packer::new(&mut tx.out, tx_ctx.max_message_len(), true),
                &mut counters,
            );
            if let Some(tp) = self.peers.get_mut(m.index()) {
                tp.tx = tx;
                tp.counters = counters;
            }
            overflow_events.extend(overflowed.into_iter().map(|p| (m, p)));
        }
        for (peer, prefix) in overflow_events {
            self.push_event(Event::EncodeOverflow { peer, prefix });
        }
    }

    /// What `target` is sent for each prefix of family K whose best path it
    /// may have now: the rewritten block the export rules and its export
    /// policy give the best path (ascending prefix order; best paths only,
    /// also for peers that negotiated ADD-PATH sending).
    pub(super) fn export_view<K: RouteKey>(
        &self,
        target: PeerId,
        mut out: impl FnMut(Prefix, Arc<OutBlock>),
    ) {
        let Some(tp) = self.peers.get(target.index()) else {
            return;
        };
        if tp.up.is_none() {
            return;
        }
        let t = Target::of::<K>(tp, Some(target), &self.cfg);
        let mut cache = OutCache::new();
        let mut ex = Exporter::new(
            &self.peers,
            &self.attrs,
            &mut cache,
            &self.me,
            self.resolver.as_ref(),
            self.cfg.client_to_client,
            t,
        );
        for e in K::table(&self.rib).iter() {
            let Some(prefix) = e.key.prefix() else {
                continue;
            };
            let Some(best) = best_of(e, &self.attrs, self.resolver.as_ref()) else {
                continue;
            };
            if let Some(blk) = ex.out_block(best.attrs, best.peer, prefix) {
                out(prefix, blk);
            }
        }
    }

    /// Export the entries at `slots` (or, with `None`, the whole table as a fresh dump) to `target`.
    fn export_to<K: RouteKey>(&mut self, target: PeerId, slots: Option<&[Dirty]>) {
        let scope = match slots {
            Some(s) => Scope::Changed(s),
            None => Scope::All,
        };
        self.export_scope::<K>(target, scope);
    }

    /// Send `target` the current state of the prefixes `keys` (sorted): the
    /// best path where it may have it, a withdrawal where it may not.
    pub(super) fn export_keys<K: RouteKey>(&mut self, target: PeerId, keys: &[K]) {
        self.export_scope::<K>(target, Scope::Keys(keys));
    }

    /// Send `target`, told nothing of them yet, the prefixes `keys` it may have.
    pub(super) fn export_fresh<K: RouteKey>(&mut self, target: PeerId, keys: &[K]) {
        self.export_scope::<K>(target, Scope::Fresh(keys));
    }

    /// Send `target` what changes in family K now that its export policy is
    /// no longer `old`: announcements where the new policy sends other bytes
    /// (or sends where the old did not), withdrawals where it now sends nothing.
    pub(super) fn export_reload<K: RouteKey>(
        &mut self,
        target: PeerId,
        old: Option<Arc<Installed>>,
    ) {
        self.export_scope::<K>(target, Scope::Reload(&old));
    }

    fn export_scope<K: RouteKey>(&mut self, target: PeerId, scope: Scope<'_, K>) {
        let Some(tp) = self.peers.get_mut(target.index()) else {
            return;
        };
        if tp.up.is_none() {
            return;
        }
        let mut tx = core::mem::take(&mut tp.tx);
        let mut counters = tp.counters;
        let t = Target::of::<K>(tp, Some(target), &self.cfg);
        let tx_ctx = tp.tx_ctx;
        let add_path = tp.add_path_tx(K::FAMILY);
        let limit = match t.cfg.add_path_send {
            AddPathSend::Best(n) => usize::from(n.max(1)),
            _ => usize::MAX,
        };
        let mut ex = Exporter::new(
            &self.peers,
            &self.attrs,
            &mut self.out_cache,
            &self.me,
            self.resolver.as_ref(),
            self.cfg.client_to_client,
            t,
        );
        let table = K::table(&self.rib);
        let adj = K::adj(&mut tx);
        // Entries whose paths go to an ADD-PATH peer for the first time.
        let mut mark: Vec<K> = Vec::new();
        let mut visit = |e: &Entry<K>, old: Adv| {
            let Some(prefix) = e.key.prefix() else { return };
            if add_path {
                if ex.export_add_path(e, prefix, adj, limit) && !e.paths_sent() {
                    mark.push(e.key);
                }
            } else {
                ex.export_best(e, prefix, old);
            }
        };
        match scope {
            Scope::Changed(slots) => {
                for &(i, old) in slots {
                    if let Some(e) = table.at(i as usize) {
                        visit(e, old);
                    }
                }
            }
            // A fresh dump: nothing was advertised before.
            Scope::All => {
                for e in table.iter() {
                    visit(e, None);
                }
            }
            Scope::Fresh(keys) => {
                for &k in keys {
                    if let Some(e) = table.index_of(&k).and_then(|i| table.at(i)) {
                        visit(e, None);
                    }
                }
            }
            Scope::Reload(old) => {
                for e in table.iter() {
                    let Some(prefix) = e.key.prefix() else {
                        continue;
                    };
                    if add_path {
                        if ex.export_add_path(e, prefix, adj, limit) && !e.paths_sent() {
                            mark.push(e.key);
                        }
                    } else {
                        ex.export_changed_policy(e, prefix, old);
                    }
                }
            }
            // What was advertised is not known: send what is there now.
            Scope::Keys(keys) => {
                for &k in keys {
                    let Some(prefix) = k.prefix() else { continue };
                    let e = table.index_of(&k).and_then(|i| table.at(i));
                    match (e, add_path) {
                        (Some(e), true) => {
                            if ex.export_add_path(e, prefix, adj, limit) && !e.paths_sent() {
                                mark.push(e.key);
                            }
                        }
                        (None, true) => {
                            for (id, _) in adj.remove(&k).unwrap_or_default() {
                                ex.withdrawals.push(Nlri {
                                    path_id: Some(id),
                                    prefix,
                                });
                            }
                        }
                        (e, false) => ex.export_current(e, prefix),
                    }
                }
            }
        }
        let Exporter {
            groups,
            withdrawals,
            rejected_out,
            ..
        } = ex;
        if !mark.is_empty() {
            let (table, _) = K::table_mut(&mut self.rib);
            for k in &mark {
                if let Some(e) = table.index_of(k).and_then(|i| table.at_mut(i)) {
                    e.set_paths_sent();
                }
            }
        }
        counters.policy_rejected_out += rejected_out;
        let overflowed = pack(
            K::FAMILY,
            &groups,
            &withdrawals,
            &mut Packer::new(&mut tx.out, tx_ctx.max_message_len(), add_path),
            &mut counters,
        );
        if let Some(tp) = self.peers.get_mut(target.index()) {
            tp.tx = tx;
            tp.counters = counters;
        }
        for prefix in overflowed {
            self.push_event(Event::EncodeOverflow {
                peer: target,
                prefix,
            });
        }
    }
}

/// One export pass: what a peer (or a class of peers) gets for a batch of prefixes.
struct Exporter<'a> {
    peers: &'a [PeerState],
    attrs: &'a Interner<()>,
    cache: &'a mut OutCache,
    me: &'a LocalIdentity,
    resolver: Option<&'a Resolver>,
    c2c: bool,
    t: Target,
    groups: Vec<(Arc<OutBlock>, Group)>,
    group_of: HashMap<usize, usize>,
    withdrawals: Vec<Nlri>,
    /// The last (set, source, prefix signature) looked up and its group (`None`: not exported to this peer).
    last: Option<(ShareKey, Option<usize>)>,
    /// Prefixes the export policy (or RFC 8212) refused.
    rejected_out: u64,
    /// Recent export-policy answers per (set, source, policy, prefix
    /// signature) in this pass: [`MEMO_SLOTS`] slots, direct-mapped (empty
    /// until a policy is evaluated).
    memo: Vec<Option<(MemoKey, Option<Arc<OutBlock>>)>>,
}

/// What an export pass needs to know of the peer (or class of peers) it writes for.
#[derive(Debug, Clone)]
struct Target {
    /// The peer (`PeerId(u32::MAX)` in a shared pass: no one peer).
    id: PeerId,
    role: Role,
    /// The target's router ID (`None` in a shared pass: no target).
    rid: Option<u32>,
    cfg: PeerConfig,
    /// The target's BGP Role (RFC 9234), for OTC.
    bgp_role: Option<BgpRole>,
    /// The target may get routes with an IPv6 next hop in family K (RFC 8950).
    v6_next_hop: bool,
    four_octet: bool,
    /// The export policy.
    export: Option<Arc<Installed>>,
    /// RFC 8212: an eBGP target with no export policy gets nothing.
    requires_policy: bool,
    /// What the policy knows of the session (our AS and addresses).
    session: Session,
}

impl Target {
    /// `tp` as the target of an export pass in family K; `id` is `None` for a
    /// shared pass, where `tp` stands for its whole class.
    fn of<K: RouteKey>(tp: &PeerState, id: Option<PeerId>, ecfg: &EngineConfig) -> Self {
        Target {
            export: tp.export.clone(),
            requires_policy: ecfg.ebgp_requires_policy && tp.cfg.role == Role::Ebgp,
            session: session_of(ecfg.local_as, &tp.cfg),
            id: id.unwrap_or(PeerId(u32::MAX)),
            role: tp.cfg.role,
            rid: id.map(|_| tp.router_id),
            cfg: tp.cfg,
            bgp_role: tp.bgp_role(),
            v6_next_hop: K::FAMILY != AfiSafi::IPV4_UNICAST || tp.v6_next_hop_for_v4(),
            four_octet: tp.tx_ctx.four_octet_as,
        }
    }
}

impl<'a> Exporter<'a> {
    fn new(
        peers: &'a [PeerState],
        attrs: &'a Interner<()>,
        cache: &'a mut OutCache,
        me: &'a LocalIdentity,
        resolver: Option<&'a Resolver>,
        c2c: bool,
        t: Target,
    ) -> Self {
        Exporter {
            peers,
            attrs,
            cache,
            me,
            resolver,
            c2c,
            t,
            groups: Vec::new(),
            group_of: HashMap::new(),
            withdrawals: Vec::new(),
            last: None,
            rejected_out: 0,
            memo: Vec::new(),
        }
    }
}

impl Exporter<'_> {
    fn source(&self, peer: PeerId) -> Option<(Source, u32)> {
        if peer == PeerId::LOCAL {
            return Some((Source::Local, 0));
        }
        let p = self.peers.get(peer.index())?;
        Some((p.source(), p.router_id))
    }

    /// Who of the target's class must not get a path from `src` with set `attrs`
    /// (the originator as [`Exporter::out_block`] reads it: only for paths from iBGP).
    fn exclude(&self, attrs: AttrId, src: PeerId, ibgp: bool) -> Exclude {
        let originator = match self.source(src) {
            Some((Source::Peer(r), src_rid)) if ibgp && r.is_ibgp() => Some(
                self.attrs
                    .get(attrs)
                    .and_then(|s| s.originator_id())
                    .unwrap_or(src_rid),
            ),
            _ => None,
        };
        Exclude { src, originator }
    }

    /// The block `target` gets for a path from `src` with set `attrs`, if it may get it.
    ///
    /// Both export passes (per peer and shared by a class) ask here, so the
    /// rules hold for both: RFC 4456 §6, the originator check, and the
    /// well-known communities (RFC 1997: NO_ADVERTISE to no peer, NO_EXPORT
    /// and NO_EXPORT_SUBCONFED to no eBGP peer; a bit of the set).
    fn out_block(&mut self, attrs: AttrId, src: PeerId, prefix: Prefix) -> Option<Arc<OutBlock>> {
        if src == self.t.id {
            return None;
        }
        if self.t.requires_policy && self.t.export.is_none() {
            self.rejected_out += 1;
            return None;
        }
        let (source, src_rid) = self.source(src)?;
        if !reflect::may_export(source, self.t.role, self.c2c) {
            return None;
        }
        let set = self.attrs.get(attrs)?;
        if set.withheld_from(self.t.role == Role::Ebgp) {
            return None;
        }
        // The router that brought the path into the AS: ORIGINATOR_ID, else
        // the iBGP peer it came from. An eBGP peer's router ID is not ours
        // to compare (router IDs are unique only within an AS).
        let originator = set.originator_id().unwrap_or(src_rid);
        let from_ibgp = matches!(source, Source::Peer(r) if r.is_ibgp());
        if self.t.role.is_ibgp() && from_ibgp && Some(originator) == self.t.rid {
            return None;
        }
        // RFC 8950: an IPv6 next hop only to peers that negotiated it for the family.
        if !self.t.v6_next_hop && set.mp_next_hop().is_some_and(|nh| nh.len() >= 16) {
            return None;
        }
        // RFC 3765: NOPEER keeps a route from bilateral peers, known here by
        // their BGP Role (RFC 9234: the neighbour is a Peer).
        if set.no_peer() && self.t.bgp_role == Some(BgpRole::PEER) {
            return None;
        }
        // RFC 9234 §5: a route with OTC goes to no Provider, Peer or RS.
        if !reflect::otc_allows(set.block(), self.t.bgp_role) {
            return None;
        }
        let class = match (self.t.role, source) {
            (Role::Ebgp, _) => ExportClass::External {
                next_hop_v4: self
                    .t
                    .cfg
                    .local_v4
                    .filter(|_| !self.t.cfg.next_hop_unchanged),
                next_hop_v6: self
                    .t
                    .cfg
                    .local_v6
                    .filter(|_| !self.t.cfg.next_hop_unchanged),
                keep_med: source == Source::Local,
                four_octet: self.t.four_octet,
                add_otc: reflect::adds_otc(self.t.bgp_role),
                local_as: self.t.cfg.local_as,
            },
            (_, Source::Peer(Role::Client | Role::NonClient)) => ExportClass::Reflect {
                originator,
                four_octet: self.t.four_octet,
            },
            _ => ExportClass::Internal {
                four_octet: self.t.four_octet,
            },
        };
        let Some(pol) = self.t.export.clone() else {
            if let Some(blk) = self.cache.get(&(attrs, class, (0, 0))) {
                return Some(blk.clone());
            }
            let blk = Arc::new(reflect::rewrite(
                set.block(),
                set.mp_next_hop(),
                &class,
                self.me,
            ));
            self.cache.insert((attrs, class, (0, 0)), blk.clone());
            return Some(blk);
        };
        let key = pol.signature(&prefix).map(|s| (attrs, src, pol.id, s));
        let slot = key.map(memo_slot);
        if let (Some(k), Some(Some((mk, v)))) = (key, slot.and_then(|i| self.memo.get(i))) {
            if *mk == k {
                if v.is_none() {
                    self.rejected_out += 1;
                }
                return v.clone();
            }
        }
        let blk = self.evaluate_export(&pol, attrs, src, prefix, class);
        if let (Some(k), Some(i)) = (key, slot) {
            if self.memo.is_empty() {
                self.memo.resize(MEMO_SLOTS, None);
            }
            if let Some(m) = self.memo.get_mut(i) {
                *m = Some((k, blk.clone()));
            }
        }
        blk
    }

    /// The export policy's answer for a path the RFC rules let through, rewritten for `class`.
    fn evaluate_export(
        &mut self,
        pol: &Installed,
        attrs: AttrId,
        src: PeerId,
        prefix: Prefix,
        class: ExportClass,
    ) -> Option<Arc<OutBlock>> {
        let set = self.attrs.get(attrs)?;
        let route = Route::unicast(
            prefix,
            self.peers.get(src.index()).map(|p| p.cfg.address),
            set.block(),
            set.mp_next_hop(),
        );
        let (decision, trace) = pol.evaluate(Direction::Export, self.t.id, &route, &self.t.session);
        let tag = (pol.id, trace.0);
        if decision == Decision::Reject {
            self.rejected_out += 1;
            return None;
        }
        if trace.is_exact() {
            if let Some(blk) = self.cache.get(&(attrs, class, tag)) {
                return Some(blk.clone());
            }
        }
        let blk = match &decision {
            Decision::Modified(a) => {
                // RFC 8950 holds for a next hop the policy set, too.
                if !self.t.v6_next_hop && a.mp_next_hop.as_ref().is_some_and(|nh| nh.len() >= 16) {
                    self.rejected_out += 1;
                    return None;
                }
                reflect::rewrite(&a.block, a.mp_next_hop.as_deref(), &class, self.me)
            }
            _ => reflect::rewrite(set.block(), set.mp_next_hop(), &class, self.me),
        };
        let blk = Arc::new(blk);
        if trace.is_exact() {
            self.cache.insert((attrs, class, tag), blk.clone());
        }
        Some(blk)
    }

    /// The key under which prefixes of one (set, source) share the target's
    /// answer: with the export policy's prefix signature; `None` (no sharing)
    /// with a hook.
    #[inline]
    fn share_key(&self, (a, src): (AttrId, PeerId), prefix: &Prefix) -> Option<ShareKey> {
        match &self.t.export {
            None => Some((a, src, 0)),
            Some(i) if !i.reads_prefix => Some((a, src, 0)),
            Some(i) => i.signature(prefix).map(|s| (a, src, s)),
        }
    }

    /// [`Exporter::out_block`] under another export policy (`old`).
    fn out_block_under(
        &mut self,
        old: &Option<Arc<Installed>>,
        attrs: AttrId,
        src: PeerId,
        prefix: Prefix,
    ) -> Option<Arc<OutBlock>> {
        let now = core::mem::replace(&mut self.t.export, old.clone());
        let rejected = self.rejected_out;
        let b = self.out_block(attrs, src, prefix);
        self.rejected_out = rejected;
        self.t.export = now;
        b
    }

    /// The group collecting prefixes for (set, source); consecutive prefixes
    /// usually share both, so the last answer is kept.
    #[inline]
    fn group_for(&mut self, key: (AttrId, PeerId), prefix: Prefix) -> Option<usize> {
        let share = self.share_key(key, &prefix);
        if let Some((k, g)) = self.last {
            if Some(k) == share {
                return g;
            }
        }
        let g = self.out_block(key.0, key.1, prefix).map(|blk| {
            let ptr = Arc::as_ptr(&blk) as usize;
            match self.group_of.get(&ptr) {
                Some(&i) => i,
                None => {
                    let i = self.groups.len();
                    self.group_of.insert(ptr, i);
                    self.groups.push((blk, Group::new()));
                    i
                }
            }
        });
        if let Some(s) = share {
            self.last = Some((s, g));
        }
        g
    }

    /// Export the best path of `e` (if any) to a peer whose view of it is not
    /// known: announce it where the peer may have it, else withdraw.
    fn export_current<K>(&mut self, e: Option<&Entry<K>>, prefix: Prefix) {
        let new = e
            .and_then(|e| best_of(e, self.attrs, self.resolver))
            .map(|p| (p.attrs, p.peer));
        match new.and_then(|k| self.group_for(k, prefix)) {
            Some(g) => {
                if let Some(grp) = self.groups.get_mut(g) {
                    grp.1.push(Nlri::new(prefix));
                }
            }
            None => self.withdrawals.push(Nlri::new(prefix)),
        }
    }

    /// Export the best path of `e` given what was advertised before (`old`).
    fn export_best<K>(&mut self, e: &Entry<K>, prefix: Prefix, old: Adv) {
        let new = best_of(e, self.attrs, self.resolver).map(|p| (p.attrs, p.peer));
        if new == old {
            return;
        }
        let new_group = new.and_then(|k| self.group_for(k, prefix));
        match new_group {
            Some(g) => {
                if let Some((oa, os)) = old {
                    // Same bytes as before (e.g. only the source changed within a class): skip.
                    if let (Some(ob), Some((nb, _))) =
                        (self.out_block(oa, os, prefix), self.groups.get(g))
                    {
                        if ob == *nb {
                            return;
                        }
                    }
                }
                if let Some(grp) = self.groups.get_mut(g) {
                    grp.1.push(Nlri::new(prefix));
                }
            }
            None => {
                if let Some((oa, os)) = old {
                    if self.out_block(oa, os, prefix).is_some() {
                        self.withdrawals.push(Nlri::new(prefix));
                    }
                }
            }
        }
    }

    /// Export the best path of `e`, which was sent under the export policy `old`.
    fn export_changed_policy<K>(
        &mut self,
        e: &Entry<K>,
        prefix: Prefix,
        old: &Option<Arc<Installed>>,
    ) {
        let Some(k) = best_of(e, self.attrs, self.resolver).map(|p| (p.attrs, p.peer)) else {
            return;
        };
        let before = self.out_block_under(old, k.0, k.1, prefix);
        match self.group_for(k, prefix) {
            Some(g) => {
                let same = match (&before, self.groups.get(g)) {
                    (Some(ob), Some((nb, _))) => ob == nb,
                    _ => false,
                };
                if !same {
                    if let Some(grp) = self.groups.get_mut(g) {
                        grp.1.push(Nlri::new(prefix));
                    }
                }
            }
            None if before.is_some() => self.withdrawals.push(Nlri::new(prefix)),
            None => {}
        }
    }

    fn export_add_path<K: RouteKey>(
        &mut self,
        e: &Entry<K>,
        prefix: Prefix,
        adj: &mut AdjOut<K>,
        limit: usize,
    ) -> bool {
        let mut new: AdjPaths = SmallVec::new();
        for p in e.paths.iter() {
            if new.len() >= limit {
                break;
            }
            if !reachable(self.attrs.get(p.attrs), p.peer, self.resolver) {
                break;
            }
            if let Some(blk) = self.out_block(p.attrs, p.peer, prefix) {
                new.push((p.local_id, blk));
            }
        }
        let sent = !new.is_empty();
        let (groups, group_of) = (&mut self.groups, &mut self.group_of);
        diff_add_path(adj, e.key, prefix, new, &mut self.withdrawals, |blk, n| {
            add_to_group(groups, group_of, blk, n)
        });
        sent
    }
}

/// Diff the paths `new` a peer gets for `key` against what its Adj-RIB-Out
/// holds: withdraw identifiers it no longer gets, announce new or changed
/// ones, and keep `new` as what it holds.
fn diff_add_path<K: RouteKey>(
    adj: &mut AdjOut<K>,
    key: K,
    prefix: Prefix,
    new: AdjPaths,
    withdrawals: &mut Vec<Nlri>,
    mut announce: impl FnMut(Arc<OutBlock>, Nlri),
) {
    // Both sides by identifier: the diff costs no scan per path, however
    // many paths the prefix has.
    let mut old = adj.remove(&key).unwrap_or_default();
    old.sort_unstable_by_key(|(id, _)| *id);
    let mut new_ids: SmallVec<[u32; 4]> = new.iter().map(|(id, _)| *id).collect();
    new_ids.sort_unstable();
    for (id, _) in old
        .iter()
        .filter(|(id, _)| new_ids.binary_search(id).is_err())
    {
        withdrawals.push(Nlri {
            path_id: Some(*id),
            prefix,
        });
    }
    for (id, blk) in new.iter() {
        let same = old
            .binary_search_by_key(id, |(o, _)| *o)
            .ok()
            .and_then(|i| old.get(i))
            .is_some_and(|(_, ob)| Arc::ptr_eq(ob, blk) || **ob == **blk);
        if !same {
            announce(
                blk.clone(),
                Nlri {
                    path_id: Some(*id),
                    prefix,
                },
            );
        }
    }
    if !new.is_empty() {
        adj.insert(key, new);
    }
}

/// Write withdrawals, then announcements grouped by attribute block; count
/// what was written and return the prefixes whose attributes did not fit
/// (they are withdrawn instead).
fn pack(
    family: AfiSafi,
    groups: &[(Arc<OutBlock>, Group)],
    withdrawals: &[Nlri],
    pk: &mut Packer<'_>,
    counters: &mut PeerCounters,
) -> Vec<Prefix> {
    let wd = pk.withdraw(family, withdrawals);
    counters.updates_sent += wd.messages;
    counters.withdrawals_sent += wd.prefixes;
    let mut overflowed = Vec::new();
    for (blk, nlri) in groups {
        match pk.announce(family, blk, nlri) {
            Ok(done) => {
                counters.updates_sent += done.messages;
                counters.prefixes_sent += done.prefixes;
            }
            Err(_) => {
                // The path no longer fits (CLUSTER_LIST or ORIGINATOR_ID grew it
                // past the peer's maximum message size): withdraw the prefix,
                // so the peer does not keep an older version of it.
                counters.encode_overflows += nlri.len() as u64;
                overflowed.extend(nlri.iter().map(|n| n.prefix));
                let wd = pk.withdraw(family, nlri);
                counters.updates_sent += wd.messages;
                counters.withdrawals_sent += wd.prefixes;
            }
        }
    }
    overflowed
}

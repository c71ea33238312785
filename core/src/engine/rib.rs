//! The Loc-RIB: paths in and out of the tables, and which prefixes changed
//! since the last flush.

use alloc::vec::Vec;

use hashbrown::HashSet;

use super::family::{Rib, RouteKey, FAMILIES};
use super::{Engine, Resolver};
use crate::rib::{AttrId, Entry, Interner, Path, PeerId};

/// Changed prefixes after which removing a peer's paths flushes on the way.
const SWEEP_CHUNK: usize = 1 << 16;

/// What was advertised for a prefix at the last flush: attribute set and source.
pub(super) type Adv = Option<(AttrId, PeerId)>;

/// A prefix changed since the last flush: its position in the table (stable
/// until the flush, the only place entries are removed) and what was
/// advertised for it before the change (holding a reference to the attribute
/// set until the flush).
pub(super) type Dirty = (u32, Adv);

impl Engine {
    /// Install (or remove) the next-hop resolver; every prefix is re-decided at the next flush.
    pub fn set_resolver(&mut self, resolver: Option<Resolver>) {
        self.resolver = resolver;
        self.resolver_changed();
    }

    /// Tell the engine that next-hop reachability or costs changed.
    pub fn resolver_changed(&mut self) {
        for f in FAMILIES {
            (f.mark_all)(&mut self.rib, &mut self.attrs);
        }
    }

    /// Remove the paths of `peer` (all, or all but those in `keep`); returns
    /// how many. A peer with a large table changes many prefixes at once:
    /// every [`SWEEP_CHUNK`] changed prefixes are flushed on the way, so the
    /// list of pending changes stays bounded.
    pub(super) fn sweep<K: RouteKey>(
        &mut self,
        peer: PeerId,
        keep: Option<&HashSet<(K, u32)>>,
    ) -> u64 {
        let mut removed = 0u64;
        // Backwards: a flush removes emptied entries by moving the last entry
        // into their place, and the last ones have been visited already.
        let mut i = K::table(&self.rib).len();
        while i > 0 {
            i -= 1;
            let (table, dirty) = K::table_mut(&mut self.rib);
            let Some(e) = table.at_mut(i) else {
                continue;
            };
            let key = e.key;
            let goes =
                |p: &Path| p.peer == peer && !keep.is_some_and(|k| k.contains(&(key, p.remote_id)));
            let n = e.paths.iter().filter(|p| goes(p)).count();
            if n == 0 {
                continue;
            }
            removed += n as u64;
            touch(e, i, dirty, &mut self.attrs);
            let attrs = &mut self.attrs;
            e.paths.retain(|p| {
                if goes(p) {
                    attrs.release(p.attrs);
                    false
                } else {
                    true
                }
            });
            if dirty.len() >= SWEEP_CHUNK {
                self.flush_family::<K>();
                self.out_cache.clear();
                i = i.min(K::table(&self.rib).len());
            }
        }
        if let Some(h) = self
            .peers
            .get_mut(peer.index())
            .and_then(|p| p.held.get_mut(K::INDEX))
        {
            *h = h.saturating_sub(removed);
        }
        removed
    }

    /// Remove every path of `peer` in the family with key type `K`; returns how many.
    pub(super) fn sweep_all<K: RouteKey>(&mut self, peer: PeerId) -> u64 {
        self.sweep::<K>(peer, None)
    }
}

/// Mark `e` changed since the last flush, keeping (with a reference to its
/// attribute set) what was advertised for it. Call before changing its paths.
fn touch<K>(e: &mut Entry<K>, at: usize, dirty: &mut Vec<Dirty>, attrs: &mut Interner<()>) {
    if e.set_dirty(true) {
        return;
    }
    let adv = e.advertised();
    if let Some((a, _)) = adv {
        attrs.retain(a);
    }
    dirty.push((at as u32, adv));
}

/// Mark every prefix of the family with key type `K` changed.
pub(super) fn mark_all<K: RouteKey>(rib: &mut Rib, attrs: &mut Interner<()>) {
    let (table, dirty) = K::table_mut(rib);
    for (i, e) in table.iter_mut().enumerate() {
        touch(e, i, dirty, attrs);
    }
}

/// Add or replace the path (`peer`, `remote_id`) of `key` with one reference
/// to `id` (consumed): `Some(true)` for a new path, `Some(false)` for new
/// attributes, `None` for no change.
///
/// A new path takes the local identifier `*next_id`, or the next one no path
/// of the prefix holds (the counter wraps after 2^32 - 1 paths, and the old
/// ones may live on), and `*next_id` moves past it. The identifiers of a
/// prefix's paths are thus distinct, which ADD-PATH needs (they are the path
/// identifiers we send); the cost is a look at the prefix's paths (an index
/// lookup when there are many).
pub(super) fn upsert<K: RouteKey>(
    rib: &mut Rib,
    attrs: &mut Interner<()>,
    key: K,
    (peer, remote_id): (PeerId, u32),
    id: AttrId,
    next_id: &mut u32,
    max_paths: Option<u16>,
) -> Upsert {
    let (table, dirty) = K::table_mut(rib);
    let Some((at_pos, e)) = table.get_or_insert(key) else {
        attrs.release(id);
        return Upsert::Unchanged;
    };
    let at = e.paths.find(peer, remote_id);
    if let Some(p) = at.and_then(|i| e.paths.get(i)) {
        if p.attrs == id {
            attrs.release(id);
            return Upsert::Unchanged;
        }
    }
    if let (None, Some(max)) = (at, max_paths) {
        if e.paths.count_from(peer) >= usize::from(max) {
            attrs.release(id);
            // A new entry with no path is removed at the next flush.
            if e.paths.is_empty() {
                touch(e, at_pos, dirty, attrs);
            }
            return Upsert::Refused;
        }
    }
    touch(e, at_pos, dirty, attrs);
    match at.and_then(|i| e.paths.replace_attrs(i, id)) {
        Some(old) => {
            attrs.release(old);
            Upsert::Replaced
        }
        None => {
            let mut local_id = *next_id;
            while e.paths.has_local(local_id) {
                local_id = local_id.wrapping_add(1).max(1);
            }
            *next_id = local_id.wrapping_add(1).max(1);
            e.paths.push(Path {
                attrs: id,
                peer,
                remote_id,
                local_id,
            });
            Upsert::Added
        }
    }
}

/// What [`upsert`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Upsert {
    /// The path was there with the same attributes.
    Unchanged,
    /// The path's attributes were replaced.
    Replaced,
    /// A new path.
    Added,
    /// A new path, refused: the peer has its maximum paths for the prefix.
    Refused,
}

/// Remove the path (`peer`, `remote_id`) of `key`; returns whether there was one.
pub(super) fn remove_path<K: RouteKey>(
    rib: &mut Rib,
    attrs: &mut Interner<()>,
    key: K,
    peer: PeerId,
    remote_id: u32,
) -> bool {
    let (table, dirty) = K::table_mut(rib);
    let Some(pos) = table.index_of(&key) else {
        return false;
    };
    let Some(e) = table.at_mut(pos) else {
        return false;
    };
    let Some(i) = e.paths.find(peer, remote_id) else {
        return false;
    };
    touch(e, pos, dirty, attrs);
    if let Some(p) = e.paths.remove(i) {
        attrs.release(p.attrs);
    }
    true
}

/// How many paths of `peer` the table holds.
pub(super) fn count_peer_paths<K: RouteKey>(rib: &Rib, peer: PeerId) -> u64 {
    K::table(rib)
        .iter()
        .map(|e| e.paths.iter().filter(|p| p.peer == peer).count() as u64)
        .sum()
}

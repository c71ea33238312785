//! The per-family table: the families the engine keeps, their key types, and
//! the engine's operations on each family's table.
//!
//! Import, decision and export are generic over [`RouteKey`] and
//! monomorphised per family; code that acts on every family, or on one named
//! by an AFI/SAFI, goes through [`FAMILIES`] instead of branching on IPv4 and
//! IPv6. A new family is a new key type and a new entry there.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::hash::Hash;

use hashbrown::HashSet;

use super::graceful::{clear_refreshed, Restart};
use super::keyed::{KeyedRibs, KEYED, KEYED_COUNT};
use super::pause::{resume_family, start_fresh, Pending, PendingKeys};
use super::policy::Installed;
use super::rib::{count_peer_paths, mark_all, Dirty};
use super::tx::{AdjOut, Tx};
use super::Engine;
use crate::rib::{Interner, PeerId, Table};
use crate::wire::{AfiSafi, Ipv4Prefix, Ipv6Prefix, Prefix};

/// How many families the engine keeps.
pub(super) const FAMILY_COUNT: usize = KEYED_BASE + KEYED_COUNT;

/// The position of the first keyed family in [`FAMILIES`].
pub(super) const KEYED_BASE: usize = 2;

/// The families the engine keeps, in the order it visits them: IPv4 and
/// IPv6 unicast (a family's position here is its [`RouteKey::INDEX`]), then
/// the keyed families of [`super::keyed::KEYED`] in their order. RT
/// membership comes before VPN and EVPN only in what it changes: a peer whose
/// memberships changed has those families re-judged at the RT flush.
pub(super) const FAMILIES: [Family; FAMILY_COUNT] = [
    Family::new::<u64>(),
    Family::new::<Ipv6Prefix>(),
    Family::keyed::<0>(),
    Family::keyed::<1>(),
    Family::keyed::<2>(),
    Family::keyed::<3>(),
    Family::keyed::<4>(),
    Family::keyed::<5>(),
    Family::keyed::<6>(),
    Family::keyed::<7>(),
    Family::keyed::<8>(),
    Family::keyed::<9>(),
];

/// One family the engine keeps: its AFI/SAFI and the engine's operations on
/// its table, each the generic one instantiated for the family's key type.
#[derive(Clone, Copy)]
pub(super) struct Family {
    /// The AFI/SAFI.
    pub(super) afi_safi: AfiSafi,
    /// Its position in [`FAMILIES`] (per-family arrays are indexed by it).
    pub(super) index: usize,
    /// Rank the family's changed prefixes and write every up peer's UPDATEs.
    pub(super) flush: fn(&mut Engine),
    /// Write the whole table to a peer, then End-of-RIB if asked.
    pub(super) dump: fn(&mut Engine, PeerId, bool),
    /// Remove every path of a peer; returns how many.
    pub(super) sweep: fn(&mut Engine, PeerId) -> u64,
    /// Remove a peer's paths but, if asked, those it announced again since
    /// they became stale; returns how many.
    pub(super) sweep_stale: fn(&mut Engine, PeerId, bool) -> u64,
    /// Mark every prefix changed.
    pub(super) mark_all: fn(&mut Rib, &mut Interner<()>),
    /// How many paths of a peer the table holds.
    pub(super) count_peer_paths: fn(&Rib, PeerId) -> u64,
    /// Forget which paths a peer announced again since they became stale.
    pub(super) clear_refreshed: fn(&mut Restart),
    /// One catch-up step: send a resumed peer the current state of up to so
    /// many of the prefixes that changed while it was paused; returns how many.
    pub(super) resume: fn(&mut Engine, PeerId, &mut Pending, usize) -> usize,
    /// Queue a fresh session's table of the family as a catch-up.
    pub(super) start_fresh: fn(&mut Engine, PeerId, &mut Pending),
    /// Send a peer the difference its new export policy makes (the old one given).
    pub(super) reexport: fn(&mut Engine, PeerId, Option<Arc<Installed>>),
}

impl Family {
    /// The entry for the family with key type `K`.
    const fn new<K: RouteKey>() -> Self {
        Family {
            afi_safi: K::FAMILY,
            index: K::INDEX,
            flush: Engine::flush_family::<K>,
            dump: Engine::dump::<K>,
            sweep: Engine::sweep_all::<K>,
            sweep_stale: Engine::sweep_refreshed::<K>,
            mark_all: mark_all::<K>,
            count_peer_paths: count_peer_paths::<K>,
            clear_refreshed: clear_refreshed::<K>,
            resume: resume_family::<K>,
            reexport: Engine::reexport::<K>,
            start_fresh: start_fresh::<K>,
        }
    }

    /// The entry for the keyed family at position `I` of [`KEYED`].
    // Evaluated at compile time only: an `I` out of range fails the build.
    #[allow(clippy::indexing_slicing)]
    const fn keyed<const I: usize>() -> Self {
        Family {
            afi_safi: KEYED[I],
            index: KEYED_BASE + I,
            flush: |e| e.keyed_flush(I),
            dump: |e, p, eor| e.keyed_dump(I, p, eor),
            sweep: |e, p| e.keyed_sweep(I, p, false),
            sweep_stale: |e, p, keep| e.keyed_sweep(I, p, keep),
            mark_all: |rib, _| Engine::keyed_mark_all(rib, I),
            count_peer_paths: |rib, p| Engine::keyed_count(rib, I, p),
            clear_refreshed: |r| r.refreshed_keyed.retain(|(f, _, _)| usize::from(*f) != I),
            resume: |e, p, pending, _| e.keyed_resume(I, p, pending),
            start_fresh: |e, p, pending| e.keyed_start_fresh(I, p, pending),
            reexport: |e, p, _| e.keyed_reexport(I, p),
        }
    }

    /// The entry for `afi_safi`, if the engine keeps that family.
    pub(super) fn of(afi_safi: AfiSafi) -> Option<Family> {
        FAMILIES.into_iter().find(|f| f.afi_safi == afi_safi)
    }
}

/// A prefix key type: a family's compact form of its prefixes.
pub(super) trait RouteKey: Copy + Hash + Eq + Ord + core::fmt::Debug {
    const FAMILY: AfiSafi;
    /// The family's position in [`FAMILIES`].
    const INDEX: usize;
    fn prefix(self) -> Option<Prefix>;
    fn table(rib: &Rib) -> &Table<Self>;
    fn table_mut(rib: &mut Rib) -> (&mut Table<Self>, &mut Vec<Dirty>);
    fn adj(tx: &mut Tx) -> &mut AdjOut<Self>;
    /// The paths (key, path identifier) the peer announced again since its
    /// paths of the family became stale.
    fn refreshed(r: &mut Restart) -> &mut HashSet<(Self, u32)>;
    /// The prefixes that changed since a peer was paused.
    fn pending(p: &mut Pending) -> &mut PendingKeys<Self>;
}

impl RouteKey for u64 {
    const FAMILY: AfiSafi = AfiSafi::IPV4_UNICAST;
    const INDEX: usize = 0;
    fn prefix(self) -> Option<Prefix> {
        Ipv4Prefix::from_key(self).map(Prefix::V4)
    }
    fn table(rib: &Rib) -> &Table<Self> {
        &rib.v4
    }
    fn table_mut(rib: &mut Rib) -> (&mut Table<Self>, &mut Vec<Dirty>) {
        (&mut rib.v4, &mut rib.dirty_v4)
    }
    fn adj(tx: &mut Tx) -> &mut AdjOut<Self> {
        &mut tx.adj_v4
    }
    fn refreshed(r: &mut Restart) -> &mut HashSet<(Self, u32)> {
        &mut r.refreshed_v4
    }
    fn pending(p: &mut Pending) -> &mut PendingKeys<Self> {
        &mut p.v4
    }
}

impl RouteKey for Ipv6Prefix {
    const FAMILY: AfiSafi = AfiSafi::IPV6_UNICAST;
    const INDEX: usize = 1;
    fn prefix(self) -> Option<Prefix> {
        Some(Prefix::V6(self))
    }
    fn table(rib: &Rib) -> &Table<Self> {
        &rib.v6
    }
    fn table_mut(rib: &mut Rib) -> (&mut Table<Self>, &mut Vec<Dirty>) {
        (&mut rib.v6, &mut rib.dirty_v6)
    }
    fn adj(tx: &mut Tx) -> &mut AdjOut<Self> {
        &mut tx.adj_v6
    }
    fn refreshed(r: &mut Restart) -> &mut HashSet<(Self, u32)> {
        &mut r.refreshed_v6
    }
    fn pending(p: &mut Pending) -> &mut PendingKeys<Self> {
        &mut p.v6
    }
}

/// The tables, and per family the prefixes changed since the last flush.
#[derive(Debug, Default)]
pub(super) struct Rib {
    pub(super) v4: Table<u64>,
    pub(super) v6: Table<Ipv6Prefix>,
    pub(super) dirty_v4: Vec<Dirty>,
    pub(super) dirty_v6: Vec<Dirty>,
    /// The keyed families' tables.
    pub(super) keyed: KeyedRibs,
}

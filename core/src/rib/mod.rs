//! Routing information bases: interned attribute sets and prefix tables.
//!
//! A route is a prefix, a peer, a path identifier and a handle to a shared
//! attribute set: 16 bytes per path in the table, plus the table's own
//! per-prefix entry. Attribute sets are interned by their canonical wire
//! bytes, reference-counted, and freed when the last path using them goes.

pub mod attrs;
pub mod table;

pub use attrs::{AttrId, AttrSet, Interner, PathInfo, NO_NEIGHBOR_AS};
pub use table::{Entry, PathList, Table};

/// Identifies a peer of an engine. Never reused within one engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerId(pub u32);

impl PeerId {
    /// The engine itself, as the source of locally originated routes.
    pub const LOCAL: PeerId = PeerId(0x7fff_fffe);

    /// The index of this peer.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// One path to a prefix, as held in the Loc-RIB (16 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Path {
    /// The shared attribute set.
    pub attrs: AttrId,
    /// Who sent it (or [`PeerId::LOCAL`]).
    pub peer: PeerId,
    /// The peer's ADD-PATH identifier (0 without ADD-PATH).
    pub remote_id: u32,
    /// Our own identifier for this path: stable while the path exists, unique
    /// per prefix, increasing with arrival (used for ADD-PATH sending and the
    /// prefer-oldest knob).
    pub local_id: u32,
}

//! The engine: the one sans-IO façade that speakers, the C ABI, the simulator
//! and the daemon drive.
//!
//! ```text
//!  handle_message(peer, bytes) ──► wire view ──► import (canonical set, loop checks)
//!                                                   │
//!                                     Loc-RIB (candidates per prefix, interned sets)
//!                                                   │ flush: rank, diff against what was advertised
//!  poll_transmit(peer, buf) ◄── packed UPDATEs ◄── export (RFC 4456 rules, cached rewrites)
//! ```
//!
//! The engine never touches a socket or a clock. Work is batched: received
//! UPDATEs only change the Loc-RIB and mark prefixes dirty; the first call to
//! [`Engine::poll_transmit`] (or [`Engine::flush`]) after that ranks the dirty
//! prefixes once and writes every peer's UPDATEs, packed by attribute set.
//! What each peer was last told is the best path recorded at the previous
//! flush (peers that negotiated ADD-PATH sending keep an explicit
//! Adj-RIB-Out), so the output is always a diff.
//!
//! One type, one file per concern, each adding an `impl Engine` block:
//! `peer` (sessions up and down), `graceful` (RFC 4724 stale paths),
//! `refresh` (RFC 2918 / RFC 7313), `import` (messages into the Loc-RIB),
//! `rib` (the tables and what changed), `decide` (eligibility and order),
//! `export` (RFC 4456 rules, packing), `tx` (per-peer queues) and `query`
//! (inspection). `family` is the per-family table the others consult instead
//! of branching on IPv4 and IPv6; `types` holds the public types.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use crate::reflect::{LocalIdentity, OutCache};
use crate::rib::{Interner, PeerId};

mod decide;
mod export;
mod family;
mod graceful;
mod import;
mod keyed;
mod pause;
mod peer;
mod policy;
mod query;
mod refresh;
mod rib;
mod tx;
mod types;

use family::Rib;
pub use keyed::KeyedRoute;
pub use pause::CATCH_UP_STEP;
use peer::PeerState;
pub use policy::Reimport;
pub use types::{
    decode_block, AddPathSend, EngineConfig, Event, MemoryStats, Negotiated, Outcome, PathView,
    PeerConfig, PeerCounters, PrefixLimit, Resolver,
};

/// A route reflection engine.
pub struct Engine {
    cfg: EngineConfig,
    me: LocalIdentity,
    peers: Vec<PeerState>,
    rib: Rib,
    attrs: Interner<()>,
    /// Rewritten blocks for the batch being exported; emptied after it.
    out_cache: OutCache,
    resolver: Option<Resolver>,
    events: VecDeque<Event>,
    events_dropped: u64,
    next_local_id: u32,
    scratch: Vec<u8>,
    /// The number of the last policy installed on a peer.
    next_policy_id: u32,
    /// Peers whose RT memberships changed since the last flush.
    rtc_changed: hashbrown::HashSet<PeerId>,
    /// Peers' RT memberships, built from the RT membership table when first asked.
    memberships: hashbrown::HashMap<PeerId, alloc::sync::Arc<keyed::Membership>>,
    /// A spare keyed Adj-RIB-Out, swapped in while one is being written.
    keyed_adj_scratch: keyed::KeyedAdj,
    /// RFC 4724 §4.1: sessions coming up are held until [`Engine::end_deferral`].
    deferring: bool,
}

impl core::fmt::Debug for Engine {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Engine")
            .field("cfg", &self.cfg)
            .field("peers", &self.peers.len())
            .field("v4_prefixes", &self.rib.v4.len())
            .field("v6_prefixes", &self.rib.v6.len())
            .field("attr_sets", &self.attrs.len())
            .finish()
    }
}

impl Engine {
    /// A new engine with no peers and an empty RIB.
    pub fn new(cfg: EngineConfig) -> Self {
        let cluster = cfg.cluster_id.unwrap_or(cfg.router_id);
        Engine {
            me: LocalIdentity {
                asn: cfg.local_as,
                cluster_id: cluster.to_bits(),
                default_local_pref: cfg.decision.default_local_pref,
            },
            cfg,
            peers: Vec::new(),
            rib: Rib::default(),
            attrs: Interner::new(),
            out_cache: OutCache::new(),
            resolver: None,
            events: VecDeque::new(),
            events_dropped: 0,
            next_local_id: 1,
            scratch: Vec::new(),
            next_policy_id: 0,
            rtc_changed: hashbrown::HashSet::new(),
            memberships: hashbrown::HashMap::new(),
            keyed_adj_scratch: keyed::KeyedAdj::new(),
            deferring: false,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }

    fn push_event(&mut self, e: Event) {
        if !self.cfg.record_events {
            return;
        }
        if self.events.len() >= self.cfg.max_events {
            self.events.pop_front();
            self.events_dropped += 1;
        }
        self.events.push_back(e);
    }

    /// The next event, oldest first.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Events dropped because the queue was full.
    pub fn events_dropped(&self) -> u64 {
        self.events_dropped
    }

    /// Set the next local path identifier (tests of the counter's wrap).
    #[doc(hidden)]
    pub fn set_next_local_id(&mut self, id: u32) {
        self.next_local_id = id.max(1);
    }
}

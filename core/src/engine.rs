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

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::hash::Hash;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bytes::Bytes;
use hashbrown::{HashMap, HashSet};
use smallvec::SmallVec;

use crate::decision::{self, Candidate, DecisionConfig};
use crate::error::{Action, Error, ErrorKind, Result};
use crate::reflect::{
    self, ExportClass, ImportContext, LocalIdentity, LoopReason, OutBlock, OutCache, Packer, Role,
    Source,
};
use crate::rib::{AttrId, AttrSet, Entry, Interner, Path, PeerId, Table};
use crate::wire::route_refresh::{RouteRefreshRepr, Subtype, ROUTE_REFRESH_LEN};
use crate::wire::update::UpdatePacket;
use crate::wire::update_repr::AttributeRepr;
use crate::wire::{
    Afi, AfiSafi, AfiSafiSet, Context, Header, Ipv4Prefix, Ipv6Prefix, MessageType, Nlri, Prefix,
    Safi, Writer,
};

/// Engine-wide configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineConfig {
    /// Our AS number.
    pub local_as: u32,
    /// Our BGP identifier.
    pub router_id: Ipv4Addr,
    /// Our cluster ID; `None` means the router ID (RFC 4456 §7).
    pub cluster_id: Option<Ipv4Addr>,
    /// Reflect routes from clients to other clients (RFC 4456 §6).
    pub client_to_client: bool,
    /// Decision process knobs.
    pub decision: DecisionConfig,
    /// Record events for [`Engine::poll_event`].
    pub record_events: bool,
    /// At most this many events are kept; older ones are dropped and counted.
    pub max_events: usize,
}

impl EngineConfig {
    /// A configuration with defaults for everything but AS and router ID.
    pub fn new(local_as: u32, router_id: Ipv4Addr) -> Self {
        EngineConfig {
            local_as,
            router_id,
            cluster_id: None,
            client_to_client: true,
            decision: DecisionConfig::default(),
            record_events: false,
            max_events: 65_536,
        }
    }
}

/// How many paths per prefix to advertise to a peer that negotiated ADD-PATH sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AddPathSend {
    /// Only the best path, without path identifiers.
    #[default]
    Off,
    /// Every eligible candidate.
    All,
    /// The best N eligible candidates.
    Best(u8),
}

/// A peer's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerConfig {
    /// Client, non-client or eBGP.
    pub role: Role,
    /// The peer's address.
    pub address: IpAddr,
    /// The peer's AS.
    pub asn: u32,
    /// Our IPv4 address on this session (NEXT_HOP toward eBGP).
    pub local_v4: Option<Ipv4Addr>,
    /// Our IPv6 address on this session (MP next hop toward eBGP).
    pub local_v6: Option<Ipv6Addr>,
    /// ADD-PATH sending policy, used when the session negotiated it.
    pub add_path_send: AddPathSend,
}

impl PeerConfig {
    /// A peer with no local addresses and no ADD-PATH sending.
    pub fn new(role: Role, address: IpAddr, asn: u32) -> Self {
        PeerConfig {
            role,
            address,
            asn,
            local_v4: None,
            local_v6: None,
            add_path_send: AddPathSend::Off,
        }
    }
}

/// What a session negotiated (from the OPEN exchange).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    /// The peer's BGP identifier.
    pub router_id: Ipv4Addr,
    /// Both sides support 4-octet AS numbers.
    pub four_octet_as: bool,
    /// Both sides support extended messages.
    pub extended_message: bool,
    /// Families both sides support.
    pub families: AfiSafiSet,
    /// Families in which the peer sends us path identifiers.
    pub add_path_receive: AfiSafiSet,
    /// Families in which we may send the peer path identifiers.
    pub add_path_send: AfiSafiSet,
    /// Both sides support enhanced route refresh (RFC 7313): a refresh we
    /// answer is framed by BoRR and EoRR, and one the peer sends replaces its
    /// paths of the family (those not sent again are removed at its EoRR).
    pub enhanced_route_refresh: bool,
}

impl Negotiated {
    /// IPv4 and IPv6 unicast, 4-octet AS, no ADD-PATH, 4,096-byte messages.
    pub fn unicast(router_id: Ipv4Addr) -> Self {
        Negotiated {
            router_id,
            four_octet_as: true,
            extended_message: false,
            families: AfiSafiSet::EMPTY
                .with(AfiSafi::IPV4_UNICAST)
                .with(AfiSafi::IPV6_UNICAST),
            add_path_receive: AfiSafiSet::EMPTY,
            add_path_send: AfiSafiSet::EMPTY,
            enhanced_route_refresh: false,
        }
    }
}

/// Per-peer counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PeerCounters {
    /// UPDATE messages received.
    pub updates_received: u64,
    /// Prefixes announced to us.
    pub prefixes_received: u64,
    /// Prefixes withdrawn by the peer.
    pub withdrawals_received: u64,
    /// Announced paths accepted as candidates.
    pub accepted: u64,
    /// Paths rejected by the loop checks.
    pub rejected_loop: u64,
    /// UPDATEs handled as treat-as-withdraw (RFC 7606).
    pub treat_as_withdraw: u64,
    /// UPDATEs with an attribute discarded (RFC 7606).
    pub attribute_discard: u64,
    /// UPDATEs that reset the session.
    pub session_resets: u64,
    /// ROUTE-REFRESH requests served.
    pub route_refreshes: u64,
    /// UPDATE messages sent.
    pub updates_sent: u64,
    /// Prefixes announced to the peer.
    pub prefixes_sent: u64,
    /// Prefixes withdrawn toward the peer.
    pub withdrawals_sent: u64,
    /// Paths that could not be sent because their attributes exceed the maximum message size.
    pub encode_overflows: u64,
    /// Sessions that went down gracefully, keeping their paths as stale (RFC 4724 §4.2).
    pub graceful_restarts: u64,
    /// Paths marked stale at graceful downs.
    pub stale_marked: u64,
    /// Stale paths removed (End-of-RIB, restart timer, reconnect without graceful restart).
    pub stale_removed: u64,
}

/// What the engine did with one received message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum Outcome {
    /// The UPDATE was applied.
    Accepted {
        /// Paths that became (or replaced) candidates.
        announced: u32,
        /// Paths withdrawn.
        withdrawn: u32,
        /// Paths rejected by the loop checks.
        rejected: u32,
    },
    /// The UPDATE was malformed in a way RFC 7606 survives: its prefixes were withdrawn.
    TreatAsWithdraw(Error),
    /// The UPDATE was applied without a malformed attribute (RFC 7606 attribute-discard).
    AttributeDiscarded(Error),
    /// The message was malformed beyond repair: send this NOTIFICATION and close.
    /// The peer is already down in the engine.
    Reset {
        /// What was wrong.
        error: Error,
        /// The NOTIFICATION message to send.
        notification: Vec<u8>,
    },
    /// A ROUTE-REFRESH: the Adj-RIB-Out for the family was queued again.
    RouteRefresh(AfiSafi),
    /// Not a message the engine acts on (KEEPALIVE, OPEN, NOTIFICATION: the session's business).
    Ignored(MessageType),
    /// The peer is unknown or not up.
    NotUp,
}

/// Something observers may want to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The best path for a prefix changed (`None`: no path left).
    BestChanged {
        /// The prefix.
        prefix: Prefix,
        /// The peer the new best path came from.
        best: Option<PeerId>,
    },
    /// A received path was not a candidate because of a loop check.
    LoopRejected {
        /// Who sent it.
        peer: PeerId,
        /// The prefix.
        prefix: Prefix,
        /// Which check.
        reason: LoopReason,
    },
    /// A received message was malformed.
    UpdateError {
        /// Who sent it.
        peer: PeerId,
        /// The error, with its RFC 7606 action.
        error: Error,
    },
    /// A path could not be sent: its attributes alone exceed the peer's maximum message size.
    EncodeOverflow {
        /// The peer it was for.
        peer: PeerId,
        /// The prefix.
        prefix: Prefix,
    },
    /// A peer came up.
    PeerUp(PeerId),
    /// A peer went down; its routes are withdrawn.
    PeerDown(PeerId),
    /// A peer went down gracefully: its paths in these families stay, stale (RFC 4724 §4.2).
    PeerRestarting {
        /// The peer.
        peer: PeerId,
        /// The families whose paths are kept.
        families: AfiSafiSet,
        /// How many paths were marked stale.
        stale: u64,
    },
    /// Stale paths of a restarting peer were removed.
    StaleRemoved {
        /// The peer.
        peer: PeerId,
        /// The family.
        family: AfiSafi,
        /// How many paths were removed.
        paths: u64,
    },
}

/// A candidate path as seen through [`Engine::candidates`].
#[derive(Debug, Clone, Copy)]
pub struct PathView<'e> {
    /// The peer it came from ([`PeerId::LOCAL`] for our own routes).
    pub peer: PeerId,
    /// The peer's ADD-PATH identifier.
    pub remote_id: u32,
    /// Our identifier for the path.
    pub local_id: u32,
    /// The attribute set handle.
    pub attrs: AttrId,
    /// The attribute set.
    pub set: &'e AttrSet,
    /// Whether the next hop resolves.
    pub reachable: bool,
}

impl PathView<'_> {
    /// The attributes, decoded.
    pub fn attributes(&self) -> Vec<AttributeRepr> {
        decode_block(self.set.block())
    }
}

/// Decode a canonical attribute block.
pub fn decode_block(block: &[u8]) -> Vec<AttributeRepr> {
    crate::wire::attribute::AttrIter::unchecked(block, 0)
        .map(|a| AttributeRepr::parse(&a, &Context::MODERN))
        .collect()
}

/// Memory used by the RIB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemoryStats {
    /// Prefixes in the Loc-RIB.
    pub prefixes: usize,
    /// Candidate paths.
    pub paths: usize,
    /// Distinct attribute sets.
    pub attr_sets: usize,
    /// Bytes held by the prefix tables (index, entries and spilled path lists).
    pub table_bytes: usize,
    /// Bytes held by the attribute sets and the interner.
    pub attr_bytes: usize,
}

/// The next-hop resolver: `Some(igp_cost)` when the next hop is reachable.
pub type Resolver = Box<dyn Fn(IpAddr) -> Option<u32> + Send + Sync>;

type AdjOut<K> = HashMap<K, SmallVec<[(u32, Arc<OutBlock>); 2]>>;

/// The prefixes of one attribute block in a batch (most blocks carry a few).
type Group = SmallVec<[Nlri; 4]>;

#[derive(Debug, Default)]
struct Tx {
    /// Whole messages ready to send, oldest first. A chunk written once for a
    /// class of peers is shared by all of them (reference-counted, not copied).
    chunks: VecDeque<Bytes>,
    /// Read position in the front chunk.
    pos: usize,
    /// Messages being written for this peer alone; sealed into `chunks`
    /// before anything shared is queued behind them.
    out: Vec<u8>,
    adj_v4: AdjOut<u64>,
    adj_v6: AdjOut<Ipv6Prefix>,
}

impl Tx {
    fn seal(&mut self) {
        if !self.out.is_empty() {
            self.chunks
                .push_back(Bytes::from(core::mem::take(&mut self.out)));
        }
    }

    fn push_shared(&mut self, b: &Bytes) {
        self.seal();
        if !b.is_empty() {
            self.chunks.push_back(b.clone());
        }
    }

    /// The unread part of the front chunk, dropping chunks already read.
    fn front(&mut self) -> Option<&[u8]> {
        self.seal();
        while self.chunks.front().is_some_and(|c| self.pos >= c.len()) {
            self.chunks.pop_front();
            self.pos = 0;
        }
        self.chunks.front()?.get(self.pos..)
    }

    fn queued(&self) -> usize {
        self.chunks.iter().map(Bytes::len).sum::<usize>()
            - self.pos.min(self.chunks.front().map_or(0, Bytes::len))
            + self.out.len()
    }

    fn take(&mut self) -> Vec<Bytes> {
        self.seal();
        let mut v: Vec<Bytes> = core::mem::take(&mut self.chunks).into();
        if let Some(first) = v.first_mut() {
            let pos = self.pos.min(first.len());
            *first = first.slice(pos..);
        }
        self.pos = 0;
        v.retain(|c| !c.is_empty());
        v
    }
}

/// Graceful restart state of a peer whose session went down gracefully (RFC 4724 §4.2).
#[derive(Debug, Default)]
struct Restart {
    /// Families whose paths from the peer are stale.
    stale: AfiSafiSet,
    /// IPv4 paths (prefix key, path identifier) the peer announced again since it went down.
    refreshed_v4: HashSet<(u64, u32)>,
    /// IPv6 paths the peer announced again since it went down.
    refreshed_v6: HashSet<(Ipv6Prefix, u32)>,
}

#[derive(Debug)]
struct PeerState {
    cfg: PeerConfig,
    removed: bool,
    up: Option<Negotiated>,
    /// Set while the peer has stale paths; `None` on the hot path.
    restart: Option<Box<Restart>>,
    router_id: u32,
    rx_ctx: Context,
    tx_ctx: Context,
    tx: Tx,
    counters: PeerCounters,
}

impl PeerState {
    fn source(&self) -> Source {
        Source::Peer(self.cfg.role)
    }

    fn add_path_tx(&self, f: AfiSafi) -> bool {
        self.cfg.add_path_send != AddPathSend::Off && self.tx_ctx.add_path(f)
    }

    fn has_family(&self, f: AfiSafi) -> bool {
        self.up.is_some_and(|n| n.families.contains(f))
    }
}

/// A prefix key type: a family's compact form of its prefixes.
trait RouteKey: Copy + Hash + Eq + core::fmt::Debug {
    const FAMILY: AfiSafi;
    fn prefix(self) -> Option<Prefix>;
    fn table(rib: &Rib) -> &Table<Self>;
    fn table_mut(rib: &mut Rib) -> (&mut Table<Self>, &mut Vec<Dirty>);
    fn adj(tx: &mut Tx) -> &mut AdjOut<Self>;
}

impl RouteKey for u64 {
    const FAMILY: AfiSafi = AfiSafi::IPV4_UNICAST;
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
}

impl RouteKey for Ipv6Prefix {
    const FAMILY: AfiSafi = AfiSafi::IPV6_UNICAST;
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
}

/// Changed prefixes after which removing a peer's paths flushes on the way.
const SWEEP_CHUNK: usize = 1 << 16;

/// What was advertised for a prefix at the last flush: attribute set and source.
type Adv = Option<(AttrId, PeerId)>;

/// A prefix changed since the last flush: its position in the table (stable
/// until the flush, the only place entries are removed) and what was
/// advertised for it before the change (holding a reference to the attribute
/// set until the flush).
type Dirty = (u32, Adv);

/// The tables, and per family the prefixes changed since the last flush.
#[derive(Debug, Default)]
struct Rib {
    v4: Table<u64>,
    v6: Table<Ipv6Prefix>,
    dirty_v4: Vec<Dirty>,
    dirty_v6: Vec<Dirty>,
}

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

fn notification(e: &Error, msg: &[u8]) -> Vec<u8> {
    let data = e.data.resolve(msg);
    let mut body = Vec::with_capacity(2 + data.len());
    body.push(e.code);
    body.push(e.subcode);
    body.extend_from_slice(data.get(..data.len().min(4096 - 21)).unwrap_or(&[]));
    reflect::message(MessageType::Notification, &body).unwrap_or_default()
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
        }
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }

    /// Install (or remove) the next-hop resolver; every prefix is re-decided at the next flush.
    pub fn set_resolver(&mut self, resolver: Option<Resolver>) {
        self.resolver = resolver;
        self.resolver_changed();
    }

    /// Tell the engine that next-hop reachability or costs changed.
    pub fn resolver_changed(&mut self) {
        mark_all::<u64>(&mut self.rib, &mut self.attrs);
        mark_all::<Ipv6Prefix>(&mut self.rib, &mut self.attrs);
    }

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
            counters: PeerCounters::default(),
        });
        id
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
            for f in [AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST] {
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
        self.push_event(Event::PeerUp(peer));
        self.dump::<u64>(peer, true);
        self.dump::<Ipv6Prefix>(peer, true);
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
                let (v4, v6) = (
                    self.sweep::<u64>(peer, None),
                    self.sweep::<Ipv6Prefix>(peer, None),
                );
                if let Some(p) = self.peers.get_mut(peer.index()) {
                    p.counters.stale_removed += v4 + v6;
                }
                for (f, n) in [(AfiSafi::IPV4_UNICAST, v4), (AfiSafi::IPV6_UNICAST, v6)] {
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
        self.sweep::<u64>(peer, None);
        self.sweep::<Ipv6Prefix>(peer, None);
        self.push_event(Event::PeerDown(peer));
    }

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
        let mut kept = AfiSafiSet::EMPTY;
        for f in [AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST] {
            if families.contains(f) && (was_up || old.contains(f)) {
                kept.insert(f);
            }
        }
        let mut marked = 0u64;
        let mut removed = 0u64;
        for (f, v4) in [
            (AfiSafi::IPV4_UNICAST, true),
            (AfiSafi::IPV6_UNICAST, false),
        ] {
            if kept.contains(f) {
                marked += if v4 {
                    count_peer_paths::<u64>(&self.rib, peer)
                } else {
                    count_peer_paths::<Ipv6Prefix>(&self.rib, peer)
                };
            } else {
                let n = if v4 {
                    self.sweep::<u64>(peer, None)
                } else {
                    self.sweep::<Ipv6Prefix>(peer, None)
                };
                if old.contains(f) {
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
        for f in [AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST] {
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
    fn sweep_stale(&mut self, peer: PeerId, family: AfiSafi, keep_refreshed: bool) {
        let Some(r) = self
            .peers
            .get_mut(peer.index())
            .and_then(|p| p.restart.as_mut())
        else {
            return;
        };
        if !r.stale.contains(family) {
            return;
        }
        let mut rest = AfiSafiSet::EMPTY;
        for f in [AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST] {
            if f != family && r.stale.contains(f) {
                rest.insert(f);
            }
        }
        r.stale = rest;
        let n = if family == AfiSafi::IPV4_UNICAST {
            let set = core::mem::take(&mut r.refreshed_v4);
            self.sweep::<u64>(peer, keep_refreshed.then_some(&set))
        } else {
            let set = core::mem::take(&mut r.refreshed_v6);
            self.sweep::<Ipv6Prefix>(peer, keep_refreshed.then_some(&set))
        };
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

    /// Handle one framed BGP message from a peer.
    pub fn handle_message(&mut self, peer: PeerId, msg: &[u8]) -> Outcome {
        let Some(p) = self.peers.get(peer.index()) else {
            return Outcome::NotUp;
        };
        if p.up.is_none() {
            return Outcome::NotUp;
        }
        let ctx = p.rx_ctx;
        let h = match Header::parse(msg, ctx.max_message_len()) {
            Ok(h) => h,
            Err(e) => return self.reset(peer, e, msg),
        };
        if usize::from(h.length) != msg.len() {
            let e = Error::new(
                ErrorKind::BadMessageLength,
                crate::error::code::MESSAGE_HEADER,
                crate::error::subcode::BAD_MESSAGE_LENGTH,
                Action::SessionReset,
                16,
            )
            .with_data(crate::error::NotifyData::u16(h.length));
            return self.reset(peer, e, msg);
        }
        match h.msg_type {
            MessageType::Update => self.handle_update(peer, msg, &ctx),
            MessageType::RouteRefresh => self.handle_route_refresh(peer, msg),
            t => Outcome::Ignored(t),
        }
    }

    fn reset(&mut self, peer: PeerId, error: Error, msg: &[u8]) -> Outcome {
        if let Some(p) = self.peers.get_mut(peer.index()) {
            p.counters.session_resets += 1;
        }
        self.push_event(Event::UpdateError { peer, error });
        self.peer_down(peer);
        Outcome::Reset {
            error,
            notification: notification(&error, msg),
        }
    }

    fn handle_route_refresh(&mut self, peer: PeerId, msg: &[u8]) -> Outcome {
        if msg.len() != 23 {
            let e = Error::new(
                ErrorKind::InvalidRouteRefreshLength,
                crate::error::code::ROUTE_REFRESH,
                crate::error::subcode::INVALID_ROUTE_REFRESH_LENGTH,
                Action::SessionReset,
                16,
            )
            .with_range(0, msg.len().min(4096));
            return self.reset(peer, e, msg);
        }
        let b = |i: usize| msg.get(i).copied().unwrap_or(0);
        let family = AfiSafi::new(Afi(u16::from_be_bytes([b(19), b(20)])), Safi(b(22)));
        let enhanced = self
            .peers
            .get(peer.index())
            .and_then(|p| p.up.as_ref())
            .is_some_and(|n| n.enhanced_route_refresh);
        match Subtype::from_u8(b(21)) {
            Subtype::Normal => {
                self.route_refresh(peer, family);
                Outcome::RouteRefresh(family)
            }
            // RFC 7313 §4: the peer re-advertises its Adj-RIB-Out; until its
            // EoRR its current paths are stale, then those not sent again go.
            Subtype::BeginOfRefresh if enhanced && Self::is_known_family(family) => {
                self.begin_stale(peer, family);
                Outcome::Ignored(MessageType::RouteRefresh)
            }
            Subtype::EndOfRefresh if enhanced => {
                self.sweep_stale(peer, family, true);
                Outcome::Ignored(MessageType::RouteRefresh)
            }
            // Markers without the capability, and unknown subtypes (RFC 7313 §5), are ignored.
            _ => Outcome::Ignored(MessageType::RouteRefresh),
        }
    }

    fn is_known_family(family: AfiSafi) -> bool {
        family == AfiSafi::IPV4_UNICAST || family == AfiSafi::IPV6_UNICAST
    }

    /// Mark the peer's paths of `family` stale (kept as candidates) and start
    /// recording which it announces again.
    fn begin_stale(&mut self, peer: PeerId, family: AfiSafi) {
        let Some(p) = self.peers.get_mut(peer.index()) else {
            return;
        };
        let r = p.restart.get_or_insert_with(Box::default);
        r.stale.insert(family);
        if family == AfiSafi::IPV4_UNICAST {
            r.refreshed_v4.clear();
        } else {
            r.refreshed_v6.clear();
        }
    }

    /// Queue the peer's Adj-RIB-Out for `family` again (RFC 2918), followed by End-of-RIB.
    pub fn route_refresh(&mut self, peer: PeerId, family: AfiSafi) {
        if !self.is_up(peer) {
            return;
        }
        self.flush();
        let Some(p) = self.peers.get_mut(peer.index()) else {
            return;
        };
        p.counters.route_refreshes += 1;
        if !p.has_family(family) || !Self::is_known_family(family) {
            return;
        }
        // RFC 7313 §4: with enhanced route refresh the re-advertisement is
        // framed by BoRR and EoRR (instead of ending with End-of-RIB).
        let enhanced = p.up.as_ref().is_some_and(|n| n.enhanced_route_refresh);
        if enhanced {
            push_route_refresh(&mut p.tx.out, family, Subtype::BeginOfRefresh);
        }
        let end = !enhanced;
        if family == AfiSafi::IPV4_UNICAST {
            self.dump::<u64>(peer, end);
        } else {
            self.dump::<Ipv6Prefix>(peer, end);
        }
        if let Some(p) = self.peers.get_mut(peer.index()).filter(|_| enhanced) {
            push_route_refresh(&mut p.tx.out, family, Subtype::EndOfRefresh);
        }
    }

    fn handle_update(&mut self, peer: PeerId, msg: &[u8], ctx: &Context) -> Outcome {
        let (pkt, soft) = match UpdatePacket::parse_revised(msg, ctx) {
            Ok(v) => v,
            Err(e) => return self.reset(peer, e, msg),
        };
        let Some(p) = self.peers.get_mut(peer.index()) else {
            return Outcome::NotUp;
        };
        p.counters.updates_received += 1;
        let role = p.cfg.role;
        let sender_rid = p.router_id;
        let treat = pkt.is_treat_as_withdraw();
        if let Some(e) = soft {
            match e.action {
                Action::TreatAsWithdraw => p.counters.treat_as_withdraw += 1,
                _ => p.counters.attribute_discard += 1,
            }
            self.push_event(Event::UpdateError { peer, error: e });
        }
        let mut withdrawn = 0u32;
        let mut announced = 0u32;
        let mut rejected = 0u32;
        // Withdrawals.
        for n in pkt.withdrawn() {
            withdrawn += self.withdraw_path(peer, n) as u32;
        }
        if let Some(mu) = pkt.mp_unreach() {
            if let Some(it) = mu.prefixes().filter(|_| mu.afi_safi.safi == Safi::UNICAST) {
                for n in it {
                    withdrawn += self.withdraw_path(peer, n) as u32;
                }
            }
        }
        let mp = pkt
            .mp_reach()
            .filter(|m| m.afi_safi.safi == Safi::UNICAST && m.afi_safi.is_ip());
        let classic = pkt.nlri();
        let mp_prefixes = mp.and_then(|m| m.prefixes());
        let received = classic.clone().count() + mp_prefixes.clone().map_or(0, |i| i.count());
        if let Some(p) = self.peers.get_mut(peer.index()) {
            p.counters.withdrawals_received += u64::from(withdrawn);
            p.counters.prefixes_received += received as u64;
        }
        if treat {
            for n in classic.chain(mp_prefixes.into_iter().flatten()) {
                withdrawn += self.withdraw_path(peer, n) as u32;
            }
            if let Some(e) = soft {
                return Outcome::TreatAsWithdraw(e);
            }
        } else if received > 0 {
            let ictx = ImportContext {
                role,
                four_octet: ctx.four_octet_as,
            };
            let mut scratch = core::mem::take(&mut self.scratch);
            for (with_nh, nlri, mp_nh) in [
                (true, Some(classic), None),
                (false, mp_prefixes, mp.map(|m| m.next_hop)),
            ] {
                let Some(nlri) = nlri else { continue };
                if nlri.as_bytes().is_empty() {
                    continue;
                }
                reflect::canonicalize(pkt.attributes(), &ictx, with_nh, &mut scratch);
                let looped =
                    reflect::loop_check(&scratch, role, &self.me, self.cfg.router_id.to_bits());
                if let Some(reason) = looped {
                    for n in nlri {
                        rejected += 1;
                        self.withdraw_path(peer, n);
                        if self.cfg.record_events {
                            self.push_event(Event::LoopRejected {
                                peer,
                                prefix: n.prefix,
                                reason,
                            });
                        }
                    }
                    continue;
                }
                let id = self.attrs.intern(&scratch, mp_nh);
                for n in nlri {
                    self.attrs.retain(id);
                    if self.insert_path(peer, n, id) {
                        announced += 1;
                    }
                }
                self.attrs.release(id);
            }
            self.scratch = scratch;
        }
        let _ = sender_rid;
        let mut eor = None;
        if let Some(p) = self.peers.get_mut(peer.index()) {
            p.counters.accepted += u64::from(announced);
            p.counters.rejected_loop += u64::from(rejected);
            if p.restart.is_some() {
                eor = pkt.end_of_rib();
            }
        }
        if let Some(f) = eor {
            // RFC 4724 §4.2: End-of-RIB from the restarted peer ends the family's stale paths.
            self.sweep_stale(peer, f, true);
        }
        match soft {
            Some(e) if e.action == Action::AttributeDiscard => Outcome::AttributeDiscarded(e),
            _ => Outcome::Accepted {
                announced,
                withdrawn,
                rejected,
            },
        }
    }

    /// Insert a path holding one reference to `id` (consumed). Returns whether it changed anything.
    fn insert_path(&mut self, peer: PeerId, n: Nlri, id: AttrId) -> bool {
        if let Some(r) = self
            .peers
            .get_mut(peer.index())
            .and_then(|p| p.restart.as_mut())
        {
            let rid = n.path_id.unwrap_or(0);
            match n.prefix {
                Prefix::V4(p) if r.stale.contains(AfiSafi::IPV4_UNICAST) => {
                    r.refreshed_v4.insert((p.key(), rid));
                }
                Prefix::V6(p) if r.stale.contains(AfiSafi::IPV6_UNICAST) => {
                    r.refreshed_v6.insert((p, rid));
                }
                _ => {}
            }
        }
        let local_id = self.next_local_id;
        let changed = match n.prefix {
            Prefix::V4(p) => upsert::<u64>(
                &mut self.rib,
                &mut self.attrs,
                p.key(),
                peer,
                n.path_id.unwrap_or(0),
                id,
                local_id,
            ),
            Prefix::V6(p) => upsert::<Ipv6Prefix>(
                &mut self.rib,
                &mut self.attrs,
                p,
                peer,
                n.path_id.unwrap_or(0),
                id,
                local_id,
            ),
        };
        if changed == Some(true) {
            self.next_local_id = self.next_local_id.wrapping_add(1).max(1);
        }
        changed.is_some()
    }

    fn withdraw_path(&mut self, peer: PeerId, n: Nlri) -> bool {
        let rid = n.path_id.unwrap_or(0);
        match n.prefix {
            Prefix::V4(p) => remove_path::<u64>(&mut self.rib, &mut self.attrs, p.key(), peer, rid),
            Prefix::V6(p) => {
                remove_path::<Ipv6Prefix>(&mut self.rib, &mut self.attrs, p, peer, rid)
            }
        }
    }

    /// Originate a route from this engine (as a speaker's own network).
    ///
    /// ORIGIN (IGP) and an empty AS_PATH are added when `attributes` lack
    /// them; NEXT_HOP comes from `next_hop` (through MP_REACH_NLRI for IPv6
    /// prefixes and for IPv4 prefixes with an IPv6 next hop).
    pub fn originate(
        &mut self,
        prefix: Prefix,
        next_hop: IpAddr,
        attributes: &[AttributeRepr],
    ) -> Result<()> {
        use crate::wire::attribute::{type_code, Origin};
        use crate::wire::update_repr::{AsPath, AttributeValue};
        let mut list: Vec<AttributeRepr> = attributes
            .iter()
            .filter(|a| {
                !matches!(
                    a.value.type_code(),
                    type_code::NEXT_HOP | type_code::MP_REACH_NLRI | type_code::MP_UNREACH_NLRI
                )
            })
            .cloned()
            .collect();
        let has = |l: &[AttributeRepr], t: u8| l.iter().any(|a| a.value.type_code() == t);
        if !has(&list, type_code::ORIGIN) {
            list.push(AttributeRepr::new(AttributeValue::Origin(Origin::Igp)));
        }
        if !has(&list, type_code::AS_PATH) {
            list.push(AttributeRepr::new(
                AttributeValue::AsPath(AsPath::default()),
            ));
        }
        let mp_nh: Option<Vec<u8>> = match (prefix, next_hop) {
            (Prefix::V4(_), IpAddr::V4(v4)) => {
                list.push(AttributeRepr::new(AttributeValue::NextHop(v4)));
                None
            }
            (_, IpAddr::V6(v6)) => Some(v6.octets().to_vec()),
            (Prefix::V6(_), IpAddr::V4(v4)) => Some(v4.to_ipv6_mapped().octets().to_vec()),
        };
        let ctx = Context::MODERN;
        let len: usize = list.iter().map(|a| a.buffer_len(&ctx)).sum();
        let mut raw = alloc::vec![0u8; len];
        let mut w = Writer::new(&mut raw);
        for a in &list {
            a.emit(&mut w, &ctx)?;
        }
        let it = crate::wire::attribute::AttrIter::new_checked(&raw, 0)?;
        let mut block = Vec::new();
        reflect::canonicalize(
            it,
            &ImportContext {
                role: Role::Client,
                four_octet: true,
            },
            mp_nh.is_none(),
            &mut block,
        );
        let id = self.attrs.intern(&block, mp_nh.as_deref());
        self.insert_path(PeerId::LOCAL, Nlri::new(prefix), id);
        Ok(())
    }

    /// Withdraw a route this engine originated.
    pub fn withdraw_local(&mut self, prefix: Prefix) -> bool {
        self.withdraw_path(PeerId::LOCAL, Nlri::new(prefix))
    }

    /// Rank every changed prefix and write every up peer's UPDATEs.
    pub fn flush(&mut self) {
        self.flush_family::<u64>();
        self.flush_family::<Ipv6Prefix>();
        self.out_cache.clear();
    }

    fn flush_family<K: RouteKey>(&mut self) {
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
        // addresses and message size, no ADD-PATH) share one export pass.
        type ClassKey = (Role, bool, Option<Ipv4Addr>, Option<Ipv6Addr>, usize);
        let mut classes: Vec<(ClassKey, Vec<PeerId>)> = Vec::new();
        let mut singles: Vec<PeerId> = Vec::new();
        for (t, tp) in self.peers.iter().enumerate() {
            if !tp.has_family(K::FAMILY) {
                continue;
            }
            let tid = PeerId(t as u32);
            if tp.add_path_tx(K::FAMILY) {
                singles.push(tid);
                continue;
            }
            let key = (
                tp.cfg.role,
                tp.tx_ctx.four_octet_as,
                tp.cfg.local_v4,
                tp.cfg.local_v6,
                tp.tx_ctx.max_message_len(),
            );
            match classes.iter_mut().find(|(k, _)| *k == key) {
                Some((_, members)) => members.push(tid),
                None => classes.push((key, alloc::vec![tid])),
            }
        }
        for (_, members) in classes {
            if members.len() > 1 {
                self.export_shared::<K>(&members, &slots);
            } else {
                singles.extend(members);
            }
        }
        for tid in singles {
            self.export_to::<K>(tid, Some(&slots));
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

    /// Remove the paths of `peer` (all, or all but those in `keep`); returns
    /// how many. A peer with a large table changes many prefixes at once:
    /// every [`SWEEP_CHUNK`] changed prefixes are flushed on the way, so the
    /// list of pending changes stays bounded.
    fn sweep<K: RouteKey>(&mut self, peer: PeerId, keep: Option<&HashSet<(K, u32)>>) -> u64 {
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
        removed
    }

    /// Write the whole table of family K to `peer`, then End-of-RIB if `end_of_rib`.
    fn dump<K: RouteKey>(&mut self, peer: PeerId, end_of_rib: bool) {
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

    /// Export the entries at `slots` once for a class of peers and copy the
    /// bytes to each of them. A peer that is the source or the originator of
    /// one of these paths (now or at the last flush) gets its own pass
    /// instead, since it must not be sent its own routes.
    fn export_shared<K: RouteKey>(&mut self, members: &[PeerId], slots: &[Dirty]) {
        let Some(first) = members.first().and_then(|m| self.peers.get(m.index())) else {
            return;
        };
        let t_cfg = first.cfg;
        let tx_ctx = first.tx_ctx;
        let table = K::table(&self.rib);
        let mut involved: Vec<PeerId> = Vec::new();
        let mut involved_rids: Vec<u32> = Vec::new();
        let mut ex = Exporter {
            peers: &self.peers,
            attrs: &self.attrs,
            cache: &mut self.out_cache,
            me: &self.me,
            resolver: self.resolver.as_ref(),
            target: PeerId(u32::MAX),
            t_role: t_cfg.role,
            t_rid: 0,
            t_cfg,
            four_octet: tx_ctx.four_octet_as,
            c2c: self.cfg.client_to_client,
            groups: Vec::new(),
            group_of: HashMap::new(),
            withdrawals: Vec::new(),
            last: None,
        };
        let mut last_src: Option<(AttrId, PeerId)> = None;
        for &(i, old) in slots {
            let Some(e) = table.at(i as usize) else {
                continue;
            };
            let Some(prefix) = e.key.prefix() else {
                continue;
            };
            for (a, src) in e
                .paths
                .first()
                .map(|p| (p.attrs, p.peer))
                .into_iter()
                .chain(old)
            {
                if last_src == Some((a, src)) {
                    continue;
                }
                last_src = Some((a, src));
                if !involved.contains(&src) {
                    involved.push(src);
                }
                let src_rid = self.peers.get(src.index()).map_or(0, |p| p.router_id);
                let rid = ex
                    .attrs
                    .get(a)
                    .and_then(|s| s.originator_id())
                    .unwrap_or(src_rid);
                if !involved_rids.contains(&rid) {
                    involved_rids.push(rid);
                }
            }
            ex.export_best(e, prefix, old);
        }
        let Exporter {
            groups,
            withdrawals,
            ..
        } = ex;
        let mut shared: Vec<u8> = Vec::new();
        let mut sent = PeerCounters::default();
        let overflowed = pack(
            K::FAMILY,
            &groups,
            &withdrawals,
            &mut Packer::new(&mut shared, tx_ctx.max_message_len(), false),
            &mut sent,
        );
        let shared = Bytes::from(shared);
        for &m in members {
            let own = involved.contains(&m)
                || self
                    .peers
                    .get(m.index())
                    .is_some_and(|p| involved_rids.contains(&p.router_id));
            if own {
                self.export_to::<K>(m, Some(slots));
                continue;
            }
            if let Some(tp) = self.peers.get_mut(m.index()) {
                tp.tx.push_shared(&shared);
                tp.counters.updates_sent += sent.updates_sent;
                tp.counters.withdrawals_sent += sent.withdrawals_sent;
                tp.counters.prefixes_sent += sent.prefixes_sent;
                tp.counters.encode_overflows += sent.encode_overflows;
            }
            for &prefix in &overflowed {
                self.push_event(Event::EncodeOverflow { peer: m, prefix });
            }
        }
    }

    /// Export the entries at `slots` (or, with `None`, the whole table as a fresh dump) to `target`.
    fn export_to<K: RouteKey>(&mut self, target: PeerId, slots: Option<&[Dirty]>) {
        let Some(tp) = self.peers.get_mut(target.index()) else {
            return;
        };
        if tp.up.is_none() {
            return;
        }
        let mut tx = core::mem::take(&mut tp.tx);
        let mut counters = tp.counters;
        let t_role = tp.cfg.role;
        let t_cfg = tp.cfg;
        let t_rid = tp.router_id;
        let tx_ctx = tp.tx_ctx;
        let add_path = tp.add_path_tx(K::FAMILY);
        let limit = match t_cfg.add_path_send {
            AddPathSend::Best(n) => usize::from(n.max(1)),
            _ => usize::MAX,
        };
        let mut ex = Exporter {
            peers: &self.peers,
            attrs: &self.attrs,
            cache: &mut self.out_cache,
            me: &self.me,
            resolver: self.resolver.as_ref(),
            target,
            t_role,
            t_rid,
            t_cfg,
            four_octet: tx_ctx.four_octet_as,
            c2c: self.cfg.client_to_client,
            groups: Vec::new(),
            group_of: HashMap::new(),
            withdrawals: Vec::new(),
            last: None,
        };
        let table = K::table(&self.rib);
        let adj = K::adj(&mut tx);
        let mut visit = |e: &Entry<K>, old: Adv| {
            let Some(prefix) = e.key.prefix() else { return };
            if add_path {
                ex.export_add_path(e, prefix, adj, limit);
            } else {
                ex.export_best(e, prefix, old);
            }
        };
        match slots {
            Some(slots) => {
                for &(i, old) in slots {
                    if let Some(e) = table.at(i as usize) {
                        visit(e, old);
                    }
                }
            }
            // A fresh dump: nothing was advertised before.
            None => {
                for e in table.iter() {
                    visit(e, None);
                }
            }
        }
        let Exporter {
            groups,
            withdrawals,
            ..
        } = ex;
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

    /// Take the next message queued for `peer` into `buf`; returns its length.
    ///
    /// Pending changes are flushed first. `buf` should hold the peer's maximum
    /// message size (4,096 bytes, or 65,535 with extended messages): a message
    /// that does not fit stays queued, `None` is returned, and
    /// [`Engine::next_transmit_len`] tells the size needed.
    pub fn poll_transmit(&mut self, peer: PeerId, buf: &mut [u8]) -> Option<usize> {
        self.flush();
        let tx = &mut self.peers.get_mut(peer.index())?.tx;
        let rest = tx.front()?;
        let len = usize::from(u16::from_be_bytes([*rest.get(16)?, *rest.get(17)?]));
        let msg = rest.get(..len)?;
        let dst = buf.get_mut(..len)?;
        dst.copy_from_slice(msg);
        tx.pos += len;
        Some(len)
    }

    /// Length of the next message queued for `peer` (after flushing pending changes).
    pub fn next_transmit_len(&mut self, peer: PeerId) -> Option<usize> {
        self.flush();
        let rest = self.peers.get_mut(peer.index())?.tx.front()?;
        Some(usize::from(u16::from_be_bytes([
            *rest.get(16)?,
            *rest.get(17)?,
        ])))
    }

    /// Take every message queued for `peer`, concatenated (after flushing pending changes).
    pub fn take_transmit(&mut self, peer: PeerId) -> Vec<u8> {
        let chunks = self.take_transmit_chunks(peer);
        match <[Bytes; 1]>::try_from(chunks) {
            Ok([one]) => Vec::from(one),
            Err(chunks) => chunks.concat(),
        }
    }

    /// Take every message queued for `peer` as chunks of whole messages, without
    /// copying (after flushing pending changes). Chunks written once for several
    /// peers of the same class are shared between them.
    pub fn take_transmit_chunks(&mut self, peer: PeerId) -> Vec<Bytes> {
        self.flush();
        self.peers
            .get_mut(peer.index())
            .map(|p| p.tx.take())
            .unwrap_or_default()
    }

    /// Bytes queued for `peer` (not counting changes not yet flushed).
    pub fn pending_bytes(&self, peer: PeerId) -> usize {
        self.peers.get(peer.index()).map_or(0, |p| p.tx.queued())
    }

    /// Every candidate path for `prefix`, best first.
    pub fn candidates(&self, prefix: &Prefix) -> Vec<PathView<'_>> {
        let paths: SmallVec<[Path; 4]> = match prefix {
            Prefix::V4(p) => self
                .rib
                .v4
                .get(&p.key())
                .map(|e| e.paths.iter().copied().collect()),
            Prefix::V6(p) => self
                .rib
                .v6
                .get(p)
                .map(|e| e.paths.iter().copied().collect()),
        }
        .unwrap_or_default();
        let mut cands: SmallVec<[Candidate; 4]> = paths
            .iter()
            .filter_map(|p| {
                candidate(
                    p,
                    &self.attrs,
                    &self.peers,
                    &self.cfg,
                    self.resolver.as_ref(),
                )
            })
            .collect();
        decision::rank(&mut cands, &self.cfg.decision);
        cands
            .iter()
            .filter_map(|c| {
                let p = paths
                    .iter()
                    .find(|p| p.local_id == c.local_id && p.peer == c.peer)?;
                Some(PathView {
                    peer: p.peer,
                    remote_id: p.remote_id,
                    local_id: p.local_id,
                    attrs: p.attrs,
                    set: self.attrs.get(p.attrs)?,
                    reachable: c.reachable,
                })
            })
            .collect()
    }

    /// The best path for `prefix`, if it has an eligible one.
    pub fn best(&self, prefix: &Prefix) -> Option<PathView<'_>> {
        self.candidates(prefix)
            .into_iter()
            .next()
            .filter(|p| p.reachable)
    }

    /// Every prefix with its best path, IPv4 then IPv6, each in ascending prefix order.
    pub fn loc_rib(&self) -> Vec<(Prefix, PathView<'_>)> {
        let mut v4: Vec<Prefix> = self.rib.v4.iter().filter_map(|e| e.key.prefix()).collect();
        let mut v6: Vec<Prefix> = self.rib.v6.iter().filter_map(|e| e.key.prefix()).collect();
        v4.sort_unstable();
        v6.sort_unstable();
        v4.into_iter()
            .chain(v6)
            .filter_map(|p| Some((p, self.best(&p)?)))
            .collect()
    }

    /// Number of prefixes in the Loc-RIB (IPv4, IPv6).
    pub fn prefix_counts(&self) -> (usize, usize) {
        (self.rib.v4.len(), self.rib.v6.len())
    }

    /// The attribute set behind a handle.
    pub fn attr_set(&self, id: AttrId) -> Option<&AttrSet> {
        self.attrs.get(id)
    }

    /// Memory held by the RIB.
    pub fn memory(&self) -> MemoryStats {
        let paths = self.rib.v4.iter().map(|e| e.paths.len()).sum::<usize>()
            + self.rib.v6.iter().map(|e| e.paths.len()).sum::<usize>();
        let spill = self
            .rib
            .v4
            .iter()
            .map(|e| e.paths.heap_bytes())
            .sum::<usize>()
            + self
                .rib
                .v6
                .iter()
                .map(|e| e.paths.heap_bytes())
                .sum::<usize>();
        MemoryStats {
            prefixes: self.rib.v4.len() + self.rib.v6.len(),
            paths,
            attr_sets: self.attrs.len(),
            table_bytes: self.rib.v4.heap_bytes() + self.rib.v6.heap_bytes() + spill,
            attr_bytes: self.attrs.heap_bytes(),
        }
    }
}

struct Exporter<'a> {
    peers: &'a [PeerState],
    attrs: &'a Interner<()>,
    cache: &'a mut OutCache,
    me: &'a LocalIdentity,
    resolver: Option<&'a Resolver>,
    target: PeerId,
    t_role: Role,
    t_rid: u32,
    t_cfg: PeerConfig,
    four_octet: bool,
    c2c: bool,
    groups: Vec<(Arc<OutBlock>, Group)>,
    group_of: HashMap<usize, usize>,
    withdrawals: Vec<Nlri>,
    /// The last (set, source) looked up and its group (`None`: not exported to this peer).
    last: Option<((AttrId, PeerId), Option<usize>)>,
}

impl Exporter<'_> {
    fn source(&self, peer: PeerId) -> Option<(Source, u32)> {
        if peer == PeerId::LOCAL {
            return Some((Source::Local, 0));
        }
        let p = self.peers.get(peer.index())?;
        Some((p.source(), p.router_id))
    }

    /// The block `target` gets for a path from `src` with set `attrs`, if it may get it.
    fn out_block(&mut self, attrs: AttrId, src: PeerId) -> Option<Arc<OutBlock>> {
        if src == self.target {
            return None;
        }
        let (source, src_rid) = self.source(src)?;
        if !reflect::may_export(source, self.t_role, self.c2c) {
            return None;
        }
        let set = self.attrs.get(attrs)?;
        let originator = set.originator_id().unwrap_or(src_rid);
        if self.t_role.is_ibgp() && source != Source::Local && originator == self.t_rid {
            return None;
        }
        let class = match (self.t_role, source) {
            (Role::Ebgp, _) => ExportClass::External {
                next_hop_v4: self.t_cfg.local_v4,
                next_hop_v6: self.t_cfg.local_v6,
                keep_med: source == Source::Local,
                four_octet: self.four_octet,
            },
            (_, Source::Peer(Role::Client | Role::NonClient)) => ExportClass::Reflect {
                originator,
                four_octet: self.four_octet,
            },
            _ => ExportClass::Internal {
                four_octet: self.four_octet,
            },
        };
        if let Some(blk) = self.cache.get(&(attrs, class)) {
            return Some(blk.clone());
        }
        let set = self.attrs.get(attrs)?;
        let blk = Arc::new(reflect::rewrite(
            set.block(),
            set.mp_next_hop(),
            &class,
            self.me,
        ));
        self.cache.insert((attrs, class), blk.clone());
        Some(blk)
    }

    fn announce(&mut self, blk: Arc<OutBlock>, n: Nlri) {
        let key = Arc::as_ptr(&blk) as usize;
        match self.group_of.get(&key) {
            Some(&i) => {
                if let Some(g) = self.groups.get_mut(i) {
                    g.1.push(n);
                }
            }
            None => {
                self.group_of.insert(key, self.groups.len());
                self.groups.push((blk, smallvec::smallvec![n]));
            }
        }
    }

    /// The group collecting prefixes for (set, source); consecutive prefixes
    /// usually share both, so the last answer is kept.
    #[inline]
    fn group_for(&mut self, key: (AttrId, PeerId)) -> Option<usize> {
        if let Some((k, g)) = self.last {
            if k == key {
                return g;
            }
        }
        let g = self.out_block(key.0, key.1).map(|blk| {
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
        self.last = Some((key, g));
        g
    }

    /// Export the best path of `e` given what was advertised before (`old`).
    fn export_best<K>(&mut self, e: &Entry<K>, prefix: Prefix, old: Adv) {
        let new = best_of(e, self.attrs, self.resolver).map(|p| (p.attrs, p.peer));
        if new == old {
            return;
        }
        let new_group = new.and_then(|k| self.group_for(k));
        match new_group {
            Some(g) => {
                if let Some((oa, os)) = old {
                    // Same bytes as before (e.g. only the source changed within a class): skip.
                    if let (Some(ob), Some((nb, _))) = (self.out_block(oa, os), self.groups.get(g))
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
                    if self.out_block(oa, os).is_some() {
                        self.withdrawals.push(Nlri::new(prefix));
                    }
                }
            }
        }
    }

    fn export_add_path<K: RouteKey>(
        &mut self,
        e: &Entry<K>,
        prefix: Prefix,
        adj: &mut AdjOut<K>,
        limit: usize,
    ) {
        let mut new: SmallVec<[(u32, Arc<OutBlock>); 2]> = SmallVec::new();
        for p in e.paths.iter() {
            if new.len() >= limit {
                break;
            }
            if !reachable(self.attrs.get(p.attrs), p.peer, self.resolver) {
                break;
            }
            if let Some(blk) = self.out_block(p.attrs, p.peer) {
                new.push((p.local_id, blk));
            }
        }
        let old = adj.remove(&e.key).unwrap_or_default();
        for (id, _) in old
            .iter()
            .filter(|(id, _)| !new.iter().any(|(n, _)| n == id))
        {
            self.withdrawals.push(Nlri {
                path_id: Some(*id),
                prefix,
            });
        }
        for (id, blk) in new.iter() {
            let same = old
                .iter()
                .any(|(o, ob)| o == id && (Arc::ptr_eq(ob, blk) || **ob == **blk));
            if !same {
                self.announce(
                    blk.clone(),
                    Nlri {
                        path_id: Some(*id),
                        prefix,
                    },
                );
            }
        }
        if !new.is_empty() {
            adj.insert(e.key, new);
        }
    }
}

/// Write withdrawals, then announcements grouped by attribute block; count
/// what was written and return the prefixes whose attributes did not fit.
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
                counters.encode_overflows += nlri.len() as u64;
                overflowed.extend(nlri.iter().map(|n| n.prefix));
            }
        }
    }
    overflowed
}

fn reachable(set: Option<&AttrSet>, peer: PeerId, resolver: Option<&Resolver>) -> bool {
    match (resolver, set) {
        (None, _) => true,
        _ if peer == PeerId::LOCAL => true,
        (Some(r), Some(s)) => s.info().next_hop.is_some_and(|nh| r(nh).is_some()),
        (Some(_), None) => false,
    }
}

fn best_of<'e, K>(
    e: &'e Entry<K>,
    attrs: &Interner<()>,
    resolver: Option<&Resolver>,
) -> Option<&'e Path> {
    e.paths
        .first()
        .filter(|p| reachable(attrs.get(p.attrs), p.peer, resolver))
}

fn candidate(
    p: &Path,
    attrs: &Interner<()>,
    peers: &[PeerState],
    cfg: &EngineConfig,
    resolver: Option<&Resolver>,
) -> Option<Candidate> {
    let set = attrs.get(p.attrs)?;
    let (ebgp, router_id, addr) = if p.peer == PeerId::LOCAL {
        (false, cfg.router_id.to_bits(), 0)
    } else {
        let ps = peers.get(p.peer.index())?;
        (
            ps.cfg.role == Role::Ebgp,
            ps.router_id,
            decision::addr_key(ps.cfg.address),
        )
    };
    let (reach, cost) = match resolver {
        _ if p.peer == PeerId::LOCAL => (true, 0),
        None => (true, 0),
        Some(r) => match set.info().next_hop.and_then(r) {
            Some(c) => (true, c),
            None => (false, u32::MAX),
        },
    };
    Some(Candidate {
        info: set.info(),
        ebgp,
        reachable: reach,
        igp_cost: cost,
        router_id,
        peer_addr: addr,
        peer: p.peer,
        remote_id: p.remote_id,
        local_id: p.local_id,
    })
}

fn rank_entry<K>(
    e: &mut Entry<K>,
    attrs: &Interner<()>,
    peers: &[PeerState],
    cfg: &EngineConfig,
    resolver: Option<&Resolver>,
) {
    if e.paths.len() < 2 {
        return;
    }
    let mut cands: SmallVec<[Candidate; 4]> = e
        .paths
        .iter()
        .filter_map(|p| candidate(p, attrs, peers, cfg, resolver))
        .collect();
    decision::rank(&mut cands, &cfg.decision);
    let mut ordered: SmallVec<[Path; 4]> = SmallVec::with_capacity(e.paths.len());
    for c in &cands {
        if let Some(p) = e
            .paths
            .iter()
            .find(|p| p.local_id == c.local_id && p.peer == c.peer)
        {
            ordered.push(*p);
        }
    }
    if ordered.len() == e.paths.len() {
        e.paths.copy_from_slice(&ordered);
    }
}

/// Append a ROUTE-REFRESH of `subtype` for `family` (RFC 7313 markers).
fn push_route_refresh(out: &mut Vec<u8>, family: AfiSafi, subtype: Subtype) {
    let msg = RouteRefreshRepr {
        afi_safi: family,
        subtype,
        orf: Vec::new(),
    };
    let mut buf = [0u8; ROUTE_REFRESH_LEN];
    if let Ok(n) = msg.emit(&mut buf) {
        out.extend_from_slice(buf.get(..n).unwrap_or(&[]));
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

fn mark_all<K: RouteKey>(rib: &mut Rib, attrs: &mut Interner<()>) {
    let (table, dirty) = K::table_mut(rib);
    for (i, e) in table.iter_mut().enumerate() {
        touch(e, i, dirty, attrs);
    }
}

fn upsert<K: RouteKey>(
    rib: &mut Rib,
    attrs: &mut Interner<()>,
    key: K,
    peer: PeerId,
    remote_id: u32,
    id: AttrId,
    local_id: u32,
) -> Option<bool> {
    let (table, dirty) = K::table_mut(rib);
    let Some((at_pos, e)) = table.get_or_insert(key) else {
        attrs.release(id);
        return None;
    };
    let at = e
        .paths
        .iter()
        .position(|p| p.peer == peer && p.remote_id == remote_id);
    if let Some(p) = at.and_then(|i| e.paths.get(i)) {
        if p.attrs == id {
            attrs.release(id);
            return None;
        }
    }
    touch(e, at_pos, dirty, attrs);
    match at.and_then(|i| e.paths.get_mut(i)) {
        Some(p) => {
            let old = core::mem::replace(&mut p.attrs, id);
            attrs.release(old);
            Some(false)
        }
        None => {
            e.paths.push(Path {
                attrs: id,
                peer,
                remote_id,
                local_id,
            });
            Some(true)
        }
    }
}

fn remove_path<K: RouteKey>(
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
    let Some(i) = e
        .paths
        .iter()
        .position(|p| p.peer == peer && p.remote_id == remote_id)
    else {
        return false;
    };
    touch(e, pos, dirty, attrs);
    if let Some(p) = e.paths.remove(i) {
        attrs.release(p.attrs);
    }
    true
}

/// How many paths of `peer` the table holds.
fn count_peer_paths<K: RouteKey>(rib: &Rib, peer: PeerId) -> u64 {
    K::table(rib)
        .iter()
        .map(|e| e.paths.iter().filter(|p| p.peer == peer).count() as u64)
        .sum()
}

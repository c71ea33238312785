//! The engine's public configuration and result types.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::decision::DecisionConfig;
use crate::error::Error;
use crate::reflect::{LoopReason, Role};
use crate::rib::{AttrId, AttrSet, PeerId};
use crate::wire::capability::BgpRole;
use crate::wire::update_repr::AttributeRepr;
use crate::wire::{AfiSafi, AfiSafiSet, Context, MessageType, Prefix};

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
    /// Record events for [`Engine::poll_event`](super::Engine::poll_event).
    pub record_events: bool,
    /// At most this many events are kept; older ones are dropped and counted.
    pub max_events: usize,
    /// RFC 8212: an eBGP peer without an import policy has every route it
    /// sends rejected, and one without an export policy is sent nothing.
    /// On by default; `false` is the explicit opt-out.
    pub ebgp_requires_policy: bool,
    /// RFC 4684: send route-reflector clients that negotiated RT membership
    /// the default membership (every route target), so that they send the
    /// reflector all of their VPN and EVPN routes. On by default.
    pub rtc_default_to_clients: bool,
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
            ebgp_requires_policy: true,
            rtc_default_to_clients: true,
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
    /// The most IPv4 unicast prefixes accepted from the peer at once (`None`: no limit).
    pub max_prefixes_ipv4: Option<PrefixLimit>,
    /// The most IPv6 unicast prefixes accepted from the peer at once (`None`: no limit).
    pub max_prefixes_ipv6: Option<PrefixLimit>,
    /// The most paths per prefix the peer may send with ADD-PATH; more are refused (`None`: no limit).
    pub max_paths_per_prefix: Option<u16>,
    /// The most bytes of attribute sets the peer's routes may create (sets
    /// no other peer had; counted until they are freed). A route that would
    /// create one past it is refused and the peer's older path for the
    /// prefix withdrawn (`None`: no limit).
    pub max_attr_bytes: Option<u64>,
    /// How many times our AS may appear in the AS_PATH of a route from this
    /// eBGP peer before the route is rejected as a loop (0, the RFC 4271
    /// §9.1.2 default: never; BIRD's `allow local as`, `allowas-in` elsewhere).
    pub allow_own_as: u8,
    /// Toward this eBGP peer, pass IPv4/IPv6 unicast routes on with their
    /// next hop unchanged instead of our address (a third-party next hop, RFC
    /// 4271 §5.1.3; BIRD's `next hop keep`, a route server's default, RFC 7947
    /// §2.2.2). Labelled, VPN and other keyed families keep their next hop
    /// toward eBGP anyway: their labels belong to it.
    pub next_hop_unchanged: bool,
    /// The AS we use on this session in place of
    /// [`EngineConfig::local_as`] (`None`: that one): the one prepended toward
    /// this eBGP peer, the one its routes' AS_PATH loop check looks for, and
    /// the policy's local AS (BIRD's `local as`). The session must open with
    /// it too, and [`Self::role`] follows from it (eBGP when it differs from
    /// the peer's AS).
    pub local_as: Option<u32>,
}

/// A per-family limit on what a peer may send (RFC 4486: Cease, Maximum Number of Prefixes Reached).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrefixLimit {
    /// Paths accepted from the peer in the family at once (prefixes, or paths with ADD-PATH).
    pub max: u32,
    /// Only count and raise [`Event::PrefixLimit`] when crossed; otherwise the
    /// session ends with the Cease NOTIFICATION and the peer's paths are withdrawn.
    pub warning_only: bool,
}

impl PrefixLimit {
    /// A limit that ends the session when crossed.
    pub fn cease(max: u32) -> Self {
        PrefixLimit {
            max,
            warning_only: false,
        }
    }

    /// A limit that only warns when crossed.
    pub fn warning(max: u32) -> Self {
        PrefixLimit {
            max,
            warning_only: true,
        }
    }
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
            max_prefixes_ipv4: None,
            max_prefixes_ipv6: None,
            max_paths_per_prefix: None,
            max_attr_bytes: None,
            allow_own_as: 0,
            next_hop_unchanged: false,
            local_as: None,
        }
    }

    /// The prefix limit for `family`, if one is set.
    pub fn prefix_limit(&self, family: AfiSafi) -> Option<PrefixLimit> {
        if family == AfiSafi::IPV4_UNICAST {
            self.max_prefixes_ipv4
        } else if family == AfiSafi::IPV6_UNICAST {
            self.max_prefixes_ipv6
        } else {
            None
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
    /// The role the peer plays on this eBGP session (RFC 9234), when roles are
    /// in use: it drives the OTC procedures on import and export. `None`: no roles.
    pub remote_role: Option<BgpRole>,
    /// Families the peer takes with an IPv6 next hop (RFC 8950). An IPv4 unicast
    /// route whose next hop is IPv6 is sent only to peers with IPv4 unicast here.
    pub extended_next_hop: AfiSafiSet,
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
            remote_role: None,
            extended_next_hop: AfiSafiSet::EMPTY,
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
    /// Times the peer's output was paused because it stopped reading.
    pub transmit_pauses: u64,
    /// Times the peer crossed one of its prefix limits.
    pub prefix_limit_hits: u64,
    /// Paths refused because the peer already had its maximum paths for the prefix.
    pub paths_refused: u64,
    /// Paths refused because they would have taken the peer past its attribute-set memory limit.
    pub attr_limit_refused: u64,
    /// Prefixes ignored because their family was not negotiated (or was disabled) on the session.
    pub unnegotiated_prefixes: u64,
    /// MP_REACH_NLRI / MP_UNREACH_NLRI attributes of a family Reflector does
    /// not know (never negotiated; their NLRI cannot be counted).
    pub unknown_family_attrs: u64,
    /// Families turned off for a malformed MP_REACH_NLRI / MP_UNREACH_NLRI (RFC 7606).
    pub families_disabled: u64,
    /// Paths the import policy rejected (or, under RFC 8212, that no import policy allowed).
    pub policy_rejected_in: u64,
    /// Paths the import policy accepted with changed attributes.
    pub policy_modified_in: u64,
    /// Prefixes the export policy (or RFC 8212) kept from the peer, counted as they were evaluated.
    pub policy_rejected_out: u64,
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
    /// Nothing to report: a message that is the session's business (KEEPALIVE, OPEN,
    /// NOTIFICATION), or an enhanced route refresh marker (BoRR / EoRR, RFC 7313),
    /// which the engine acts on (stale paths marked, then swept) without an outcome of its own.
    Ignored(MessageType),
    /// A malformed MP_REACH_NLRI or MP_UNREACH_NLRI (RFC 7606 §2 AFI/SAFI
    /// disable, RFC 4760 §7): the peer's paths of the family are withdrawn and
    /// the family is off for the rest of the session, which stays up.
    FamilyDisabled {
        /// The family turned off.
        family: AfiSafi,
        /// What was wrong.
        error: Error,
    },
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
    /// The best path of a route of a family beyond unicast changed, or its
    /// last path went (`best: None`); [`Engine::keyed_route`](super::Engine::keyed_route) reads it.
    KeyedBestChanged {
        /// The family.
        family: AfiSafi,
        /// The route's key (RD and prefix, an EVPN route's identifying fields, ...).
        key: Vec<u8>,
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
    /// A peer crossed its prefix limit for a family: warned, or its session ended.
    PrefixLimit {
        /// The peer.
        peer: PeerId,
        /// The family.
        family: AfiSafi,
        /// The limit.
        max: u32,
        /// Paths it had when it crossed the limit.
        held: u64,
        /// Only a warning: the session stays up.
        warning_only: bool,
    },
    /// A peer's routes reached its attribute-set memory limit: routes that
    /// would create new sets are refused until it drops below (raised once per crossing).
    AttrMemoryLimit {
        /// The peer.
        peer: PeerId,
        /// Bytes of attribute sets charged to it.
        bytes: u64,
        /// The limit.
        max: u64,
    },
    /// A path was refused: the peer already has its maximum paths for the prefix.
    PathLimit {
        /// The peer.
        peer: PeerId,
        /// The prefix.
        prefix: Prefix,
    },
    /// An MP_REACH_NLRI or MP_UNREACH_NLRI of a family the session does not
    /// carry (not negotiated, or turned off) or that Reflector does not know
    /// was ignored (and counted: `unnegotiated_prefixes`, `unknown_family_attrs`).
    UnknownFamily {
        /// The peer.
        peer: PeerId,
        /// The family.
        family: AfiSafi,
        /// How many NLRI it held (0 when Reflector cannot decode the family).
        nlri: u64,
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

/// A candidate path as seen through [`Engine::candidates`](super::Engine::candidates).
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
    /// Prefixes (routes, in the keyed families) in the Loc-RIB.
    pub prefixes: usize,
    /// Candidate paths.
    pub paths: usize,
    /// Distinct attribute sets.
    pub attr_sets: usize,
    /// Bytes held by the prefix tables (index, entries and spilled path lists),
    /// and by the keyed families' records of what each peer was told.
    pub table_bytes: usize,
    /// Bytes held by the attribute sets and the interner.
    pub attr_bytes: usize,
}

/// The next-hop resolver: `Some(igp_cost)` when the next hop is reachable.
pub type Resolver = Box<dyn Fn(IpAddr) -> Option<u32> + Send + Sync>;

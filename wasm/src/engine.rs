//! The route reflection engine for JavaScript: the `Engine` class over
//! [`reflector_core::engine::Engine`], with plain-object arguments and results.
//!
//! Every object that crosses the boundary is a Rust struct or enum here with
//! serde and [`Tsify`] derives, so the TypeScript declarations in
//! `reflector_wasm.d.ts` are generated from these types and cannot drift
//! from what the code reads and writes. Field names are camelCase.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use reflector_core::engine::{
    AddPathSend, Engine as CoreEngine, EngineConfig, Event as CoreEvent, Negotiated as CoreNeg,
    Outcome as CoreOutcome, PathView, PeerConfig, PeerCounters as CoreCounters,
    PrefixLimit as CoreLimit,
};
use reflector_core::reflect::{LoopReason, Role};
use reflector_core::rib::PeerId;
use reflector_core::wire::{AfiSafi, AfiSafiSet, MessageType, Prefix};
use serde::{Deserialize, Serialize};
use tsify_next::Tsify;
use wasm_bindgen::prelude::*;

use crate::decode::{self, DecodeError, PathAttribute};

/// An address family the engine knows, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "kebab-case")]
#[tsify(into_wasm_abi)]
pub enum FamilyName {
    /// IPv4 unicast (1/1).
    Ipv4Unicast,
    /// IPv6 unicast (2/1).
    Ipv6Unicast,
    /// IPv4 multicast (1/2).
    Ipv4Multicast,
    /// IPv6 multicast (2/2).
    Ipv6Multicast,
    /// IPv4 labeled unicast (1/4).
    Ipv4LabeledUnicast,
    /// IPv6 labeled unicast (2/4).
    Ipv6LabeledUnicast,
    /// VPN-IPv4 (1/128).
    Ipv4Vpn,
    /// VPN-IPv6 (2/128).
    Ipv6Vpn,
    /// RT membership (1/132).
    RouteTarget,
    /// IPv4 flow specification (1/133).
    Ipv4Flowspec,
    /// IPv6 flow specification (2/133).
    Ipv6Flowspec,
    /// EVPN (25/70).
    L2vpnEvpn,
}

impl FamilyName {
    const ALL: [FamilyName; 12] = [
        FamilyName::Ipv4Unicast,
        FamilyName::Ipv6Unicast,
        FamilyName::Ipv4Multicast,
        FamilyName::Ipv6Multicast,
        FamilyName::Ipv4LabeledUnicast,
        FamilyName::Ipv6LabeledUnicast,
        FamilyName::Ipv4Vpn,
        FamilyName::Ipv6Vpn,
        FamilyName::RouteTarget,
        FamilyName::Ipv4Flowspec,
        FamilyName::Ipv6Flowspec,
        FamilyName::L2vpnEvpn,
    ];

    /// The AFI/SAFI pair.
    pub fn afi_safi(self) -> AfiSafi {
        match self {
            FamilyName::Ipv4Unicast => AfiSafi::IPV4_UNICAST,
            FamilyName::Ipv6Unicast => AfiSafi::IPV6_UNICAST,
            FamilyName::Ipv4Multicast => AfiSafi::IPV4_MULTICAST,
            FamilyName::Ipv6Multicast => AfiSafi::IPV6_MULTICAST,
            FamilyName::Ipv4LabeledUnicast => AfiSafi::IPV4_LABELED,
            FamilyName::Ipv6LabeledUnicast => AfiSafi::IPV6_LABELED,
            FamilyName::Ipv4Vpn => AfiSafi::VPNV4,
            FamilyName::Ipv6Vpn => AfiSafi::VPNV6,
            FamilyName::RouteTarget => AfiSafi::RT_CONSTRAINT,
            FamilyName::Ipv4Flowspec => AfiSafi::IPV4_FLOWSPEC,
            FamilyName::Ipv6Flowspec => AfiSafi::IPV6_FLOWSPEC,
            FamilyName::L2vpnEvpn => AfiSafi::EVPN,
        }
    }
}

fn family_set(names: &[FamilyName]) -> AfiSafiSet {
    names
        .iter()
        .fold(AfiSafiSet::EMPTY, |s, f| s.with(f.afi_safi()))
}

fn family_names(set: AfiSafiSet) -> Vec<FamilyName> {
    FamilyName::ALL
        .into_iter()
        .filter(|f| set.contains(f.afi_safi()))
        .collect()
}

fn default_true() -> bool {
    true
}

/// The engine's configuration (`new Engine(config)`).
#[derive(Debug, Clone, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
#[tsify(into_wasm_abi)]
pub struct EngineOptions {
    /// Our AS number.
    pub local_as: u32,
    /// Our BGP identifier, an IPv4 address.
    pub router_id: String,
    /// Our cluster ID (an IPv4 address); the router ID when absent (RFC 4456 §7).
    #[serde(default)]
    #[tsify(optional)]
    pub cluster_id: Option<String>,
    /// Reflect routes from clients to other clients (RFC 4456 §6); default true.
    #[serde(default = "default_true")]
    #[tsify(optional)]
    pub client_to_client: bool,
    /// RFC 8212: eBGP peers get nothing in or out without a policy; default true.
    #[serde(default = "default_true")]
    #[tsify(optional)]
    pub ebgp_requires_policy: bool,
    /// Record events for `pollEvent()`; default true.
    #[serde(default = "default_true")]
    #[tsify(optional)]
    pub record_events: bool,
    /// At most this many events are queued; older ones are dropped and counted (default 65536).
    #[serde(default)]
    #[tsify(optional)]
    pub max_events: Option<u32>,
}

/// A peer relation to us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
#[tsify(into_wasm_abi)]
pub enum PeerRole {
    /// An iBGP peer that is our route-reflector client.
    Client,
    /// An iBGP peer that is not our client (another reflector, or a full-mesh peer).
    NonClient,
    /// An external peer.
    Ebgp,
}

/// How many paths per prefix to send a peer that negotiated ADD-PATH sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
#[tsify(into_wasm_abi)]
pub enum AddPathMode {
    /// Only the best path.
    Off,
    /// Every eligible candidate.
    All,
    /// The best N eligible candidates.
    Best(u8),
}

/// A per-family limit on the paths a peer may send (RFC 4486).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
#[tsify(into_wasm_abi)]
pub struct PrefixLimit {
    /// Paths accepted at once.
    pub max: u32,
    /// Only count and raise a `prefixLimit` event; otherwise the session ends.
    #[serde(default)]
    #[tsify(optional)]
    pub warning_only: bool,
}

/// A peer configuration (`engine.addPeer(config)`).
#[derive(Debug, Clone, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
#[tsify(into_wasm_abi)]
pub struct PeerOptions {
    /// Client, non-client or eBGP.
    pub role: PeerRole,
    /// The peer address (IPv4 or IPv6).
    pub address: String,
    /// The peer AS.
    pub asn: u32,
    /// Our IPv4 address on this session (NEXT_HOP toward eBGP).
    #[serde(default)]
    #[tsify(optional)]
    pub local_v4: Option<String>,
    /// Our IPv6 address on this session.
    #[serde(default)]
    #[tsify(optional)]
    pub local_v6: Option<String>,
    /// ADD-PATH sending, when negotiated (default `off`).
    #[serde(default)]
    #[tsify(optional)]
    pub add_path_send: Option<AddPathMode>,
    /// IPv4 unicast prefix limit.
    #[serde(default)]
    #[tsify(optional)]
    pub max_prefixes_ipv4: Option<PrefixLimit>,
    /// IPv6 unicast prefix limit.
    #[serde(default)]
    #[tsify(optional)]
    pub max_prefixes_ipv6: Option<PrefixLimit>,
    /// The most ADD-PATH paths per prefix accepted from the peer.
    #[serde(default)]
    #[tsify(optional)]
    pub max_paths_per_prefix: Option<u16>,
    /// The most bytes of new attribute sets the peer routes may create.
    #[serde(default)]
    #[tsify(optional)]
    pub max_attr_bytes: Option<u64>,
}

/// What a session negotiated in the OPEN exchange (`engine.peerUp(peer, negotiated)`).
#[derive(Debug, Clone, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
#[tsify(into_wasm_abi)]
pub struct Negotiated {
    /// The peer BGP identifier.
    pub router_id: String,
    /// Both sides support 4-octet AS numbers (default true).
    #[serde(default = "default_true")]
    #[tsify(optional)]
    pub four_octet_as: bool,
    /// Both sides support extended messages (default false).
    #[serde(default)]
    #[tsify(optional)]
    pub extended_message: bool,
    /// Families both sides support (default IPv4 and IPv6 unicast).
    #[serde(default)]
    #[tsify(optional)]
    pub families: Option<Vec<FamilyName>>,
    /// Families in which the peer sends path identifiers (ADD-PATH).
    #[serde(default)]
    #[tsify(optional)]
    pub add_path_receive: Vec<FamilyName>,
    /// Families in which we may send the peer path identifiers.
    #[serde(default)]
    #[tsify(optional)]
    pub add_path_send: Vec<FamilyName>,
    /// Both sides support enhanced route refresh (RFC 7313).
    #[serde(default)]
    #[tsify(optional)]
    pub enhanced_route_refresh: bool,
    /// Families the peer takes with an IPv6 next hop (RFC 8950).
    #[serde(default)]
    #[tsify(optional)]
    pub extended_next_hop: Vec<FamilyName>,
}

/// What the engine did with one received message (`engine.handleMessage`), by `kind`.
#[derive(Debug, Clone, Serialize, Tsify)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
#[tsify(into_wasm_abi, hashmap_as_object, missing_as_null)]
pub enum Outcome {
    /// The UPDATE was applied.
    Accepted {
        /// Paths that became (or replaced) candidates.
        announced: u32,
        /// Paths withdrawn.
        withdrawn: u32,
        /// Paths rejected by the loop checks (ORIGINATOR_ID, CLUSTER_LIST, AS_PATH).
        rejected: u32,
    },
    /// Malformed in a way RFC 7606 survives: the prefixes of the UPDATE were withdrawn.
    TreatAsWithdraw {
        /// What was wrong.
        error: DecodeError,
    },
    /// Applied without a malformed attribute (RFC 7606 attribute-discard).
    AttributeDiscarded {
        /// What was wrong.
        error: DecodeError,
    },
    /// Malformed beyond repair: send `notification` and close; the peer is already down.
    Reset {
        /// What was wrong.
        error: DecodeError,
        /// The NOTIFICATION message to send, header included.
        #[serde(serialize_with = "as_bytes")]
        #[tsify(type = "Uint8Array")]
        notification: Vec<u8>,
    },
    /// A ROUTE-REFRESH: the Adj-RIB-Out of the family was queued again.
    RouteRefresh {
        /// The family (`ipv4-unicast`, ...).
        family: String,
    },
    /// A KEEPALIVE, OPEN, NOTIFICATION or enhanced route refresh marker: nothing to report.
    Ignored {
        /// `OPEN`, `KEEPALIVE`, ...
        message_type: String,
    },
    /// A malformed MP_REACH_NLRI / MP_UNREACH_NLRI: the family is off for the session.
    FamilyDisabled {
        /// The family turned off.
        family: String,
        /// What was wrong.
        error: DecodeError,
    },
    /// The peer is unknown or not up.
    NotUp,
}

fn as_bytes<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_bytes(v)
}

/// A path in the Loc-RIB, its attributes decoded (`bestPaths()`, `candidates(prefix)`).
#[derive(Debug, Clone, Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
#[tsify(into_wasm_abi, hashmap_as_object, missing_as_null)]
pub struct Path {
    /// The prefix, e.g. `10.0.0.0/24`.
    pub prefix: String,
    /// The peer it came from; null for a route originated with `originate`.
    pub peer: Option<u32>,
    /// The peer ADD-PATH identifier (0 without ADD-PATH).
    pub remote_id: u32,
    /// Our identifier for the path.
    pub local_id: u32,
    /// Whether the next hop resolves.
    pub reachable: bool,
    /// ORIGIN: `IGP`, `EGP` or `INCOMPLETE`.
    pub origin: Option<String>,
    /// AS_PATH as routers print it.
    pub as_path: Option<String>,
    /// NEXT_HOP (IPv4) or the MP_REACH_NLRI next hop.
    pub next_hop: Option<String>,
    /// MULTI_EXIT_DISC.
    pub med: Option<u32>,
    /// LOCAL_PREF.
    pub local_pref: Option<u32>,
    /// COMMUNITIES, `asn:value` or the well-known name.
    pub communities: Vec<String>,
    /// LARGE_COMMUNITY, `global:local1:local2`.
    pub large_communities: Vec<String>,
    /// ORIGINATOR_ID (RFC 4456).
    pub originator_id: Option<String>,
    /// CLUSTER_LIST (RFC 4456).
    pub cluster_list: Vec<String>,
    /// Every attribute, as `decodeUpdate` gives them.
    pub attributes: Vec<PathAttribute>,
}

/// Per-peer counters (`engine.counters(peer)`).
#[derive(Debug, Clone, Copy, Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
#[tsify(into_wasm_abi)]
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
    /// Paths too large for the peer maximum message size.
    pub encode_overflows: u64,
    /// Graceful downs (RFC 4724).
    pub graceful_restarts: u64,
    /// Paths marked stale at graceful downs.
    pub stale_marked: u64,
    /// Stale paths removed.
    pub stale_removed: u64,
    /// Times the peer output was paused.
    pub transmit_pauses: u64,
    /// Times the peer crossed one of its prefix limits.
    pub prefix_limit_hits: u64,
    /// Paths refused by the per-prefix path limit.
    pub paths_refused: u64,
    /// Paths refused by the attribute memory limit.
    pub attr_limit_refused: u64,
    /// Prefixes ignored because their family was not negotiated.
    pub unnegotiated_prefixes: u64,
    /// MP attributes of a family Reflector does not know.
    pub unknown_family_attrs: u64,
    /// Families turned off for a malformed MP attribute (RFC 7606).
    pub families_disabled: u64,
    /// Paths the import policy rejected (or RFC 8212 kept out).
    pub policy_rejected_in: u64,
    /// Paths the import policy accepted with changed attributes.
    pub policy_modified_in: u64,
    /// Prefixes the export policy (or RFC 8212) kept from the peer.
    pub policy_rejected_out: u64,
}

impl From<CoreCounters> for PeerCounters {
    fn from(c: CoreCounters) -> Self {
        PeerCounters {
            updates_received: c.updates_received,
            prefixes_received: c.prefixes_received,
            withdrawals_received: c.withdrawals_received,
            accepted: c.accepted,
            rejected_loop: c.rejected_loop,
            treat_as_withdraw: c.treat_as_withdraw,
            attribute_discard: c.attribute_discard,
            session_resets: c.session_resets,
            route_refreshes: c.route_refreshes,
            updates_sent: c.updates_sent,
            prefixes_sent: c.prefixes_sent,
            withdrawals_sent: c.withdrawals_sent,
            encode_overflows: c.encode_overflows,
            graceful_restarts: c.graceful_restarts,
            stale_marked: c.stale_marked,
            stale_removed: c.stale_removed,
            transmit_pauses: c.transmit_pauses,
            prefix_limit_hits: c.prefix_limit_hits,
            paths_refused: c.paths_refused,
            attr_limit_refused: c.attr_limit_refused,
            unnegotiated_prefixes: c.unnegotiated_prefixes,
            unknown_family_attrs: c.unknown_family_attrs,
            families_disabled: c.families_disabled,
            policy_rejected_in: c.policy_rejected_in,
            policy_modified_in: c.policy_modified_in,
            policy_rejected_out: c.policy_rejected_out,
        }
    }
}

/// Why a received path was not a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
#[tsify(into_wasm_abi)]
pub enum LoopCheck {
    /// Our cluster ID is in CLUSTER_LIST.
    ClusterList,
    /// ORIGINATOR_ID is our router ID.
    OriginatorId,
    /// Our AS is in the AS_PATH of a route from eBGP.
    AsPath,
    /// A route leak by the OTC attribute (RFC 9234).
    RouteLeak,
}

/// Something that happened in the engine (`engine.pollEvent()`), by `kind`.
#[derive(Debug, Clone, Serialize, Tsify)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
#[tsify(into_wasm_abi, hashmap_as_object, missing_as_null)]
pub enum EngineEvent {
    /// The best path for a prefix changed.
    BestChanged {
        /// The prefix.
        prefix: String,
        /// The peer of the new best path; null when none is left (or for a local route).
        best: Option<u32>,
    },
    /// A received path failed a loop check.
    LoopRejected {
        /// Who sent it.
        peer: u32,
        /// The prefix.
        prefix: String,
        /// Which check.
        reason: LoopCheck,
    },
    /// A received message was malformed.
    UpdateError {
        /// Who sent it.
        peer: u32,
        /// The error, with its RFC 7606 action.
        error: DecodeError,
    },
    /// A path too large for the peer maximum message size was not sent.
    EncodeOverflow {
        /// The peer.
        peer: u32,
        /// The prefix.
        prefix: String,
    },
    /// A peer came up.
    PeerUp {
        /// The peer.
        peer: u32,
    },
    /// A peer went down; its routes are withdrawn.
    PeerDown {
        /// The peer.
        peer: u32,
    },
    /// A peer went down gracefully; its paths in `families` stay, stale.
    PeerRestarting {
        /// The peer.
        peer: u32,
        /// Families whose paths are kept.
        families: Vec<FamilyName>,
        /// Paths marked stale.
        stale: u64,
    },
    /// A peer crossed its prefix limit.
    PrefixLimit {
        /// The peer.
        peer: u32,
        /// The family.
        family: String,
        /// The limit.
        max: u32,
        /// Paths it held.
        held: u64,
        /// Only a warning: the session stays up.
        warning_only: bool,
    },
    /// A peer reached its attribute-set memory limit.
    AttrMemoryLimit {
        /// The peer.
        peer: u32,
        /// Bytes charged to it.
        bytes: u64,
        /// The limit.
        max: u64,
    },
    /// A path was refused by the per-prefix path limit.
    PathLimit {
        /// The peer.
        peer: u32,
        /// The prefix.
        prefix: String,
    },
    /// Stale paths of a restarting peer were removed.
    StaleRemoved {
        /// The peer.
        peer: u32,
        /// The family.
        family: String,
        /// Paths removed.
        paths: u64,
    },
    /// An MP attribute of a family the session does not carry, or that
    /// Reflector does not know, was ignored (and counted).
    UnknownFamily {
        /// The peer.
        peer: u32,
        /// The family.
        family: String,
        /// NLRI it held (0 when Reflector cannot decode the family).
        nlri: u64,
    },
    /// The best path of a route of a family beyond unicast changed.
    KeyedBestChanged {
        /// The family.
        family: String,
        /// The route's key in the family's table, in hex.
        key: String,
        /// The peer of the new best path; null when none is left (or for a local route).
        best: Option<u32>,
    },
}

fn peer_number(p: PeerId) -> Option<u32> {
    (p != PeerId::LOCAL).then_some(p.0)
}

impl EngineEvent {
    /// The JavaScript view of an engine event.
    pub fn from_core(e: CoreEvent) -> EngineEvent {
        match e {
            CoreEvent::BestChanged { prefix, best } => EngineEvent::BestChanged {
                prefix: prefix.to_string(),
                best: best.and_then(peer_number),
            },
            CoreEvent::LoopRejected {
                peer,
                prefix,
                reason,
            } => EngineEvent::LoopRejected {
                peer: peer.0,
                prefix: prefix.to_string(),
                reason: match reason {
                    LoopReason::ClusterList => LoopCheck::ClusterList,
                    LoopReason::OriginatorId => LoopCheck::OriginatorId,
                    LoopReason::AsPath => LoopCheck::AsPath,
                    LoopReason::RouteLeak => LoopCheck::RouteLeak,
                },
            },
            CoreEvent::UpdateError { peer, error } => EngineEvent::UpdateError {
                peer: peer.0,
                error: DecodeError::new(&error, &[]),
            },
            CoreEvent::EncodeOverflow { peer, prefix } => EngineEvent::EncodeOverflow {
                peer: peer.0,
                prefix: prefix.to_string(),
            },
            CoreEvent::PeerUp(p) => EngineEvent::PeerUp { peer: p.0 },
            CoreEvent::PeerDown(p) => EngineEvent::PeerDown { peer: p.0 },
            CoreEvent::PeerRestarting {
                peer,
                families,
                stale,
            } => EngineEvent::PeerRestarting {
                peer: peer.0,
                families: family_names(families),
                stale,
            },
            CoreEvent::PrefixLimit {
                peer,
                family,
                max,
                held,
                warning_only,
            } => EngineEvent::PrefixLimit {
                peer: peer.0,
                family: decode::family_name(family),
                max,
                held,
                warning_only,
            },
            CoreEvent::AttrMemoryLimit { peer, bytes, max } => EngineEvent::AttrMemoryLimit {
                peer: peer.0,
                bytes,
                max,
            },
            CoreEvent::PathLimit { peer, prefix } => EngineEvent::PathLimit {
                peer: peer.0,
                prefix: prefix.to_string(),
            },
            CoreEvent::StaleRemoved {
                peer,
                family,
                paths,
            } => EngineEvent::StaleRemoved {
                peer: peer.0,
                family: decode::family_name(family),
                paths,
            },
            CoreEvent::UnknownFamily { peer, family, nlri } => EngineEvent::UnknownFamily {
                peer: peer.0,
                family: decode::family_name(family),
                nlri,
            },
            CoreEvent::KeyedBestChanged { family, key, best } => EngineEvent::KeyedBestChanged {
                family: decode::family_name(family),
                key: key.iter().map(|b| format!("{b:02x}")).collect(),
                best: best.and_then(peer_number),
            },
        }
    }
}

fn message_type_name(t: MessageType) -> &'static str {
    match t {
        MessageType::Open => "OPEN",
        MessageType::Update => "UPDATE",
        MessageType::Notification => "NOTIFICATION",
        MessageType::Keepalive => "KEEPALIVE",
        MessageType::RouteRefresh => "ROUTE-REFRESH",
    }
}

impl Outcome {
    /// The JavaScript view of an outcome; `message` is the message it is about (for error data).
    pub fn from_core(o: CoreOutcome, message: &[u8]) -> Outcome {
        match o {
            CoreOutcome::Accepted {
                announced,
                withdrawn,
                rejected,
            } => Outcome::Accepted {
                announced,
                withdrawn,
                rejected,
            },
            CoreOutcome::TreatAsWithdraw(e) => Outcome::TreatAsWithdraw {
                error: DecodeError::new(&e, message),
            },
            CoreOutcome::AttributeDiscarded(e) => Outcome::AttributeDiscarded {
                error: DecodeError::new(&e, message),
            },
            CoreOutcome::Reset {
                error,
                notification,
            } => Outcome::Reset {
                error: DecodeError::new(&error, message),
                notification,
            },
            CoreOutcome::RouteRefresh(f) => Outcome::RouteRefresh {
                family: decode::family_name(f),
            },
            CoreOutcome::Ignored(t) => Outcome::Ignored {
                message_type: message_type_name(t).into(),
            },
            CoreOutcome::FamilyDisabled { family, error } => Outcome::FamilyDisabled {
                family: decode::family_name(family),
                error: DecodeError::new(&error, message),
            },
            CoreOutcome::NotUp => Outcome::NotUp,
        }
    }
}

impl Path {
    /// The JavaScript view of a candidate path.
    pub fn from_view(prefix: &Prefix, v: &PathView<'_>) -> Path {
        Path::named(prefix.to_string(), v)
    }

    /// The JavaScript view of a path of a route named `route` (a prefix, or a keyed route's NLRI as text).
    fn named(route: String, v: &PathView<'_>) -> Path {
        let a = decode::path_attributes(v.set.block());
        Path {
            prefix: route,
            peer: peer_number(v.peer),
            remote_id: v.remote_id,
            local_id: v.local_id,
            reachable: v.reachable,
            origin: a.origin,
            as_path: a.as_path,
            next_hop: a.next_hop,
            med: a.med,
            local_pref: a.local_pref,
            communities: a.communities,
            large_communities: a.large_communities,
            originator_id: a.originator_id,
            cluster_list: a.cluster_list,
            attributes: a.attributes,
        }
    }
}

fn ipv4(what: &str, s: &str) -> Result<Ipv4Addr, String> {
    s.parse()
        .map_err(|_| format!("{what}: expected an IPv4 address, found {s:?}"))
}

fn ipv6(what: &str, s: &str) -> Result<Ipv6Addr, String> {
    s.parse()
        .map_err(|_| format!("{what}: expected an IPv6 address, found {s:?}"))
}

impl EngineOptions {
    /// The core configuration, or what is wrong with these options.
    pub fn to_core(&self) -> Result<EngineConfig, String> {
        let mut c = EngineConfig::new(self.local_as, ipv4("routerId", &self.router_id)?);
        c.cluster_id = self
            .cluster_id
            .as_deref()
            .map(|s| ipv4("clusterId", s))
            .transpose()?;
        c.client_to_client = self.client_to_client;
        c.ebgp_requires_policy = self.ebgp_requires_policy;
        c.record_events = self.record_events;
        if let Some(m) = self.max_events {
            c.max_events = m as usize;
        }
        Ok(c)
    }
}

impl PeerOptions {
    /// The core peer configuration, or what is wrong with these options.
    pub fn to_core(&self) -> Result<PeerConfig, String> {
        let address: IpAddr = self.address.parse().map_err(|_| {
            format!(
                "address: expected an IPv4 or IPv6 address, found {:?}",
                self.address
            )
        })?;
        let role = match self.role {
            PeerRole::Client => Role::Client,
            PeerRole::NonClient => Role::NonClient,
            PeerRole::Ebgp => Role::Ebgp,
        };
        let limit = |l: &Option<PrefixLimit>| {
            l.map(|l| CoreLimit {
                max: l.max,
                warning_only: l.warning_only,
            })
        };
        let mut c = PeerConfig::new(role, address, self.asn);
        c.local_v4 = self
            .local_v4
            .as_deref()
            .map(|s| ipv4("localV4", s))
            .transpose()?;
        c.local_v6 = self
            .local_v6
            .as_deref()
            .map(|s| ipv6("localV6", s))
            .transpose()?;
        c.add_path_send = match self.add_path_send {
            None | Some(AddPathMode::Off) => AddPathSend::Off,
            Some(AddPathMode::All) => AddPathSend::All,
            Some(AddPathMode::Best(n)) => AddPathSend::Best(n),
        };
        c.max_prefixes_ipv4 = limit(&self.max_prefixes_ipv4);
        c.max_prefixes_ipv6 = limit(&self.max_prefixes_ipv6);
        c.max_paths_per_prefix = self.max_paths_per_prefix;
        c.max_attr_bytes = self.max_attr_bytes;
        Ok(c)
    }
}

impl Negotiated {
    /// The core negotiated summary, or what is wrong with it.
    pub fn to_core(&self) -> Result<CoreNeg, String> {
        let mut n = CoreNeg::unicast(ipv4("routerId", &self.router_id)?);
        n.four_octet_as = self.four_octet_as;
        n.extended_message = self.extended_message;
        if let Some(f) = &self.families {
            n.families = family_set(f);
        }
        n.add_path_receive = family_set(&self.add_path_receive);
        n.add_path_send = family_set(&self.add_path_send);
        n.enhanced_route_refresh = self.enhanced_route_refresh;
        n.extended_next_hop = family_set(&self.extended_next_hop);
        Ok(n)
    }
}

fn err(msg: String) -> JsError {
    JsError::new(&msg)
}

/// Reads an argument object; a wrong shape is an `Error` thrown after the engine is released
/// (tsify's `from_wasm_abi` would throw while `&mut self` is still borrowed).
fn arg<T: serde::de::DeserializeOwned>(what: &str, v: JsValue) -> Result<T, JsError> {
    serde_wasm_bindgen::from_value(v).map_err(|e| err(format!("{what}: {e}")))
}

fn parse_prefix(s: &str) -> Result<Prefix, JsError> {
    s.parse::<Prefix>()
        .map_err(|e| err(format!("prefix {s:?}: {e}")))
}

/// Splits concatenated BGP messages at their header lengths.
pub fn split_messages(mut bytes: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while let Some(&[hi, lo]) = bytes.get(16..18) {
        let n = usize::from(u16::from_be_bytes([hi, lo]));
        if n < 19 || n > bytes.len() {
            break;
        }
        let (m, rest) = bytes.split_at(n);
        out.push(m);
        bytes = rest;
    }
    if !bytes.is_empty() {
        out.push(bytes);
    }
    out
}

/// A route reflection engine: sans-IO, fed the messages peers send, read for the messages to send them.
#[wasm_bindgen(js_name = Engine)]
pub struct JsEngine {
    engine: CoreEngine,
}

impl JsEngine {
    fn known(&self, peer: u32) -> Result<PeerId, JsError> {
        let p = PeerId(peer);
        if self.engine.peer_config(p).is_some() {
            Ok(p)
        } else {
            Err(err(format!("unknown peer {peer}")))
        }
    }

    /// The engine inside (native tests and other Rust callers).
    pub fn core(&self) -> &CoreEngine {
        &self.engine
    }
}

#[wasm_bindgen(js_class = Engine)]
impl JsEngine {
    /// A new engine with no peers; throws on an invalid router or cluster ID.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "EngineOptions")] config: JsValue,
    ) -> Result<JsEngine, JsError> {
        let config: EngineOptions = arg("config", config)?;
        Ok(JsEngine {
            engine: CoreEngine::new(config.to_core().map_err(err)?),
        })
    }

    /// Adds a peer (down until `peerUp`); returns its id.
    #[wasm_bindgen(js_name = addPeer)]
    pub fn add_peer(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "PeerOptions")] config: JsValue,
    ) -> Result<u32, JsError> {
        let config: PeerOptions = arg("config", config)?;
        Ok(self.engine.add_peer(config.to_core().map_err(err)?).0)
    }

    /// Removes a peer, withdrawing its routes.
    #[wasm_bindgen(js_name = removePeer)]
    pub fn remove_peer(&mut self, peer: u32) -> Result<(), JsError> {
        let p = self.known(peer)?;
        self.engine.remove_peer(p);
        Ok(())
    }

    /// The ids of every peer.
    pub fn peers(&self) -> Vec<u32> {
        self.engine.peers().map(|p| p.0).collect()
    }

    /// The session came up with what the OPEN exchange negotiated: the Loc-RIB is queued for the peer.
    #[wasm_bindgen(js_name = peerUp)]
    pub fn peer_up(
        &mut self,
        peer: u32,
        #[wasm_bindgen(unchecked_param_type = "Negotiated")] negotiated: JsValue,
    ) -> Result<(), JsError> {
        let negotiated: Negotiated = arg("negotiated", negotiated)?;
        let p = self.known(peer)?;
        self.engine.peer_up(p, negotiated.to_core().map_err(err)?);
        Ok(())
    }

    /// The session came up with a peer that advertised graceful restart; stale paths in `preserved` stay until its End-of-RIB.
    #[wasm_bindgen(js_name = peerUpGraceful)]
    pub fn peer_up_graceful(
        &mut self,
        peer: u32,
        #[wasm_bindgen(unchecked_param_type = "Negotiated")] negotiated: JsValue,
        #[wasm_bindgen(unchecked_param_type = "FamilyName[]")] preserved: JsValue,
    ) -> Result<(), JsError> {
        let negotiated: Negotiated = arg("negotiated", negotiated)?;
        let preserved: Vec<FamilyName> = arg("preserved", preserved)?;
        let p = self.known(peer)?;
        self.engine.peer_up_graceful(
            p,
            negotiated.to_core().map_err(err)?,
            family_set(&preserved),
        );
        Ok(())
    }

    /// The session went down: the peer routes are withdrawn from the others.
    #[wasm_bindgen(js_name = peerDown)]
    pub fn peer_down(&mut self, peer: u32) -> Result<(), JsError> {
        let p = self.known(peer)?;
        self.engine.peer_down(p);
        Ok(())
    }

    /// The session went down gracefully (RFC 4724): the peer paths in `families` stay, stale.
    #[wasm_bindgen(js_name = peerDownGraceful)]
    pub fn peer_down_graceful(
        &mut self,
        peer: u32,
        #[wasm_bindgen(unchecked_param_type = "FamilyName[]")] families: JsValue,
    ) -> Result<(), JsError> {
        let families: Vec<FamilyName> = arg("families", families)?;
        let p = self.known(peer)?;
        self.engine.peer_down_graceful(p, family_set(&families));
        Ok(())
    }

    /// The restart timer of a restarting peer expired: its stale paths are removed.
    #[wasm_bindgen(js_name = restartTimerExpired)]
    pub fn restart_timer_expired(&mut self, peer: u32) -> Result<(), JsError> {
        let p = self.known(peer)?;
        self.engine.restart_timer_expired(p);
        Ok(())
    }

    /// Whether the peer session is up.
    #[wasm_bindgen(js_name = isUp)]
    pub fn is_up(&self, peer: u32) -> bool {
        self.engine.is_up(PeerId(peer))
    }

    /// Handles one message received from a peer (header included); malformed input never throws.
    #[wasm_bindgen(js_name = handleMessage)]
    pub fn handle_message(&mut self, peer: u32, bytes: &[u8]) -> Outcome {
        let o = self.engine.handle_message(PeerId(peer), bytes);
        Outcome::from_core(o, bytes)
    }

    /// Ranks what changed and queues every peer UPDATEs (`takeTransmit` does it too).
    pub fn flush(&mut self) {
        self.engine.flush();
    }

    /// Every message queued for the peer, concatenated (empty when none).
    #[wasm_bindgen(js_name = takeTransmit)]
    pub fn take_transmit(&mut self, peer: u32) -> Vec<u8> {
        self.engine.take_transmit(PeerId(peer))
    }

    /// The messages queued for the peer, one `Uint8Array` each.
    #[wasm_bindgen(js_name = takeMessages, unchecked_return_type = "Uint8Array[]")]
    pub fn take_messages(&mut self, peer: u32) -> js_sys::Array {
        let bytes = self.engine.take_transmit(PeerId(peer));
        split_messages(&bytes)
            .into_iter()
            .map(|m| JsValue::from(js_sys::Uint8Array::from(m)))
            .collect()
    }

    /// Bytes queued for the peer.
    #[wasm_bindgen(js_name = pendingBytes)]
    pub fn pending_bytes(&self, peer: u32) -> usize {
        self.engine.pending_bytes(PeerId(peer))
    }

    /// Queues the Adj-RIB-Out of a family again for the peer, as a ROUTE-REFRESH would.
    #[wasm_bindgen(js_name = routeRefresh)]
    pub fn route_refresh(
        &mut self,
        peer: u32,
        #[wasm_bindgen(unchecked_param_type = "FamilyName")] family: JsValue,
    ) -> Result<(), JsError> {
        let family: FamilyName = arg("family", family)?;
        let p = self.known(peer)?;
        self.engine.route_refresh(p, family.afi_safi());
        Ok(())
    }

    /// Originates a route of our own (ORIGIN IGP, empty AS_PATH) with this next hop.
    pub fn originate(&mut self, prefix: &str, next_hop: &str) -> Result<(), JsError> {
        let p = parse_prefix(prefix)?;
        let nh: IpAddr = next_hop.parse().map_err(|_| {
            err(format!(
                "nextHop: expected an IP address, found {next_hop:?}"
            ))
        })?;
        self.engine
            .originate(p, nh, &[])
            .map_err(|e| err(e.to_string()))
    }

    /// Withdraws a route of our own; false when there was none.
    #[wasm_bindgen(js_name = withdrawLocal)]
    pub fn withdraw_local(&mut self, prefix: &str) -> Result<bool, JsError> {
        Ok(self.engine.withdraw_local(parse_prefix(prefix)?))
    }

    /// Every IPv4 and IPv6 unicast prefix with its best path, in prefix order.
    #[wasm_bindgen(js_name = bestPaths)]
    pub fn best_paths(&self) -> Vec<Path> {
        self.engine
            .loc_rib()
            .iter()
            .map(|(p, v)| Path::from_view(p, v))
            .collect()
    }

    /// Every route of a family beyond unicast with its best path, in text
    /// order; `prefix` is the route's NLRI as text (`65000:1:10.0.0.0/16 label
    /// 100`, EVPN's bracketed form, a flow rule's components).
    #[wasm_bindgen(js_name = keyedPaths)]
    pub fn keyed_paths(&self, family: &str) -> Result<Vec<Path>, JsError> {
        use reflector_core::wire::family::NlriText;
        use serde::de::IntoDeserializer;
        let name: Result<FamilyName, serde::de::value::Error> =
            FamilyName::deserialize(family.into_deserializer());
        let f = name
            .map_err(|e| JsError::new(&format!("keyedPaths: {e}")))?
            .afi_safi();
        if f == AfiSafi::IPV4_UNICAST || f == AfiSafi::IPV6_UNICAST {
            return Err(JsError::new(
                "keyedPaths: unicast routes are in bestPaths, not keyedPaths",
            ));
        }
        let mut out: Vec<Path> = self
            .engine
            .keyed_table(f)
            .into_iter()
            .filter_map(|r| {
                let (nlri, v, _) = r.paths.into_iter().next()?;
                let text = NlriText {
                    family: f,
                    nlri: &nlri,
                }
                .to_string();
                Some(Path::named(text, &v))
            })
            .collect();
        out.sort_by(|a, b| a.prefix.cmp(&b.prefix));
        Ok(out)
    }

    /// The best path for a prefix, or undefined.
    pub fn best(&self, prefix: &str) -> Result<Option<Path>, JsError> {
        let p = parse_prefix(prefix)?;
        Ok(self.engine.best(&p).map(|v| Path::from_view(&p, &v)))
    }

    /// Every candidate path for a prefix, best first.
    pub fn candidates(&self, prefix: &str) -> Result<Vec<Path>, JsError> {
        let p = parse_prefix(prefix)?;
        Ok(self
            .engine
            .candidates(&p)
            .iter()
            .map(|v| Path::from_view(&p, v))
            .collect())
    }

    /// The peer counters; throws for an unknown peer.
    pub fn counters(&self, peer: u32) -> Result<PeerCounters, JsError> {
        self.engine
            .counters(PeerId(peer))
            .map(PeerCounters::from)
            .ok_or_else(|| err(format!("unknown peer {peer}")))
    }

    /// The oldest event not yet read, or undefined.
    #[wasm_bindgen(js_name = pollEvent)]
    pub fn poll_event(&mut self) -> Option<EngineEvent> {
        self.engine.poll_event().map(EngineEvent::from_core)
    }

    /// Events dropped because the queue was full.
    #[wasm_bindgen(getter, js_name = eventsDropped)]
    pub fn events_dropped(&self) -> f64 {
        self.engine.events_dropped() as f64
    }
}

//! `rfl_engine`: the route reflection engine behind a C handle.

use core::ffi::c_void;
use core::net::{IpAddr, Ipv4Addr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use reflector_core::decision::DecisionConfig;
use reflector_core::engine::{
    AddPathSend, Engine, EngineConfig, Event, Negotiated, Outcome, PathView, PeerConfig,
};
use reflector_core::error::Action;
use reflector_core::reflect::{LoopReason, Role};
use reflector_core::rib::{AttrId, PeerId};
use reflector_core::wire::attribute::AttrIter;
use reflector_core::wire::capability::BgpRole;
use reflector_core::wire::update_repr::AttributeRepr;
use reflector_core::wire::Context;

use crate::{
    boundary, families_from_bits, families_to_bits, family_bit, finish, out, read, rfl_addr,
    rfl_prefix, rfl_result, slice, slice_mut, write, Fail, FfiResult,
};

const ENGINE_MAGIC: u64 = 0x7266_6c5f_656e_6731;
const ITER_MAGIC: u64 = 0x7266_6c5f_6c72_6962;

/// A route reflection engine (opaque). Create with `rfl_engine_new`, free with `rfl_engine_free`.
pub struct rfl_engine {
    _private: [u8; 0],
}

/// What an `rfl_engine` pointer points to; the magic number comes first so a
/// check reads only the first 8 bytes of whatever the caller passed.
#[repr(C)]
struct EngineHandle {
    magic: u64,
    poisoned: bool,
    engine: Engine,
    notification: Vec<u8>,
}

/// A snapshot of the Loc-RIB (opaque), from `rfl_engine_loc_rib`; free with `rfl_loc_rib_iter_free`.
pub struct rfl_loc_rib_iter {
    _private: [u8; 0],
}

/// What an `rfl_loc_rib_iter` pointer points to.
#[repr(C)]
struct IterHandle {
    magic: u64,
    items: Vec<(rfl_prefix, rfl_path)>,
    pos: usize,
}

/// A peer's role toward this reflector (RFC 4456).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum rfl_role {
    /// An iBGP peer that is our route-reflector client.
    Client = 0,
    /// An iBGP peer that is not our client (another reflector, a full-mesh peer).
    NonClient = 1,
    /// An external peer.
    Ebgp = 2,
}

/// How many paths per prefix a peer that negotiated ADD-PATH sending gets.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum rfl_add_path_send {
    /// Only the best path, without path identifiers.
    Off = 0,
    /// Every eligible candidate.
    All = 1,
    /// The best `add_path_best` eligible candidates.
    Best = 2,
}

/// Engine-wide configuration. Fill with `rfl_engine_config_init`, then adjust.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct rfl_engine_config {
    /// Our AS number.
    pub local_as: u32,
    /// Our BGP identifier (host order, non-zero).
    pub router_id: u32,
    /// Our cluster ID (host order); 0 means the router ID.
    pub cluster_id: u32,
    /// Reflect routes from clients to other clients.
    pub client_to_client: bool,
    /// Compare MED between paths from different neighbouring ASes.
    pub always_compare_med: bool,
    /// A missing MED is the worst value instead of 0.
    pub missing_med_worst: bool,
    /// Among otherwise equal eBGP paths keep the oldest (makes results order-dependent).
    pub prefer_oldest: bool,
    /// Skip the IGP cost step of the decision process.
    pub ignore_igp_cost: bool,
    /// LOCAL_PREF assumed where absent.
    pub default_local_pref: u32,
    /// Record events for `rfl_engine_poll_event`.
    pub record_events: bool,
    /// At most this many events are kept (older ones are dropped); at least 1 when recording.
    pub max_events: usize,
}

/// A peer's configuration. Fill with `rfl_peer_config_init`, then adjust.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct rfl_peer_config {
    /// An rfl_role value.
    pub role: u32,
    /// The peer's AS.
    pub asn: u32,
    /// The peer's address.
    pub address: rfl_addr,
    /// Our IPv4 address on this session (NEXT_HOP toward eBGP); family 0 = none.
    pub local_v4: rfl_addr,
    /// Our IPv6 address on this session (MP next hop toward eBGP); family 0 = none.
    pub local_v6: rfl_addr,
    /// An rfl_add_path_send value.
    pub add_path_send: u32,
    /// How many paths with RFL_ADD_PATH_SEND_BEST (at least 1).
    pub add_path_best: u8,
}

/// What a session negotiated (from the OPEN exchange).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct rfl_negotiated {
    /// The peer's BGP identifier (host order).
    pub router_id: u32,
    /// Both sides support 4-octet AS numbers.
    pub four_octet_as: bool,
    /// Both sides support extended messages (65,535 bytes).
    pub extended_message: bool,
    /// Families both sides support (RFL_FAMILY_* bits).
    pub families: u32,
    /// Families in which the peer sends us ADD-PATH identifiers.
    pub add_path_receive: u32,
    /// Families in which we may send ADD-PATH identifiers.
    pub add_path_send: u32,
    /// Both sides support enhanced route refresh (RFC 7313).
    pub enhanced_route_refresh: bool,
    /// `remote_role` is set: the session uses BGP Roles (RFC 9234, eBGP only).
    pub has_remote_role: bool,
    /// The role the peer plays (RFC 9234): 0 provider, 1 RS, 2 RS-client, 3 customer, 4 peer.
    pub remote_role: u8,
    /// Families the peer takes with an IPv6 next hop (RFC 8950; RFL_FAMILY_* bits).
    pub extended_next_hop: u32,
}

/// What the engine did with a received message.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum rfl_outcome_kind {
    /// The UPDATE was applied.
    Accepted = 0,
    /// Malformed in a way RFC 7606 survives: its prefixes were withdrawn.
    TreatAsWithdraw = 1,
    /// Applied without a malformed attribute (RFC 7606 attribute discard).
    AttributeDiscarded = 2,
    /// Malformed beyond repair: send the NOTIFICATION and close; the peer is down in the engine.
    Reset = 3,
    /// A ROUTE-REFRESH: the family's routes were queued again.
    RouteRefresh = 4,
    /// A message the engine does not act on (OPEN, KEEPALIVE, NOTIFICATION).
    Ignored = 5,
    /// A malformed MP_REACH_NLRI/MP_UNREACH_NLRI (RFC 7606 AFI/SAFI disable):
    /// the peer's routes of `family` were withdrawn and the family is off until
    /// the session ends; the session stays up.
    FamilyDisabled = 6,
}

/// An RFC 7606 error action.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum rfl_action {
    /// No error.
    None = 0,
    /// Send the NOTIFICATION and close the session.
    SessionReset = 1,
    /// Disable the AFI/SAFI concerned.
    AfiSafiDisable = 2,
    /// Withdraw every prefix of the UPDATE.
    TreatAsWithdraw = 3,
    /// Drop the offending attribute.
    AttributeDiscard = 4,
}

/// The result of `rfl_engine_handle_message`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct rfl_outcome {
    /// What happened.
    pub kind: rfl_outcome_kind,
    /// Paths that became (or replaced) candidates.
    pub announced: u32,
    /// Paths withdrawn.
    pub withdrawn: u32,
    /// Paths rejected by the loop checks.
    pub rejected: u32,
    /// NOTIFICATION error code of the problem found (0 = none).
    pub error_code: u8,
    /// NOTIFICATION error subcode.
    pub error_subcode: u8,
    /// The RFC 7606 action of the problem found.
    pub error_action: rfl_action,
    /// Byte offset of the problem in the message.
    pub error_offset: usize,
    /// The BGP message type (for RFL_OUTCOME_KIND_IGNORED: 1 OPEN, 3 NOTIFICATION, 4 KEEPALIVE).
    pub message_type: u8,
    /// The family bit of a ROUTE-REFRESH (RFL_FAMILY_*; 0 for other families).
    pub family: u32,
    /// Length of the NOTIFICATION to send (RFL_OUTCOME_KIND_RESET), else 0.
    pub notification_len: usize,
}

/// The engine itself as the source of locally originated routes, in `rfl_path.peer`.
pub const RFL_PEER_LOCAL: u32 = 0x7fff_fffe;
const _: () = assert!(RFL_PEER_LOCAL == PeerId::LOCAL.0);

/// The largest NOTIFICATION the engine produces.
pub const RFL_MAX_NOTIFICATION_LEN: usize = 4096;

/// The largest BGP message (with the extended message capability); a buffer
/// of this size always holds the next outbound message.
pub const RFL_MAX_MESSAGE_LEN: usize = 65535;

/// One candidate path.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct rfl_path {
    /// The peer it came from (RFL_PEER_LOCAL for our own routes).
    pub peer: u32,
    /// The peer's ADD-PATH identifier (0 without ADD-PATH).
    pub remote_id: u32,
    /// Our identifier for the path.
    pub local_id: u32,
    /// Handle of the attribute set (see `rfl_engine_attr_set`).
    pub attrs: u32,
    /// The next hop resolves (always true without a resolver).
    pub reachable: bool,
    /// ORIGIN: 0 IGP, 1 EGP, 2 INCOMPLETE.
    pub origin: u8,
    /// AS_PATH length as the decision process counts it.
    pub as_path_len: u32,
    /// The neighbouring AS (0 for paths from inside the AS, 4294967295 when the AS_PATH does not start with an AS_SEQUENCE: MED compared with no other path).
    pub neighbor_as: u32,
    /// MULTI_EXIT_DISC, when `has_med`.
    pub med: u32,
    /// The path carries a MED.
    pub has_med: bool,
    /// LOCAL_PREF, when `has_local_pref`.
    pub local_pref: u32,
    /// The path carries a LOCAL_PREF.
    pub has_local_pref: bool,
    /// ORIGINATOR_ID (host order), when `has_originator_id`.
    pub originator_id: u32,
    /// The path carries an ORIGINATOR_ID.
    pub has_originator_id: bool,
    /// Number of cluster IDs in CLUSTER_LIST.
    pub cluster_list_len: u32,
    /// The next hop (family 0 when the path has none).
    pub next_hop: rfl_addr,
}

/// Per-peer counters.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct rfl_peer_counters {
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
    /// UPDATEs handled as treat-as-withdraw.
    pub treat_as_withdraw: u64,
    /// UPDATEs with an attribute discarded.
    pub attribute_discard: u64,
    /// Messages that reset the session.
    pub session_resets: u64,
    /// ROUTE-REFRESH requests served.
    pub route_refreshes: u64,
    /// UPDATE messages sent.
    pub updates_sent: u64,
    /// Prefixes announced to the peer.
    pub prefixes_sent: u64,
    /// Prefixes withdrawn toward the peer.
    pub withdrawals_sent: u64,
    /// Paths not sent because their attributes exceed the maximum message size.
    pub encode_overflows: u64,
}

/// Memory held by the RIB.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct rfl_memory_stats {
    /// Prefixes in the Loc-RIB.
    pub prefixes: usize,
    /// Candidate paths.
    pub paths: usize,
    /// Distinct attribute sets.
    pub attr_sets: usize,
    /// Bytes held by the prefix tables.
    pub table_bytes: usize,
    /// Bytes held by the attribute sets.
    pub attr_bytes: usize,
}

/// The kind of an engine event.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum rfl_event_kind {
    /// The best path for `prefix` changed (`has_best`/`best`: the peer it now comes from).
    BestChanged = 0,
    /// A path from `peer` for `prefix` failed a loop check (`loop_reason`).
    LoopRejected = 1,
    /// A message from `peer` was malformed (`error_*`).
    UpdateError = 2,
    /// A path for `prefix` could not be sent to `peer`: its attributes exceed the message size.
    EncodeOverflow = 3,
    /// `peer` came up.
    PeerUp = 4,
    /// `peer` went down; its routes are withdrawn.
    PeerDown = 5,
    /// `peer` went down gracefully (RFC 4724): its routes stay, marked stale.
    PeerRestarting = 6,
    /// Stale routes of `peer` were removed (End-of-RIB, restart timer or reconnect).
    StaleRemoved = 7,
    /// `peer` crossed its prefix limit (`error_code`/`error_subcode`: 6/1 when its session ended, 0/0 for a warning).
    PrefixLimit = 8,
    /// A path from `peer` for `prefix` was refused: `peer` has its maximum paths for the prefix.
    PathLimit = 9,
}

/// Why a path failed the loop checks.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum rfl_loop_reason {
    /// Not a loop event.
    None = 0,
    /// Our cluster ID is in CLUSTER_LIST.
    ClusterList = 1,
    /// ORIGINATOR_ID is our router ID.
    OriginatorId = 2,
    /// Our AS is in the AS_PATH of a route from eBGP.
    AsPath = 3,
    /// A route leak by the OTC attribute (RFC 9234 §5).
    RouteLeak = 4,
}

/// An engine event (fields not used by the kind are zero).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct rfl_event {
    /// What happened.
    pub kind: rfl_event_kind,
    /// The peer concerned.
    pub peer: u32,
    /// The prefix concerned.
    pub prefix: rfl_prefix,
    /// For BEST_CHANGED: a best path remains.
    pub has_best: bool,
    /// For BEST_CHANGED: the peer the best path comes from.
    pub best: u32,
    /// For LOOP_REJECTED: which check.
    pub loop_reason: rfl_loop_reason,
    /// For UPDATE_ERROR: NOTIFICATION code.
    pub error_code: u8,
    /// For UPDATE_ERROR: NOTIFICATION subcode.
    pub error_subcode: u8,
    /// For UPDATE_ERROR: the RFC 7606 action.
    pub error_action: rfl_action,
}

/// The next-hop resolver: return true and write the IGP cost to `*out_igp_cost`
/// when `next_hop` is reachable, false when it is not. Called on the caller's
/// thread during engine calls that rank paths; must not call into the engine.
pub type rfl_resolver_callback = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        next_hop: *const rfl_addr,
        out_igp_cost: *mut u32,
    ) -> bool,
>;

// ---------------------------------------------------------------------------
// Handle access.

unsafe fn engine_ref<'a>(p: *const rfl_engine) -> Result<&'a EngineHandle, Fail> {
    let p = p.cast::<EngineHandle>();
    if p.is_null() {
        return Err(Fail::null("engine"));
    }
    if (p as usize) % core::mem::align_of::<EngineHandle>() != 0 {
        return Err(Fail::new(
            rfl_result::InvalidHandle,
            "engine is not an rfl_engine",
        ));
    }
    // SAFETY: non-NULL and aligned; the caller promises it came from rfl_engine_new.
    let e = unsafe { &*p };
    if e.magic != ENGINE_MAGIC {
        return Err(Fail::new(
            rfl_result::InvalidHandle,
            "engine is not a live rfl_engine",
        ));
    }
    if e.poisoned {
        return Err(Fail::new(
            rfl_result::Panic,
            "engine is poisoned by an earlier panic; free it",
        ));
    }
    Ok(e)
}

/// Run `f` on a mutable engine inside the panic boundary; a panic poisons the engine.
fn with_engine(p: *mut rfl_engine, f: impl FnOnce(&mut EngineHandle) -> FfiResult) -> rfl_result {
    let p = p.cast::<EngineHandle>();
    // SAFETY: checked by engine_ref.
    if let Err(fail) = unsafe { engine_ref(p.cast::<rfl_engine>()) } {
        return finish(Ok(Err(fail)));
    }
    let r = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: checked above; the caller guarantees exclusive use for the call.
        f(unsafe { &mut *p })
    }));
    if r.is_err() {
        // SAFETY: still the live handle checked above.
        unsafe { (*p).poisoned = true };
    }
    finish(r)
}

/// Run `f` on a shared engine inside the panic boundary.
fn with_engine_ref(p: *const rfl_engine, f: impl FnOnce(&EngineHandle) -> FfiResult) -> rfl_result {
    boundary(|| {
        // SAFETY: checked by engine_ref.
        let e = unsafe { engine_ref(p)? };
        f(e)
    })
}

fn peer_of(e: &Engine, id: u32) -> Result<PeerId, Fail> {
    let p = PeerId(id);
    if e.peer_config(p).is_none() {
        return Err(Fail::new(
            rfl_result::UnknownPeer,
            format!("peer {id} does not exist"),
        ));
    }
    Ok(p)
}

fn role_from(v: u32) -> Result<Role, Fail> {
    match v {
        0 => Ok(Role::Client),
        1 => Ok(Role::NonClient),
        2 => Ok(Role::Ebgp),
        _ => Err(Fail::invalid(format!("role {v} is not an rfl_role"))),
    }
}

fn action_of(a: Action) -> rfl_action {
    match a {
        Action::SessionReset => rfl_action::SessionReset,
        Action::AfiSafiDisable => rfl_action::AfiSafiDisable,
        Action::TreatAsWithdraw => rfl_action::TreatAsWithdraw,
        Action::AttributeDiscard => rfl_action::AttributeDiscard,
    }
}

pub(crate) fn path_of(v: &PathView<'_>) -> rfl_path {
    let i = &v.set.info();
    rfl_path {
        peer: v.peer.0,
        remote_id: v.remote_id,
        local_id: v.local_id,
        attrs: v.attrs.0,
        reachable: v.reachable,
        origin: i.origin as u8,
        as_path_len: i.as_path_len,
        neighbor_as: i.neighbor_as,
        med: i.med.unwrap_or(0),
        has_med: i.med.is_some(),
        local_pref: i.local_pref.unwrap_or(0),
        has_local_pref: i.local_pref.is_some(),
        originator_id: i.originator_id.unwrap_or(0),
        has_originator_id: i.originator_id.is_some(),
        cluster_list_len: i.cluster_list_len,
        next_hop: i.next_hop.map(rfl_addr::from_ip).unwrap_or_default(),
    }
}

pub(crate) fn negotiated_from(n: &rfl_negotiated) -> Result<Negotiated, Fail> {
    if n.router_id == 0 {
        return Err(Fail::invalid("negotiated.router_id is 0"));
    }
    Ok(Negotiated {
        router_id: Ipv4Addr::from_bits(n.router_id),
        four_octet_as: n.four_octet_as,
        extended_message: n.extended_message,
        families: families_from_bits(n.families, "negotiated.families")?,
        add_path_receive: families_from_bits(n.add_path_receive, "negotiated.add_path_receive")?,
        add_path_send: families_from_bits(n.add_path_send, "negotiated.add_path_send")?,
        enhanced_route_refresh: n.enhanced_route_refresh,
        remote_role: n.has_remote_role.then_some(BgpRole(n.remote_role)),
        extended_next_hop: families_from_bits(n.extended_next_hop, "negotiated.extended_next_hop")?,
    })
}

pub(crate) fn negotiated_to(n: &Negotiated) -> rfl_negotiated {
    rfl_negotiated {
        router_id: n.router_id.to_bits(),
        four_octet_as: n.four_octet_as,
        extended_message: n.extended_message,
        families: families_to_bits(n.families),
        add_path_receive: families_to_bits(n.add_path_receive),
        add_path_send: families_to_bits(n.add_path_send),
        enhanced_route_refresh: n.enhanced_route_refresh,
        has_remote_role: n.remote_role.is_some(),
        remote_role: n.remote_role.map_or(0, |r| r.0),
        extended_next_hop: families_to_bits(n.extended_next_hop),
    }
}

// ---------------------------------------------------------------------------
// Configuration.

/// Fill `*out_config` with defaults for AS `local_as` and BGP identifier `router_id`
/// (cluster ID = router ID, client-to-client reflection on, LOCAL_PREF 100, no events).
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_config_init(
    local_as: u32,
    router_id: u32,
    out_config: *mut rfl_engine_config,
) -> rfl_result {
    boundary(|| {
        let o = out(out_config, "out_config")?;
        let d = EngineConfig::new(local_as, Ipv4Addr::from_bits(router_id));
        let c = rfl_engine_config {
            local_as,
            router_id,
            cluster_id: 0,
            client_to_client: d.client_to_client,
            always_compare_med: d.decision.always_compare_med,
            missing_med_worst: d.decision.missing_med_worst,
            prefer_oldest: d.decision.prefer_oldest,
            ignore_igp_cost: d.decision.ignore_igp_cost,
            default_local_pref: d.decision.default_local_pref,
            record_events: d.record_events,
            max_events: d.max_events,
        };
        // SAFETY: checked by `out`.
        unsafe { write(o, c) };
        Ok(rfl_result::Ok)
    })
}

/// Fill `*out_config` for a peer with `role` (an rfl_role), AS `asn` and `*address`;
/// no local addresses, no ADD-PATH sending.
#[no_mangle]
pub unsafe extern "C" fn rfl_peer_config_init(
    role: u32,
    asn: u32,
    address: *const rfl_addr,
    out_config: *mut rfl_peer_config,
) -> rfl_result {
    boundary(|| {
        let o = out(out_config, "out_config")?;
        // SAFETY: checked by `read`.
        let address = unsafe { read(address, "address")? };
        role_from(role)?;
        address.to_ip("address")?;
        let c = rfl_peer_config {
            role,
            asn,
            address,
            local_v4: rfl_addr::default(),
            local_v6: rfl_addr::default(),
            add_path_send: rfl_add_path_send::Off as u32,
            add_path_best: 1,
        };
        // SAFETY: checked by `out`.
        unsafe { write(o, c) };
        Ok(rfl_result::Ok)
    })
}

/// Fill `*out_negotiated` for IPv4 and IPv6 unicast, 4-octet AS, no ADD-PATH,
/// 4,096-byte messages, with the peer's BGP identifier `router_id`.
#[no_mangle]
pub unsafe extern "C" fn rfl_negotiated_unicast(
    router_id: u32,
    out_negotiated: *mut rfl_negotiated,
) -> rfl_result {
    boundary(|| {
        let o = out(out_negotiated, "out_negotiated")?;
        let n = Negotiated::unicast(Ipv4Addr::from_bits(router_id));
        // SAFETY: checked by `out`.
        unsafe { write(o, negotiated_to(&n)) };
        Ok(rfl_result::Ok)
    })
}

// ---------------------------------------------------------------------------
// Lifecycle.

/// Create an engine from `*config`; the caller owns `*out_engine` and frees it with `rfl_engine_free`.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_new(
    config: *const rfl_engine_config,
    out_engine: *mut *mut rfl_engine,
) -> rfl_result {
    boundary(|| {
        let o = out(out_engine, "out_engine")?;
        // SAFETY: checked by `read`.
        let c = unsafe { read(config, "config")? };
        if c.router_id == 0 {
            return Err(Fail::invalid("config.router_id is 0"));
        }
        if c.record_events && c.max_events == 0 {
            return Err(Fail::invalid(
                "config.max_events is 0 while record_events is set",
            ));
        }
        let mut cfg = EngineConfig::new(c.local_as, Ipv4Addr::from_bits(c.router_id));
        cfg.cluster_id = (c.cluster_id != 0).then(|| Ipv4Addr::from_bits(c.cluster_id));
        cfg.client_to_client = c.client_to_client;
        cfg.decision = DecisionConfig {
            always_compare_med: c.always_compare_med,
            missing_med_worst: c.missing_med_worst,
            prefer_oldest: c.prefer_oldest,
            ignore_igp_cost: c.ignore_igp_cost,
            default_local_pref: c.default_local_pref,
        };
        cfg.record_events = c.record_events;
        cfg.max_events = c.max_events;
        let h = Box::new(EngineHandle {
            magic: ENGINE_MAGIC,
            poisoned: false,
            engine: Engine::new(cfg),
            notification: Vec::new(),
        });
        // SAFETY: checked by `out`.
        unsafe { write(o, Box::into_raw(h).cast::<rfl_engine>()) };
        Ok(rfl_result::Ok)
    })
}

/// Free an engine (NULL is ignored). The handle must not be used afterwards.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_free(engine: *mut rfl_engine) -> rfl_result {
    let engine = engine.cast::<EngineHandle>();
    if engine.is_null() {
        return rfl_result::Ok;
    }
    boundary(|| {
        if (engine as usize) % core::mem::align_of::<EngineHandle>() != 0 {
            return Err(Fail::new(
                rfl_result::InvalidHandle,
                "engine is not an rfl_engine",
            ));
        }
        // SAFETY: non-NULL, aligned; the caller promises it came from rfl_engine_new.
        if unsafe { (*engine).magic } != ENGINE_MAGIC {
            return Err(Fail::new(
                rfl_result::InvalidHandle,
                "engine is not a live rfl_engine",
            ));
        }
        // SAFETY: a live handle created by Box::into_raw in rfl_engine_new.
        let mut b = unsafe { Box::from_raw(engine) };
        b.magic = 0;
        drop(b);
        Ok(rfl_result::Ok)
    })
}

// ---------------------------------------------------------------------------
// Peers.

/// Add a peer (down until `rfl_engine_peer_up`); its ID goes to `*out_peer`.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_add_peer(
    engine: *mut rfl_engine,
    config: *const rfl_peer_config,
    out_peer: *mut u32,
) -> rfl_result {
    with_engine(engine, |h| {
        let o = out(out_peer, "out_peer")?;
        // SAFETY: checked by `read`.
        let c = unsafe { read(config, "config")? };
        let mut pc = PeerConfig::new(
            role_from(c.role)?,
            c.address.to_ip("config.address")?,
            c.asn,
        );
        pc.local_v4 = match c.local_v4.to_opt_ip("config.local_v4")? {
            None => None,
            Some(IpAddr::V4(a)) => Some(a),
            Some(IpAddr::V6(_)) => return Err(Fail::invalid("config.local_v4 is an IPv6 address")),
        };
        pc.local_v6 = match c.local_v6.to_opt_ip("config.local_v6")? {
            None => None,
            Some(IpAddr::V6(a)) => Some(a),
            Some(IpAddr::V4(_)) => return Err(Fail::invalid("config.local_v6 is an IPv4 address")),
        };
        pc.add_path_send = match c.add_path_send {
            0 => AddPathSend::Off,
            1 => AddPathSend::All,
            2 => AddPathSend::Best(c.add_path_best.max(1)),
            v => {
                return Err(Fail::invalid(format!(
                    "config.add_path_send {v} is not an rfl_add_path_send"
                )))
            }
        };
        let id = h.engine.add_peer(pc);
        // SAFETY: checked by `out`.
        unsafe { write(o, id.0) };
        Ok(rfl_result::Ok)
    })
}

/// Remove a peer: its routes are withdrawn everywhere and its ID is not reused.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_remove_peer(engine: *mut rfl_engine, peer: u32) -> rfl_result {
    with_engine(engine, |h| {
        let p = peer_of(&h.engine, peer)?;
        h.engine.remove_peer(p);
        Ok(rfl_result::Ok)
    })
}

/// The session with `peer` is established with `*negotiated`: the whole table is
/// queued for it, then End-of-RIB per family.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_peer_up(
    engine: *mut rfl_engine,
    peer: u32,
    negotiated: *const rfl_negotiated,
) -> rfl_result {
    with_engine(engine, |h| {
        // SAFETY: checked by `read`.
        let n = negotiated_from(&unsafe { read(negotiated, "negotiated")? })?;
        let p = peer_of(&h.engine, peer)?;
        h.engine.peer_up(p, n);
        Ok(rfl_result::Ok)
    })
}

/// The session with `peer` went down: every path learned from it is withdrawn.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_peer_down(engine: *mut rfl_engine, peer: u32) -> rfl_result {
    with_engine(engine, |h| {
        let p = peer_of(&h.engine, peer)?;
        h.engine.peer_down(p);
        Ok(rfl_result::Ok)
    })
}

/// Whether `peer` is up, through `*out_up`.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_peer_is_up(
    engine: *const rfl_engine,
    peer: u32,
    out_up: *mut bool,
) -> rfl_result {
    with_engine_ref(engine, |h| {
        let o = out(out_up, "out_up")?;
        let p = peer_of(&h.engine, peer)?;
        // SAFETY: checked by `out`.
        unsafe { write(o, h.engine.is_up(p)) };
        Ok(rfl_result::Ok)
    })
}

// ---------------------------------------------------------------------------
// Messages.

/// Handle one framed BGP message (header included) received from `peer`.
///
/// `*out_outcome` says what happened. For RFL_OUTCOME_KIND_RESET the
/// NOTIFICATION to send is copied to `notification_buf` (which may be NULL
/// with length 0 when the caller does not want it; RFL_MAX_NOTIFICATION_LEN
/// bytes always suffice) and its length is `out_outcome->notification_len`;
/// if it does not fit, the call returns RFL_RESULT_BUFFER_TOO_SMALL *with*
/// `*out_outcome` written (the message was handled and the peer is down) and
/// the bytes stay available from `rfl_engine_last_notification`.
/// Returns RFL_RESULT_PEER_NOT_UP when the peer is not up (the message is dropped).
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_handle_message(
    engine: *mut rfl_engine,
    peer: u32,
    message: *const u8,
    message_len: usize,
    notification_buf: *mut u8,
    notification_buf_len: usize,
    out_outcome: *mut rfl_outcome,
) -> rfl_result {
    with_engine(engine, |h| {
        let o = out(out_outcome, "out_outcome")?;
        // SAFETY: the caller gives `message_len` readable bytes.
        let msg = unsafe { slice(message, message_len, "message")? };
        // SAFETY: the caller gives `notification_buf_len` writable bytes.
        let nbuf =
            unsafe { slice_mut(notification_buf, notification_buf_len, "notification_buf")? };
        let p = peer_of(&h.engine, peer)?;
        let mut oc = rfl_outcome {
            kind: rfl_outcome_kind::Accepted,
            announced: 0,
            withdrawn: 0,
            rejected: 0,
            error_code: 0,
            error_subcode: 0,
            error_action: rfl_action::None,
            error_offset: 0,
            message_type: msg.get(18).copied().unwrap_or(0),
            family: 0,
            notification_len: 0,
        };
        let set_err = |oc: &mut rfl_outcome, e: &reflector_core::Error| {
            oc.error_code = e.code;
            oc.error_subcode = e.subcode;
            oc.error_action = action_of(e.action);
            oc.error_offset = e.offset;
        };
        let mut code = rfl_result::Ok;
        match h.engine.handle_message(p, msg) {
            Outcome::Accepted {
                announced,
                withdrawn,
                rejected,
            } => {
                oc.announced = announced;
                oc.withdrawn = withdrawn;
                oc.rejected = rejected;
            }
            Outcome::TreatAsWithdraw(e) => {
                oc.kind = rfl_outcome_kind::TreatAsWithdraw;
                set_err(&mut oc, &e);
            }
            Outcome::AttributeDiscarded(e) => {
                oc.kind = rfl_outcome_kind::AttributeDiscarded;
                set_err(&mut oc, &e);
            }
            Outcome::Reset {
                error,
                notification,
            } => {
                oc.kind = rfl_outcome_kind::Reset;
                set_err(&mut oc, &error);
                oc.notification_len = notification.len();
                let nbuf_len = nbuf.len();
                match nbuf.get_mut(..notification.len()) {
                    Some(d) => d.copy_from_slice(&notification),
                    None if nbuf_len == 0 => {}
                    None => {
                        code = rfl_result::BufferTooSmall;
                        crate::set_last_error(&format!(
                            "notification_buf holds {} bytes, the NOTIFICATION has {}",
                            nbuf_len,
                            notification.len()
                        ));
                    }
                }
                h.notification = notification;
            }
            Outcome::RouteRefresh(f) => {
                oc.kind = rfl_outcome_kind::RouteRefresh;
                oc.family = family_bit(f);
            }
            Outcome::FamilyDisabled { family, error } => {
                oc.kind = rfl_outcome_kind::FamilyDisabled;
                oc.family = family_bit(family);
                set_err(&mut oc, &error);
            }
            Outcome::Ignored(t) => {
                oc.kind = rfl_outcome_kind::Ignored;
                oc.message_type = t.to_u8();
            }
            Outcome::NotUp => {
                return Err(Fail::new(
                    rfl_result::PeerNotUp,
                    format!("peer {peer} is not up"),
                ))
            }
        }
        // SAFETY: checked by `out`.
        unsafe { write(o, oc) };
        Ok(code)
    })
}

/// Copy the NOTIFICATION of the last RFL_OUTCOME_KIND_RESET into `buf`;
/// `*out_len` gets its length (or the needed size with RFL_RESULT_BUFFER_TOO_SMALL).
/// RFL_RESULT_NOT_FOUND when no message has reset a session yet.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_last_notification(
    engine: *const rfl_engine,
    buf: *mut u8,
    buf_len: usize,
    out_len: *mut usize,
) -> rfl_result {
    with_engine_ref(engine, |h| {
        let o = out(out_len, "out_len")?;
        if h.notification.is_empty() {
            return Err(Fail::new(rfl_result::NotFound, "no NOTIFICATION yet"));
        }
        copy_out(&h.notification, buf, buf_len, o)
    })
}

fn copy_out(src: &[u8], buf: *mut u8, buf_len: usize, o: *mut usize) -> FfiResult {
    if buf_len < src.len() {
        // SAFETY: `o` was checked by the caller through `out`.
        unsafe { write(o, src.len()) };
        return Err(Fail::new(
            rfl_result::BufferTooSmall,
            format!("buffer holds {buf_len} bytes, {} needed", src.len()),
        ));
    }
    // SAFETY: the caller gives `buf_len` writable bytes.
    let dst = unsafe { slice_mut(buf, buf_len, "buf")? };
    if let Some(d) = dst.get_mut(..src.len()) {
        d.copy_from_slice(src);
    }
    // SAFETY: as above.
    unsafe { write(o, src.len()) };
    Ok(rfl_result::Ok)
}

/// Take the next message queued for `peer` into `buf`; `*out_len` gets its length.
///
/// Pending changes are decided first. Returns RFL_RESULT_EMPTY when nothing is
/// queued. When the message does not fit, it stays queued and the call
/// returns RFL_RESULT_BUFFER_TOO_SMALL with the needed size in `*out_len`
/// (RFL_MAX_MESSAGE_LEN bytes always suffice; 4,096 without extended messages).
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_poll_transmit(
    engine: *mut rfl_engine,
    peer: u32,
    buf: *mut u8,
    buf_len: usize,
    out_len: *mut usize,
) -> rfl_result {
    with_engine(engine, |h| {
        let o = out(out_len, "out_len")?;
        let p = peer_of(&h.engine, peer)?;
        let Some(need) = h.engine.next_transmit_len(p) else {
            return Ok(rfl_result::Empty);
        };
        if need > buf_len {
            // SAFETY: checked by `out`.
            unsafe { write(o, need) };
            return Err(Fail::new(
                rfl_result::BufferTooSmall,
                format!("buffer holds {buf_len} bytes, the next message has {need}"),
            ));
        }
        // SAFETY: the caller gives `buf_len` writable bytes.
        let dst = unsafe { slice_mut(buf, buf_len, "buf")? };
        match h.engine.poll_transmit(p, dst) {
            Some(n) => {
                // SAFETY: checked by `out`.
                unsafe { write(o, n) };
                Ok(rfl_result::Ok)
            }
            None => Ok(rfl_result::Empty),
        }
    })
}

/// Bytes queued for `peer` not yet taken (changes not yet decided are not counted).
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_pending_bytes(
    engine: *const rfl_engine,
    peer: u32,
    out_len: *mut usize,
) -> rfl_result {
    with_engine_ref(engine, |h| {
        let o = out(out_len, "out_len")?;
        let p = peer_of(&h.engine, peer)?;
        // SAFETY: checked by `out`.
        unsafe { write(o, h.engine.pending_bytes(p)) };
        Ok(rfl_result::Ok)
    })
}

/// The family named by one RFL_FAMILY_* bit.
fn one_family(family: u32) -> Result<reflector_core::wire::AfiSafi, Fail> {
    if family.count_ones() != 1 {
        return Err(Fail::invalid("family must be one RFL_FAMILY_* bit"));
    }
    let set = families_from_bits(family, "family")?;
    crate::FAMILY_BITS
        .iter()
        .find(|(_, f)| set.contains(*f))
        .map(|(_, f)| *f)
        .ok_or_else(|| Fail::invalid("family must be one RFL_FAMILY_* bit"))
}

/// Queue `peer`'s routes of `family` (one RFL_FAMILY_* bit) again, then End-of-RIB.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_route_refresh(
    engine: *mut rfl_engine,
    peer: u32,
    family: u32,
) -> rfl_result {
    with_engine(engine, |h| {
        let p = peer_of(&h.engine, peer)?;
        let f = one_family(family)?;
        if !h.engine.is_up(p) {
            return Err(Fail::new(
                rfl_result::PeerNotUp,
                format!("peer {peer} is not up"),
            ));
        }
        h.engine.route_refresh(p, f);
        Ok(rfl_result::Ok)
    })
}

/// Pause `peer`'s output: its socket takes nothing. The engine encodes
/// nothing more for it and keeps which prefixes change instead (what is
/// already queued stays queued); `rfl_engine_resume_transmit` sends it the
/// current state of those prefixes.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_pause_transmit(
    engine: *mut rfl_engine,
    peer: u32,
) -> rfl_result {
    with_engine(engine, |h| {
        let p = peer_of(&h.engine, peer)?;
        h.engine.pause_transmit(p);
        Ok(rfl_result::Ok)
    })
}

/// Let a paused `peer` catch up: its next step (at most 65,536 prefixes) is
/// queued now, the rest one step at a time as `rfl_engine_poll_transmit`
/// empties its queue. `*out_more` (may be NULL) tells whether more steps
/// are pending.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_resume_transmit(
    engine: *mut rfl_engine,
    peer: u32,
    out_more: *mut bool,
) -> rfl_result {
    with_engine(engine, |h| {
        let p = peer_of(&h.engine, peer)?;
        let more = h.engine.resume_transmit(p);
        if !out_more.is_null() {
            // SAFETY: not NULL, and the caller passes a writable bool.
            unsafe { write(out_more, more) };
        }
        Ok(rfl_result::Ok)
    })
}

/// Limit the paths `peer` may have accepted in `family` (one RFL_FAMILY_*
/// bit) to `max`; `max` 0 removes the limit. Crossing it raises an
/// `RFL_EVENT_KIND_PREFIX_LIMIT` event and, unless `warning_only`, ends the
/// session: `rfl_engine_handle_message` returns the Cease / Maximum Number of
/// Prefixes Reached NOTIFICATION (RFC 4486) to send.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_set_prefix_limit(
    engine: *mut rfl_engine,
    peer: u32,
    family: u32,
    max: u32,
    warning_only: bool,
) -> rfl_result {
    with_engine(engine, |h| {
        let p = peer_of(&h.engine, peer)?;
        let f = one_family(family)?;
        let limit = (max != 0).then_some(reflector_core::engine::PrefixLimit { max, warning_only });
        if !h.engine.set_prefix_limit(p, f, limit) {
            return Err(Fail::invalid("no prefix limit for this family"));
        }
        Ok(rfl_result::Ok)
    })
}

/// Refuse ADD-PATH paths from `peer` beyond `max` per prefix (0: no limit);
/// each refusal is counted and raises an `RFL_EVENT_KIND_PATH_LIMIT` event.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_set_max_paths_per_prefix(
    engine: *mut rfl_engine,
    peer: u32,
    max: u16,
) -> rfl_result {
    with_engine(engine, |h| {
        let p = peer_of(&h.engine, peer)?;
        h.engine
            .set_max_paths_per_prefix(p, (max != 0).then_some(max));
        Ok(rfl_result::Ok)
    })
}

// ---------------------------------------------------------------------------
// Local routes.

/// Originate `*prefix` from this engine with next hop `*next_hop` and the path
/// attributes in `attrs` (wire-format TLVs; NULL with length 0 for none;
/// ORIGIN IGP and an empty AS_PATH are added when absent; NEXT_HOP and MP
/// attributes in `attrs` are ignored).
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_originate(
    engine: *mut rfl_engine,
    prefix: *const rfl_prefix,
    next_hop: *const rfl_addr,
    attrs: *const u8,
    attrs_len: usize,
) -> rfl_result {
    with_engine(engine, |h| {
        // SAFETY: checked by `read`.
        let pfx = unsafe { read(prefix, "prefix")? }.to_prefix()?;
        // SAFETY: checked by `read`.
        let nh = unsafe { read(next_hop, "next_hop")? }.to_ip("next_hop")?;
        // SAFETY: the caller gives `attrs_len` readable bytes.
        let raw = unsafe { slice(attrs, attrs_len, "attrs")? };
        let it = AttrIter::new_checked(raw, 0)
            .map_err(|e| Fail::new(rfl_result::Malformed, format!("attrs: {e}")))?;
        let list: Vec<AttributeRepr> = it
            .map(|a| AttributeRepr::parse(&a, &Context::MODERN))
            .collect();
        h.engine
            .originate(pfx, nh, &list)
            .map_err(|e| Fail::new(rfl_result::Malformed, format!("attrs: {e}")))?;
        Ok(rfl_result::Ok)
    })
}

/// Withdraw a route this engine originated; RFL_RESULT_NOT_FOUND if there was none.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_withdraw_local(
    engine: *mut rfl_engine,
    prefix: *const rfl_prefix,
) -> rfl_result {
    with_engine(engine, |h| {
        // SAFETY: checked by `read`.
        let pfx = unsafe { read(prefix, "prefix")? }.to_prefix()?;
        if h.engine.withdraw_local(pfx) {
            Ok(rfl_result::Ok)
        } else {
            Err(Fail::new(
                rfl_result::NotFound,
                format!("{pfx} is not originated here"),
            ))
        }
    })
}

// ---------------------------------------------------------------------------
// Inspection.

/// The best path for `*prefix` into `*out_path`; RFL_RESULT_NOT_FOUND when it has none.
/// Call after `rfl_engine_poll_transmit` or `rfl_engine_flush` to see the latest UPDATEs decided.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_best(
    engine: *const rfl_engine,
    prefix: *const rfl_prefix,
    out_path: *mut rfl_path,
) -> rfl_result {
    with_engine_ref(engine, |h| {
        let o = out(out_path, "out_path")?;
        // SAFETY: checked by `read`.
        let pfx = unsafe { read(prefix, "prefix")? }.to_prefix()?;
        let b = h
            .engine
            .best(&pfx)
            .ok_or_else(|| Fail::new(rfl_result::NotFound, format!("no best path for {pfx}")))?;
        // SAFETY: checked by `out`.
        unsafe { write(o, path_of(&b)) };
        Ok(rfl_result::Ok)
    })
}

/// Every candidate path for `*prefix`, best first, into `out_paths` (capacity
/// `out_cap` elements); `*out_count` gets the number. When `out_cap` is too
/// small, RFL_RESULT_BUFFER_TOO_SMALL with the count needed in `*out_count`.
/// No candidates: RFL_RESULT_OK with a count of 0.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_candidates(
    engine: *const rfl_engine,
    prefix: *const rfl_prefix,
    out_paths: *mut rfl_path,
    out_cap: usize,
    out_count: *mut usize,
) -> rfl_result {
    with_engine_ref(engine, |h| {
        let o = out(out_count, "out_count")?;
        // SAFETY: checked by `read`.
        let pfx = unsafe { read(prefix, "prefix")? }.to_prefix()?;
        let cands = h.engine.candidates(&pfx);
        if cands.len() > out_cap {
            // SAFETY: checked by `out`.
            unsafe { write(o, cands.len()) };
            return Err(Fail::new(
                rfl_result::BufferTooSmall,
                format!("room for {out_cap} paths, {} needed", cands.len()),
            ));
        }
        if !cands.is_empty() {
            let dst = out(out_paths, "out_paths")?;
            for (i, c) in cands.iter().enumerate() {
                // SAFETY: `dst` holds `out_cap` >= cands.len() elements (caller contract).
                unsafe { dst.add(i).write(path_of(c)) };
            }
        }
        // SAFETY: checked by `out`.
        unsafe { write(o, cands.len()) };
        Ok(rfl_result::Ok)
    })
}

/// The canonical attribute bytes (wire TLVs, 4-octet AS) of attribute set
/// `attrs` (from `rfl_path.attrs`), borrowed from the engine: valid until the
/// next call taking a non-const engine pointer, or until the engine is freed.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_attr_set(
    engine: *const rfl_engine,
    attrs: u32,
    out_bytes: *mut *const u8,
    out_len: *mut usize,
) -> rfl_result {
    with_engine_ref(engine, |h| {
        let ob = out(out_bytes, "out_bytes")?;
        let ol = out(out_len, "out_len")?;
        let set = h.engine.attr_set(AttrId(attrs)).ok_or_else(|| {
            Fail::new(
                rfl_result::NotFound,
                format!("attribute set {attrs} does not exist"),
            )
        })?;
        // SAFETY: both checked by `out`.
        unsafe {
            write(ob, set.block().as_ptr());
            write(ol, set.block().len());
        }
        Ok(rfl_result::Ok)
    })
}

/// Snapshot the Loc-RIB (every prefix with its best path; IPv4 then IPv6, each
/// ascending) into a new iterator `*out_iter`, owned by the caller and freed with
/// `rfl_loc_rib_iter_free`. The snapshot does not change with the engine.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_loc_rib(
    engine: *const rfl_engine,
    out_iter: *mut *mut rfl_loc_rib_iter,
) -> rfl_result {
    with_engine_ref(engine, |h| {
        let o = out(out_iter, "out_iter")?;
        let items = h
            .engine
            .loc_rib()
            .iter()
            .map(|(p, v)| (rfl_prefix::from_prefix(*p), path_of(v)))
            .collect();
        let it = Box::new(IterHandle {
            magic: ITER_MAGIC,
            items,
            pos: 0,
        });
        // SAFETY: checked by `out`.
        unsafe { write(o, Box::into_raw(it).cast::<rfl_loc_rib_iter>()) };
        Ok(rfl_result::Ok)
    })
}

unsafe fn iter_mut<'a>(p: *mut rfl_loc_rib_iter) -> Result<&'a mut IterHandle, Fail> {
    let p = p.cast::<IterHandle>();
    if p.is_null() {
        return Err(Fail::null("iter"));
    }
    if (p as usize) % core::mem::align_of::<IterHandle>() != 0 {
        return Err(Fail::new(
            rfl_result::InvalidHandle,
            "iter is not an rfl_loc_rib_iter",
        ));
    }
    // SAFETY: non-NULL and aligned; the caller promises it came from rfl_engine_loc_rib.
    let it = unsafe { &mut *p };
    if it.magic != ITER_MAGIC {
        return Err(Fail::new(
            rfl_result::InvalidHandle,
            "iter is not a live rfl_loc_rib_iter",
        ));
    }
    Ok(it)
}

/// The number of entries in the snapshot, through `*out_count`.
#[no_mangle]
pub unsafe extern "C" fn rfl_loc_rib_iter_count(
    iter: *mut rfl_loc_rib_iter,
    out_count: *mut usize,
) -> rfl_result {
    boundary(|| {
        let o = out(out_count, "out_count")?;
        // SAFETY: checked by iter_mut.
        let it = unsafe { iter_mut(iter)? };
        // SAFETY: checked by `out`.
        unsafe { write(o, it.items.len()) };
        Ok(rfl_result::Ok)
    })
}

/// The next prefix and its best path; RFL_RESULT_EMPTY after the last one.
#[no_mangle]
pub unsafe extern "C" fn rfl_loc_rib_iter_next(
    iter: *mut rfl_loc_rib_iter,
    out_prefix: *mut rfl_prefix,
    out_path: *mut rfl_path,
) -> rfl_result {
    boundary(|| {
        let op = out(out_prefix, "out_prefix")?;
        let oa = out(out_path, "out_path")?;
        // SAFETY: checked by iter_mut.
        let it = unsafe { iter_mut(iter)? };
        let Some((p, a)) = it.items.get(it.pos).copied() else {
            return Ok(rfl_result::Empty);
        };
        it.pos += 1;
        // SAFETY: both checked by `out`.
        unsafe {
            write(op, p);
            write(oa, a);
        }
        Ok(rfl_result::Ok)
    })
}

/// Free a Loc-RIB iterator (NULL is ignored).
#[no_mangle]
pub unsafe extern "C" fn rfl_loc_rib_iter_free(iter: *mut rfl_loc_rib_iter) -> rfl_result {
    if iter.is_null() {
        return rfl_result::Ok;
    }
    boundary(|| {
        // SAFETY: checked by iter_mut.
        unsafe { iter_mut(iter)? };
        // SAFETY: a live handle created by Box::into_raw in rfl_engine_loc_rib.
        let mut b = unsafe { Box::from_raw(iter.cast::<IterHandle>()) };
        b.magic = 0;
        drop(b);
        Ok(rfl_result::Ok)
    })
}

/// Decide every pending change now (otherwise done by the next `rfl_engine_poll_transmit`).
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_flush(engine: *mut rfl_engine) -> rfl_result {
    with_engine(engine, |h| {
        h.engine.flush();
        Ok(rfl_result::Ok)
    })
}

/// `peer`'s counters into `*out_counters`.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_counters(
    engine: *const rfl_engine,
    peer: u32,
    out_counters: *mut rfl_peer_counters,
) -> rfl_result {
    with_engine_ref(engine, |h| {
        let o = out(out_counters, "out_counters")?;
        let p = peer_of(&h.engine, peer)?;
        let c = h
            .engine
            .counters(p)
            .ok_or_else(|| Fail::new(rfl_result::UnknownPeer, "no such peer"))?;
        let r = rfl_peer_counters {
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
        };
        // SAFETY: checked by `out`.
        unsafe { write(o, r) };
        Ok(rfl_result::Ok)
    })
}

/// Memory held by the RIB, into `*out_stats`.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_memory(
    engine: *const rfl_engine,
    out_stats: *mut rfl_memory_stats,
) -> rfl_result {
    with_engine_ref(engine, |h| {
        let o = out(out_stats, "out_stats")?;
        let m = h.engine.memory();
        let r = rfl_memory_stats {
            prefixes: m.prefixes,
            paths: m.paths,
            attr_sets: m.attr_sets,
            table_bytes: m.table_bytes,
            attr_bytes: m.attr_bytes,
        };
        // SAFETY: checked by `out`.
        unsafe { write(o, r) };
        Ok(rfl_result::Ok)
    })
}

/// The next event (oldest first) into `*out_event`; RFL_RESULT_EMPTY when there is none.
/// Events are recorded only with `rfl_engine_config.record_events`.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_poll_event(
    engine: *mut rfl_engine,
    out_event: *mut rfl_event,
) -> rfl_result {
    with_engine(engine, |h| {
        let o = out(out_event, "out_event")?;
        let Some(ev) = h.engine.poll_event() else {
            return Ok(rfl_result::Empty);
        };
        let mut r = rfl_event {
            kind: rfl_event_kind::PeerUp,
            peer: 0,
            prefix: rfl_prefix::default(),
            has_best: false,
            best: 0,
            loop_reason: rfl_loop_reason::None,
            error_code: 0,
            error_subcode: 0,
            error_action: rfl_action::None,
        };
        match ev {
            Event::BestChanged { prefix, best } => {
                r.kind = rfl_event_kind::BestChanged;
                r.prefix = rfl_prefix::from_prefix(prefix);
                r.has_best = best.is_some();
                r.best = best.map_or(0, |b| b.0);
            }
            Event::LoopRejected {
                peer,
                prefix,
                reason,
            } => {
                r.kind = rfl_event_kind::LoopRejected;
                r.peer = peer.0;
                r.prefix = rfl_prefix::from_prefix(prefix);
                r.loop_reason = match reason {
                    LoopReason::ClusterList => rfl_loop_reason::ClusterList,
                    LoopReason::OriginatorId => rfl_loop_reason::OriginatorId,
                    LoopReason::AsPath => rfl_loop_reason::AsPath,
                    LoopReason::RouteLeak => rfl_loop_reason::RouteLeak,
                };
            }
            Event::UpdateError { peer, error } => {
                r.kind = rfl_event_kind::UpdateError;
                r.peer = peer.0;
                r.error_code = error.code;
                r.error_subcode = error.subcode;
                r.error_action = action_of(error.action);
            }
            Event::EncodeOverflow { peer, prefix } => {
                r.kind = rfl_event_kind::EncodeOverflow;
                r.peer = peer.0;
                r.prefix = rfl_prefix::from_prefix(prefix);
            }
            Event::PeerUp(p) => {
                r.kind = rfl_event_kind::PeerUp;
                r.peer = p.0;
            }
            Event::PeerDown(p) => {
                r.kind = rfl_event_kind::PeerDown;
                r.peer = p.0;
            }
            Event::PeerRestarting { peer, .. } => {
                r.kind = rfl_event_kind::PeerRestarting;
                r.peer = peer.0;
            }
            Event::StaleRemoved { peer, .. } => {
                r.kind = rfl_event_kind::StaleRemoved;
                r.peer = peer.0;
            }
            Event::PrefixLimit {
                peer, warning_only, ..
            } => {
                r.kind = rfl_event_kind::PrefixLimit;
                r.peer = peer.0;
                if !warning_only {
                    r.error_code = reflector_core::error::code::CEASE;
                    r.error_subcode = reflector_core::error::subcode::CEASE_MAX_PREFIXES;
                    r.error_action = rfl_action::SessionReset;
                }
            }
            Event::PathLimit { peer, prefix } => {
                r.kind = rfl_event_kind::PathLimit;
                r.peer = peer.0;
                r.prefix = rfl_prefix::from_prefix(prefix);
            }
        }
        // SAFETY: checked by `out`.
        unsafe { write(o, r) };
        Ok(rfl_result::Ok)
    })
}

struct CResolver {
    cb: unsafe extern "C" fn(*mut c_void, *const rfl_addr, *mut u32) -> bool,
    userdata: *mut c_void,
}

// SAFETY: the header's thread rules: the callback runs only on the thread
// calling into the engine, during that call; the engine is used from one
// thread at a time, so the userdata pointer is never used concurrently.
unsafe impl Send for CResolver {}
// SAFETY: as above.
unsafe impl Sync for CResolver {}

impl CResolver {
    fn resolve(&self, a: IpAddr) -> Option<u32> {
        let addr = rfl_addr::from_ip(a);
        let mut cost = 0u32;
        // SAFETY: the callback and userdata were supplied together by the caller,
        // who promises they stay valid while installed.
        let ok = unsafe { (self.cb)(self.userdata, &addr, &mut cost) };
        ok.then_some(cost)
    }
}

/// Install the next-hop resolver `callback` with `userdata` (or remove it with
/// NULL: every next hop is then reachable at cost 0). Every prefix is decided
/// again at the next flush. `userdata` must stay valid while installed.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_set_resolver(
    engine: *mut rfl_engine,
    callback: rfl_resolver_callback,
    userdata: *mut c_void,
) -> rfl_result {
    with_engine(engine, |h| {
        let r = callback.map(|cb| {
            let c = CResolver { cb, userdata };
            Box::new(move |a: IpAddr| c.resolve(a))
                as Box<dyn Fn(IpAddr) -> Option<u32> + Send + Sync>
        });
        h.engine.set_resolver(r);
        Ok(rfl_result::Ok)
    })
}

/// Tell the engine that next-hop reachability or costs changed: every prefix is decided again.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_resolver_changed(engine: *mut rfl_engine) -> rfl_result {
    with_engine(engine, |h| {
        h.engine.resolver_changed();
        Ok(rfl_result::Ok)
    })
}

/// The number of prefixes in the Loc-RIB (IPv4 into `*out_v4`, IPv6 into `*out_v6`).
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_prefix_counts(
    engine: *const rfl_engine,
    out_v4: *mut usize,
    out_v6: *mut usize,
) -> rfl_result {
    with_engine_ref(engine, |h| {
        let o4 = out(out_v4, "out_v4")?;
        let o6 = out(out_v6, "out_v6")?;
        let (a, b) = h.engine.prefix_counts();
        // SAFETY: both checked by `out`.
        unsafe {
            write(o4, a);
            write(o6, b);
        }
        Ok(rfl_result::Ok)
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use core::mem::MaybeUninit;

    fn new_engine() -> *mut rfl_engine {
        let mut cfg = MaybeUninit::uninit();
        let mut e = core::ptr::null_mut();
        // SAFETY: valid pointers.
        unsafe {
            assert_eq!(
                rfl_engine_config_init(65000, 0x0a00_0001, cfg.as_mut_ptr()),
                rfl_result::Ok
            );
            assert_eq!(rfl_engine_new(cfg.as_ptr(), &mut e), rfl_result::Ok);
        }
        e
    }

    #[test]
    fn a_panic_is_caught_poisons_the_engine_and_the_engine_can_still_be_freed() {
        let e = new_engine();
        let r = with_engine(e, |_| panic!("boom inside the engine"));
        assert_eq!(r, rfl_result::Panic);
        let mut buf = [0 as core::ffi::c_char; 128];
        let mut n = 0usize;
        // SAFETY: valid pointers.
        unsafe {
            assert_eq!(
                crate::rfl_last_error(buf.as_mut_ptr(), buf.len(), &mut n),
                rfl_result::Ok
            );
            let msg: Vec<u8> = buf[..n].iter().map(|&c| c as u8).collect();
            assert_eq!(msg, b"panic: boom inside the engine");
            let mut st = MaybeUninit::uninit();
            assert_eq!(rfl_engine_memory(e, st.as_mut_ptr()), rfl_result::Panic);
            assert_eq!(rfl_engine_flush(e), rfl_result::Panic);
            assert_eq!(rfl_engine_free(e), rfl_result::Ok);
        }
    }

    #[test]
    fn out_parameters_are_untouched_on_failure() {
        let e = new_engine();
        let mut c = rfl_peer_counters {
            updates_received: 77,
            ..Default::default()
        };
        // SAFETY: valid pointers.
        unsafe {
            assert_eq!(rfl_engine_counters(e, 3, &mut c), rfl_result::UnknownPeer);
            assert_eq!(c.updates_received, 77);
            let mut n = 123usize;
            let mut buf = [0u8; 8];
            assert_eq!(
                rfl_engine_poll_transmit(e, 3, buf.as_mut_ptr(), 8, &mut n),
                rfl_result::UnknownPeer
            );
            assert_eq!(n, 123);
            assert_eq!(rfl_engine_free(e), rfl_result::Ok);
        }
    }
}

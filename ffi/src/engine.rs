//! `rfl_engine`: the route reflection engine behind a C handle.

use core::cell::Cell;
use core::ffi::c_void;
use core::net::{IpAddr, Ipv4Addr};

use reflector_core::decision::DecisionConfig;
use reflector_core::engine::{AddPathSend, Engine, EngineConfig, Negotiated, PathView, PeerConfig};
use reflector_core::error::Action;
use reflector_core::reflect::Role;
use reflector_core::rib::PeerId;
use reflector_core::wire::capability::BgpRole;
use reflector_core::wire::AfiSafiSet;

use crate::handle::{self, Handle};
use crate::{
    boundary, families_from_bits, families_to_bits, out, read, rfl_addr, rfl_prefix, rfl_result,
    write, Fail, FfiResult,
};

// Messages in and out and local routes: their own file, still `reflector::engine::*`.
mod messages;
pub use messages::*;

/// A route reflection engine (opaque). Create with `rfl_engine_new`, free with `rfl_engine_free`.
pub struct rfl_engine {
    _private: [u8; 0],
}

/// The value behind an `rfl_engine` handle.
pub(crate) struct EngineHandle {
    pub(crate) engine: Engine,
    notification: Vec<u8>,
    /// The C resolver installed, kept to install it again when the engine is
    /// rebuilt (`rfl_engine_set_ebgp_requires_policy`).
    pub(crate) resolver: Option<crate::inspect::CResolver>,
}

/// A snapshot of the Loc-RIB (opaque), from `rfl_engine_loc_rib`; free with `rfl_loc_rib_iter_free`.
pub struct rfl_loc_rib_iter {
    _private: [u8; 0],
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
    /// Size of this struct in bytes, set by its `_init` function (or `sizeof`): the ABI version.
    pub struct_size: u32,
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
    /// After next-hop reachability, a path the engine originates (`rfl_engine_originate`)
    /// wins over learned ones, as a static route over BGP (decision step `local-origin`).
    pub prefer_local: bool,
}

/// A peer's configuration. Fill with `rfl_peer_config_init`, then adjust.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct rfl_peer_config {
    /// Size of this struct in bytes, set by its `_init` function (or `sizeof`): the ABI version.
    pub struct_size: u32,
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
    /// The AS we use on this session instead of the engine's (0: the engine's).
    pub local_as: u32,
    /// How many times our AS may be in the AS_PATH of this eBGP peer's routes before they are loops (0: never).
    pub allow_own_as: u8,
    /// Toward this eBGP peer, unicast routes keep their next hop instead of ours (a third-party next hop).
    pub next_hop_unchanged: bool,
}

/// What a session negotiated (from the OPEN exchange). As input fill it with
/// `rfl_negotiated_unicast` (or take it from `rfl_session_negotiated`); as output set
/// `struct_size` first.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct rfl_negotiated {
    /// Size of this struct in bytes (`sizeof`): the ABI version.
    pub struct_size: u32,
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
    /// Both sides support ROUTE-REFRESH (RFC 2918).
    pub route_refresh: bool,
    /// Both sides advertised graceful restart (RFC 4724): `rfl_engine_peer_up` keeps the
    /// peer's stale paths in `graceful_restart_preserved` until its End-of-RIB.
    pub graceful_restart: bool,
    /// The peer's restart time in seconds (arm the restart timer with it after a graceful down).
    pub graceful_restart_time: u16,
    /// Families in which the peer preserved its forwarding state (RFL_FAMILY_* bits).
    pub graceful_restart_preserved: u32,
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

/// The result of `rfl_engine_handle_message` (set `struct_size` before the call).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct rfl_outcome {
    /// Size of this struct in bytes: the caller sets it (`sizeof`) before the call; the
    /// library writes that many bytes at most and sets it to the number it wrote.
    pub struct_size: u32,
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

/// Per-peer counters (set `struct_size` before `rfl_engine_counters`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct rfl_peer_counters {
    /// Size of this struct in bytes: the caller sets it (`sizeof`) before the call; the
    /// library writes that many bytes at most and sets it to the number it wrote.
    pub struct_size: u32,
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
    /// Paths the peer sent that its import policy (or hook, or RFC 8212) rejected.
    pub policy_rejected_in: u64,
    /// Paths the peer sent that its import policy (or hook) accepted with changed attributes.
    pub policy_modified_in: u64,
    /// Paths not sent to the peer because its export policy (or hook, or RFC 8212) rejected them.
    pub policy_rejected_out: u64,
    /// Sessions that went down gracefully, keeping their paths as stale (RFC 4724).
    pub graceful_restarts: u64,
    /// Paths marked stale at graceful downs.
    pub stale_marked: u64,
    /// Stale paths removed (End-of-RIB, restart timer, reconnect without graceful restart).
    pub stale_removed: u64,
    /// Times the peer's output was paused.
    pub transmit_pauses: u64,
    /// Times the peer crossed one of its prefix limits.
    pub prefix_limit_hits: u64,
    /// Paths refused because the peer had its maximum paths for the prefix.
    pub paths_refused: u64,
    /// Paths refused by the peer's attribute-set memory limit.
    pub attr_limit_refused: u64,
    /// Prefixes ignored because their family was not negotiated (or was disabled).
    pub unnegotiated_prefixes: u64,
    /// Families turned off for a malformed MP_REACH_NLRI / MP_UNREACH_NLRI (RFC 7606).
    pub families_disabled: u64,
}

/// Memory held by the RIB (set `struct_size` before `rfl_engine_memory`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct rfl_memory_stats {
    /// Size of this struct in bytes: the caller sets it (`sizeof`) before the call; the
    /// library writes that many bytes at most and sets it to the number it wrote.
    pub struct_size: u32,
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
    /// `peer`'s routes reached its attribute-set memory limit: routes that would create new sets are refused.
    AttrMemoryLimit = 10,
    /// An MP attribute of a family `peer`'s session does not carry, or that Reflector does not
    /// know, was ignored: `families` its bit (0 when it has none), `paths` its NLRI (0 when unknown).
    UnknownFamily = 11,
    /// The best path of a route of a family beyond unicast changed: `families` the family's
    /// bit, `has_best`/`best` the peer it now comes from (the route itself is not in the event).
    KeyedBestChanged = 12,
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

/// An engine event (fields not used by the kind are zero; set `struct_size` before the call).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct rfl_event {
    /// Size of this struct in bytes: the caller sets it (`sizeof`) before the call; the
    /// library writes that many bytes at most and sets it to the number it wrote.
    pub struct_size: u32,
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
    /// For PEER_RESTARTING: the families kept stale; STALE_REMOVED: the family swept (RFL_FAMILY_* bits).
    pub families: u32,
    /// For PEER_RESTARTING: paths marked stale; STALE_REMOVED: paths removed.
    pub paths: u64,
}

// ABI 1.0 ends before the decision knob added after it (prefer_local).
crate::sized!(
    rfl_engine_config,
    core::mem::offset_of!(rfl_engine_config, prefer_local)
);
// ABI 1.0 ends before the eBGP session options (local AS, own AS allowed,
// next hop unchanged), added where its padding ended.
crate::sized!(
    rfl_peer_config,
    core::mem::offset_of!(rfl_peer_config, local_as)
);
// ABI 1.0 ends before the fields ABI 1.1 added (graceful restart in the
// negotiated summary, event families/paths, the rest of the core counters).
crate::sized!(
    rfl_negotiated,
    core::mem::offset_of!(rfl_negotiated, route_refresh)
);
crate::sized!(rfl_outcome, core::mem::size_of::<rfl_outcome>());
crate::sized!(
    rfl_peer_counters,
    core::mem::offset_of!(rfl_peer_counters, graceful_restarts)
);
crate::sized!(rfl_memory_stats, core::mem::size_of::<rfl_memory_stats>());
crate::sized!(rfl_event, core::mem::offset_of!(rfl_event, families));

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

thread_local! {
    /// The engine this thread is inside a call of (0: none), so that a
    /// callback calling back into it is refused instead of aliasing it.
    static BUSY: Cell<usize> = const { Cell::new(0) };
}

/// Marks an engine busy on this thread for the guard's life.
struct Busy(usize);

impl Busy {
    fn enter(p: *const rfl_engine) -> Busy {
        Busy(BUSY.with(|b| b.replace(p as usize)))
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        BUSY.with(|b| b.set(self.0));
    }
}

fn not_busy(p: *const rfl_engine) -> Result<(), Fail> {
    if BUSY.with(Cell::get) == p as usize {
        return Err(Fail::new(
            rfl_result::InvalidState,
            "engine called from inside one of its own callbacks",
        ));
    }
    Ok(())
}

impl Handle for rfl_engine {
    type Value = EngineHandle;
    const MAGIC: u64 = 0x7266_6c5f_656e_6731;
    const NAME: &'static str = "engine";
    const TYPE: &'static str = "rfl_engine";

    /// An engine busy in a call on this thread is refused before it is read:
    /// that call holds it.
    fn check_ptr(p: *const Self) -> Result<(), Fail> {
        not_busy(p)
    }
}

/// Run `f` on a mutable engine inside the panic boundary; a panic poisons the engine.
pub(crate) fn with_engine(
    p: *mut rfl_engine,
    f: impl FnOnce(&mut EngineHandle) -> FfiResult,
) -> rfl_result {
    handle::with(p, |h| {
        let _busy = Busy::enter(p);
        f(h)
    })
}

/// Run `f` on a shared engine inside the panic boundary.
pub(crate) fn with_engine_ref(
    p: *const rfl_engine,
    f: impl FnOnce(&EngineHandle) -> FfiResult,
) -> rfl_result {
    boundary(|| {
        // SAFETY: checked by `live_ref`.
        let e = unsafe { handle::live_ref(p)? };
        let _busy = Busy::enter(p);
        f(e)
    })
}

pub(crate) fn peer_of(e: &Engine, id: u32) -> Result<PeerId, Fail> {
    let p = PeerId(id);
    if e.peer_config(p).is_none() {
        return Err(Fail::new(
            rfl_result::UnknownPeer,
            format!("peer {id} does not exist"),
        ));
    }
    Ok(p)
}

/// RFL_RESULT_PEER_NOT_UP unless peer `p` is up.
pub(crate) fn require_up(e: &Engine, p: PeerId) -> Result<(), Fail> {
    if e.is_up(p) {
        return Ok(());
    }
    Err(Fail::new(
        rfl_result::PeerNotUp,
        format!("peer {} is not up", p.0),
    ))
}

/// The family named by one RFL_FAMILY_* bit.
pub(crate) fn one_family(family: u32) -> Result<reflector_core::wire::AfiSafi, Fail> {
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

fn role_from(v: u32) -> Result<Role, Fail> {
    match v {
        0 => Ok(Role::Client),
        1 => Ok(Role::NonClient),
        2 => Ok(Role::Ebgp),
        _ => Err(Fail::invalid(format!("role {v} is not an rfl_role"))),
    }
}

pub(crate) fn action_of(a: Action) -> rfl_action {
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

/// The families whose stale paths survive `rfl_engine_peer_up` with `n`.
pub(crate) fn preserved_from(n: &rfl_negotiated) -> Result<AfiSafiSet, Fail> {
    if !n.graceful_restart {
        return Ok(AfiSafiSet::EMPTY);
    }
    families_from_bits(
        n.graceful_restart_preserved,
        "negotiated.graceful_restart_preserved",
    )
}

pub(crate) fn negotiated_to(n: &Negotiated) -> rfl_negotiated {
    rfl_negotiated {
        struct_size: core::mem::size_of::<rfl_negotiated>() as u32,
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
        route_refresh: true,
        graceful_restart: false,
        graceful_restart_time: 0,
        graceful_restart_preserved: 0,
    }
}

/// The defaults of an engine configuration for `local_as` and `router_id`.
fn engine_config_defaults(local_as: u32, router_id: u32) -> rfl_engine_config {
    let d = EngineConfig::new(local_as, Ipv4Addr::from_bits(router_id));
    rfl_engine_config {
        struct_size: core::mem::size_of::<rfl_engine_config>() as u32,
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
        prefer_local: d.decision.prefer_local,
    }
}

/// The defaults of a peer configuration.
fn peer_config_defaults(role: u32, asn: u32, address: rfl_addr) -> rfl_peer_config {
    rfl_peer_config {
        struct_size: core::mem::size_of::<rfl_peer_config>() as u32,
        role,
        asn,
        address,
        local_v4: rfl_addr::default(),
        local_v6: rfl_addr::default(),
        add_path_send: rfl_add_path_send::Off as u32,
        add_path_best: 1,
        local_as: 0,
        allow_own_as: 0,
        next_hop_unchanged: false,
    }
}

// ---------------------------------------------------------------------------
// Configuration.

/// Fill `*out_config` (`config_size` bytes: pass `sizeof *out_config`) with
/// defaults for AS `local_as` and BGP identifier `router_id` (cluster ID =
/// router ID, client-to-client reflection on, LOCAL_PREF 100, no events), and
/// set its `struct_size`. Always start from this function: fields a newer
/// library adds then keep their defaults.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_config_init(
    local_as: u32,
    router_id: u32,
    out_config: *mut rfl_engine_config,
    config_size: usize,
) -> rfl_result {
    boundary(|| {
        let c = engine_config_defaults(local_as, router_id);
        // SAFETY: the caller gives `config_size` writable bytes.
        unsafe { crate::init_sized(out_config, config_size, c, "out_config")? };
        Ok(rfl_result::Ok)
    })
}

/// Fill `*out_config` (`config_size` bytes: pass `sizeof *out_config`) for a
/// peer with `role` (an rfl_role), AS `asn` and `*address`; no local addresses,
/// no ADD-PATH sending; sets its `struct_size`.
#[no_mangle]
pub unsafe extern "C" fn rfl_peer_config_init(
    role: u32,
    asn: u32,
    address: *const rfl_addr,
    out_config: *mut rfl_peer_config,
    config_size: usize,
) -> rfl_result {
    boundary(|| {
        out(out_config, "out_config")?;
        // SAFETY: checked by `read`.
        let address = unsafe { read(address, "address")? };
        role_from(role)?;
        address.to_ip("address")?;
        let c = peer_config_defaults(role, asn, address);
        // SAFETY: the caller gives `config_size` writable bytes.
        unsafe { crate::init_sized(out_config, config_size, c, "out_config")? };
        Ok(rfl_result::Ok)
    })
}

/// Fill `*out_negotiated` (`negotiated_size` bytes: pass `sizeof *out_negotiated`)
/// for IPv4 and IPv6 unicast, 4-octet AS, route refresh, no ADD-PATH, no graceful
/// restart, 4,096-byte messages, with the peer's BGP identifier `router_id`.
#[no_mangle]
pub unsafe extern "C" fn rfl_negotiated_unicast(
    router_id: u32,
    out_negotiated: *mut rfl_negotiated,
    negotiated_size: usize,
) -> rfl_result {
    boundary(|| {
        let n = negotiated_to(&Negotiated::unicast(Ipv4Addr::from_bits(router_id)));
        // SAFETY: the caller gives `negotiated_size` writable bytes.
        unsafe { crate::init_sized(out_negotiated, negotiated_size, n, "out_negotiated")? };
        Ok(rfl_result::Ok)
    })
}

// ---------------------------------------------------------------------------
// Lifecycle.

/// Hold every session that comes up from now on: it is sent neither routes
/// nor End-of-RIB until `rfl_engine_end_deferral` (RFC 4724 §4.1, for a
/// restarting speaker); the routes it sends are taken in as usual. End the
/// deferral once every peer has sent End-of-RIB, or when the
/// Selection_Deferral_Timer expires.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_defer_selection(engine: *mut rfl_engine) -> rfl_result {
    with_engine(engine, |h| {
        h.engine.defer_selection();
        Ok(rfl_result::Ok)
    })
}

/// Whether sessions that come up are held by `rfl_engine_defer_selection`, through `*out_deferring`.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_is_deferring(
    engine: *const rfl_engine,
    out_deferring: *mut bool,
) -> rfl_result {
    with_engine_ref(engine, |h| {
        let o = out(out_deferring, "out_deferring")?;
        // SAFETY: checked by `out`.
        unsafe { write(o, h.engine.is_deferring()) };
        Ok(rfl_result::Ok)
    })
}

/// End the route selection deferral: every session it held is sent the
/// current table and End-of-RIB (through `rfl_engine_poll_transmit`, a step at
/// a time); `*out_held` (may be NULL) gets how many sessions it held.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_end_deferral(
    engine: *mut rfl_engine,
    out_held: *mut u32,
) -> rfl_result {
    with_engine(engine, |h| {
        let n = h.engine.end_deferral();
        if !out_held.is_null() {
            let o = out(out_held, "out_held")?;
            // SAFETY: checked by `out`.
            unsafe { write(o, u32::try_from(n).unwrap_or(u32::MAX)) };
        }
        Ok(rfl_result::Ok)
    })
}

/// Create an engine from `*config`; the caller owns `*out_engine` and frees it with `rfl_engine_free`.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_new(
    config: *const rfl_engine_config,
    out_engine: *mut *mut rfl_engine,
) -> rfl_result {
    boundary(|| {
        let o = out(out_engine, "out_engine")?;
        // SAFETY: checked by `read_sized`; fields past the caller's size keep their defaults.
        let c = unsafe { crate::read_sized(config, engine_config_defaults(0, 0), "config")? };
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
            prefer_local: c.prefer_local,
        };
        cfg.record_events = c.record_events;
        cfg.max_events = c.max_events;
        let h = EngineHandle {
            engine: Engine::new(cfg),
            notification: Vec::new(),
            resolver: None,
        };
        // SAFETY: checked by `out`.
        unsafe { write(o, handle::into_raw(h)) };
        Ok(rfl_result::Ok)
    })
}

/// Free an engine (NULL is ignored). The handle must not be used afterwards.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_free(engine: *mut rfl_engine) -> rfl_result {
    // SAFETY: checked by `free`.
    unsafe { handle::free(engine) }
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
        // SAFETY: checked by `read_sized`; fields past the caller's size keep their defaults.
        let c = unsafe {
            crate::read_sized(
                config,
                peer_config_defaults(0, 0, rfl_addr::default()),
                "config",
            )?
        };
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
        pc.allow_own_as = c.allow_own_as;
        pc.next_hop_unchanged = c.next_hop_unchanged;
        pc.local_as = (c.local_as != 0).then_some(c.local_as);
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

/// The defaults behind a caller's smaller `rfl_negotiated`.
fn negotiated_defaults() -> rfl_negotiated {
    let mut n = negotiated_to(&Negotiated::unicast(Ipv4Addr::UNSPECIFIED));
    n.families = 0;
    n
}

/// Read a caller's `rfl_negotiated` (sized).
pub(crate) unsafe fn read_negotiated(p: *const rfl_negotiated) -> Result<rfl_negotiated, Fail> {
    // SAFETY: checked by `read_sized`.
    unsafe { crate::read_sized(p, negotiated_defaults(), "negotiated") }
}

/// The session with `peer` is established with `*negotiated`: the whole table is
/// queued for it, then End-of-RIB per family.
///
/// With `negotiated->graceful_restart` set (both sides advertised graceful
/// restart, RFC 4724 §4.2), the peer's stale paths (from
/// `rfl_engine_peer_down_graceful`) in `negotiated->graceful_restart_preserved`
/// stay until its End-of-RIB for the family (or `rfl_engine_restart_timer_expired`);
/// its stale paths in other families are removed now. Without it, every stale path goes.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_peer_up(
    engine: *mut rfl_engine,
    peer: u32,
    negotiated: *const rfl_negotiated,
) -> rfl_result {
    with_engine(engine, |h| {
        // SAFETY: checked by `read_negotiated`.
        let raw = unsafe { read_negotiated(negotiated)? };
        let n = negotiated_from(&raw)?;
        let preserved = preserved_from(&raw)?;
        let p = peer_of(&h.engine, peer)?;
        h.engine.peer_up_graceful(p, n, preserved);
        Ok(rfl_result::Ok)
    })
}

/// The session with `peer` went down without a NOTIFICATION and the peer had
/// advertised graceful restart (RFC 4724 §4.2): its paths in `families`
/// (RFL_FAMILY_* bits) stay candidates, marked stale, and nothing is withdrawn
/// for them; its paths in other families are withdrawn as by
/// `rfl_engine_peer_down`. Arm a timer with the peer's restart time
/// (`rfl_negotiated.graceful_restart_time`) and call
/// `rfl_engine_restart_timer_expired` if the session is not back in time.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_peer_down_graceful(
    engine: *mut rfl_engine,
    peer: u32,
    families: u32,
) -> rfl_result {
    with_engine(engine, |h| {
        let p = peer_of(&h.engine, peer)?;
        let f = families_from_bits(families, "families")?;
        h.engine.peer_down_graceful(p, f);
        Ok(rfl_result::Ok)
    })
}

/// `peer`'s restart timer (or stale-path timer) expired: every path of the
/// peer still stale is removed (RFC 4724 §4.2). Nothing happens when none is stale.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_restart_timer_expired(
    engine: *mut rfl_engine,
    peer: u32,
) -> rfl_result {
    with_engine(engine, |h| {
        let p = peer_of(&h.engine, peer)?;
        h.engine.restart_timer_expired(p);
        Ok(rfl_result::Ok)
    })
}

/// The families (RFL_FAMILY_* bits) in which `peer` has stale paths, through
/// `*out_families`: after a graceful down until End-of-RIB, or during an
/// enhanced route refresh (RFC 7313) until EoRR.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_stale_families(
    engine: *const rfl_engine,
    peer: u32,
    out_families: *mut u32,
) -> rfl_result {
    with_engine_ref(engine, |h| {
        let o = out(out_families, "out_families")?;
        let p = peer_of(&h.engine, peer)?;
        // SAFETY: checked by `out`.
        unsafe { write(o, families_to_bits(h.engine.stale_families(p))) };
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

/// The IDs of the peers that exist (added, not removed), ascending, into
/// `out_peers` (capacity `out_cap`); `*out_count` gets the number. When
/// `out_cap` is too small, RFL_RESULT_BUFFER_TOO_SMALL with the count needed.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_peers(
    engine: *const rfl_engine,
    out_peers: *mut u32,
    out_cap: usize,
    out_count: *mut usize,
) -> rfl_result {
    with_engine_ref(engine, |h| {
        let o = out(out_count, "out_count")?;
        let ids: Vec<u32> = h.engine.peers().map(|p| p.0).collect();
        if ids.len() > out_cap {
            // SAFETY: checked by `out`.
            unsafe { write(o, ids.len()) };
            return Err(Fail::new(
                rfl_result::BufferTooSmall,
                format!("out_peers holds {out_cap}, {} needed", ids.len()),
            ));
        }
        if !ids.is_empty() {
            let d = out(out_peers, "out_peers")?;
            // SAFETY: the caller gives `out_cap` >= `ids.len()` writable elements at `d`.
            unsafe { core::ptr::copy_nonoverlapping(ids.as_ptr(), d, ids.len()) };
        }
        // SAFETY: checked by `out`.
        unsafe { write(o, ids.len()) };
        Ok(rfl_result::Ok)
    })
}

/// `peer`'s configuration as added (its limits are set with their own
/// functions) into `*out_config` (set its `struct_size` first).
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_peer_config(
    engine: *const rfl_engine,
    peer: u32,
    out_config: *mut rfl_peer_config,
) -> rfl_result {
    with_engine_ref(engine, |h| {
        let o = crate::out_sized(out_config, "out_config")?;
        let p = peer_of(&h.engine, peer)?;
        let c = h
            .engine
            .peer_config(p)
            .ok_or_else(|| Fail::new(rfl_result::UnknownPeer, "no such peer"))?;
        let (send, best) = match c.add_path_send {
            AddPathSend::Off => (rfl_add_path_send::Off, 1),
            AddPathSend::All => (rfl_add_path_send::All, 1),
            AddPathSend::Best(n) => (rfl_add_path_send::Best, n),
        };
        let r = rfl_peer_config {
            struct_size: 0,
            role: match c.role {
                Role::Client => rfl_role::Client,
                Role::NonClient => rfl_role::NonClient,
                Role::Ebgp => rfl_role::Ebgp,
            } as u32,
            asn: c.asn,
            address: rfl_addr::from_ip(c.address),
            local_v4: c
                .local_v4
                .map(|a| rfl_addr::from_ip(IpAddr::V4(a)))
                .unwrap_or_default(),
            local_v6: c
                .local_v6
                .map(|a| rfl_addr::from_ip(IpAddr::V6(a)))
                .unwrap_or_default(),
            add_path_send: send as u32,
            add_path_best: best,
            local_as: c.local_as.unwrap_or(0),
            allow_own_as: c.allow_own_as,
            next_hop_unchanged: c.next_hop_unchanged,
        };
        // SAFETY: checked by `out_sized`.
        unsafe { crate::write_sized(o, r) };
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use crate::inspect::{rfl_engine_counters, rfl_engine_flush, rfl_engine_memory};
    use core::mem::MaybeUninit;

    fn new_engine() -> *mut rfl_engine {
        let mut cfg = MaybeUninit::uninit();
        let mut e = core::ptr::null_mut();
        // SAFETY: valid pointers.
        unsafe {
            assert_eq!(
                rfl_engine_config_init(
                    65000,
                    0x0a00_0001,
                    cfg.as_mut_ptr(),
                    core::mem::size_of::<rfl_engine_config>()
                ),
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
        assert_eq!(crate::tests::last_error(), "panic: boom inside the engine");
        // SAFETY: valid pointers.
        unsafe {
            let mut st = rfl_memory_stats {
                struct_size: core::mem::size_of::<rfl_memory_stats>() as u32,
                ..Default::default()
            };
            assert_eq!(rfl_engine_memory(e, &mut st), rfl_result::Panic);
            assert_eq!(rfl_engine_flush(e), rfl_result::Panic);
            assert_eq!(rfl_engine_free(e), rfl_result::Ok);
        }
    }

    #[test]
    fn out_parameters_are_untouched_on_failure() {
        let e = new_engine();
        let mut c = rfl_peer_counters {
            struct_size: core::mem::size_of::<rfl_peer_counters>() as u32,
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

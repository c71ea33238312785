//! Routing policy in the C ABI: `rfl_policy` and `rfl_statement` builders
//! over `reflector_core::policy` (conditions and actions given in their text
//! forms), per-peer import and export policies, ROUTE-REFRESH requests, the
//! RFC 8212 opt-out, and the per-route hook callback with its `rfl_attr_edit`.

use core::ffi::{c_char, c_void, CStr};
use core::mem::discriminant;
use core::net::IpAddr;
use std::sync::Arc;

use reflector_core::engine::{Engine, Reimport};
use reflector_core::policy::{
    parse_asn_range, parse_community, parse_ext_community, parse_family, parse_large_community,
    AsPathPattern, Attributes, CommunityEdit, CommunityMatch, Condition, Decision, Direction,
    ExtCommunityMatch, Hook, LargeCommunityMatch, Modify, NextHop, Policy, PrefixRange, Route,
    Session, Statement, Verdict,
};
use reflector_core::reflect::push_attr;
use reflector_core::rib::PeerId;
use reflector_core::wire::attribute::{type_code, AsPathView, AttrIter, RawAttribute};
use reflector_core::wire::{Ipv4Prefix, Ipv6Prefix, Prefix};

use crate::engine::{one_family, peer_of, rfl_engine, with_engine};
use crate::handle::{self, live, live_ref, Checked, Handle};
use crate::{boundary, out, rfl_addr, rfl_prefix, rfl_result, slice, write, Fail, FfiResult};

/// A routing policy under construction or ready to install (opaque): statements
/// in order and a default verdict. Create with `rfl_policy_new`, free with `rfl_policy_free`.
pub struct rfl_policy {
    _private: [u8; 0],
}

/// One policy statement under construction (opaque): conditions, actions and a
/// verdict. Create with `rfl_statement_new`; hand it to `rfl_policy_add_statement`
/// (which takes it over) or free it with `rfl_statement_free`.
pub struct rfl_statement {
    _private: [u8; 0],
}

/// The attribute changes a hook callback asks for (opaque). Only valid during
/// the callback that receives it; the library owns it.
pub struct rfl_attr_edit {
    _private: [u8; 0],
}

/// The value behind an `rfl_policy` handle.
pub(crate) struct PolicyHandle {
    policy: Policy,
}

/// The value behind an `rfl_statement` handle.
pub(crate) struct StatementHandle {
    stmt: Statement,
}

/// The value behind an `rfl_attr_edit` handle.
pub(crate) struct EditHandle {
    actions: Vec<Modify>,
    block: Option<Vec<u8>>,
}

impl Handle for rfl_policy {
    type Value = PolicyHandle;
    const MAGIC: u64 = 0x7266_6c5f_706f_6c31;
    const NAME: &'static str = "policy";
    const TYPE: &'static str = "handle of the expected type";
}

impl Handle for rfl_statement {
    type Value = StatementHandle;
    const MAGIC: u64 = 0x7266_6c5f_7374_6d31;
    const NAME: &'static str = "statement";
    const TYPE: &'static str = "handle of the expected type";
}

impl Handle for rfl_attr_edit {
    type Value = EditHandle;
    const MAGIC: u64 = 0x7266_6c5f_6564_7431;
    const NAME: &'static str = "edit";
    const TYPE: &'static str = "handle of the expected type";
}

/// What a statement (or a policy's default) decides.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum rfl_verdict {
    /// Accept the route as the actions left it; evaluation ends.
    Accept = 0,
    /// Reject the route; evaluation ends.
    Reject = 1,
    /// Go on with the next statement (as a policy's default: accept).
    Next = 2,
}

/// The kind of a statement condition, with the text form of its value.
///
/// Several values of one kind (one call each) match when any of them does;
/// conditions of different kinds must all hold.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum rfl_match {
    /// The prefix is in a range: `10.0.0.0/8` (exact), `10.0.0.0/8+` (and longer), `10.0.0.0/8{16,24}`.
    Prefix = 0,
    /// The route came from this neighbour address (on export: the peer it was learned from): `192.0.2.1`.
    Neighbor = 1,
    /// The route is of this family: `ipv4-unicast` (or `ipv4`), `ipv6-unicast` (or `ipv6`),
    /// `ipv4-vpn` (or `vpnv4`), `l2vpn-evpn` (or `evpn`), `ipv4-flowspec` (or `flow4`), ...
    Family = 2,
    /// The origin AS is this AS or in this range: `65001`, `64512..65534`.
    OriginAs = 3,
    /// The AS path holds this AS: `65001`.
    AsPathContains = 4,
    /// The AS path length is this number or in this range: `3`, `0..2`. One per statement.
    AsPathLength = 5,
    /// The whole AS path matches this pattern: ASes, `lo..hi`, `?` (one AS), `*` (any ASes): `* 65001 ?`. One per statement.
    AsPath = 6,
    /// A community matches: `65000:100`, `65000:*`, `*:100`, or `no-export`, `no-advertise`, `no-export-subconfed`, `no-peer`, `graceful-shutdown`, `blackhole`.
    Community = 7,
    /// An extended community matches: `rt:65000:100`, `soo:192.0.2.1:7`, `rt:65000:*`, `rt:*:*`.
    ExtCommunity = 8,
    /// A large community matches: `65000:1:2`, any part may be `*`.
    LargeCommunity = 9,
    /// The next hop is in a prefix: `192.0.2.0/24` or an address `192.0.2.1`.
    NextHop = 10,
}

/// The kind of a statement action (or hook edit), with the text form of its value.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum rfl_set {
    /// Set LOCAL_PREF: `200`.
    LocalPref = 0,
    /// Set MULTI_EXIT_DISC: `50`.
    Med = 1,
    /// Remove MULTI_EXIT_DISC (the value is ignored and may be NULL).
    RemoveMed = 2,
    /// Set the next hop: an address, or `self` (our address on the session, from the peer's configuration).
    NextHop = 3,
    /// Prepend an AS to the AS path: `ASN` or `ASN COUNT` (COUNT 1..=255, default 1); ASN `self` is our AS: `65001 3`, `self 2`.
    Prepend = 4,
    /// Add a community (at the end, once): `65000:100` or a well-known name.
    CommunityAdd = 5,
    /// Remove the communities matching: `65000:*`.
    CommunityRemove = 6,
    /// Replace the communities: successive calls build the new list; an empty string removes them all.
    CommunityReplace = 7,
    /// Add an extended community: `rt:65000:100`, `soo:192.0.2.1:7`.
    ExtCommunityAdd = 8,
    /// Remove the extended communities matching: `rt:65000:*`.
    ExtCommunityRemove = 9,
    /// Replace the extended communities (as RFL_SET_COMMUNITY_REPLACE).
    ExtCommunityReplace = 10,
    /// Add a large community: `65000:1:2`.
    LargeCommunityAdd = 11,
    /// Remove the large communities matching: `65000:*:*`.
    LargeCommunityRemove = 12,
    /// Replace the large communities (as RFL_SET_COMMUNITY_REPLACE).
    LargeCommunityReplace = 13,
}

/// What the embedder should do after an import policy or hook changed.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum rfl_reimport {
    /// Nothing: the peer is down; its routes are evaluated when it comes back.
    Nothing = 0,
    /// The peer is up: routes it already sent stay as the old policy left them
    /// until it sends them again. Ask for them with `rfl_engine_request_refresh`
    /// per family (ROUTE-REFRESH, RFC 2918), or reset the session if the peer
    /// does not support route refresh.
    Refresh = 1,
}

/// Which way a route passes a hook.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum rfl_direction {
    /// Received from the peer the hook is set on.
    Import = 0,
    /// About to be sent to the peer the hook is set on.
    Export = 1,
}

/// What a hook callback returns.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum rfl_hook_verdict {
    /// Accept the route as the peer's policy left it (edits are ignored).
    Accept = 0,
    /// Reject the route.
    Reject = 1,
    /// Accept the route with the changes made through the `rfl_attr_edit`.
    Modify = 2,
}

/// A route as a hook sees it. Every pointer is borrowed for the duration of
/// the callback only.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct rfl_route {
    /// The IP prefix: a unicast route's prefix; the prefix inside a
    /// multicast, labeled or VPN route's NLRI, an EVPN IP Prefix route's
    /// prefix; address family 0 for a route without one (a flow rule, RT
    /// membership, the other EVPN route types).
    pub prefix: rfl_prefix,
    /// The neighbour the route came from (family 0: originated by this engine).
    pub neighbor: rfl_addr,
    /// The canonical attribute block: path attribute TLVs sorted by type code,
    /// AS_PATH with 4-octet ASes, no NEXT_HOP for routes with an MP next hop,
    /// no MP_REACH_NLRI / MP_UNREACH_NLRI.
    pub attrs: *const u8,
    /// Length of `attrs` in bytes.
    pub attrs_len: usize,
    /// The MP_REACH_NLRI next hop field (NULL when the route has none).
    pub mp_next_hop: *const u8,
    /// Length of `mp_next_hop` in bytes (0 when none).
    pub mp_next_hop_len: usize,
    /// The route's AFI (1: IPv4, 2: IPv6, 25: L2VPN).
    pub afi: u16,
    /// The route's SAFI (1: unicast, 128: VPN, 70: EVPN, 133: flow specification, ...).
    pub safi: u8,
    /// The route's NLRI without path identifier, for families other than
    /// IPv4 and IPv6 unicast (NULL for those).
    pub nlri: *const u8,
    /// Length of `nlri` in bytes (0 when none).
    pub nlri_len: usize,
}

/// A per-route hook: called with `user_data`, the direction, the peer the hook
/// is set on and the route (as the peer's policy left it, when it has one).
/// Returns an rfl_hook_verdict value (any other value rejects the route); for
/// RFL_HOOK_VERDICT_MODIFY the changes are those made through `edit` with the
/// `rfl_attr_edit_*` functions during this call.
///
/// It runs on the thread that called into the engine, during that call
/// (`rfl_engine_handle_message` for import hooks; the calls that send, such
/// as `rfl_engine_poll_transmit`, `rfl_engine_flush`, `rfl_engine_peer_up`
/// and the policy setters, for export hooks). It must not call into the same
/// engine (such calls return RFL_RESULT_INVALID_STATE), nor keep `route` or
/// `edit` after it returns.
pub type rfl_hook_callback = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        dir: rfl_direction,
        peer: u32,
        route: *const rfl_route,
        edit: *mut rfl_attr_edit,
    ) -> u32,
>;

// ---------------------------------------------------------------------------
// Arguments.

/// A NUL-terminated UTF-8 string argument.
unsafe fn text<'a>(p: *const c_char, what: &str) -> Result<&'a str, Fail> {
    if p.is_null() {
        return Err(Fail::null(what));
    }
    // SAFETY: the caller promises a NUL-terminated string, readable for the call.
    let c = unsafe { CStr::from_ptr(p) };
    c.to_str()
        .map_err(|_| Fail::invalid(format!("{what} is not valid UTF-8")))
}

fn verdict_from(v: u32, what: &str) -> Result<Verdict, Fail> {
    match v {
        0 => Ok(Verdict::Accept),
        1 => Ok(Verdict::Reject),
        2 => Ok(Verdict::Next),
        _ => Err(Fail::invalid(format!("{what} {v} is not an rfl_verdict"))),
    }
}

fn bad(kind: &str, value: &str, why: impl core::fmt::Display) -> Fail {
    Fail::invalid(format!("{kind} \"{value}\": {why}"))
}

// ---------------------------------------------------------------------------
// Text forms.

/// The condition of `kind` holding the one value `s`.
fn parse_condition(kind: u32, s: &str) -> Result<Condition, Fail> {
    let t = s.trim();
    Ok(match kind {
        0 => Condition::Prefix(vec![t.parse().map_err(|e| bad("prefix", s, e))?]),
        1 => Condition::Neighbor(vec![t
            .parse::<IpAddr>()
            .map_err(|_| bad("neighbor", s, "expected an IP address"))?]),
        2 => Condition::Family(vec![parse_family(t).map_err(|e| bad("family", s, e))?]),
        3 => Condition::OriginAs(vec![parse_asn_range(t).map_err(|e| bad("origin AS", s, e))?]),
        4 => Condition::AsPathContains(vec![t
            .parse::<u32>()
            .map_err(|_| bad("AS path AS", s, "expected an AS number"))?]),
        5 => {
            let (min, max) = parse_asn_range(t).map_err(|_| {
                bad(
                    "AS path length",
                    s,
                    "expected a length N or a range MIN..MAX",
                )
            })?;
            Condition::AsPathLength { min, max }
        }
        6 => Condition::AsPath(
            t.parse::<AsPathPattern>()
                .map_err(|e| bad("AS path", s, e))?,
        ),
        7 => Condition::Community(vec![t
            .parse::<CommunityMatch>()
            .map_err(|e| bad("community", s, e))?]),
        8 => Condition::ExtCommunity(vec![t
            .parse::<ExtCommunityMatch>()
            .map_err(|e| bad("extended community", s, e))?]),
        9 => Condition::LargeCommunity(vec![t
            .parse::<LargeCommunityMatch>()
            .map_err(|e| bad("large community", s, e))?]),
        10 => Condition::NextHop(vec![match t.parse::<IpAddr>() {
            Ok(a) => {
                PrefixRange::exact(host(a).ok_or_else(|| bad("next hop", s, "no host prefix"))?)
            }
            Err(_) => t.parse().map_err(|e| bad("next hop", s, e))?,
        }]),
        k => return Err(Fail::invalid(format!("match kind {k} is not an rfl_match"))),
    })
}

/// Add the values of `new` to `into` when both are list conditions of one kind.
/// The host prefix of `a` (/32 or /128).
fn host(a: IpAddr) -> Option<Prefix> {
    match a {
        IpAddr::V4(v) => Ipv4Prefix::new(v, 32).map(Prefix::V4),
        IpAddr::V6(v) => Ipv6Prefix::new(v, 128).map(Prefix::V6),
    }
}

fn merge_condition(into: &mut Condition, new: Condition) -> Result<(), Condition> {
    match (into, new) {
        (Condition::Prefix(a), Condition::Prefix(b)) => a.extend(b),
        (Condition::Neighbor(a), Condition::Neighbor(b)) => a.extend(b),
        (Condition::Family(a), Condition::Family(b)) => a.extend(b),
        (Condition::OriginAs(a), Condition::OriginAs(b)) => a.extend(b),
        (Condition::AsPathContains(a), Condition::AsPathContains(b)) => a.extend(b),
        (Condition::Community(a), Condition::Community(b)) => a.extend(b),
        (Condition::ExtCommunity(a), Condition::ExtCommunity(b)) => a.extend(b),
        (Condition::LargeCommunity(a), Condition::LargeCommunity(b)) => a.extend(b),
        (Condition::NextHop(a), Condition::NextHop(b)) => a.extend(b),
        (_, new) => return Err(new),
    }
    Ok(())
}

/// Add condition `c` (negated when `not`) to `stmt`: values of one kind (and negation) are ORed.
fn add_condition(stmt: &mut Statement, c: Condition, not: bool) -> FfiResult {
    let same = |x: &Condition| -> bool {
        match (x, not) {
            (Condition::Not(inner), true) => discriminant(inner.as_ref()) == discriminant(&c),
            (Condition::Not(_), false) => false,
            (x, false) => discriminant(x) == discriminant(&c),
            (_, true) => false,
        }
    };
    match stmt.conditions.iter_mut().find(|x| same(x)) {
        None => {
            stmt.conditions
                .push(if not { Condition::Not(Box::new(c)) } else { c });
            Ok(rfl_result::Ok)
        }
        Some(existing) => {
            let target = match existing {
                Condition::Not(inner) if not => inner.as_mut(),
                x => x,
            };
            merge_condition(target, c).map_err(|_| {
                Fail::new(
                    rfl_result::InvalidState,
                    "a statement holds one AS path pattern and one AS path length \
                     (each also negated); use another statement",
                )
            })?;
            Ok(rfl_result::Ok)
        }
    }
}

fn num<T: core::str::FromStr>(kind: &str, s: &str) -> Result<T, Fail> {
    s.trim()
        .parse()
        .map_err(|_| bad(kind, s, "expected a number"))
}

/// A community edit of one kind from its text: `op` 0 adds the value, 1
/// removes what matches the pattern, 2 replaces the list (an empty text: none).
fn edit<V, M>(
    op: u32,
    s: &str,
    what: &str,
    value: impl Fn(&str) -> Result<V, reflector_core::policy::ParseError>,
) -> Result<CommunityEdit<V, M>, Fail>
where
    M: core::str::FromStr<Err = reflector_core::policy::ParseError>,
{
    let t = s.trim();
    Ok(match op {
        0 => CommunityEdit::Add(vec![value(t).map_err(|e| bad(what, s, e))?]),
        1 => CommunityEdit::Remove(vec![t.parse::<M>().map_err(|e| bad(what, s, e))?]),
        _ if t.is_empty() => CommunityEdit::Replace(Vec::new()),
        _ => CommunityEdit::Replace(vec![value(t).map_err(|e| bad(what, s, e))?]),
    })
}

/// The action of `kind` with the value `s` (`None` only allowed for RFL_SET_REMOVE_MED).
fn parse_action(kind: u32, s: Option<&str>) -> Result<Modify, Fail> {
    if kind == rfl_set::RemoveMed as u32 {
        return Ok(Modify::RemoveMed);
    }
    let s = s.ok_or_else(|| Fail::null("value"))?;
    let t = s.trim();
    Ok(match kind {
        0 => Modify::SetLocalPref(num("LOCAL_PREF", s)?),
        1 => Modify::SetMed(num("MED", s)?),
        3 => Modify::SetNextHop(if t == "self" {
            NextHop::Local
        } else {
            NextHop::Address(
                t.parse()
                    .map_err(|_| bad("next hop", s, "expected an IP address or self"))?,
            )
        }),
        4 => {
            let mut it = t.split_whitespace();
            let asn = match it.next() {
                Some("self") => None,
                Some(a) => Some(num::<u32>("prepend AS", a)?),
                None => return Err(bad("prepend", s, "expected ASN [COUNT]")),
            };
            let count = match it.next() {
                None => 1,
                Some(c) => num::<u8>("prepend count", c)?,
            };
            if count == 0 || it.next().is_some() {
                return Err(bad("prepend", s, "expected ASN [COUNT], COUNT 1..=255"));
            }
            Modify::Prepend { asn, count }
        }
        5..=7 => Modify::Communities(edit(kind - 5, s, "community", parse_community)?),
        8..=10 => Modify::ExtCommunities(edit(
            kind - 8,
            s,
            "extended community",
            parse_ext_community,
        )?),
        11..=13 => Modify::LargeCommunities(edit(
            kind - 11,
            s,
            "large community",
            parse_large_community,
        )?),
        k => return Err(Fail::invalid(format!("set kind {k} is not an rfl_set"))),
    })
}

fn merge_edit<V, M>(
    a: &mut CommunityEdit<V, M>,
    b: CommunityEdit<V, M>,
) -> Option<CommunityEdit<V, M>> {
    match (a, b) {
        (CommunityEdit::Add(x), CommunityEdit::Add(y)) => x.extend(y),
        (CommunityEdit::Remove(x), CommunityEdit::Remove(y)) => x.extend(y),
        (CommunityEdit::Replace(x), CommunityEdit::Replace(y)) => x.extend(y),
        (_, b) => return Some(b),
    }
    None
}

/// Append `m` to `actions`, extending the last action when both edit one community list the same way.
fn push_action(actions: &mut Vec<Modify>, m: Modify) {
    let rest = match (actions.last_mut(), m) {
        (Some(Modify::Communities(a)), Modify::Communities(b)) => {
            merge_edit(a, b).map(Modify::Communities)
        }
        (Some(Modify::ExtCommunities(a)), Modify::ExtCommunities(b)) => {
            merge_edit(a, b).map(Modify::ExtCommunities)
        }
        (Some(Modify::LargeCommunities(a)), Modify::LargeCommunities(b)) => {
            merge_edit(a, b).map(Modify::LargeCommunities)
        }
        (_, m) => Some(m),
    };
    if let Some(m) = rest {
        actions.push(m);
    }
}

// ---------------------------------------------------------------------------
// Policies and statements.

/// Create an empty policy named `name` (NUL-terminated UTF-8, copied) whose
/// `default_verdict` (an rfl_verdict) applies when no statement accepts or
/// rejects a route. The caller owns `*out_policy` and frees it with
/// `rfl_policy_free`; installing it on a peer copies it.
#[no_mangle]
pub unsafe extern "C" fn rfl_policy_new(
    name: *const c_char,
    default_verdict: u32,
    out_policy: *mut *mut rfl_policy,
) -> rfl_result {
    boundary(|| {
        let o = out(out_policy, "out_policy")?;
        // SAFETY: the caller gives a NUL-terminated string.
        let name = unsafe { text(name, "name")? };
        let default = verdict_from(default_verdict, "default_verdict")?;
        let h = PolicyHandle {
            policy: Policy::new(name, default),
        };
        // SAFETY: checked by `out`.
        unsafe { write(o, handle::into_raw(h)) };
        Ok(rfl_result::Ok)
    })
}

/// Free a policy (NULL is ignored). Peers it was installed on keep their copy.
#[no_mangle]
pub unsafe extern "C" fn rfl_policy_free(policy: *mut rfl_policy) -> rfl_result {
    // SAFETY: checked by `free`.
    unsafe { handle::free(policy) }
}

/// The number of statements in `policy`, through `*out_count`.
#[no_mangle]
pub unsafe extern "C" fn rfl_policy_statement_count(
    policy: *const rfl_policy,
    out_count: *mut usize,
) -> rfl_result {
    boundary(|| {
        let o = out(out_count, "out_count")?;
        // SAFETY: checked by `live_ref`.
        let p = unsafe { live_ref(policy)? };
        // SAFETY: checked by `out`.
        unsafe { write(o, p.policy.statements.len()) };
        Ok(rfl_result::Ok)
    })
}

/// Append `statement` to `policy`. On RFL_RESULT_OK the policy takes the
/// statement over: the `statement` handle is freed and must not be used again.
/// On an error the caller still owns it.
#[no_mangle]
pub unsafe extern "C" fn rfl_policy_add_statement(
    policy: *mut rfl_policy,
    statement: *mut rfl_statement,
) -> rfl_result {
    boundary(|| {
        // SAFETY: checked by `live`.
        let p = unsafe { live(policy)? };
        // SAFETY: checked by `take`; the statement handle ends here.
        let s = unsafe { handle::take(statement)? };
        p.policy.push(s.stmt);
        Ok(rfl_result::Ok)
    })
}

/// Create a statement named `name` (NUL-terminated UTF-8, copied) with no
/// conditions (it always holds), no actions, and `verdict` (an rfl_verdict).
/// The caller owns `*out_statement` until `rfl_policy_add_statement` takes it
/// over, or frees it with `rfl_statement_free`.
#[no_mangle]
pub unsafe extern "C" fn rfl_statement_new(
    name: *const c_char,
    verdict: u32,
    out_statement: *mut *mut rfl_statement,
) -> rfl_result {
    boundary(|| {
        let o = out(out_statement, "out_statement")?;
        // SAFETY: the caller gives a NUL-terminated string.
        let name = unsafe { text(name, "name")? };
        let verdict = verdict_from(verdict, "verdict")?;
        let h = StatementHandle {
            stmt: Statement::new(name, verdict),
        };
        // SAFETY: checked by `out`.
        unsafe { write(o, handle::into_raw(h)) };
        Ok(rfl_result::Ok)
    })
}

/// Free a statement not handed to a policy (NULL is ignored).
#[no_mangle]
pub unsafe extern "C" fn rfl_statement_free(statement: *mut rfl_statement) -> rfl_result {
    // SAFETY: checked by `free`.
    unsafe { handle::free(statement) }
}

unsafe fn statement_match(
    statement: *mut rfl_statement,
    kind: u32,
    value: *const c_char,
    not: bool,
) -> rfl_result {
    boundary(|| {
        // SAFETY: checked by `live`.
        let s = unsafe { live(statement)? };
        // SAFETY: the caller gives a NUL-terminated string.
        let v = unsafe { text(value, "value")? };
        let c = parse_condition(kind, v)?;
        add_condition(&mut s.stmt, c, not)
    })
}

/// Add a condition: the route matches `value` (NUL-terminated text) of `kind`
/// (an rfl_match; see there for the text forms). Several values of one kind
/// (one call each) are alternatives; different kinds must all hold. A value
/// that does not parse gives RFL_RESULT_INVALID_PARAMETER and the message
/// (from `rfl_last_error`) names the form expected; the statement is unchanged.
/// A second AS path pattern or AS path length gives RFL_RESULT_INVALID_STATE.
#[no_mangle]
pub unsafe extern "C" fn rfl_statement_match(
    statement: *mut rfl_statement,
    kind: u32,
    value: *const c_char,
) -> rfl_result {
    // SAFETY: forwarded contract.
    unsafe { statement_match(statement, kind, value, false) }
}

/// Add a negated condition: the route matches none of the values of `kind`
/// given through this call (as in `rfl_statement_match`; values of one kind
/// gather in one negated condition: "not any of these").
#[no_mangle]
pub unsafe extern "C" fn rfl_statement_match_not(
    statement: *mut rfl_statement,
    kind: u32,
    value: *const c_char,
) -> rfl_result {
    // SAFETY: forwarded contract.
    unsafe { statement_match(statement, kind, value, true) }
}

/// Add an action, applied in the order added when the conditions hold: `kind`
/// (an rfl_set; see there for the text forms) with `value` (NUL-terminated
/// text; may be NULL for RFL_SET_REMOVE_MED). Successive calls with the same
/// community kind extend one action (RFL_SET_COMMUNITY_REPLACE twice sets a
/// list of two). Errors as `rfl_statement_match`.
#[no_mangle]
pub unsafe extern "C" fn rfl_statement_set(
    statement: *mut rfl_statement,
    kind: u32,
    value: *const c_char,
) -> rfl_result {
    boundary(|| {
        // SAFETY: checked by `live`.
        let s = unsafe { live(statement)? };
        let v = if value.is_null() {
            None
        } else {
            // SAFETY: the caller gives a NUL-terminated string.
            Some(unsafe { text(value, "value")? })
        };
        let m = parse_action(kind, v)?;
        push_action(&mut s.stmt.actions, m);
        Ok(rfl_result::Ok)
    })
}

// ---------------------------------------------------------------------------
// Installing policies.

unsafe fn policy_arg(policy: *const rfl_policy) -> Result<Option<Policy>, Fail> {
    if policy.is_null() {
        return Ok(None);
    }
    // SAFETY: checked by `live_ref`.
    let p = unsafe { live_ref(policy)? };
    Ok(Some(p.policy.clone()))
}

fn reimport_of(r: Reimport) -> rfl_reimport {
    match r {
        Reimport::Nothing => rfl_reimport::Nothing,
        Reimport::Refresh => rfl_reimport::Refresh,
    }
}

/// Set `peer`'s import policy to a copy of `policy` (NULL clears it; the caller
/// keeps owning `policy` and may free or change it afterwards). Routes the
/// peer already sent stay as the old policy left them; `*out_reimport` (may
/// be NULL) says whether to ask for them again (see rfl_reimport).
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_set_import_policy(
    engine: *mut rfl_engine,
    peer: u32,
    policy: *const rfl_policy,
    out_reimport: *mut rfl_reimport,
) -> rfl_result {
    with_engine(engine, |h| {
        let o = (!out_reimport.is_null())
            .then(|| out(out_reimport, "out_reimport"))
            .transpose()?;
        let p = peer_of(&h.engine, peer)?;
        // SAFETY: checked inside.
        let pol = unsafe { policy_arg(policy)? };
        let r = h.engine.set_import_policy(p, pol);
        if let Some(o) = o {
            // SAFETY: checked by `out`.
            unsafe { write(o, reimport_of(r)) };
        }
        Ok(rfl_result::Ok)
    })
}

/// Set `peer`'s export policy to a copy of `policy` (NULL clears it; ownership
/// as `rfl_engine_set_import_policy`). On a live session the difference is
/// queued now: prefixes the new policy lets through with other attributes are
/// announced again, prefixes it now refuses are withdrawn.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_set_export_policy(
    engine: *mut rfl_engine,
    peer: u32,
    policy: *const rfl_policy,
) -> rfl_result {
    with_engine(engine, |h| {
        let p = peer_of(&h.engine, peer)?;
        // SAFETY: checked inside.
        let pol = unsafe { policy_arg(policy)? };
        h.engine.set_export_policy(p, pol);
        Ok(rfl_result::Ok)
    })
}

/// Queue a ROUTE-REFRESH request (RFC 2918) to `peer` for `family` (one
/// RFL_FAMILY_* bit); `rfl_engine_poll_transmit` hands it out.
/// RFL_RESULT_PEER_NOT_UP when the peer is down, RFL_RESULT_INVALID_PARAMETER
/// when the session did not negotiate the family.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_request_refresh(
    engine: *mut rfl_engine,
    peer: u32,
    family: u32,
) -> rfl_result {
    with_engine(engine, |h| {
        let p = peer_of(&h.engine, peer)?;
        let f = one_family(family)?;
        crate::engine::require_up(&h.engine, p)?;
        if !h.engine.request_refresh(p, f) {
            return Err(Fail::invalid(format!(
                "peer {peer} did not negotiate the family"
            )));
        }
        Ok(rfl_result::Ok)
    })
}

/// RFC 8212: with `required` (the default), an eBGP peer without an import
/// policy has every route it sends rejected, and one without an export policy
/// is sent nothing; `false` is the explicit opt-out.
///
/// Must be called before the first `rfl_engine_add_peer` and
/// `rfl_engine_originate` (the engine is rebuilt with the setting; events not
/// yet taken are dropped); later calls that change the setting return
/// RFL_RESULT_INVALID_STATE.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_set_ebgp_requires_policy(
    engine: *mut rfl_engine,
    required: bool,
) -> rfl_result {
    with_engine(engine, |h| {
        if h.engine.config().ebgp_requires_policy == required {
            return Ok(rfl_result::Ok);
        }
        let fresh = h.engine.counters(PeerId(0)).is_none() && h.engine.prefix_counts() == (0, 0);
        if !fresh {
            return Err(Fail::new(
                rfl_result::InvalidState,
                "ebgp_requires_policy can only change before peers or routes are added",
            ));
        }
        let mut cfg = *h.engine.config();
        cfg.ebgp_requires_policy = required;
        let mut e = Engine::new(cfg);
        e.set_resolver(h.resolver.map(crate::inspect::resolver_of));
        h.engine = e;
        Ok(rfl_result::Ok)
    })
}

/// Whether RFC 8212 default-deny toward and from eBGP is on, through `*out_required`.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_ebgp_requires_policy(
    engine: *const rfl_engine,
    out_required: *mut bool,
) -> rfl_result {
    crate::engine::with_engine_ref(engine, |h| {
        let o = out(out_required, "out_required")?;
        // SAFETY: checked by `out`.
        unsafe { write(o, h.engine.config().ebgp_requires_policy) };
        Ok(rfl_result::Ok)
    })
}

// ---------------------------------------------------------------------------
// Hooks.

struct CHook {
    cb: unsafe extern "C" fn(
        *mut c_void,
        rfl_direction,
        u32,
        *const rfl_route,
        *mut rfl_attr_edit,
    ) -> u32,
    user_data: *mut c_void,
    session: Session,
}

// SAFETY: the header's thread rules: the callback runs only on the thread
// calling into the engine, during that call; the engine is used from one
// thread at a time, so `user_data` is never used concurrently.
unsafe impl Send for CHook {}
// SAFETY: as above.
unsafe impl Sync for CHook {}

impl CHook {
    fn call(&self, dir: Direction, peer: PeerId, route: &Route<'_>) -> Decision {
        let r = rfl_route {
            prefix: route
                .prefix
                .map(rfl_prefix::from_prefix)
                .unwrap_or_default(),
            neighbor: route.neighbor.map(rfl_addr::from_ip).unwrap_or_default(),
            attrs: route.block.as_ptr(),
            attrs_len: route.block.len(),
            mp_next_hop: route.mp_next_hop.map_or(core::ptr::null(), <[u8]>::as_ptr),
            mp_next_hop_len: route.mp_next_hop.map_or(0, <[u8]>::len),
            afi: route.family.afi.0,
            safi: route.family.safi.0,
            nlri: if route.nlri.is_empty() {
                core::ptr::null()
            } else {
                route.nlri.as_ptr()
            },
            nlri_len: route.nlri.len(),
        };
        let dir = match dir {
            Direction::Import => rfl_direction::Import,
            Direction::Export => rfl_direction::Export,
        };
        let mut edit = Checked::<rfl_attr_edit>::new(EditHandle {
            actions: Vec::new(),
            block: None,
        });
        // SAFETY: the callback and user_data were supplied together by the
        // caller, who keeps them valid while installed; `r` and `edit` live
        // for the call.
        let v = unsafe { (self.cb)(self.user_data, dir, peer.0, &r, edit.as_ptr()) };
        let edit = edit.into_value();
        match v {
            0 => Decision::Accept,
            2 => self.modified(edit, route),
            _ => Decision::Reject,
        }
    }

    /// The route with the edits applied: the new block (if set), then the actions.
    fn modified(&self, edit: EditHandle, route: &Route<'_>) -> Decision {
        let base = Route {
            block: edit.block.as_deref().unwrap_or(route.block),
            ..*route
        };
        let replaced = edit.block.as_deref().is_some_and(|b| b != route.block);
        let mut p = Policy::new("hook", Verdict::Accept);
        p.push(Statement {
            name: String::new(),
            conditions: Vec::new(),
            actions: edit.actions,
            verdict: Verdict::Accept,
        });
        match p.evaluate(&base, &self.session).0 {
            Decision::Accept if replaced => Decision::Modified(Attributes {
                block: base.block.to_vec(),
                mp_next_hop: base.mp_next_hop.map(<[u8]>::to_vec),
            }),
            d => d,
        }
    }
}

fn hook_of(
    h: &crate::engine::EngineHandle,
    peer: PeerId,
    cb: rfl_hook_callback,
    user_data: *mut c_void,
) -> Option<Hook> {
    let cb = cb?;
    let pc = h.engine.peer_config(peer)?;
    let c = CHook {
        cb,
        user_data,
        session: Session {
            local_as: h.engine.config().local_as,
            local_v4: pc.local_v4,
            local_v6: pc.local_v6,
        },
    };
    Some(Arc::new(move |d: Direction, p: PeerId, r: &Route<'_>| c.call(d, p, r)) as Hook)
}

/// Set (or with a NULL `callback` clear) the hook run on every route `peer`
/// sends us, after its import policy (when it has one; a hook alone counts as
/// an import policy for RFC 8212). `user_data` is passed to every call and
/// must stay valid until the hook is replaced or cleared, the peer removed, or
/// the engine freed. `*out_reimport` (may be NULL) as in
/// `rfl_engine_set_import_policy`. See rfl_hook_callback for when and where it runs.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_set_import_hook(
    engine: *mut rfl_engine,
    peer: u32,
    callback: rfl_hook_callback,
    user_data: *mut c_void,
    out_reimport: *mut rfl_reimport,
) -> rfl_result {
    with_engine(engine, |h| {
        let o = (!out_reimport.is_null())
            .then(|| out(out_reimport, "out_reimport"))
            .transpose()?;
        let p = peer_of(&h.engine, peer)?;
        let hook = hook_of(h, p, callback, user_data);
        let r = h.engine.set_import_hook(p, hook);
        if let Some(o) = o {
            // SAFETY: checked by `out`.
            unsafe { write(o, reimport_of(r)) };
        }
        Ok(rfl_result::Ok)
    })
}

/// Set (or with a NULL `callback` clear) the hook run on every route about to
/// be sent to `peer`, after its export policy (a hook alone counts as an
/// export policy for RFC 8212). On a live session the difference is queued
/// now, so the callback already runs during this call. `user_data` as in
/// `rfl_engine_set_import_hook`.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_set_export_hook(
    engine: *mut rfl_engine,
    peer: u32,
    callback: rfl_hook_callback,
    user_data: *mut c_void,
) -> rfl_result {
    with_engine(engine, |h| {
        let p = peer_of(&h.engine, peer)?;
        let hook = hook_of(h, p, callback, user_data);
        h.engine.set_export_hook(p, hook);
        Ok(rfl_result::Ok)
    })
}

/// Run `f` on the live edit `edit` inside the panic boundary.
fn with_edit(edit: *mut rfl_attr_edit, f: impl FnOnce(&mut EditHandle) -> FfiResult) -> rfl_result {
    boundary(|| {
        // SAFETY: checked by `live`; valid during the callback that received it.
        let e = unsafe { live(edit)? };
        f(e)
    })
}

/// Edit: set LOCAL_PREF to `value`.
#[no_mangle]
pub unsafe extern "C" fn rfl_attr_edit_set_local_pref(
    edit: *mut rfl_attr_edit,
    value: u32,
) -> rfl_result {
    with_edit(edit, |e| {
        e.actions.push(Modify::SetLocalPref(value));
        Ok(rfl_result::Ok)
    })
}

/// Edit: set MULTI_EXIT_DISC to `value`.
#[no_mangle]
pub unsafe extern "C" fn rfl_attr_edit_set_med(edit: *mut rfl_attr_edit, value: u32) -> rfl_result {
    with_edit(edit, |e| {
        e.actions.push(Modify::SetMed(value));
        Ok(rfl_result::Ok)
    })
}

/// Edit: remove MULTI_EXIT_DISC.
#[no_mangle]
pub unsafe extern "C" fn rfl_attr_edit_remove_med(edit: *mut rfl_attr_edit) -> rfl_result {
    with_edit(edit, |e| {
        e.actions.push(Modify::RemoveMed);
        Ok(rfl_result::Ok)
    })
}

/// Edit: set the next hop to `*next_hop` (NEXT_HOP for IPv4 routes, the MP next hop otherwise).
#[no_mangle]
pub unsafe extern "C" fn rfl_attr_edit_set_next_hop(
    edit: *mut rfl_attr_edit,
    next_hop: *const rfl_addr,
) -> rfl_result {
    with_edit(edit, |e| {
        // SAFETY: checked by `read`.
        let a = unsafe { crate::read(next_hop, "next_hop")? }.to_ip("next_hop")?;
        e.actions.push(Modify::SetNextHop(NextHop::Address(a)));
        Ok(rfl_result::Ok)
    })
}

/// Edit: add the community `community` (ASN << 16 | VALUE) at the end, unless present.
#[no_mangle]
pub unsafe extern "C" fn rfl_attr_edit_add_community(
    edit: *mut rfl_attr_edit,
    community: u32,
) -> rfl_result {
    with_edit(edit, |e| {
        push_action(
            &mut e.actions,
            Modify::Communities(CommunityEdit::Add(vec![community])),
        );
        Ok(rfl_result::Ok)
    })
}

/// Edit: remove the community `community` (ASN << 16 | VALUE).
#[no_mangle]
pub unsafe extern "C" fn rfl_attr_edit_remove_community(
    edit: *mut rfl_attr_edit,
    community: u32,
) -> rfl_result {
    with_edit(edit, |e| {
        let m = CommunityMatch {
            asn: Some((community >> 16) as u16),
            value: Some(community as u16),
        };
        push_action(
            &mut e.actions,
            Modify::Communities(CommunityEdit::Remove(vec![m])),
        );
        Ok(rfl_result::Ok)
    })
}

/// Edit: prepend `asn` `count` times (1..=255) to the AS path.
#[no_mangle]
pub unsafe extern "C" fn rfl_attr_edit_prepend(
    edit: *mut rfl_attr_edit,
    asn: u32,
    count: u8,
) -> rfl_result {
    with_edit(edit, |e| {
        if count == 0 {
            return Err(Fail::invalid("count is 0"));
        }
        e.actions.push(Modify::Prepend {
            asn: Some(asn),
            count,
        });
        Ok(rfl_result::Ok)
    })
}

/// Edit: any statement action, by kind (an rfl_set) and text value, as `rfl_statement_set`.
#[no_mangle]
pub unsafe extern "C" fn rfl_attr_edit_set(
    edit: *mut rfl_attr_edit,
    kind: u32,
    value: *const c_char,
) -> rfl_result {
    with_edit(edit, |e| {
        let v = if value.is_null() {
            None
        } else {
            // SAFETY: the caller gives a NUL-terminated string.
            Some(unsafe { text(value, "value")? })
        };
        let m = parse_action(kind, v)?;
        push_action(&mut e.actions, m);
        Ok(rfl_result::Ok)
    })
}

/// The canonical form of a caller's attribute block: TLVs checked, sorted by type code.
fn canonical_block(raw: &[u8]) -> Result<Vec<u8>, Fail> {
    let malformed = |m: String| Fail::new(rfl_result::Malformed, format!("attrs: {m}"));
    let it = AttrIter::new_checked(raw, 0).map_err(|e| malformed(e.to_string()))?;
    let mut list: Vec<RawAttribute<'_>> = it.collect();
    list.sort_by_key(|a| a.type_code);
    let mut prev = None;
    for a in &list {
        if prev == Some(a.type_code) {
            return Err(malformed(format!(
                "attribute {} appears twice",
                a.type_code
            )));
        }
        prev = Some(a.type_code);
        match a.type_code {
            type_code::MP_REACH_NLRI
            | type_code::MP_UNREACH_NLRI
            | type_code::AS4_PATH
            | type_code::AS4_AGGREGATOR => {
                return Err(malformed(format!(
                    "attribute {} does not belong in a canonical block",
                    a.type_code
                )))
            }
            type_code::AS_PATH if AsPathView::new_checked(a.value, true).is_none() => {
                return Err(malformed("AS_PATH is not a valid 4-octet AS path".into()))
            }
            _ => {}
        }
    }
    for t in [type_code::ORIGIN, type_code::AS_PATH] {
        if !list.iter().any(|a| a.type_code == t) {
            return Err(malformed(format!("mandatory attribute {t} is missing")));
        }
    }
    let mut out = Vec::with_capacity(raw.len());
    for a in &list {
        push_attr(&mut out, a.flags, a.type_code, a.value);
    }
    Ok(out)
}

/// Edit: replace the whole attribute block with `attrs` (`attrs_len` bytes of
/// path attribute TLVs, copied; the other edits of this call then apply to it).
/// It must hold ORIGIN and a 4-octet AS_PATH and no MP_REACH_NLRI,
/// MP_UNREACH_NLRI, AS4_PATH or AS4_AGGREGATOR; it is sorted by type code.
/// RFL_RESULT_MALFORMED otherwise (the edit is then unchanged). The MP next
/// hop stays; change it with `rfl_attr_edit_set_next_hop`.
#[no_mangle]
pub unsafe extern "C" fn rfl_attr_edit_set_block(
    edit: *mut rfl_attr_edit,
    attrs: *const u8,
    attrs_len: usize,
) -> rfl_result {
    with_edit(edit, |e| {
        // SAFETY: the caller gives `attrs_len` readable bytes.
        let raw = unsafe { slice(attrs, attrs_len, "attrs")? };
        e.block = Some(canonical_block(raw)?);
        Ok(rfl_result::Ok)
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::tests::last_error;

    fn statement() -> *mut rfl_statement {
        let mut s = core::ptr::null_mut();
        // SAFETY: valid pointers.
        let r = unsafe { rfl_statement_new(c"s".as_ptr(), rfl_verdict::Accept as u32, &mut s) };
        assert_eq!(r, rfl_result::Ok);
        s
    }

    fn stmt_of(s: *mut rfl_statement) -> Statement {
        // SAFETY: a live statement from `statement()`.
        unsafe { live(s) }.unwrap().stmt.clone()
    }

    #[test]
    fn invalid_text_is_an_invalid_parameter_with_a_message_and_changes_nothing() {
        let s = statement();
        let cases: [(u32, &CStr, &str); 8] = [
            (rfl_match::Prefix as u32, c"10.0.0.0/8{4,24}", "prefix"),
            (rfl_match::Prefix as u32, c"10.0.0.0", "prefix range"),
            (rfl_match::Neighbor as u32, c"not-an-address", "IP address"),
            (rfl_match::Family as u32, c"vpnv5", "family"),
            (rfl_match::Community as u32, c"65536:1", "community"),
            (
                rfl_match::ExtCommunity as u32,
                c"xx:1:2",
                "extended community",
            ),
            (rfl_match::AsPath as u32, c"* abc", "AS path"),
            (rfl_match::AsPathLength as u32, c"3..1", "length"),
        ];
        for (kind, text, needle) in cases {
            // SAFETY: valid pointers.
            let r = unsafe { rfl_statement_match(s, kind, text.as_ptr()) };
            assert_eq!(r, rfl_result::InvalidParameter, "{text:?}");
            let m = last_error();
            assert!(m.contains(needle), "{m}");
            assert!(m.contains(text.to_str().unwrap()), "{m}");
        }
        // SAFETY: valid pointers.
        unsafe {
            assert_eq!(
                rfl_statement_match(s, 99, c"x".as_ptr()),
                rfl_result::InvalidParameter
            );
            assert!(last_error().contains("rfl_match"));
            assert_eq!(
                rfl_statement_match(s, 0, core::ptr::null()),
                rfl_result::NullParameter
            );
            let bad_utf8 = [0xffu8, 0];
            assert_eq!(
                rfl_statement_match(s, 0, bad_utf8.as_ptr().cast()),
                rfl_result::InvalidParameter
            );
        }
        assert!(stmt_of(s).conditions.is_empty());
        let actions: [(u32, &CStr); 8] = [
            (rfl_set::LocalPref as u32, c"high"),
            (rfl_set::Med as u32, c"-1"),
            (rfl_set::NextHop as u32, c"here"),
            (rfl_set::Prepend as u32, c"65001 0"),
            (rfl_set::Prepend as u32, c"65001 2 3"),
            (rfl_set::CommunityAdd as u32, c"65000:*"),
            (rfl_set::LargeCommunityAdd as u32, c"1:2"),
            (rfl_set::ExtCommunityAdd as u32, c"rt:192.0.2.1:70000"),
        ];
        for (kind, text) in actions {
            // SAFETY: valid pointers.
            let r = unsafe { rfl_statement_set(s, kind, text.as_ptr()) };
            assert_eq!(r, rfl_result::InvalidParameter, "{text:?}");
        }
        // SAFETY: valid pointers.
        unsafe {
            assert_eq!(
                rfl_statement_set(s, 14, c"1".as_ptr()),
                rfl_result::InvalidParameter
            );
            assert_eq!(
                rfl_statement_set(s, rfl_set::Med as u32, core::ptr::null()),
                rfl_result::NullParameter
            );
        }
        assert!(stmt_of(s).actions.is_empty());
        // SAFETY: valid pointer.
        assert_eq!(unsafe { rfl_statement_free(s) }, rfl_result::Ok);
    }

    #[test]
    fn values_of_one_kind_are_ored_kinds_anded_and_negations_kept_apart() {
        let s = statement();
        // SAFETY: valid pointers.
        unsafe {
            for (k, v) in [
                (rfl_match::Prefix, c"10.0.0.0/8{16,24}"),
                (rfl_match::Prefix, c"192.0.2.0/24+"),
                (rfl_match::Community, c"65000:*"),
            ] {
                assert_eq!(rfl_statement_match(s, k as u32, v.as_ptr()), rfl_result::Ok);
            }
            assert_eq!(
                rfl_statement_match_not(s, rfl_match::Prefix as u32, c"10.1.0.0/16".as_ptr()),
                rfl_result::Ok
            );
            assert_eq!(
                rfl_statement_match_not(s, rfl_match::Prefix as u32, c"10.2.0.0/16".as_ptr()),
                rfl_result::Ok
            );
            assert_eq!(
                rfl_statement_match(s, rfl_match::AsPath as u32, c"* 65001 ?".as_ptr()),
                rfl_result::Ok
            );
            assert_eq!(
                rfl_statement_match(s, rfl_match::AsPath as u32, c"65002".as_ptr()),
                rfl_result::InvalidState
            );
            assert_eq!(
                rfl_statement_match_not(s, rfl_match::AsPath as u32, c"65002".as_ptr()),
                rfl_result::Ok
            );
            assert_eq!(
                rfl_statement_match(s, rfl_match::NextHop as u32, c"192.0.2.1".as_ptr()),
                rfl_result::Ok
            );
            for (k, v) in [
                (rfl_set::CommunityAdd, c"65000:1"),
                (rfl_set::CommunityAdd, c"no-export"),
                (rfl_set::LocalPref, c"200"),
                (rfl_set::CommunityReplace, c""),
                (rfl_set::Prepend, c"self 2"),
                (rfl_set::NextHop, c"self"),
            ] {
                assert_eq!(rfl_statement_set(s, k as u32, v.as_ptr()), rfl_result::Ok);
            }
            assert_eq!(
                rfl_statement_set(s, rfl_set::RemoveMed as u32, core::ptr::null()),
                rfl_result::Ok
            );
        }
        let st = stmt_of(s);
        assert_eq!(st.conditions.len(), 6, "{:?}", st.conditions);
        assert!(matches!(&st.conditions[0], Condition::Prefix(v) if v.len() == 2));
        assert!(
            matches!(&st.conditions[2], Condition::Not(c) if matches!(c.as_ref(), Condition::Prefix(v) if v.len() == 2))
        );
        assert!(matches!(&st.conditions[5], Condition::NextHop(v) if v[0].min_len == 32));
        assert_eq!(
            st.actions,
            vec![
                Modify::Communities(CommunityEdit::Add(vec![0xfde8_0001, 0xffff_ff01])),
                Modify::SetLocalPref(200),
                Modify::Communities(CommunityEdit::Replace(vec![])),
                Modify::Prepend {
                    asn: None,
                    count: 2
                },
                Modify::SetNextHop(NextHop::Local),
                Modify::RemoveMed,
            ]
        );
        let mut p = core::ptr::null_mut();
        // SAFETY: valid pointers.
        unsafe {
            assert_eq!(
                rfl_policy_new(c"p".as_ptr(), 7, &mut p),
                rfl_result::InvalidParameter
            );
            assert!(p.is_null());
            assert_eq!(
                rfl_policy_new(c"p".as_ptr(), rfl_verdict::Reject as u32, &mut p),
                rfl_result::Ok
            );
            assert_eq!(
                rfl_policy_add_statement(p, core::ptr::null_mut()),
                rfl_result::NullParameter
            );
            assert_eq!(
                rfl_policy_add_statement(p, p.cast::<rfl_statement>()),
                rfl_result::InvalidHandle
            );
            assert_eq!(
                rfl_statement_match(p.cast::<rfl_statement>(), 0, c"10.0.0.0/8".as_ptr()),
                rfl_result::InvalidHandle
            );
            assert_eq!(rfl_policy_add_statement(p, s), rfl_result::Ok);
            let mut n = 0usize;
            assert_eq!(rfl_policy_statement_count(p, &mut n), rfl_result::Ok);
            assert_eq!(n, 1);
            assert_eq!(rfl_statement_free(core::ptr::null_mut()), rfl_result::Ok);
            assert_eq!(rfl_policy_free(p), rfl_result::Ok);
            assert_eq!(rfl_policy_free(core::ptr::null_mut()), rfl_result::Ok);
        }
    }

    #[test]
    fn set_block_checks_and_sorts_the_attributes() {
        // MED, then ORIGIN, then AS_PATH with one 4-octet AS: sorted on the way in.
        let raw = [
            0x80, 4, 4, 0, 0, 0, 5, 0x40, 1, 1, 0, 0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe9,
        ];
        let b = canonical_block(&raw).unwrap();
        assert_eq!(b[..4], [0x40, 1, 1, 0]);
        assert_eq!(b[b.len() - 7..b.len() - 4], [0x80, 4, 4]);
        assert!(canonical_block(&raw[..5]).is_err());
        assert!(canonical_block(&[0x40, 1, 1, 0]).is_err());
        let mut twice = raw.to_vec();
        twice.extend_from_slice(&[0x80, 4, 4, 0, 0, 0, 6]);
        assert!(canonical_block(&twice).is_err());
        let bad_path = [0x40, 1, 1, 0, 0x40, 2, 3, 2, 1, 0];
        assert!(canonical_block(&bad_path).is_err());
    }
}

//! Inspection of an `rfl_engine`: best paths and candidates, attribute sets,
//! the Loc-RIB, counters, memory, events, the next-hop resolver.

use core::ffi::c_void;
use core::net::IpAddr;

use reflector_core::engine::Event;
use reflector_core::reflect::LoopReason;
use reflector_core::rib::AttrId;

use crate::engine::*;
use crate::handle::{self, Handle, Snapshot};
use crate::{boundary, out, read, rfl_addr, rfl_prefix, rfl_result, write, Fail};

impl Handle for rfl_loc_rib_iter {
    type Value = Snapshot<(rfl_prefix, rfl_path)>;
    const MAGIC: u64 = 0x7266_6c5f_6c72_6962;
    const NAME: &'static str = "iter";
    const TYPE: &'static str = "rfl_loc_rib_iter";
}

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
        // SAFETY: checked by `out`.
        unsafe { write(o, handle::into_raw(Snapshot::new(items))) };
        Ok(rfl_result::Ok)
    })
}

/// The number of entries in the snapshot, through `*out_count`.
#[no_mangle]
pub unsafe extern "C" fn rfl_loc_rib_iter_count(
    iter: *mut rfl_loc_rib_iter,
    out_count: *mut usize,
) -> rfl_result {
    // SAFETY: checked by `snapshot_count`.
    unsafe { handle::snapshot_count(iter, out_count) }
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
        // SAFETY: checked by `live`.
        let it = unsafe { handle::live(iter)? };
        let Some((p, a)) = it.next_item().copied() else {
            return Ok(rfl_result::Empty);
        };
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
    // SAFETY: checked by `free`.
    unsafe { handle::free(iter) }
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
        let o = crate::out_sized(out_counters, "out_counters")?;
        let p = peer_of(&h.engine, peer)?;
        let c = h
            .engine
            .counters(p)
            .ok_or_else(|| Fail::new(rfl_result::UnknownPeer, "no such peer"))?;
        let r = rfl_peer_counters {
            struct_size: 0,
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
            policy_rejected_in: c.policy_rejected_in,
            policy_modified_in: c.policy_modified_in,
            policy_rejected_out: c.policy_rejected_out,
            graceful_restarts: c.graceful_restarts,
            stale_marked: c.stale_marked,
            stale_removed: c.stale_removed,
            transmit_pauses: c.transmit_pauses,
            prefix_limit_hits: c.prefix_limit_hits,
            paths_refused: c.paths_refused,
            attr_limit_refused: c.attr_limit_refused,
            unnegotiated_prefixes: c.unnegotiated_prefixes,
            families_disabled: c.families_disabled,
        };
        // SAFETY: checked by `out_sized`.
        unsafe { crate::write_sized(o, r) };
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
        let o = crate::out_sized(out_stats, "out_stats")?;
        let m = h.engine.memory();
        let r = rfl_memory_stats {
            struct_size: 0,
            prefixes: m.prefixes,
            paths: m.paths,
            attr_sets: m.attr_sets,
            table_bytes: m.table_bytes,
            attr_bytes: m.attr_bytes,
        };
        // SAFETY: checked by `out_sized`.
        unsafe { crate::write_sized(o, r) };
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
        let o = crate::out_sized(out_event, "out_event")?;
        let Some(ev) = h.engine.poll_event() else {
            return Ok(rfl_result::Empty);
        };
        let mut r = rfl_event {
            struct_size: 0,
            kind: rfl_event_kind::PeerUp,
            peer: 0,
            prefix: rfl_prefix::default(),
            has_best: false,
            best: 0,
            loop_reason: rfl_loop_reason::None,
            error_code: 0,
            error_subcode: 0,
            error_action: rfl_action::None,
            families: 0,
            paths: 0,
        };
        match ev {
            Event::BestChanged { prefix, best } => {
                r.kind = rfl_event_kind::BestChanged;
                r.prefix = rfl_prefix::from_prefix(prefix);
                r.has_best = best.is_some();
                r.best = best.map_or(0, |b| b.0);
            }
            Event::KeyedBestChanged { family, best, .. } => {
                r.kind = rfl_event_kind::KeyedBestChanged;
                r.families = crate::family_bit(family);
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
            Event::PeerRestarting {
                peer,
                families,
                stale,
            } => {
                r.kind = rfl_event_kind::PeerRestarting;
                r.peer = peer.0;
                r.families = crate::families_to_bits(families);
                r.paths = stale;
            }
            Event::UnknownFamily { peer, family, nlri } => {
                r.kind = rfl_event_kind::UnknownFamily;
                r.peer = peer.0;
                r.families = crate::family_bit(family);
                r.paths = nlri;
            }
            Event::StaleRemoved {
                peer,
                family,
                paths,
            } => {
                r.kind = rfl_event_kind::StaleRemoved;
                r.peer = peer.0;
                r.families = crate::family_bit(family);
                r.paths = paths;
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
            Event::AttrMemoryLimit { peer, .. } => {
                r.kind = rfl_event_kind::AttrMemoryLimit;
                r.peer = peer.0;
            }
        }
        // SAFETY: checked by `out_sized`.
        unsafe { crate::write_sized(o, r) };
        Ok(rfl_result::Ok)
    })
}

/// Events dropped because the queue was full (`max_events`), through `*out_dropped`.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_events_dropped(
    engine: *const rfl_engine,
    out_dropped: *mut u64,
) -> rfl_result {
    with_engine_ref(engine, |h| {
        let o = out(out_dropped, "out_dropped")?;
        // SAFETY: checked by `out`.
        unsafe { write(o, h.engine.events_dropped()) };
        Ok(rfl_result::Ok)
    })
}

/// Snapshot `peer`'s Adj-RIB-In as the engine keeps it (the paths it accepted
/// from the peer, after import policy, each with its prefix; IPv4 then IPv6,
/// ascending) into a new iterator `*out_iter` (free with `rfl_loc_rib_iter_free`;
/// read with `rfl_loc_rib_iter_next`). Every path is there, best or not.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_adj_rib_in(
    engine: *const rfl_engine,
    peer: u32,
    out_iter: *mut *mut rfl_loc_rib_iter,
) -> rfl_result {
    with_engine_ref(engine, |h| {
        let o = out(out_iter, "out_iter")?;
        let p = peer_of(&h.engine, peer)?;
        let items = h
            .engine
            .adj_rib_in(p)
            .iter()
            .map(|(pfx, v)| (rfl_prefix::from_prefix(*pfx), path_of(v)))
            .collect();
        // SAFETY: checked by `out`.
        unsafe { write(o, handle::into_raw(Snapshot::new(items))) };
        Ok(rfl_result::Ok)
    })
}

/// Snapshot what the engine advertises to `peer` now (its Adj-RIB-Out: the
/// best paths the RFC 4456 rules, the well-known communities and its export
/// policy let through; IPv4 then IPv6, ascending), each with its Loc-RIB
/// attributes (before the rewrite for `peer`), as a new iterator `*out_iter`
/// (free with `rfl_loc_rib_iter_free`). Empty while `peer` is down.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_adj_rib_out(
    engine: *const rfl_engine,
    peer: u32,
    out_iter: *mut *mut rfl_loc_rib_iter,
) -> rfl_result {
    with_engine_ref(engine, |h| {
        let o = out(out_iter, "out_iter")?;
        let p = peer_of(&h.engine, peer)?;
        let sent: std::collections::HashSet<_> = h
            .engine
            .adj_rib_out(p)
            .into_iter()
            .map(|(pfx, _)| pfx)
            .collect();
        let items = h
            .engine
            .loc_rib()
            .iter()
            .filter(|(pfx, _)| sent.contains(pfx))
            .map(|(pfx, v)| (rfl_prefix::from_prefix(*pfx), path_of(v)))
            .collect();
        // SAFETY: checked by `out`.
        unsafe { write(o, handle::into_raw(Snapshot::new(items))) };
        Ok(rfl_result::Ok)
    })
}

/// Limit the attribute-set memory `peer`'s routes may hold to `max_bytes`
/// (0: no limit); routes that would go past it are refused and raise an
/// `RFL_EVENT_KIND_ATTR_MEMORY_LIMIT` event.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_set_attr_memory_limit(
    engine: *mut rfl_engine,
    peer: u32,
    max_bytes: u64,
) -> rfl_result {
    with_engine(engine, |h| {
        let p = peer_of(&h.engine, peer)?;
        h.engine
            .set_attr_memory_limit(p, (max_bytes != 0).then_some(max_bytes));
        Ok(rfl_result::Ok)
    })
}

/// Bytes of attribute sets `peer`'s routes hold, through `*out_bytes`.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_attr_bytes(
    engine: *const rfl_engine,
    peer: u32,
    out_bytes: *mut u64,
) -> rfl_result {
    with_engine_ref(engine, |h| {
        let o = out(out_bytes, "out_bytes")?;
        let p = peer_of(&h.engine, peer)?;
        // SAFETY: checked by `out`.
        unsafe { write(o, h.engine.attr_bytes(p)) };
        Ok(rfl_result::Ok)
    })
}

/// Paths accepted from `peer` in `family` (one RFL_FAMILY_* bit), through `*out_paths`.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_accepted_paths(
    engine: *const rfl_engine,
    peer: u32,
    family: u32,
    out_paths: *mut u64,
) -> rfl_result {
    with_engine_ref(engine, |h| {
        let o = out(out_paths, "out_paths")?;
        let p = peer_of(&h.engine, peer)?;
        let f = one_family(family)?;
        // SAFETY: checked by `out`.
        unsafe { write(o, h.engine.accepted_paths(p, f)) };
        Ok(rfl_result::Ok)
    })
}

/// `peer`'s output state: `*out_paused` (paused by `rfl_engine_pause_transmit`),
/// `*out_catching_up` (resumed, more steps pending) and `*out_pending_prefixes`
/// (prefixes waiting to be sent). Any out-pointer may be NULL.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_transmit_state(
    engine: *const rfl_engine,
    peer: u32,
    out_paused: *mut bool,
    out_catching_up: *mut bool,
    out_pending_prefixes: *mut usize,
) -> rfl_result {
    with_engine_ref(engine, |h| {
        let p = peer_of(&h.engine, peer)?;
        // SAFETY: each is written only when not NULL; the caller passes writable pointers.
        unsafe {
            if !out_paused.is_null() {
                write(out(out_paused, "out_paused")?, h.engine.is_paused(p));
            }
            if !out_catching_up.is_null() {
                write(
                    out(out_catching_up, "out_catching_up")?,
                    h.engine.is_catching_up(p),
                );
            }
            if !out_pending_prefixes.is_null() {
                write(
                    out(out_pending_prefixes, "out_pending_prefixes")?,
                    h.engine.pending_prefixes(p),
                );
            }
        }
        Ok(rfl_result::Ok)
    })
}

/// The C next-hop resolver: the callback and its userdata.
#[derive(Clone, Copy)]
pub(crate) struct CResolver {
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

/// The engine's resolver calling `c`.
pub(crate) fn resolver_of(c: CResolver) -> reflector_core::engine::Resolver {
    Box::new(move |a: IpAddr| c.resolve(a))
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
        h.resolver = callback.map(|cb| CResolver { cb, userdata });
        h.engine.set_resolver(h.resolver.map(resolver_of));
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

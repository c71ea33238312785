//! The engine's traffic: messages received from peers, messages queued for
//! them (transmit, pause and resume, route refresh, limits), and the routes
//! the engine originates itself.

use reflector_core::engine::Outcome;
use reflector_core::wire::attribute::AttrIter;
use reflector_core::wire::update_repr::AttributeRepr;
use reflector_core::wire::Context;

use super::{
    action_of, one_family, peer_of, rfl_action, rfl_engine, rfl_outcome, rfl_outcome_kind,
    with_engine, with_engine_ref,
};
use crate::{
    family_bit, out, read, rfl_addr, rfl_prefix, rfl_result, slice, slice_mut, write, Fail,
    FfiResult,
};

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
        let o = crate::out_sized(out_outcome, "out_outcome")?;
        // SAFETY: the caller gives `message_len` readable bytes.
        let msg = unsafe { slice(message, message_len, "message")? };
        // SAFETY: the caller gives `notification_buf_len` writable bytes.
        let nbuf =
            unsafe { slice_mut(notification_buf, notification_buf_len, "notification_buf")? };
        let p = peer_of(&h.engine, peer)?;
        let mut oc = rfl_outcome {
            struct_size: 0,
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
        // SAFETY: checked by `out_sized`.
        unsafe { crate::write_sized(o, oc) };
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
        super::require_up(&h.engine, p)?;
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

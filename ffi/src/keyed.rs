//! The routes of the families beyond unicast (VPN, EVPN, labeled unicast,
//! multicast, flow specification, RT membership): a snapshot of one family's
//! routes, each with the NLRI of its best path and that path.

use reflector_core::wire::AfiSafi;

use crate::engine::{path_of, rfl_engine, rfl_path, with_engine_ref};
use crate::handle::{self, Handle, Snapshot};
use crate::{boundary, out, rfl_result, write, Fail, FAMILY_BITS};

/// A snapshot of one family's routes (opaque), from `rfl_engine_keyed_routes`;
/// free with `rfl_keyed_iter_free`.
pub struct rfl_keyed_iter {
    _private: [u8; 0],
}

impl Handle for rfl_keyed_iter {
    type Value = Snapshot<(Vec<u8>, rfl_path)>;
    const MAGIC: u64 = 0x7266_6c5f_6b65_7964;
    const NAME: &'static str = "iter";
    const TYPE: &'static str = "rfl_keyed_iter";
}

/// Snapshot the routes of one family beyond unicast (`family`: one RFL_FAMILY_*
/// bit other than the unicast ones) into a new iterator `*out_iter`, owned by
/// the caller and freed with `rfl_keyed_iter_free`: each route with the NLRI
/// its best path came with (without path identifier: a VPN route's labels, RD
/// and prefix) and that path. The snapshot does not change with the engine.
#[no_mangle]
pub unsafe extern "C" fn rfl_engine_keyed_routes(
    engine: *const rfl_engine,
    family: u32,
    out_iter: *mut *mut rfl_keyed_iter,
) -> rfl_result {
    with_engine_ref(engine, |h| {
        let o = out(out_iter, "out_iter")?;
        let f = FAMILY_BITS
            .iter()
            .find(|(b, _)| *b == family)
            .map(|(_, f)| *f)
            .filter(|f| *f != AfiSafi::IPV4_UNICAST && *f != AfiSafi::IPV6_UNICAST)
            .ok_or_else(|| {
                Fail::invalid(format!(
                    "family {family:#x} is not one RFL_FAMILY_* bit of a family beyond unicast"
                ))
            })?;
        let items = h
            .engine
            .keyed_table(f)
            .into_iter()
            .filter_map(|r| {
                let (nlri, v, _) = r.paths.into_iter().next()?;
                Some((nlri, path_of(&v)))
            })
            .collect();
        // SAFETY: checked by `out`.
        unsafe { write(o, handle::into_raw(Snapshot::new(items))) };
        Ok(rfl_result::Ok)
    })
}

/// The number of routes in the snapshot, through `*out_count`.
#[no_mangle]
pub unsafe extern "C" fn rfl_keyed_iter_count(
    iter: *mut rfl_keyed_iter,
    out_count: *mut usize,
) -> rfl_result {
    // SAFETY: checked by `snapshot_count`.
    unsafe { handle::snapshot_count(iter, out_count) }
}

/// The next route: `*out_nlri` / `*out_nlri_len` its best path's NLRI (valid
/// until the iterator is freed), `*out_path` that path; RFL_RESULT_EMPTY after the last one.
#[no_mangle]
pub unsafe extern "C" fn rfl_keyed_iter_next(
    iter: *mut rfl_keyed_iter,
    out_nlri: *mut *const u8,
    out_nlri_len: *mut usize,
    out_path: *mut rfl_path,
) -> rfl_result {
    boundary(|| {
        let on = out(out_nlri, "out_nlri")?;
        let ol = out(out_nlri_len, "out_nlri_len")?;
        let op = out(out_path, "out_path")?;
        // SAFETY: checked by `live`.
        let it = unsafe { handle::live(iter)? };
        let Some((nlri, path)) = it.next_item() else {
            return Ok(rfl_result::Empty);
        };
        // SAFETY: all checked by `out`; the bytes live as long as the iterator.
        unsafe {
            write(on, nlri.as_ptr());
            write(ol, nlri.len());
            write(op, *path);
        }
        Ok(rfl_result::Ok)
    })
}

/// Free a keyed-route iterator (NULL is ignored).
#[no_mangle]
pub unsafe extern "C" fn rfl_keyed_iter_free(iter: *mut rfl_keyed_iter) -> rfl_result {
    // SAFETY: checked by `free`.
    unsafe { handle::free(iter) }
}

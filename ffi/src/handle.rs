//! One checked path between a C handle pointer and the Rust value behind it.
//!
//! Every opaque handle type of the ABI (`rfl_engine`, `rfl_session`,
//! `rfl_loc_rib_iter`, `rfl_keyed_iter`, `rfl_policy`, `rfl_statement`,
//! `rfl_attr_edit`) implements [`Handle`], and its pointers point to a
//! [`Checked`]: the type's magic number first, so that a check reads only the
//! first 8 bytes of whatever the caller passed, then a poisoned flag, then the
//! value. [`into_raw`] makes a handle; [`live`] and [`live_ref`] check one
//! (NULL, misaligned, not live, poisoned: each with its code and message);
//! [`with`] runs a call on one inside the panic boundary and poisons it when
//! the call panics; [`take`] and [`free`] end one, its magic number cleared so
//! that a second free is detected (best effort). Iterator handles hold a
//! [`Snapshot`].

use core::mem::align_of;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::{boundary, finish, out, rfl_result, write, Fail, FfiResult};

/// An opaque C handle type: the value its pointers lead to and how messages name it.
pub(crate) trait Handle: Sized {
    /// The Rust value behind a handle.
    type Value;
    /// The magic number of a live handle of this type.
    const MAGIC: u64;
    /// The argument in messages: "engine" ("engine is NULL").
    const NAME: &'static str;
    /// The type in messages: "rfl_engine" ("engine is not an rfl_engine",
    /// "engine is not a live rfl_engine").
    const TYPE: &'static str;

    /// Checks of the pointer's value alone, made before anything is read through it.
    fn check_ptr(_p: *const Self) -> Result<(), Fail> {
        Ok(())
    }
}

/// What a pointer of handle type `H` points to.
#[repr(C)]
pub(crate) struct Checked<H: Handle> {
    magic: u64,
    poisoned: bool,
    value: H::Value,
}

impl<H: Handle> Checked<H> {
    /// A live handle holding `value`.
    pub(crate) fn new(value: H::Value) -> Self {
        Checked {
            magic: H::MAGIC,
            poisoned: false,
            value,
        }
    }

    /// The pointer to hand to C (for a handle that lives on the stack for one call).
    pub(crate) fn as_ptr(&mut self) -> *mut H {
        (self as *mut Self).cast::<H>()
    }

    /// The value, the handle no longer live.
    pub(crate) fn into_value(mut self) -> H::Value {
        self.magic = 0;
        self.value
    }
}

/// A new handle of type `H` holding `value`, owned by the caller until [`take`] or [`free`].
pub(crate) fn into_raw<H: Handle>(value: H::Value) -> *mut H {
    Box::into_raw(Box::new(Checked::<H>::new(value))).cast::<H>()
}

/// `p` as a live handle of type `H`, poisoned or not.
unsafe fn checked<H: Handle>(p: *const H) -> Result<*mut Checked<H>, Fail> {
    if p.is_null() {
        return Err(Fail::null(H::NAME));
    }
    H::check_ptr(p)?;
    let c = p.cast::<Checked<H>>().cast_mut();
    if (c as usize) % align_of::<Checked<H>>() != 0 {
        // The article as the messages have it: "an rfl_engine", "a handle of the expected type".
        let a = if H::TYPE.starts_with("rfl_") {
            "an"
        } else {
            "a"
        };
        return Err(Fail::new(
            rfl_result::InvalidHandle,
            format!("{} is not {a} {}", H::NAME, H::TYPE),
        ));
    }
    // SAFETY: non-NULL and aligned; the caller promises a handle of type `H`,
    // whose magic number comes first: only those 8 bytes are read.
    if unsafe { c.cast::<u64>().read() } != H::MAGIC {
        return Err(Fail::new(
            rfl_result::InvalidHandle,
            format!("{} is not a live {}", H::NAME, H::TYPE),
        ));
    }
    Ok(c)
}

/// The failure for a call on a handle poisoned by an earlier panic.
fn poisoned<H: Handle>() -> Fail {
    Fail::new(
        rfl_result::Panic,
        format!("{} is poisoned by an earlier panic; free it", H::NAME),
    )
}

/// The live, unpoisoned handle `p`, for a call that may change it.
pub(crate) unsafe fn live<'a, H: Handle>(p: *mut H) -> Result<&'a mut H::Value, Fail> {
    // SAFETY: checked by `checked`; the caller guarantees exclusive use for the call.
    let c = unsafe { &mut *checked(p)? };
    if c.poisoned {
        return Err(poisoned::<H>());
    }
    Ok(&mut c.value)
}

/// The live, unpoisoned handle `p`, for a call that only reads it.
pub(crate) unsafe fn live_ref<'a, H: Handle>(p: *const H) -> Result<&'a H::Value, Fail> {
    // SAFETY: checked by `checked`; nothing changes the handle during the call.
    let c = unsafe { &*checked(p)? };
    if c.poisoned {
        return Err(poisoned::<H>());
    }
    Ok(&c.value)
}

/// Run `f` on the live handle `p` inside the panic boundary; a panic poisons the handle.
pub(crate) fn with<H: Handle>(p: *mut H, f: impl FnOnce(&mut H::Value) -> FfiResult) -> rfl_result {
    // SAFETY: checked by `live`.
    let v = match unsafe { live(p) } {
        Ok(v) => v,
        Err(fail) => return finish(Ok(Err(fail))),
    };
    let r = catch_unwind(AssertUnwindSafe(|| f(v)));
    if r.is_err() {
        // SAFETY: still the live handle checked above; `v` went with the call that panicked.
        unsafe { (*p.cast::<Checked<H>>()).poisoned = true };
    }
    finish(r)
}

/// End the live handle `p` (poisoned or not) and give back its value.
pub(crate) unsafe fn take<H: Handle>(p: *mut H) -> Result<H::Value, Fail> {
    // SAFETY: checked by `checked`.
    let c = unsafe { checked(p)? };
    // SAFETY: a live handle, made by Box::into_raw in `into_raw`.
    let mut b = unsafe { Box::from_raw(c) };
    // Cleared so that a second free is detected (best effort) before the memory goes back.
    b.magic = 0;
    Ok(b.value)
}

/// Free the handle `p` (NULL is ignored): the body of every `rfl_*_free`.
pub(crate) unsafe fn free<H: Handle>(p: *mut H) -> rfl_result {
    if p.is_null() {
        return rfl_result::Ok;
    }
    boundary(|| {
        // SAFETY: checked by `take`.
        drop(unsafe { take(p)? });
        Ok(rfl_result::Ok)
    })
}

/// The value behind an iterator handle: items taken at once, handed out one at a time.
pub(crate) struct Snapshot<T> {
    items: Vec<T>,
    pos: usize,
}

impl<T> Snapshot<T> {
    /// A snapshot of `items`, the first one next.
    pub(crate) fn new(items: Vec<T>) -> Self {
        Snapshot { items, pos: 0 }
    }

    /// The next item; `None` after the last one.
    pub(crate) fn next_item(&mut self) -> Option<&T> {
        let item = self.items.get(self.pos)?;
        self.pos += 1;
        Some(item)
    }
}

/// The number of items of the snapshot behind `iter`, through `*out_count`:
/// the body of every `rfl_*_iter_count`.
pub(crate) unsafe fn snapshot_count<H, T>(iter: *mut H, out_count: *mut usize) -> rfl_result
where
    H: Handle<Value = Snapshot<T>>,
{
    boundary(|| {
        let o = out(out_count, "out_count")?;
        // SAFETY: checked by `live`.
        let it = unsafe { live(iter)? };
        // SAFETY: checked by `out`.
        unsafe { write(o, it.items.len()) };
        Ok(rfl_result::Ok)
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use core::ptr::null_mut;

    use crate::engine::*;
    use crate::inspect::*;
    use crate::keyed::*;
    use crate::policy::*;
    use crate::session::*;
    use crate::tests::last_error;
    use crate::{rfl_prefix, rfl_result};

    #[test]
    fn every_handle_type_names_itself_for_null_misaligned_and_dead_handles() {
        let mut fake = [0u64; 64];
        let dead = fake.as_mut_ptr().cast::<u8>();
        let odd = dead.wrapping_add(1);
        for p in [null_mut(), odd, dead] {
            // The code and message each call must give for `p`.
            let want = |name: &str, a_type: &str, ty: &str| {
                if p.is_null() {
                    (rfl_result::NullParameter, format!("{name} is NULL"))
                } else if p == odd {
                    (rfl_result::InvalidHandle, format!("{name} is not {a_type}"))
                } else {
                    (
                        rfl_result::InvalidHandle,
                        format!("{name} is not a live {ty}"),
                    )
                }
            };
            let check = |r: rfl_result, (code, msg): (rfl_result, String)| {
                assert_eq!(r, code, "{msg}");
                assert_eq!(last_error(), msg);
            };
            let engine = || want("engine", "an rfl_engine", "rfl_engine");
            let session = || want("session", "an rfl_session", "rfl_session");
            let loc_rib = || want("iter", "an rfl_loc_rib_iter", "rfl_loc_rib_iter");
            let keyed = || want("iter", "an rfl_keyed_iter", "rfl_keyed_iter");
            let other = |name| {
                want(
                    name,
                    "a handle of the expected type",
                    "handle of the expected type",
                )
            };
            let (mut n, mut u, mut st) = (0usize, 0u64, rfl_session_state::Idle);
            let (mut pfx, mut path) = (rfl_prefix::default(), rfl_path::default());
            let mut nlri = core::ptr::null();
            // SAFETY: each call checks its handle before it reads more than the
            // first 8 bytes, which `fake` holds; the out-parameters are valid.
            unsafe {
                check(rfl_engine_flush(p.cast()), engine());
                check(rfl_engine_events_dropped(p.cast(), &mut u), engine());
                check(rfl_session_start(p.cast(), 0), session());
                check(rfl_session_get_state(p.cast(), &mut st), session());
                check(rfl_loc_rib_iter_count(p.cast(), &mut n), loc_rib());
                check(
                    rfl_loc_rib_iter_next(p.cast(), &mut pfx, &mut path),
                    loc_rib(),
                );
                check(rfl_keyed_iter_count(p.cast(), &mut n), keyed());
                check(
                    rfl_keyed_iter_next(p.cast(), &mut nlri, &mut n, &mut path),
                    keyed(),
                );
                check(
                    rfl_policy_statement_count(p.cast(), &mut n),
                    other("policy"),
                );
                check(
                    rfl_statement_set(p.cast(), 2, null_mut()),
                    other("statement"),
                );
                check(rfl_attr_edit_remove_med(p.cast()), other("edit"));
                if p.is_null() {
                    assert_eq!(rfl_engine_free(p.cast()), rfl_result::Ok);
                    assert_eq!(rfl_session_free(p.cast()), rfl_result::Ok);
                    assert_eq!(rfl_loc_rib_iter_free(p.cast()), rfl_result::Ok);
                    assert_eq!(rfl_keyed_iter_free(p.cast()), rfl_result::Ok);
                    assert_eq!(rfl_policy_free(p.cast()), rfl_result::Ok);
                    assert_eq!(rfl_statement_free(p.cast()), rfl_result::Ok);
                } else {
                    check(rfl_engine_free(p.cast()), engine());
                    check(rfl_session_free(p.cast()), session());
                    check(rfl_loc_rib_iter_free(p.cast()), loc_rib());
                    check(rfl_keyed_iter_free(p.cast()), keyed());
                    check(rfl_policy_free(p.cast()), other("policy"));
                    check(rfl_statement_free(p.cast()), other("statement"));
                }
            }
        }
    }
}

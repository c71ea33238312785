//! The C ABI of Reflector: `libreflector.so` / `libreflector.a` and the
//! header `include/reflector.h` (generated from this crate by cbindgen).
//!
//! Every exported function is prefixed `rfl_`, returns an [`rfl_result`],
//! writes its outputs through out-parameters only on success, checks every
//! pointer for NULL, and runs its body inside a panic boundary so that no
//! Rust panic unwinds into C. The conventions, ownership and thread rules are
//! spelled out at the top of the header.
//!
//! The Rust functions are `unsafe extern "C"`: callable from Rust too (the
//! benchmarks and tests do), with the same contracts as from C.
#![allow(non_camel_case_types)]
#![allow(clippy::missing_safety_doc)]

use core::cell::RefCell;
use core::ffi::c_char;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ffi::CString;
use std::panic::{catch_unwind, AssertUnwindSafe};

use reflector_core::wire::{Afi, AfiSafi, AfiSafiSet, Ipv4Prefix, Ipv6Prefix, Prefix, Safi};

pub mod engine;
mod handle;
pub mod inspect;
pub mod keyed;
pub mod policy;
pub mod session;

/// The status every `rfl_` function returns.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum rfl_result {
    /// Success.
    Ok = 0,
    /// Nothing (more) to take: no queued message, no further item, no event. Not an error.
    Empty = 1,
    /// A required pointer argument was NULL.
    NullParameter = 2,
    /// A handle is not a live handle of the expected type.
    InvalidHandle = 3,
    /// An argument has a bad value or length.
    InvalidParameter = 4,
    /// The caller's buffer is too small; the needed size was written to the length out-parameter.
    BufferTooSmall = 5,
    /// The peer ID does not name a peer of this engine (never added, or removed).
    UnknownPeer = 6,
    /// The peer exists but is not up.
    PeerNotUp = 7,
    /// Nothing was found for the query (no best path, no such attribute set).
    NotFound = 8,
    /// The input bytes are not a valid BGP message or attribute block.
    Malformed = 9,
    /// The call is not valid in the object's current state.
    InvalidState = 10,
    /// A panic was caught inside the library; the handle involved is poisoned.
    Panic = 11,
}

impl rfl_result {
    /// A static description of the code.
    pub const fn message(self) -> &'static str {
        match self {
            rfl_result::Ok => "success",
            rfl_result::Empty => "nothing to take",
            rfl_result::NullParameter => "a required pointer argument was NULL",
            rfl_result::InvalidHandle => "not a live handle of the expected type",
            rfl_result::InvalidParameter => "an argument has a bad value or length",
            rfl_result::BufferTooSmall => "the buffer is too small",
            rfl_result::UnknownPeer => "no such peer",
            rfl_result::PeerNotUp => "the peer is not up",
            rfl_result::NotFound => "not found",
            rfl_result::Malformed => "malformed input",
            rfl_result::InvalidState => "not valid in the current state",
            rfl_result::Panic => "a panic was caught inside the library",
        }
    }

    const fn from_u32(v: u32) -> Option<rfl_result> {
        Some(match v {
            0 => rfl_result::Ok,
            1 => rfl_result::Empty,
            2 => rfl_result::NullParameter,
            3 => rfl_result::InvalidHandle,
            4 => rfl_result::InvalidParameter,
            5 => rfl_result::BufferTooSmall,
            6 => rfl_result::UnknownPeer,
            7 => rfl_result::PeerNotUp,
            8 => rfl_result::NotFound,
            9 => rfl_result::Malformed,
            10 => rfl_result::InvalidState,
            11 => rfl_result::Panic,
            _ => return None,
        })
    }

    /// NUL-terminated static form of [`rfl_result::message`].
    const fn c_message(self) -> &'static [u8] {
        match self {
            rfl_result::Ok => b"success\0",
            rfl_result::Empty => b"nothing to take\0",
            rfl_result::NullParameter => b"a required pointer argument was NULL\0",
            rfl_result::InvalidHandle => b"not a live handle of the expected type\0",
            rfl_result::InvalidParameter => b"an argument has a bad value or length\0",
            rfl_result::BufferTooSmall => b"the buffer is too small\0",
            rfl_result::UnknownPeer => b"no such peer\0",
            rfl_result::PeerNotUp => b"the peer is not up\0",
            rfl_result::NotFound => b"not found\0",
            rfl_result::Malformed => b"malformed input\0",
            rfl_result::InvalidState => b"not valid in the current state\0",
            rfl_result::Panic => b"a panic was caught inside the library\0",
        }
    }
}

/// A failure inside an exported function: the code to return and the message for `rfl_last_error`.
#[derive(Debug)]
pub(crate) struct Fail {
    code: rfl_result,
    msg: String,
}

impl Fail {
    pub(crate) fn new(code: rfl_result, msg: impl Into<String>) -> Self {
        Fail {
            code,
            msg: msg.into(),
        }
    }

    pub(crate) fn null(what: &str) -> Self {
        Fail::new(rfl_result::NullParameter, format!("{what} is NULL"))
    }

    pub(crate) fn invalid(msg: impl Into<String>) -> Self {
        Fail::new(rfl_result::InvalidParameter, msg)
    }
}

/// What an exported body returns: `Ok(code)` for success-like codes (OK, EMPTY), `Err` for failures.
pub(crate) type FfiResult = Result<rfl_result, Fail>;

thread_local! {
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
}

fn set_last_error(msg: &str) {
    let c = CString::new(msg.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = Some(c));
}

fn panic_message(p: &(dyn core::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".to_string()
    }
}

/// Run an exported body inside the panic boundary and turn its result into a code.
pub(crate) fn boundary(f: impl FnOnce() -> FfiResult) -> rfl_result {
    finish(catch_unwind(AssertUnwindSafe(f)))
}

pub(crate) fn finish(r: std::thread::Result<FfiResult>) -> rfl_result {
    match r {
        Ok(Ok(code)) => code,
        Ok(Err(fail)) => {
            set_last_error(&fail.msg);
            fail.code
        }
        Err(payload) => {
            set_last_error(&format!("panic: {}", panic_message(payload.as_ref())));
            rfl_result::Panic
        }
    }
}

/// Borrow `len` bytes at `ptr` (NULL is allowed when `len` is 0).
pub(crate) unsafe fn slice<'a>(ptr: *const u8, len: usize, what: &str) -> Result<&'a [u8], Fail> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(Fail::null(what));
    }
    if len > isize::MAX as usize {
        return Err(Fail::invalid(format!("{what}: length {len} is too large")));
    }
    // SAFETY: the caller promises `ptr` points to `len` readable bytes for the call.
    Ok(unsafe { core::slice::from_raw_parts(ptr, len) })
}

/// Borrow `len` writable bytes at `ptr` (NULL is allowed when `len` is 0).
pub(crate) unsafe fn slice_mut<'a>(
    ptr: *mut u8,
    len: usize,
    what: &str,
) -> Result<&'a mut [u8], Fail> {
    if len == 0 {
        return Ok(&mut []);
    }
    if ptr.is_null() {
        return Err(Fail::null(what));
    }
    if len > isize::MAX as usize {
        return Err(Fail::invalid(format!("{what}: length {len} is too large")));
    }
    // SAFETY: the caller promises `ptr` points to `len` writable bytes for the call.
    Ok(unsafe { core::slice::from_raw_parts_mut(ptr, len) })
}

/// Read a value through a non-NULL pointer.
pub(crate) unsafe fn read<T: Copy>(ptr: *const T, what: &str) -> Result<T, Fail> {
    if ptr.is_null() {
        return Err(Fail::null(what));
    }
    if (ptr as usize) % core::mem::align_of::<T>() != 0 {
        return Err(Fail::invalid(format!("{what} is misaligned")));
    }
    // SAFETY: non-NULL, aligned; the caller promises it points to a valid T.
    Ok(unsafe { *ptr })
}

/// Check an out-pointer before any work is done.
pub(crate) fn out<T>(ptr: *mut T, what: &str) -> Result<*mut T, Fail> {
    if ptr.is_null() {
        return Err(Fail::null(what));
    }
    if (ptr as usize) % core::mem::align_of::<T>() != 0 {
        return Err(Fail::invalid(format!("{what} is misaligned")));
    }
    Ok(ptr)
}

/// Write through a pointer checked with [`out`].
pub(crate) unsafe fn write<T>(ptr: *mut T, v: T) {
    // SAFETY: checked by `out` (non-NULL, aligned); the caller promises it is writable.
    unsafe { ptr.write(v) }
}

/// A struct that crosses the ABI with its size in a leading `struct_size` field.
///
/// # Safety
/// The type is `#[repr(C)]`, starts with a `u32` size field and is valid for
/// any bytes its fields may hold from C (it is `Copy`, with no references).
pub(crate) unsafe trait Sized_: Copy {
    /// The size of the first versioned layout (ABI 1): the smallest a caller may pass.
    const MIN_SIZE: usize;
    /// Set the `struct_size` field.
    fn set_size(&mut self, n: u32);
}

/// Check a caller's `struct_size` against `T`: at least `T::MIN_SIZE`.
fn check_size<T: Sized_>(size: usize, what: &str) -> Result<(), Fail> {
    if size < T::MIN_SIZE {
        return Err(Fail::invalid(format!(
            "{what}.struct_size is {size}, at least {} needed: fill it with its _init function or set it to sizeof",
            T::MIN_SIZE
        )));
    }
    Ok(())
}

/// The `struct_size` field at the start of `*ptr` (non-NULL, aligned).
unsafe fn size_at<T>(ptr: *const T) -> usize {
    // SAFETY: the caller checked `ptr`; every sized struct starts with a u32.
    unsafe { ptr.cast::<u32>().read() as usize }
}

/// Read a sized input struct: fields past the caller's `struct_size` keep
/// their value in `defaults`; bytes past the library's size must be zero
/// (a newer caller may not ask for something this library cannot do).
pub(crate) unsafe fn read_sized<T: Sized_>(
    ptr: *const T,
    defaults: T,
    what: &str,
) -> Result<T, Fail> {
    if ptr.is_null() {
        return Err(Fail::null(what));
    }
    if (ptr as usize) % core::mem::align_of::<T>() != 0 {
        return Err(Fail::invalid(format!("{what} is misaligned")));
    }
    // SAFETY: non-NULL and aligned.
    let size = unsafe { size_at(ptr) };
    check_size::<T>(size, what)?;
    let full = core::mem::size_of::<T>();
    if size > full {
        // SAFETY: the caller promises `struct_size` readable bytes.
        let extra = unsafe { slice(ptr.cast::<u8>(), size, what)? };
        if extra.get(full..).is_some_and(|t| t.iter().any(|&b| b != 0)) {
            return Err(Fail::invalid(format!(
                "{what} sets fields this library ({} bytes) does not know",
                full
            )));
        }
    }
    let mut v = defaults;
    // SAFETY: `min(size, full)` bytes are readable at `ptr` and writable in `v`.
    unsafe {
        core::ptr::copy_nonoverlapping(
            ptr.cast::<u8>(),
            (&mut v as *mut T).cast::<u8>(),
            size.min(full),
        )
    };
    v.set_size(full as u32);
    Ok(v)
}

/// Check a sized out-parameter before any work: non-NULL, aligned, and a
/// `struct_size` the caller set of at least `T::MIN_SIZE`.
pub(crate) fn out_sized<T: Sized_>(ptr: *mut T, what: &str) -> Result<*mut T, Fail> {
    let p = out(ptr, what)?;
    // SAFETY: checked by `out`.
    check_size::<T>(unsafe { size_at(p) }, what)?;
    Ok(p)
}

/// Write a sized out-parameter checked by [`out_sized`]: the first
/// `min(struct_size, sizeof)` bytes; `struct_size` then says how many were written.
pub(crate) unsafe fn write_sized<T: Sized_>(ptr: *mut T, mut v: T) {
    // SAFETY: checked by `out_sized`.
    let n = unsafe { size_at(ptr) }.min(core::mem::size_of::<T>());
    v.set_size(n as u32);
    // SAFETY: the caller gives `struct_size` writable bytes at `ptr`.
    unsafe { core::ptr::copy_nonoverlapping((&v as *const T).cast::<u8>(), ptr.cast::<u8>(), n) };
}

/// Fill a sized struct through an `_init` function: `size` bytes (at least
/// `T::MIN_SIZE`; past the library's size the caller's bytes are zeroed).
pub(crate) unsafe fn init_sized<T: Sized_>(
    ptr: *mut T,
    size: usize,
    mut v: T,
    what: &str,
) -> Result<(), Fail> {
    let p = out(ptr, what)?;
    check_size::<T>(size, what)?;
    let full = core::mem::size_of::<T>();
    v.set_size(size.min(full) as u32);
    // SAFETY: the caller gives `size` writable bytes at `p`; `v` has `full` bytes
    // (an untyped copy, padding included).
    unsafe {
        core::ptr::write_bytes(p.cast::<u8>(), 0, size);
        core::ptr::copy_nonoverlapping(
            (&v as *const T).cast::<u8>(),
            p.cast::<u8>(),
            size.min(full),
        );
    }
    if size > full {
        // The caller's struct is newer: its struct_size stays what it asked for.
        // SAFETY: `p` is aligned and holds at least 4 bytes.
        unsafe { p.cast::<u32>().write(size as u32) };
    }
    Ok(())
}

/// Implement [`Sized_`] for a struct with a leading `struct_size: u32` field;
/// `$min` is the smallest size a caller may pass: the struct's size in ABI 1.
/// Fields are only ever added at the end; the first time one is, `$min`
/// becomes `core::mem::offset_of!(T, first_added_field)`.
macro_rules! sized {
    ($t:ty, $min:expr) => {
        // SAFETY: `$t` is repr(C), starts with `struct_size: u32`, and holds only plain values.
        unsafe impl $crate::Sized_ for $t {
            const MIN_SIZE: usize = $min;
            fn set_size(&mut self, n: u32) {
                self.struct_size = n;
            }
        }
    };
}
pub(crate) use sized;

/// The library version as a NUL-terminated static string ("0.1.0"), through `out_version`.
#[no_mangle]
pub unsafe extern "C" fn rfl_version(out_version: *mut *const c_char) -> rfl_result {
    boundary(|| {
        let o = out(out_version, "out_version")?;
        static V: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
        // SAFETY: `o` was checked.
        unsafe { write(o, V.as_ptr().cast::<c_char>()) };
        Ok(rfl_result::Ok)
    })
}

/// The version as major * 10000 + minor * 100 + patch (compare with RFL_VERSION_NUMBER).
#[no_mangle]
pub unsafe extern "C" fn rfl_version_number(out_number: *mut u32) -> rfl_result {
    boundary(|| {
        let o = out(out_number, "out_number")?;
        let p = |s: &str| s.parse::<u32>().unwrap_or(0);
        let n = p(env!("CARGO_PKG_VERSION_MAJOR")) * 10_000
            + p(env!("CARGO_PKG_VERSION_MINOR")) * 100
            + p(env!("CARGO_PKG_VERSION_PATCH"));
        // SAFETY: `o` was checked.
        unsafe { write(o, n) };
        Ok(rfl_result::Ok)
    })
}

/// A static NUL-terminated description of a result code, through `out_message`.
/// `result` is an rfl_result value; unknown values give RFL_RESULT_INVALID_PARAMETER.
#[no_mangle]
pub unsafe extern "C" fn rfl_result_message(
    result: u32,
    out_message: *mut *const c_char,
) -> rfl_result {
    boundary(|| {
        let o = out(out_message, "out_message")?;
        let r = rfl_result::from_u32(result)
            .ok_or_else(|| Fail::invalid(format!("{result} is not an rfl_result")))?;
        // SAFETY: `o` was checked.
        unsafe { write(o, r.c_message().as_ptr().cast::<c_char>()) };
        Ok(rfl_result::Ok)
    })
}

/// Copy the message of the last failing call on this thread into `buf`, NUL-terminated.
///
/// `*out_len` receives the message length without the NUL. With no message
/// yet, the message is empty. If `buf_len` cannot hold the message and its
/// NUL, returns RFL_RESULT_BUFFER_TOO_SMALL with the needed size (including
/// the NUL) in `*out_len`. This call does not replace the message.
#[no_mangle]
pub unsafe extern "C" fn rfl_last_error(
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> rfl_result {
    let r = catch_unwind(AssertUnwindSafe(|| -> FfiResult {
        let o = out(out_len, "out_len")?;
        let msg = LAST_ERROR.with(|e| e.borrow().as_ref().map(|c| c.as_bytes().to_vec()));
        let msg = msg.unwrap_or_default();
        if buf_len < msg.len() + 1 {
            // SAFETY: `o` was checked.
            unsafe { write(o, msg.len() + 1) };
            return Ok(rfl_result::BufferTooSmall);
        }
        // SAFETY: the caller gives `buf_len` writable bytes.
        let dst = unsafe { slice_mut(buf.cast::<u8>(), buf_len, "buf")? };
        if let Some(d) = dst.get_mut(..msg.len()) {
            d.copy_from_slice(&msg);
        }
        if let Some(z) = dst.get_mut(msg.len()) {
            *z = 0;
        }
        // SAFETY: `o` was checked.
        unsafe { write(o, msg.len()) };
        Ok(rfl_result::Ok)
    }));
    match r {
        Ok(Ok(code)) => code,
        Ok(Err(f)) => f.code,
        Err(_) => rfl_result::Panic,
    }
}

// ---------------------------------------------------------------------------
// Shared value types.

/// An IP address: `family` 4 or 6 (0 = none where a field is optional) and the
/// octets in network order (IPv4 uses the first 4).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct rfl_addr {
    /// 4, 6, or 0 for "no address".
    pub family: u8,
    /// Address octets, network order.
    pub octets: [u8; 16],
}

impl rfl_addr {
    pub(crate) fn from_ip(a: IpAddr) -> Self {
        let mut octets = [0u8; 16];
        match a {
            IpAddr::V4(v4) => {
                if let Some(d) = octets.get_mut(..4) {
                    d.copy_from_slice(&v4.octets());
                }
                rfl_addr { family: 4, octets }
            }
            IpAddr::V6(v6) => rfl_addr {
                family: 6,
                octets: v6.octets(),
            },
        }
    }

    pub(crate) fn to_ip(self, what: &str) -> Result<IpAddr, Fail> {
        match self.family {
            4 => {
                let [a, b, c, d, ..] = self.octets;
                Ok(IpAddr::V4(Ipv4Addr::new(a, b, c, d)))
            }
            6 => Ok(IpAddr::V6(Ipv6Addr::from(self.octets))),
            f => Err(Fail::invalid(format!("{what}: family {f} is not 4 or 6"))),
        }
    }

    pub(crate) fn to_opt_ip(self, what: &str) -> Result<Option<IpAddr>, Fail> {
        if self.family == 0 {
            Ok(None)
        } else {
            self.to_ip(what).map(Some)
        }
    }
}

/// An IP prefix: an address (host bits are ignored) and a length in bits.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct rfl_prefix {
    /// The network address.
    pub addr: rfl_addr,
    /// Prefix length (0..=32 for IPv4, 0..=128 for IPv6).
    pub len: u8,
}

impl rfl_prefix {
    pub(crate) fn from_prefix(p: Prefix) -> Self {
        match p {
            Prefix::V4(v) => rfl_prefix {
                addr: rfl_addr::from_ip(IpAddr::V4(v.addr())),
                len: v.len(),
            },
            Prefix::V6(v) => rfl_prefix {
                addr: rfl_addr::from_ip(IpAddr::V6(v.addr())),
                len: v.len(),
            },
        }
    }

    pub(crate) fn to_prefix(self) -> Result<Prefix, Fail> {
        let bad = || Fail::invalid(format!("prefix length {} out of range", self.len));
        match self.addr.to_ip("prefix")? {
            IpAddr::V4(a) => Ipv4Prefix::new(a, self.len).map(Prefix::V4).ok_or_else(bad),
            IpAddr::V6(a) => Ipv6Prefix::new(a, self.len).map(Prefix::V6).ok_or_else(bad),
        }
    }
}

/// Family bit: IPv4 unicast (1/1).
pub const RFL_FAMILY_IPV4_UNICAST: u32 = 1 << 0;
/// Family bit: IPv4 multicast (1/2).
pub const RFL_FAMILY_IPV4_MULTICAST: u32 = 1 << 1;
/// Family bit: IPv6 unicast (2/1).
pub const RFL_FAMILY_IPV6_UNICAST: u32 = 1 << 2;
/// Family bit: IPv6 multicast (2/2).
pub const RFL_FAMILY_IPV6_MULTICAST: u32 = 1 << 3;
/// Family bit: IPv4 labeled unicast (1/4).
pub const RFL_FAMILY_IPV4_LABELED_UNICAST: u32 = 1 << 4;
/// Family bit: IPv6 labeled unicast (2/4).
pub const RFL_FAMILY_IPV6_LABELED_UNICAST: u32 = 1 << 5;
/// Family bit: VPNv4 (1/128).
pub const RFL_FAMILY_VPNV4: u32 = 1 << 6;
/// Family bit: VPNv6 (2/128).
pub const RFL_FAMILY_VPNV6: u32 = 1 << 7;
/// Family bit: L2VPN EVPN (25/70).
pub const RFL_FAMILY_EVPN: u32 = 1 << 8;
/// Family bit: Route Target constraint (1/132).
pub const RFL_FAMILY_RT_CONSTRAINT: u32 = 1 << 9;
/// Family bit: IPv4 flow specification (1/133).
pub const RFL_FAMILY_IPV4_FLOWSPEC: u32 = 1 << 10;
/// Family bit: IPv6 flow specification (2/133).
pub const RFL_FAMILY_IPV6_FLOWSPEC: u32 = 1 << 11;

pub(crate) const FAMILY_BITS: [(u32, AfiSafi); 12] = [
    (RFL_FAMILY_IPV4_UNICAST, AfiSafi::IPV4_UNICAST),
    (RFL_FAMILY_IPV4_MULTICAST, AfiSafi::IPV4_MULTICAST),
    (RFL_FAMILY_IPV6_UNICAST, AfiSafi::IPV6_UNICAST),
    (RFL_FAMILY_IPV6_MULTICAST, AfiSafi::IPV6_MULTICAST),
    (
        RFL_FAMILY_IPV4_LABELED_UNICAST,
        AfiSafi::new(Afi::IPV4, Safi::LABELED_UNICAST),
    ),
    (
        RFL_FAMILY_IPV6_LABELED_UNICAST,
        AfiSafi::new(Afi::IPV6, Safi::LABELED_UNICAST),
    ),
    (RFL_FAMILY_VPNV4, AfiSafi::new(Afi::IPV4, Safi::MPLS_VPN)),
    (RFL_FAMILY_VPNV6, AfiSafi::new(Afi::IPV6, Safi::MPLS_VPN)),
    (RFL_FAMILY_EVPN, AfiSafi::EVPN),
    (RFL_FAMILY_RT_CONSTRAINT, AfiSafi::RT_CONSTRAINT),
    (RFL_FAMILY_IPV4_FLOWSPEC, AfiSafi::IPV4_FLOWSPEC),
    (RFL_FAMILY_IPV6_FLOWSPEC, AfiSafi::IPV6_FLOWSPEC),
];

pub(crate) fn families_from_bits(bits: u32, what: &str) -> Result<AfiSafiSet, Fail> {
    if bits & !0xfff != 0 {
        return Err(Fail::invalid(format!(
            "{what}: unknown family bits {:#x}",
            bits & !0xfff
        )));
    }
    Ok(FAMILY_BITS
        .iter()
        .filter(|(b, _)| bits & b != 0)
        .fold(AfiSafiSet::EMPTY, |s, (_, f)| s.with(*f)))
}

pub(crate) fn families_to_bits(set: AfiSafiSet) -> u32 {
    FAMILY_BITS
        .iter()
        .filter(|(_, f)| set.contains(*f))
        .fold(0, |acc, (b, _)| acc | b)
}

/// The family bit for an AFI/SAFI pair (0 when it has none).
pub(crate) fn family_bit(f: AfiSafi) -> u32 {
    FAMILY_BITS
        .iter()
        .find(|(_, x)| *x == f)
        .map_or(0, |(b, _)| *b)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    /// The message of the last failing call on this thread.
    pub(crate) fn last_error() -> String {
        let mut buf = [0 as c_char; 512];
        let mut n = 0usize;
        // SAFETY: valid pointers.
        let r = unsafe { rfl_last_error(buf.as_mut_ptr(), buf.len(), &mut n) };
        assert_eq!(r, rfl_result::Ok);
        buf[..n].iter().map(|&c| c as u8 as char).collect()
    }

    #[test]
    fn every_result_code_round_trips_and_has_a_nul_terminated_message() {
        for v in 0..=11u32 {
            let r = rfl_result::from_u32(v).unwrap();
            assert_eq!(r as u32, v);
            let c = r.c_message();
            assert_eq!(c.last(), Some(&0));
            assert_eq!(&c[..c.len() - 1], r.message().as_bytes());
        }
        assert!(rfl_result::from_u32(12).is_none());
    }

    #[test]
    fn abi_1_sizes_are_the_current_sizes_and_start_with_struct_size() {
        use crate::engine::*;
        use crate::session::*;
        fn check<T: Sized_>() {
            assert!(T::MIN_SIZE <= core::mem::size_of::<T>());
            assert!(T::MIN_SIZE >= 8);
        }
        assert_eq!(core::mem::offset_of!(rfl_engine_config, struct_size), 0);
        assert_eq!(core::mem::offset_of!(rfl_peer_config, struct_size), 0);
        assert_eq!(core::mem::offset_of!(rfl_negotiated, struct_size), 0);
        assert_eq!(core::mem::offset_of!(rfl_outcome, struct_size), 0);
        assert_eq!(core::mem::offset_of!(rfl_peer_counters, struct_size), 0);
        assert_eq!(core::mem::offset_of!(rfl_memory_stats, struct_size), 0);
        assert_eq!(core::mem::offset_of!(rfl_event, struct_size), 0);
        assert_eq!(core::mem::offset_of!(rfl_session_config, struct_size), 0);
        assert_eq!(core::mem::offset_of!(rfl_session_event, struct_size), 0);
        check::<rfl_engine_config>();
        check::<rfl_peer_config>();
        check::<rfl_negotiated>();
        check::<rfl_outcome>();
        check::<rfl_peer_counters>();
        check::<rfl_memory_stats>();
        check::<rfl_event>();
        check::<rfl_session_config>();
        check::<rfl_session_event>();
    }

    #[test]
    fn a_smaller_struct_keeps_defaults_and_a_larger_one_must_be_zero_past_our_size() {
        use crate::engine::*;
        let mut big = [0u64; 16];
        let p = big.as_mut_ptr().cast::<rfl_engine_config>();
        // SAFETY: 128 writable, aligned bytes.
        unsafe {
            assert_eq!(rfl_engine_config_init(65000, 1, p, 128), rfl_result::Ok);
            assert_eq!((*p).struct_size, 128);
            assert_eq!((*p).default_local_pref, 100);
            let mut e = core::ptr::null_mut();
            assert_eq!(rfl_engine_new(p, &mut e), rfl_result::Ok);
            assert_eq!(rfl_engine_free(e), rfl_result::Ok);
            p.cast::<u8>().add(80).write(1);
            assert_eq!(rfl_engine_new(p, &mut e), rfl_result::InvalidParameter);
            assert_eq!(
                rfl_engine_config_init(65000, 1, p, 8),
                rfl_result::InvalidParameter
            );
            (*p).struct_size = 0;
            assert_eq!(rfl_engine_new(p, &mut e), rfl_result::InvalidParameter);
        }
    }

    #[test]
    fn family_bits_round_trip() {
        for bits in [
            0u32,
            1,
            5,
            0xff,
            0xfff,
            RFL_FAMILY_VPNV6 | RFL_FAMILY_IPV4_UNICAST,
            RFL_FAMILY_EVPN | RFL_FAMILY_RT_CONSTRAINT | RFL_FAMILY_IPV6_FLOWSPEC,
        ] {
            assert_eq!(
                families_to_bits(families_from_bits(bits, "x").unwrap()),
                bits
            );
        }
        assert!(families_from_bits(0x1000, "x").is_err());
    }
}

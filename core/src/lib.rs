//! Reflector's core: the BGP wire codec, RIBs, best-path decision, RFC 4456
//! route reflection and a sans-IO session state machine.
//!
//! With no features the crate parses and validates every message on borrowed
//! bytes and encodes into caller buffers without an allocator. The `alloc`
//! feature (default) adds owned message representations, the RIB and the
//! engine; `std` adds `std::error::Error` implementations.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

#[cfg(feature = "alloc")]
pub mod decision;
#[cfg(feature = "alloc")]
pub mod engine;
pub mod error;
#[cfg(feature = "alloc")]
pub mod framer;
pub mod mrt;
#[cfg(feature = "alloc")]
pub mod policy;
#[cfg(feature = "alloc")]
pub mod reflect;
#[cfg(feature = "alloc")]
pub mod rib;
#[cfg(feature = "alloc")]
pub mod session;
pub mod wire;

pub use error::{Action, Error, ErrorKind, Result};

//! Reflector in the browser: the Calico cluster simulator compiled to WebAssembly.
//!
//! [`model::Sim`] is the state and logic in plain Rust (testable natively);
//! [`js::Simulator`] is the wasm-bindgen class JavaScript sees. Every route
//! in the simulator is computed by real Reflector engines exchanging real BGP
//! bytes; this crate only exposes them.

pub mod decode;
pub mod engine;
pub mod js;
pub mod js_wire;
pub mod model;
pub mod sim_types;
mod yaml;

pub use model::Sim;

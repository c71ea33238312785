//! Loaders for the shared MRT dumps and packet captures used by tests and benchmarks.
pub mod mrt;
pub mod pcap;

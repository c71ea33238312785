//! Calico cluster simulator over Reflector engines.
//!
//! Reads the resources Calico users write ([`Cluster`]; every field and what
//! it does in [`fields`]), evaluates Calico
//! selector expressions ([`selector`]), plans the BGP sessions calico/node
//! would open ([`plan`]), points out common configuration mistakes
//! ([`lint`]), hands out pod address blocks ([`ipam`]), renders what
//! `calicoctl node status` would print ([`render`]), generates large
//! clusters ([`generate`]), and runs one Reflector engine per node over
//! in-memory links carrying real BGP bytes ([`network`]) with calico/node's
//! BIRD filters, ADD-PATH and service routes ([`routes`]), and asks what
//! happens when nodes or sessions fail or the configuration changes step by
//! step ([`whatif`]).

pub mod bird;
pub mod error;
pub mod fields;
pub mod generate;
pub mod ipam;
pub mod lint;
pub mod network;
pub mod plan;
pub mod render;
pub mod resources;
pub mod routes;
pub mod selector;
pub mod whatif;
pub mod workloads;

pub use error::Error;
pub use network::Network;
pub use plan::{PeerRole, PeerType, Plan, Session};
pub use resources::{BgpConfiguration, BgpPeer, Cluster, Node, Note, Severity};
pub use selector::Selector;

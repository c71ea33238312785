//! What the configuration makes of a peer: its session's settings, the
//! engine's, and the RFC 8212 warnings for eBGP peers without policies.

use std::net::{IpAddr, SocketAddr};

use reflector_core::engine::{self, PeerConfig};
use reflector_core::policy::Policy;
use reflector_core::reflect::Role;
use reflector_core::session::SessionConfig;
use reflector_core::wire::capability::{AddPathFamily, GracefulRestartFamily};
use tracing::warn;

use crate::serve::config::{Config, PeerSpec};

/// A peer as the engine task sets it up.
pub(super) struct PeerSetup {
    pub(super) name: String,
    pub(super) config: PeerConfig,
    pub(super) import: Option<Policy>,
    pub(super) export: Option<Policy>,
}

impl PeerSetup {
    pub(super) fn new(cfg: &Config, p: &PeerSpec) -> Self {
        PeerSetup {
            name: p.name.clone(),
            config: peer_config(cfg, p),
            import: p.import.clone(),
            export: p.export.clone(),
        }
    }
}

/// The session state machine's configuration for a peer.
pub(crate) fn session_config(cfg: &Config, p: &PeerSpec) -> SessionConfig {
    let mut s = SessionConfig::new(p.local_as.unwrap_or(cfg.asn), cfg.router_id, Some(p.asn));
    // The daemon makes one session per TCP connection, already connected.
    s.passive = true;
    s.hold_time = p.hold_time;
    s.families = p.families.clone();
    s.role = p.local_role;
    s.strict_role = p.strict_role;
    s.extended_next_hop = p.extended_next_hop;
    if cfg.graceful_restart_deferral.is_some() {
        // RFC 4724 §3, a restarting speaker: the peers keep our routes of
        // these families while we restart (a reflector forwards nothing, so
        // its forwarding state is always preserved).
        s.graceful_restart_families = p
            .families
            .iter()
            .map(|f| GracefulRestartFamily {
                afi_safi: *f,
                flags: 0x80,
            })
            .collect();
        s.graceful_restart_restarting = true;
    }
    let flags =
        u8::from(p.add_path_receive) | (u8::from(p.add_path_send != engine::AddPathSend::Off) << 1);
    if flags != 0 {
        s.add_path = p
            .families
            .iter()
            .map(|f| AddPathFamily {
                afi_safi: *f,
                send_receive: flags,
            })
            .collect();
    }
    s
}

fn peer_config(cfg: &Config, p: &PeerSpec) -> PeerConfig {
    let mut pc = PeerConfig::new(p.role, p.address, p.asn);
    pc.add_path_send = p.add_path_send;
    pc.max_prefixes_ipv4 = p.limits.max_prefixes_ipv4;
    pc.max_prefixes_ipv6 = p.limits.max_prefixes_ipv6;
    pc.max_paths_per_prefix = p.limits.max_paths_per_prefix;
    pc.max_attr_bytes = p.limits.max_attr_bytes;
    pc.allow_own_as = p.allow_own_as;
    pc.next_hop_unchanged = p.next_hop_unchanged;
    pc.local_as = p.local_as;
    let locals = p
        .local_address
        .into_iter()
        .chain(cfg.listen.iter().map(SocketAddr::ip))
        .filter(|a| !a.is_unspecified());
    for a in locals {
        match a {
            IpAddr::V4(v4) if pc.local_v4.is_none() => pc.local_v4 = Some(v4),
            IpAddr::V6(v6) if pc.local_v6.is_none() => pc.local_v6 = Some(v6),
            _ => {}
        }
    }
    pc
}

/// Log RFC 8212's effect on eBGP peers without policies.
pub(super) fn note_default_deny<'a>(cfg: &Config, peers: impl IntoIterator<Item = &'a PeerSpec>) {
    if !cfg.ebgp_requires_policy {
        return;
    }
    for p in peers.into_iter().filter(|p| p.role == Role::Ebgp) {
        if p.import.is_none() {
            warn!(peer = %p.name, "eBGP peer without an import policy: its routes are rejected (RFC 8212; set `import`, or `ebgp_requires_policy = false`)");
        }
        if p.export.is_none() {
            warn!(peer = %p.name, "eBGP peer without an export policy: it is sent nothing (RFC 8212; set `export`, or `ebgp_requires_policy = false`)");
        }
    }
}

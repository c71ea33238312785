//! Reloading the configuration (SIGHUP): what changed between the running
//! configuration and the new one, peer by peer.
//!
//! Peers are matched by address. A peer whose policies alone changed keeps
//! its session: the new policies are applied to it live. A peer with any
//! other setting changed is stopped (Cease, Other Configuration Change) and
//! comes back as a new peer with the new settings; a peer no longer listed
//! is stopped (Cease, Peer De-configured); a new one is added. Global
//! settings (AS, router ID, cluster ID, listen addresses, client-to-client
//! reflection, connect retry, `ebgp_requires_policy`, `restarting_speaker`, `[[bmp]]`) need a restart: a
//! reload that changes one is refused, and the running configuration stays.

use reflector_core::policy::Policy;

use super::config::{Config, ConfigError, PeerSpec};

/// Why a peer's session is stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stop {
    /// No longer configured: Cease, Peer De-configured (RFC 4486 subcode 3).
    Deconfigured,
    /// Settings other than its policies changed: Cease, Other Configuration
    /// Change (subcode 6); it comes back as a new peer.
    Changed,
}

/// New policies for a peer that keeps its session (`Some`: this direction changed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PolicyChange {
    /// The peer's slot.
    pub slot: usize,
    /// The new import policy, when it changed.
    pub import: Option<Option<Policy>>,
    /// The new export policy, when it changed.
    pub export: Option<Option<Policy>>,
    /// The peer's new configuration.
    pub spec: PeerSpec,
}

/// What a reload does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Plan {
    /// Slots whose session ends, and why.
    pub stop: Vec<(usize, Stop)>,
    /// Peers to add (new ones, and changed ones again), each in a new slot.
    pub add: Vec<PeerSpec>,
    /// Peers whose policies changed.
    pub policies: Vec<PolicyChange>,
}

impl Plan {
    /// Whether the reload changes nothing.
    pub fn is_empty(&self) -> bool {
        self.stop.is_empty() && self.add.is_empty() && self.policies.is_empty()
    }
}

fn restart_needed(field: &str) -> ConfigError {
    ConfigError {
        field: field.into(),
        message: "changed: global settings take effect on restart; the running configuration stays"
            .into(),
    }
}

/// Compare the running configuration (`old` for the globals, `slots` for the
/// peers, a slot per peer ever configured, `None` once removed) with `new`.
pub(super) fn plan(
    old: &Config,
    slots: &[Option<PeerSpec>],
    new: &Config,
) -> Result<Plan, ConfigError> {
    if old.router_id != new.router_id {
        return Err(restart_needed("router_id"));
    }
    if old.asn != new.asn {
        return Err(restart_needed("asn"));
    }
    if old.cluster_id.unwrap_or(old.router_id) != new.cluster_id.unwrap_or(new.router_id) {
        return Err(restart_needed("cluster_id"));
    }
    if old.listen != new.listen {
        return Err(restart_needed("listen"));
    }
    if old.client_to_client != new.client_to_client {
        return Err(restart_needed("client_to_client"));
    }
    if old.connect_retry != new.connect_retry {
        return Err(restart_needed("connect_retry"));
    }
    if old.ebgp_requires_policy != new.ebgp_requires_policy {
        return Err(restart_needed("ebgp_requires_policy"));
    }
    if old.graceful_restart_deferral != new.graceful_restart_deferral {
        return Err(restart_needed("restarting_speaker"));
    }
    if old.bmp != new.bmp {
        return Err(restart_needed("bmp"));
    }
    let mut out = Plan::default();
    for (slot, spec) in slots.iter().enumerate() {
        let Some(spec) = spec else { continue };
        match new.peers.iter().find(|p| p.address == spec.address) {
            None => out.stop.push((slot, Stop::Deconfigured)),
            Some(p) if !p.same_session(spec) => {
                out.stop.push((slot, Stop::Changed));
                out.add.push(p.clone());
            }
            Some(p) => {
                let import = (p.import != spec.import).then(|| p.import.clone());
                let export = (p.export != spec.export).then(|| p.export.clone());
                if import.is_some() || export.is_some() {
                    out.policies.push(PolicyChange {
                        slot,
                        import,
                        export,
                        spec: p.clone(),
                    });
                }
            }
        }
    }
    for p in &new.peers {
        let known = slots.iter().flatten().any(|s| s.address == p.address);
        if !known {
            out.add.push(p.clone());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    const BASE: &str = r#"router_id = "10.0.0.1"
asn = 64512
listen = ["127.0.0.1:1179"]

[[policy]]
name = "a"
default = "accept"

[[policy]]
name = "b"
default = "reject"
"#;

    fn cfg(peers: &str) -> Config {
        Config::from_toml(&format!("{BASE}{peers}")).unwrap()
    }

    fn slots(c: &Config) -> Vec<Option<PeerSpec>> {
        c.peers.iter().cloned().map(Some).collect()
    }

    const P1: &str = "[[peer]]\naddress = \"127.0.0.2\"\nasn = 64512\nrole = \"client\"\n";
    const P2: &str = "[[peer]]\naddress = \"127.0.0.3\"\nasn = 65000\nrole = \"ebgp\"\nimport = \"a\"\nexport = \"a\"\n";

    #[test]
    fn nothing_changed() {
        let c = cfg(&format!("{P1}{P2}"));
        assert!(plan(&c, &slots(&c), &c).unwrap().is_empty());
    }

    #[test]
    fn policy_only_keeps_the_session() {
        let old = cfg(&format!("{P1}{P2}"));
        let new = cfg(&format!(
            "{P1}{}",
            P2.replace("export = \"a\"", "export = [\"a\", \"b\"]")
        ));
        let p = plan(&old, &slots(&old), &new).unwrap();
        assert!(p.stop.is_empty() && p.add.is_empty());
        assert_eq!(p.policies.len(), 1);
        assert_eq!(p.policies[0].slot, 1);
        assert_eq!(p.policies[0].import, None);
        let export = p.policies[0].export.clone().unwrap().unwrap();
        assert_eq!(export.name, "a+b");
        // An import policy set on a peer that had none.
        let new = cfg(&format!(
            "{}{P2}",
            P1.replace("role", "import = \"b\"\nrole")
        ));
        let p = plan(&old, &slots(&old), &new).unwrap();
        assert_eq!(p.policies[0].slot, 0);
        assert_eq!(p.policies[0].import.clone().unwrap().unwrap().name, "b");
        assert_eq!(p.policies[0].export, None);
    }

    #[test]
    fn other_settings_removed_and_added_peers() {
        let old = cfg(&format!("{P1}{P2}"));
        let p3 = "[[peer]]\naddress = \"127.0.0.4\"\nasn = 64512\nrole = \"non-client\"\n";
        let new = cfg(&format!("{}{p3}", P1.replace("client", "non-client")));
        let p = plan(&old, &slots(&old), &new).unwrap();
        assert_eq!(p.stop, vec![(0, Stop::Changed), (1, Stop::Deconfigured)]);
        let added: Vec<String> = p.add.iter().map(|s| s.address.to_string()).collect();
        assert_eq!(added, ["127.0.0.2", "127.0.0.4"]);
        assert!(p.policies.is_empty());
        // Removed slots stay empty and are not compared again.
        let mut s = slots(&old);
        s[1] = None;
        let p = plan(&old, &s, &cfg(P1)).unwrap();
        assert!(p.is_empty());
    }

    #[test]
    fn global_changes_are_refused() {
        let old = cfg(P1);
        for (from, to, field) in [
            ("asn = 64512\n", "asn = 64513\n", "asn"),
            ("10.0.0.1", "10.0.0.2", "router_id"),
            ("1179", "1180", "listen"),
        ] {
            let new = Config::from_toml(&format!(
                "{}{}",
                BASE.replacen(from, to, 1),
                P1.replace("64512", if field == "asn" { "64513" } else { "64512" })
            ))
            .unwrap();
            let e = plan(&old, &slots(&old), &new).unwrap_err();
            assert_eq!(e.field, field);
        }
        let new = Config::from_toml(&format!("ebgp_requires_policy = false\n{BASE}{P1}")).unwrap();
        assert_eq!(
            plan(&old, &slots(&old), &new).unwrap_err().field,
            "ebgp_requires_policy"
        );
        let new = Config::from_toml(&format!("restarting_speaker = true\n{BASE}{P1}")).unwrap();
        assert_eq!(
            plan(&old, &slots(&old), &new).unwrap_err().field,
            "restarting_speaker"
        );
    }
}

//! Calico resources for `reflector serve`: session passwords from
//! `password.secretKeyRef`, GTSM from `ttlSecurity`, and warnings for fields
//! Reflector does not know.
//!
//! A `BGPPeer`'s `spec.password.secretKeyRef {name, key}` (and the default
//! `BGPConfiguration`'s `spec.nodeMeshPassword.secretKeyRef`, for mesh
//! sessions) names a Kubernetes Secret. `reflector serve --secrets DIR`
//! reads it from `DIR/<secret name>/<key>`: the layout of each Secret
//! mounted as a volume at `DIR/<secret name>` (one file per key). The value
//! is used as it is, as calico/node does. A password that is referenced by
//! a session of this node but cannot be read (no `--secrets`, or no such
//! file) is an error naming the Secret, the key and the resource — never
//! a session without its password. `spec.ttlSecurity: N` on a `BGPPeer`
//! turns on GTSM for its sessions (`gtsm_hops = N`).
//!
//! Every field of a `Node`, `BGPPeer`, `BGPConfiguration` or `IPPool`
//! (`projectcalico.org/v3`) that is not in Calico's API is a warning
//! naming it (a typo Calico would also ignore); fields of Calico's API that
//! `reflector serve` does not apply (e.g. `BGPPeer.spec.filters`) are
//! notes. Kubernetes `v1` Node objects are not checked.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use reflector_sim::{Note, Severity};
use serde_yaml::Value;

use super::config::{check_password, ConfigError, PeerSecurity, Secret};

/// A `secretKeyRef`: where a password is, and who asked for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRef {
    /// The Secret's name.
    pub name: String,
    /// The key in it.
    pub key: String,
    /// The resource and field that reference it (`BGPPeer/x spec.password.secretKeyRef`).
    pub origin: String,
}

/// What Reflector reads from Calico resources beyond the simulator's model.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    /// Per `BGPPeer` name: its password reference.
    pub peer_passwords: HashMap<String, SecretRef>,
    /// Per `BGPPeer` name: its `ttlSecurity` hops.
    pub peer_ttl_security: HashMap<String, u8>,
    /// The mesh password (`BGPConfiguration` `default`, `nodeMeshPassword`).
    pub mesh_password: Option<SecretRef>,
    /// Unknown and unapplied fields.
    pub notes: Vec<Note>,
}

fn err(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError {
        field: field.into(),
        message: message.into(),
    }
}

/// Read the password a reference points to, from `DIR/<name>/<key>`.
pub fn resolve(r: &SecretRef, dir: Option<&Path>) -> Result<Secret, ConfigError> {
    let field = r.origin.clone();
    let Some(dir) = dir else {
        return Err(err(
            field,
            format!(
                "the password is in Secret `{}` key `{}`: give --secrets DIR with the Secret mounted at DIR/{}/{}",
                r.name, r.key, r.name, r.key
            ),
        ));
    };
    let bad = |s: &str| s.is_empty() || s == "." || s == ".." || s.contains('/');
    if bad(&r.name) || bad(&r.key) {
        return Err(err(
            field,
            format!(
                "Secret name `{}` or key `{}` is not a plain name",
                r.name, r.key
            ),
        ));
    }
    let path: PathBuf = dir.join(&r.name).join(&r.key);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        err(
            field.clone(),
            format!(
                "cannot read Secret `{}` key `{}` at {}: {e}",
                r.name,
                r.key,
                path.display()
            ),
        )
    })?;
    check_password(&field, &text)
}

/// The TCP-MD5 and GTSM settings of a session configured by `sources`: the
/// first password among its BGPPeers (or the mesh's), read now; the
/// smallest `ttlSecurity` among its BGPPeers.
pub fn security(
    cluster: &reflector_sim::Cluster,
    x: &Extras,
    sources: &[reflector_sim::plan::Source],
    dir: Option<&Path>,
) -> Result<PeerSecurity, ConfigError> {
    use reflector_sim::plan::Source;
    let mut out = PeerSecurity::default();
    for s in sources {
        let (r, ttl) = match s {
            Source::Mesh => (x.mesh_password.as_ref(), None),
            Source::BgpPeer(k) => {
                let Some(p) = cluster.bgp_peers.get(*k) else {
                    continue;
                };
                (
                    x.peer_passwords.get(&p.name),
                    x.peer_ttl_security.get(&p.name).copied(),
                )
            }
        };
        if let (Some(r), None) = (r, &out.password) {
            out.password = Some(resolve(r, dir)?);
        }
        if let Some(t) = ttl {
            out.gtsm_hops = Some(out.gtsm_hops.map_or(t, |h| h.min(t)));
        }
    }
    Ok(out)
}

/// Scan the YAML files of `path` (a file or a folder's `.yaml`/`.yml`
/// files) for password references, `ttlSecurity` and unknown fields.
pub fn scan(path: &Path) -> Extras {
    let mut files = Vec::new();
    if path.is_dir() {
        if let Ok(rd) = std::fs::read_dir(path) {
            for e in rd.flatten() {
                let p = e.path();
                let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
                if p.is_file() && matches!(ext, "yaml" | "yml") {
                    files.push(p);
                }
            }
        }
        files.sort();
    } else {
        files.push(path.to_path_buf());
    }
    let mut x = Extras::default();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        // The simulator reports YAML errors; here, documents that do not parse are skipped.
        for doc in serde_yaml::Deserializer::from_str(&text) {
            if let Ok(v) = <Value as serde::Deserialize>::deserialize(doc) {
                x.object(&v);
            }
        }
    }
    x
}

const TOP: &[&str] = &["apiVersion", "kind", "metadata", "spec", "status"];
const METADATA: &[&str] = &[
    "name",
    "namespace",
    "labels",
    "annotations",
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generation",
    "generateName",
    "managedFields",
    "ownerReferences",
    "finalizers",
    "selfLink",
];
/// BGPPeer spec fields Reflector applies, then those of Calico's API it does not.
const PEER_USED: &[&str] = &[
    "node",
    "peerIP",
    "asNumber",
    "nodeSelector",
    "peerSelector",
    "keepOriginalNextHop",
    "password",
    "ttlSecurity",
];
const PEER_UNUSED: &[&str] = &[
    "sourceAddress",
    "maxRestartTime",
    "numAllowedLocalASNumbers",
    "filters",
    "reachableBy",
    "localWorkloadSelector",
    "reversePeering",
    "nextHopMode",
];
const CONF_USED: &[&str] = &[
    "logSeverityScreen",
    "nodeToNodeMeshEnabled",
    "asNumber",
    "listenPort",
    "nodeMeshPassword",
];
const CONF_UNUSED: &[&str] = &[
    "serviceClusterIPs",
    "serviceExternalIPs",
    "serviceLoadBalancerIPs",
    "communities",
    "prefixAdvertisements",
    "bindMode",
    "ignoredInterfaces",
    "nodeMeshMaxRestartTime",
    "localWorkloadPeeringIPV4",
    "localWorkloadPeeringIPV6",
    "programClusterRoutes",
];
const NODE_SPEC: &[&str] = &[
    "bgp",
    "ipv4VXLANTunnelAddr",
    "vxlanTunnelMACAddr",
    "ipv6VXLANTunnelAddr",
    "vxlanTunnelMACAddrV6",
    "orchRefs",
    "wireguard",
    "addresses",
];
const NODE_BGP: &[&str] = &[
    "asNumber",
    "ipv4Address",
    "ipv6Address",
    "ipv4IPIPTunnelAddr",
    "routeReflectorClusterID",
];
const POOL_SPEC: &[&str] = &[
    "cidr",
    "vxlanMode",
    "ipipMode",
    "natOutgoing",
    "disabled",
    "disableBGPExport",
    "nodeSelector",
    "blockSize",
    "allowedUses",
    "assignmentMode",
    "ipip",
    "nat-outgoing",
];
const SECRET_REF: &[&str] = &["name", "key", "optional"];

fn keys(v: &Value) -> Vec<String> {
    v.as_mapping()
        .map(|m| {
            m.keys()
                .map(|k| match k {
                    Value::String(s) => s.clone(),
                    other => serde_yaml::to_string(other)
                        .unwrap_or_default()
                        .trim()
                        .to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn str_of<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

impl Extras {
    fn note(&mut self, severity: Severity, resource: &str, field: String, message: &str) {
        self.notes.push(Note {
            severity,
            resource: resource.to_string(),
            field,
            message: message.to_string(),
        });
    }

    fn check(&mut self, resource: &str, at: &str, v: &Value, used: &[&str], unused: &[&str]) {
        for k in keys(v) {
            let field = if at.is_empty() {
                k.clone()
            } else {
                format!("{at}.{k}")
            };
            if used.contains(&k.as_str()) {
                continue;
            }
            if unused.contains(&k.as_str()) {
                self.note(
                    Severity::Info,
                    resource,
                    field,
                    "part of Calico's API, not applied by reflector serve",
                );
            } else {
                self.note(
                    Severity::Warning,
                    resource,
                    field,
                    "unknown field: not in Calico's API, ignored",
                );
            }
        }
    }

    fn secret_ref(&mut self, resource: &str, at: &str, v: &Value) -> Option<SecretRef> {
        let r = v.get("secretKeyRef")?;
        self.check(resource, at, v, &["secretKeyRef"], &[]);
        self.check(resource, &format!("{at}.secretKeyRef"), r, SECRET_REF, &[]);
        Some(SecretRef {
            name: str_of(r, "name").unwrap_or("").to_string(),
            key: str_of(r, "key").unwrap_or("").to_string(),
            origin: format!("{resource}.{at}.secretKeyRef"),
        })
    }

    fn object(&mut self, v: &Value) {
        let kind = str_of(v, "kind").unwrap_or("");
        if kind.ends_with("List") {
            if let Some(items) = v.get("items").and_then(Value::as_sequence) {
                for i in items {
                    self.object(i);
                }
            }
            return;
        }
        // Kubernetes v1 Nodes carry Kubernetes' own fields.
        if str_of(v, "apiVersion") == Some("v1") {
            return;
        }
        let name = v
            .get("metadata")
            .and_then(|m| str_of(m, "name"))
            .unwrap_or("");
        let resource = format!("{kind}/{name}");
        let known = matches!(kind, "Node" | "BGPPeer" | "BGPConfiguration" | "IPPool");
        if !known {
            return;
        }
        self.check(&resource, "", v, TOP, &[]);
        if let Some(m) = v.get("metadata") {
            self.check(&resource, "metadata", m, METADATA, &[]);
        }
        let Some(spec) = v.get("spec") else { return };
        match kind {
            "BGPPeer" => {
                self.check(&resource, "spec", spec, PEER_USED, PEER_UNUSED);
                if let Some(p) = spec.get("password") {
                    if let Some(r) = self.secret_ref(&resource, "spec.password", p) {
                        self.peer_passwords.insert(name.to_string(), r);
                    }
                }
                if let Some(t) = spec.get("ttlSecurity").and_then(Value::as_u64) {
                    if let Ok(h) = u8::try_from(t) {
                        if (1..=254).contains(&h) {
                            self.peer_ttl_security.insert(name.to_string(), h);
                        }
                    }
                }
            }
            "BGPConfiguration" => {
                self.check(&resource, "spec", spec, CONF_USED, CONF_UNUSED);
                if name == "default" {
                    if let Some(p) = spec.get("nodeMeshPassword") {
                        self.mesh_password = self.secret_ref(&resource, "spec.nodeMeshPassword", p);
                    }
                }
            }
            "Node" => {
                self.check(&resource, "spec", spec, NODE_SPEC, &[]);
                if let Some(b) = spec.get("bgp") {
                    self.check(&resource, "spec.bgp", b, NODE_BGP, &[]);
                }
            }
            _ => self.check(&resource, "spec", spec, POOL_SPEC, &[]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extras(yaml: &str) -> Extras {
        let mut x = Extras::default();
        for doc in serde_yaml::Deserializer::from_str(yaml) {
            x.object(&<Value as serde::Deserialize>::deserialize(doc).unwrap());
        }
        x
    }

    #[test]
    fn password_reference_ttl_security_and_unknown_fields() {
        let x = extras(
            r#"apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: to-rr}
spec:
  peerSelector: has(route-reflector)
  password:
    secretKeyRef: {name: bgp-secrets, key: rr-password}
  ttlSecurity: 1
  sourceAdress: None
  filters: [x]
---
apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: n1}
spec:
  bgp: {ipv4Address: 10.0.0.1/24, routeReflectorClusterId: 1.1.1.1}
"#,
        );
        let r = &x.peer_passwords["to-rr"];
        assert_eq!(
            (r.name.as_str(), r.key.as_str()),
            ("bgp-secrets", "rr-password")
        );
        assert_eq!(r.origin, "BGPPeer/to-rr.spec.password.secretKeyRef");
        assert_eq!(x.peer_ttl_security["to-rr"], 1);
        let warn: Vec<(String, String)> = x
            .notes
            .iter()
            .filter(|n| n.severity == Severity::Warning)
            .map(|n| (n.resource.clone(), n.field.clone()))
            .collect();
        assert_eq!(
            warn,
            vec![
                ("BGPPeer/to-rr".to_string(), "spec.sourceAdress".to_string()),
                (
                    "Node/n1".to_string(),
                    "spec.bgp.routeReflectorClusterId".to_string()
                ),
            ]
        );
        assert!(x
            .notes
            .iter()
            .any(|n| n.severity == Severity::Info && n.field == "spec.filters"));
    }

    #[test]
    fn resolve_reads_dir_secret_key_and_names_what_is_missing() {
        let dir = std::env::temp_dir().join(format!("reflector-secrets-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("bgp-secrets")).unwrap();
        std::fs::write(dir.join("bgp-secrets/rr-password"), "hunter2").unwrap();
        let r = SecretRef {
            name: "bgp-secrets".into(),
            key: "rr-password".into(),
            origin: "BGPPeer/x.spec.password.secretKeyRef".into(),
        };
        assert_eq!(resolve(&r, Some(&dir)).unwrap().0, "hunter2");
        let e = resolve(&r, None).unwrap_err();
        assert_eq!(e.field, "BGPPeer/x.spec.password.secretKeyRef");
        assert!(e.message.contains("bgp-secrets") && e.message.contains("--secrets"));
        let missing = SecretRef {
            key: "nope".into(),
            ..r.clone()
        };
        let e = resolve(&missing, Some(&dir)).unwrap_err();
        assert!(
            e.message.contains("`bgp-secrets` key `nope`"),
            "{}",
            e.message
        );
        let sneaky = SecretRef {
            name: "..".into(),
            ..r
        };
        assert!(resolve(&sneaky, Some(&dir)).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}

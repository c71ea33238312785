//! The daemon's configuration: Reflector's own TOML, or the rr-bench JSON peer list
//! (Calico resources are in [`super::calico`]).

use std::collections::HashSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;

use reflector_core::engine::{AddPathSend, PrefixLimit};
use reflector_core::policy::Policy;
use reflector_core::reflect::Role;
use reflector_core::wire::capability::BgpRole;
use reflector_core::wire::AfiSafi;
use serde::Deserialize;

use super::policy::{self, OneOrMany, TomlPolicy, TomlSets};

/// A configuration error, naming the field it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The field (`asn`, `peer[2].address`, ...), or empty for a syntax error.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "field `{}`: {}", self.field, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

fn err(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError {
        field: field.into(),
        message: message.into(),
    }
}

/// One configured neighbour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerSpec {
    /// A name for logs.
    pub name: String,
    /// The neighbour's address (connections from it are matched by this address).
    pub address: IpAddr,
    /// The neighbour's AS.
    pub asn: u32,
    /// Client, non-client or eBGP.
    pub role: Role,
    /// Only accept connections; never connect.
    pub passive: bool,
    /// TCP port to connect to (active peers).
    pub port: u16,
    /// Source address for outgoing connections.
    pub local_address: Option<IpAddr>,
    /// Hold time to propose (seconds).
    pub hold_time: u16,
    /// Families to advertise.
    pub families: Vec<AfiSafi>,
    /// Advertise ADD-PATH receive for the families.
    pub add_path_receive: bool,
    /// ADD-PATH sending policy (advertised as send when not `Off`).
    pub add_path_send: AddPathSend,
    /// Our BGP Role toward this eBGP peer (RFC 9234): advertised, checked, and OTC applied.
    pub local_role: Option<BgpRole>,
    /// Refuse the session when the peer sends no BGP Role (needs `local_role`).
    pub strict_role: bool,
    /// Advertise extended next hop (RFC 8950): IPv4 unicast routes with IPv6 next hops.
    pub extended_next_hop: bool,
    /// How many times our AS may be in the AS_PATH of its routes (eBGP; 0: none, the RFC 4271 loop check).
    pub allow_own_as: u8,
    /// Send it routes with their next hop unchanged, not ours (eBGP; a third-party next hop).
    pub next_hop_unchanged: bool,
    /// The AS we use on this session instead of the daemon's (`None`: that one).
    pub local_as: Option<u32>,
    /// What the peer may send at most.
    pub limits: PeerLimits,
    /// Policy applied to the routes it sends us (its `import` list, composed).
    pub import: Option<Policy>,
    /// Policy applied to the routes we send it (its `export` list, composed).
    pub export: Option<Policy>,
    /// TCP-MD5 and GTSM for its connections (see `sock.rs`).
    pub security: PeerSecurity,
}

/// Session security of one peer: TCP-MD5 (RFC 2385) and GTSM (RFC 5082).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PeerSecurity {
    /// The TCP-MD5 key (`password` or the contents of `password_file`).
    pub password: Option<Secret>,
    /// GTSM: the peer is at most this many hops away (1 for `ttl_security = true`);
    /// we send with TTL 255 and require a received TTL of at least 256 - hops.
    pub gtsm_hops: Option<u8>,
}

/// A password: compared and cloned like a string, never printed by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Longest TCP-MD5 key the kernel takes (TCP_MD5SIG_MAXKEYLEN).
pub const MAX_PASSWORD: usize = 80;

/// Check a TCP-MD5 key for `field`: 1 to [`MAX_PASSWORD`] bytes.
pub fn check_password(field: &str, pw: &str) -> Result<Secret, ConfigError> {
    if pw.is_empty() || pw.len() > MAX_PASSWORD {
        return Err(err(
            field,
            format!(
                "a TCP-MD5 password has 1 to {MAX_PASSWORD} bytes (this one has {})",
                pw.len()
            ),
        ));
    }
    Ok(Secret(pw.to_string()))
}

/// A BMP collector to stream to (RFC 7854).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BmpSpec {
    /// The collector's address and port.
    pub address: SocketAddr,
    /// Seconds between Statistics Reports (0: none).
    pub statistics_interval: u32,
    /// Messages queued for the collector, at most; more are dropped and counted.
    pub queue: usize,
    /// Also stream each peer's post-policy Adj-RIB-Out (RFC 8671): the UPDATEs sent to it.
    pub adj_rib_out: bool,
}

impl PeerSpec {
    /// Whether everything but the policies is the same (a reload then keeps the session).
    pub fn same_session(&self, other: &PeerSpec) -> bool {
        let strip = |p: &PeerSpec| PeerSpec {
            import: None,
            export: None,
            ..p.clone()
        };
        strip(self) == strip(other)
    }
}

/// What one peer may send at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PeerLimits {
    /// IPv4 unicast prefixes accepted at once.
    pub max_prefixes_ipv4: Option<PrefixLimit>,
    /// IPv6 unicast prefixes accepted at once.
    pub max_prefixes_ipv6: Option<PrefixLimit>,
    /// After a prefix limit ended the session, refuse the peer's connections
    /// (and do not connect to it) for this many seconds.
    pub restart_after: Option<u16>,
    /// ADD-PATH paths per prefix; more are refused.
    pub max_paths_per_prefix: Option<u16>,
    /// Bytes of attribute sets the peer's routes may create; routes past it are refused.
    pub max_attr_bytes: Option<u64>,
}

/// The daemon's whole configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Our BGP identifier.
    pub router_id: Ipv4Addr,
    /// Our AS.
    pub asn: u32,
    /// Our cluster ID (default: the router ID).
    pub cluster_id: Option<Ipv4Addr>,
    /// Addresses to listen on.
    pub listen: Vec<SocketAddr>,
    /// Reflect between clients.
    pub client_to_client: bool,
    /// Seconds between connection attempts to active peers.
    pub connect_retry: u16,
    /// RFC 8212: an eBGP peer without an import policy has its routes
    /// rejected, one without an export policy is sent nothing (default true).
    pub ebgp_requires_policy: bool,
    /// RFC 4684: send clients with RT membership the default membership (default true).
    pub rtc_default_to_clients: bool,
    /// RFC 4724 restarting speaker (`restarting_speaker = true`): our
    /// graceful restart capability lists the peers' families with forwarding
    /// state preserved, so that they keep our routes while we restart; after
    /// a start we set the Restart State bit and send nothing until every peer
    /// has sent End-of-RIB, or for at most this many seconds
    /// (`selection_deferral_time`, default 360). `None`: a receiving speaker only.
    pub graceful_restart_deferral: Option<u16>,
    /// The neighbours.
    pub peers: Vec<PeerSpec>,
    /// BMP collectors (`[[bmp]]`), none by default.
    pub bmp: Vec<BmpSpec>,
    /// The control socket and the metrics endpoint (`[control]`, `[metrics]`).
    pub ops: super::control::OpsConfig,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlConfig {
    router_id: String,
    asn: u32,
    cluster_id: Option<String>,
    listen: Option<Vec<String>>,
    hold_time: Option<u16>,
    client_to_client: Option<bool>,
    connect_retry: Option<u16>,
    ebgp_requires_policy: Option<bool>,
    rtc_default_to_clients: Option<bool>,
    restarting_speaker: Option<bool>,
    selection_deferral_time: Option<u16>,
    #[serde(default)]
    sets: TomlSets,
    #[serde(default)]
    policy: Vec<TomlPolicy>,
    #[serde(default)]
    peer: Vec<TomlPeer>,
    #[serde(default)]
    bmp: Vec<TomlBmp>,
    control: Option<super::control::TomlControl>,
    metrics: Option<super::control::TomlMetrics>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlBmp {
    address: String,
    statistics_interval: Option<u32>,
    queue: Option<usize>,
    adj_rib_out: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlPeer {
    name: Option<String>,
    address: String,
    asn: u32,
    role: String,
    passive: Option<bool>,
    port: Option<u16>,
    local_address: Option<String>,
    hold_time: Option<u16>,
    families: Option<Vec<String>>,
    add_path_receive: Option<bool>,
    add_path_send: Option<String>,
    local_role: Option<String>,
    strict_role: Option<bool>,
    extended_next_hop: Option<bool>,
    allow_own_as: Option<u8>,
    next_hop_unchanged: Option<bool>,
    local_as: Option<u32>,
    max_prefixes_ipv4: Option<u32>,
    max_prefixes_ipv6: Option<u32>,
    max_prefixes_warning_only: Option<bool>,
    max_prefixes_restart: Option<u16>,
    max_paths_per_prefix: Option<u16>,
    max_attr_bytes: Option<u64>,
    import: Option<OneOrMany<String>>,
    export: Option<OneOrMany<String>>,
    password: Option<String>,
    password_file: Option<String>,
    ttl_security: Option<bool>,
    gtsm_hops: Option<u8>,
}

fn security(p: &TomlPeer, f: &dyn Fn(&str) -> String) -> Result<PeerSecurity, ConfigError> {
    let password = match (&p.password, &p.password_file) {
        (Some(_), Some(_)) => {
            return Err(err(
                f("password_file"),
                "give `password` or `password_file`, not both",
            ))
        }
        (Some(pw), None) => Some(check_password(&f("password"), pw)?),
        (None, Some(file)) => {
            let text = std::fs::read_to_string(file)
                .map_err(|e| err(f("password_file"), format!("cannot read {file}: {e}")))?;
            let pw = text.strip_suffix('\n').unwrap_or(&text);
            let pw = pw.strip_suffix('\r').unwrap_or(pw);
            Some(check_password(&f("password_file"), pw)?)
        }
        (None, None) => None,
    };
    let gtsm_hops = match (p.ttl_security, p.gtsm_hops) {
        (_, Some(0)) => return Err(err(f("gtsm_hops"), "must be 1 to 254")),
        (_, Some(255)) => return Err(err(f("gtsm_hops"), "must be 1 to 254")),
        (Some(false), Some(_)) => {
            return Err(err(f("gtsm_hops"), "conflicts with `ttl_security = false`"))
        }
        (_, Some(n)) => Some(n),
        (Some(true), None) => Some(1),
        (_, None) => None,
    };
    Ok(PeerSecurity {
        password,
        gtsm_hops,
    })
}

fn bmp_spec(i: usize, b: &TomlBmp) -> Result<BmpSpec, ConfigError> {
    let address = b.address.parse::<SocketAddr>().map_err(|_| {
        err(
            format!("bmp[{i}].address"),
            format!(
                "`{}` is not ADDRESS:PORT (e.g. `127.0.0.1:11019`)",
                b.address
            ),
        )
    })?;
    let queue = b.queue.unwrap_or(65_536);
    if queue == 0 {
        return Err(err(format!("bmp[{i}].queue"), "must be at least 1"));
    }
    Ok(BmpSpec {
        address,
        statistics_interval: b.statistics_interval.unwrap_or(60),
        queue,
        adj_rib_out: b.adj_rib_out.unwrap_or(false),
    })
}

#[derive(Debug, Deserialize)]
struct BenchConfig {
    router_id: String,
    cluster_id: Option<String>,
    asn: u32,
    listen: String,
    port: u16,
    #[serde(default)]
    ipv6: bool,
    /// Families every peer negotiates (names as in the TOML `families`); IPv4 unicast when absent.
    #[serde(default)]
    families: Option<Vec<String>>,
    peers: Vec<BenchPeer>,
}

#[derive(Debug, Deserialize)]
struct BenchPeer {
    name: String,
    address: String,
    asn: u32,
    #[serde(default)]
    rr_client: bool,
    #[serde(default = "yes")]
    passive: bool,
}

fn yes() -> bool {
    true
}

fn ipv4(field: &str, s: &str) -> Result<Ipv4Addr, ConfigError> {
    s.parse()
        .map_err(|_| err(field, format!("`{s}` is not an IPv4 address")))
}

fn ip(field: &str, s: &str) -> Result<IpAddr, ConfigError> {
    s.parse()
        .map_err(|_| err(field, format!("`{s}` is not an IP address")))
}

fn family(field: &str, s: &str) -> Result<AfiSafi, ConfigError> {
    use reflector_core::wire::family::{name, KNOWN};
    family_by_name(s).ok_or_else(|| {
        let names: Vec<&str> = KNOWN.iter().filter_map(|f| name(*f)).collect();
        err(
            field,
            format!(
                "unknown family `{s}` (expected one of {})",
                names.join(", ")
            ),
        )
    })
}

/// A family from its name (`ipv4-vpn`) or its short alias (`vpnv4`).
pub fn family_by_name(s: &str) -> Option<AfiSafi> {
    reflector_core::policy::parse_family(s).ok()
}

fn role(field: &str, s: &str) -> Result<Role, ConfigError> {
    match s {
        "client" => Ok(Role::Client),
        "non-client" => Ok(Role::NonClient),
        "ebgp" => Ok(Role::Ebgp),
        _ => Err(err(
            field,
            format!("unknown role `{s}` (expected `client`, `non-client` or `ebgp`)"),
        )),
    }
}

fn bgp_role(field: &str, s: &str) -> Result<BgpRole, ConfigError> {
    BgpRole::from_name(s).ok_or_else(|| {
        err(
            field,
            format!("unknown BGP role `{s}` (expected `provider`, `customer`, `peer`, `rs` or `rs-client`)"),
        )
    })
}

fn add_path_send(field: &str, s: &str) -> Result<AddPathSend, ConfigError> {
    match s {
        "off" => Ok(AddPathSend::Off),
        "all" => Ok(AddPathSend::All),
        _ => s
            .strip_prefix("best-")
            .and_then(|n| n.parse::<u8>().ok())
            .filter(|n| *n > 0)
            .map(AddPathSend::Best)
            .ok_or_else(|| {
                err(
                    field,
                    format!("`{s}` is not `off`, `all` or `best-N` (N in 1..=255)"),
                )
            }),
    }
}

fn limits(p: &TomlPeer, f: &dyn Fn(&str) -> String) -> Result<PeerLimits, ConfigError> {
    let warn = p.max_prefixes_warning_only.unwrap_or(false);
    let limit = |name: &str, v: Option<u32>| match v {
        Some(0) => Err(err(f(name), "a prefix limit must be at least 1")),
        Some(max) => Ok(Some(PrefixLimit {
            max,
            warning_only: warn,
        })),
        None => Ok(None),
    };
    let out = PeerLimits {
        max_prefixes_ipv4: limit("max_prefixes_ipv4", p.max_prefixes_ipv4)?,
        max_prefixes_ipv6: limit("max_prefixes_ipv6", p.max_prefixes_ipv6)?,
        restart_after: p.max_prefixes_restart.filter(|s| *s > 0),
        max_paths_per_prefix: match p.max_paths_per_prefix {
            Some(0) => return Err(err(f("max_paths_per_prefix"), "must be at least 1")),
            v => v,
        },
        max_attr_bytes: match p.max_attr_bytes {
            Some(0) => return Err(err(f("max_attr_bytes"), "must be at least 1")),
            v => v,
        },
    };
    if out.max_prefixes_ipv4.is_none() && out.max_prefixes_ipv6.is_none() {
        if p.max_prefixes_warning_only.is_some() {
            return Err(err(
                f("max_prefixes_warning_only"),
                "needs max_prefixes_ipv4 or max_prefixes_ipv6",
            ));
        }
        if out.restart_after.is_some() {
            return Err(err(
                f("max_prefixes_restart"),
                "needs max_prefixes_ipv4 or max_prefixes_ipv6",
            ));
        }
    }
    Ok(out)
}

fn hold(field: &str, h: u16) -> Result<u16, ConfigError> {
    if h == 1 || h == 2 {
        Err(err(field, "a hold time must be 0 or at least 3 seconds"))
    } else {
        Ok(h)
    }
}

impl Config {
    /// Read a file: `.json` is rr-bench's peer list, `.toml` TOML; otherwise JSON when it starts with `{`, TOML if not.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| err("", format!("cannot read {}: {e}", path.display())))?;
        let ext = path.extension().and_then(|e| e.to_str());
        let json = match ext.map(str::to_ascii_lowercase).as_deref() {
            Some("json") => true,
            Some("toml") => false,
            _ => text.trim_start().starts_with('{'),
        };
        if json {
            Config::from_bench_json(&text)
        } else {
            Config::from_toml(&text)
        }
    }

    /// Parse Reflector's TOML.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let raw: TomlConfig =
            toml::from_str(text).map_err(|e| err("", format!("TOML: {}", e.to_string().trim())))?;
        let router_id = ipv4("router_id", &raw.router_id)?;
        let cluster_id = raw
            .cluster_id
            .as_deref()
            .map(|s| ipv4("cluster_id", s))
            .transpose()?;
        let listen = match raw.listen {
            None => vec![SocketAddr::from(([127, 0, 0, 1], 179))],
            Some(v) => v
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    s.parse::<SocketAddr>().map_err(|_| {
                        err(
                            format!("listen[{i}]"),
                            format!("`{s}` is not ADDRESS:PORT (e.g. `127.0.0.1:1179`)"),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        let default_hold = hold("hold_time", raw.hold_time.unwrap_or(90))?;
        let policies = policy::policies(&raw.sets, &raw.policy)?;
        let mut peers = Vec::new();
        for (i, p) in raw.peer.iter().enumerate() {
            let f = |name: &str| format!("peer[{i}].{name}");
            let families = match &p.families {
                None => vec![AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST],
                Some(v) => v
                    .iter()
                    .enumerate()
                    .map(|(j, s)| family(&f(&format!("families[{j}]")), s))
                    .collect::<Result<_, _>>()?,
            };
            let address = ip(&f("address"), &p.address)?;
            peers.push(PeerSpec {
                name: p.name.clone().unwrap_or_else(|| p.address.clone()),
                address,
                asn: p.asn,
                role: role(&f("role"), &p.role)?,
                passive: p.passive.unwrap_or(false),
                port: p.port.unwrap_or(179),
                local_address: p
                    .local_address
                    .as_deref()
                    .map(|s| ip(&f("local_address"), s))
                    .transpose()?,
                hold_time: p
                    .hold_time
                    .map(|h| hold(&f("hold_time"), h))
                    .transpose()?
                    .unwrap_or(default_hold),
                families,
                add_path_receive: p.add_path_receive.unwrap_or(false),
                add_path_send: p
                    .add_path_send
                    .as_deref()
                    .map(|s| add_path_send(&f("add_path_send"), s))
                    .transpose()?
                    .unwrap_or(AddPathSend::Off),
                local_role: p
                    .local_role
                    .as_deref()
                    .map(|s| bgp_role(&f("local_role"), s))
                    .transpose()?,
                strict_role: p.strict_role.unwrap_or(false),
                extended_next_hop: p.extended_next_hop.unwrap_or(false),
                allow_own_as: p.allow_own_as.unwrap_or(0),
                next_hop_unchanged: p.next_hop_unchanged.unwrap_or(false),
                local_as: p.local_as,
                limits: limits(p, &f)?,
                import: p
                    .import
                    .as_ref()
                    .map(|n| policy::chain(&f("import"), n, &policies))
                    .transpose()?,
                export: p
                    .export
                    .as_ref()
                    .map(|n| policy::chain(&f("export"), n, &policies))
                    .transpose()?,
                security: security(p, &f)?,
            });
        }
        let cfg = Config {
            router_id,
            asn: raw.asn,
            cluster_id,
            listen,
            client_to_client: raw.client_to_client.unwrap_or(true),
            connect_retry: raw.connect_retry.unwrap_or(5).max(1),
            ebgp_requires_policy: raw.ebgp_requires_policy.unwrap_or(true),
            rtc_default_to_clients: raw.rtc_default_to_clients.unwrap_or(true),
            graceful_restart_deferral: match (raw.restarting_speaker, raw.selection_deferral_time) {
                (Some(true), Some(0)) => {
                    return Err(err(
                        "selection_deferral_time",
                        "must be at least 1 second (RFC 4724 §4.1)",
                    ))
                }
                (Some(true), t) => Some(t.unwrap_or(360)),
                (_, Some(_)) => {
                    return Err(err(
                        "selection_deferral_time",
                        "applies to a restarting speaker only (restarting_speaker = true)",
                    ))
                }
                _ => None,
            },
            peers,
            bmp: raw
                .bmp
                .iter()
                .enumerate()
                .map(|(i, b)| bmp_spec(i, b))
                .collect::<Result<_, _>>()?,
            ops: super::control::OpsConfig::from_toml(raw.control.as_ref(), raw.metrics.as_ref())?,
        };
        cfg.validate()?;
        Ok(cfg)
    }

    /// Parse rr-bench's JSON: every peer is a passive iBGP neighbour (a client when `rr_client`).
    pub fn from_bench_json(text: &str) -> Result<Config, ConfigError> {
        let raw: BenchConfig =
            serde_json::from_str(text).map_err(|e| err("", format!("JSON: {e}")))?;
        let router_id = ipv4("router_id", &raw.router_id)?;
        let cluster_id = raw
            .cluster_id
            .as_deref()
            .map(|s| ipv4("cluster_id", s))
            .transpose()?;
        let listen_ip = ip("listen", &raw.listen)?;
        let mut families = match &raw.families {
            Some(names) => names
                .iter()
                .enumerate()
                .map(|(j, s)| family(&format!("families[{j}]"), s))
                .collect::<Result<Vec<_>, _>>()?,
            None => vec![AfiSafi::IPV4_UNICAST],
        };
        if raw.ipv6 && !families.contains(&AfiSafi::IPV6_UNICAST) {
            families.push(AfiSafi::IPV6_UNICAST);
        }
        if families.is_empty() {
            return Err(err("families", "no family listed"));
        }
        let mut peers = Vec::new();
        for (i, p) in raw.peers.iter().enumerate() {
            peers.push(PeerSpec {
                name: p.name.clone(),
                address: ip(&format!("peers[{i}].address"), &p.address)?,
                asn: p.asn,
                role: if p.asn != raw.asn {
                    Role::Ebgp
                } else if p.rr_client {
                    Role::Client
                } else {
                    Role::NonClient
                },
                passive: p.passive,
                port: 179,
                local_address: None,
                hold_time: 240,
                families: families.clone(),
                add_path_receive: false,
                add_path_send: AddPathSend::Off,
                local_role: None,
                strict_role: false,
                extended_next_hop: false,
                allow_own_as: 0,
                next_hop_unchanged: false,
                local_as: None,
                limits: PeerLimits::default(),
                import: None,
                export: None,
                security: PeerSecurity::default(),
            });
        }
        let cfg = Config {
            router_id,
            asn: raw.asn,
            cluster_id,
            listen: vec![SocketAddr::new(listen_ip, raw.port)],
            client_to_client: true,
            connect_retry: 5,
            ebgp_requires_policy: true,
            rtc_default_to_clients: true,
            graceful_restart_deferral: None,
            peers,
            bmp: Vec::new(),
            ops: super::control::OpsConfig::default(),
        };
        cfg.validate()?;
        Ok(cfg)
    }

    /// Check what every format must satisfy (AS, router ID, peers' addresses and roles).
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.asn == 0 {
            return Err(err("asn", "AS 0 is reserved (RFC 7607)"));
        }
        if self.router_id.to_bits() == 0 {
            return Err(err("router_id", "the BGP identifier must not be 0.0.0.0"));
        }
        let mut seen = HashSet::new();
        for (i, p) in self.peers.iter().enumerate() {
            if !seen.insert(p.address) {
                return Err(err(
                    format!("peer[{i}].address"),
                    format!("{} is configured twice", p.address),
                ));
            }
            if p.asn == 0 {
                return Err(err(format!("peer[{i}].asn"), "AS 0 is reserved (RFC 7607)"));
            }
            if p.local_as == Some(0) {
                return Err(err(
                    format!("peer[{i}].local_as"),
                    "AS 0 is reserved (RFC 7607)",
                ));
            }
            let ours = p.local_as.unwrap_or(self.asn);
            let ibgp = p.asn == ours;
            if ibgp == (p.role == Role::Ebgp) {
                return Err(err(
                    format!("peer[{i}].role"),
                    format!(
                        "role `{}` does not match AS {} (ours is {}): use `ebgp` exactly when the AS differs",
                        match p.role {
                            Role::Client => "client",
                            Role::NonClient => "non-client",
                            Role::Ebgp => "ebgp",
                        },
                        p.asn,
                        ours
                    ),
                ));
            }
            if p.families.is_empty() {
                return Err(err(format!("peer[{i}].families"), "no family listed"));
            }
            // RFC 9234 §4: BGP Roles are for eBGP sessions only.
            if p.local_role.is_some() && p.role != Role::Ebgp {
                return Err(err(
                    format!("peer[{i}].local_role"),
                    "BGP roles (RFC 9234) apply to eBGP peers only",
                ));
            }
            if p.allow_own_as > 0 && p.role != Role::Ebgp {
                return Err(err(
                    format!("peer[{i}].allow_own_as"),
                    "allow_own_as applies to eBGP peers only (our AS is in an iBGP path only through a loop)",
                ));
            }
            if p.next_hop_unchanged && p.role != Role::Ebgp {
                return Err(err(
                    format!("peer[{i}].next_hop_unchanged"),
                    "next_hop_unchanged applies to eBGP peers only (iBGP keeps the next hop)",
                ));
            }
            if p.strict_role && p.local_role.is_none() {
                return Err(err(
                    format!("peer[{i}].strict_role"),
                    "strict_role needs a local_role",
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../../examples/serve/reflector.toml");

    #[test]
    fn the_example_file_parses() {
        let c = Config::from_toml(EXAMPLE).unwrap();
        assert_eq!(c.asn, 64512);
        assert!(c.peers.len() >= 3);
        assert!(c.peers.iter().any(|p| p.role == Role::Client));
        assert!(c.peers.iter().any(|p| p.role == Role::NonClient));
        assert!(c.peers.iter().any(|p| p.role == Role::Ebgp));
        // Its eBGP peer has policies both ways (RFC 8212).
        assert!(c
            .peers
            .iter()
            .filter(|p| p.role == Role::Ebgp)
            .all(|p| p.import.is_some() && p.export.is_some()));
    }

    #[test]
    fn errors_name_the_field() {
        let base = "router_id = \"10.0.0.1\"\nasn = 64512\n";
        let cases = [
            ("router_id = \"10.0.0\"\nasn = 1\n", "router_id"),
            (
                &format!("{base}[[peer]]\naddress = \"127.0.0.2\"\nasn = 64512\nrole = \"boss\"\n"),
                "peer[0].role",
            ),
            (
                &format!("{base}[[peer]]\naddress = \"127.0.0.2\"\nasn = 64512\nrole = \"client\"\n[[peer]]\naddress = \"nope\"\nasn = 64512\nrole = \"client\"\n"),
                "peer[1].address",
            ),
            (
                &format!("{base}[[peer]]\naddress = \"127.0.0.2\"\nasn = 65000\nrole = \"client\"\n"),
                "peer[0].role",
            ),
            (
                &format!("{base}[[peer]]\naddress = \"127.0.0.2\"\nasn = 64512\nrole = \"client\"\nhold_time = 2\n"),
                "peer[0].hold_time",
            ),
            (
                &format!("{base}[[peer]]\naddress = \"127.0.0.2\"\nasn = 64512\nrole = \"client\"\nadd_path_send = \"most\"\n"),
                "peer[0].add_path_send",
            ),
            (&format!("{base}listen = [\"127.0.0.1\"]\n"), "listen[0]"),
            (
                &format!("{base}[[peer]]\naddress = \"127.0.0.2\"\nasn = 65000\nrole = \"ebgp\"\nlocal_role = \"boss\"\n"),
                "peer[0].local_role",
            ),
            (
                &format!("{base}[[peer]]\naddress = \"127.0.0.2\"\nasn = 64512\nrole = \"client\"\nlocal_role = \"provider\"\n"),
                "peer[0].local_role",
            ),
            (
                &format!("{base}[[peer]]\naddress = \"127.0.0.2\"\nasn = 65000\nrole = \"ebgp\"\nstrict_role = true\n"),
                "peer[0].strict_role",
            ),
            (
                &format!("{base}[[peer]]\naddress = \"127.0.0.2\"\nasn = 64512\nrole = \"client\"\nallow_own_as = 1\n"),
                "peer[0].allow_own_as",
            ),
            (
                &format!("{base}[[peer]]\naddress = \"127.0.0.2\"\nasn = 64512\nrole = \"client\"\nnext_hop_unchanged = true\n"),
                "peer[0].next_hop_unchanged",
            ),
            (
                &format!("{base}[[peer]]\naddress = \"127.0.0.2\"\nasn = 64512\nrole = \"client\"\nlocal_as = 65000\n"),
                "peer[0].role",
            ),
            (
                &format!("{base}[[peer]]\naddress = \"127.0.0.2\"\nasn = 65000\nrole = \"ebgp\"\nlocal_as = 0\n"),
                "peer[0].local_as",
            ),
        ];
        for (text, field) in cases {
            let e = Config::from_toml(text).unwrap_err();
            assert_eq!(e.field, field, "{text}: {e}");
            assert!(e.to_string().contains(field));
        }
        // Unknown keys and wrong types: toml's message names the key.
        let e = Config::from_toml(&format!("{base}clusterid = \"1.2.3.4\"\n")).unwrap_err();
        assert!(e.message.contains("clusterid"), "{e}");
        let e = Config::from_toml("router_id = \"10.0.0.1\"\nasn = \"x\"\n").unwrap_err();
        assert!(e.message.contains("asn"), "{e}");
    }

    /// `restarting_speaker`: the graceful restart capability lists each
    /// peer's families with forwarding state preserved and the Restart State
    /// bit; the deferral defaults to 360 s and must be positive.
    #[test]
    fn restarting_speaker() {
        let base = "router_id = \"10.0.0.1\"\nasn = 64512\n";
        let peer = "[[peer]]\naddress = \"127.0.0.2\"\nasn = 64512\nrole = \"client\"\nfamilies = [\"ipv4-unicast\", \"vpnv4\"]\n";
        let c = Config::from_toml(&format!("{base}{peer}")).unwrap();
        assert_eq!(c.graceful_restart_deferral, None);
        let s = super::super::daemon::session_config(&c, &c.peers[0]);
        assert!(s.graceful_restart_families.is_empty() && !s.graceful_restart_restarting);
        let c = Config::from_toml(&format!("{base}restarting_speaker = true\n{peer}")).unwrap();
        assert_eq!(c.graceful_restart_deferral, Some(360));
        let s = super::super::daemon::session_config(&c, &c.peers[0]);
        assert!(s.graceful_restart_restarting);
        let fams: Vec<(AfiSafi, u8)> = s
            .graceful_restart_families
            .iter()
            .map(|f| (f.afi_safi, f.flags))
            .collect();
        assert_eq!(
            fams,
            [(AfiSafi::IPV4_UNICAST, 0x80), (AfiSafi::VPNV4, 0x80)]
        );
        let c = Config::from_toml(&format!(
            "{base}restarting_speaker = true\nselection_deferral_time = 30\n{peer}"
        ))
        .unwrap();
        assert_eq!(c.graceful_restart_deferral, Some(30));
        for (text, field) in [
            (
                "restarting_speaker = true\nselection_deferral_time = 0\n",
                "selection_deferral_time",
            ),
            ("selection_deferral_time = 30\n", "selection_deferral_time"),
        ] {
            let e = Config::from_toml(&format!("{base}{text}{peer}")).unwrap_err();
            assert_eq!(e.field, field, "{text}");
        }
    }

    /// A per-peer `local_as` is the AS of the session: iBGP with a peer in
    /// that AS, eBGP with a peer in ours; the session opens with it.
    #[test]
    fn local_as_per_peer() {
        let base = "router_id = \"10.0.0.1\"\nasn = 64512\n";
        let c = Config::from_toml(&format!(
            "{base}[[peer]]\naddress = \"127.0.0.2\"\nasn = 65000\nrole = \"non-client\"\nlocal_as = 65000\n\
             [[peer]]\naddress = \"127.0.0.3\"\nasn = 64512\nrole = \"ebgp\"\nlocal_as = 65010\n\
             [[peer]]\naddress = \"127.0.0.4\"\nasn = 64512\nrole = \"client\"\n"
        ))
        .unwrap();
        let got: Vec<Option<u32>> = c.peers.iter().map(|p| p.local_as).collect();
        assert_eq!(got, vec![Some(65000), Some(65010), None]);
        let opens: Vec<u32> = c
            .peers
            .iter()
            .map(|p| super::super::daemon::session_config(&c, p).local_as)
            .collect();
        assert_eq!(opens, vec![65000, 65010, 64512]);
    }

    #[test]
    fn rfc9234_roles_and_rfc8950_extended_next_hop_per_peer() {
        let base = "router_id = \"10.0.0.1\"\nasn = 64512\n";
        for (name, want) in [
            ("provider", BgpRole::PROVIDER),
            ("customer", BgpRole::CUSTOMER),
            ("peer", BgpRole::PEER),
            ("rs", BgpRole::RS),
            ("rs-client", BgpRole::RS_CLIENT),
        ] {
            let c = Config::from_toml(&format!(
                "{base}[[peer]]\naddress = \"127.0.0.2\"\nasn = 65000\nrole = \"ebgp\"\nlocal_role = \"{name}\"\nstrict_role = true\nextended_next_hop = true\n"
            ))
            .unwrap();
            let p = &c.peers[0];
            assert_eq!(p.local_role, Some(want));
            assert!(p.strict_role);
            assert!(p.extended_next_hop);
        }
        // Defaults: no role, not strict, no extended next hop.
        let c = Config::from_toml(&format!(
            "{base}[[peer]]\naddress = \"127.0.0.2\"\nasn = 65000\nrole = \"ebgp\"\n"
        ))
        .unwrap();
        let p = &c.peers[0];
        assert_eq!(
            (p.local_role, p.strict_role, p.extended_next_hop),
            (None, false, false)
        );
        // The example file configures them on its eBGP peer.
        let c = Config::from_toml(EXAMPLE).unwrap();
        assert!(c
            .peers
            .iter()
            .any(|p| p.local_role == Some(BgpRole::PROVIDER) && p.extended_next_hop));
    }

    #[test]
    fn the_readme_policy_example_parses() {
        let readme = include_str!("../../../README.md");
        let section = &readme[readme.find("### Routing policy, and reload").unwrap()..];
        let start = section.find("```toml\n").unwrap() + 8;
        let end = start + section[start..].find("```").unwrap();
        let c = Config::from_toml(&format!(
            "router_id = \"10.0.0.1\"\nasn = 64512\n{}",
            &section[start..end]
        ))
        .unwrap();
        let p = &c.peers[0];
        assert_eq!(p.import.as_ref().unwrap().statements.len(), 2);
        assert_eq!(p.export.as_ref().unwrap().name, "to-upstream");
    }

    #[test]
    fn peer_policies_and_rfc8212_opt_out() {
        let base = "router_id = \"10.0.0.1\"\nasn = 64512\n";
        let policies = "[[policy]]\nname = \"a\"\ndefault = \"accept\"\n[[policy]]\nname = \"b\"\ndefault = \"reject\"\n";
        let peer = "[[peer]]\naddress = \"127.0.0.2\"\nasn = 65000\nrole = \"ebgp\"\n";
        let c = Config::from_toml(&format!(
            "{base}{policies}{peer}import = \"a\"\nexport = [\"b\", \"a\"]\n"
        ))
        .unwrap();
        assert!(c.ebgp_requires_policy);
        let p = &c.peers[0];
        assert_eq!(p.import.as_ref().unwrap().name, "a");
        assert_eq!(p.export.as_ref().unwrap().name, "b+a");
        let c = Config::from_toml(&format!("ebgp_requires_policy = false\n{base}{peer}")).unwrap();
        assert!(!c.ebgp_requires_policy);
        assert_eq!((&c.peers[0].import, &c.peers[0].export), (&None, &None));
        for (extra, field) in [
            ("import = \"c\"\n", "peer[0].import"),
            ("export = [\"a\", \"c\"]\n", "peer[0].export[1]"),
            ("export = []\n", "peer[0].export"),
        ] {
            let e = Config::from_toml(&format!("{base}{policies}{peer}{extra}")).unwrap_err();
            assert_eq!(e.field, field, "{extra}: {e}");
        }
        let e = Config::from_toml(&format!("{base}{peer}import = \"a\"\n")).unwrap_err();
        assert!(e.message.contains("no [[policy]] is defined"), "{e}");
    }

    #[test]
    fn peer_limits() {
        let base = "router_id = \"10.0.0.1\"\nasn = 64512\n[[peer]]\naddress = \"127.0.0.2\"\nasn = 64512\nrole = \"client\"\n";
        let c = Config::from_toml(&format!(
            "{base}max_prefixes_ipv4 = 1000\nmax_prefixes_ipv6 = 200\nmax_prefixes_restart = 60\nmax_paths_per_prefix = 8\nmax_attr_bytes = 1048576\n"
        ))
        .unwrap();
        let l = c.peers[0].limits;
        assert_eq!(l.max_prefixes_ipv4, Some(PrefixLimit::cease(1000)));
        assert_eq!(l.max_prefixes_ipv6, Some(PrefixLimit::cease(200)));
        assert_eq!(l.restart_after, Some(60));
        assert_eq!(l.max_paths_per_prefix, Some(8));
        assert_eq!(l.max_attr_bytes, Some(1 << 20));
        let c = Config::from_toml(&format!(
            "{base}max_prefixes_ipv4 = 10\nmax_prefixes_warning_only = true\n"
        ))
        .unwrap();
        assert_eq!(
            c.peers[0].limits.max_prefixes_ipv4,
            Some(PrefixLimit::warning(10))
        );
        assert_eq!(c.peers[0].limits.max_prefixes_ipv6, None);
        assert_eq!(
            Config::from_toml(base).unwrap().peers[0].limits,
            PeerLimits::default()
        );
        for (extra, field) in [
            ("max_prefixes_ipv4 = 0\n", "peer[0].max_prefixes_ipv4"),
            ("max_paths_per_prefix = 0\n", "peer[0].max_paths_per_prefix"),
            ("max_attr_bytes = 0\n", "peer[0].max_attr_bytes"),
            (
                "max_prefixes_restart = 30\n",
                "peer[0].max_prefixes_restart",
            ),
            (
                "max_prefixes_warning_only = true\n",
                "peer[0].max_prefixes_warning_only",
            ),
        ] {
            let e = Config::from_toml(&format!("{base}{extra}")).unwrap_err();
            assert_eq!(e.field, field, "{extra}: {e}");
        }
    }

    #[test]
    fn rr_bench_json() {
        let text = r#"{"router_id": "127.0.0.1", "cluster_id": "127.0.0.1", "asn": 64512,
            "listen": "127.0.0.1", "port": 1790, "ipv6": true,
            "peers": [{"name": "c1", "address": "127.0.1.1", "asn": 64512, "rr_client": true, "passive": true},
                      {"name": "inj", "address": "127.0.2.1", "asn": 64512, "rr_client": true, "passive": true}]}"#;
        let c = Config::from_bench_json(text).unwrap();
        assert_eq!(c.listen, vec!["127.0.0.1:1790".parse().unwrap()]);
        assert_eq!(c.peers.len(), 2);
        assert!(c
            .peers
            .iter()
            .all(|p| p.passive && p.role == Role::Client && p.families.len() == 2));
        let e = Config::from_bench_json(&text.replace("127.0.2.1", "127.0.2")).unwrap_err();
        assert_eq!(e.field, "peers[1].address");
    }

    #[test]
    fn rr_bench_json_families() {
        let text = r#"{"router_id": "127.0.0.1", "cluster_id": "127.0.0.1", "asn": 64512,
            "listen": "127.0.0.1", "port": 1790, "ipv6": false,
            "families": ["ipv4-unicast", "vpnv4", "evpn"],
            "peers": [{"name": "c1", "address": "127.0.1.1", "asn": 64512, "rr_client": true, "passive": true}]}"#;
        let c = Config::from_bench_json(text).unwrap();
        let want = vec![AfiSafi::IPV4_UNICAST, AfiSafi::VPNV4, AfiSafi::EVPN];
        assert_eq!(c.peers[0].families, want);
        let e = Config::from_bench_json(&text.replace("\"evpn\"", "\"nope\"")).unwrap_err();
        assert_eq!(e.field, "families[2]");
        let e = Config::from_bench_json(&text.replace("\"ipv4-unicast\", \"vpnv4\", \"evpn\"", ""))
            .unwrap_err();
        assert_eq!(e.field, "families");
    }
}

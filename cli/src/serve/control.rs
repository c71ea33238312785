//! The control socket of `reflector serve`: a local Unix socket (mode 0600)
//! that `reflector show` and `reflector ctl` talk to, one JSON object per
//! line each way (protocol and schemas in `docs/control.md`).
//!
//! ```text
//! → {"version":1,"command":"summary"}
//! ← {"version":1,"ok":true,"data":{...}}
//! → {"version":2,"command":"summary"}
//! ← {"version":1,"ok":false,"error":"unsupported protocol version 2 (this daemon speaks 1)"}
//! ```
//!
//! Queries of the RIB run in the engine task (between batches of UPDATEs,
//! through the engine's inspection API); session details come from
//! [`status`](super::status); `reload` and `shutdown` go to the daemon's
//! main loop, the same path as SIGHUP and SIGTERM.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use reflector_core::engine::{decode_block, Engine};
use reflector_core::policy::{CommunityEdit, Modify, Policy, Statement, Verdict};
use reflector_core::reflect::Role;
use reflector_core::rib::PeerId;
use reflector_core::session::StopReason;
use reflector_core::wire::attribute::{Origin, SegmentType};
use reflector_core::wire::notification::{code_name, subcode_name};
use reflector_core::wire::update_repr::{AsPath, AttributeValue};
use reflector_core::wire::{AfiSafi, Prefix};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::oneshot;
use tracing::{info, warn};

use super::config::{Config, ConfigError, PeerSpec};
use super::status::{family_name, PeerStatus, MESSAGE_TYPES};

/// The protocol version this daemon speaks.
pub const PROTOCOL_VERSION: u64 = 1;
/// Longest request line accepted, in bytes.
const MAX_REQUEST: usize = 64 * 1024;
/// The GRACEFUL_SHUTDOWN well-known community, 65535:0 (RFC 8326).
pub const GRACEFUL_SHUTDOWN: u32 = 0xffff_0000;
/// Default wait between the GRACEFUL_SHUTDOWN re-advertisement and the Cease, in seconds.
pub const DEFAULT_GRACEFUL_WAIT: u64 = 5;

/// The `[control]` table of the TOML.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TomlControl {
    socket: Option<String>,
}

/// The `[metrics]` table of the TOML.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TomlMetrics {
    listen: Option<String>,
}

/// Where the operator surface listens (from the TOML; flags override).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpsConfig {
    /// The control socket (`None`: [`default_socket`]).
    pub control_socket: Option<PathBuf>,
    /// The metrics endpoint (`None`: off).
    pub metrics: Option<SocketAddr>,
}

impl OpsConfig {
    /// From the `[control]` and `[metrics]` tables.
    pub fn from_toml(
        control: Option<&TomlControl>,
        metrics: Option<&TomlMetrics>,
    ) -> Result<Self, ConfigError> {
        let metrics = match metrics.and_then(|m| m.listen.as_deref()) {
            None => None,
            Some(s) => Some(s.parse::<SocketAddr>().map_err(|_| ConfigError {
                field: "metrics.listen".into(),
                message: format!("`{s}` is not ADDRESS:PORT (e.g. `127.0.0.1:9179`)"),
            })?),
        };
        let control_socket = match control.and_then(|c| c.socket.as_deref()) {
            Some("") => {
                return Err(ConfigError {
                    field: "control.socket".into(),
                    message: "empty path".into(),
                })
            }
            s => s.map(PathBuf::from),
        };
        Ok(OpsConfig {
            control_socket,
            metrics,
        })
    }
}

/// Whether this process runs as root (Linux: the owner of `/proc/self`).
fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// The control socket when none is configured: `/run/reflector/reflector.sock`
/// for root, else `$RUNTIME_DIRECTORY/reflector.sock` (systemd's
/// `RuntimeDirectory=reflector` makes that `/run/reflector`), else
/// `$XDG_RUNTIME_DIR/reflector.sock`, else `/tmp/reflector-$UID/reflector.sock`.
pub fn default_socket() -> PathBuf {
    use std::os::unix::fs::MetadataExt;
    if is_root() {
        return PathBuf::from("/run/reflector/reflector.sock");
    }
    if let Some(d) = std::env::var_os("RUNTIME_DIRECTORY") {
        let d = d.to_string_lossy().into_owned();
        if let Some(first) = d.split(':').next().filter(|f| !f.is_empty()) {
            return Path::new(first).join("reflector.sock");
        }
    }
    if let Some(d) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        return Path::new(&d).join("reflector.sock");
    }
    let uid = std::fs::metadata("/proc/self").map_or(0, |m| m.uid());
    PathBuf::from(format!("/tmp/reflector-{uid}/reflector.sock"))
}

/// What the control socket needs of the daemon.
pub(super) trait Daemon: Send + Sync + 'static {
    /// The global settings.
    fn config(&self) -> &Config;
    /// When the daemon started.
    fn started(&self) -> Instant;
    /// Every peer slot (`None`: removed by a reload).
    fn slots(&self) -> Vec<Option<PeerSpec>>;
    /// The status of a slot's peer.
    fn status(&self, slot: usize) -> Arc<PeerStatus>;
    /// End every connection of a slot's peer with this Cease.
    fn stop(&self, slot: usize, why: StopReason);
    /// Hand a job to the engine task.
    fn to_engine(&self, job: EngineJob);
    /// Hand a job to the main loop (reload, shutdown).
    fn to_main(&self, job: MainJob);
}

/// A reply: the `data` of a response, or its error.
pub type Reply = Result<Value, String>;

/// What the engine task is asked.
#[derive(Debug)]
pub enum Query {
    /// Per slot: up, counters, accepted (and advertised, when asked) paths per family.
    Peers {
        /// Count what each peer is sent (walks the Loc-RIB once per peer).
        advertised: bool,
    },
    /// Best paths (and every candidate, with `all`) of a prefix, a family or the whole Loc-RIB.
    Route {
        /// One prefix (or, given an address, the longest prefix holding it).
        prefix: Option<String>,
        /// One family.
        family: Option<AfiSafi>,
        /// Every candidate, each non-best with the step it lost at.
        all: bool,
    },
    /// The paths a slot's peer sent us that the RIB holds.
    AdjIn(usize),
    /// What a slot's peer is sent.
    AdjOut(usize),
    /// The RIB's memory.
    Memory,
    /// Per family beyond IPv4/IPv6 unicast: routes, paths, and per slot the paths accepted (for the metrics).
    Families,
    /// Ask the peer for its routes again (ROUTE-REFRESH per family) and/or send it ours again.
    Refresh {
        /// The slot.
        slot: usize,
        /// Send ROUTE-REFRESH.
        inbound: bool,
        /// Send the Adj-RIB-Out again.
        outbound: bool,
    },
    /// RFC 8326: re-advertise every route to every peer with GRACEFUL_SHUTDOWN (and LOCAL_PREF 0).
    GracefulShutdown,
}

/// A job for the engine task.
#[derive(Debug)]
pub struct EngineJob {
    /// The question.
    pub query: Query,
    /// Where the answer goes.
    pub reply: oneshot::Sender<Reply>,
}

/// A job for the daemon's main loop.
#[derive(Debug)]
pub enum MainJob {
    /// Read the configuration again (as SIGHUP does); the answer says what changed or why it was refused.
    Reload(oneshot::Sender<Reply>),
    /// Shut down (as SIGTERM does), after the graceful-shutdown wait when given.
    Shutdown {
        /// RFC 8326 first, then wait this long.
        graceful: Option<Duration>,
        /// Answered before the sessions end.
        reply: oneshot::Sender<Reply>,
    },
}

/// A request line.
#[derive(Debug, Deserialize)]
struct Request {
    version: Option<u64>,
    command: Option<String>,
    #[serde(default)]
    args: Value,
}

/// Bind the control socket: mode 0600 from the start, its folder created
/// (0700) if missing; a stale socket file left by a dead daemon is replaced,
/// a live one is an error.
pub fn bind(path: &Path) -> Result<UnixListener, String> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
    }
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(format!(
                "control socket {}: another daemon is listening on it",
                path.display()
            ));
        }
        std::fs::remove_file(path).map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
    }
    // Bound under a temporary name, made 0600, then renamed into place: the
    // socket is never reachable at `path` with looser permissions.
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let l = UnixListener::bind(&tmp)
        .map_err(|e| format!("cannot bind control socket {}: {e}", tmp.display()))?;
    let placed = std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = placed {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!(
            "cannot place control socket {}: {e}",
            path.display()
        ));
    }
    Ok(l)
}

/// Open the control socket: `configured` (an error if it cannot be bound),
/// else [`default_socket`], where a failure (another daemon already answers
/// there, a folder that cannot be created) is logged and the daemon runs
/// without a control socket.
pub fn open(configured: Option<&Path>) -> Result<Option<(PathBuf, UnixListener)>, String> {
    match configured {
        Some(p) => {
            let l = bind(p)?;
            info!(path = %p.display(), "control socket listening");
            Ok(Some((p.to_path_buf(), l)))
        }
        None => {
            let p = default_socket();
            match bind(&p) {
                Ok(l) => {
                    info!(path = %p.display(), "control socket listening");
                    Ok(Some((p, l)))
                }
                Err(e) => {
                    warn!(error = %e, "no control socket (set [control] socket or --control PATH)");
                    Ok(None)
                }
            }
        }
    }
}

/// Serve the control socket until the listener fails.
pub(super) async fn serve<D: Daemon>(daemon: Arc<D>, l: UnixListener) {
    loop {
        match l.accept().await {
            Ok((s, _)) => {
                tokio::spawn(connection(daemon.clone(), s));
            }
            Err(e) => {
                warn!(error = %e, "control socket: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn connection<D: Daemon>(daemon: Arc<D>, s: UnixStream) {
    let (rd, mut wr) = s.into_split();
    let mut rd = BufReader::new(rd);
    let mut line = Vec::new();
    loop {
        line.clear();
        let mut limited = (&mut rd).take(MAX_REQUEST as u64 + 1);
        match limited.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let resp = if line.len() > MAX_REQUEST {
            failure(format!("request longer than {MAX_REQUEST} bytes"))
        } else {
            respond(&daemon, &line).await
        };
        let mut out = resp.to_string().into_bytes();
        out.push(b'\n');
        if wr.write_all(&out).await.is_err() || line.len() > MAX_REQUEST {
            return;
        }
    }
}

fn failure(e: String) -> Value {
    json!({"version": PROTOCOL_VERSION, "ok": false, "error": e})
}

/// Answer one request line.
async fn respond<D: Daemon>(daemon: &Arc<D>, line: &[u8]) -> Value {
    let req: Request = match serde_json::from_slice(line) {
        Ok(r) => r,
        Err(e) => return failure(format!("not a JSON request object: {e}")),
    };
    match req.version {
        Some(PROTOCOL_VERSION) => {}
        Some(v) => {
            return failure(format!(
                "unsupported protocol version {v} (this daemon speaks {PROTOCOL_VERSION})"
            ))
        }
        None => {
            return failure(format!(
                "missing \"version\" (this daemon speaks {PROTOCOL_VERSION})"
            ))
        }
    }
    let Some(command) = req.command else {
        return failure("missing \"command\"".into());
    };
    match run(daemon, &command, &req.args).await {
        Ok(data) => json!({"version": PROTOCOL_VERSION, "ok": true, "data": data}),
        Err(e) => failure(e),
    }
}

fn arg_str<'a>(args: &'a Value, key: &str) -> Option<&'a str> {
    args.get(key).and_then(Value::as_str)
}

fn arg_bool(args: &Value, key: &str) -> bool {
    args.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// The slot of the peer named (or addressed) `name`.
fn find<D: Daemon>(daemon: &D, args: &Value) -> Result<(usize, PeerSpec), String> {
    let name = arg_str(args, "name").ok_or("missing argument \"name\"")?;
    let addr: Option<IpAddr> = name.parse().ok();
    daemon
        .slots()
        .into_iter()
        .enumerate()
        .find_map(|(i, p)| {
            let p = p?;
            (p.name == name || Some(p.address) == addr).then_some((i, p))
        })
        .ok_or_else(|| format!("no peer named {name:?}"))
}

/// Ask the engine task and wait for its answer.
pub(super) async fn ask<D: Daemon>(daemon: &D, query: Query) -> Reply {
    let (tx, rx) = oneshot::channel();
    daemon.to_engine(EngineJob { query, reply: tx });
    rx.await
        .map_err(|_| "the engine task has stopped".to_string())?
}

async fn ask_main<D: Daemon>(
    daemon: &D,
    job: impl FnOnce(oneshot::Sender<Reply>) -> MainJob,
) -> Reply {
    let (tx, rx) = oneshot::channel();
    daemon.to_main(job(tx));
    rx.await.map_err(|_| "the daemon is stopping".to_string())?
}

/// Run one command.
async fn run<D: Daemon>(daemon: &Arc<D>, command: &str, args: &Value) -> Reply {
    match command {
        "summary" => summary(daemon.as_ref()).await,
        "neighbor" => neighbor(daemon.as_ref(), args).await,
        "route" => {
            let family = match arg_str(args, "family") {
                None => None,
                Some(f) => Some(parse_family(f)?),
            };
            ask(
                daemon.as_ref(),
                Query::Route {
                    prefix: arg_str(args, "prefix").map(str::to_string),
                    family,
                    all: arg_bool(args, "all_candidates"),
                },
            )
            .await
        }
        "adj-in" | "adj-out" => {
            let (slot, spec) = find(daemon.as_ref(), args)?;
            let q = if command == "adj-in" {
                Query::AdjIn(slot)
            } else {
                Query::AdjOut(slot)
            };
            let routes = ask(daemon.as_ref(), q).await?;
            Ok(json!({"peer": spec.name, "address": spec.address.to_string(), "routes": routes}))
        }
        "memory" => {
            let rib = ask(daemon.as_ref(), Query::Memory).await?;
            Ok(json!({"rib": rib, "process": process_memory()}))
        }
        "reset" => {
            let (slot, spec) = find(daemon.as_ref(), args)?;
            if arg_bool(args, "soft") {
                let q = Query::Refresh {
                    slot,
                    inbound: true,
                    outbound: true,
                };
                let r = ask(daemon.as_ref(), q).await?;
                info!(peer = %spec.name, "soft reset (reflector ctl)");
                return Ok(json!({"peer": spec.name, "action": "soft-reset", "message": r}));
            }
            let up = daemon.status(slot).lock().session.is_some();
            daemon.stop(slot, StopReason::Reset("reset by reflector ctl".into()));
            info!(peer = %spec.name, "session reset (reflector ctl): Cease, Administrative Reset");
            Ok(
                json!({"peer": spec.name, "action": "reset", "message": if up {
                    "Cease/Administrative Reset sent; the session comes back as configured"
                } else {
                    "the session was not established; any connection in progress was closed"
                }}),
            )
        }
        "refresh" => {
            let (slot, spec) = find(daemon.as_ref(), args)?;
            let q = Query::Refresh {
                slot,
                inbound: true,
                outbound: false,
            };
            let r = ask(daemon.as_ref(), q).await?;
            Ok(json!({"peer": spec.name, "action": "refresh", "message": r}))
        }
        "disable" => {
            let (slot, spec) = find(daemon.as_ref(), args)?;
            daemon
                .status(slot)
                .disabled
                .store(true, std::sync::atomic::Ordering::Relaxed);
            daemon.stop(
                slot,
                StopReason::Shutdown("disabled by the operator".into()),
            );
            info!(peer = %spec.name, "peer disabled (reflector ctl): Cease, Administrative Shutdown");
            Ok(json!({"peer": spec.name, "action": "disable",
                "message": "Cease/Administrative Shutdown sent; the peer stays down until `reflector ctl enable`"}))
        }
        "enable" => {
            let (slot, spec) = find(daemon.as_ref(), args)?;
            let was = daemon
                .status(slot)
                .disabled
                .swap(false, std::sync::atomic::Ordering::Relaxed);
            info!(peer = %spec.name, "peer enabled (reflector ctl)");
            Ok(
                json!({"peer": spec.name, "action": "enable", "message": if was {
                    "enabled: connections are accepted (and made, for active peers) again"
                } else {
                    "the peer was not disabled"
                }}),
            )
        }
        "reload" => ask_main(daemon.as_ref(), MainJob::Reload).await,
        "shutdown" => {
            let graceful = arg_bool(args, "graceful").then(|| {
                Duration::from_secs(
                    args.get("wait_seconds")
                        .and_then(Value::as_u64)
                        .unwrap_or(DEFAULT_GRACEFUL_WAIT),
                )
            });
            ask_main(daemon.as_ref(), |reply| MainJob::Shutdown {
                graceful,
                reply,
            })
            .await
        }
        other => Err(format!("unknown command {other:?}")),
    }
}

/// A family from its configuration name.
pub fn parse_family(s: &str) -> Result<AfiSafi, String> {
    super::config::family_by_name(s).ok_or_else(|| {
        let names: Vec<&str> = reflector_core::wire::family::KNOWN
            .iter()
            .filter_map(|f| reflector_core::wire::family::name(*f))
            .collect();
        format!("unknown family {s:?} ({})", names.join(", "))
    })
}

pub(super) fn role_name(r: Role) -> &'static str {
    match r {
        Role::Client => "client",
        Role::NonClient => "non-client",
        Role::Ebgp => "ebgp",
    }
}

fn seconds_since(t: Instant) -> u64 {
    t.elapsed().as_secs()
}

async fn summary<D: Daemon>(daemon: &D) -> Reply {
    let engine = ask(daemon, Query::Peers { advertised: true }).await?;
    let cfg = daemon.config();
    let mut peers = Vec::new();
    for (slot, spec) in daemon.slots().into_iter().enumerate() {
        let Some(spec) = spec else { continue };
        let st = daemon.status(slot);
        let e = engine.get(slot).cloned().unwrap_or(Value::Null);
        let (state, since) = {
            let i = st.lock();
            (i.state.as_str(), seconds_since(i.since))
        };
        let fam = |f: &str| {
            json!({
                "accepted": e["accepted"][f].as_u64().unwrap_or(0),
                "advertised": e["advertised"][f].as_u64().unwrap_or(0),
            })
        };
        peers.push(json!({
            "name": spec.name,
            "address": spec.address.to_string(),
            "asn": spec.asn,
            "role": role_name(spec.role),
            "state": state,
            "state_seconds": since,
            "disabled": st.is_disabled(),
            "prefixes_received": e["counters"]["prefixes_received"].as_u64().unwrap_or(0),
            "updates_received": e["counters"]["updates_received"].as_u64().unwrap_or(0),
            "updates_sent": e["counters"]["updates_sent"].as_u64().unwrap_or(0),
            "families": {
                "ipv4-unicast": fam("ipv4-unicast"),
                "ipv6-unicast": fam("ipv6-unicast"),
            },
        }));
    }
    let rib = ask(daemon, Query::Memory).await?;
    Ok(json!({
        "router_id": cfg.router_id.to_string(),
        "asn": cfg.asn,
        "cluster_id": cfg.cluster_id.unwrap_or(cfg.router_id).to_string(),
        "uptime_seconds": seconds_since(daemon.started()),
        "rib": {
            "ipv4_prefixes": rib["ipv4_prefixes"],
            "ipv6_prefixes": rib["ipv6_prefixes"],
            "paths": rib["paths"],
        },
        "peers": peers,
    }))
}

fn families(s: reflector_core::wire::AfiSafiSet) -> Value {
    Value::from(
        [AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST]
            .into_iter()
            .filter(|f| s.contains(*f))
            .map(family_name)
            .collect::<Vec<_>>(),
    )
}

fn family_of(p: &Prefix) -> AfiSafi {
    match p {
        Prefix::V4(_) => AfiSafi::IPV4_UNICAST,
        Prefix::V6(_) => AfiSafi::IPV6_UNICAST,
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A NOTIFICATION's names and data, decoded.
fn notification_json(sent: bool, code: u8, subcode: u8) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "direction".into(),
        (if sent { "sent" } else { "received" }).into(),
    );
    m.insert("code".into(), code.into());
    m.insert("subcode".into(), subcode.into());
    m.insert("code_name".into(), code_name(code).into());
    m.insert("subcode_name".into(), subcode_name(code, subcode).into());
    m
}

async fn neighbor<D: Daemon>(daemon: &D, args: &Value) -> Reply {
    let only = match arg_str(args, "name") {
        Some(_) => Some(find(daemon, args)?.0),
        None => None,
    };
    let engine = ask(daemon, Query::Peers { advertised: true }).await?;
    let mut peers = Vec::new();
    for (slot, spec) in daemon.slots().into_iter().enumerate() {
        let Some(spec) = spec else { continue };
        if only.is_some_and(|o| o != slot) {
            continue;
        }
        let st = daemon.status(slot);
        let e = engine.get(slot).cloned().unwrap_or(Value::Null);
        let i = st.lock();
        let session = i.session.as_ref().map(|s| {
            let n = &s.negotiated;
            json!({
                "remote": s.remote.map(|a| a.to_string()),
                "local": s.local.map(|a| a.to_string()),
                "outbound": s.outbound,
                "router_id": s.router_id.to_string(),
                "hold_time": n.hold_time,
                "keepalive_time": n.hold_time / 3,
                "four_octet_as": n.four_octet_as,
                "extended_message": n.extended_message,
                "route_refresh": n.route_refresh,
                "enhanced_route_refresh": n.enhanced_route_refresh,
                "graceful_restart_time": n.graceful_restart,
                "families": n.families.as_slice().iter().map(|f| family_name(*f)).collect::<Vec<_>>(),
                "add_path_receive": families(n.add_path_receive),
                "add_path_send": families(n.add_path_send),
                "extended_next_hop": families(n.extended_next_hop),
                "local_role": n.local_role.map(|r| r.as_str()),
                "peer_role": n.peer_role.map(|r| r.as_str()),
                "disabled_families": e["disabled_families"].clone(),
            })
        });
        let mut messages = Map::new();
        for (dir, t) in [("received", &st.rx), ("sent", &st.tx)] {
            let mut d = Map::new();
            for (k, name) in MESSAGE_TYPES.iter().enumerate() {
                let (m, b) = t.get(k);
                d.insert((*name).into(), json!({"messages": m, "bytes": b}));
            }
            messages.insert(dir.into(), Value::Object(d));
        }
        let notifications: Vec<Value> = i
            .notifications
            .iter()
            .map(|((sent, c, s), n)| {
                let mut m = notification_json(*sent, *c, *s);
                m.insert("count".into(), (*n).into());
                Value::Object(m)
            })
            .collect();
        let last_error = i.last_error.as_ref().map(|l| {
            let mut m = notification_json(l.sent, l.code, l.subcode);
            m.insert("data".into(), hex(&l.data).into());
            m.insert("shutdown_message".into(), l.shutdown.clone().into());
            m.insert(
                "seconds_ago".into(),
                SystemTime::now()
                    .duration_since(l.at)
                    .map_or(0, |d| d.as_secs())
                    .into(),
            );
            Value::Object(m)
        });
        peers.push(json!({
            "name": spec.name,
            "address": spec.address.to_string(),
            "asn": spec.asn,
            "role": role_name(spec.role),
            "passive": spec.passive,
            "configured_hold_time": spec.hold_time,
            "configured_families": spec.families.iter().map(|f| family_name(*f)).collect::<Vec<_>>(),
            "state": i.state.as_str(),
            "state_seconds": seconds_since(i.since),
            "disabled": st.is_disabled(),
            "established_transitions": i.established_count,
            "session": session,
            "prefixes": {
                "accepted": e["accepted"].clone(),
                "advertised": e["advertised"].clone(),
            },
            "counters": e["counters"].clone(),
            "messages": messages,
            "notifications": notifications,
            "last_error": last_error,
        }));
    }
    Ok(json!({ "peers": peers }))
}

/// The process's resident memory from `/proc/self/status` (Linux), in bytes.
pub(super) fn process_memory() -> Value {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |key: &str| -> Option<u64> {
        let line = text.lines().find(|l| l.starts_with(key))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb * 1024)
    };
    json!({
        "resident_bytes": field("VmRSS:"),
        "peak_resident_bytes": field("VmHWM:"),
    })
}

// ---- The engine task's side ----

/// The engine task's view for a control job.
pub(super) struct EngineSide<'a> {
    /// The engine.
    pub engine: &'a mut Engine,
    /// Per slot, the engine's peer.
    pub ids: &'a [Option<PeerId>],
    /// Per slot, the peer's name.
    pub names: &'a [String],
    /// Per slot, whether the live session negotiated ROUTE-REFRESH (`None`: not up).
    pub route_refresh: Vec<Option<bool>>,
}

impl EngineSide<'_> {
    fn id(&self, slot: usize) -> Result<PeerId, String> {
        self.ids
            .get(slot)
            .copied()
            .flatten()
            .ok_or_else(|| "the peer was removed".to_string())
    }

    fn peer_name(&self, id: PeerId) -> Value {
        if id == PeerId::LOCAL {
            return "local".into();
        }
        self.ids
            .iter()
            .position(|p| *p == Some(id))
            .and_then(|i| self.names.get(i))
            .map_or(Value::Null, |n| n.as_str().into())
    }

    /// Answer a job.
    pub fn answer(mut self, job: EngineJob) {
        let r = self.run(job.query);
        let _ = job.reply.send(r);
    }

    fn run(&mut self, q: Query) -> Reply {
        let fams = [AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST];
        match q {
            Query::Peers { advertised } => {
                let mut out = Vec::new();
                for id in self.ids {
                    let Some(id) = *id else {
                        out.push(Value::Null);
                        continue;
                    };
                    let mut acc = Map::new();
                    for f in fams {
                        acc.insert(family_name(f), self.engine.accepted_paths(id, f).into());
                    }
                    let mut adv = Map::new();
                    if advertised {
                        let (v4, v6) = self.engine.adj_rib_out_counts(id);
                        adv.insert(family_name(fams[0]), v4.into());
                        adv.insert(family_name(fams[1]), v6.into());
                    }
                    out.push(json!({
                        "up": self.engine.is_up(id),
                        "accepted": acc,
                        "advertised": adv,
                        "disabled_families": families(self.engine.disabled_families(id)),
                        "attr_bytes": self.engine.attr_bytes(id),
                        "counters": self.engine.counters(id).map(counters_json),
                    }));
                }
                Ok(Value::from(out))
            }
            Query::Families => {
                let mut out = Map::new();
                for f in reflector_core::wire::family::KNOWN {
                    let Some((routes, paths)) = self.engine.keyed_counts(f) else {
                        continue;
                    };
                    let accepted: Vec<Value> = self
                        .ids
                        .iter()
                        .map(|id| match id {
                            Some(id) => self.engine.accepted_paths(*id, f).into(),
                            None => Value::Null,
                        })
                        .collect();
                    out.insert(
                        family_name(f),
                        json!({"prefixes": routes, "paths": paths, "accepted": accepted}),
                    );
                }
                Ok(Value::Object(out))
            }
            Query::Memory => {
                let m = self.engine.memory();
                let (v4, v6) = self.engine.prefix_counts();
                let (p4, p6) = self.engine.path_counts();
                Ok(json!({
                    "ipv4_prefixes": v4,
                    "ipv6_prefixes": v6,
                    "ipv4_paths": p4,
                    "ipv6_paths": p6,
                    "prefixes": m.prefixes,
                    "paths": m.paths,
                    "attr_sets": m.attr_sets,
                    "table_bytes": m.table_bytes,
                    "attr_bytes": m.attr_bytes,
                }))
            }
            Query::AdjIn(slot) => {
                use reflector_core::wire::family::{NlriText, KNOWN};
                let id = self.id(slot)?;
                let entry =
                    |route: String, f: AfiSafi, v: &reflector_core::engine::PathView<'_>| {
                        json!({
                            "prefix": route,
                            "family": family_name(f),
                            "path_id": v.remote_id,
                            "reachable": v.reachable,
                            "attributes": attributes_json(v.set.block(), v.set.mp_next_hop()),
                        })
                    };
                let mut routes: Vec<Value> = self
                    .engine
                    .adj_rib_in(id)
                    .iter()
                    .map(|(p, v)| entry(p.to_string(), family_of(p), v))
                    .collect();
                // Then the families beyond unicast, each route by its NLRI as the peer sent it.
                let keyed_families = KNOWN
                    .into_iter()
                    .filter(|f| *f != AfiSafi::IPV4_UNICAST && *f != AfiSafi::IPV6_UNICAST);
                for f in keyed_families {
                    let mut keyed: Vec<(String, Value)> = Vec::new();
                    for r in self.engine.keyed_table(f) {
                        for (nlri, v, _) in r.paths.iter().filter(|(_, v, _)| v.peer == id) {
                            let text = NlriText { family: f, nlri }.to_string();
                            keyed.push((text.clone(), entry(text, f, v)));
                        }
                    }
                    keyed.sort_by(|a, b| a.0.cmp(&b.0));
                    routes.extend(keyed.into_iter().map(|(_, v)| v));
                }
                Ok(Value::from(routes))
            }
            Query::AdjOut(slot) => {
                use reflector_core::wire::family::{NlriText, KNOWN};
                let id = self.id(slot)?;
                let entry = |route: String, f: AfiSafi, b: &reflector_core::reflect::OutBlock| {
                    json!({
                        "prefix": route,
                        "family": family_name(f),
                        "attributes": attributes_json(&b.attrs, b.mp_next_hop.as_deref()),
                    })
                };
                let mut routes: Vec<Value> = self
                    .engine
                    .adj_rib_out(id)
                    .iter()
                    .map(|(p, b)| entry(p.to_string(), family_of(p), b))
                    .collect();
                let keyed_families = KNOWN
                    .into_iter()
                    .filter(|f| *f != AfiSafi::IPV4_UNICAST && *f != AfiSafi::IPV6_UNICAST);
                for f in keyed_families {
                    let mut keyed: Vec<(String, Value)> = self
                        .engine
                        .keyed_adj_rib_out(id, f)
                        .iter()
                        .map(|(nlri, b)| {
                            let text = NlriText { family: f, nlri }.to_string();
                            (text.clone(), entry(text, f, b))
                        })
                        .collect();
                    keyed.sort_by(|a, b| a.0.cmp(&b.0));
                    routes.extend(keyed.into_iter().map(|(_, v)| v));
                }
                Ok(Value::from(routes))
            }
            Query::Route {
                prefix,
                family,
                all,
            } => self.routes(prefix.as_deref(), family, all),
            Query::Refresh {
                slot,
                inbound,
                outbound,
            } => {
                let id = self.id(slot)?;
                let Some(Some(rr)) = self.route_refresh.get(slot).copied() else {
                    return Err("the session is not established".into());
                };
                let neg = self
                    .engine
                    .negotiated(id)
                    .ok_or("the session is not established")?;
                let mut done = Vec::new();
                if inbound {
                    if !rr {
                        return Err("the peer did not negotiate ROUTE-REFRESH (RFC 2918): use `reflector ctl reset` without --soft".into());
                    }
                    let n = fams
                        .iter()
                        .filter(|f| {
                            neg.families.contains(**f) && self.engine.request_refresh(id, **f)
                        })
                        .count();
                    done.push(format!("ROUTE-REFRESH sent for {n} families"));
                }
                if outbound {
                    let mut n = 0;
                    for f in fams.iter().filter(|f| neg.families.contains(**f)) {
                        self.engine.route_refresh(id, *f);
                        n += 1;
                    }
                    done.push(format!("routes sent again for {n} families"));
                }
                Ok(Value::from(done.join("; ")))
            }
            Query::GracefulShutdown => {
                let requires = self.engine.config().ebgp_requires_policy;
                let mut n = 0u64;
                let ids: Vec<PeerId> = self.ids.iter().flatten().copied().collect();
                for id in ids {
                    let Some(cfg) = self.engine.peer_config(id).copied() else {
                        continue;
                    };
                    let current = self.engine.policies(id).1.cloned();
                    // RFC 8212: an eBGP peer without an export policy is sent nothing; it stays so.
                    if current.is_none() && requires && cfg.role == Role::Ebgp {
                        continue;
                    }
                    let ibgp = cfg.role != Role::Ebgp;
                    self.engine.set_export_policy(
                        id,
                        Some(graceful_shutdown_policy(current.as_ref(), ibgp)),
                    );
                    n += 1;
                }
                Ok(Value::from(n))
            }
        }
    }

    fn routes(&self, prefix: Option<&str>, family: Option<AfiSafi>, all: bool) -> Reply {
        if let Some(f) =
            family.filter(|f| *f != AfiSafi::IPV4_UNICAST && *f != AfiSafi::IPV6_UNICAST)
        {
            return self.keyed_routes(f, prefix, all);
        }
        let mut prefixes: Vec<Prefix> = match prefix {
            Some(s) if s.contains('/') => {
                vec![s.parse::<Prefix>().map_err(|e| format!("{s:?}: {e}"))?]
            }
            Some(s) => {
                let a: IpAddr = s
                    .parse()
                    .map_err(|_| format!("{s:?} is neither a prefix nor an address"))?;
                let covering = self
                    .engine
                    .loc_rib()
                    .into_iter()
                    .map(|(p, _)| p)
                    .filter(|p| prefix_holds(p, a))
                    .max_by_key(Prefix::len);
                covering.into_iter().collect()
            }
            None => self.engine.loc_rib().into_iter().map(|(p, _)| p).collect(),
        };
        if let Some(f) = family {
            prefixes.retain(|p| family_of(p) == f);
        }
        let mut out = Vec::new();
        for p in prefixes {
            let cands = self.engine.explain_candidates(&p);
            let best_ok = cands.first().is_some_and(|(v, _)| v.reachable);
            let paths: Vec<Value> = cands
                .iter()
                .enumerate()
                .take(if all { usize::MAX } else { 1 })
                .map(|(i, (v, step))| self.path_json(i == 0 && best_ok, p.to_string(), v, *step))
                .collect();
            if paths.is_empty() {
                continue;
            }
            out.push(json!({
                "prefix": p.to_string(),
                "family": family_name(family_of(&p)),
                "candidates": cands.len(),
                "paths": paths,
            }));
        }
        Ok(json!({ "routes": out }))
    }

    /// One candidate path of `show route`: `nlri` the route as the path carries it.
    fn path_json(
        &self,
        best: bool,
        nlri: String,
        v: &reflector_core::engine::PathView<'_>,
        step: Option<reflector_core::decision::Step>,
    ) -> Value {
        let addr = self
            .engine
            .peer_config(v.peer)
            .map(|c| c.address.to_string());
        json!({
            "best": best,
            "nlri": nlri,
            "peer": self.peer_name(v.peer),
            "peer_address": addr,
            "path_id": v.remote_id,
            "reachable": v.reachable,
            "lost_at": step.map(|s| s.name()),
            "attributes": attributes_json(v.set.block(), v.set.mp_next_hop()),
        })
    }

    /// The routes of a family beyond unicast, each named by its NLRI as
    /// text; `filter`, when given, keeps those whose text contains it.
    fn keyed_routes(&self, f: AfiSafi, filter: Option<&str>, all: bool) -> Reply {
        use reflector_core::wire::family::NlriText;
        let mut out = Vec::new();
        for r in self.engine.keyed_table(f) {
            let Some((nlri, best, _)) = r.paths.first() else {
                continue;
            };
            let text = NlriText { family: f, nlri }.to_string();
            if filter.is_some_and(|x| !text.contains(x)) {
                continue;
            }
            let best_ok = best.reachable;
            let paths: Vec<Value> = r
                .paths
                .iter()
                .enumerate()
                .take(if all { usize::MAX } else { 1 })
                .map(|(i, (nlri, v, step))| {
                    let text = NlriText { family: f, nlri }.to_string();
                    self.path_json(i == 0 && best_ok, text, v, *step)
                })
                .collect();
            out.push((
                text.clone(),
                json!({
                    "prefix": text,
                    "family": family_name(f),
                    "candidates": r.paths.len(),
                    "paths": paths,
                }),
            ));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(json!({ "routes": out.into_iter().map(|(_, v)| v).collect::<Vec<_>>() }))
    }
}

/// Whether `p` holds address `a`.
fn prefix_holds(p: &Prefix, a: IpAddr) -> bool {
    match (p, a) {
        (Prefix::V4(p), IpAddr::V4(a)) => {
            let len = u32::from(p.len());
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            (a.to_bits() & mask) == (p.addr().to_bits() & mask)
        }
        (Prefix::V6(p), IpAddr::V6(a)) => {
            let len = u32::from(p.len());
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len)
            };
            (a.to_bits() & mask) == (p.addr().to_bits() & mask)
        }
        _ => false,
    }
}

/// The export policy RFC 8326 calls for during a graceful shutdown: the
/// peer's own export policy (if any) with GRACEFUL_SHUTDOWN added, and for
/// iBGP LOCAL_PREF 0, on every route it accepts: after each accepting
/// statement's own actions, and at its end for its default.
pub fn graceful_shutdown_policy(current: Option<&Policy>, ibgp: bool) -> Policy {
    let mut actions = vec![Modify::Communities(CommunityEdit::Add(vec![
        GRACEFUL_SHUTDOWN,
    ]))];
    if ibgp {
        actions.push(Modify::SetLocalPref(0));
    }
    let mut p = current
        .cloned()
        .unwrap_or_else(|| Policy::new("", Verdict::Accept));
    for s in p
        .statements
        .iter_mut()
        .filter(|s| s.verdict == Verdict::Accept)
    {
        s.actions.extend(actions.iter().cloned());
    }
    let mut last = Statement::new("graceful-shutdown", Verdict::Next);
    last.actions = actions;
    p.statements.push(last);
    p.name = if p.name.is_empty() {
        "graceful-shutdown".into()
    } else {
        format!("{}+graceful-shutdown", p.name)
    };
    p
}

/// Every counter of a peer, by name.
pub fn counters_json(c: reflector_core::engine::PeerCounters) -> Value {
    json!({
        "updates_received": c.updates_received,
        "prefixes_received": c.prefixes_received,
        "withdrawals_received": c.withdrawals_received,
        "accepted": c.accepted,
        "rejected_loop": c.rejected_loop,
        "treat_as_withdraw": c.treat_as_withdraw,
        "attribute_discard": c.attribute_discard,
        "session_resets": c.session_resets,
        "route_refreshes": c.route_refreshes,
        "updates_sent": c.updates_sent,
        "prefixes_sent": c.prefixes_sent,
        "withdrawals_sent": c.withdrawals_sent,
        "encode_overflows": c.encode_overflows,
        "graceful_restarts": c.graceful_restarts,
        "stale_marked": c.stale_marked,
        "stale_removed": c.stale_removed,
        "transmit_pauses": c.transmit_pauses,
        "prefix_limit_hits": c.prefix_limit_hits,
        "paths_refused": c.paths_refused,
        "attr_limit_refused": c.attr_limit_refused,
        "unnegotiated_prefixes": c.unnegotiated_prefixes,
        "unknown_family_attrs": c.unknown_family_attrs,
        "families_disabled": c.families_disabled,
        "policy_rejected_in": c.policy_rejected_in,
        "policy_modified_in": c.policy_modified_in,
        "policy_rejected_out": c.policy_rejected_out,
    })
}

fn as_path_text(p: &AsPath) -> String {
    let mut out = Vec::new();
    for s in &p.segments {
        let asns: Vec<String> = s.asns.iter().map(u32::to_string).collect();
        out.push(match s.kind {
            SegmentType::Sequence => asns.join(" "),
            SegmentType::Set => format!("{{{}}}", asns.join(",")),
            SegmentType::ConfedSequence => format!("({})", asns.join(" ")),
            SegmentType::ConfedSet => format!("[{}]", asns.join(",")),
        });
    }
    out.join(" ")
}

fn next_hop(nh: &[u8]) -> Option<String> {
    match nh.len() {
        // VPN next hops: an RD of zeros before the address (RFC 4364 §4.3.2, RFC 4659 §3.2.1).
        12 | 24 | 48 => next_hop(nh.get(8..8 + (nh.len() - 8).min(16))?),
        4 => {
            let b: [u8; 4] = nh.try_into().ok()?;
            Some(Ipv4Addr::from(b).to_string())
        }
        16 | 32 => {
            let b: [u8; 16] = nh.get(..16)?.try_into().ok()?;
            Some(Ipv6Addr::from(b).to_string())
        }
        _ => None,
    }
}

/// A path's attributes as `show` prints them (every key always present).
pub fn attributes_json(block: &[u8], mp_next_hop: Option<&[u8]>) -> Value {
    let mut m = json!({
        "origin": null, "as_path": "", "next_hop": mp_next_hop.and_then(next_hop),
        "med": null, "local_pref": null, "communities": [], "large_communities": [],
        "extended_communities": [], "originator_id": null, "cluster_list": [],
        "atomic_aggregate": false, "aggregator": null, "otc": null, "other": [],
    });
    for a in decode_block(block) {
        match a.value {
            AttributeValue::Origin(o) => {
                m["origin"] = match o {
                    Origin::Igp => "igp",
                    Origin::Egp => "egp",
                    Origin::Incomplete => "incomplete",
                }
                .into()
            }
            AttributeValue::AsPath(p) => m["as_path"] = as_path_text(&p).into(),
            AttributeValue::NextHop(a) => {
                if m["next_hop"].is_null() {
                    m["next_hop"] = a.to_string().into();
                }
            }
            AttributeValue::Med(v) => m["med"] = v.into(),
            AttributeValue::LocalPref(v) => m["local_pref"] = v.into(),
            AttributeValue::AtomicAggregate => m["atomic_aggregate"] = true.into(),
            AttributeValue::Aggregator(a) | AttributeValue::As4Aggregator(a) => {
                m["aggregator"] = json!({"asn": a.asn, "address": a.address.to_string()})
            }
            AttributeValue::Communities(v) => {
                m["communities"] = v
                    .iter()
                    .map(|c| format!("{}:{}", c >> 16, c & 0xffff))
                    .collect::<Vec<_>>()
                    .into()
            }
            AttributeValue::LargeCommunities(v) => {
                m["large_communities"] = v
                    .iter()
                    .map(|c| format!("{}:{}:{}", c.global, c.local1, c.local2))
                    .collect::<Vec<_>>()
                    .into()
            }
            AttributeValue::ExtendedCommunities(v) => {
                m["extended_communities"] = v.iter().map(|c| hex(c)).collect::<Vec<_>>().into()
            }
            AttributeValue::OriginatorId(a) => m["originator_id"] = a.to_string().into(),
            AttributeValue::ClusterList(v) => {
                m["cluster_list"] = v
                    .iter()
                    .map(|c| Ipv4Addr::from_bits(*c).to_string())
                    .collect::<Vec<_>>()
                    .into()
            }
            AttributeValue::Otc(v) => m["otc"] = v.into(),
            AttributeValue::MpReach(r) => {
                if let Some(nh) = next_hop(&r.next_hop) {
                    m["next_hop"] = nh.into();
                }
            }
            other => {
                let t = other.type_code();
                let value = match &other {
                    AttributeValue::Unknown { value, .. } => hex(value),
                    _ => String::new(),
                };
                if let Some(list) = m["other"].as_array_mut() {
                    list.push(json!({"type": t, "value": value}));
                }
            }
        }
    }
    m
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use reflector_core::policy::{Condition, PrefixRange};

    #[test]
    fn graceful_shutdown_policy_marks_every_accepted_route() {
        let none = graceful_shutdown_policy(None, true);
        assert_eq!(none.default, Verdict::Accept);
        assert_eq!(none.statements.len(), 1);
        assert_eq!(
            none.statements[0].actions,
            vec![
                Modify::Communities(CommunityEdit::Add(vec![GRACEFUL_SHUTDOWN])),
                Modify::SetLocalPref(0)
            ]
        );
        // eBGP: the community only (LOCAL_PREF does not cross AS borders).
        let ebgp = graceful_shutdown_policy(None, false);
        assert_eq!(ebgp.statements[0].actions.len(), 1);
        // An existing policy keeps its verdicts; accepting statements get the actions after theirs.
        let mut p = Policy::new("out", Verdict::Reject);
        p.push(
            Statement::new("a", Verdict::Accept)
                .when(Condition::Prefix(vec![PrefixRange::or_longer(
                    "10.0.0.0/8".parse().unwrap(),
                )]))
                .then(Modify::SetLocalPref(300)),
        );
        p.push(Statement::new("r", Verdict::Reject));
        let g = graceful_shutdown_policy(Some(&p), true);
        assert_eq!(g.default, Verdict::Reject);
        assert_eq!(g.name, "out+graceful-shutdown");
        assert_eq!(g.statements[0].actions.len(), 3);
        assert_eq!(g.statements[0].actions[2], Modify::SetLocalPref(0));
        assert!(g.statements[1].actions.is_empty());
        assert_eq!(g.statements[2].verdict, Verdict::Next);
    }

    #[test]
    fn addresses_fall_in_their_prefixes() {
        let p: Prefix = "10.1.0.0/16".parse().unwrap();
        assert!(prefix_holds(&p, "10.1.2.3".parse().unwrap()));
        assert!(!prefix_holds(&p, "10.2.0.1".parse().unwrap()));
        let p: Prefix = "2001:db8::/32".parse().unwrap();
        assert!(prefix_holds(&p, "2001:db8::1".parse().unwrap()));
        assert!(!prefix_holds(&p, "10.1.2.3".parse().unwrap()));
    }

    #[test]
    fn toml_tables() {
        let o = OpsConfig::from_toml(
            Some(&TomlControl {
                socket: Some("/tmp/x.sock".into()),
            }),
            Some(&TomlMetrics {
                listen: Some("127.0.0.1:9179".into()),
            }),
        )
        .unwrap();
        assert_eq!(o.control_socket, Some(PathBuf::from("/tmp/x.sock")));
        assert_eq!(o.metrics, Some("127.0.0.1:9179".parse().unwrap()));
        let e = OpsConfig::from_toml(
            None,
            Some(&TomlMetrics {
                listen: Some("nope".into()),
            }),
        )
        .unwrap_err();
        assert_eq!(e.field, "metrics.listen");
    }
}

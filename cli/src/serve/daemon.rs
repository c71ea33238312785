//! The tokio side of `reflector serve`: listeners, connectors, one task per
//! connection driving a session, one task owning the engine.

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use reflector_core::engine::{self, Engine, EngineConfig, Outcome, PeerConfig, Reimport};
use reflector_core::policy::Policy;
use reflector_core::reflect::Role;
use reflector_core::rib::PeerId;
use reflector_core::session::{
    collision_survivor, shutdown_text, Session, SessionConfig, SessionEvent, StopReason, Survivor,
};
use reflector_core::wire::capability::{AddPathFamily, GracefulRestartFamily};
use reflector_core::wire::notification::NotificationRepr;
use reflector_core::wire::{AfiSafi, AfiSafiSet};
use reflector_core::Error;
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{mpsc, oneshot, watch, Notify, Semaphore};
use tracing::{debug, info, warn};

use super::bmp;
use super::config::{Config, ConfigError, PeerSpec};
use super::control::{self, MainJob};
use super::heap;
use super::reload::{self, Stop};
use super::sock;
use super::status::{PeerStatus, Scan, SessionInfo, Statuses};

/// NOTIFICATION code of Hold Timer Expired (RFC 4271 §4.5): the session may restart gracefully.
const HOLD_TIMER_EXPIRED: u8 = 4;
/// Text of the Cease sent to every peer on SIGTERM/SIGINT.
const SHUTDOWN_TEXT: &str = "Reflector is shutting down";
/// Read size: each worker thread has one buffer of this size, shared by every
/// connection it serves (a connection keeps only the partial message it has).
const READ_BUF: usize = 64 * 1024;
/// Channel messages queued for the engine, at most (each is one read's worth
/// of messages from one connection; their bytes are bounded by [`ENGINE_INPUT`]).
const ENGINE_QUEUE: usize = 4096;
/// Input bytes read ahead of the engine, at most, over all connections: a
/// connection takes its messages' size from this budget before queueing them,
/// and the engine gives it back when it takes them off the queue.
const ENGINE_INPUT: usize = 1 << 20;
/// Input bytes the engine handles before writing output, at most: the decision
/// process and the encoder's working set grow with the changes of one flush.
const ENGINE_BATCH_BYTES: usize = 1 << 20;
/// Output bytes queued for one peer above which the engine waits for its writer.
const HIGH_WATER: usize = 2 << 20;
/// Longest the engine waits for a slow writer before going on anyway.
const MAX_STALL: Duration = Duration::from_secs(2);
/// A peer above [`HIGH_WATER`] whose socket took nothing for this long has
/// stopped reading: its output is paused (the engine keeps the changed
/// prefixes instead of bytes) and nobody waits for it any more.
const NO_PROGRESS: Duration = Duration::from_millis(100);
/// A paused peer is resumed once its queued output falls below this.
const LOW_WATER: usize = 256 << 10;

/// Something the engine task tells a connection.
enum Ctl {
    /// The engine rejected a message: send its NOTIFICATION and close.
    Fail(Error, Bytes),
    /// Close with this Cease.
    Stop(StopReason),
    /// Send this NOTIFICATION and close.
    Notify(NotificationRepr),
}

/// Cease, Other Configuration Change (RFC 4486 subcode 6).
fn other_configuration_change() -> NotificationRepr {
    NotificationRepr {
        code: reflector_core::error::code::CEASE,
        subcode: reflector_core::error::subcode::CEASE_OTHER_CONFIG_CHANGE,
        data: Vec::new(),
    }
}

/// What connections tell the engine task.
enum ToEngine {
    Up {
        peer: usize,
        conn: u64,
        neg: engine::Negotiated,
        /// Families with forwarding state preserved, when the peer advertised graceful restart.
        graceful: Option<AfiSafiSet>,
        /// Both sides advertised ROUTE-REFRESH (RFC 2918).
        route_refresh: bool,
        link: Arc<Link>,
    },
    Msgs {
        peer: usize,
        conn: u64,
        msgs: Vec<Bytes>,
        /// Bytes taken from the input budget, given back once handled.
        budget: u32,
    },
    Down {
        peer: usize,
        conn: u64,
        /// The session ended without a NOTIFICATION and the peer advertised graceful
        /// restart: its restart time and the families whose routes it asked to keep.
        graceful: Option<(u16, AfiSafiSet)>,
    },
    /// A paused peer's socket took its queued output: send it what changed.
    Drained {
        peer: usize,
        conn: u64,
    },
    /// A restart timer armed at a graceful down expired.
    RestartExpired {
        peer: usize,
        epoch: u64,
    },
    /// A new configuration: apply its peer and policy changes, then answer.
    Reload(EngineReload, oneshot::Sender<()>),
    /// Every second while BMP is on: Loc-RIB dumps and Statistics Reports (see `bmp.rs`).
    BmpTick,
    /// A question or an action from the control socket.
    Control(control::EngineJob),
    /// The Selection_Deferral_Timer of a restart expired (RFC 4724 §4.1).
    DeferralExpired,
    Finish(oneshot::Sender<()>),
}

/// The engine's part of a reload (see [`reload::Plan`]).
struct EngineReload {
    /// Slots whose peer is removed from the engine.
    remove: Vec<usize>,
    /// Peers added, in the slots that follow the existing ones.
    add: Vec<PeerSetup>,
    /// New policies of peers that keep their session.
    policies: Vec<reload::PolicyChange>,
}

/// A peer as the engine task sets it up.
struct PeerSetup {
    name: String,
    config: PeerConfig,
    import: Option<Policy>,
    export: Option<Policy>,
}

impl PeerSetup {
    fn new(cfg: &Config, p: &PeerSpec) -> Self {
        PeerSetup {
            name: p.name.clone(),
            config: peer_config(cfg, p),
            import: p.import.clone(),
            export: p.export.clone(),
        }
    }
}

struct ConnEntry {
    id: u64,
    outbound: bool,
    remote_id: Option<u32>,
    established: bool,
    link: Arc<Link>,
}

/// What the engine task and one connection share: the connection's output
/// queue and its control requests. An idle link holds no buffers.
#[derive(Default)]
struct Link {
    state: Mutex<LinkState>,
    /// Output bytes queued and not yet written.
    queued: AtomicUsize,
    /// Output bytes written so far.
    written: AtomicU64,
    /// The engine paused this peer's output; the writer reports when it has drained.
    paused: std::sync::atomic::AtomicBool,
    /// Wakes the writer: output queued, or the connection closing.
    out_ready: Notify,
    /// Wakes the connection: a control request.
    ctl_ready: Notify,
    /// The peer's status: messages sent are counted as they are queued.
    stats: Option<Arc<PeerStatus>>,
}

#[derive(Default)]
struct LinkState {
    out: VecDeque<Bytes>,
    ctl: Vec<Ctl>,
    /// No more output: the writer finishes what is queued and exits.
    closed: bool,
    /// The socket failed: output is dropped.
    broken: bool,
    /// Follows the message headers of the output, for the counters.
    scan: Scan,
}

impl Link {
    fn state(&self) -> MutexGuard<'_, LinkState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queue bytes for the peer (dropped once the socket has failed).
    fn send(&self, b: Bytes) {
        if b.is_empty() {
            return;
        }
        let mut st = self.state();
        if st.broken || st.closed {
            return;
        }
        self.queued.fetch_add(b.len(), Ordering::Relaxed);
        if let Some(stats) = &self.stats {
            st.scan.feed(&b, &stats.tx);
        }
        st.out.push_back(b);
        drop(st);
        self.out_ready.notify_one();
    }

    /// Ask the connection to act.
    fn control(&self, c: Ctl) {
        self.state().ctl.push(c);
        self.ctl_ready.notify_one();
    }

    fn take_control(&self) -> Vec<Ctl> {
        std::mem::take(&mut self.state().ctl)
    }

    /// No more output: the writer drains the queue and shuts the socket down.
    fn close(&self) {
        self.state().closed = true;
        self.out_ready.notify_one();
    }
}

struct Shared {
    /// The global settings (its `peers` are in `slots`).
    cfg: Config,
    /// Every peer ever configured, by slot (`None` once removed by a reload):
    /// connections, the engine task and the hold-offs use the slot number.
    slots: Mutex<Vec<Option<PeerSpec>>>,
    start: Instant,
    conns: Mutex<Vec<Vec<ConnEntry>>>,
    next_conn: AtomicU64,
    engine: mpsc::Sender<ToEngine>,
    /// The input budget ([`ENGINE_INPUT`] bytes) shared by every connection.
    input: Arc<Semaphore>,
    hold_off: Arc<HoldOff>,
    shutdown: watch::Receiver<bool>,
    /// The listening sockets, for TCP-MD5 keys changed by a reload.
    listeners: Vec<(SocketAddr, Arc<TcpListener>)>,
    /// The BMP client, when collectors are configured.
    bmp: Option<bmp::Bmp>,
    /// Per peer, what `reflector show` and the metrics read.
    status: Statuses,
    /// Jobs for the main loop from the control socket.
    main: mpsc::UnboundedSender<MainJob>,
    /// RFC 4724: we restarted and defer route selection (the Restart State
    /// bit of the OPENs we send); cleared when the deferral ends.
    restarting: Arc<AtomicBool>,
}

impl control::Daemon for Shared {
    fn config(&self) -> &Config {
        &self.cfg
    }
    fn started(&self) -> Instant {
        self.start
    }
    fn slots(&self) -> Vec<Option<PeerSpec>> {
        Shared::slots(self).clone()
    }
    fn status(&self, slot: usize) -> Arc<PeerStatus> {
        self.status.get(slot)
    }
    fn stop(&self, slot: usize, why: StopReason) {
        for c in self.conns().get(slot).into_iter().flatten() {
            c.link.control(Ctl::Stop(why.clone()));
        }
    }
    fn to_engine(&self, job: control::EngineJob) {
        let tx = self.engine.clone();
        tokio::spawn(async move { tx.send(ToEngine::Control(job)).await });
    }
    fn to_main(&self, job: MainJob) {
        let _ = self.main.send(job);
    }
}

/// Peers whose connections are refused for a while: a prefix limit ended
/// their session and `max_prefixes_restart` is set.
struct HoldOff {
    /// Per peer: the configured hold-off, and until when its connections are refused.
    peers: Mutex<Vec<(Option<u16>, Option<Instant>)>>,
}

impl HoldOff {
    fn new(cfg: &Config) -> Self {
        HoldOff {
            peers: Mutex::new(
                cfg.peers
                    .iter()
                    .map(|p| (p.limits.restart_after, None))
                    .collect(),
            ),
        }
    }

    fn peers(&self) -> MutexGuard<'_, Vec<(Option<u16>, Option<Instant>)>> {
        self.peers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A peer added by a reload.
    fn push(&self, p: &PeerSpec) {
        self.peers().push((p.limits.restart_after, None));
    }

    /// Start the peer's hold-off, if it has one; returns its length.
    fn start(&self, peer: usize) -> Option<u16> {
        let mut peers = self.peers();
        let (after, until) = peers.get_mut(peer)?;
        let secs = (*after)?;
        *until = Some(Instant::now() + Duration::from_secs(u64::from(secs)));
        Some(secs)
    }

    /// Whether the peer's connections are refused now.
    fn holds(&self, peer: usize) -> bool {
        let mut peers = self.peers();
        match peers.get_mut(peer) {
            Some((_, u)) if u.is_some_and(|t| Instant::now() < t) => true,
            Some((_, u)) => {
                *u = None;
                false
            }
            None => false,
        }
    }
}

impl Shared {
    fn now(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn conns(&self) -> MutexGuard<'_, Vec<Vec<ConnEntry>>> {
        self.conns.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn slots(&self) -> MutexGuard<'_, Vec<Option<PeerSpec>>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The configuration of the peer in this slot, unless a reload removed it.
    fn spec(&self, peer: usize) -> Option<PeerSpec> {
        self.slots().get(peer).cloned().flatten()
    }

    fn peer_by_addr(&self, a: IpAddr) -> Option<usize> {
        let a = a.to_canonical();
        self.slots()
            .iter()
            .position(|p| p.as_ref().is_some_and(|p| p.address == a))
    }

    fn live_connections(&self) -> usize {
        self.conns().iter().map(Vec::len).sum()
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

/// Reads the configuration again (on SIGHUP).
pub type Reload = Box<dyn Fn() -> Result<Config, ConfigError> + Send>;

/// Log RFC 8212's effect on eBGP peers without policies.
fn note_default_deny<'a>(cfg: &Config, peers: impl IntoIterator<Item = &'a PeerSpec>) {
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

/// Run until SIGTERM/SIGINT; SIGHUP reads the configuration again through `reload`.
pub async fn serve(
    mut cfg: Config,
    pid_file: Option<PathBuf>,
    reload: Reload,
) -> Result<(), String> {
    let mut listeners = Vec::new();
    for a in &cfg.listen {
        let l = listen(*a, &cfg.peers).map_err(|e| format!("cannot listen on {a}: {e}"))?;
        listeners.push((*a, Arc::new(l)));
    }
    let control = control::open(cfg.ops.control_socket.as_deref())?;
    let metrics_listener = match cfg.ops.metrics {
        Some(a) => Some(
            TcpListener::bind(a)
                .await
                .map_err(|e| format!("cannot listen for metrics on {a}: {e}"))?,
        ),
        None => None,
    };
    let (main_tx, mut main_rx) = mpsc::unbounded_channel::<MainJob>();
    if let Some(p) = &pid_file {
        std::fs::write(p, format!("{}\n", std::process::id()))
            .map_err(|e| format!("cannot write {}: {e}", p.display()))?;
    }
    let signal = |k| tokio::signal::unix::signal(k).map_err(|e| format!("signal handler: {e}"));
    let mut term = signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut hup = signal(tokio::signal::unix::SignalKind::hangup())?;
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let (engine_tx, engine_rx) = mpsc::channel::<ToEngine>(ENGINE_QUEUE);
    let mut ecfg = EngineConfig::new(cfg.asn, cfg.router_id);
    ecfg.cluster_id = cfg.cluster_id;
    ecfg.client_to_client = cfg.client_to_client;
    ecfg.ebgp_requires_policy = cfg.ebgp_requires_policy;
    ecfg.rtc_default_to_clients = cfg.rtc_default_to_clients;
    let bmp = bmp::Bmp::start(&cfg.bmp, cfg.asn, cfg.router_id);
    // BMP's Loc-RIB monitoring reads the engine's best-path events.
    ecfg.record_events = bmp.is_some();
    note_default_deny(&cfg, &cfg.peers);
    let peers: Vec<PeerSetup> = cfg.peers.iter().map(|p| PeerSetup::new(&cfg, p)).collect();
    let input = Arc::new(Semaphore::new(ENGINE_INPUT));
    let hold_off = Arc::new(HoldOff::new(&cfg));
    let restarting = Arc::new(AtomicBool::new(cfg.graceful_restart_deferral.is_some()));
    let engine_task = tokio::spawn(engine_loop(
        ecfg,
        peers,
        engine_rx,
        engine_tx.downgrade(),
        input.clone(),
        hold_off.clone(),
        bmp.as_ref().map(bmp::Bmp::engine_side),
        (cfg.graceful_restart_deferral, restarting.clone()),
    ));
    if bmp.is_some() {
        tokio::spawn(bmp_ticker(engine_tx.downgrade()));
    }
    tokio::spawn(heap::trimmer());
    let specs = std::mem::take(&mut cfg.peers);
    let sh = Arc::new(Shared {
        conns: Mutex::new(specs.iter().map(|_| Vec::new()).collect()),
        slots: Mutex::new(specs.into_iter().map(Some).collect()),
        cfg,
        start: Instant::now(),
        next_conn: AtomicU64::new(1),
        engine: engine_tx,
        input,
        hold_off,
        shutdown: shutdown_rx,
        listeners,
        bmp,
        status: Statuses::default(),
        main: main_tx,
        restarting,
    });
    let control_task = control.map(|(path, l)| (path, tokio::spawn(control::serve(sh.clone(), l))));
    let metrics_task = metrics_listener.map(|l| {
        if let Ok(a) = l.local_addr() {
            info!(address = %a, "metrics endpoint listening");
        }
        tokio::spawn(super::metrics::serve(sh.clone(), l))
    });
    info!(
        router_id = %sh.cfg.router_id,
        asn = sh.cfg.asn,
        cluster_id = %sh.cfg.cluster_id.unwrap_or(sh.cfg.router_id),
        listen = ?sh.cfg.listen,
        peers = sh.slots().len(),
        "reflector listening"
    );
    for (_, l) in &sh.listeners {
        tokio::spawn(accept_loop(sh.clone(), l.clone()));
    }
    let active: Vec<usize> = sh
        .slots()
        .iter()
        .enumerate()
        .filter(|(_, p)| p.as_ref().is_some_and(|p| !p.passive))
        .map(|(i, _)| i)
        .collect();
    for i in active {
        tokio::spawn(connect_loop(sh.clone(), i));
    }
    loop {
        tokio::select! {
            _ = term.recv() => {
                info!(signal = "SIGTERM", "shutting down");
                break;
            }
            _ = tokio::signal::ctrl_c() => {
                info!(signal = "SIGINT", "shutting down");
                break;
            }
            _ = hup.recv() => {
                info!(signal = "SIGHUP", "reading the configuration again");
                match reload() {
                    Ok(new) => {
                        let _ = apply(&sh, new).await;
                    }
                    Err(e) => warn!(error = %e, "new configuration refused: the running one stays"),
                }
            }
            Some(job) = main_rx.recv() => match job {
                MainJob::Reload(reply) => {
                    info!("reading the configuration again (reflector ctl reload)");
                    let r = match reload() {
                        Ok(new) => apply(&sh, new).await,
                        Err(e) => {
                            warn!(error = %e, "new configuration refused: the running one stays");
                            Err(format!("new configuration refused, the running one stays: {e}"))
                        }
                    };
                    let _ = reply.send(r.map(|m| serde_json::json!({"action": "reload", "message": m})));
                }
                MainJob::Shutdown { graceful, reply } => {
                    match graceful {
                        Some(wait) => {
                            let (tx, rx) = oneshot::channel();
                            let job = control::EngineJob { query: control::Query::GracefulShutdown, reply: tx };
                            let n = if sh.engine.send(ToEngine::Control(job)).await.is_ok() {
                                rx.await.ok().and_then(Result::ok).and_then(|v| v.as_u64()).unwrap_or(0)
                            } else {
                                0
                            };
                            info!(peers = n, wait_seconds = wait.as_secs_f64(), "graceful shutdown (RFC 8326): routes re-advertised with GRACEFUL_SHUTDOWN");
                            let _ = reply.send(Ok(serde_json::json!({
                                "action": "shutdown",
                                "graceful": true,
                                "peers": n,
                                "wait_seconds": wait.as_secs_f64(),
                                "message": format!("routes re-advertised to {n} peers with GRACEFUL_SHUTDOWN (65535:0); Cease/Administrative Shutdown in {} s", wait.as_secs_f64()),
                            })));
                            tokio::time::sleep(wait).await;
                        }
                        None => {
                            let _ = reply.send(Ok(serde_json::json!({
                                "action": "shutdown",
                                "graceful": false,
                                "peers": 0,
                                "wait_seconds": 0,
                                "message": "shutting down: Cease/Administrative Shutdown to every peer",
                            })));
                        }
                    }
                    info!("shutting down (reflector ctl shutdown)");
                    break;
                }
            },
        }
    }
    let _ = shutdown_tx.send(true);
    // Every connection sends its Cease and closes; bounded wait.
    for _ in 0..150 {
        if sh.live_connections() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (done_tx, done_rx) = oneshot::channel();
    if sh.engine.send(ToEngine::Finish(done_tx)).await.is_ok() {
        let _ = tokio::time::timeout(Duration::from_secs(2), done_rx).await;
    }
    drop(engine_task);
    if let Some((path, t)) = control_task {
        t.abort();
        let _ = std::fs::remove_file(path);
    }
    if let Some(t) = metrics_task {
        t.abort();
    }
    if let Some(b) = &sh.bmp {
        b.close(Duration::from_secs(1)).await;
    }
    info!(unknown_connections = sock::unknown_connections(), "stopped");
    Ok(())
}

/// Apply a new configuration to the running daemon (see [`reload`]); says
/// what changed, or why the configuration was refused.
async fn apply(sh: &Arc<Shared>, new: Config) -> Result<String, String> {
    let slots = sh.slots().clone();
    let plan = match reload::plan(&sh.cfg, &slots, &new) {
        Ok(p) => p,
        Err(e) => {
            warn!(error = %e, "new configuration refused: the running one stays");
            return Err(format!(
                "new configuration refused, the running one stays: {e}"
            ));
        }
    };
    if plan.is_empty() {
        info!("configuration unchanged");
        return Ok("configuration unchanged".into());
    }
    note_default_deny(
        &sh.cfg,
        plan.add.iter().chain(plan.policies.iter().map(|c| &c.spec)),
    );
    let first_new = slots.len();
    let job = EngineReload {
        remove: plan.stop.iter().map(|(slot, _)| *slot).collect(),
        add: plan
            .add
            .iter()
            .map(|p| PeerSetup::new(&sh.cfg, p))
            .collect(),
        policies: plan.policies.clone(),
    };
    // The new slots exist before the engine can hear of their connections.
    {
        let mut conns = sh.conns();
        for p in &plan.add {
            conns.push(Vec::new());
            sh.hold_off.push(p);
        }
    }
    let (done_tx, done_rx) = oneshot::channel();
    if sh
        .engine
        .send(ToEngine::Reload(job, done_tx))
        .await
        .is_err()
    {
        return Err("the engine task has stopped".into());
    }
    let _ = done_rx.await;
    {
        let mut slots = sh.slots();
        for (slot, _) in &plan.stop {
            if let Some(s) = slots.get_mut(*slot) {
                *s = None;
            }
        }
        for c in &plan.policies {
            if let Some(s) = slots.get_mut(c.slot) {
                *s = Some(c.spec.clone());
            }
        }
        slots.extend(plan.add.iter().cloned().map(Some));
    }
    let (before, now): (Vec<PeerSpec>, Vec<PeerSpec>) = (
        slots.iter().flatten().cloned().collect(),
        sh.slots().iter().flatten().cloned().collect(),
    );
    for (a, l) in &sh.listeners {
        if let Err(e) = sock::rekey_listener(&**l, *a, &before, &now) {
            warn!(listen = %a, error = %e, "TCP-MD5 keys not updated");
        }
    }
    for (slot, why) in &plan.stop {
        let name = slots.get(*slot).cloned().flatten().map(|p| p.name);
        let conns = sh.conns();
        let links = conns.get(*slot).into_iter().flatten();
        for c in links {
            c.link.control(match why {
                Stop::Deconfigured => Ctl::Stop(StopReason::Deconfigured),
                Stop::Changed => Ctl::Notify(other_configuration_change()),
            });
        }
        match why {
            Stop::Deconfigured => info!(peer = ?name, "peer removed (Cease, Peer De-configured)"),
            Stop::Changed => {
                info!(peer = ?name, "peer settings changed: session restarts (Cease, Other Configuration Change)")
            }
        }
    }
    for c in &plan.policies {
        info!(
            peer = %c.spec.name,
            import = c.import.is_some(),
            export = c.export.is_some(),
            "policies changed: applied to the live session"
        );
    }
    for (k, p) in plan.add.iter().enumerate() {
        info!(peer = %p.name, address = %p.address, "peer added");
        if !p.passive {
            tokio::spawn(connect_loop(sh.clone(), first_new + k));
        }
    }
    info!(
        stopped = plan.stop.len(),
        added = plan.add.len(),
        policies = plan.policies.len(),
        "configuration reloaded"
    );
    Ok(format!(
        "configuration reloaded: {} peers stopped, {} added, {} with new policies",
        plan.stop.len(),
        plan.add.len(),
        plan.policies.len()
    ))
}

/// Pending connections the kernel queues for a listener (capped by
/// net.core.somaxconn): a thousand clients reconnecting at once are accepted,
/// not dropped and retried after SYN back-off.
const LISTEN_BACKLOG: u32 = 4096;

fn listen(a: SocketAddr, peers: &[PeerSpec]) -> std::io::Result<TcpListener> {
    let sock = if a.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    sock.set_reuseaddr(true)?;
    sock.bind(a)?;
    sock::listener(&sock, a, peers)?;
    sock.listen(LISTEN_BACKLOG)
}

async fn accept_loop(sh: Arc<Shared>, l: Arc<TcpListener>) {
    let mut shutdown = sh.shutdown.clone();
    loop {
        tokio::select! {
            r = l.accept() => match r {
                Ok((stream, addr)) => match sh.peer_by_addr(addr.ip()) {
                    Some(i) if sh.status.get(i).is_disabled() => {
                        debug!(remote = %addr, "connection refused: the peer is disabled (reflector ctl disable)");
                        drop(stream);
                    }
                    Some(i) if sh.hold_off.holds(i) => {
                        debug!(remote = %addr, "connection refused: the peer is held off after its prefix limit");
                        drop(stream);
                    }
                    Some(i) => match sh.spec(i).map(|p| sock::accepted(&stream, &p)) {
                        Some(Err(e)) => warn!(remote = %addr, error = %e, "connection closed"),
                        _ => {
                            tokio::spawn(connection(sh.clone(), stream, i, false));
                        }
                    },
                    None => sock::unknown_connection(addr),
                },
                Err(e) => {
                    warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            _ = shutdown.changed() => return,
        }
    }
}

async fn connect_loop(sh: Arc<Shared>, peer: usize) {
    let mut shutdown = sh.shutdown.clone();
    let retry = Duration::from_secs(u64::from(sh.cfg.connect_retry));
    loop {
        if *shutdown.borrow() {
            return;
        }
        // A reload may have removed the peer.
        let Some(spec) = sh.spec(peer) else {
            return;
        };
        let idle = sh.conns().get(peer).is_none_or(Vec::is_empty)
            && !sh.hold_off.holds(peer)
            && !sh.status.get(peer).is_disabled();
        if idle {
            let remote = SocketAddr::new(spec.address, spec.port);
            match tokio::time::timeout(Duration::from_secs(5), connect(remote, &spec)).await {
                Ok(Ok(stream)) => {
                    let h = tokio::spawn(connection(sh.clone(), stream, peer, true));
                    let _ = h.await;
                }
                Ok(Err(e)) => {
                    debug!(peer = %spec.name, remote = %remote, error = %e, "connect failed")
                }
                Err(_) => debug!(peer = %spec.name, remote = %remote, "connect timed out"),
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(retry) => {}
            _ = shutdown.changed() => return,
        }
    }
}

async fn connect(remote: SocketAddr, spec: &PeerSpec) -> std::io::Result<TcpStream> {
    let sock = if remote.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    if let Some(l) = spec.local_address {
        sock.bind(SocketAddr::new(l, 0))?;
    }
    sock::outgoing(&sock, spec)?;
    sock.connect(remote).await
}

/// Ask the engine for BMP's Loc-RIB dumps and statistics, every second.
async fn bmp_ticker(engine: mpsc::WeakSender<ToEngine>) {
    let mut t = tokio::time::interval(Duration::from_secs(1));
    loop {
        t.tick().await;
        let Some(tx) = engine.upgrade() else { return };
        if tx.send(ToEngine::BmpTick).await.is_err() {
            return;
        }
    }
}

/// Tell the engine a paused or catching-up peer's queue has drained below [`LOW_WATER`].
async fn report_drained(link: &Link, drained: &Option<(mpsc::Sender<ToEngine>, usize, u64)>) {
    if link.queued.load(Ordering::Relaxed) < LOW_WATER && link.paused.swap(false, Ordering::AcqRel)
    {
        if let Some((tx, peer, conn)) = drained {
            let _ = tx
                .send(ToEngine::Drained {
                    peer: *peer,
                    conn: *conn,
                })
                .await;
        }
    }
}

/// Chunks a writer hands to one vectored write, at most.
const WRITE_CHUNKS: usize = 64;

async fn writer(
    mut wr: OwnedWriteHalf,
    link: Arc<Link>,
    drained: Option<(mpsc::Sender<ToEngine>, usize, u64)>,
    bmp: Option<(bmp::Bmp, usize)>,
) {
    let mut pending: VecDeque<Bytes> = VecDeque::new();
    // Bytes written since the writer was last idle.
    let mut burst: u64 = 0;
    loop {
        {
            let mut st = link.state();
            // Everything queued so far goes out in one vectored write.
            let n = st.out.len().min(WRITE_CHUNKS);
            if let Some((b, slot)) = &bmp {
                for c in st.out.iter().take(n) {
                    b.adj_rib_out(*slot, c);
                }
            }
            pending.extend(st.out.drain(..n));
            if st.out.is_empty() && st.out.capacity() > WRITE_CHUNKS {
                st.out.shrink_to_fit();
            }
            if pending.is_empty() && st.closed {
                break;
            }
        }
        if pending.is_empty() {
            if burst >= heap::BURST {
                heap::freed();
            }
            burst = 0;
            report_drained(&link, &drained).await;
            link.out_ready.notified().await;
            continue;
        }
        let total: usize = pending.iter().map(Bytes::len).sum();
        let res = write_all_vectored(&mut wr, &mut pending).await;
        let q = &link.queued;
        q.fetch_sub(total.min(q.load(Ordering::Relaxed)), Ordering::Relaxed);
        link.written.fetch_add(total as u64, Ordering::Relaxed);
        burst += total as u64;
        report_drained(&link, &drained).await;
        if res.is_err() {
            // Nobody waits for this peer's output any more.
            let mut st = link.state();
            st.broken = true;
            st.out = VecDeque::new();
            q.store(0, Ordering::Relaxed);
            heap::freed();
            return;
        }
    }
    heap::freed();
    let _ = wr.shutdown().await;
}

/// Write every chunk of `pending`, as few system calls as the socket allows.
async fn write_all_vectored(
    wr: &mut OwnedWriteHalf,
    pending: &mut VecDeque<Bytes>,
) -> std::io::Result<()> {
    use bytes::Buf;
    while !pending.is_empty() {
        let slices: Vec<std::io::IoSlice<'_>> =
            pending.iter().map(|b| std::io::IoSlice::new(b)).collect();
        let mut n = wr.write_vectored(&slices).await?;
        drop(slices);
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        while let Some(front) = pending.front_mut() {
            if n < front.len() {
                front.advance(n);
                break;
            }
            n -= front.len();
            pending.pop_front();
        }
    }
    Ok(())
}

/// Register a connection's OPEN and resolve collisions (RFC 4271 §6.8). Returns whether it may go on.
fn open_received(sh: &Shared, peer: usize, id: u64, outbound: bool, remote_id: u32) -> bool {
    let mut conns = sh.conns();
    let Some(list) = conns.get_mut(peer) else {
        return false;
    };
    for other in list.iter() {
        if other.id == id || other.remote_id.is_none() {
            continue;
        }
        if other.established {
            return false;
        }
        let keep_outbound =
            collision_survivor(sh.cfg.router_id, std::net::Ipv4Addr::from_bits(remote_id))
                == Survivor::Outbound;
        if outbound == keep_outbound && other.outbound != outbound {
            other.link.control(Ctl::Stop(StopReason::Collision));
        } else {
            return false;
        }
    }
    if let Some(me) = list.iter_mut().find(|c| c.id == id) {
        me.remote_id = Some(remote_id);
    }
    true
}

fn log_notification(peer: &str, sent: bool, n: &NotificationRepr) {
    let text = shutdown_text(n).unwrap_or_default();
    let dir = if sent { "sent" } else { "received" };
    warn!(peer, direction = dir, code = n.code, subcode = n.subcode, shutdown = %text, "NOTIFICATION");
}

async fn connection(sh: Arc<Shared>, stream: TcpStream, peer: usize, outbound: bool) {
    let Some(spec) = sh.spec(peer) else {
        return;
    };
    let id = sh.next_conn.fetch_add(1, Ordering::Relaxed);
    let remote = stream.peer_addr().ok();
    let local = stream.local_addr().ok();
    // BMP: both OPENs for the Peer Up, and why the session ended for the Peer Down.
    let mut opens = bmp::OpenCapture::new(sh.bmp.is_some());
    let mut bmp_down: Option<bmp::DownReason> = None;
    let _ = stream.set_nodelay(true);
    let (rd, wr) = stream.into_split();
    let status = sh.status.get(peer);
    let mut scan_in = Scan::default();
    let link = Arc::new(Link {
        stats: Some(status.clone()),
        ..Link::default()
    });
    let writer = tokio::spawn(writer(
        wr,
        link.clone(),
        Some((sh.engine.clone(), peer, id)),
        sh.bmp
            .clone()
            .filter(bmp::Bmp::wants_adj_rib_out)
            .map(|b| (b, peer)),
    ));
    if let Some(list) = sh.conns().get_mut(peer) {
        list.push(ConnEntry {
            id,
            outbound,
            remote_id: None,
            established: false,
            link: link.clone(),
        });
    }
    debug!(peer = %spec.name, remote = ?remote, outbound, conn = id, "TCP connected");
    let mut sc = session_config(&sh.cfg, &spec);
    sc.graceful_restart_restarting &= sh.restarting.load(Ordering::Acquire);
    let mut s = Session::new(sc);
    let mut last_state = s.state();
    s.start(sh.now());
    s.tcp_connected(sh.now());
    let mut shutdown = sh.shutdown.clone();
    let mut stopping = false;
    let mut up = false;
    // RFC 4724 §4.2: what the peer's graceful restart capability asks us to keep.
    let mut restart: Option<(u16, AfiSafiSet)> = None;
    // A NOTIFICATION ended the session (a Hold Timer Expired we send does not count).
    let mut notified = false;
    let mut batch: Vec<Bytes> = Vec::new();
    loop {
        let mut closed = false;
        while let Some(ev) = s.poll_event() {
            match ev {
                SessionEvent::OpenReceived(a) => {
                    if !open_received(&sh, peer, id, outbound, a.bgp_id) {
                        info!(peer = %spec.name, conn = id, "connection collision: closing this connection");
                        s.stop(StopReason::Collision);
                    }
                }
                SessionEvent::Established(n) => {
                    up = true;
                    status.on_established(
                        id,
                        SessionInfo {
                            remote,
                            local,
                            outbound,
                            router_id: std::net::Ipv4Addr::from_bits(n.peer_bgp_id),
                            negotiated: n,
                        },
                    );
                    if let Some(c) = sh
                        .conns()
                        .get_mut(peer)
                        .and_then(|l| l.iter_mut().find(|c| c.id == id))
                    {
                        c.established = true;
                    }
                    info!(
                        peer = %spec.name,
                        remote = ?remote,
                        router_id = %std::net::Ipv4Addr::from_bits(n.peer_bgp_id),
                        hold_time = n.hold_time,
                        four_octet_as = n.four_octet_as,
                        extended_message = n.extended_message,
                        families = ?n.families.as_slice(),
                        "session established"
                    );
                    if let (Some(b), Some(o), Some(l), Some(r)) =
                        (&sh.bmp, opens.opens(), local, remote)
                    {
                        let id = std::net::Ipv4Addr::from_bits(n.peer_bgp_id);
                        let h = bmp::PeerHeader::global(
                            r.ip().to_canonical(),
                            spec.asn,
                            id,
                            n.four_octet_as,
                        );
                        b.peer_up(
                            peer,
                            h,
                            SocketAddr::new(l.ip().to_canonical(), l.port()),
                            r,
                            o,
                        );
                    }
                    restart = n
                        .graceful_restart
                        .map(|t| {
                            let listed = s
                                .peer()
                                .map_or(AfiSafiSet::EMPTY, |a| a.graceful_restart_families);
                            let mut keep = AfiSafiSet::EMPTY;
                            for f in n.families.as_slice() {
                                if listed.contains(*f) {
                                    keep.insert(*f);
                                }
                            }
                            (t, keep)
                        })
                        .filter(|(_, keep)| !keep.is_empty());
                    let msg = ToEngine::Up {
                        peer,
                        conn: id,
                        neg: engine::Negotiated::from(&n),
                        graceful: n.graceful_restart.map(|_| n.graceful_restart_preserved),
                        route_refresh: n.route_refresh,
                        link: link.clone(),
                    };
                    if sh.engine.send(msg).await.is_err() {
                        closed = true;
                    }
                }
                SessionEvent::Message(b) => {
                    if let Some(x) = sh.bmp.as_ref().filter(|_| b.get(18) == Some(&2)) {
                        x.route_monitoring(peer, &b);
                    }
                    batch.push(b)
                }
                SessionEvent::NotificationSent(n) => {
                    status.on_notification(true, &n);
                    notified |= n.code != HOLD_TIMER_EXPIRED;
                    bmp_down = Some(bmp::DownReason::LocalNotification(
                        bmp::notification_message(n.code, n.subcode, &n.data),
                    ));
                    log_notification(&spec.name, true, &n)
                }
                SessionEvent::NotificationReceived(n) => {
                    status.on_notification(false, &n);
                    notified = true;
                    bmp_down = Some(bmp::DownReason::RemoteNotification(
                        bmp::notification_message(n.code, n.subcode, &n.data),
                    ));
                    log_notification(&spec.name, false, &n)
                }
                SessionEvent::Closed(r) => {
                    debug!(peer = %spec.name, conn = id, reason = ?r, "session closed");
                    closed = true;
                }
                SessionEvent::Connect => {}
            }
        }
        if s.state() != last_state {
            last_state = s.state();
            status.on_state(id, last_state);
        }
        if let Some(b) = s.poll_transmit() {
            opens.on_sent(&b);
            link.send(Bytes::from(b));
        }
        if !batch.is_empty() {
            let msgs = std::mem::take(&mut batch);
            let size = msgs.iter().map(Bytes::len).sum::<usize>().min(ENGINE_INPUT);
            let budget = u32::try_from(size).unwrap_or(u32::MAX);
            match sh.input.acquire_many(budget).await {
                Ok(p) => p.forget(),
                Err(_) => break,
            }
            if sh
                .engine
                .send(ToEngine::Msgs {
                    peer,
                    conn: id,
                    msgs,
                    budget,
                })
                .await
                .is_err()
            {
                break;
            }
        }
        if closed {
            break;
        }
        let deadline = s.poll_timeout();
        let sleep_for = deadline.map(|d| Duration::from_millis(d.saturating_sub(sh.now())));
        tokio::select! {
            r = rd.readable() => match r {
                Ok(()) => match read_into_session(&rd, &mut s, sh.now(), &mut opens, &mut scan_in, &status) {
                    Ok(true) => {}
                    Ok(false) => {
                        bmp_down.get_or_insert(bmp::DownReason::RemoteNoData);
                        s.tcp_closed(sh.now())
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(_) => s.tcp_closed(sh.now()),
                },
                Err(_) => s.tcp_closed(sh.now()),
            },
            _ = tokio::time::sleep(sleep_for.unwrap_or(Duration::ZERO)), if sleep_for.is_some() => {
                s.handle_timeout(sh.now());
            }
            _ = link.ctl_ready.notified() => {
                for c in link.take_control() {
                    match c {
                        Ctl::Fail(e, m) => {
                            warn!(peer = %spec.name, error = %e, "UPDATE error: resetting the session");
                            s.fail(&e, &m);
                        }
                        Ctl::Stop(r) => s.stop(r),
                        Ctl::Notify(n) => s.notify_and_close(n),
                    }
                }
            },
            _ = shutdown.changed(), if !stopping => {
                stopping = true;
                s.stop(StopReason::Shutdown(SHUTDOWN_TEXT.into()));
            }
        }
    }
    if let Some(list) = sh.conns().get_mut(peer) {
        list.retain(|c| c.id != id);
    }
    if let (true, Some(b)) = (up, &sh.bmp) {
        // Closed on our side without a NOTIFICATION: FSM event 2 (ManualStop) stands for it.
        b.peer_down(
            peer,
            &bmp_down.unwrap_or(bmp::DownReason::LocalNoNotification(2)),
        );
    }
    status.on_closed(id);
    if up {
        let graceful = restart.filter(|_| !notified);
        let _ = sh
            .engine
            .send(ToEngine::Down {
                peer,
                conn: id,
                graceful,
            })
            .await;
        if let Some((t, _)) = graceful {
            info!(peer = %spec.name, conn = id, restart_time = t, "session down: graceful restart, routes kept as stale");
        } else {
            info!(peer = %spec.name, conn = id, "session down");
        }
    }
    link.close();
    let abort = writer.abort_handle();
    if tokio::time::timeout(Duration::from_secs(3), writer)
        .await
        .is_err()
    {
        // The peer stopped reading: drop what it did not take.
        abort.abort();
    }
}

thread_local! {
    /// The read buffer of the connections this worker thread serves.
    static READ_SCRATCH: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0u8; READ_BUF]);
}

/// Read what the socket has into the session, through this thread's buffer.
/// `Ok(false)`: the peer closed the connection.
fn read_into_session(
    rd: &tokio::net::tcp::OwnedReadHalf,
    s: &mut Session,
    now: u64,
    opens: &mut bmp::OpenCapture,
    scan: &mut Scan,
    status: &PeerStatus,
) -> std::io::Result<bool> {
    READ_SCRATCH.with(|b| {
        let mut b = b.borrow_mut();
        let n = rd.try_read(&mut b)?;
        if n == 0 {
            return Ok(false);
        }
        let got = b.get(..n).unwrap_or(&[]);
        opens.on_received(got);
        scan.feed(got, &status.rx);
        s.handle_bytes(now, got);
        Ok(true)
    })
}

/// Send a resumed peer its next catch-up step; while more is pending its
/// link stays marked, so its writer reports when it has drained again.
/// The family an End-of-RIB marker is for (RFC 4724 §2): an UPDATE with
/// nothing in it (IPv4 unicast), or with only an empty MP_UNREACH_NLRI.
fn end_of_rib(m: &[u8]) -> Option<AfiSafi> {
    // A marker's bytes do not depend on ADD-PATH or the AS width.
    let pkt = reflector_core::wire::UpdatePacket::new_checked(
        m,
        &reflector_core::wire::Context::default(),
    )
    .ok()?;
    pkt.end_of_rib()
}

fn catch_up(engine: &mut Engine, id: PeerId, link: &Link) {
    let more = engine.resume_transmit(id);
    for chunk in engine.take_transmit_chunks(id) {
        link.send(chunk);
    }
    if more {
        link.paused.store(true, Ordering::Release);
        // An idle writer looks again and reports at once.
        link.out_ready.notify_one();
    }
}

struct Live {
    conn: u64,
    link: Arc<Link>,
    /// The families the session negotiated.
    families: AfiSafiSet,
    /// Both sides advertised ROUTE-REFRESH.
    route_refresh: bool,
}

/// The name of the peer in a slot, for logs.
fn name(names: &[String], i: usize) -> &str {
    names.get(i).map_or("?", String::as_str)
}

/// Add a peer to the engine with its policies.
fn add_peer(engine: &mut Engine, p: PeerSetup) -> PeerId {
    let id = engine.add_peer(p.config);
    // The peer is down: nothing to refresh yet.
    let _ = engine.set_import_policy(id, p.import);
    engine.set_export_policy(id, p.export);
    id
}

/// Install a new import policy on a peer; a live session is asked for its
/// routes again (ROUTE-REFRESH per family), or reset when it cannot be.
fn reimport(
    engine: &mut Engine,
    id: PeerId,
    policy: Option<Policy>,
    live: Option<&Live>,
    name: &str,
) {
    if engine.set_import_policy(id, policy) != Reimport::Refresh {
        return;
    }
    let Some(l) = live else { return };
    if l.route_refresh {
        let families = [AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST]
            .into_iter()
            .filter(|f| l.families.contains(*f) && engine.request_refresh(id, *f))
            .count();
        info!(
            peer = name,
            families, "import policy changed: ROUTE-REFRESH sent"
        );
    } else {
        info!(peer = name, "import policy changed and the peer has no route refresh: session reset (Cease, Other Configuration Change)");
        l.link.control(Ctl::Notify(other_configuration_change()));
    }
}

fn log_counters(engine: &Engine, id: PeerId, name: &str) {
    if let Some(c) = engine.counters(id) {
        info!(
            peer = name,
            updates_received = c.updates_received,
            prefixes_received = c.prefixes_received,
            withdrawals_received = c.withdrawals_received,
            accepted = c.accepted,
            rejected_loop = c.rejected_loop,
            treat_as_withdraw = c.treat_as_withdraw,
            attribute_discard = c.attribute_discard,
            session_resets = c.session_resets,
            updates_sent = c.updates_sent,
            prefixes_sent = c.prefixes_sent,
            withdrawals_sent = c.withdrawals_sent,
            graceful_restarts = c.graceful_restarts,
            stale_marked = c.stale_marked,
            stale_removed = c.stale_removed,
            "peer counters"
        );
    }
}

#[allow(clippy::too_many_arguments)]
async fn engine_loop(
    cfg: EngineConfig,
    peers: Vec<PeerSetup>,
    mut rx: mpsc::Receiver<ToEngine>,
    me: mpsc::WeakSender<ToEngine>,
    input: Arc<Semaphore>,
    hold_off: Arc<HoldOff>,
    mut bmp: Option<bmp::EngineSide>,
    (deferral, restarting): (Option<u16>, Arc<AtomicBool>),
) {
    let mut engine = Engine::new(cfg);
    // RFC 4724 §4.1: after a restart, route selection waits for every peer's
    // End-of-RIB (per slot: None while down, else whether it does graceful
    // restart, its families and the End-of-RIBs it sent), or the timer.
    let mut deferred: Vec<Option<(bool, AfiSafiSet, AfiSafiSet)>> =
        peers.iter().map(|_| None).collect();
    if let Some(t) = deferral {
        engine.defer_selection();
        info!(selection_deferral_seconds = t, "graceful restart: restarting speaker, route selection deferred until every peer's End-of-RIB");
        let me = me.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(u64::from(t))).await;
            if let Some(tx) = me.upgrade() {
                let _ = tx.send(ToEngine::DeferralExpired).await;
            }
        });
    }
    let mut live: Vec<Option<Live>> = peers.iter().map(|_| None).collect();
    // Per peer, the number of its latest graceful down: older restart timers are void.
    let mut epochs: Vec<u64> = peers.iter().map(|_| 0).collect();
    let mut names: Vec<String> = peers.iter().map(|p| p.name.clone()).collect();
    // Per slot, the engine's peer (`None` once a reload removed it).
    let mut ids: Vec<Option<PeerId>> = peers
        .into_iter()
        .map(|p| Some(add_peer(&mut engine, p)))
        .collect();

    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        let mut bytes = 0;
        let mut yielded = false;
        while let Some(m) = next.take() {
            match m {
                ToEngine::Up {
                    peer,
                    conn,
                    neg,
                    graceful,
                    route_refresh,
                    link,
                } => {
                    let (Some(&Some(id)), Some(slot)) = (ids.get(peer), live.get_mut(peer)) else {
                        // A reload removed the peer while this session came up.
                        link.control(Ctl::Stop(StopReason::Deconfigured));
                        continue;
                    };
                    if let Some(d) = deferred.get_mut(peer) {
                        *d = Some((graceful.is_some(), neg.families, AfiSafiSet::EMPTY));
                    }
                    match graceful {
                        Some(preserved) => engine.peer_up_graceful(id, neg, preserved),
                        None => engine.peer_up(id, neg),
                    }
                    *slot = Some(Live {
                        conn,
                        link,
                        families: neg.families,
                        route_refresh,
                    });
                }
                ToEngine::Msgs {
                    peer,
                    conn,
                    msgs,
                    budget,
                } => {
                    input.add_permits(budget as usize);
                    let (Some(&Some(id)), Some(slot)) = (ids.get(peer), live.get_mut(peer)) else {
                        continue;
                    };
                    if slot.as_ref().is_none_or(|l| l.conn != conn) {
                        continue;
                    }
                    bytes += msgs.iter().map(Bytes::len).sum::<usize>();
                    if engine.is_deferring() {
                        if let Some(Some((_, _, eor))) = deferred.get_mut(peer) {
                            for m in &msgs {
                                if let Some(f) = end_of_rib(m) {
                                    eor.insert(f);
                                }
                            }
                        }
                    }
                    let hits = engine.counters(id).map_or(0, |c| c.prefix_limit_hits);
                    for m in &msgs {
                        match engine.handle_message(id, m) {
                            Outcome::Accepted { .. } | Outcome::Ignored(_) | Outcome::NotUp => {}
                            Outcome::RouteRefresh(f) => {
                                debug!(peer = name(&names, peer), family = ?f, "route refresh")
                            }
                            Outcome::TreatAsWithdraw(e) => {
                                warn!(peer = name(&names, peer), error = %e, "malformed UPDATE treated as withdraw (RFC 7606)")
                            }
                            Outcome::FamilyDisabled { family, error } => {
                                warn!(peer = name(&names, peer), family = ?family, error = %error, "malformed MP_REACH/MP_UNREACH: family disabled for this session, its routes withdrawn (RFC 7606)")
                            }
                            Outcome::AttributeDiscarded(e) => {
                                warn!(peer = name(&names, peer), error = %e, "malformed attribute discarded (RFC 7606)")
                            }
                            Outcome::Reset { error, .. } => {
                                if error.kind == reflector_core::ErrorKind::MaxPrefixes {
                                    let held = hold_off.start(peer);
                                    warn!(peer = name(&names, peer), hold_off_seconds = ?held, "prefix limit reached: session ended (Cease, Maximum Number of Prefixes Reached)");
                                }
                                if let Some(l) = slot.take() {
                                    l.link.control(Ctl::Fail(error, m.clone()));
                                }
                                log_counters(&engine, id, name(&names, peer));
                                break;
                            }
                        }
                    }
                    if engine
                        .counters(id)
                        .is_some_and(|c| c.prefix_limit_hits > hits)
                        && engine.is_up(id)
                    {
                        warn!(
                            peer = name(&names, peer),
                            ipv4 = engine.accepted_paths(id, AfiSafi::IPV4_UNICAST),
                            ipv6 = engine.accepted_paths(id, AfiSafi::IPV6_UNICAST),
                            "prefix limit crossed (warning only)"
                        );
                    }
                }
                ToEngine::Down {
                    peer,
                    conn,
                    graceful,
                } => {
                    let (Some(&Some(id)), Some(slot)) = (ids.get(peer), live.get_mut(peer)) else {
                        continue;
                    };
                    if slot.as_ref().is_some_and(|l| l.conn == conn) {
                        *slot = None;
                        if let Some(d) = deferred.get_mut(peer) {
                            *d = None;
                        }
                        match graceful {
                            Some((time, families)) => {
                                engine.peer_down_graceful(id, families);
                                let kept = [AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST]
                                    .into_iter()
                                    .filter(|f| engine.stale_families(id).contains(*f))
                                    .count();
                                info!(
                                    peer = name(&names, peer),
                                    restart_time = time,
                                    families = kept,
                                    "graceful restart: restart timer armed"
                                );
                                if let Some(e) = epochs.get_mut(peer) {
                                    *e += 1;
                                    let epoch = *e;
                                    let me = me.clone();
                                    tokio::spawn(async move {
                                        tokio::time::sleep(Duration::from_secs(u64::from(time)))
                                            .await;
                                        if let Some(tx) = me.upgrade() {
                                            let _ = tx
                                                .send(ToEngine::RestartExpired { peer, epoch })
                                                .await;
                                        }
                                    });
                                }
                            }
                            None => engine.peer_down(id),
                        }
                        log_counters(&engine, id, name(&names, peer));
                    }
                }
                ToEngine::Drained { peer, conn } => {
                    let (Some(&Some(id)), Some(Some(l))) = (ids.get(peer), live.get(peer)) else {
                        continue;
                    };
                    if l.conn == conn && engine.is_catching_up(id) {
                        if engine.is_paused(id) {
                            info!(
                                peer = name(&names, peer),
                                pending = engine.pending_prefixes(id),
                                "peer reading again: output resumed"
                            );
                        }
                        catch_up(&mut engine, id, &l.link);
                    }
                }
                ToEngine::RestartExpired { peer, epoch } => {
                    let Some(&Some(id)) = ids.get(peer) else {
                        continue;
                    };
                    if epochs.get(peer) == Some(&epoch) {
                        let stale = engine.stale_families(id);
                        engine.restart_timer_expired(id);
                        if !stale.is_empty() {
                            info!(
                                peer = name(&names, peer),
                                "restart timer expired: stale routes removed"
                            );
                        }
                    }
                }
                ToEngine::Reload(job, done) => {
                    for slot in job.remove {
                        if let Some(id) = ids.get_mut(slot).and_then(Option::take) {
                            if let Some(l) = live.get_mut(slot) {
                                *l = None;
                            }
                            log_counters(&engine, id, name(&names, slot));
                            engine.remove_peer(id);
                        }
                    }
                    for p in job.add {
                        names.push(p.name.clone());
                        ids.push(Some(add_peer(&mut engine, p)));
                        live.push(None);
                        epochs.push(0);
                        deferred.push(None);
                    }
                    for reload::PolicyChange {
                        slot,
                        import,
                        export,
                        ..
                    } in job.policies
                    {
                        let Some(&Some(id)) = ids.get(slot) else {
                            continue;
                        };
                        let l = live.get(slot).and_then(Option::as_ref);
                        if let Some(policy) = import {
                            reimport(&mut engine, id, policy, l, name(&names, slot));
                        }
                        if let Some(policy) = export {
                            engine.set_export_policy(id, policy);
                        }
                    }
                    let _ = done.send(());
                }
                ToEngine::DeferralExpired => {
                    if engine.is_deferring() {
                        let held = engine.end_deferral();
                        restarting.store(false, Ordering::Release);
                        info!(sessions = held, "graceful restart: selection deferral timer expired, tables and End-of-RIB sent");
                    }
                }
                ToEngine::BmpTick => {
                    if let Some(b) = bmp.as_mut() {
                        b.tick(&mut engine, &ids);
                    }
                }
                ToEngine::Control(job) => {
                    let side = control::EngineSide {
                        engine: &mut engine,
                        ids: &ids,
                        names: &names,
                        route_refresh: live
                            .iter()
                            .map(|l| l.as_ref().map(|l| l.route_refresh))
                            .collect(),
                    };
                    side.answer(job);
                }
                ToEngine::Finish(done) => {
                    for (i, id) in ids.iter().enumerate() {
                        let Some(id) = id else { continue };
                        log_counters(&engine, *id, name(&names, i));
                    }
                    let m = engine.memory();
                    info!(
                        prefixes = m.prefixes,
                        paths = m.paths,
                        attr_sets = m.attr_sets,
                        table_bytes = m.table_bytes,
                        attr_bytes = m.attr_bytes,
                        "RIB memory"
                    );
                    let _ = done.send(());
                    return;
                }
            }
            if let Some(b) = bmp.as_mut() {
                b.drain(&mut engine);
            }
            if bytes < ENGINE_BATCH_BYTES {
                next = rx.try_recv().ok();
                if next.is_none() && !yielded {
                    // Let connections that are reading queue what they have:
                    // one flush for a burst, not one per message.
                    yielded = true;
                    tokio::task::yield_now().await;
                    next = rx.try_recv().ok();
                }
            }
        }
        // RFC 4724 §4.1 (a): End-of-RIB from every configured peer that does
        // graceful restart (those that do not are not waited for).
        if engine.is_deferring()
            && ids.iter().zip(&deferred).all(|(id, d)| match (id, d) {
                (None, _) => true,
                (Some(_), None) => false,
                (Some(_), Some((gr, families, eor))) => {
                    !gr || families.intersection(*eor) == *families
                }
            })
        {
            let held = engine.end_deferral();
            restarting.store(false, Ordering::Release);
            info!(
                sessions = held,
                "graceful restart: End-of-RIB from every peer, tables and End-of-RIB sent"
            );
        }
        for (i, l) in live.iter().enumerate() {
            let (Some(l), Some(&Some(id))) = (l, ids.get(i)) else {
                continue;
            };
            // A paused or catching-up peer is sent more when its writer has drained.
            if l.link.paused.load(Ordering::Acquire) {
                continue;
            }
            // Chunks written once for a class of peers are shared, not copied.
            for chunk in engine.take_transmit_chunks(id) {
                l.link.send(chunk);
            }
            // A fresh session's table goes out a step at a time: the next
            // step when its writer reports the queue drained.
            if engine.is_catching_up(id) && !engine.is_paused(id) {
                l.link.paused.store(true, Ordering::Release);
                l.link.out_ready.notify_one();
            }
        }
        // Backpressure: do not read further ahead than the slowest peer's
        // socket takes. A peer whose socket takes nothing is paused instead,
        // so one stuck peer stalls the others once, for NO_PROGRESS, not for
        // every batch; one that reads slowly is waited for, MAX_STALL at most.
        let start = Instant::now();
        let mut seen: Vec<(usize, u64, Instant)> = Vec::new();
        loop {
            let now = Instant::now();
            let mut over = false;
            for (i, l) in live.iter().enumerate() {
                let Some(l) = l else { continue };
                if l.link.paused.load(Ordering::Relaxed)
                    || l.link.queued.load(Ordering::Relaxed) <= HIGH_WATER
                {
                    continue;
                }
                let written = l.link.written.load(Ordering::Relaxed);
                let at = match seen.iter().position(|(p, ..)| *p == i) {
                    Some(at) => at,
                    None => {
                        seen.push((i, written, now));
                        seen.len() - 1
                    }
                };
                let Some(mark) = seen.get_mut(at) else {
                    continue;
                };
                if mark.1 != written {
                    (mark.1, mark.2) = (written, now);
                } else if now.duration_since(mark.2) >= NO_PROGRESS {
                    if let Some(&Some(id)) = ids.get(i) {
                        engine.pause_transmit(id);
                        l.link.paused.store(true, Ordering::Release);
                        warn!(
                            peer = name(&names, i),
                            queued = l.link.queued.load(Ordering::Relaxed),
                            "peer stopped reading: output paused"
                        );
                        // It may have drained just now: then the writer will not tell us.
                        if l.link.queued.load(Ordering::Relaxed) < LOW_WATER
                            && l.link.paused.swap(false, Ordering::AcqRel)
                        {
                            catch_up(&mut engine, id, &l.link);
                        }
                    }
                    continue;
                }
                over = true;
            }
            if !over || start.elapsed() >= MAX_STALL {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

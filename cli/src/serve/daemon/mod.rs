//! The tokio side of `reflector serve`: listeners, connectors, one task per
//! connection driving a session, one task owning the engine.
//!
//! This file starts the tasks and runs the main loop (signals, reloads,
//! shutdown); each of the others holds one concern: [`tcp`] (listeners and
//! connectors), [`connection`] (one task per connection), [`writer`] (its
//! output), [`link`] (what a connection and the engine task share),
//! [`engine_task`] (the task owning the engine), [`apply`](mod@apply) (reloads),
//! [`shared`] and [`hold_off`] (state every task reads), [`peer_setup`]
//! (configuration to session and engine settings).

mod apply;
mod connection;
mod engine_task;
mod hold_off;
mod link;
mod peer_setup;
mod shared;
mod tcp;
mod writer;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use reflector_core::engine::{self, EngineConfig};
use reflector_core::wire::AfiSafiSet;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch, Semaphore};
use tracing::{info, warn};

use super::bmp;
use super::config::{Config, ConfigError};
use super::control::{self, MainJob};
use super::heap;
use super::reload;
use super::sock;
use super::status::Statuses;

use apply::apply;
use engine_task::{bmp_ticker, engine_loop};
use hold_off::HoldOff;
use link::Link;
pub(crate) use peer_setup::session_config;
use peer_setup::{note_default_deny, PeerSetup};
use shared::Shared;
use tcp::{accept_loop, connect_loop, listen};

/// Channel messages queued for the engine, at most (each is one read's worth
/// of messages from one connection; their bytes are bounded by [`ENGINE_INPUT`]).
const ENGINE_QUEUE: usize = 4096;
/// Input bytes read ahead of the engine, at most, over all connections: a
/// connection takes its messages' size from this budget before queueing them,
/// and the engine gives it back when it takes them off the queue.
const ENGINE_INPUT: usize = 1 << 20;

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

/// Reads the configuration again (on SIGHUP).
pub type Reload = Box<dyn Fn() -> Result<Config, ConfigError> + Send>;

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

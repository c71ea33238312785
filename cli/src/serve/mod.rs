//! `reflector serve`: a BGP route reflector on TCP.
//!
//! The daemon is the sans-IO core on a socket: one task per TCP connection
//! drives a [`reflector_core::session::Session`] (OPEN exchange, timers,
//! NOTIFICATIONs), and one task owns the [`reflector_core::engine::Engine`];
//! they talk over channels. Connection tasks hand the engine batches of
//! UPDATE and ROUTE-REFRESH messages; after each batch the engine writes every
//! peer's packed UPDATEs ([`Engine::take_transmit`]) to that peer's writer.
//! SIGTERM or SIGINT sends a Cease (Administrative Shutdown, with an RFC 9003
//! shutdown communication) to every peer, then the process exits with status 0.
//! SIGHUP reads the configuration again (see `reload.rs`): policy changes are
//! applied to the live sessions, changed peers restart, removed peers get
//! Cease / Peer De-configured, and an invalid file is refused (logged with
//! the field) while the running configuration stays.
//! `--check-config FILE` only reads and checks a file (exit status 0 or 1).
//!
//! # Configuration
//!
//! `--config FILE` takes Reflector's own TOML (see
//! `examples/serve/reflector.toml`) or, when the file starts with `{`, the
//! JSON peer list that the rr-bench harness writes:
//!
//! ```toml
//! router_id = "10.0.0.1"        # required
//! asn = 64512                   # required
//! cluster_id = "10.0.0.1"       # default: router_id
//! listen = ["127.0.0.1:1179"]   # default: 127.0.0.1:179
//! hold_time = 90                # default for every peer: 0, or >= 3
//! client_to_client = true
//! connect_retry = 5             # seconds, for active peers
//!
//! [[peer]]
//! name = "node-a"               # default: the address
//! address = "127.0.0.2"         # required; connections are matched by it
//! asn = 64512                   # required
//! role = "client"               # required: client | non-client | ebgp
//! passive = true                # default false: we also connect to it
//! port = 179                    # its port, for active peers
//! local_address = "127.0.0.1"   # source address of our connection
//! hold_time = 90
//! families = ["ipv4-unicast", "ipv6-unicast"]
//! add_path_receive = false      # advertise ADD-PATH receive
//! add_path_send = "off"         # off | all | best-N
//! local_role = "provider"       # eBGP only: our RFC 9234 BGP Role toward it
//! strict_role = false           # refuse it when it sends no role
//! extended_next_hop = false     # RFC 8950: IPv4 routes with IPv6 next hops
//! max_prefixes_ipv4 = 1000      # paths accepted at once, per family; crossing it
//! max_prefixes_ipv6 = 1000      #   ends the session: Cease, Maximum Number of Prefixes (RFC 4486)
//! max_prefixes_warning_only = false  # only log (and count) instead
//! max_prefixes_restart = 60     # then refuse the peer's connections for 60 s
//! max_paths_per_prefix = 16     # ADD-PATH paths per prefix; more are refused
//! import = "from-upstream"      # routing policy on what it sends us; a list runs several in order
//! export = ["to-upstream"]      # and on what we send it
//! password = "secret"           # TCP-MD5 (RFC 2385); or password_file = "/etc/reflector/node-a.key"
//! ttl_security = true           # GTSM (RFC 5082), or gtsm_hops = N
//!
//! [[bmp]]                       # a BMP collector (RFC 7854), see `bmp.rs`
//! address = "127.0.0.1:11019"
//! statistics_interval = 60      # seconds, 0: none
//! ```
//!
//! Session security (TCP-MD5, GTSM, connections from unknown addresses) is
//! in `sock.rs`; Calico's `password.secretKeyRef` (`--secrets DIR`) in
//! `secrets.rs`. Both are described for users in `docs/security.md`, BMP in
//! `docs/bmp.md`.
//! The operator surface (see `docs/control.md` and `docs/metrics.md`):
//!
//! ```toml
//! [control]
//! socket = "/run/reflector/reflector.sock"  # `reflector show` / `reflector ctl` (mode 0600)
//! [metrics]
//! listen = "127.0.0.1:9179"                 # OpenMetrics on GET /metrics (off when absent)
//! ```
//!
//! `--control PATH` and `--metrics ADDR` override them; see [`control`] for
//! the default socket path.
//!
//! Routing policy (`[sets]`, `[[policy]]` with `[[policy.statement]]`) is
//! described in `policy.rs`. `ebgp_requires_policy = true` (the default,
//! RFC 8212) rejects the routes of an eBGP peer without an `import` policy
//! and sends nothing to one without an `export` policy.
//!
//! BGP Roles (RFC 9234) are for eBGP peers only (`local_role` on an iBGP peer
//! is a configuration error): `local_role` = `provider` | `customer` | `peer`
//! | `rs` | `rs-client` is advertised in the OPEN, and a peer whose role does
//! not pair with it (provider–customer, rs–rs-client, peer–peer), or, with
//! `strict_role = true`, that sends none, is refused with 2/11 Role Mismatch.
//! The OTC attribute is then applied to its routes: route leaks from it are
//! dropped (counted as loop rejections), OTC is added where RFC 9234 §5 says,
//! and routes carrying OTC are not sent to it when it is a provider, peer or
//! route server. iBGP carries OTC unchanged. `extended_next_hop = true`
//! advertises RFC 8950 Extended Next Hop for IPv4 unicast: IPv4 routes whose
//! next hop is IPv6 are sent only to peers where both sides advertised it.
//!
//! A bad file is reported as ``field `peer[1].role`: ...`` (or with toml's own
//! line and column for syntax errors and unknown keys) and the command exits 1.
//!
//! `--config` also takes Calico resources (a folder, or a `.yaml`/`.yml` file)
//! with `--node NAME`: the daemon is that node, with the peers the
//! simulator's planner gives it (see [`calico`]). `--listen` (repeatable)
//! replaces the listen addresses and `--passive` makes every peer passive,
//! whatever the format.
//!
//! [`Engine::take_transmit`]: reflector_core::engine::Engine::take_transmit

use std::net::SocketAddr;
use std::path::PathBuf;

pub mod bmp;
pub mod calico;
pub mod config;
pub mod control;
mod daemon;
mod heap;
mod metrics;
mod policy;
mod reload;
mod secrets;
pub mod sock;
pub mod status;

/// Arguments of `reflector serve`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Calico resources: `reflector serve --config examples/calico-rr --node rxgks` \
runs as node rxgks: router ID its IPv4 address, its AS and routeReflectorClusterID, \
listening on its addresses (port: BGPConfiguration listenPort, else 179), one peer per \
session the planner gives it (clients, non-clients, eBGP), every peer active unless --passive."
)]
pub struct Args {
    /// Configuration: Reflector TOML (.toml), rr-bench's JSON peer list (.json), or Calico resources (a folder or .yaml/.yml file; needs --node).
    #[arg(long, required_unless_present = "check_config")]
    pub config: Option<PathBuf>,
    /// Read and check this configuration, then exit: 0 when it is valid, 1 with the error.
    #[arg(long, value_name = "FILE", conflicts_with = "config")]
    pub check_config: Option<PathBuf>,
    /// Calico resources: the node to be (its metadata.name).
    #[arg(long, value_name = "NAME")]
    pub node: Option<String>,
    /// Listen on ADDR:PORT instead of the configured addresses (repeatable).
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Vec<SocketAddr>,
    /// Never connect to peers; only accept their connections.
    #[arg(long)]
    pub passive: bool,
    /// Calico resources: Kubernetes Secrets for `password.secretKeyRef`, each key a file DIR/SECRET/KEY (Secret volumes mounted at DIR/SECRET).
    #[arg(long, value_name = "DIR")]
    pub secrets: Option<PathBuf>,
    /// The control socket for `reflector show` / `reflector ctl` (overrides `[control] socket`;
    /// default: /run/reflector/reflector.sock as root, else $XDG_RUNTIME_DIR/reflector.sock).
    #[arg(long, value_name = "PATH")]
    pub control: Option<PathBuf>,
    /// Serve OpenMetrics/Prometheus metrics on ADDR:PORT (overrides `[metrics] listen`; off by default).
    #[arg(long, value_name = "ADDR:PORT")]
    pub metrics: Option<SocketAddr>,
    /// Write the process id to this file once listening.
    #[arg(long)]
    pub pid_file: Option<PathBuf>,
    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Log filter (tracing-subscriber syntax; overrides RUST_LOG).
    #[arg(long)]
    pub log: Option<String>,
    /// Worker threads of the runtime (default: the number of CPUs).
    #[arg(long)]
    pub threads: Option<usize>,
    /// glibc malloc arenas, at most (0: glibc's default of eight per CPU; the
    /// MALLOC_ARENA_MAX environment variable, when set, wins). One arena keeps
    /// the RIB and the I/O buffers in one heap: a lower peak resident set.
    /// Large blocks are always mapped on their own (128 KiB mmap threshold).
    #[arg(long, default_value_t = 1)]
    pub malloc_arenas: usize,
}

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines with key=value fields.
    Text,
    /// One JSON object per line.
    Json,
}

/// Run the daemon until SIGTERM or SIGINT (or, with `--check-config`, check a file).
pub fn run(args: &Args) -> std::io::Result<()> {
    run_inner(args).map_err(std::io::Error::other)
}

fn run_inner(args: &Args) -> Result<(), String> {
    let overrides = calico::Overrides {
        node: args.node.clone(),
        listen: args.listen.clone(),
        passive: args.passive,
        secrets: args.secrets.clone(),
    };
    if let Some(path) = &args.check_config {
        let loaded =
            calico::load(path, &overrides).map_err(|e| format!("{}: {e}", path.display()))?;
        println!(
            "{}: valid ({} peers)",
            path.display(),
            loaded.config.peers.len()
        );
        return Ok(());
    }
    let Some(path) = args.config.clone() else {
        return Err("--config FILE is required".into());
    };
    let loaded = calico::load(&path, &overrides).map_err(|e| format!("{}: {e}", path.display()))?;
    let reload: daemon::Reload =
        Box::new(move || calico::load(&path, &overrides).map(|l| l.config));
    init_logs(args);
    for note in &loaded.notes {
        let (resource, field, message) = (&note.resource, &note.field, &note.message);
        match note.severity {
            reflector_sim::Severity::Warning => tracing::warn!(%resource, %field, "{message}"),
            reflector_sim::Severity::Info => tracing::info!(%resource, %field, "{message}"),
        }
    }
    let mut cfg = loaded.config;
    if let Some(p) = &args.control {
        cfg.ops.control_socket = Some(p.clone());
    }
    if let Some(a) = args.metrics {
        cfg.ops.metrics = Some(a);
    }
    heap::tune(args.malloc_arenas);
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    rt.enable_all();
    if let Some(n) = args.threads {
        rt.worker_threads(n.max(1));
    }
    let rt = rt.build().map_err(|e| format!("runtime: {e}"))?;
    let res = rt.block_on(daemon::serve(cfg, args.pid_file.clone(), reload));
    if let Some(p) = &args.pid_file {
        let _ = std::fs::remove_file(p);
    }
    res
}

fn init_logs(args: &Args) {
    use tracing_subscriber::EnvFilter;
    let filter = match &args.log {
        Some(f) => EnvFilter::new(f),
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
    };
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = match args.log_format {
        LogFormat::Text => b.try_init(),
        LogFormat::Json => b.json().try_init(),
    };
}

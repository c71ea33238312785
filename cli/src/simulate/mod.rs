//! `reflector simulate`: a Calico cluster's BGP peerings, run on Reflector engines.
//!
//! Loads the Calico resources (or generates a cluster), lints them, plans the
//! sessions calico/node would open, runs one engine per node over in-memory
//! links until nothing moves, and prints every node's `calicoctl node status`
//! and routes, then the cluster summary beside the same cluster as a full
//! node-to-node mesh.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use reflector_sim::generate::{generate, GenerateOptions};
use reflector_sim::{Cluster, Network};

mod bird;
mod report;
mod whatif;

use report::{NodeReport, Report, RunSummary};

/// Largest cluster `--nodes` generates.
pub const MAX_GENERATED_NODES: usize = 5000;

/// Largest cluster compared with its full mesh unless `--compare-mesh` is given.
pub const AUTO_MESH_LIMIT: usize = 300;

/// Clusters up to this size show every node unless `--node` or `--all-nodes` is given.
pub const ALL_NODES_LIMIT: usize = 20;

/// The story's cluster, built in: five nodes, two reflectors, the `BGPPeer`s as the story writes them.
const EMBEDDED: [(&str, &str); 3] = [
    (
        "examples/calico-rr/bgpconfiguration.yaml",
        include_str!("../../../examples/calico-rr/bgpconfiguration.yaml"),
    ),
    (
        "examples/calico-rr/bgppeers.yaml",
        include_str!("../../../examples/calico-rr/bgppeers.yaml"),
    ),
    (
        "examples/calico-rr/nodes.yaml",
        include_str!("../../../examples/calico-rr/nodes.yaml"),
    ),
];

/// Arguments of `reflector simulate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A folder of Calico resources (every .yaml/.yml/.txt file) or one YAML file.
    ///
    /// Without PATH (and without --nodes) the story's cluster is simulated:
    /// the built-in copy of examples/calico-rr.
    #[arg(value_name = "PATH", conflicts_with = "nodes")]
    pub path: Option<PathBuf>,
    /// Print one JSON object instead of tables (warnings still go to stderr).
    #[arg(long)]
    pub json: bool,
    /// Show only this node's status and routes.
    #[arg(long, value_name = "NAME")]
    pub node: Option<String>,
    /// Show every node, however large the cluster (default: every node up to 20 nodes).
    #[arg(long, conflicts_with = "node")]
    pub all_nodes: bool,
    /// Generate a cluster of N nodes (1 to 5000) instead of reading one.
    #[arg(long, value_name = "N")]
    pub nodes: Option<usize>,
    /// Route reflectors in the generated cluster.
    #[arg(long, value_name = "R", requires = "nodes", default_value_t = 2)]
    pub reflectors: usize,
    /// Seed of the generated node names.
    #[arg(long, value_name = "S", requires = "nodes", default_value_t = 1)]
    pub seed: u64,
    /// Give the generated cluster IPv6 too: node addresses and an IPv6 pool beside the IPv4 ones.
    #[arg(long, requires = "nodes")]
    pub dual_stack: bool,
    /// Also run the same cluster as a full node-to-node mesh, whatever its size
    /// (done by default up to 300 nodes).
    #[arg(long, conflicts_with = "no_compare_mesh")]
    pub compare_mesh: bool,
    /// Do not run the full-mesh comparison.
    #[arg(long)]
    pub no_compare_mesh: bool,
    /// Give up after this many steps that still move messages.
    #[arg(long, value_name = "STEPS", default_value_t = 10_000)]
    pub max_steps: u64,
    /// Show progress on stderr even when it is not a terminal.
    #[arg(long)]
    pub progress: bool,
    /// After converging, fail these nodes for good, converge again and report
    /// which pod blocks each surviving node kept and lost.
    #[arg(long, value_name = "NODE[,NODE...]", value_delimiter = ',')]
    pub fail: Vec<String>,
    /// After converging, take down the sessions between nodes A and B (repeatable), as --fail does.
    #[arg(long, value_name = "A-B", value_delimiter = ',')]
    pub fail_session: Vec<String>,
    /// Migrate through these configurations (folders or YAML files) in turn and
    /// report, for every transition, which nodes lost routes to which pod blocks.
    #[arg(
        long,
        value_name = "DIR",
        num_args = 1..,
        conflicts_with_all = ["path", "nodes", "fail", "fail_session", "node", "all_nodes", "compare_mesh"]
    )]
    pub steps: Vec<PathBuf>,
    /// List every field the resources set and what it does in the simulation
    /// (routing, session, not routing, not simulated), then stop.
    #[arg(long, conflicts_with_all = ["steps", "nodes", "fail", "fail_session"])]
    pub fields: bool,
    /// Also run every node's calico/node BIRD configuration on real BIRDs
    /// (`bird` from bird2, on 127.1.x.y) and compare their IPv4 routes with the
    /// simulator's; fails on any difference.
    #[arg(long, conflicts_with_all = ["steps", "fields", "fail", "fail_session"])]
    pub with_bird: bool,
    /// How long --with-bird waits for BIRD's sessions and routes to settle, in seconds.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 120,
        requires = "with_bird"
    )]
    pub bird_timeout: u64,
    /// Write (and keep) the BIRD configurations, sockets and logs of --with-bird in this folder.
    #[arg(long, value_name = "DIR", requires = "with_bird")]
    pub bird_dir: Option<PathBuf>,
}

/// `--fields`: the table (or JSON list) of the fields the resources set.
fn print_fields(cluster: &Cluster, json: bool) -> io::Result<()> {
    let mut out = io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &cluster.fields)?;
        writeln!(out)?;
        return out.flush();
    }
    let rows: Vec<Vec<String>> = cluster
        .fields
        .iter()
        .map(|u| {
            let effect = match u.effect {
                reflector_sim::fields::Effect::Routing => "routing",
                reflector_sim::fields::Effect::Session => "session only",
                reflector_sim::fields::Effect::NotRouting => "not routing",
                reflector_sim::fields::Effect::NotSimulated => "NOT SIMULATED",
            };
            vec![
                u.resource.clone(),
                u.field.clone(),
                effect.to_string(),
                u.note.to_string(),
            ]
        })
        .collect();
    out.write_all(
        reflector_sim::render::table(&["RESOURCE", "FIELD", "EFFECT", "WHAT IT DOES"], &rows)
            .as_bytes(),
    )?;
    out.flush()
}

fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg.into())
}

fn sim_error(e: reflector_sim::Error) -> io::Error {
    match e {
        reflector_sim::Error::Io { .. } => io::Error::new(io::ErrorKind::NotFound, e.to_string()),
        _ => invalid(e.to_string()),
    }
}

/// Progress on stderr: a spinner on a terminal, plain timed lines when forced off one, or nothing.
enum Progress {
    /// No progress output.
    Off,
    /// An indicatif spinner (stderr is a terminal).
    Bar(ProgressBar),
    /// One line per stage (`--progress` with stderr redirected).
    Lines(Instant),
}

impl Progress {
    fn new(forced: bool) -> Progress {
        if io::stderr().is_terminal() {
            let pb = ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
            pb.set_style(style);
            pb.enable_steady_tick(Duration::from_millis(120));
            Progress::Bar(pb)
        } else if forced {
            Progress::Lines(Instant::now())
        } else {
            Progress::Off
        }
    }

    fn say(&self, msg: String) {
        match self {
            Progress::Off => {}
            Progress::Bar(pb) => pb.set_message(msg),
            Progress::Lines(t0) => {
                eprintln!("[{:>8.3} s] {msg}", t0.elapsed().as_secs_f64());
            }
        }
    }

    fn done(&self) {
        if let Progress::Bar(pb) = self {
            pb.finish_and_clear();
        }
    }
}

/// The cluster to simulate and a name for where it came from.
fn load(args: &Args, progress: &Progress) -> io::Result<(Cluster, String)> {
    if let Some(n) = args.nodes {
        if n == 0 || n > MAX_GENERATED_NODES {
            return Err(invalid(format!(
                "--nodes {n}: a generated cluster has 1 to {MAX_GENERATED_NODES} nodes"
            )));
        }
        if args.reflectors > n {
            return Err(invalid(format!(
                "--reflectors {}: more reflectors than the {n} nodes",
                args.reflectors
            )));
        }
        progress.say(format!(
            "generating {n} nodes, {} reflectors",
            args.reflectors
        ));
        let opts = GenerateOptions {
            nodes: n,
            reflectors: args.reflectors,
            seed: args.seed,
            dual_stack: args.dual_stack,
            ..GenerateOptions::default()
        };
        let cluster = generate(&opts).map_err(sim_error)?;
        let name = format!(
            "generated {}cluster ({n} nodes, {} route reflectors, seed {})",
            if args.dual_stack { "dual-stack " } else { "" },
            args.reflectors,
            args.seed
        );
        return Ok((cluster, name));
    }
    let (cluster, name) = match &args.path {
        Some(p) => {
            progress.say(format!("reading {}", p.display()));
            (
                Cluster::load_path(p).map_err(sim_error)?,
                p.display().to_string(),
            )
        }
        None => (
            Cluster::from_texts(EMBEDDED).map_err(sim_error)?,
            "examples/calico-rr (built in)".to_string(),
        ),
    };
    if cluster.nodes.is_empty() {
        return Err(invalid(format!(
            "{name}: no Node resources (expected Calico YAML with kind: Node, or `kubectl get nodes` output)"
        )));
    }
    Ok((cluster, name))
}

/// The same cluster before any route reflector: mesh on, no cluster IDs, no node-to-node `BGPPeer`s.
pub fn full_mesh_of(cluster: &Cluster) -> Cluster {
    let mut mesh = cluster.clone();
    mesh.bgp_configuration.node_to_node_mesh_enabled = Some(true);
    for n in &mut mesh.nodes {
        n.route_reflector_cluster_id = None;
    }
    // Peers to routers outside the cluster stay; peerings between nodes become the mesh.
    mesh.bgp_peers
        .retain(|p| p.peer_ip.is_some() && p.peer_selector.selector().is_none());
    mesh.notes.clear();
    mesh
}

/// Whether the cluster as configured already is the full mesh of its nodes.
fn is_full_mesh(cluster: &Cluster) -> bool {
    cluster.bgp_configuration.mesh_enabled() && !cluster.nodes.iter().any(|n| n.is_reflector())
}

/// Builds and runs the network of a cluster; `label` names the run in progress messages.
fn simulate(
    cluster: &Cluster,
    label: &str,
    max_steps: u64,
    progress: &Progress,
) -> io::Result<(Network, RunSummary)> {
    let start = Instant::now();
    progress.say(format!(
        "{label}: planning sessions and starting {} engines",
        cluster.nodes.len()
    ));
    let mut net = Network::from_cluster(cluster).map_err(sim_error)?;
    let mut converged = false;
    let mut busy_steps = 0u64;
    while busy_steps < max_steps {
        if !matches!(progress, Progress::Off) {
            // The plan's summary walks every session: only when someone watches.
            let s = net.summary();
            progress.say(format!(
                "{label}: step {}, {} messages so far",
                s.convergence_steps.unwrap_or(0) + 1,
                s.messages.unwrap_or(0)
            ));
        }
        if net.step() == 0 {
            converged = true;
            break;
        }
        busy_steps += 1;
    }
    let elapsed = start.elapsed();
    progress.say(format!("{label}: checking every node's routes"));
    let summary = RunSummary::of(&net, converged, elapsed);
    Ok((net, summary))
}

/// Which node indexes to show, and how many are left out.
fn shown_nodes(args: &Args, net: &Network) -> io::Result<(Vec<usize>, usize)> {
    let plan = net.plan();
    let n = plan.nodes.len();
    if let Some(name) = &args.node {
        let Some(i) = plan.node_index(name) else {
            let mut names: Vec<&str> = plan.nodes.iter().map(|x| x.name.as_str()).collect();
            let more = names.len().saturating_sub(10);
            names.truncate(10);
            let tail = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            return Err(invalid(format!(
                "--node {name}: no such node (nodes: {}{tail})",
                names.join(", ")
            )));
        };
        return Ok((vec![i], n - 1));
    }
    if args.all_nodes || n <= ALL_NODES_LIMIT {
        return Ok(((0..n).collect(), 0));
    }
    // Large cluster: the reflectors and the first two ordinary nodes.
    let mut shown: Vec<usize> = (0..n)
        .filter(|&i| plan.nodes.get(i).is_some_and(|x| x.cluster_id.is_some()))
        .collect();
    shown.extend(
        (0..n)
            .filter(|&i| plan.nodes.get(i).is_some_and(|x| x.cluster_id.is_none()))
            .take(2),
    );
    shown.sort_unstable();
    Ok((shown.clone(), n - shown.len()))
}

/// `--steps`: runs the migration and prints its report.
fn run_steps(args: &Args) -> io::Result<()> {
    let mut steps = Vec::new();
    let mut err = io::stderr().lock();
    for p in &args.steps {
        let cluster = Cluster::load_path(p).map_err(sim_error)?;
        let name = p.display().to_string();
        if cluster.nodes.is_empty() {
            return Err(invalid(format!("{name}: no Node resources")));
        }
        for note in cluster.lint_plan(&cluster.plan()) {
            writeln!(err, "{name}: {note}")?;
        }
        steps.push((name, cluster));
    }
    drop(err);
    let report = reflector_sim::whatif::migrate(&steps, args.max_steps).map_err(sim_error)?;
    let mut out = io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        out.write_all(whatif::render_migration(&report).as_bytes())?;
    }
    out.flush()?;
    let converged = report.initial.converged && report.transitions.iter().all(|t| t.run.converged);
    if !converged {
        return Err(io::Error::other(format!(
            "the network did not converge within {} steps (--max-steps)",
            args.max_steps
        )));
    }
    Ok(())
}

/// `--with-bird`: runs the simulator, then the same cluster on real BIRDs, and compares.
fn run_with_bird(
    args: &Args,
    cluster: &Cluster,
    notes: &[reflector_sim::Note],
    progress: &Progress,
) -> io::Result<()> {
    {
        let mut err = io::stderr().lock();
        for note in notes {
            writeln!(err, "{note}")?;
        }
    }
    let (net, summary) = simulate(cluster, "as configured", args.max_steps, progress)?;
    if !summary.converged {
        progress.done();
        return Err(io::Error::other(format!(
            "the network did not converge within {} steps (--max-steps)",
            args.max_steps
        )));
    }
    let check = bird::cross_check(
        &net,
        Duration::from_secs(args.bird_timeout),
        args.bird_dir.as_deref(),
        &|m| progress.say(m),
    );
    progress.done();
    bird::report(&check?, args.json)
}

/// Runs `reflector simulate`.
pub fn run(args: &Args) -> io::Result<()> {
    if !args.steps.is_empty() {
        return run_steps(args);
    }
    let progress = Progress::new(args.progress);
    let (cluster, source) = load(args, &progress)?;
    let plan = cluster.plan();
    let notes = cluster.lint_plan(&plan);
    if args.fields {
        progress.done();
        let mut err = io::stderr().lock();
        for note in &notes {
            writeln!(err, "{note}")?;
        }
        return print_fields(&cluster, args.json);
    }
    if args.with_bird {
        return run_with_bird(args, &cluster, &notes, &progress);
    }
    let planned = plan.summary();

    let failed_nodes = whatif::node_indexes(&plan, &args.fail).map_err(invalid)?;
    let failed_sessions = whatif::session_pairs(&plan, &args.fail_session).map_err(invalid)?;
    let (mut net, summary) = simulate(&cluster, "as configured", args.max_steps, &progress)?;
    let (shown, omitted) = match shown_nodes(args, &net) {
        Ok(x) => x,
        Err(e) => {
            progress.done();
            return Err(e);
        }
    };
    progress.say(format!("rendering {} nodes", shown.len()));
    let nodes: Vec<NodeReport> = shown.iter().map(|&i| NodeReport::of(&net, i)).collect();
    let what_if = if failed_nodes.is_empty() && failed_sessions.is_empty() {
        None
    } else {
        progress.say("what if: failing and converging again".to_string());
        Some(reflector_sim::whatif::fail(
            &mut net,
            &failed_nodes,
            &failed_sessions,
            args.max_steps,
        ))
    };
    drop(net);

    let n = cluster.nodes.len();
    let (full_mesh, full_mesh_note) = if is_full_mesh(&cluster) {
        (
            None,
            Some("the cluster as configured is already the full node-to-node mesh".to_string()),
        )
    } else if args.no_compare_mesh {
        (
            None,
            Some("full-mesh comparison not run (--no-compare-mesh)".to_string()),
        )
    } else if n > AUTO_MESH_LIMIT && !args.compare_mesh {
        (
            None,
            Some(format!(
                "full-mesh comparison not run above {AUTO_MESH_LIMIT} nodes ({} sessions); pass --compare-mesh to run it",
                report::thousands((n * (n - 1) / 2) as u64)
            )),
        )
    } else {
        let mesh = full_mesh_of(&cluster);
        let (mesh_net, s) = simulate(&mesh, "full mesh", args.max_steps, &progress)?;
        // A 1000-node mesh is a million peers and their RIBs: the OS frees them
        // at exit faster than a million frees would.
        std::mem::forget(mesh_net);
        (Some(s), None)
    };
    progress.done();

    let report = Report {
        source,
        cluster: report::ClusterInfo::of(&cluster),
        warnings: notes,
        planned,
        nodes,
        nodes_omitted: omitted,
        summary,
        full_mesh,
        full_mesh_note,
        what_if,
    };

    // Warnings and load notes: stderr, one line each, naming resource and field.
    {
        let mut err = io::stderr().lock();
        for note in &report.warnings {
            writeln!(err, "{note}")?;
        }
        for e in &report.summary.errors {
            writeln!(err, "error: {e}")?;
        }
    }

    let mut out = io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        out.write_all(report.render_text().as_bytes())?;
    }
    out.flush()?;

    let what_if_converged = report.what_if.as_ref().is_none_or(|w| w.run.converged);
    if !report.summary.converged || !what_if_converged {
        return Err(io::Error::other(format!(
            "the network did not converge within {} steps (--max-steps)",
            args.max_steps
        )));
    }
    if !report.summary.errors.is_empty() {
        return Err(io::Error::other(format!(
            "{} message(s) refused by the engines (see above)",
            report.summary.errors.len()
        )));
    }
    Ok(())
}

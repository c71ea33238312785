//! The `reflector` command.

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

mod manual;
mod mrt;
mod serve;
mod show;
mod simulate;

/// Reflector: an embeddable BGP route-reflection engine.
#[derive(Debug, Parser)]
#[command(name = "reflector", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Simulate a Calico cluster's BGP: peerings, every node's status and routes, mesh vs reflectors.
    ///
    /// Reads Calico resources (Node, BGPPeer, BGPConfiguration, IPPool) from a
    /// folder or YAML file, or generates a cluster with --nodes, runs one
    /// Reflector engine per node over in-memory links to convergence and prints
    /// `calicoctl node status` and routes per node, then the cluster summary
    /// beside the same cluster as a full mesh. Configuration warnings go to
    /// stderr. Exit status 1 on unreadable or invalid input, or when the
    /// network does not converge.
    Simulate(simulate::Args),
    /// Statistics of an MRT dump (RFC 6396): records, BGP messages, prefixes, attributes, peers.
    ///
    /// gzip and bzip2 files are read transparently (recognised by their magic
    /// bytes). Exit status 0 whenever the file could be opened: a truncated or
    /// malformed file is reported ("complete": false, "errors") rather than
    /// failed; 1 if the file cannot be opened or the report cannot be written.
    Mrt(mrt::Args),
    /// A BGP route reflector on TCP (sessions with BIRD, GoBGP, FRR...) until SIGTERM/SIGINT.
    ///
    /// Configuration: Reflector TOML (see examples/serve/reflector.toml), the
    /// rr-bench JSON peer list, or Calico resources (a folder or YAML file)
    /// with --node NAME. A bad configuration exits 1 naming the field.
    Serve(serve::Args),
    /// Ask a running `reflector serve`: sessions, neighbours, routes and why they won or lost, Adj-RIBs, memory.
    ///
    /// Talks to the daemon's control socket (--control PATH; docs/control.md).
    /// Tables for people; --json prints the daemon's answer (a stable schema).
    /// Exit status 1 when the daemon cannot be reached or refuses the request.
    Show(show::ShowArgs),
    /// Act on a running `reflector serve`: reset, refresh, disable/enable a peer, reload, shut down (gracefully).
    ///
    /// Talks to the daemon's control socket (--control PATH; docs/control.md).
    /// Exit status 1 when the daemon cannot be reached or refuses the action
    /// (a refused reload names the field).
    Ctl(show::CtlArgs),
    /// Write man pages generated from these definitions: reflector.1 and one per subcommand.
    ///
    /// Hidden from the main help (a packaging tool). Writes reflector.1,
    /// reflector-serve.1, reflector-mrt.1, reflector-simulate.1,
    /// reflector-show.1, reflector-ctl.1 and one per show/ctl subcommand
    /// (reflector-show-route.1, ...) into DIR and prints each path written.
    #[command(hide = true)]
    Manual(manual::ManualArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) on stdout.
    ///
    /// Hidden from the main help (a packaging tool). For example
    /// `reflector completions bash > /usr/share/bash-completion/completions/reflector`.
    #[command(hide = true)]
    Completions(manual::CompletionsArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let res = match cli.command {
        Command::Simulate(args) => simulate::run(&args),
        Command::Mrt(args) => mrt::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Show(args) => show::show(&args),
        Command::Ctl(args) => show::ctl(&args),
        Command::Manual(args) => manual::manual(Cli::command(), &args),
        Command::Completions(args) => manual::completions(Cli::command(), &args),
    };
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("reflector: {e}");
            ExitCode::FAILURE
        }
    }
}

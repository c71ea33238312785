//! The `reflector` command.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod mrt;
mod serve;
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let res = match cli.command {
        Command::Simulate(args) => simulate::run(&args),
        Command::Mrt(args) => mrt::run(&args),
        Command::Serve(args) => serve::run(&args),
    };
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("reflector: {e}");
            ExitCode::FAILURE
        }
    }
}

//! Packaging helpers: man pages (`reflector manual --out DIR`) and shell
//! completion scripts (`reflector completions SHELL`), both generated from the
//! same clap definitions the binary parses its arguments with.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Command;
use clap_complete::Shell;

/// Arguments of `reflector manual`.
#[derive(Debug, clap::Args)]
pub struct ManualArgs {
    /// Directory to write the man pages into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// Arguments of `reflector completions`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to print a completion script for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Writes `reflector.1` and one page per visible subcommand
/// (`reflector-serve.1`, ...) into `args.out`, printing each path written.
pub fn manual(cmd: Command, args: &ManualArgs) -> std::io::Result<()> {
    std::fs::create_dir_all(&args.out)
        .map_err(|e| std::io::Error::other(format!("cannot create {}: {e}", args.out.display())))?;
    let mut cmd = cmd.disable_help_subcommand(true);
    cmd.build();
    let mut written = Vec::new();
    write_pages(&cmd, &args.out, &mut written).map_err(|e| {
        std::io::Error::other(format!(
            "cannot write man pages into {}: {e}",
            args.out.display()
        ))
    })?;
    let mut out = std::io::stdout().lock();
    for path in written {
        writeln!(out, "{}", path.display())?;
    }
    Ok(())
}

/// The page of `cmd`, then those of its visible subcommands, recursively.
fn write_pages(cmd: &Command, dir: &Path, written: &mut Vec<PathBuf>) -> std::io::Result<()> {
    written.push(clap_mangen::Man::new(cmd.clone()).generate_to(dir)?);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub, dir, written)?;
    }
    Ok(())
}

/// Prints the completion script for `args.shell` on stdout.
pub fn completions(mut cmd: Command, args: &CompletionsArgs) -> std::io::Result<()> {
    let name = cmd.get_name().to_string();
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, name, &mut buf);
    std::io::stdout().lock().write_all(&buf)
}

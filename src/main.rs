//! Command line only: parse arguments, hand over to one entry function per command,
//! turn its outcome into output and an exit code.

mod change;
mod checks;
mod commands;
mod control_chars;
mod daemonjson;
mod docs;
mod drift;
mod error;
mod facts;
mod fleet;
mod fold;
mod health;
mod host;
mod init;
mod interrupt;
mod inventory;
mod mirrors;
mod packages;
mod plan;
mod progress;
#[cfg(test)]
mod props;
mod recap;
mod report;
mod rollback;
mod runner;
mod secrets;
mod service;
mod state;
mod steps;
mod suggest;
mod unit;

use std::path::PathBuf;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

use crate::error::EXIT_FAILURE;

const AFTER_HELP: &str = "\
Examples:
  rdock-setup apply playbooks/centos7.toml --dry-run     show every change as a diff; touch nothing
  rdock-setup apply playbooks/centos7.toml               converge this host; a second run changes nothing
  rdock-setup apply plan.toml --root /srv/images/el7     prepare a tree (image or chroot) offline
  rdock-setup versions playbooks/pinned.toml             list engine versions the repo offers
  rdock-setup mirrors playbooks/centos7-aliyun.toml      does each registry mirror serve a pull from here?
  rdock-setup validate plan.toml                         check a plan without touching anything
  rdock-setup rollback --dry-run                         what putting the last daemon.json backup back would change
  rdock-setup status plan.toml --inventory hosts.toml    drift report, one line per host (for monitoring)
  rdock-setup init                                       write a starter plan for this host (plan.toml)

Exit codes:
  0  success: converged, applied, or (dry-run) nothing or something to do
  1  failure: bad plan, preflight failed, a step failed, the target could not be read or
     was locked by another run, a command timed out, or the run was interrupted
     (SIGINT/SIGTERM: the step in flight finishes, no further step starts); for
     `mirrors`: a registry mirror does not serve
  2  changes pending: `apply --dry-run --detailed-exitcode`, and `status` (drift)

Logs go to stderr: -v for more, or RUST_LOG=rdock_setup=debug.";

#[derive(Parser)]
#[command(name = "rdock-setup", version, about = "Turn CentOS/RHEL-family hosts into working Docker CE hosts, declaratively and idempotently.", after_help = AFTER_HELP)]
struct Cli {
    /// More diagnostics on stderr (-v info, -vv debug: every command run).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// Seconds any one command on a target may take (yum/dnf excepted); past it, the
    /// command is stopped and the host reported failed.
    #[arg(long, global = true, value_name = "SECS", default_value_t = 300)]
    command_timeout: u64,
    /// Seconds one yum/dnf/apt-get run may take (transactions, metadata, resolution).
    #[arg(long, global = true, value_name = "SECS", default_value_t = 1800)]
    transaction_timeout: u64,
    /// Seconds to reach a host over SSH (ssh ConnectTimeout).
    #[arg(long, global = true, value_name = "SECS", default_value_t = 10)]
    connect_timeout: u64,
    /// Seconds to wait for another run's lock on the same target before giving up.
    #[arg(long, global = true, value_name = "SECS", default_value_t = 60)]
    lock_wait: u64,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum, Default)]
pub enum Format {
    #[default]
    Human,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Converge the target to the plan (or, with --dry-run, show what that would change).
    Apply(commands::ApplyArgs),
    /// Probe every registry mirror of the plan from each target: does it serve a pull?
    Mirrors(commands::MirrorsArgs),
    /// Print the facts the steps decide on.
    Facts {
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// List the engine versions the plan's repo offers, newest first, marking the one
    /// the plan resolves to.
    Versions {
        plan: PathBuf,
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
    },
    /// Read-only drift report: which steps would change, and whether docker runs the
    /// settings of its daemon.json; one line per host. Exit 0 converged, 2 drift, 1 error.
    Status(commands::StatusArgs),
    /// Check a plan: syntax, keys, types and values. Touches nothing.
    Validate { plan: PathBuf },
    /// Write a commented starter plan for this host's distribution family, with its
    /// defaults filled in. Never overwrites a file.
    Init {
        /// Where to write the plan.
        #[arg(default_value = "plan.toml")]
        plan: PathBuf,
        /// Read the distribution from this tree instead of the running system.
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
        /// Write the plan for this family instead of this host's: el7, el8, el9.
        #[arg(long, value_name = "elN", value_parser = commands::parse_family)]
        family: Option<u32>,
    },
    /// Print the completion script for a shell (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or with --dir write rdock-setup.1 and one page per
    /// subcommand into DIR.
    Man {
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Put the newest backup of a managed file back (daemon.json unless --file), show
    /// the diff, and restart docker so that it takes effect.
    Rollback {
        /// The file to restore; its backups are FILE.rdock-setup-<time>.bak beside it.
        #[arg(long, default_value = "/etc/docker/daemon.json", value_name = "PATH")]
        file: PathBuf,
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
        /// Show what would be restored; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Restore the file but leave docker as it runs.
        #[arg(long)]
        no_restart: bool,
    },
}

fn main() {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let secs = std::time::Duration::from_secs;
    host::bounded::set(host::bounded::Bounds {
        command: secs(cli.command_timeout.max(1)),
        transaction: secs(cli.transaction_timeout.max(1)),
        connect: secs(cli.connect_timeout.max(1)),
        lock_wait: secs(cli.lock_wait),
    });
    // SIGINT and SIGTERM alike, for every command: the step in flight finishes (its
    // commands run in their own process group), no further step starts, the report
    // says what was done.
    interrupt::install();
    let code = match cli.command {
        Command::Apply(args) => commands::apply(&args),
        Command::Mirrors(args) => commands::mirrors(&args),
        Command::Facts { root, format } => commands::facts(root, format),
        Command::Versions { plan, root } => commands::versions(&plan, root),
        Command::Status(args) => commands::status(&args),
        Command::Validate { plan } => commands::validate(&plan),
        Command::Init { plan, root, family } => commands::init(&plan, root, family),
        Command::Completions { shell } => {
            commands::print_bytes(&docs::completions(Cli::command(), shell))
        }
        Command::Man { dir: None } => {
            docs::man_page(Cli::command()).and_then(|roff| commands::print_bytes(&roff))
        }
        Command::Man { dir: Some(dir) } => {
            docs::write_man_pages(Cli::command(), &dir).map(|written| {
                for name in written {
                    println!("{}", dir.join(name).display());
                }
                error::EXIT_OK
            })
        }
        Command::Rollback {
            file,
            root,
            dry_run,
            no_restart,
        } => commands::rollback(&file, root, dry_run, !no_restart),
    };
    std::process::exit(code.unwrap_or_else(|err| {
        eprintln!("error: {}", secrets::mask(&err.to_string()));
        EXIT_FAILURE
    }));
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "rdock_setup=info",
        _ => "rdock_setup=debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| MaskedStderr)
        .with_target(false)
        .init();
}

/// stderr for log lines, with secrets masked (the fmt layer writes one whole line a call).
struct MaskedStderr;

impl std::io::Write for MaskedStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let masked = secrets::mask(&String::from_utf8_lossy(buf));
        std::io::stderr().write_all(masked.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

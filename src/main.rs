//! Command line only: parse arguments, hand over to one entry function per command,
//! turn its outcome into output and an exit code.

mod change;
mod checks;
mod commands;
mod daemonjson;
mod error;
mod facts;
mod fleet;
mod fold;
mod health;
mod host;
mod interrupt;
mod inventory;
mod mirrors;
mod packages;
mod plan;
mod recap;
mod report;
mod rollback;
mod runner;
mod service;
mod state;
mod steps;
mod suggest;
mod unit;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

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

Exit codes:
  0  success: converged, applied, or (dry-run) nothing or something to do
  1  failure: bad plan, preflight failed, a step failed, or the target could not be read;
     for `mirrors`: a registry mirror does not serve
  2  changes pending: only with `apply --dry-run --detailed-exitcode`

Logs go to stderr: -v for more, or RUST_LOG=rdock_setup=debug.";

#[derive(Parser)]
#[command(name = "rdock-setup", version, about = "Turn CentOS/RHEL-family hosts into working Docker CE hosts, declaratively and idempotently.", after_help = AFTER_HELP)]
struct Cli {
    /// More diagnostics on stderr (-v info, -vv debug: every command run).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
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
    /// Check a plan: syntax, keys, types and values. Touches nothing.
    Validate { plan: PathBuf },
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
    let code = match cli.command {
        Command::Apply(args) => commands::apply(&args),
        Command::Mirrors(args) => commands::mirrors(&args),
        Command::Facts { root, format } => commands::facts(root, format),
        Command::Versions { plan, root } => commands::versions(&plan, root),
        Command::Validate { plan } => commands::validate(&plan),
        Command::Rollback {
            file,
            root,
            dry_run,
            no_restart,
        } => commands::rollback(&file, root, dry_run, !no_restart),
    };
    std::process::exit(code.unwrap_or_else(|err| {
        eprintln!("error: {err}");
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
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

//! One documented entry function per command; each returns the exit code.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use crate::Format;
use crate::error::{EXIT_CHANGES_PENDING, EXIT_FAILURE, EXIT_OK, Error, Result};
use crate::host::Host;
use crate::packages::backend::PackageTool;
use crate::report::Report;
use crate::runner::{self, Options};
use crate::steps::{Context, engine};
use crate::{checks, facts, plan};

#[derive(clap::Args)]
pub struct ApplyArgs {
    /// The plan (TOML).
    pub plan: PathBuf,
    /// Show every change, with diffs; change nothing on the target.
    #[arg(long)]
    pub dry_run: bool,
    /// With --dry-run: exit 2 when changes are pending, 0 when converged.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// The target is this directory tree (an image or chroot), not the running system.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Confirm destructive changes the plan asks for (deleting /var/lib/docker).
    #[arg(long)]
    pub yes: bool,
}

/// `apply`: converge the target, or show what that would change.
pub fn apply(args: &ApplyArgs) -> Result<i32> {
    let plan = plan::load(&args.plan)?;
    let host = Host::local(checked_root(args.root.as_deref())?);
    let options = Options {
        dry_run: args.dry_run,
        yes: args.yes,
    };
    let host_report = runner::converge(&host, &plan, options);
    tracing::debug!(
        commands = host.command_log().len(),
        "commands run on the target"
    );
    let report = Report::new(args.dry_run, vec![host_report]);
    match args.format {
        Format::Json => print(&format!("{}\n", report.to_json())),
        Format::Human => {
            let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            print(&report.to_human(colour));
            for host in report.hosts.iter().filter(|h| h.error.is_some()) {
                eprintln!(
                    "error: {}: {}",
                    host.name,
                    host.error.as_deref().unwrap_or("")
                );
            }
        }
    }
    Ok(if report.any_failed() {
        EXIT_FAILURE
    } else if args.dry_run && args.detailed_exitcode && report.any_changes() {
        EXIT_CHANGES_PENDING
    } else {
        EXIT_OK
    })
}

/// `facts`: what the steps would decide on.
pub fn facts(root: Option<PathBuf>, format: Format) -> Result<i32> {
    let plan = plan::parse(Path::new("(defaults)"), "")?;
    let host = Host::local(checked_root(root.as_deref())?);
    let facts = facts::gather(&host, &plan)?;
    match format {
        Format::Json => {
            let json = serde_json::to_string_pretty(&facts)
                .map_err(|err| Error::other(format!("cannot render facts: {err}")))?;
            print(&format!("{json}\n"));
        }
        Format::Human => {
            let mut out = String::new();
            let distro = facts
                .distro
                .as_ref()
                .map(|d| {
                    format!(
                        "{} (ID={}, VERSION_ID={})",
                        d.pretty_name, d.id, d.version_id
                    )
                })
                .unwrap_or_else(|| "unknown".into());
            out.push_str(&format!("distribution: {distro}\n"));
            out.push_str(&format!(
                "kernel:       {} {}\n",
                facts.kernel_release, facts.machine
            ));
            out.push_str(&format!("root user:    {}\n", facts.is_root));
            out.push_str(&format!(
                "systemd:      {}\n",
                facts
                    .offline
                    .as_deref()
                    .map(|r| format!("offline ({r})"))
                    .unwrap_or("running".into())
            ));
            out.push_str(&format!(
                "docker:       active={} unit-file={}\n",
                facts.service.active.as_deref().unwrap_or("-"),
                facts.service.unit_file_state.as_deref().unwrap_or("-")
            ));
            out.push_str(&format!(
                "daemon.json:  {}\nrepo file:    {}\n",
                present(&facts.daemon_json),
                present(&facts.repo_file)
            ));
            out.push_str("packages:\n");
            if facts.installed.is_empty() {
                out.push_str("  (none of the named packages installed)\n");
            }
            for (name, evr) in &facts.installed {
                out.push_str(&format!("  {name} {evr}\n"));
            }
            print(&out);
        }
    }
    Ok(EXIT_OK)
}

fn present(bytes: &Option<Vec<u8>>) -> String {
    match bytes {
        Some(b) => format!("present ({} bytes)", b.len()),
        None => "absent".into(),
    }
}

/// `versions`: the engine versions the plan's repo offers, newest first.
pub fn versions(plan_path: &Path, root: Option<PathBuf>) -> Result<i32> {
    let plan = plan::load(plan_path)?;
    let host = Host::local(checked_root(root.as_deref())?);
    let facts = facts::gather(&host, &plan)?;
    let problems: Vec<String> = facts
        .distro
        .as_ref()
        .and_then(|d| d.check())
        .into_iter()
        .collect();
    let Some(distro) = facts.distro.as_ref().filter(|_| problems.is_empty()) else {
        return Err(Error::Preflight(if problems.is_empty() {
            checks::preflight(&plan, &facts)
        } else {
            problems
        }));
    };
    let ctx = Context {
        plan: &plan,
        facts: &facts,
        distro,
        tool: PackageTool::new(distro.package_manager(), host.root(), distro.major),
        backup_suffix: String::new(),
    };
    let offer = engine::fetch_offer(&host, &ctx)?;
    let installed = facts.installed.get("docker-ce");
    let resolved = engine::resolve(&plan.engine.version, installed, &offer).ok();
    let mut out = format!(
        "docker-ce versions offered by {} ({:?} channel), newest first:\n",
        plan.repo.source.describe(),
        plan.repo.channel
    );
    for evr in engine::engine_versions(&offer) {
        let mut marks = Vec::new();
        if Some(evr) == resolved.as_ref() {
            marks.push(format!(
                "<- the plan ({}) resolves to this",
                plan.engine.version
            ));
        }
        if Some(evr) == installed {
            marks.push("installed".to_string());
        }
        out.push_str(&format!("  {evr:<24} {}\n", marks.join(", ")));
    }
    if resolved.is_none() {
        out.push_str(&format!(
            "none matches the plan's engine.version {}\n",
            plan.engine.version
        ));
    }
    print(&out);
    Ok(if resolved.is_some() {
        EXIT_OK
    } else {
        EXIT_FAILURE
    })
}

/// `validate`: parse and check a plan; touch nothing.
pub fn validate(plan_path: &Path) -> Result<i32> {
    let plan = plan::load(plan_path)?;
    print(&format!(
        "{}: valid (engine {}, repo {}, {} daemon.json key(s))\n",
        plan_path.display(),
        plan.engine.version,
        plan.repo.source.describe(),
        plan.daemon.len()
    ));
    Ok(EXIT_OK)
}

fn checked_root(root: Option<&Path>) -> Result<Option<PathBuf>> {
    let Some(root) = root else {
        return Ok(None);
    };
    if !root.is_dir() {
        return Err(Error::other(format!(
            "--root {}: not a directory; give the top of the tree to prepare",
            root.display()
        )));
    }
    let absolute = std::fs::canonicalize(root).map_err(|source| Error::File {
        path: root.to_path_buf(),
        action: "resolve",
        source,
    })?;
    Ok(Some(absolute))
}

/// Write to stdout; a closed pipe (`| head`) ends quietly.
fn print(text: &str) {
    let mut stdout = std::io::stdout().lock();
    if stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
        .is_err()
    {
        std::process::exit(EXIT_OK);
    }
}

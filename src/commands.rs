//! One documented entry function per command; each returns the exit code.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use crate::Format;
use crate::checks::distro::Distro;
use crate::error::{EXIT_CHANGES_PENDING, EXIT_FAILURE, EXIT_OK, Error, Result};
use crate::host::Host;
use crate::host::ssh::SshSettings;
use crate::packages::backend::PackageTool;
use crate::report::HostReport;
use crate::report::{HostStatus, Report};
use crate::runner::{self, Options};
use crate::steps::{Context, engine, repo};
use crate::{checks, drift, facts, fleet, inventory, plan, recap};

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
    #[command(flatten)]
    pub targets: TargetArgs,
    #[command(flatten)]
    pub rollout: RolloutArgs,
}

#[derive(clap::Args)]
pub struct StatusArgs {
    /// The plan (TOML).
    pub plan: PathBuf,
    /// The target is this directory tree (an image or chroot), not the running system.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    #[command(flatten)]
    pub targets: TargetArgs,
}

/// Remote targets. Without --host or --inventory the target is this machine.
#[derive(clap::Args)]
pub struct TargetArgs {
    /// A host to reach over SSH: [user@]host[:port]. Repeatable.
    #[arg(long = "host", value_name = "[USER@]HOST[:PORT]")]
    pub hosts: Vec<String>,
    /// Hosts, groups and per-host/group plan overrides (TOML; see README).
    #[arg(long, value_name = "FILE")]
    pub inventory: Option<PathBuf>,
    /// Only these hosts or groups (comma-separated or repeated).
    #[arg(long, value_name = "NAME|GROUP")]
    pub limit: Vec<String>,
    /// Hosts worked on at once.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub parallel: usize,
    /// Accept and record the key of a host never seen before (StrictHostKeyChecking=accept-new).
    #[arg(long)]
    pub accept_new_host_keys: bool,
    /// Use this ssh_config instead of ~/.ssh/config (ssh -F).
    #[arg(long, value_name = "FILE")]
    pub ssh_config: Option<PathBuf>,
    /// Who makes each host's SSH connection: `auto` uses the built-in client where it does
    /// exactly what `ssh` would (same config, keys, agent, known_hosts and algorithms) and
    /// the system's `ssh` everywhere else; `openssh` always uses `ssh`.
    #[arg(
        long,
        value_enum,
        value_name = "CLIENT",
        default_value = "auto",
        env = "RDOCK_SSH_CLIENT"
    )]
    pub ssh_client: crate::host::ssh::SshClient,
}

impl TargetArgs {
    fn is_fleet(&self) -> bool {
        !self.hosts.is_empty() || self.inventory.is_some()
    }

    /// Commands that change nothing (status, mirrors) go to every host at once: no
    /// batches, canaries or failure budget.
    fn read_only_rollout(&self) -> fleet::Rollout {
        fleet::Rollout {
            parallel: self.parallel,
            batch: None,
            canary: 0,
            max_fail: None,
        }
    }
}

/// How changes roll out over a fleet.
#[derive(clap::Args)]
pub struct RolloutArgs {
    /// Rolling batches of N hosts or P% of the fleet.
    #[arg(long, value_name = "N|P%", value_parser = fleet::Count::parse)]
    pub batch: Option<fleet::Count>,
    /// These first N hosts go alone, before all others; any failure among them stops the run.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub canary: usize,
    /// Once MORE than N hosts (or P% of the fleet) have failed or been unreachable, no
    /// further batch is started; hosts of a running batch finish.
    #[arg(long, value_name = "N|P%", value_parser = fleet::Count::parse)]
    pub max_fail: Option<fleet::Count>,
}

/// `apply`: converge the target (this machine, a tree, or a fleet over SSH), or show
/// what that would change.
pub fn apply(args: &ApplyArgs) -> Result<i32> {
    let options = Options {
        dry_run: args.dry_run,
        yes: args.yes,
        compare_running: false,
    };
    let rollout = fleet::Rollout {
        parallel: args.targets.parallel,
        batch: args.rollout.batch,
        canary: args.rollout.canary,
        max_fail: args.rollout.max_fail,
    };
    let human = matches!(args.format, Format::Human);
    let fleet = args.targets.is_fleet();
    let report = run_plan(
        &args.plan,
        args.root.as_deref(),
        &args.targets,
        rollout,
        options,
        |report| (human && fleet).then(|| recap::host_line(report, args.dry_run)),
    )?;
    match args.format {
        Format::Json => print(&format!("{}\n", report.to_json())),
        Format::Human if fleet => {
            let changes = recap::folded_changes(&report);
            if !changes.is_empty() {
                print(&format!("\n{changes}"));
            }
            print(&recap::recap(&report));
        }
        Format::Human => {
            let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            print(&report.to_human(colour));
            for host in report.hosts.iter().filter(|h| h.error.is_some()) {
                eprintln!(
                    "error: {}: {}",
                    host.name,
                    crate::secrets::mask(host.error.as_deref().unwrap_or(""))
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

/// `status`: a read-only drift report. The same pass as `apply --dry-run` (one fact
/// pass, so one SSH command for a converged host), plus the running daemon's settings
/// against daemon.json. Exit 0 converged, 2 drift, 1 error.
pub fn status(args: &StatusArgs) -> Result<i32> {
    let options = Options {
        dry_run: true,
        yes: false,
        compare_running: true,
    };
    let rollout = args.targets.read_only_rollout();
    let human = matches!(args.format, Format::Human);
    let report = run_plan(
        &args.plan,
        args.root.as_deref(),
        &args.targets,
        rollout,
        options,
        |report| human.then(|| drift::host_line(report)),
    )?;
    if let Format::Json = args.format {
        print(&format!("{}\n", report.to_json()));
    } else {
        let s = &report.summary;
        print(&format!(
            "{} converged, {} drifted, {} failed, {} unreachable\n",
            s.ok, s.drifted, s.failed, s.unreachable
        ));
    }
    Ok(if report.any_failed() {
        EXIT_FAILURE
    } else if report.any_changes() {
        EXIT_CHANGES_PENDING
    } else {
        EXIT_OK
    })
}

/// Run the plan over the targets (this machine, `--root DIR`, or a fleet over SSH) and
/// collect the report; `host_line` gives the line printed as each host finishes.
fn run_plan(
    plan_path: &Path,
    root: Option<&Path>,
    targets: &TargetArgs,
    rollout: fleet::Rollout,
    options: Options,
    host_line: impl Fn(&HostReport) -> Option<String>,
) -> Result<Report> {
    let plan = plan::load(plan_path)?;
    if targets.is_fleet() {
        let job = move |host: &Host, plan: &plan::Plan| runner::converge(host, plan, options);
        let reports = run_fleet(plan_path, &plan, root, targets, rollout, &job, host_line)?;
        return Ok(Report::new(options.dry_run, reports));
    }
    let host = Host::local(checked_root(root)?);
    let host_report = runner::converge(&host, &plan, options);
    tracing::debug!(
        commands = host.command_log().len(),
        "commands run on the target"
    );
    if let Some(line) = host_line(&host_report) {
        print(&format!("{line}\n"));
    }
    Ok(Report::new(options.dry_run, vec![host_report]))
}

/// Run `job` on every host that --host and --inventory name, over SSH, as `rollout`
/// says; `host_line` gives the line printed as each host finishes.
fn run_fleet(
    plan_path: &Path,
    plan: &plan::Plan,
    root: Option<&Path>,
    targets: &TargetArgs,
    rollout: fleet::Rollout,
    job: fleet::Job,
    host_line: impl Fn(&HostReport) -> Option<String>,
) -> Result<Vec<HostReport>> {
    let mut hosts = inventory::from_flags(&targets.hosts, root)?;
    if let Some(path) = &targets.inventory {
        hosts.extend(inventory::load(path, root)?);
    }
    let hosts = inventory::limit(hosts, &targets.limit)?;
    let (hosts, twice) = inventory::dedupe(hosts);
    for line in twice {
        tracing::warn!("{line}");
    }
    fleet::check_rollout(&rollout, hosts.len())?;
    let plan_text = std::fs::read_to_string(plan_path).map_err(|source| Error::PlanRead {
        path: plan_path.to_path_buf(),
        source,
    })?;
    // A private directory for the ControlMaster sockets; removed with everything in it.
    let control = tempfile::Builder::new()
        .prefix("rdock-ssh.")
        .tempdir()
        .map_err(|err| Error::other(format!("cannot create a directory for ssh sockets: {err}")))?;
    let settings = std::sync::Arc::new(SshSettings {
        control_dir: control.path().to_path_buf(),
        config: targets.ssh_config.clone(),
        accept_new_host_keys: targets.accept_new_host_keys,
        connect_timeout_secs: crate::host::bounded::get().connect.as_secs() as u32,
        client: targets.ssh_client,
        resolved: Default::default(),
    });
    let run = fleet::Fleet {
        plan,
        plan_text: &plan_text,
        job,
        settings,
        rollout,
    };
    let live = std::io::stderr().is_terminal();
    let mut progress = crate::progress::Progress::new(hosts.len());
    if live {
        eprint!("{}", progress.line());
    }
    let reports = run.run(&hosts, |report| {
        progress.record(report.status);
        if live {
            eprint!("\r\x1b[K");
        }
        if let Some(line) = host_line(report) {
            print(&format!("{line}\n"));
        }
        if live {
            eprint!("{}", progress.line());
        }
    });
    if live {
        eprint!("\r\x1b[K");
    }
    drop(control);
    Ok(reports)
}

#[derive(clap::Args)]
pub struct MirrorsArgs {
    /// The plan (TOML) whose daemon.registry-mirrors are probed.
    pub plan: PathBuf,
    /// Probe as for this directory tree (from this machine, which pulls for it).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    #[command(flatten)]
    pub targets: TargetArgs,
}

/// `mirrors`: whether each registry mirror of the plan serves a pull, probed from each
/// target (this machine, or each host over SSH with curl). Exit 0 when all serve.
pub fn mirrors(args: &MirrorsArgs) -> Result<i32> {
    let plan = plan::load(&args.plan)?;
    if crate::mirrors::planned(&plan).is_empty() {
        return Err(Error::other(format!(
            "{} names no daemon.registry-mirrors: nothing to probe",
            args.plan.display()
        )));
    }
    let reports = if args.targets.is_fleet() {
        let job = |host: &Host, plan: &plan::Plan| crate::mirrors::host_report(host, plan);
        let rollout = args.targets.read_only_rollout();
        run_fleet(
            &args.plan,
            &plan,
            args.root.as_deref(),
            &args.targets,
            rollout,
            &job,
            |_| None,
        )?
    } else {
        let host = Host::local(checked_root(args.root.as_deref())?);
        vec![crate::mirrors::host_report(&host, &plan)]
    };
    match args.format {
        Format::Json => {
            let hosts: Vec<serde_json::Value> = reports
                .iter()
                .map(|r| {
                    let mut host = serde_json::json!({"name": r.name, "mirrors": r.mirrors});
                    if let Some(error) = &r.error {
                        host["error"] = error.clone().into();
                    }
                    host
                })
                .collect();
            print(&format!("{}\n", serde_json::json!({ "hosts": hosts })));
        }
        Format::Human => {
            let mut out = String::new();
            for report in &reports {
                out.push_str(&format!("{}:\n", report.name));
                for step in &report.steps {
                    out.push_str(&format!("  {}\n", step.summary));
                }
                if report.steps.is_empty()
                    && let Some(error) = &report.error
                {
                    out.push_str(&format!("  error: {error}\n"));
                }
            }
            print(&out);
        }
    }
    let all_serve = reports.iter().all(|r| r.status == HostStatus::Ok);
    Ok(if all_serve { EXIT_OK } else { EXIT_FAILURE })
}

/// `facts`: what the steps would decide on.
pub fn facts(root: Option<PathBuf>, format: Format) -> Result<i32> {
    let plan = plan::parse(Path::new("(defaults)"), "")?;
    let host = Host::local(checked_root(root.as_deref())?);
    let facts = facts::gather(&host, &plan)?;
    match format {
        Format::Json => {
            let mut value = serde_json::to_value(&facts)
                .map_err(|err| Error::other(format!("cannot render facts: {err}")))?;
            value["verdict"] = serde_json::to_value(facts.distro.as_ref().map(|d| d.verdict()))
                .map_err(|err| Error::other(format!("cannot render facts: {err}")))?;
            let json = serde_json::to_string_pretty(&value)
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
            if let Some(verdict) = facts.distro.as_ref().map(|d| d.verdict()) {
                out.push_str(&format!("verdict:      {}\n", describe_verdict(&verdict)));
            }
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

/// One line: "supported: Docker's debian tree, suite bookworm, apt-get" or the reason.
fn describe_verdict(verdict: &checks::distro::Verdict) -> String {
    let Some(platform) = &verdict.platform else {
        return format!("refused: {}", verdict.reason.as_deref().unwrap_or(""));
    };
    let tree = match (platform.tree, &platform.repo_release, &platform.suite) {
        (Some(tree), Some(release), _) => format!("Docker's {tree} tree, release {release}"),
        (Some(tree), None, Some(suite)) => format!("Docker's {tree} tree, suite {suite}"),
        (Some(tree), None, None) => format!("Docker's {tree} tree"),
        (None, _, _) => format!(
            "no Docker tree; its own {} only (source = \"distro\")",
            platform.distro_engine.join(", ")
        ),
    };
    let mapping = platform
        .mapping
        .as_deref()
        .map(|m| format!("; {m}"))
        .unwrap_or_default();
    format!("supported: {tree}, {}{mapping}", platform.manager)
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
        .and_then(checks::distro_problem)
        .into_iter()
        .collect();
    let Some(distro) = facts.distro.as_ref().filter(|_| problems.is_empty()) else {
        return Err(Error::Preflight(if problems.is_empty() {
            checks::preflight(&plan, &facts)
        } else {
            problems
        }));
    };
    let mut ctx = Context {
        plan: &plan,
        facts: &facts,
        distro,
        tool: PackageTool::new(distro.package_manager(), host.root(), distro.major),
        distro_suite: distro.suite(),
        repo_key: None,
        backup_suffix: String::new(),
    };
    ctx.repo_key = repo::resolve_key(&host, &ctx)?;
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
    // containerd.io and the plugins go at their own versions: their offers, newest first.
    let mut others = vec![("containerd.io".to_string(), plan.engine.containerd.clone())];
    others.extend(
        plan.engine
            .plugins
            .iter()
            .map(|p| (p.package.clone(), p.version.clone())),
    );
    for (name, spec) in others {
        let offered = offer.get(&name).map(Vec::as_slice).unwrap_or(&[]);
        let pick = facts
            .installed
            .get(&name)
            .filter(|evr| spec.matches(evr))
            .or_else(|| spec.pick(offered));
        let list: Vec<String> = offered
            .iter()
            .map(|evr| {
                let mut shown = evr.to_string();
                if Some(evr) == pick {
                    shown.push_str(&format!(" (<- {spec})"));
                }
                if facts.installed.get(&name) == Some(evr) {
                    shown.push_str(" (installed)");
                }
                shown
            })
            .collect();
        out.push_str(&format!(
            "{name}: {}\n",
            if list.is_empty() {
                "none offered".to_string()
            } else {
                list.join(", ")
            }
        ));
    }
    print(&out);
    Ok(if resolved.is_some() {
        EXIT_OK
    } else {
        EXIT_FAILURE
    })
}

/// `rollback`: the newest backup of a managed file back, with its diff.
pub fn rollback(file: &Path, root: Option<PathBuf>, dry_run: bool, restart: bool) -> Result<i32> {
    let host = Host::local(checked_root(root.as_deref())?);
    let outcome = crate::rollback::run(
        &host,
        &crate::rollback::Rollback {
            file,
            dry_run,
            restart,
            backup_suffix: runner::backup_suffix(),
        },
    )?;
    let mut out = if outcome.diff.is_empty() {
        format!(
            "{} already equals {}\n",
            file.display(),
            outcome.backup.display()
        )
    } else {
        format!(
            "{} {} from {}:\n{}",
            if dry_run { "would restore" } else { "restored" },
            file.display(),
            outcome.backup.display(),
            outcome.diff
        )
    };
    if let Some(restarted) = outcome.restarted {
        out.push_str(&format!("{restarted}\n"));
    }
    print(&out);
    Ok(EXIT_OK)
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

/// Generated text (completions, man page) to stdout.
pub fn print_bytes(bytes: &[u8]) -> Result<i32> {
    print(&String::from_utf8_lossy(bytes));
    Ok(EXIT_OK)
}

/// Write to stdout; a closed pipe (`| head`) ends quietly.
fn print(text: &str) {
    let text = crate::secrets::mask(text);
    let mut stdout = std::io::stdout().lock();
    if stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
        .is_err()
    {
        std::process::exit(EXIT_OK);
    }
}

/// `init`: a commented starter plan for this host's distribution family (or the one
/// `family` names), written to `path`; an existing file is never overwritten.
pub fn init(path: &Path, root: Option<PathBuf>, family: Option<u32>) -> Result<i32> {
    let (distro, machine) = match family {
        Some(major) => {
            let release = format!(
                "ID=centos\nVERSION_ID={major}\nPRETTY_NAME=\"Enterprise Linux {major} (--family el{major})\""
            );
            let distro = Distro::from_os_release(&release)
                .ok_or_else(|| Error::other("--family: cannot describe that release"))?;
            (distro, std::env::consts::ARCH.to_string())
        }
        None => {
            let defaults = plan::parse(Path::new("(defaults)"), "")?;
            let host = Host::local(checked_root(root.as_deref())?);
            let facts = facts::gather(&host, &defaults)?;
            let distro = facts.distro.clone().ok_or_else(|| {
                Error::other(
                    "cannot tell this host's distribution (no os-release, redhat-release or \
                     centos-release); pass --family el7, el8 or el9",
                )
            })?;
            if let Some(problem) = checks::distro_problem(&distro) {
                return Err(Error::other(format!(
                    "{problem}; to write a plan for another host, pass --family el7, el8 or el9"
                )));
            }
            (distro, facts.machine.clone())
        }
    };
    if let Some(problem) = checks::distro_problem(&distro) {
        return Err(Error::other(problem));
    }
    crate::init::write_new(path, &crate::init::starter_plan(&distro, &machine))?;
    print(&format!(
        "{}: starter plan for {} written; check it with `rdock-setup validate {}`\n",
        path.display(),
        distro.pretty_name,
        path.display()
    ));
    Ok(EXIT_OK)
}

/// `--family el7|el8|el9` (or a bare major release).
pub fn parse_family(text: &str) -> std::result::Result<u32, String> {
    let digits = text
        .trim()
        .trim_start_matches("el")
        .trim_start_matches("EL");
    match digits.parse::<u32>() {
        Ok(major) if major >= checks::distro::MIN_MAJOR => Ok(major),
        _ => Err(format!(
            "{text:?} is not an EL family this tool supports: give el7, el8, el9 or later"
        )),
    }
}

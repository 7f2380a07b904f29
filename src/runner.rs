//! One host through the whole flow: facts, preflight, checks, then (unless dry-run)
//! apply the planned changes in order, run the handlers, verify, and report.

use std::time::{Duration, SystemTime};

use crate::change::Change;
use crate::checks;
use crate::drift;
use crate::error::{Error, Result};
use crate::facts::{self, Facts};
use crate::health;
use crate::host::Host;
use crate::host::change_script::{ScriptOp, StepOutcome};
use crate::interrupt;
use crate::mirrors::{self, policy, policy::Decision, pull};
use crate::packages::backend::PackageTool;
use crate::plan::{MirrorCheck, Plan};
use crate::report::{HostReport, HostStatus, StepReport, StepStatus};
use crate::service;
use crate::steps::{
    Context, StepPlan, cleanup, daemon, engine, metadata, os_repos, prerequisites, proxy, purge,
    repo, transaction, users,
};

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub dry_run: bool,
    /// The operator confirmed destructive changes (deleting /var/lib/docker).
    pub yes: bool,
    /// `status`: with `dry_run`, also compare the running daemon's settings with its
    /// daemon.json, and give the host a drift verdict.
    pub compare_running: bool,
}

pub const VERIFY_ID: &str = "verify";
pub const PREFLIGHT_ID: &str = "preflight";

/// Converge one host (or, in dry-run, say what converging would do).
pub fn converge(host: &Host, plan: &Plan, options: Options) -> HostReport {
    let mut report = HostReport::new(host.name());
    if let Err(err) = converge_into(host, plan, options, &mut report) {
        report.status = match err {
            Error::Unreachable(_) => HostStatus::Unreachable,
            _ => HostStatus::Failed,
        };
        report.error = Some(err.to_string());
    }
    if options.compare_running {
        report.status = drift::verdict(&report);
    }
    report
}

fn converge_into(
    host: &Host,
    plan: &Plan,
    options: Options,
    report: &mut HostReport,
) -> Result<()> {
    // A run that may change the target holds its lock; a dry-run reads without it.
    let facts = if options.dry_run {
        facts::gather(host, plan)?
    } else {
        facts::gather_locked(host, plan)?
    };
    report.target = Some(describe_target(&facts));
    let steps = plan_steps(host, plan, &facts, report)?;

    let pending = steps.iter().any(StepPlan::changes_anything);
    let unconfirmed_purge = steps
        .iter()
        .find(|s| s.id == purge::ID && s.changes_anything());
    if !options.dry_run
        && !options.yes
        && let Some(step) = unconfirmed_purge
    {
        return Err(Error::other(format!(
            "the plan deletes data: {}; nothing was changed. Rerun with --yes to confirm, \
             or set cleanup.purge_data = false",
            step.summary
        )));
    }

    let mut failed: Option<Error> = None;
    // A step whose every change was a package the run's transaction already carried
    // out (held by an earlier step) is done, whatever happens after that transaction.
    let mut transaction_ran = false;
    // Outcomes of steps a change script already carried out (apply_in_order).
    let mut scripted = Scripted::default();
    for (index, step) in steps.iter().enumerate() {
        let carried = transaction_ran
            && step.transaction.is_none()
            && step.changes_anything()
            && step
                .changes
                .iter()
                .all(|c| matches!(c, Change::Packages { .. }));
        let status = if carried && failed.is_none() {
            StepStatus::Changed
        } else if failed.is_some() {
            StepStatus::Skipped
        } else if !step.changes_anything() {
            StepStatus::Unchanged
        } else if !options.dry_run && interrupt::requested() {
            failed = Some(Error::other(format!(
                "interrupted before step {}; the steps before it completed, the run is safe to repeat",
                step.id
            )));
            StepStatus::Skipped
        } else if options.dry_run {
            StepStatus::WouldChange
        } else {
            match apply_in_order(host, &steps, index, &mut scripted) {
                Ok(()) => {
                    transaction_ran |= step.transaction.is_some();
                    StepStatus::Changed
                }
                Err(err) => {
                    failed = Some(err);
                    StepStatus::Failed
                }
            }
        };
        report.steps.push(step_report(step, status));
    }
    // A service action that failed, or that leaves docker unhealthy, is rolled back.
    let service_failed = report
        .steps
        .iter()
        .any(|s| s.id == service::ID && s.status == StepStatus::Failed);
    if let Some(err) = failed {
        if service_failed {
            return Err(recover(host, plan, &facts, &steps, err.to_string(), report));
        }
        return Err(err);
    }

    let acted = !options.dry_run && steps.iter().any(service::moves_the_daemon);
    let verified = if acted && facts.offline.is_none() {
        match health::wait_healthy(host, Some(plan), plan.service.health_timeout) {
            Ok(info) => answered(&info),
            Err(why) => return Err(recover(host, plan, &facts, &steps, why, report)),
        }
    } else {
        verify(host, plan, &facts, options)?
    };
    report.steps.push(verified);
    if acted
        && facts.offline.is_none()
        && let Some(image) = &plan.service.verify_pull
    {
        let (step, outcome) = pull::verify(host, image);
        report.steps.push(step);
        outcome?;
    }
    if pending {
        report.status = HostStatus::Changed;
    }
    Ok(())
}

/// docker did not come back healthy: put the previous daemon.json back when this run
/// changed it, and make the error say what happened and why, from the journal.
fn recover(
    host: &Host,
    plan: &Plan,
    facts: &Facts,
    steps: &[StepPlan],
    why: String,
    report: &mut HostReport,
) -> Error {
    let reason = health::journal_reason(host);
    let undo: Vec<&Change> = steps
        .iter()
        .filter(|s| s.id == daemon::ID || s.id == proxy::ID)
        .flat_map(|s| s.changes.iter())
        .collect();
    let outcome = if undo.is_empty() {
        "this run changed neither daemon.json nor a drop-in, so there was nothing to roll back"
            .to_string()
    } else {
        match health::roll_back(
            host,
            &undo,
            facts,
            plan.service.health_timeout,
            &backup_suffix(),
        ) {
            Ok(restored) => format!(
                "rolled back: {} restored, and docker is active with the old settings",
                restored.join("; ")
            ),
            Err(err) => format!("the rollback failed too: {err}"),
        }
    };
    report.steps.push(StepReport {
        reason: None,
        id: VERIFY_ID.into(),
        status: StepStatus::Failed,
        summary: format!("docker is not healthy after the change: {why}"),
        diff: None,
        notes: vec![outcome.clone()],
    });
    let journal = if reason.is_empty() {
        String::new()
    } else {
        format!("\n  journal:\n    {}", reason.replace('\n', "\n    "))
    };
    Error::other(format!(
        "docker is not healthy after the change: {why}; {outcome}{journal}"
    ))
}

fn answered(info: &serde_json::Value) -> StepReport {
    StepReport {
        reason: None,
        id: VERIFY_ID.into(),
        status: StepStatus::Unchanged,
        summary: format!(
            "docker answers: server {}, {} container(s) running",
            info["ServerVersion"].as_str().unwrap_or("?"),
            info["ContainersRunning"]
        ),
        diff: None,
        notes: Vec::new(),
    }
}

/// Every step's plan, in order; the preflight result is recorded in `report`.
fn plan_steps(
    host: &Host,
    plan: &Plan,
    facts: &Facts,
    report: &mut HostReport,
) -> Result<Vec<StepPlan>> {
    let problems = checks::preflight(plan, facts);
    if !problems.is_empty() {
        report.steps.push(StepReport {
            reason: None,
            id: PREFLIGHT_ID.into(),
            status: StepStatus::Failed,
            summary: problems.join("; "),
            diff: None,
            notes: Vec::new(),
        });
        return Err(Error::Preflight(problems));
    }
    let distro = facts
        .distro
        .as_ref()
        .ok_or_else(|| Error::other("preflight passed without a distribution"))?;
    report.steps.push(StepReport {
        reason: None,
        id: PREFLIGHT_ID.into(),
        status: StepStatus::Unchanged,
        summary: format!(
            "{}, kernel {} >= {}, {}{}",
            distro.pretty_name,
            facts.kernel_release,
            plan.preflight.min_kernel,
            facts.machine,
            if facts.is_root { ", root" } else { "" }
        ),
        diff: None,
        notes: Vec::new(),
    });

    let mut ctx = Context {
        plan,
        facts,
        distro,
        tool: PackageTool::new(distro.package_manager(), host.root(), distro.major),
        distro_suite: distro.suite(),
        repo_key: None,
        backup_suffix: backup_suffix(),
    };
    ctx.repo_key = repo::resolve_key(host, &ctx)?;
    let os_repos = os_repos::check(&ctx)?;
    let repo = repo::check(&ctx);
    let mut cleanup = cleanup::check(&ctx);
    let mut prerequisites = prerequisites::check(&ctx);
    let offer = if engine::satisfied(&ctx) {
        None
    } else {
        Some(engine::fetch_offer(host, &ctx)?)
    };
    let mut engine = engine::check(&ctx, offer.as_ref())?;
    let install_due = engine.changes_anything() || prerequisites.changes_anything();
    // Old packages out and new ones in go as one transaction, proven to resolve against
    // the repos as this run leaves them before anything is changed.
    if let Some(run) =
        transaction::combine(&ctx, &mut [&mut cleanup, &mut prerequisites, &mut engine])
    {
        let files = transaction::repo_files_after(&ctx, &os_repos, &repo::rendered(&ctx));
        let notes = transaction::prove(host, &ctx, &run, &files, &os_repos)?;
        // What the package manager adds to the transaction (apt: dependencies) is
        // said by the step that holds it.
        for step in [&mut cleanup, &mut prerequisites, &mut engine] {
            if step.transaction.is_some() {
                step.notes.extend(notes.iter().cloned());
            }
        }
    }
    let metadata = metadata::check(
        &ctx,
        repo.changes_anything() || os_repos.changes_anything(),
        install_due,
    );
    let purge = purge::check(&ctx);
    let existing = daemon::existing(&ctx)?;
    let mirrors = resolve_mirrors(host, &ctx, &existing)?;
    let (daemon, daemon_keys) = daemon::check(
        &ctx,
        mirrors
            .as_ref()
            .map(|d| (d.mirrors.as_slice(), d.notes.as_slice())),
    )?;
    daemon::validate_with_dockerd(host, &ctx, &daemon)?;
    let proxy = proxy::check(&ctx);
    let users = users::check(&ctx, &shadow_root_args(host))?;
    let service = service::check(
        plan,
        facts,
        host,
        engine.changes_anything(),
        proxy.changes_anything(),
        &daemon_keys,
    );
    Ok(vec![
        os_repos,
        repo,
        metadata,
        cleanup,
        prerequisites,
        engine,
        purge,
        daemon,
        proxy,
        users,
        service,
    ])
}

/// Resolve: whether the plan's registry mirrors serve, asked from the target only when
/// registry-mirrors would change (a converged host is not probed). `None`: write the
/// plan's list as it is.
fn resolve_mirrors(
    host: &Host,
    ctx: &Context,
    existing: &serde_json::Map<String, serde_json::Value>,
) -> Result<Option<Decision>> {
    let Some(planned) = daemon::planned_mirrors(ctx) else {
        return Ok(None);
    };
    if let Some(kept) = daemon::settled_mirrors(ctx, existing, &planned) {
        return Ok(Some(Decision {
            mirrors: kept,
            notes: Vec::new(),
        }));
    }
    if ctx.plan.mirrors.check == MirrorCheck::Off {
        return Ok(None);
    }
    let verdicts = mirrors::probe_all(host, &planned, &ctx.plan.mirrors.probe)?;
    policy::decide(&ctx.plan.mirrors, &verdicts).map(Some)
}

/// What change scripts said about steps not yet reached, by index; `unavailable`: the
/// transport applies changes one by one.
#[derive(Default)]
struct Scripted {
    outcomes: Vec<Option<StepOutcome>>,
    unavailable: bool,
}

/// Apply step `index`: from a change script's outcome when one already carried it out;
/// else, where the transport runs change scripts, as one script with the steps after
/// it up to the next package transaction (one round trip, stopping at the first failure
/// and before any step once Ctrl-C came); else on its own.
fn apply_in_order(
    host: &Host,
    steps: &[StepPlan],
    index: usize,
    scripted: &mut Scripted,
) -> Result<()> {
    let step = &steps[index];
    if scripted.outcomes.get(index).is_none_or(Option::is_none)
        && !scripted.unavailable
        && step.transaction.is_none()
    {
        let batch: Vec<Vec<ScriptOp>> = steps[index..]
            .iter()
            .take_while(|s| s.transaction.is_none())
            .map(|s| s.changes.iter().flat_map(Change::script_ops).collect())
            .collect();
        match host.run_change_script(&batch, &interrupt::requested) {
            Some(outcomes) => {
                scripted.outcomes.resize_with(index, || None);
                scripted.outcomes.truncate(index);
                scripted.outcomes.extend(outcomes.into_iter().map(Some));
            }
            None => scripted.unavailable = true,
        }
    }
    match scripted.outcomes.get_mut(index).and_then(Option::take) {
        Some(StepOutcome::Done) => {
            tracing::info!(step = step.id, "{}", step.summary);
            Ok(())
        }
        Some(StepOutcome::Failed(err)) => {
            tracing::info!(step = step.id, "{}", step.summary);
            Err(err)
        }
        Some(StepOutcome::NotRun) => Err(Error::other(format!(
            "interrupted before step {}; the steps before it completed, the run is safe to repeat",
            step.id
        ))),
        None => apply_step(host, step),
    }
}

fn apply_step(host: &Host, step: &StepPlan) -> Result<()> {
    tracing::info!(step = step.id, "{}", step.summary);
    if let Some(run) = &step.transaction {
        transaction::apply(host, run)?;
    }
    for change in &step.changes {
        change.apply(host)?;
    }
    Ok(())
}

fn step_report(step: &StepPlan, status: StepStatus) -> StepReport {
    let diffs: Vec<String> = step.changes.iter().filter_map(|c| c.diff()).collect();
    StepReport {
        reason: None,
        id: step.id.into(),
        status,
        summary: step.summary.clone(),
        diff: (!diffs.is_empty()).then(|| diffs.concat()),
        notes: step.notes.clone(),
    }
}

/// After apply: docker answers. Skipped in dry-run and on offline targets.
fn verify(host: &Host, plan: &Plan, facts: &Facts, options: Options) -> Result<StepReport> {
    let skipped = |summary: String| StepReport {
        reason: None,
        id: VERIFY_ID.into(),
        status: StepStatus::Skipped,
        summary,
        diff: None,
        notes: Vec::new(),
    };
    if options.dry_run && options.compare_running {
        return Ok(drift::running_settings(facts));
    }
    if options.dry_run {
        return Ok(skipped("dry-run: docker is asked after apply".into()));
    }
    if let Some(reason) = &facts.offline {
        return Ok(skipped(format!(
            "offline target ({reason}): docker cannot be asked"
        )));
    }
    if !plan.engine.enable {
        return Ok(skipped(
            "engine.enable = false: docker is not expected to run".into(),
        ));
    }
    // A converged host is verified from the facts' `docker info`: no extra command.
    match &facts.docker_info {
        Some(info) => Ok(answered(info)),
        None => health::wait_healthy(host, None, Duration::from_secs(5))
            .map(|info| answered(&info))
            .map_err(|why| {
                Error::other(format!(
                    // `why` already says what docker did; no second "does not answer".
                    "docker is not healthy: {why}; see `systemctl status docker` and `journalctl -u docker`"
                ))
            }),
    }
}

fn describe_target(facts: &Facts) -> String {
    let distro = facts
        .distro
        .as_ref()
        .map(|d| d.pretty_name.clone())
        .unwrap_or_else(|| "unknown distribution".into());
    let mode = match &facts.offline {
        Some(reason) => format!("offline: {reason}"),
        None => "online".into(),
    };
    format!(
        "{distro}; kernel {} {}; {mode}",
        facts.kernel_release, facts.machine
    )
}

/// `--root DIR` for shadow-utils (groupadd, usermod) aimed at a tree.
fn shadow_root_args(host: &Host) -> Vec<String> {
    match host.root() {
        Some(root) => vec!["--root".into(), root.display().to_string()],
        None => Vec::new(),
    }
}

/// `.rdock-setup-20261127T235900Z.bak`: one suffix per run, sortable.
pub fn backup_suffix() -> String {
    // Nanoseconds: two runs in one second must not share (and overwrite) a backup name.
    let stamp = humantime::format_rfc3339_nanos(SystemTime::now())
        .to_string()
        .replace(['-', ':'], "");
    format!(".rdock-setup-{stamp}.bak")
}

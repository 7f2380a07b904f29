//! The run's one package transaction: the package changes of cleanup, prerequisites
//! and engine, gathered in step order, proven to resolve before anything changes, run
//! as one `yum shell` / `dnf shell` script, and checked package by package afterwards.

use std::path::{Path, PathBuf};

use super::{Context, StepPlan, repo};
use crate::change::Change;
use crate::error::{Error, Result};
use crate::facts::RPMDB_DIRS;
use crate::host::{Host, Stage};
use crate::packages::apt::{self, AptTool};
use crate::packages::backend::{PackageTool, RPM_QUERY_FORMAT, parse_rpm_query};
use crate::packages::mirrors::REPO_FILE;
use crate::packages::os_repos::{DEAD_HOSTS, OsRepoSource, REPOS_DIR};
use crate::packages::repo_file;
use crate::packages::transaction::{Expect, Transaction, failing_repos, problems, unmet};

/// The transaction and the tool that runs it; held by the first step whose packages
/// it carries, and run by the runner before that step's other changes.
#[derive(Debug, Clone)]
pub struct PackageRun {
    pub transaction: Transaction,
    pub tool: PackageTool,
}

const SCRIPT: &str = "transaction.txt";
const SHADOW: &str = "root";

/// What of the target a dependency-resolving run needs beside the repo files: the rpm
/// database (wherever this rpm keeps it), yum/dnf configuration and variables, and
/// os-release (dnf reads the platform from it).
const SHADOW_COPIES: &[&str] = &[
    "/etc/yum.conf",
    "/etc/dnf",
    "/etc/yum/vars",
    "/etc/os-release",
    "/usr/lib/os-release",
];

/// Gather the package changes of `members` (in order) into one transaction, held by
/// the first member that has any. `None` when no member changes a package.
pub fn combine(ctx: &Context, members: &mut [&mut StepPlan]) -> Option<PackageRun> {
    let mut ops = Vec::new();
    let mut ids = Vec::new();
    for step in members.iter() {
        for change in &step.changes {
            if let Change::Packages { verb, items } = change {
                ops.push((*verb, items.clone()));
                if !ids.contains(&step.id) {
                    ids.push(step.id);
                }
            }
        }
    }
    if ops.is_empty() {
        return None;
    }
    let run = PackageRun {
        transaction: Transaction { ops },
        tool: ctx.tool.clone(),
    };
    if ids.len() > 1 {
        let together = ids.join(", ");
        for step in members.iter_mut().filter(|s| ids.contains(&s.id)) {
            step.summary = format!("{} (one transaction: {together})", step.summary);
        }
    }
    let first = members
        .iter_mut()
        .find(|s| ids.first() == Some(&s.id))
        .expect("the first member with packages is among the members");
    first.transaction = Some(run.clone());
    Some(run)
}

/// The repo files as this run leaves them: the target's, with the os-repos step's
/// rewrites and the docker-ce.repo the repo step writes.
pub fn repo_files_after(
    ctx: &Context,
    os_repos: &StepPlan,
    docker_repo: &[u8],
) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = ctx.facts.repo_files.clone();
    for change in &os_repos.changes {
        if let Change::File { path, new, .. } = change
            && let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned())
        {
            match files.iter_mut().find(|(n, _)| *n == name) {
                Some(entry) => entry.1 = new.clone(),
                None => files.push((name, new.clone())),
            }
        }
    }
    let docker_name = Path::new(REPO_FILE)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    files.retain(|(name, _)| *name != docker_name);
    files.push((docker_name, docker_repo.to_vec()));
    files
}

/// Prove, touching nothing of the target, that the transaction resolves against the
/// repos as they will be: a `--assumeno` run of the same script in a scratch root that
/// holds a copy of the target's rpm database and those repo files. Returns notes on
/// what the package manager adds (apt: the dependencies it pulls in).
pub fn prove(
    host: &Host,
    ctx: &Context,
    run: &PackageRun,
    repo_files: &[(String, Vec<u8>)],
    os_repos: &StepPlan,
) -> Result<Vec<String>> {
    if let Some(apt) = run.tool.apt() {
        return prove_apt(ctx, host, &apt, run);
    }
    let script = run.transaction.script(run.tool.manager);
    let mut stage = Stage::default();
    stage.files.push((SCRIPT.to_string(), script.into_bytes()));
    for (name, bytes) in repo_files {
        stage
            .files
            .push((format!("{SHADOW}{REPOS_DIR}/{name}"), bytes.clone()));
    }
    for path in RPMDB_DIRS.iter().chain(SHADOW_COPIES) {
        stage
            .copies
            .push((PathBuf::from(path), format!("{SHADOW}{path}")));
    }
    let (argv, output) = host.run_staged(&stage, &|dir| {
        run.tool.resolve(&dir.join(SHADOW), &dir.join(SCRIPT))
    })?;
    let text = format!("{}\n{}", output.stdout, output.stderr);
    let found = problems(&text);
    let resolved = [
        "Operation aborted",
        "Exiting on user command",
        "Nothing to do",
    ]
    .iter()
    .any(|m| text.contains(m));
    if found.is_empty() && resolved {
        return Ok(Vec::new());
    }
    let found = if found.is_empty() {
        let tail: Vec<String> = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .rev()
            .take(8)
            .map(str::to_string)
            .collect();
        let mut tail: Vec<String> = tail.into_iter().rev().collect();
        tail.insert(0, format!("`{}` said:", argv.join(" ")));
        tail
    } else {
        found
    };
    Err(explain(
        ctx,
        format!(
            "the package transaction ({}) cannot be done, so nothing was changed",
            run.transaction.describe()
        ),
        found,
        repo_files,
        os_repos,
    ))
}

/// apt: the proof runs against the host's own sources plus Docker's source as the repo
/// step writes it (with the keyring it installs), in a scratch directory.
fn prove_apt(ctx: &Context, host: &Host, apt: &AptTool, run: &PackageRun) -> Result<Vec<String>> {
    let docker = match (repo::apt_source(ctx)?, &ctx.repo_key) {
        (Some(_), Some(key)) => Some((
            apt::resolve::staged_source(&repo::rendered(ctx)),
            key.clone(),
        )),
        _ => None,
    };
    let hint = format!(
        "read what apt said above; the target is untouched. Docker's repo is [repo] source = {}",
        ctx.plan.repo.source.describe()
    );
    apt::transaction::prove(
        host,
        apt,
        &apt::resolve::Sources::Target { docker },
        &run.transaction,
        &hint,
    )
    .map(|sim| apt::transaction::dependencies(&sim, &run.transaction))
}

/// Run the transaction on the target, then ask rpm whether every package ended where
/// the plan put it: yum/dnf's shell reports some failures only in words.
pub fn apply(host: &Host, run: &PackageRun) -> Result<()> {
    if let Some(apt) = run.tool.apt() {
        return apt::transaction::apply(host, &apt, &run.transaction);
    }
    let script = run.transaction.script(run.tool.manager);
    let (argv, output) = host.run_with_file(SCRIPT, script.as_bytes(), &|dir| {
        run.tool.shell(&dir.join(SCRIPT))
    })?;
    let expectations = run.transaction.expectations();
    let mut query = vec!["-q", "--qf", RPM_QUERY_FORMAT];
    query.extend(expectations.iter().map(|(name, _)| name.as_str()));
    let installed = parse_rpm_query(&host.run(host.rpm_argv(&query))?.stdout);
    let wrong = unmet(&expectations, &|name| installed.get(name).cloned());
    if wrong.is_empty() {
        return Ok(());
    }
    let removed_anyway = expectations
        .iter()
        .any(|(name, e)| *e == Expect::Absent && !installed.contains_key(name));
    let mut said = problems(&format!("{}\n{}", output.stdout, output.stderr));
    said.insert(0, format!("`{}`: {}", argv.join(" "), wrong.join("; ")));
    Err(Error::Transaction {
        what: format!(
            "the package transaction ({}) did not complete",
            run.transaction.describe()
        ),
        problems: said,
        repos: Vec::new(),
        hint: if removed_anyway {
            "the old packages are gone but the new ones are not all in place: fix what yum/dnf \
             said above and rerun at once (the run is safe to repeat)"
                .into()
        } else {
            "nothing of the old installation was removed; fix what yum/dnf said above and rerun"
                .into()
        },
    })
}

/// A failed resolution as an error that names the repos involved and the fix.
fn explain(
    ctx: &Context,
    what: String,
    found: Vec<String>,
    repo_files: &[(String, Vec<u8>)],
    os_repos: &StepPlan,
) -> Error {
    let rewritten: Vec<String> = os_repos
        .changes
        .iter()
        .filter_map(|c| match c {
            Change::File { path, .. } => path.file_name().map(|n| n.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    let mut repos = Vec::new();
    let mut hints = Vec::new();
    for id in failing_repos(&found) {
        let Some((file, urls)) = repo_urls(repo_files, &id) else {
            repos.push(format!("'{id}'"));
            continue;
        };
        repos.push(format!("'{id}' ({REPOS_DIR}/{file}): {}", urls.join(" ")));
        let dead = urls
            .iter()
            .any(|url| repo_file::url_host(url).is_some_and(|h| DEAD_HOSTS.contains(&h.as_str())));
        let hint = if dead {
            format!(
                "'{id}' points at {}, which stopped answering when the release reached its end \
                 of life: set [os_repos] source = \"vault\" (or \"aliyun\", \"tuna\", or the URL \
                 of a vault tree){}",
                DEAD_HOSTS.join(" / "),
                if ctx.plan.os_repos == OsRepoSource::Keep {
                    " instead of \"keep\""
                } else {
                    ""
                }
            )
        } else if rewritten.contains(&file) {
            format!(
                "'{id}' is where [os_repos] source = {} sends it, and that vault did not answer \
                 from the target: check the target's network and proxy, or set [os_repos] source \
                 to another vault (\"vault\", \"aliyun\", \"tuna\" or a URL)",
                ctx.plan.os_repos.describe()
            )
        } else if id.starts_with("docker-ce") {
            format!(
                "'{id}' is Docker's repo ([repo] source = {}): check that the target reaches it",
                ctx.plan.repo.source.describe()
            )
        } else {
            format!("check that the target reaches '{id}', or disable it (enabled=0)")
        };
        hints.push(hint);
    }
    let missing = found.iter().any(|l| {
        l.contains("nothing provides")
            || l.contains("Requires:")
            || l.contains("No package ")
            || l.contains("No match for argument")
    });
    if missing {
        hints.push(
            "a package the transaction needs is in no enabled repo: Docker's packages need \
             container-selinux, fuse-overlayfs and slirp4netns from the distribution (CentOS 7: \
             extras; EL8 and later: AppStream); check that repo is enabled and complete \
             ([os_repos] source picks the vault of an end-of-life CentOS)"
                .into(),
        );
    }
    if hints.is_empty() {
        hints.push("read what yum/dnf said above; the target is untouched".into());
    }
    Error::Transaction {
        what,
        problems: found,
        repos,
        hint: hints.join("\n  hint: "),
    }
}

/// The file and URLs of repo section `id`.
fn repo_urls(files: &[(String, Vec<u8>)], id: &str) -> Option<(String, Vec<String>)> {
    files.iter().find_map(|(name, bytes)| {
        let text = String::from_utf8_lossy(bytes);
        let lines: Vec<&str> = text.lines().collect();
        repo_file::sections(&lines)
            .into_iter()
            .find(|s| s.id == id)
            .map(|s| {
                (
                    name.clone(),
                    s.urls(&lines).into_iter().map(str::to_string).collect(),
                )
            })
    })
}

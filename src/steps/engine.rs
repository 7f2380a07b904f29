//! Install docker-ce, docker-ce-cli and containerd.io; engine and cli at one version.
//! "latest" installs the newest when no engine is there and leaves an installed one
//! alone; an installed version outside the plan's range is upgraded or, only when the
//! plan pins lower, downgraded, loudly.

use std::collections::BTreeMap;

use super::{Context, StepPlan, repo};
use crate::change::{Change, PackageItem, PackageVerb};
use crate::error::{Error, Result};
use crate::host::Host;
use crate::packages::backend::parse_list;
use crate::packages::rpmver::Evr;
use crate::packages::version::VersionSpec;

pub const ID: &str = "engine";
const ENGINE: &str = "docker-ce";
const CLI: &str = "docker-ce-cli";

/// Versions the repo offers, per package, newest first.
pub type Offer = BTreeMap<String, Vec<Evr>>;

/// Whether the installed packages already satisfy the plan, so that no repo query is
/// needed (a converged host never asks the repo).
pub fn satisfied(ctx: &Context) -> bool {
    let installed = &ctx.facts.installed;
    let Some(engine) = installed.get(ENGINE) else {
        return false;
    };
    if !ctx.plan.engine.version.matches(engine) {
        return false;
    }
    ctx.plan
        .engine
        .packages
        .iter()
        .all(|name| match installed.get(name) {
            None => false,
            Some(evr) if name == CLI => evr.same_version_release(engine),
            Some(_) => true,
        })
}

/// Ask the repo the plan WOULD write which versions it offers: the rendered file goes
/// into a scratch directory outside the target, with its own cache, so the target's
/// files and caches stay untouched (the same query serves dry-run and apply).
pub fn fetch_offer(host: &Host, ctx: &Context) -> Result<Offer> {
    let hint = format!(
        "the docker-ce repository at {} did not answer; check repo.source, the network \
         or proxy of the target, and that the tree has linux/{}/{}/",
        ctx.plan.repo.source.base_url,
        ctx.distro.docker_repo_os(),
        ctx.distro.major.unwrap_or(0),
    );
    let packages = &ctx.plan.engine.packages;
    let (argv, output) =
        host.run_with_file("repos/docker-ce.repo", &repo::rendered(ctx), &|dir| {
            ctx.tool.list_offered(dir, packages)
        })?;
    if !output.success() {
        return Err(Error::Command {
            argv,
            status: output.status,
            stderr: output.stderr,
            hint,
        });
    }
    Ok(parse_list(&output.stdout, packages))
}

/// Versions offered for docker-ce, for `rdock-setup versions`.
pub fn engine_versions(offer: &Offer) -> &[Evr] {
    offer.get(ENGINE).map(Vec::as_slice).unwrap_or(&[])
}

/// The docker-ce version the plan resolves to.
pub fn resolve(spec: &VersionSpec, installed: Option<&Evr>, offer: &Offer) -> Result<Evr> {
    if let Some(evr) = installed.filter(|evr| spec.matches(evr)) {
        return Ok(evr.clone());
    }
    let offered = engine_versions(offer);
    spec.pick(offered).cloned().ok_or_else(|| {
        let list: Vec<String> = offered.iter().map(ToString::to_string).collect();
        Error::Version {
            message: format!(
                "engine.version {spec} matches none of the docker-ce versions the repo offers: {}",
                if list.is_empty() {
                    "none".to_string()
                } else {
                    list.join(", ")
                }
            ),
            hint: "pick one of those (`rdock-setup versions PLAN` lists them), or point \
                   repo.source/channel at a repo that has it"
                .into(),
        }
    })
}

pub fn check(ctx: &Context, offer: Option<&Offer>) -> Result<StepPlan> {
    let installed = &ctx.facts.installed;
    let Some(offer) = offer.filter(|_| !satisfied(ctx)) else {
        let engine = installed
            .get(ENGINE)
            .map(ToString::to_string)
            .unwrap_or_default();
        return Ok(StepPlan::unchanged(
            ID,
            format!(
                "docker-ce {engine} installed, as the plan ({}) wants",
                ctx.plan.engine.version
            ),
        ));
    };
    let engine_target = resolve(&ctx.plan.engine.version, installed.get(ENGINE), offer)?;

    let mut by_verb: BTreeMap<u8, (PackageVerb, Vec<PackageItem>, Vec<String>)> = BTreeMap::new();
    let mut notes = Vec::new();
    for name in &ctx.plan.engine.packages {
        let current = installed.get(name);
        let target = if name == ENGINE {
            Some(engine_target.clone())
        } else if name == CLI {
            let same = current
                .filter(|evr| evr.same_version_release(&engine_target))
                .or_else(|| {
                    offer.get(CLI).and_then(|list| {
                        list.iter()
                            .find(|evr| evr.same_version_release(&engine_target))
                    })
                });
            Some(same.cloned().ok_or_else(|| Error::Version {
                message: format!(
                    "the repo offers docker-ce {engine_target} but no docker-ce-cli of the same version"
                ),
                hint: "the mirror may be incomplete; pick another engine.version or repo.source".into(),
            })?)
        } else if current.is_some() {
            continue;
        } else {
            offer.get(name).and_then(|list| list.first()).cloned()
        };
        let verb = match (current, &target) {
            (None, _) => PackageVerb::Install,
            (Some(have), Some(want)) if have < want => PackageVerb::Upgrade,
            (Some(have), Some(want)) if have > want => PackageVerb::Downgrade,
            _ => continue,
        };
        if verb == PackageVerb::Downgrade {
            notes.push(format!(
                "{name} will be DOWNGRADED from {} to {} because the plan pins {}",
                current.map(ToString::to_string).unwrap_or_default(),
                target.as_ref().map(ToString::to_string).unwrap_or_default(),
                ctx.plan.engine.version
            ));
        } else if verb == PackageVerb::Upgrade {
            notes.push(format!(
                "{name} will be upgraded from {} to {}: the installed version is outside the plan's {}",
                current.map(ToString::to_string).unwrap_or_default(),
                target.as_ref().map(ToString::to_string).unwrap_or_default(),
                ctx.plan.engine.version
            ));
        }
        let spec = match &target {
            Some(evr) => format!("{name}-{evr}"),
            None => name.clone(),
        };
        let order = match verb {
            PackageVerb::Install => 0,
            PackageVerb::Upgrade => 1,
            PackageVerb::Downgrade => 2,
            PackageVerb::Remove => 3,
        };
        let entry = by_verb
            .entry(order)
            .or_insert_with(|| (verb, Vec::new(), Vec::new()));
        entry.1.push(PackageItem {
            name: name.clone(),
            from: current.cloned(),
            to: target,
        });
        entry.2.push(spec);
    }

    let changes: Vec<Change> = by_verb
        .into_values()
        .map(|(verb, items, specs)| {
            let argv = match verb {
                PackageVerb::Install => ctx.tool.install(&specs),
                PackageVerb::Upgrade => ctx.tool.upgrade(&specs),
                PackageVerb::Downgrade => ctx.tool.downgrade(&specs),
                PackageVerb::Remove => ctx.tool.remove(&specs),
            };
            Change::Packages { verb, items, argv }
        })
        .collect();
    if changes.is_empty() {
        return Ok(StepPlan::unchanged(
            ID,
            format!("docker-ce {engine_target} installed"),
        ));
    }
    let mut step = StepPlan::with_changes(ID, changes);
    step.notes = notes;
    Ok(step)
}

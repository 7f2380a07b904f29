//! Install docker-ce, docker-ce-cli and containerd.io, and the CLI plugins (buildx,
//! compose); engine and cli at one version, containerd and each plugin at their own.
//! "latest" installs the newest when nothing is there and leaves an installed package
//! alone; an installed version outside the plan's range is upgraded or, only when the
//! plan pins lower, downgraded, loudly. The changes go into the run's one package
//! transaction (steps::transaction).

use std::collections::BTreeMap;

use super::{Context, StepPlan, repo};
use crate::change::{Change, PackageItem, PackageVerb};
use crate::error::{Error, Result};
use crate::host::Host;
use crate::packages::backend::parse_list;
use crate::packages::rpmver::Evr;
use crate::packages::version::VersionSpec;
use crate::plan::Plan;

pub const ID: &str = "engine";
const ENGINE: &str = "docker-ce";
const CLI: &str = "docker-ce-cli";
const CONTAINERD: &str = "containerd.io";
/// Pulled in by docker-ce (20.10 and later); kept at the engine's version once there.
pub const ROOTLESS_EXTRAS: &str = "docker-ce-rootless-extras";

/// How one package's target version is chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Rule {
    /// docker-ce: the plan's engine.version.
    Engine,
    /// The engine's version-release (docker-ce-cli).
    SameAsEngine,
    /// The engine's version-release where the repo has it, else left as installed
    /// (docker-ce-rootless-extras: 18.09 and 19.03 have none).
    Companion,
    /// Its own spec (containerd.io, plugins, extra packages).
    Own(VersionSpec),
}

/// Every package the engine step manages, with its rule, in install order.
/// docker-ce-rootless-extras is managed once installed, and when the engine about to
/// be installed (`offered_extras`: the repo has it at the engine's version) would pull
/// it in: yum alone would pick the newest, whatever the engine's version.
fn managed(
    plan: &Plan,
    installed: &BTreeMap<String, Evr>,
    offered_extras: bool,
) -> Vec<(String, Rule)> {
    let mut list: Vec<(String, Rule)> = plan
        .engine
        .packages
        .iter()
        .map(|name| {
            let rule = match name.as_str() {
                ENGINE => Rule::Engine,
                CLI => Rule::SameAsEngine,
                CONTAINERD => Rule::Own(plan.engine.containerd.clone()),
                _ => Rule::Own(VersionSpec::Latest),
            };
            (name.clone(), rule)
        })
        .collect();
    if (offered_extras || installed.contains_key(ROOTLESS_EXTRAS))
        && !list.iter().any(|(n, _)| n == ROOTLESS_EXTRAS)
    {
        list.push((ROOTLESS_EXTRAS.to_string(), Rule::Companion));
    }
    for plugin in &plan.engine.plugins {
        if !list.iter().any(|(n, _)| *n == plugin.package) {
            list.push((plugin.package.clone(), Rule::Own(plugin.version.clone())));
        }
    }
    list
}

/// Every package name the engine step may ask the repo or rpm about.
pub fn package_names(plan: &Plan) -> Vec<String> {
    let mut names: Vec<String> = managed(plan, &BTreeMap::new(), false)
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    if !names.iter().any(|n| n == ROOTLESS_EXTRAS) {
        names.push(ROOTLESS_EXTRAS.to_string());
    }
    names
}

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
    managed(ctx.plan, installed, false)
        .iter()
        .all(|(name, rule)| match (installed.get(name), rule) {
            (None, _) => false,
            (Some(_), Rule::Engine) => true,
            (Some(evr), Rule::SameAsEngine) => evr.same_version_release(engine),
            // Whether the repo has one at the engine's version is for the repo to say;
            // a converged host does not ask.
            (Some(_), Rule::Companion) => true,
            (Some(evr), Rule::Own(spec)) => spec.matches(evr),
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
        ctx.distro.repo_release().unwrap_or_default(),
    );
    let packages = &package_names(ctx.plan);
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
    pick_offered(
        format!("engine.version {spec} matches none of the docker-ce versions"),
        spec,
        engine_versions(offer),
    )
}

/// The newest of `offered` that `spec` accepts, else an error that lists the offers.
fn pick_offered(what: String, spec: &VersionSpec, offered: &[Evr]) -> Result<Evr> {
    spec.pick(offered).cloned().ok_or_else(|| {
        let list: Vec<String> = offered.iter().map(ToString::to_string).collect();
        Error::Version {
            message: format!(
                "{what} the repo offers: {}",
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

    let mut by_verb: BTreeMap<u8, (PackageVerb, Vec<PackageItem>)> = BTreeMap::new();
    let mut notes = Vec::new();
    let offered_extras = offer.get(ROOTLESS_EXTRAS).is_some_and(|list| {
        list.iter()
            .any(|evr| evr.same_version_release(&engine_target))
    });
    for (name, rule) in managed(ctx.plan, installed, offered_extras) {
        let current = installed.get(&name);
        let target = match &rule {
            Rule::Engine => engine_target.clone(),
            Rule::SameAsEngine => current
                .filter(|evr| evr.same_version_release(&engine_target))
                .or_else(|| {
                    offer.get(&name).and_then(|list| {
                        list.iter()
                            .find(|evr| evr.same_version_release(&engine_target))
                    })
                })
                .cloned()
                .ok_or_else(|| Error::Version {
                    message: format!(
                        "the repo offers docker-ce {engine_target} but no {name} of the same version"
                    ),
                    hint: "the mirror may be incomplete; pick another engine.version or repo.source"
                        .into(),
                })?,
            Rule::Companion => match offer.get(&name).and_then(|list| {
                list.iter()
                    .find(|evr| evr.same_version_release(&engine_target))
            }) {
                Some(evr) => evr.clone(),
                None => continue,
            },
            Rule::Own(spec) => match current.filter(|evr| spec.matches(evr)) {
                Some(evr) => evr.clone(),
                None => own_pick(&name, spec, offer)?,
            },
        };
        let verb = match current {
            None => PackageVerb::Install,
            Some(have) if *have < target => PackageVerb::Upgrade,
            Some(have) if *have > target => PackageVerb::Downgrade,
            _ => continue,
        };
        let planned = match &rule {
            Rule::Engine => ctx.plan.engine.version.to_string(),
            Rule::SameAsEngine | Rule::Companion => format!("docker-ce {engine_target}"),
            Rule::Own(spec) => spec.to_string(),
        };
        let have = current.map(ToString::to_string).unwrap_or_default();
        if verb == PackageVerb::Downgrade {
            notes.push(format!(
                "{name} will be DOWNGRADED from {have} to {target} because the plan pins {planned}"
            ));
        } else if verb == PackageVerb::Upgrade {
            notes.push(format!(
                "{name} will be upgraded from {have} to {target}: the installed version is outside the plan's {planned}"
            ));
        }
        let order = match verb {
            PackageVerb::Install => 0,
            PackageVerb::Upgrade => 1,
            PackageVerb::Downgrade => 2,
            PackageVerb::Remove => 3,
        };
        by_verb
            .entry(order)
            .or_insert_with(|| (verb, Vec::new()))
            .1
            .push(PackageItem {
                name,
                from: current.cloned(),
                to: Some(target),
            });
    }

    let changes: Vec<Change> = by_verb
        .into_values()
        .map(|(verb, items)| Change::Packages { verb, items })
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

/// The newest offered version of `name` that `spec` accepts.
fn own_pick(name: &str, spec: &VersionSpec, offer: &Offer) -> Result<Evr> {
    pick_offered(
        format!("{name} {spec} matches none of the versions"),
        spec,
        offer.get(name).map(Vec::as_slice).unwrap_or(&[]),
    )
}

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
use crate::packages::apt::AptTool;
use crate::packages::apt::resolve::{self, Sources};
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

/// The engine packages of this target: Docker's (`managed`), or with `[repo] source =
/// "distro"` the distribution's own engine (docker.io, moby-engine, docker), the first
/// at the plan's engine.version, the others at the newest offered.
fn managed_in(
    ctx: &Context,
    installed: &BTreeMap<String, Evr>,
    offered_extras: bool,
) -> Vec<(String, Rule)> {
    if !ctx.plan.repo.source.is_distro() {
        return managed(ctx.plan, installed, offered_extras);
    }
    distro_engine(ctx)
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let rule = if i == 0 {
                Rule::Engine
            } else {
                Rule::Own(VersionSpec::Latest)
            };
            (name.to_string(), rule)
        })
        .collect()
}

fn distro_engine(ctx: &Context) -> &'static [&'static str] {
    ctx.distro
        .platform()
        .map(|p| p.distro_engine)
        .unwrap_or(&[])
}

/// The package whose version is the plan's engine.version.
pub fn engine_package(ctx: &Context) -> String {
    if ctx.plan.repo.source.is_distro() {
        distro_engine(ctx).first().unwrap_or(&ENGINE).to_string()
    } else {
        ENGINE.to_string()
    }
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
    let Some(engine) = installed.get(&engine_package(ctx)) else {
        return false;
    };
    if !ctx.plan.engine.version.matches(engine) {
        return false;
    }
    managed_in(ctx, installed, false)
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
    if let Some(apt) = ctx.tool.apt() {
        return fetch_apt_offer(ctx, host, &apt);
    }
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

/// apt: the offers of the source the plan would write (Docker's repo alone, with
/// the keyring it would install), or with source "distro" of the host's own sources,
/// read in a scratch directory (`packages::apt::resolve`).
fn fetch_apt_offer(ctx: &Context, host: &Host, apt: &AptTool) -> Result<Offer> {
    let (sources, hint) = match (repo::apt_source(ctx)?, &ctx.repo_key) {
        (Some(source), Some(key)) => (
            Sources::DockerOnly {
                source: resolve::staged_source(&repo::rendered(ctx)),
                keyring: key.clone(),
            },
            format!(
                "Docker's apt repo at {} did not answer as apt expects; check [repo] source, the network or proxy of the target, and that the tree has dists/{}/",
                source.uri(),
                source.suite
            ),
        ),
        _ => (
            Sources::Target { docker: None },
            "the host's own apt sources did not answer; check them (apt-get update says the same) and the network or proxy of the target"
                .to_string(),
        ),
    };
    let mut names: Vec<String> = managed_in(ctx, &BTreeMap::new(), false)
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    if !ctx.plan.repo.source.is_distro() && !names.iter().any(|n| n == ROOTLESS_EXTRAS) {
        names.push(ROOTLESS_EXTRAS.to_string());
    }
    resolve::offers(host, apt, &sources, &names, &hint)
}

/// Versions offered for docker-ce, for `rdock-setup versions`.
pub fn engine_versions(offer: &Offer) -> &[Evr] {
    offer.get(ENGINE).map(Vec::as_slice).unwrap_or(&[])
}

/// The docker-ce version the plan resolves to.
pub fn resolve(spec: &VersionSpec, installed: Option<&Evr>, offer: &Offer) -> Result<Evr> {
    resolve_named(ENGINE, spec, installed, offer)
}

/// The version of engine package `name` the plan resolves to.
fn resolve_named(
    name: &str,
    spec: &VersionSpec,
    installed: Option<&Evr>,
    offer: &Offer,
) -> Result<Evr> {
    if let Some(evr) = installed.filter(|evr| spec.matches(evr)) {
        return Ok(evr.clone());
    }
    pick_offered(
        format!("engine.version {spec} matches none of the {name} versions"),
        spec,
        offer.get(name).map(Vec::as_slice).unwrap_or(&[]),
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
    let engine_name = engine_package(ctx);
    let Some(offer) = offer.filter(|_| !satisfied(ctx)) else {
        let engine = installed
            .get(&engine_name)
            .map(ToString::to_string)
            .unwrap_or_default();
        let hold = hold_change(ctx, &managed_names(ctx));
        let summary = format!(
            "{engine_name} {engine} installed, as the plan ({}) wants",
            ctx.plan.engine.version
        );
        return Ok(match hold {
            Some(change) => {
                let mut step = StepPlan::with_changes(ID, vec![change]);
                step.summary = format!("{summary}; {}", step.summary);
                step
            }
            None => StepPlan::unchanged(ID, summary),
        });
    };
    let engine_target = resolve_named(
        &engine_name,
        &ctx.plan.engine.version,
        installed.get(&engine_name),
        offer,
    )?;

    let mut by_verb: BTreeMap<u8, (PackageVerb, Vec<PackageItem>)> = BTreeMap::new();
    let mut notes = Vec::new();
    let offered_extras = offer.get(ROOTLESS_EXTRAS).is_some_and(|list| {
        list.iter()
            .any(|evr| evr.same_version_release(&engine_target))
    });
    let managed = managed_in(ctx, installed, offered_extras);
    let hold = hold_change(
        ctx,
        &managed.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
    );
    for (name, rule) in managed {
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
                        "the repo offers {engine_name} {engine_target} but no {name} of the same version"
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
            Rule::SameAsEngine | Rule::Companion => format!("{engine_name} {engine_target}"),
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

    let mut changes: Vec<Change> = by_verb
        .into_values()
        .map(|(verb, items)| Change::Packages { verb, items })
        .collect();
    changes.extend(hold);
    if changes.is_empty() {
        return Ok(StepPlan::unchanged(
            ID,
            format!("{engine_name} {engine_target} installed"),
        ));
    }
    let mut step = StepPlan::with_changes(ID, changes);
    step.notes = notes;
    Ok(step)
}

/// The engine packages this target has or gets, by name.
fn managed_names(ctx: &Context) -> Vec<String> {
    managed_in(ctx, &ctx.facts.installed, false)
        .into_iter()
        .map(|(name, _)| name)
        .collect()
}

/// apt, `[engine] hold`: `apt-mark hold` for the engine packages not held yet, so that
/// a plain `apt-get upgrade` leaves them where the plan put them. (yum/dnf hold through
/// the repo file's `exclude=`, written by the repo step.) A hold the operator set
/// stays when the plan does not ask for one.
fn hold_change(ctx: &Context, names: &[String]) -> Option<Change> {
    let apt = ctx.tool.apt()?;
    if !ctx.plan.engine.hold {
        return None;
    }
    let unheld: Vec<String> = names
        .iter()
        .filter(|name| !ctx.facts.held.contains(name))
        .cloned()
        .collect();
    (!unheld.is_empty()).then(|| Change::Command {
        what: format!("hold {} (apt-mark hold)", unheld.join(", ")),
        argv: apt.hold(&unheld),
    })
}

/// The newest offered version of `name` that `spec` accepts.
fn own_pick(name: &str, spec: &VersionSpec, offer: &Offer) -> Result<Evr> {
    pick_offered(
        format!("{name} {spec} matches none of the versions"),
        spec,
        offer.get(name).map(Vec::as_slice).unwrap_or(&[]),
    )
}

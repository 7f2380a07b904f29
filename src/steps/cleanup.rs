//! Remove the old docker packages that are installed; nothing runs when none is.

use std::path::PathBuf;

use super::{Context, StepPlan};
use crate::change::{Change, PackageItem, PackageVerb};
use crate::facts::DAEMON_JSON;

pub const ID: &str = "cleanup";

/// The old packages the plan removes, in the plan's (or Docker's documented) order.
pub fn wanted_removals(ctx: &Context) -> Vec<String> {
    let list = ctx.plan.cleanup.remove.clone().unwrap_or_else(|| {
        if ctx.plan.repo.source.is_distro() {
            ctx.distro.old_packages_beside_distro_engine()
        } else {
            ctx.distro.default_old_packages()
        }
    });
    list.into_iter()
        .filter(|name| ctx.facts.is_installed(name))
        .collect()
}

pub fn check(ctx: &Context) -> StepPlan {
    let names = wanted_removals(ctx);
    if names.is_empty() {
        return StepPlan::unchanged(ID, "no old docker packages installed");
    }
    let items = names
        .iter()
        .map(|name| PackageItem {
            name: name.clone(),
            from: ctx.facts.installed.get(name).cloned(),
            to: None,
        })
        .collect();
    let mut changes = vec![Change::Packages {
        verb: PackageVerb::Remove,
        items,
    }];
    // The old docker package owns daemon.json as %config: removing it would move the
    // operator's settings aside. They stay where they are.
    if let Some(bytes) = &ctx.facts.daemon_json {
        changes.push(Change::KeepFile {
            path: PathBuf::from(DAEMON_JSON),
            bytes: bytes.clone(),
        });
    }
    StepPlan::with_changes(ID, changes)
}

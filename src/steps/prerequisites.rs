//! Install the prerequisite packages that are missing (EL7: yum-utils,
//! device-mapper-persistent-data, lvm2).

use super::{Context, StepPlan};
use crate::change::{Change, PackageItem, PackageVerb};

pub const ID: &str = "prerequisites";

pub fn check(ctx: &Context) -> StepPlan {
    let wanted = ctx
        .plan
        .prerequisites
        .clone()
        .unwrap_or_else(|| ctx.distro.default_prerequisites());
    if wanted.is_empty() {
        return StepPlan::unchanged(ID, "none needed");
    }
    let missing: Vec<String> = wanted
        .iter()
        .filter(|name| !ctx.facts.is_installed(name))
        .cloned()
        .collect();
    if missing.is_empty() {
        return StepPlan::unchanged(ID, format!("installed: {}", wanted.join(", ")));
    }
    let items = missing
        .iter()
        .map(|name| PackageItem {
            name: name.clone(),
            from: None,
            to: None,
        })
        .collect();
    StepPlan::with_changes(
        ID,
        vec![Change::Packages {
            verb: PackageVerb::Install,
            items,
        }],
    )
}

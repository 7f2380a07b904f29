//! The run's one package transaction, the apt way: proven beforehand by `apt-get -s`
//! in a scratch directory against the sources as this run leaves them, then run as one
//! `apt-get install` that removes the old packages (`name-`) and installs the new
//! ones at the plan's versions (`name=version`), and checked package by package with
//! dpkg-query afterwards.

use super::AptTool;
use super::parse::{self, Simulation};
use super::resolve::{self, Sources};
use crate::error::{Error, Result};
use crate::host::Host;
use crate::packages::transaction::{Expect, Transaction, unmet};

/// Prove the transaction; apt's words when it cannot be done. What apt would do
/// against the plan (remove a package the plan does not name, install another version
/// of one it names) is refused too; what it adds (dependencies the plan does not name)
/// is said (`dependencies`): the dry-run must say exactly what apply does.
pub fn prove(
    host: &Host,
    apt: &AptTool,
    sources: &Sources,
    transaction: &Transaction,
    hint: &str,
) -> Result<Simulation> {
    let what = format!(
        "the package transaction ({}) cannot be done, so nothing was changed",
        transaction.describe()
    );
    let sim = resolve::simulate(host, apt, sources, transaction).map_err(|(argv, found)| {
        let mut problems = found;
        if !argv.is_empty() {
            problems.insert(
                0,
                "`apt-get -s install …` in a scratch directory said:".to_string(),
            );
        }
        Error::Transaction {
            what: what.clone(),
            problems,
            repos: Vec::new(),
            hint: hint.to_string(),
        }
    })?;
    let mut beyond = Vec::new();
    let expectations = transaction.expectations();
    for name in &sim.remove {
        if !expectations
            .iter()
            .any(|(n, e)| n == name && *e == Expect::Absent)
        {
            beyond.push(format!("apt would also remove {name}"));
        }
    }
    for (name, version) in &sim.install {
        if let Some((_, Expect::At(evr))) = expectations.iter().find(|(n, _)| n == name)
            && evr.to_string() != *version
        {
            beyond.push(format!(
                "apt would install {name} {version}, not the plan's {evr}"
            ));
        }
    }
    if beyond.is_empty() {
        return Ok(sim);
    }
    Err(Error::Transaction {
        what,
        problems: beyond,
        repos: Vec::new(),
        hint: "the transaction would do other than the plan says: name the packages apt \
               would remove in [cleanup] remove (or remove what depends on the old ones \
               first), or pin the versions apt can install, then rerun; nothing was changed"
            .into(),
    })
}

/// The packages apt installs beyond the plan's (what the planned ones depend on and the
/// host lacks), as a note for the report; none: no note.
pub fn dependencies(sim: &Simulation, transaction: &Transaction) -> Vec<String> {
    let planned = transaction.expectations();
    let extra: Vec<String> = sim
        .install
        .iter()
        .filter(|(name, _)| !planned.iter().any(|(n, _)| n == name))
        .map(|(name, version)| format!("{name} {version}"))
        .collect();
    if extra.is_empty() {
        return Vec::new();
    }
    vec![format!(
        "apt also installs what these depend on: {}",
        extra.join(", ")
    )]
}

/// Run the transaction on the target, then ask dpkg whether every package ended
/// where the plan put it.
pub fn apply(host: &Host, apt: &AptTool, transaction: &Transaction) -> Result<()> {
    let argv = apt.install(transaction);
    let output = host.run(argv.clone())?;
    let expectations = transaction.expectations();
    let names: Vec<String> = expectations.iter().map(|(n, _)| n.clone()).collect();
    let installed = parse::installed(&host.run(apt.query(&names))?.stdout);
    let wrong = unmet(&expectations, &|name| {
        installed.get(name).map(|entry| entry.version.clone())
    });
    if wrong.is_empty() && output.success() {
        return Ok(());
    }
    let removed_anyway = expectations
        .iter()
        .any(|(name, e)| *e == Expect::Absent && !installed.contains_key(name));
    let mut said = parse::problems(&format!("{}\n{}", output.stdout, output.stderr));
    said.insert(
        0,
        format!(
            "`{}` (exit {:?}): {}",
            argv.join(" "),
            output.status,
            if wrong.is_empty() {
                "every package is where the plan puts it, but apt-get failed".to_string()
            } else {
                wrong.join("; ")
            }
        ),
    );
    Err(Error::Transaction {
        what: format!(
            "the package transaction ({}) did not complete",
            transaction.describe()
        ),
        problems: said,
        repos: Vec::new(),
        hint: if removed_anyway {
            "the old packages are gone but the new ones are not all in place: fix what apt \
             said above (`dpkg --configure -a` finishes an interrupted run) and rerun at once \
             (the run is safe to repeat)"
                .into()
        } else {
            "nothing of the old installation was removed; fix what apt said above and rerun".into()
        },
    })
}

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
use crate::packages::transaction::{Expect, Transaction};

/// Prove the transaction; apt's words when it cannot be done. What apt would do
/// beyond the plan (remove a package the plan does not name, install another
/// version) is refused too: the dry-run must say exactly what apply does.
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
        match expectations.iter().find(|(n, _)| n == name) {
            Some((_, Expect::At(evr))) if evr.to_string() != *version => beyond.push(format!(
                "apt would install {name} {version}, not the plan's {evr}"
            )),
            Some(_) => {}
            None => beyond.push(format!("apt would also install {name} {version}")),
        }
    }
    if beyond.is_empty() {
        return Ok(sim);
    }
    Err(Error::Transaction {
        what,
        problems: beyond,
        repos: Vec::new(),
        hint: "the transaction would do more than the plan says: name those packages in \
               [cleanup] remove or [engine] packages (or remove what depends on the old \
               ones), then rerun; nothing was changed"
            .into(),
    })
}

/// Run the transaction on the target, then ask dpkg whether every package ended
/// where the plan put it.
pub fn apply(host: &Host, apt: &AptTool, transaction: &Transaction) -> Result<()> {
    let argv = apt.install(transaction);
    let output = host.run(argv.clone())?;
    let expectations = transaction.expectations();
    let names: Vec<String> = expectations.iter().map(|(n, _)| n.clone()).collect();
    let installed = parse::installed(&host.run(apt.query(&names))?.stdout);
    let wrong: Vec<String> = expectations
        .iter()
        .filter_map(|(name, expect)| {
            let have = installed.get(name).map(|e| &e.version);
            let fine = match expect {
                Expect::Absent => have.is_none(),
                Expect::Present => have.is_some(),
                Expect::At(evr) => have == Some(evr),
            };
            (!fine).then(|| {
                let have = have
                    .map(ToString::to_string)
                    .unwrap_or_else(|| "not installed".into());
                match expect {
                    Expect::Absent => format!("{name} is still installed ({have})"),
                    Expect::Present => format!("{name} is {have}"),
                    Expect::At(evr) => format!("{name} is {have}, not {evr}"),
                }
            })
        })
        .collect();
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

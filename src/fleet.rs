//! One plan over many hosts: canaries first, then rolling batches, a failure budget,
//! parallel workers, Ctrl-C that stops starting hosts. Each host goes through the same
//! runner as a local one, over its own SSH transport.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};

use crate::error::{Error, Result};
use crate::host::Host;
use crate::host::ssh::{SshSettings, SshTransport};
use crate::interrupt;
use crate::inventory::FleetHost;
use crate::plan::{self, Plan};
use crate::report::{HostReport, HostStatus};

/// A number of hosts, absolute or a share of the fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    Hosts(usize),
    Percent(u32),
}

impl Count {
    pub fn parse(text: &str) -> std::result::Result<Count, String> {
        let text = text.trim();
        let bad = || format!("{text:?} is neither a number of hosts nor a percentage like 20%");
        match text.strip_suffix('%') {
            Some(p) => match p.trim().parse::<u32>() {
                Ok(p) if p <= 100 => Ok(Count::Percent(p)),
                _ => Err(bad()),
            },
            None => text.parse().map(Count::Hosts).map_err(|_| bad()),
        }
    }

    /// Hosts this stands for in a fleet of `total` (a percentage rounds down).
    pub fn of(self, total: usize) -> usize {
        match self {
            Count::Hosts(n) => n,
            Count::Percent(p) => total * p as usize / 100,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Rollout {
    /// Hosts worked on at once.
    pub parallel: usize,
    /// Hosts per rolling batch; `None`: one batch.
    pub batch: Option<Count>,
    /// These first hosts run alone, before everything else; any failure among them
    /// stops the run.
    pub canary: usize,
    /// Failed plus unreachable hosts the run tolerates: once MORE have failed, no
    /// further batch is started (hosts of a running batch finish). `None`: no limit.
    pub max_fail: Option<Count>,
}

/// The batches, in order: the canaries alone, then the rest in rolling batches.
pub fn batches(total: usize, rollout: &Rollout) -> Vec<std::ops::Range<usize>> {
    let mut batches = Vec::new();
    let canary = rollout.canary.min(total);
    if canary > 0 {
        batches.push(0..canary);
    }
    let rest = total - canary;
    let size = rollout
        .batch
        .map(|b| b.of(total).max(1))
        .unwrap_or(rest.max(1));
    let mut start = canary;
    while start < total {
        let end = (start + size).min(total);
        batches.push(start..end);
        start = end;
    }
    batches
}

/// What is done on each host, with the host's own plan (inventory overrides laid over).
pub type Job<'a> = &'a (dyn Fn(&Host, &Plan) -> HostReport + Sync);

pub struct Fleet<'a> {
    pub plan: &'a Plan,
    /// The plan's text, for laying inventory overrides over it.
    pub plan_text: &'a str,
    pub job: Job<'a>,
    pub settings: Arc<SshSettings>,
    pub rollout: Rollout,
}

impl Fleet<'_> {
    /// Converge every host; `on_done` sees each report as its host finishes. Hosts
    /// never started come back as `skipped`, with the reason.
    pub fn run(
        &self,
        hosts: &[FleetHost],
        mut on_done: impl FnMut(&HostReport),
    ) -> Vec<HostReport> {
        let total = hosts.len();
        let mut reports: Vec<Option<HostReport>> = vec![None; total];
        let max_fail = self.rollout.max_fail.map(|m| m.of(total));
        let mut failures = 0;
        let mut stop: Option<String> = None;
        let plan_batches = batches(total, &self.rollout);
        for (index, batch) in plan_batches.iter().enumerate() {
            if stop.is_none() && interrupt::requested() {
                stop = Some("interrupted".into());
            }
            if let Some(reason) = &stop {
                for i in batch.clone() {
                    reports[i] = Some(skipped(&hosts[i], reason));
                }
                continue;
            }
            for (i, report) in self.run_batch(hosts, batch.clone(), &mut on_done) {
                if matches!(report.status, HostStatus::Failed | HostStatus::Unreachable) {
                    failures += 1;
                }
                reports[i] = Some(report);
            }
            let is_canary = index == 0 && self.rollout.canary > 0;
            if is_canary && failures > 0 {
                stop = Some(format!(
                    "not started: a canary host failed ({failures} of {})",
                    batch.len()
                ));
            } else if let Some(max) = max_fail.filter(|max| failures > *max) {
                stop = Some(format!(
                    "not started: {failures} hosts failed, more than --max-fail {max}"
                ));
            }
        }
        reports
            .into_iter()
            .zip(hosts)
            .map(|(report, host)| report.unwrap_or_else(|| skipped(host, "interrupted")))
            .collect()
    }

    fn run_batch(
        &self,
        hosts: &[FleetHost],
        batch: std::ops::Range<usize>,
        on_done: &mut impl FnMut(&HostReport),
    ) -> Vec<(usize, HostReport)> {
        let next = AtomicUsize::new(batch.start);
        let workers = self.rollout.parallel.clamp(1, batch.len().max(1));
        let (tx, rx) = mpsc::channel();
        let mut done = Vec::new();
        std::thread::scope(|scope| {
            for _ in 0..workers {
                let tx = tx.clone();
                let next = &next;
                let batch = batch.clone();
                scope.spawn(move || {
                    loop {
                        if interrupt::requested() {
                            break;
                        }
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        if i >= batch.end {
                            break;
                        }
                        let report = self.converge_one(&hosts[i]);
                        if tx.send((i, report)).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(tx);
            for (i, report) in rx {
                on_done(&report);
                done.push((i, report));
            }
        });
        // Hosts of this batch that a Ctrl-C kept from starting.
        for i in batch {
            if !done.iter().any(|(j, _)| *j == i) {
                done.push((i, skipped(&hosts[i], "not started: interrupted")));
            }
        }
        done
    }

    fn converge_one(&self, fleet_host: &FleetHost) -> HostReport {
        let plan = match plan::with_overrides(self.plan, self.plan_text, &fleet_host.overrides) {
            Ok(plan) => plan,
            Err(err) => return failed(fleet_host, &err),
        };
        let transport = SshTransport::new(fleet_host.target.clone(), Arc::clone(&self.settings));
        let host = Host::new(Box::new(transport), fleet_host.root.clone());
        let mut report = (self.job)(&host, &plan);
        host.close();
        report.name = fleet_host.name.clone();
        report
    }
}

fn skipped(host: &FleetHost, reason: &str) -> HostReport {
    HostReport {
        status: HostStatus::Skipped,
        error: Some(reason.to_string()),
        ..HostReport::new(host.name.clone())
    }
}

fn failed(host: &FleetHost, err: &Error) -> HostReport {
    HostReport {
        status: HostStatus::Failed,
        error: Some(err.to_string()),
        ..HostReport::new(host.name.clone())
    }
}

/// Check rollout flags against the fleet before anything runs.
pub fn check_rollout(rollout: &Rollout, total: usize) -> Result<()> {
    if rollout.parallel == 0 {
        return Err(Error::other("--parallel must be at least 1"));
    }
    if rollout.canary > total {
        return Err(Error::other(format!(
            "--canary {} is more than the {total} hosts targeted",
            rollout.canary
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rollout(batch: Option<&str>, canary: usize) -> Rollout {
        Rollout {
            parallel: 4,
            batch: batch.map(|b| Count::parse(b).unwrap()),
            canary,
            max_fail: None,
        }
    }

    #[test]
    fn canaries_then_rolling_batches() {
        assert_eq!(
            batches(12, &rollout(Some("5"), 0)),
            vec![0..5, 5..10, 10..12]
        );
        assert_eq!(
            batches(12, &rollout(Some("5"), 1)),
            vec![0..1, 1..6, 6..11, 11..12]
        );
        assert_eq!(batches(10, &rollout(None, 2)), vec![0..2, 2..10]);
        assert_eq!(
            batches(10, &rollout(Some("20%"), 0)),
            vec![0..2, 2..4, 4..6, 6..8, 8..10]
        );
        assert_eq!(batches(3, &rollout(Some("1%"), 0)), vec![0..1, 1..2, 2..3]);
    }

    #[test]
    fn counts() {
        assert_eq!(Count::parse("25%").unwrap().of(10), 2);
        assert_eq!(Count::parse("3").unwrap().of(10), 3);
        assert!(Count::parse("150%").is_err());
        assert!(Count::parse("many").is_err());
    }
}

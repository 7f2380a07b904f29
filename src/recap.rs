//! Fleet output for people: a line per host as it finishes, the changes with identical
//! ones folded (`web[01-40]: …`), and a recap table.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::fold::fold_names;
use crate::report::{HostReport, HostStatus, Report, StepStatus};

pub fn status_word(status: HostStatus) -> &'static str {
    match status {
        HostStatus::Ok => "ok",
        HostStatus::Changed => "changed",
        HostStatus::Failed => "FAILED",
        HostStatus::Unreachable => "UNREACHABLE",
        HostStatus::Skipped => "skipped",
        HostStatus::Drifted => "DRIFTED",
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

/// One line for a host that just finished.
pub fn host_line(report: &HostReport, dry_run: bool) -> String {
    let changed: Vec<&str> = report
        .steps
        .iter()
        .filter(|s| matches!(s.status, StepStatus::Changed | StepStatus::WouldChange))
        .map(|s| s.id.as_str())
        .collect();
    let detail = match (&report.error, changed.is_empty()) {
        (Some(error), _) => first_line(error).to_string(),
        (None, true) => "nothing to change".to_string(),
        (None, false) if dry_run => format!("would change: {}", changed.join(", ")),
        (None, false) => format!("changed: {}", changed.join(", ")),
    };
    format!("{}: {} ({detail})", report.name, status_word(report.status))
}

/// The changes per host, hosts with identical changes folded into one entry.
pub fn folded_changes(report: &Report) -> String {
    let mut groups: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for host in &report.hosts {
        if !matches!(host.status, HostStatus::Ok | HostStatus::Changed) {
            continue;
        }
        let mut body = String::new();
        for step in host
            .steps
            .iter()
            .filter(|s| matches!(s.status, StepStatus::Changed | StepStatus::WouldChange))
        {
            let _ = writeln!(body, "  {:<14} {}", step.id, step.summary);
            for note in &step.notes {
                let _ = writeln!(body, "  {:<14} !! {note}", "");
            }
            if let Some(diff) = &step.diff {
                for line in diff.lines() {
                    let _ = writeln!(body, "      {line}");
                }
            }
        }
        if body.is_empty() {
            body.push_str("  no changes\n");
        }
        groups.entry(body).or_default().push(&host.name);
    }
    let mut out = String::new();
    for (body, names) in groups {
        let _ = writeln!(
            out,
            "{} ({} host{}):",
            fold_names(&names),
            names.len(),
            if names.len() == 1 { "" } else { "s" }
        );
        out.push_str(&body);
    }
    out
}

/// The recap table and the summary line.
pub fn recap(report: &Report) -> String {
    let width = report
        .hosts
        .iter()
        .map(|h| h.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut out = format!(
        "\n{:<width$}  {:<11}  {:>7}  REASON\n",
        "HOST", "STATUS", "CHANGED"
    );
    for host in &report.hosts {
        let changed = host
            .steps
            .iter()
            .filter(|s| matches!(s.status, StepStatus::Changed | StepStatus::WouldChange))
            .count();
        let _ = writeln!(
            out,
            "{:<width$}  {:<11}  {:>7}  {}",
            host.name,
            status_word(host.status),
            changed,
            host.error.as_deref().map(first_line).unwrap_or("")
        );
    }
    let s = &report.summary;
    let _ = writeln!(
        out,
        "\n{} hosts: {} ok, {} {}, {} failed, {} unreachable, {} not started{}",
        report.hosts.len(),
        s.ok,
        s.changed,
        if report.dry_run {
            "with changes pending"
        } else {
            "changed"
        },
        s.failed,
        s.unreachable,
        s.skipped,
        if report.dry_run {
            " (dry-run: nothing was changed)"
        } else {
            ""
        }
    );
    out
}

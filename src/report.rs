//! What a run did (or, in dry-run, would do), per host and per step; rendered for
//! people or as one JSON object.

use std::fmt::Write as _;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Unchanged,
    Changed,
    WouldChange,
    Failed,
    Skipped,
    /// `status` only: the running daemon's settings differ from its daemon.json.
    Drifted,
}

impl StepStatus {
    fn label(self) -> &'static str {
        match self {
            StepStatus::Unchanged => "ok",
            StepStatus::Changed => "changed",
            StepStatus::WouldChange => "would change",
            StepStatus::Failed => "FAILED",
            StepStatus::Skipped => "skipped",
            StepStatus::Drifted => "DRIFTED",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HostStatus {
    Ok,
    Changed,
    Failed,
    Unreachable,
    /// Never contacted: the run stopped first (canary failed, --max-fail exceeded,
    /// interrupted).
    Skipped,
    /// `status` only: the host is not as the plan says (a step would change, or docker
    /// runs settings its daemon.json does not hold).
    Drifted,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    pub id: String,
    pub status: StepStatus,
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Why this step failed (the host's error, on the step it stopped at).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HostReport {
    pub name: String,
    pub status: HostStatus,
    pub steps: Vec<StepReport>,
    /// Why the host failed, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// One line about the target (distro, kernel, offline or not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// `rdock-setup mirrors`: each registry mirror's verdict, probed from this host.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mirrors: Vec<serde_json::Value>,
}

impl HostReport {
    /// The step the host stopped at carries the host's error as its own reason, so
    /// that a reader of one step (the JSON report's) sees why it failed.
    fn reason_on_failed_step(&mut self) {
        if let (Some(error), Some(step)) = (
            &self.error,
            self.steps
                .iter_mut()
                .find(|s| s.status == StepStatus::Failed),
        ) && step.reason.is_none()
        {
            step.reason = Some(error.clone());
        }
    }

    /// A host's report before anything was done: ok, no steps.
    pub fn new(name: String) -> HostReport {
        HostReport {
            name,
            status: HostStatus::Ok,
            steps: Vec::new(),
            error: None,
            target: None,
            mirrors: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub ok: usize,
    pub changed: usize,
    pub failed: usize,
    pub unreachable: usize,
    pub skipped: usize,
    /// `status` only; always 0 for apply.
    pub drifted: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub dry_run: bool,
    pub hosts: Vec<HostReport>,
    pub summary: Summary,
}

impl Report {
    pub fn new(dry_run: bool, mut hosts: Vec<HostReport>) -> Report {
        let mut summary = Summary::default();
        for host in &mut hosts {
            host.reason_on_failed_step();
            match host.status {
                HostStatus::Ok => summary.ok += 1,
                HostStatus::Changed => summary.changed += 1,
                HostStatus::Failed => summary.failed += 1,
                HostStatus::Unreachable => summary.unreachable += 1,
                HostStatus::Skipped => summary.skipped += 1,
                HostStatus::Drifted => summary.drifted += 1,
            }
        }
        Report {
            dry_run,
            hosts,
            summary,
        }
    }

    pub fn any_failed(&self) -> bool {
        self.summary.failed + self.summary.unreachable + self.summary.skipped > 0
    }

    pub fn any_changes(&self) -> bool {
        self.summary.changed + self.summary.drifted > 0
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|err| format!("{{\"error\":\"{err}\"}}"))
    }

    /// For people; `colour` adds ANSI colours (stdout is a terminal).
    pub fn to_human(&self, colour: bool) -> String {
        let paint = |code: &str, text: &str| {
            if colour {
                format!("\x1b[{code}m{text}\x1b[0m")
            } else {
                text.to_string()
            }
        };
        let mut out = String::new();
        for host in &self.hosts {
            let _ = writeln!(out, "{}", host.name);
            if let Some(target) = &host.target {
                let _ = writeln!(out, "  {target}");
            }
            let width = host.steps.iter().map(|s| s.id.len()).max().unwrap_or(0);
            // The host's error is the reason its last failed step failed: shown there.
            let failed_at = host
                .steps
                .iter()
                .rposition(|s| s.status == StepStatus::Failed);
            for (index, step) in host.steps.iter().enumerate() {
                let label = format!("{:<12}", step.status.label());
                let label = match step.status {
                    StepStatus::Changed | StepStatus::WouldChange => paint("33", &label),
                    StepStatus::Failed | StepStatus::Drifted => paint("1;31", &label),
                    StepStatus::Unchanged => paint("32", &label),
                    StepStatus::Skipped => paint("2", &label),
                };
                let _ = writeln!(out, "  {:<width$}  {label}  {}", step.id, step.summary);
                for note in &step.notes {
                    let _ = writeln!(
                        out,
                        "  {:<width$}  {:<12}  {}",
                        "",
                        "",
                        paint("1;33", &format!("!! {note}"))
                    );
                }
                if let (Some(error), true) = (&host.error, failed_at == Some(index)) {
                    write_reason(
                        &mut out,
                        &format!("  {:<width$}  {:<12}  ", "", ""),
                        "reason: ",
                        error,
                    );
                }
                if let Some(diff) = &step.diff {
                    for line in diff.lines() {
                        let line = match line.as_bytes().first() {
                            Some(b'+') if !line.starts_with("+++") => paint("32", line),
                            Some(b'-') if !line.starts_with("---") => paint("31", line),
                            Some(b'@') => paint("36", line),
                            _ => line.to_string(),
                        };
                        let _ = writeln!(out, "      {line}");
                    }
                }
            }
            if let (Some(error), None) = (&host.error, failed_at) {
                // Failed before any step could (facts unreadable, host unreachable).
                write_reason(&mut out, "  ", "FAILED: ", error);
            }
        }
        let s = &self.summary;
        let tail = if self.dry_run {
            "dry-run: nothing was changed"
        } else {
            "applied"
        };
        let changed = if self.dry_run {
            "with changes pending"
        } else {
            "changed"
        };
        let _ = writeln!(
            out,
            "\n{} ok, {} {changed}, {} failed, {} unreachable ({tail})",
            s.ok, s.changed, s.failed, s.unreachable
        );
        out
    }
}

/// A (possibly multi-line) failure reason, every line under `indent`.
fn write_reason(out: &mut String, indent: &str, lead: &str, reason: &str) {
    for (i, line) in reason.lines().enumerate() {
        let lead = if i == 0 { lead } else { "" };
        let _ = writeln!(out, "{indent}{lead}{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(id: &str, status: StepStatus) -> StepReport {
        StepReport {
            reason: None,
            id: id.into(),
            status,
            summary: format!("{id} summary"),
            diff: None,
            notes: Vec::new(),
        }
    }

    fn failed_host(steps: Vec<StepReport>) -> Report {
        Report::new(
            false,
            vec![HostReport {
                name: "web01".into(),
                status: HostStatus::Failed,
                steps,
                error: Some("`dnf shell` failed: no space left\n  hint: free /var".into()),
                target: None,
                mirrors: Vec::new(),
            }],
        )
    }

    #[test]
    fn the_reason_stands_under_the_failed_step() {
        let text = failed_host(vec![
            step("repo", StepStatus::Changed),
            step("engine", StepStatus::Failed),
            step("service", StepStatus::Skipped),
        ])
        .to_human(false);
        let lines: Vec<&str> = text.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.contains("engine summary"))
            .unwrap();
        assert!(
            lines[at + 1].contains("reason: `dnf shell` failed: no space left"),
            "{text}"
        );
        assert!(
            lines[at + 2].trim_start().starts_with("hint: free /var"),
            "{text}"
        );
        assert!(lines[at + 3].contains("service summary"), "{text}");
        assert!(!text.contains("stderr"), "{text}");
    }

    #[test]
    fn the_failed_step_carries_the_reason_in_json_too() {
        let report = failed_host(vec![
            step("repo", StepStatus::Changed),
            step("engine", StepStatus::Failed),
            step("service", StepStatus::Skipped),
        ]);
        let json = serde_json::to_value(&report).unwrap();
        let steps = json["hosts"][0]["steps"].as_array().unwrap();
        assert_eq!(
            steps[1]["reason"],
            "`dnf shell` failed: no space left\n  hint: free /var"
        );
        assert!(steps[0].get("reason").is_none(), "{json}");
        assert!(steps[2].get("reason").is_none(), "{json}");
    }

    #[test]
    fn a_host_that_failed_before_any_step_shows_the_reason_itself() {
        let text = failed_host(Vec::new()).to_human(false);
        assert!(text.contains("\n  FAILED: `dnf shell` failed"), "{text}");
    }
}

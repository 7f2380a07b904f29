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
}

impl StepStatus {
    fn label(self) -> &'static str {
        match self {
            StepStatus::Unchanged => "ok",
            StepStatus::Changed => "changed",
            StepStatus::WouldChange => "would change",
            StepStatus::Failed => "FAILED",
            StepStatus::Skipped => "skipped",
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
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub dry_run: bool,
    pub hosts: Vec<HostReport>,
    pub summary: Summary,
}

impl Report {
    pub fn new(dry_run: bool, hosts: Vec<HostReport>) -> Report {
        let mut summary = Summary::default();
        for host in &hosts {
            match host.status {
                HostStatus::Ok => summary.ok += 1,
                HostStatus::Changed => summary.changed += 1,
                HostStatus::Failed => summary.failed += 1,
                HostStatus::Unreachable => summary.unreachable += 1,
                HostStatus::Skipped => summary.skipped += 1,
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
        self.summary.changed > 0
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
            for step in &host.steps {
                let label = format!("{:<12}", step.status.label());
                let label = match step.status {
                    StepStatus::Changed | StepStatus::WouldChange => paint("33", &label),
                    StepStatus::Failed => paint("1;31", &label),
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
            if host.error.is_some() {
                // The reason itself goes to stderr, with the other diagnostics.
                let _ = writeln!(out, "  FAILED: the reason is on stderr");
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

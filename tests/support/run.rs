//! Running `rdock-setup apply` against a sandbox and reading its JSON report.

use std::path::{Path, PathBuf};
use std::process::Output;

use super::{Sandbox, output_text, rdock};

/// One step of the JSON report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub id: String,
    pub status: String,
    pub summary: String,
    pub diff: Option<String>,
}

/// A parsed run: exit code, host status, steps, raw output for messages.
pub struct Run {
    pub code: Option<i32>,
    pub host_status: String,
    pub error: Option<String>,
    pub steps: Vec<Step>,
    pub text: String,
}

impl Run {
    pub fn step(&self, id: &str) -> &Step {
        self.steps
            .iter()
            .find(|s| s.id == id)
            .unwrap_or_else(|| panic!("no step {id} in\n{}", self.text))
    }

    /// Steps whose status is not `unchanged`/`skipped`.
    pub fn changing(&self) -> Vec<&Step> {
        self.steps
            .iter()
            .filter(|s| s.status != "unchanged" && s.status != "skipped")
            .collect()
    }
}

/// A plan file in its own temp directory (kept alive by the returned guard).
pub struct PlanFile {
    pub path: PathBuf,
    _dir: tempfile::TempDir,
}

pub fn plan_file(text: &str) -> PlanFile {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("plan.toml");
    std::fs::write(&path, text).expect("write plan");
    PlanFile { path, _dir: dir }
}

/// `rdock-setup apply PLAN --root SANDBOX --format json [extra…]`.
pub fn apply(sandbox: &Sandbox, plan: &Path, extra: &[&str]) -> Run {
    let args = apply_args(sandbox, plan, extra);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    parse(rdock(&args))
}

/// The arguments of [`apply`].
pub fn apply_args(sandbox: &Sandbox, plan: &Path, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "apply".into(),
        plan.display().to_string(),
        "--root".into(),
        sandbox.root.display().to_string(),
        "--format".into(),
        "json".into(),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    args
}

pub fn parse(out: Output) -> Run {
    let text = output_text(&out);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|err| panic!("report is not JSON ({err}):\n{text}"));
    super::schema::assert_valid_report(&json);
    let host = &json["hosts"][0];
    let steps = host["steps"]
        .as_array()
        .unwrap_or_else(|| panic!("no steps in\n{text}"))
        .iter()
        .map(|s| Step {
            id: s["id"].as_str().unwrap_or_default().to_string(),
            status: s["status"].as_str().unwrap_or_default().to_string(),
            summary: s["summary"].as_str().unwrap_or_default().to_string(),
            diff: s["diff"].as_str().map(str::to_string),
        })
        .collect();
    Run {
        code: out.status.code(),
        host_status: host["status"].as_str().unwrap_or_default().to_string(),
        error: host["error"].as_str().map(str::to_string),
        steps,
        text,
    }
}

/// Dry-run predicted exactly what apply did: the same steps, each `would_change`
/// exactly where apply reports `changed`, with the same summary and diff.
pub fn assert_prediction_held(dry: &Run, real: &Run) {
    let ids = |r: &Run| r.steps.iter().map(|s| s.id.clone()).collect::<Vec<_>>();
    assert_eq!(
        ids(dry),
        ids(real),
        "steps differ\n{}\n{}",
        dry.text,
        real.text
    );
    for (d, r) in dry.steps.iter().zip(&real.steps) {
        if d.id == "verify" {
            continue;
        }
        let expected = if d.status == "would_change" {
            "changed"
        } else {
            d.status.as_str()
        };
        assert_eq!(
            r.status, expected,
            "step {}\n{}\n{}",
            d.id, dry.text, real.text
        );
        assert_eq!(r.summary, d.summary, "step {} summary", d.id);
        assert_eq!(r.diff, d.diff, "step {} diff", d.id);
    }
}

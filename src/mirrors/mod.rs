//! Whether a registry mirror actually serves pulls, asked from where dockerd will pull:
//! the target. In-process (reqwest) for this machine and `--root` trees; with curl on the
//! target over SSH, every mirror in one round trip. Both judge answers with `judge`.

mod curl;
mod inprocess;
pub mod judge;
pub mod policy;
pub mod pull;

use std::time::Duration;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::host::Host;
use crate::plan::Plan;
use crate::report::{HostReport, HostStatus, StepReport, StepStatus};

/// `[mirrors] probe`'s default: the image a pull test asks every mirror for.
pub const DEFAULT_PROBE: &str = "library/hello-world:latest";

/// What to probe for, and how long one request may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub image: String,
    pub tag: String,
    pub timeout: Duration,
}

impl Probe {
    /// `library/hello-world:latest`, `busybox` (tag latest, library/ added as docker does),
    /// `registry.local:5000/x/y:1` is refused: a mirror serves Docker Hub's names only.
    pub fn parse(text: &str, timeout: Duration) -> std::result::Result<Probe, String> {
        let (name, tag) = match text.rsplit_once(':') {
            Some((name, tag)) if !tag.contains('/') => (name, tag),
            _ => (text, "latest"),
        };
        let valid = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/".contains(c))
        };
        if !valid(name)
            || tag.is_empty()
            || !tag
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        {
            return Err(format!(
                "mirrors.probe {text:?} is not an image name like \"library/hello-world:latest\""
            ));
        }
        if name
            .split('/')
            .next()
            .is_some_and(|first| first.contains('.'))
            && name.contains('/')
        {
            return Err(format!(
                "mirrors.probe {text:?} names a registry; a Docker Hub mirror serves Docker Hub names only"
            ));
        }
        let image = if name.contains('/') {
            name.to_string()
        } else {
            format!("library/{name}")
        };
        Ok(Probe {
            image,
            tag: tag.to_string(),
            timeout,
        })
    }
}

/// Which request a dead mirror failed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// `GET /v2/`
    Api,
    /// the anonymous Bearer token
    Token,
    /// `HEAD /v2/{image}/manifests/{tag}`
    Manifest,
}

impl Stage {
    fn label(self) -> &'static str {
        match self {
            Stage::Api => "GET /v2/",
            Stage::Token => "the anonymous token",
            Stage::Manifest => "HEAD of the manifest",
        }
    }
}

/// Why a mirror is dead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The name does not resolve.
    Dns,
    /// Connection refused.
    Refused,
    /// TLS failed (certificate for another name, unknown issuer, handshake).
    Tls,
    /// No answer within `[mirrors] timeout`.
    Timeout,
    /// An HTTP status that the step does not accept.
    Http,
    /// Something answered, but not a registry (no API header, no digest, no token).
    NotRegistry,
    /// Any other transport failure; the detail says which.
    Other,
}

impl Reason {
    fn label(self) -> &'static str {
        match self {
            Reason::Dns => "the name does not resolve",
            Reason::Refused => "connection refused",
            Reason::Tls => "TLS error",
            Reason::Timeout => "timed out",
            Reason::Http => "HTTP status",
            Reason::NotRegistry => "not a registry",
            Reason::Other => "transport error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dead {
    pub step: Stage,
    pub reason: Reason,
    pub http_status: Option<u16>,
    /// What the server or the transport said, in the probe's own words.
    pub detail: String,
}

/// One mirror's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub url: String,
    /// `Ok(latency)`: every step passed, in this time all together.
    pub outcome: std::result::Result<Duration, Dead>,
}

impl Verdict {
    pub fn serves(&self) -> bool {
        self.outcome.is_ok()
    }

    /// One line: `https://m: ok (120 ms)` or `https://m: dead at GET /v2/: connection refused (…)`.
    pub fn describe(&self) -> String {
        match &self.outcome {
            Ok(latency) => format!("{}: ok ({} ms)", self.url, latency.as_millis()),
            Err(dead) => format!(
                "{}: dead at {}: {}",
                self.url,
                dead.step.label(),
                dead.why()
            ),
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        match &self.outcome {
            Ok(latency) => serde_json::json!({
                "url": self.url,
                "status": "ok",
                "latency_ms": latency.as_millis() as u64,
            }),
            Err(dead) => serde_json::json!({
                "url": self.url,
                "status": "dead",
                "step": dead.step,
                "reason": dead.reason,
                "http_status": dead.http_status,
                "detail": dead.detail,
            }),
        }
    }
}

impl Dead {
    /// The reason in words, with what was said.
    pub fn why(&self) -> String {
        match self.reason {
            // The detail already names the status.
            Reason::Http | Reason::NotRegistry => {
                format!("{} ({})", self.reason.label(), self.detail)
            }
            _ => format!("{}: {}", self.reason.label(), self.detail),
        }
    }
}

/// Probe every mirror from the target: in-process for this machine and trees, with
/// curl on the target over SSH (one command for all of them).
pub fn probe_all(host: &Host, urls: &[String], probe: &Probe) -> Result<Vec<Verdict>> {
    if urls.is_empty() {
        return Ok(Vec::new());
    }
    if host.is_remote() {
        curl::probe_all(host, urls, probe)
    } else {
        inprocess::probe_all(urls, probe)
    }
}

/// The plan's registry-mirrors (none when it names none).
pub fn planned(plan: &Plan) -> Vec<String> {
    plan.daemon
        .get("registry-mirrors")
        .and_then(serde_json::Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// `rdock-setup mirrors` on one host: every mirror of the plan, probed from there.
/// Failed when any is dead.
pub fn host_report(host: &Host, plan: &Plan) -> HostReport {
    let urls = planned(plan);
    let mut report = HostReport::new(host.name());
    match probe_all(host, &urls, &plan.mirrors.probe) {
        Ok(verdicts) => {
            report.mirrors = verdicts.iter().map(Verdict::to_json).collect();
            report.steps = verdicts
                .iter()
                .map(|v| StepReport {
                    reason: None,
                    id: "mirror".into(),
                    status: if v.serves() {
                        StepStatus::Unchanged
                    } else {
                        StepStatus::Failed
                    },
                    summary: v.describe(),
                    diff: None,
                    notes: Vec::new(),
                })
                .collect();
            let dead = verdicts.iter().filter(|v| !v.serves()).count();
            if dead > 0 {
                report.status = HostStatus::Failed;
                report.error = Some(format!(
                    "{dead} of {} registry mirror(s) do not serve from {}",
                    verdicts.len(),
                    report.name
                ));
            }
        }
        Err(err) => {
            report.status = match err {
                Error::Unreachable(_) => HostStatus::Unreachable,
                _ => HostStatus::Failed,
            };
            report.error = Some(err.to_string());
        }
    }
    report
}

//! `[service] verify_pull`: after docker was reloaded or restarted, the engine pulls an
//! image. Where Docker Hub is out of reach, an image that comes through came from a
//! mirror: the proof that `docker info` listing the mirror cannot give.

use crate::error::{Error, Result};
use crate::host::Host;
use crate::report::{StepReport, StepStatus};

pub const ID: &str = "verify-pull";

/// Pull `image` on the target; the step for the report, and an error with docker's
/// own words when the pull did not come through.
pub fn verify(host: &Host, image: &str) -> (StepReport, Result<()>) {
    let argv = vec!["docker".to_string(), "pull".to_string(), image.to_string()];
    let outcome = host.run(argv).and_then(|output| {
        if output.success() {
            Ok(())
        } else {
            let said = format!("{}{}", output.stdout, output.stderr);
            Err(Error::other(format!(
                "docker pull {image} failed after the change: {}; the engine could not get it \
                 through its registry mirrors (check them with `rdock-setup mirrors PLAN`)",
                said.trim()
            )))
        }
    });
    let step = StepReport {
        reason: None,
        id: ID.into(),
        status: if outcome.is_ok() {
            StepStatus::Unchanged
        } else {
            StepStatus::Failed
        },
        summary: match &outcome {
            Ok(()) => format!("docker pull {image} came through"),
            Err(err) => err.to_string(),
        },
        diff: None,
        notes: Vec::new(),
    };
    (step, outcome)
}

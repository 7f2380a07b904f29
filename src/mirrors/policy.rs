//! `[mirrors] check` and `order`: from the probe's verdicts to the list daemon.json
//! gets, the notes the report carries, or an error before any change.

use super::Verdict;
use crate::error::{Error, Result};
use crate::plan::{MirrorCheck, MirrorOrder, MirrorsPlan};

/// What to write for `registry-mirrors`, and what the report must say about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub mirrors: Vec<String>,
    pub notes: Vec<String>,
}

/// `verdicts` are in the plan's order. `check = "off"` never gets here (no probe).
pub fn decide(plan: &MirrorsPlan, verdicts: &[Verdict]) -> Result<Decision> {
    let dead: Vec<&Verdict> = verdicts.iter().filter(|v| !v.serves()).collect();
    if plan.check == MirrorCheck::Fail && !dead.is_empty() {
        let lines: Vec<String> = dead.iter().map(|v| v.describe()).collect();
        return Err(Error::other(format!(
            "{} registry mirror(s) of the plan do not serve, probed from the target:\n  {}\n\
             nothing was changed. Fix or remove them in daemon.registry-mirrors, or set \
             [mirrors] check = \"drop\" to leave dead ones out",
            dead.len(),
            lines.join("\n  ")
        )));
    }
    let mut kept: Vec<&Verdict> = verdicts
        .iter()
        .filter(|v| v.serves() || plan.check != MirrorCheck::Drop)
        .collect();
    if plan.order == MirrorOrder::Fastest {
        // Serving ones by latency (stable: ties keep the plan's order), dead ones last.
        kept.sort_by_key(|v| match &v.outcome {
            Ok(latency) => (0, *latency),
            Err(_) => (1, std::time::Duration::ZERO),
        });
    }
    let notes = dead
        .iter()
        .map(|v| match plan.check {
            MirrorCheck::Drop => format!("dropped registry mirror {}", v.describe()),
            _ => format!(
                "WARNING: registry mirror {}; dockerd will skip it and pull from Docker Hub \
                 without a word",
                v.describe()
            ),
        })
        .collect::<Vec<_>>();
    let mut notes = notes;
    if plan.check == MirrorCheck::Drop && !verdicts.is_empty() && kept.is_empty() {
        notes.push(
            "no registry mirror of the plan serves: registry-mirrors is written empty, so pulls \
             go to Docker Hub"
                .into(),
        );
    }
    Ok(Decision {
        mirrors: kept.iter().map(|v| v.url.clone()).collect(),
        notes,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::mirrors::{Dead, Probe, Reason, Stage};

    fn plan(check: MirrorCheck, order: MirrorOrder) -> MirrorsPlan {
        MirrorsPlan {
            probe: Probe::parse("hello-world", Duration::from_secs(5)).unwrap(),
            check,
            order,
        }
    }

    fn ok(url: &str, ms: u64) -> Verdict {
        Verdict {
            url: url.into(),
            outcome: Ok(Duration::from_millis(ms)),
        }
    }

    fn dead(url: &str) -> Verdict {
        Verdict {
            url: url.into(),
            outcome: Err(Dead {
                step: Stage::Api,
                reason: Reason::Refused,
                http_status: None,
                detail: "Connection refused".into(),
            }),
        }
    }

    #[test]
    fn each_check_does_what_it_says() {
        let verdicts = [dead("https://a"), ok("https://b", 30), ok("https://c", 10)];
        let warn = decide(&plan(MirrorCheck::Warn, MirrorOrder::Plan), &verdicts).unwrap();
        assert_eq!(warn.mirrors, ["https://a", "https://b", "https://c"]);
        assert!(warn.notes[0].contains("https://a: dead at GET /v2/: connection refused"));
        let drop = decide(&plan(MirrorCheck::Drop, MirrorOrder::Plan), &verdicts).unwrap();
        assert_eq!(drop.mirrors, ["https://b", "https://c"]);
        assert!(drop.notes[0].starts_with("dropped registry mirror https://a"));
        let fail = decide(&plan(MirrorCheck::Fail, MirrorOrder::Plan), &verdicts).unwrap_err();
        assert!(fail.to_string().contains("nothing was changed"), "{fail}");
        let fastest = decide(&plan(MirrorCheck::Warn, MirrorOrder::Fastest), &verdicts).unwrap();
        assert_eq!(fastest.mirrors, ["https://c", "https://b", "https://a"]);
    }
}

//! The live progress line of a fleet run, on a terminal's stderr only: hosts done of
//! the total, the outcome counts, the rate since the start and the time left at that
//! rate. Plain text redrawn in place (`\r`, erase line); stdout and `--format json`
//! never see it.

use std::time::{Duration, Instant};

use crate::report::HostStatus;

pub struct Progress {
    started: Instant,
    total: usize,
    done: usize,
    /// ok, changed (or drifted), failed (or skipped), unreachable.
    counts: [usize; 4],
}

impl Progress {
    pub fn new(total: usize) -> Progress {
        Progress {
            started: Instant::now(),
            total,
            done: 0,
            counts: [0; 4],
        }
    }

    /// A host finished with `status`.
    pub fn record(&mut self, status: HostStatus) {
        self.done += 1;
        let slot = match status {
            HostStatus::Ok => 0,
            HostStatus::Changed | HostStatus::Drifted => 1,
            HostStatus::Failed | HostStatus::Skipped => 2,
            HostStatus::Unreachable => 3,
        };
        self.counts[slot] += 1;
    }

    /// The line as of now.
    pub fn line(&self) -> String {
        line(self.done, self.total, &self.counts, self.started.elapsed())
    }
}

/// `[12/500] 4.0 hosts/s, 2m02s left | ok 10 changed 2 failed 0 unreachable 0`
pub fn line(done: usize, total: usize, counts: &[usize; 4], elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    let pace = if done == 0 || secs <= 0.0 {
        "starting".to_string()
    } else {
        let rate = done as f64 / secs;
        let left = Duration::from_secs_f64((total.saturating_sub(done)) as f64 / rate);
        if done >= total {
            format!("{rate:.1} hosts/s, done in {}", clock(elapsed))
        } else {
            format!("{rate:.1} hosts/s, {} left", clock(left))
        }
    };
    format!(
        "[{done}/{total}] {pace} | ok {} changed {} failed {} unreachable {}",
        counts[0], counts[1], counts[2], counts[3]
    )
}

/// `45s`, `2m05s`, `1h02m`.
fn clock(d: Duration) -> String {
    let s = d.as_secs_f64().round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_gives_rate_and_time_left_at_that_rate() {
        let l = line(12, 500, &[10, 2, 0, 0], Duration::from_secs(3));
        assert_eq!(
            l,
            "[12/500] 4.0 hosts/s, 2m02s left | ok 10 changed 2 failed 0 unreachable 0"
        );
        assert_eq!(
            line(0, 50, &[0; 4], Duration::from_secs(1)),
            "[0/50] starting | ok 0 changed 0 failed 0 unreachable 0"
        );
        assert!(line(50, 50, &[50, 0, 0, 0], Duration::from_secs(10)).contains("done in 10s"));
        assert_eq!(clock(Duration::from_secs(3725)), "1h02m");
    }

    #[test]
    fn record_counts_each_outcome_once() {
        let mut p = Progress::new(4);
        for s in [
            HostStatus::Ok,
            HostStatus::Changed,
            HostStatus::Failed,
            HostStatus::Unreachable,
        ] {
            p.record(s);
        }
        assert!(p.line().starts_with("[4/4] "), "{}", p.line());
        assert!(p.line().ends_with("ok 1 changed 1 failed 1 unreachable 1"));
    }
}

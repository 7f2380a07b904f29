//! The probe on an SSH target, with the curl every EL host has: `probe.sh` asks every
//! mirror in one command (staged like every scratch file, one round trip) and prints
//! what curl got; this side judges it with the same `judge` as the in-process probe.

use std::time::Duration;

use super::judge::{self, Reply};
use super::{Dead, Probe, Reason, Stage, Verdict};
use crate::error::{Error, Result};
use crate::host::Host;

const SCRIPT: &str = include_str!("probe.sh");

pub fn probe_all(host: &Host, urls: &[String], probe: &Probe) -> Result<Vec<Verdict>> {
    let (_, output) = host.run_with_file("probe.sh", SCRIPT.as_bytes(), &|dir| {
        let mut argv = vec![
            "sh".to_string(),
            dir.join("probe.sh").display().to_string(),
            dir.display().to_string(),
            probe.timeout.as_secs().to_string(),
            probe.image.clone(),
            probe.tag.clone(),
            super::inprocess::USER_AGENT.to_string(),
            judge::ACCEPT.to_string(),
        ];
        argv.extend(urls.iter().cloned());
        argv
    })?;
    let records = parse(&output.stdout);
    if records.iter().any(|r| r.rc == 127) || (records.is_empty() && !output.success()) {
        return Err(Error::other(format!(
            "cannot probe registry mirrors on {}: curl did not run ({}); install curl there, \
             or set [mirrors] check = \"off\"",
            host.name(),
            last_line(&format!(
                "{}{}",
                output.stderr,
                records.first().map(|r| r.stderr.as_str()).unwrap_or("")
            ))
        )));
    }
    Ok(urls
        .iter()
        .enumerate()
        .map(|(index, url)| {
            let mine: Vec<&Record> = records.iter().filter(|r| r.index == index).collect();
            Verdict {
                url: url.clone(),
                outcome: judge_records(&mine, probe),
            }
        })
        .collect())
}

/// One request as the script framed it.
#[derive(Debug, Default)]
struct Record {
    index: usize,
    step: String,
    rc: i32,
    code: u16,
    seconds: f64,
    headers: Vec<(String, String)>,
    body: String,
    stderr: String,
}

fn parse(stdout: &str) -> Vec<Record> {
    #[derive(PartialEq)]
    enum Part {
        Outside,
        Headers,
        Body,
        Stderr,
    }
    let mut records = Vec::new();
    let mut current = Record::default();
    let mut part = Part::Outside;
    for line in stdout.lines() {
        if line == "=== end" {
            records.push(std::mem::take(&mut current));
            part = Part::Outside;
        } else if part == Part::Outside
            && let Some(fields) = line.strip_prefix("=== ")
        {
            let fields: Vec<&str> = fields.split_whitespace().collect();
            let field = |n: usize| fields.get(n).copied().unwrap_or("");
            current = Record {
                index: field(0).parse().unwrap_or(usize::MAX),
                step: field(1).to_string(),
                rc: field(2).parse().unwrap_or(-1),
                code: field(3).parse().unwrap_or(0),
                seconds: field(4).parse().unwrap_or(0.0),
                ..Record::default()
            };
            part = Part::Headers;
        } else if line == "--- body" && part == Part::Headers {
            part = Part::Body;
        } else if line == "--- stderr" && part == Part::Body {
            part = Part::Stderr;
        } else {
            match part {
                Part::Headers => {
                    // After a redirect a new answer starts: only the last one counts.
                    if line.starts_with("HTTP/") {
                        current.headers.clear();
                    } else if let Some((name, value)) = line.split_once(':') {
                        current
                            .headers
                            .push((name.to_string(), value.trim().to_string()));
                    }
                }
                Part::Body => {
                    current.body.push_str(line);
                    current.body.push('\n');
                }
                Part::Stderr => {
                    current.stderr.push_str(line);
                    current.stderr.push('\n');
                }
                Part::Outside => {}
            }
        }
    }
    records
}

/// The steps as the in-process probe takes them, on what curl got.
fn judge_records(records: &[&Record], probe: &Probe) -> std::result::Result<Duration, Dead> {
    let mut next = records.iter();
    let mut take = |step: Stage, name: &str| {
        next.next()
            .filter(|r| r.step == name)
            .map(|r| reply(r, probe))
            .ok_or_else(|| Dead {
                step,
                reason: Reason::Other,
                http_status: None,
                detail: "the probe on the target stopped before this step".into(),
            })
    };
    let challenge = judge::api(&take(Stage::Api, "api")?)?;
    if challenge.is_some() {
        judge::token(&take(Stage::Token, "token")?)?;
    }
    judge::manifest(&take(Stage::Manifest, "manifest")?)?;
    Ok(Duration::from_secs_f64(
        records.iter().map(|r| r.seconds).sum(),
    ))
}

fn reply(record: &Record, probe: &Probe) -> Reply {
    if record.rc == 0 {
        return Reply::Answered {
            status: record.code,
            headers: record.headers.clone(),
            body: record.body.clone(),
        };
    }
    // curl's own words, without its "curl: (7) " prefix; advice lines follow it.
    let said = record
        .stderr
        .lines()
        .find_map(|line| line.strip_prefix("curl: ("))
        .and_then(|rest| rest.split_once(") "))
        .map(|(_, words)| words.trim().to_string())
        .unwrap_or_else(|| last_line(&record.stderr));
    let reason = match record.rc {
        6 => Reason::Dns,
        // "Couldn't connect to server" (curl 7.88), "Connection refused" (7.29); a
        // route that is missing is another story.
        7 if !said.contains("No route") && !said.contains("unreachable") => Reason::Refused,
        28 => {
            return Reply::Failed {
                reason: Reason::Timeout,
                detail: format!("no answer within {} s", probe.timeout.as_secs()),
            };
        }
        35 | 51 | 53 | 54 | 58 | 59 | 60 | 64 | 66 | 77 | 80 | 82 | 83 | 90 | 91 => Reason::Tls,
        _ => Reason::Other,
    };
    Reply::Failed {
        reason,
        detail: if said.is_empty() {
            format!("curl exited {}", record.rc)
        } else {
            said
        },
    }
}

fn last_line(text: &str) -> String {
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_keep_the_last_answer_after_a_redirect() {
        let out = "=== 0 api 0 200 0.010\nHTTP/1.1 301 Moved\nLocation: /v2/\n\nHTTP/1.1 200 OK\n\
                   Docker-Distribution-API-Version: registry/2.0\n\n--- body\n--- stderr\n=== end\n\
                   === 0 manifest 7 000 0.001\n--- body\n--- stderr\n\
                   curl: (7) Failed to connect to m port 443: Connection refused\n=== end\n";
        let records = parse(out);
        assert_eq!(records.len(), 2);
        assert_eq!(
            records[0].headers,
            [(
                "Docker-Distribution-API-Version".to_string(),
                "registry/2.0".to_string()
            )]
        );
        let probe = Probe::parse("hello-world", Duration::from_secs(5)).unwrap();
        let refs: Vec<&Record> = records.iter().collect();
        let dead = judge_records(&refs, &probe).unwrap_err();
        assert_eq!((dead.step, dead.reason), (Stage::Manifest, Reason::Refused));
        assert_eq!(
            dead.detail,
            "Failed to connect to m port 443: Connection refused"
        );
    }
}

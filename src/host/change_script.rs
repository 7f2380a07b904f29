//! The changes of consecutive steps as ONE script on a remote target: one round trip
//! instead of one per command. The script carries the same commands the steps would
//! send one by one (the same atomic write with backup, kept mode and owner; the same
//! bounded command lines), each run as `sh FILE` in step order, and reports each step
//! framed on its stdout:
//!
//! - `@@rdock-step I done`: every operation of step I succeeded;
//! - `@@rdock-op I J failed STATUS SECS OUT_LEN ERR_LEN`, then the bytes: operation J of
//!   step I failed after SECS seconds, and the script stopped there;
//! - `@@rdock-step I stopped`: the controller asked it to stop (Ctrl-C, or it went
//!   away) before step I; nothing from step I on ran.
//!
//! A step with no line did not run. Steps never see this: the runner hands their
//! changes over as `ScriptOp`s and gets each step's outcome back.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::bounded;
use super::shell::command_line;

/// One operation of a step, as the script carries it out.
#[derive(Debug, Clone)]
pub enum ScriptOp {
    /// Replace `path` atomically, the old content kept at `backup` (Transport::write_file);
    /// `only_if_missing`: leave a file that is there alone.
    Write {
        path: PathBuf,
        bytes: Vec<u8>,
        default_mode: u32,
        private: bool,
        backup: Option<PathBuf>,
        only_if_missing: bool,
    },
    /// A command that must exit 0; `hint` says what to do when it does not.
    Run { argv: Vec<String>, hint: String },
    /// Delete a directory tree.
    RemoveTree { path: PathBuf },
}

/// How a step of the script ended, as the target reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawOutcome {
    Done,
    Failed {
        op: usize,
        status: i32,
        secs: u64,
        stdout: Vec<u8>,
        stderr: Vec<u8>,
    },
    /// Not run: the script stopped before it, or ended before it (an earlier failure).
    NotRun,
}

/// A step's outcome, for the runner.
#[derive(Debug)]
pub enum StepOutcome {
    Done,
    /// The error its failing operation would have given on its own.
    Failed(crate::error::Error),
    NotRun,
}

/// The driver script, the bytes it reads on stdin, and how long it may take.
pub struct Rendered {
    pub driver: String,
    pub input: Vec<u8>,
    pub limit: Duration,
}

/// How each operation's own script is made, by the transport that runs it.
pub trait OpScripts {
    fn write(&self, op: &ScriptOp) -> io::Result<String>;
    fn remove_tree(&self, path: &Path) -> io::Result<String>;
}

/// The bound of one operation: yum/dnf get the transaction bound.
pub fn op_limit(op: &ScriptOp) -> Duration {
    match op {
        ScriptOp::Run { argv, .. } => bounded::for_argv(argv),
        _ => bounded::get().command,
    }
}

/// The script for `steps` (each a list of operations, in order). It starts no further
/// step once the file named by `$RDOCK_STOP` exists (held_session.rs makes it when the
/// controller asks, or goes away); without that variable it runs nothing.
pub fn render(steps: &[Vec<ScriptOp>], scripts: &dyn OpScripts) -> io::Result<Rendered> {
    let mut driver = String::from(
        "rd_stop=${RDOCK_STOP:?}\nS=$(mktemp -d /tmp/rdock-change.XXXXXX) || exit 97\ntrap 'rm -rf -- \"$S\"' EXIT\n",
    );
    let mut input = Vec::new();
    let mut limit = Duration::ZERO;
    // Every operation's script and input arrive on stdin first (GNU head -c reads
    // exactly what it writes), so nothing later depends on the link.
    let mut take = |name: String, bytes: &[u8], driver: &mut String| {
        driver.push_str(&format!(
            "head -c {} > \"$S/{name}\" || exit 97\n",
            bytes.len()
        ));
        input.extend_from_slice(bytes);
    };
    for (i, ops) in steps.iter().enumerate() {
        for (j, op) in ops.iter().enumerate() {
            let (script, data): (String, &[u8]) = match op {
                ScriptOp::Write { bytes, .. } => (scripts.write(op)?, bytes),
                ScriptOp::Run { argv, .. } => {
                    let mut words: Vec<&str> = vec!["env", "LC_ALL=C"];
                    words.extend(argv.iter().map(String::as_str));
                    (
                        format!(
                            "timeout -k 10 {} {}\n",
                            op_limit(op).as_secs().max(1),
                            command_line(&words)?
                        ),
                        &[],
                    )
                }
                ScriptOp::RemoveTree { path } => (scripts.remove_tree(path)?, &[]),
            };
            limit += op_limit(op);
            take(format!("op-{i}-{j}"), script.as_bytes(), &mut driver);
            take(format!("in-{i}-{j}"), data, &mut driver);
        }
    }
    driver.push_str(
        "rd_op() { rd_t0=$(date +%s); timeout -k 10 \"$3\" sh \"$S/op-$1-$2\" < \"$S/in-$1-$2\" > \"$S/o\" 2> \"$S/e\"; rd_s=$?; \
         [ \"$rd_s\" = 0 ] && return 0; \
         printf '@@rdock-op %s %s failed %s %s %s %s\\n' \"$1\" \"$2\" \"$rd_s\" $(( $(date +%s) - rd_t0 )) \
         \"$(wc -c < \"$S/o\")\" \"$(wc -c < \"$S/e\")\"; cat \"$S/o\" \"$S/e\"; exit 0; }\n",
    );
    for (i, ops) in steps.iter().enumerate() {
        driver.push_str(&format!(
            "if [ -e \"$rd_stop\" ]; then echo '@@rdock-step {i} stopped'; exit 0; fi\n"
        ));
        for (j, op) in ops.iter().enumerate() {
            // Every operation bounded, as each was on its own (bounded.rs).
            driver.push_str(&format!(
                "rd_op {i} {j} {}\n",
                op_limit(op).as_secs().max(1)
            ));
        }
        driver.push_str(&format!("echo '@@rdock-step {i} done'\n"));
    }
    Ok(Rendered {
        driver,
        input,
        limit,
    })
}

/// Each step's outcome from the script's framed answer; a step it never mentions did
/// not run.
pub fn parse(steps: usize, stdout: &[u8]) -> io::Result<Vec<RawOutcome>> {
    let mut outcomes = vec![RawOutcome::NotRun; steps];
    let mut rest = stdout;
    let bad = |line: &str| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("the change script answered out of frame: {line:?}"),
        )
    };
    while !rest.is_empty() {
        let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        let line = String::from_utf8_lossy(&rest[..end]).into_owned();
        rest = rest.get(end + 1..).unwrap_or_default();
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            [] => {}
            ["@@rdock-step", i, what] => {
                let i: usize = i.parse().map_err(|_| bad(&line))?;
                let slot = outcomes.get_mut(i).ok_or_else(|| bad(&line))?;
                match *what {
                    "done" => *slot = RawOutcome::Done,
                    "stopped" => *slot = RawOutcome::NotRun,
                    _ => return Err(bad(&line)),
                }
            }
            ["@@rdock-op", i, j, "failed", status, secs, out, err] => {
                let number = |s: &str| s.parse::<u64>().map_err(|_| bad(&line));
                let (i, op) = (number(i)? as usize, number(j)? as usize);
                let (out, err) = (number(out)? as usize, number(err)? as usize);
                if rest.len() < out + err {
                    return Err(bad(&line));
                }
                let slot = outcomes.get_mut(i).ok_or_else(|| bad(&line))?;
                *slot = RawOutcome::Failed {
                    op,
                    status: number(status)? as i32,
                    secs: number(secs)?,
                    stdout: rest[..out].to_vec(),
                    stderr: rest[out..out + err].to_vec(),
                };
                rest = &rest[out + err..];
            }
            _ => return Err(bad(&line)),
        }
    }
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::shell::quote;

    /// Op scripts as plain shell: write = `cat > PATH`, remove = `rm -rf PATH`.
    struct Plain;

    impl OpScripts for Plain {
        fn write(&self, op: &ScriptOp) -> io::Result<String> {
            let ScriptOp::Write { path, .. } = op else {
                unreachable!()
            };
            Ok(format!("cat > {}\n", quote(&path.display().to_string())?))
        }
        fn remove_tree(&self, path: &Path) -> io::Result<String> {
            Ok(format!(
                "rm -rf -- {}\n",
                quote(&path.display().to_string())?
            ))
        }
    }

    fn run(rendered: &Rendered, stop: &Path) -> Vec<u8> {
        use std::io::Write as _;
        let mut child = std::process::Command::new("sh")
            .args(["-c", &rendered.driver])
            .env("RDOCK_STOP", stop)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(&rendered.input)
            .unwrap();
        child.wait_with_output().unwrap().stdout
    }

    fn sh(text: &str) -> ScriptOp {
        ScriptOp::Run {
            argv: vec!["sh".into(), "-c".into(), text.into()],
            hint: String::new(),
        }
    }

    /// Run by a real sh: step 1's second operation fails; step 2 never runs, and what
    /// the failing command said comes back with its status.
    #[test]
    fn a_failing_operation_stops_the_script_at_its_step() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("written");
        let later = tmp.path().join("later");
        let steps = vec![
            vec![ScriptOp::Write {
                path: file.clone(),
                bytes: b"bytes\nwith 'quotes'\n".to_vec(),
                default_mode: 0o644,
                private: false,
                backup: None,
                only_if_missing: false,
            }],
            vec![sh("echo fine"), sh("echo out; echo broken >&2; exit 3")],
            vec![sh(&format!("touch {}", later.display()))],
        ];
        let rendered = render(&steps, &Plain).unwrap();
        let outcomes = parse(3, &run(&rendered, &tmp.path().join("stop"))).unwrap();
        assert_eq!(outcomes[0], RawOutcome::Done);
        // (Its duration, whole seconds by the target's clock, is not asserted.)
        let RawOutcome::Failed {
            op,
            status,
            stdout,
            stderr,
            ..
        } = &outcomes[1]
        else {
            panic!("{outcomes:?}");
        };
        assert_eq!(
            (*op, *status, stdout.as_slice(), stderr.as_slice()),
            (1, 3, &b"out\n"[..], &b"broken\n"[..])
        );
        assert_eq!(outcomes[2], RawOutcome::NotRun);
        assert_eq!(std::fs::read(&file).unwrap(), b"bytes\nwith 'quotes'\n");
        assert!(!later.exists(), "a step after the failure ran");
    }

    #[test]
    fn a_stop_before_a_step_runs_nothing_from_there() {
        let tmp = tempfile::tempdir().unwrap();
        let stop = tmp.path().join("stop");
        let marker = tmp.path().join("ran");
        let steps = vec![
            vec![sh(&format!("touch {}", stop.display()))],
            vec![sh(&format!("touch {}", marker.display()))],
        ];
        let rendered = render(&steps, &Plain).unwrap();
        let outcomes = parse(2, &run(&rendered, &stop)).unwrap();
        assert_eq!(outcomes, vec![RawOutcome::Done, RawOutcome::NotRun]);
        assert!(!marker.exists());
    }

    #[test]
    fn out_of_frame_answers_are_errors() {
        assert!(parse(1, b"@@rdock-step 5 done\n").is_err());
        assert!(parse(1, b"hello\n").is_err());
        assert!(parse(1, b"@@rdock-op 0 0 failed 1 0 10 0\nshort").is_err());
    }

    #[test]
    fn without_a_stop_file_named_nothing_runs() {
        let tmp = tempfile::tempdir().unwrap();
        let marker = tmp.path().join("ran");
        let steps = vec![vec![sh(&format!("touch {}", marker.display()))]];
        let rendered = render(&steps, &Plain).unwrap();
        let out = std::process::Command::new("sh")
            .args(["-c", &rendered.driver])
            .env_remove("RDOCK_STOP")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(!marker.exists());
    }
}
